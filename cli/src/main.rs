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
mod cloudpose;
mod evaluate;

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
    },
    /// Compare the vehicle-frame acceleration with the CAN bus of the real
    /// cloudpose drive (evaluation data, not shipped).
    Cloudpose {
        /// Folder with dataset1_phone.csv and dataset1_car.csv.
        #[arg(long, default_value = "../shared/data/cloudpose")]
        data: PathBuf,
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
        } => analyze::run(
            &trip_dir,
            PipelineConfig::for_vehicle(vehicle.into()),
            json,
            orientation,
        ),
        Command::Evaluate {
            seeds,
            scenario,
            json,
        } => evaluate::run(seeds, &scenario, json),
        Command::Cloudpose { data } => cloudpose::run(&data),
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
