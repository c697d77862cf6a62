//! `safelane evaluate`: orientation accuracy on the simulator suite.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use safelane_core::{PipelineConfig, VehicleProfile};
use safelane_fixtures::eval::{OrientationReport, Relock, evaluate_orientation, percentile};
use safelane_fixtures::{scenario, simulate};
use serde_json::json;

/// The pipeline settings for `vehicle` with the orientation overrides of a
/// `--config` file.
fn pipeline_config(
    vehicle: VehicleProfile,
    overrides: Option<&serde_json::Value>,
) -> anyhow::Result<PipelineConfig> {
    let mut cfg = PipelineConfig::for_vehicle(vehicle);
    cfg.orientation = crate::overrides::apply(&cfg.orientation, overrides).context("config")?;
    cfg.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(cfg)
}

pub fn run(
    seeds: u64,
    only: &[String],
    as_json: bool,
    config: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let overrides = crate::overrides::load(config, "orientation settings")?;
    if let (Some(v), Some(p)) = (&overrides, config) {
        // Both profiles now, so a bad file fails before any work.
        for vehicle in [VehicleProfile::Car, VehicleProfile::Motorcycle] {
            pipeline_config(vehicle, Some(v)).with_context(|| format!("{}", p.display()))?;
        }
    }
    let mut scenarios = scenario::all();
    if !only.is_empty() {
        for name in only {
            anyhow::ensure!(
                scenarios.iter().any(|s| s.name == name),
                "unknown scenario `{name}`"
            );
        }
        scenarios.retain(|s| only.iter().any(|n| n == s.name));
    }
    anyhow::ensure!(seeds >= 1, "--seeds must be at least 1");
    let bar = ProgressBar::new(scenarios.len() as u64 * seeds);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} trips {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if !as_json {
        say!(
            "{:<16} {:>6} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>5} {:>8} {:>7}",
            "scenario",
            "hours",
            "tilt p50",
            "tilt p95",
            "yaw p50",
            "yaw p95",
            "lock max",
            "relock",
            "short",
            "locked",
            "moves"
        )?;
    }
    let mut all = OrientationReport::default();
    for s in &scenarios {
        let mut agg = OrientationReport::default();
        let mut hours = 0.0;
        let mut lock_times = Vec::new();
        let cfg = pipeline_config(s.vehicle, overrides.as_ref())?;
        let mut locked_fraction = 0.0;
        for seed in 1..=seeds {
            bar.set_message(s.name);
            let trip = simulate(s, seed);
            hours += trip.duration_s() / 3600.0;
            if let Some(r) = evaluate_orientation(&trip, cfg) {
                agg.tilt_errors_deg.extend(&r.tilt_errors_deg);
                agg.yaw_errors_deg.extend(&r.yaw_errors_deg);
                agg.relocks.extend(&r.relocks);
                agg.moves_detected += r.moves_detected;
                agg.moves_true += r.moves_true;
                lock_times.push(r.time_to_lock_s);
                locked_fraction += r.locked_fraction / seeds as f32;
            }
            bar.inc(1);
        }
        let fmt = |v: Option<f32>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        let never = lock_times.iter().filter(|t| t.is_none()).count();
        let lock_max = lock_times.iter().flatten().copied().reduce(f64::max);
        let mut relocked: Vec<f32> = Vec::new();
        let mut missed_in_place_s: Vec<f32> = Vec::new();
        let mut cut_short_in_place_s: Vec<f32> = Vec::new();
        for r in &agg.relocks {
            match *r {
                Relock::After(t) => relocked.push(t as f32),
                Relock::Missed { in_place_s } => missed_in_place_s.push(in_place_s as f32),
                Relock::CutShort { in_place_s } => cut_short_in_place_s.push(in_place_s as f32),
            }
        }
        let relock_missed = missed_in_place_s.len();
        let tilt = (
            percentile(&agg.tilt_errors_deg, 0.5),
            percentile(&agg.tilt_errors_deg, 0.95),
        );
        let yaw = (
            percentile(&agg.yaw_errors_deg, 0.5),
            percentile(&agg.yaw_errors_deg, 0.95),
        );
        if as_json {
            bar.suspend(|| -> std::io::Result<()> {
                say!(
                    "{}",
                    json!({
                        "scenario": s.name, "seeds": seeds, "hours": hours,
                        "tilt_p50_deg": tilt.0, "tilt_p95_deg": tilt.1,
                        "yaw_p50_deg": yaw.0, "yaw_p95_deg": yaw.1,
                        "time_to_lock_max_s": lock_max, "never_locked": never,
                        "relock_max_s": percentile(&relocked, 1.0), "relock_missed": relock_missed,
                        "relock_s": relocked,
                        "relock_missed_in_place_s": missed_in_place_s,
                        "relock_cut_short": cut_short_in_place_s.len(),
                        "relock_cut_short_in_place_s": cut_short_in_place_s,
                        "locked_fraction": locked_fraction,
                        "moves_detected": agg.moves_detected, "moves_true": agg.moves_true,
                    })
                )
            })?;
        } else {
            let lock = match (lock_max, never) {
                (Some(t), 0) => format!("{t:.0}s"),
                (Some(t), n) => format!("{t:.0}s/{n}x"),
                (None, _) => "never".into(),
            };
            let relock = match (percentile(&relocked, 1.0), relock_missed) {
                (Some(t), 0) => format!("{t:.0}s"),
                (Some(t), m) => format!("{t:.0}s/{m}x"),
                (None, 0) => "-".into(),
                (None, m) => format!("never/{m}x"),
            };
            let short = match cut_short_in_place_s.len() {
                0 => "-".to_string(),
                n => n.to_string(),
            };
            bar.suspend(|| -> std::io::Result<()> {
                say!(
                    "{:<16} {:>6.2} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>5} {:>7.0}% {:>3}/{:<3}",
                    s.name,
                    hours,
                    fmt(tilt.0),
                    fmt(tilt.1),
                    fmt(yaw.0),
                    fmt(yaw.1),
                    lock,
                    relock,
                    short,
                    100.0 * locked_fraction,
                    agg.moves_detected,
                    agg.moves_true
                )
            })?;
        }
        all.tilt_errors_deg.extend(agg.tilt_errors_deg);
        all.yaw_errors_deg.extend(agg.yaw_errors_deg);
    }
    bar.finish_and_clear();
    if !as_json {
        say!(
            "all: tilt p95 {:.2} deg, yaw p95 {:.2} deg (errors in degrees; lock = time from first manoeuvre to lock, max over seeds; relock = max time to re-lock after a handling, /Nx: N never re-locked in 60 s or more in place; short = handlings without a re-lock before the next one (or the trip's end) came within 60 s; moves = detected/true handlings)",
            percentile(&all.tilt_errors_deg, 0.95).unwrap_or(f32::NAN),
            percentile(&all.yaw_errors_deg, 0.95).unwrap_or(f32::NAN)
        )?;
    }
    Ok(())
}
