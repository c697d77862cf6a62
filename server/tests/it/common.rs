//! The test harness: the real server on port 0 of loopback, over SQLite (a
//! fresh file) and over PostgreSQL (a fresh database on the server that
//! `scripts/postgres.sh` starts; `./test.sh` exports its URL in
//! `SAFELANE_TEST_POSTGRES_URL`). Every test runs on both engines.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use safelane_sdk::{HttpRequest, HttpTransport, Transport};
use safelane_server::{App, PgStore, ServerConfig, SqliteStore};

pub const OPERATOR: &str = "operator-token-for-tests-0123456789";

/// A database engine to run a test on.
#[derive(Clone, Debug)]
pub enum Engine {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database on this PostgreSQL server (admin URL).
    Postgres(String),
}

impl Engine {
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres(_) => "postgres",
        }
    }
}

/// SQLite, and PostgreSQL unless `SAFELANE_TEST_POSTGRES=skip` (then the
/// PostgreSQL half is skipped loudly; without the URL and without the skip,
/// the test fails: the suite must not pass silently on one engine).
pub fn engines() -> Vec<Engine> {
    let mut v = vec![Engine::Sqlite];
    match std::env::var("SAFELANE_TEST_POSTGRES_URL") {
        Ok(url) => v.push(Engine::Postgres(url)),
        Err(_) if std::env::var("SAFELANE_TEST_POSTGRES").as_deref() == Ok("skip") => {
            eprintln!("SAFELANE_TEST_POSTGRES=skip: PostgreSQL half skipped");
        }
        Err(_) => panic!(
            "SAFELANE_TEST_POSTGRES_URL is not set: run ./test.sh (it starts PostgreSQL), or \
             `export SAFELANE_TEST_POSTGRES_URL=$(scripts/postgres.sh)`, or set SAFELANE_TEST_POSTGRES=skip"
        ),
    }
    v
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// A database name unique to this process and call.
fn fresh_db_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t_{}_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Creates an empty database on the PostgreSQL server and returns its URL.
pub async fn fresh_postgres(admin_url: &str) -> String {
    let (client, conn) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let name = fresh_db_name();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let base = admin_url.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

/// Starts the server on `engine` with default settings.
pub fn start(engine: &Engine, tiles: Option<PathBuf>) -> Server {
    start_with(engine, |c| c.tiles_dir = tiles)
}

/// Starts the server on `engine` with adjusted settings.
pub fn start_with(engine: &Engine, adjust: impl FnOnce(&mut ServerConfig)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = ServerConfig::new(OPERATOR.into());
    adjust(&mut cfg);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let engine_c = engine.clone();
    let db = dir.path().join("server.db");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            match engine_c {
                Engine::Sqlite => {
                    let app = App::new(SqliteStore::open(&db).unwrap(), cfg).unwrap();
                    tx.send(()).unwrap();
                    safelane_server::serve(l, app).await.unwrap();
                }
                Engine::Postgres(admin) => {
                    let url = fresh_postgres(&admin).await;
                    let app = App::new(PgStore::open(&url, 8).await.unwrap(), cfg).unwrap();
                    tx.send(()).unwrap();
                    safelane_server::serve(l, app).await.unwrap();
                }
            }
        });
    });
    rx.recv().expect("server failed to start");
    Server { addr, _dir: dir }
}

/// One HTTP call; the reply's status and JSON body (Null when not JSON).
pub fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value) {
    let (s, b) = call_raw(addr, method, path, token, body);
    (
        s,
        serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null),
    )
}

/// One HTTP call; the reply's status and body bytes.
pub fn call_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, Vec<u8>) {
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
    (r.status, r.body)
}

/// A provisioned fleet.
#[derive(Clone, Debug)]
pub struct Fleet {
    pub id: i64,
    pub admin: String,
    /// (driver id, device token `<id>.<secret>`).
    pub drivers: Vec<(i64, String)>,
}

/// A fleet with `drivers` drivers, one device each.
pub fn provision(addr: SocketAddr, drivers: usize, utc_offset_min: i32) -> Fleet {
    let (s, f) = call(
        addr,
        "POST",
        "/v1/fleets",
        Some(OPERATOR),
        &format!(r#"{{"name":"Acme Deliveries","utc_offset_min":{utc_offset_min}}}"#),
    );
    assert_eq!(s, 201, "{f}");
    let id = f["fleet_id"].as_i64().unwrap();
    let admin = f["admin_token"].as_str().unwrap().to_owned();
    let drivers = (0..drivers)
        .map(|i| {
            let (s, d) = call(
                addr,
                "POST",
                &format!("/v1/fleets/{id}/drivers"),
                Some(&admin),
                &format!(r#"{{"name":"Driver {i}"}}"#),
            );
            assert_eq!(s, 201, "{d}");
            let driver = d["driver_id"].as_i64().unwrap();
            let (s, dev) = call(
                addr,
                "POST",
                &format!("/v1/fleets/{id}/drivers/{driver}/devices"),
                Some(&admin),
                "",
            );
            assert_eq!(s, 201, "{dev}");
            (
                driver,
                format!(
                    "{}.{}",
                    dev["device_id"].as_str().unwrap(),
                    dev["device_secret"].as_str().unwrap()
                ),
            )
        })
        .collect();
    Fleet { id, admin, drivers }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// An event as JSON.
pub fn event_json(id: &str, kind: &str, severity: &str, start_ms: i64, lat: f64) -> String {
    format!(
        r#"{{"id":"{id}","trip_id":"t1","kind":"{kind}","severity":"{severity}","start_unix_ms":{start_ms},"end_unix_ms":{},"confidence":0.9,"lat":{lat},"lon":24.9,"speed_mps":12.5,"peak_mps2":3.9}}"#,
        start_ms + 1000
    )
}

/// A trip summary as JSON.
pub fn trip_json(id: &str, start_ms: i64, minutes: i64, distance_m: f64) -> String {
    format!(
        r#"{{"id":"{id}","start_unix_ms":{start_ms},"end_unix_ms":{},"distance_m":{distance_m},"vehicle":"car","events":0}}"#,
        start_ms + minutes * 60_000
    )
}

pub const OFFSET_MIN: i32 = 120;

/// Last week's Monday (local), so every event lies in the past.
pub fn last_monday() -> i64 {
    let today = safelane_server::calendar::day_of(now_ms(), OFFSET_MIN);
    today - safelane_server::calendar::weekday(today) - 7
}

/// Local time `h` hours into local day `day`, Unix ms.
pub fn at(day: i64, h: f64) -> i64 {
    safelane_server::calendar::day_start_ms(day, OFFSET_MIN) + (h * 3_600_000.0) as i64
}

/// Driver 0: 3 harsh brakes (1 severe) on Monday, 1 speeding on Thursday,
/// 100 km in 2 h. Driver 1: a clean 100 km. Driver 2: 12 harsh brakes in
/// 50 km. Driver 0 also drove 80 km the week before, with 1 harsh brake.
pub fn load_week(addr: SocketAddr, fleet: &Fleet, monday: i64) {
    let send = |token: &str, events: Vec<String>, trips: Vec<String>| {
        let body = format!(
            r#"{{"events":[{}],"trips":[{}]}}"#,
            events.join(","),
            trips.join(",")
        );
        let (s, r) = call(addr, "POST", "/v1/events", Some(token), &body);
        assert_eq!(s, 200, "{r}");
        for e in r["events"]
            .as_array()
            .unwrap()
            .iter()
            .chain(r["trips"].as_array().unwrap())
        {
            assert_eq!(e["status"], "stored", "{e}");
        }
    };
    let t0 = &fleet.drivers[0].1;
    send(
        t0,
        vec![
            event_json("a-1", "harsh_braking", "moderate", at(monday, 8.0), 60.17),
            event_json("a-2", "harsh_braking", "severe", at(monday, 8.5), 60.18),
            event_json("a-3", "harsh_braking", "moderate", at(monday, 23.9), 60.19),
            event_json("a-4", "speeding", "moderate", at(monday + 3, 12.0), 60.2),
            event_json(
                "a-0",
                "harsh_braking",
                "moderate",
                at(monday - 5, 9.0),
                60.2,
            ),
        ],
        vec![
            trip_json("ta-1", at(monday, 7.5), 60, 50_000.0),
            trip_json("ta-2", at(monday + 3, 11.5), 60, 50_000.0),
            trip_json("ta-0", at(monday - 5, 8.5), 90, 80_000.0),
        ],
    );
    send(
        &fleet.drivers[1].1,
        vec![],
        vec![trip_json("tb-1", at(monday + 1, 9.0), 120, 100_000.0)],
    );
    send(
        &fleet.drivers[2].1,
        (0..12)
            .map(|i| {
                event_json(
                    &format!("c-{i}"),
                    "harsh_braking",
                    "moderate",
                    at(monday + 2, 9.0 + f64::from(i) * 0.05),
                    60.3,
                )
            })
            .collect(),
        vec![trip_json("tc-1", at(monday + 2, 8.9), 60, 50_000.0)],
    );
}
