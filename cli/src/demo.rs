//! `safelane demo`: a small fleet's week, end to end, the way a customer
//! runs it. Drivers (cars and motorcycles, varied phone mounts) drive
//! simulated trips; every trip goes through the SDK exactly as a phone pushes
//! it (Android batches of 100 IMU samples, fixes in between, alerts counted
//! by an `AlertListener`, a file outbox per phone), each phone syncs through
//! its outbox to a server started here on an embedded SQLite database over
//! loopback HTTP, and the weekly reports (web pages and JSON) and the fleet
//! overview are written to a folder.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::client::{call, now_ms, provision};
use anyhow::Context;
use safelane_sdk::{
    AlertListener, HttpTransport, Platform, Sdk, SdkConfig, SyncConfig, ThreadSleeper,
};
use safelane_server::{App, ServerConfig, SqliteStore, calendar, web};
use safelane_wire::{Kind, WireEvent};

/// The phone mounts and vehicles drivers get, in turn (simulator scenarios).
const CARS: [&str; 8] = [
    "city-dash",
    "highway-dash",
    "hills-dash",
    "cup-holder",
    "pocket",
    "hand-held",
    "no-gyro",
    "remount",
];
const MOTORCYCLES: [&str; 2] = ["moto-handlebar", "moto-pocket"];
/// Longest simulated trip, s (keeps the demo under a minute).
const MAX_TRIP_S: f64 = 600.0;

#[derive(Default)]
struct Alerts(AtomicU64);
impl AlertListener for Alerts {
    fn on_event(&self, _: WireEvent) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

struct Driver {
    id: i64,
    name: String,
    scenario: &'static str,
    token: String,
}

/// One phone's week: trips through the SDK, then sync. Returns (trips, s, km, alerts).
fn drive_week(
    d: &Driver,
    i: usize,
    monday: i64,
    days: i64,
    addr: SocketAddr,
    phones: &Path,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<(u64, f64, f64, u64)> {
    let mut sc = safelane_fixtures::scenario::by_name(d.scenario).context("scenario")?;
    sc.duration_s = sc.duration_s.min(MAX_TRIP_S);
    // Driving style: the share of trips driven like the scenario's own plan
    // (dense with harsh manoeuvres, as the detection tests need); the rest
    // are calm trips of the same vehicle (the "calm" plan).
    let mut calm = safelane_fixtures::scenario::by_name("calm").context("scenario calm")?;
    calm.duration_s = calm.duration_s.min(MAX_TRIP_S);
    calm.vehicle = sc.vehicle;
    calm.phone = sc.phone.clone();
    let harsh_share = [0.01, 0.04, 0.12][i % 3];
    let mut cfg = SdkConfig::new(
        sc.vehicle,
        Platform::Android,
        Some(phones.join(format!("phone-{}.db", d.id))),
    );
    cfg.utc_offset_min = 120;
    let sdk = Sdk::open(cfg)?;
    let alerts = Arc::new(Alerts::default());
    sdk.set_listener(Some(alerts.clone()))?;
    let (mut trips, mut secs, mut km) = (0, 0.0, 0.0);
    for day in monday..monday + days {
        for (k, hour) in [7.5, 17.0].into_iter().enumerate() {
            let seed = (i as u64) * 1000 + (day - monday) as u64 * 10 + k as u64;
            // A fixed per-trip draw, so reruns give the same week.
            let draw =
                (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as f64 / (1u64 << 24) as f64;
            let plan = if draw < harsh_share { &sc } else { &calm };
            let trip = safelane_fixtures::simulate(plan, seed);
            let start_ms = calendar::day_start_ms(day, 120)
                + (hour * 3_600_000.0) as i64
                + (i as i64 % 7) * 300_000;
            sdk.start_trip(start_ms, trip.imu.first().map_or(0.0, |x| x.t_s))?;
            crate::phone::push_trip(&sdk, &trip)?;
            let s = sdk.stop_trip()?;
            trips += 1;
            secs += trip.duration_s();
            km += s.distance_m / 1000.0;
            bar.inc(1);
        }
    }
    let (device, secret) = d.token.split_once('.').context("token")?;
    let r = sdk.sync(
        &HttpTransport::default(),
        &SyncConfig::new(&format!("http://{addr}"), device, secret),
        &mut ThreadSleeper,
    )?;
    anyhow::ensure!(
        r.rejected == 0,
        "{}: the server refused {} events",
        d.name,
        r.rejected
    );
    anyhow::ensure!(
        sdk.outbox_counts()?.pending_events == 0,
        "{}: events left unsynced",
        d.name
    );
    Ok((trips, secs, km, alerts.0.load(Ordering::Relaxed)))
}

/// Runs the demo; reports go to `out`.
pub fn run(out: &Path, drivers: usize, days: i64) -> anyhow::Result<()> {
    anyhow::ensure!((1..=200).contains(&drivers), "--drivers: 1..200");
    anyhow::ensure!((1..=7).contains(&days), "--days: 1..7");
    let started = Instant::now();
    if out.exists() {
        std::fs::remove_dir_all(out).with_context(|| format!("clearing {}", out.display()))?;
    }
    let (phones, reports) = (out.join("phones"), out.join("reports"));
    std::fs::create_dir_all(&phones)?;
    std::fs::create_dir_all(reports.join("assets"))?;

    // The server, on an embedded SQLite file, on loopback.
    let operator = format!("demo-operator-{}", std::process::id()).repeat(2);
    let app = App::new(
        SqliteStore::open(&out.join("server.db"))?,
        ServerConfig::new(operator.clone()),
    )?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.spawn(async move {
        match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => {
                if let Err(e) = safelane_server::serve(l, app).await {
                    eprintln!("server: {e}");
                }
            }
            Err(e) => eprintln!("server: {e}"),
        }
    });

    // The fleet: one in five drivers rides a motorcycle.
    let plan: Vec<(String, &'static str)> = (0..drivers)
        .map(|i| {
            let (who, scenario) = if i % 5 == 4 {
                ("Rider", MOTORCYCLES[(i / 5) % 2])
            } else {
                ("Driver", CARS[i % 8])
            };
            (format!("{who} {} ({scenario})", i + 1), scenario)
        })
        .collect();
    let names: Vec<String> = plan.iter().map(|(n, _)| n.clone()).collect();
    let fleet = provision(
        addr,
        &operator,
        r#"{"name":"Demo Deliveries","utc_offset_min":120}"#,
        &names,
    )?;
    let fleet_drivers: Vec<Driver> = plan
        .into_iter()
        .zip(fleet.drivers)
        .map(|((name, scenario), (id, token))| Driver {
            id,
            name,
            scenario,
            token,
        })
        .collect();
    let (admin, fleet) = (fleet.admin, fleet.id);

    // Last week (Monday to Sunday, the fleet's local time): complete reports.
    let today = calendar::day_of(now_ms(), 120);
    let monday = today - calendar::weekday(today) - 7;
    let week = calendar::format_week(monday);
    let bar = indicatif::ProgressBar::new((drivers as i64 * days * 2) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "driving {bar:40} {pos}/{len} trips through the SDK, {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let results: Vec<anyhow::Result<(u64, f64, f64, u64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|w| {
                let (fleet_drivers, phones, bar) = (&fleet_drivers, &phones, &bar);
                s.spawn(move || {
                    fleet_drivers
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % 2 == w)
                        .map(|(i, d)| drive_week(d, i, monday, days, addr, phones, bar))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    bar.finish_and_clear();
    let (mut trips, mut secs, mut km, mut alerts) = (0, 0.0, 0.0, 0);
    for r in results {
        let (t, s, k, a) = r?;
        trips += t;
        secs += s;
        km += k;
        alerts += a;
    }

    // Reports: JSON and pages per driver, the fleet overview, an index.
    std::fs::write(
        reports.join("assets").join(web::CHART_JS_NAME),
        web::CHART_JS,
    )?;
    std::fs::write(
        reports.join("assets").join(web::REPORT_JS_NAME),
        web::REPORT_JS,
    )?;
    let mut by_kind = [0u64; 6];
    let mut scores = Vec::new();
    for d in &fleet_drivers {
        let json = call(
            addr,
            "GET",
            &format!("/v1/drivers/{}/weeks/{week}", d.id),
            &admin,
            "",
        )?;
        let r: serde_json::Value = serde_json::from_slice(&json)?;
        for (k, kind) in Kind::ALL.iter().enumerate() {
            by_kind[k] += r["totals"]["counts"][kind.as_str()].as_u64().unwrap_or(0);
        }
        scores.push((
            r["score"]["value"].as_f64().unwrap_or(f64::NAN),
            d.name.clone(),
        ));
        std::fs::write(reports.join(format!("driver-{}.json", d.id)), &json)?;
        let page = call(
            addr,
            "GET",
            &format!("/v1/drivers/{}/weeks/{week}/page", d.id),
            &admin,
            "",
        )?;
        // The folder's pages load the scripts from ./assets.
        let page = String::from_utf8(page)?.replace("src=\"/assets/", "src=\"assets/");
        std::fs::write(reports.join(format!("driver-{}.html", d.id)), page)?;
    }
    let overview = call(
        addr,
        "GET",
        &format!("/v1/fleets/{fleet}/weeks/{week}"),
        &admin,
        "",
    )?;
    std::fs::write(reports.join("fleet.json"), &overview)?;
    let o: serde_json::Value = serde_json::from_slice(&overview)?;
    let mut index = format!(
        "<!doctype html><meta charset=\"utf-8\"><title>Demo Deliveries, week {week}</title>\n<h1>Demo Deliveries, week {week}</h1>\n<table>\n<tr><th>Rank</th><th>Driver</th><th>Score</th><th>km</th><th>Events</th><th>Change</th></tr>\n"
    );
    for d in o["drivers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        index.push_str(&format!(
            "<tr><td>{}</td><td><a href=\"driver-{}.html\">{}</a></td><td>{:.0}</td><td>{:.0}</td><td>{}</td><td>{:+.1}</td></tr>\n",
            d["rank"],
            d["driver_id"],
            web::escape(d["name"].as_str().unwrap_or_default()),
            d["score"].as_f64().unwrap_or(0.0),
            d["distance_km"].as_f64().unwrap_or(0.0),
            d["events"],
            d["change"].as_f64().unwrap_or(0.0),
        ));
    }
    index.push_str("</table>\n");
    std::fs::write(reports.join("index.html"), index)?;

    scores.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "safelane demo: {drivers} drivers, week {week} ({days} days)"
    )?;
    writeln!(o, "  trips              {trips}")?;
    writeln!(o, "  hours driven       {:.1}", secs / 3600.0)?;
    writeln!(o, "  km driven          {km:.0}")?;
    for (k, kind) in Kind::ALL.iter().enumerate() {
        writeln!(o, "  {:<18} {}", kind.as_str(), by_kind[k])?;
    }
    writeln!(
        o,
        "  real-time alerts   {alerts} (each event as the phone recorded it)"
    )?;
    if let (Some(lo), Some(hi)) = (scores.first(), scores.last()) {
        writeln!(
            o,
            "  scores             {:.0} ({}) to {:.0} ({}), median {:.0}",
            lo.0,
            lo.1,
            hi.0,
            hi.1,
            scores[scores.len() / 2].0
        )?;
    }
    writeln!(
        o,
        "  time taken         {:.1} s",
        started.elapsed().as_secs_f64()
    )?;
    writeln!(o, "reports: {} (open index.html)", reports.display())?;
    Ok(())
}
