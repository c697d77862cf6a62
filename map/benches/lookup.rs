//! Phone-side map lookups on real roads: GPS fixes along the Helsinki OSM
//! extract's roads (data/osm, ODbL) snapped against its tiles, and tile
//! parsing (the validation a phone runs once per downloaded tile).
//!
//! `cargo bench -p safelane-map --bench lookup`

#![allow(clippy::expect_used)] // a benchmark with broken set-up should stop loudly

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use safelane_core::geo::{LocalFrame, M_PER_DEG_LAT, bearing_deg};
use safelane_core::{GpsFix, MatchConfig, Tile, match_fix};
use safelane_map::sources::read_osm_pbf;
use safelane_map::tiles::{BuildOptions, build_tiles, split_roads};

fn lookups(c: &mut Criterion) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/osm/helsinki.osm.pbf");
    let (roads, _) = read_osm_pbf(&path).expect("the extract reads");
    let opts = BuildOptions::default();
    let segments = split_roads(&roads, opts.max_segment_m).expect("valid roads");
    let tiles = build_tiles(&segments, &opts).expect("tiles build");
    let parsed: Vec<Tile<'_>> = tiles
        .values()
        .map(|b| Tile::parse(b).expect("valid tile"))
        .collect();
    // Fixes 3 m off the middle of every segment's first stretch, on course.
    let fixes: Vec<GpsFix> = segments
        .iter()
        .map(|s| {
            let (a, b) = (s.points[0], s.points[1]);
            let f = LocalFrame::new(a.0, a.1);
            let (e, n) = f.to_local(b.0, b.1);
            GpsFix {
                t_s: 0.0,
                lat_deg: a.0 + (n / 2.0 + 3.0) / M_PER_DEG_LAT,
                lon_deg: a.1 + e / 2.0 / f.m_per_deg_lon(),
                speed_mps: Some(12.0),
                bearing_deg: Some(bearing_deg(e, n) as f32),
                accuracy_m: Some(6.0),
            }
        })
        .collect();
    let sizes: Vec<usize> = tiles.values().map(Vec::len).collect();
    println!(
        "{} segments, {} tiles ({} bytes), {} fixes",
        segments.len(),
        tiles.len(),
        sizes.iter().sum::<usize>(),
        fixes.len()
    );
    let cfg = MatchConfig::default();
    let mut group = c.benchmark_group("map");
    group.throughput(Throughput::Elements(fixes.len() as u64));
    group.bench_function("match_fix_helsinki", |b| {
        b.iter(|| {
            let mut snapped = 0u32;
            for f in &fixes {
                snapped += u32::from(match_fix(&parsed, black_box(f), Some(10), &cfg).is_some());
            }
            black_box(snapped)
        })
    });
    group.throughput(Throughput::Bytes(sizes.iter().sum::<usize>() as u64));
    group.bench_function("parse_tiles_helsinki", |b| {
        b.iter(|| {
            for t in tiles.values() {
                black_box(Tile::parse(black_box(t)).is_ok());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
