//! Crowd speed profiles: a "socially acceptable" speed per road segment and
//! hour of week, learned from many drivers' GPS pings, where no legal limit
//! is known.
//!
//! Input: pings as CSV (`driver_id,t_unix_s,lat,lon,speed_mps,accuracy_m`,
//! optional `bearing_deg`; times in Unix seconds, hours of week in local time
//! through a fixed UTC offset). The aggregation:
//!
//! 1. Clean (finite, accuracy <= 20 m, moving, below 70 m/s) and snap each
//!    ping to a segment of the map (the phone's own matcher).
//! 2. Weight each ping by its speed: pings come at fixed intervals, so a slow
//!    car leaves more of them on a stretch; weighting by speed gives every
//!    traversal the same weight.
//! 3. Keep free-flowing traffic only: pings faster than the weighted median
//!    of their road category in that hour of week.
//! 4. Per segment and hour of week (all weeks together), publish nothing
//!    unless at least `min_drivers` distinct drivers remain; otherwise the
//!    threshold is the weighted `percentile` of the kept speeds, capped by
//!    the highest legal limit known for that road category in the map.
//!
//! Memory is bounded: snapped pings are sorted in chunks of `chunk_records`
//! and spilled to temporary run files, then merged; each segment-hour is
//! reduced on the fly into a fixed-size speed histogram and a running count
//! of distinct drivers (the runs are sorted by driver inside a cell). Only the
//! category-hour histograms (9 x 168 x 1400 bins) and the published
//! thresholds stay in memory. `docs/crowd-profiles.md` gives the same job as
//! SQL for a distributed engine.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use safelane_core::tile::HOURS_PER_WEEK;
use safelane_core::{GpsFix, MatchConfig, RoadCategory, Tile, match_fix};

use crate::tiles::{SegmentRecord, decode_tile, encode_tile};

/// Histogram bin width, m/s (0.05 m/s = 0.18 km/h; values are interpolated
/// inside a bin).
pub const BIN_MPS: f64 = 0.05;
/// Histogram range, m/s.
pub const MAX_SPEED_MPS: f64 = 70.0;
const BINS: usize = (MAX_SPEED_MPS / BIN_MPS) as usize;
const RECORD_LEN: usize = 8 + 8 + 4 + 1 + 1;

/// Profile settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProfileOptions {
    /// The threshold is this weighted percentile of the free-flowing speeds.
    /// Default 0.85 (the traffic engineer's 85th percentile speed).
    pub percentile: f64,
    /// Fewest distinct drivers for a published cell. Default 10.
    pub min_drivers: u32,
    /// Local time = UTC + this many hours, for the hour of week. Default 0.
    pub utc_offset_h: f64,
    /// Snapped pings held in memory before a sorted run is spilled. Default 1,000,000.
    pub chunk_records: usize,
    /// Worst usable accuracy, m. Default 20.
    pub max_accuracy_m: f32,
    /// Slowest usable speed (moving), m/s. Default 2.
    pub min_speed_mps: f32,
    /// Weight pings by speed (turn off only to measure what it corrects).
    pub weight_by_speed: bool,
    /// Keep only pings above the category-hour median (turn off only to
    /// measure what it corrects).
    pub free_flow_only: bool,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        Self {
            percentile: 0.85,
            min_drivers: 10,
            utc_offset_h: 0.0,
            chunk_records: 1_000_000,
            max_accuracy_m: 20.0,
            min_speed_mps: 2.0,
            weight_by_speed: true,
            free_flow_only: true,
        }
    }
}

/// One driver's GPS ping.
#[derive(Clone, Debug, PartialEq)]
pub struct Ping {
    /// Driver identifier (pseudonymous).
    pub driver_id: String,
    /// Unix time, s.
    pub t_unix_s: f64,
    /// Latitude, degrees.
    pub lat_deg: f64,
    /// Longitude, degrees.
    pub lon_deg: f64,
    /// Speed, m/s.
    pub speed_mps: f32,
    /// Accuracy (68 % radius), m.
    pub accuracy_m: f32,
    /// Course, degrees, when known.
    pub bearing_deg: Option<f32>,
}

/// Why profiling failed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// A ping row is malformed: names the line and the column.
    #[error("{path}:{line}: {message}")]
    BadPing {
        /// The file.
        path: String,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A tile is invalid.
    #[error("tile {key}: {source}")]
    Tile {
        /// Tile key.
        key: String,
        /// The decoder's verdict.
        source: safelane_core::TileError,
    },
    /// Re-encoding a tile failed.
    #[error(transparent)]
    Build(#[from] crate::tiles::BuildError),
    /// An option is out of range.
    #[error("invalid option: {0}")]
    BadOption(&'static str),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ProfileError + '_ {
    move |source| ProfileError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What a profile run saw and published.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProfileStats {
    /// Pings read.
    pub pings: u64,
    /// Dropped in cleaning (accuracy, stationary, unrealistic).
    pub dropped_unclean: u64,
    /// Not snapped to any segment.
    pub unsnapped: u64,
    /// Snapped to a segment with a legal limit (no crowd threshold needed).
    pub on_legal_roads: u64,
    /// Used for profiles.
    pub used: u64,
    /// Sorted runs spilled to disk.
    pub runs: u64,
    /// Segment-hour cells with pings.
    pub cells: u64,
    /// Cells published.
    pub published: u64,
    /// Cells withheld for too few distinct drivers.
    pub withheld_few_drivers: u64,
    /// Published thresholds lowered to the category cap.
    pub capped: u64,
}

/// Crowd thresholds: (segment id, hour of week) -> m/s.
pub type Thresholds = BTreeMap<(u64, u8), f32>;

/// Hour of week (0 = Monday 00:00) of a Unix time in local time.
pub fn hour_of_week(t_unix_s: f64, utc_offset_h: f64) -> u8 {
    safelane_core::matching::hour_of_week(t_unix_s, utc_offset_h * 3600.0)
}

fn driver_hash(id: &str) -> u64 {
    // FNV-1a: stable across runs and machines.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
struct Rec {
    segment: u64,
    how: u8,
    driver: u64,
    speed: f32,
    category: u8,
}

impl Rec {
    fn key(&self) -> (u64, u8, u64) {
        (self.segment, self.how, self.driver)
    }
    fn write(&self, w: &mut impl Write) -> std::io::Result<()> {
        w.write_all(&self.segment.to_le_bytes())?;
        w.write_all(&self.driver.to_le_bytes())?;
        w.write_all(&self.speed.to_le_bytes())?;
        w.write_all(&[self.how, self.category])
    }
    fn read(r: &mut impl Read) -> std::io::Result<Option<Rec>> {
        let mut b = [0u8; RECORD_LEN];
        match r.read_exact(&mut b) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let u64_at = |i: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(x)
        };
        let mut f = [0u8; 4];
        f.copy_from_slice(&b[16..20]);
        Ok(Some(Rec {
            segment: u64_at(0),
            driver: u64_at(8),
            speed: f32::from_le_bytes(f),
            how: b[20],
            category: b[21],
        }))
    }
}

/// A weighted speed histogram.
#[derive(Clone, Debug)]
struct Hist {
    w: Vec<f64>,
    total: f64,
}

impl Hist {
    fn new() -> Self {
        Self {
            w: vec![0.0; BINS],
            total: 0.0,
        }
    }
    fn add(&mut self, v: f64, weight: f64) {
        let i = ((v / BIN_MPS) as usize).min(BINS - 1);
        self.w[i] += weight;
        self.total += weight;
    }
    fn clear(&mut self) {
        self.w.iter_mut().for_each(|x| *x = 0.0);
        self.total = 0.0;
    }
    /// Weighted quantile, interpolated inside the bin.
    fn quantile(&self, q: f64) -> Option<f64> {
        if self.total <= 0.0 {
            return None;
        }
        let target = q * self.total;
        let mut acc = 0.0;
        for (i, &w) in self.w.iter().enumerate() {
            if w > 0.0 && acc + w >= target {
                let f = ((target - acc) / w).clamp(0.0, 1.0);
                return Some((i as f64 + f) * BIN_MPS);
            }
            acc += w;
        }
        Some(MAX_SPEED_MPS)
    }
}

/// Builds crowd thresholds from pings, in bounded memory. The temporary
/// sorted runs live in a fresh folder inside `work_dir`, removed afterwards
/// whether the job succeeds or fails.
pub fn build_profiles(
    pings: impl Iterator<Item = Result<Ping, ProfileError>>,
    tiles: &BTreeMap<String, Vec<u8>>,
    opts: &ProfileOptions,
    work_dir: &Path,
) -> Result<(Thresholds, ProfileStats), ProfileError> {
    static JOB: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let job = JOB.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let runs_dir = work_dir.join(format!("safelane-runs-{}-{job}", std::process::id()));
    let result = build_in(pings, tiles, opts, &runs_dir);
    let _ = std::fs::remove_dir_all(&runs_dir);
    result
}

fn build_in(
    pings: impl Iterator<Item = Result<Ping, ProfileError>>,
    tiles: &BTreeMap<String, Vec<u8>>,
    opts: &ProfileOptions,
    work_dir: &Path,
) -> Result<(Thresholds, ProfileStats), ProfileError> {
    if !(opts.percentile > 0.0 && opts.percentile < 1.0) {
        return Err(ProfileError::BadOption("percentile must be in (0, 1)"));
    }
    if opts.chunk_records == 0 {
        return Err(ProfileError::BadOption("chunk size must be positive"));
    }
    if opts.min_drivers == 0 {
        return Err(ProfileError::BadOption("min drivers must be at least 1"));
    }
    let parsed: Vec<Tile<'_>> = tiles
        .iter()
        .map(|(k, b)| {
            Tile::parse(b).map_err(|source| ProfileError::Tile {
                key: k.clone(),
                source,
            })
        })
        .collect::<Result<_, _>>()?;
    let caps = category_caps(&parsed);
    let match_cfg = MatchConfig::default();
    let mut stats = ProfileStats::default();
    let mut cat_hist: Vec<Hist> = Vec::new();
    let n_cat = RoadCategory::ALL.len();
    let cat_index =
        |c: u8, how: u8| usize::from(c) * usize::from(HOURS_PER_WEEK) + usize::from(how);
    let mut chunk: Vec<Rec> = Vec::with_capacity(opts.chunk_records.min(1 << 20));
    let mut runs: Vec<PathBuf> = Vec::new();
    std::fs::create_dir_all(work_dir).map_err(io_err(work_dir))?;
    let spill = |chunk: &mut Vec<Rec>, runs: &mut Vec<PathBuf>| -> Result<(), ProfileError> {
        chunk.sort_by_key(|r| r.key());
        let path = work_dir.join(format!("run-{:05}.bin", runs.len()));
        let file = std::fs::File::create(&path).map_err(io_err(&path))?;
        let mut w = BufWriter::new(file);
        for r in chunk.iter() {
            r.write(&mut w).map_err(io_err(&path))?;
        }
        w.flush().map_err(io_err(&path))?;
        runs.push(path);
        chunk.clear();
        Ok(())
    };
    for ping in pings {
        let p = ping?;
        stats.pings += 1;
        if !(p.t_unix_s.is_finite()
            && p.speed_mps.is_finite()
            && p.accuracy_m.is_finite()
            && p.accuracy_m <= opts.max_accuracy_m
            && p.speed_mps >= opts.min_speed_mps
            && f64::from(p.speed_mps) < MAX_SPEED_MPS)
        {
            stats.dropped_unclean += 1;
            continue;
        }
        let fix = GpsFix {
            t_s: 0.0,
            lat_deg: p.lat_deg,
            lon_deg: p.lon_deg,
            speed_mps: Some(p.speed_mps),
            bearing_deg: p.bearing_deg,
            accuracy_m: Some(p.accuracy_m),
        };
        let Some(m) = match_fix(&parsed, &fix, None, &match_cfg) else {
            stats.unsnapped += 1;
            continue;
        };
        if m.threshold.is_some() {
            // A legal limit is known there (no hour given: legal only).
            stats.on_legal_roads += 1;
            continue;
        }
        stats.used += 1;
        let how = hour_of_week(p.t_unix_s, opts.utc_offset_h);
        let rec = Rec {
            segment: m.segment_id,
            how,
            driver: driver_hash(&p.driver_id),
            speed: p.speed_mps,
            category: m.category.to_byte(),
        };
        if cat_hist.is_empty() {
            cat_hist = vec![Hist::new(); n_cat * usize::from(HOURS_PER_WEEK)];
        }
        let w = if opts.weight_by_speed {
            f64::from(rec.speed)
        } else {
            1.0
        };
        cat_hist[cat_index(rec.category, how)].add(f64::from(rec.speed), w);
        chunk.push(rec);
        if chunk.len() >= opts.chunk_records {
            spill(&mut chunk, &mut runs)?;
        }
    }
    if !chunk.is_empty() {
        spill(&mut chunk, &mut runs)?;
    }
    drop(chunk);
    stats.runs = runs.len() as u64;
    let medians: Vec<Option<f64>> = cat_hist.iter().map(|h| h.quantile(0.5)).collect();
    // k-way merge of the sorted runs.
    let mut readers = Vec::with_capacity(runs.len());
    for path in &runs {
        let f = std::fs::File::open(path).map_err(io_err(path))?;
        readers.push(BufReader::new(f));
    }
    let mut heap = BinaryHeap::new();
    for (i, r) in readers.iter_mut().enumerate() {
        if let Some(rec) = Rec::read(r).map_err(io_err(&runs[i]))? {
            heap.push(Reverse((rec.key(), i, HeapRec(rec))));
        }
    }
    let mut out = Thresholds::new();
    let mut cell: Option<(u64, u8, u8)> = None;
    let mut hist = Hist::new();
    let mut drivers = 0u32;
    let mut last_driver: Option<u64> = None;
    let mut finish =
        |cell: Option<(u64, u8, u8)>, hist: &mut Hist, drivers: u32, stats: &mut ProfileStats| {
            if let Some((seg, how, cat)) = cell {
                stats.cells += 1;
                if drivers < opts.min_drivers || hist.total <= 0.0 {
                    stats.withheld_few_drivers += 1;
                } else if let Some(v) = hist.quantile(opts.percentile) {
                    let mut v = v as f32;
                    if let Some(cap) = caps.get(usize::from(cat)).copied().flatten() {
                        if v > cap {
                            v = cap;
                            stats.capped += 1;
                        }
                    }
                    out.insert((seg, how), v);
                    stats.published += 1;
                }
            }
            hist.clear();
        };
    while let Some(Reverse((_, i, HeapRec(rec)))) = heap.pop() {
        if let Some(next) = Rec::read(&mut readers[i]).map_err(io_err(&runs[i]))? {
            heap.push(Reverse((next.key(), i, HeapRec(next))));
        }
        let key = (rec.segment, rec.how, rec.category);
        if cell.map(|c| (c.0, c.1)) != Some((rec.segment, rec.how)) {
            finish(cell, &mut hist, drivers, &mut stats);
            cell = Some(key);
            drivers = 0;
            last_driver = None;
        }
        let median = medians
            .get(cat_index(rec.category, rec.how))
            .copied()
            .flatten()
            .unwrap_or(0.0);
        if opts.free_flow_only && f64::from(rec.speed) <= median {
            continue;
        }
        if last_driver != Some(rec.driver) {
            drivers += 1;
            last_driver = Some(rec.driver);
        }
        let w = if opts.weight_by_speed {
            f64::from(rec.speed)
        } else {
            1.0
        };
        hist.add(f64::from(rec.speed), w);
    }
    finish(cell, &mut hist, drivers, &mut stats);
    Ok((out, stats))
}

/// `Ord` for records in the merge heap (speeds are finite by construction).
#[derive(Clone, Copy, Debug, PartialEq)]
struct HeapRec(Rec);
impl Eq for HeapRec {}
impl PartialOrd for HeapRec {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HeapRec {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0
            .key()
            .cmp(&other.0.key())
            .then(self.0.speed.total_cmp(&other.0.speed))
    }
}

/// The highest legal limit per category in the map, m/s.
fn category_caps(tiles: &[Tile<'_>]) -> Vec<Option<f32>> {
    let mut caps = vec![None; RoadCategory::ALL.len()];
    for t in tiles {
        for i in 0..t.segment_count() {
            if let Some(s) = t.segment(i) {
                if let Some(v) = s.limit_mps() {
                    let c: &mut Option<f32> = &mut caps[usize::from(s.category.to_byte())];
                    *c = Some(c.map_or(v, |x: f32| x.max(v)));
                }
            }
        }
    }
    caps
}

/// Writes the map's tiles with the crowd thresholds into `out`.
pub fn apply_to_tiles(
    tiles: &BTreeMap<String, Vec<u8>>,
    thresholds: &Thresholds,
) -> Result<BTreeMap<String, Vec<u8>>, ProfileError> {
    let mut by_segment: BTreeMap<u64, Vec<(u8, u16)>> = BTreeMap::new();
    for (&(seg, how), &v) in thresholds {
        let cmps = (f64::from(v) * 100.0)
            .round()
            .clamp(1.0, f64::from(u16::MAX)) as u16;
        by_segment.entry(seg).or_default().push((how, cmps));
    }
    let mut out = BTreeMap::new();
    for (key, bytes) in tiles {
        let t = Tile::parse(bytes).map_err(|source| ProfileError::Tile {
            key: key.clone(),
            source,
        })?;
        let (geohash, mut segs): (_, Vec<SegmentRecord>) =
            decode_tile(bytes).map_err(|source| ProfileError::Tile {
                key: key.clone(),
                source,
            })?;
        for s in &mut segs {
            if let Some(c) = by_segment.get(&s.id) {
                s.crowd = c.clone();
            }
        }
        let refs: Vec<&SegmentRecord> = segs.iter().collect();
        let h = t.header();
        out.insert(
            key.clone(),
            encode_tile(geohash, &refs, h.grid_side, h.data_version)?,
        );
    }
    Ok(out)
}

/// The pings CSV header; the last column (`bearing_deg`) is optional.
pub const PING_COLUMNS: [&str; 7] = [
    "driver_id",
    "t_unix_s",
    "lat",
    "lon",
    "speed_mps",
    "accuracy_m",
    "bearing_deg",
];

/// Writes pings as CSV (with the optional bearing column).
pub fn write_pings_csv(path: &Path, pings: &[Ping]) -> Result<(), ProfileError> {
    let err = |e: csv::Error| ProfileError::Io {
        path: path.display().to_string(),
        source: std::io::Error::other(e),
    };
    let mut w = csv::Writer::from_path(path).map_err(err)?;
    w.write_record(PING_COLUMNS).map_err(err)?;
    for p in pings {
        w.write_record([
            p.driver_id.clone(),
            format!("{:.1}", p.t_unix_s),
            format!("{:.7}", p.lat_deg),
            format!("{:.7}", p.lon_deg),
            format!("{:.2}", p.speed_mps),
            format!("{:.1}", p.accuracy_m),
            p.bearing_deg.map_or(String::new(), |b| format!("{b:.1}")),
        ])
        .map_err(err)?;
    }
    w.flush().map_err(io_err(path))
}

/// Reads pings from CSV; each row error names the line and column.
pub fn read_pings_csv(
    path: &Path,
) -> Result<impl Iterator<Item = Result<Ping, ProfileError>>, ProfileError> {
    let name = path.display().to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| ProfileError::BadPing {
            path: name.clone(),
            line: 1,
            message: e.to_string(),
        })?;
    let header = rdr
        .headers()
        .map_err(|e| ProfileError::BadPing {
            path: name.clone(),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let cols: Vec<&str> = header.iter().collect();
    let expected = &PING_COLUMNS[..6];
    if cols.len() < 6
        || cols[..6] != *expected
        || (cols.len() == 7 && cols[6] != "bearing_deg")
        || cols.len() > 7
    {
        return Err(ProfileError::BadPing {
            path: name,
            line: 1,
            message: format!(
                "wrong header `{}`: expected `{}` (then optionally `bearing_deg`)",
                cols.join(","),
                expected.join(",")
            ),
        });
    }
    let n_cols = cols.len();
    let with_bearing = n_cols == 7;
    Ok(rdr.into_records().enumerate().map(move |(i, row)| {
        let line = i as u64 + 2;
        let bad = |message: String| ProfileError::BadPing {
            path: name.clone(),
            line,
            message,
        };
        let row = row.map_err(|e| bad(e.to_string()))?;
        if row.len() != n_cols {
            return Err(bad(format!("expected {n_cols} columns, got {}", row.len())));
        }
        let num = |c: usize, what: &str| -> Result<f64, ProfileError> {
            let v: f64 = row[c]
                .trim()
                .parse()
                .map_err(|_| bad(format!("{what}: `{}` is not a number", &row[c])))?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(bad(format!("{what}: not a finite number")))
            }
        };
        let lat = num(2, "lat")?;
        let lon = num(3, "lon")?;
        if lat.abs() > 90.0 || lon.abs() > 180.0 {
            return Err(bad("lat/lon: outside WGS84 range".into()));
        }
        let id = row[0].trim();
        if id.is_empty() {
            return Err(bad("driver_id: empty".into()));
        }
        Ok(Ping {
            driver_id: id.to_owned(),
            t_unix_s: num(1, "t_unix_s")?,
            lat_deg: lat,
            lon_deg: lon,
            speed_mps: num(4, "speed_mps")? as f32,
            accuracy_m: num(5, "accuracy_m")? as f32,
            bearing_deg: if with_bearing && !row[6].trim().is_empty() {
                Some(num(6, "bearing_deg")? as f32)
            } else {
                None
            },
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_of_week_is_monday_based_local_time() {
        // 2024-01-01 00:30 UTC was a Monday.
        let t = 1_704_069_000.0;
        assert_eq!(hour_of_week(t, 0.0), 0);
        assert_eq!(hour_of_week(t, 2.0), 2);
        // Sunday 23:30 the day before.
        assert_eq!(hour_of_week(t - 3600.0, 0.0), 167);
        assert_eq!(hour_of_week(t, -1.0), 167);
    }

    #[test]
    fn weighted_quantiles_interpolate() {
        let mut h = Hist::new();
        for v in [10.0, 20.0] {
            h.add(v, 1.0);
        }
        assert!((h.quantile(0.5).unwrap() - 10.05).abs() < 1e-9);
        let mut h = Hist::new();
        // A slow car's 3 pings weigh as much as a fast car's 1 when weighted by speed.
        for _ in 0..3 {
            h.add(10.0, 10.0);
        }
        h.add(30.0, 30.0);
        assert!((h.quantile(0.5).unwrap() - 10.05).abs() < 1e-9);
        assert!((h.quantile(0.75).unwrap() - 30.025).abs() < 1e-9);
        assert!(Hist::new().quantile(0.5).is_none());
    }

    #[test]
    fn records_round_trip() {
        let r = Rec {
            segment: 1 << 40,
            how: 167,
            driver: u64::MAX,
            speed: 13.5,
            category: 5,
        };
        let mut b = Vec::new();
        r.write(&mut b).unwrap();
        assert_eq!(b.len(), RECORD_LEN);
        assert_eq!(Rec::read(&mut b.as_slice()).unwrap(), Some(r));
        assert_eq!(Rec::read(&mut [].as_slice()).unwrap(), None);
    }
}
