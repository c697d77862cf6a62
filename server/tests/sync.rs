//! The real SDK syncing to the real server over loopback HTTP: credentials,
//! idempotent ingestion, bad input refused with the field named, tiles,
//! cross-tenant refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use safelane_core::VehicleProfile;
use safelane_sdk::{
    HttpRequest, HttpTransport, Platform, PlatformGps, PlatformImu, Sdk, SdkConfig, SyncConfig,
    ThreadSleeper, Transport,
};
use safelane_server::{App, ServerConfig};

const OPERATOR: &str = "operator-token-for-tests-0123456789";

fn start(tiles: Option<std::path::PathBuf>) -> (SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = ServerConfig::new(dir.path().join("server.db"), OPERATOR.into());
    cfg.tiles_dir = tiles;
    let app = App::open(cfg).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            safelane_server::serve(l, app).await.unwrap();
        });
    });
    (addr, dir)
}

fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value) {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(t) = token {
        headers.push(("authorization".into(), format!("Bearer {t}")));
    }
    let r = HttpTransport::default()
        .send(HttpRequest {
            method: method.into(),
            url: format!("http://{addr}{path}"),
            headers,
            body: body.as_bytes().to_vec(),
        })
        .unwrap();
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null),
    )
}

/// A fleet with one driver and one device: (fleet id, admin token, driver id, device id, secret).
fn provision(addr: SocketAddr) -> (i64, String, i64, String, String) {
    let (s, f) = call(
        addr,
        "POST",
        "/v1/fleets",
        Some(OPERATOR),
        r#"{"name":"Acme Deliveries"}"#,
    );
    assert_eq!(s, 201, "{f}");
    let fleet = f["fleet_id"].as_i64().unwrap();
    let admin = f["admin_token"].as_str().unwrap().to_owned();
    let (s, d) = call(
        addr,
        "POST",
        &format!("/v1/fleets/{fleet}/drivers"),
        Some(&admin),
        r#"{"name":"Driver One"}"#,
    );
    assert_eq!(s, 201, "{d}");
    let driver = d["driver_id"].as_i64().unwrap();
    let (s, dev) = call(
        addr,
        "POST",
        &format!("/v1/fleets/{fleet}/drivers/{driver}/devices"),
        Some(&admin),
        "",
    );
    assert_eq!(s, 201, "{dev}");
    (
        fleet,
        admin,
        driver,
        dev["device_id"].as_str().unwrap().into(),
        dev["device_secret"].as_str().unwrap().into(),
    )
}

#[test]
fn the_sdk_syncs_a_trip_to_the_server_once() {
    let (addr, _dir) = start(None);
    assert_eq!(
        HttpTransport::default()
            .send(HttpRequest {
                method: "GET".into(),
                url: format!("http://{addr}/healthz"),
                headers: vec![],
                body: vec![]
            })
            .unwrap()
            .status,
        200
    );
    let (_, _, _, device, secret) = provision(addr);
    let mut s = simulated_trip();
    let sdk = Sdk::open(SdkConfig::new(VehicleProfile::Car, Platform::Android, None)).unwrap();
    sdk.start_trip(1_763_800_000_000, s.0[0].timestamp * 1e-9)
        .unwrap();
    for b in s.0.chunks(100) {
        sdk.push_imu(b).unwrap();
    }
    sdk.push_gps(&std::mem::take(&mut s.1)).unwrap();
    sdk.stop_trip().unwrap();
    let recorded = sdk.outbox_counts().unwrap().pending_events;
    assert!(recorded >= 1);
    let cfg = SyncConfig::new(&format!("http://{addr}"), &device, &secret);
    let r = sdk
        .sync(&HttpTransport::default(), &cfg, &mut ThreadSleeper)
        .unwrap();
    assert_eq!(r.acknowledged, recorded);
    assert_eq!(r.trips, 1);
    assert_eq!(sdk.outbox_counts().unwrap().pending_events, 0);
}

/// A simulated trip with harsh events (the crash scenario), as Android batches.
fn simulated_trip() -> (Vec<PlatformImu>, Vec<PlatformGps>) {
    let mut sc = safelane_fixtures::scenario::by_name("crash").unwrap();
    sc.duration_s = sc.duration_s.min(300.0);
    let trip = safelane_fixtures::simulate(&sc, 1);
    let imu = trip.imu.iter().map(PlatformImu::android).collect();
    let gps = trip.gps.iter().map(PlatformGps::android).collect();
    (imu, gps)
}

fn event_json(id: &str, start_ms: i64, lat: f64) -> String {
    format!(
        r#"{{"id":"{id}","trip_id":"t1","kind":"harsh_braking","severity":"moderate","start_unix_ms":{start_ms},"end_unix_ms":{},"confidence":0.9,"lat":{lat},"lon":24.9}}"#,
        start_ms + 1000
    )
}

#[test]
fn duplicates_are_stored_once_and_bad_input_is_refused_with_the_field_named() {
    let (addr, _dir) = start(None);
    let (_, _, _, device, secret) = provision(addr);
    let token = format!("{device}.{secret}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let batch = format!(
        r#"{{"events":[{},{}]}}"#,
        event_json("t1-1", now - 60_000, 60.1),
        event_json("t1-2", now - 30_000, 60.1)
    );
    let (s, r) = call(addr, "POST", "/v1/events", Some(&token), &batch);
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["events"][0]["status"], "stored");
    let (s, r) = call(addr, "POST", "/v1/events", Some(&token), &batch);
    assert_eq!(s, 200);
    assert_eq!(r["events"][0]["status"], "duplicate");
    assert_eq!(r["events"][1]["status"], "duplicate");
    // Per-event refusals name the field; the good event in the batch is stored.
    let mixed = format!(
        r#"{{"events":[{},{},{}]}}"#,
        event_json("t1-3", now + 3 * 86_400_000, 60.1),
        event_json("t1-4", now, 95.0),
        event_json("t1-5", now, 60.2)
    );
    let (s, r) = call(addr, "POST", "/v1/events", Some(&token), &mixed);
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["events"][0]["status"], "rejected");
    assert!(
        r["events"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("start_unix_ms")
    );
    assert!(r["events"][1]["error"].as_str().unwrap().starts_with("lat"));
    assert_eq!(r["events"][2]["status"], "stored");
    // Whole-batch errors: malformed JSON, an unknown kind, too many events, a huge body, no credentials.
    let (s, r) = call(addr, "POST", "/v1/events", Some(&token), "{\"events\":[");
    assert_eq!(s, 400);
    assert_eq!(r["code"], "bad_request");
    let (s, r) = call(
        addr,
        "POST",
        "/v1/events",
        Some(&token),
        &batch.replace("harsh_braking", "drifting"),
    );
    assert_eq!(s, 400);
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("unknown variant `drifting`"),
        "{r}"
    );
    let many = format!(
        r#"{{"events":[{}]}}"#,
        (0..501)
            .map(|i| event_json(&format!("m-{i}"), now, 60.0))
            .collect::<Vec<_>>()
            .join(",")
    );
    let (s, r) = call(addr, "POST", "/v1/events", Some(&token), &many);
    assert_eq!(s, 400, "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .starts_with("events: at most 500")
    );
    let huge = format!(r#"{{"events":[],"pad":"{}"}}"#, "x".repeat(2 << 20));
    let (s, _) = call(addr, "POST", "/v1/events", Some(&token), &huge);
    assert_eq!(s, 413);
    let (s, _) = call(addr, "POST", "/v1/events", None, &batch);
    assert_eq!(s, 401);
    let (s, _) = call(
        addr,
        "POST",
        "/v1/events",
        Some(&format!("{device}.wrong")),
        &batch,
    );
    assert_eq!(s, 401);
}

#[test]
fn another_fleets_admin_and_another_device_are_refused() {
    let (addr, _dir) = start(None);
    let (fleet_a, admin_a, driver_a, device_a, secret_a) = provision(addr);
    let (fleet_b, admin_b, _driver_b, device_b, secret_b) = provision(addr);
    // Fleet B's admin cannot add drivers or devices to fleet A (not even learn it exists).
    let (s, _) = call(
        addr,
        "POST",
        &format!("/v1/fleets/{fleet_a}/drivers"),
        Some(&admin_b),
        r#"{"name":"x"}"#,
    );
    assert_eq!(s, 404);
    let (s, _) = call(
        addr,
        "POST",
        &format!("/v1/fleets/{fleet_a}/drivers/{driver_a}/devices"),
        Some(&admin_b),
        "",
    );
    assert_eq!(s, 404);
    // Nor via its own fleet's path with A's driver.
    let (s, _) = call(
        addr,
        "POST",
        &format!("/v1/fleets/{fleet_b}/drivers/{driver_a}/devices"),
        Some(&admin_b),
        "",
    );
    assert_eq!(s, 404);
    // Only the operator creates fleets.
    let (s, _) = call(
        addr,
        "POST",
        "/v1/fleets",
        Some(&admin_a),
        r#"{"name":"x"}"#,
    );
    assert_eq!(s, 401);
    // Device B cannot overwrite device A's event id.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let e = format!(r#"{{"events":[{}]}}"#, event_json("shared-1", now, 60.0));
    let (_, r) = call(
        addr,
        "POST",
        "/v1/events",
        Some(&format!("{device_a}.{secret_a}")),
        &e,
    );
    assert_eq!(r["events"][0]["status"], "stored");
    let (_, r) = call(
        addr,
        "POST",
        "/v1/events",
        Some(&format!("{device_b}.{secret_b}")),
        &e,
    );
    assert_eq!(r["events"][0]["status"], "rejected");
}

#[test]
fn tiles_are_served_to_devices_only_by_geohash() {
    let world = safelane_fixtures::speeding::World::new(1);
    let tiles = tempfile::tempdir().unwrap();
    for (k, b) in &world.tiles {
        std::fs::write(tiles.path().join(format!("{k}.slmt")), b).unwrap();
    }
    let (addr, _dir) = start(Some(tiles.path().to_path_buf()));
    let (_, _, _, device, secret) = provision(addr);
    let (key, bytes) = world.tiles.iter().next().unwrap();
    let get = |path: &str, token: Option<String>| {
        let headers = token
            .map(|t| vec![("authorization".to_string(), format!("Bearer {t}"))])
            .unwrap_or_default();
        HttpTransport::default()
            .send(HttpRequest {
                method: "GET".into(),
                url: format!("http://{addr}{path}"),
                headers,
                body: vec![],
            })
            .unwrap()
    };
    let token = format!("{device}.{secret}");
    let r = get(&format!("/v1/tiles/{key}"), Some(token.clone()));
    assert_eq!(r.status, 200);
    assert_eq!(&r.body, bytes);
    assert_eq!(get("/v1/tiles/s0000", Some(token.clone())).status, 404);
    assert_eq!(
        get("/v1/tiles/..%2F..%2Fetc", Some(token.clone())).status,
        400
    );
    assert_eq!(get(&format!("/v1/tiles/{key}"), None).status, 401);
    // The SDK's tile update goes through the same endpoint.
    let sdk = Sdk::open(SdkConfig::new(VehicleProfile::Car, Platform::Android, None)).unwrap();
    let (lat, lon) = world.roads[0].points[0];
    let u = sdk
        .update_tiles(
            &HttpTransport::default(),
            &SyncConfig::new(&format!("http://{addr}"), &device, &secret),
            lat,
            lon,
            1_763_800_000_000,
        )
        .unwrap();
    assert!(u.fetched >= 1 && u.failed == 0, "{u:?}");
}
