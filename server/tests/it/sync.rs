//! The real SDK syncing to the real server over loopback HTTP, on SQLite and
//! PostgreSQL: credentials, idempotent ingestion, bad input refused with the
//! field named, tiles, cross-tenant write refusals.

use crate::common::{Engine, call, engines, event_json, now_ms, provision, start};
use safelane_core::VehicleProfile;
use safelane_sdk::{
    HttpRequest, HttpTransport, Platform, PlatformGps, PlatformImu, Sdk, SdkConfig, SyncConfig,
    ThreadSleeper, Transport,
};

fn each(test: impl Fn(&Engine)) {
    for e in engines() {
        eprintln!("engine: {}", e.name());
        test(&e);
    }
}

fn sync_cfg(addr: std::net::SocketAddr, token: &str) -> SyncConfig {
    let (device, secret) = token.split_once('.').unwrap();
    SyncConfig::new(&format!("http://{addr}"), device, secret)
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

#[test]
fn the_sdk_syncs_a_trip_to_the_server_once() {
    each(|e| {
        let srv = start(e, None);
        let addr = srv.addr;
        let health = HttpTransport::default()
            .send(HttpRequest {
                method: "GET".into(),
                url: format!("http://{addr}/healthz"),
                headers: vec![],
                body: vec![],
            })
            .unwrap();
        assert_eq!(health.status, 200);
        let fleet = provision(addr, 1, 0);
        let (driver, token) = fleet.drivers[0].clone();
        let mut s = simulated_trip();
        let sdk = Sdk::open(SdkConfig::new(VehicleProfile::Car, Platform::Android, None)).unwrap();
        let start_ms = now_ms() - 3_600_000;
        sdk.start_trip(start_ms, s.0[0].timestamp * 1e-9).unwrap();
        for b in s.0.chunks(100) {
            sdk.push_imu(b).unwrap();
        }
        sdk.push_gps(&std::mem::take(&mut s.1)).unwrap();
        sdk.stop_trip().unwrap();
        let recorded = sdk.outbox_counts().unwrap().pending_events;
        assert!(recorded >= 1);
        let r = sdk
            .sync(
                &HttpTransport::default(),
                &sync_cfg(addr, &token),
                &mut ThreadSleeper,
            )
            .unwrap();
        assert_eq!(r.acknowledged, recorded);
        assert_eq!(r.trips, 1);
        assert_eq!(sdk.outbox_counts().unwrap().pending_events, 0);
        // The synced trip shows in the driver's daily report, counted once.
        let date =
            safelane_server::calendar::format_date(safelane_server::calendar::day_of(start_ms, 0));
        let (s, rep) = call(
            addr,
            "GET",
            &format!("/v1/drivers/{driver}/days/{date}"),
            Some(&token),
            "",
        );
        assert_eq!(s, 200, "{rep}");
        let counted: u64 = rep["totals"]["counts"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(counted, recorded);
        assert_eq!(rep["totals"]["trips"], 1);
        assert!(rep["totals"]["distance_km"].as_f64().unwrap() > 0.5);
    });
}

#[test]
fn duplicates_are_stored_once_and_bad_input_is_refused_with_the_field_named() {
    each(|e| {
        let srv = start(e, None);
        let addr = srv.addr;
        let fleet = provision(addr, 1, 0);
        let (_, token) = fleet.drivers[0].clone();
        let token = token.as_str();
        let now = now_ms();
        let ev = |id: &str, t: i64, lat: f64| event_json(id, "harsh_braking", "moderate", t, lat);
        let batch = format!(
            r#"{{"events":[{},{}]}}"#,
            ev("t1-1", now - 60_000, 60.1),
            ev("t1-2", now - 30_000, 60.1)
        );
        let (s, r) = call(addr, "POST", "/v1/events", Some(token), &batch);
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["events"][0]["status"], "stored");
        let (s, r) = call(addr, "POST", "/v1/events", Some(token), &batch);
        assert_eq!(s, 200);
        assert_eq!(r["events"][0]["status"], "duplicate");
        assert_eq!(r["events"][1]["status"], "duplicate");
        // The same id twice in one batch: stored once.
        let twice = format!(
            r#"{{"events":[{},{}]}}"#,
            ev("t1-9", now, 60.1),
            ev("t1-9", now, 60.1)
        );
        let (_, r) = call(addr, "POST", "/v1/events", Some(token), &twice);
        assert_eq!(r["events"][0]["status"], "stored", "{r}");
        assert_eq!(r["events"][1]["status"], "duplicate", "{r}");
        // Per-event refusals name the field; the good event in the batch is stored.
        let bad: [(&str, String); 9] = [
            ("start_unix_ms", ev("b-1", now + 3 * 86_400_000, 60.1)),
            ("lat", ev("b-2", now, 95.0)),
            ("start_unix_ms", ev("b-3", 1_000, 60.1)),
            ("id", ev("b 4", now, 60.1)),
            (
                "severity",
                ev("b-5", now, 60.1).replace("moderate", "extreme"),
            ),
            ("confidence", ev("b-6", now, 60.1).replace("0.9", "1.5")),
            ("speed_mps", ev("b-7", now, 60.1).replace("12.5", "1e9")),
            (
                "end_unix_ms",
                ev("b-8", now, 60.1)
                    .replace(&format!("{}", now + 1000), &format!("{}", now - 1000)),
            ),
            (
                "direction",
                ev("b-9", now, 60.1)
                    .replace("\"confidence\"", "\"direction\":\"up\",\"confidence\""),
            ),
        ];
        let mut items: Vec<String> = bad.iter().map(|(_, e)| e.clone()).collect();
        items.push(ev("t1-5", now, 60.2));
        let (s, r) = call(
            addr,
            "POST",
            "/v1/events",
            Some(token),
            &format!(r#"{{"events":[{}]}}"#, items.join(",")),
        );
        assert_eq!(s, 200, "{r}");
        for (i, (field, _)) in bad.iter().enumerate() {
            assert_eq!(r["events"][i]["status"], "rejected", "{field}");
            assert!(
                r["events"][i]["error"].as_str().unwrap().starts_with(field),
                "{field}: {}",
                r["events"][i]
            );
        }
        assert_eq!(r["events"][bad.len()]["status"], "stored");
        // Whole-batch errors: malformed JSON, NaN, an unknown kind, too many events, a huge body, no credentials.
        for body in ["{\"events\":[", "{\"events\":[{\"id\":NaN}]}", "[]", ""] {
            let (s, r) = call(addr, "POST", "/v1/events", Some(token), body);
            assert_eq!(s, 400, "{body}");
            assert_eq!(r["code"], "bad_request");
            assert!(r["message"].as_str().unwrap().starts_with("body:"), "{r}");
        }
        let (s, r) = call(
            addr,
            "POST",
            "/v1/events",
            Some(token),
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
                .map(|i| ev(&format!("m-{i}"), now, 60.0))
                .collect::<Vec<_>>()
                .join(",")
        );
        let (s, r) = call(addr, "POST", "/v1/events", Some(token), &many);
        assert_eq!(s, 400, "{r}");
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .starts_with("events: at most 500")
        );
        let huge = format!(r#"{{"events":[],"pad":"{}"}}"#, "x".repeat(2 << 20));
        let (s, _) = call(addr, "POST", "/v1/events", Some(token), &huge);
        assert_eq!(s, 413);
        let (s, _) = call(addr, "POST", "/v1/events", None, &batch);
        assert_eq!(s, 401);
        let device = token.split_once('.').unwrap().0;
        let (s, _) = call(
            addr,
            "POST",
            "/v1/events",
            Some(&format!("{device}.wrong")),
            &batch,
        );
        assert_eq!(s, 401);
        // Bad trips are refused by field too.
        let trips = r#"{"events":[],"trips":[{"id":"tr-1","start_unix_ms":1700000000000,"end_unix_ms":1700000600000,"distance_m":-5,"vehicle":"car","events":0},
                     {"id":"tr-2","start_unix_ms":1700000000000,"end_unix_ms":1700000600000,"distance_m":5000,"vehicle":"tank","events":0}]}"#;
        let (s, r) = call(addr, "POST", "/v1/events", Some(token), trips);
        assert_eq!(s, 200);
        assert!(
            r["trips"][0]["error"]
                .as_str()
                .unwrap()
                .starts_with("distance_m"),
            "{r}"
        );
        assert!(
            r["trips"][1]["error"]
                .as_str()
                .unwrap()
                .starts_with("vehicle"),
            "{r}"
        );
        // Nothing refused was stored: the week's report counts only the 4 good events.
        let (driver, _) = fleet.drivers[0];
        let week =
            safelane_server::calendar::format_week(safelane_server::calendar::day_of(now, 0));
        let (s, rep) = call(
            addr,
            "GET",
            &format!("/v1/drivers/{driver}/weeks/{week}"),
            Some(token),
            "",
        );
        assert_eq!(s, 200, "{rep}");
        let this_week = |t: i64| {
            safelane_server::calendar::format_week(safelane_server::calendar::day_of(t, 0)) == week
        };
        let expected = [now - 60_000, now - 30_000, now, now]
            .into_iter()
            .filter(|t| this_week(*t))
            .count();
        assert_eq!(rep["instances"].as_array().unwrap().len(), expected);
    });
}

#[test]
fn another_fleets_admin_and_another_device_cannot_write() {
    each(|e| {
        let srv = start(e, None);
        let addr = srv.addr;
        let a = provision(addr, 1, 0);
        let b = provision(addr, 1, 0);
        let (driver_a, token_a) = a.drivers[0].clone();
        let (_, token_b) = b.drivers[0].clone();
        // Fleet B's admin cannot add drivers or devices to fleet A (not even learn it exists).
        let cases: [(&str, String, &str); 4] = [
            (
                "POST",
                format!("/v1/fleets/{}/drivers", a.id),
                r#"{"name":"x"}"#,
            ),
            (
                "POST",
                format!("/v1/fleets/{}/drivers/{driver_a}/devices", a.id),
                "",
            ),
            (
                "POST",
                format!("/v1/fleets/{}/drivers/{driver_a}/devices", b.id),
                "",
            ),
            ("GET", format!("/v1/fleets/{}/drivers", a.id), ""),
        ];
        for (m, path, body) in &cases {
            assert_eq!(
                call(addr, m, path, Some(&b.admin), body).0,
                404,
                "{m} {path}"
            );
            assert_eq!(
                call(addr, m, path, Some(&token_b), body).0,
                404,
                "{m} {path} with a device token"
            );
            assert_eq!(
                call(addr, m, path, None, body).0,
                401,
                "{m} {path} without credentials"
            );
        }
        // Only the operator creates fleets.
        assert_eq!(
            call(
                addr,
                "POST",
                "/v1/fleets",
                Some(&a.admin),
                r#"{"name":"x"}"#
            )
            .0,
            401
        );
        assert_eq!(
            call(
                addr,
                "POST",
                "/v1/fleets",
                Some(&token_a),
                r#"{"name":"x"}"#
            )
            .0,
            401
        );
        // Device B cannot overwrite device A's event id.
        let e = format!(
            r#"{{"events":[{}]}}"#,
            event_json("shared-1", "harsh_braking", "moderate", now_ms(), 60.0)
        );
        let (_, r) = call(addr, "POST", "/v1/events", Some(&token_a), &e);
        assert_eq!(r["events"][0]["status"], "stored");
        let (_, r) = call(addr, "POST", "/v1/events", Some(&token_b), &e);
        assert_eq!(r["events"][0]["status"], "rejected");
        // An admin token is not a device token.
        assert_eq!(call(addr, "POST", "/v1/events", Some(&a.admin), &e).0, 401);
    });
}

#[test]
fn tiles_are_served_to_devices_only_by_geohash() {
    let world = safelane_fixtures::speeding::World::new(1);
    let tiles = tempfile::tempdir().unwrap();
    for (k, b) in &world.tiles {
        std::fs::write(tiles.path().join(format!("{k}.slmt")), b).unwrap();
    }
    each(|e| {
        let srv = start(e, Some(tiles.path().to_path_buf()));
        let addr = srv.addr;
        let fleet = provision(addr, 1, 0);
        let (_, token) = fleet.drivers[0].clone();
        let (key, bytes) = world.tiles.iter().next().unwrap();
        let get =
            |path: &str, token: Option<&str>| crate::common::call_raw(addr, "GET", path, token, "");
        let r = get(&format!("/v1/tiles/{key}"), Some(&token));
        assert_eq!(r.0, 200);
        assert_eq!(&r.1, bytes);
        assert_eq!(get("/v1/tiles/s0000", Some(&token)).0, 404);
        assert_eq!(get("/v1/tiles/..%2F..%2Fetc", Some(&token)).0, 400);
        assert_eq!(get(&format!("/v1/tiles/{key}"), None).0, 401);
        assert_eq!(get(&format!("/v1/tiles/{key}"), Some(&fleet.admin)).0, 401);
        // The SDK's tile update goes through the same endpoint.
        let sdk = Sdk::open(SdkConfig::new(VehicleProfile::Car, Platform::Android, None)).unwrap();
        let (lat, lon) = world.roads[0].points[0];
        let u = sdk
            .update_tiles(
                &HttpTransport::default(),
                &sync_cfg(addr, &token),
                lat,
                lon,
                1_763_800_000_000,
            )
            .unwrap();
        assert!(u.fetched >= 1 && u.failed == 0, "{u:?}");
    });
}

#[test]
fn a_busy_server_answers_429_with_retry_after_and_stores_nothing_of_that_batch() {
    each(|e| {
        // One ingestion request at a time: concurrent batches get 429.
        let srv = crate::common::start_with(e, |c| c.max_in_flight = 1);
        let addr = srv.addr;
        let fleet = provision(addr, 1, 0);
        let (_, token) = fleet.drivers[0].clone();
        let now = now_ms();
        let mut refused = None;
        for round in 0..20 {
            let handles: Vec<_> = (0..16)
                .map(|i| {
                    let token = token.clone();
                    std::thread::spawn(move || {
                        let id = format!("busy-{round}-{i}");
                        let events: Vec<String> = (0..100)
                            .map(|k| {
                                event_json(
                                    &format!("{id}-{k}"),
                                    "harsh_braking",
                                    "moderate",
                                    now - 60_000,
                                    60.0,
                                )
                            })
                            .collect();
                        let body = format!(r#"{{"events":[{}]}}"#, events.join(","));
                        let r = HttpTransport::default()
                            .send(HttpRequest {
                                method: "POST".into(),
                                url: format!("http://{addr}/v1/events"),
                                headers: vec![("authorization".into(), format!("Bearer {token}"))],
                                body: body.clone().into_bytes(),
                            })
                            .unwrap();
                        (r, body)
                    })
                })
                .collect();
            for h in handles {
                let (r, body) = h.join().unwrap();
                assert!(r.status == 200 || r.status == 429, "{}", r.status);
                if r.status == 429 {
                    let retry = r
                        .headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"));
                    assert_eq!(retry.map(|(_, v)| v.as_str()), Some("1"));
                    refused = Some(body);
                }
            }
            if refused.is_some() {
                break;
            }
        }
        // The refused batch, sent again when the server is idle, is stored now: nothing of it was kept.
        let body = refused.expect("16 concurrent batches never met a busy server in 20 rounds");
        let (s, r) = call(addr, "POST", "/v1/events", Some(&token), &body);
        assert_eq!(s, 200);
        assert!(
            r["events"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["status"] == "stored"),
            "{r}"
        );
        let (_, m) = crate::common::call_raw(addr, "GET", "/metrics", None, "");
        assert!(
            String::from_utf8(m)
                .unwrap()
                .contains("safelane_throttled_requests_total")
        );
    });
}
