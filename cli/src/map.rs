//! `safelane map build|profile`: threshold tiles from map data and pings.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use safelane_core::tile::crc32;
use safelane_map::profile::{
    ProfileOptions, apply_to_tiles, build_profiles, read_pings_csv, write_pings_csv,
};
use safelane_map::sources::{SourceStats, read_geojson, read_osm_pbf};
use safelane_map::store::{read_tile_dir, write_tile_dir};
use safelane_map::tiles::{BuildOptions, build_tiles, split_roads};

/// Where the roads come from.
#[derive(Debug)]
pub enum MapSource<'a> {
    /// An OpenStreetMap PBF extract.
    Osm(&'a Path),
    /// GeoJSON LineStrings.
    GeoJson(&'a Path),
}

pub(crate) const OSM_ATTRIBUTION: &str = "Contains OpenStreetMap data, (c) OpenStreetMap contributors, \
available under the Open Database License (ODbL) 1.0: https://www.openstreetmap.org/copyright\n";

/// Builds tiles and prints the build report.
pub fn build(
    source: MapSource<'_>,
    out: &Path,
    opts: BuildOptions,
    json: bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let (path, attribution) = match source {
        MapSource::Osm(p) => (p, OSM_ATTRIBUTION.to_owned()),
        MapSource::GeoJson(p) => (p, format!("Built from {}; see its licence.\n", p.display())),
    };
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let opts = BuildOptions {
        data_version: crc32(&raw),
        ..opts
    };
    drop(raw);
    let (roads, stats) = match source {
        MapSource::Osm(p) => read_osm_pbf(p)?,
        MapSource::GeoJson(p) => read_geojson(p)?,
    };
    let read_s = started.elapsed().as_secs_f64();
    let segments = split_roads(&roads, opts.max_segment_m)?;
    let tiles = build_tiles(&segments, &opts)?;
    write_tile_dir(out, &tiles, &attribution)?;
    let total_s = started.elapsed().as_secs_f64();
    let mut sizes: Vec<usize> = tiles.values().map(Vec::len).collect();
    sizes.sort_unstable();
    let total: usize = sizes.iter().sum();
    let pick = |q: f64| {
        sizes
            .get(((sizes.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0)
    };
    let with_limit = segments.iter().filter(|s| s.limit_cmps > 0).count();
    if json {
        say!(
            "{}",
            serde_json::json!({
                "roads": stats.roads, "segments": segments.len(), "segments_with_limit": with_limit,
                "tiles": tiles.len(), "bytes_total": total, "tile_bytes_min": pick(0.0),
                "tile_bytes_median": pick(0.5), "tile_bytes_max": pick(1.0),
                "read_s": read_s, "build_s": total_s, "data_version": opts.data_version,
                "posted": stats.posted, "zone": stats.zone, "no_limit": stats.no_limit,
                "unknown": stats.unknown, "clipped": stats.clipped,
            })
        )?;
        return Ok(());
    }
    report(&stats)?;
    say!(
        "segments  {} (<= {:.0} m), {} with a legal limit ({:.1} %)",
        segments.len(),
        opts.max_segment_m,
        with_limit,
        100.0 * with_limit as f64 / segments.len().max(1) as f64
    )?;
    say!(
        "tiles     {} (geohash precision {}), {} bytes in all; per tile min {} / median {} / max {} bytes",
        tiles.len(),
        opts.precision,
        total,
        pick(0.0),
        pick(0.5),
        pick(1.0)
    )?;
    say!("time      {read_s:.2} s reading, {total_s:.2} s in all")?;
    say!(
        "wrote     {} (data version {:08x})",
        out.display(),
        opts.data_version
    )?;
    Ok(())
}

fn report(s: &SourceStats) -> std::io::Result<()> {
    say!(
        "roads     {} drivable ways: {} posted limit, {} zone limit, {} no limit (none), {} unknown; {} skipped, {} cut at the extract's edge",
        s.roads,
        s.posted,
        s.zone,
        s.no_limit,
        s.unknown,
        s.skipped,
        s.clipped
    )?;
    if !s.unparsed.is_empty() {
        let mut top: Vec<_> = s.unparsed.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = top
            .iter()
            .take(8)
            .map(|(v, n)| format!("{v:?} x{n}"))
            .collect();
        say!(
            "unparsed  maxspeed values (treated as unknown): {}",
            shown.join(", ")
        )?;
    }
    Ok(())
}

/// `safelane map profile`: crowd thresholds from a pings CSV into tiles.
pub fn profile(
    pings: &Path,
    map_dir: &Path,
    out: &Path,
    opts: ProfileOptions,
    json: bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let tiles = read_tile_dir(map_dir)?;
    anyhow::ensure!(
        !tiles.is_empty(),
        "{}: no tiles (*.slmt) found",
        map_dir.display()
    );
    let rows = read_pings_csv(pings)?;
    let (thresholds, stats) = build_profiles(rows, &tiles, &opts, &std::env::temp_dir())?;
    let with_crowd = apply_to_tiles(&tiles, &thresholds)?;
    let attribution = std::fs::read_to_string(map_dir.join("ATTRIBUTION.txt")).unwrap_or_default();
    write_tile_dir(out, &with_crowd, &attribution)?;
    let secs = started.elapsed().as_secs_f64();
    if json {
        say!(
            "{}",
            serde_json::json!({
                "pings": stats.pings, "dropped_unclean": stats.dropped_unclean, "unsnapped": stats.unsnapped,
                "on_legal_roads": stats.on_legal_roads, "used": stats.used, "runs": stats.runs,
                "cells": stats.cells, "published": stats.published,
                "withheld_few_drivers": stats.withheld_few_drivers, "capped": stats.capped, "seconds": secs,
            })
        )?;
        return Ok(());
    }
    say!(
        "pings     {} read: {} unclean, {} unsnapped, {} on roads with a legal limit, {} used ({} sorted runs)",
        stats.pings,
        stats.dropped_unclean,
        stats.unsnapped,
        stats.on_legal_roads,
        stats.used,
        stats.runs
    )?;
    say!(
        "cells     {} segment-hours: {} published ({} capped by the category's highest limit), {} withheld (< {} drivers)",
        stats.cells,
        stats.published,
        stats.capped,
        stats.withheld_few_drivers,
        opts.min_drivers
    )?;
    say!("wrote     {} in {secs:.2} s", out.display())?;
    Ok(())
}

/// `safelane map crowd-eval`: recover simulated crowd thresholds and compare
/// with the truth.
pub fn crowd_eval(
    drivers: usize,
    weeks: u32,
    seed: u64,
    min_drivers: u32,
    json: bool,
    write: Option<&Path>,
) -> anyhow::Result<()> {
    use safelane_fixtures::crowd::CrowdWorld;
    let few = 6;
    let world = CrowdWorld::new(seed, drivers, few);
    let pings = world.pings(weeks, seed);
    if let Some(dir) = write {
        write_tile_dir(
            &dir.join("map"),
            &world.tiles,
            "Simulated roads (safelane fixtures).\n",
        )?;
        let path = dir.join("pings.csv");
        write_pings_csv(&path, &pings)?;
        say!("wrote {} and {}", dir.join("map").display(), path.display())?;
    }
    let n_pings = pings.len();
    let opts = ProfileOptions {
        min_drivers,
        ..ProfileOptions::default()
    };
    let truth = world.truth(opts.percentile);
    let few_hour = world.hours.last().map_or(0, |h| h.hour);
    let work = std::env::temp_dir();
    let mut rows = Vec::new();
    for (name, o) in [
        ("speed-weighted, free-flow (the method)", opts),
        (
            "unweighted",
            ProfileOptions {
                weight_by_speed: false,
                ..opts
            },
        ),
        (
            "no free-flow filter",
            ProfileOptions {
                free_flow_only: false,
                ..opts
            },
        ),
        // Small runs: the same answer from many spills (bounded memory).
        (
            "method, 10,000-ping runs",
            ProfileOptions {
                chunk_records: 10_000,
                ..opts
            },
        ),
    ] {
        let started = Instant::now();
        let (got, stats) = build_profiles(pings.iter().cloned().map(Ok), &world.tiles, &o, &work)?;
        let secs = started.elapsed().as_secs_f64();
        let mut errs: Vec<f32> = Vec::new();
        let mut published_few = 0;
        for (&(seg, how), &v) in &got {
            if how == few_hour {
                published_few += 1;
                continue;
            }
            if let Some(t) = truth.get(&(seg >> 16, how)) {
                errs.push((v - t).abs() / t);
            }
        }
        let cells_expected = truth.keys().filter(|k| k.1 != few_hour).count() * 3;
        let within = errs.iter().filter(|e| **e <= 0.05).count();
        let p = |q| safelane_fixtures::eval::percentile(&errs, q).unwrap_or(f32::NAN) * 100.0;
        rows.push(serde_json::json!({
            "variant": name, "pings": n_pings, "runs": stats.runs, "cells_published": errs.len(),
            "cells_expected": cells_expected, "within_5pct": within,
            "rel_error_p50_pct": p(0.5), "rel_error_p95_pct": p(0.95), "rel_error_max_pct": p(1.0),
            "published_below_driver_minimum": published_few, "withheld": stats.withheld_few_drivers,
            "seconds": secs,
        }));
    }
    if json {
        for r in &rows {
            say!("{r}")?;
        }
        return Ok(());
    }
    say!(
        "crowd thresholds: {drivers} drivers x {weeks} weeks, {} roads, {} hours ({few} drivers at hour {few_hour}); {n_pings} pings; percentile {}",
        world.base_kmh.len(),
        world.hours.len(),
        opts.percentile
    )?;
    say!(
        "{:<40} {:>9} {:>10} {:>7} {:>7} {:>7} {:>12} {:>6}",
        "variant",
        "published",
        "within 5%",
        "p50 %",
        "p95 %",
        "max %",
        "below-min",
        "runs"
    )?;
    for r in &rows {
        say!(
            "{:<40} {:>9} {:>10} {:>7.2} {:>7.2} {:>7.2} {:>12} {:>6}",
            r["variant"].as_str().unwrap_or(""),
            format!("{}/{}", r["cells_published"], r["cells_expected"]),
            r["within_5pct"].as_u64().unwrap_or(0),
            r["rel_error_p50_pct"].as_f64().unwrap_or(f64::NAN),
            r["rel_error_p95_pct"].as_f64().unwrap_or(f64::NAN),
            r["rel_error_max_pct"].as_f64().unwrap_or(f64::NAN),
            r["published_below_driver_minimum"].as_u64().unwrap_or(0),
            r["runs"].as_u64().unwrap_or(0)
        )?;
    }
    Ok(())
}
