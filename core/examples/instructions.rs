//! Counts the work per IMU sample in a repeatable way: run under callgrind,
//! collecting only `run_trip`, and divide by the samples it reports.
//!
//! ```sh
//! cargo build --profile bench -p safelane-core --example instructions
//! valgrind --tool=callgrind --toggle-collect='*run_trip*' target/release/examples/instructions
//! callgrind_annotate callgrind.out.* | head   # total Ir / samples printed below
//! ```
#![allow(clippy::expect_used)] // a profiling harness with a broken set-up should stop loudly

use std::hint::black_box;

use safelane_core::{Pipeline, PipelineConfig};
use safelane_fixtures::eval::push_all;
use safelane_fixtures::{scenario, simulate};
use safelane_trip::Input;

#[inline(never)]
fn run_trip(inputs: &[Input]) -> f32 {
    let mut p = Pipeline::new(PipelineConfig::car()).expect("valid defaults");
    push_all(&mut p, inputs, |e| {
        black_box(e);
    })
}

fn main() {
    let mut s = scenario::by_name("city-dash").expect("scenario exists");
    s.duration_s = 600.0;
    let trip = simulate(&s, 1);
    let inputs = trip.inputs();
    let runs = 5;
    for _ in 0..runs {
        black_box(run_trip(black_box(&inputs)));
    }
    println!("samples: {}", runs * trip.imu.len());
}
