//! `safelane speeding`: speeding against map thresholds on simulated drives
//! with ground truth (precision, recall, F1; tunnels, overtakes, no-threshold
//! roads; ping drops by reason).

use std::path::Path;

use safelane_core::{EventKind, PingDrop, PipelineConfig};
use safelane_fixtures::eval::{KindScore, percentile};
use safelane_fixtures::speeding::{World, detect, drive, overlaps, score};

/// Runs `trips` drives over the world of `world_seed`; with `out`, also
/// writes the map (tiles and GeoJSON) and every drive as a trip directory.
pub fn run(
    trips: u64,
    world_seed: u64,
    json: bool,
    details: bool,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let cfg = PipelineConfig::car();
    let world = World::new(world_seed);
    if let Some(dir) = out {
        write_world(dir, &world, trips, &cfg)?;
    }
    let mut total = KindScore::default();
    let (mut hours, mut fixes) = (0.0, 0usize);
    let (mut in_bad_sky, mut on_overtake, mut on_no_threshold, mut events_n) = (0, 0, 0, 0);
    let mut drops = [0u64; 8];
    let mut clean = 0u64;
    for seed in 1..=trips {
        let trip = drive(&world, seed, &cfg.speeding);
        let (events, p) = detect(&world, &trip, cfg)
            .ok_or_else(|| anyhow::anyhow!("invalid pipeline configuration"))?;
        hours += trip.duration_s / 3600.0;
        fixes += trip.fixes.len();
        events_n += events.len();
        for e in &events {
            let in_truth = overlaps(e, &trip.truth);
            in_bad_sky += usize::from(overlaps(e, &trip.bad_sky));
            on_no_threshold += usize::from(!in_truth && overlaps(e, &trip.no_threshold));
            on_overtake += usize::from(!in_truth && overlaps(e, &trip.overtakes));
        }
        let c = p.speeding_counts();
        clean += c.clean;
        for (d, n) in drops.iter_mut().zip(c.dropped) {
            *d += n;
        }
        let s = score(&events, &trip);
        if details {
            for m in &s.missed {
                say!("trip {seed}: missed {:.1}-{:.1} s", m.0, m.1)?;
            }
            for f in &s.false_alarms {
                say!(
                    "trip {seed}: false alarm {:.1}-{:.1} s (max excess {:.1} km/h)",
                    f.0,
                    f.1,
                    f.3 * 3.6
                )?;
            }
        }
        total.add(&s);
    }
    let f = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.3}"));
    let lat50 = percentile(&total.latency_s, 0.5).unwrap_or(f32::NAN);
    let lat95 = percentile(&total.latency_s, 0.95).unwrap_or(f32::NAN);
    if json {
        let mut by_reason = serde_json::Map::new();
        for (r, n) in PingDrop::ALL.iter().zip(drops) {
            by_reason.insert(r.as_str().into(), n.into());
        }
        say!(
            "{}",
            serde_json::json!({
                "trips": trips, "hours": hours, "fixes": fixes, "events": events_n,
                "true_positives": total.true_positives, "false_positives": total.false_positives,
                "false_negatives": total.false_negatives, "precision": total.precision(),
                "recall": total.recall(), "f1": total.f1(), "flagged_in_tunnels_or_poor_accuracy": in_bad_sky,
                "flagged_overtakes": on_overtake, "flagged_without_threshold": on_no_threshold,
                "latency_p50_s": lat50, "latency_p95_s": lat95, "clean_pings": clean,
                "dropped_pings": by_reason,
            })
        )?;
        return Ok(());
    }
    say!(
        "speeding on simulated drives: {trips} trips, {hours:.1} h, {fixes} GPS fixes (world seed {world_seed})"
    )?;
    say!(
        "truth {}  detected {events_n}  TP {}  FP {}  FN {}",
        total.true_positives + total.false_negatives,
        total.true_positives,
        total.false_positives,
        total.false_negatives
    )?;
    say!(
        "precision {}  recall {}  F1 {}",
        f(total.precision()),
        f(total.recall()),
        f(total.f1())
    )?;
    say!(
        "flagged in tunnels / poor accuracy {in_bad_sky}; overtakes flagged {on_overtake}; flagged on roads without a threshold {on_no_threshold}"
    )?;
    say!("latency after the violation ends: p50 {lat50:.1} s, p95 {lat95:.1} s")?;
    let reasons: Vec<String> = PingDrop::ALL
        .iter()
        .zip(drops)
        .map(|(r, n)| format!("{} {n}", r.as_str()))
        .collect();
    say!("pings clean {clean}; dropped: {}", reasons.join(", "))?;
    Ok(())
}

/// Writes `dir/tiles/`, `dir/map.geojson` and `dir/drive-NNN/` trip
/// directories (GPS only: `imu.csv` has just its header; `truth.csv` lists
/// the true violations; the hour of week is in the printed command).
fn write_world(dir: &Path, world: &World, trips: u64, cfg: &PipelineConfig) -> anyhow::Result<()> {
    safelane_map::store::write_tile_dir(
        &dir.join("tiles"),
        &world.tiles,
        "Simulated roads (safelane fixtures), no third-party data.\n",
    )?;
    std::fs::write(dir.join("map.geojson"), world.to_geojson())?;
    for seed in 1..=trips {
        let trip = drive(world, seed, &cfg.speeding);
        let name = format!("drive-{seed:03}");
        let truth = trip
            .truth
            .iter()
            .map(|t| safelane_trip::TruthEvent {
                kind: EventKind::Speeding,
                direction: None,
                start_s: t.start_s,
                end_s: t.end_s,
            })
            .collect();
        let t = safelane_trip::Trip {
            imu: Vec::new(),
            gps: trip.fixes.clone(),
            truth: Some(truth),
            truth_orientation: None,
            manoeuvres: None,
            meta: Some(safelane_trip::TripMeta {
                scenario: "speeding".into(),
                seed,
                vehicle: "car".into(),
            }),
        };
        safelane_trip::write_trip(&dir.join(&name), &t)?;
        if seed == 1 {
            say!(
                "wrote {}; try: safelane analyze {} --map {} --hour-of-week {}",
                dir.display(),
                dir.join(&name).display(),
                dir.join("tiles").display(),
                trip.hour_of_week
            )?;
        }
    }
    Ok(())
}
