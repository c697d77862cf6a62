//! # safelane-trip: the trip directory format
//!
//! A trip is a directory of CSV files (UTF-8, comma-separated, one header
//! line, `.` as decimal separator, empty cell = no value):
//!
//! | file | header | notes |
//! | --- | --- | --- |
//! | `imu.csv` | `t_s,ax,ay,az,gx,gy,gz` | seconds; m/s^2 specific force in phone axes (face-up at rest: az = +9.81); rad/s; the three gyro cells empty when there is no gyroscope |
//! | `gps.csv` | `t_s,lat,lon,speed_mps,bearing_deg,accuracy_m` | WGS84 degrees; speed, bearing (clockwise from north) and accuracy may be empty; a file with only its header means no GPS |
//! | `truth.csv` (optional) | `kind,direction,start_s,end_s` | harsh events; `kind` is a stable event name, `direction` is `left`, `right` or empty |
//! | `truth_orientation.csv` (optional) | `t_s,roll_deg,pitch_deg,yaw_deg,mounted` | true phone-to-vehicle rotation as Z-Y-X Euler angles, `R = Rz(yaw) Ry(pitch) Rx(roll)`, `v = R p`; `mounted` is 0 while the phone is being handled |
//! | `manoeuvres.csv` (optional) | `kind,direction,start_s,end_s,peak_mps2,harsh` | every manoeuvre the simulator drove, harsh or not |
//! | `meta.csv` (optional) | `scenario,seed,vehicle` | where a simulated trip came from; `vehicle` is `car` or `motorcycle` |
//!
//! Rows are written in the order they were recorded, which need not be
//! time order (phones deliver out-of-order samples); readers keep that order.
//! Every error names the file and the line.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use safelane_core::{Direction, EventKind, GpsFix, ImuSample};

/// Header of `imu.csv`.
pub const IMU_HEADER: &str = "t_s,ax,ay,az,gx,gy,gz";
/// Header of `gps.csv`.
pub const GPS_HEADER: &str = "t_s,lat,lon,speed_mps,bearing_deg,accuracy_m";
/// Header of `truth.csv`.
pub const TRUTH_HEADER: &str = "kind,direction,start_s,end_s";
/// Header of `truth_orientation.csv`.
pub const TRUTH_ORIENTATION_HEADER: &str = "t_s,roll_deg,pitch_deg,yaw_deg,mounted";
/// Header of `manoeuvres.csv`.
pub const MANOEUVRES_HEADER: &str = "kind,direction,start_s,end_s,peak_mps2,harsh";
/// Header of `meta.csv`.
pub const META_HEADER: &str = "scenario,seed,vehicle";

/// Decimal places kept of IMU and GPS times (microseconds).
const TIME_PREC: usize = 6;
/// Decimal places kept of latitudes and longitudes (1e-7 deg, about 1 cm).
const DEGREE_PREC: usize = 7;
/// Decimal places kept of event and truth-track times (milliseconds).
const EVENT_PREC: usize = 3;

/// Where a simulated trip came from (`meta.csv`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TripMeta {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// `car` or `motorcycle`.
    pub vehicle: String,
}

/// Why a trip could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TripError {
    /// A required file does not exist.
    #[error("{path}: file missing")]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The header line is not the expected one.
    #[error("{path}:1: wrong header: expected `{expected}`, found `{found}`")]
    Header {
        /// The file.
        path: PathBuf,
        /// What it must be.
        expected: &'static str,
        /// What it is.
        found: String,
    },
    /// A row could not be parsed.
    #[error("{path}:{line}: {message}")]
    Row {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// A harsh event in `truth.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TruthEvent {
    /// Event kind.
    pub kind: EventKind,
    /// Side, for lateral kinds.
    pub direction: Option<Direction>,
    /// Start, s.
    pub start_s: f64,
    /// End, s.
    pub end_s: f64,
}

/// A manoeuvre in `manoeuvres.csv`, harsh or not.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Manoeuvre {
    /// Kind (the harsh kind it would be if it were harsh).
    pub kind: EventKind,
    /// Side, for lateral kinds.
    pub direction: Option<Direction>,
    /// Start, s.
    pub start_s: f64,
    /// End, s.
    pub end_s: f64,
    /// Peak acceleration magnitude in the vehicle frame, m/s^2.
    pub peak_mps2: f32,
    /// Whether it is beyond the harsh threshold (and so in `truth.csv`).
    pub harsh: bool,
}

/// The true orientation at one instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TruthOrientation {
    /// Time, s.
    pub t_s: f64,
    /// Z-Y-X Euler angles of the phone-to-vehicle rotation, degrees.
    pub roll_deg: f32,
    /// See `roll_deg`.
    pub pitch_deg: f32,
    /// See `roll_deg`.
    pub yaw_deg: f32,
    /// False while the phone is being handled (dropped, picked up, re-mounted).
    pub mounted: bool,
}

/// A whole trip in memory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trip {
    /// IMU samples in file order.
    pub imu: Vec<ImuSample>,
    /// GPS fixes in file order; empty when the trip has no GPS.
    pub gps: Vec<GpsFix>,
    /// Harsh events, when known.
    pub truth: Option<Vec<TruthEvent>>,
    /// True orientation track, when known.
    pub truth_orientation: Option<Vec<TruthOrientation>>,
    /// Every manoeuvre, when known.
    pub manoeuvres: Option<Vec<Manoeuvre>>,
    /// Provenance, when known.
    pub meta: Option<TripMeta>,
}

/// One input event in time order, as a phone delivers them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Input {
    /// An IMU sample.
    Imu(ImuSample),
    /// A GPS fix.
    Gps(GpsFix),
}

impl Trip {
    /// IMU samples and GPS fixes merged by timestamp (stable: file order is
    /// kept among equal or out-of-order timestamps within each stream).
    pub fn inputs(&self) -> Vec<Input> {
        let mut out = Vec::with_capacity(self.imu.len() + self.gps.len());
        let mut gi = 0;
        for s in &self.imu {
            while gi < self.gps.len() && self.gps[gi].t_s <= s.t_s {
                out.push(Input::Gps(self.gps[gi]));
                gi += 1;
            }
            out.push(Input::Imu(*s));
        }
        out.extend(self.gps[gi..].iter().copied().map(Input::Gps));
        out
    }

    /// Duration from the first to the last IMU sample (GPS fix for a
    /// GPS-only trip), s.
    pub fn duration_s(&self) -> f64 {
        match (
            self.imu.first(),
            self.imu.last(),
            self.gps.first(),
            self.gps.last(),
        ) {
            (Some(a), Some(b), _, _) => (b.t_s - a.t_s).max(0.0),
            // A GPS-only trip.
            (None, None, Some(a), Some(b)) => (b.t_s - a.t_s).max(0.0),
            _ => 0.0,
        }
    }
}

struct Rows<'a> {
    path: PathBuf,
    reader: csv::Reader<Box<dyn Read + 'a>>,
}

/// Where a trip's files come from: the directory, or memory.
type Open<'a> = dyn Fn(&str) -> Result<Option<Box<dyn Read + 'a>>, std::io::Error> + 'a;

impl<'a> Rows<'a> {
    fn open(
        dir: &Path,
        files: &Open<'a>,
        name: &str,
        header: &'static str,
    ) -> Result<Option<Self>, TripError> {
        let path = dir.join(name);
        let file = match files(name) {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(None),
            Err(source) => return Err(TripError::Io { path, source }),
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(file);
        let found = match reader.headers() {
            Ok(h) => h.iter().collect::<Vec<_>>().join(","),
            Err(e) => {
                return Err(TripError::Row {
                    path,
                    line: 1,
                    message: e.to_string(),
                });
            }
        };
        if found.trim_start_matches('\u{feff}') != header {
            return Err(TripError::Header {
                path,
                expected: header,
                found,
            });
        }
        Ok(Some(Self { path, reader }))
    }

    fn required(
        dir: &Path,
        files: &Open<'a>,
        name: &str,
        header: &'static str,
    ) -> Result<Self, TripError> {
        Self::open(dir, files, name, header)?.ok_or_else(|| TripError::Missing {
            path: dir.join(name),
        })
    }

    /// Calls `f` on each row with a cell accessor; errors name file and line.
    fn each(
        mut self,
        columns: usize,
        mut f: impl FnMut(&Cells<'_>) -> Result<(), String>,
    ) -> Result<(), TripError> {
        let mut record = csv::StringRecord::new();
        loop {
            let line = record.position().map_or(2, |p| p.line() + 1);
            match self.reader.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => {}
                Err(e) => {
                    return Err(TripError::Row {
                        path: self.path,
                        line: e.position().map_or(line, |p| p.line()),
                        message: e.to_string(),
                    });
                }
            }
            let line = record.position().map_or(line, |p| p.line());
            let err = |message: String| TripError::Row {
                path: self.path.clone(),
                line,
                message,
            };
            if record.len() != columns {
                return Err(err(format!(
                    "expected {columns} columns, found {}",
                    record.len()
                )));
            }
            f(&Cells(&record)).map_err(err)?;
        }
    }
}

struct Cells<'a>(&'a csv::StringRecord);

impl Cells<'_> {
    fn text(&self, i: usize) -> &str {
        self.0.get(i).unwrap_or("").trim()
    }

    fn opt_f64(&self, i: usize, name: &str) -> Result<Option<f64>, String> {
        let t = self.text(i);
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<f64>()
            .map(Some)
            .map_err(|_| format!("column {name}: `{t}` is not a number"))
    }

    fn f64(&self, i: usize, name: &str) -> Result<f64, String> {
        self.opt_f64(i, name)?
            .ok_or_else(|| format!("column {name}: empty"))
    }

    /// A number the format keeps to `decimals` places (times, positions):
    /// read to that resolution, so a trip written back holds what was read
    /// (`6.6666666` in `truth.csv` is read as 6.667 s).
    fn f64_to(&self, i: usize, name: &str, decimals: usize) -> Result<f64, String> {
        Ok(to_resolution(self.f64(i, name)?, decimals))
    }

    fn opt_f32(&self, i: usize, name: &str) -> Result<Option<f32>, String> {
        Ok(self.opt_f64(i, name)?.map(|v| v as f32))
    }

    fn f32(&self, i: usize, name: &str) -> Result<f32, String> {
        Ok(self.f64(i, name)? as f32)
    }
}

/// `x` rounded to `decimals` places: the double nearest to the decimal
/// that `format!("{x:.decimals$}")` prints, so that printing and parsing it
/// again gives it back. Beyond 2^52 units of the last place the double is
/// coarser than the resolution and printed exactly; it is left as it is.
fn to_resolution(x: f64, decimals: usize) -> f64 {
    let scale = 10f64.powi(decimals as i32);
    let units = x * scale;
    if units.abs() < 4.5e15 {
        units.round() / scale
    } else {
        x
    }
}

fn parse_kind_direction(c: &Cells<'_>) -> Result<(EventKind, Option<Direction>), String> {
    let k = c.text(0);
    let kind = EventKind::parse(k).ok_or_else(|| format!("column kind: unknown kind `{k}`"))?;
    let d = c.text(1);
    let direction = if d.is_empty() {
        None
    } else {
        Some(
            Direction::parse(d)
                .ok_or_else(|| format!("column direction: `{d}` is not left, right or empty"))?,
        )
    };
    Ok((kind, direction))
}

/// Reads a trip directory.
pub fn read_trip(dir: &Path) -> Result<Trip, TripError> {
    let open = |name: &str| -> Result<Option<Box<dyn Read>>, std::io::Error> {
        match File::open(dir.join(name)) {
            Ok(f) => Ok(Some(Box::new(f))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    };
    read_with(dir, &open)
}

/// Reads a trip from files held in memory (`(file name, content)`, e.g. an
/// uploaded archive's entries), with the same rules and errors as
/// [`read_trip`]; errors name `dir` joined with the file.
pub fn parse_trip(dir: &Path, files: &[(&str, &[u8])]) -> Result<Trip, TripError> {
    let open = |name: &str| -> Result<Option<Box<dyn Read + '_>>, std::io::Error> {
        Ok(files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, bytes)| Box::new(*bytes) as Box<dyn Read>))
    };
    read_with(dir, &open)
}

fn read_with<'a>(dir: &Path, files: &Open<'a>) -> Result<Trip, TripError> {
    let mut trip = Trip::default();
    Rows::required(dir, files, "imu.csv", IMU_HEADER)?.each(7, |c| {
        let gyro = [
            c.opt_f32(4, "gx")?,
            c.opt_f32(5, "gy")?,
            c.opt_f32(6, "gz")?,
        ];
        let gyro_rps = match gyro {
            [Some(x), Some(y), Some(z)] => Some([x, y, z]),
            [None, None, None] => None,
            _ => return Err("gyro cells must be all empty or all filled".into()),
        };
        trip.imu.push(ImuSample {
            t_s: c.f64_to(0, "t_s", TIME_PREC)?,
            accel_mps2: [c.f32(1, "ax")?, c.f32(2, "ay")?, c.f32(3, "az")?],
            gyro_rps,
        });
        Ok(())
    })?;
    Rows::required(dir, files, "gps.csv", GPS_HEADER)?.each(6, |c| {
        trip.gps.push(GpsFix {
            t_s: c.f64_to(0, "t_s", TIME_PREC)?,
            lat_deg: c.f64_to(1, "lat", DEGREE_PREC)?,
            lon_deg: c.f64_to(2, "lon", DEGREE_PREC)?,
            speed_mps: c.opt_f32(3, "speed_mps")?,
            bearing_deg: c.opt_f32(4, "bearing_deg")?,
            accuracy_m: c.opt_f32(5, "accuracy_m")?,
        });
        Ok(())
    })?;
    if let Some(rows) = Rows::open(dir, files, "truth.csv", TRUTH_HEADER)? {
        let mut v = Vec::new();
        rows.each(4, |c| {
            let (kind, direction) = parse_kind_direction(c)?;
            v.push(TruthEvent {
                kind,
                direction,
                start_s: c.f64_to(2, "start_s", EVENT_PREC)?,
                end_s: c.f64_to(3, "end_s", EVENT_PREC)?,
            });
            Ok(())
        })?;
        trip.truth = Some(v);
    }
    if let Some(rows) = Rows::open(
        dir,
        files,
        "truth_orientation.csv",
        TRUTH_ORIENTATION_HEADER,
    )? {
        let mut v = Vec::new();
        rows.each(5, |c| {
            let mounted = match c.text(4) {
                "1" => true,
                "0" => false,
                other => return Err(format!("column mounted: `{other}` is not 0 or 1")),
            };
            v.push(TruthOrientation {
                t_s: c.f64_to(0, "t_s", EVENT_PREC)?,
                roll_deg: c.f32(1, "roll_deg")?,
                pitch_deg: c.f32(2, "pitch_deg")?,
                yaw_deg: c.f32(3, "yaw_deg")?,
                mounted,
            });
            Ok(())
        })?;
        trip.truth_orientation = Some(v);
    }
    if let Some(rows) = Rows::open(dir, files, "manoeuvres.csv", MANOEUVRES_HEADER)? {
        let mut v = Vec::new();
        rows.each(6, |c| {
            let (kind, direction) = parse_kind_direction(c)?;
            let harsh = match c.text(5) {
                "1" => true,
                "0" => false,
                other => return Err(format!("column harsh: `{other}` is not 0 or 1")),
            };
            v.push(Manoeuvre {
                kind,
                direction,
                start_s: c.f64_to(2, "start_s", EVENT_PREC)?,
                end_s: c.f64_to(3, "end_s", EVENT_PREC)?,
                peak_mps2: c.f32(4, "peak_mps2")?,
                harsh,
            });
            Ok(())
        })?;
        trip.manoeuvres = Some(v);
    }
    if let Some(rows) = Rows::open(dir, files, "meta.csv", META_HEADER)? {
        let mut meta = None;
        rows.each(3, |c| {
            let seed = c.text(1);
            let vehicle = c.text(2);
            if vehicle != "car" && vehicle != "motorcycle" {
                return Err(format!(
                    "column vehicle: `{vehicle}` is not car or motorcycle"
                ));
            }
            meta = Some(TripMeta {
                scenario: c.text(0).to_string(),
                seed: seed
                    .parse()
                    .map_err(|_| format!("column seed: `{seed}` is not a whole number"))?,
                vehicle: vehicle.to_string(),
            });
            Ok(())
        })?;
        trip.meta = meta;
    }
    Ok(trip)
}

fn create(dir: &Path, name: &str) -> Result<(PathBuf, BufWriter<File>), TripError> {
    let path = dir.join(name);
    match File::create(&path) {
        Ok(f) => Ok((path, BufWriter::new(f))),
        Err(source) => Err(TripError::Io { path, source }),
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn dir_str(d: Option<Direction>) -> &'static str {
    d.map_or("", Direction::as_str)
}

fn write_file(
    dir: &Path,
    name: &str,
    header: &str,
    rows: impl Iterator<Item = String>,
) -> Result<(), TripError> {
    let (path, mut w) = create(dir, name)?;
    let io = |source| TripError::Io {
        path: path.clone(),
        source,
    };
    writeln!(w, "{header}").map_err(io)?;
    for r in rows {
        writeln!(w, "{r}").map_err(io)?;
    }
    w.flush().map_err(io)
}

/// Writes a trip directory (created if needed). Times and positions are
/// written to the format's resolution (microseconds for IMU and GPS times,
/// milliseconds for events and the truth track, 1e-7 degrees, about 1 cm,
/// for positions), which is what the reader keeps of them; every other
/// number with the fewest digits that read back to the same value. A trip
/// read and written back is the same trip.
pub fn write_trip(dir: &Path, trip: &Trip) -> Result<(), TripError> {
    std::fs::create_dir_all(dir).map_err(|source| TripError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    write_file(
        dir,
        "imu.csv",
        IMU_HEADER,
        trip.imu.iter().map(|s| {
            let [ax, ay, az] = s.accel_mps2;
            match s.gyro_rps {
                Some([gx, gy, gz]) => {
                    format!("{:.TIME_PREC$},{ax},{ay},{az},{gx},{gy},{gz}", s.t_s)
                }
                None => format!("{:.TIME_PREC$},{ax},{ay},{az},,,", s.t_s),
            }
        }),
    )?;
    write_file(
        dir,
        "gps.csv",
        GPS_HEADER,
        trip.gps.iter().map(|f| {
            format!(
                "{:.TIME_PREC$},{:.DEGREE_PREC$},{:.DEGREE_PREC$},{},{},{}",
                f.t_s,
                f.lat_deg,
                f.lon_deg,
                opt(f.speed_mps),
                opt(f.bearing_deg),
                opt(f.accuracy_m)
            )
        }),
    )?;
    if let Some(truth) = &trip.truth {
        write_file(
            dir,
            "truth.csv",
            TRUTH_HEADER,
            truth.iter().map(|e| {
                format!(
                    "{},{},{:.EVENT_PREC$},{:.EVENT_PREC$}",
                    e.kind,
                    dir_str(e.direction),
                    e.start_s,
                    e.end_s
                )
            }),
        )?;
    }
    if let Some(track) = &trip.truth_orientation {
        write_file(
            dir,
            "truth_orientation.csv",
            TRUTH_ORIENTATION_HEADER,
            track.iter().map(|o| {
                format!(
                    "{:.EVENT_PREC$},{},{},{},{}",
                    o.t_s,
                    o.roll_deg,
                    o.pitch_deg,
                    o.yaw_deg,
                    u8::from(o.mounted)
                )
            }),
        )?;
    }
    if let Some(m) = &trip.manoeuvres {
        write_file(
            dir,
            "manoeuvres.csv",
            MANOEUVRES_HEADER,
            m.iter().map(|e| {
                format!(
                    "{},{},{:.EVENT_PREC$},{:.EVENT_PREC$},{},{}",
                    e.kind,
                    dir_str(e.direction),
                    e.start_s,
                    e.end_s,
                    e.peak_mps2,
                    u8::from(e.harsh)
                )
            }),
        )?;
    }
    if let Some(m) = &trip.meta {
        write_file(
            dir,
            "meta.csv",
            META_HEADER,
            std::iter::once(format!("{},{},{}", m.scenario, m.seed, m.vehicle)),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn sample_trip() -> Trip {
        Trip {
            imu: vec![
                ImuSample {
                    t_s: 0.01,
                    accel_mps2: [0.1, -0.2, 9.81],
                    gyro_rps: Some([0.001, 0.0, -0.002]),
                },
                ImuSample {
                    t_s: 0.02,
                    accel_mps2: [0.1, -0.2, 9.8],
                    gyro_rps: None,
                },
            ],
            gps: vec![GpsFix {
                t_s: 1.0,
                lat_deg: 60.1699,
                lon_deg: 24.9384,
                speed_mps: Some(12.5),
                bearing_deg: None,
                accuracy_m: Some(4.0),
            }],
            truth: Some(vec![TruthEvent {
                kind: EventKind::HarshCornering,
                direction: Some(Direction::Left),
                start_s: 3.0,
                end_s: 5.5,
            }]),
            truth_orientation: Some(vec![TruthOrientation {
                t_s: 0.0,
                roll_deg: 10.0,
                pitch_deg: -20.0,
                yaw_deg: 90.0,
                mounted: true,
            }]),
            manoeuvres: Some(vec![Manoeuvre {
                kind: EventKind::HarshBraking,
                direction: None,
                start_s: 1.0,
                end_s: 2.0,
                peak_mps2: 1.5,
                harsh: false,
            }]),
            meta: Some(TripMeta {
                scenario: "city-dash".into(),
                seed: 7,
                vehicle: "car".into(),
            }),
        }
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let trip = sample_trip();
        write_trip(dir.path(), &trip).unwrap();
        let back = read_trip(dir.path()).unwrap();
        assert_eq!(back, trip);
    }

    #[test]
    #[allow(clippy::float_cmp)] // exactly the double the writer's digits read as
    fn numbers_finer_than_the_format_are_read_to_its_resolution_and_written_back_alike() {
        // Found by the fuzzer: a truth event ending at 6.6666666 s was written
        // as 6.667 and read back as another trip.
        let files: [(&str, &[u8]); 4] = [
            (
                "imu.csv",
                b"t_s,ax,ay,az,gx,gy,gz\n0.12345678,0.1,0.2,9.8123456789,,,\n",
            ),
            (
                "gps.csv",
                b"t_s,lat,lon,speed_mps,bearing_deg,accuracy_m\n1.0000004,60.123456789,24.98765432,3.5,,\n",
            ),
            (
                "truth.csv",
                b"kind,direction,start_s,end_s\nharsh_acceleration,,4,6.6666666\n",
            ),
            (
                "truth_orientation.csv",
                b"t_s,roll_deg,pitch_deg,yaw_deg,mounted\n0.33333,12.3456789,-0.000012,1234.56789,1\n",
            ),
        ];
        let trip = parse_trip(Path::new("upload"), &files).unwrap();
        assert_eq!(trip.imu[0].t_s, 0.123457);
        assert_eq!(trip.gps[0].t_s, 1.0);
        assert_eq!(trip.gps[0].lat_deg, 60.1234568);
        assert_eq!(trip.truth.as_ref().unwrap()[0].end_s, 6.667);
        let track = trip.truth_orientation.as_ref().unwrap();
        assert_eq!(track[0].t_s, 0.333);
        // Angles and forces keep every digit an f32 holds.
        assert_eq!(track[0].roll_deg, 12.345_678_9_f64 as f32);
        assert_eq!(trip.imu[0].accel_mps2[2], 9.812_345_678_9_f64 as f32);
        let dir = tempfile::tempdir().unwrap();
        write_trip(dir.path(), &trip).unwrap();
        assert_eq!(read_trip(dir.path()).unwrap(), trip);
    }

    #[test]
    fn files_in_memory_read_as_the_directory_does() {
        let dir = tempfile::tempdir().unwrap();
        let trip = sample_trip();
        write_trip(dir.path(), &trip).unwrap();
        let mut files = vec![];
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let e = e.unwrap();
            files.push((
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            ));
        }
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
        assert_eq!(parse_trip(Path::new("upload"), &refs).unwrap(), trip);
        let only_imu: Vec<_> = refs.into_iter().filter(|(n, _)| *n == "imu.csv").collect();
        let e = parse_trip(Path::new("upload"), &only_imu)
            .unwrap_err()
            .to_string();
        assert!(e.contains("upload/gps.csv"), "{e}");
    }

    #[test]
    fn header_only_gps_means_no_gps() {
        let dir = tempfile::tempdir().unwrap();
        let mut trip = sample_trip();
        trip.gps.clear();
        write_trip(dir.path(), &trip).unwrap();
        assert!(read_trip(dir.path()).unwrap().gps.is_empty());
    }

    #[test]
    fn errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        write_trip(dir.path(), &sample_trip()).unwrap();
        let imu = dir.path().join("imu.csv");
        std::fs::write(
            &imu,
            "t_s,ax,ay,az,gx,gy,gz\n0.1,0,0,9.8,,,\n0.2,0,x,9.8,,,\n",
        )
        .unwrap();
        let e = read_trip(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("imu.csv:3") && e.contains("ay") && e.contains("`x`"),
            "{e}"
        );

        std::fs::write(&imu, "t_s,ax,ay,az,gx,gy,gz\n0.1,0,0,9.8,1,,\n").unwrap();
        let e = read_trip(dir.path()).unwrap_err().to_string();
        assert!(e.contains("imu.csv:2") && e.contains("gyro"), "{e}");

        std::fs::write(&imu, "t_s,ax,ay,az,gx,gy,gz\n0.1,0,0\n").unwrap();
        let e = read_trip(dir.path()).unwrap_err().to_string();
        assert!(e.contains("imu.csv:2") && e.contains("columns"), "{e}");

        std::fs::write(&imu, "time,ax,ay,az\n").unwrap();
        let e = read_trip(dir.path()).unwrap_err().to_string();
        assert!(e.contains("imu.csv:1") && e.contains("wrong header"), "{e}");

        std::fs::remove_file(&imu).unwrap();
        let e = read_trip(dir.path()).unwrap_err().to_string();
        assert!(e.contains("imu.csv") && e.contains("missing"), "{e}");

        write_trip(dir.path(), &sample_trip()).unwrap();
        std::fs::write(
            dir.path().join("truth.csv"),
            "kind,direction,start_s,end_s\nharsh_cornering,up,1,2\n",
        )
        .unwrap();
        let e = read_trip(dir.path()).unwrap_err().to_string();
        assert!(e.contains("truth.csv:2") && e.contains("direction"), "{e}");
    }

    #[test]
    fn inputs_are_merged_by_time() {
        let trip = sample_trip();
        let inputs = trip.inputs();
        assert_eq!(inputs.len(), 3);
        assert!(matches!(inputs[2], Input::Gps(_)));
    }
}
