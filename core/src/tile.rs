//! Map threshold tiles: road segments with their speed thresholds, read in
//! place from a borrowed byte slice (no allocation, no copying).
//!
//! The format is specified in `docs/tile-format.md`; the encoder lives in
//! `safelane-map`. In short (all integers little-endian):
//!
//! ```text
//! header   48 B   magic "SLMT", version, geohash key, anchor, section counts
//! segments 24 B each   id, points, legal limit + source, category, crowd range
//! points    4 B each   u16 north, u16 east offsets from the anchor, 1e-6 deg
//! grid     (side^2 + 1) x u32 offsets, then u32 segment indices per cell
//! crowd     4 B each   hour of week, threshold (cm/s)
//! trailer   4 B   CRC-32 (IEEE) of everything before it
//! ```
//!
//! [`Tile::parse`] checks the whole tile once (magic, version, lengths,
//! checksum, every index in range), so a corrupt, truncated or wrong-version
//! tile is an error up front and lookups afterwards cannot go out of bounds.

use crate::geo::{BBox, Geohash, MAX_GEOHASH_LEN};

/// The first four bytes of every tile.
pub const MAGIC: [u8; 4] = *b"SLMT";
/// The format version this crate reads and `safelane-map` writes.
pub const VERSION: u16 = 1;
/// Header length, bytes.
pub const HEADER_LEN: usize = 48;
/// Segment record length, bytes.
pub const SEGMENT_LEN: usize = 24;
/// Point record length, bytes.
pub const POINT_LEN: usize = 4;
/// Crowd threshold record length, bytes.
pub const CROWD_LEN: usize = 4;
/// Trailer (CRC-32) length, bytes.
pub const TRAILER_LEN: usize = 4;
/// Point offsets are stored in units of 1e-6 degree.
pub const POINT_UNIT_DEG: f64 = 1e-6;
/// The anchor lies this many units south and west of the tile's geohash cell,
/// so segments reaching up to ~1 km beyond the cell stay representable.
pub const ANCHOR_MARGIN_UNITS: i32 = 10_000;
/// Hours in a week: crowd thresholds are kept per hour of week, 0 = Monday
/// 00:00-01:00 local time.
pub const HOURS_PER_WEEK: u8 = 168;
/// Segments are indexed in every grid cell they come within this distance of,
/// so a fix snaps to any segment up to this far away.
pub const INDEX_MARGIN_M: f64 = 50.0;

/// Where a segment's legal limit comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitSource {
    /// No legal limit is known.
    Unknown,
    /// A posted limit: a number in the map's `maxspeed` tag.
    Posted,
    /// An implicit limit from a country/zone code (e.g. `DE:urban`).
    Zone,
}

impl LimitSource {
    /// The stored byte.
    pub fn to_byte(self) -> u8 {
        match self {
            LimitSource::Unknown => 0,
            LimitSource::Posted => 1,
            LimitSource::Zone => 2,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(LimitSource::Unknown),
            1 => Some(LimitSource::Posted),
            2 => Some(LimitSource::Zone),
            _ => None,
        }
    }
}

/// Road category, from OpenStreetMap's `highway` classes (links folded into
/// their road's class).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoadCategory {
    /// `motorway`, `motorway_link`.
    Motorway,
    /// `trunk`, `trunk_link`.
    Trunk,
    /// `primary`, `primary_link`.
    Primary,
    /// `secondary`, `secondary_link`.
    Secondary,
    /// `tertiary`, `tertiary_link`.
    Tertiary,
    /// `unclassified`, `road`.
    Unclassified,
    /// `residential`.
    Residential,
    /// `living_street`.
    LivingStreet,
    /// `service`.
    Service,
}

impl RoadCategory {
    /// Every category, in byte order.
    pub const ALL: [RoadCategory; 9] = [
        RoadCategory::Motorway,
        RoadCategory::Trunk,
        RoadCategory::Primary,
        RoadCategory::Secondary,
        RoadCategory::Tertiary,
        RoadCategory::Unclassified,
        RoadCategory::Residential,
        RoadCategory::LivingStreet,
        RoadCategory::Service,
    ];

    /// The category of an OSM `highway` value, or `None` for ways vehicles do
    /// not drive on (footway, cycleway, path, track, ...).
    pub fn from_osm_highway(v: &str) -> Option<Self> {
        Some(match v {
            "motorway" | "motorway_link" => RoadCategory::Motorway,
            "trunk" | "trunk_link" => RoadCategory::Trunk,
            "primary" | "primary_link" => RoadCategory::Primary,
            "secondary" | "secondary_link" => RoadCategory::Secondary,
            "tertiary" | "tertiary_link" => RoadCategory::Tertiary,
            "unclassified" | "road" => RoadCategory::Unclassified,
            "residential" => RoadCategory::Residential,
            "living_street" => RoadCategory::LivingStreet,
            "service" => RoadCategory::Service,
            _ => return None,
        })
    }

    /// Stable name (the OSM class without `_link`).
    pub fn as_str(self) -> &'static str {
        match self {
            RoadCategory::Motorway => "motorway",
            RoadCategory::Trunk => "trunk",
            RoadCategory::Primary => "primary",
            RoadCategory::Secondary => "secondary",
            RoadCategory::Tertiary => "tertiary",
            RoadCategory::Unclassified => "unclassified",
            RoadCategory::Residential => "residential",
            RoadCategory::LivingStreet => "living_street",
            RoadCategory::Service => "service",
        }
    }

    /// The stored byte.
    pub fn to_byte(self) -> u8 {
        self as u8
    }

    /// The category of a stored byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        Self::ALL.get(usize::from(b)).copied()
    }
}

/// Why a tile cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TileError {
    /// Shorter than its header says (or than a header).
    Truncated {
        /// Bytes the tile needs.
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// Longer than its header says: trailing bytes.
    TrailingBytes {
        /// Bytes the tile needs.
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// Not a safelane tile.
    BadMagic,
    /// A version this build does not read.
    UnsupportedVersion(u16),
    /// The CRC-32 trailer does not match the contents.
    ChecksumMismatch,
    /// A field holds a value the format does not allow.
    Invalid {
        /// Section and field, e.g. `segment[12].first_point`.
        field: &'static str,
        /// Index of the record within its section (0 for the header).
        index: u32,
    },
}

impl core::fmt::Display for TileError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TileError::Truncated { needed, got } => {
                write!(f, "tile truncated: needs {needed} bytes, got {got}")
            }
            TileError::TrailingBytes { needed, got } => {
                write!(
                    f,
                    "tile has trailing bytes: needs {needed} bytes, got {got}"
                )
            }
            TileError::BadMagic => f.write_str("not a safelane tile (bad magic)"),
            TileError::UnsupportedVersion(v) => {
                write!(
                    f,
                    "tile format version {v} is not supported (this build reads {VERSION})"
                )
            }
            TileError::ChecksumMismatch => f.write_str("tile checksum mismatch (corrupt)"),
            TileError::Invalid { field, index } => {
                write!(f, "tile field {field} is invalid (record {index})")
            }
        }
    }
}

impl core::error::Error for TileError {}

/// CRC-32 (IEEE 802.3, reflected, as zlib and PNG use).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc = CRC_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

fn u16_at(b: &[u8], at: usize) -> u16 {
    match b.get(at..at.saturating_add(2)) {
        Some(&[x, y]) => u16::from_le_bytes([x, y]),
        _ => 0,
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    match b.get(at..at.saturating_add(4)) {
        Some(&[a, c, d, e]) => u32::from_le_bytes([a, c, d, e]),
        _ => 0,
    }
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | (u64::from(u32_at(b, at.saturating_add(4))) << 32)
}

/// The header fields of a tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileHeader {
    /// The geohash cell the tile covers.
    pub key: Geohash,
    /// Anchor latitude, 1e-6 degree units.
    pub anchor_lat_e6: i32,
    /// Anchor longitude, 1e-6 degree units.
    pub anchor_lon_e6: i32,
    /// Number of segments.
    pub segment_count: u32,
    /// Number of points.
    pub point_count: u32,
    /// The spatial grid is `grid_side` x `grid_side` cells over the geohash cell.
    pub grid_side: u16,
    /// Number of grid entries.
    pub grid_entry_count: u32,
    /// Number of crowd threshold records.
    pub crowd_count: u32,
    /// Version of the map data (e.g. the extract's date as yyyymmdd).
    pub data_version: u32,
}

/// A parsed, validated tile borrowing its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Tile<'a> {
    header: TileHeader,
    bbox: BBox,
    segments: &'a [u8],
    points: &'a [u8],
    grid_offsets: &'a [u8],
    grid_entries: &'a [u8],
    crowd: &'a [u8],
}

/// One road segment of a tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Stable id across tiles: OSM way id x 65536 + piece number.
    pub id: u64,
    /// Index of the first point in the tile's point table.
    pub first_point: u32,
    /// Number of points (at least 2).
    pub point_count: u16,
    /// Legal limit, cm/s; 0 when unknown.
    pub limit_cmps: u16,
    /// Where the legal limit comes from.
    pub limit_source: LimitSource,
    /// Road category.
    pub category: RoadCategory,
    /// Traffic flows only in point order.
    pub oneway: bool,
    /// First crowd record.
    pub crowd_first: u32,
    /// Number of crowd records (sorted by hour of week).
    pub crowd_count: u8,
}

impl Segment {
    /// The legal limit in m/s, when known.
    pub fn limit_mps(&self) -> Option<f32> {
        (self.limit_cmps > 0).then(|| f32::from(self.limit_cmps) / 100.0)
    }
}

/// Segment record flag: one-way in point order.
pub const FLAG_ONEWAY: u8 = 1;

impl<'a> Tile<'a> {
    /// Reads and checks a tile.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, TileError> {
        let got = bytes.len();
        if got < HEADER_LEN + TRAILER_LEN {
            return Err(TileError::Truncated {
                needed: HEADER_LEN + TRAILER_LEN,
                got,
            });
        }
        if bytes[0..4] != MAGIC {
            return Err(TileError::BadMagic);
        }
        let version = u16_at(bytes, 4);
        if version != VERSION {
            return Err(TileError::UnsupportedVersion(version));
        }
        let invalid = |field| TileError::Invalid { field, index: 0 };
        if u16_at(bytes, 6) != 0 {
            return Err(invalid("header.flags"));
        }
        let key =
            Geohash::from_bytes(&bytes[8..8 + MAX_GEOHASH_LEN]).ok_or(invalid("header.geohash"))?;
        let header = TileHeader {
            key,
            anchor_lat_e6: u32_at(bytes, 16) as i32,
            anchor_lon_e6: u32_at(bytes, 20) as i32,
            segment_count: u32_at(bytes, 24),
            point_count: u32_at(bytes, 28),
            grid_side: u16_at(bytes, 32),
            grid_entry_count: u32_at(bytes, 36),
            crowd_count: u32_at(bytes, 40),
            data_version: u32_at(bytes, 44),
        };
        if u16_at(bytes, 34) != 0 {
            return Err(invalid("header.reserved"));
        }
        if header.grid_side == 0 || header.grid_side > 256 {
            return Err(invalid("header.grid_side"));
        }
        let bbox = key.bbox();
        let anchor_ok = |a: i32, edge: f64| {
            let expected =
                libm::round(edge / POINT_UNIT_DEG) as i64 - i64::from(ANCHOR_MARGIN_UNITS);
            i64::from(a) == expected
        };
        if !anchor_ok(header.anchor_lat_e6, bbox.min_lat_deg) {
            return Err(invalid("header.anchor_lat"));
        }
        if !anchor_ok(header.anchor_lon_e6, bbox.min_lon_deg) {
            return Err(invalid("header.anchor_lon"));
        }
        // Section sizes in u64 so hostile counts cannot overflow.
        let cells = u64::from(header.grid_side) * u64::from(header.grid_side);
        let sizes = [
            u64::from(header.segment_count) * SEGMENT_LEN as u64,
            u64::from(header.point_count) * POINT_LEN as u64,
            (cells + 1) * 4,
            u64::from(header.grid_entry_count) * 4,
            u64::from(header.crowd_count) * CROWD_LEN as u64,
        ];
        let needed64 = HEADER_LEN as u64 + sizes.iter().sum::<u64>() + TRAILER_LEN as u64;
        let needed = usize::try_from(needed64).unwrap_or(usize::MAX);
        if got < needed {
            return Err(TileError::Truncated { needed, got });
        }
        if got > needed {
            return Err(TileError::TrailingBytes { needed, got });
        }
        let body_end = needed - TRAILER_LEN;
        if crc32(&bytes[..body_end]) != u32_at(bytes, body_end) {
            return Err(TileError::ChecksumMismatch);
        }
        let mut at = HEADER_LEN;
        let mut take = |len: u64| {
            let len = len as usize; // fits: the whole tile fits in memory
            let s = &bytes[at..at + len];
            at += len;
            s
        };
        let tile = Tile {
            header,
            bbox,
            segments: take(sizes[0]),
            points: take(sizes[1]),
            grid_offsets: take(sizes[2]),
            grid_entries: take(sizes[3]),
            crowd: take(sizes[4]),
        };
        tile.validate()?;
        Ok(tile)
    }

    fn validate(&self) -> Result<(), TileError> {
        let h = &self.header;
        for i in 0..h.segment_count {
            let at = i as usize * SEGMENT_LEN;
            let r = &self.segments[at..at + SEGMENT_LEN];
            let bad = |field| TileError::Invalid { field, index: i };
            let first = u64::from(u32_at(r, 8));
            let n = u64::from(u16_at(r, 12));
            if n < 2 {
                return Err(bad("segment.point_count"));
            }
            if first + n > u64::from(h.point_count) {
                return Err(bad("segment.first_point"));
            }
            let source = LimitSource::from_byte(r[21]).ok_or(bad("segment.limit_source"))?;
            if (source == LimitSource::Unknown) != (u16_at(r, 14) == 0) {
                return Err(bad("segment.limit"));
            }
            RoadCategory::from_byte(r[22]).ok_or(bad("segment.category"))?;
            if r[23] & !FLAG_ONEWAY != 0 {
                return Err(bad("segment.flags"));
            }
            let c_first = u64::from(u32_at(r, 16));
            let c_n = u64::from(r[20]);
            if c_n > u64::from(HOURS_PER_WEEK) || c_first + c_n > u64::from(h.crowd_count) {
                return Err(bad("segment.crowd_range"));
            }
            let mut last_hour = None;
            for c in c_first..c_first + c_n {
                let rec = &self.crowd[c as usize * CROWD_LEN..][..CROWD_LEN];
                let hour = rec[0];
                if hour >= HOURS_PER_WEEK || last_hour.is_some_and(|l| hour <= l) {
                    return Err(TileError::Invalid {
                        field: "crowd.hour_of_week",
                        index: c as u32,
                    });
                }
                if rec[1] != 0 || u16_at(rec, 2) == 0 {
                    return Err(TileError::Invalid {
                        field: "crowd.threshold",
                        index: c as u32,
                    });
                }
                last_hour = Some(hour);
            }
        }
        let cells = usize::from(h.grid_side) * usize::from(h.grid_side);
        let mut prev = 0u32;
        for c in 0..=cells {
            let off = u32_at(self.grid_offsets, c * 4);
            let bad_order = if c == 0 { off != 0 } else { off < prev };
            if bad_order || off > h.grid_entry_count || (c == cells && off != h.grid_entry_count) {
                return Err(TileError::Invalid {
                    field: "grid.offset",
                    index: c as u32,
                });
            }
            prev = off;
        }
        for e in 0..h.grid_entry_count {
            if u32_at(self.grid_entries, e as usize * 4) >= h.segment_count {
                return Err(TileError::Invalid {
                    field: "grid.entry",
                    index: e,
                });
            }
        }
        Ok(())
    }

    /// The header.
    pub fn header(&self) -> &TileHeader {
        &self.header
    }

    /// The geohash cell the tile covers.
    pub fn key(&self) -> Geohash {
        self.header.key
    }

    /// The covered cell's box.
    pub fn bbox(&self) -> BBox {
        self.bbox
    }

    /// Number of segments.
    pub fn segment_count(&self) -> u32 {
        self.header.segment_count
    }

    /// Segment `i` (validated at parse time), or `None` past the end.
    pub fn segment(&self, i: u32) -> Option<Segment> {
        let at = (i as usize).checked_mul(SEGMENT_LEN)?;
        let r = self.segments.get(at..)?.get(..SEGMENT_LEN)?;
        Some(Segment {
            id: u64_at(r, 0),
            first_point: u32_at(r, 8),
            point_count: u16_at(r, 12),
            limit_cmps: u16_at(r, 14),
            crowd_first: u32_at(r, 16),
            crowd_count: r[20],
            limit_source: LimitSource::from_byte(r[21]).unwrap_or(LimitSource::Unknown),
            category: RoadCategory::from_byte(r[22]).unwrap_or(RoadCategory::Service),
            oneway: r[23] & FLAG_ONEWAY != 0,
        })
    }

    /// Point `i` as (lat, lon) degrees.
    pub fn point(&self, i: u32) -> (f64, f64) {
        let at = (i as usize).saturating_mul(POINT_LEN);
        let dlat = u16_at(self.points, at);
        let dlon = u16_at(self.points, at + 2);
        (
            (f64::from(self.header.anchor_lat_e6) + f64::from(dlat)) * POINT_UNIT_DEG,
            (f64::from(self.header.anchor_lon_e6) + f64::from(dlon)) * POINT_UNIT_DEG,
        )
    }

    /// The crowd threshold of a segment at an hour of week, cm/s.
    pub fn crowd_threshold_cmps(&self, seg: &Segment, hour_of_week: u8) -> Option<u16> {
        let (mut lo, mut hi) = (
            seg.crowd_first,
            seg.crowd_first.saturating_add(u32::from(seg.crowd_count)),
        );
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let at = (mid as usize).saturating_mul(CROWD_LEN);
            let hour = *self.crowd.get(at)?;
            match hour.cmp(&hour_of_week) {
                core::cmp::Ordering::Equal => {
                    return Some(u16_at(self.crowd, at.saturating_add(2)));
                }
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }

    /// All crowd thresholds of a segment as (hour of week, cm/s).
    pub fn crowd_thresholds(&self, seg: &Segment) -> impl Iterator<Item = (u8, u16)> + '_ {
        let first = seg.crowd_first as usize;
        (first..first.saturating_add(usize::from(seg.crowd_count))).map(|c| {
            let at = c.saturating_mul(CROWD_LEN);
            (
                self.crowd.get(at).copied().unwrap_or(0),
                u16_at(self.crowd, at.saturating_add(2)),
            )
        })
    }

    /// The indices of segments indexed in the grid cell containing the point
    /// (empty when the point is outside the tile's cell).
    pub fn candidates(&self, lat_deg: f64, lon_deg: f64) -> impl Iterator<Item = u32> + '_ {
        let (start, end) = match self.cell_of(lat_deg, lon_deg) {
            Some(c) => (
                u32_at(self.grid_offsets, c * 4),
                u32_at(self.grid_offsets, (c + 1) * 4),
            ),
            None => (0, 0),
        };
        (start..end).map(|e| u32_at(self.grid_entries, (e as usize).saturating_mul(4)))
    }

    /// The grid cell index of a point inside the tile's box.
    pub fn cell_of(&self, lat_deg: f64, lon_deg: f64) -> Option<usize> {
        if !self.bbox.contains(lat_deg, lon_deg) {
            return None;
        }
        let side = usize::from(self.header.grid_side);
        let b = &self.bbox;
        let fy = (lat_deg - b.min_lat_deg) / (b.max_lat_deg - b.min_lat_deg);
        let fx = (lon_deg - b.min_lon_deg) / (b.max_lon_deg - b.min_lon_deg);
        let row = ((fy * side as f64) as usize).min(side - 1);
        let col = ((fx * side as f64) as usize).min(side - 1);
        Some(row * side + col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn short_and_foreign_bytes_are_errors() {
        assert_eq!(
            Tile::parse(b"SLMT").unwrap_err(),
            TileError::Truncated { needed: 52, got: 4 }
        );
        let mut b = [0u8; 52];
        assert_eq!(Tile::parse(&b).unwrap_err(), TileError::BadMagic);
        b[..4].copy_from_slice(&MAGIC);
        b[4] = 2;
        assert_eq!(
            Tile::parse(&b).unwrap_err(),
            TileError::UnsupportedVersion(2)
        );
    }

    #[test]
    fn categories_round_trip() {
        for c in RoadCategory::ALL {
            assert_eq!(RoadCategory::from_byte(c.to_byte()), Some(c));
            assert_eq!(RoadCategory::from_osm_highway(c.as_str()), Some(c));
        }
        assert_eq!(RoadCategory::from_osm_highway("footway"), None);
        assert_eq!(
            RoadCategory::from_osm_highway("primary_link"),
            Some(RoadCategory::Primary)
        );
    }
}
