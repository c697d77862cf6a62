//! Driver and fleet reports, built from the daily roll-ups and the stored
//! events (pure functions: rows in, report out; the handlers fetch the rows).
//!
//! A report covers `days` local days from `first_day`. The score of a period
//! is computed against the fleet's typical rates over the same period
//! ([`ScoreModel::fleet_rates`]); the trend is the same score over the
//! preceding periods.

use std::collections::BTreeMap;

use safelane_wire::{Kind, SpeedingDetail, WireEvent};
use serde::Serialize;

use crate::calendar::{self, DAY_MS};
use crate::score::{Exposure, KINDS, Score, ScoreModel};
use crate::store::{DayRow, EventRecord};

/// Per-kind numbers, keyed by the kind's stable name.
pub type PerKind<T> = BTreeMap<Kind, T>;

fn kind_index(name: &str) -> Option<usize> {
    Kind::ALL.iter().position(|k| k.as_str() == name)
}

/// Driving and events over a period.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// Distance driven, km.
    pub distance_km: f64,
    /// Time driven, h.
    pub driving_h: f64,
    /// Trips started.
    pub trips: i64,
    /// Events per kind.
    pub counts: PerKind<u64>,
    /// Of which severe.
    pub severe: PerKind<u64>,
    /// Events per 100 km per kind (0 with no distance).
    pub per_100km: PerKind<f64>,
    /// Events per hour driven per kind (0 with no driving time).
    pub per_hour: PerKind<f64>,
}

/// One day of a report.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DaySummary {
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    /// The day's totals.
    #[serde(flatten)]
    pub totals: Totals,
}

/// One event in a report.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Instance {
    /// Event id.
    pub id: String,
    /// Kind.
    pub kind: Kind,
    /// `moderate` or `severe`.
    pub severity: String,
    /// `left`/`right` for cornering and lane changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// Start, Unix ms.
    pub start_unix_ms: i64,
    /// Start in the fleet's local time, `YYYY-MM-DD HH:MM:SS`.
    pub local_time: String,
    /// Duration, s.
    pub duration_s: f64,
    /// Place, degrees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Place, degrees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Speed at the start, km/h.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed_kmh: Option<f64>,
    /// Peak acceleration, m/s^2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_mps2: Option<f64>,
    /// Speeding details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speeding: Option<SpeedingDetail>,
}

/// A score at an earlier period, for the trend.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrendPoint {
    /// The period (`YYYY-MM-DD` or `YYYY-Www`).
    pub period: String,
    /// Score.
    pub score: f64,
    /// Confidence.
    pub confidence: f64,
    /// Distance, km.
    pub distance_km: f64,
}

/// A driver's daily or weekly report.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DriverReport {
    /// Driver id.
    pub driver_id: i64,
    /// Driver name.
    pub driver_name: String,
    /// The period: `YYYY-MM-DD` (day) or `YYYY-Www` (ISO week).
    pub period: String,
    /// First local date.
    pub from_date: String,
    /// Last local date.
    pub to_date: String,
    /// The fleet's local time, minutes east of UTC.
    pub utc_offset_min: i32,
    /// The period's totals.
    pub totals: Totals,
    /// Per day.
    pub days: Vec<DaySummary>,
    /// Score, confidence, per-kind parts and the insight.
    pub score: Score,
    /// Scores of the preceding periods, oldest first, then this one.
    pub trend: Vec<TrendPoint>,
    /// The events, oldest first (at most `store::MAX_INSTANCES`).
    pub instances: Vec<Instance>,
    /// True when there were more events than listed.
    pub instances_truncated: bool,
}

/// One driver in a fleet overview.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RankedDriver {
    /// 1 = safest.
    pub rank: usize,
    /// Driver id.
    pub driver_id: i64,
    /// Driver name.
    pub name: String,
    /// Score.
    pub score: f64,
    /// Score interval.
    pub low: f64,
    /// Score interval.
    pub high: f64,
    /// Confidence.
    pub confidence: f64,
    /// Distance, km.
    pub distance_km: f64,
    /// Time driven, h.
    pub driving_h: f64,
    /// Events.
    pub events: u64,
    /// Score the period before.
    pub previous_score: f64,
    /// `score - previous_score`.
    pub change: f64,
    /// The manoeuvre to work on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insight: Option<Kind>,
}

/// A fleet's week: drivers ranked, trends.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FleetOverview {
    /// Fleet id.
    pub fleet_id: i64,
    /// Fleet name.
    pub fleet_name: String,
    /// `YYYY-Www`.
    pub period: String,
    /// The fleet's totals.
    pub totals: Totals,
    /// The fleet's typical rates per 100 km (the score's prior).
    pub typical_per_100km: PerKind<f64>,
    /// The fleet's typical driver's score this week and the week before.
    pub typical_score: f64,
    /// Same, the week before.
    pub previous_typical_score: f64,
    /// Drivers, safest first (ties by id).
    pub drivers: Vec<RankedDriver>,
}

/// Sums roll-up rows with `first <= day < first + days`.
fn sum(rows: &[DayRow], first: i64, days: i64) -> (Exposure, f64, i64) {
    let mut e = Exposure::default();
    let (mut duration_s, mut trips) = (0.0, 0);
    for r in rows
        .iter()
        .filter(|r| r.day >= first && r.day < first + days)
    {
        e.distance_km += r.distance_m / 1000.0;
        duration_s += r.duration_s;
        trips += r.trips;
        for (kind, severity, n) in &r.events {
            if let Some(k) = kind_index(kind) {
                let n = (*n).max(0) as u64;
                e.counts[k] += n;
                if severity == "severe" {
                    e.severe[k] += n;
                }
            }
        }
    }
    (e, duration_s, trips)
}

fn totals(e: &Exposure, duration_s: f64, trips: i64) -> Totals {
    let h = duration_s / 3600.0;
    let per = |k: usize, by: f64| {
        if by > 0.0 {
            e.counts[k] as f64 / by
        } else {
            0.0
        }
    };
    Totals {
        distance_km: e.distance_km,
        driving_h: h,
        trips,
        counts: Kind::ALL
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, e.counts[i]))
            .collect(),
        severe: Kind::ALL
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, e.severe[i]))
            .collect(),
        per_100km: Kind::ALL
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, per(i, e.distance_km / 100.0)))
            .collect(),
        per_hour: Kind::ALL
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, per(i, h)))
            .collect(),
    }
}

/// `YYYY-MM-DD HH:MM:SS` in local time.
fn local_time(unix_ms: i64, utc_offset_min: i32) -> String {
    let day = calendar::day_of(unix_ms, utc_offset_min);
    let s = (unix_ms - calendar::day_start_ms(day, utc_offset_min)) / 1000;
    format!(
        "{} {:02}:{:02}:{:02}",
        calendar::format_date(day),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn instance(rec: &EventRecord, utc_offset_min: i32) -> Option<Instance> {
    // Stored bodies were validated on the way in; one that no longer parses
    // (a future field layout) is left out of the list rather than failing it.
    let e: WireEvent = serde_json::from_str(&rec.body).ok()?;
    Some(Instance {
        local_time: local_time(e.start_unix_ms, utc_offset_min),
        duration_s: (e.end_unix_ms - e.start_unix_ms) as f64 / 1000.0,
        id: e.id,
        kind: e.kind,
        severity: e.severity,
        direction: e.direction,
        start_unix_ms: e.start_unix_ms,
        lat: e.lat,
        lon: e.lon,
        speed_kmh: e.speed_mps.map(|v| f64::from(v) * 3.6),
        peak_mps2: e.peak_mps2.map(f64::from),
        speeding: e.speeding,
    })
}

/// The period label of `days` days from `first` (a date or an ISO week).
pub fn period_label(first: i64, days: i64) -> String {
    if days == 7 {
        calendar::format_week(first)
    } else {
        calendar::format_date(first)
    }
}

/// Everything a driver report is built from.
#[derive(Debug)]
pub struct DriverInput<'a> {
    /// Driver id and name.
    pub driver: (i64, &'a str),
    /// The fleet's UTC offset, minutes.
    pub utc_offset_min: i32,
    /// First local day of the period.
    pub first_day: i64,
    /// Days in the period (1 or 7).
    pub days: i64,
    /// Preceding periods in the trend.
    pub trend_periods: i64,
    /// The driver's roll-up rows over the trend and the period.
    pub driver_rows: &'a [DayRow],
    /// The fleet's roll-up rows over the same days.
    pub fleet_rows: &'a [DayRow],
    /// The period's events.
    pub events: &'a [EventRecord],
}

/// Builds a driver's report.
pub fn driver_report(model: &ScoreModel, input: &DriverInput<'_>) -> DriverReport {
    let (first, days) = (input.first_day, input.days);
    let point = |start: i64, s: &Score, e: &Exposure| TrendPoint {
        period: period_label(start, days),
        score: s.value,
        confidence: s.confidence,
        distance_km: e.distance_km,
    };
    let (e, dur, trips) = sum(input.driver_rows, first, days);
    let (fleet, _, _) = sum(input.fleet_rows, first, days);
    let score = model.score(&e, &model.fleet_rates(&fleet));
    // The preceding periods, oldest first, then this one (scored above).
    let mut trend: Vec<TrendPoint> = (1..=input.trend_periods)
        .rev()
        .map(|p| {
            let start = first - p * days;
            let (fleet, _, _) = sum(input.fleet_rows, start, days);
            let (e, _, _) = sum(input.driver_rows, start, days);
            point(
                start,
                &model.score_brief(&e, &model.fleet_rates(&fleet)),
                &e,
            )
        })
        .collect();
    trend.push(point(first, &score, &e));
    let days_list = (first..first + days)
        .map(|d| {
            let (e, dur, trips) = sum(input.driver_rows, d, 1);
            DaySummary {
                date: calendar::format_date(d),
                totals: totals(&e, dur, trips),
            }
        })
        .collect();
    let instances: Vec<Instance> = input
        .events
        .iter()
        .filter_map(|r| instance(r, input.utc_offset_min))
        .collect();
    let total_events: u64 = e.counts.iter().sum();
    DriverReport {
        driver_id: input.driver.0,
        driver_name: input.driver.1.to_owned(),
        period: period_label(first, days),
        from_date: calendar::format_date(first),
        to_date: calendar::format_date(first + days - 1),
        utc_offset_min: input.utc_offset_min,
        totals: totals(&e, dur, trips),
        days: days_list,
        score,
        trend,
        instances_truncated: (instances.len() as u64) < total_events,
        instances,
    }
}

/// Builds a fleet's weekly overview. `driver_rows` and `fleet_rows` cover
/// the week before `first_day` and the week itself.
pub fn fleet_overview(
    model: &ScoreModel,
    fleet: (i64, &str),
    drivers: &[(i64, String)],
    first_day: i64,
    driver_rows: &[DayRow],
    fleet_rows: &[DayRow],
) -> FleetOverview {
    let (fleet_now, dur, trips) = sum(fleet_rows, first_day, 7);
    let (fleet_before, _, _) = sum(fleet_rows, first_day - 7, 7);
    let typical = model.fleet_rates(&fleet_now);
    let typical_before = model.fleet_rates(&fleet_before);
    let mut by_driver: BTreeMap<i64, Vec<DayRow>> = BTreeMap::new();
    for r in driver_rows {
        by_driver.entry(r.driver_id).or_default().push(r.clone());
    }
    let empty = Vec::new();
    let mut ranked: Vec<RankedDriver> = drivers
        .iter()
        .map(|(id, name)| {
            let rows = by_driver.get(id).unwrap_or(&empty);
            let (e, dur, _) = sum(rows, first_day, 7);
            let (prev, _, _) = sum(rows, first_day - 7, 7);
            let s = model.score_brief(&e, &typical);
            let p = model.score_brief(&prev, &typical_before);
            RankedDriver {
                rank: 0,
                driver_id: *id,
                name: name.clone(),
                score: s.value,
                low: s.low,
                high: s.high,
                confidence: s.confidence,
                distance_km: e.distance_km,
                driving_h: dur / 3600.0,
                events: e.counts.iter().sum(),
                previous_score: p.value,
                change: s.value - p.value,
                insight: s.insight.kind,
            }
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.driver_id.cmp(&b.driver_id))
    });
    for (i, r) in ranked.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    let rates: [f64; KINDS] = typical;
    FleetOverview {
        fleet_id: fleet.0,
        fleet_name: fleet.1.to_owned(),
        period: calendar::format_week(first_day),
        totals: totals(&fleet_now, dur, trips),
        typical_per_100km: Kind::ALL
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, rates[i]))
            .collect(),
        typical_score: model.value_of_rates(&typical),
        previous_typical_score: model.value_of_rates(&typical_before),
        drivers: ranked,
    }
}

/// The Unix-ms range `[start, end)` of a period in local time.
pub fn period_ms(first_day: i64, days: i64, utc_offset_min: i32) -> (i64, i64) {
    (
        calendar::day_start_ms(first_day, utc_offset_min),
        calendar::day_start_ms(first_day, utc_offset_min) + days * DAY_MS,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn row(driver_id: i64, day: i64, km: f64, events: &[(&str, &str, i64)]) -> DayRow {
        DayRow {
            driver_id,
            day,
            distance_m: km * 1000.0,
            duration_s: km * 90.0, // 40 km/h
            trips: 2,
            events: events
                .iter()
                .map(|(k, s, n)| (k.to_string(), s.to_string(), *n))
                .collect(),
        }
    }

    #[test]
    fn weekly_report_counts_rates_days_and_trend() {
        let monday = calendar::parse_week("2026-W47").unwrap();
        let rows = vec![
            row(1, monday - 7, 100.0, &[("harsh_braking", "moderate", 8)]),
            row(
                1,
                monday,
                50.0,
                &[
                    ("harsh_braking", "moderate", 2),
                    ("harsh_braking", "severe", 1),
                ],
            ),
            row(
                1,
                monday + 3,
                50.0,
                &[("speeding", "moderate", 1), ("bogus_kind", "moderate", 9)],
            ),
        ];
        let fleet = vec![
            row(0, monday - 7, 1000.0, &[("harsh_braking", "moderate", 20)]),
            row(0, monday, 1000.0, &[]),
        ];
        let body = r#"{"id":"t-1","trip_id":"t","kind":"harsh_braking","severity":"severe","start_unix_ms":1763452800000,"end_unix_ms":1763452801500,"speed_mps":10.0,"lat":60.1,"lon":24.9,"confidence":0.9,"peak_mps2":4.5}"#;
        let events = vec![
            EventRecord { body: body.into() },
            EventRecord {
                body: "not json".into(),
            },
        ];
        let r = driver_report(
            &ScoreModel::default(),
            &DriverInput {
                driver: (1, "Ada"),
                utc_offset_min: 120,
                first_day: monday,
                days: 7,
                trend_periods: 3,
                driver_rows: &rows,
                fleet_rows: &fleet,
                events: &events,
            },
        );
        assert_eq!(r.period, "2026-W47");
        assert_eq!(
            (r.from_date.as_str(), r.to_date.as_str()),
            ("2026-11-16", "2026-11-22")
        );
        assert_eq!(r.totals.counts[&Kind::HarshBraking], 3);
        assert_eq!(r.totals.severe[&Kind::HarshBraking], 1);
        assert_eq!(r.totals.counts[&Kind::Speeding], 1);
        assert!((r.totals.per_100km[&Kind::HarshBraking] - 3.0).abs() < 1e-9);
        assert!((r.totals.per_hour[&Kind::HarshBraking] - 3.0 / 2.5).abs() < 1e-9);
        assert_eq!(r.days.len(), 7);
        assert_eq!(r.days[3].totals.counts[&Kind::Speeding], 1);
        assert_eq!(r.trend.len(), 4);
        assert_eq!(r.trend[2].period, "2026-W46");
        assert!((r.trend[2].distance_km - 100.0).abs() < 1e-9);
        assert!((r.trend[3].score - r.score.value).abs() < 1e-12);
        assert_eq!(r.instances.len(), 1);
        assert_eq!(r.instances[0].local_time, "2025-11-18 10:00:00");
        assert!((r.instances[0].speed_kmh.unwrap() - 36.0).abs() < 1e-4);
        assert!(r.instances_truncated);
    }

    #[test]
    fn fleet_overview_ranks_safest_first() {
        let monday = calendar::parse_week("2026-W47").unwrap();
        let rows = vec![
            row(1, monday, 300.0, &[("harsh_braking", "moderate", 30)]),
            row(2, monday, 300.0, &[]),
            row(3, monday - 7, 300.0, &[]),
        ];
        let fleet = vec![row(0, monday, 600.0, &[("harsh_braking", "moderate", 30)])];
        let drivers = vec![
            (1, "A".to_string()),
            (2, "B".to_string()),
            (3, "C".to_string()),
        ];
        let o = fleet_overview(
            &ScoreModel::default(),
            (9, "Acme"),
            &drivers,
            monday,
            &rows,
            &fleet,
        );
        let order: Vec<i64> = o.drivers.iter().map(|d| d.driver_id).collect();
        assert_eq!(order, vec![2, 3, 1]);
        assert_eq!(o.drivers[0].rank, 1);
        assert_eq!(o.drivers[2].insight, Some(Kind::HarshBraking));
        assert_eq!(o.totals.counts[&Kind::HarshBraking], 30);
        // Driver 3 did not drive this week: the fleet's typical score, low confidence.
        assert!((o.drivers[1].score - o.typical_score).abs() < 1e-9);
        assert!(o.drivers[1].confidence.abs() < 1e-12);
    }
}
