//! Orientation estimation: the rotation from phone axes to vehicle axes
//! (x forward, y left, z up).
//!
//! The estimator never integrates the gyroscope into an attitude; it works on
//! short statistics windows:
//!
//! - **Tilt (roll, pitch).** In a *quiet* block (low accelerometer spread, no
//!   turning on the gyroscope, steady GPS speed and bearing when GPS is there)
//!   the mean specific force is gravity's reaction, i.e. the vehicle's "up". An
//!   exponential average over quiet blocks gives the up vector `u` in phone
//!   axes (without GPS, blocks while the vehicle moves count a tenth of a
//!   standstill's: a steady acceleration looks like gravity there). On a
//!   grade that average leans towards the slope of the last tens
//!   of seconds, and an accelerometer bias tilts it too; with GPS, the pitch
//!   is then corrected from the speed changes, whose specific force runs
//!   along the true forward axis (see `pitch_from_gps`).
//! - **Heading (yaw).** The forward axis is the principal component (PCA) of the
//!   horizontal acceleration `h = reject(f - g u, u)` in windows where the
//!   vehicle brakes or accelerates in a straight line. PCA gives an axis; its
//!   sign comes from
//!   1. the GPS speed change (correlation of `h` with dv/dt) when GPS is there;
//!   2. otherwise the gyroscope: in a turn the centripetal acceleration points
//!      to the side the vehicle turns to (`a_y = v * yaw_rate`, `v > 0`), which
//!      fixes the left axis and so the forward one;
//!   3. otherwise standstills: the engine-idle vibration of a stopped vehicle is
//!      much lower than road vibration, so the acceleration just before a
//!      standstill is a deceleration and the one just after it an acceleration.
//!
//!   Each source has its own confidence; the weaker sources need more evidence.
//! - **Re-estimation.** Evidence is forgotten exponentially (time constant
//!   [`OrientationConfig::heading_tau_s`]) so a slowly drifting phone (cup
//!   holder) is tracked, and the solution is recomputed after every block.
//! - **Moves.** The phone moving in the vehicle is detected at once by the
//!   gyroscope (rotation not about the vertical, or about the vertical but not
//!   matched by the GPS bearing change) or, without gyroscope, by the gravity
//!   direction settling somewhere new. The estimator then forgets everything
//!   and reports [`OrientationState::Moved`] until it has a new tilt.
//!
//! All state is fixed-size; an update costs a few hundred flops per block and
//! nothing per sample beyond the accumulation done by the pipeline.

use crate::ConfigError;
use crate::input::FixDelay;
use crate::math::{
    self, Columns, Mat3, Sym3, Vec3, add, angle_between, any_perpendicular, cross, dot, f32x4,
    lanes, norm, normalize, reject, scale, sub, xyz,
};
use crate::queue::EventQueue;

/// Where the estimator stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrientationState {
    /// Nothing known yet: no quiet window seen.
    Unknown,
    /// Tilt (the vertical axis) known, heading not yet confident.
    Estimating,
    /// Tilt and heading known: vehicle-frame output is meaningful.
    Locked,
    /// The phone moved in the vehicle; waiting for a new tilt.
    Moved,
}

impl OrientationState {
    /// Stable lower-case name (`unknown`, `estimating`, `locked`, `moved`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrientationState::Unknown => "unknown",
            OrientationState::Estimating => "estimating",
            OrientationState::Locked => "locked",
            OrientationState::Moved => "moved",
        }
    }
}

/// Which evidence fixed the sign of the forward axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeadingSource {
    /// No heading yet.
    None,
    /// GPS speed changes.
    Gps,
    /// Gyroscope yaw rate against centripetal acceleration.
    Gyro,
    /// Accelerations into and out of standstills (no GPS, no gyroscope).
    Standstill,
}

impl HeadingSource {
    /// Stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            HeadingSource::None => "none",
            HeadingSource::Gps => "gps",
            HeadingSource::Gyro => "gyro",
            HeadingSource::Standstill => "standstill",
        }
    }
}

/// A snapshot of the current orientation estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Orientation {
    /// Estimator state; only [`OrientationState::Locked`] means the vehicle
    /// axes are known.
    pub state: OrientationState,
    /// Rotation from phone axes to vehicle axes, row-major: `v = R p`. Its rows
    /// are the vehicle's forward, left and up axes expressed in phone axes.
    pub rotation: Mat3,
    /// Z-Y-X Euler angles of `rotation` (`R = Rz(yaw) Ry(pitch) Rx(roll)`), rad.
    pub roll_rad: f32,
    /// See `roll_rad`.
    pub pitch_rad: f32,
    /// See `roll_rad`. Meaningless unless the heading is known.
    pub yaw_rad: f32,
    /// Confidence in the vertical axis, 0..1.
    pub tilt_confidence: f32,
    /// Confidence in the forward axis and its sign, 0..1.
    pub heading_confidence: f32,
    /// Evidence behind the heading.
    pub heading_source: HeadingSource,
}

impl Orientation {
    /// Overall confidence: the smaller of tilt and heading confidence.
    pub fn confidence(&self) -> f32 {
        self.tilt_confidence.min(self.heading_confidence)
    }

    /// True when vehicle-frame output can be trusted.
    pub fn is_known(&self) -> bool {
        self.state == OrientationState::Locked
    }
}

/// Orientation estimator configuration. Defaults are for a car; see
/// [`OrientationConfig::motorcycle`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct OrientationConfig {
    /// Statistics block length in seconds. Default 1.0.
    pub block_s: f32,
    /// Largest per-axis accelerometer standard deviation in a quiet block,
    /// m/s^2. Default 1.2 (car), 3.0 (motorcycle: engine vibration).
    pub quiet_max_std_mps2: f32,
    /// Largest mean rotation rate about the vertical (turning) in a quiet
    /// block, rad/s. Default 0.06.
    pub quiet_max_gyro_rps: f32,
    /// Largest mean rotation rate about any axis in a quiet block (a hand's
    /// or pocket's wobble), rad/s. Default 0.35.
    pub quiet_max_rotation_rps: f32,
    /// Largest GPS acceleration (2 s difference) in a quiet block, m/s^2. Default 0.4.
    pub quiet_max_gps_accel_mps2: f32,
    /// Largest GPS lateral acceleration (speed x bearing rate) in a quiet block, m/s^2. Default 0.6.
    pub quiet_max_gps_lateral_mps2: f32,
    /// Time constant of the tilt average over quiet blocks, s. Default 20.
    pub tilt_tau_s: f32,
    /// Follow a phone tilting in its holder (a cup holder's phone drifts by
    /// 3-8 deg in roll and pitch over minutes): gravity is also tracked
    /// with its rate of turn from quiet block to quiet block (`TiltTrack`),
    /// and that track is followed while its predictions fit recent quiet
    /// blocks clearly better than the 20 s average (misfit under half of
    /// it), with GPS present and the phone not swinging. Default true
    /// (car), false (motorcycle).
    pub tilt_drift_track: bool,
    /// Quiet blocks needed for full tilt confidence. Default 5.
    pub tilt_blocks_full: u16,
    /// Smallest GPS acceleration of a longitudinal window, m/s^2. Default 0.5.
    pub heading_min_accel_mps2: f32,
    /// Largest lateral acceleration of a longitudinal window, m/s^2. Default 0.8.
    pub heading_max_lateral_mps2: f32,
    /// Time constant of heading evidence forgetting, s. Default 120.
    pub heading_tau_s: f32,
    /// The same while the phone swings in a hand or a pocket (the swing
    /// tracker is applied, see [`crate::wobble`]), s. Default 240: such a
    /// phone's speed changes carry its owner's motion, and averaging twice
    /// as many of them is worth more than following a drift twice as fast.
    pub heading_tau_swing_s: f32,
    /// Follow a phone turning in its holder (a phone loose in a cup holder
    /// turns by 10-25 deg over minutes): the heading is also tracked with
    /// its rate of turn from speed change to speed change (`HeadingTrack`,
    /// a Kalman filter over angle and rate), and that track is followed
    /// while its predictions fit recent speed changes better than the long
    /// memory's heading and the phone does not swing. Default true (car),
    /// false (motorcycle: no cup holder, and a pocketed rider's speed
    /// changes are noisy).
    pub heading_drift_track: bool,
    /// Longitudinal windows for full axis confidence. Default 6.
    pub heading_windows_full: f32,
    /// Heading confidence at which the estimator locks. Default 0.5.
    pub lock_confidence: f32,
    /// Gravity direction change (deg) that, held for `moved_blocks` calm
    /// blocks, means the phone moved. Default 15.
    pub moved_angle_deg: f32,
    /// Calm blocks with a changed gravity direction needed. Default 3.
    pub moved_blocks: u8,
    /// Phone rotation not about the vertical within a few seconds (a
    /// decaying sum over blocks) that means the phone moved, deg. Default 50
    /// (car), 120 (motorcycle: a lean in and out of a corner is not a move).
    pub moved_gyro_deg: f32,
    /// Mismatch between gyroscope yaw and GPS bearing change, summed over a
    /// few GPS intervals, that means the phone moved, deg. Default 45.
    pub moved_yaw_mismatch_deg: f32,
    /// Largest accelerometer standard deviation of a standstill block, m/s^2. Default 0.08.
    pub still_max_std_mps2: f32,
    /// Time constant of the gyroscope-tracked swing of a hand-held or
    /// pocketed phone about its mean place, s (see [`crate::wobble`]); 0
    /// turns the tracking off. Default 3 (2-6 measured, see
    /// docs/results.md; on a motorcycle the tracker stands down while the
    /// bike turns: a lean is not a swing).
    pub wobble_tau_s: f32,
    /// Memory of the swing tracker's gyroscope bias estimate, s. Default 60.
    pub wobble_bias_tau_s: f32,
    /// Swing over the last minute (root mean square of its 0.3-1 s band)
    /// from which the tracked swing turns the frame, deg. Default 0.8 (a
    /// mounted phone measures 0.2-0.8 and keeps the estimator's frame; a
    /// trouser pocket 0.9, a hand 2).
    pub wobble_min_deg: f32,
}

impl Default for OrientationConfig {
    fn default() -> Self {
        Self {
            block_s: 1.0,
            quiet_max_std_mps2: 1.2,
            quiet_max_gyro_rps: 0.06,
            quiet_max_rotation_rps: 0.35,
            quiet_max_gps_accel_mps2: 0.4,
            quiet_max_gps_lateral_mps2: 0.6,
            tilt_tau_s: 20.0,
            tilt_drift_track: true,
            tilt_blocks_full: 5,
            heading_min_accel_mps2: 0.5,
            heading_max_lateral_mps2: 0.8,
            heading_tau_s: 120.0,
            heading_tau_swing_s: 240.0,
            heading_drift_track: true,
            heading_windows_full: 6.0,
            lock_confidence: 0.5,
            moved_angle_deg: 15.0,
            moved_blocks: 3,
            moved_gyro_deg: 50.0,
            moved_yaw_mismatch_deg: 45.0,
            still_max_std_mps2: 0.08,
            wobble_tau_s: 3.0,
            wobble_bias_tau_s: 60.0,
            wobble_min_deg: 0.8,
        }
    }
}

impl OrientationConfig {
    /// Defaults for a motorcycle: more vibration, and lean is not a move.
    pub fn motorcycle() -> Self {
        Self {
            quiet_max_std_mps2: 3.0,
            moved_gyro_deg: 120.0,
            heading_drift_track: false,
            tilt_drift_track: false,
            ..Self::default()
        }
    }

    /// Checks that every value is usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let pos = ConfigError::positive;
        ConfigError::in_range(
            self.block_s,
            0.2..=5.0,
            "orientation.block_s",
            "must be in [0.2, 5] s",
        )?;
        pos(self.quiet_max_std_mps2, "orientation.quiet_max_std_mps2")?;
        pos(self.quiet_max_gyro_rps, "orientation.quiet_max_gyro_rps")?;
        pos(
            self.quiet_max_rotation_rps,
            "orientation.quiet_max_rotation_rps",
        )?;
        pos(
            self.quiet_max_gps_accel_mps2,
            "orientation.quiet_max_gps_accel_mps2",
        )?;
        pos(
            self.quiet_max_gps_lateral_mps2,
            "orientation.quiet_max_gps_lateral_mps2",
        )?;
        pos(
            self.heading_min_accel_mps2,
            "orientation.heading_min_accel_mps2",
        )?;
        pos(
            self.heading_max_lateral_mps2,
            "orientation.heading_max_lateral_mps2",
        )?;
        pos(
            self.heading_windows_full,
            "orientation.heading_windows_full",
        )?;
        pos(self.moved_angle_deg, "orientation.moved_angle_deg")?;
        pos(self.moved_gyro_deg, "orientation.moved_gyro_deg")?;
        pos(
            self.moved_yaw_mismatch_deg,
            "orientation.moved_yaw_mismatch_deg",
        )?;
        pos(self.still_max_std_mps2, "orientation.still_max_std_mps2")?;
        ConfigError::check(
            self.tilt_tau_s.is_finite() && self.tilt_tau_s >= self.block_s,
            "orientation.tilt_tau_s",
            "must be at least block_s",
        )?;
        ConfigError::check(
            self.wobble_tau_s == 0.0 || (0.5..=60.0).contains(&self.wobble_tau_s),
            "orientation.wobble_tau_s",
            "must be 0 (off) or in [0.5, 60] s",
        )?;
        ConfigError::in_range(
            self.wobble_bias_tau_s,
            10.0..=3600.0,
            "orientation.wobble_bias_tau_s",
            "must be in [10, 3600] s",
        )?;
        ConfigError::in_range(
            self.wobble_min_deg,
            0.0..=15.0,
            "orientation.wobble_min_deg",
            "must be in [0, 15] deg",
        )?;
        ConfigError::check(
            self.heading_tau_s.is_finite() && self.heading_tau_s >= 10.0 * self.block_s,
            "orientation.heading_tau_s",
            "must be at least 10 blocks",
        )?;
        ConfigError::check(
            self.heading_tau_swing_s.is_finite() && self.heading_tau_swing_s >= 10.0 * self.block_s,
            "orientation.heading_tau_swing_s",
            "must be at least 10 blocks",
        )?;
        ConfigError::check(
            self.tilt_blocks_full != 0,
            "orientation.tilt_blocks_full",
            "must be at least 1",
        )?;
        ConfigError::check(
            self.moved_blocks != 0,
            "orientation.moved_blocks",
            "must be at least 1",
        )?;
        ConfigError::check(
            self.lock_confidence.is_finite()
                && self.lock_confidence > 0.0
                && self.lock_confidence <= 1.0,
            "orientation.lock_confidence",
            "must be in (0, 1]",
        )?;
        Ok(())
    }
}

/// What the GPS-interval evidence needs: the sums of one block without the
/// squares (no spread is computed over a GPS interval). Counts are `f32`: a
/// stretch cut at a fix time carries a fraction of a bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IntervalStats {
    /// Sum of specific force per axis; the sample count in the fourth lane.
    /// (Lanes, so a sample is added with one vector instruction.)
    f_n: f32x4,
    /// Sum of angular rate per axis; the gyroscope sample count in the fourth lane.
    w_n: f32x4,
    /// Integrated rotation (angular rate times dt) per axis, rad; the
    /// gyroscope's time in the fourth lane (unused).
    rot: f32x4,
}

impl IntervalStats {
    /// Adds one sample (`f4`: specific force with 1 in the fourth lane;
    /// `w4`: angular rate with 1 in the fourth lane, or all zero when the
    /// sample has no gyroscope value, which leaves the gyroscope sums as
    /// they are without a branch).
    #[inline]
    fn add(&mut self, f4: f32x4, w4: f32x4, dt_s: f32) {
        self.f_n += f4;
        self.w_n += w4;
        self.rot += w4 * f32x4::splat(dt_s);
    }

    /// Samples in the stretch (fractional where a fix cut a bucket).
    fn n(&self) -> f32 {
        self.f_n.to_array()[3]
    }

    /// Gyroscope samples in the stretch.
    fn n_gyro(&self) -> f32 {
        self.w_n.to_array()[3]
    }

    /// Integrated rotation per phone axis, rad.
    fn rot(&self) -> Vec3 {
        xyz(self.rot)
    }

    fn mean_f(&self) -> Vec3 {
        scale(xyz(self.f_n), 1.0 / self.n().max(1e-3))
    }

    /// Gyroscope samples are at least half of all samples.
    fn has_gyro(&self) -> bool {
        self.n_gyro() > 0.0 && self.n_gyro() * 2.0 >= self.n()
    }

    fn mean_w(&self) -> Option<Vec3> {
        self.has_gyro()
            .then(|| scale(xyz(self.w_n), 1.0 / self.n_gyro()))
    }

    /// Sums of two disjoint stretches.
    fn plus(&self, o: &Self) -> Self {
        Self {
            f_n: self.f_n + o.f_n,
            w_n: self.w_n + o.w_n,
            rot: self.rot + o.rot,
        }
    }

    /// The sums times `k`: the share `k` of a stretch, its samples assumed
    /// evenly spread.
    fn scaled(&self, k: f32) -> Self {
        let k4 = f32x4::splat(k);
        Self {
            f_n: self.f_n * k4,
            w_n: self.w_n * k4,
            rot: self.rot * k4,
        }
    }
}

/// Accelerometer and gyroscope statistics of one block, gathered per sample
/// by the pipeline: the interval sums plus the squares for the spread.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BlockStats {
    sums: IntervalStats,
    /// Sum of squared specific force per axis (the count again in the
    /// fourth lane: it rides along for free).
    sum_f2: f32x4,
}

impl BlockStats {
    /// Adds one sample; returns the squared specific force, (m/s^2)^2 (the
    /// squares are computed here anyway).
    #[inline]
    pub fn add(&mut self, f: Vec3, w: Option<Vec3>, dt_s: f32) -> f32 {
        self.add_lanes(
            lanes(f, 1.0),
            w.map_or(f32x4::ZERO, |w| lanes(w, 1.0)),
            dt_s,
        )
    }

    /// [`Self::add`] on the sample in lanes, `[x, y, z, 1]` each, the
    /// gyroscope all zero when there is none (the pipeline builds them once
    /// per sample, for its input checks too).
    #[inline]
    pub(crate) fn add_lanes(&mut self, f4: f32x4, w4: f32x4, dt_s: f32) -> f32 {
        self.sums.add(f4, w4, dt_s);
        let sq = f4 * f4;
        self.sum_f2 += sq;
        // Summed in `dot`'s order, so the value is the same bit for bit.
        let [x2, y2, z2, _] = sq.to_array();
        x2 + y2 + z2
    }

    /// Samples in the block.
    pub fn n(&self) -> u32 {
        self.sums.n() as u32
    }

    /// The statistics of this block and the disjoint `o` together.
    fn merged(&self, o: &Self) -> Self {
        Self {
            sums: self.sums.plus(&o.sums),
            sum_f2: self.sum_f2 + o.sum_f2,
        }
    }

    fn mean_f(&self) -> Vec3 {
        self.sums.mean_f()
    }

    /// Largest per-axis standard deviation.
    fn max_std(&self) -> f32 {
        let n = self.sums.n().max(1.0);
        let m = self.mean_f();
        let mut v: f32 = 0.0;
        for (s2, mi) in xyz(self.sum_f2).iter().zip(m) {
            v = v.max(s2 / n - mi * mi);
        }
        libm::sqrtf(v.max(0.0))
    }

    fn mean_w(&self) -> Option<Vec3> {
        self.sums.mean_w()
    }
}

/// A closed stretch of samples (a part of a block) waiting for the GPS fixes
/// around it: see [`OrientationEstimator::push_bucket`].
#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    stats: BlockStats,
    t_start_s: f64,
    t_end_s: f64,
    /// The bucket closes a statistics block.
    ends_block: bool,
    /// Share of the bucket already counted into a GPS interval (a fix timed
    /// inside it took the part before its time).
    gps_share: f32,
}

/// Buckets that can wait for their fixes: 16 s of half-second buckets,
/// enough for fixes delivered after a 10 s batch of samples.
const QUEUE_LEN: usize = 32;
/// Longest a bucket waits for the fixes timed before its end, s.
const MAX_WAIT_S: f32 = 14.0;

#[derive(Clone, Copy, Debug, Default)]
struct GpsMemory {
    t_s: f64,
    speed_mps: f32,
    bearing_deg: Option<f32>,
}

const NO_GPS_AFTER_S: f64 = 3.0;
/// Two consecutive calm blocks agreeing within this angle start the tilt
/// estimate, deg. A hand's wobble moves gravity's mean by ~6 deg between
/// blocks (it never agreed within 2); a start error of that size is averaged
/// away by the blocks that follow.
const INIT_AGREEMENT_DEG: f32 = 6.0;
/// Slowest GPS speed at which speed changes and turns count as the
/// vehicle's (a person walks at 1-2 m/s).
const MIN_VEHICLE_SPEED_MPS: f32 = 3.0;
/// GPS speed from which a phone may be carried on foot, m/s (a standing
/// vehicle's GPS speed wanders below it).
const WALK_MIN_SPEED_MPS: f32 = 0.6;
/// Largest per-axis accelerometer spread of a quiet block at walking pace,
/// m/s^2: a crawling car's vibration and a hand's jostling stay under it, a
/// walker's steps (2.5 m/s^2 up and down) do not. 0.5 and 1.0 measured the
/// same (`safelane evaluate --seeds 3`).
const WALK_QUIET_MAX_STD_MPS2: f32 = 0.8;
/// Share of the tilt average a calm block takes without GPS while the
/// vehicle moves (a standstill's block takes a whole one): without GPS a
/// steady acceleration cannot be told from gravity, and a standstill's
/// engine idle (spread under `still_max_std_mps2`) can. Neither GPS nor
/// gyroscope tilt p95 3.75 -> 1.35 deg (`evaluate --seeds 3`; 0.5: 2.81,
/// 0.2: 1.86, 0.05: 1.23, 0.02: 1.18); the tilt's memory is then 200 s on a
/// road without stops.
const MOVING_TILT_WEIGHT_NO_GPS: f32 = 0.1;
/// A GPS speed change beyond this is no vehicle's own, m/s^2 (tyres grip
/// up to about 1 g): a collision, or a fix that jumped. It is no evidence
/// of the heading or the pitch (a 7 g crash's interval, with the body
/// pitched by it, turned the pitch correction by 1.3 deg).
const MAX_TYRE_ACCEL_MPS2: f32 = 10.0;
/// GPS speed under which the vehicle stands, m/s (a fix's speed noise is
/// about 0.1 m/s).
const STANDSTILL_MPS: f32 = 0.3;
/// Mean rotation off the vertical over a GPS interval above which the phone
/// wobbles in a hand or pocket (a vehicle turns about the vertical), rad/s:
/// then its vertical rate does not say whether the vehicle turned.
const WOBBLE_RPS: f32 = 0.1;
const STOP_RING: usize = 3;
/// A quiet block's gravity further than this from the tilt (deg) is not
/// averaged in (an acceleration the GPS missed, a phone being handled).
const TILT_OUTLIER_DEG: f32 = 10.0;
/// GPS speed-change windows (decayed count) at which the pitch correction
/// counts in full; with fewer it is scaled down in proportion (the no-GPS
/// correction from longitudinal blocks waits for this many: scaled alike,
/// every row measured the same). (A hard
/// threshold here dropped a 1.9 deg correction at once when the count
/// decayed past it, standing after a crash: the crash row's tilt p95 2.74
/// deg against 1.72 with the scaling and the hold below.)
const PITCH_MIN_WINDOWS: f32 = 3.0;
/// Memory of the pitch evidence while the vehicle moves, s. While it stands
/// (GPS speed under [`STANDSTILL_MPS`]) the evidence is held: neither the
/// phone in its mount nor the body's pitch changes. Not while the tilt
/// track fits recent quiet blocks clearly better than the average (a
/// drifting cup holder turns the forward axis the evidence points along;
/// held there, its tilt p95 3.57 -> 3.77 deg).
const PITCH_TAU_S: f32 = 30.0;
/// [`PITCH_TAU_S`] while the tilt track fits recent quiet blocks clearly
/// better than the average (the fit alone, not the other conditions on
/// following the track), s: a drifting phone's forward
/// axis turns in phone axes, where the evidence is summed, and 30 s of it
/// lag the drift (cup holder tilt p95 3.61 deg with 30 s, 3.04 with 15,
/// 2.99 with 10; the 7 % grades of hills-dash, which the track follows too,
/// 1.48 -> 1.59 -> 1.74; `evaluate --seeds 3`). Turning the evidence with
/// the tracked tilt instead took the hills' grades for turns of the phone
/// (hills 2.83 deg).
const PITCH_TAU_DRIFT_S: f32 = 15.0;
/// A heading source replaces the one before it (GPS, then gyroscope, then
/// standstills) only when more confident by this much: two full confidences
/// are a tie, not a rounding error's choice (a standstill's 1.0000001 once
/// turned a GPS-locked heading round).
const SOURCE_MARGIN: f32 = 1e-3;
/// Largest pitch correction taken from them (tan of 8.5 deg): a grade and an
/// accelerometer bias stay well inside it.
const PITCH_MAX_TAN: f32 = 0.15;
/// Expected size of gravity's pitch error (a grade's lag, an accelerometer
/// bias), tan of 1.5 deg.
const PITCH_PRIOR_TAN: f32 = 0.026;

/// A locked solution is replaced only by one at least this share of the
/// lock confidence, and at least as confident as its user asks (see
/// [`OrientationEstimator::set_min_replace_confidence`]).
const LOCKED_REPLACE_SHARE: f32 = 0.5;
/// Speed changes (or quiet blocks) over which each memory's misfit is
/// weighed.
const MISFIT_WINDOWS: f32 = 20.0;
/// The heading track is followed while its misfit is under this share of
/// the long memory's.
const TRACK_MISFIT_RATIO: f32 = 0.95;
/// The same for the tilt track against the 20 s average (0.7: hills tilt
/// p95 1.50 deg instead of 1.38, the cup holder 3.18 instead of 3.22; 10
/// seeds).
const TILT_TRACK_RATIO: f32 = 0.5;

/// How far recent evidence fell from a long memory's estimate (`0`) and a
/// track's prediction (`1`): exponentially weighted sums of squared
/// angles, rad^2, over about [`MISFIT_WINDOWS`] pieces of evidence.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Misfit([f32; 2]);

impl Misfit {
    fn add(&mut self, memory: usize, angle_rad: f32) {
        let keep = 1.0 - 1.0 / MISFIT_WINDOWS;
        self.0[memory] = keep * self.0[memory] + angle_rad * angle_rad;
    }

    /// Whether the track fits better than `ratio` times the long memory.
    fn track_fits(&self, ratio: f32) -> bool {
        self.0[1] < ratio * self.0[0]
    }
}

/// The covariance of an angle and its rate, each axis alike: the Kalman
/// filter shared by the heading's and the tilt's tracks (a state that turns
/// at a rate, measured now and then). Angle rad, rate rad/s.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct AngleRate {
    /// Covariance of (angle, rate): rad^2, rad^2/s, rad^2/s^2.
    p: [[f32; 2]; 2],
}

impl AngleRate {
    fn new(angle_var: f32, rate_var: f32) -> Self {
        Self {
            p: [[angle_var, 0.0], [0.0, rate_var]],
        }
    }

    /// `dt_s` on, the angle and the rate walking by `angle_walk` and
    /// `rate_walk` per second.
    fn predict(&mut self, dt_s: f32, angle_walk: f32, rate_walk: f32) {
        let p = self.p;
        let cross_term = p[0][1] + dt_s * p[1][1];
        self.p = [
            [
                p[0][0] + dt_s * (p[0][1] + cross_term) + angle_walk * dt_s,
                cross_term,
            ],
            [cross_term, p[1][1] + rate_walk * dt_s],
        ];
    }

    /// Takes a measurement of the angle with the variance `r`: returns the
    /// gains of the angle and of the rate on its innovation.
    fn update(&mut self, r: f32) -> (f32, f32) {
        let p = self.p;
        let s = p[0][0] + r;
        let (k0, k1) = (p[0][0] / s, p[0][1] / s);
        self.p = [
            [(1.0 - k0) * p[0][0], (1.0 - k0) * p[0][1]],
            [(1.0 - k0) * p[0][1], p[1][1] - k1 * p[0][1]],
        ];
        (k0, k1)
    }
}

/// The heading tracked with its rate of turn in the phone, from speed
/// change to speed change: a Kalman filter over the angle about `up` (kept
/// as the unit vector `fwd`, phone axes) and its rate. A phone loose in a
/// cup holder turns smoothly by 10-25 deg over 5-15 minutes; a memory of
/// the speed changes' directions lags it by its length, a track with a
/// rate does not. Measured (`evaluate --seeds 10`, cup holder yaw p50 /
/// p95): 4.77 / 11.39 deg with a 40 s memory instead, 3.23 / 10.92 with
/// the track.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct HeadingTrack {
    fwd: Option<Vec3>,
    rate_rps: f32,
    cov: AngleRate,
}

/// The track's angle random walk, rad^2/s ((0.11 deg)^2 per second).
const TRACK_ANGLE_WALK: f32 = 4e-6;
/// The track's rate random walk, (rad/s)^2/s: a cup holder's drift speeds
/// up and slows down over minutes.
const TRACK_RATE_WALK: f32 = 4e-8;
/// A speed change's direction error times its size, rad m/s^2 (8.6 deg at
/// 1 m/s^2), bounded to 1.7-29 deg.
const TRACK_SIGMA_RAD_MPS2: f32 = 0.15;

impl HeadingTrack {
    /// Starts at the heading `fwd`, known to 10 deg, not turning (0.18
    /// deg/s).
    fn starting_at(fwd: Vec3) -> Self {
        Self {
            fwd: Some(fwd),
            rate_rps: 0.0,
            cov: AngleRate::new(0.03, 1e-5),
        }
    }

    /// Moves on by `dt_s` about the up axis `u`.
    fn predict(&mut self, u: Vec3, dt_s: f32) {
        let Some(f) = self.fwd else {
            return;
        };
        // A block turns it by a few hundredths of a degree: to first order.
        let turned = add(f, scale(cross(u, f), self.rate_rps * dt_s));
        self.fwd = normalize(reject(turned, u));
        self.cov.predict(dt_s, TRACK_ANGLE_WALK, TRACK_RATE_WALK);
    }

    /// Takes a speed change whose direction lies `angle_rad` from the
    /// track's heading about `u` (counter-clockwise positive), with the
    /// variance `r_rad2`.
    fn update(&mut self, u: Vec3, angle_rad: f32, r_rad2: f32) {
        let Some(f) = self.fwd else {
            return;
        };
        let (k0, k1) = self.cov.update(r_rad2);
        self.fwd = normalize(reject(math::rotate_about(f, u, k0 * angle_rad), u));
        self.rate_rps += k1 * angle_rad;
    }
}

/// Gravity's direction tracked with its rate of turn in the phone, from
/// quiet block to quiet block: the tilt's counterpart of [`HeadingTrack`],
/// its angle and rate alike on both axes across `up` (the rate a rotation
/// vector across it). A cup holder's phone tilts by 3-8 deg over 5-15
/// minutes; the 20 s average of quiet blocks (a few a minute in town) lags
/// it. Measured (`evaluate --seeds 10`, cup holder tilt p50 / p95): 1.79 /
/// 3.80 deg with a 10 s average in its place, 1.41 / 3.22 with the track.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct TiltTrack {
    up: Vec3,
    rate_rps: Vec3,
    cov: AngleRate,
}

/// The tilt track's angle random walk, rad^2/s ((0.1 deg)^2 per second).
const TILT_TRACK_ANGLE_WALK: f32 = 3e-6;
/// The tilt track's rate random walk, (rad/s)^2/s (1e-9: hills 1.41 deg
/// instead of 1.38, cup holder 3.58; 1e-7: hills 2.48).
const TILT_TRACK_RATE_WALK: f32 = 1e-8;
/// A quiet block's gravity direction error, rad^2 ((1.8 deg)^2: what is
/// left of a speed change the GPS calls steady; (1 deg)^2 followed the
/// road's grade more, hills 1.80 deg).
const TILT_TRACK_BLOCK_VAR: f32 = 1e-3;

impl TiltTrack {
    /// Starts at `up`, known to 0.6 deg, not turning (0.06 deg/s).
    fn starting_at(up: Vec3) -> Self {
        Self {
            up,
            rate_rps: [0.0; 3],
            cov: AngleRate::new(1e-4, 1e-6),
        }
    }

    /// Moves on by `dt_s`.
    fn predict(&mut self, dt_s: f32) {
        self.up =
            normalize(add(self.up, scale(cross(self.rate_rps, self.up), dt_s))).unwrap_or(self.up);
        self.rate_rps = reject(self.rate_rps, self.up);
        self.cov
            .predict(dt_s, TILT_TRACK_ANGLE_WALK, TILT_TRACK_RATE_WALK);
    }

    /// Takes a quiet block's gravity direction `dir` (unit).
    fn update(&mut self, dir: Vec3) {
        // The rotation from the track to the block, across `up`.
        let e = cross(self.up, dir);
        let (k0, k1) = self.cov.update(TILT_TRACK_BLOCK_VAR);
        self.up = normalize(add(self.up, scale(cross(e, self.up), k0))).unwrap_or(self.up);
        self.rate_rps = reject(add(self.rate_rps, scale(e, k1)), self.up);
    }
}

/// Heading evidence over one memory: the second moments of the horizontal
/// specific force of straight speed changes (their principal axis is the
/// forward axis up to its sign), its covariance with the GPS acceleration
/// (the sign), and the counts.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct HeadingEvidence {
    m: Sym3,
    n: f32,
    c_gps: Vec3,
    sum_a2: f32,
    n_gps: f32,
}

impl HeadingEvidence {
    fn decay(&mut self, k: f32) {
        self.m.scale(k);
        self.n *= k;
        self.c_gps = scale(self.c_gps, k);
        self.sum_a2 *= k;
        self.n_gps *= k;
    }

    /// Forgets the block evidence alone (no GPS to sign it).
    fn decay_blocks(&mut self, k: f32) {
        self.m.scale(k);
        self.n *= k;
    }

    /// A longitudinal block without GPS: its axis only.
    fn add_block(&mut self, h: Vec3) {
        self.m.add_outer(h, 1.0);
        self.n += 1.0;
    }

    fn add_gps(&mut self, h: Vec3, accel_mps2: f32) {
        self.add_block(h);
        self.c_gps = add(self.c_gps, scale(h, accel_mps2));
        self.sum_a2 += accel_mps2 * accel_mps2;
        self.n_gps += 1.0;
    }

    /// The principal axis in the plane across `u`, and its quality (how
    /// elongated the spread is, and how many windows made it).
    fn axis(&self, u: Vec3, windows_full: f32) -> (Vec3, f32) {
        let e1 = any_perpendicular(u);
        let e2 = cross(u, e1);
        let (angle, l1, l2) = math::principal_axis_2x2(
            self.m.form(e1, e1),
            self.m.form(e1, e2),
            self.m.form(e2, e2),
        );
        let axis = add(scale(e1, libm::cosf(angle)), scale(e2, libm::sinf(angle)));
        let ratio = l1 / l2.max(1e-6);
        let q = ((ratio - 2.0) / 6.0).clamp(0.0, 1.0) * (self.n / windows_full).clamp(0.0, 1.0);
        (axis, q)
    }

    /// The axis signed by its correlation with the GPS acceleration, and
    /// that heading's confidence; `None` before two GPS windows.
    fn gps_direction(&self, axis: Vec3, axis_q: f32) -> Option<(Vec3, f32)> {
        if self.n_gps < 2.0 {
            return None;
        }
        let s = dot(axis, self.c_gps);
        let var_h = self.m.form(axis, axis);
        let corr = s.abs() / libm::sqrtf((var_h * self.sum_a2).max(1e-9));
        let q = axis_q * ((corr - 0.3) / 0.4).clamp(0.0, 1.0);
        let dir = if s >= 0.0 { axis } else { scale(axis, -1.0) };
        Some((dir, q))
    }

    /// The GPS-signed heading when it has any confidence.
    fn gps_heading(&self, u: Vec3, windows_full: f32) -> Option<Vec3> {
        let (axis, axis_q) = self.axis(u, windows_full);
        self.gps_direction(axis, axis_q)
            .filter(|(_, q)| *q > 0.0)
            .map(|(d, _)| d)
    }
}

/// The orientation estimator. Fixed size, no allocation.
#[derive(Clone, Copy, Debug)]
pub struct OrientationEstimator {
    cfg: OrientationConfig,
    state: OrientationState,
    // Tilt.
    up: Vec3,
    /// Gravity's direction averaged over the tilt's memory and tracked with
    /// its rate, and how far recent quiet blocks fell from each (squared
    /// angles, rad^2, exponentially weighted); `up` is one of the two.
    up_long: Vec3,
    tilt_track: TiltTrack,
    tilt_misfit: Misfit,
    g_mag: f32,
    /// `[0, 0, g_mag, 0]`: gravity in vehicle axes, as lanes for the
    /// per-sample subtraction.
    gravity_lanes: f32x4,
    quiet_blocks: u32,
    init_candidate: Option<Vec3>,
    /// Calm blocks waiting for the GPS fix that covers them, oldest first:
    /// (mean specific force, block end time). Two, because the samples
    /// before a fix are released together when it arrives, which can close
    /// two blocks before the fix that covers both is taken.
    pending_quiet: [Option<(Vec3, f64)>; 2],
    // Heading evidence (phone axes), forgotten exponentially over the
    // heading memory.
    long: HeadingEvidence,
    /// The heading tracked with its rate of turn (a drifting phone).
    track: HeadingTrack,
    /// How far recent speed changes fell from the long memory's heading
    /// and from the track's prediction: the exponentially weighted sum of
    /// their squared angles, rad^2, and which the solution follows
    /// (`true`: the track).
    misfit: Misfit,
    fast: bool,
    /// Like `c_gps`, but of the whole change of specific force, its
    /// vertical part kept: the vehicle's forward axis in three dimensions,
    /// whose rise above the plane of `up` is the pitch error of `up`.
    c_gps3: Vec3,
    /// Sum of the squared vertical part of those changes: their noise
    /// (a wobbling phone's gravity swings into them).
    sum_v2: f32,
    /// Sum of squared GPS accelerations and the window count, over the
    /// pitch evidence's own memory (`PITCH_TAU_S`).
    sum_a2_p: f32,
    n_p: f32,
    /// Without GPS: the outer products of those changes in whole (vertical
    /// part kept) from the longitudinal blocks, over `PITCH_TAU_S`, and
    /// their count.
    m_pitch: Sym3,
    n_pitch: f32,
    c_gyro: Vec3,
    n_turn: f32,
    // Standstill evidence.
    ring: [Vec3; STOP_RING],
    ring_len: usize,
    moving_blocks: u32,
    was_still: bool,
    go_blocks_left: u8,
    e_go: Vec3,
    e_stop: Vec3,
    n_go: f32,
    n_stop: f32,
    // GPS.
    gps: [GpsMemory; 3],
    gps_len: usize,
    /// Closed buckets waiting for their fixes (never full when pushed: the
    /// oldest is used first).
    queue: EventQueue<Bucket, QUEUE_LEN>,
    /// Released buckets of the block in progress.
    block_acc: BlockStats,
    /// Sums of the released samples since the last fix (its GPS interval),
    /// and the times that interval runs between.
    gps_carry: IntervalStats,
    carry_start_s: Option<f64>,
    released_t_s: f64,
    /// How long a closed bucket waits for the fixes timed before its end:
    /// the fixes' delivery delay.
    wait: FixDelay,
    gps_steady: bool,
    last_speed_mps: f32,
    last_gps_t_s: Option<f64>,
    // Moves.
    moved_streak: u8,
    /// The current streak counted a block with the rotation seen.
    streak_rotated: bool,
    streak_rot: Vec3,
    moved_rot_recent: f32,
    rot_window: f32,
    yaw_mismatch: f32,
    /// How late the GPS course is behind its fixes' times, s (see
    /// [`Self::set_gps_lag_s`]).
    gps_lag_s: f32,
    /// Gyroscope yaw over the last GPS intervals, newest first, rad, and how
    /// many of them follow each other without a break.
    gyro_yaw_recent: [f32; 3],
    gyro_yaw_len: u8,
    /// See [`Self::set_swinging`].
    swinging: bool,
    /// See [`Self::set_min_replace_confidence`].
    min_replace_confidence: f32,
    last_gps_accel_mps2: f32,
    drift_follow: bool,
    moves: u32,
    /// Moves by detector: gyroscope tilt, gravity settling, yaw mismatch,
    /// free fall (reported by the event detector).
    moves_by: [u32; 4],
    /// Times the rotation jumped (a first tilt, a move back to identity).
    frame_jumps: u32,
    // Solution.
    forward: Option<Vec3>,
    heading_conf: f32,
    heading_source: HeadingSource,
    rotation: Mat3,
    /// `rotation` as columns, for the per-sample product (see [`Columns`]).
    columns: Columns,
}

impl OrientationEstimator {
    /// A fresh estimator for a validated configuration.
    pub fn new(cfg: OrientationConfig) -> Self {
        Self {
            cfg,
            state: OrientationState::Unknown,
            up: [0.0, 0.0, 1.0],
            up_long: [0.0, 0.0, 1.0],
            tilt_track: TiltTrack::default(),
            tilt_misfit: Misfit::default(),
            g_mag: crate::STANDARD_GRAVITY_MPS2,
            gravity_lanes: f32x4::new([0.0, 0.0, crate::STANDARD_GRAVITY_MPS2, 0.0]),
            quiet_blocks: 0,
            init_candidate: None,
            pending_quiet: [None; 2],
            long: HeadingEvidence::default(),
            track: HeadingTrack::default(),
            misfit: Misfit::default(),
            fast: false,
            c_gps3: [0.0; 3],
            sum_v2: 0.0,
            sum_a2_p: 0.0,
            n_p: 0.0,
            m_pitch: Sym3::default(),
            n_pitch: 0.0,
            c_gyro: [0.0; 3],
            n_turn: 0.0,
            ring: [[0.0; 3]; STOP_RING],
            ring_len: 0,
            moving_blocks: 0,
            was_still: false,
            go_blocks_left: 0,
            e_go: [0.0; 3],
            e_stop: [0.0; 3],
            n_go: 0.0,
            n_stop: 0.0,
            gps: [GpsMemory::default(); 3],
            gps_len: 0,
            queue: EventQueue::new(),
            block_acc: BlockStats::default(),
            gps_carry: IntervalStats::default(),
            carry_start_s: None,
            released_t_s: f64::NEG_INFINITY,
            wait: FixDelay::default(),
            gps_steady: false,
            last_speed_mps: 0.0,
            last_gps_t_s: None,
            moved_streak: 0,
            streak_rotated: false,
            streak_rot: [0.0; 3],
            moved_rot_recent: 0.0,
            rot_window: 0.0,
            yaw_mismatch: 0.0,
            gps_lag_s: 0.0,
            gyro_yaw_recent: [0.0; 3],
            gyro_yaw_len: 0,
            swinging: false,
            min_replace_confidence: 0.0,
            last_gps_accel_mps2: 0.0,
            drift_follow: false,
            moves: 0,
            moves_by: [0; 4],
            frame_jumps: 0,
            forward: None,
            heading_conf: 0.0,
            heading_source: HeadingSource::None,
            rotation: math::IDENTITY,
            columns: Columns::from_rows(&math::IDENTITY),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &OrientationConfig {
        &self.cfg
    }

    /// Current state.
    pub fn state(&self) -> OrientationState {
        self.state
    }

    /// How many times the phone was seen to move in the vehicle.
    pub fn moves(&self) -> u32 {
        self.moves
    }

    /// Moves by the detector that saw them: `[gyroscope rotation off the
    /// vertical, gravity settling in a new direction, gyroscope yaw not
    /// matched by the GPS bearing, free fall]`.
    pub fn moves_by_detector(&self) -> [u32; 4] {
        self.moves_by
    }

    /// Counts the jumps of the rotation (a first tilt after none, a move):
    /// anything that holds vehicle-frame values (a filter's state) is stale
    /// when it changes.
    pub fn frame_jumps(&self) -> u32 {
        self.frame_jumps
    }

    /// The phone was seen falling: start over, and drop the samples still
    /// waiting for their fixes (the fall is among them, and the old mount).
    pub fn phone_fell(&mut self) {
        if self.state != OrientationState::Moved {
            self.mark_moved(3);
            self.queue.clear();
            self.block_acc = BlockStats::default();
        }
    }

    /// Rotation from phone to vehicle axes (see [`Orientation::rotation`]).
    #[inline]
    pub fn rotation(&self) -> &Mat3 {
        &self.rotation
    }

    /// [`Self::rotation`] as columns, for rotating every sample.
    #[inline]
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// Gravity in vehicle axes, `[0, 0, g, 0]` in SIMD lanes.
    #[inline]
    pub(crate) fn gravity_lanes(&self) -> f32x4 {
        self.gravity_lanes
    }

    /// Measured gravity magnitude in m/s^2 (absorbs the accelerometer's scale error).
    #[inline]
    pub fn gravity_mps2(&self) -> f32 {
        self.g_mag
    }

    fn tilt_confidence(&self) -> f32 {
        if self.tilt_known() {
            (self.quiet_blocks as f32 / self.cfg.tilt_blocks_full as f32).min(1.0)
        } else {
            0.0
        }
    }

    /// Overall confidence (the smaller of tilt and heading), without building
    /// the whole [`Orientation`] (cheap enough to ask per sample).
    #[inline]
    pub fn confidence(&self) -> f32 {
        self.tilt_confidence().min(self.heading_conf)
    }

    /// The current estimate.
    pub fn orientation(&self) -> Orientation {
        let (roll, pitch, yaw) = math::euler_from_rotation(&self.rotation);
        let tilt_conf = self.tilt_confidence();
        Orientation {
            state: self.state,
            rotation: self.rotation,
            roll_rad: roll,
            pitch_rad: pitch,
            yaw_rad: yaw,
            tilt_confidence: tilt_conf,
            heading_confidence: self.heading_conf,
            heading_source: self.heading_source,
        }
    }

    fn tilt_known(&self) -> bool {
        self.quiet_blocks > 0
    }

    /// Forgets all evidence (after a move). The samples waiting for their
    /// fixes stay: they come after the move.
    fn forget(&mut self) {
        let cfg = self.cfg;
        let moves = (self.moves, self.moves_by, self.frame_jumps + 1);
        let gps = (self.gps, self.gps_len, self.last_gps_t_s);
        let queue = (self.queue, self.block_acc);
        let timing = (self.released_t_s, self.wait, self.gps_lag_s);
        let min_replace = self.min_replace_confidence;
        *self = Self::new(cfg);
        (self.moves, self.moves_by, self.frame_jumps) = moves;
        (self.gps, self.gps_len, self.last_gps_t_s) = gps;
        (self.queue, self.block_acc) = queue;
        (self.released_t_s, self.wait, self.gps_lag_s) = timing;
        self.min_replace_confidence = min_replace;
    }

    /// How late the GPS course is behind its fixes' times, s (measured by
    /// the detector against the accelerometer, see [`crate::gps_lag`]): the
    /// gyroscope's yaw is compared with the course over the interval it
    /// describes (a lagging course in a roundabout is otherwise a phone
    /// turned in the vehicle).
    pub fn set_gps_lag_s(&mut self, lag_s: f32) {
        if lag_s.is_finite() {
            self.gps_lag_s = lag_s.max(0.0);
        }
    }

    /// The least confidence its user acts on (the detector's
    /// [`crate::DetectionConfig::min_orientation_confidence`]): a locked
    /// solution is replaced only by one at least that confident. Replaced
    /// by any of half the lock confidence (0.25), a locked heading gave way
    /// to solutions the detector then refused, and harsh events went as
    /// `orientation_unknown` (neither GPS nor gyroscope: braking F1 0.741;
    /// 0.938 with the detector's 0.3).
    pub fn set_min_replace_confidence(&mut self, confidence: f32) {
        if confidence.is_finite() {
            self.min_replace_confidence = confidence.clamp(0.0, 1.0);
        }
    }

    /// Whether the phone swings in a hand or a pocket (the pipeline's swing
    /// tracker is applied): the heading evidence is then kept longer
    /// ([`OrientationConfig::heading_tau_swing_s`]).
    pub fn set_swinging(&mut self, swinging: bool) {
        self.swinging = swinging;
    }

    fn heading_tau_s(&self) -> f32 {
        if self.swinging {
            self.cfg.heading_tau_swing_s
        } else {
            self.cfg.heading_tau_s
        }
    }

    fn mark_moved(&mut self, detector: usize) {
        self.moves_by[detector] += 1;
        self.forget();
        self.moves += 1;
        self.state = OrientationState::Moved;
    }

    fn gps_recent(&self, t_s: f64) -> bool {
        self.last_gps_t_s.is_some_and(|g| t_s - g < NO_GPS_AFTER_S)
    }

    /// A gap in the IMU stream: the waiting samples are used as they are,
    /// the block in progress and the GPS interval are discarded.
    pub fn reset_intervals(&mut self) {
        self.flush();
        self.block_acc = BlockStats::default();
        self.gps_carry = IntervalStats::default();
        self.carry_start_s = None;
        self.gps_len = 0;
        self.ring_len = 0;
        self.moving_blocks = 0;
        self.go_blocks_left = 0;
    }

    /// Takes one closed bucket of samples, from `t_start_s` to `t_end_s`
    /// (its first and last sample times); `ends_block`: it closes a
    /// statistics block of [`OrientationConfig::block_s`].
    ///
    /// Phones deliver GPS fixes late (up to a batch of samples late), and
    /// what a block means depends on the GPS around it (steady speed, a
    /// speed change, a bearing change). So buckets wait in a queue until
    /// every fix timed before their end has arrived (the fixes' observed
    /// delivery delay; at once when fixes come on time or not at all), or
    /// until a fix timed after them arrives: blocks and fixes are then taken
    /// in the order of their times, whatever order they arrived in, and the
    /// samples of a GPS interval are those timed between its two fixes. (A
    /// calm block also needs the fix after it, for the GPS speed's
    /// steadiness: it waits for that one on its own.)
    pub fn push_bucket(
        &mut self,
        stats: &BlockStats,
        t_start_s: f64,
        t_end_s: f64,
        ends_block: bool,
    ) {
        if self.queue.is_full() {
            self.release_one();
        }
        self.queue.push(Bucket {
            stats: *stats,
            t_start_s,
            t_end_s,
            ends_block,
            gps_share: 0.0,
        });
        self.release_until(t_end_s - f64::from(self.wait.s()));
    }

    /// Uses every waiting bucket now (the end of a trip, a gap in the stream).
    pub fn flush(&mut self) {
        while self.release_one() {}
    }

    /// Uses the waiting buckets that end by `t_s`.
    fn release_until(&mut self, t_s: f64) {
        while self.queue.front().is_some_and(|b| b.t_end_s <= t_s) {
            self.release_one();
        }
    }

    /// Takes the oldest waiting bucket (if any) into the current GPS
    /// interval and block.
    fn release_one(&mut self) -> bool {
        let Some(b) = self.queue.pop() else {
            return false;
        };
        self.carry(&b.stats.sums.scaled(1.0 - b.gps_share), b.t_start_s);
        self.released_t_s = b.t_end_s;
        self.block_acc = self.block_acc.merged(&b.stats);
        if b.ends_block {
            let block = core::mem::take(&mut self.block_acc);
            self.end_block(&block, b.t_end_s);
        }
        true
    }

    /// Adds samples from `t_start_s` on to the current GPS interval.
    fn carry(&mut self, part: &IntervalStats, t_start_s: f64) {
        self.gps_carry = self.gps_carry.plus(part);
        self.carry_start_s.get_or_insert(t_start_s);
    }

    /// Brings the GPS interval up to the fix time `t_s`: releases the
    /// buckets that end by then and takes the share of the one `t_s` falls
    /// in that lies before it.
    fn release_through(&mut self, t_s: f64) {
        self.release_until(t_s);
        let Some(b) = self.queue.front_mut() else {
            return;
        };
        let len = b.t_end_s - b.t_start_s;
        if !(t_s > b.t_start_s && len > 0.0) {
            return;
        }
        let share = ((t_s - b.t_start_s) / len) as f32;
        if share <= b.gps_share {
            return;
        }
        let part = b.stats.sums.scaled(share - b.gps_share);
        b.gps_share = share;
        let t_start_s = b.t_start_s;
        self.carry(&part, t_start_s);
        self.released_t_s = self.released_t_s.max(t_s);
    }

    /// Consumes one closed statistics block ending at `t_s`.
    fn end_block(&mut self, b: &BlockStats, t_s: f64) {
        let (n, rot) = (b.sums.n(), b.sums.rot());
        if n < 3.0 {
            return;
        }
        let mean_f = b.mean_f();
        let std = b.max_std();
        let mean_w = b.mean_w();
        let gps_recent = self.gps_recent(t_s);
        let deg = core::f32::consts::PI / 180.0;

        // Vertical rotation rate, in the current up direction.
        let yaw_rate = mean_w.map(|w| dot(w, self.up));
        // Turning is rotation about the vertical (the block's own gravity
        // direction before a tilt is known); a hand's or pocket's wobble
        // rotates about other axes too and only needs a looser bound.
        let vertical = if self.tilt_known() {
            self.up
        } else {
            normalize(mean_f).unwrap_or(self.up)
        };
        // At walking pace the phone may be in its owner's pocket, on foot:
        // a step's bounce can pass for a car's vibration (its spread split
        // over the phone's axes), and the walk would become the tilt (a
        // courier's phone, put back in its place, was then 10 deg off).
        let walking_pace = gps_recent
            && (WALK_MIN_SPEED_MPS..MIN_VEHICLE_SPEED_MPS).contains(&self.last_speed_mps);
        let max_std = if walking_pace {
            self.cfg.quiet_max_std_mps2.min(WALK_QUIET_MAX_STD_MPS2)
        } else {
            self.cfg.quiet_max_std_mps2
        };
        let calm_imu = std < max_std
            && mean_w.is_none_or(|w| {
                dot(w, vertical).abs() < self.cfg.quiet_max_gyro_rps
                    && norm(w) < self.cfg.quiet_max_rotation_rps
            });

        if self.tilt_known() {
            // Phone moves: a large rotation not about the vertical.
            // Rotation off the vertical summed over the last few seconds (a
            // hand turns a phone over several blocks).
            let has_gyro = b.sums.has_gyro();
            let rot_off = reject(rot, self.up);
            let off_vertical = norm(rot_off);
            self.rot_window = 0.7 * self.rot_window + off_vertical;
            if has_gyro && self.rot_window > self.cfg.moved_gyro_deg * deg {
                self.mark_moved(0);
                return;
            }
            // Phone moves (any sensor set): gravity settles somewhere new with
            // the magnitude of gravity (a vehicle acceleration would add to it).
            let dev = angle_between(mean_f, self.up);
            // A vehicle's horizontal acceleration that tilted the specific
            // force by `dev` would have lengthened it to 1 / cos(dev) of
            // gravity; a phone turned in place leaves it at gravity's, give
            // or take a hand's or pocket's jostling (4 % over a block). So
            // while the GPS says the vehicle is moving, a move may differ
            // from gravity's magnitude by half the lengthening such an
            // acceleration would bring (at least 3 %); otherwise by 3 %.
            let driving = gps_recent && self.last_speed_mps >= MIN_VEHICLE_SPEED_MPS;
            let mag_tol = if driving {
                (0.5 * (1.0 / libm::cosf(dev.min(1.4)) - 1.0)).max(0.03)
            } else {
                0.03
            };
            let mag_err = (norm(mean_f) / self.g_mag - 1.0).abs();
            let mag_ok = mag_err < 0.03;
            // A vehicle acceleration tilts the specific force by
            // atan(a / g); the GPS says how large the acceleration is.
            let gps_tilt = libm::atanf((self.last_gps_accel_mps2 + 0.5) / self.g_mag);
            let explained_by_gps = gps_recent && dev < gps_tilt + 5.0 * deg;
            // With a gyroscope, a phone that really moved also rotated: a
            // gravity change it did not see is a drift or an acceleration.
            self.streak_rot = if self.moved_streak == 0 {
                rot_off
            } else {
                add(self.streak_rot, rot_off)
            };
            // Once seen, the rotation holds for the rest of the streak (the
            // decaying memory of it may run out before the streak is long
            // enough).
            let rotation_seen = !has_gyro
                || norm(self.streak_rot) > 0.5 * self.cfg.moved_angle_deg * deg
                || self.moved_rot_recent > 0.5 * self.cfg.moved_angle_deg * deg
                || (self.moved_streak > 0 && self.streak_rotated);
            // Rotation seen over the last ~5 s (a re-mount's handling comes
            // before gravity settles in its new direction).
            self.moved_rot_recent = 0.8 * self.moved_rot_recent + off_vertical;
            // Between the tilt's outlier bound (10 deg) and the move angle a
            // new gravity direction would be neither followed nor taken as a
            // move: with GPS to rule out an acceleration, a gyroscope that
            // saw the phone turn makes it a move there too.
            let move_angle =
                if gps_recent && has_gyro && self.last_speed_mps >= MIN_VEHICLE_SPEED_MPS {
                    TILT_OUTLIER_DEG * deg
                } else {
                    self.cfg.moved_angle_deg * deg
                };
            // With neither GPS nor gyroscope a steady braking tilts the
            // specific force like a move: only a standstill (engine idle)
            // confirms one.
            let settled = has_gyro || gps_recent || std < self.cfg.still_max_std_mps2;
            if std < self.cfg.quiet_max_std_mps2
                && settled
                && mag_err < mag_tol
                && !explained_by_gps
                && rotation_seen
                && dev > move_angle.min(self.cfg.moved_angle_deg * deg)
            {
                self.moved_streak += 1;
                self.streak_rotated = true;
                if self.moved_streak >= self.cfg.moved_blocks {
                    self.mark_moved(1);
                    // The block that confirmed the move is a valid first tilt
                    // if its magnitude is gravity's (not only within the
                    // looser bound a large turn is allowed).
                    if mag_ok {
                        self.update_tilt(mean_f, 1.0);
                        self.state = OrientationState::Estimating;
                    }
                    return;
                }
            } else if std < self.cfg.quiet_max_std_mps2
                && mag_ok
                && !explained_by_gps
                && dev > self.cfg.moved_angle_deg * deg
            {
                // Gravity settled elsewhere but the phone did not rotate: a slow
                // drift (cup holder) the tilt lagged behind. Follow it.
                self.moved_streak = self.moved_streak.saturating_add(1);
                if self.moved_streak >= self.cfg.moved_blocks {
                    self.drift_follow = true;
                }
            } else {
                self.moved_streak = 0;
                self.streak_rotated = false;
            }
        }

        if calm_imu {
            if gps_recent {
                // Decided when the GPS fix covering this block arrives (a
                // fix timed at or after its end; fixes arrive late).
                let block = Some((mean_f, t_s));
                self.pending_quiet = match self.pending_quiet {
                    [None, _] => [block, None],
                    [first, None] => [first, block],
                    [_, second] => [second, block],
                };
            } else {
                // Without GPS nothing tells a steady acceleration from
                // gravity but a standstill's engine idle (under the
                // standstill spread): blocks while moving count a tenth.
                let weight = if std < self.cfg.still_max_std_mps2 {
                    1.0
                } else {
                    MOVING_TILT_WEIGHT_NO_GPS
                };
                self.consider_quiet(mean_f, weight);
            }
        } else {
            self.pending_quiet = [None; 2];
            if !self.tilt_known() {
                self.init_candidate = None;
            }
        }
        if !self.tilt_known() {
            return;
        }

        let decay = 1.0 - self.cfg.block_s / self.heading_tau_s();
        self.c_gyro = scale(self.c_gyro, decay);
        self.n_turn *= decay;
        self.e_go = scale(self.e_go, decay);
        self.e_stop = scale(self.e_stop, decay);
        self.n_go *= decay;
        self.n_stop *= decay;
        if self.cfg.tilt_drift_track {
            self.tilt_track.predict(self.cfg.block_s);
        }
        if gps_recent {
            // Through a GPS outage the track holds its heading: no speed
            // change would check its rate.
            self.track.predict(self.up, self.cfg.block_s);
        } else {
            self.long.decay_blocks(decay);
        }

        let d = sub(mean_f, scale(self.up, self.g_mag));
        let h = reject(d, self.up);
        let h_mag = norm(h);

        // Gyroscope: centripetal acceleration points to the inside of the turn.
        // Not while GPS says the phone moves at walking pace (a person turning).
        let slow = gps_recent && self.last_speed_mps < MIN_VEHICLE_SPEED_MPS;
        if let (Some(r), false) = (yaw_rate, slow) {
            if r.abs() > 0.08 && h_mag > 0.3 {
                self.c_gyro = add(self.c_gyro, scale(h, r));
                self.n_turn += 1.0;
            }
        }
        // Longitudinal windows from blocks when there is no GPS to select them.
        if !gps_recent {
            let decay_p = 1.0 - self.cfg.block_s / PITCH_TAU_S;
            self.m_pitch.scale(decay_p);
            self.n_pitch *= decay_p;
        }
        if !gps_recent && h_mag > 0.6 && yaw_rate.is_none_or(|r| r.abs() < 0.04) {
            self.long.add_block(h);
            self.m_pitch.add_outer(d, 1.0);
            self.n_pitch += 1.0;
        }
        self.standstill_evidence(std, h, h_mag, mean_w);
        self.solve();
    }

    fn standstill_evidence(&mut self, std: f32, h: Vec3, h_mag: f32, mean_w: Option<Vec3>) {
        let still = std < self.cfg.still_max_std_mps2
            && h_mag < 0.3
            && mean_w.is_none_or(|w| norm(w) < 0.02);
        if still {
            if !self.was_still && self.moving_blocks >= 4 && self.ring_len == STOP_RING {
                let mut s = [0.0; 3];
                for v in &self.ring {
                    s = add(s, *v);
                }
                self.e_stop = add(self.e_stop, s);
                self.n_stop += 1.0;
            }
            self.moving_blocks = 0;
            self.ring_len = 0;
            self.go_blocks_left = 0;
        } else {
            if self.was_still {
                self.go_blocks_left = STOP_RING as u8;
            }
            if self.go_blocks_left > 0 {
                self.e_go = add(self.e_go, h);
                self.go_blocks_left -= 1;
                if self.go_blocks_left == 0 {
                    self.n_go += 1.0;
                }
            }
            self.moving_blocks += 1;
            self.ring.rotate_left(1);
            self.ring[STOP_RING - 1] = h;
            self.ring_len = (self.ring_len + 1).min(STOP_RING);
        }
        self.was_still = still;
    }

    /// A quiet block's mean specific force: gravity's reaction.
    /// `weight` scales the block's share of the tilt average (1: a block
    /// known quiet).
    fn consider_quiet(&mut self, mean_f: Vec3, weight: f32) {
        let deg = core::f32::consts::PI / 180.0;
        let dev = angle_between(mean_f, self.up);
        let full = self.quiet_blocks >= u32::from(self.cfg.tilt_blocks_full);
        if !self.tilt_known() {
            // Start only from two consecutive calm blocks that agree, so a
            // steady acceleration at the start is not taken for gravity.
            match self.init_candidate {
                Some(prev) if angle_between(prev, mean_f) < INIT_AGREEMENT_DEG * deg => {
                    self.update_tilt(prev, 1.0);
                    self.update_tilt(mean_f, 1.0);
                    self.init_candidate = None;
                    if matches!(
                        self.state,
                        OrientationState::Unknown | OrientationState::Moved
                    ) {
                        self.state = OrientationState::Estimating;
                    }
                }
                _ => self.init_candidate = Some(mean_f),
            }
        } else if !full || dev < TILT_OUTLIER_DEG * deg || core::mem::take(&mut self.drift_follow) {
            self.update_tilt(mean_f, weight);
        }
    }

    fn update_tilt(&mut self, mean_f: Vec3, weight: f32) {
        let Some(dir) = normalize(mean_f) else {
            return;
        };
        let mag = norm(mean_f);
        if self.quiet_blocks == 0 {
            self.up = dir;
            self.up_long = dir;
            self.tilt_track = TiltTrack::starting_at(dir);
            self.g_mag = mag;
            self.frame_jumps += 1;
        } else {
            // The average and the track, as for the heading: the one that
            // fits the recent quiet blocks better is followed (the track
            // only when it does clearly, and not while the phone swings).
            let first = 1.0 / (self.quiet_blocks as f32 + 1.0);
            let alpha = (self.cfg.block_s / self.cfg.tilt_tau_s).max(first) * weight;
            if self.cfg.tilt_drift_track {
                for (i, u) in [self.up_long, self.tilt_track.up].into_iter().enumerate() {
                    self.tilt_misfit.add(i, angle_between(dir, u));
                }
                self.tilt_track.update(dir);
            }
            self.up_long =
                normalize(add(scale(self.up_long, 1.0 - alpha), scale(dir, alpha))).unwrap_or(dir);
            // Without GPS a drift cannot be told from a move or a
            // steady acceleration: the average only.
            let fast = self.cfg.tilt_drift_track
                && !self.swinging
                && self.last_gps_t_s.is_some()
                && self.quiet_blocks as f32 >= MISFIT_WINDOWS
                && self.tilt_misfit.track_fits(TILT_TRACK_RATIO);
            self.up = if fast {
                self.tilt_track.up
            } else {
                self.up_long
            };
            self.g_mag += alpha * (mag - self.g_mag);
        }
        self.gravity_lanes = f32x4::new([0.0, 0.0, self.g_mag, 0.0]);
        self.quiet_blocks = self.quiet_blocks.saturating_add(1);
    }

    /// Consumes one accepted GPS fix. `imu_t_s`: the time of the last IMU
    /// sample pushed when the fix arrived (how late it came; `None` before
    /// any sample). The buckets timed before the fix are taken first (see
    /// [`OrientationEstimator::push_bucket`]), so the fix's interval holds
    /// the samples timed since the previous fix.
    pub fn on_gps(
        &mut self,
        t_s: f64,
        speed_mps: Option<f32>,
        bearing_deg: Option<f32>,
        imu_t_s: Option<f64>,
    ) {
        if let Some(now) = imu_t_s {
            // A fix on time (timed after the last sample) needs no wait.
            self.wait.observe(now - t_s, 0.05, MAX_WAIT_S);
        }
        self.release_through(t_s);
        // The interval's samples run between the previous fix and this one
        // only if neither came after its samples had been used.
        let aligned = |a: f64, b: f64| (a - b).abs() < 0.3;
        let prev_t_s = self.gps_len.checked_sub(1).map(|i| self.gps[i].t_s);
        let in_step = match (self.carry_start_s, prev_t_s) {
            (Some(start), Some(prev)) => aligned(start, prev) && aligned(self.released_t_s, t_s),
            _ => false,
        };
        let interval = core::mem::take(&mut self.gps_carry);
        self.carry_start_s = Some(self.released_t_s);
        self.last_gps_t_s = Some(t_s);
        let Some(v) = speed_mps else {
            self.gps_len = 0;
            return;
        };
        self.last_speed_mps = v;
        let mem = GpsMemory {
            t_s,
            speed_mps: v,
            bearing_deg,
        };
        let prev = (self.gps_len > 0).then(|| self.gps[self.gps_len - 1]);
        if self.gps_len == 3 {
            self.gps.rotate_left(1);
            self.gps[2] = mem;
        } else {
            self.gps[self.gps_len] = mem;
            self.gps_len += 1;
        }
        let Some(prev) = prev else {
            return;
        };
        let dt = (t_s - prev.t_s) as f32;
        if !(0.3..=3.0).contains(&dt) {
            self.gps_len = 1;
            self.gps[0] = mem;
            return;
        }
        let accel = (v - prev.speed_mps) / dt;
        let v_mean = 0.5 * (v + prev.speed_mps);
        let lateral = match (bearing_deg, prev.bearing_deg) {
            (Some(b1), Some(b0)) if v_mean > 3.0 => {
                let mut d = b1 - b0;
                if d > 180.0 {
                    d -= 360.0;
                } else if d < -180.0 {
                    d += 360.0;
                }
                Some(v_mean * d.to_radians() / dt)
            }
            _ => None,
        };
        // Steadiness over two intervals, which halves the speed noise.
        let accel2 = if self.gps_len == 3 {
            let first = self.gps[0];
            (v - first.speed_mps) / ((t_s - first.t_s) as f32).max(0.5)
        } else {
            accel
        };
        self.last_gps_accel_mps2 = accel2.abs().max(accel.abs()) + lateral.map_or(0.0, f32::abs);
        self.gps_steady = accel2.abs() < self.cfg.quiet_max_gps_accel_mps2
            && lateral.is_none_or(|l| l.abs() < self.cfg.quiet_max_gps_lateral_mps2);
        // The fix covers the waiting blocks that ended before it (an older
        // fix, delivered late, says nothing of them), oldest first.
        let mut considered = false;
        for _ in 0..2 {
            match self.pending_quiet[0] {
                Some((pending, end_s)) if t_s >= end_s - 0.05 => {
                    self.pending_quiet = [self.pending_quiet[1], None];
                    if self.gps_steady {
                        self.consider_quiet(pending, 1.0);
                        considered = true;
                    }
                }
                _ => break,
            }
        }
        // The rotation follows the new tilt now, not at the next block (a
        // first tilt with the rotation still identity would hand the
        // detector gravity as acceleration).
        if considered && self.tilt_known() {
            self.solve();
        }

        if !self.tilt_known() || interval.n() < 3.0 || !in_step {
            self.gyro_yaw_len = 0;
            return;
        }
        let deg = core::f32::consts::PI / 180.0;
        // The gyroscope's yaw over the interval the GPS course describes: as
        // late as the course (at most two intervals back).
        let gyro_yaw = if interval.has_gyro() {
            let r = &mut self.gyro_yaw_recent;
            *r = [dot(interval.rot(), self.up), r[0], r[1]];
            self.gyro_yaw_len = (self.gyro_yaw_len + 1).min(3);
            let back = (self.gps_lag_s / dt).clamp(0.0, 2.0);
            let n = back as usize;
            let f = back - n as f32;
            let older = r[(n + 1).min(2)];
            (usize::from(self.gyro_yaw_len) > n + usize::from(f > 0.0))
                .then(|| (1.0 - f) * r[n] + f * older)
        } else {
            self.gyro_yaw_len = 0;
            None
        };
        // Gyroscope yaw against GPS bearing: a mismatch is the phone turning in
        // the vehicle. Bearing is clockwise, yaw counter-clockwise.
        if let (Some(lat), Some(gyro_yaw)) = (lateral, gyro_yaw) {
            let bearing_yaw = -lat / v_mean.max(0.1) * dt;
            // Summed over a few intervals: a hand turns a phone over seconds.
            self.yaw_mismatch = 0.7 * self.yaw_mismatch + (gyro_yaw - bearing_yaw);
            if self.yaw_mismatch.abs() > self.cfg.moved_yaw_mismatch_deg * deg {
                self.mark_moved(2);
                return;
            }
        } else {
            self.yaw_mismatch = 0.0;
        }
        let mean_w = interval.mean_w();
        let yaw_rate_ok = mean_w.is_none_or(|w| dot(w, self.up).abs() < 0.05);
        // Straight: the GPS course says so and, on a steady mount, so does the
        // gyroscope (yaw rate x speed, the same lateral bound). A phone's GPS
        // course is smoothed and lags a turn by a second or more (the real
        // cloudpose drive: accelerating out of a junction while still
        // turning counted as straight, which turned the heading 14 deg); the
        // gyroscope sees the turn at once. Where the phone wobbles (a hand, a
        // pocket) its vertical rate is mostly the wobble, and the GPS decides.
        let gyro_straight = |w: Vec3| {
            dot(w, self.up).abs() * v_mean < self.cfg.heading_max_lateral_mps2
                || norm(reject(w, self.up)) > WOBBLE_RPS
        };
        let straight = match lateral {
            Some(l) => {
                l.abs() < self.cfg.heading_max_lateral_mps2 && mean_w.is_none_or(gyro_straight)
            }
            None => yaw_rate_ok && interval.n_gyro() > 0.0,
        };
        self.long.decay(1.0 - dt / self.heading_tau_s());
        // A phone whose tilt track fits clearly better than the average
        // turns in the vehicle: its evidence, in phone axes, goes stale
        // faster, and it is not held while the vehicle stands.
        let drifting = self.tilt_misfit.track_fits(TILT_TRACK_RATIO);
        let decay_p = if drifting {
            1.0 - dt / PITCH_TAU_DRIFT_S
        } else if v < STANDSTILL_MPS {
            1.0
        } else {
            1.0 - dt / PITCH_TAU_S
        };
        self.c_gps3 = scale(self.c_gps3, decay_p);
        self.sum_v2 *= decay_p;
        self.sum_a2_p *= decay_p;
        self.n_p *= decay_p;
        // Below walking-plus-margin speeds the phone may be on foot with its
        // owner: speed changes then are steps, not the vehicle.
        if accel.abs() >= self.cfg.heading_min_accel_mps2
            && accel.abs() <= MAX_TYRE_ACCEL_MPS2
            && straight
            && v_mean >= MIN_VEHICLE_SPEED_MPS
        {
            let d = sub(interval.mean_f(), scale(self.up, self.g_mag));
            let h = reject(d, self.up);
            // The long memory's heading and the track's prediction against
            // this speed change, before it counts: the one that fits recent
            // changes better is followed (the track only when clearly
            // better: a phone drifting in a cup holder; a mounted phone's
            // heading keeps the long memory).
            let dir = if accel >= 0.0 { h } else { scale(h, -1.0) };
            let angle_to = |f: Vec3| libm::atan2f(dot(cross(f, dir), self.up), dot(f, dir));
            if self.cfg.heading_drift_track {
                let long_heading = self
                    .long
                    .gps_heading(self.up, self.cfg.heading_windows_full);
                if let Some(f) = long_heading {
                    self.misfit.add(0, angle_to(f).clamp(-1.0, 1.0));
                    if self.track.fwd.is_none() {
                        self.track = HeadingTrack::starting_at(f);
                    }
                }
                if let Some(f) = self.track.fwd {
                    let a = angle_to(f).clamp(-1.0, 1.0);
                    self.misfit.add(1, a);
                    let sigma = (TRACK_SIGMA_RAD_MPS2 / accel.abs()).clamp(0.03, 0.5);
                    self.track.update(self.up, a, sigma * sigma);
                }
            }
            self.fast = self.cfg.heading_drift_track
                && !self.swinging
                && self.misfit.track_fits(TRACK_MISFIT_RATIO);
            self.long.add_gps(h, accel);
            self.c_gps3 = add(self.c_gps3, scale(d, accel));
            let v = dot(d, self.up);
            self.sum_v2 += v * v;
            self.sum_a2_p += accel * accel;
            self.n_p += 1.0;
        }
    }

    /// Recomputes the rotation from the current evidence.
    fn solve(&mut self) {
        let u = self.up;
        let e1 = any_perpendicular(u);
        let ev = self.long;
        let (axis, axis_q) = ev.axis(u, self.cfg.heading_windows_full);

        let mut best: Option<(Vec3, f32, HeadingSource)> = None;
        // 1. GPS: correlation of the axis projection with the GPS
        // acceleration (the track's heading, with the memory's confidence,
        // while the track fits better).
        if let Some((dir, q)) = ev.gps_direction(axis, axis_q) {
            let dir = match self.track.fwd {
                Some(f) if self.fast => f,
                _ => dir,
            };
            best = Some((dir, q, HeadingSource::Gps));
        }
        // 2. Gyroscope: left axis from turns; forward = left x up.
        let y_g = reject(self.c_gyro, u);
        if let Some(y_dir) = normalize(y_g) {
            let x_g = cross(y_dir, u);
            let turns_q = (self.n_turn / 8.0).clamp(0.0, 1.0);
            let agree = dot(axis, x_g);
            let (dir, q) = if axis_q > 0.3 && agree.abs() > 0.87 {
                // PCA axis, sign from the gyroscope.
                let d = if agree >= 0.0 {
                    axis
                } else {
                    scale(axis, -1.0)
                };
                (d, axis_q.max(turns_q) * turns_q)
            } else if ev.n_gps >= 2.0 {
                // With GPS evidence the axis comes from it; the left axis
                // fitted from turns alone is biased by braking in turns.
                (x_g, 0.0)
            } else {
                (x_g, 0.8 * turns_q)
            };
            if best.is_none_or(|b| q > b.1 + SOURCE_MARGIN) {
                best = Some((dir, q, HeadingSource::Gyro));
            }
        }
        // 3. Standstills: decelerate into them, accelerate out of them.
        let s_vec = sub(self.e_go, self.e_stop);
        if let Some(s_dir) = normalize(reject(s_vec, u)) {
            let agree = dot(axis, s_dir);
            let events_q = ((self.n_go + self.n_stop) / 6.0).clamp(0.0, 1.0);
            let (dir, q) = if axis_q > 0.2 {
                let d = if agree >= 0.0 {
                    axis
                } else {
                    scale(axis, -1.0)
                };
                (d, axis_q * events_q * agree.abs())
            } else {
                (s_dir, 0.5 * events_q)
            };
            if best.is_none_or(|b| q > b.1 + SOURCE_MARGIN) {
                best = Some((dir, q, HeadingSource::Standstill));
            }
        }

        let locked = self.state == OrientationState::Locked;
        if let Some((dir, q, source)) = best {
            // A locked solution is only replaced by a reasonably confident one.
            let replace_q =
                (LOCKED_REPLACE_SHARE * self.cfg.lock_confidence).max(self.min_replace_confidence);
            if !locked || q >= replace_q {
                self.forward = normalize(reject(dir, u));
                self.heading_conf = q;
                self.heading_source = source;
            }
        }
        if !locked && self.forward.is_some() && self.heading_conf >= self.cfg.lock_confidence {
            let tilt_q = self.quiet_blocks as f32 / self.cfg.tilt_blocks_full as f32;
            if tilt_q >= 0.8 {
                self.state = OrientationState::Locked;
            }
        }
        let x = self
            .forward
            .and_then(|f| normalize(reject(f, u)))
            .unwrap_or(e1);
        let pitch = self
            .pitch_from_gps(x, u)
            .or_else(|| self.pitch_from_blocks(x, u));
        let (x, u_v, gravity) = match pitch {
            Some((x, u_v)) => {
                let g = scale(self.up, self.g_mag);
                (x, u_v, f32x4::new([dot(x, g), 0.0, dot(u_v, g), 0.0]))
            }
            None => (x, u, f32x4::new([0.0, 0.0, self.g_mag, 0.0])),
        };
        let y = cross(u_v, x);
        self.rotation = [x, y, u_v];
        self.columns = Columns::from_rows(&self.rotation);
        self.gravity_lanes = gravity;
    }

    /// The vehicle's up axis corrected in pitch by the GPS evidence, with the
    /// forward axis turned with it: `(forward, up)`, or `None` while the
    /// evidence is too thin.
    ///
    /// The averaged gravity `up` is the vehicle's up only on level ground
    /// with an unbiased accelerometer: on a grade it leans towards the slope
    /// of the last tens of seconds, and an accelerometer bias of 0.08 m/s^2
    /// tilts it by half a degree. Both are rotations about the vehicle's
    /// lateral axis (or look like one), and both leave the *change* of
    /// specific force in a straight speed change along the true forward axis:
    /// `f - g up = (a + g (grade - error)) x_true` to first order. So the
    /// regression of that change on the GPS acceleration (`c_gps3`) points
    /// along the true forward axis in three dimensions, and its rise above
    /// the plane of `up` is the pitch error. Roll keeps coming from gravity
    /// alone (a banked bend would bias a lateral regression the same way).
    /// The output stays gravity-compensated: the pipeline subtracts
    /// `g up` in the rotated axes, so at rest the output is still zero.
    fn pitch_from_gps(&self, x: Vec3, u: Vec3) -> Option<(Vec3, Vec3)> {
        if self.heading_source != HeadingSource::Gps || self.n_p <= 0.0 {
            return None;
        }
        let along = dot(self.c_gps3, x);
        let rise = dot(self.c_gps3, u);
        if along <= 0.0 {
            return None;
        }
        let tan_e = rise / along;
        if tan_e.abs() > PITCH_MAX_TAN {
            return None;
        }
        // Shrunk towards gravity's pitch by the regression's own noise: the
        // vertical spread of the windows over the sum of squared GPS
        // accelerations (its standard error), against the spread expected
        // of gravity's error (PITCH_PRIOR_TAN).
        let var_v = self.sum_v2 / self.n_p;
        let se2 = var_v * self.sum_a2_p / (along * along);
        let prior2 = PITCH_PRIOR_TAN * PITCH_PRIOR_TAN;
        let evidence = (self.n_p / PITCH_MIN_WINDOWS).min(1.0);
        Some(turn_pitch(x, u, evidence * tan_e * prior2 / (prior2 + se2)))
    }

    /// [`Self::pitch_from_gps`] without GPS: the slope of the vertical part
    /// of the longitudinal blocks' specific force change against its
    /// forward part (no GPS acceleration to regress on; the forward part is
    /// measured well enough that its noise barely flattens the slope).
    fn pitch_from_blocks(&self, x: Vec3, u: Vec3) -> Option<(Vec3, Vec3)> {
        if self.state != OrientationState::Locked || self.n_pitch < PITCH_MIN_WINDOWS {
            return None;
        }
        let s_xx = self.m_pitch.form(x, x);
        let s_xu = self.m_pitch.form(x, u);
        let s_uu = self.m_pitch.form(u, u);
        if s_xx <= 0.0 {
            return None;
        }
        let tan_e = s_xu / s_xx;
        if tan_e.abs() > PITCH_MAX_TAN {
            return None;
        }
        let var_v = ((s_uu - tan_e * s_xu) / self.n_pitch).max(0.0);
        let se2 = var_v / s_xx;
        let prior2 = PITCH_PRIOR_TAN * PITCH_PRIOR_TAN;
        Some(turn_pitch(x, u, tan_e * prior2 / (prior2 + se2)))
    }
}

/// Forward and up axes turned about the lateral axis by the pitch whose
/// tangent is `tan_e` (the forward axis rises by it).
fn turn_pitch(x: Vec3, u: Vec3, tan_e: f32) -> (Vec3, Vec3) {
    let cos_e = 1.0 / libm::sqrtf(1.0 + tan_e * tan_e);
    let sin_e = tan_e * cos_e;
    (
        add(scale(x, cos_e), scale(u, sin_e)),
        sub(scale(u, cos_e), scale(x, sin_e)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::{mat_vec, rotation_from_euler, transpose};

    /// Drives the estimator with a synthetic trip: the phone mounted with
    /// `mount` (vehicle_from_phone), the vehicle alternating braking and
    /// accelerating with GPS, and returns it.
    fn drive(mount: Mat3, with_gps: bool, with_gyro: bool, seconds: usize) -> OrientationEstimator {
        drive_batched(mount, with_gps, with_gyro, seconds, 1)
    }

    /// [`drive`], the samples handed over in batches of `batch_s` seconds
    /// and each batch's GPS fixes after it (late, as a phone delivers them).
    fn drive_batched(
        mount: Mat3,
        with_gps: bool,
        with_gyro: bool,
        seconds: usize,
        batch_s: usize,
    ) -> OrientationEstimator {
        drive_with(mount, with_gps, with_gyro, seconds, batch_s, [0.0; 3])
    }

    /// [`drive_batched`] with a constant accelerometer bias, given in
    /// vehicle axes (m/s^2).
    fn drive_with(
        mount: Mat3,
        with_gps: bool,
        with_gyro: bool,
        seconds: usize,
        batch_s: usize,
        bias_vehicle: Vec3,
    ) -> OrientationEstimator {
        let mut est = OrientationEstimator::new(OrientationConfig::default());
        let mut fixes: Vec<(f64, f32)> = Vec::new();
        let mut v = 0.0f32;
        for s in 0..seconds {
            // 5 s parked, then a 12 s cycle: 3 s accelerate at +2, 4 s
            // cruise, 3 s brake at -2, 2 s stopped.
            let phase = (s + 7) % 12;
            let a = match phase {
                _ if s < 5 => 0.0,
                0..=2 => 2.0,
                7..=9 => -2.0,
                _ => 0.0,
            };
            let f_vehicle = add([a, 0.0, crate::STANDARD_GRAVITY_MPS2], bias_vehicle);
            let block = second_block(mount, f_vehicle, s, with_gyro);
            v = (v + a).max(0.0);
            let t = s as f64 + 1.0;
            est.push_bucket(&block, t - 1.0, t, true);
            if with_gps {
                fixes.push((t, v));
            }
            if (s + 1) % batch_s == 0 {
                for (t_fix, v) in fixes.drain(..) {
                    est.on_gps(t_fix, Some(v), Some(90.0), Some(t));
                }
            }
        }
        est
    }

    #[test]
    fn speed_changes_take_an_accelerometer_bias_out_of_the_pitch() {
        // A bias of 0.2 m/s^2 along the forward axis tilts gravity's up by
        // 1.2 deg towards it; the specific force of the speed changes still
        // runs along the true forward axis, and the GPS regression finds it.
        let deg = core::f32::consts::PI / 180.0;
        for (r, p, y) in [(0.3, -0.2, 2.0), (1.4, 0.1, -2.5), (-0.5, 1.0, 0.7)] {
            let mount = rotation_from_euler(r, p, y);
            let tilt_error = |est: &OrientationEstimator| {
                angle_between(est.orientation().rotation[2], mount[2]) / deg
            };
            let plain = drive_with(mount, true, true, 240, 1, [0.2, 0.0, 0.0]);
            let gravity_only = angle_between(plain.up, mount[2]) / deg;
            assert!(gravity_only > 1.0, "mount {r} {p} {y}: {gravity_only}");
            assert!(
                tilt_error(&plain) < 0.4,
                "mount {r} {p} {y}: tilt error {} (gravity alone {gravity_only})",
                tilt_error(&plain)
            );
            // Still gravity-compensated: the bias that gravity's up absorbed
            // shows nowhere at rest.
            let at_rest = mat_vec(&plain.rotation, scale(plain.up, plain.g_mag));
            let g = plain.gravity_lanes().to_array();
            for i in 0..3 {
                assert!((at_rest[i] - g[i]).abs() < 1e-3, "{at_rest:?} {g:?}");
            }
            // Without the bias nothing moves.
            let clean = drive_with(mount, true, true, 240, 1, [0.0; 3]);
            assert!(tilt_error(&clean) < 0.2, "{}", tilt_error(&clean));
            // Without GPS, the slope of the vertical part on the forward
            // part of the longitudinal blocks does the same.
            let no_gps = drive_with(mount, false, true, 240, 1, [0.2, 0.0, 0.0]);
            assert_eq!(no_gps.state, OrientationState::Locked);
            assert!(angle_between(no_gps.up, mount[2]) / deg > 1.0);
            assert!(
                tilt_error(&no_gps) < 0.4,
                "mount {r} {p} {y}: no GPS: {}",
                tilt_error(&no_gps)
            );
        }
    }

    /// Second `s` of samples at 50 Hz of the specific force `f_vehicle`
    /// (vehicle axes, plus a little jitter on its left and up axes), the
    /// phone held by `mount`, still.
    fn second_block(mount: Mat3, f_vehicle: Vec3, s: usize, with_gyro: bool) -> BlockStats {
        let mut block = BlockStats::default();
        for i in 0..50 {
            let jitter = ((i * 7919 + s * 104729) % 13) as f32 * 0.01 - 0.06;
            let f = mat_vec(&transpose(&mount), add(f_vehicle, [0.0, jitter, jitter]));
            block.add(f, with_gyro.then_some([0.0; 3]), 0.02);
        }
        block
    }

    /// [`second_block`] ending at `t`, with a gyroscope, and the GPS fix at
    /// its end.
    fn push_second(est: &mut OrientationEstimator, mount: Mat3, f_vehicle: Vec3, t: f64, v: f32) {
        let block = second_block(mount, f_vehicle, t as usize, true);
        est.push_bucket(&block, t - 1.0, t, true);
        est.on_gps(t, Some(v), Some(90.0), Some(t));
    }

    #[test]
    fn a_standing_vehicle_keeps_its_pitch_and_a_crash_is_no_evidence_of_it() {
        // The pitch correction of an accelerometer bias (above), then two
        // minutes standing, then a collision: a 13 m/s stop within one GPS
        // interval, the body thrown up and forward.
        let deg = core::f32::consts::PI / 180.0;
        let g = crate::STANDARD_GRAVITY_MPS2;
        let bias = [0.2, 0.0, 0.0];
        let mount = rotation_from_euler(1.4, 0.1, -2.5);
        let tilt_error = |est: &OrientationEstimator| {
            angle_between(est.orientation().rotation[2], mount[2]) / deg
        };
        let mut est = drive_with(mount, true, true, 240, 1, bias);
        assert!(tilt_error(&est) < 0.4, "{}", tilt_error(&est));
        let mut t = 240.0;
        for _ in 0..120 {
            t += 1.0;
            push_second(&mut est, mount, add([0.0, 0.0, g], bias), t, 0.0);
        }
        // Neither the mount nor the body's pitch changed while it stood.
        assert!(
            tilt_error(&est) < 0.4,
            "after standing: {}",
            tilt_error(&est)
        );
        for (a, v) in [(2.0, 2.0), (2.0, 4.0), (2.0, 6.0), (2.0, 8.0), (2.0, 10.0)] {
            t += 1.0;
            push_second(&mut est, mount, add([a, 0.0, g], bias), t, v);
        }
        for _ in 0..3 {
            t += 1.0;
            push_second(&mut est, mount, add([0.0, 0.0, g], bias), t, 13.0);
        }
        let before = est.orientation().rotation[2];
        t += 1.0;
        push_second(&mut est, mount, add([-13.0, 0.0, g + 4.0], bias), t, 0.0);
        for _ in 0..10 {
            t += 1.0;
            push_second(&mut est, mount, add([0.0, 0.0, g], bias), t, 0.0);
        }
        let turned = angle_between(est.orientation().rotation[2], before) / deg;
        assert!(turned < 0.2, "the crash turned the tilt by {turned} deg");
    }

    #[test]
    fn locks_on_the_true_mount_with_gps() {
        for (r, p, y) in [(0.3, -0.2, 2.0), (1.4, 0.1, -2.5), (-0.5, 1.0, 0.7)] {
            let mount = rotation_from_euler(r, p, y);
            let est = drive(mount, true, false, 60);
            let o = est.orientation();
            assert_eq!(
                o.state,
                OrientationState::Locked,
                "mount {r} {p} {y}: {o:?} {est:?}"
            );
            assert_eq!(o.heading_source, HeadingSource::Gps);
            let tilt_err = angle_between(o.rotation[2], mount[2]).to_degrees();
            let fwd_err = angle_between(o.rotation[0], mount[0]).to_degrees();
            assert!(tilt_err < 1.0, "tilt error {tilt_err}");
            assert!(fwd_err < 3.0, "forward error {fwd_err}");
        }
    }

    #[test]
    fn fixes_delivered_a_batch_late_give_the_same_lock() {
        // 5 s batches: each fix arrives up to 5 s after the samples of its
        // time; the blocks wait for it, so the GPS evidence is the same.
        for (r, p, y) in [(0.3, -0.2, 2.0), (1.4, 0.1, -2.5)] {
            let mount = rotation_from_euler(r, p, y);
            let on_time = drive(mount, true, true, 90).orientation();
            let est = drive_batched(mount, true, true, 90, 5);
            let late = est.orientation();
            assert_eq!(late.state, OrientationState::Locked, "{late:?}");
            assert_eq!(late.heading_source, HeadingSource::Gps);
            let fwd_err = angle_between(late.rotation[0], mount[0]).to_degrees();
            assert!(fwd_err < 3.0, "forward error {fwd_err}");
            let apart = angle_between(late.rotation[0], on_time.rotation[0]).to_degrees();
            assert!(
                apart < 1.0,
                "late and on-time fixes disagree by {apart} deg"
            );
            assert_eq!(est.moves(), 0, "late fixes are not a phone turning");
        }
    }

    #[test]
    fn a_turn_the_lagging_gps_course_misses_is_not_a_straight_speed_change() {
        // The 12 s cycle of `drive`, but the vehicle turns left (1.2 m/s^2,
        // 0.4 rad/s) in the last second of each acceleration and back
        // slowly while cruising; the GPS course follows 2 s late, as a
        // phone's smoothed course does. Counted as straight, that second
        // turns the PCA axis about 9 deg towards the left.
        let mount = rotation_from_euler(0.4, -0.3, 1.9);
        let phone_from_vehicle = transpose(&mount);
        let mut est = OrientationEstimator::new(OrientationConfig::default());
        let (fs, mut v, mut heading_rad) = (50, 0.0f32, 0.0f32);
        let mut headings = Vec::new();
        for s in 0..120 {
            let phase = (s + 7) % 12;
            let (a, lat, yaw) = match phase {
                _ if s < 5 => (0.0, 0.0, 0.0),
                0 | 1 => (2.0, 0.0, 0.0),
                2 => (2.0, 1.2, 0.4),
                3..=6 => (0.0, -0.6, -0.1),
                7..=9 => (-2.0, 0.0, 0.0),
                _ => (0.0, 0.0, 0.0),
            };
            let mut block = BlockStats::default();
            for i in 0..fs {
                let jitter = ((i * 7919 + s * 104729) % 13) as f32 * 0.01 - 0.06;
                let f_vehicle = [a, lat + jitter, crate::STANDARD_GRAVITY_MPS2 + jitter];
                let f = mat_vec(&phone_from_vehicle, f_vehicle);
                let w = mat_vec(&phone_from_vehicle, [0.0, 0.0, yaw]);
                block.add(f, Some(w), 1.0 / fs as f32);
            }
            v = (v + a).max(0.0);
            heading_rad += yaw;
            headings.push(heading_rad);
            let t = s as f64 + 1.0;
            est.push_bucket(&block, t - 1.0, t, true);
            let late = headings[headings.len().saturating_sub(3)];
            est.on_gps(t, Some(v), Some(90.0 - late.to_degrees()), Some(t));
        }
        let o = est.orientation();
        assert_eq!(o.state, OrientationState::Locked, "{o:?}");
        assert_eq!(est.moves(), 0, "a lagging course is not a phone turning");
        let fwd_err = angle_between(o.rotation[0], mount[0]).to_degrees();
        assert!(fwd_err < 3.0, "forward error {fwd_err} deg, {o:?}");
    }

    #[test]
    fn a_course_late_through_roundabouts_is_not_a_phone_turning_once_the_lag_is_known() {
        // 6 m/s with a 115 deg turn in 2 s every 20 s (a tight roundabout);
        // the GPS course 1.2 s late. Compared with the gyroscope's yaw of
        // the same second, the course seems to stall 57 deg behind.
        let run = |lag_known: bool| {
            let mount = rotation_from_euler(0.3, -0.2, 0.8);
            let phone_from_vehicle = transpose(&mount);
            let mut est = OrientationEstimator::new(OrientationConfig::default());
            if lag_known {
                est.set_gps_lag_s(1.2);
            }
            let fs = 50;
            let mut headings = vec![0.0f32];
            for s in 0..200 {
                let yaw = if s >= 30 && s % 20 < 2 { 1.0 } else { 0.0 };
                let mut block = BlockStats::default();
                for i in 0..fs {
                    let jitter = ((i * 7919 + s * 104729) % 13) as f32 * 0.01 - 0.06;
                    let f_vehicle = [jitter, 6.0 * yaw, crate::STANDARD_GRAVITY_MPS2 + jitter];
                    let f = mat_vec(&phone_from_vehicle, f_vehicle);
                    let w = mat_vec(&phone_from_vehicle, [0.0, 0.0, yaw]);
                    block.add(f, Some(w), 1.0 / fs as f32);
                }
                headings.push(headings[s] + yaw);
                let t = s as f64 + 1.0;
                // The heading 1.2 s ago: between the ends of the seconds
                // two and one before.
                let k = headings.len() - 1;
                let late = if k >= 2 {
                    0.8 * headings[k - 1] + 0.2 * headings[k - 2]
                } else {
                    0.0
                };
                est.push_bucket(&block, t - 1.0, t, true);
                est.on_gps(t, Some(6.0), Some(90.0 - late.to_degrees()), Some(t));
            }
            est.moves()
        };
        assert!(
            run(false) > 0,
            "the lag unknown, the course looks like a phone turned"
        );
        assert_eq!(run(true), 0);
    }

    #[test]
    fn without_gps_or_gyro_the_sign_comes_from_standstills() {
        let mount = rotation_from_euler(0.2, -1.3, 2.2);
        let est = drive(mount, false, false, 200);
        let o = est.orientation();
        assert_eq!(o.heading_source, HeadingSource::Standstill);
        let fwd_err = angle_between(o.rotation[0], mount[0]).to_degrees();
        assert!(fwd_err < 5.0, "forward error {fwd_err}, {o:?}");
        assert_eq!(o.state, OrientationState::Locked);
    }

    /// An estimator with neither GPS nor gyroscope whose tilt `up` comes
    /// from ten standstill blocks, then `blocks` blocks of specific force
    /// `f` (phone axes) shaken by `shake` m/s^2 on every axis.
    fn blind_blocks(up: Vec3, f: Vec3, shake: f32, blocks: usize) -> OrientationEstimator {
        let mut est = OrientationEstimator::new(OrientationConfig::default());
        let mut t = 0.0;
        let mut push = |est: &mut OrientationEstimator, f: Vec3, shake: f32| {
            t += 1.0;
            let mut b = BlockStats::default();
            for k in 0..50 {
                let s = if k % 2 == 0 { shake } else { -shake };
                b.add(add(f, [s, s, s]), None, 0.02);
            }
            est.end_block(&b, t);
        };
        for _ in 0..10 {
            push(&mut est, scale(up, 9.81), 0.01);
        }
        for _ in 0..blocks {
            push(&mut est, f, shake);
        }
        est
    }

    #[test]
    fn a_heading_turning_steadily_is_tracked_with_its_rate() {
        // A phone turning in its holder at 0.2 deg/s, a straight speed
        // change every 5 s showing the true heading: the track catches the
        // rate and follows without lag (a 40 s memory would lag 8 deg).
        let u = [0.0, 0.0, 1.0];
        let rate = 0.2f32.to_radians();
        let mut track = HeadingTrack::starting_at([1.0, 0.0, 0.0]);
        let mut truth: Vec3 = [1.0, 0.0, 0.0];
        for s in 1..=300 {
            truth = math::rotate_about(truth, u, rate);
            track.predict(u, 1.0);
            if s % 5 == 0 {
                let f = track.fwd.unwrap();
                let a = libm::atan2f(dot(cross(f, truth), u), dot(f, truth));
                track.update(u, a, 0.05 * 0.05);
            }
        }
        let off = angle_between(track.fwd.unwrap(), truth).to_degrees();
        assert!(off < 0.5, "{off} deg behind");
        let r = track.rate_rps.to_degrees();
        assert!((r - 0.2).abs() < 0.02, "rate {r} deg/s");
    }

    #[test]
    fn a_tilt_turning_steadily_is_tracked_with_its_rate() {
        // Gravity turning across the phone at 0.1 deg/s (a cup holder's
        // drift), a quiet block every 3 s showing it: the track catches
        // the rate and follows without lag.
        let rate = [0.1f32.to_radians(), 0.0, 0.0];
        let mut track = TiltTrack::starting_at([0.0, 0.0, 1.0]);
        let mut truth: Vec3 = [0.0, 0.0, 1.0];
        for s in 1..=600 {
            truth = normalize(add(truth, cross(rate, truth))).unwrap();
            track.predict(1.0);
            if s % 3 == 0 {
                track.update(truth);
            }
        }
        let off = angle_between(track.up, truth).to_degrees();
        assert!(off < 0.3, "{off} deg behind");
    }

    #[test]
    fn without_gps_a_steady_acceleration_barely_moves_the_tilt() {
        // A minute of 1 m/s^2 along the phone's x while moving (the
        // vehicle's vibration, 0.3 m/s^2): gravity's average would lean
        // 5.8 deg towards it; blocks while moving count a tenth.
        let up = [0.0, 0.0, 1.0];
        let est = blind_blocks(up, [1.0, 0.0, 9.81], 0.3, 60);
        assert_eq!(est.state(), OrientationState::Estimating);
        let lean = angle_between(est.up, up).to_degrees();
        assert!(lean < 2.5, "the tilt leaned {lean} deg");
        // At a standstill the same force is gravity, and is followed.
        let est = blind_blocks(up, [1.0, 0.0, 9.81], 0.01, 60);
        let lean = angle_between(est.up, up).to_degrees();
        assert!(lean > 5.0, "the tilt leaned {lean} deg");
    }

    #[test]
    fn without_gps_or_gyro_only_a_standstill_confirms_a_move() {
        // Gravity 16 deg off, its magnitude within 2 %: a phone turned in
        // place, or a steady 2.8 m/s^2 braking on a scale error.
        let a = 16f32.to_radians();
        let turned = [libm::sinf(a) * 9.81, 0.0, libm::cosf(a) * 9.81];
        let moving = blind_blocks([0.0, 0.0, 1.0], turned, 0.3, 5);
        assert_eq!(moving.moves(), 0);
        let stopped = blind_blocks([0.0, 0.0, 1.0], turned, 0.01, 5);
        assert_eq!(stopped.moves(), 1);
    }

    #[test]
    fn unknown_until_a_quiet_window_and_not_locked_without_manoeuvres() {
        let mut est = OrientationEstimator::new(OrientationConfig::default());
        assert_eq!(est.state(), OrientationState::Unknown);
        let mut b = BlockStats::default();
        for _ in 0..50 {
            b.add([0.0, 9.81, 0.0], None, 0.02);
        }
        est.end_block(&b, 1.0);
        assert_eq!(
            est.state(),
            OrientationState::Unknown,
            "one block is not enough"
        );
        est.end_block(&b, 2.0);
        assert_eq!(est.state(), OrientationState::Estimating);
        assert!(!est.orientation().is_known());
    }

    #[test]
    fn a_gyroscope_rotation_marks_the_phone_moved() {
        let mount = rotation_from_euler(0.3, -0.2, 2.0);
        let mut est = drive(mount, true, true, 60);
        assert_eq!(est.state(), OrientationState::Locked);
        let mut b = BlockStats::default();
        for _ in 0..50 {
            // 2 rad/s about the phone's x axis for 1 s: 115 degrees.
            b.add(
                mat_vec(&transpose(&mount), [0.0, 0.0, 9.81]),
                Some([2.0, 0.0, 0.0]),
                0.02,
            );
        }
        est.end_block(&b, 61.0);
        assert_eq!(est.state(), OrientationState::Moved);
        assert_eq!(est.moves(), 1);
    }

    /// Drives 60 s, then turns the phone by `angle_deg` off the vertical in
    /// one block (the gyroscope sees it when `seen`) and holds it there,
    /// driving straight at 10 m/s with a fix every second; returns the
    /// estimator after `blocks` calm blocks. `mag`: the blocks' specific
    /// force over gravity's (a hand jostles it by a few percent).
    fn turn_in_place(angle_deg: f32, seen: bool, blocks: usize, mag: f32) -> OrientationEstimator {
        let mount = rotation_from_euler(0.3, -0.2, 2.0);
        let mut est = drive(mount, true, true, 60);
        assert_eq!(est.state(), OrientationState::Locked);
        let old_up = mount[2];
        let axis = normalize(cross(old_up, mount[0])).unwrap();
        let a = angle_deg.to_radians();
        // Rodrigues: the vehicle's up seen from the turned phone.
        let new_up = add(
            scale(old_up, libm::cosf(a)),
            scale(cross(axis, old_up), libm::sinf(a)),
        );
        let gravity = scale(new_up, 9.81 * mag);
        let mut t = 60.0;
        for i in 0..=blocks {
            t += 1.0;
            est.on_gps(t - 0.5, Some(10.0), Some(90.0), Some(t - 0.5));
            let mut b = BlockStats::default();
            let w = if i == 0 && seen {
                scale(axis, a)
            } else {
                [0.0; 3]
            };
            for k in 0..50 {
                let jitter = (k % 5) as f32 * 0.01;
                b.add(add(gravity, [jitter, 0.0, 0.0]), Some(w), 0.02);
            }
            est.end_block(&b, t);
        }
        est
    }

    #[test]
    fn a_phone_carried_at_walking_pace_does_not_take_the_walk_for_its_tilt() {
        let mount = rotation_from_euler(0.3, -0.2, 2.0);
        let mut est = drive(mount, true, true, 60);
        assert_eq!(est.state(), OrientationState::Locked);
        let old_up = est.up;
        // In its owner's pocket, on foot at 1.4 m/s: gravity 8 deg off its
        // place (too little for a move), each step bouncing it by 1 m/s^2
        // on every axis (a spread a car's vibration may have too).
        let axis = normalize(cross(old_up, mount[0])).unwrap();
        let a = 8f32.to_radians();
        let walk_up = add(
            scale(old_up, libm::cosf(a)),
            scale(cross(axis, old_up), libm::sinf(a)),
        );
        let mut t = 60.0;
        for _ in 0..60 {
            t += 1.0;
            est.on_gps(t - 0.5, Some(1.4), Some(90.0), Some(t - 0.5));
            let mut b = BlockStats::default();
            for k in 0..50 {
                let step = if k % 2 == 0 { 1.0 } else { -1.0 };
                b.add(
                    add(scale(walk_up, 9.81), [step, step, step]),
                    Some([0.0; 3]),
                    0.02,
                );
            }
            est.end_block(&b, t);
        }
        let off = angle_between(est.up, old_up).to_degrees();
        assert!(off < 0.5, "the tilt followed the walk by {off} deg");
    }

    #[test]
    fn a_turn_between_the_tilt_outlier_bound_and_the_move_angle_is_a_move() {
        // 12 deg: beyond the 10 deg at which a quiet block is no longer
        // averaged into the tilt, short of the 15 deg move angle. Seen by
        // the gyroscope, with GPS saying the vehicle runs straight and
        // steady, it is a move (before, the tilt stayed 12 deg off until
        // other evidence pulled it over, 100 s on the simulator).
        let est = turn_in_place(12.0, true, 4, 1.0);
        assert_eq!(est.moves(), 1, "{:?}", est.state());
        // Not seen by the gyroscope: not a move (a drift, followed slowly).
        let est = turn_in_place(12.0, false, 4, 1.0);
        assert_eq!(est.moves(), 0);
        // Within the outlier bound: averaged into the tilt, no move.
        let est = turn_in_place(8.0, true, 4, 1.0);
        assert_eq!(est.moves(), 0);
    }

    #[test]
    fn a_large_turn_is_a_move_though_a_hand_jostles_the_magnitude() {
        // Picked up into a hand: 40 deg, the blocks' magnitude 8 % over
        // gravity's. An acceleration that tilted the specific force by 40
        // deg would have lengthened it by 31 %; this is a turn.
        let est = turn_in_place(40.0, true, 4, 1.08);
        assert_eq!(est.moves(), 1);
        // 20 deg with 8 %: what a 3.6 m/s^2 acceleration does (6 %) and
        // more; not taken for a move.
        let est = turn_in_place(20.0, true, 4, 1.08);
        assert_eq!(est.moves(), 0);
    }

    #[test]
    fn calm_blocks_closed_together_before_their_fix_are_all_taken() {
        // The samples before a fix are released when it arrives, so two
        // blocks can close before the fix covering both is taken. Both are
        // quiet gravity, and two agreeing quiet blocks start the tilt (with
        // one waiting slot, the second displaced the first: a courier's
        // trip went 8 s without a tilt at its start, its first harsh
        // acceleration missed).
        let mut est = OrientationEstimator::new(OrientationConfig::default());
        est.on_gps(0.0, Some(0.0), None, None);
        for end_s in [1.0, 2.0] {
            let mut b = BlockStats::default();
            for k in 0..50 {
                let jitter = (k % 5) as f32 * 0.01;
                b.add([jitter, 0.0, 9.81], Some([0.0; 3]), 0.02);
            }
            est.end_block(&b, end_s);
        }
        assert_eq!(est.state(), OrientationState::Unknown);
        est.on_gps(2.02, Some(0.0), None, Some(2.02));
        assert_eq!(est.state(), OrientationState::Estimating);
    }

    #[test]
    fn a_swinging_phone_keeps_its_heading_longer() {
        let mut e = OrientationEstimator::new(OrientationConfig::default());
        let tau = |e: &OrientationEstimator| e.heading_tau_s().to_bits();
        assert_eq!(tau(&e), 120f32.to_bits());
        e.set_swinging(true);
        assert_eq!(tau(&e), 240f32.to_bits());
        e.set_swinging(false);
        assert_eq!(tau(&e), 120f32.to_bits());
    }

    #[test]
    fn invalid_configuration_is_named() {
        let cfg = OrientationConfig {
            heading_tau_s: 1.0,
            ..OrientationConfig::default()
        };
        assert_eq!(
            cfg.validate().err().map(|e| e.field),
            Some("orientation.heading_tau_s")
        );
        let d = OrientationConfig::default();
        for (cfg, field) in [
            (
                OrientationConfig {
                    wobble_tau_s: 0.2,
                    ..d
                },
                "orientation.wobble_tau_s",
            ),
            (
                OrientationConfig {
                    wobble_tau_s: f32::NAN,
                    ..d
                },
                "orientation.wobble_tau_s",
            ),
            (
                OrientationConfig {
                    heading_tau_swing_s: f32::INFINITY,
                    ..d
                },
                "orientation.heading_tau_swing_s",
            ),
            (
                OrientationConfig {
                    wobble_bias_tau_s: 1.0,
                    ..d
                },
                "orientation.wobble_bias_tau_s",
            ),
            (
                OrientationConfig {
                    wobble_min_deg: -1.0,
                    ..d
                },
                "orientation.wobble_min_deg",
            ),
        ] {
            assert_eq!(cfg.validate().err().map(|e| e.field), Some(field));
        }
        // Off is valid.
        let off = OrientationConfig {
            wobble_tau_s: 0.0,
            ..d
        };
        assert!(off.validate().is_ok());
    }
}
