//! `safelane map build|profile`: threshold tiles from map data and pings.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use safelane_core::tile::crc32;
use safelane_map::sources::{SourceStats, read_geojson, read_osm_pbf};
use safelane_map::store::write_tile_dir;
use safelane_map::tiles::{BuildOptions, build_tiles, split_road};

/// Where the roads come from.
#[derive(Debug)]
pub enum MapSource<'a> {
    /// An OpenStreetMap PBF extract.
    Osm(&'a Path),
    /// GeoJSON LineStrings.
    GeoJson(&'a Path),
}

const OSM_ATTRIBUTION: &str = "Contains OpenStreetMap data, (c) OpenStreetMap contributors, \
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
    let mut segments = Vec::new();
    for r in &roads {
        segments.extend(split_road(r, opts.max_segment_m)?);
    }
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
