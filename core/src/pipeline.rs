//! The streaming signal chain: validated samples in, vehicle-frame output out.
//!
//! ```text
//! ImuSample ─ check ─┬─ block statistics ─ OrientationEstimator ─ rotation R
//!                    │  (turned back by the swing)
//!                    ├─ gyroscope ─ WobbleTracker ─ swing Exp(θ), M = Exp(θ) R
//!                    └─ M·f − g·z ─ AdaptiveFilter ─ VehicleSample
//! GpsFix ─── check ─── OrientationEstimator (speed change, bearing)
//! ```
//!
//! Push IMU samples and GPS fixes in timestamp order (interleaved by time).
//! Each accepted IMU sample returns its vehicle-frame output at once; a
//! rejected one returns the reason and leaves the state untouched except for
//! the counters. There are no clocks, threads, storage or allocation inside.

use crate::ConfigError;
use crate::detect::{
    DetectionConfig, Detector, DetectorInput, Event, ForceMonitor, SuppressionCounts,
};
use crate::filter::{AdaptiveFilter, FilterConfig, FilterMode};
use crate::input::{
    ClockGuard, GpsFix, ImuSample, InputCounts, Rejection, check_gps, check_imu, imu_in_range,
};
use crate::matching::{MatchConfig, RoadMatch, match_fix};
use crate::math::{Columns, Mat3, f32x4, lanes, mat_mul, mat_vec, scale, transpose, xyz};
use crate::speeding::{PingCounts, SpeedingConfig, SpeedingDetector, SpeedingEvent};
use crate::tile::Tile;
use crate::wobble::WobbleTracker;

/// The detector runs every this many seconds of samples (25 Hz): manoeuvres
/// live below 2 Hz, so the 100-200 Hz stream would only repeat itself. What is
/// shorter (free fall, impacts) is watched at the full rate by [`ForceMonitor`].
const DETECTOR_STEP_S: f32 = 0.04;
/// The swing tracker steps every this many seconds of gyroscope samples
/// (6.25 Hz: a swing is under 1 Hz; 0.08 s measured the same, 0.24 s left a
/// hand-held phone's tilt p95 0.2 deg worse, as the turned frame is held
/// between steps).
const WOBBLE_STEP_S: f32 = 0.16;
/// A motorcycle's yaw rate is averaged over this long, s, to tell its turns
/// (during which its lean would be taken for a swing) from a rider's sway.
const BIKE_TURN_TAU_S: f32 = 1.0;
/// Averaged yaw rate beyond which a motorcycle turns, rad/s (a pocketed
/// rider's sway: 0.1 rad/s at its peaks, about 0.04 averaged; 0.08-0.15
/// measured alike, 0.05 kept the tracker from ever starting).
const BIKE_TURN_RPS: f32 = 0.1;
/// Swing (RMS of its band over a minute) under which the phone counts as
/// steady, rad: 0.5 deg (mounts measure 0.2-0.45 in the simulator, up to
/// 0.77 on the real cloudpose drive).
const STEADY_MAX_RAD: f32 = 0.5 * core::f32::consts::PI / 180.0;
/// Longest bucket of samples handed to the orientation estimator, s (it
/// waits there for the GPS fixes around it; a fix's interval is cut at the
/// fix time within one bucket).
const BUCKET_S: f64 = 0.5;
use crate::orientation::{
    BlockStats, Orientation, OrientationConfig, OrientationEstimator, OrientationState,
};

/// Vehicle kind: selects default thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VehicleProfile {
    /// Passenger car or van.
    Car,
    /// Motorcycle or scooter.
    Motorcycle,
}

/// Whole-pipeline configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PipelineConfig {
    /// Vehicle profile the defaults were made for.
    pub vehicle: VehicleProfile,
    /// Orientation estimator settings.
    pub orientation: OrientationConfig,
    /// Noise filter settings.
    pub filter: FilterConfig,
    /// Event detection thresholds and guards.
    pub detection: DetectionConfig,
    /// Map matching of GPS fixes (used by [`Pipeline::push_gps_on_map`]).
    pub matching: MatchConfig,
    /// Speeding buffer, minimum duration and ping cleaning.
    pub speeding: SpeedingConfig,
    /// An IMU gap longer than this (s) resets filters and windows. Default 1.0
    /// (one statistics block).
    pub max_gap_s: f32,
    /// Sample rate assumed until measured, Hz. Default 100.
    pub initial_rate_hz: f32,
    /// A timestamp further ahead than this (s) is taken for a corrupt clock
    /// value unless three samples confirm it. Default 600.
    pub max_time_jump_s: f32,
}

impl PipelineConfig {
    /// Defaults for a car.
    pub fn car() -> Self {
        Self {
            vehicle: VehicleProfile::Car,
            orientation: OrientationConfig::default(),
            filter: FilterConfig::default(),
            detection: DetectionConfig::car(),
            matching: MatchConfig::default(),
            speeding: SpeedingConfig::default(),
            max_gap_s: 1.0,
            initial_rate_hz: 100.0,
            max_time_jump_s: 600.0,
        }
    }

    /// Defaults for a motorcycle.
    pub fn motorcycle() -> Self {
        Self {
            vehicle: VehicleProfile::Motorcycle,
            orientation: OrientationConfig::motorcycle(),
            detection: DetectionConfig::motorcycle(),
            ..Self::car()
        }
    }

    /// Defaults for a profile.
    pub fn for_vehicle(v: VehicleProfile) -> Self {
        match v {
            VehicleProfile::Car => Self::car(),
            VehicleProfile::Motorcycle => Self::motorcycle(),
        }
    }

    /// Checks every value; the error names the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.orientation.validate()?;
        self.filter.validate()?;
        self.detection.validate()?;
        self.matching.validate()?;
        self.speeding.validate()?;
        ConfigError::check(
            self.max_gap_s.is_finite() && self.max_gap_s >= 0.05 && self.max_gap_s <= 60.0,
            "max_gap_s",
            "must be in [0.05, 60] s",
        )?;
        ConfigError::check(
            self.max_time_jump_s.is_finite() && self.max_time_jump_s > self.max_gap_s,
            "max_time_jump_s",
            "must be greater than max_gap_s",
        )?;
        ConfigError::in_range(
            self.initial_rate_hz,
            1.0..=1000.0,
            "initial_rate_hz",
            "must be in [1, 1000] Hz",
        )?;
        Ok(())
    }
}

/// One output sample in vehicle axes (x forward, y left, z up).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VehicleSample {
    /// Timestamp of the input sample, s.
    pub t_s: f64,
    /// Filtered linear acceleration (gravity removed), m/s^2.
    pub accel_mps2: [f32; 3],
    /// Unfiltered linear acceleration, m/s^2.
    pub accel_raw_mps2: [f32; 3],
    /// Angular rate in vehicle axes, rad/s, when the phone has a gyroscope.
    pub gyro_rps: Option<[f32; 3]>,
    /// Orientation state when this sample was produced: the axes mean
    /// something only when it is [`OrientationState::Locked`].
    pub orientation: OrientationState,
    /// Filter that produced `accel_mps2`.
    pub filter: FilterMode,
}

/// The signal chain state, detectors included: `size_of::<Pipeline>()` is
/// 10,192 bytes on x86_64 (docs/performance.md); it never allocates.
#[derive(Clone, Copy, Debug)]
pub struct Pipeline {
    cfg: PipelineConfig,
    counts: InputCounts,
    last_imu_t_s: Option<f64>,
    last_gps: Option<GpsFix>,
    imu_clock: ClockGuard,
    gps_clock: ClockGuard,
    dt_avg_s: f32,
    /// Samples since the last bucket closed (see [`BUCKET_S`]), and the
    /// time that bucket covers from (the last bucket's end).
    bucket: BlockStats,
    bucket_start_t_s: f64,
    block_start_t_s: f64,
    orientation: OrientationEstimator,
    /// [`OrientationEstimator::frame_jumps`] the filter's state is in.
    filter_frame: u32,
    filter: AdaptiveFilter,
    detector: Detector,
    speeding: SpeedingDetector,
    forces: ForceMonitor,
    step_dt_s: f32,
    /// `cfg.max_time_jump_s` (both clocks) and the orientation's block
    /// length in f64, converted once instead of per sample.
    max_time_jump_s: f64,
    block_s: f64,
    step_gyro: f32x4,
    step_gyro_dt_s: f32,
    /// The phone's swing about its mean place, and the estimator frame
    /// ([`OrientationEstimator::frame_jumps`]) it was measured in.
    wobble: WobbleTracker,
    wobble_frame: u32,
    /// Rotation (rate x time) and gyroscope time since the swing tracker's
    /// last step (it steps every [`WOBBLE_STEP_S`]).
    wobble_rot: f32x4,
    wobble_dt_s: f32,
    /// The swing configuration as the tracker uses it (converted once).
    wobble_inv_tau_s: f32,
    wobble_inv_bias_tau_s: f32,
    wobble_min_rad: f32,
    /// Whether `rotation` includes the swing.
    wobble_applied: bool,
    /// A motorcycle's yaw rate over the last [`BIKE_TURN_TAU_S`], rad/s.
    bike_yaw_rps: f32,
    /// The tracker measured the phone steady at its last step.
    phone_steady: bool,
    /// The rotation every sample is turned by: the estimator's, turned by
    /// the swing when it applies (`Exp(theta) R`), and as columns.
    rotation: Mat3,
    columns: Columns,
    /// The swing in phone axes (`R^T Exp(theta) R`): turns each sample to
    /// the phone's mean place before the estimator's statistics, so its
    /// gravity average is not shaken by the swing.
    deswing: Columns,
}

impl Pipeline {
    /// A pipeline for `cfg`, or the first invalid field.
    pub fn new(cfg: PipelineConfig) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            counts: InputCounts::default(),
            last_imu_t_s: None,
            last_gps: None,
            imu_clock: ClockGuard::default(),
            gps_clock: ClockGuard::default(),
            dt_avg_s: 1.0 / cfg.initial_rate_hz,
            bucket: BlockStats::default(),
            bucket_start_t_s: 0.0,
            block_start_t_s: 0.0,
            orientation: {
                let mut o = OrientationEstimator::new(cfg.orientation);
                o.set_min_replace_confidence(cfg.detection.min_orientation_confidence);
                o
            },
            filter_frame: 0,
            filter: AdaptiveFilter::new(cfg.filter, cfg.initial_rate_hz),
            detector: Detector::new(cfg.detection),
            speeding: SpeedingDetector::new(cfg.speeding)?,
            forces: ForceMonitor::default(),
            step_dt_s: 0.0,
            max_time_jump_s: f64::from(cfg.max_time_jump_s),
            block_s: f64::from(cfg.orientation.block_s),
            step_gyro: f32x4::ZERO,
            step_gyro_dt_s: 0.0,
            wobble: WobbleTracker::new(),
            wobble_frame: 0,
            wobble_rot: f32x4::ZERO,
            wobble_dt_s: 0.0,
            wobble_inv_tau_s: if cfg.orientation.wobble_tau_s > 0.0 {
                1.0 / cfg.orientation.wobble_tau_s
            } else {
                0.0
            },
            wobble_inv_bias_tau_s: 1.0 / cfg.orientation.wobble_bias_tau_s,
            wobble_min_rad: cfg.orientation.wobble_min_deg.to_radians(),
            wobble_applied: false,
            bike_yaw_rps: 0.0,
            phone_steady: false,
            rotation: crate::math::IDENTITY,
            columns: Columns::from_rows(&crate::math::IDENTITY),
            deswing: Columns::from_rows(&crate::math::IDENTITY),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &PipelineConfig {
        &self.cfg
    }

    /// Accepted and rejected input so far, by reason.
    pub fn counts(&self) -> &InputCounts {
        &self.counts
    }

    /// The current orientation estimate: the estimator's, turned by a
    /// hand-held phone's swing when it is tracked (see [`crate::wobble`]).
    pub fn orientation(&self) -> Orientation {
        let mut o = self.orientation.orientation();
        if self.wobble_applied {
            o.rotation = self.rotation;
            (o.roll_rad, o.pitch_rad, o.yaw_rad) = crate::math::euler_from_rotation(&o.rotation);
        }
        o
    }

    /// How many times the phone was seen to move in the vehicle.
    pub fn phone_moves(&self) -> u32 {
        self.orientation.moves()
    }

    /// Moves by detector (see [`OrientationEstimator::moves_by_detector`]).
    pub fn phone_moves_by_detector(&self) -> [u32; 4] {
        self.orientation.moves_by_detector()
    }

    /// Takes the oldest detected event waiting to be pulled. Pull after every
    /// push (or every batch): at most a few wait at a time.
    pub fn pop_event(&mut self) -> Option<Event> {
        self.detector.pop_event()
    }

    /// Ends the stream: decides every candidate still waiting for more
    /// samples (call when the trip stops, then pull the last events).
    pub fn finish(&mut self) {
        let t = self.last_imu_t_s.unwrap_or(0.0);
        self.orientation.flush();
        self.follow_frame();
        self.detector.finish(t);
        self.speeding.finish();
    }

    /// Takes the oldest speeding violation waiting to be pulled (fixes must
    /// come through [`Pipeline::push_gps_on_map`] or
    /// [`Pipeline::push_gps_on_road`] for there to be any).
    pub fn pop_speeding(&mut self) -> Option<SpeedingEvent> {
        self.speeding.pop_event()
    }

    /// Pings used for speeding, and dropped by reason.
    pub fn speeding_counts(&self) -> &PingCounts {
        self.speeding.counts()
    }

    /// How late the GPS speed and course are behind their fixes' times, as
    /// measured against the accelerometer so far, s (0 until six to twelve speed
    /// changes were seen); the detector pairs each fix with the moment it
    /// describes.
    pub fn gps_speed_lag_s(&self) -> f32 {
        self.detector.gps_speed_lag_s()
    }

    /// Candidates suppressed by the guards, by reason.
    pub fn suppressed(&self) -> &SuppressionCounts {
        self.detector.suppressed()
    }

    /// Events reported so far, per kind in [`crate::EventKind::ALL`] order.
    pub fn detected(&self) -> [u32; 6] {
        let mut d = self.detector.detected();
        d[5] += self.speeding.detected();
        d
    }

    /// The measured IMU sample rate, Hz.
    pub fn sample_rate_hz(&self) -> f32 {
        1.0 / self.dt_avg_s
    }

    /// The filter currently selected.
    pub fn filter_mode(&self) -> FilterMode {
        self.filter.mode()
    }

    /// Noise measured in the last window, m/s^2.
    pub fn noise_mps2(&self) -> f32 {
        self.filter.last_noise_mps2()
    }

    /// Hands the open bucket, ending at `t_end_s`, to the orientation estimator.
    fn close_bucket(&mut self, t_end_s: f64, ends_block: bool) {
        let bucket = core::mem::take(&mut self.bucket);
        self.orientation
            .push_bucket(&bucket, self.bucket_start_t_s, t_end_s, ends_block);
        self.bucket_start_t_s = t_end_s;
        self.follow_frame();
    }

    /// Adds a sample to the bucket turned back to the phone's mean place
    /// (out of the hot path: only a swinging phone's samples come here).
    #[cold]
    #[inline(never)]
    fn add_deswung(&mut self, f: [f32; 3], w4: f32x4, dt_s: f32) -> f32 {
        // The count lane stays 1.
        let f_mean = self.deswing.mul(f) + f32x4::new([0.0, 0.0, 0.0, 1.0]);
        self.bucket.add_lanes(f_mean, w4, dt_s)
    }

    /// Whether the estimator has a tilt (the swing is measured about it).
    fn tilt_known(&self) -> bool {
        matches!(
            self.orientation.state(),
            OrientationState::Estimating | OrientationState::Locked
        )
    }

    /// Rebuilds the per-sample rotation from the estimator's and the swing.
    #[inline(never)]
    fn refresh_rotation(&mut self) {
        self.wobble_applied = self.tilt_known() && self.wobble.swings_beyond(self.wobble_min_rad);
        self.orientation.set_swinging(self.wobble_applied);
        let r = self.orientation.rotation();
        self.rotation = if self.wobble_applied {
            let m = mat_mul(&self.wobble.rotation(), r);
            self.deswing = Columns::from_rows(&mat_mul(&transpose(r), &m));
            m
        } else {
            *r
        };
        self.columns = Columns::from_rows(&self.rotation);
    }

    /// Follows the swing over one tracker step (mean rate `rate_rps` in the
    /// turned frame over `dt_s` of gyroscope samples).
    #[inline(never)]
    fn follow_wobble(&mut self, rate_rps: [f32; 3], dt_s: f32) {
        let jumps = self.orientation.frame_jumps();
        let tilt_known = self.tilt_known();
        // The rate in the estimator's frame, where the tracked up lives.
        let rate_rps = if self.wobble_applied {
            mat_vec(&transpose(&self.wobble.rotation()), rate_rps)
        } else {
            rate_rps
        };
        // A motorcycle's lean would be followed as a swing: the tracker
        // starts again once the bike has stopped turning (the sway's
        // measured size kept).
        let bike_turns = self.cfg.vehicle == VehicleProfile::Motorcycle && {
            let k = dt_s / (BIKE_TURN_TAU_S + dt_s);
            self.bike_yaw_rps += k * (rate_rps[2] - self.bike_yaw_rps);
            self.bike_yaw_rps.abs() > BIKE_TURN_RPS
        };
        if jumps != self.wobble_frame || !tilt_known {
            self.wobble_frame = jumps;
            self.wobble.reset();
        } else if bike_turns {
            self.wobble.restart_after_turn();
        } else {
            self.wobble.step(
                rate_rps,
                dt_s,
                self.wobble_inv_tau_s,
                self.wobble_inv_bias_tau_s,
            );
        }
        self.phone_steady = self.wobble.is_steady(STEADY_MAX_RAD);
        if self.wobble_applied || self.wobble.swings_beyond(self.wobble_min_rad) {
            self.refresh_rotation();
        }
    }

    /// Restarts the filter when the rotation jumped: its state holds values
    /// in the old frame, and running them out would look like a harsh
    /// acceleration (a first tilt turns gravity from a phone axis to "up").
    /// Also takes the estimator's current rotation for the samples to come.
    fn follow_frame(&mut self) {
        let jumps = self.orientation.frame_jumps();
        if jumps != self.filter_frame {
            self.filter_frame = jumps;
            self.filter.reset();
        }
        self.refresh_rotation();
    }

    /// Pushes one IMU sample; returns its vehicle-frame output, or why it was
    /// rejected (the rejection is also counted).
    pub fn push_imu(&mut self, s: &ImuSample) -> Result<VehicleSample, Rejection> {
        // The sample in lanes once, for the range checks and the sums; a
        // missing gyroscope value is zeros with a count of 0, which the sums
        // and the detector's step take without a branch.
        let (w, w_count) = match s.gyro_rps {
            Some(w) => (w, 1.0),
            None => ([0.0; 3], 0.0),
        };
        let f4 = lanes(s.accel_mps2, 1.0);
        let w4 = lanes(w, w_count);
        // Fast path: values in range, time after the last sample and within
        // the allowed jump, no jump waiting for confirmation. (A NaN or an
        // infinite time, or no previous sample, fails a comparison.) Anything
        // else goes through the full checks, which name the reason.
        let since_last_s = s.t_s - self.last_imu_t_s.unwrap_or(f64::NAN);
        let fast = imu_in_range(f4, w4)
            & (since_last_s > 0.0)
            & (since_last_s <= self.max_time_jump_s)
            & !self.imu_clock.is_pending();
        if !fast {
            if let Err(r) = check_imu(s, self.last_imu_t_s).and_then(|()| {
                self.imu_clock
                    .check(s.t_s, self.last_imu_t_s, self.max_time_jump_s)
            }) {
                self.counts.count_imu(r);
                return Err(r);
            }
        }
        self.counts.imu_accepted += 1;
        let dt_s = match self.last_imu_t_s {
            Some(last) => {
                let dt = (s.t_s - last) as f32;
                if dt > self.cfg.max_gap_s {
                    self.counts.imu_gaps += 1;
                    self.filter.reset();
                    self.orientation.reset_intervals();
                    self.follow_frame();
                    self.bucket = BlockStats::default();
                    self.bucket_start_t_s = s.t_s - f64::from(self.dt_avg_s);
                    self.block_start_t_s = s.t_s;
                    self.dt_avg_s
                } else {
                    // Jitter-tolerant rate estimate; follows a rate change in ~1 s.
                    self.dt_avg_s += 0.02 * (dt - self.dt_avg_s);
                    dt
                }
            }
            None => {
                self.bucket_start_t_s = s.t_s - f64::from(self.dt_avg_s);
                self.block_start_t_s = s.t_s;
                self.dt_avg_s
            }
        };
        self.last_imu_t_s = Some(s.t_s);

        let f = s.accel_mps2;
        let force_sq = if self.wobble_applied {
            self.add_deswung(f, w4, dt_s)
        } else {
            self.bucket.add_lanes(f4, w4, dt_s)
        };
        let ends_block = s.t_s - self.block_start_t_s >= self.block_s;
        if ends_block || s.t_s - self.bucket_start_t_s >= BUCKET_S {
            self.close_bucket(s.t_s, ends_block);
        }
        if ends_block {
            self.filter.end_window();
            self.filter.set_rate(1.0 / self.dt_avg_s);
            self.block_start_t_s = s.t_s;
        }

        // Rotated as columns on four lanes: the same values as
        // `mat_vec(rotation, f)`, in a few vector instructions.
        let r = &self.columns;
        let g = self.orientation.gravity_mps2();
        let raw = r.mul(f) - self.orientation.gravity_lanes();
        let filtered = self.filter.run_lanes(raw, dt_s);
        let gyro_vehicle = r.mul(w);
        let state = self.orientation.state();
        self.forces.add(force_sq, g, dt_s);
        self.step_dt_s += dt_s;
        // Zeros (and no time) when the sample has no gyroscope value.
        self.step_gyro += gyro_vehicle * f32x4::splat(dt_s);
        self.step_gyro_dt_s += dt_s * w_count;
        if self.step_dt_s >= DETECTOR_STEP_S {
            let locked = state == OrientationState::Locked;
            let (specific_force_max_sq, freefall_s) = self.forces.take();
            // Mean rotation rate over the step: the detector integrates it.
            let gyro_rps = (self.step_gyro_dt_s > 0.0)
                .then(|| scale(xyz(self.step_gyro), 1.0 / self.step_gyro_dt_s));
            self.detector.on_sample(&DetectorInput {
                t_s: s.t_s,
                dt_s: self.step_dt_s,
                accel_mps2: filtered,
                gyro_rps,
                specific_force_max_sq,
                freefall_s,
                gravity_mps2: g,
                orientation_known: locked,
                tilt_known: state == OrientationState::Estimating,
                rotation: self.rotation,
                orientation_confidence: if locked {
                    self.orientation.confidence()
                } else {
                    0.0
                },
                phone_steady: self.phone_steady && self.step_gyro_dt_s > 0.0,
            });
            if self.cfg.orientation.wobble_tau_s > 0.0 && self.step_gyro_dt_s > 0.0 {
                self.wobble_rot += self.step_gyro;
                self.wobble_dt_s += self.step_gyro_dt_s;
                if self.wobble_dt_s >= WOBBLE_STEP_S {
                    let rate = scale(xyz(self.wobble_rot), 1.0 / self.wobble_dt_s);
                    self.follow_wobble(rate, self.wobble_dt_s);
                    self.wobble_rot = f32x4::ZERO;
                    self.wobble_dt_s = 0.0;
                }
            }
            self.step_dt_s = 0.0;
            self.step_gyro = f32x4::ZERO;
            self.step_gyro_dt_s = 0.0;
            // Only a detector step can see a free fall: asked after one.
            if self.detector.take_freefall() {
                self.orientation.phone_fell();
                self.follow_frame();
            }
        }
        Ok(VehicleSample {
            t_s: s.t_s,
            accel_mps2: filtered,
            accel_raw_mps2: xyz(raw),
            gyro_rps: s.gyro_rps.is_some().then(|| xyz(gyro_vehicle)),
            orientation: state,
            filter: self.filter.mode(),
        })
    }

    /// Pushes one GPS fix; invalid optional fields are dropped and counted,
    /// an invalid fix is rejected and counted.
    pub fn push_gps(&mut self, fix: &GpsFix) -> Result<(), Rejection> {
        let jump = self.max_time_jump_s;
        let last_t = self.last_gps.map(|g| g.t_s);
        let checked = check_gps(fix, self.last_gps.as_ref())
            .and_then(|ok| self.gps_clock.check(fix.t_s, last_t, jump).map(|()| ok));
        let (clean, dropped) = match checked {
            Ok(ok) => ok,
            Err(r) => {
                self.counts.count_gps(r);
                return Err(r);
            }
        };
        self.counts.gps_accepted += 1;
        self.counts.gps_fields_dropped += u64::from(dropped);
        self.last_gps = Some(*fix);
        let fix = clean;
        // Fixes worse than 25 m carry no usable speed change.
        let speed = fix
            .speed_mps
            .filter(|_| fix.accuracy_m.is_none_or(|a| a <= 25.0));
        // Samples timed before the fix are closed into a bucket, so the
        // fix's GPS interval can end at its time (fixes often arrive after
        // samples timed later: then the bucket it falls in is shared).
        if let Some(last) = self.last_imu_t_s {
            if self.bucket.n() > 0 && self.bucket_start_t_s < fix.t_s {
                self.close_bucket(last, false);
            }
        }
        self.orientation
            .set_gps_lag_s(self.detector.gps_speed_lag_s());
        self.orientation
            .on_gps(fix.t_s, speed, fix.bearing_deg, self.last_imu_t_s);
        self.follow_frame();
        self.detector
            .on_gps(fix.t_s, fix.lat_deg, fix.lon_deg, speed, fix.bearing_deg);
        Ok(())
    }

    /// Pushes one GPS fix already matched to a road (`None`: not snapped):
    /// as [`Pipeline::push_gps`], and the fix goes on to the speeding
    /// detector (a rejected fix does not).
    pub fn push_gps_on_road(
        &mut self,
        fix: &GpsFix,
        road: Option<&RoadMatch>,
    ) -> Result<(), Rejection> {
        self.push_gps(fix)?;
        // The speeding detector counts why it does not use a fix itself.
        let _ = self.speeding.push(fix, road);
        Ok(())
    }

    /// Pushes one GPS fix, matching it against the map tiles the caller
    /// holds; `hour_of_week` (0 = Monday 00:00 local time) selects crowd
    /// thresholds where no legal limit is known (`None`: legal limits only).
    /// Returns the match, for display.
    pub fn push_gps_on_map(
        &mut self,
        fix: &GpsFix,
        tiles: &[Tile<'_>],
        hour_of_week: Option<u8>,
    ) -> Result<Option<RoadMatch>, Rejection> {
        let road = match_fix(tiles, fix, hour_of_week, &self.cfg.matching);
        self.push_gps_on_road(fix, road.as_ref()).map(|()| road)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64) -> ImuSample {
        ImuSample {
            t_s: t,
            accel_mps2: [0.0, 0.0, 9.81],
            gyro_rps: None,
        }
    }

    #[test]
    fn bad_samples_are_counted_by_reason_and_do_not_disturb_the_stream() {
        let mut p = Pipeline::new(PipelineConfig::car()).expect("valid defaults");
        assert!(p.push_imu(&sample(0.00)).is_ok());
        assert!(p.push_imu(&sample(0.01)).is_ok());
        assert_eq!(p.push_imu(&sample(0.01)), Err(Rejection::TimeNotIncreasing));
        assert_eq!(
            p.push_imu(&sample(0.005)),
            Err(Rejection::TimeNotIncreasing)
        );
        let mut nan = sample(0.02);
        nan.accel_mps2[1] = f32::NAN;
        assert_eq!(p.push_imu(&nan), Err(Rejection::NonFinite));
        let mut big = sample(0.02);
        big.accel_mps2[0] = 1e6;
        assert_eq!(p.push_imu(&big), Err(Rejection::AccelOutOfRange));
        // Past the fast path's checks too: an infinite time, a gyroscope
        // value out of range (the fast path sees both sensors in lanes).
        assert_eq!(
            p.push_imu(&sample(f64::INFINITY)),
            Err(Rejection::NonFinite)
        );
        let mut spin = sample(0.02);
        spin.gyro_rps = Some([0.0, 0.0, 40.0]);
        assert_eq!(p.push_imu(&spin), Err(Rejection::GyroOutOfRange));
        assert!(p.push_imu(&sample(0.02)).is_ok());
        assert!(
            p.push_imu(&sample(5.0)).is_ok(),
            "the sample after a gap is kept"
        );
        // One corrupt far-future timestamp is refused and does not block the stream.
        assert_eq!(p.push_imu(&sample(1e12)), Err(Rejection::TimeJump));
        assert!(p.push_imu(&sample(5.01)).is_ok());
        // A real resumption hours later is accepted once three samples agree.
        assert_eq!(p.push_imu(&sample(7200.00)), Err(Rejection::TimeJump));
        assert_eq!(p.push_imu(&sample(7200.01)), Err(Rejection::TimeJump));
        assert!(p.push_imu(&sample(7200.02)).is_ok());
        assert!(p.push_imu(&sample(7200.03)).is_ok());
        let c = p.counts();
        assert_eq!(c.imu_accepted, 7);
        assert_eq!(c.imu_time_jump, 3);
        assert_eq!(c.imu_time_not_increasing, 2);
        assert_eq!(c.imu_non_finite, 2);
        assert_eq!(c.imu_accel_out_of_range, 1);
        assert_eq!(c.imu_gyro_out_of_range, 1);
        assert_eq!(c.imu_gaps, 2);
    }

    #[test]
    fn the_measured_rate_follows_a_rate_change() {
        let mut p = Pipeline::new(PipelineConfig::car()).expect("valid defaults");
        let mut t = 0.0;
        for _ in 0..300 {
            t += 0.01;
            let _ = p.push_imu(&sample(t));
        }
        assert!((p.sample_rate_hz() - 100.0).abs() < 2.0);
        for _ in 0..200 {
            t += 0.04;
            let _ = p.push_imu(&sample(t));
        }
        assert!(
            (p.sample_rate_hz() - 25.0).abs() < 2.0,
            "{}",
            p.sample_rate_hz()
        );
    }

    #[test]
    fn invalid_configuration_is_refused_with_the_field_named() {
        let cfg = PipelineConfig {
            max_gap_s: f32::NAN,
            ..PipelineConfig::car()
        };
        assert_eq!(Pipeline::new(cfg).err().map(|e| e.field), Some("max_gap_s"));
    }

    #[test]
    fn state_size_is_small() {
        // Documented in docs/results.md; the aim is 16 KiB for the whole chain.
        assert!(
            size_of::<Pipeline>() <= 16 * 1024,
            "{}",
            size_of::<Pipeline>()
        );
    }
}
