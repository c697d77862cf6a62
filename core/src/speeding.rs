//! Speeding: GPS speed against the threshold of the road being driven.
//!
//! Each fix arrives with the result of map matching ([`crate::matching`]).
//! Only *clean* pings count (see [`PingDrop`] for what is dropped, checked in
//! this order): a speed is reported, accuracy is good (tunnels and urban
//! canyons are not), the fix is not a repeat of the previous one, the speed is
//! possible for a vehicle and consistent with the previous fix (no impossible
//! acceleration or position jump), the vehicle moves, the fix is snapped to a
//! road, and that road has a threshold. No threshold, no speeding: a limit is
//! never assumed.
//!
//! A violation is a run of clean pings over `threshold + buffer` (buffer =
//! the larger of `buffer_mps` and `buffer_fraction` x threshold, room for GPS
//! error) lasting at least `min_duration_s` (overtaking is shorter). Gaps of
//! up to `max_gap_s` (pings missing or dropped, or dipping under the line) are
//! bridged. The event carries the threshold and its source, maximum and mean
//! excess over the threshold, duration and distance.

use crate::ConfigError;
use crate::geo::distance_m;
use crate::input::GpsFix;
use crate::matching::{RoadMatch, ThresholdSource};
use crate::queue::EventQueue;

/// How many speeding events wait to be pulled before the oldest is dropped.
pub const SPEEDING_QUEUE_CAPACITY: usize = 4;
/// After this many consecutive pings inconsistent with the reference ping, the
/// reference is taken to have been the outlier and is replaced.
const JUMP_RESET_COUNT: u8 = 3;
/// A reference ping older than this is not used for the consistency checks, s.
const JUMP_REFERENCE_MAX_AGE_S: f64 = 10.0;

/// Speeding settings.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SpeedingConfig {
    /// Smallest buffer over the threshold, m/s. Default 5 km/h (1.39 m/s).
    pub buffer_mps: f32,
    /// Buffer as a fraction of the threshold, when larger. Default 0.10.
    pub buffer_fraction: f32,
    /// Shortest violation, s. Default 10 (overtaking takes less).
    pub min_duration_s: f32,
    /// Longest gap bridged inside a violation, s. Default 3.
    pub max_gap_s: f32,
    /// Worst accuracy (68 % radius) of a usable ping, m. Default 20.
    pub max_accuracy_m: f32,
    /// Below this speed a ping is stationary, m/s. Default 2.
    pub min_speed_mps: f32,
    /// Above this speed a ping is unrealistic, m/s. Default 70 (252 km/h).
    pub max_speed_mps: f32,
    /// Speed change between pings beyond this is a glitch, m/s^2. Default 10.
    pub max_accel_mps2: f32,
}

impl Default for SpeedingConfig {
    fn default() -> Self {
        Self {
            buffer_mps: 5.0 / 3.6,
            buffer_fraction: 0.10,
            min_duration_s: 10.0,
            max_gap_s: 3.0,
            max_accuracy_m: 20.0,
            min_speed_mps: 2.0,
            max_speed_mps: 70.0,
            max_accel_mps2: 10.0,
        }
    }
}

impl SpeedingConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let nonneg = |v: f32, field| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(ConfigError::new(field, "must be a number >= 0"))
            }
        };
        nonneg(self.buffer_mps, "speeding.buffer_mps")?;
        nonneg(self.buffer_fraction, "speeding.buffer_fraction")?;
        nonneg(self.min_duration_s, "speeding.min_duration_s")?;
        nonneg(self.max_gap_s, "speeding.max_gap_s")?;
        ConfigError::positive(self.max_accuracy_m, "speeding.max_accuracy_m")?;
        nonneg(self.min_speed_mps, "speeding.min_speed_mps")?;
        ConfigError::positive(self.max_speed_mps, "speeding.max_speed_mps")?;
        ConfigError::check(
            self.max_speed_mps > self.min_speed_mps,
            "speeding.max_speed_mps",
            "must be above speeding.min_speed_mps",
        )?;
        ConfigError::positive(self.max_accel_mps2, "speeding.max_accel_mps2")
    }

    /// The speed over which a ping counts as speeding on a road with this
    /// threshold, m/s.
    pub fn trigger_mps(&self, threshold_mps: f32) -> f32 {
        threshold_mps + self.buffer_mps.max(self.buffer_fraction * threshold_mps)
    }
}

/// Why a ping was not used for speeding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PingDrop {
    /// No speed reported, or the timestamp or speed is not a number.
    NoSpeed,
    /// Not later than the previous ping, or the same position and speed again.
    Duplicate,
    /// Accuracy unknown or worse than `max_accuracy_m` (tunnels).
    PoorAccuracy,
    /// Faster than any vehicle, or negative.
    Unrealistic,
    /// Inconsistent with the previous ping: impossible acceleration or position jump.
    Jump,
    /// Slower than `min_speed_mps`.
    Stationary,
    /// Not snapped to a road.
    Unsnapped,
    /// Snapped to a road with no known threshold.
    NoThreshold,
}

impl PingDrop {
    /// Every reason, in check order.
    pub const ALL: [PingDrop; 8] = [
        PingDrop::NoSpeed,
        PingDrop::Duplicate,
        PingDrop::PoorAccuracy,
        PingDrop::Unrealistic,
        PingDrop::Jump,
        PingDrop::Stationary,
        PingDrop::Unsnapped,
        PingDrop::NoThreshold,
    ];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            PingDrop::NoSpeed => "no_speed",
            PingDrop::Duplicate => "duplicate",
            PingDrop::PoorAccuracy => "poor_accuracy",
            PingDrop::Unrealistic => "unrealistic",
            PingDrop::Jump => "jump",
            PingDrop::Stationary => "stationary",
            PingDrop::Unsnapped => "unsnapped",
            PingDrop::NoThreshold => "no_threshold",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// Ping counts: clean, and dropped by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PingCounts {
    /// Pings used.
    pub clean: u64,
    /// Dropped, indexed like [`PingDrop::ALL`].
    pub dropped: [u64; 8],
}

impl PingCounts {
    /// Dropped for one reason.
    pub fn get(&self, r: PingDrop) -> u64 {
        self.dropped[r.index()]
    }
}

/// A speeding violation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpeedingEvent {
    /// Time of the first ping over the line, s.
    pub start_s: f64,
    /// Time of the last ping over the line, s.
    pub end_s: f64,
    /// The threshold where the excess was largest, m/s.
    pub threshold_mps: f32,
    /// Its source.
    pub source: ThresholdSource,
    /// Largest speed over the threshold, m/s.
    pub max_excess_mps: f32,
    /// Mean speed over the threshold across the run's pings over the line, m/s.
    pub mean_excess_mps: f32,
    /// Highest speed, m/s.
    pub max_speed_mps: f32,
    /// Distance driven from start to end, m.
    pub distance_m: f32,
    /// Segment where the excess was largest.
    pub segment_id: u64,
    /// Position of the first ping, (lat, lon) degrees.
    pub start_position: (f64, f64),
    /// Time of the ping at which the violation was decided, s (for latency).
    pub decided_s: f64,
}

impl SpeedingEvent {
    /// Duration, s.
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }
}

#[derive(Clone, Copy, Debug)]
struct Ping {
    t_s: f64,
    lat_deg: f64,
    lon_deg: f64,
    speed_mps: f32,
    accuracy_m: f32,
}

#[derive(Clone, Copy, Debug)]
struct Run {
    start_s: f64,
    start_position: (f64, f64),
    last_over_s: f64,
    last_t_s: f64,
    last_speed_mps: f32,
    distance_m: f64,
    distance_at_last_over_m: f64,
    threshold_mps: f32,
    source: ThresholdSource,
    segment_id: u64,
    max_excess_mps: f32,
    sum_excess_mps: f64,
    over_pings: u32,
    max_speed_mps: f32,
}

/// Streaming speeding detector: fixes (with their map match) in, violations out.
#[derive(Clone, Copy, Debug)]
pub struct SpeedingDetector {
    cfg: SpeedingConfig,
    last: Option<Ping>,
    reference: Option<Ping>,
    jumps_in_a_row: u8,
    run: Option<Run>,
    queue: EventQueue<SpeedingEvent, SPEEDING_QUEUE_CAPACITY>,
    counts: PingCounts,
    detected: u32,
}

impl SpeedingDetector {
    /// A detector; the configuration is checked.
    pub fn new(cfg: SpeedingConfig) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            last: None,
            reference: None,
            jumps_in_a_row: 0,
            run: None,
            queue: EventQueue::new(),
            counts: PingCounts::default(),
            detected: 0,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &SpeedingConfig {
        &self.cfg
    }

    /// Ping counts so far.
    pub fn counts(&self) -> &PingCounts {
        &self.counts
    }

    /// Violations detected so far.
    pub fn detected(&self) -> u32 {
        self.detected
    }

    /// Violations dropped because nobody pulled them.
    pub fn dropped_events(&self) -> u32 {
        self.queue.dropped()
    }

    /// Takes the oldest waiting violation.
    pub fn pop_event(&mut self) -> Option<SpeedingEvent> {
        self.queue.pop()
    }

    /// Whether a violation is running (clean pings over the line right now,
    /// not yet long enough or not yet ended).
    pub fn over_now(&self) -> bool {
        self.run.is_some()
    }

    /// Pushes one fix with its map match (`None`: not snapped). Returns
    /// whether the ping was clean, or why it was dropped.
    pub fn push(&mut self, fix: &GpsFix, road: Option<&RoadMatch>) -> Result<(), PingDrop> {
        let r = self.check(fix, road);
        match r {
            Ok(()) => self.counts.clean += 1,
            Err(reason) => self.counts.dropped[reason.index()] += 1,
        }
        r
    }

    fn check(&mut self, fix: &GpsFix, road: Option<&RoadMatch>) -> Result<(), PingDrop> {
        let speed = fix.speed_mps.ok_or(PingDrop::NoSpeed)?;
        if !(fix.t_s.is_finite()
            && speed.is_finite()
            && fix.lat_deg.is_finite()
            && fix.lon_deg.is_finite())
        {
            return Err(PingDrop::NoSpeed);
        }
        if let Some(last) = self.last {
            #[allow(clippy::float_cmp)] // a repeated fix is bit-identical
            let repeated = last.lat_deg == fix.lat_deg
                && last.lon_deg == fix.lon_deg
                && last.speed_mps == speed;
            if fix.t_s <= last.t_s || repeated {
                return Err(PingDrop::Duplicate);
            }
        }
        let accuracy = fix
            .accuracy_m
            .filter(|a| a.is_finite() && *a >= 0.0)
            .unwrap_or(f32::INFINITY);
        let ping = Ping {
            t_s: fix.t_s,
            lat_deg: fix.lat_deg,
            lon_deg: fix.lon_deg,
            speed_mps: speed,
            accuracy_m: accuracy,
        };
        self.last = Some(ping);
        // Every later ping (dropped or not) advances time: end a run whose gap
        // has grown too long even while nothing clean arrives (a tunnel).
        self.expire(fix.t_s);
        if accuracy > self.cfg.max_accuracy_m {
            return Err(PingDrop::PoorAccuracy);
        }
        if !(0.0..=self.cfg.max_speed_mps).contains(&speed) {
            return Err(PingDrop::Unrealistic);
        }
        if let Some(reference) = self
            .reference
            .filter(|r| fix.t_s - r.t_s <= JUMP_REFERENCE_MAX_AGE_S)
        {
            if self.inconsistent(&reference, &ping) {
                self.jumps_in_a_row += 1;
                if self.jumps_in_a_row < JUMP_RESET_COUNT {
                    return Err(PingDrop::Jump);
                }
            }
        }
        self.jumps_in_a_row = 0;
        self.reference = Some(ping);
        if speed < self.cfg.min_speed_mps {
            return Err(PingDrop::Stationary);
        }
        let road = road.ok_or(PingDrop::Unsnapped)?;
        let threshold = road.threshold.ok_or(PingDrop::NoThreshold)?;
        self.on_clean(
            fix,
            speed,
            road.segment_id,
            threshold.speed_mps,
            threshold.source,
        );
        Ok(())
    }

    fn inconsistent(&self, a: &Ping, b: &Ping) -> bool {
        let dt = (b.t_s - a.t_s) as f32;
        if dt <= 0.0 {
            return true;
        }
        if (b.speed_mps - a.speed_mps).abs() / dt > self.cfg.max_accel_mps2 {
            return true;
        }
        let moved = distance_m(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg) as f32;
        let reach =
            a.speed_mps.max(b.speed_mps) * dt * 1.5 + 2.0 * (a.accuracy_m + b.accuracy_m) + 10.0;
        moved > reach
    }

    fn on_clean(
        &mut self,
        fix: &GpsFix,
        speed: f32,
        segment_id: u64,
        threshold_mps: f32,
        source: ThresholdSource,
    ) {
        let t = fix.t_s;
        let over = speed > self.cfg.trigger_mps(threshold_mps);
        let excess = speed - threshold_mps;
        if let Some(run) = &mut self.run {
            run.distance_m += f64::from(0.5 * (speed + run.last_speed_mps)) * (t - run.last_t_s);
            run.last_t_s = t;
            run.last_speed_mps = speed;
            if over {
                run.last_over_s = t;
                run.distance_at_last_over_m = run.distance_m;
                run.over_pings += 1;
                run.sum_excess_mps += f64::from(excess);
                run.max_speed_mps = run.max_speed_mps.max(speed);
                if excess > run.max_excess_mps {
                    run.max_excess_mps = excess;
                    run.threshold_mps = threshold_mps;
                    run.source = source;
                    run.segment_id = segment_id;
                }
            }
        } else if over {
            self.run = Some(Run {
                start_s: t,
                start_position: (fix.lat_deg, fix.lon_deg),
                last_over_s: t,
                last_t_s: t,
                last_speed_mps: speed,
                distance_m: 0.0,
                distance_at_last_over_m: 0.0,
                threshold_mps,
                source,
                segment_id,
                max_excess_mps: excess,
                sum_excess_mps: f64::from(excess),
                over_pings: 1,
                max_speed_mps: speed,
            });
        }
    }

    /// Ends the running violation when `now_s` is more than `max_gap_s` past
    /// its last ping over the line.
    fn expire(&mut self, now_s: f64) {
        if self
            .run
            .is_some_and(|r| now_s - r.last_over_s > f64::from(self.cfg.max_gap_s))
        {
            self.close(now_s);
        }
    }

    fn close(&mut self, decided_s: f64) {
        let Some(run) = self.run.take() else { return };
        if run.last_over_s - run.start_s < f64::from(self.cfg.min_duration_s) {
            return;
        }
        self.detected += 1;
        self.queue.push(SpeedingEvent {
            start_s: run.start_s,
            end_s: run.last_over_s,
            threshold_mps: run.threshold_mps,
            source: run.source,
            max_excess_mps: run.max_excess_mps,
            mean_excess_mps: (run.sum_excess_mps / f64::from(run.over_pings.max(1))) as f32,
            max_speed_mps: run.max_speed_mps,
            distance_m: run.distance_at_last_over_m as f32,
            segment_id: run.segment_id,
            start_position: run.start_position,
            decided_s,
        });
    }

    /// Ends the trip: a running violation long enough is reported.
    pub fn finish(&mut self) {
        let t = self.last.map_or(0.0, |p| p.t_s);
        self.close(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::Threshold;
    use crate::tile::RoadCategory;

    fn road(limit_mps: f32) -> RoadMatch {
        RoadMatch {
            segment_id: 7,
            category: RoadCategory::Primary,
            distance_m: 2.0,
            threshold: Some(Threshold {
                speed_mps: limit_mps,
                source: ThresholdSource::Posted,
            }),
        }
    }

    /// A straight northbound drive at 1 Hz with the given speed per second.
    fn drive(d: &mut SpeedingDetector, speeds: &[f32], road: Option<&RoadMatch>, acc: f32) {
        let mut lat = 60.0;
        for (i, &v) in speeds.iter().enumerate() {
            lat += f64::from(v) / 111_195.0;
            let fix = GpsFix {
                t_s: i as f64,
                lat_deg: lat,
                lon_deg: 25.0,
                speed_mps: Some(v),
                bearing_deg: Some(0.0),
                accuracy_m: Some(acc),
            };
            let _ = d.push(&fix, road);
        }
        d.finish();
    }

    fn profile(parts: &[(usize, f32)]) -> [f32; 120] {
        let mut out = [0.0; 120];
        let mut i = 0;
        for &(n, v) in parts {
            for _ in 0..n {
                if i < out.len() {
                    out[i] = v;
                    i += 1;
                }
            }
        }
        out
    }

    #[test]
    fn a_sustained_run_over_the_line_is_one_violation() {
        // 50 km/h road (13.89 m/s): trigger 55 km/h. 20 s at 65 km/h.
        let speeds = profile(&[(30, 13.0), (20, 65.0 / 3.6), (70, 13.0)]);
        let mut d = SpeedingDetector::new(SpeedingConfig::default()).unwrap();
        drive(&mut d, &speeds, Some(&road(50.0 / 3.6)), 5.0);
        let e = d.pop_event().expect("one violation");
        assert!(d.pop_event().is_none());
        assert!((e.duration_s() - 19.0).abs() < 1e-9, "{e:?}");
        assert!((e.max_excess_mps - 15.0 / 3.6).abs() < 1e-4);
        assert!((e.mean_excess_mps - 15.0 / 3.6).abs() < 1e-4);
        assert!(
            (e.distance_m - 19.0 * 65.0 / 3.6).abs() < 0.1,
            "{}",
            e.distance_m
        );
        assert_eq!(e.source, ThresholdSource::Posted);
        assert_eq!(e.segment_id, 7);
        assert!(e.decided_s > e.end_s);
    }

    #[test]
    fn an_overtake_shorter_than_the_minimum_is_not_flagged() {
        let speeds = profile(&[(30, 13.0), (8, 70.0 / 3.6), (82, 13.0)]);
        let mut d = SpeedingDetector::new(SpeedingConfig::default()).unwrap();
        drive(&mut d, &speeds, Some(&road(50.0 / 3.6)), 5.0);
        assert!(d.pop_event().is_none());
    }

    #[test]
    fn within_the_buffer_is_not_speeding() {
        // 54 km/h on a 50 road: under max(5 km/h, 10 %).
        let speeds = profile(&[(120, 54.0 / 3.6)]);
        let mut d = SpeedingDetector::new(SpeedingConfig::default()).unwrap();
        drive(&mut d, &speeds, Some(&road(50.0 / 3.6)), 5.0);
        assert!(d.pop_event().is_none());
        // On a 100 road, 10 % (10 km/h) is the buffer: 108 is fine, 112 is not.
        let mut d = SpeedingDetector::new(SpeedingConfig::default()).unwrap();
        drive(
            &mut d,
            &profile(&[(120, 108.0 / 3.6)]),
            Some(&road(100.0 / 3.6)),
            5.0,
        );
        assert!(d.pop_event().is_none());
        let mut d = SpeedingDetector::new(SpeedingConfig::default()).unwrap();
        drive(
            &mut d,
            &profile(&[(120, 112.0 / 3.6)]),
            Some(&road(100.0 / 3.6)),
            5.0,
        );
        assert!(d.pop_event().is_some());
    }

    #[test]
    fn short_dips_are_bridged_and_long_gaps_split() {
        let fast = 70.0 / 3.6;
        let speeds = profile(&[(10, 13.0), (15, fast), (2, 13.0), (15, fast), (78, 13.0)]);
        let mut d = SpeedingDetector::new(SpeedingConfig::default()).unwrap();
        drive(&mut d, &speeds, Some(&road(50.0 / 3.6)), 5.0);
        let e = d.pop_event().expect("bridged into one");
        assert!((e.duration_s() - 31.0).abs() < 1e-9, "{e:?}");
        assert!(d.pop_event().is_none());
        let speeds = profile(&[(10, 13.0), (15, fast), (6, 13.0), (15, fast), (74, 13.0)]);
        let mut d = SpeedingDetector::new(SpeedingConfig::default()).unwrap();
        drive(&mut d, &speeds, Some(&road(50.0 / 3.6)), 5.0);
        assert!(d.pop_event().is_some() && d.pop_event().is_some());
    }

    #[test]
    fn no_threshold_poor_accuracy_or_no_road_means_no_speeding() {
        let speeds = profile(&[(120, 40.0)]);
        let mut none = road(10.0);
        none.threshold = None;
        let mut d = SpeedingDetector::new(SpeedingConfig::default()).unwrap();
        drive(&mut d, &speeds, Some(&none), 5.0);
        assert!(d.pop_event().is_none());
        assert_eq!(d.counts().get(PingDrop::NoThreshold), 120);
        let mut d = SpeedingDetector::new(SpeedingConfig::default()).unwrap();
        drive(&mut d, &speeds, None, 5.0);
        assert!(d.pop_event().is_none());
        assert_eq!(d.counts().get(PingDrop::Unsnapped), 120);
        let mut d = SpeedingDetector::new(SpeedingConfig::default()).unwrap();
        drive(&mut d, &speeds, Some(&road(10.0)), 45.0);
        assert!(d.pop_event().is_none());
        assert_eq!(d.counts().get(PingDrop::PoorAccuracy), 120);
    }

    #[test]
    fn glitches_are_dropped_not_flagged() {
        let mut d = SpeedingDetector::new(SpeedingConfig::default()).unwrap();
        let r = road(50.0 / 3.6);
        let mut fix = GpsFix {
            t_s: 0.0,
            lat_deg: 60.0,
            lon_deg: 25.0,
            speed_mps: Some(13.0),
            bearing_deg: Some(0.0),
            accuracy_m: Some(5.0),
        };
        assert_eq!(d.push(&fix, Some(&r)), Ok(()));
        // The same fix again (a stale repeat with a new timestamp).
        fix.t_s = 1.0;
        assert_eq!(d.push(&fix, Some(&r)), Err(PingDrop::Duplicate));
        // 13 -> 40 m/s in one second.
        fix.t_s = 2.0;
        fix.lat_deg += 26.0 / 111_195.0;
        fix.speed_mps = Some(40.0);
        assert_eq!(d.push(&fix, Some(&r)), Err(PingDrop::Jump));
        // 2 km away one second later.
        fix.t_s = 3.0;
        fix.lat_deg = 60.02;
        fix.speed_mps = Some(13.0);
        assert_eq!(d.push(&fix, Some(&r)), Err(PingDrop::Jump));
        fix.speed_mps = Some(300.0);
        fix.t_s = 4.0;
        assert_eq!(d.push(&fix, Some(&r)), Err(PingDrop::Unrealistic));
        fix.speed_mps = Some(0.5);
        fix.t_s = 5.0;
        fix.lat_deg = 60.0 + 52.0 / 111_195.0;
        assert_eq!(d.push(&fix, Some(&r)), Err(PingDrop::Stationary));
        fix.speed_mps = None;
        fix.t_s = 6.0;
        assert_eq!(d.push(&fix, Some(&r)), Err(PingDrop::NoSpeed));
        assert_eq!(d.counts().clean, 1);
    }

    #[test]
    fn the_jump_reference_recovers_after_an_outlier() {
        // The first ping is an outlier 2 km off; the following consistent
        // pings take over as reference after three in a row.
        let mut d = SpeedingDetector::new(SpeedingConfig::default()).unwrap();
        let r = road(50.0 / 3.6);
        let mut fix = GpsFix {
            t_s: 0.0,
            lat_deg: 60.02,
            lon_deg: 25.0,
            speed_mps: Some(13.0),
            bearing_deg: Some(0.0),
            accuracy_m: Some(5.0),
        };
        let _ = d.push(&fix, Some(&r));
        let mut results = [Ok(()); 5];
        for (i, out) in results.iter_mut().enumerate() {
            fix.t_s = 1.0 + i as f64;
            fix.lat_deg = 60.0 + 13.0 * i as f64 / 111_195.0;
            *out = d.push(&fix, Some(&r));
        }
        assert_eq!(
            results,
            [
                Err(PingDrop::Jump),
                Err(PingDrop::Jump),
                Ok(()),
                Ok(()),
                Ok(())
            ]
        );
    }

    #[test]
    fn bad_configuration_names_the_field() {
        let cfg = SpeedingConfig {
            max_speed_mps: 1.0,
            ..SpeedingConfig::default()
        };
        assert_eq!(
            SpeedingDetector::new(cfg).unwrap_err().field,
            "speeding.max_speed_mps"
        );
        let cfg = SpeedingConfig {
            buffer_fraction: f32::NAN,
            ..SpeedingConfig::default()
        };
        assert_eq!(
            SpeedingDetector::new(cfg).unwrap_err().field,
            "speeding.buffer_fraction"
        );
    }
}
