//! # safelane-core
//!
//! The phone-side signal chain of safelane, `#![no_std]` without `alloc`:
//! IMU samples and GPS fixes in, vehicle-frame acceleration and orientation out.
//!
//! - [`input`]: sample types, validation, rejection counts;
//! - [`orientation`]: phone-to-vehicle rotation (tilt from gravity, heading by
//!   PCA with the sign from GPS, gyroscope or standstills), move detection;
//! - [`filter`]: adaptive noise filtering (biquad low-pass or Kalman);
//! - [`detect`]: harsh braking, acceleration, cornering, lane changes and
//!   crashes, with false-positive guards;
//! - [`tile`], [`geo`], [`matching`]: map threshold tiles read in place,
//!   GPS fixes snapped to road segments;
//! - [`speeding`]: GPS speed against the road's threshold, with ping cleaning;
//! - [`pipeline`]: the streaming chain that ties them together.
//!
//! Units are SI and carried in names (`t_s`, `accel_mps2`, `gyro_rps`).
//! Vehicle axes: x forward, y left, z up. Phone axes and sign conventions are
//! Android's (specific force: a phone face-up at rest reads z = +9.81).
//!
//! ```
//! use safelane_core::{ImuSample, Pipeline, PipelineConfig};
//! let mut p = Pipeline::new(PipelineConfig::car()).expect("valid defaults");
//! let out = p.push_imu(&ImuSample { t_s: 0.0, accel_mps2: [0.0, 0.0, 9.81], gyro_rps: None });
//! assert!(out.is_ok());
//! assert!(!p.orientation().is_known());
//! ```
#![cfg_attr(not(test), no_std)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod detect;
pub mod event;
pub mod filter;
pub mod geo;
pub mod gps_lag;
pub mod input;
pub mod matching;
pub mod math;
pub mod orientation;
pub mod pipeline;
pub mod queue;
pub mod speeding;
pub mod tile;
pub mod wobble;

pub use detect::{DetectionConfig, Event, Severity, Suppression, SuppressionCounts};
pub use event::{Direction, EventKind};
pub use filter::{AdaptiveFilter, FilterConfig, FilterMode};
pub use input::{GpsFix, ImuSample, InputCounts, Rejection, STANDARD_GRAVITY_MPS2};
pub use matching::{MatchConfig, RoadMatch, Threshold, ThresholdSource, match_fix};
pub use orientation::{HeadingSource, Orientation, OrientationConfig, OrientationState};
pub use pipeline::{Pipeline, PipelineConfig, VehicleProfile, VehicleSample};
pub use speeding::{PingCounts, PingDrop, SpeedingConfig, SpeedingDetector, SpeedingEvent};
pub use tile::{LimitSource, RoadCategory, Tile, TileError};

/// A configuration value that cannot be used: names the field and the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the offending field, e.g. `filter.lowpass_cutoff_hz`.
    pub field: &'static str,
    /// What the field must be.
    pub rule: &'static str,
}

impl ConfigError {
    pub(crate) const fn new(field: &'static str, rule: &'static str) -> Self {
        Self { field, rule }
    }

    /// `Ok` when `ok`, else an error for `field` saying what it must be.
    pub(crate) const fn check(
        ok: bool,
        field: &'static str,
        rule: &'static str,
    ) -> Result<(), Self> {
        if ok {
            Ok(())
        } else {
            Err(Self::new(field, rule))
        }
    }

    /// `Ok` when `v` is a finite number within `range`, else an error for
    /// `field` saying what it must be.
    pub(crate) fn in_range(
        v: f32,
        range: core::ops::RangeInclusive<f32>,
        field: &'static str,
        rule: &'static str,
    ) -> Result<(), Self> {
        Self::check(v.is_finite() && range.contains(&v), field, rule)
    }

    /// `Ok` when `v` is a finite number above zero, else an error for `field`.
    pub(crate) fn positive(v: f32, field: &'static str) -> Result<(), Self> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(Self::new(field, "must be a positive number"))
        }
    }
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "invalid configuration: {} {}", self.field, self.rule)
    }
}

impl core::error::Error for ConfigError {}
