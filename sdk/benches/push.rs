//! The SDK's push path from Rust: the 600 s city-dash trip (100 Hz) pushed in
//! Android batches of 100, as the Kotlin benchmark (bindings/kotlin-bench.sh)
//! does through the bindings; the difference is the binding layer's cost.
//!
//! `cargo bench -p safelane-sdk --bench push`

#![allow(clippy::expect_used)] // a benchmark with broken set-up should stop loudly

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use safelane_core::VehicleProfile;
use safelane_sdk::{Platform, PlatformImu, Sdk, SdkConfig};

fn push(c: &mut Criterion) {
    let mut s = safelane_fixtures::scenario::by_name("city-dash").expect("scenario");
    s.duration_s = 600.0;
    let trip = safelane_fixtures::simulate(&s, 1);
    let imu: Vec<PlatformImu> = trip.imu.iter().map(PlatformImu::android).collect();
    let t0 = trip.imu[0].t_s;
    let mut group = c.benchmark_group("sdk");
    group.sample_size(10);
    group.throughput(Throughput::Elements(imu.len() as u64));
    group.bench_function("push_imu_batches_of_100", |b| {
        b.iter(|| {
            let sdk = Sdk::open(SdkConfig::new(VehicleProfile::Car, Platform::Android, None))
                .expect("sdk");
            sdk.start_trip(1_763_800_000_000, t0).expect("trip");
            for batch in imu.chunks(100) {
                sdk.push_imu(batch).expect("push");
            }
            sdk.stop_trip().expect("stop")
        })
    });
    group.finish();
}

criterion_group!(benches, push);
criterion_main!(benches);
