//! Roads into tiles: split ways into short segments, assign them to geohash
//! cells, index each cell with a grid, and encode the binary tiles that
//! `safelane_core::tile` reads (format: `docs/tile-format.md`).

use std::collections::BTreeMap;

use safelane_core::geo::{Geohash, LocalFrame, M_PER_DEG_LAT, distance_m};
use safelane_core::tile::{
    ANCHOR_MARGIN_UNITS, CROWD_LEN, FLAG_ONEWAY, HEADER_LEN, HOURS_PER_WEEK, INDEX_MARGIN_M, MAGIC,
    POINT_LEN, POINT_UNIT_DEG, SEGMENT_LEN, TRAILER_LEN, VERSION, crc32,
};
use safelane_core::{LimitSource, RoadCategory, Tile, TileError};

use crate::maxspeed::Maxspeed;

/// A road as read from map data: one OSM way (or GeoJSON feature).
#[derive(Clone, Debug, PartialEq)]
pub struct Road {
    /// OSM way id (or the feature's id).
    pub way_id: u64,
    /// Category from `highway`.
    pub category: RoadCategory,
    /// Traffic flows only in point order (a `oneway=-1` way is stored reversed).
    pub oneway: bool,
    /// The parsed `maxspeed`.
    pub maxspeed: Maxspeed,
    /// Points, (lat, lon) degrees.
    pub points: Vec<(f64, f64)>,
}

/// A segment as stored in a tile (owned form).
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentRecord {
    /// Stable id: way id x 65536 + piece number.
    pub id: u64,
    /// Road category.
    pub category: RoadCategory,
    /// One-way in point order.
    pub oneway: bool,
    /// Legal limit, cm/s (0: unknown).
    pub limit_cmps: u16,
    /// Where the legal limit comes from.
    pub limit_source: LimitSource,
    /// Points, (lat, lon) degrees.
    pub points: Vec<(f64, f64)>,
    /// Crowd thresholds as (hour of week, cm/s), sorted by hour.
    pub crowd: Vec<(u8, u16)>,
}

impl SegmentRecord {
    /// The OSM way this segment is a piece of.
    pub fn way_id(&self) -> u64 {
        self.id >> 16
    }

    /// Length, m.
    pub fn length_m(&self) -> f64 {
        self.points
            .windows(2)
            .map(|w| distance_m(w[0].0, w[0].1, w[1].0, w[1].1))
            .sum()
    }
}

/// Why tiles could not be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BuildError {
    /// A way id does not fit the segment id scheme (ids up to 2^48).
    #[error("way {0}: id too large for a segment id (max 2^48)")]
    WayIdTooLarge(u64),
    /// A way splits into more than 65536 segments.
    #[error("way {0}: more than 65536 segments")]
    TooManyPieces(u64),
    /// A coordinate is not a valid WGS84 position.
    #[error("way {way}: point {index} is not a valid coordinate")]
    BadCoordinate {
        /// Way id.
        way: u64,
        /// Index of the point in the way.
        index: usize,
    },
    /// A segment reaches beyond what a tile can represent (roads within about
    /// 13 degrees of the poles).
    #[error("segment {segment}: does not fit tile {tile} (too close to a pole?)")]
    OutOfTileRange {
        /// Segment id.
        segment: u64,
        /// Tile key.
        tile: String,
    },
    /// A tile would exceed a section's 32-bit count.
    #[error("tile {0}: too many records")]
    TileTooLarge(String),
    /// The precision or grid size is out of range.
    #[error("invalid build option: {0}")]
    BadOption(&'static str),
}

/// Tile building options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BuildOptions {
    /// Geohash characters per tile key. Default 5 (about 4.9 km x 4.9 km at
    /// the equator, 2.4 km wide at 60 degrees).
    pub precision: usize,
    /// Grid cells per side inside a tile. Default 16.
    pub grid_side: u16,
    /// Longest segment, m. Default 200: long enough for a stable crowd
    /// profile, short enough for limits that change along a way.
    pub max_segment_m: f64,
    /// Version stamped in every tile header.
    pub data_version: u32,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            precision: 5,
            grid_side: 32,
            max_segment_m: 200.0,
            data_version: 0,
        }
    }
}

/// The legal limit of a parsed `maxspeed`, as stored: (cm/s, source).
pub fn limit_cmps(m: Maxspeed) -> (u16, LimitSource) {
    match m {
        Maxspeed::Limit { kmh, source } => {
            let cmps = (kmh / 3.6 * 100.0).round();
            if cmps >= 1.0 && cmps <= f64::from(u16::MAX) {
                (cmps as u16, source)
            } else {
                (0, LimitSource::Unknown)
            }
        }
        Maxspeed::NoLimit | Maxspeed::Unknown => (0, LimitSource::Unknown),
    }
}

/// Splits a road into segments of at most `max_segment_m` (cut points are
/// interpolated), numbered from 0 along the way.
pub fn split_road(road: &Road, max_segment_m: f64) -> Result<Vec<SegmentRecord>, BuildError> {
    if road.way_id >= 1 << 48 {
        return Err(BuildError::WayIdTooLarge(road.way_id));
    }
    for (i, &(lat, lon)) in road.points.iter().enumerate() {
        if !(lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0) {
            return Err(BuildError::BadCoordinate {
                way: road.way_id,
                index: i,
            });
        }
    }
    let (limit, source) = limit_cmps(road.maxspeed);
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let mut current_len = 0.0;
    for w in road.points.windows(2) {
        let (mut a, b) = (w[0], w[1]);
        if current.is_empty() {
            current.push(a);
        }
        let mut d = distance_m(a.0, a.1, b.0, b.1);
        while current_len + d > max_segment_m {
            let f = (max_segment_m - current_len) / d;
            let cut = (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f);
            current.push(cut);
            pieces.push(std::mem::take(&mut current));
            current.push(cut);
            current_len = 0.0;
            d = distance_m(cut.0, cut.1, b.0, b.1);
            a = cut;
        }
        current.push(b);
        current_len += d;
    }
    if current.len() >= 2 {
        pieces.push(current);
    }
    if pieces.len() > 65_536 {
        return Err(BuildError::TooManyPieces(road.way_id));
    }
    Ok(pieces
        .into_iter()
        .enumerate()
        .map(|(i, points)| SegmentRecord {
            id: (road.way_id << 16) | i as u64,
            category: road.category,
            oneway: road.oneway,
            limit_cmps: limit,
            limit_source: source,
            points,
            crowd: Vec::new(),
        })
        .collect())
}

/// Every road split by [`split_road`], in order; the first failure stops it.
pub fn split_roads(roads: &[Road], max_segment_m: f64) -> Result<Vec<SegmentRecord>, BuildError> {
    let mut segments = Vec::new();
    for r in roads {
        segments.extend(split_road(r, max_segment_m)?);
    }
    Ok(segments)
}

/// Size of a geohash cell at a precision, (lat, lon) degrees.
fn cell_size_deg(precision: usize) -> (f64, f64) {
    let bits = 5 * precision as i32;
    let lon_bits = (bits + 1) / 2;
    let lat_bits = bits / 2;
    (180.0 / 2f64.powi(lat_bits), 360.0 / 2f64.powi(lon_bits))
}

/// The segment's box grown by the index margin, (min_lat, min_lon, max_lat, max_lon).
fn grown_bbox(points: &[(f64, f64)]) -> (f64, f64, f64, f64) {
    let mut b = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(lat, lon) in points {
        b = (b.0.min(lat), b.1.min(lon), b.2.max(lat), b.3.max(lon));
    }
    let mlat = INDEX_MARGIN_M / M_PER_DEG_LAT;
    let frame = LocalFrame::new(b.0.abs().max(b.2.abs()), 0.0);
    let mlon = INDEX_MARGIN_M / frame.m_per_deg_lon().max(1.0);
    (b.0 - mlat, b.1 - mlon, b.2 + mlat, b.3 + mlon)
}

/// Encodes every segment into the tiles it comes near; tiles keyed by geohash.
pub fn build_tiles(
    segments: &[SegmentRecord],
    opts: &BuildOptions,
) -> Result<BTreeMap<String, Vec<u8>>, BuildError> {
    if !(1..=8).contains(&opts.precision) {
        return Err(BuildError::BadOption("precision must be 1..=8"));
    }
    if !(1..=256).contains(&opts.grid_side) {
        return Err(BuildError::BadOption("grid side must be 1..=256"));
    }
    let (dlat, dlon) = cell_size_deg(opts.precision);
    let mut by_tile: BTreeMap<Geohash, Vec<&SegmentRecord>> = BTreeMap::new();
    for s in segments {
        let b = grown_bbox(&s.points);
        let (r0, r1) = (((b.0 + 90.0) / dlat).floor(), ((b.2 + 90.0) / dlat).floor());
        let (c0, c1) = (
            ((b.1 + 180.0) / dlon).floor(),
            ((b.3 + 180.0) / dlon).floor(),
        );
        let mut r = r0;
        while r <= r1 {
            let mut c = c0;
            while c <= c1 {
                let lat = -90.0 + (r + 0.5) * dlat;
                let lon = -180.0 + (c + 0.5) * dlon;
                if let Some(key) = Geohash::encode(lat, lon, opts.precision) {
                    by_tile.entry(key).or_default().push(s);
                }
                c += 1.0;
            }
            r += 1.0;
        }
    }
    let mut out = BTreeMap::new();
    for (key, mut segs) in by_tile {
        segs.sort_by_key(|s| s.id);
        out.insert(
            key.as_str().to_owned(),
            encode_tile(key, &segs, opts.grid_side, opts.data_version)?,
        );
    }
    Ok(out)
}

/// Encodes one tile.
pub fn encode_tile(
    key: Geohash,
    segments: &[&SegmentRecord],
    grid_side: u16,
    data_version: u32,
) -> Result<Vec<u8>, BuildError> {
    let too_large = || BuildError::TileTooLarge(key.as_str().to_owned());
    let bbox = key.bbox();
    let anchor_lat =
        (bbox.min_lat_deg / POINT_UNIT_DEG).round() as i64 - i64::from(ANCHOR_MARGIN_UNITS);
    let anchor_lon =
        (bbox.min_lon_deg / POINT_UNIT_DEG).round() as i64 - i64::from(ANCHOR_MARGIN_UNITS);
    let side = usize::from(grid_side);
    let mut cells: Vec<Vec<u32>> = vec![Vec::new(); side * side];
    let mut seg_bytes = Vec::with_capacity(segments.len() * SEGMENT_LEN);
    let mut point_bytes = Vec::new();
    let mut crowd_bytes = Vec::new();
    let mut point_count: u32 = 0;
    let mut crowd_count: u32 = 0;
    for s in segments {
        let n = u16::try_from(s.points.len()).map_err(|_| too_large())?;
        if n < 2 {
            continue;
        }
        let index = u32::try_from(seg_bytes.len() / SEGMENT_LEN).map_err(|_| too_large())?;
        let mut crowd: Vec<(u8, u16)> = s
            .crowd
            .iter()
            .copied()
            .filter(|&(hour, cmps)| hour < HOURS_PER_WEEK && cmps > 0)
            .collect();
        crowd.sort_by_key(|c| c.0);
        crowd.dedup_by_key(|c| c.0);
        // At most 168 after the dedup by hour.
        let crowd_n = crowd.len() as u8;
        seg_bytes.extend_from_slice(&s.id.to_le_bytes());
        seg_bytes.extend_from_slice(&point_count.to_le_bytes());
        seg_bytes.extend_from_slice(&n.to_le_bytes());
        let (limit, source) = if s.limit_cmps == 0 {
            (0, LimitSource::Unknown)
        } else {
            (s.limit_cmps, s.limit_source)
        };
        seg_bytes.extend_from_slice(&limit.to_le_bytes());
        seg_bytes.extend_from_slice(&crowd_count.to_le_bytes());
        seg_bytes.push(crowd_n);
        seg_bytes.push(source.to_byte());
        seg_bytes.push(s.category.to_byte());
        seg_bytes.push(if s.oneway { FLAG_ONEWAY } else { 0 });
        for &(lat, lon) in &s.points {
            let dlat = (lat / POINT_UNIT_DEG).round() as i64 - anchor_lat;
            let dlon = (lon / POINT_UNIT_DEG).round() as i64 - anchor_lon;
            let fit = |d: i64| u16::try_from(d).ok();
            let (Some(a), Some(b)) = (fit(dlat), fit(dlon)) else {
                return Err(BuildError::OutOfTileRange {
                    segment: s.id,
                    tile: key.as_str().to_owned(),
                });
            };
            point_bytes.extend_from_slice(&a.to_le_bytes());
            point_bytes.extend_from_slice(&b.to_le_bytes());
        }
        point_count = point_count
            .checked_add(u32::from(n))
            .ok_or_else(too_large)?;
        for (hour, cmps) in crowd {
            crowd_bytes.extend_from_slice(&[hour, 0]);
            crowd_bytes.extend_from_slice(&cmps.to_le_bytes());
        }
        crowd_count = crowd_count
            .checked_add(u32::from(crowd_n))
            .ok_or_else(too_large)?;
        // Grid cells the segment comes near.
        let g = grown_bbox(&s.points);
        let fy = |lat: f64| {
            (lat - bbox.min_lat_deg) / (bbox.max_lat_deg - bbox.min_lat_deg) * side as f64
        };
        let fx = |lon: f64| {
            (lon - bbox.min_lon_deg) / (bbox.max_lon_deg - bbox.min_lon_deg) * side as f64
        };
        let clamp = |v: f64| (v.floor().max(0.0) as usize).min(side - 1);
        let (r0, r1) = (fy(g.0), fy(g.2));
        let (c0, c1) = (fx(g.1), fx(g.3));
        if r1 < 0.0 || c1 < 0.0 || r0 >= side as f64 || c0 >= side as f64 {
            continue;
        }
        for row in clamp(r0)..=clamp(r1) {
            for col in clamp(c0)..=clamp(c1) {
                cells[row * side + col].push(index);
            }
        }
    }
    let segment_count = u32::try_from(seg_bytes.len() / SEGMENT_LEN).map_err(|_| too_large())?;
    let mut offsets = Vec::with_capacity(cells.len() + 1);
    let mut entries: Vec<u32> = Vec::new();
    offsets.push(0u32);
    for c in &cells {
        entries.extend_from_slice(c);
        offsets.push(u32::try_from(entries.len()).map_err(|_| too_large())?);
    }
    let entry_count = u32::try_from(entries.len()).map_err(|_| too_large())?;
    let mut out = Vec::with_capacity(
        HEADER_LEN
            + seg_bytes.len()
            + point_bytes.len()
            + 4 * (offsets.len() + entries.len())
            + crowd_bytes.len()
            + TRAILER_LEN,
    );
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&key.padded());
    out.extend_from_slice(&(anchor_lat as i32).to_le_bytes());
    out.extend_from_slice(&(anchor_lon as i32).to_le_bytes());
    out.extend_from_slice(&segment_count.to_le_bytes());
    out.extend_from_slice(&point_count.to_le_bytes());
    out.extend_from_slice(&grid_side.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&entry_count.to_le_bytes());
    out.extend_from_slice(&crowd_count.to_le_bytes());
    out.extend_from_slice(&data_version.to_le_bytes());
    debug_assert_eq!(out.len(), HEADER_LEN);
    out.extend_from_slice(&seg_bytes);
    out.extend_from_slice(&point_bytes);
    for o in offsets {
        out.extend_from_slice(&o.to_le_bytes());
    }
    for e in entries {
        out.extend_from_slice(&e.to_le_bytes());
    }
    out.extend_from_slice(&crowd_bytes);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    debug_assert_eq!(point_bytes.len(), point_count as usize * POINT_LEN);
    debug_assert_eq!(crowd_bytes.len(), crowd_count as usize * CROWD_LEN);
    Ok(out)
}

/// Reads a tile back into owned segments (for re-encoding with crowd
/// thresholds, and for tests).
pub fn decode_tile(bytes: &[u8]) -> Result<(Geohash, Vec<SegmentRecord>), TileError> {
    let tile = Tile::parse(bytes)?;
    let segments = (0..tile.segment_count())
        .filter_map(|i| tile.segment(i))
        .map(|s| SegmentRecord {
            id: s.id,
            category: s.category,
            oneway: s.oneway,
            limit_cmps: s.limit_cmps,
            limit_source: s.limit_source,
            points: (s.first_point..s.first_point + u32::from(s.point_count))
                .map(|p| tile.point(p))
                .collect(),
            crowd: tile.crowd_thresholds(&s).collect(),
        })
        .collect();
    Ok((tile.key(), segments))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn road(way_id: u64, points: Vec<(f64, f64)>, kmh: f64) -> Road {
        Road {
            way_id,
            category: RoadCategory::Primary,
            oneway: false,
            maxspeed: Maxspeed::Limit {
                kmh,
                source: LimitSource::Posted,
            },
            points,
        }
    }

    #[test]
    fn long_ways_are_cut_into_short_segments() {
        // 1 km due north.
        let r = road(
            42,
            vec![(60.0, 25.0), (60.0 + 1000.0 / M_PER_DEG_LAT, 25.0)],
            50.0,
        );
        let segs = split_road(&r, 200.0).unwrap();
        assert_eq!(segs.len(), 5);
        for (i, s) in segs.iter().enumerate() {
            assert_eq!(s.id, (42 << 16) | i as u64);
            assert!((s.length_m() - 200.0).abs() < 1e-6, "{}", s.length_m());
            assert_eq!(s.limit_cmps, 1389);
        }
        assert_eq!(segs[0].way_id(), 42);
    }

    #[test]
    fn tiles_round_trip_through_the_core_reader() {
        let mut segs = split_road(
            &road(
                7,
                vec![(60.17, 24.93), (60.171, 24.935), (60.172, 24.94)],
                40.0,
            ),
            200.0,
        )
        .unwrap();
        segs[0].crowd = vec![(10, 1200), (3, 1100)];
        let tiles = build_tiles(&segs, &BuildOptions::default()).unwrap();
        assert!(!tiles.is_empty());
        for (key, bytes) in &tiles {
            let (k, back) = decode_tile(bytes).unwrap();
            assert_eq!(k.as_str(), key);
            for b in &back {
                let orig = segs.iter().find(|s| s.id == b.id).unwrap();
                assert_eq!(b.limit_cmps, orig.limit_cmps);
                for (p, q) in b.points.iter().zip(&orig.points) {
                    assert!((p.0 - q.0).abs() <= 0.6e-6 && (p.1 - q.1).abs() <= 0.6e-6);
                }
                if b.id == segs[0].id {
                    assert_eq!(b.crowd, vec![(3, 1100), (10, 1200)]);
                }
            }
        }
    }

    #[test]
    fn bad_coordinates_and_ids_are_named() {
        let r = road(1, vec![(60.0, 25.0), (f64::NAN, 25.0)], 50.0);
        assert_eq!(
            split_road(&r, 200.0).unwrap_err(),
            BuildError::BadCoordinate { way: 1, index: 1 }
        );
        let r = road(1 << 50, vec![(60.0, 25.0), (60.001, 25.0)], 50.0);
        assert_eq!(
            split_road(&r, 200.0).unwrap_err(),
            BuildError::WayIdTooLarge(1 << 50)
        );
    }
}
