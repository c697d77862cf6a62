//! Arbitrary input never panics and every input is accounted for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use safelane_core::{GpsFix, ImuSample, Pipeline, PipelineConfig};

/// Deterministic xorshift64*; the values below cover NaN, infinities, huge,
/// tiny, negative and repeated numbers.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn f64(&mut self) -> f64 {
        match self.next() % 10 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => -1e300,
            3 => f64::from_bits(self.next()),
            4 => 0.0,
            _ => (self.next() % 20_000) as f64 / 100.0 - 100.0,
        }
    }
    fn f32(&mut self) -> f32 {
        self.f64() as f32
    }
}

#[test]
fn garbage_in_counts_out() {
    for profile in [PipelineConfig::car(), PipelineConfig::motorcycle()] {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        let mut p = Pipeline::new(profile).unwrap();
        let (mut imu_ok, mut imu_err, mut gps_ok, mut gps_err) = (0u64, 0u64, 0u64, 0u64);
        let mut t = 0.0;
        for i in 0..200_000 {
            // Mostly increasing time with garbage mixed in.
            t += (g.next() % 30) as f64 / 1000.0;
            let t_s = if g.next() % 50 == 0 { g.f64() } else { t };
            if i % 97 == 0 {
                let fix = GpsFix {
                    t_s,
                    lat_deg: g.f64(),
                    lon_deg: g.f64(),
                    speed_mps: (g.next() % 2 == 0).then(|| g.f32()),
                    bearing_deg: (g.next() % 2 == 0).then(|| g.f32()),
                    accuracy_m: (g.next() % 2 == 0).then(|| g.f32()),
                };
                match p.push_gps(&fix) {
                    Ok(()) => gps_ok += 1,
                    Err(_) => gps_err += 1,
                }
            } else {
                let s = ImuSample {
                    t_s,
                    accel_mps2: if g.next() % 3 == 0 {
                        [g.f32(), g.f32(), g.f32()]
                    } else {
                        [0.1, 9.7, 0.3]
                    },
                    gyro_rps: (g.next() % 2 == 0).then(|| [g.f32(), g.f32(), g.f32()]),
                };
                match p.push_imu(&s) {
                    Ok(out) => {
                        imu_ok += 1;
                        assert!(
                            out.accel_mps2.iter().all(|v| v.is_finite()),
                            "{s:?} -> {out:?}"
                        );
                    }
                    Err(_) => imu_err += 1,
                }
            }
        }
        let c = p.counts();
        assert_eq!(c.imu_accepted, imu_ok);
        assert_eq!(c.imu_rejected(), imu_err);
        assert_eq!(c.gps_accepted, gps_ok);
        assert_eq!(c.gps_rejected(), gps_err);
        assert!(imu_ok > 1000 && imu_err > 1000, "{c:?}");
        let o = p.orientation();
        assert!(o.rotation.iter().flatten().all(|v| v.is_finite()), "{o:?}");
    }
}
