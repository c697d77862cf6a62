//! The core pipeline's push API (`Pipeline::push_imu`, `push_gps`,
//! `pop_event`, `finish`) on arbitrary sample streams: NaN, infinities,
//! absurd magnitudes, time going backwards, gaps, rate changes, with and
//! without a gyroscope or GPS. Every sample is accepted or rejected with a
//! reason; events that come out are well-formed; never a panic.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use safelane_core::{GpsFix, ImuSample, Pipeline, PipelineConfig};

#[derive(Arbitrary, Debug)]
enum Op {
    /// An IMU sample `dt_ms` after the previous one (negative: backwards).
    Imu {
        dt_ms: i16,
        accel: [f32; 3],
        gyro: Option<[f32; 3]>,
    },
    /// A run of `n` plausible samples around gravity, with a bias (the
    /// fuzzer's way to reach the orientation and detection code).
    Drive {
        n: u8,
        dt_ms: u8,
        a: [i8; 3],
        yaw: i8,
    },
    /// A GPS fix.
    Gps {
        dt_ms: i16,
        lat: f64,
        lon: f64,
        speed: Option<f32>,
        bearing: Option<f32>,
        accuracy: Option<f32>,
    },
    /// A raw timestamp (NaN, huge, equal to the last).
    Time(f64),
}

#[derive(Arbitrary, Debug)]
struct Input {
    motorcycle: bool,
    ops: Vec<Op>,
}

/// What every event must be: ordered times, finite values, a confidence in 0..1.
fn check(e: &safelane_core::Event) {
    assert!(e.end_s >= e.start_s && e.decided_s >= e.start_s, "{e:?}");
    assert!(
        e.peak_mps2.is_finite() && (0.0..=1.0).contains(&e.confidence),
        "{e:?}"
    );
    assert!(e.speed_at_start_mps.is_none_or(f32::is_finite), "{e:?}");
}

fuzz_target!(|input: Input| {
    let cfg = if input.motorcycle {
        PipelineConfig::motorcycle()
    } else {
        PipelineConfig::car()
    };
    let mut p = Pipeline::new(cfg).expect("default configurations are valid");
    let mut t = 0.0f64;
    let mut pushed = 0u64;
    for op in input.ops.iter().take(4096) {
        match *op {
            Op::Imu { dt_ms, accel, gyro } => {
                t += f64::from(dt_ms) / 1000.0;
                let _ = p.push_imu(&ImuSample {
                    t_s: t,
                    accel_mps2: accel,
                    gyro_rps: gyro,
                });
                pushed += 1;
            }
            Op::Drive { n, dt_ms, a, yaw } => {
                let dt = f64::from(dt_ms.max(5)) / 1000.0;
                for i in 0..n {
                    t += dt;
                    let wobble = (f32::from(i) * 0.7).sin() * 0.3;
                    let accel = [
                        f32::from(a[0]) / 16.0 + wobble,
                        f32::from(a[1]) / 16.0,
                        9.81 + f32::from(a[2]) / 32.0,
                    ];
                    let gyro = Some([0.0, 0.0, f32::from(yaw) / 64.0]);
                    let _ = p.push_imu(&ImuSample {
                        t_s: t,
                        accel_mps2: accel,
                        gyro_rps: gyro,
                    });
                    pushed += 1;
                }
            }
            Op::Gps {
                dt_ms,
                lat,
                lon,
                speed,
                bearing,
                accuracy,
            } => {
                let fix = GpsFix {
                    t_s: t + f64::from(dt_ms) / 1000.0,
                    lat_deg: lat,
                    lon_deg: lon,
                    speed_mps: speed,
                    bearing_deg: bearing,
                    accuracy_m: accuracy,
                };
                let _ = p.push_gps(&fix);
            }
            Op::Time(raw) => {
                let _ = p.push_imu(&ImuSample {
                    t_s: raw,
                    accel_mps2: [0.0, 0.0, 9.81],
                    gyro_rps: None,
                });
                pushed += 1;
                if raw.is_finite() && raw > t {
                    t = raw;
                }
            }
        }
        while let Some(e) = p.pop_event() {
            check(&e);
        }
    }
    p.finish();
    while let Some(e) = p.pop_event() {
        check(&e);
    }
    let o = p.orientation();
    assert!((0.0..=1.0).contains(&o.confidence()), "{o:?}");
    let _ = pushed;
});
