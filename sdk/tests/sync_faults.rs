//! Fault injection, property style: for many random sequences of transport
//! failures (no connection, lost replies, duplicate deliveries, 429 with
//! Retry-After, 500s, garbled replies) and process restarts (the outbox
//! reopened on the same database file, also between delivery and
//! acknowledgement), the set of events the server ends up with equals the set
//! recorded: nothing lost, nothing stored twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::sync::Mutex;

use common::{Server, Waits};
use safelane_sdk::sync::sync;
use safelane_sdk::{HttpRequest, HttpResponse, Outbox, SyncConfig, Transport};
use safelane_wire::{Kind, WireEvent};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A network that misbehaves at random.
struct Faulty<'a> {
    server: &'a Server,
    rng: Mutex<Rng>,
    /// Percent of requests that misbehave.
    fault_pct: u64,
}

impl Transport for Faulty<'_> {
    fn send(&self, req: HttpRequest) -> Result<HttpResponse, String> {
        let (roll, which, retry) = {
            let mut r = self.rng.lock().unwrap();
            (r.below(100), r.below(6), 1 + r.below(3))
        };
        if roll >= self.fault_pct {
            return Ok(self.server.handle(&req));
        }
        match which {
            0 => Err("connection refused".into()),
            1 => {
                // Delivered, reply lost (timeout).
                let _ = self.server.handle(&req);
                Err("timed out".into())
            }
            2 => {
                // Delivered twice (a retrying proxy), second reply returned.
                let _ = self.server.handle(&req);
                Ok(self.server.handle(&req))
            }
            3 => Ok(HttpResponse {
                status: 429,
                headers: vec![("Retry-After".into(), retry.to_string())],
                body: vec![],
            }),
            4 => Ok(HttpResponse {
                status: 500,
                headers: vec![],
                body: b"oops".to_vec(),
            }),
            _ => {
                let _ = self.server.handle(&req);
                Ok(HttpResponse {
                    status: 200,
                    headers: vec![],
                    body: b"{\"events\":[{\"id\"".to_vec(),
                })
            }
        }
    }
}

fn event(trip: u64, seq: u64, crash: bool) -> WireEvent {
    WireEvent {
        id: format!("{trip:032x}-{seq}"),
        trip_id: format!("{trip:032x}"),
        kind: if crash {
            Kind::Crash
        } else {
            Kind::HarshBraking
        },
        direction: None,
        severity: "moderate".into(),
        start_unix_ms: 1_763_800_000_000 + seq as i64 * 1000,
        end_unix_ms: 1_763_800_000_500 + seq as i64 * 1000,
        peak_mps2: Some(4.0),
        speed_mps: Some(12.0),
        lat: Some(60.1),
        lon: Some(24.9),
        confidence: 0.9,
        speeding: None,
    }
}

#[test]
fn nothing_lost_nothing_twice_under_random_faults_and_restarts() {
    let mut total_requests = 0u64;
    let mut total_restarts = 0u64;
    for case in 0..150u64 {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("outbox.db");
        let server = Server::default();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (case + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
        let faulty = Faulty {
            server: &server,
            rng: Mutex::new(Rng(rng.next() | 1)),
            fault_pct: 10 + rng.below(60),
        };
        let cfg = SyncConfig {
            batch_size: 1 + rng.below(20) as usize,
            max_attempts: 1 + rng.below(4) as u32,
            ..SyncConfig::new("http://server.invalid", "dev1", "s3cret")
        };
        let mut recorded = BTreeSet::new();
        let mut outbox = Outbox::open(&db, 1_000_000).unwrap();
        let mut seq = 0;
        for _step in 0..20 {
            match rng.below(4) {
                // Record a few events (one transaction, as the SDK does).
                0 | 1 => {
                    let n = 1 + rng.below(15);
                    let batch: Vec<_> = (0..n)
                        .map(|_| {
                            seq += 1;
                            event(case, seq, rng.below(10) == 0)
                        })
                        .collect();
                    recorded.extend(batch.iter().map(|e| e.id.clone()));
                    outbox.add_events(&batch).unwrap();
                }
                // Sync; it may give up (events stay queued).
                2 => {
                    let _ = sync(&mut outbox, &faulty, &cfg, &mut Waits::default());
                }
                // The app is killed and restarted.
                _ => {
                    drop(outbox);
                    outbox = Outbox::open(&db, 1_000_000).unwrap();
                    total_restarts += 1;
                }
            }
        }
        // Eventually the network behaves often enough: keep syncing.
        for _ in 0..200 {
            if outbox.counts().unwrap().pending_events == 0 {
                break;
            }
            let _ = sync(&mut outbox, &faulty, &cfg, &mut Waits::default());
        }
        assert_eq!(
            outbox.counts().unwrap().pending_events,
            0,
            "case {case}: still queued"
        );
        let stored: BTreeSet<String> = server.events.lock().unwrap().keys().cloned().collect();
        assert_eq!(
            stored, recorded,
            "case {case}: the server's set differs from the recorded set"
        );
        assert!(
            server.stores.lock().unwrap().values().all(|n| *n == 1),
            "case {case}: an event was stored twice"
        );
        total_requests += *server.requests.lock().unwrap();
    }
    assert!(
        total_requests > 1000 && total_restarts > 100,
        "{total_requests} requests, {total_restarts} restarts"
    );
}

#[test]
fn back_pressure_is_honoured() {
    let server = Server::default();
    struct Busy<'a>(&'a Server, Mutex<u32>);
    impl Transport for Busy<'_> {
        fn send(&self, req: HttpRequest) -> Result<HttpResponse, String> {
            let mut n = self.1.lock().unwrap();
            *n += 1;
            if *n <= 2 {
                return Ok(HttpResponse {
                    status: 429,
                    headers: vec![("retry-after".into(), "7".into())],
                    body: vec![],
                });
            }
            Ok(self.0.handle(&req))
        }
    }
    let mut outbox = Outbox::in_memory(100).unwrap();
    outbox.add_events(&[event(1, 1, false)]).unwrap();
    let mut waits = Waits::default();
    let r = sync(
        &mut outbox,
        &Busy(&server, Mutex::new(0)),
        &SyncConfig::new("http://x", "dev1", "s3cret"),
        &mut waits,
    )
    .unwrap();
    assert_eq!(r.acknowledged, 1);
    assert_eq!(
        waits.0,
        vec![7000, 7000],
        "waited at least Retry-After each time"
    );
    // Exponential backoff with jitter stays within its window and gives up at max_attempts.
    struct Down;
    impl Transport for Down {
        fn send(&self, _: HttpRequest) -> Result<HttpResponse, String> {
            Err("unreachable".into())
        }
    }
    outbox.add_events(&[event(1, 2, false)]).unwrap();
    let mut waits = Waits::default();
    let cfg = SyncConfig::new("http://x", "dev1", "s3cret");
    let e = sync(&mut outbox, &Down, &cfg, &mut waits).unwrap_err();
    assert!(e.to_string().contains("gave up"), "{e}");
    assert_eq!(waits.0.len() as u32, cfg.max_attempts - 1);
    for (i, w) in waits.0.iter().enumerate() {
        assert!(*w <= cfg.base_backoff_ms << i, "wait {i}: {w}");
    }
    assert_eq!(outbox.counts().unwrap().pending_events, 1);
}
