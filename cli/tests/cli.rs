//! The `safelane` binary end to end: simulate a trip, analyze it, and the
//! errors a user sees for bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn safelane(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_safelane"))
        .args(args)
        .output()
        .expect("run safelane");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn simulate_then_analyze_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let trip = dir.path().join("trip");
    let trip_s = trip.to_str().unwrap();
    let (ok, out, err) = safelane(&[
        "simulate",
        "--scenario",
        "two-brakings",
        "--seed",
        "4",
        "--out",
        trip_s,
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("two-brakings"), "{out}");
    for f in [
        "imu.csv",
        "gps.csv",
        "truth.csv",
        "truth_orientation.csv",
        "manoeuvres.csv",
    ] {
        assert!(trip.join(f).exists(), "{f} missing");
    }

    let (ok, out, err) = safelane(&["analyze", trip_s, "--json", "--orientation"]);
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["orientation"]["state"], "locked");
    assert!(summary["imu"]["accepted"].as_u64().unwrap() > 10_000);
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "orientation" && l["state"] == "unknown")
    );

    let (ok, out, _) = safelane(&["analyze", trip_s]);
    assert!(ok);
    assert!(out.contains("orientation: locked"), "{out}");
}

#[test]
fn a_malformed_trip_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("imu.csv"),
        "t_s,ax,ay,az,gx,gy,gz\n0.0,0,0,9.8,,,\n0.1,0,zero,9.8,,,\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("gps.csv"),
        "t_s,lat,lon,speed_mps,bearing_deg,accuracy_m\n",
    )
    .unwrap();
    let (ok, _, err) = safelane(&["analyze", dir.path().to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("imu.csv:3") && err.contains("`zero`"), "{err}");

    std::fs::remove_file(dir.path().join("gps.csv")).unwrap();
    std::fs::write(dir.path().join("imu.csv"), "t_s,ax,ay,az,gx,gy,gz\n").unwrap();
    let (ok, _, err) = safelane(&["analyze", dir.path().to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("gps.csv") && err.contains("missing"), "{err}");
}

#[test]
fn an_unknown_scenario_lists_the_known_ones() {
    let (ok, _, err) = safelane(&["simulate", "--scenario", "mars", "--out", "/nonexistent"]);
    assert!(!ok);
    assert!(
        err.contains("unknown scenario `mars`") && err.contains("city-dash"),
        "{err}"
    );
}

#[test]
fn an_empty_trip_is_analyzed_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("imu.csv"), "t_s,ax,ay,az,gx,gy,gz\n").unwrap();
    std::fs::write(
        dir.path().join("gps.csv"),
        "t_s,lat,lon,speed_mps,bearing_deg,accuracy_m\n",
    )
    .unwrap();
    let (ok, out, err) = safelane(&["analyze", dir.path().to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("never locked"), "{out}");
}

#[test]
fn suite_then_backtest_with_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite");
    let suite_s = suite.to_str().unwrap();
    let (ok, out, err) = safelane(&["suite", "--out", suite_s, "--hours", "0.05"]);
    assert!(ok, "{err}");
    assert!(out.contains("wrote"), "{out}");

    let good = dir.path().join("good.json");
    std::fs::write(&good, r#"{"braking_mps2": 3.2}"#).unwrap();
    let (ok, out, err) = safelane(&["backtest", suite_s, "--config", good.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.contains("harsh_braking") && out.contains("precision"),
        "{out}"
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"braking_mps2": -1}"#).unwrap();
    let (ok, _, err) = safelane(&["backtest", suite_s, "--config", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("detection.braking_mps2"), "{err}");

    std::fs::write(&bad, r#"{"brakeing_mps2": 3.0}"#).unwrap();
    let (ok, _, err) = safelane(&["backtest", suite_s, "--config", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("brakeing_mps2"), "unknown field named: {err}");
}

#[test]
fn evaluate_with_an_orientation_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, r#"{"tilt_tau_s": 40}"#).unwrap();
    let good_s = good.to_str().unwrap();
    let args = ["evaluate", "--seeds", "1", "--scenario", "two-brakings"];
    let (ok, default_out, err) = safelane(&args);
    assert!(ok, "{err}");
    let (ok, out, err) = safelane(&[&args[..], &["--config", good_s]].concat());
    assert!(ok, "{err}");
    assert!(
        out.contains("two-brakings") && out.contains("tilt p95"),
        "{out}"
    );
    // The setting reaches the estimator: the figures move.
    assert_ne!(out, default_out);

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"heading_tau_s": 1}"#).unwrap();
    let (ok, _, err) = safelane(&[&args[..], &["--config", bad.to_str().unwrap()]].concat());
    assert!(!ok);
    assert!(err.contains("orientation.heading_tau_s"), "{err}");
    std::fs::write(&bad, r#"{"heading_tau": 60}"#).unwrap();
    let (ok, _, err) = safelane(&[&args[..], &["--config", bad.to_str().unwrap()]].concat());
    assert!(!ok);
    assert!(err.contains("heading_tau"), "unknown field named: {err}");
}

#[test]
fn map_build_then_speeding_on_a_written_drive() {
    let dir = tempfile::tempdir().unwrap();
    // Real OSM data into tiles.
    let tiles = dir.path().join("helsinki");
    let osm = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/osm/helsinki.osm.pbf");
    let (ok, out, err) = safelane(&[
        "map",
        "build",
        "--osm",
        osm,
        "--out",
        tiles.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(report["segments"].as_u64().unwrap() > 900, "{report}");
    // Central Helsinki fits one geohash-5 cell.
    assert_eq!(report["tiles"], 1);
    assert!(tiles.join("ud9wr.slmt").exists());
    assert!(
        std::fs::read_to_string(tiles.join("ATTRIBUTION.txt"))
            .unwrap()
            .contains("OpenStreetMap")
    );

    // A simulated drive with its map, analyzed with the tiles and the GeoJSON.
    let sim = dir.path().join("sim");
    let (ok, out, err) = safelane(&["speeding", "--trips", "1", "--out", sim.to_str().unwrap()]);
    assert!(ok, "{err}");
    let hour = out
        .split("--hour-of-week ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let drive = sim.join("drive-001");
    let (ok, out, err) = safelane(&[
        "analyze",
        drive.to_str().unwrap(),
        "--map",
        sim.join("tiles").to_str().unwrap(),
        "--hour-of-week",
        &hour,
        "--json",
    ]);
    assert!(ok, "{err}");
    let speeding: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["kind"] == "speeding")
        .collect();
    assert!(speeding.len() >= 3, "{out}");
    for e in &speeding {
        assert!(e["max_excess_kmh"].as_f64().unwrap() > 0.0);
        assert!(e["duration_s"].as_f64().unwrap() >= 10.0);
        let source = e["threshold_source"].as_str().unwrap();
        assert!(source == "posted" || source == "crowd", "{source}");
    }
    // Without a map nothing is assumed.
    let (ok, out, _) = safelane(&["analyze", drive.to_str().unwrap()]);
    assert!(ok && out.contains("speeding: not checked"), "{out}");
    // A corrupt tile is named.
    let tile = std::fs::read_dir(sim.join("tiles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "slmt"))
        .unwrap();
    let mut bytes = std::fs::read(&tile).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&tile, &bytes).unwrap();
    let (ok, _, err) = safelane(&[
        "analyze",
        drive.to_str().unwrap(),
        "--map",
        sim.join("tiles").to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(err.contains("checksum") && err.contains(".slmt"), "{err}");
    // A bad GeoJSON is named too.
    let bad = dir.path().join("bad.geojson");
    std::fs::write(&bad, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"highway\":\"primary\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[1,2],[3]]}}]}").unwrap();
    let (ok, _, err) = safelane(&[
        "analyze",
        drive.to_str().unwrap(),
        "--map",
        bad.to_str().unwrap(),
    ]);
    assert!(
        !ok && err.contains("features[0].geometry.coordinates[1]"),
        "{err}"
    );
}

#[test]
fn map_profile_from_a_pings_csv_and_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, _, err) = safelane(&[
        "map",
        "crowd-eval",
        "--drivers",
        "12",
        "--weeks",
        "2",
        "--write",
        d.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{err}");
    let out_dir = d.join("tiles");
    let (ok, out, err) = safelane(&[
        "map",
        "profile",
        "--pings",
        d.join("pings.csv").to_str().unwrap(),
        "--map",
        d.join("map").to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--min-drivers",
        "8",
        "--chunk-records",
        "20000",
        "--json",
    ]);
    assert!(ok, "{err}");
    let r: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(r["published"].as_u64().unwrap() > 50, "{r}");
    assert!(r["runs"].as_u64().unwrap() > 1, "{r}");
    let manifest = std::fs::read_to_string(out_dir.join("manifest.csv")).unwrap();
    let crowd: u64 = manifest
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert!(crowd > 50, "{manifest}");

    // A bad row is named by file, line and column; nothing is written.
    let bad = d.join("bad.csv");
    std::fs::write(&bad, "driver_id,t_unix_s,lat,lon,speed_mps,accuracy_m\nd1,1704067200,60.25,25.05,12.5,5\nd2,1704067201,60.25,east,12.5,5\n").unwrap();
    let out2 = d.join("tiles2");
    let profile_bad = || {
        safelane(&[
            "map",
            "profile",
            "--pings",
            bad.to_str().unwrap(),
            "--map",
            d.join("map").to_str().unwrap(),
            "--out",
            out2.to_str().unwrap(),
        ])
    };
    let (ok, _, err) = profile_bad();
    assert!(!ok);
    assert!(err.contains("bad.csv:3") && err.contains("lon"), "{err}");
    assert!(!out2.exists(), "nothing written");
    std::fs::write(&bad, "driver,time,lat,lon\n").unwrap();
    let (ok, _, err) = profile_bad();
    assert!(
        !ok && err.contains("bad.csv:1") && err.contains("wrong header"),
        "{err}"
    );
}

#[test]
fn the_demo_drives_syncs_and_writes_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let (ok, stdout, stderr) = safelane(&[
        "demo",
        "--drivers",
        "3",
        "--days",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("trips              6"), "{stdout}");
    let reports = out.join("reports");
    let overview: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("fleet.json")).unwrap()).unwrap();
    let drivers = overview["drivers"].as_array().unwrap();
    assert_eq!(drivers.len(), 3);
    // Every phone's events reached the server: the reports count what the SDK alerted.
    let alerts: u64 = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("real-time alerts"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    let reported: u64 = drivers.iter().map(|d| d["events"].as_u64().unwrap()).sum();
    assert_eq!(reported, alerts);
    for d in drivers {
        let id = d["driver_id"].as_i64().unwrap();
        let page = std::fs::read_to_string(reports.join(format!("driver-{id}.html"))).unwrap();
        assert!(page.contains("src=\"assets/chart-4.6.1.umd.min.js\""));
        let r: serde_json::Value = serde_json::from_slice(
            &std::fs::read(reports.join(format!("driver-{id}.json"))).unwrap(),
        )
        .unwrap();
        assert!(r["totals"]["distance_km"].as_f64().unwrap() > 1.0);
        assert_eq!(r["totals"]["trips"], 2);
    }
    assert!(reports.join("assets/chart-4.6.1.umd.min.js").exists());
    assert!(
        std::fs::read_to_string(reports.join("index.html"))
            .unwrap()
            .contains("driver-")
    );
}
