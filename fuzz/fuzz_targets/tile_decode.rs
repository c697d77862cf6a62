//! The map tile decoder the phone runs (`safelane_core::tile::Tile::parse`,
//! which `safelane_map::tiles::decode_tile` wraps) on arbitrary bytes, then
//! every accessor and the map matcher on what it accepted: an error, or a
//! tile whose every segment, point, crowd threshold and grid cell can be
//! read; never a panic, never a read out of bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use safelane_core::GpsFix;
use safelane_core::matching::{MatchConfig, match_fix};
use safelane_core::tile::{Tile, crc32};

fuzz_target!(|data: &[u8]| {
    // The CRC32 trailer stops almost every mutation at the door; half the
    // inputs get a correct one so the fuzzer reaches the structure checks.
    let mut bytes = data.to_vec();
    if bytes.len() > 8 && bytes[0] & 1 == 1 {
        let n = bytes.len() - 4;
        let crc = crc32(&bytes[..n]);
        bytes[n..].copy_from_slice(&crc.to_le_bytes());
    }
    let Ok(tile) = Tile::parse(&bytes) else {
        return;
    };
    let mut probes = vec![];
    for i in 0..tile.segment_count() {
        let seg = tile.segment(i).expect("every counted segment is readable");
        for p in seg.first_point..seg.first_point + u32::from(seg.point_count) {
            let (lat, lon) = tile.point(p);
            assert!(lat.is_finite() && lon.is_finite());
            probes.push((lat, lon));
        }
        for (hour, cmps) in tile.crowd_thresholds(&seg) {
            assert!(hour < 168, "hour of week {hour}");
            let _ = cmps;
        }
        let _ = seg.limit_mps();
    }
    let b = tile.bbox();
    probes.push((
        (b.min_lat_deg + b.max_lat_deg) / 2.0,
        (b.min_lon_deg + b.max_lon_deg) / 2.0,
    ));
    let tiles = [tile];
    for (k, (lat, lon)) in probes.into_iter().take(64).enumerate() {
        for c in tiles[0].candidates(lat, lon) {
            assert!(
                c < tiles[0].segment_count(),
                "grid entry {c} names a segment"
            );
        }
        let fix = GpsFix {
            t_s: k as f64,
            lat_deg: lat,
            lon_deg: lon,
            speed_mps: Some(10.0),
            bearing_deg: Some((k * 37 % 360) as f32),
            accuracy_m: Some(5.0),
        };
        let _ = match_fix(&tiles, &fix, Some((k % 168) as u8), &MatchConfig::default());
    }
});
