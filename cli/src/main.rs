//! The `safelane` command.

/// `println!` that returns the write error instead of panicking, so that
/// `safelane ... | head` ends quietly.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod analyze;
mod backtest;
mod client;
mod cloudpose;
mod demo;
mod evaluate;
mod faults;
mod load;
mod map;
mod overrides;
mod phone;
mod serve;
mod soak;
mod speeding;
mod traffic;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use safelane_core::{PipelineConfig, VehicleProfile};

#[derive(Parser, Debug)]
#[command(
    name = "safelane",
    version,
    about = "Driving-safety telematics from a phone's motion sensors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Vehicle {
    Car,
    Motorcycle,
}

impl From<Vehicle> for VehicleProfile {
    fn from(v: Vehicle) -> Self {
        match v {
            Vehicle::Car => VehicleProfile::Car,
            Vehicle::Motorcycle => VehicleProfile::Motorcycle,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Simulate a trip with ground truth and write it as a trip directory.
    Simulate {
        /// Scenario name (see --list).
        #[arg(long, required_unless_present = "list")]
        scenario: Option<String>,
        /// Random seed: the same scenario and seed give the same trip.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory (created).
        #[arg(long, required_unless_present = "list")]
        out: Option<PathBuf>,
        /// Override the scenario's duration, seconds.
        #[arg(long)]
        duration_s: Option<f64>,
        /// List the scenarios and exit.
        #[arg(long)]
        list: bool,
    },
    /// Run a recorded trip through the phone pipeline and summarise it.
    Analyze {
        /// Trip directory (imu.csv, gps.csv).
        trip_dir: PathBuf,
        /// Vehicle profile for the default thresholds.
        #[arg(long, value_enum, default_value_t = Vehicle::Car)]
        vehicle: Vehicle,
        /// Machine-readable output: one JSON object per line.
        #[arg(long)]
        json: bool,
        /// Also print the orientation track (once per second).
        #[arg(long)]
        orientation: bool,
        /// Road map for speeding: GeoJSON LineStrings with `highway` and
        /// `maxspeed`, or a tile folder from `safelane map build`.
        #[arg(long)]
        map: Option<PathBuf>,
        /// Hour of week of the trip (0 = Monday 00:00-01:00 local time), for
        /// crowd thresholds where no legal limit is known.
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..168), requires = "map")]
        hour_of_week: Option<u8>,
        /// Push the trip as the SDK does (IMU in batches of 100, then the GPS
        /// fixes timed within them) instead of interleaved in time.
        #[arg(long)]
        batched: bool,
    },
    /// Measure orientation accuracy on the simulator suite (generated in memory).
    Evaluate {
        /// Seeds per scenario.
        #[arg(long, default_value_t = 3)]
        seeds: u64,
        /// Only these scenarios (repeatable); default: all.
        #[arg(long)]
        scenario: Vec<String>,
        /// Print one JSON object per scenario instead of a table.
        #[arg(long)]
        json: bool,
        /// Orientation settings overriding the profile defaults: a JSON
        /// object with any of the OrientationConfig fields, e.g.
        /// {"heading_tau_s": 60}
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Replay many trips and score the detected events against truth.csv
    /// (precision, recall, F1 per kind; latency; suppressions).
    Backtest {
        /// Folder of trip directories (as written by `safelane suite`).
        #[arg(required_unless_present = "suite")]
        trips_dir: Option<PathBuf>,
        /// Detection settings overriding the profile defaults: a JSON object
        /// with any of the DetectionConfig fields, e.g. {"braking_mps2": 3.2}.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Simulate the fixed suite in memory instead of reading trips.
        #[arg(long, conflicts_with = "trips_dir")]
        suite: bool,
        /// Hours of driving in the simulated suite.
        #[arg(long, default_value_t = 20.0)]
        hours: f64,
        /// Vehicle profile for trips without meta.csv.
        #[arg(long, value_enum, default_value_t = Vehicle::Car)]
        vehicle: Vehicle,
        /// One JSON object per group instead of tables.
        #[arg(long)]
        json: bool,
        /// Also list every missed event and false alarm (trip, kind, times).
        #[arg(long)]
        details: bool,
        /// Push samples as the SDK does (IMU in batches of 100, then the GPS
        /// fixes timed within them, each up to a batch late) instead of
        /// interleaved in time.
        #[arg(long)]
        batched: bool,
    },
    /// Write the fixed simulator suite (every scenario, seeds 1..n) as trip directories.
    Suite {
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// At least this many hours of driving.
        #[arg(long, default_value_t = 20.0)]
        hours: f64,
    },
    /// Speeding against map thresholds on simulated drives with ground truth:
    /// precision, recall, F1, and what must never be flagged.
    Speeding {
        /// Drives (seeds 1..n) over the simulated map.
        #[arg(long, default_value_t = 40)]
        trips: u64,
        /// Seed of the simulated map.
        #[arg(long, default_value_t = 1)]
        world: u64,
        /// One JSON object instead of the report.
        #[arg(long)]
        json: bool,
        /// Also list every missed violation and false alarm.
        #[arg(long)]
        details: bool,
        /// Also write the map (tiles, GeoJSON) and the drives (trip
        /// directories, GPS only) into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Bytes the SDK sends per hour of driving (the simulator suite through the
    /// SDK, synced to a counting loopback endpoint).
    SdkTraffic {
        /// Hours of the suite.
        #[arg(long, default_value_t = 5.0)]
        hours: f64,
        /// Only this scenario.
        #[arg(long)]
        scenario: Option<String>,
    },
    /// Run the server the SDK syncs to and fleet managers read (SQLite by
    /// default, PostgreSQL with a postgres:// URL).
    Serve(serve::Args),
    /// A small fleet's week end to end: simulated trips through the SDK,
    /// synced to a server on SQLite, weekly reports (web pages, JSON) written
    /// to a folder.
    Demo {
        /// Output folder (replaced).
        #[arg(long, default_value = "out/demo")]
        out: PathBuf,
        /// Drivers in the fleet (one in five rides a motorcycle).
        #[arg(long, default_value_t = 20)]
        drivers: usize,
        /// Days of the week driven, from Monday.
        #[arg(long, default_value_t = 7)]
        days: i64,
    },
    /// Load-test the server from this separate process (a child `safelane
    /// serve` on loopback) and measure the raw insert rate of the same engine.
    Load(load::Args),
    /// Sync under faults with real processes: a lossy proxy, the server and
    /// the phones killed (SIGKILL) and restarted; checks that nothing is lost
    /// or stored twice and that the reports equal a fault-free run's.
    Faults(faults::Args),
    /// Sync one phone's outbox database to a server until it is empty, as the
    /// app does (the phone process `safelane faults` kills and restarts).
    SyncOutbox(faults::SyncArgs),
    /// Speed-threshold map tiles: build them from map data, add crowd profiles.
    Map {
        #[command(subcommand)]
        command: MapCommand,
    },
    /// Compare the vehicle-frame acceleration with the CAN bus of the real
    /// cloudpose drive (evaluation data, not shipped).
    Cloudpose {
        /// Folder with dataset1_phone.csv and dataset1_car.csv.
        #[arg(long, default_value = "../shared/data/cloudpose")]
        data: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum MapCommand {
    /// Build threshold tiles from an OpenStreetMap extract or GeoJSON roads.
    Build {
        /// OpenStreetMap PBF extract.
        #[arg(long, required_unless_present = "geojson", conflicts_with = "geojson")]
        osm: Option<PathBuf>,
        /// GeoJSON LineStrings with `highway` and `maxspeed` properties.
        #[arg(long)]
        geojson: Option<PathBuf>,
        /// Output folder for the tiles (created).
        #[arg(long)]
        out: PathBuf,
        /// Geohash characters per tile (1-8).
        #[arg(long, default_value_t = 5)]
        precision: usize,
        /// One JSON object instead of the report.
        #[arg(long)]
        json: bool,
    },
    /// Crowd speed thresholds from many drivers' pings, written into tiles.
    Profile {
        /// Pings CSV: `driver_id,t_unix_s,lat,lon,speed_mps,accuracy_m`, optionally `,bearing_deg`.
        #[arg(long)]
        pings: PathBuf,
        /// Tile folder from `safelane map build`.
        #[arg(long)]
        map: PathBuf,
        /// Output tile folder (created).
        #[arg(long)]
        out: PathBuf,
        /// Threshold percentile of the free-flowing speeds.
        #[arg(long, default_value_t = 0.85)]
        percentile: f64,
        /// Fewest distinct drivers for a published segment-hour.
        #[arg(long, default_value_t = 10)]
        min_drivers: u32,
        /// Local time = UTC + this many hours (for the hour of week).
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
        utc_offset_h: f64,
        /// Pings held in memory before a sorted run is spilled to disk.
        #[arg(long, default_value_t = 1_000_000)]
        chunk_records: usize,
        /// One JSON object instead of the report.
        #[arg(long)]
        json: bool,
    },
    /// Measure crowd thresholds against simulated truth (errors, driver minimum).
    CrowdEval {
        /// Drivers.
        #[arg(long, default_value_t = 20)]
        drivers: usize,
        /// Weeks of driving.
        #[arg(long, default_value_t = 4)]
        weeks: u32,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Fewest distinct drivers for a published segment-hour.
        #[arg(long, default_value_t = 10)]
        min_drivers: u32,
        /// One JSON object per variant.
        #[arg(long)]
        json: bool,
        /// Also write the simulated map (DIR/map) and pings (DIR/pings.csv),
        /// the inputs of `safelane map profile`.
        #[arg(long)]
        write: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate {
            scenario,
            seed,
            out,
            duration_s,
            list,
        } => {
            if list {
                safelane_fixtures::scenario::all()
                    .iter()
                    .try_for_each(|s| say!("{:<16} {}", s.name, s.description))
                    .map_err(anyhow::Error::from)
            } else {
                simulate(
                    scenario.as_deref().unwrap_or_default(),
                    seed,
                    out.unwrap_or_default(),
                    duration_s,
                )
            }
        }
        Command::Analyze {
            trip_dir,
            vehicle,
            json,
            orientation,
            map,
            hour_of_week,
            batched,
        } => analyze::run(
            &trip_dir,
            PipelineConfig::for_vehicle(vehicle.into()),
            json,
            orientation,
            map.as_deref()
                .map(|path| analyze::MapArg { path, hour_of_week }),
            batched,
        ),
        Command::Evaluate {
            seeds,
            scenario,
            json,
            config,
        } => evaluate::run(seeds, &scenario, json, config.as_deref()),
        Command::Cloudpose { data } => cloudpose::run(&data),
        Command::Speeding {
            trips,
            world,
            json,
            details,
            out,
        } => speeding::run(trips, world, json, details, out.as_deref()),
        Command::Serve(a) => serve::run(a),
        Command::Demo { out, drivers, days } => demo::run(&out, drivers, days),
        Command::Load(a) => load::run(a),
        Command::Faults(a) => faults::run(&a),
        Command::SyncOutbox(a) => faults::sync_outbox(&a),
        Command::SdkTraffic { hours, scenario } => traffic::run(hours, scenario.as_deref()),
        Command::Map { command } => match command {
            MapCommand::Build {
                osm,
                geojson,
                out,
                precision,
                json,
            } => {
                let opts = safelane_map::tiles::BuildOptions {
                    precision,
                    ..Default::default()
                };
                match (&osm, &geojson) {
                    (Some(p), _) => map::build(map::MapSource::Osm(p), &out, opts, json),
                    (None, Some(p)) => map::build(map::MapSource::GeoJson(p), &out, opts, json),
                    (None, None) => Err(anyhow::anyhow!("give --osm FILE or --geojson FILE")),
                }
            }
            MapCommand::Profile {
                pings,
                map: map_dir,
                out,
                percentile,
                min_drivers,
                utc_offset_h,
                chunk_records,
                json,
            } => {
                let opts = safelane_map::profile::ProfileOptions {
                    percentile,
                    min_drivers,
                    utc_offset_h,
                    chunk_records,
                    ..Default::default()
                };
                map::profile(&pings, &map_dir, &out, opts, json)
            }
            MapCommand::CrowdEval {
                drivers,
                weeks,
                seed,
                min_drivers,
                json,
                write,
            } => map::crowd_eval(drivers, weeks, seed, min_drivers, json, write.as_deref()),
        },
        Command::Backtest {
            trips_dir,
            config,
            suite,
            hours,
            vehicle,
            json,
            details,
            batched,
        } => {
            if !(hours.is_finite() && (0.01..=1000.0).contains(&hours)) {
                Err(anyhow::anyhow!("--hours must be in [0.01, 1000]"))
            } else {
                let source = match (suite, trips_dir) {
                    (true, _) | (false, None) => backtest::Source::Suite { hours },
                    (false, Some(d)) => backtest::Source::Dir(d),
                };
                backtest::run(
                    source,
                    config.as_deref(),
                    vehicle.into(),
                    json,
                    details,
                    batched,
                )
            }
        }
        Command::Suite { out, hours } => {
            if !(hours.is_finite() && (0.01..=1000.0).contains(&hours)) {
                Err(anyhow::anyhow!("--hours must be in [0.01, 1000]"))
            } else {
                backtest::suite(&out, hours)
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn simulate(name: &str, seed: u64, out: PathBuf, duration_s: Option<f64>) -> anyhow::Result<()> {
    let mut s = safelane_fixtures::scenario::by_name(name).ok_or_else(|| {
        let names: Vec<_> = safelane_fixtures::scenario::all()
            .iter()
            .map(|s| s.name)
            .collect();
        anyhow::anyhow!("unknown scenario `{name}`; known: {}", names.join(", "))
    })?;
    if let Some(d) = duration_s {
        anyhow::ensure!(
            d.is_finite() && (10.0..=86_400.0).contains(&d),
            "--duration-s must be in [10, 86400]"
        );
        s.duration_s = d;
    }
    let trip = safelane_fixtures::simulate(&s, seed);
    safelane_trip::write_trip(&out, &trip)?;
    let harsh = trip.truth.as_ref().map_or(0, Vec::len);
    say!(
        "wrote {}: scenario {} seed {seed}, {:.0} s, {} IMU samples, {} GPS fixes, {harsh} harsh events",
        out.display(),
        s.name,
        trip.duration_s(),
        trip.imu.len(),
        trip.gps.len()
    )?;
    Ok(())
}
