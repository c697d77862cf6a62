//! Reports over HTTP on SQLite and PostgreSQL: daily and weekly counts,
//! rates and instances, the score and its insight, the fleet overview, the
//! web page; every cross-tenant read refused; bad report input refused with
//! the field named; /metrics.

use crate::common::{
    Engine, OFFSET_MIN, call, call_raw, engines, event_json, last_monday, load_week, provision,
    start,
};
use safelane_server::calendar;

fn each(test: impl Fn(&Engine)) {
    for e in engines() {
        eprintln!("engine: {}", e.name());
        test(&e);
    }
}

#[test]
fn weekly_and_daily_reports_count_rate_list_and_score() {
    each(|e| {
        let srv = start(e, None);
        let addr = srv.addr;
        let fleet = provision(addr, 3, OFFSET_MIN);
        let monday = last_monday();
        load_week(addr, &fleet, monday);
        let (driver, token) = fleet.drivers[0].clone();
        let week = calendar::format_week(monday);
        let (s, r) = call(
            addr,
            "GET",
            &format!("/v1/drivers/{driver}/weeks/{week}"),
            Some(&token),
            "",
        );
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["period"], week);
        assert_eq!(r["driver_name"], "Driver 0");
        assert_eq!(r["utc_offset_min"], OFFSET_MIN);
        let t = &r["totals"];
        assert_eq!(t["counts"]["harsh_braking"], 3);
        assert_eq!(t["severe"]["harsh_braking"], 1);
        assert_eq!(t["counts"]["speeding"], 1);
        assert_eq!(t["counts"]["crash"], 0);
        assert_eq!(t["trips"], 2);
        assert!((t["distance_km"].as_f64().unwrap() - 100.0).abs() < 1e-9);
        assert!((t["driving_h"].as_f64().unwrap() - 2.0).abs() < 1e-9);
        assert!((t["per_100km"]["harsh_braking"].as_f64().unwrap() - 3.0).abs() < 1e-9);
        assert!((t["per_hour"]["harsh_braking"].as_f64().unwrap() - 1.5).abs() < 1e-9);
        // Per day, in the fleet's local time: 23:54 local Monday is still Monday.
        let days = r["days"].as_array().unwrap();
        assert_eq!(days.len(), 7);
        assert_eq!(days[0]["date"], calendar::format_date(monday));
        assert_eq!(days[0]["counts"]["harsh_braking"], 3);
        assert_eq!(days[3]["counts"]["speeding"], 1);
        // Instances: time, place, severity, speed.
        let inst = r["instances"].as_array().unwrap();
        assert_eq!(inst.len(), 4);
        assert_eq!(inst[0]["id"], "a-1");
        assert_eq!(
            inst[0]["local_time"],
            format!("{} 08:00:00", calendar::format_date(monday))
        );
        assert_eq!(inst[1]["severity"], "severe");
        assert!((inst[0]["lat"].as_f64().unwrap() - 60.17).abs() < 1e-9);
        assert!((inst[0]["speed_kmh"].as_f64().unwrap() - 45.0).abs() < 1e-4);
        // Score, confidence, insight, trend (4 weeks before, then this one).
        let sc = &r["score"];
        let v = sc["value"].as_f64().unwrap();
        assert!(
            v > 0.0
                && v <= 100.0
                && sc["low"].as_f64().unwrap() <= v
                && v <= sc["high"].as_f64().unwrap()
        );
        assert!((sc["confidence"].as_f64().unwrap() - 100.0 / 300.0).abs() < 1e-9);
        assert_eq!(sc["insight"]["kind"], "harsh_braking", "{}", sc["insight"]);
        assert!(sc["insight"]["points"].as_f64().unwrap() > 0.5);
        let trend = r["trend"].as_array().unwrap();
        assert_eq!(trend.len(), 5);
        assert_eq!(trend[3]["period"], calendar::format_week(monday - 7));
        assert!((trend[3]["distance_km"].as_f64().unwrap() - 80.0).abs() < 1e-9);
        assert!((trend[4]["score"].as_f64().unwrap() - v).abs() < 1e-9);

        // The daily report of Monday, read by the fleet admin.
        let date = calendar::format_date(monday);
        let (s, d) = call(
            addr,
            "GET",
            &format!("/v1/drivers/{driver}/days/{date}"),
            Some(&fleet.admin),
            "",
        );
        assert_eq!(s, 200, "{d}");
        assert_eq!(d["period"], date);
        assert_eq!(d["totals"]["counts"]["harsh_braking"], 3);
        assert_eq!(d["totals"]["trips"], 1);
        assert_eq!(d["instances"].as_array().unwrap().len(), 3);
        assert_eq!(d["trend"].as_array().unwrap().len(), 7);

        // The fleet overview ranks the clean driver first and the harsh one last.
        let (s, o) = call(
            addr,
            "GET",
            &format!("/v1/fleets/{}/weeks/{week}", fleet.id),
            Some(&fleet.admin),
            "",
        );
        assert_eq!(s, 200, "{o}");
        let ranked: Vec<i64> = o["drivers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["driver_id"].as_i64().unwrap())
            .collect();
        assert_eq!(
            ranked,
            vec![fleet.drivers[1].0, fleet.drivers[0].0, fleet.drivers[2].0]
        );
        assert_eq!(o["totals"]["counts"]["harsh_braking"], 15);
        assert!((o["totals"]["distance_km"].as_f64().unwrap() - 250.0).abs() < 1e-9);
        assert_eq!(o["drivers"][2]["insight"], "harsh_braking");
        let d0 = &o["drivers"][1];
        assert!(
            (d0["score"].as_f64().unwrap() - v).abs() < 1e-9,
            "overview and report agree"
        );
        assert!(d0["previous_score"].as_f64().unwrap() > 0.0);

        // The web page: HTML, locked down, the driver's numbers in it.
        let (s, page) = call_raw(
            addr,
            "GET",
            &format!("/v1/drivers/{driver}/weeks/{week}/page"),
            Some(&token),
            "",
        );
        assert_eq!(s, 200);
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("Driver 0 · week"));
        assert!(page.contains(&format!(">{v:.0}</span>")));
        let (s, js) = call_raw(addr, "GET", "/assets/chart-4.6.1.umd.min.js", None, "");
        assert_eq!(s, 200);
        assert!(js.len() > 100_000);
        assert_eq!(
            call_raw(addr, "GET", "/assets/../Cargo.toml", None, "").0,
            404
        );
    });
}

#[test]
fn every_cross_tenant_read_is_refused() {
    each(|e| {
        let srv = start(e, None);
        let addr = srv.addr;
        let a = provision(addr, 2, 0);
        let b = provision(addr, 1, 0);
        let monday = last_monday();
        let week = calendar::format_week(monday);
        let date = calendar::format_date(monday);
        let (a0, a0_token) = a.drivers[0].clone();
        let (a1, _) = a.drivers[1].clone();
        let (_, b0_token) = b.drivers[0].clone();
        let driver_paths = |d: i64| {
            vec![
                format!("/v1/drivers/{d}/weeks/{week}"),
                format!("/v1/drivers/{d}/days/{date}"),
                format!("/v1/drivers/{d}/weeks/{week}/page"),
            ]
        };
        // Allowed: the driver's own device, the driver's fleet admin.
        for p in driver_paths(a0) {
            assert_eq!(call(addr, "GET", &p, Some(&a0_token), "").0, 200, "{p}");
            assert_eq!(call(addr, "GET", &p, Some(&a.admin), "").0, 200, "{p}");
        }
        // Refused: another driver's device in the same fleet, another fleet's
        // admin and device, the operator, garbage, nobody; unknown drivers look the same.
        for p in driver_paths(a0).into_iter().chain(driver_paths(999_999)) {
            for (who, token) in [
                ("same-fleet device", Some(a.drivers[1].1.as_str())),
                ("other fleet admin", Some(b.admin.as_str())),
                ("other fleet device", Some(b0_token.as_str())),
                ("operator", Some(crate::common::OPERATOR)),
                ("garbage", Some("x.y")),
            ] {
                let (s, body) = call(addr, "GET", &p, token, "");
                assert!(s == 404 || s == 401, "{who} read {p}: {s}");
                assert!(body.get("score").is_none());
            }
            assert_eq!(call(addr, "GET", &p, None, "").0, 401);
        }
        let overview = format!("/v1/fleets/{}/weeks/{week}", a.id);
        assert_eq!(call(addr, "GET", &overview, Some(&a.admin), "").0, 200);
        for token in [b.admin.as_str(), a0_token.as_str(), crate::common::OPERATOR] {
            assert_eq!(call(addr, "GET", &overview, Some(token), "").0, 404);
        }
        assert_eq!(
            call(
                addr,
                "GET",
                &format!("/v1/drivers/{a1}/weeks/{week}"),
                Some(&a0_token),
                ""
            )
            .0,
            404
        );
    });
}

#[test]
fn bad_report_requests_name_the_field() {
    each(|e| {
        let srv = start(e, None);
        let addr = srv.addr;
        let a = provision(addr, 1, 0);
        let (d, token) = a.drivers[0].clone();
        for (path, field) in [
            (format!("/v1/drivers/{d}/weeks/2026-W60"), "week"),
            (format!("/v1/drivers/{d}/weeks/2026-47"), "week"),
            (format!("/v1/drivers/{d}/days/2026-02-30"), "date"),
            (format!("/v1/drivers/{d}/days/yesterday"), "date"),
            ("/v1/drivers/abc/weeks/2026-W47".to_string(), "driver"),
            ("/v1/drivers/-3/weeks/2026-W47".to_string(), "driver"),
            ("/v1/fleets/0/weeks/2026-W47".to_string(), "fleet"),
            (format!("/v1/fleets/{}/weeks/W47", a.id), "week"),
        ] {
            let tok = if path.starts_with("/v1/fleets") {
                &a.admin
            } else {
                &token
            };
            let (s, r) = call(addr, "GET", &path, Some(tok), "");
            assert_eq!(s, 400, "{path}: {r}");
            assert!(
                r["message"].as_str().unwrap().starts_with(field),
                "{path}: {r}"
            );
        }
        // Fleet creation checks its fields too.
        for (body, field) in [
            (r#"{"name":"x","utc_offset_min":9999}"#, "utc_offset_min"),
            (r#"{"name":""}"#, "name"),
            (r#"{"name":"a\u0000b"}"#, "name"),
            (r#"{"nom":"x"}"#, "body"),
        ] {
            let (s, r) = call(
                addr,
                "POST",
                "/v1/fleets",
                Some(crate::common::OPERATOR),
                body,
            );
            assert_eq!(s, 400, "{body}");
            assert!(
                r["message"].as_str().unwrap().starts_with(field),
                "{body}: {r}"
            );
        }
    });
}

#[test]
fn metrics_count_requests_and_events_without_secrets() {
    each(|e| {
        let srv = start(e, None);
        let addr = srv.addr;
        let fleet = provision(addr, 1, 0);
        let (_, token) = fleet.drivers[0].clone();
        let body = format!(
            r#"{{"events":[{}]}}"#,
            event_json(
                "m-1",
                "crash",
                "severe",
                crate::common::now_ms() - 1000,
                60.0
            )
        );
        assert_eq!(call(addr, "POST", "/v1/events", Some(&token), &body).0, 200);
        assert_eq!(call(addr, "POST", "/v1/events", Some(&token), &body).0, 200);
        let (s, m) = call_raw(addr, "GET", "/metrics", None, "");
        assert_eq!(s, 200);
        let m = String::from_utf8(m).unwrap();
        assert!(
            m.contains(r#"safelane_events_total{outcome="stored"} 1"#),
            "{m}"
        );
        assert!(
            m.contains(r#"safelane_events_total{outcome="duplicate"} 1"#),
            "{m}"
        );
        assert!(
            m.contains(
                r#"safelane_http_requests_total{method="POST",route="/v1/events",status="200"} 2"#
            ),
            "{m}"
        );
        assert!(m.contains("safelane_http_request_duration_seconds_bucket"));
        assert!(m.contains(r#"route="/v1/fleets/{fleet}/drivers/{driver}/devices""#));
        let secret = token.split_once('.').unwrap().1;
        assert!(!m.contains(secret) && !m.contains(&fleet.admin));
    });
}
