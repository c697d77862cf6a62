//! `safelane backtest` and `safelane suite`: detection accuracy over many trips.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use safelane_core::{DetectionConfig, EventKind, PipelineConfig, Suppression, VehicleProfile};
use safelane_fixtures::eval::{KindScore, detect_events, detect_events_batched, percentile, score};
use safelane_fixtures::{scenario, simulate};
use safelane_trip::Trip;

/// Where the trips come from.
pub enum Source {
    Dir(PathBuf),
    Suite { hours: f64 },
}

fn bar(n: usize) -> ProgressBar {
    let b = ProgressBar::new(n as u64);
    b.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} trips {msg} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

/// Detection thresholds for a profile with the overrides of a JSON file.
fn detection_config(
    vehicle: VehicleProfile,
    overrides: Option<&serde_json::Value>,
) -> anyhow::Result<DetectionConfig> {
    let base = PipelineConfig::for_vehicle(vehicle).detection;
    let cfg = crate::overrides::apply(&base, overrides).context("config")?;
    cfg.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(cfg)
}

fn load_overrides(path: Option<&Path>) -> anyhow::Result<Option<serde_json::Value>> {
    let v = crate::overrides::load(path, "detection settings")?;
    if let (Some(v), Some(p)) = (&v, path) {
        // Validate against both profiles now, so a bad file fails before any work.
        for vehicle in [VehicleProfile::Car, VehicleProfile::Motorcycle] {
            detection_config(vehicle, Some(v)).with_context(|| format!("{}", p.display()))?;
        }
    }
    Ok(v)
}

#[derive(Default)]
struct Group {
    hours: f64,
    trips: u32,
    kinds: Vec<KindScore>,
    suppressed: [u32; 8],
}

impl Group {
    fn add(&mut self, hours: f64, kinds: &[KindScore], suppressed: &[u32; 8]) {
        self.hours += hours;
        self.trips += 1;
        if self.kinds.is_empty() {
            self.kinds = vec![KindScore::default(); kinds.len()];
        }
        for (a, b) in self.kinds.iter_mut().zip(kinds) {
            a.add(b);
        }
        for (a, b) in self.suppressed.iter_mut().zip(suppressed) {
            *a += b;
        }
    }
}

const HARSH_KINDS: [EventKind; 5] = [
    EventKind::HarshBraking,
    EventKind::HarshAcceleration,
    EventKind::HarshCornering,
    EventKind::HarshLaneChange,
    EventKind::Crash,
];

fn kind_pos(k: EventKind) -> usize {
    EventKind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

pub fn suite(out: &Path, hours: f64) -> anyhow::Result<()> {
    let list = scenario::suite(hours);
    let b = bar(list.len());
    let mut total_h = 0.0;
    for (s, seed) in &list {
        b.set_message(s.name);
        let trip = simulate(s, *seed);
        total_h += trip.duration_s() / 3600.0;
        safelane_trip::write_trip(&out.join(format!("{}-{seed:03}", s.name)), &trip)?;
        b.inc(1);
    }
    b.finish_and_clear();
    say!(
        "wrote {} trips, {total_h:.1} simulated hours, to {}",
        list.len(),
        out.display()
    )?;
    Ok(())
}

pub fn run(
    source: Source,
    config: Option<&Path>,
    default_vehicle: VehicleProfile,
    as_json: bool,
    details: bool,
    batched: bool,
) -> anyhow::Result<()> {
    let overrides = load_overrides(config)?;
    // Work list: either trip directories or (scenario, seed) pairs.
    enum Item {
        Dir(PathBuf),
        Sim(Box<scenario::Scenario>, u64),
    }
    let items: Vec<Item> = match &source {
        Source::Dir(dir) => {
            let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
                .with_context(|| format!("{}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("imu.csv").exists())
                .collect();
            v.sort();
            anyhow::ensure!(
                !v.is_empty(),
                "{}: no trip directories (folders with imu.csv)",
                dir.display()
            );
            v.into_iter().map(Item::Dir).collect()
        }
        Source::Suite { hours } => scenario::suite(*hours)
            .into_iter()
            .map(|(s, seed)| Item::Sim(Box::new(s), seed))
            .collect(),
    };
    let b = bar(items.len());
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut any_truth = false;
    for item in &items {
        let (trip, label): (Trip, String) = match item {
            Item::Dir(p) => {
                let t = safelane_trip::read_trip(p)?;
                let label = t.meta.as_ref().map_or_else(
                    || {
                        p.file_name()
                            .map_or("trip".into(), |n| n.to_string_lossy().into_owned())
                    },
                    |m| m.scenario.clone(),
                );
                (t, label)
            }
            Item::Sim(s, seed) => (simulate(s, *seed), s.name.to_string()),
        };
        b.set_message(label.clone());
        let vehicle = match trip.meta.as_ref().map(|m| m.vehicle.as_str()) {
            Some("motorcycle") => VehicleProfile::Motorcycle,
            Some("car") => VehicleProfile::Car,
            _ => default_vehicle,
        };
        let mut cfg = PipelineConfig::for_vehicle(vehicle);
        cfg.detection = detection_config(vehicle, overrides.as_ref())?;
        let (events, p) = if batched {
            detect_events_batched(&trip, cfg, 100)
        } else {
            detect_events(&trip, cfg)
        }
        .context("pipeline configuration")?;
        let truth = trip.truth.clone().unwrap_or_default();
        any_truth |= trip.truth.is_some();
        let kinds = score(&events, &truth, 1.0);
        if details {
            for k in HARSH_KINDS {
                let s = &kinds[kind_pos(k)];
                for (a, z, d) in &s.missed {
                    b.suspend(|| {
                        say!(
                            "{label} seed {}: missed {} {:?} {a:.1}-{z:.1}",
                            trip.meta.as_ref().map_or(0, |m| m.seed),
                            k.as_str(),
                            d
                        )
                    })?;
                }
                for (a, z, de, dd) in &s.slow {
                    b.suspend(|| {
                        say!(
                            "{label} seed {}: slow {} truth {a:.1}-{z:.1}, detection ended {de:.1}, decided {dd:.1} ({:.2} s after the truth's end)",
                            trip.meta.as_ref().map_or(0, |m| m.seed),
                            k.as_str(),
                            dd - z
                        )
                    })?;
                }
                for (a, z, d, pk) in &s.false_alarms {
                    b.suspend(|| {
                        say!(
                            "{label} seed {}: false {} {:?} {a:.1}-{z:.1} peak {pk:.2}",
                            trip.meta.as_ref().map_or(0, |m| m.seed),
                            k.as_str(),
                            d
                        )
                    })?;
                }
            }
        }
        let sup = p.suppressed().0;
        groups
            .entry(label)
            .or_default()
            .add(trip.duration_s() / 3600.0, &kinds, &sup);
        b.inc(1);
    }
    b.finish_and_clear();

    let mut all = Group::default();
    for g in groups.values() {
        all.add(0.0, &g.kinds, &g.suppressed);
        all.hours += g.hours;
    }
    all.trips = groups.values().map(|g| g.trips).sum();
    let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    if as_json {
        for (name, g) in groups
            .iter()
            .chain(std::iter::once((&"all".to_string(), &all)))
        {
            let mut kinds = serde_json::Map::new();
            for k in HARSH_KINDS {
                let s = &g.kinds[kind_pos(k)];
                kinds.insert(
                    k.as_str().into(),
                    serde_json::json!({
                        "tp": s.true_positives, "fp": s.false_positives, "fn": s.false_negatives,
                        "precision": s.precision(), "recall": s.recall(), "f1": s.f1(),
                        "latency_p95_s": percentile(&s.latency_s, 0.95),
                        "late": s.latency_late_s.len(),
                        "late_latency_p50_s": percentile(&s.latency_late_s, 0.5),
                    }),
                );
            }
            let fp: u32 = g.kinds.iter().map(|k| k.false_positives).sum();
            let sup: serde_json::Map<_, _> = Suppression::ALL
                .iter()
                .map(|r| {
                    (
                        r.as_str().to_string(),
                        serde_json::json!(g.suppressed[*r as usize]),
                    )
                })
                .collect();
            say!(
                "{}",
                serde_json::json!({
                    "group": name, "trips": g.trips, "hours": g.hours, "kinds": kinds,
                    "false_alarms_per_hour": f64::from(fp) / g.hours.max(1e-9), "suppressed": sup,
                })
            )?;
        }
        return Ok(());
    }
    say!("{} trips, {:.1} hours", all.trips, all.hours)?;
    say!(
        "{:<20} {:>6} {:>6} {:>5} {:>5} {:>5} {:>9} {:>9} {:>7} {:>12} {:>5}",
        "kind",
        "truth",
        "found",
        "tp",
        "fp",
        "fn",
        "precision",
        "recall",
        "F1",
        "latency p95",
        "late"
    )?;
    for k in HARSH_KINDS {
        let s = &all.kinds[kind_pos(k)];
        say!(
            "{:<20} {:>6} {:>6} {:>5} {:>5} {:>5} {:>9} {:>9} {:>7} {:>11} {:>5}",
            k.as_str(),
            s.true_positives + s.false_negatives,
            s.true_positives + s.false_positives,
            s.true_positives,
            s.false_positives,
            s.false_negatives,
            fmt(s.precision()),
            fmt(s.recall()),
            fmt(s.f1()),
            percentile(&s.latency_s, 0.95).map_or("-".into(), |v| format!("{v:.2}s")),
            s.latency_late_s.len()
        )?;
    }
    say!(
        "(latency: decision time minus the true manoeuvre's end, real-time detections; late: detections of manoeuvres driven before the heading was known, decided when it locked)"
    )?;
    if !any_truth {
        say!("(no truth.csv in these trips: counts only)")?;
    }
    say!("")?;
    say!(
        "{:<16} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "group (F1)",
        "hours",
        "braking",
        "accel",
        "corner",
        "lane",
        "crash",
        "FA/hour"
    )?;
    for (name, g) in &groups {
        let f = |k: EventKind| fmt(g.kinds[kind_pos(k)].f1());
        let fp: u32 = g.kinds.iter().map(|k| k.false_positives).sum();
        say!(
            "{:<16} {:>6.2} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10.2}",
            name,
            g.hours,
            f(EventKind::HarshBraking),
            f(EventKind::HarshAcceleration),
            f(EventKind::HarshCornering),
            f(EventKind::HarshLaneChange),
            f(EventKind::Crash),
            f64::from(fp) / g.hours.max(1e-9)
        )?;
    }
    say!("")?;
    let parts: Vec<String> = Suppression::ALL
        .iter()
        .map(|r| format!("{} {}", r.as_str(), all.suppressed[*r as usize]))
        .collect();
    say!("suppressed candidates: {}", parts.join(", "))?;
    Ok(())
}
