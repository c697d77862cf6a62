//! Map matching: snap a GPS fix to the nearest plausible road segment of the
//! tiles the caller holds, and look up that road's speed threshold.
//!
//! A segment is plausible when it lies within the fix's error radius
//! (`distance_per_accuracy` x accuracy + half a road's width, capped by the
//! tiles' index margin) and, when the fix has a course, the segment runs the
//! same way (within `max_bearing_diff_deg`; either way on two-way roads). The
//! best candidate minimises distance plus a small penalty per degree of
//! bearing disagreement, plus a prior against service roads.

use crate::ConfigError;
use crate::geo::{LocalFrame, bearing_deg, bearing_diff_deg, point_segment_distance};
use crate::input::GpsFix;
use crate::tile::{INDEX_MARGIN_M, LimitSource, RoadCategory, Tile};

/// Map matching settings.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MatchConfig {
    /// Error radius per metre of reported accuracy. Default 2 (the 68 %
    /// accuracy radius doubled covers about 95 % of fixes).
    pub distance_per_accuracy: f32,
    /// Added to the radius for the road's width (a lane or two off the centre
    /// line), m. Default 6.
    pub road_half_width_m: f32,
    /// Largest course/segment disagreement accepted, degrees. Default 45.
    pub max_bearing_diff_deg: f32,
    /// Below this speed the course is noise and is not compared, m/s. Default 3.
    pub min_speed_for_bearing_mps: f32,
    /// Score penalty per degree of bearing disagreement, m/deg. Default 0.2.
    pub bearing_penalty_m_per_deg: f32,
    /// Score penalty for service roads (parking aisles, driveways), m. On
    /// real maps they run alongside and across main roads, and a vehicle is
    /// far more often on the main road. Default 5.
    pub service_road_penalty_m: f32,
}

impl Default for MatchConfig {
    fn default() -> Self {
        Self {
            distance_per_accuracy: 2.0,
            road_half_width_m: 6.0,
            max_bearing_diff_deg: 45.0,
            min_speed_for_bearing_mps: 3.0,
            bearing_penalty_m_per_deg: 0.2,
            service_road_penalty_m: 5.0,
        }
    }
}

impl MatchConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::positive(self.distance_per_accuracy, "matching.distance_per_accuracy")?;
        ConfigError::positive(self.road_half_width_m, "matching.road_half_width_m")?;
        ConfigError::positive(self.max_bearing_diff_deg, "matching.max_bearing_diff_deg")?;
        ConfigError::check(
            self.max_bearing_diff_deg <= 180.0,
            "matching.max_bearing_diff_deg",
            "must be at most 180",
        )?;
        ConfigError::positive(
            self.min_speed_for_bearing_mps,
            "matching.min_speed_for_bearing_mps",
        )?;
        ConfigError::check(
            self.bearing_penalty_m_per_deg.is_finite() && self.bearing_penalty_m_per_deg >= 0.0,
            "matching.bearing_penalty_m_per_deg",
            "must be a number >= 0",
        )?;
        ConfigError::check(
            self.service_road_penalty_m.is_finite() && self.service_road_penalty_m >= 0.0,
            "matching.service_road_penalty_m",
            "must be a number >= 0",
        )?;
        Ok(())
    }
}

/// Where a speed threshold comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThresholdSource {
    /// A posted legal limit.
    Posted,
    /// An implicit legal limit from a country/zone code.
    Zone,
    /// Learned from many drivers' speeds on this road at this hour of week.
    Crowd,
}

impl ThresholdSource {
    /// Stable name: `posted`, `zone` or `crowd`.
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdSource::Posted => "posted",
            ThresholdSource::Zone => "zone",
            ThresholdSource::Crowd => "crowd",
        }
    }

    /// Whether this is a legal limit (posted or zone).
    pub fn is_legal(self) -> bool {
        !matches!(self, ThresholdSource::Crowd)
    }
}

/// A road's speed threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Threshold {
    /// The threshold, m/s.
    pub speed_mps: f32,
    /// Its source.
    pub source: ThresholdSource,
}

/// A fix snapped to a road.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoadMatch {
    /// The segment's stable id (OSM way id x 65536 + piece).
    pub segment_id: u64,
    /// Road category.
    pub category: RoadCategory,
    /// Distance from the fix to the segment, m.
    pub distance_m: f32,
    /// The threshold in force: the legal limit when known, otherwise the crowd
    /// threshold for the hour of week, otherwise none.
    pub threshold: Option<Threshold>,
}

/// Hour of week (0 = Monday 00:00-01:00, 167 = Sunday 23:00-24:00) of a
/// Unix time in seconds, in local time `utc_offset_s` seconds ahead of UTC:
/// the index of crowd thresholds.
pub fn hour_of_week(unix_s: f64, utc_offset_s: f64) -> u8 {
    let hours = libm::floor((unix_s + utc_offset_s) / 3600.0) as i64;
    // 1970-01-01 was a Thursday: the Monday-based weekday is (days + 3) mod 7.
    let weekday = (hours.div_euclid(24) + 3).rem_euclid(7);
    (weekday * 24 + hours.rem_euclid(24)) as u8
}

/// Snaps a fix to the best plausible segment of the first tile covering it.
/// `hour_of_week` (0 = Monday 00:00 local) selects crowd thresholds; `None`
/// uses legal limits only. Returns `None` when no tile covers the fix or no
/// segment is plausible.
pub fn match_fix(
    tiles: &[Tile<'_>],
    fix: &GpsFix,
    hour_of_week: Option<u8>,
    cfg: &MatchConfig,
) -> Option<RoadMatch> {
    let tile = tiles
        .iter()
        .find(|t| t.bbox().contains(fix.lat_deg, fix.lon_deg))?;
    let accuracy = fix.accuracy_m.filter(|a| a.is_finite() && *a >= 0.0)?;
    let radius =
        f64::from(accuracy * cfg.distance_per_accuracy + cfg.road_half_width_m).min(INDEX_MARGIN_M);
    let course = fix
        .bearing_deg
        .filter(|b| b.is_finite())
        .filter(|_| {
            fix.speed_mps
                .is_some_and(|v| v >= cfg.min_speed_for_bearing_mps)
        })
        .map(f64::from);
    let frame = LocalFrame::new(fix.lat_deg, fix.lon_deg);
    let max_diff = f64::from(cfg.max_bearing_diff_deg);
    let penalty = f64::from(cfg.bearing_penalty_m_per_deg);
    let mut best: Option<(f64, f64, u32)> = None; // (score, distance, segment)
    for s in tile.candidates(fix.lat_deg, fix.lon_deg) {
        let Some(seg) = tile.segment(s) else { continue };
        let prior = if seg.category == RoadCategory::Service {
            f64::from(cfg.service_road_penalty_m)
        } else {
            0.0
        };
        let (lat, lon) = tile.point(seg.first_point);
        let mut a = frame.to_local(lat, lon);
        for p in seg.first_point + 1..seg.first_point + u32::from(seg.point_count) {
            let (lat, lon) = tile.point(p);
            let b = frame.to_local(lat, lon);
            let (d, _) = point_segment_distance((0.0, 0.0), a, b);
            let (de, dn) = (b.0 - a.0, b.1 - a.1);
            a = b;
            if d > radius {
                continue;
            }
            let diff = match course {
                Some(c) => {
                    let fwd = bearing_diff_deg(c, bearing_deg(de, dn));
                    let diff = if seg.oneway {
                        fwd
                    } else {
                        fwd.min(180.0 - fwd)
                    };
                    if diff > max_diff {
                        continue;
                    }
                    diff
                }
                None => 0.0,
            };
            let score = d + penalty * diff + prior;
            if best.is_none_or(|(bs, _, _)| score < bs) {
                best = Some((score, d, s));
            }
        }
    }
    let (_, distance, s) = best?;
    let seg = tile.segment(s)?;
    let threshold = match (seg.limit_mps(), seg.limit_source) {
        (Some(v), LimitSource::Posted) => Some(Threshold {
            speed_mps: v,
            source: ThresholdSource::Posted,
        }),
        (Some(v), LimitSource::Zone) => Some(Threshold {
            speed_mps: v,
            source: ThresholdSource::Zone,
        }),
        _ => hour_of_week
            .and_then(|h| tile.crowd_threshold_cmps(&seg, h))
            .map(|c| Threshold {
                speed_mps: f32::from(c) / 100.0,
                source: ThresholdSource::Crowd,
            }),
    };
    Some(RoadMatch {
        segment_id: seg.id,
        category: seg.category,
        distance_m: distance as f32,
        threshold,
    })
}
