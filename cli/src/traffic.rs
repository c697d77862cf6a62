//! `safelane sdk-traffic`: what the SDK sends per hour of driving. Every trip
//! of the simulator suite goes through the SDK exactly as a phone pushes it
//! (Android batches of 100 IMU samples, fixes in between, alerts, outbox),
//! then syncs to an acknowledging loopback endpoint that counts request
//! bytes; the same bodies are gzip-compressed to see whether compression
//! would pay.

use std::io::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use safelane_sdk::{
    HttpRequest, HttpResponse, Platform, Sdk, SdkConfig, Sleeper, SyncConfig, Transport,
};
use safelane_wire::{BatchReply, EventBatch, EventStatus, Status};

/// Acknowledges every event and counts what it received (the measurement's
/// far end; the real server is `safelane serve`).
#[derive(Default)]
struct Counter {
    bytes: Mutex<(u64, u64, u64)>, // (raw, gzip, requests)
}

impl Transport for Counter {
    fn send(&self, req: HttpRequest) -> Result<HttpResponse, String> {
        let batch: EventBatch = serde_json::from_slice(&req.body).map_err(|e| e.to_string())?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&req.body).map_err(|e| e.to_string())?;
        let gz = gz.finish().map_err(|e| e.to_string())?;
        if let Ok(mut b) = self.bytes.lock() {
            b.0 += req.body.len() as u64;
            b.1 += gz.len() as u64;
            b.2 += 1;
        }
        let ok = |id: String| EventStatus {
            id,
            status: Status::Stored,
            error: None,
        };
        let reply = BatchReply {
            events: batch.events.into_iter().map(|e| ok(e.id)).collect(),
            trips: batch.trips.into_iter().map(|t| ok(t.id)).collect(),
        };
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: serde_json::to_vec(&reply).map_err(|e| e.to_string())?,
        })
    }
}

struct NoWait;
impl Sleeper for NoWait {
    fn sleep_ms(&mut self, _: u64) {}
}

/// Runs the suite through the SDK; `scenario` limits it to one scenario.
pub fn run(hours: f64, scenario: Option<&str>) -> anyhow::Result<()> {
    let started = Instant::now();
    let counter = Counter::default();
    let (mut driven_s, mut events, mut trips) = (0.0, 0u64, 0u64);
    for (s, seed) in safelane_fixtures::scenario::suite(hours) {
        if scenario.is_some_and(|n| n != s.name) {
            continue;
        }
        let trip = safelane_fixtures::simulate(&s, seed);
        let sdk = Sdk::open(SdkConfig::new(s.vehicle, Platform::Android, None))?;
        let t0 = trip.imu.first().map_or(0.0, |x| x.t_s);
        sdk.start_trip(1_763_800_000_000, t0)?;
        crate::phone::push_trip(&sdk, &trip)?;
        let summary = sdk.stop_trip()?;
        events += summary.events.iter().map(|n| u64::from(*n)).sum::<u64>();
        trips += 1;
        driven_s += trip.duration_s();
        sdk.sync(
            &counter,
            &SyncConfig::new("http://loopback.invalid", "dev", "secret"),
            &mut NoWait,
        )?;
    }
    anyhow::ensure!(trips > 0, "no trip matched");
    let (raw, gz, requests) = *counter.bytes.lock().map_err(|_| anyhow::anyhow!("lock"))?;
    let h = driven_s / 3600.0;
    say!(
        "{trips} trips, {h:.1} h driven, {events} events ({:.1} per hour), {requests} requests",
        events as f64 / h
    )?;
    say!(
        "sent {:.1} KB per hour of driving as JSON ({:.0} B per event incl. trip summaries); gzip would make it {:.1} KB per hour",
        raw as f64 / h / 1000.0,
        raw as f64 / events.max(1) as f64,
        gz as f64 / h / 1000.0
    )?;
    say!("({:.1} s)", started.elapsed().as_secs_f64())?;
    Ok(())
}
