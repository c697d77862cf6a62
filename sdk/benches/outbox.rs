//! Outbox write rate on this machine: events committed per second to a
//! file database (WAL, synchronous=FULL), one event per transaction (how the
//! SDK records an alert) and 100 per transaction.
//!
//! `cargo bench -p safelane-sdk --bench outbox`

#![allow(clippy::expect_used)] // a benchmark with broken set-up should stop loudly

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use safelane_sdk::Outbox;
use safelane_wire::{Kind, WireEvent};

fn event(i: u64) -> WireEvent {
    WireEvent {
        id: format!("5f0c3b7e9a1d4c2e8b6f0a9d3c7e1b5a-{i}"),
        trip_id: "5f0c3b7e9a1d4c2e8b6f0a9d3c7e1b5a".into(),
        kind: Kind::HarshBraking,
        direction: None,
        severity: "moderate".into(),
        start_unix_ms: 1_763_800_000_000 + i as i64,
        end_unix_ms: 1_763_800_001_000 + i as i64,
        peak_mps2: Some(4.2),
        speed_mps: Some(13.0),
        lat: Some(60.16991),
        lon: Some(24.93842),
        confidence: 0.9,
        speeding: None,
    }
}

fn writes(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut outbox = Outbox::open(&dir.path().join("outbox.db"), 10_000_000).expect("outbox");
    let mut next = 0u64;
    let mut group = c.benchmark_group("outbox");
    group.sample_size(20);
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_event_per_commit", |b| {
        b.iter(|| {
            next += 1;
            outbox.add_events(&[event(next)]).expect("write");
        })
    });
    group.throughput(Throughput::Elements(100));
    group.bench_function("hundred_events_per_commit", |b| {
        b.iter_batched(
            || {
                (0..100)
                    .map(|_| {
                        next += 1;
                        event(next)
                    })
                    .collect::<Vec<_>>()
            },
            |batch| outbox.add_events(&batch).expect("write"),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, writes);
criterion_main!(benches);
