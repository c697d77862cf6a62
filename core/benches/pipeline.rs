//! Throughput of the whole signal chain (validation, orientation, filtering)
//! on a simulated 10-minute city trip with GPS and gyroscope at 100 Hz.
//!
//! `cargo bench -p safelane-core --bench pipeline`

#![allow(clippy::expect_used)] // a benchmark with broken set-up should stop loudly

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use safelane_core::{Pipeline, PipelineConfig};
use safelane_fixtures::eval::push_all;
use safelane_fixtures::{scenario, simulate};

fn chain(c: &mut Criterion) {
    let mut s = scenario::by_name("city-dash").expect("scenario exists");
    s.duration_s = 600.0;
    let trip = simulate(&s, 1);
    let inputs = trip.inputs();
    let imu_samples = trip.imu.len() as u64;
    println!(
        "state size: size_of::<Pipeline>() = {} bytes; {} IMU samples, {} GPS fixes",
        size_of::<Pipeline>(),
        imu_samples,
        trip.gps.len()
    );
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(imu_samples));
    group.bench_function("city_dash_600s_100hz", |b| {
        b.iter(|| {
            let mut p = Pipeline::new(PipelineConfig::car()).expect("valid defaults");
            black_box(push_all(&mut p, &inputs, |e| {
                black_box(e);
            }))
        })
    });
    group.finish();
}

criterion_group!(benches, chain);
criterion_main!(benches);
