//! Property tests of the phone-side tile decoder: arbitrary bytes, and valid
//! tiles with bytes flipped, counts changed, sections cut (with the checksum
//! recomputed, so the structural checks are reached), never panic; whatever
//! parses can be used in full (every accessor and map matching) without
//! panicking. Deterministic: a fixed xorshift stream, many cases per run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use safelane_core::geo::M_PER_DEG_LAT;
use safelane_core::tile::{HEADER_LEN, TRAILER_LEN, crc32};
use safelane_core::{GpsFix, LimitSource, MatchConfig, RoadCategory, Tile, TileError, match_fix};
use safelane_map::maxspeed::Maxspeed;
use safelane_map::tiles::{BuildOptions, Road, build_tiles, split_road};

struct Xs(u64);
impl Xs {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn sample_tile() -> Vec<u8> {
    let mut segs = Vec::new();
    for (i, kmh) in [(1u64, 30.0), (2, 50.0), (3, 0.0)] {
        let lat0 = 60.17 + i as f64 * 0.001;
        let road = Road {
            way_id: i,
            category: RoadCategory::Secondary,
            oneway: i == 2,
            maxspeed: if kmh > 0.0 {
                Maxspeed::Limit {
                    kmh,
                    source: LimitSource::Posted,
                }
            } else {
                Maxspeed::Unknown
            },
            points: vec![(lat0, 24.93), (lat0 + 500.0 / M_PER_DEG_LAT, 24.935)],
        };
        segs.extend(split_road(&road, 200.0).unwrap());
    }
    segs[0].crowd = vec![(1, 900), (5, 1000), (100, 1100)];
    let tiles = build_tiles(
        &segs,
        &BuildOptions {
            precision: 5,
            grid_side: 4,
            ..Default::default()
        },
    )
    .unwrap();
    tiles.into_values().next().unwrap()
}

/// Uses everything a parsed tile offers.
fn exercise(t: &Tile<'_>) {
    let b = t.bbox();
    for i in 0..t.segment_count().min(10_000) + 2 {
        if let Some(s) = t.segment(i) {
            for p in s.first_point..s.first_point.saturating_add(u32::from(s.point_count)) {
                let _ = t.point(p);
            }
            let _ = t.crowd_thresholds(&s).count();
            for h in [0u8, 5, 100, 167, 200] {
                let _ = t.crowd_threshold_cmps(&s, h);
            }
        }
    }
    for k in 0..16 {
        let lat = b.min_lat_deg + (b.max_lat_deg - b.min_lat_deg) * f64::from(k) / 16.0;
        let lon = b.min_lon_deg + (b.max_lon_deg - b.min_lon_deg) * f64::from(k) / 16.0;
        let _ = t.candidates(lat, lon).count();
        let fix = GpsFix {
            t_s: 0.0,
            lat_deg: lat,
            lon_deg: lon,
            speed_mps: Some(10.0),
            bearing_deg: Some(10.0),
            accuracy_m: Some(5.0),
        };
        let _ = match_fix(
            std::slice::from_ref(t),
            &fix,
            Some(5),
            &MatchConfig::default(),
        );
    }
}

fn reseal(b: &mut [u8]) {
    if b.len() >= HEADER_LEN + TRAILER_LEN {
        let end = b.len() - TRAILER_LEN;
        let crc = crc32(&b[..end]);
        b[end..].copy_from_slice(&crc.to_le_bytes());
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Xs(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let len = rng.below(300);
        let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if rng.below(2) == 0 && b.len() >= 6 {
            b[..4].copy_from_slice(b"SLMT");
            b[4] = 1;
            b[5] = 0;
        }
        reseal(&mut b);
        if let Ok(t) = Tile::parse(&b) {
            exercise(&t);
        }
    }
}

#[test]
fn mutated_valid_tiles_never_panic_and_corruption_is_caught() {
    let good = sample_tile();
    let t = Tile::parse(&good).unwrap();
    exercise(&t);
    let mut rng = Xs(0x1234_5678_9abc_def1);
    let (mut parsed, mut rejected) = (0, 0);
    for case in 0..20_000 {
        let mut b = good.clone();
        match case % 4 {
            // Flip a few bytes without fixing the checksum: always caught.
            0 => {
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(b.len() - TRAILER_LEN);
                    b[i] ^= 1 + rng.below(255) as u8;
                }
                let r = Tile::parse(&b);
                assert!(r.is_err(), "corruption not detected");
            }
            // Flip bytes and reseal: the structural checks must hold.
            1 => {
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(b.len() - TRAILER_LEN);
                    b[i] = rng.next() as u8;
                }
                reseal(&mut b);
            }
            // Change a header count and reseal.
            2 => {
                let field = [24usize, 28, 32, 36, 40][rng.below(5)];
                let v = match rng.below(3) {
                    0 => rng.next() as u32,
                    1 => u32::MAX,
                    _ => rng.below(64) as u32,
                };
                b[field..field + 4].copy_from_slice(&v.to_le_bytes());
                reseal(&mut b);
            }
            // Truncate or extend.
            _ => {
                if rng.below(2) == 0 {
                    b.truncate(rng.below(b.len()));
                } else {
                    b.extend((0..1 + rng.below(40)).map(|_| rng.next() as u8));
                }
                let r = Tile::parse(&b);
                assert!(
                    matches!(
                        r,
                        Err(TileError::Truncated { .. }
                            | TileError::TrailingBytes { .. }
                            | TileError::ChecksumMismatch
                            | TileError::BadMagic
                            | TileError::UnsupportedVersion(_)
                            | TileError::Invalid { .. })
                    ),
                    "{r:?}"
                );
            }
        }
        match Tile::parse(&b) {
            Ok(t) => {
                parsed += 1;
                exercise(&t);
            }
            Err(e) => {
                rejected += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(
        parsed > 0 && rejected > 10_000,
        "{parsed} parsed, {rejected} rejected"
    );
}

#[test]
fn a_wrong_version_and_a_bad_magic_are_named() {
    let mut b = sample_tile();
    b[4] = 9;
    assert_eq!(
        Tile::parse(&b).unwrap_err(),
        TileError::UnsupportedVersion(9)
    );
    assert!(
        Tile::parse(&b)
            .unwrap_err()
            .to_string()
            .contains("version 9")
    );
    let mut b = sample_tile();
    b[0] = b'X';
    assert_eq!(Tile::parse(&b).unwrap_err(), TileError::BadMagic);
    let b = sample_tile();
    let cut = &b[..b.len() - 10];
    assert!(matches!(
        Tile::parse(cut).unwrap_err(),
        TileError::Truncated { .. }
    ));
}
