//! Small geodesy for map matching and tiles: geohash cells, local metric
//! projections, bearings. Distances are good to well under 1 % over the few
//! hundred metres a tile lookup spans (an equirectangular projection about a
//! reference point), which is far below GPS error.

use libm::{cos, sqrt};

/// Mean Earth radius (IUGG), m.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// Metres per degree of latitude on the mean sphere.
pub const M_PER_DEG_LAT: f64 = EARTH_RADIUS_M * core::f64::consts::PI / 180.0;

/// Longest geohash this crate handles (8 characters: about 38 m x 19 m).
pub const MAX_GEOHASH_LEN: usize = 8;

const BASE32: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// A geohash cell key of 1 to [`MAX_GEOHASH_LEN`] characters, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Geohash {
    bytes: [u8; MAX_GEOHASH_LEN],
    len: u8,
}

impl core::fmt::Debug for Geohash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Geohash({})", self.as_str())
    }
}

impl core::fmt::Display for Geohash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A latitude/longitude box, degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BBox {
    /// Southern edge.
    pub min_lat_deg: f64,
    /// Western edge.
    pub min_lon_deg: f64,
    /// Northern edge.
    pub max_lat_deg: f64,
    /// Eastern edge.
    pub max_lon_deg: f64,
}

impl BBox {
    /// Whether the point lies inside (edges included on the south/west side only,
    /// so neighbouring cells never both contain a point).
    pub fn contains(&self, lat_deg: f64, lon_deg: f64) -> bool {
        lat_deg >= self.min_lat_deg
            && lat_deg < self.max_lat_deg
            && lon_deg >= self.min_lon_deg
            && lon_deg < self.max_lon_deg
    }
}

impl Geohash {
    /// The cell of `precision` characters containing the point, or `None` when
    /// the precision is out of 1..=8 or the point is not a valid coordinate.
    pub fn encode(lat_deg: f64, lon_deg: f64, precision: usize) -> Option<Self> {
        if !(1..=MAX_GEOHASH_LEN).contains(&precision)
            || !lat_deg.is_finite()
            || !lon_deg.is_finite()
            || lat_deg.abs() > 90.0
            || lon_deg.abs() > 180.0
        {
            return None;
        }
        let (mut lat_lo, mut lat_hi) = (-90.0f64, 90.0f64);
        let (mut lon_lo, mut lon_hi) = (-180.0f64, 180.0f64);
        let mut bytes = [0u8; MAX_GEOHASH_LEN];
        let mut even = true;
        for b in bytes.iter_mut().take(precision) {
            let mut idx = 0usize;
            for _ in 0..5 {
                let (lo, hi, v) = if even {
                    (&mut lon_lo, &mut lon_hi, lon_deg)
                } else {
                    (&mut lat_lo, &mut lat_hi, lat_deg)
                };
                let mid = (*lo + *hi) / 2.0;
                idx <<= 1;
                if v >= mid {
                    idx |= 1;
                    *lo = mid;
                } else {
                    *hi = mid;
                }
                even = !even;
            }
            *b = BASE32[idx];
        }
        Some(Self {
            bytes,
            len: precision as u8,
        })
    }

    /// Parses a geohash string (lower-case base32, 1..=8 characters).
    pub fn parse(s: &str) -> Option<Self> {
        Self::from_bytes(s.as_bytes())
    }

    /// Parses a geohash from ASCII bytes; trailing NUL padding is ignored.
    pub fn from_bytes(raw: &[u8]) -> Option<Self> {
        let len = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        let (key, pad) = raw.split_at(len);
        if !(1..=MAX_GEOHASH_LEN).contains(&len)
            || pad.iter().any(|&b| b != 0)
            || key.iter().any(|b| !BASE32.contains(b))
        {
            return None;
        }
        let mut bytes = [0u8; MAX_GEOHASH_LEN];
        bytes[..len].copy_from_slice(key);
        Some(Self {
            bytes,
            len: len as u8,
        })
    }

    /// The key as a string.
    pub fn as_str(&self) -> &str {
        // Only BASE32 ASCII is ever stored.
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// The key's ASCII bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The key NUL-padded to [`MAX_GEOHASH_LEN`] bytes (the tile header's form).
    pub fn padded(&self) -> [u8; MAX_GEOHASH_LEN] {
        self.bytes
    }

    /// Number of characters.
    pub fn precision(&self) -> usize {
        usize::from(self.len)
    }

    /// The cell's bounding box.
    pub fn bbox(&self) -> BBox {
        let (mut lat_lo, mut lat_hi) = (-90.0f64, 90.0f64);
        let (mut lon_lo, mut lon_hi) = (-180.0f64, 180.0f64);
        let mut even = true;
        for &c in self.as_bytes() {
            let idx = BASE32.iter().position(|&b| b == c).unwrap_or(0);
            for bit in (0..5).rev() {
                let on = (idx >> bit) & 1 == 1;
                let (lo, hi) = if even {
                    (&mut lon_lo, &mut lon_hi)
                } else {
                    (&mut lat_lo, &mut lat_hi)
                };
                let mid = (*lo + *hi) / 2.0;
                if on {
                    *lo = mid;
                } else {
                    *hi = mid;
                }
                even = !even;
            }
        }
        BBox {
            min_lat_deg: lat_lo,
            min_lon_deg: lon_lo,
            max_lat_deg: lat_hi,
            max_lon_deg: lon_hi,
        }
    }
}

/// The cells of `precision` a phone at the point needs: the cell containing
/// it and those of its eight neighbours that come within `radius_m` of the
/// point (so a fix near an edge still finds its road). At most 9 keys, no
/// repeats, the point's own cell first; empty for an invalid point.
pub fn cells_around(
    lat_deg: f64,
    lon_deg: f64,
    radius_m: f64,
    precision: usize,
) -> [Option<Geohash>; 9] {
    let mut out = [None; 9];
    let Some(own) = Geohash::encode(lat_deg, lon_deg, precision) else {
        return out;
    };
    out[0] = Some(own);
    let b = own.bbox();
    let (dlat, dlon) = (b.max_lat_deg - b.min_lat_deg, b.max_lon_deg - b.min_lon_deg);
    let frame = LocalFrame::new(lat_deg, lon_deg);
    let r = if radius_m.is_finite() {
        radius_m.max(0.0)
    } else {
        0.0
    };
    let near_lat = r / M_PER_DEG_LAT;
    let near_lon = r / frame.m_per_deg_lon().max(1e-9);
    let mut n = 1;
    for di in [-1i32, 0, 1] {
        for dj in [-1i32, 0, 1] {
            if di == 0 && dj == 0 {
                continue;
            }
            // The neighbour counts when the point is within the radius of the shared edge.
            let lat_ok = match di {
                -1 => lat_deg - b.min_lat_deg <= near_lat,
                1 => b.max_lat_deg - lat_deg <= near_lat,
                _ => true,
            };
            let lon_ok = match dj {
                -1 => lon_deg - b.min_lon_deg <= near_lon,
                1 => b.max_lon_deg - lon_deg <= near_lon,
                _ => true,
            };
            if !(lat_ok && lon_ok) {
                continue;
            }
            let lat = lat_deg + f64::from(di) * dlat;
            let mut lon = lon_deg + f64::from(dj) * dlon;
            if lon >= 180.0 {
                lon -= 360.0;
            } else if lon < -180.0 {
                lon += 360.0;
            }
            if let Some(g) = Geohash::encode(lat, lon, precision) {
                if !out[..n].contains(&Some(g)) {
                    out[n] = Some(g);
                    n += 1;
                }
            }
        }
    }
    out
}

/// A local east/north metric frame about a reference point (equirectangular).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LocalFrame {
    lat0_deg: f64,
    lon0_deg: f64,
    m_per_deg_lon: f64,
}

impl LocalFrame {
    /// The frame centred on a point.
    pub fn new(lat0_deg: f64, lon0_deg: f64) -> Self {
        Self {
            lat0_deg,
            lon0_deg,
            m_per_deg_lon: M_PER_DEG_LAT * cos(lat0_deg.to_radians()),
        }
    }

    /// (east, north) in metres of a point.
    pub fn to_local(&self, lat_deg: f64, lon_deg: f64) -> (f64, f64) {
        (
            (lon_deg - self.lon0_deg) * self.m_per_deg_lon,
            (lat_deg - self.lat0_deg) * M_PER_DEG_LAT,
        )
    }

    /// Metres per degree of longitude at the reference latitude.
    pub fn m_per_deg_lon(&self) -> f64 {
        self.m_per_deg_lon
    }
}

/// Distance in metres between two points (equirectangular about their middle;
/// good for the short hops between GPS fixes).
pub fn distance_m(lat1_deg: f64, lon1_deg: f64, lat2_deg: f64, lon2_deg: f64) -> f64 {
    let mid = LocalFrame::new((lat1_deg + lat2_deg) / 2.0, 0.0);
    let e = (lon2_deg - lon1_deg) * mid.m_per_deg_lon();
    let n = (lat2_deg - lat1_deg) * M_PER_DEG_LAT;
    sqrt(e * e + n * n)
}

/// Bearing in degrees clockwise from north, [0, 360), of a local (east, north)
/// direction.
pub fn bearing_deg(east: f64, north: f64) -> f64 {
    let b = libm::atan2(east, north).to_degrees();
    if b < 0.0 { b + 360.0 } else { b }
}

/// Absolute difference of two bearings, degrees in [0, 180].
pub fn bearing_diff_deg(a_deg: f64, b_deg: f64) -> f64 {
    let d = libm::fmod(libm::fabs(a_deg - b_deg), 360.0);
    if d > 180.0 { 360.0 - d } else { d }
}

/// Distance from point `p` to the segment `a`-`b` (all local metres), and the
/// fraction along the segment of the nearest point.
pub fn point_segment_distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (a.0 + t * dx - p.0, a.1 + t * dy - p.1);
    (sqrt(ex * ex + ey * ey), t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geohash_matches_the_published_examples() {
        // Wikipedia's example: 57.64911, 10.40744 -> u4pruydqqvj.
        let g = Geohash::encode(57.64911, 10.40744, 8).unwrap();
        assert_eq!(g.as_str(), "u4pruydq");
        // Helsinki city centre.
        let g = Geohash::encode(60.1699, 24.9384, 5).unwrap();
        assert_eq!(g.as_str(), "ud9wr");
        let b = g.bbox();
        assert!(b.contains(60.1699, 24.9384));
        assert!((b.max_lat_deg - b.min_lat_deg - 180.0 / 4096.0).abs() < 1e-12);
        assert!((b.max_lon_deg - b.min_lon_deg - 360.0 / 8192.0).abs() < 1e-12);
    }

    #[test]
    fn geohash_rejects_bad_input() {
        assert!(Geohash::encode(f64::NAN, 0.0, 5).is_none());
        assert!(Geohash::encode(91.0, 0.0, 5).is_none());
        assert!(Geohash::encode(0.0, 0.0, 0).is_none());
        assert!(Geohash::encode(0.0, 0.0, 9).is_none());
        assert!(Geohash::parse("ud9wa").is_none(), "'a' is not base32");
        assert!(Geohash::parse("").is_none());
        assert!(Geohash::from_bytes(b"ud9\0x\0\0\0").is_none());
        assert_eq!(
            Geohash::from_bytes(b"ud9\0\0\0\0\0").unwrap().as_str(),
            "ud9"
        );
    }

    #[test]
    fn cells_around_a_point_near_an_edge() {
        // The middle of a cell needs only that cell.
        let g = Geohash::parse("ud9wr").unwrap();
        let b = g.bbox();
        let (mid_lat, mid_lon) = (
            (b.min_lat_deg + b.max_lat_deg) / 2.0,
            (b.min_lon_deg + b.max_lon_deg) / 2.0,
        );
        let cells = cells_around(mid_lat, mid_lon, 100.0, 5);
        assert_eq!(cells.iter().flatten().count(), 1);
        assert_eq!(cells[0], Some(g));
        // 20 m from the north-east corner: the cell, north, east and north-east.
        let lat = b.max_lat_deg - 20.0 / M_PER_DEG_LAT;
        let lon = b.max_lon_deg - 20.0 / LocalFrame::new(lat, 0.0).m_per_deg_lon();
        let cells = cells_around(lat, lon, 100.0, 5);
        let keys: [Option<Geohash>; 9] = cells;
        assert_eq!(keys.iter().flatten().count(), 4);
        for k in keys.iter().flatten() {
            let kb = k.bbox();
            assert!(
                kb.min_lat_deg >= b.min_lat_deg - 1e-9 && kb.min_lon_deg >= b.min_lon_deg - 1e-9
            );
        }
        assert_eq!(
            cells_around(f64::NAN, 0.0, 100.0, 5)
                .iter()
                .flatten()
                .count(),
            0
        );
    }

    #[test]
    fn distances_and_bearings() {
        // 0.001 deg of latitude is 111.2 m.
        let d = distance_m(60.0, 25.0, 60.001, 25.0);
        assert!((d - 111.195).abs() < 0.01, "{d}");
        // 0.002 deg of longitude at 60 N is half as long per degree.
        let d = distance_m(60.0, 25.0, 60.0, 25.002);
        assert!((d - 111.195).abs() < 0.05, "{d}");
        assert!((bearing_deg(1.0, 0.0) - 90.0).abs() < 1e-9);
        assert!((bearing_deg(-1.0, 0.0) - 270.0).abs() < 1e-9);
        assert!((bearing_diff_deg(350.0, 10.0) - 20.0).abs() < 1e-9);
        assert!((bearing_diff_deg(10.0, 190.0) - 180.0).abs() < 1e-9);
        let (d, t) = point_segment_distance((5.0, 3.0), (0.0, 0.0), (10.0, 0.0));
        assert!((d - 3.0).abs() < 1e-12 && (t - 0.5).abs() < 1e-12);
        let (d, t) = point_segment_distance((-4.0, 3.0), (0.0, 0.0), (10.0, 0.0));
        assert!((d - 5.0).abs() < 1e-12 && t == 0.0);
    }
}
