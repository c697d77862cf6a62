//! Snapshot tests: the JSON of every wire type, pinned. A change that alters a
//! snapshot changes the protocol between SDK and server: bump the API version
//! or keep the old names. `UPDATE_SNAPSHOTS=1 cargo test -p safelane-wire`
//! rewrites the files after a deliberate change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use safelane_wire::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(name: &str, value: &T) {
    let json = serde_json::to_string_pretty(value).unwrap() + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.json"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &json).unwrap();
    }
    let pinned =
        std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} missing", path.display()));
    assert_eq!(json, pinned, "{name}: the wire format changed");
    let back: T = serde_json::from_str(&pinned).unwrap();
    assert_eq!(&back, value, "{name}: does not round-trip");
}

fn braking() -> WireEvent {
    WireEvent {
        id: "5f0c3b7e9a1d4c2e8b6f0a9d3c7e1b5a-1".into(),
        trip_id: "5f0c3b7e9a1d4c2e8b6f0a9d3c7e1b5a".into(),
        kind: Kind::HarshBraking,
        direction: None,
        severity: "moderate".into(),
        start_unix_ms: 1_763_800_000_000,
        end_unix_ms: 1_763_800_001_250,
        peak_mps2: Some(4.25),
        speed_mps: Some(13.5),
        lat: Some(60.16991),
        lon: Some(24.93842),
        confidence: 0.875,
        speeding: None,
    }
}

fn speeding() -> WireEvent {
    WireEvent {
        id: "5f0c3b7e9a1d4c2e8b6f0a9d3c7e1b5a-2".into(),
        kind: Kind::Speeding,
        severity: "moderate".into(),
        start_unix_ms: 1_763_800_100_000,
        end_unix_ms: 1_763_800_125_000,
        peak_mps2: None,
        confidence: 1.0,
        speeding: Some(SpeedingDetail {
            threshold_kmh: 50.0,
            threshold_source: "posted".into(),
            max_excess_kmh: 17.5,
            mean_excess_kmh: 12.25,
            distance_m: 430.0,
        }),
        ..braking()
    }
}

#[test]
fn event_batch() {
    let cornering = WireEvent {
        id: "5f0c3b7e9a1d4c2e8b6f0a9d3c7e1b5a-3".into(),
        kind: Kind::HarshCornering,
        direction: Some("left".into()),
        severity: "severe".into(),
        lat: None,
        lon: None,
        ..braking()
    };
    check(
        "event_batch",
        &EventBatch {
            events: vec![braking(), speeding(), cornering],
            trips: vec![WireTrip {
                id: "5f0c3b7e9a1d4c2e8b6f0a9d3c7e1b5a".into(),
                start_unix_ms: 1_763_799_000_000,
                end_unix_ms: 1_763_802_600_000,
                distance_m: 41_250.5,
                vehicle: "car".into(),
                events: 3,
            }],
        },
    );
}

#[test]
fn wire_event() {
    check("wire_event_braking", &braking());
    check("wire_event_speeding", &speeding());
}

#[test]
fn wire_trip() {
    check(
        "wire_trip",
        &WireTrip {
            id: "5f0c3b7e9a1d4c2e8b6f0a9d3c7e1b5a".into(),
            start_unix_ms: 1_763_799_000_000,
            end_unix_ms: 1_763_802_600_000,
            distance_m: 41_250.5,
            vehicle: "motorcycle".into(),
            events: 0,
        },
    );
}

#[test]
fn event_status() {
    check(
        "event_status",
        &EventStatus {
            id: "a-9".into(),
            status: Status::Rejected,
            error: Some("kind: unknown".into()),
        },
    );
}

#[test]
fn batch_reply() {
    check(
        "batch_reply",
        &BatchReply {
            events: vec![
                EventStatus {
                    id: "a-1".into(),
                    status: Status::Stored,
                    error: None,
                },
                EventStatus {
                    id: "a-2".into(),
                    status: Status::Duplicate,
                    error: None,
                },
                EventStatus {
                    id: "a-3".into(),
                    status: Status::Rejected,
                    error: Some("start_unix_ms: more than 24 h in the future".into()),
                },
            ],
            trips: vec![EventStatus {
                id: "a".into(),
                status: Status::Stored,
                error: None,
            }],
        },
    );
}

#[test]
fn ping_batch() {
    check(
        "ping_batch",
        &PingBatch {
            pings: vec![
                WirePing {
                    t_unix_ms: 1_763_800_000_000,
                    lat: 60.17,
                    lon: 24.94,
                    speed_mps: 13.9,
                    accuracy_m: 4.0,
                    bearing_deg: Some(92.5),
                },
                WirePing {
                    t_unix_ms: 1_763_800_001_000,
                    lat: 60.1701,
                    lon: 24.9402,
                    speed_mps: 14.1,
                    accuracy_m: 5.0,
                    bearing_deg: None,
                },
            ],
        },
    );
}

#[test]
fn error_body() {
    check(
        "error_body",
        &ErrorBody {
            code: "too_many_requests".into(),
            message: "retry after 2 s".into(),
        },
    );
}

#[test]
fn kinds_use_the_core_names() {
    for k in Kind::ALL {
        assert_eq!(
            serde_json::to_string(&k).unwrap(),
            format!("\"{}\"", k.as_str())
        );
    }
}

#[test]
fn unknown_fields_and_missing_options_are_tolerated_bad_kinds_are_not() {
    let e: WireEvent = serde_json::from_str(
        r#"{"id":"x-1","trip_id":"x","kind":"crash","severity":"severe","start_unix_ms":1,"end_unix_ms":2,"confidence":1,"future":true}"#,
    )
    .unwrap();
    assert_eq!(e.kind, Kind::Crash);
    assert!(e.lat.is_none() && e.speeding.is_none());
    let err = serde_json::from_str::<WireEvent>(
        r#"{"id":"x-1","trip_id":"x","kind":"drifting","severity":"severe","start_unix_ms":1,"end_unix_ms":2,"confidence":1}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("unknown variant `drifting`"),
        "{err}"
    );
}
