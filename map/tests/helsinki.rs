//! Real roads: the Helsinki OpenStreetMap extract (data/osm, ODbL) built into
//! tiles, read back by the phone-side decoder, and GPS fixes on real roads
//! snapped to them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use safelane_core::geo::{LocalFrame, bearing_deg};
use safelane_core::{GpsFix, MatchConfig, ThresholdSource, match_fix};
use safelane_map::maxspeed::Maxspeed;
use safelane_map::sources::read_osm_pbf;
use safelane_map::store::parse_all;
use safelane_map::tiles::{BuildOptions, build_tiles, split_roads};

fn extract() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/osm/helsinki.osm.pbf")
}

#[test]
fn the_extract_reads_into_drivable_roads() {
    let (roads, stats) = read_osm_pbf(&extract()).unwrap();
    // Pinned: a change here is a change in how OSM tags are read.
    assert_eq!(stats.roads, 965);
    assert_eq!(
        (stats.posted, stats.zone, stats.no_limit, stats.unknown),
        (762, 0, 0, 203)
    );
    assert_eq!(roads.len(), 965);
    let limits: std::collections::BTreeSet<u64> = roads
        .iter()
        .filter_map(|r| match r.maxspeed {
            Maxspeed::Limit { kmh, .. } => Some(kmh as u64),
            _ => None,
        })
        .collect();
    // Helsinki's usual limits.
    assert!(
        limits.contains(&30) && limits.contains(&40) && limits.contains(&50),
        "{limits:?}"
    );
    for r in &roads {
        assert!(r.points.len() >= 2);
        for &(lat, lon) in &r.points {
            assert!(
                (60.0..60.4).contains(&lat) && (24.7..25.2).contains(&lon),
                "{lat} {lon}"
            );
        }
    }
}

#[test]
fn fixes_on_real_roads_snap_to_them_with_their_limit() {
    let (roads, _) = read_osm_pbf(&extract()).unwrap();
    let opts = BuildOptions {
        precision: 6,
        ..Default::default()
    };
    let segments = split_roads(&roads, opts.max_segment_m).unwrap();
    let tiles = build_tiles(&segments, &opts).unwrap();
    assert!(
        tiles.len() > 1,
        "precision 6 cuts the extract into several tiles"
    );
    let parsed = parse_all(&tiles).unwrap();
    let cfg = MatchConfig::default();
    let (mut tried, mut snapped_right) = (0, 0);
    // A fix in the middle of the first stretch of every 7th segment with a
    // posted limit, on course along it, 4 m off the centre line.
    for s in segments.iter().filter(|s| s.limit_cmps > 0).step_by(3) {
        let (a, b) = (s.points[0], s.points[1]);
        let frame = LocalFrame::new(a.0, a.1);
        let (e, n) = frame.to_local(b.0, b.1);
        let len = (e * e + n * n).sqrt();
        if len < 10.0 {
            continue;
        }
        let (ue, un) = (e / len, n / len);
        let (me, mn) = (e / 2.0 - un * 4.0, n / 2.0 + ue * 4.0);
        let fix = GpsFix {
            t_s: 0.0,
            lat_deg: a.0 + mn / safelane_core::geo::M_PER_DEG_LAT,
            lon_deg: a.1 + me / frame.m_per_deg_lon(),
            speed_mps: Some(10.0),
            bearing_deg: Some(bearing_deg(e, n) as f32),
            accuracy_m: Some(5.0),
        };
        tried += 1;
        let m = match_fix(&parsed, &fix, None, &cfg).expect("a fix on a road snaps");
        assert!(m.distance_m < 6.0, "{m:?}");
        // Real maps overlap: a crossing or parallel road (a service road, the
        // other carriageway) can be as near. Count the fixes that found their
        // own road with its limit.
        let own = m.segment_id == s.id
            && m.threshold.is_some_and(|t| {
                t.source == ThresholdSource::Posted
                    && (t.speed_mps * 100.0 - f32::from(s.limit_cmps)).abs() < 1.0
            });
        snapped_right += usize::from(own);
    }
    assert!(tried > 100, "{tried}");
    println!("{snapped_right}/{tried} fixes snapped to their own segment with its limit");
    assert!(snapped_right * 100 >= tried * 95, "{snapped_right}/{tried}");
}
