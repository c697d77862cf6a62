//! Ping ingestion on SQLite and PostgreSQL: coarsened on arrival, bad pings
//! refused with the field named and nothing stored, export readable by the
//! crowd-profile builder, retention.

use crate::common::{Engine, OPERATOR, call, call_raw, engines, now_ms, provision, start};
use safelane_server::store::{PingRow, PingStore};
use safelane_server::{PgStore, SqliteStore};

fn pings_json(t0: i64, n: usize, lat: f64) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"t_unix_ms":{},"lat":{},"lon":24.9412345,"speed_mps":13.94,"accuracy_m":4.4,"bearing_deg":90.2}}"#,
                t0 + i as i64 * 1000,
                lat + i as f64 * 1e-5
            )
        })
        .collect();
    format!(r#"{{"pings":[{}]}}"#, items.join(","))
}

#[test]
fn pings_are_coarsened_validated_and_exported_for_profiles() {
    for e in engines() {
        let srv = start(&e, None);
        let addr = srv.addr;
        let fleet = provision(addr, 2, 0);
        let t0 = now_ms() - 600_000;
        for (_, token) in &fleet.drivers {
            let (s, r) = call(
                addr,
                "POST",
                "/v1/pings",
                Some(token),
                &pings_json(t0, 120, 60.1712345),
            );
            assert_eq!(s, 200, "{r}");
            assert_eq!(r["stored"], 120);
        }
        // A bad ping refuses the body, names it, stores nothing.
        let bad = pings_json(t0, 5, 60.17).replacen(r#""speed_mps":13.94"#, r#""speed_mps":-1"#, 1);
        let (s, r) = call(addr, "POST", "/v1/pings", Some(&fleet.drivers[0].1), &bad);
        assert_eq!(s, 400, "{r}");
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .starts_with("pings[0].speed_mps"),
            "{r}"
        );
        let many = pings_json(t0, 2001, 60.0);
        let (s, r) = call(addr, "POST", "/v1/pings", Some(&fleet.drivers[0].1), &many);
        assert_eq!(s, 400);
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .starts_with("pings: at most 2000")
        );
        assert_eq!(
            call(addr, "POST", "/v1/pings", None, &pings_json(t0, 1, 60.0)).0,
            401
        );
        assert_eq!(
            call(
                addr,
                "POST",
                "/v1/pings",
                Some(&fleet.admin),
                &pings_json(t0, 1, 60.0)
            )
            .0,
            401
        );

        // Export: operator only, bounded range, CSV the profile builder reads.
        let from = t0 / 1000 - 120;
        let path = format!(
            "/v1/pings/export?from_unix_s={from}&to_unix_s={}",
            from + 3600
        );
        for token in [fleet.admin.as_str(), fleet.drivers[0].1.as_str()] {
            assert_eq!(call_raw(addr, "GET", &path, Some(token), "").0, 401);
        }
        let (s, r) = call(
            addr,
            "GET",
            "/v1/pings/export?from_unix_s=10&to_unix_s=5",
            Some(OPERATOR),
            "",
        );
        assert_eq!(s, 400);
        assert!(r["message"].as_str().unwrap().starts_with("to_unix_s"));
        let (s, r) = call(
            addr,
            "GET",
            "/v1/pings/export?from_unix_s=x",
            Some(OPERATOR),
            "",
        );
        assert_eq!(s, 400);
        assert!(r["message"].as_str().unwrap().starts_with("from_unix_s"));
        let (s, csv) = call_raw(addr, "GET", &path, Some(OPERATOR), "");
        assert_eq!(s, 200);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pings.csv");
        std::fs::write(&file, &csv).unwrap();
        let pings: Vec<_> = safelane_map::profile::read_pings_csv(&file)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(pings.len(), 240, "the bad bodies stored nothing");
        let drivers: std::collections::BTreeSet<&str> =
            pings.iter().map(|p| p.driver_id.as_str()).collect();
        assert_eq!(drivers.len(), 2, "one weekly pseudonym per driver");
        for p in &pings {
            assert!((p.t_unix_s % 60.0).abs() < 1e-9);
            assert!(((p.lat_deg * 1e4).round() - p.lat_deg * 1e4).abs() < 1e-6);
            assert!((p.lon_deg - 24.9412).abs() < 1e-9);
            assert!((f64::from(p.speed_mps) - 13.9).abs() < 1e-4);
            assert_eq!(p.driver_id.len(), 16);
        }
        eprintln!("{}: pings ok", e.name());
    }
}

fn row(t: i64) -> PingRow {
    PingRow {
        pseudonym: "p".into(),
        t_unix_s: t,
        lat: 60.0,
        lon: 24.0,
        speed_mps: 10.0,
        accuracy_m: 5.0,
        bearing_deg: None,
    }
}

async fn retention<S: PingStore>(s: &S) {
    s.insert_pings((0..10).map(|i| row(1_700_000_000 + i * 86_400)).collect())
        .await
        .unwrap();
    assert_eq!(s.prune_pings(1_700_000_000 + 4 * 86_400).await.unwrap(), 4);
    let left = s.export_pings(0, i64::MAX).await.unwrap();
    assert_eq!(left.len(), 6);
    assert_eq!(left[0].t_unix_s, 1_700_000_000 + 4 * 86_400);
    // The salt is created once and kept.
    let salt = s.ping_salt().await.unwrap();
    assert_eq!(salt.len(), 64);
    assert_eq!(s.ping_salt().await.unwrap(), salt);
}

#[test]
fn pings_past_retention_are_deleted() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for e in engines() {
        rt.block_on(async {
            match &e {
                Engine::Sqlite => {
                    let dir = tempfile::tempdir().unwrap();
                    retention(&SqliteStore::open(&dir.path().join("p.db")).unwrap()).await;
                }
                Engine::Postgres(admin) => {
                    let url = crate::common::fresh_postgres(admin).await;
                    retention(&PgStore::open(&url, 2).await.unwrap()).await;
                }
            }
        });
    }
}
