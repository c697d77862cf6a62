//! Map tiles for speeding: fetched around the vehicle through the app's
//! transport, checked, cached in the outbox database (surviving restarts,
//! refreshed when old), and used: a simulated speeding drive through the SDK
//! finds the same violations as the core with every tile at hand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use safelane_core::VehicleProfile;
use safelane_fixtures::speeding::{World, detect, drive};
use safelane_sdk::{
    HttpRequest, HttpResponse, Platform, PlatformGps, Sdk, SdkConfig, SyncConfig, Transport,
};
use safelane_wire::Kind;

const DAY_MS: i64 = 24 * 3600 * 1000;
const T0_UNIX_MS: i64 = 1_763_800_000_000;

/// Serves `GET /v1/tiles/{key}` from a map; counts requests; can serve garbage.
struct TileServer {
    tiles: BTreeMap<String, Vec<u8>>,
    requests: Mutex<u32>,
    garbage: bool,
}

impl Transport for TileServer {
    fn send(&self, req: HttpRequest) -> Result<HttpResponse, String> {
        *self.requests.lock().unwrap() += 1;
        assert_eq!(req.method, "GET");
        if !req
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Bearer dev1.s3cret")
        {
            return Ok(HttpResponse {
                status: 401,
                headers: vec![],
                body: vec![],
            });
        }
        let key = req.url.rsplit('/').next().unwrap();
        match self.tiles.get(key) {
            Some(_) if self.garbage => Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: b"SLMT\x01\x00garbage".to_vec(),
            }),
            Some(b) => Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: b.clone(),
            }),
            None => Ok(HttpResponse {
                status: 404,
                headers: vec![],
                body: vec![],
            }),
        }
    }
}

fn cfg() -> SyncConfig {
    SyncConfig::new("http://fleet.invalid", "dev1", "s3cret")
}

#[test]
fn tiles_are_fetched_checked_cached_and_refreshed() {
    let world = World::new(1);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("outbox.db");
    let open = || {
        Sdk::open(SdkConfig::new(
            VehicleProfile::Car,
            Platform::Android,
            Some(db.clone()),
        ))
        .unwrap()
    };
    let server = TileServer {
        tiles: world.tiles.clone(),
        requests: Mutex::new(0),
        garbage: false,
    };
    let (lat, lon) = world.roads[0].points[0];
    let sdk = open();
    let u = sdk
        .update_tiles(&server, &cfg(), lat, lon, T0_UNIX_MS)
        .unwrap();
    assert!(u.wanted >= 1 && u.fetched >= 1, "{u:?}");
    assert_eq!(u.fetched + u.missing, u.wanted);
    let asked = *server.requests.lock().unwrap();
    // Again, and after a restart: from the cache, no request for what was fetched.
    let u = sdk
        .update_tiles(&server, &cfg(), lat, lon, T0_UNIX_MS + 1000)
        .unwrap();
    assert_eq!(u.from_cache, u.wanted - u.missing, "{u:?}");
    drop(sdk);
    let sdk = open();
    let u = sdk
        .update_tiles(&server, &cfg(), lat, lon, T0_UNIX_MS + DAY_MS)
        .unwrap();
    assert_eq!(u.from_cache, u.wanted - u.missing, "{u:?}");
    assert_eq!(
        *server.requests.lock().unwrap(),
        asked + 2 * u.missing,
        "only the missing cells were asked again"
    );
    // Eight days later the cache is stale; a broken server leaves the stale copy in use.
    let broken = TileServer {
        garbage: true,
        ..server
    };
    let u = sdk
        .update_tiles(&broken, &cfg(), lat, lon, T0_UNIX_MS + 8 * DAY_MS)
        .unwrap();
    assert_eq!((u.fetched, u.failed), (0, u.wanted - u.missing), "{u:?}");
    // Bad positions and credentials are errors.
    assert!(
        sdk.update_tiles(&broken, &cfg(), f64::NAN, 0.0, T0_UNIX_MS)
            .is_err()
    );
    let bad = SyncConfig::new("http://fleet.invalid", "dev1", "nope");
    let fresh = TileServer {
        tiles: world.tiles.clone(),
        requests: Mutex::new(0),
        garbage: false,
    };
    let e = sdk
        .update_tiles(&fresh, &bad, lat, lon, T0_UNIX_MS + 9 * DAY_MS)
        .unwrap_err();
    assert!(
        matches!(
            e,
            safelane_sdk::SdkError::Sync {
                retryable: false,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn a_speeding_drive_through_the_sdk_finds_what_the_core_finds() {
    let world = World::new(2);
    let cfg_core = safelane_core::PipelineConfig::car();
    let trip = drive(&world, 3, &cfg_core.speeding);
    let (expected, _) = detect(&world, &trip, cfg_core).unwrap();
    assert!(expected.len() >= 3);
    let server = TileServer {
        tiles: world.tiles.clone(),
        requests: Mutex::new(0),
        garbage: false,
    };
    // The trip's hour of week as the clock gives it: Monday 2024-01-01 00:00 UTC + hours.
    let monday = 1_704_067_200_000i64;
    let start_ms = monday + i64::from(trip.hour_of_week) * 3600 * 1000;
    let sdk = Sdk::open(SdkConfig::new(VehicleProfile::Car, Platform::Android, None)).unwrap();
    sdk.start_trip(start_ms, trip.fixes[0].t_s).unwrap();
    let mut recorded = 0;
    for (i, f) in trip.fixes.iter().enumerate() {
        // The app refreshes the tiles around the vehicle every minute.
        if i % 60 == 0 {
            sdk.update_tiles(
                &server,
                &cfg(),
                f.lat_deg,
                f.lon_deg,
                start_ms + (f.t_s * 1000.0) as i64,
            )
            .unwrap();
        }
        let fix = PlatformGps::android(f);
        recorded += sdk.push_gps(&[fix]).unwrap().events;
    }
    let summary = sdk.stop_trip().unwrap();
    let speeding = summary.events[Kind::ALL.iter().position(|k| *k == Kind::Speeding).unwrap()];
    assert_eq!(
        speeding as usize,
        expected.len(),
        "SDK {speeding}, core {}",
        expected.len()
    );
    assert!(recorded as usize >= expected.len() - 1);
}
