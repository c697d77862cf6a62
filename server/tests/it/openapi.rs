//! The OpenAPI document: served at /v1/openapi.json, generated from the
//! code, covering every route, equal to the committed `docs/openapi.json`
//! (`UPDATE_SNAPSHOTS=1 cargo test -p safelane-server --test openapi`
//! rewrites it after an intended change).

use crate::common::{call_raw, engines, start};

#[test]
fn the_served_document_covers_every_route_and_matches_the_committed_copy() {
    let e = engines().remove(0);
    let srv = start(&e, None);
    let (s, body) = call_raw(srv.addr, "GET", "/v1/openapi.json", None, "");
    assert_eq!(s, 200);
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/healthz", "get"),
        ("/metrics", "get"),
        ("/v1/openapi.json", "get"),
        ("/v1/fleets", "post"),
        ("/v1/fleets/{fleet}/drivers", "post"),
        ("/v1/fleets/{fleet}/drivers", "get"),
        ("/v1/fleets/{fleet}/drivers/{driver}/devices", "post"),
        ("/v1/fleets/{fleet}/weeks/{week}", "get"),
        ("/v1/events", "post"),
        ("/v1/pings", "post"),
        ("/v1/pings/export", "get"),
        ("/v1/tiles/{key}", "get"),
        ("/v1/drivers/{driver}/days/{date}", "get"),
        ("/v1/drivers/{driver}/weeks/{week}", "get"),
        ("/v1/drivers/{driver}/weeks/{week}/page", "get"),
        ("/assets/{name}", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    assert_eq!(paths.len(), 15);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "EventBatch",
        "WireEvent",
        "BatchReply",
        "DriverReport",
        "FleetOverview",
        "Score",
        "Insight",
        "Kind",
    ] {
        assert!(schemas.contains_key(s), "schema {s} missing");
    }
    // The wire contract as the SDK sends it: required fields are required.
    let required = schemas["WireEvent"]["required"].as_array().unwrap();
    for f in [
        "id",
        "trip_id",
        "kind",
        "severity",
        "start_unix_ms",
        "end_unix_ms",
        "confidence",
    ] {
        assert!(required.iter().any(|r| r == f), "{f}");
    }
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let served = String::from_utf8(body).unwrap();
    if std::env::var("UPDATE_SNAPSHOTS").is_ok() {
        std::fs::write(&committed, &served).unwrap();
    }
    let want = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        want == served,
        "docs/openapi.json differs from the served document: run with UPDATE_SNAPSHOTS=1 and review the diff"
    );
}
