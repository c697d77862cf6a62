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
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::client::{call, now_ms, provision};
use anyhow::Context;
use safelane_fixtures::eval::KindScore;
use safelane_fixtures::route::{RoadGraph, RouteStyle, simulate_route};
use safelane_fixtures::speeding::Interval;
use safelane_fixtures::vehicle::Rnd;
use safelane_map::sources::read_osm_pbf;
use safelane_map::store::write_tile_dir;
use safelane_map::tiles::{BuildOptions, build_tiles, split_roads};
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

/// The phone app's alert listener: counts the alerts and keeps the current
/// trip's, to score them against the simulator's truth.
#[derive(Default)]
struct Alerts {
    count: AtomicU64,
    trip: Mutex<Vec<WireEvent>>,
}
impl AlertListener for Alerts {
    fn on_event(&self, e: WireEvent) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.trip.lock().unwrap_or_else(|p| p.into_inner()).push(e);
    }
}

/// What one phone's week came to.
#[derive(Default)]
struct Week {
    trips: u64,
    secs: f64,
    km: f64,
    alerts: u64,
    /// Alerts against the truth, per harsh kind (`EventKind::ALL` order).
    harsh: Vec<KindScore>,
    /// Speeding alerts against the truth.
    speeding: KindScore,
}

/// Scores one trip's alerts: harsh kinds with the backtest's matching, and
/// speeding one to one by overlap (within 1 s). `t_of` turns Unix ms into
/// trip seconds.
fn score_trip(
    alerts: &[WireEvent],
    truth: &[safelane_trip::TruthEvent],
    speeding: &[Interval],
    t_of: impl Fn(i64) -> f64,
    week: &mut Week,
) {
    let harsh: Vec<safelane_core::Event> = alerts
        .iter()
        .filter_map(|e| {
            let kind = safelane_core::EventKind::parse(e.kind.as_str())?;
            let (start_s, end_s) = (t_of(e.start_unix_ms), t_of(e.end_unix_ms));
            Some(safelane_core::Event {
                kind,
                direction: e
                    .direction
                    .as_deref()
                    .and_then(safelane_core::Direction::parse),
                start_s,
                end_s,
                peak_mps2: e.peak_mps2.unwrap_or(0.0),
                severity: safelane_core::Severity::Moderate,
                confidence: e.confidence,
                speed_at_start_mps: e.speed_mps,
                position_at_peak: None,
                decided_s: end_s,
                late: false,
            })
        })
        .collect();
    let per_kind = safelane_fixtures::eval::score(&harsh, truth, 1.0);
    week.harsh.resize(per_kind.len(), KindScore::default());
    for (w, k) in week.harsh.iter_mut().zip(&per_kind) {
        w.add(k);
    }
    let found: Vec<(f64, f64)> = alerts
        .iter()
        .filter(|e| e.kind == Kind::Speeding)
        .map(|e| (t_of(e.start_unix_ms), t_of(e.end_unix_ms)))
        .collect();
    let mut used = vec![false; speeding.len()];
    for f in &found {
        let hit = speeding
            .iter()
            .enumerate()
            .find(|(j, t)| !used[*j] && f.1.min(t.end_s) - f.0.max(t.start_s) >= -1.0);
        match hit {
            Some((j, _)) => {
                used[j] = true;
                week.speeding.true_positives += 1;
            }
            None => week.speeding.false_positives += 1,
        }
    }
    week.speeding.false_negatives += used.iter().filter(|u| !**u).count() as u32;
}

struct Driver {
    id: i64,
    name: String,
    scenario: &'static str,
    token: String,
}

/// What every phone's week shares.
struct Fleet<'a> {
    /// First day driven (days since 1970, local).
    monday: i64,
    days: i64,
    /// The server.
    addr: SocketAddr,
    /// Folder of the phones' outbox databases.
    phones: &'a Path,
    graph: &'a RoadGraph,
    bar: &'a indicatif::ProgressBar,
}

/// One phone's week: trips through the SDK, then sync.
fn drive_week(d: &Driver, i: usize, f: &Fleet<'_>) -> anyhow::Result<Week> {
    let Fleet {
        monday,
        days,
        addr,
        phones,
        graph,
        bar,
    } = *f;
    let mut sc = safelane_fixtures::scenario::by_name(d.scenario).context("scenario")?;
    sc.duration_s = sc.duration_s.min(MAX_TRIP_S);
    // Driving style: careful, average or aggressive (how often over the
    // limit, how many harsh manoeuvres per km), on the scenario's vehicle
    // and phone mount.
    let style = [
        RouteStyle {
            speeding_share: 0.02,
            harsh_per_km: 0.005,
        },
        RouteStyle {
            speeding_share: 0.08,
            harsh_per_km: 0.02,
        },
        RouteStyle {
            speeding_share: 0.25,
            harsh_per_km: 0.08,
        },
    ][i % 3];
    let mut cfg = SdkConfig::new(
        sc.vehicle,
        Platform::Android,
        Some(phones.join(format!("phone-{}.db", d.id))),
    );
    cfg.utc_offset_min = 120;
    let sdk = Sdk::open(cfg)?;
    let alerts = Arc::new(Alerts::default());
    sdk.set_listener(Some(alerts.clone()))?;
    let (device, secret) = d.token.split_once('.').context("token")?;
    let sync = SyncConfig::new(&format!("http://{addr}"), device, secret);
    let mut week = Week::default();
    for day in monday..monday + days {
        for (k, hour) in [7.5, 17.0].into_iter().enumerate() {
            let seed = (i as u64) * 1000 + (day - monday) as u64 * 10 + k as u64;
            let mut rnd = Rnd::new(seed);
            let length_m = rnd.uniform(2500.0, 6000.0);
            let route = graph
                .random_route(&mut rnd, length_m)
                .context("no route on the map")?;
            let driven = simulate_route(&sc, &route, style, seed).context("route too short")?;
            let trip = &driven.trip;
            let start_ms = calendar::day_start_ms(day, 120)
                + (hour * 3_600_000.0) as i64
                + (i as i64 % 7) * 300_000;
            // The phone fetches the speed-limit tiles around it (cached in
            // its outbox database; the server serves them).
            if let Some(f) = trip.gps.first() {
                sdk.update_tiles(
                    &HttpTransport::default(),
                    &sync,
                    f.lat_deg,
                    f.lon_deg,
                    now_ms(),
                )?;
            }
            sdk.start_trip(start_ms, trip.imu.first().map_or(0.0, |x| x.t_s))?;
            crate::phone::push_trip(&sdk, trip)?;
            let s = sdk.stop_trip()?;
            let got = std::mem::take(&mut *alerts.trip.lock().unwrap_or_else(|p| p.into_inner()));
            let t0_s = trip.imu.first().map_or(0.0, |x| x.t_s);
            score_trip(
                &got,
                trip.truth.as_deref().unwrap_or_default(),
                &driven.speeding,
                |ms| (ms - start_ms) as f64 / 1000.0 + t0_s,
                &mut week,
            );
            week.trips += 1;
            week.secs += trip.duration_s();
            week.km += s.distance_m / 1000.0;
            bar.inc(1);
        }
    }
    let r = sdk.sync(&HttpTransport::default(), &sync, &mut ThreadSleeper)?;
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
    week.alerts = alerts.count.load(Ordering::Relaxed);
    Ok(week)
}

/// The OpenStreetMap extract of central Helsinki (`data/osm/`, ODbL).
const HELSINKI_PBF: &[u8] = include_bytes!("../../data/osm/helsinki.osm.pbf");

/// Writes the map and its tiles under `out` (`map/`, `tiles/`) and returns
/// the road graph.
fn prepare_map(out: &Path) -> anyhow::Result<RoadGraph> {
    let pbf = out.join("map").join("helsinki.osm.pbf");
    std::fs::create_dir_all(out.join("map"))?;
    std::fs::write(&pbf, HELSINKI_PBF)?;
    let (roads, _) = read_osm_pbf(&pbf)?;
    let opts = BuildOptions {
        data_version: safelane_core::tile::crc32(HELSINKI_PBF),
        ..BuildOptions::default()
    };
    let tiles = build_tiles(&split_roads(&roads, opts.max_segment_m)?, &opts)?;
    write_tile_dir(&out.join("tiles"), &tiles, crate::map::OSM_ATTRIBUTION)?;
    Ok(RoadGraph::new(&roads))
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

    // The map: central Helsinki from OpenStreetMap (built into the binary):
    // the road graph trips are driven on, and the speed-limit tiles the
    // server serves to the phones.
    let graph = prepare_map(out)?;

    // The server, on an embedded SQLite file, on loopback.
    let operator = format!("demo-operator-{}", std::process::id()).repeat(2);
    let mut server_cfg = ServerConfig::new(operator.clone());
    server_cfg.tiles_dir = Some(out.join("tiles"));
    let app = App::new(SqliteStore::open(&out.join("server.db"))?, server_cfg)?;
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
    let shared = Fleet {
        monday,
        days,
        addr,
        phones: &phones,
        graph: &graph,
        bar: &bar,
    };
    let results: Vec<anyhow::Result<Week>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|w| {
                let (fleet_drivers, shared) = (&fleet_drivers, &shared);
                s.spawn(move || {
                    fleet_drivers
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % 2 == w)
                        .map(|(i, d)| drive_week(d, i, shared))
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
    let mut harsh = vec![KindScore::default(); safelane_core::EventKind::ALL.len()];
    let mut speeding = KindScore::default();
    for r in results {
        let w = r?;
        trips += w.trips;
        secs += w.secs;
        km += w.km;
        alerts += w.alerts;
        for (a, b) in harsh.iter_mut().zip(&w.harsh) {
            a.add(b);
        }
        speeding.add(&w.speeding);
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
    writeln!(
        o,
        "  {:<18} {:>6} {:>6} {:>9} {:>7}   (alerts matched to the simulator's truth)",
        "events", "stored", "truth", "precision", "recall"
    )?;
    let ratio = |v: Option<f64>| v.map_or("-".to_owned(), |x| format!("{x:.3}"));
    for (k, kind) in Kind::ALL.iter().enumerate() {
        let score = if *kind == Kind::Speeding {
            Some(&speeding)
        } else {
            safelane_core::EventKind::parse(kind.as_str())
                .and_then(|e| safelane_core::EventKind::ALL.iter().position(|x| *x == e))
                .and_then(|i| harsh.get(i))
        };
        let (truth, p, r) = score.map_or((0, None, None), |s| {
            (
                s.true_positives + s.false_negatives,
                s.precision(),
                s.recall(),
            )
        });
        writeln!(
            o,
            "  {:<18} {:>6} {:>6} {:>9} {:>7}",
            kind.as_str(),
            by_kind[k],
            truth,
            ratio(p),
            ratio(r)
        )?;
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
