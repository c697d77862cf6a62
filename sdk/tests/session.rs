//! A simulated trip through the SDK as a phone would push it: alerts, outbox,
//! trip summary, sync, automatic trips, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use common::{Server, Waits, android_batches};
use safelane_core::VehicleProfile;
use safelane_sdk::{
    AlertListener, AutoTripConfig, Platform, PlatformGps, PlatformImu, Sdk, SdkConfig, SdkError,
    SyncConfig,
};
use safelane_wire::{Kind, WireEvent};

#[derive(Default)]
struct Alerts(Mutex<Vec<WireEvent>>);
impl AlertListener for Alerts {
    fn on_event(&self, event: WireEvent) {
        self.0.lock().unwrap().push(event);
    }
}

const T0_UNIX_MS: i64 = 1_763_800_000_000;

fn push_trip(sdk: &Sdk, imu: &[Vec<PlatformImu>], gps: &[PlatformGps]) {
    // Interleave by time as a phone delivers: each IMU batch, then the fixes up to its end.
    let mut gi = 0;
    for batch in imu {
        sdk.push_imu(batch).unwrap();
        let end = batch.last().map_or(0.0, |s| s.timestamp);
        let start = gi;
        while gi < gps.len() && gps[gi].timestamp <= end {
            gi += 1;
        }
        sdk.push_gps(&gps[start..gi]).unwrap();
    }
    sdk.push_gps(&gps[gi..]).unwrap();
}

#[test]
fn a_trip_records_alerts_and_syncs_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("outbox.db");
    let sdk = Sdk::open(SdkConfig::new(
        VehicleProfile::Car,
        Platform::Android,
        Some(db.clone()),
    ))
    .unwrap();
    let alerts = Arc::new(Alerts::default());
    sdk.set_listener(Some(alerts.clone())).unwrap();
    let (imu, gps) = android_batches("city-dash", 1, 600.0);
    let boot0 = imu[0][0].timestamp * 1e-9;
    let trip_id = sdk.start_trip(T0_UNIX_MS, boot0).unwrap();
    assert!(matches!(
        sdk.start_trip(T0_UNIX_MS, boot0),
        Err(SdkError::InvalidState { .. })
    ));
    push_trip(&sdk, &imu, &gps);
    assert_eq!(sdk.orientation().unwrap().state, "locked");
    let summary = sdk.stop_trip().unwrap();
    let got = alerts.0.lock().unwrap().clone();
    // The same events as the core pipeline finds on the same trip pushed in
    // the same order (IMU batches of 100, then the fixes timed within them).
    let mut scenario = safelane_fixtures::scenario::by_name("city-dash").unwrap();
    scenario.duration_s = 600.0;
    let trip = safelane_fixtures::simulate(&scenario, 1);
    let (core_events, _) = safelane_fixtures::eval::detect_events_batched(
        &trip,
        safelane_core::PipelineConfig::car(),
        100,
    )
    .unwrap();
    assert!(core_events.len() >= 3, "{}", core_events.len());
    assert_eq!(got.len(), core_events.len(), "{got:?}");
    let brakings = core_events
        .iter()
        .filter(|e| e.kind == safelane_core::EventKind::HarshBraking)
        .count();
    assert_eq!(
        got.iter().filter(|e| e.kind == Kind::HarshBraking).count(),
        brakings
    );
    assert_eq!(summary.events[0] as usize, brakings);
    assert!(summary.distance_m > 500.0, "{}", summary.distance_m);
    assert!(summary.duration_s() > 250.0);
    for e in &got {
        assert_eq!(e.trip_id, trip_id);
        assert!(
            e.start_unix_ms >= T0_UNIX_MS && e.end_unix_ms <= T0_UNIX_MS + 700_000,
            "{e:?}"
        );
    }
    // Recorded before reported: the outbox has them all, and keeps them when reopened.
    drop(sdk);
    let sdk = Sdk::open(SdkConfig::new(
        VehicleProfile::Car,
        Platform::Android,
        Some(db),
    ))
    .unwrap();
    let c = sdk.outbox_counts().unwrap();
    assert_eq!((c.pending_events, c.pending_trips), (got.len() as u64, 1));
    let server = Server::default();
    let cfg = SyncConfig::new("http://server.invalid", "dev1", "s3cret");
    let report = sdk.sync(&server, &cfg, &mut Waits::default()).unwrap();
    assert_eq!(report.acknowledged, got.len() as u64);
    assert_eq!(report.trips, 1);
    assert_eq!(server.events.lock().unwrap().len(), got.len());
    let c = sdk.outbox_counts().unwrap();
    assert_eq!(
        (c.pending_events, c.pending_trips, c.synced_events),
        (0, 0, got.len() as u64)
    );
    // Nothing left to send: no request.
    let before = *server.requests.lock().unwrap();
    sdk.sync(&server, &cfg, &mut Waits::default()).unwrap();
    assert_eq!(*server.requests.lock().unwrap(), before);
}

#[test]
fn wrong_credentials_stop_at_once_and_keep_the_events() {
    let sdk = Sdk::open(SdkConfig::new(VehicleProfile::Car, Platform::Android, None)).unwrap();
    let (imu, gps) = android_batches("crash", 2, 200.0);
    sdk.start_trip(T0_UNIX_MS, imu[0][0].timestamp * 1e-9)
        .unwrap();
    push_trip(&sdk, &imu, &gps);
    sdk.stop_trip().unwrap();
    let pending = sdk.outbox_counts().unwrap().pending_events;
    assert!(pending >= 1);
    let e = sdk
        .sync(
            &Server::default(),
            &SyncConfig::new("http://x", "dev1", "wrong"),
            &mut Waits::default(),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            SdkError::Sync {
                retryable: false,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        !e.to_string().contains("wrong"),
        "no secret in messages: {e}"
    );
    assert_eq!(sdk.outbox_counts().unwrap().pending_events, pending);
}

#[test]
fn automatic_trips_start_and_stop_from_gps_speed() {
    let cfg = SdkConfig {
        auto_trip: Some(AutoTripConfig::default()),
        ..SdkConfig::new(VehicleProfile::Car, Platform::Ios, None)
    };
    let sdk = Sdk::open(cfg).unwrap();
    sdk.set_clock(T0_UNIX_MS, 100.0).unwrap();
    let fix = |t: f64, v: f64| PlatformGps {
        timestamp: t,
        lat_deg: 60.0 + t * 1e-5,
        lon_deg: 25.0,
        speed_mps: Some(v),
        bearing_deg: Some(0.0),
        accuracy_m: Some(5.0),
    };
    // Walking pace: no trip; IMU without a trip is ignored, not an error.
    let walk: Vec<_> = (0..30).map(|i| fix(100.0 + f64::from(i), 1.4)).collect();
    sdk.push_gps(&walk).unwrap();
    assert_eq!(sdk.current_trip().unwrap(), None);
    let r = sdk
        .push_imu(&[PlatformImu {
            timestamp: 130.0,
            accel: [0.0, 0.0, -1.0],
            gyro: None,
        }])
        .unwrap();
    assert_eq!(r.ignored, 1);
    // Driving for 15 s starts a trip (from the first fast fix).
    let drive: Vec<_> = (0..15).map(|i| fix(131.0 + f64::from(i), 12.0)).collect();
    sdk.push_gps(&drive).unwrap();
    assert!(sdk.current_trip().unwrap().is_some());
    // A 60 s red light keeps it; 200 s parked ends it.
    let light: Vec<_> = (0..60).map(|i| fix(146.0 + f64::from(i), 0.0)).collect();
    sdk.push_gps(&light).unwrap();
    sdk.push_gps(&[fix(206.0, 10.0)]).unwrap();
    assert!(sdk.current_trip().unwrap().is_some());
    let parked: Vec<_> = (0..200).map(|i| fix(207.0 + f64::from(i), 0.0)).collect();
    sdk.push_gps(&parked).unwrap();
    assert_eq!(sdk.current_trip().unwrap(), None);
    assert_eq!(sdk.outbox_counts().unwrap().pending_trips, 1);
}

#[test]
fn bad_input_is_an_error_or_counted_never_a_panic() {
    let sdk = Sdk::open(SdkConfig::new(VehicleProfile::Car, Platform::Android, None)).unwrap();
    assert!(matches!(
        sdk.push_imu(&[PlatformImu {
            timestamp: 0.0,
            accel: [0.0; 3],
            gyro: None
        }]),
        Err(SdkError::InvalidState { .. })
    ));
    assert!(matches!(
        sdk.stop_trip(),
        Err(SdkError::InvalidState { .. })
    ));
    sdk.start_trip(T0_UNIX_MS, 0.0).unwrap();
    let garbage = [
        PlatformImu {
            timestamp: f64::NAN,
            accel: [0.0, 0.0, 9.8],
            gyro: None,
        },
        PlatformImu {
            timestamp: 1e9,
            accel: [f64::INFINITY, 0.0, 9.8],
            gyro: None,
        },
        PlatformImu {
            timestamp: 2e9,
            accel: [1e30, 0.0, 9.8],
            gyro: Some([f64::NAN; 3]),
        },
        PlatformImu {
            timestamp: 1e9,
            accel: [0.0, 0.0, 9.8],
            gyro: None,
        },
        PlatformImu {
            timestamp: -5e9,
            accel: [0.0, 0.0, 9.8],
            gyro: None,
        },
    ];
    let r = sdk.push_imu(&garbage).unwrap();
    assert_eq!(r.accepted + r.rejected, 5);
    assert!(r.rejected >= 3, "{r:?}");
    let r = sdk
        .push_gps(&[PlatformGps {
            timestamp: 3e9,
            lat_deg: 91.0,
            lon_deg: f64::NAN,
            speed_mps: Some(f64::NAN),
            bearing_deg: None,
            accuracy_m: Some(-1.0),
        }])
        .unwrap();
    assert_eq!(r.rejected, 1);
    let e = sdk.set_tiles(vec![b"SLMT garbage".to_vec()]).unwrap_err();
    assert!(e.to_string().contains("tiles[0]"), "{e}");
    let s = sdk.stop_trip().unwrap();
    assert!(s.imu_rejected >= 3 && s.gps_rejected == 1, "{s:?}");
    let e = Sdk::open(SdkConfig {
        outbox_max_events: 0,
        ..SdkConfig::new(VehicleProfile::Car, Platform::Ios, None)
    });
    assert!(e.is_ok(), "in-memory outbox clamps the bound");
    let e = Sdk::open(SdkConfig {
        utc_offset_min: 10_000,
        ..SdkConfig::new(VehicleProfile::Car, Platform::Ios, None)
    })
    .unwrap_err();
    assert!(e.to_string().contains("utc_offset_min"), "{e}");
}
