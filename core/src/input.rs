//! Input types (IMU samples, GPS fixes) and their validation.
//!
//! Everything a phone can send is checked here before it reaches the signal
//! chain: non-finite numbers, timestamps that go backwards or repeat, absurd
//! magnitudes. A rejected sample is counted by reason and otherwise ignored;
//! nothing here panics.

use core::fmt;

use crate::math::f32x4;

/// Standard gravity in m/s^2.
pub const STANDARD_GRAVITY_MPS2: f32 = 9.806_65;

/// Largest accepted accelerometer component: 16 g, beyond any phone's range.
pub const MAX_ACCEL_MPS2: f32 = 16.0 * STANDARD_GRAVITY_MPS2;
/// Largest accepted gyroscope component in rad/s.
pub const MAX_GYRO_RPS: f32 = 35.0;
/// Largest accepted GPS speed in m/s (540 km/h); above it the speed is dropped.
pub const MAX_GPS_SPEED_MPS: f32 = 150.0;

/// One accelerometer (and optionally gyroscope) reading in phone axes.
///
/// Conventions (Android's): `accel_mps2` is specific force in m/s^2, so a phone
/// lying face-up at rest reads `[0, 0, +9.81]`; `gyro_rps` is angular rate in
/// rad/s, positive counter-clockwise about each axis. `t_s` is seconds since the
/// start of the trip (any fixed origin works; it must increase).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImuSample {
    /// Timestamp in seconds.
    pub t_s: f64,
    /// Specific force in phone axes, m/s^2.
    pub accel_mps2: [f32; 3],
    /// Angular rate in phone axes, rad/s; `None` on phones without a gyroscope.
    pub gyro_rps: Option<[f32; 3]>,
}

/// One GPS fix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GpsFix {
    /// Timestamp in seconds, on the same clock as [`ImuSample::t_s`].
    pub t_s: f64,
    /// WGS84 latitude in degrees.
    pub lat_deg: f64,
    /// WGS84 longitude in degrees.
    pub lon_deg: f64,
    /// Ground speed in m/s, when the receiver reports one.
    pub speed_mps: Option<f32>,
    /// Course over ground in degrees clockwise from true north, [0, 360).
    pub bearing_deg: Option<f32>,
    /// Horizontal accuracy (68 % radius) in metres.
    pub accuracy_m: Option<f32>,
}

/// Why an input sample was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rejection {
    /// A timestamp or a required value is NaN or infinite.
    NonFinite,
    /// The timestamp is not later than the previous accepted sample's.
    TimeNotIncreasing,
    /// The timestamp jumps implausibly far ahead (a corrupt clock value);
    /// accepted only once following samples confirm the new timeline.
    TimeJump,
    /// An accelerometer component exceeds 16 g.
    AccelOutOfRange,
    /// A gyroscope component exceeds 35 rad/s.
    GyroOutOfRange,
    /// Latitude or longitude outside the WGS84 range.
    PositionOutOfRange,
    /// A GPS fix identical to the previous one (position, speed and bearing)
    /// under a new timestamp: a stale fix repeated by the platform.
    StaleFix,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejection::NonFinite => "a value is NaN or infinite",
            Rejection::TimeNotIncreasing => "timestamp does not increase",
            Rejection::TimeJump => "timestamp jumps too far ahead",
            Rejection::AccelOutOfRange => "accelerometer beyond 16 g",
            Rejection::GyroOutOfRange => "gyroscope beyond 35 rad/s",
            Rejection::PositionOutOfRange => "latitude or longitude out of range",
            Rejection::StaleFix => "GPS fix repeats the previous one",
        })
    }
}

/// Counts of accepted and rejected input, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputCounts {
    /// IMU samples accepted.
    pub imu_accepted: u64,
    /// IMU samples with a NaN/inf timestamp or value.
    pub imu_non_finite: u64,
    /// IMU samples whose timestamp went backwards or repeated.
    pub imu_time_not_increasing: u64,
    /// IMU samples whose timestamp jumped too far ahead, unconfirmed.
    pub imu_time_jump: u64,
    /// IMU samples beyond 16 g.
    pub imu_accel_out_of_range: u64,
    /// IMU samples beyond 35 rad/s.
    pub imu_gyro_out_of_range: u64,
    /// Gaps longer than the configured maximum; each resets the filters and
    /// the current estimation windows (the sample after the gap is kept).
    pub imu_gaps: u64,
    /// GPS fixes accepted.
    pub gps_accepted: u64,
    /// GPS fixes with a NaN/inf timestamp or position.
    pub gps_non_finite: u64,
    /// GPS fixes whose timestamp went backwards or repeated.
    pub gps_time_not_increasing: u64,
    /// GPS fixes whose timestamp jumped too far ahead, unconfirmed.
    pub gps_time_jump: u64,
    /// GPS fixes with an impossible latitude or longitude.
    pub gps_position_out_of_range: u64,
    /// Stale GPS fixes: the previous fix repeated under a new timestamp.
    pub gps_stale: u64,
    /// Optional GPS fields (speed, bearing, accuracy) that were invalid
    /// (negative, non-finite, absurd) and dropped while the fix was kept.
    pub gps_fields_dropped: u64,
}

impl InputCounts {
    /// Total IMU samples rejected for any reason.
    pub fn imu_rejected(&self) -> u64 {
        self.imu_non_finite
            + self.imu_time_not_increasing
            + self.imu_time_jump
            + self.imu_accel_out_of_range
            + self.imu_gyro_out_of_range
    }

    /// Total GPS fixes rejected for any reason.
    pub fn gps_rejected(&self) -> u64 {
        self.gps_non_finite
            + self.gps_time_not_increasing
            + self.gps_time_jump
            + self.gps_position_out_of_range
            + self.gps_stale
    }

    pub(crate) fn count_imu(&mut self, r: Rejection) {
        match r {
            Rejection::NonFinite => self.imu_non_finite += 1,
            Rejection::TimeNotIncreasing => self.imu_time_not_increasing += 1,
            Rejection::TimeJump => self.imu_time_jump += 1,
            Rejection::AccelOutOfRange => self.imu_accel_out_of_range += 1,
            Rejection::GyroOutOfRange => self.imu_gyro_out_of_range += 1,
            Rejection::PositionOutOfRange | Rejection::StaleFix => {}
        }
    }

    pub(crate) fn count_gps(&mut self, r: Rejection) {
        match r {
            Rejection::NonFinite => self.gps_non_finite += 1,
            Rejection::TimeNotIncreasing => self.gps_time_not_increasing += 1,
            Rejection::TimeJump => self.gps_time_jump += 1,
            Rejection::PositionOutOfRange => self.gps_position_out_of_range += 1,
            Rejection::StaleFix => self.gps_stale += 1,
            Rejection::AccelOutOfRange | Rejection::GyroOutOfRange => {}
        }
    }
}

/// How late GPS fixes arrive: the latest sample time minus the fix's own
/// time when it came, the largest of late, slowly forgotten (a growing delay
/// is followed at once, a shrinking one step by step).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FixDelay(f32);

impl FixDelay {
    /// Takes one fix's delay `lag_s` (negative: on time; not finite:
    /// ignored), forgetting `forget_s` of the old estimate, at most `max_s`.
    pub fn observe(&mut self, lag_s: f64, forget_s: f32, max_s: f32) {
        let lag_s = lag_s as f32;
        if lag_s.is_finite() {
            self.0 = (self.0 - forget_s).max(lag_s.clamp(0.0, max_s));
        }
    }

    /// The delay, s.
    pub fn s(&self) -> f32 {
        self.0
    }
}

/// Guards a stream's clock against corrupt far-future timestamps: a forward
/// jump beyond the limit is rejected unless `CONFIRMATIONS` consecutive
/// samples continue the new timeline (then the stream resynchronises).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ClockGuard {
    pending_t_s: Option<f64>,
    confirmations: u8,
}

impl ClockGuard {
    const CONFIRMATIONS: u8 = 3;

    /// A jump ahead is waiting for confirmation.
    #[inline]
    pub fn is_pending(&self) -> bool {
        self.pending_t_s.is_some()
    }

    /// Decides on a timestamp that already passed [`check_imu`]/[`check_gps`]
    /// against `last_t_s`.
    pub fn check(
        &mut self,
        t_s: f64,
        last_t_s: Option<f64>,
        max_jump_s: f64,
    ) -> Result<(), Rejection> {
        let Some(last) = last_t_s else {
            return Ok(());
        };
        if t_s - last <= max_jump_s {
            // (Written only when there is something to clear: this runs for
            // every sample.)
            if self.pending_t_s.is_some() {
                self.pending_t_s = None;
                self.confirmations = 0;
            }
            return Ok(());
        }
        match self.pending_t_s {
            Some(p) if t_s > p && t_s - p <= max_jump_s => {
                self.confirmations += 1;
                self.pending_t_s = Some(t_s);
                if self.confirmations + 1 >= Self::CONFIRMATIONS {
                    self.pending_t_s = None;
                    self.confirmations = 0;
                    return Ok(());
                }
            }
            _ => {
                self.pending_t_s = Some(t_s);
                self.confirmations = 0;
            }
        }
        Err(Rejection::TimeJump)
    }
}

/// Checks one IMU sample against the previous accepted timestamp.
#[inline]
pub fn check_imu(s: &ImuSample, last_t_s: Option<f64>) -> Result<(), Rejection> {
    let f4 = crate::math::lanes(s.accel_mps2, 1.0);
    let w4 = s
        .gyro_rps
        .map_or(f32x4::ZERO, |w| crate::math::lanes(w, 1.0));
    // `t > last` is false for a NaN time but true for +inf: finiteness too.
    let time_ok = s.t_s.is_finite() & last_t_s.is_none_or(|last| s.t_s > last);
    if imu_in_range(f4, w4) & time_ok {
        return Ok(());
    }
    check_imu_slow(s, last_t_s)
}

/// The range checks of [`check_imu`] on the sample's values in lanes
/// (`[x, y, z, 1]`, the gyroscope all zero when there is none), as the
/// pipeline builds them once per sample for its sums. Branch-free: `|x| <=
/// max` is false for NaN and infinities too, so one comparison per value
/// accepts a good sample (all six in two SIMD comparisons; the fourth
/// lanes, 1 or 0, pass); a bad one goes through the checks of
/// `check_imu_slow`, which name the reason.
#[inline]
pub(crate) fn imu_in_range(f4: f32x4, w4: f32x4) -> bool {
    let accel_ok = f4.abs().simd_le(f32x4::splat(MAX_ACCEL_MPS2));
    let gyro_ok = w4.abs().simd_le(f32x4::splat(MAX_GYRO_RPS));
    (accel_ok & gyro_ok).all()
}

/// [`check_imu`] for a sample that failed the fast path: the reason.
#[cold]
fn check_imu_slow(s: &ImuSample, last_t_s: Option<f64>) -> Result<(), Rejection> {
    let [ax, ay, az] = s.accel_mps2;
    // A NaN or an infinity anywhere makes the sum non-finite (so does an
    // overflow of three huge values, which are out of range anyway).
    if !(s.t_s.is_finite() && (ax + ay + az).is_finite()) {
        return Err(Rejection::NonFinite);
    }
    if let Some([gx, gy, gz]) = s.gyro_rps {
        if !(gx + gy + gz).is_finite() {
            return Err(Rejection::NonFinite);
        }
        // Plain comparisons: f32::max's NaN handling costs more, and NaN was
        // ruled out just above.
        if gx.abs() > MAX_GYRO_RPS || gy.abs() > MAX_GYRO_RPS || gz.abs() > MAX_GYRO_RPS {
            return Err(Rejection::GyroOutOfRange);
        }
    }
    if ax.abs() > MAX_ACCEL_MPS2 || ay.abs() > MAX_ACCEL_MPS2 || az.abs() > MAX_ACCEL_MPS2 {
        return Err(Rejection::AccelOutOfRange);
    }
    if let Some(last) = last_t_s {
        if s.t_s <= last {
            return Err(Rejection::TimeNotIncreasing);
        }
    }
    Ok(())
}

/// Checks one GPS fix against the previous accepted one; on success returns
/// the fix with invalid optional fields removed and how many were removed.
pub fn check_gps(f: &GpsFix, last: Option<&GpsFix>) -> Result<(GpsFix, u32), Rejection> {
    let last_t_s = last.map(|l| l.t_s);
    if !f.t_s.is_finite() || !f.lat_deg.is_finite() || !f.lon_deg.is_finite() {
        return Err(Rejection::NonFinite);
    }
    if f.lat_deg.abs() > 90.0 || f.lon_deg.abs() > 180.0 {
        return Err(Rejection::PositionOutOfRange);
    }
    if let Some(last) = last_t_s {
        if f.t_s <= last {
            return Err(Rejection::TimeNotIncreasing);
        }
    }
    if let Some(prev) = last {
        // Exact repetition of every measured value is not a new measurement.
        let same = f.lat_deg.to_bits() == prev.lat_deg.to_bits()
            && f.lon_deg.to_bits() == prev.lon_deg.to_bits()
            && f.speed_mps.map(f32::to_bits) == prev.speed_mps.map(f32::to_bits)
            && f.bearing_deg.map(f32::to_bits) == prev.bearing_deg.map(f32::to_bits);
        if same {
            return Err(Rejection::StaleFix);
        }
    }
    let mut out = *f;
    let mut dropped = 0;
    if let Some(v) = f.speed_mps {
        if !(v.is_finite() && (0.0..=MAX_GPS_SPEED_MPS).contains(&v)) {
            out.speed_mps = None;
            dropped += 1;
        }
    }
    if let Some(b) = f.bearing_deg {
        if !(b.is_finite() && (0.0..=360.0).contains(&b)) {
            out.bearing_deg = None;
            dropped += 1;
        }
    }
    if let Some(a) = f.accuracy_m {
        if !(a.is_finite() && a > 0.0) {
            out.accuracy_m = None;
            dropped += 1;
        }
    }
    Ok((out, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imu(t: f64, a: [f32; 3]) -> ImuSample {
        ImuSample {
            t_s: t,
            accel_mps2: a,
            gyro_rps: None,
        }
    }

    #[test]
    fn imu_rejections_by_reason() {
        let ok = imu(1.0, [0.0, 0.0, 9.8]);
        assert_eq!(check_imu(&ok, Some(0.5)), Ok(()));
        assert_eq!(check_imu(&ok, Some(1.0)), Err(Rejection::TimeNotIncreasing));
        assert_eq!(check_imu(&ok, Some(2.0)), Err(Rejection::TimeNotIncreasing));
        assert_eq!(
            check_imu(&imu(f64::NAN, [0.0; 3]), None),
            Err(Rejection::NonFinite)
        );
        assert_eq!(
            check_imu(&imu(1.0, [f32::INFINITY, 0.0, 0.0]), None),
            Err(Rejection::NonFinite)
        );
        assert_eq!(
            check_imu(&imu(1.0, [0.0, 200.0, 0.0]), None),
            Err(Rejection::AccelOutOfRange)
        );
        let mut g = ok;
        g.gyro_rps = Some([0.0, 36.0, 0.0]);
        assert_eq!(check_imu(&g, None), Err(Rejection::GyroOutOfRange));
        g.gyro_rps = Some([0.0, f32::NAN, 0.0]);
        assert_eq!(check_imu(&g, None), Err(Rejection::NonFinite));
    }

    #[test]
    fn gps_bad_optional_fields_are_dropped_not_the_fix() {
        let f = GpsFix {
            t_s: 1.0,
            lat_deg: 52.0,
            lon_deg: 13.0,
            speed_mps: Some(-1.0),
            bearing_deg: Some(f32::NAN),
            accuracy_m: Some(5.0),
        };
        let (clean, dropped) = check_gps(&f, None).unwrap_or((f, 99));
        assert_eq!(dropped, 2);
        assert_eq!(clean.speed_mps, None);
        assert_eq!(clean.bearing_deg, None);
        assert_eq!(clean.accuracy_m, Some(5.0));
        let mut bad = f;
        bad.lat_deg = 91.0;
        assert_eq!(check_gps(&bad, None), Err(Rejection::PositionOutOfRange));
        bad.lat_deg = f64::NAN;
        assert_eq!(check_gps(&bad, None), Err(Rejection::NonFinite));
        let mut earlier = f;
        earlier.t_s = 1.0;
        assert_eq!(
            check_gps(&f, Some(&earlier)),
            Err(Rejection::TimeNotIncreasing)
        );
        earlier.t_s = 0.0;
        assert_eq!(check_gps(&f, Some(&earlier)), Err(Rejection::StaleFix));
        let mut moved = f;
        moved.lat_deg += 1e-6;
        assert!(check_gps(&moved, Some(&earlier)).is_ok());
    }
}
