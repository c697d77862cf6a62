//! Platform sensor conventions, handled once.
//!
//! The core takes Android's convention: accelerometer as *specific force* in
//! m/s^2 (a phone lying face-up at rest reads z = +9.81), gyroscope in rad/s,
//! timestamps in seconds on one monotonic clock.
//!
//! | | Android (`SensorEvent`) | iOS (`CMAccelerometerData`, `CMGyroData`) |
//! | --- | --- | --- |
//! | accelerometer unit | m/s^2 | g (9.80665 m/s^2) |
//! | accelerometer sign | specific force: face-up at rest z = +9.81 | opposite: face-up at rest z = -1 |
//! | gyroscope | rad/s, right-handed, same axes | rad/s, right-handed, same axes |
//! | timestamp | `event.timestamp`, ns since boot (`elapsedRealtimeNanos` clock) | `timestamp`, s since boot |
//! | GPS time on the same clock | `Location.getElapsedRealtimeNanos()` | `CLLocation.timestamp` minus the boot time (`Date().timeIntervalSince1970 - ProcessInfo.systemUptime`) |
//! | invalid GPS fields | `hasSpeed()`, `hasBearing()`, `hasAccuracy()` false | negative `speed`, `course`, `horizontalAccuracy` |
//!
//! Both platforms' device axes are the same (x right, y up along the screen,
//! z out of the screen), so only the accelerometer's unit and sign differ.

use safelane_core::{GpsFix, ImuSample, STANDARD_GRAVITY_MPS2};

/// Which platform's conventions a sample follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    /// Android `SensorManager` / `LocationManager`.
    Android,
    /// iOS CoreMotion / CoreLocation.
    Ios,
}

/// One IMU sample as the platform reports it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlatformImu {
    /// Android: ns since boot; iOS: s since boot.
    pub timestamp: f64,
    /// Accelerometer x, y, z (Android m/s^2 specific force; iOS g, opposite sign).
    pub accel: [f64; 3],
    /// Gyroscope x, y, z in rad/s, when the phone has one.
    pub gyro: Option<[f64; 3]>,
}

/// One location fix as the platform reports it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlatformGps {
    /// Android: `elapsedRealtimeNanos` (ns since boot); iOS: s since boot.
    pub timestamp: f64,
    /// Latitude, degrees.
    pub lat_deg: f64,
    /// Longitude, degrees.
    pub lon_deg: f64,
    /// m/s; `None` (Android `!hasSpeed()`) or negative (iOS) when unknown.
    pub speed_mps: Option<f64>,
    /// Degrees from north; `None` or negative when unknown.
    pub bearing_deg: Option<f64>,
    /// Horizontal accuracy, m; `None` or negative when unknown.
    pub accuracy_m: Option<f64>,
}

impl PlatformImu {
    /// The Android sample of a core sample (the inverse of
    /// `Platform::Android.imu`): replaying recorded or simulated trips
    /// through the SDK as a phone would push them.
    pub fn android(s: &ImuSample) -> Self {
        Self {
            timestamp: s.t_s * 1e9,
            accel: s.accel_mps2.map(f64::from),
            gyro: s.gyro_rps.map(|g| g.map(f64::from)),
        }
    }
}

impl PlatformGps {
    /// The Android fix of a core fix (the inverse of `Platform::Android.gps`).
    pub fn android(f: &GpsFix) -> Self {
        Self {
            timestamp: f.t_s * 1e9,
            lat_deg: f.lat_deg,
            lon_deg: f.lon_deg,
            speed_mps: f.speed_mps.map(f64::from),
            bearing_deg: f.bearing_deg.map(f64::from),
            accuracy_m: f.accuracy_m.map(f64::from),
        }
    }
}

impl Platform {
    fn seconds(self, timestamp: f64) -> f64 {
        match self {
            Platform::Android => timestamp * 1e-9,
            Platform::Ios => timestamp,
        }
    }

    /// The core's sample for a platform sample. Values are passed through as
    /// given (the core validates them and counts what it refuses).
    pub fn imu(self, s: &PlatformImu) -> ImuSample {
        let k = match self {
            Platform::Android => 1.0,
            Platform::Ios => -f64::from(STANDARD_GRAVITY_MPS2),
        };
        ImuSample {
            t_s: self.seconds(s.timestamp),
            accel_mps2: [
                (s.accel[0] * k) as f32,
                (s.accel[1] * k) as f32,
                (s.accel[2] * k) as f32,
            ],
            gyro_rps: s.gyro.map(|g| [g[0] as f32, g[1] as f32, g[2] as f32]),
        }
    }

    /// The core's fix for a platform fix (negative "unknown" markers become `None`).
    pub fn gps(self, g: &PlatformGps) -> GpsFix {
        let known = |v: Option<f64>| v.filter(|x| *x >= 0.0).map(|x| x as f32);
        GpsFix {
            t_s: self.seconds(g.timestamp),
            lat_deg: g.lat_deg,
            lon_deg: g.lon_deg,
            speed_mps: known(g.speed_mps),
            bearing_deg: known(g.bearing_deg),
            accuracy_m: known(g.accuracy_m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_face_up_at_rest_reads_the_same_on_both_platforms() {
        let android = Platform::Android.imu(&PlatformImu {
            timestamp: 12_500_000_000.0,
            accel: [0.0, 0.0, 9.80665],
            gyro: Some([0.0, 0.0, 0.1]),
        });
        let ios = Platform::Ios.imu(&PlatformImu {
            timestamp: 12.5,
            accel: [0.0, 0.0, -1.0],
            gyro: Some([0.0, 0.0, 0.1]),
        });
        assert!((android.t_s - 12.5).abs() < 1e-12);
        assert!((ios.t_s - 12.5).abs() < 1e-12);
        for (a, b) in android.accel_mps2.iter().zip(ios.accel_mps2) {
            assert!((a - b).abs() < 1e-5, "{a} {b}");
        }
        assert_eq!(android.gyro_rps, ios.gyro_rps);
        // Braking, phone flat, top towards the front: the specific force points
        // backwards (-y, about -3.9 m/s^2 on Android); iOS reports +0.4 g.
        let ios_brake = Platform::Ios.imu(&PlatformImu {
            timestamp: 1.0,
            accel: [0.0, 0.4, -1.0],
            gyro: None,
        });
        assert!((ios_brake.accel_mps2[1] + 3.92).abs() < 0.01);
    }

    #[test]
    fn unknown_gps_fields_become_none() {
        let f = Platform::Ios.gps(&PlatformGps {
            timestamp: 100.0,
            lat_deg: 60.0,
            lon_deg: 25.0,
            speed_mps: Some(-1.0),
            bearing_deg: Some(-1.0),
            accuracy_m: Some(5.0),
        });
        assert_eq!(
            (f.speed_mps, f.bearing_deg, f.accuracy_m),
            (None, None, Some(5.0))
        );
        let f = Platform::Android.gps(&PlatformGps {
            timestamp: 2e9,
            lat_deg: 60.0,
            lon_deg: 25.0,
            speed_mps: Some(12.0),
            bearing_deg: None,
            accuracy_m: None,
        });
        assert!((f.t_s - 2.0).abs() < 1e-12);
        assert_eq!(f.speed_mps, Some(12.0));
    }
}
