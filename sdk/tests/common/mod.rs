//! Shared by the SDK's integration tests: simulated trips as platform
//! batches, and an in-process stand-in for the server's ingestion contract
//! (idempotent by event id, per-event status) behind the `Transport` trait,
//! with fault injection.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use safelane_sdk::{HttpRequest, HttpResponse, PlatformGps, PlatformImu, Sleeper, Transport};
use safelane_wire::{BatchReply, EventBatch, EventStatus, Status, WireEvent};

/// A simulated trip as Android batches (ns since boot).
pub fn android_batches(
    scenario: &str,
    seed: u64,
    duration_s: f64,
) -> (Vec<Vec<PlatformImu>>, Vec<PlatformGps>) {
    let mut s = safelane_fixtures::scenario::by_name(scenario).expect("scenario");
    s.duration_s = duration_s;
    let trip = safelane_fixtures::simulate(&s, seed);
    let imu: Vec<PlatformImu> = trip.imu.iter().map(PlatformImu::android).collect();
    let gps = trip.gps.iter().map(PlatformGps::android).collect();
    (imu.chunks(100).map(<[PlatformImu]>::to_vec).collect(), gps)
}

/// The server's side of the contract, in memory.
#[derive(Debug, Default)]
pub struct Server {
    pub events: Mutex<BTreeMap<String, WireEvent>>,
    /// How many times each id was *stored* (must be 1).
    pub stores: Mutex<BTreeMap<String, u32>>,
    pub trips: Mutex<BTreeMap<String, u32>>,
    pub requests: Mutex<u64>,
}

impl Server {
    pub fn handle(&self, req: &HttpRequest) -> HttpResponse {
        *self.requests.lock().unwrap() += 1;
        if !req
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Bearer dev1.s3cret")
        {
            return HttpResponse {
                status: 401,
                headers: vec![],
                body: vec![],
            };
        }
        let Ok(batch) = serde_json::from_slice::<EventBatch>(&req.body) else {
            return HttpResponse {
                status: 400,
                headers: vec![],
                body: vec![],
            };
        };
        let mut events = self.events.lock().unwrap();
        let mut stores = self.stores.lock().unwrap();
        let mut statuses = Vec::new();
        for e in batch.events {
            let status = if events.contains_key(&e.id) {
                Status::Duplicate
            } else {
                *stores.entry(e.id.clone()).or_default() += 1;
                events.insert(e.id.clone(), e.clone());
                Status::Stored
            };
            statuses.push(EventStatus {
                id: e.id,
                status,
                error: None,
            });
        }
        let mut trips = self.trips.lock().unwrap();
        let trip_statuses = batch
            .trips
            .into_iter()
            .map(|t| {
                *trips.entry(t.id.clone()).or_default() += 1;
                EventStatus {
                    id: t.id,
                    status: Status::Stored,
                    error: None,
                }
            })
            .collect();
        let body = serde_json::to_vec(&BatchReply {
            events: statuses,
            trips: trip_statuses,
        })
        .unwrap();
        HttpResponse {
            status: 200,
            headers: vec![],
            body,
        }
    }
}

impl Transport for Server {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, String> {
        Ok(self.handle(&request))
    }
}

/// Records waits instead of sleeping.
#[derive(Debug, Default)]
pub struct Waits(pub Vec<u64>);

impl Sleeper for Waits {
    fn sleep_ms(&mut self, ms: u64) {
        self.0.push(ms);
    }
}
