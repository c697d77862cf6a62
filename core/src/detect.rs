//! Harsh-event detection on the vehicle-frame stream, with false-positive
//! guards, in bounded time.
//!
//! - **Braking / acceleration**: the filtered longitudinal acceleration beyond
//!   a threshold for a minimum time; close candidates of the same kind merge.
//!   Decided [`DetectionConfig::merge_gap_s`] after the candidate ends, or when
//!   the GPS fix that closes it arrives (at most about 1 s later).
//! - **Cornering and lane change**: a *lateral episode* (lateral acceleration
//!   beyond an onset level, until it has been quiet for a moment) is
//!   classified by its lasting heading change, from the gyroscope's yaw or,
//!   without one, from GPS bearings around it: a corner turns the vehicle
//!   (default ≥ 30°), a lane change swings left and right and leaves the
//!   heading as it was (< 15°). On a motorcycle the lean hides the lateral
//!   acceleration, so the lateral signal is yaw rate × GPS speed (or, without
//!   a gyroscope, GPS bearing rate × speed). A car's phone whose tilt is
//!   known but not yet its heading (early in a trip, just after a pick-up)
//!   uses the same signal: the yaw rate about the known up needs no heading;
//!   the episode's peak is taken again at the decision with the GPS speed
//!   of the peak's moment, as the speed at hand may be a second old.
//! - **Crash**: specific force several g beyond gravity, then a velocity
//!   change and a standstill within [`DetectionConfig::crash_confirm_s`]; a
//!   free fall just before the impact means a phone fell, not a crash.
//!
//! Guards suppress a candidate, and count it by [`Suppression`] reason: the
//! orientation not known (or not confident), the phone moving (free fall,
//! rotation off the vertical), GPS speed at walking pace before and after,
//! and the speed integrated from the acceleration disagreeing with the GPS
//! speed change.
//!
//! All state is fixed-size; events wait in a ring of
//! [`EVENT_QUEUE_CAPACITY`] until pulled.

use crate::ConfigError;
use crate::event::{Direction, EventKind};
use crate::gps_lag::{GpsLag, LAG_CANDIDATES, LAG_STEP_S, MAX_LAG_S};
use crate::input::FixDelay;
use crate::queue::EventQueue;

/// A longitudinal candidate opens at this share of its threshold (see
/// `Detector::decide_long`).
const NEAR_FRACTION: f32 = 0.85;
/// How many events wait to be pulled before the oldest is dropped (and counted).
pub const EVENT_QUEUE_CAPACITY: usize = 8;
/// Fixes kept: 16 s at 1 Hz (a decision may come a batch after its fixes).
const GPS_RING: usize = 16;
/// Longest delivery delay of a fix the decisions wait for, s (within the
/// integrals' history).
const MAX_FIX_LAG_S: f32 = 11.0;
/// Speed change between two fixes, on the GPS and on the accelerometer,
/// under which the interval says nothing of the GPS speed's lag, m/s.
const LAG_QUIET_MPS: f32 = 0.3;
/// Entries of the integrals' history (12 s at [`HIST_STEP_S`]: a fix may
/// arrive that late when a 10 Hz phone delivers batches of 100 samples).
const HIST_LEN: usize = 48;
/// Spacing of the history's entries, s (values between are interpolated).
const HIST_STEP_S: f64 = 0.25;
/// Gyroscope yaw and GPS course change across a longitudinal candidate that
/// disagree by more than this mean the phone was turned in the vehicle, deg.
const PHONE_YAW_MISMATCH_DEG: f32 = 12.0;
/// Longest lateral episode before it is decided as it stands, s.
const MAX_LATERAL_EPISODE_S: f64 = 15.0;

/// Event severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Beyond the threshold.
    Moderate,
    /// Beyond `severe_factor` times the threshold.
    Severe,
}

impl Severity {
    /// `moderate` or `severe`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Moderate => "moderate",
            Severity::Severe => "severe",
        }
    }
}

/// A detected harsh event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    /// Kind.
    pub kind: EventKind,
    /// Side, for cornering and lane changes.
    pub direction: Option<Direction>,
    /// Start, s (the signal crossed the threshold).
    pub start_s: f64,
    /// End, s.
    pub end_s: f64,
    /// Peak acceleration magnitude, m/s^2.
    pub peak_mps2: f32,
    /// Severity.
    pub severity: Severity,
    /// 0..1: orientation confidence times how clearly the peak clears the threshold.
    pub confidence: f32,
    /// GPS speed at the start, m/s, when GPS is there.
    pub speed_at_start_mps: Option<f32>,
    /// GPS position nearest the peak, (lat, lon) degrees, when GPS is there.
    pub position_at_peak: Option<(f64, f64)>,
    /// Sample time at which the event was decided, s (for latency).
    pub decided_s: f64,
    /// Decided only once the heading locked, after the manoeuvre (it happened
    /// while the orientation was still being learned): worth recording, too
    /// late for a real-time alert.
    pub late: bool,
}

/// Why a candidate was not reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Suppression {
    /// The orientation was not locked, or its confidence was low.
    OrientationUnknown,
    /// The phone itself moved (free fall, rotation off the vertical).
    PhoneMoved,
    /// GPS speed at walking pace before and after.
    Walking,
    /// Speed integrated from the acceleration disagrees with the GPS speed change.
    SpeedMismatch,
    /// Beyond the threshold for less than the minimum duration.
    TooShort,
    /// An impact: left to the crash detector.
    Impact,
    /// An impact after a free fall: a dropped phone.
    PhoneFall,
    /// An impact without the velocity change and standstill of a crash.
    NotACrash,
}

impl Suppression {
    /// Every reason, in a stable order.
    pub const ALL: [Suppression; 8] = [
        Suppression::OrientationUnknown,
        Suppression::PhoneMoved,
        Suppression::Walking,
        Suppression::SpeedMismatch,
        Suppression::TooShort,
        Suppression::Impact,
        Suppression::PhoneFall,
        Suppression::NotACrash,
    ];

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Suppression::OrientationUnknown => "orientation_unknown",
            Suppression::PhoneMoved => "phone_moved",
            Suppression::Walking => "walking",
            Suppression::SpeedMismatch => "speed_mismatch",
            Suppression::TooShort => "too_short",
            Suppression::Impact => "impact",
            Suppression::PhoneFall => "phone_fall",
            Suppression::NotACrash => "not_a_crash",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Suppressed candidates by reason (index with [`Suppression::ALL`] order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SuppressionCounts(pub [u32; 8]);

impl SuppressionCounts {
    /// Count for one reason.
    pub fn get(&self, r: Suppression) -> u32 {
        self.0[r.index()]
    }

    /// All suppressed candidates.
    pub fn total(&self) -> u32 {
        self.0.iter().sum()
    }
}

/// Detection thresholds. Defaults per vehicle profile: [`DetectionConfig::car`],
/// [`DetectionConfig::motorcycle`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct DetectionConfig {
    /// Harsh braking: deceleration beyond this, m/s^2. Car 3.0, motorcycle 3.3.
    pub braking_mps2: f32,
    /// Harsh acceleration, m/s^2. Car 2.9, motorcycle 3.0.
    pub acceleration_mps2: f32,
    /// Harsh cornering: lateral acceleration beyond this, m/s^2. 4.0.
    pub cornering_mps2: f32,
    /// Harsh lane change: peak lateral acceleration of the swerve, m/s^2. 3.0.
    pub lane_change_mps2: f32,
    /// Crash: specific force beyond gravity by this much, m/s^2. 39 (4 g).
    pub crash_mps2: f32,
    /// Severe when the peak is this many times the threshold. 1.5.
    pub severe_factor: f32,
    /// Time beyond the threshold needed, s. 0.3.
    pub min_duration_s: f32,
    /// Candidates of one kind closer than this merge; also the wait before
    /// deciding, s. 0.4.
    pub merge_gap_s: f32,
    /// GPS speed below which (before and after) the phone is taken to be on
    /// foot, m/s. 2.8 (10 km/h).
    pub min_speed_mps: f32,
    /// Allowed difference between integrated and GPS speed change: absolute
    /// part, m/s. 2.5.
    pub speed_mismatch_mps: f32,
    /// Allowed difference: relative part (of the GPS speed change). 0.35.
    pub speed_mismatch_fraction: f32,
    /// A braking or acceleration must show in the GPS speed: the largest
    /// one-interval GPS acceleration around it must reach this fraction of
    /// the threshold. 0.85.
    pub gps_confirm_fraction: f32,
    /// For a phone the gyroscope measured steady throughout and at the
    /// decision (no hand's motion can have made the candidate), the
    /// confirmation asked of a candidate shorter than this is scaled down by
    /// its duration over this, s: a 1 Hz GPS averages a braking shorter than
    /// two fixes' spacing into a lower rate. 0 turns the scaling off.
    /// 2.0 (no effect without a gyroscope or on a motorcycle, whose phone is
    /// never measured steady).
    pub gps_confirm_steady_s: f32,
    /// Orientation confidence below which nothing is reported. 0.3.
    pub min_orientation_confidence: f32,
    /// A lateral episode turning the vehicle at least this much is a corner, deg. 30.
    pub corner_min_heading_deg: f32,
    /// A lateral episode turning less than this (and swinging both ways) is a
    /// lane change, deg. 15.
    pub lane_change_max_heading_deg: f32,
    /// Lateral level that opens an episode, as a fraction of `lane_change_mps2`. 0.6.
    pub lateral_onset_fraction: f32,
    /// Quiet time that closes a lateral episode, s. 0.8.
    pub lateral_quiet_s: f32,
    /// Phone rotation off the vertical during a candidate that means the phone
    /// moved, deg. Car 15, motorcycle 80 (lean).
    pub phone_rotation_deg: f32,
    /// Time allowed for a crash's standstill, s. 10.
    pub crash_confirm_s: f32,
    /// Lateral signal from yaw rate x speed instead of lateral acceleration
    /// (motorcycles lean). Car false, motorcycle true.
    pub lateral_from_yaw: bool,
}

impl DetectionConfig {
    /// Defaults for a car.
    pub const fn car() -> Self {
        Self {
            braking_mps2: 3.0,
            acceleration_mps2: 2.9,
            cornering_mps2: 4.0,
            lane_change_mps2: 3.0,
            crash_mps2: 39.0,
            severe_factor: 1.5,
            min_duration_s: 0.3,
            merge_gap_s: 0.4,
            min_speed_mps: 2.8,
            speed_mismatch_mps: 2.5,
            speed_mismatch_fraction: 0.35,
            gps_confirm_fraction: 0.85,
            gps_confirm_steady_s: 2.0,
            min_orientation_confidence: 0.3,
            corner_min_heading_deg: 30.0,
            lane_change_max_heading_deg: 15.0,
            lateral_onset_fraction: 0.6,
            lateral_quiet_s: 0.8,
            phone_rotation_deg: 15.0,
            crash_confirm_s: 10.0,
            lateral_from_yaw: false,
        }
    }

    /// Defaults for a motorcycle.
    pub const fn motorcycle() -> Self {
        Self {
            braking_mps2: 3.3,
            acceleration_mps2: 3.0,
            phone_rotation_deg: 80.0,
            lateral_from_yaw: true,
            ..Self::car()
        }
    }

    /// Checks every value; the error names the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let pos = ConfigError::positive;
        pos(self.braking_mps2, "detection.braking_mps2")?;
        pos(self.acceleration_mps2, "detection.acceleration_mps2")?;
        pos(self.cornering_mps2, "detection.cornering_mps2")?;
        pos(self.lane_change_mps2, "detection.lane_change_mps2")?;
        pos(self.min_duration_s, "detection.min_duration_s")?;
        pos(self.merge_gap_s, "detection.merge_gap_s")?;
        pos(self.min_speed_mps, "detection.min_speed_mps")?;
        pos(self.speed_mismatch_mps, "detection.speed_mismatch_mps")?;
        pos(self.lateral_quiet_s, "detection.lateral_quiet_s")?;
        pos(self.phone_rotation_deg, "detection.phone_rotation_deg")?;
        pos(self.crash_confirm_s, "detection.crash_confirm_s")?;
        ConfigError::check(
            self.crash_mps2.is_finite() && self.crash_mps2 > 2.0 * self.braking_mps2,
            "detection.crash_mps2",
            "must be more than twice braking_mps2",
        )?;
        ConfigError::check(
            self.severe_factor.is_finite() && self.severe_factor > 1.0,
            "detection.severe_factor",
            "must be greater than 1",
        )?;
        ConfigError::in_range(
            self.gps_confirm_fraction,
            0.0..=1.0,
            "detection.gps_confirm_fraction",
            "must be in [0, 1]",
        )?;
        ConfigError::in_range(
            self.gps_confirm_steady_s,
            0.0..=10.0,
            "detection.gps_confirm_steady_s",
            "must be in [0, 10] s",
        )?;
        ConfigError::check(
            self.speed_mismatch_fraction.is_finite() && self.speed_mismatch_fraction >= 0.0,
            "detection.speed_mismatch_fraction",
            "must be zero or positive",
        )?;
        ConfigError::in_range(
            self.min_orientation_confidence,
            0.0..=1.0,
            "detection.min_orientation_confidence",
            "must be in [0, 1]",
        )?;
        ConfigError::check(
            self.lateral_onset_fraction.is_finite()
                && self.lateral_onset_fraction > 0.0
                && self.lateral_onset_fraction < 1.0,
            "detection.lateral_onset_fraction",
            "must be in (0, 1)",
        )?;
        ConfigError::check(
            self.lane_change_max_heading_deg.is_finite()
                && self.lane_change_max_heading_deg > 0.0
                && self.corner_min_heading_deg > self.lane_change_max_heading_deg,
            "detection.corner_min_heading_deg",
            "must be greater than lane_change_max_heading_deg, both positive",
        )?;
        Ok(())
    }
}

/// Watches the raw specific force at the full sample rate between detector
/// steps: the longest free-fall run (specific force under 0.3 g) and the
/// largest magnitude (impacts), both too short-lived to be seen at the
/// detector's own rate.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ForceMonitor {
    run_s: f32,
    step_run_s: f32,
    step_max_sq: f32,
}

impl ForceMonitor {
    /// Adds one sample: squared specific force, gravity, interval.
    #[inline]
    pub fn add(&mut self, force_sq: f32, gravity_mps2: f32, dt_s: f32) {
        let ff = 0.3 * gravity_mps2;
        // Plain comparisons (f32::max pays for NaN handling; inputs are checked).
        if force_sq < ff * ff {
            self.run_s += dt_s;
            if self.run_s > self.step_run_s {
                self.step_run_s = self.run_s;
            }
        } else {
            self.run_s = 0.0;
        }
        if force_sq > self.step_max_sq {
            self.step_max_sq = force_sq;
        }
    }

    /// `(largest squared force, longest free-fall run)` since the last call.
    #[inline]
    pub fn take(&mut self) -> (f32, f32) {
        let out = (self.step_max_sq, self.step_run_s);
        self.step_max_sq = 0.0;
        self.step_run_s = self.run_s;
        out
    }
}

/// What the detector needs from one pipeline step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectorInput {
    /// Sample time, s.
    pub t_s: f64,
    /// Interval since the previous sample, s.
    pub dt_s: f32,
    /// Filtered linear acceleration, vehicle axes, m/s^2.
    pub accel_mps2: [f32; 3],
    /// Vehicle-axes angular rate, rad/s, when the phone has a gyroscope.
    pub gyro_rps: Option<[f32; 3]>,
    /// Largest squared magnitude of the raw specific force since the last
    /// step, (m/s^2)^2 (for impacts; see [`ForceMonitor`]).
    pub specific_force_max_sq: f32,
    /// Longest run of near-zero specific force (free fall) that reached into
    /// this step, s (see [`ForceMonitor`]).
    pub freefall_s: f32,
    /// Measured gravity, m/s^2.
    pub gravity_mps2: f32,
    /// Orientation locked.
    pub orientation_known: bool,
    /// The vertical is known (tilt), even when the heading is not: then the
    /// x/y plane of `accel_mps2` is horizontal but turned arbitrarily.
    pub tilt_known: bool,
    /// The phone-to-vehicle rotation that produced `accel_mps2`.
    pub rotation: [[f32; 3]; 3],
    /// Orientation confidence 0..1.
    pub orientation_confidence: f32,
    /// The gyroscope has measured the phone steady (no hand's or pocket's
    /// swing; see [`crate::wobble`]).
    pub phone_steady: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct GpsPoint {
    t_s: f64,
    speed_mps: Option<f32>,
    bearing_deg: Option<f32>,
    lat_deg: f64,
    lon_deg: f64,
    /// Cumulative integral of longitudinal acceleration at this time, m/s.
    v_int: f64,
    /// Cumulative gyroscope yaw at this time, rad.
    heading_int: f64,
}

/// A fix with a speed, as the GPS lag's estimate needs it for the interval
/// after it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct SpeedFix {
    /// Its own time, s.
    t_s: f64,
    speed_mps: f32,
    /// The integrated speed at its time, m/s.
    v_int: f64,
    /// The integrated speed at each candidate lag before its time, if it was
    /// computed (see [`Detector::v_int_back`]).
    back: Option<[f64; LAG_CANDIDATES]>,
}

/// Common candidate bookkeeping.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Window {
    start_s: f64,
    end_s: f64,
    peak: f32,
    peak_t_s: f64,
    orient_ok: bool,
    conf: f32,
    rot_start: [f64; 2],
    moved: bool,
    /// The phone was measured steady at every step so far.
    steady: bool,
}

impl Window {
    fn open(t: f64, d: &Detector, inp: &DetectorInput) -> Self {
        Self {
            start_s: t,
            end_s: t,
            peak: 0.0,
            peak_t_s: t,
            orient_ok: inp.orientation_known
                && inp.orientation_confidence >= d.cfg.min_orientation_confidence,
            conf: inp.orientation_confidence,
            rot_start: [
                d.rot_int[0] - f64::from(d.rot_recent[0]),
                d.rot_int[1] - f64::from(d.rot_recent[1]),
            ],
            moved: d.freefall_recent(t),
            steady: inp.phone_steady,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct LongCandidate {
    gyro: bool,
    kind: EventKind,
    sign: f32,
    threshold: f32,
    w: Window,
    above_s: f32,
    /// Time at 0.85 of the threshold or more, s (a candidate that never
    /// reached the threshold counts on the GPS alone, see
    /// [`Detector::decide_long`]).
    near_s: f32,
    active: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct LatEpisode {
    w: Window,
    heading_start: f64,
    last_active_s: f64,
    peak_left: f32,
    peak_right: f32,
    peak_left_t: f64,
    peak_right_t: f64,
    first_left: bool,
    above_corner_left_s: f32,
    above_corner_right_s: f32,
    above_lc_s: f32,
    gyro: bool,
    /// Opened while the heading was not known (the tilt was): measured
    /// to its end as the gyroscope's yaw rate about up times the speed.
    from_yaw: bool,
    /// The smoothed yaw rate at each side's peak, rad/s: a heading-less
    /// episode's peak is taken again at the decision with the GPS speed of
    /// the peak's moment (the speed at hand then could be a second old).
    yaw_left_rps: f32,
    yaw_right_rps: f32,
}

/// A harsh horizontal acceleration seen before the heading was known, kept
/// as a phone-axes vector until the heading locks and tells its direction.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PreLock {
    w: Window,
    /// Peak horizontal acceleration in phone axes, m/s^2.
    peak_phone: [f32; 3],
    above_s: f32,
    active: bool,
    /// GPS speeds before and after, and the largest rise and fall between fixes.
    speeds: Option<(f32, f32)>,
    gps_rise: Option<f32>,
    gps_fall: Option<f32>,
}

/// Pre-lock candidates kept at most.
const PRE_LOCK_CAPACITY: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq)]
struct CrashCandidate {
    w: Window,
    after_fall: bool,
    still_s: f32,
}

/// The detector state. Fixed size, no allocation.
#[derive(Clone, Copy, Debug)]
pub struct Detector {
    cfg: DetectionConfig,
    /// The last step's [`DetectorInput::phone_steady`].
    steady_now: bool,
    gps: [GpsPoint; GPS_RING],
    gps_len: usize,
    v_int: f64,
    heading_int: f64,
    /// `(t_s, v_int, heading_int)` every [`HIST_STEP_S`] over the last
    /// [`HIST_LEN`] steps, oldest overwritten: a fix that arrives late (a
    /// phone batches its samples) is paired with the integrals at its own
    /// time, not at its arrival.
    hist: [(f64, f64, f64); HIST_LEN],
    hist_next: usize,
    hist_len: usize,
    /// Time of the latest sample, s.
    now_s: f64,
    /// How late fixes arrive: decisions that need the fix after a
    /// candidate wait this much longer for it.
    fix_lag: FixDelay,
    /// How late the GPS speed and course are behind the fix's time: a fix
    /// is kept at the time they describe.
    speed_lag: GpsLag,
    /// The last fix with a speed (for the lag's next interval).
    last_speed_fix: Option<SpeedFix>,
    /// Since when the heading has been known without a break, s (infinite
    /// while it is not): the integrated speed means nothing before.
    known_since_s: f64,
    /// Cumulative rotation about the vehicle's x and y axes, rad (signed, so
    /// a lean into a corner and back cancels; a phone turned over does not).
    rot_int: [f64; 2],
    rot_recent: [f32; 2],
    last_freefall_t_s: f64,
    gps_lateral_mps2: f32,
    /// Yaw rate smoothed (tau 0.25 s) for the yaw x speed lateral signal: a
    /// handlebar's wobble is not the vehicle turning.
    yaw_smooth_rps: f32,
    long: Option<LongCandidate>,
    /// A closed longitudinal candidate waiting for the fix after it (a new
    /// one opened meanwhile).
    long_parked: Option<LongCandidate>,
    lat: Option<LatEpisode>,
    pre: Option<PreLock>,
    pending: [Option<PreLock>; PRE_LOCK_CAPACITY],
    was_known: bool,
    crash: Option<CrashCandidate>,
    queue: EventQueue<Event, EVENT_QUEUE_CAPACITY>,
    suppressed: SuppressionCounts,
    detected: [u32; 6],
    freefall_flag: bool,
}

fn kind_index(k: EventKind) -> usize {
    EventKind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

impl Detector {
    /// A detector for a validated configuration.
    pub fn new(cfg: DetectionConfig) -> Self {
        Self {
            cfg,
            steady_now: false,
            gps: [GpsPoint::default(); GPS_RING],
            gps_len: 0,
            v_int: 0.0,
            heading_int: 0.0,
            hist: [(0.0, 0.0, 0.0); HIST_LEN],
            hist_next: 0,
            hist_len: 0,
            now_s: f64::NEG_INFINITY,
            fix_lag: FixDelay::default(),
            speed_lag: GpsLag::new(),
            last_speed_fix: None,
            known_since_s: f64::INFINITY,
            rot_int: [0.0; 2],
            rot_recent: [0.0; 2],
            last_freefall_t_s: f64::NEG_INFINITY,
            gps_lateral_mps2: 0.0,
            yaw_smooth_rps: 0.0,
            long: None,
            long_parked: None,
            lat: None,
            pre: None,
            pending: [None; PRE_LOCK_CAPACITY],
            was_known: false,
            crash: None,
            queue: EventQueue::new(),
            suppressed: SuppressionCounts::default(),
            detected: [0; 6],
            freefall_flag: false,
        }
    }

    /// How late the GPS speed and course are behind their fixes' times, as
    /// measured against the accelerometer so far, s (see [`GpsLag`]).
    pub fn gps_speed_lag_s(&self) -> f32 {
        self.speed_lag.lag_s()
    }

    /// The configuration in use.
    pub fn config(&self) -> &DetectionConfig {
        &self.cfg
    }

    /// Suppressed candidates by reason.
    pub fn suppressed(&self) -> &SuppressionCounts {
        &self.suppressed
    }

    /// Events reported so far, per kind in [`EventKind::ALL`] order.
    pub fn detected(&self) -> [u32; 6] {
        self.detected
    }

    /// Events dropped because nobody pulled them (queue full).
    pub fn dropped_events(&self) -> u32 {
        self.queue.dropped()
    }

    /// Takes the oldest waiting event.
    pub fn pop_event(&mut self) -> Option<Event> {
        self.queue.pop()
    }

    /// True once after the detector saw a free fall (the pipeline then asks
    /// the orientation estimator to start over).
    pub fn take_freefall(&mut self) -> bool {
        core::mem::take(&mut self.freefall_flag)
    }

    fn push_event(&mut self, e: Event) {
        self.queue.push(e);
        self.detected[kind_index(e.kind)] += 1;
    }

    fn suppress(&mut self, r: Suppression) {
        self.suppressed.0[r.index()] += 1;
    }

    fn freefall_recent(&self, t: f64) -> bool {
        t - self.last_freefall_t_s < 1.5
    }

    fn latest_gps(&self) -> Option<&GpsPoint> {
        (self.gps_len > 0).then(|| &self.gps[self.gps_len - 1])
    }

    /// The last fix at or before `t` (within 3 s) and the first fix after it.
    fn gps_around(&self, t0: f64, t1: f64) -> (Option<GpsPoint>, Option<GpsPoint>) {
        let pts = &self.gps[..self.gps_len];
        let before = pts
            .iter()
            .rev()
            .find(|p| p.t_s <= t0 && t0 - p.t_s <= 3.0 && p.speed_mps.is_some())
            .copied();
        let after = pts
            .iter()
            .find(|p| p.t_s >= t1 && p.t_s - t1 <= 3.0 && p.speed_mps.is_some())
            .copied();
        (before, after)
    }

    /// Largest `sign`-ed acceleration between consecutive GPS fixes that lie
    /// within `[t0, t1]`, m/s^2.
    fn gps_peak_accel(&self, t0: f64, t1: f64, sign: f32) -> Option<f32> {
        let pts = &self.gps[..self.gps_len];
        pts.windows(2)
            .filter(|w| w[0].t_s >= t0 && w[1].t_s <= t1)
            .filter_map(|w| interval_accel(&w[0], &w[1], sign))
            .reduce(f32::max)
    }

    /// The largest `sign`-ed acceleration that two consecutive GPS intervals
    /// within `[t0, t1]` both reach (the smaller of the two), m/s^2.
    fn gps_sustained_accel(&self, t0: f64, t1: f64, sign: f32) -> Option<f32> {
        let pts = &self.gps[..self.gps_len];
        pts.windows(3)
            .filter(|w| w[0].t_s >= t0 && w[2].t_s <= t1)
            .filter_map(|w| {
                Some(interval_accel(&w[0], &w[1], sign)?.min(interval_accel(&w[1], &w[2], sign)?))
            })
            .reduce(f32::max)
    }

    /// The fixes bracketing a candidate for its guards: the last at or before
    /// `t0` and the first after `t1`, or, when a decision comes before that
    /// fix (GPS late or lost), the latest fix after `t0`.
    fn gps_bracket(&self, t0: f64, t1: f64) -> (Option<GpsPoint>, Option<GpsPoint>) {
        let (before, after) = self.gps_around(t0, t1);
        let after = after.or_else(|| self.latest_gps().copied().filter(|p| p.t_s > t0));
        (before, after)
    }

    /// A fix within 3 s of `t`, or one is still to come (fixes arrive late;
    /// a fix is kept at the time its speed describes, which may be earlier).
    fn gps_recent(&self, t: f64) -> bool {
        let late_s = self.fix_lag.s() + self.speed_lag.lag_s();
        self.latest_gps()
            .is_some_and(|p| t - p.t_s < 3.0 + f64::from(late_s))
    }

    fn position_near(&self, t: f64) -> Option<(f64, f64)> {
        self.gps[..self.gps_len]
            .iter()
            .filter(|p| (p.t_s - t).abs() <= 2.0)
            .min_by(|a, b| (a.t_s - t).abs().total_cmp(&(b.t_s - t).abs()))
            .map(|p| (p.lat_deg, p.lon_deg))
    }

    fn speed_at(&self, t: f64) -> Option<f32> {
        let (b, a) = self.gps_around(t, t);
        match (b, a) {
            (Some(b), Some(a)) if a.t_s > b.t_s => {
                let f = ((t - b.t_s) / (a.t_s - b.t_s)) as f32;
                Some(b.speed_mps.unwrap_or(0.0) * (1.0 - f) + a.speed_mps.unwrap_or(0.0) * f)
            }
            (Some(p), _) | (_, Some(p)) => p.speed_mps,
            _ => None,
        }
    }

    /// Decides every open candidate now (end of the trip): what would have
    /// waited for more samples is judged on what is known.
    pub fn finish(&mut self, t_s: f64) {
        if let Some(c) = self.long_parked.take() {
            self.decide_long(t_s, &c);
        }
        if let Some(c) = self.long.take() {
            self.decide_long(t_s, &c);
        }
        if let Some(ep) = self.lat.take() {
            self.decide_lateral(t_s, &ep);
        }
        let waiting = self.pending.iter_mut().filter_map(Option::take).count()
            + usize::from(self.pre.take().is_some());
        for _ in 0..waiting {
            self.suppress(Suppression::OrientationUnknown);
        }
        if let Some(c) = self.crash.take() {
            if c.after_fall {
                self.suppress(Suppression::PhoneFall);
            } else {
                self.suppress(Suppression::NotACrash);
            }
        }
    }

    /// Consumes one accepted GPS fix.
    pub fn on_gps(
        &mut self,
        t_s: f64,
        lat_deg: f64,
        lon_deg: f64,
        speed_mps: Option<f32>,
        bearing_deg: Option<f32>,
    ) {
        self.fix_lag.observe(self.now_s - t_s, 0.02, MAX_FIX_LAG_S);
        let v_int_raw = self.integrals_at(t_s).0;
        let mut back = None;
        if let (Some(prev), Some(v1)) = (self.last_speed_fix, speed_mps) {
            let dt_s = (t_s - prev.t_s) as f32;
            let oldest_s = prev.t_s - f64::from(MAX_LAG_S);
            let dv_gps = v1 - prev.speed_mps;
            // Neither the GPS nor the accelerometer changed speed: every lag
            // fits alike (and the walk through the history is spared).
            let quiet = dv_gps.abs() < LAG_QUIET_MPS
                && ((v_int_raw - prev.v_int) as f32).abs() < LAG_QUIET_MPS;
            if (0.5..=1.5).contains(&dt_s) && oldest_s >= self.known_since_s && !quiet {
                let after = self.v_int_back(t_s);
                let before = prev.back.unwrap_or_else(|| self.v_int_back(prev.t_s));
                let dv_imu = core::array::from_fn(|i| (after[i] - before[i]) as f32);
                self.speed_lag.observe(dv_gps, &dv_imu, dt_s);
                back = Some(after);
            }
        }
        if let Some(speed_mps) = speed_mps {
            self.last_speed_fix = Some(SpeedFix {
                t_s,
                speed_mps,
                v_int: v_int_raw,
                back,
            });
        }
        // The fix is kept at the time its speed and course describe.
        let t_s = t_s - f64::from(self.speed_lag.lag_s());
        let (v_int, heading_int) = self.integrals_at(t_s);
        let p = GpsPoint {
            t_s,
            speed_mps,
            bearing_deg,
            lat_deg,
            lon_deg,
            v_int,
            heading_int,
        };
        // Lateral acceleration from GPS (bearing rate x speed), for motorcycles
        // without gyroscope; positive to the left.
        if let Some(prev) = self.latest_gps() {
            let dt = (t_s - prev.t_s) as f32;
            self.gps_lateral_mps2 = match (bearing_deg, prev.bearing_deg, speed_mps, prev.speed_mps)
            {
                (Some(b1), Some(b0), Some(v1), Some(v0)) if (0.3..=3.0).contains(&dt) => {
                    let d = wrap_deg(b1 - b0);
                    -0.5 * (v0 + v1) * d.to_radians() / dt
                }
                _ => 0.0,
            };
        }
        if self.gps_len == GPS_RING {
            self.gps.rotate_left(1);
            self.gps[GPS_RING - 1] = p;
        } else {
            self.gps[self.gps_len] = p;
            self.gps_len += 1;
        }
    }

    /// Integrates the heading and keeps the history of the integrals.
    fn record_history(&mut self, t: f64, yaw_rps: Option<f32>, dt: f32) {
        if let Some(w) = yaw_rps {
            self.heading_int += f64::from(w * dt);
        }
        self.now_s = t;
        let last = (self.hist_next + HIST_LEN - 1) % HIST_LEN;
        if self.hist_len == 0 || t - self.hist[last].0 >= HIST_STEP_S {
            self.hist[self.hist_next] = (t, self.v_int, self.heading_int);
            self.hist_next = (self.hist_next + 1) % HIST_LEN;
            self.hist_len = (self.hist_len + 1).min(HIST_LEN);
        }
    }

    /// Integrated speed and heading at `t_s`: now's for a fix that is not
    /// late, else interpolated in the history (its oldest entry for a fix
    /// older than the history).
    fn integrals_at(&self, t_s: f64) -> (f64, f64) {
        self.integrals_back::<1>(t_s, 0.0)[0]
    }

    /// The integrated speed at `t_s` and at each candidate lag before it
    /// (see [`GpsLag`]).
    fn v_int_back(&self, t_s: f64) -> [f64; LAG_CANDIDATES] {
        self.integrals_back::<LAG_CANDIDATES>(t_s, f64::from(LAG_STEP_S))
            .map(|(v_int, _)| v_int)
    }

    /// Integrated speed and heading at `t_s` and at the `N - 1` times each
    /// `step_s` before the last, as [`Self::integrals_at`] gives them: in
    /// one walk back through the history.
    fn integrals_back<const N: usize>(&self, t_s: f64, step_s: f64) -> [(f64, f64); N] {
        let now = (self.v_int, self.heading_int);
        let mut out = [now; N];
        let mut newer = (self.now_s, self.v_int, self.heading_int);
        let mut k = 1;
        for (i, value) in out.iter_mut().enumerate() {
            let t = t_s - i as f64 * step_s;
            if t >= self.now_s {
                continue;
            }
            // Older than the history: its oldest entry.
            *value = (newer.1, newer.2);
            while k <= self.hist_len {
                let e = self.hist[(self.hist_next + HIST_LEN - k) % HIST_LEN];
                if e.0 <= t {
                    let span = newer.0 - e.0;
                    let f = if span > 0.0 { (t - e.0) / span } else { 0.0 };
                    *value = (e.1 + f * (newer.1 - e.1), e.2 + f * (newer.2 - e.2));
                    break;
                }
                newer = e;
                *value = (newer.1, newer.2);
                k += 1;
            }
        }
        out
    }

    /// Consumes one vehicle-frame sample.
    pub fn on_sample(&mut self, inp: &DetectorInput) {
        let t = inp.t_s;
        let dt = inp.dt_s;
        let [ax, ay, _] = inp.accel_mps2;
        self.steady_now = inp.phone_steady;
        self.v_int += f64::from(ax * dt);
        if !inp.orientation_known {
            self.known_since_s = f64::INFINITY;
        } else if self.known_since_s == f64::INFINITY {
            self.known_since_s = t;
        }
        self.record_history(t, inp.gyro_rps.map(|w| w[2]), dt);
        if let Some(w) = inp.gyro_rps {
            // One-pole smoothing, tau 0.25 s (dt / tau, fine for dt << tau).
            let k = (4.0 * dt).min(1.0);
            self.yaw_smooth_rps += k * (w[2] - self.yaw_smooth_rps);
            let keep = (1.0 - dt).max(0.0);
            for ((int, recent), wa) in self.rot_int.iter_mut().zip(&mut self.rot_recent).zip(w) {
                *int += f64::from(wa * dt);
                // Rotation in the last ~second, to look a little before a candidate.
                *recent = *recent * keep + wa * dt;
            }
        }
        // Free fall: the specific force nearly vanished for 80 ms or more.
        if inp.freefall_s >= 0.08 {
            if t - self.last_freefall_t_s > 1.5 {
                self.freefall_flag = true;
            }
            self.last_freefall_t_s = t;
        }
        let rot_limit = f64::from(self.cfg.phone_rotation_deg.to_radians());
        let freefall_now = self.freefall_recent(t);

        self.crash_step(inp, freefall_now);
        if inp.orientation_known && !self.was_known {
            self.classify_pre_lock(t, &inp.rotation);
        }
        self.was_known = inp.orientation_known;
        let yaw_episode = self.lat.as_ref().map(|ep| ep.from_yaw);
        let known = inp.orientation_known;
        if !known && inp.tilt_known {
            // Without a heading, keep harsh horizontal accelerations for later.
            self.pre_lock_step(t, dt, inp, freefall_now, rot_limit);
        }
        // (One call site each for the two steps: they stay inlined.)
        if known || self.long.is_some() || self.long_parked.is_some() {
            self.longitudinal_step(t, dt, ax, inp, freefall_now, rot_limit);
        }
        // An episode keeps its signal to its end. Without a heading a corner
        // needs none: the yaw rate about the known up, times the speed, is
        // its size and side.
        let from_yaw = match yaw_episode {
            Some(from_yaw) => from_yaw || self.cfg.lateral_from_yaw,
            None if known => self.cfg.lateral_from_yaw,
            None => inp.tilt_known,
        };
        let lateral = if from_yaw {
            self.lateral_from_yaw(t, inp)
        } else if known || yaw_episode.is_some() {
            Some(ay)
        } else {
            None
        };
        self.lateral_step(t, dt, lateral, inp, freefall_now, rot_limit);
    }

    /// Lateral acceleration as the gyroscope's yaw rate times the speed (a
    /// motorcycle's lean hides the accelerometer's; without a heading a
    /// car's is not known), or the GPS's bearing rate times speed without a
    /// gyroscope; `None` without a recent fix.
    fn lateral_from_yaw(&self, t: f64, inp: &DetectorInput) -> Option<f32> {
        // The speed now: the latest fix's, lowered by the integrated
        // deceleration since the moment it describes (a fix is up to a
        // second old, more when its speed lags or fixes come in batches,
        // and a motorcycle brakes into a corner: the old speed made a
        // calm corner harsh). Never raised: a speed-up taken from a
        // pocketed phone's integral made a false corner.
        let speed_now = self.latest_gps().and_then(|p| {
            p.speed_mps
                .map(|v| (v + ((self.v_int - p.v_int) as f32).min(0.0)).max(0.0))
        });
        match (inp.gyro_rps, speed_now) {
            (Some(_), Some(v)) if self.gps_recent(t) => Some(self.yaw_smooth_rps * v),
            (None, Some(_)) if self.gps_recent(t) && self.cfg.lateral_from_yaw => {
                Some(self.gps_lateral_mps2)
            }
            _ => None,
        }
    }

    fn pre_lock_step(
        &mut self,
        t: f64,
        dt: f32,
        inp: &DetectorInput,
        freefall_now: bool,
        rot_limit: f64,
    ) {
        let [ax, ay, _] = inp.accel_mps2;
        let m = libm::sqrtf(ax * ax + ay * ay);
        let th = self.cfg.braking_mps2.min(self.cfg.acceleration_mps2);
        let r = &inp.rotation;
        // Back to phone axes: p = R^T v.
        let to_phone = |x: f32, y: f32| {
            [
                r[0][0] * x + r[1][0] * y,
                r[0][1] * x + r[1][1] * y,
                r[0][2] * x + r[1][2] * y,
            ]
        };
        if let Some(c) = self.pre.as_mut() {
            if m >= 0.85 * th {
                c.active = true;
                c.w.end_s = t;
                if m >= th {
                    c.above_s += dt;
                }
                if m > c.w.peak {
                    c.w.peak = m;
                    c.w.peak_t_s = t;
                    c.peak_phone = to_phone(ax, ay);
                }
            } else {
                c.active = false;
            }
            if freefall_now || rotated(self.rot_int, c.w.rot_start) > rot_limit {
                c.w.moved = true;
            }
            let c = *c;
            let since = (t - c.w.end_s) as f32;
            let gps_closed = self.gps_around(c.w.start_s, c.w.end_s).1.is_some();
            if !c.active
                && since >= self.cfg.merge_gap_s
                && (gps_closed || !self.gps_recent(t) || since >= 1.0 + self.fix_lag.s())
            {
                self.pre = None;
                let mut c = c;
                let (b, a) = self.gps_around(c.w.start_s, c.w.end_s);
                if let (Some(b), Some(a)) = (b, a) {
                    c.speeds = Some((b.speed_mps.unwrap_or(0.0), a.speed_mps.unwrap_or(0.0)));
                }
                c.gps_rise = self.gps_peak_accel(c.w.start_s - 1.5, c.w.end_s + 1.5, 1.0);
                c.gps_fall = self.gps_peak_accel(c.w.start_s - 1.5, c.w.end_s + 1.5, -1.0);
                if c.w.peak >= self.cfg.crash_mps2 {
                    self.suppress(Suppression::Impact);
                } else if let Some(slot) = self.pending.iter_mut().find(|p| p.is_none()) {
                    *slot = Some(c);
                } else {
                    // Full: the oldest waits longest; it gives way.
                    self.pending.rotate_left(1);
                    self.pending[PRE_LOCK_CAPACITY - 1] = Some(c);
                    self.suppress(Suppression::OrientationUnknown);
                }
            }
        } else if m >= th {
            let mut w = Window::open(t, self, inp);
            w.peak = m;
            self.pre = Some(PreLock {
                w,
                peak_phone: to_phone(ax, ay),
                above_s: dt,
                active: true,
                speeds: None,
                gps_rise: None,
                gps_fall: None,
            });
        }
    }

    /// The heading just locked: decide the candidates kept while it was not.
    fn classify_pre_lock(&mut self, t: f64, r: &[[f32; 3]; 3]) {
        self.pre = None;
        for i in 0..PRE_LOCK_CAPACITY {
            let Some(c) = self.pending[i].take() else {
                continue;
            };
            let dot = |row: &[f32; 3]| {
                row[0] * c.peak_phone[0] + row[1] * c.peak_phone[1] + row[2] * c.peak_phone[2]
            };
            let long = dot(&r[0]);
            let lat = dot(&r[1]);
            let (kind, sign, threshold) = if long <= -self.cfg.braking_mps2 {
                (EventKind::HarshBraking, -1.0, self.cfg.braking_mps2)
            } else if long >= self.cfg.acceleration_mps2 {
                (
                    EventKind::HarshAcceleration,
                    1.0,
                    self.cfg.acceleration_mps2,
                )
            } else {
                // Lateral or weaker than a threshold once projected.
                if lat.abs() < long.abs() {
                    self.suppress(Suppression::TooShort);
                } else {
                    self.suppress(Suppression::OrientationUnknown);
                }
                continue;
            };
            if c.w.moved {
                self.suppress(Suppression::PhoneMoved);
                continue;
            }
            if let Some((vb, va)) = c.speeds {
                if vb < self.cfg.min_speed_mps && va < self.cfg.min_speed_mps {
                    self.suppress(Suppression::Walking);
                    continue;
                }
            }
            if c.above_s < self.cfg.min_duration_s {
                self.suppress(Suppression::TooShort);
                continue;
            }
            let gps_peak = if sign > 0.0 { c.gps_rise } else { c.gps_fall };
            if gps_peak.is_some_and(|a| a < self.cfg.gps_confirm_fraction * threshold) {
                self.suppress(Suppression::SpeedMismatch);
                continue;
            }
            let mut w = c.w;
            w.peak = long.abs();
            // Decided late, on a heading found afterwards: less sure.
            w.conf = 0.7;
            self.report_as(t, kind, None, &w, threshold, true);
        }
    }

    fn crash_step(&mut self, inp: &DetectorInput, freefall_now: bool) {
        let t = inp.t_s;
        let limit = self.cfg.crash_mps2 + inp.gravity_mps2;
        if self.crash.is_none() && inp.specific_force_max_sq < limit * limit {
            return;
        }
        let beyond_g = libm::sqrtf(inp.specific_force_max_sq) - inp.gravity_mps2;
        match self.crash.as_mut() {
            None if beyond_g >= self.cfg.crash_mps2 => {
                let mut w = Window::open(t, self, inp);
                w.peak = beyond_g;
                self.crash = Some(CrashCandidate {
                    w,
                    after_fall: freefall_now,
                    still_s: 0.0,
                });
            }
            None => {}
            Some(c) => {
                if beyond_g >= self.cfg.crash_mps2 {
                    // Still in the impact: decided once it is over.
                    c.w.end_s = t;
                    if beyond_g > c.w.peak {
                        c.w.peak = beyond_g;
                        c.w.peak_t_s = t;
                    }
                    return;
                } else if beyond_g.abs() < 0.5 {
                    c.still_s += inp.dt_s;
                } else {
                    c.still_s = 0.0;
                }
                let c = *c;
                self.decide_crash(t, &c);
            }
        }
    }

    fn decide_crash(&mut self, t: f64, c: &CrashCandidate) {
        if c.after_fall {
            self.crash = None;
            self.suppress(Suppression::PhoneFall);
            return;
        }
        let waited = (t - c.w.end_s) as f32;
        let (before, _) = self.gps_around(c.w.start_s, c.w.start_s);
        let latest = self.latest_gps().copied();
        let confirmed = match (before, latest) {
            (Some(b), Some(l)) if l.t_s > c.w.end_s => {
                let v0 = b.speed_mps.unwrap_or(0.0);
                let v1 = l.speed_mps.unwrap_or(f32::MAX);
                if v1 <= 1.0 {
                    Some(v0 - v1 >= 3.0)
                } else {
                    None
                }
            }
            (None, _) if !self.gps_recent(t) => (c.still_s >= 3.0).then_some(true),
            _ => None,
        };
        match confirmed {
            Some(true) => {
                self.crash = None;
                let e = Event {
                    kind: EventKind::Crash,
                    direction: None,
                    start_s: c.w.start_s,
                    end_s: c.w.end_s,
                    peak_mps2: c.w.peak,
                    severity: Severity::Severe,
                    confidence: if before.is_some() { 0.9 } else { 0.6 },
                    speed_at_start_mps: before.and_then(|b| b.speed_mps),
                    position_at_peak: self.position_near(c.w.peak_t_s),
                    decided_s: t,
                    late: false,
                };
                self.push_event(e);
            }
            Some(false) => {
                self.crash = None;
                self.suppress(Suppression::NotACrash);
            }
            None if waited > self.cfg.crash_confirm_s => {
                self.crash = None;
                self.suppress(Suppression::NotACrash);
            }
            None => {}
        }
    }

    fn longitudinal_step(
        &mut self,
        t: f64,
        dt: f32,
        ax: f32,
        inp: &DetectorInput,
        freefall_now: bool,
        rot_limit: f64,
    ) {
        let brake = ax <= -self.cfg.braking_mps2;
        let accel = ax >= self.cfg.acceleration_mps2;
        if let Some(c) = self.long.as_mut() {
            let v = ax * c.sign;
            if v >= 0.85 * c.threshold {
                if !c.active {
                    c.active = true;
                }
                c.near_s += dt;
                c.w.end_s = t;
                if v >= c.threshold {
                    c.above_s += dt;
                }
                if v > c.w.peak {
                    c.w.peak = v;
                    c.w.peak_t_s = t;
                }
            } else {
                c.active = false;
            }
            if freefall_now || rotated(self.rot_int, c.w.rot_start) > rot_limit {
                c.w.moved = true;
            }
            if !inp.orientation_known {
                c.w.orient_ok = false;
            }
            c.w.steady &= inp.phone_steady;
            let c = *c;
            // Opposite-kind crossing closes the candidate at once.
            let opposite = (c.sign < 0.0 && accel) || (c.sign > 0.0 && brake);
            if !c.active {
                let since = (t - c.w.end_s) as f32;
                let ready = self.long_ready(t, &c);
                // A new crossing after 0.8 s is a new candidate, not more of
                // this one; a closed one still waits for its fix, parked.
                if opposite
                    || (since >= self.cfg.merge_gap_s && ready)
                    || (since >= 0.8 && (brake || accel))
                {
                    self.long = None;
                    if ready {
                        self.decide_long(t, &c);
                    } else if let Some(old) = self.long_parked.replace(c) {
                        self.decide_long(t, &old);
                    }
                }
            }
        }
        if let Some(c) = self.long_parked {
            if self.long_ready(t, &c) {
                self.long_parked = None;
                self.decide_long(t, &c);
            }
        }
        // Opened at 0.85 of a threshold: a grade's pull hides part of an
        // acceleration from the accelerometer, not from the GPS.
        let brake_near = ax <= -NEAR_FRACTION * self.cfg.braking_mps2;
        let accel_near = ax >= NEAR_FRACTION * self.cfg.acceleration_mps2;
        if self.long.is_none() && (brake_near || accel_near) {
            let (kind, sign, threshold) = if brake_near {
                (EventKind::HarshBraking, -1.0, self.cfg.braking_mps2)
            } else {
                (
                    EventKind::HarshAcceleration,
                    1.0,
                    self.cfg.acceleration_mps2,
                )
            };
            let mut w = Window::open(t, self, inp);
            w.peak = ax * sign;
            self.long = Some(LongCandidate {
                gyro: inp.gyro_rps.is_some(),
                kind,
                sign,
                threshold,
                w,
                above_s: if brake || accel { dt } else { 0.0 },
                near_s: dt,
                active: true,
            });
        }
    }

    /// A closed longitudinal candidate can be decided: the fix after it has
    /// come, there is no GPS, or it waited 0.8 s (longer when fixes arrive
    /// late) in vain.
    ///
    /// A GPS whose speed lags has told only of the candidate's first part
    /// by then: the decision waits up to the lag longer for the rest, unless
    /// what the GPS has told already confirms the candidate.
    fn long_ready(&self, t: f64, c: &LongCandidate) -> bool {
        let since = (t - c.w.end_s) as f32;
        let waited = since >= 0.8 + self.fix_lag.s();
        self.gps_around(c.w.start_s, c.w.end_s).1.is_some()
            || !self.gps_recent(t)
            || (waited && (self.speed_lag.lag_s() == 0.0 || self.gps_confirms(c)))
            || since >= 0.8 + self.fix_lag.s() + self.speed_lag.lag_s()
    }

    /// The GPS acceleration a braking or acceleration candidate must show, as
    /// a fraction of its threshold (see [`DetectionConfig::gps_confirm_steady_s`]).
    fn gps_confirm_fraction(&self, c: &LongCandidate) -> f32 {
        let mut fraction = self.cfg.gps_confirm_fraction;
        if c.w.steady && self.steady_now && self.cfg.gps_confirm_steady_s > 0.0 {
            let duration_s = (c.w.end_s - c.w.start_s) as f32;
            fraction *= (duration_s / self.cfg.gps_confirm_steady_s).min(1.0);
        }
        fraction
    }

    /// The strongest one-interval GPS acceleration around the candidate
    /// (allowing for GPS lag), if any.
    fn gps_peak_around(&self, c: &LongCandidate) -> Option<f32> {
        self.gps_peak_accel(c.w.start_s - 1.5, c.w.end_s + 1.5, c.sign)
    }

    /// Whether the GPS seen so far shows the candidate.
    fn gps_confirms(&self, c: &LongCandidate) -> bool {
        self.gps_peak_around(c)
            .is_some_and(|a| a >= self.gps_confirm_fraction(c) * c.threshold)
    }

    /// Guards shared by all kinds; `None` means the candidate may be reported.
    fn common_guards(&self, w: &Window) -> Option<Suppression> {
        if !w.orient_ok {
            return Some(Suppression::OrientationUnknown);
        }
        if w.moved || self.freefall_recent(w.end_s) {
            return Some(Suppression::PhoneMoved);
        }
        let (before, after) = self.gps_bracket(w.start_s, w.end_s);
        if let (Some(b), Some(a)) = (before, after) {
            let vb = b.speed_mps.unwrap_or(0.0);
            let va = a.speed_mps.unwrap_or(0.0);
            if vb < self.cfg.min_speed_mps && va < self.cfg.min_speed_mps {
                return Some(Suppression::Walking);
            }
        }
        None
    }

    fn decide_long(&mut self, t: f64, c: &LongCandidate) {
        if c.w.peak >= self.cfg.crash_mps2 {
            self.suppress(Suppression::Impact);
            return;
        }
        if c.w.peak < c.threshold {
            // Never at the threshold: harsh only if the GPS shows the full
            // threshold over two consecutive intervals (on a 7 % grade the
            // accelerometer reads 0.7 m/s^2 less than the vehicle's
            // acceleration), taken as the peak; otherwise an ordinary
            // manoeuvre, counted nowhere. One interval is not enough: the
            // real cloudpose iPhone's speed leapt 4.4 m/s in the second a
            // pull-away from a standstill showed (CAN: 2.1 m/s^2 at most).
            let sustained = self.gps_sustained_accel(c.w.start_s - 1.5, c.w.end_s + 1.5, c.sign);
            let Some(gps_peak) = sustained.filter(|a| *a >= c.threshold) else {
                return;
            };
            if c.near_s < self.cfg.min_duration_s || self.common_guards(&c.w).is_some() {
                return;
            }
            let mut w = c.w;
            w.peak = gps_peak;
            w.conf *= 0.8;
            self.report(t, c.kind, None, &w, c.threshold);
            return;
        }
        if let Some(r) = self.common_guards(&c.w) {
            self.suppress(r);
            return;
        }
        if c.above_s < self.cfg.min_duration_s {
            self.suppress(Suppression::TooShort);
            return;
        }
        let (before, after) = self.gps_bracket(c.w.start_s, c.w.end_s);
        // The phone turning about the vertical while the vehicle keeps its
        // course (GPS bearing) is the phone being handled.
        if let (Some(b), Some(a), true) = (before, after, c.gyro) {
            if let (Some(b0), Some(b1), Some(v0), Some(v1)) =
                (b.bearing_deg, a.bearing_deg, b.speed_mps, a.speed_mps)
            {
                if v0.min(v1) >= self.cfg.min_speed_mps {
                    let gps_turn = -wrap_deg(b1 - b0);
                    let gyro_turn = ((a.heading_int - b.heading_int) as f32).to_degrees();
                    if (gyro_turn - gps_turn).abs() > PHONE_YAW_MISMATCH_DEG {
                        self.suppress(Suppression::PhoneMoved);
                        return;
                    }
                }
            }
        }
        if let (Some(b), Some(a)) = (before, after) {
            let dv_gps = a.speed_mps.unwrap_or(0.0) - b.speed_mps.unwrap_or(0.0);
            let dv_imu = (a.v_int - b.v_int) as f32;
            let tol = self.cfg.speed_mismatch_mps + self.cfg.speed_mismatch_fraction * dv_gps.abs();
            if (dv_imu - dv_gps).abs() > tol {
                self.suppress(Suppression::SpeedMismatch);
                return;
            }
        }
        // Finer: the strongest one-interval GPS acceleration around the
        // candidate must show it.
        if self
            .gps_peak_around(c)
            .is_some_and(|a| a < self.gps_confirm_fraction(c) * c.threshold)
        {
            self.suppress(Suppression::SpeedMismatch);
            return;
        }
        self.report(t, c.kind, None, &c.w, c.threshold);
    }

    fn report(
        &mut self,
        t: f64,
        kind: EventKind,
        direction: Option<Direction>,
        w: &Window,
        threshold: f32,
    ) {
        self.report_as(t, kind, direction, w, threshold, false);
    }

    fn report_as(
        &mut self,
        t: f64,
        kind: EventKind,
        direction: Option<Direction>,
        w: &Window,
        threshold: f32,
        late: bool,
    ) {
        let margin = (0.5 + (w.peak / threshold - 1.0)).clamp(0.5, 1.0);
        let e = Event {
            kind,
            direction,
            start_s: w.start_s,
            end_s: w.end_s,
            peak_mps2: w.peak,
            severity: if w.peak >= self.cfg.severe_factor * threshold {
                Severity::Severe
            } else {
                Severity::Moderate
            },
            confidence: (w.conf * margin).clamp(0.0, 1.0),
            speed_at_start_mps: self.speed_at(w.start_s),
            position_at_peak: self.position_near(w.peak_t_s),
            decided_s: t,
            late,
        };
        self.push_event(e);
    }

    fn lateral_step(
        &mut self,
        t: f64,
        dt: f32,
        lateral: Option<f32>,
        inp: &DetectorInput,
        freefall_now: bool,
        rot_limit: f64,
    ) {
        let onset = self.cfg.lateral_onset_fraction * self.cfg.lane_change_mps2;
        let Some(lat) = lateral else {
            return;
        };
        if let Some(ep) = self.lat.as_mut() {
            if lat.abs() >= onset {
                ep.last_active_s = t;
                ep.w.end_s = t;
            }
            if lat > ep.peak_left {
                ep.peak_left = lat;
                ep.peak_left_t = t;
                ep.yaw_left_rps = self.yaw_smooth_rps;
            }
            if -lat > ep.peak_right {
                ep.peak_right = -lat;
                ep.peak_right_t = t;
                ep.yaw_right_rps = self.yaw_smooth_rps;
            }
            if lat >= self.cfg.cornering_mps2 {
                ep.above_corner_left_s += dt;
            }
            if -lat >= self.cfg.cornering_mps2 {
                ep.above_corner_right_s += dt;
            }
            if lat.abs() >= self.cfg.lane_change_mps2 {
                ep.above_lc_s += dt;
            }
            if freefall_now || rotated(self.rot_int, ep.w.rot_start) > rot_limit {
                ep.w.moved = true;
            }
            if !(inp.orientation_known || ep.from_yaw && inp.tilt_known) {
                ep.w.orient_ok = false;
            }
            let ep = *ep;
            let quiet = (t - ep.last_active_s) as f32;
            // A manoeuvre is seconds long; an episode held open far longer is
            // a drifting signal, decided as it stands.
            let too_long = t - ep.w.start_s > MAX_LATERAL_EPISODE_S;
            if too_long {
                self.lat = None;
                self.decide_lateral(t, &ep);
            } else if quiet >= self.cfg.lateral_quiet_s {
                // The heading after the episode: gyroscope now, or the GPS fix
                // half a second after its end (waiting at most 2 s for it).
                let gps_after = self.gps_around(ep.w.start_s, ep.w.end_s + 0.5).1;
                if ep.gyro && !ep.from_yaw
                    || gps_after.is_some()
                    || quiet >= 2.0 + self.cfg.lateral_quiet_s + self.fix_lag.s()
                    || !self.gps_recent(t)
                {
                    self.lat = None;
                    self.decide_lateral(t, &ep);
                }
            }
        } else if lat.abs() >= onset {
            let mut w = Window::open(t, self, inp);
            let from_yaw = !inp.orientation_known;
            if from_yaw {
                // The tilt is known (the caller asks it); decided on less.
                w.orient_ok = true;
                w.conf = 0.7;
            }
            self.lat = Some(LatEpisode {
                w,
                heading_start: self.heading_int,
                last_active_s: t,
                peak_left: lat.max(0.0),
                peak_right: (-lat).max(0.0),
                peak_left_t: t,
                peak_right_t: t,
                first_left: lat > 0.0,
                above_corner_left_s: 0.0,
                above_corner_right_s: 0.0,
                above_lc_s: 0.0,
                gyro: inp.gyro_rps.is_some(),
                from_yaw,
                yaw_left_rps: self.yaw_smooth_rps,
                yaw_right_rps: self.yaw_smooth_rps,
            });
        }
    }

    fn decide_lateral(&mut self, t: f64, ep: &LatEpisode) {
        let onset = self.cfg.lateral_onset_fraction * self.cfg.lane_change_mps2;
        let mut ep = *ep;
        if ep.from_yaw {
            // Lowered to the GPS speed of the peak's moment, never raised.
            if let Some(v) = self.speed_at(ep.peak_left_t) {
                ep.peak_left = ep.peak_left.min(ep.yaw_left_rps * v);
            }
            if let Some(v) = self.speed_at(ep.peak_right_t) {
                ep.peak_right = ep.peak_right.min(-ep.yaw_right_rps * v);
            }
        }
        // Lasting heading change, degrees, positive to the left.
        let heading_deg = if ep.gyro {
            Some(((self.heading_int - ep.heading_start) as f32).to_degrees())
        } else {
            let (b, a) = self.gps_around(ep.w.start_s, ep.w.end_s + 0.5);
            match (b.and_then(|p| p.bearing_deg), a.and_then(|p| p.bearing_deg)) {
                (Some(b0), Some(b1)) => Some(-wrap_deg(b1 - b0)),
                _ => None,
            }
        };
        let both_ways = ep.peak_left >= onset && ep.peak_right >= onset;
        let is_corner = match heading_deg {
            Some(h) => h.abs() >= self.cfg.corner_min_heading_deg,
            // No heading at all: a one-sided episode is taken for a corner.
            None => !both_ways,
        };
        let is_lane_change = match heading_deg {
            Some(h) => h.abs() < self.cfg.lane_change_max_heading_deg && both_ways,
            None => both_ways,
        };
        if is_corner {
            let left = match heading_deg {
                Some(h) => h > 0.0,
                None => ep.peak_left >= ep.peak_right,
            };
            let (peak, above, peak_t) = if left {
                (ep.peak_left, ep.above_corner_left_s, ep.peak_left_t)
            } else {
                (ep.peak_right, ep.above_corner_right_s, ep.peak_right_t)
            };
            if peak < self.cfg.cornering_mps2 {
                return;
            }
            if let Some(r) = self.common_guards(&ep.w) {
                self.suppress(r);
                return;
            }
            if above < self.cfg.min_duration_s {
                self.suppress(Suppression::TooShort);
                return;
            }
            let mut w = ep.w;
            w.peak = peak;
            w.peak_t_s = peak_t;
            let dir = if left {
                Direction::Left
            } else {
                Direction::Right
            };
            self.report(
                t,
                EventKind::HarshCornering,
                Some(dir),
                &w,
                self.cfg.cornering_mps2,
            );
        } else if is_lane_change {
            let peak = ep.peak_left.max(ep.peak_right);
            if peak < self.cfg.lane_change_mps2 {
                return;
            }
            if let Some(r) = self.common_guards(&ep.w) {
                self.suppress(r);
                return;
            }
            if ep.above_lc_s < self.cfg.min_duration_s {
                self.suppress(Suppression::TooShort);
                return;
            }
            let mut w = ep.w;
            w.peak = peak;
            w.peak_t_s = if ep.peak_left >= ep.peak_right {
                ep.peak_left_t
            } else {
                ep.peak_right_t
            };
            let dir = if ep.first_left {
                Direction::Left
            } else {
                Direction::Right
            };
            self.report(
                t,
                EventKind::HarshLaneChange,
                Some(dir),
                &w,
                self.cfg.lane_change_mps2,
            );
        }
    }
}

/// The `sign`-ed acceleration between two fixes about a second apart
/// (0.5-1.5 s), m/s^2; `None` without both speeds.
fn interval_accel(a: &GpsPoint, b: &GpsPoint, sign: f32) -> Option<f32> {
    let dt = (b.t_s - a.t_s) as f32;
    match (a.speed_mps, b.speed_mps) {
        (Some(v0), Some(v1)) if (0.5..=1.5).contains(&dt) => Some(sign * (v1 - v0) / dt),
        _ => None,
    }
}

fn rotated(now: [f64; 2], start: [f64; 2]) -> f64 {
    let (x, y) = (now[0] - start[0], now[1] - start[1]);
    libm::sqrt(x * x + y * y)
}

fn wrap_deg(d: f32) -> f32 {
    let mut d = d % 360.0;
    if d > 180.0 {
        d -= 360.0;
    } else if d < -180.0 {
        d += 360.0;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::IDENTITY;

    #[test]
    fn a_late_fix_is_paired_with_the_speed_at_its_own_time() {
        let mut d = Detector::new(DetectionConfig::car());
        // Braking at 4 m/s^2 for 3 s at 100 Hz: integrated speed -4 m/s per s.
        for i in 1..=300 {
            d.on_sample(&DetectorInput {
                t_s: f64::from(i) * 0.01,
                dt_s: 0.01,
                accel_mps2: [-4.0, 0.0, 0.0],
                gyro_rps: Some([0.0, 0.0, 0.5]),
                specific_force_max_sq: 96.0,
                freefall_s: 0.0,
                gravity_mps2: 9.81,
                orientation_known: true,
                tilt_known: true,
                rotation: IDENTITY,
                orientation_confidence: 1.0,
                phone_steady: false,
            });
        }
        // A fix timed 1.0 s arriving at 3.0 s: the values at 1.0 s, not now's.
        let (v, h) = d.integrals_at(1.0);
        assert!((v - -4.0).abs() < 0.05 && (h - 0.5).abs() < 0.01, "{v} {h}");
        let (v_now, _) = d.integrals_at(3.0);
        assert!((v_now - -12.0).abs() < 0.05, "{v_now}");
        // Older than the 12 s history: its oldest entry.
        assert!((d.integrals_at(-20.0).0 - -0.04).abs() < 0.05);
    }

    const FS: f64 = 100.0;

    /// Feeds `seconds` of samples with longitudinal acceleration `ax(t)`, yaw
    /// rate `yaw(t)` and lateral `ay(t)`, GPS at 1 Hz with speed `v(t)`.
    struct Drive {
        d: Detector,
        t: f64,
        events: Vec<Event>,
        /// Tilt known while the heading is not.
        tilt_only: bool,
        forces: ForceMonitor,
        /// Fixes are handed over this late (a phone's batches), s.
        fix_lag_s: f64,
        late_fixes: Vec<(f64, Option<f32>, Option<f32>)>,
        /// The phone measured steady by the gyroscope.
        steady: bool,
    }

    extern crate std;
    use std::vec::Vec;

    impl Drive {
        fn new(cfg: DetectionConfig) -> Self {
            Self {
                d: Detector::new(cfg),
                t: 0.0,
                events: Vec::new(),
                tilt_only: false,
                forces: ForceMonitor::default(),
                fix_lag_s: 0.0,
                late_fixes: Vec::new(),
                steady: false,
            }
        }

        #[allow(clippy::too_many_arguments)]
        fn run(
            &mut self,
            seconds: f64,
            known: bool,
            ax: impl Fn(f64) -> f32,
            ay: impl Fn(f64) -> f32,
            yaw: impl Fn(f64) -> f32,
            v: impl Fn(f64) -> Option<f32>,
            force: impl Fn(f64) -> f32,
        ) {
            let n = (seconds * FS) as usize;
            for _ in 0..n {
                self.t += 1.0 / FS;
                let t = self.t;
                if (t * FS).round() as i64 % FS as i64 == 0 {
                    let speed = v(t);
                    let bearing = speed.map(|_| 90.0 - (self.d.heading_int as f32).to_degrees());
                    self.late_fixes.push((t, speed, bearing));
                }
                while let Some(&(t_fix, speed, bearing)) = self.late_fixes.first() {
                    if t_fix + self.fix_lag_s > t + 1e-9 {
                        break;
                    }
                    self.late_fixes.remove(0);
                    self.d.on_gps(t_fix, 52.0, 13.0, speed, bearing);
                }
                self.forces
                    .add(force(t) * force(t), 9.81, (1.0 / FS) as f32);
                let (specific_force_max_sq, freefall_s) = self.forces.take();
                self.d.on_sample(&DetectorInput {
                    t_s: t,
                    dt_s: (1.0 / FS) as f32,
                    accel_mps2: [ax(t), ay(t), 0.0],
                    gyro_rps: Some([0.0, 0.0, yaw(t)]),
                    specific_force_max_sq,
                    freefall_s,
                    gravity_mps2: 9.81,
                    orientation_known: known,
                    tilt_known: known || self.tilt_only,
                    rotation: IDENTITY,
                    orientation_confidence: if known { 1.0 } else { 0.0 },
                    phone_steady: self.steady,
                });
                while let Some(e) = self.d.pop_event() {
                    self.events.push(e);
                }
            }
        }
    }

    fn g(_: f64) -> f32 {
        9.81
    }
    fn zero(_: f64) -> f32 {
        0.0
    }

    /// A braking of `peak` from t0 for `len` seconds, speed from 15 m/s.
    fn braking(t0: f64, len: f64, peak: f32) -> (impl Fn(f64) -> f32, impl Fn(f64) -> Option<f32>) {
        let ax = move |t: f64| if t >= t0 && t < t0 + len { -peak } else { 0.0 };
        let v = move |t: f64| Some((15.0 - peak * ((t - t0).clamp(0.0, len)) as f32).max(0.0));
        (ax, v)
    }

    #[test]
    fn a_harsh_braking_is_reported_within_a_second() {
        let mut d = Drive::new(DetectionConfig::car());
        let (ax, v) = braking(5.0, 1.5, 4.5);
        d.run(10.0, true, ax, zero, zero, v, g);
        assert_eq!(d.events.len(), 1, "{:?}", d.events);
        let e = d.events[0];
        assert_eq!(e.kind, EventKind::HarshBraking);
        assert!((e.peak_mps2 - 4.5).abs() < 0.01);
        assert_eq!(e.severity, Severity::Severe);
        assert!(
            e.decided_s - e.end_s <= 1.0,
            "latency {}",
            e.decided_s - e.end_s
        );
        assert_eq!(e.speed_at_start_mps.map(|v| v.round()), Some(15.0));
        assert!(e.position_at_peak.is_some());
    }

    #[test]
    fn a_normal_braking_and_a_short_spike_are_not() {
        let mut d = Drive::new(DetectionConfig::car());
        let (ax, v) = braking(5.0, 2.0, 2.0);
        d.run(10.0, true, ax, zero, zero, v, g);
        // A 0.1 s spike (a pothole's echo): too short.
        d.run(
            10.0,
            true,
            |t| if (13.0..13.1).contains(&t) { -5.0 } else { 0.0 },
            zero,
            zero,
            |_| Some(7.0),
            g,
        );
        assert!(d.events.is_empty(), "{:?}", d.events);
        assert_eq!(d.d.suppressed().get(Suppression::TooShort), 1);
    }

    #[test]
    fn nothing_while_the_orientation_is_unknown() {
        let mut d = Drive::new(DetectionConfig::car());
        let (ax, v) = braking(5.0, 1.5, 4.5);
        d.run(10.0, false, ax, zero, zero, v, g);
        d.d.finish(d.t);
        assert!(d.events.is_empty());
        assert_eq!(d.d.suppressed().get(Suppression::OrientationUnknown), 0);
        // Unknown with no tilt either: not even kept for later.
        assert_eq!(d.d.suppressed().total(), 0);
    }

    #[test]
    fn a_braking_before_the_heading_is_known_is_reported_late() {
        let mut d = Drive::new(DetectionConfig::car());
        d.tilt_only = true;
        let (ax, v) = braking(5.0, 1.5, 4.5);
        d.run(10.0, false, &ax, zero, zero, &v, g);
        assert!(d.events.is_empty());
        // The heading locks (identity: the braking was along -x).
        d.run(1.0, true, zero, zero, zero, |_| Some(9.0), g);
        assert_eq!(d.events.len(), 1, "{:?}", d.events);
        assert!(d.events[0].late);
        assert_eq!(d.events[0].kind, EventKind::HarshBraking);
    }

    #[test]
    fn a_corner_before_the_heading_is_known_is_measured_by_yaw_rate_times_speed() {
        use core::f64::consts::PI;
        // 90 degrees right at 8 m/s in 2 s (6.3 m/s^2). The tilt is known,
        // the heading not: the horizontal axes are arbitrary (here they carry
        // nothing), the yaw rate about up is the vehicle's.
        let turning = |t: f64| (5.0..7.0).contains(&t);
        let yaw = move |t: f64| if turning(t) { -(PI / 4.0) as f32 } else { 0.0 };
        let mut d = Drive::new(DetectionConfig::car());
        d.tilt_only = true;
        d.run(15.0, false, zero, zero, yaw, |_| Some(8.0), g);
        assert_eq!(d.events.len(), 1, "{:?}", d.events);
        assert_eq!(d.events[0].kind, EventKind::HarshCornering);
        assert_eq!(d.events[0].direction, Some(Direction::Right));
        assert!(d.events[0].decided_s - d.events[0].end_s <= 4.0);
        // Without the tilt, up is not known either: nothing.
        let mut d = Drive::new(DetectionConfig::car());
        d.run(15.0, false, zero, zero, yaw, |_| Some(8.0), g);
        assert!(d.events.is_empty(), "{:?}", d.events);

        // A braking from 12 to 5 m/s, then a calm turn at 0.7 rad/s (3.5
        // m/s^2) while the fixes come 2 s late: the speed at hand in the turn
        // is 12 m/s, then 9 and 6 (8.4 to 4.5 m/s^2), and without a heading
        // the integrated deceleration cannot lower it. The speed of the
        // peak's moment can.
        let mut d = Drive::new(DetectionConfig::car());
        d.tilt_only = true;
        d.fix_lag_s = 2.0;
        d.run(
            25.0,
            false,
            zero,
            zero,
            |t| if (12.6..15.5).contains(&t) { -0.7 } else { 0.0 },
            |t| Some((12.0 - 2.8 * (t - 10.0).clamp(0.0, 2.5)) as f32),
            g,
        );
        assert!(d.events.is_empty(), "{:?}", d.events);
    }

    #[test]
    fn an_acceleration_a_grade_hides_counts_when_the_gps_shows_it_twice() {
        // Downhill, the accelerometer reads 2.6 m/s^2 (0.7 less than the
        // vehicle's 3.3) for 2.5 s, under the 2.9 threshold.
        let events = |v: &dyn Fn(f64) -> f32| {
            let mut d = Drive::new(DetectionConfig::car());
            let up = |t: f64| (10.0..12.5).contains(&t);
            d.run(
                20.0,
                true,
                move |t| if up(t) { 2.6 } else { 0.0 },
                zero,
                zero,
                |t| Some(v(t)),
                g,
            );
            d.events
        };
        // The GPS speed rises 3.3 m/s every second: harsh.
        let e = events(&|t| (5.0 + 3.3 * (t - 10.0).clamp(0.0, 2.5)) as f32);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].kind, EventKind::HarshAcceleration);
        assert!(e[0].peak_mps2 >= 2.9, "{:?}", e[0]);
        // One second's leap is not enough (a real phone's GPS speed leapt
        // 4.4 m/s as a pull-away from a standstill began).
        let e = events(&|t| match t {
            t if t < 11.0 => 5.0,
            t if t < 12.0 => 9.4,
            _ => 10.9,
        });
        assert!(e.is_empty(), "{e:?}");
        // Nor is the accelerometer's 2.6 with a GPS that shows 2.6.
        let e = events(&|t| (5.0 + 2.6 * (t - 10.0).clamp(0.0, 2.5)) as f32);
        assert!(e.is_empty(), "{e:?}");
    }

    #[test]
    fn integrated_speed_disagreeing_with_gps_is_suppressed() {
        let mut d = Drive::new(DetectionConfig::car());
        // The accelerometer says 4.5 m/s^2 for 1.5 s, the GPS speed stays put.
        let (ax, _) = braking(5.0, 1.5, 4.5);
        d.run(10.0, true, ax, zero, zero, |_| Some(12.0), g);
        assert!(d.events.is_empty(), "{:?}", d.events);
        assert_eq!(d.d.suppressed().get(Suppression::SpeedMismatch), 1);
    }

    #[test]
    fn a_short_braking_the_gps_cannot_resolve_counts_on_a_steady_phone_only() {
        // 4.5 m/s^2 for 0.6 s: the 1 Hz GPS shows a 1.2 m/s drop in one
        // interval, under 0.85 x the threshold.
        let ax = |t: f64| if (5.2..5.8).contains(&t) { -4.5 } else { 0.0 };
        let v = |t: f64| Some(15.0 - 1.2 * (t - 5.0).clamp(0.0, 1.0) as f32);
        for steady in [false, true] {
            let mut d = Drive::new(DetectionConfig::car());
            d.steady = steady;
            d.run(10.0, true, ax, zero, zero, v, g);
            if steady {
                assert_eq!(d.events.len(), 1, "{:?}", d.events);
                assert_eq!(d.events[0].kind, EventKind::HarshBraking);
            } else {
                assert!(d.events.is_empty(), "{:?}", d.events);
                assert_eq!(d.d.suppressed().get(Suppression::SpeedMismatch), 1);
            }
        }
        // A 3 s braking is long enough for the GPS to show its rate: on a
        // steady phone too, 2.2 m/s^2 in the fixes does not confirm 3.5.
        let ax = |t: f64| if (5.0..8.0).contains(&t) { -3.5 } else { 0.0 };
        let v = |t: f64| Some(15.0 - 2.2 * (t - 5.0).clamp(0.0, 3.0) as f32);
        let mut d = Drive::new(DetectionConfig::car());
        d.steady = true;
        d.run(12.0, true, ax, zero, zero, v, g);
        assert!(d.events.is_empty(), "{:?}", d.events);
        assert_eq!(d.d.suppressed().get(Suppression::SpeedMismatch), 1);
    }

    #[test]
    fn a_gps_speed_that_lags_is_paired_with_the_moment_it_describes() {
        // The vehicle speeds up and slows down calmly (2 m/s^2 for 3 s each
        // way, every 20 s), then brakes harshly (4.5 m/s^2 for 2 s); the
        // GPS speed 1.2 s late (as a phone's smoothed speed), or 2.2 s (as
        // the real cloudpose iPhone's, measured against its accelerometer).
        // Paired with the integrated speed at the fix's own time, the fix
        // after the braking shows part of it: a speed mismatch. At 2.2 s the
        // fixes there are 0.8 s after the braking have not seen it at all:
        // the decision waits for the one that does (not for the whole lag).
        let ax = |t: f64| match t % 20.0 {
            _ if (302.0..304.0).contains(&t) => -4.5,
            _ if t >= 300.0 => 0.0,
            c if (5.0..8.0).contains(&c) => 2.0,
            c if (12.0..15.0).contains(&c) => -2.0,
            _ => 0.0,
        };
        let v_true = |t: f64| {
            let c = t.min(300.0) % 20.0;
            let calm = 2.0 * ((c.clamp(5.0, 8.0) - 5.0) - (c.clamp(12.0, 15.0) - 12.0));
            (10.0 + calm - 4.5 * (t - 302.0).clamp(0.0, 2.0)) as f32
        };
        for lag_s in [1.2, 2.2] {
            let mut d = Drive::new(DetectionConfig::car());
            d.run(
                310.0,
                true,
                ax,
                zero,
                zero,
                move |t| Some(v_true(t - lag_s)),
                g,
            );
            let lag = d.d.gps_speed_lag_s();
            assert!((f64::from(lag) - lag_s).abs() < 0.2, "lag {lag}");
            // The harsh one found, within a second; the calm ones stay calm.
            assert_eq!(
                d.events.len(),
                1,
                "{lag_s}: {:?} {:?}",
                d.events,
                d.d.suppressed()
            );
            assert_eq!(d.events[0].kind, EventKind::HarshBraking);
            assert!(d.events[0].decided_s - 304.0 <= 1.0, "{:?}", d.events[0]);
        }
    }

    #[test]
    fn a_motorcycle_braking_into_a_calm_corner_is_not_taken_at_its_old_speed() {
        // 12 m/s, a braking of 2.8 m/s^2 to 5 m/s, then a turn of 0.7 rad/s
        // for 2.5 s: 3.5 m/s^2 of centripetal acceleration, under the 4.0
        // threshold. The fixes come 1.5 s late (a phone's batch): at the
        // turn the latest one still says 10-12 m/s, which made it 7-8 m/s^2.
        let mut d = Drive::new(DetectionConfig::motorcycle());
        d.fix_lag_s = 1.5;
        d.run(
            25.0,
            true,
            |t| if (10.0..12.5).contains(&t) { -2.8 } else { 0.0 },
            zero,
            |t| if (13.0..15.5).contains(&t) { -0.7 } else { 0.0 },
            |t| Some((12.0 - 2.8 * (t - 10.0).clamp(0.0, 2.5)) as f32),
            g,
        );
        let corners: Vec<_> = d
            .events
            .iter()
            .filter(|e| e.kind == EventKind::HarshCornering)
            .collect();
        assert!(corners.is_empty(), "{corners:?}");
    }

    #[test]
    fn the_speed_check_waits_for_fixes_that_arrive_late() {
        for lag_s in [0.0, 1.5, 4.0] {
            let mut d = Drive::new(DetectionConfig::car());
            d.fix_lag_s = lag_s;
            d.run(5.0, true, zero, zero, zero, |_| Some(12.0), g);
            // A phone handled: 4.5 m/s^2 for 1.5 s the GPS speed never shows.
            let (ax, _) = braking(10.0, 1.5, 4.5);
            d.run(15.0, true, ax, zero, zero, |_| Some(12.0), g);
            assert!(d.events.is_empty(), "lag {lag_s}: {:?}", d.events);
            assert_eq!(d.d.suppressed().get(Suppression::SpeedMismatch), 1);
            // A real braking, its fixes as late, is still found.
            let (ax, v) = braking(25.0, 1.5, 4.5);
            d.run(12.0, true, ax, zero, zero, v, g);
            assert_eq!(d.events.len(), 1, "lag {lag_s}: {:?}", d.events);
            assert_eq!(d.events[0].kind, EventKind::HarshBraking);
        }
    }

    #[test]
    fn walking_pace_before_and_after_is_suppressed() {
        let mut d = Drive::new(DetectionConfig::car());
        d.run(
            10.0,
            true,
            |t| if (5.0..6.0).contains(&t) { 3.5 } else { 0.0 },
            zero,
            zero,
            |_| Some(1.4),
            g,
        );
        assert!(d.events.is_empty(), "{:?}", d.events);
        assert_eq!(d.d.suppressed().get(Suppression::Walking), 1);
    }

    #[test]
    fn a_phone_turning_over_is_not_a_braking() {
        let mut d = Drive::new(DetectionConfig::car());
        let (ax, v) = braking(5.0, 1.5, 4.5);
        let mut inputs_rot = 0.0;
        // Same braking, but the phone rolls 60 degrees during it.
        let n = (10.0 * FS) as usize;
        for _ in 0..n {
            d.t += 1.0 / FS;
            let t = d.t;
            if (t * FS).round() as i64 % FS as i64 == 0 {
                d.d.on_gps(t, 52.0, 13.0, v(t), Some(90.0));
            }
            let roll = if (5.0..6.0).contains(&t) {
                60f32.to_radians()
            } else {
                0.0
            };
            inputs_rot += f64::from(roll) / FS;
            d.d.on_sample(&DetectorInput {
                t_s: t,
                dt_s: 0.01,
                accel_mps2: [ax(t), 0.0, 0.0],
                gyro_rps: Some([roll, 0.0, 0.0]),
                specific_force_max_sq: 9.81 * 9.81,
                freefall_s: 0.0,
                gravity_mps2: 9.81,
                orientation_known: true,
                tilt_known: true,
                rotation: IDENTITY,
                orientation_confidence: 1.0,
                phone_steady: false,
            });
            while let Some(e) = d.d.pop_event() {
                d.events.push(e);
            }
        }
        assert!(inputs_rot > 1.0);
        assert!(d.events.is_empty(), "{:?}", d.events);
        assert_eq!(d.d.suppressed().get(Suppression::PhoneMoved), 1);
    }

    #[test]
    fn a_fall_then_impact_is_not_a_crash_but_an_impact_then_standstill_is() {
        // Phone falls (0.3 s of near-zero specific force), then hits the seat.
        let mut d = Drive::new(DetectionConfig::car());
        let force = |t: f64| {
            if (5.0..5.3).contains(&t) {
                0.5
            } else if (5.3..5.33).contains(&t) {
                60.0
            } else {
                9.81
            }
        };
        d.run(20.0, true, zero, zero, zero, |_| Some(10.0), force);
        d.d.finish(d.t);
        assert!(
            d.events.iter().all(|e| e.kind != EventKind::Crash),
            "{:?}",
            d.events
        );
        assert_eq!(d.d.suppressed().get(Suppression::PhoneFall), 1);
        assert!(d.d.take_freefall());

        // A vehicle hitting something at 14 m/s: 7 g, then stopped.
        let mut d = Drive::new(DetectionConfig::car());
        let force = |t: f64| if (5.0..5.2).contains(&t) { 70.0 } else { 9.81 };
        d.run(
            20.0,
            true,
            zero,
            zero,
            zero,
            |t| Some(if t < 5.2 { 14.0 } else { 0.0 }),
            force,
        );
        let crashes: Vec<_> = d
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Crash)
            .collect();
        assert_eq!(crashes.len(), 1, "{:?}", d.events);
        assert_eq!(crashes[0].severity, Severity::Severe);

        // The same peak while the vehicle drives on (a pothole, a slammed door): no crash.
        let mut d = Drive::new(DetectionConfig::car());
        d.run(20.0, true, zero, zero, zero, |_| Some(14.0), force);
        assert!(d.events.iter().all(|e| e.kind != EventKind::Crash));
        assert_eq!(d.d.suppressed().get(Suppression::NotACrash), 1);
    }

    #[test]
    fn a_corner_turns_the_heading_a_lane_change_does_not() {
        use core::f64::consts::PI;
        // Corner: 90 degrees left at 8 m/s in 2 s, 5 m/s^2 lateral.
        let mut d = Drive::new(DetectionConfig::car());
        let turning = |t: f64| (5.0..7.0).contains(&t);
        d.run(
            15.0,
            true,
            zero,
            move |t| if turning(t) { 5.0 } else { 0.0 },
            move |t| if turning(t) { (PI / 4.0) as f32 } else { 0.0 },
            |_| Some(8.0),
            g,
        );
        assert_eq!(d.events.len(), 1, "{:?}", d.events);
        assert_eq!(d.events[0].kind, EventKind::HarshCornering);
        assert_eq!(d.events[0].direction, Some(Direction::Left));
        assert!(d.events[0].decided_s - d.events[0].end_s <= 4.0);

        // Lane change to the right: lateral -4 then +4, yaw out and back.
        let mut d = Drive::new(DetectionConfig::car());
        let ay = |t: f64| {
            if (5.0..6.0).contains(&t) {
                -4.0
            } else if (6.0..7.0).contains(&t) {
                4.0
            } else {
                0.0
            }
        };
        let yaw = |t: f64| {
            if (5.0..6.0).contains(&t) {
                -0.2
            } else if (6.0..7.0).contains(&t) {
                0.2
            } else {
                0.0
            }
        };
        d.run(15.0, true, zero, ay, yaw, |_| Some(20.0), g);
        assert_eq!(d.events.len(), 1, "{:?}", d.events);
        assert_eq!(d.events[0].kind, EventKind::HarshLaneChange);
        assert_eq!(d.events[0].direction, Some(Direction::Right));
    }

    #[test]
    fn events_wait_in_a_bounded_queue() {
        let mut d = Detector::new(DetectionConfig::car());
        let w = Window {
            start_s: 0.0,
            end_s: 1.0,
            peak: 5.0,
            peak_t_s: 0.5,
            orient_ok: true,
            conf: 1.0,
            rot_start: [0.0; 2],
            moved: false,
            steady: false,
        };
        for i in 0..(EVENT_QUEUE_CAPACITY + 3) {
            d.report(i as f64, EventKind::HarshBraking, None, &w, 3.0);
        }
        assert_eq!(d.dropped_events(), 3);
        let mut n = 0;
        let mut first = None;
        while let Some(e) = d.pop_event() {
            first.get_or_insert(e.decided_s);
            n += 1;
        }
        assert_eq!(n, EVENT_QUEUE_CAPACITY);
        assert_eq!(first, Some(3.0), "the oldest are dropped");
    }

    #[test]
    fn invalid_configurations_name_the_field() {
        let mut c = DetectionConfig::car();
        c.braking_mps2 = f32::NAN;
        assert_eq!(
            c.validate().err().map(|e| e.field),
            Some("detection.braking_mps2")
        );
        let mut c = DetectionConfig::car();
        c.corner_min_heading_deg = 10.0;
        assert_eq!(
            c.validate().err().map(|e| e.field),
            Some("detection.corner_min_heading_deg")
        );
        let mut c = DetectionConfig::motorcycle();
        c.crash_mps2 = 5.0;
        assert_eq!(
            c.validate().err().map(|e| e.field),
            Some("detection.crash_mps2")
        );
        let mut c = DetectionConfig::car();
        c.gps_confirm_steady_s = -1.0;
        assert_eq!(
            c.validate().err().map(|e| e.field),
            Some("detection.gps_confirm_steady_s")
        );
        assert!(DetectionConfig::car().validate().is_ok());
        assert!(DetectionConfig::motorcycle().validate().is_ok());
    }
}
