//! The weekly report page in a real headless Chromium (Debian's package,
//! driven by playwright-core from `scripts/browser.sh`), on SQLite and
//! PostgreSQL: the charts are drawn from the report's data, the screenshot
//! shows each kind's colour exactly when that kind happened, the trend line
//! is drawn, no script error, the page's CSP holds. Screenshots are kept
//! under `target/tmp/` (the docs show one).

use crate::common::{call, engines, last_monday, load_week, provision, start};
use safelane_server::{calendar, web};
use safelane_wire::Kind;

/// The node_modules folder with playwright-core and pngjs, or None when
/// `SAFELANE_TEST_BROWSER=skip`.
fn node_modules() -> Option<String> {
    match std::env::var("SAFELANE_TEST_BROWSER_MODULES") {
        Ok(m) => Some(m),
        Err(_) if std::env::var("SAFELANE_TEST_BROWSER").as_deref() == Ok("skip") => {
            eprintln!("SAFELANE_TEST_BROWSER=skip: browser test skipped");
            None
        }
        Err(_) => panic!(
            "SAFELANE_TEST_BROWSER_MODULES is not set: run ./test.sh, or \
             `export SAFELANE_TEST_BROWSER_MODULES=$(scripts/browser.sh)`, or set SAFELANE_TEST_BROWSER=skip"
        ),
    }
}

#[test]
fn the_weekly_report_renders_its_charts_in_chromium() {
    let Some(modules) = node_modules() else {
        return;
    };
    for e in engines() {
        let srv = start(&e, None);
        let addr = srv.addr;
        let fleet = provision(addr, 3, crate::common::OFFSET_MIN);
        let monday = last_monday();
        load_week(addr, &fleet, monday);
        let (driver, token) = fleet.drivers[0].clone();
        let week = calendar::format_week(monday);
        let (_, report) = call(
            addr,
            "GET",
            &format!("/v1/drivers/{driver}/weeks/{week}"),
            Some(&token),
            "",
        );
        let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("weekly-report-{}.png", e.name()));
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/report.mjs");
        let mut colours: Vec<&str> = web::KIND_COLORS.to_vec();
        colours.push(web::TREND_COLOR);
        let out = std::process::Command::new("node")
            .arg(&script)
            .arg(format!(
                "http://{addr}/v1/drivers/{driver}/weeks/{week}/page"
            ))
            .arg(&token)
            .arg(&shot)
            .args(&colours)
            .env("SAFELANE_NODE_MODULES", &modules)
            .output()
            .expect("node");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        eprintln!(
            "{}: screenshot {} ({}x{})",
            e.name(),
            shot.display(),
            seen["width"],
            seen["height"]
        );
        assert_eq!(seen["status"], 200);
        assert_eq!(
            seen["errors"].as_array().unwrap().len(),
            0,
            "{}",
            seen["errors"]
        );
        assert_eq!(seen["csp"], web::CSP);
        assert!(seen["title"].as_str().unwrap().starts_with("Driver 0"));
        assert_eq!(seen["instanceRows"], 4);
        let score = report["score"]["value"].as_f64().unwrap();
        assert_eq!(seen["score"].as_str().unwrap(), format!("{score:.0}"));
        assert!(
            seen["insight"]
                .as_str()
                .unwrap()
                .starts_with("Harsh braking cost")
        );
        // The bar chart holds the report's counts, day by day, per kind.
        let by_day = &seen["charts"]["byDay"];
        assert_eq!(by_day["labels"][0], calendar::format_date(monday));
        for (i, kind) in Kind::ALL.iter().enumerate() {
            let data: Vec<u64> = by_day["datasets"][i]["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            let want: Vec<u64> = report["days"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["counts"][kind.as_str()].as_u64().unwrap())
                .collect();
            assert_eq!(data, want, "{kind:?}");
            // In the screenshot: a kind's colour shows exactly when it happened.
            let pixels = seen["pixels"][web::KIND_COLORS[i]].as_u64().unwrap();
            if want.iter().sum::<u64>() > 0 {
                assert!(
                    pixels > 200,
                    "{kind:?}: {pixels} pixels of {}",
                    web::KIND_COLORS[i]
                );
            } else {
                assert_eq!(pixels, 0, "{kind:?} did not happen but its colour shows");
            }
        }
        // The trend line: five weeks, drawn.
        let trend = &seen["charts"]["trend"]["datasets"][0]["data"];
        assert_eq!(trend.as_array().unwrap().len(), 5);
        assert!((trend[4].as_f64().unwrap() - (score * 10.0).round() / 10.0).abs() < 1e-9);
        assert!(seen["pixels"][web::TREND_COLOR].as_u64().unwrap() > 100);
    }
}
