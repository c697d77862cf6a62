//! `safelane load`: the server under load from this separate process, on
//! loopback, and the raw insert rate of the same database engine measured in
//! the same run, so the server's overhead is a ratio.
//!
//! 1. A fresh database (an SQLite file, or a new database on a PostgreSQL
//!    server), optionally seeded with `--seed-events` events through the
//!    store (for report latency at scale).
//! 2. `safelane serve` started as a child process on it.
//! 3. Peak: `--workers` threads post batches of `--batch` events from
//!    `--devices` devices as fast as the server answers, `--seconds` long.
//! 4. Paced: the same at `--rate` events/s; latency is measured from each
//!    request's scheduled time (no coordinated omission).
//! 5. Reports (seeded runs): weekly and daily reports of random seeded
//!    drivers and weeks, and fleet overviews, one at a time.
//! 6. Raw engine: the same event rows inserted into a fresh database of the
//!    same schema in transactions of `--batch` rows, no HTTP, JSON, auth or
//!    roll-ups (SQLite: one writer; PostgreSQL: `--workers` connections,
//!    one multi-row `UNNEST` insert per batch).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::client::{now_ms, provision, request, start_server};
use crate::soak::{Sample, percentile};
use anyhow::{Context, bail};
use safelane_server::store::{NewBatch, NewEvent, NewTrip};
use safelane_server::{PgStore, SqliteStore, Store, calendar, hash_secret};
use safelane_wire::{Kind, WireEvent};

/// `safelane load` settings.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Database engine: sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    pub engine: String,
    /// PostgreSQL admin URL (fresh databases are created on it).
    #[arg(long, env = "SAFELANE_TEST_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    /// Devices posting.
    #[arg(long, default_value_t = 64)]
    pub devices: usize,
    /// Events per batch.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Seconds per phase.
    #[arg(long, default_value_t = 20.0)]
    pub seconds: f64,
    /// Paced phase rate, events/s (0 skips it).
    #[arg(long, default_value_t = 10_000.0)]
    pub rate: f64,
    /// Client threads.
    #[arg(long, default_value_t = 16)]
    pub workers: usize,
    /// Events stored before the run, for report latency at scale (0: none).
    #[arg(long, default_value_t = 0)]
    pub seed_events: u64,
    /// Drivers the seeded events belong to (200 per fleet).
    #[arg(long, default_value_t = 2000)]
    pub seed_drivers: usize,
    /// Report requests measured in seeded runs.
    #[arg(long, default_value_t = 1000)]
    pub report_queries: usize,
    /// Write the figures as JSON here too.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Folder for the SQLite files (default: the system temp folder).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Soak: seconds of sustained paced load after the peak phase (0: none).
    #[arg(long, default_value_t = 0.0)]
    pub soak_seconds: f64,
    /// Soak rate, events/s (0: half the peak this run measured).
    #[arg(long, default_value_t = 0.0)]
    pub soak_rate: f64,
    /// Soak output folder: soak.csv, soak.svg, soak.json.
    #[arg(long, default_value = "out/soak")]
    pub soak_out: PathBuf,
}

const OPERATOR: &str = "load-generator-operator-token-0123456789";
const KINDS: [(Kind, u32); 6] = [
    (Kind::HarshBraking, 30),
    (Kind::HarshAcceleration, 25),
    (Kind::HarshCornering, 15),
    (Kind::HarshLaneChange, 10),
    (Kind::Crash, 1),
    (Kind::Speeding, 19),
];

/// A small deterministic generator (SplitMix64): load data needs no crypto.
struct Mix(u64);
impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn kind(&mut self) -> Kind {
        let mut r = self.below(100) as u32;
        for (k, w) in KINDS {
            if r < w {
                return k;
            }
            r -= w;
        }
        Kind::HarshBraking
    }
}

fn event(mix: &mut Mix, id: String, trip: &str, start_ms: i64) -> WireEvent {
    let kind = mix.kind();
    WireEvent {
        id,
        trip_id: trip.to_owned(),
        kind,
        direction: matches!(kind, Kind::HarshCornering | Kind::HarshLaneChange)
            .then(|| if mix.below(2) == 0 { "left" } else { "right" }.to_owned()),
        severity: if mix.below(10) == 0 {
            "severe"
        } else {
            "moderate"
        }
        .to_owned(),
        start_unix_ms: start_ms,
        end_unix_ms: start_ms + 800 + mix.below(2000) as i64,
        peak_mps2: Some(3.0 + mix.below(300) as f32 / 100.0),
        speed_mps: Some(5.0 + mix.below(2500) as f32 / 100.0),
        lat: Some(60.1 + mix.below(10_000) as f64 * 1e-5),
        lon: Some(24.9 + mix.below(10_000) as f64 * 1e-5),
        confidence: 0.9,
        speeding: None,
    }
}

/// Latency summary, ms.
#[derive(Debug, Clone, serde::Serialize)]
struct Latency {
    requests: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn latency(mut v: Vec<f64>) -> Latency {
    v.sort_by(f64::total_cmp);
    Latency {
        requests: v.len(),
        p50_ms: percentile(&v, 0.5),
        p99_ms: percentile(&v, 0.99),
        max_ms: v.last().copied().unwrap_or(f64::NAN),
    }
}

/// One phase's figures.
#[derive(Debug, Clone, serde::Serialize)]
struct Phase {
    events_per_s: f64,
    errors: u64,
    throttled: u64,
    latency: Latency,
}

/// Posts batches from `workers` threads for `seconds`; `rate` > 0 paces them.
fn drive(addr: SocketAddr, tokens: &[String], a: &Args, rate: f64, tag: &str) -> Phase {
    drive_for(addr, tokens, a, rate, tag, a.seconds).0
}

/// As [`drive`], for `seconds`, also returning every request's sample.
fn drive_for(
    addr: SocketAddr,
    tokens: &[String],
    a: &Args,
    rate: f64,
    tag: &str,
    seconds: f64,
) -> (Phase, Vec<Sample>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (ok_events, errors, throttled) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let interval =
        (rate > 0.0).then(|| Duration::from_secs_f64(a.batch as f64 * a.workers as f64 / rate));
    let t0 = Instant::now();
    let handles: Vec<_> = (0..a.workers)
        .map(|w| {
            let tokens: Vec<String> = tokens.iter().skip(w).step_by(a.workers).cloned().collect();
            let (stop, ok_events, errors, throttled) = (
                stop.clone(),
                ok_events.clone(),
                errors.clone(),
                throttled.clone(),
            );
            let (batch, tag) = (a.batch, tag.to_owned());
            std::thread::spawn(move || {
                let mut mix = Mix(w as u64 * 7919 + 1);
                let mut lat = Vec::new();
                let mut next = Instant::now()
                    + interval.map_or(Duration::ZERO, |i| i.mul_f64(w as f64 / 8.0 % 1.0));
                let mut seq = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if interval.is_some() {
                        let now = Instant::now();
                        if next > now {
                            std::thread::sleep(next - now);
                        }
                    }
                    let token = &tokens[seq as usize % tokens.len().max(1)];
                    let trip = format!("{tag}{w}x{seq}");
                    let base = now_ms() - 3_600_000;
                    let events: Vec<WireEvent> = (0..batch)
                        .map(|i| {
                            event(
                                &mut mix,
                                format!("{trip}-{i}"),
                                &trip,
                                base + i as i64 * 1000,
                            )
                        })
                        .collect();
                    let body = serde_json::to_vec(&serde_json::json!({ "events": events }))
                        .unwrap_or_default();
                    let scheduled = if interval.is_some() {
                        next
                    } else {
                        Instant::now()
                    };
                    let ok = match request(addr, "POST", "/v1/events", Some(token), body) {
                        Ok((200, _)) => {
                            ok_events.fetch_add(batch as u64, Ordering::Relaxed);
                            true
                        }
                        Ok((429, _)) => {
                            throttled.fetch_add(1, Ordering::Relaxed);
                            false
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            false
                        }
                    };
                    lat.push(Sample {
                        done_s: t0.elapsed().as_secs_f64(),
                        latency_ms: scheduled.elapsed().as_secs_f64() * 1000.0,
                        ok,
                    });
                    if let Some(i) = interval {
                        next += i;
                    }
                    seq += 1;
                }
                lat
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.join().unwrap_or_default());
    }
    let secs = t0.elapsed().as_secs_f64();
    let phase = Phase {
        events_per_s: ok_events.load(Ordering::Relaxed) as f64 / secs,
        errors: errors.load(Ordering::Relaxed),
        throttled: throttled.load(Ordering::Relaxed),
        latency: latency(all.iter().map(|s| s.latency_ms).collect()),
    };
    (phase, all)
}

/// The soak phase: `rate` events/s for `--soak-seconds`, 10 s windows,
/// server memory from /proc; CSV, SVG and JSON into `--soak-out`.
fn soak(
    child: &crate::client::ServerChild,
    addr: SocketAddr,
    tokens: &[String],
    a: &Args,
    rate: f64,
) -> anyhow::Result<serde_json::Value> {
    eprintln!("soak phase at {rate:.0} events/s, {} s", a.soak_seconds);
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = crate::soak::sample_rss(child.0.id(), stop.clone());
    let (phase, samples) = drive_for(addr, tokens, a, rate, "s", a.soak_seconds);
    stop.store(true, Ordering::Relaxed);
    let rss = sampler.join().unwrap_or_default();
    let w = crate::soak::windows(&samples, &rss, a.batch, a.soak_seconds, 10.0);
    // Memory: the median of the second minute against the last minute's.
    let median = |from: f64, to: f64| {
        let mut v: Vec<u64> = rss
            .iter()
            .filter(|r| r.0 >= from && r.0 < to)
            .map(|r| r.1)
            .collect();
        v.sort_unstable();
        v.get(v.len() / 2).map_or(f64::NAN, |k| *k as f64 / 1024.0)
    };
    let (early, late) = (
        median(60.0, 120.0),
        median(a.soak_seconds - 60.0, a.soak_seconds),
    );
    let worst_p99 = w.iter().map(|x| x.p99_ms).fold(0.0f64, f64::max);
    let title = format!(
        "safelane serve ({}), {rate:.0} events/s for {:.0} s: latency per 10 s window and server memory",
        a.engine, a.soak_seconds
    );
    crate::soak::write(&a.soak_out, &w, &title)?;
    let v = serde_json::json!({
        "rate": rate, "seconds": a.soak_seconds, "result": phase,
        "worst_window_p99_ms": worst_p99,
        "rss_mib_second_minute": early, "rss_mib_last_minute": late,
        "windows": w,
    });
    std::fs::write(a.soak_out.join("soak.json"), serde_json::to_vec_pretty(&v)?)?;
    eprintln!(
        "soak: {:.0} events/s stored, p50 {:.1} ms, p99 {:.1} ms (worst 10 s window {worst_p99:.1} ms), {} errors, {} 429s; server RSS {early:.1} MiB in minute 2, {late:.1} MiB in the last minute; {}",
        phase.events_per_s,
        phase.latency.p50_ms,
        phase.latency.p99_ms,
        phase.errors,
        phase.throttled,
        a.soak_out.join("soak.svg").display()
    );
    Ok(v)
}

/// The rows the raw insert writes: what the server stores per event.
fn raw_rows(
    n: usize,
    mix: &mut Mix,
    prefix: &str,
) -> Vec<(String, String, &'static str, String, i64, i64, String)> {
    let base = now_ms() - 3_600_000;
    (0..n)
        .map(|i| {
            let e = event(mix, format!("{prefix}-{i}"), prefix, base + i as i64);
            let body = serde_json::to_string(&e).unwrap_or_default();
            (
                e.id,
                e.trip_id,
                e.kind.as_str(),
                e.severity,
                e.start_unix_ms,
                e.end_unix_ms,
                body,
            )
        })
        .collect()
}

fn raw_sqlite(path: &std::path::Path, a: &Args) -> anyhow::Result<f64> {
    drop(SqliteStore::open(path)?); // the server's schema
    let mut c = rusqlite::Connection::open(path)?;
    let _: String = c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    c.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;")?;
    c.execute(
        "INSERT INTO fleets (name, admin_token_hash, created_unix_ms) VALUES ('raw', '', 0)",
        [],
    )?;
    c.execute(
        "INSERT INTO drivers (fleet_id, name, created_unix_ms) VALUES (1, 'raw', 0)",
        [],
    )?;
    let mut mix = Mix(42);
    let mut rows = 0u64;
    let mut b = 0u64;
    // Only the engine's time counts: rows are made between the clock readings.
    let mut db_time = Duration::ZERO;
    while db_time.as_secs_f64() < a.seconds {
        let batch = raw_rows(a.batch, &mut mix, &format!("raw{b}"));
        let started = Instant::now();
        let tx = c.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO events (id, driver_id, trip_id, kind, severity, start_unix_ms, end_unix_ms, body) VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for r in &batch {
                st.execute(rusqlite::params![r.0, r.1, r.2, r.3, r.4, r.5, r.6])?;
            }
        }
        tx.commit()?;
        db_time += started.elapsed();
        rows += batch.len() as u64;
        b += 1;
    }
    Ok(rows as f64 / db_time.as_secs_f64())
}

async fn raw_postgres(url: &str, a: &Args) -> anyhow::Result<f64> {
    drop(PgStore::open(url, 1).await?); // the server's schema
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    c.batch_execute(
        "INSERT INTO fleets (name, admin_token_hash, created_unix_ms) VALUES ('raw', '', 0);
         INSERT INTO drivers (fleet_id, name, created_unix_ms) VALUES (1, 'raw', 0);",
    )
    .await?;
    let rows = Arc::new(AtomicU64::new(0));
    // Only the engine's time counts: each connection sums the time its
    // inserts took; rows are made between the clock readings.
    let db_micros = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..a.workers {
        let (url, rows, batch_n, seconds) = (url.to_owned(), rows.clone(), a.batch, a.seconds);
        let db_micros = db_micros.clone();
        tasks.push(tokio::spawn(async move {
            let (mut c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            tokio::spawn(conn);
            let mut mix = Mix(w as u64 + 99);
            let mut b = 0u64;
            while t0.elapsed().as_secs_f64() < seconds {
                let batch = raw_rows(batch_n, &mut mix, &format!("raw{w}x{b}"));
                let ids: Vec<&str> = batch.iter().map(|r| r.0.as_str()).collect();
                let trips: Vec<&str> = batch.iter().map(|r| r.1.as_str()).collect();
                let kinds: Vec<&str> = batch.iter().map(|r| r.2).collect();
                let sev: Vec<&str> = batch.iter().map(|r| r.3.as_str()).collect();
                let s: Vec<i64> = batch.iter().map(|r| r.4).collect();
                let e: Vec<i64> = batch.iter().map(|r| r.5).collect();
                let bodies: Vec<&str> = batch.iter().map(|r| r.6.as_str()).collect();
                let started = Instant::now();
                let tx = c.transaction().await?;
                tx.execute(
                    "INSERT INTO events (id, driver_id, trip_id, kind, severity, start_unix_ms, end_unix_ms, body)
                     SELECT u.id, 1, u.t, u.k, u.s, u.a, u.b, u.body
                     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[]) AS u(id, t, k, s, a, b, body)",
                    &[&ids, &trips, &kinds, &sev, &s, &e, &bodies],
                )
                .await?;
                tx.commit().await?;
                db_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                rows.fetch_add(batch.len() as u64, Ordering::Relaxed);
                b += 1;
            }
            Ok::<(), tokio_postgres::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let per_connection_s = db_micros.load(Ordering::Relaxed) as f64 / 1e6 / a.workers as f64;
    Ok(rows.load(Ordering::Relaxed) as f64 / per_connection_s)
}

async fn fresh_postgres(admin: &str, name: &str) -> anyhow::Result<String> {
    let (c, conn) = tokio_postgres::connect(admin, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .await?;
    c.batch_execute(&format!("CREATE DATABASE {name}")).await?;
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    Ok(format!("{base}/{name}"))
}

/// Seeded drivers: (driver id, fleet id, fleet admin token).
type Seeded = Vec<(i64, i64, String)>;

/// Seeds `n` events and two trips a day for `drivers` drivers (200 per
/// fleet) over the 52 weeks before the current one, through the store.
async fn seed<S: Store>(store: &S, n: u64, drivers: usize) -> anyhow::Result<(Seeded, f64)> {
    let mut seeded = Vec::with_capacity(drivers);
    let mut fleet = (0, String::new());
    for d in 0..drivers {
        if d % 200 == 0 {
            let token = format!("seed-admin-{d}-{}", now_ms());
            let id = store
                .create_fleet(format!("seed {}", d / 200), hash_secret(&token), 0, 0)
                .await?;
            fleet = (id, token);
        }
        let id = store
            .create_driver(fleet.0, format!("seed driver {d}"), 0)
            .await?;
        seeded.push((id, fleet.0, fleet.1.clone()));
    }
    let today = calendar::day_of(now_ms(), 0);
    let first_day = today - calendar::weekday(today) - 52 * 7;
    let days = 52 * 7;
    let per_driver = n / drivers as u64;
    let bar = indicatif::ProgressBar::new(per_driver * drivers as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "seeding {bar:40} {human_pos}/{human_len} events, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut mix = Mix(7);
    let t0 = Instant::now();
    for (d, (driver, fleet, _)) in seeded.iter().enumerate() {
        let mut trips = Vec::with_capacity(days as usize * 2);
        for day in first_day..first_day + days {
            for k in 0..2 {
                let start = calendar::day_start_ms(day, 0) + (8 + k * 9) * 3_600_000;
                trips.push(NewTrip {
                    id: format!("s{d}t{day}x{k}"),
                    start_unix_ms: start,
                    end_unix_ms: start + 30 * 60_000,
                    distance_m: 15_000.0,
                    vehicle: "car".into(),
                    events: 0,
                    day,
                });
            }
        }
        let mut events = Vec::with_capacity(per_driver as usize);
        let span_ms = days * calendar::DAY_MS;
        for i in 0..per_driver {
            let t = calendar::day_start_ms(first_day, 0)
                + (i as i64 * span_ms) / per_driver as i64
                + mix.below(60_000) as i64;
            let e = event(&mut mix, format!("s{d}e{i}"), &format!("s{d}t"), t);
            events.push(NewEvent {
                body: serde_json::to_string(&e)?,
                id: e.id,
                trip_id: e.trip_id,
                kind: e.kind.as_str(),
                severity: e.severity,
                start_unix_ms: e.start_unix_ms,
                end_unix_ms: e.end_unix_ms,
                day: calendar::day_of(t, 0),
            });
        }
        let mut trips = trips.into_iter();
        let mut events = events.into_iter();
        loop {
            let ev: Vec<NewEvent> = events.by_ref().take(500).collect();
            let tr: Vec<NewTrip> = trips.by_ref().take(50).collect();
            if ev.is_empty() && tr.is_empty() {
                break;
            }
            bar.inc(ev.len() as u64);
            store
                .ingest(NewBatch {
                    driver_id: *driver,
                    fleet_id: *fleet,
                    events: ev,
                    trips: tr,
                })
                .await?;
        }
    }
    bar.finish_and_clear();
    Ok((
        seeded,
        (per_driver * drivers as u64) as f64 / t0.elapsed().as_secs_f64(),
    ))
}

fn report_latency(
    addr: SocketAddr,
    seeded: &Seeded,
    queries: usize,
) -> anyhow::Result<(Latency, Latency, Latency)> {
    let mut mix = Mix(11);
    let today = calendar::day_of(now_ms(), 0);
    let first = today - calendar::weekday(today) - 52 * 7;
    let (mut week, mut day, mut fleet) = (Vec::new(), Vec::new(), Vec::new());
    for q in 0..queries {
        let (driver, fleet_id, token) = &seeded[mix.below(seeded.len() as u64) as usize];
        let monday = first + 7 * mix.below(52) as i64;
        let paths = [
            format!(
                "/v1/drivers/{driver}/weeks/{}",
                calendar::format_week(monday)
            ),
            format!(
                "/v1/drivers/{driver}/days/{}",
                calendar::format_date(monday + mix.below(7) as i64)
            ),
        ];
        for (i, p) in paths.iter().enumerate() {
            let t = Instant::now();
            let (s, _) =
                request(addr, "GET", p, Some(token), vec![]).map_err(|e| anyhow::anyhow!(e))?;
            anyhow::ensure!(s == 200, "{p}: {s}");
            [&mut week, &mut day][i].push(t.elapsed().as_secs_f64() * 1000.0);
        }
        if q % 10 == 0 {
            let p = format!(
                "/v1/fleets/{fleet_id}/weeks/{}",
                calendar::format_week(monday)
            );
            let t = Instant::now();
            let (s, _) =
                request(addr, "GET", &p, Some(token), vec![]).map_err(|e| anyhow::anyhow!(e))?;
            anyhow::ensure!(s == 200, "{p}: {s}");
            fleet.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok((latency(week), latency(day), latency(fleet)))
}

/// Runs the load test and prints the figures.
pub fn run(a: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.batch >= 1 && a.batch <= safelane_wire::MAX_BATCH_EVENTS,
        "--batch: 1..500"
    );
    anyhow::ensure!(
        a.workers >= 1 && a.devices >= a.workers,
        "--devices must be at least --workers (>= 1)"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let tmp = match &a.dir {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let stamp = now_ms();
    let (database, raw_target) = match a.engine.as_str() {
        "sqlite" => (
            tmp.path().join("server.db").display().to_string(),
            tmp.path().join("raw.db").display().to_string(),
        ),
        "postgres" => {
            let admin = a.postgres_url.clone().context("--engine postgres needs --postgres-url (an admin URL; scripts/postgres.sh prints one)")?;
            rt.block_on(async {
                Ok::<_, anyhow::Error>((
                    fresh_postgres(&admin, &format!("load_{stamp}")).await?,
                    fresh_postgres(&admin, &format!("load_raw_{stamp}")).await?,
                ))
            })?
        }
        other => bail!("--engine {other}: sqlite or postgres"),
    };
    let mut out = serde_json::json!({ "engine": a.engine, "batch": a.batch, "workers": a.workers, "devices": a.devices, "seconds": a.seconds });
    let mut seeded = Vec::new();
    if a.seed_events > 0 {
        let (s, rate) = rt.block_on(async {
            if a.engine == "sqlite" {
                seed(
                    &SqliteStore::open(std::path::Path::new(&database))?,
                    a.seed_events,
                    a.seed_drivers,
                )
                .await
            } else {
                seed(
                    &PgStore::open(&database, 4).await?,
                    a.seed_events,
                    a.seed_drivers,
                )
                .await
            }
        })?;
        eprintln!(
            "seeded {} events for {} drivers at {rate:.0} events/s",
            a.seed_events, a.seed_drivers
        );
        out["seed"] = serde_json::json!({ "events": a.seed_events, "drivers": a.seed_drivers, "events_per_s": rate });
        seeded = s;
    }
    let (child, addr) = start_server(&database, None, OPERATOR, Stdio::null())?;
    let names: Vec<String> = (0..a.devices).map(|i| format!("d{i}")).collect();
    let tokens: Vec<String> = provision(addr, OPERATOR, r#"{"name":"load"}"#, &names)?
        .drivers
        .into_iter()
        .map(|(_, token)| token)
        .collect();
    eprintln!("server up on {addr}; peak phase, {} s", a.seconds);
    let peak = drive(addr, &tokens, &a, 0.0, "p");
    out["peak"] = serde_json::to_value(&peak)?;
    if a.rate > 0.0 {
        eprintln!("paced phase at {} events/s, {} s", a.rate, a.seconds);
        let paced = drive(addr, &tokens, &a, a.rate, "r");
        out["paced"] = serde_json::json!({ "target_events_per_s": a.rate, "result": paced });
    }
    if a.soak_seconds > 0.0 {
        let rate = if a.soak_rate > 0.0 {
            a.soak_rate
        } else {
            peak.events_per_s / 2.0
        };
        out["soak"] = soak(&child, addr, &tokens, &a, rate)?;
    }
    if !seeded.is_empty() {
        eprintln!("report phase, {} queries", a.report_queries);
        let (w, d, f) = report_latency(addr, &seeded, a.report_queries)?;
        out["reports"] = serde_json::json!({ "weekly": w, "daily": d, "fleet_overview": f });
    }
    drop(child);
    eprintln!("raw engine phase, {} s", a.seconds);
    let raw = if a.engine == "sqlite" {
        raw_sqlite(std::path::Path::new(&raw_target), &a)?
    } else {
        rt.block_on(raw_postgres(&raw_target, &a))?
    };
    out["raw_engine_events_per_s"] = serde_json::json!(raw);
    out["ratio"] = serde_json::json!(peak.events_per_s / raw);

    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "engine {}: batches of {} events, {} devices, {} client threads, {} s per phase",
        a.engine, a.batch, a.devices, a.workers, a.seconds
    )?;
    writeln!(
        o,
        "{:<28}{:>12}{:>10}{:>10}{:>10}{:>8}{:>8}",
        "phase", "events/s", "p50 ms", "p99 ms", "max ms", "errors", "429s"
    )?;
    let row = |o: &mut std::io::StdoutLock<'_>, name: &str, p: &Phase| {
        writeln!(
            o,
            "{:<28}{:>12.0}{:>10.1}{:>10.1}{:>10.1}{:>8}{:>8}",
            name,
            p.events_per_s,
            p.latency.p50_ms,
            p.latency.p99_ms,
            p.latency.max_ms,
            p.errors,
            p.throttled
        )
    };
    row(&mut o, "server, peak", &peak)?;
    if let Some(p) = out
        .get("paced")
        .and_then(|p| serde_json::from_value::<serde_json::Value>(p["result"].clone()).ok())
    {
        writeln!(
            o,
            "{:<28}{:>12.0}{:>10.1}{:>10.1}{:>10.1}{:>8}{:>8}",
            format!("server, paced at {:.0}/s", a.rate),
            p["events_per_s"].as_f64().unwrap_or(0.0),
            p["latency"]["p50_ms"].as_f64().unwrap_or(0.0),
            p["latency"]["p99_ms"].as_f64().unwrap_or(0.0),
            p["latency"]["max_ms"].as_f64().unwrap_or(0.0),
            p["errors"].as_u64().unwrap_or(0),
            p["throttled"].as_u64().unwrap_or(0)
        )?;
    }
    writeln!(o, "{:<28}{:>12.0}", "raw engine insert", raw)?;
    writeln!(
        o,
        "server / raw engine: {:.1} %",
        100.0 * peak.events_per_s / raw
    )?;
    if let Some(r) = out.get("reports") {
        for k in ["weekly", "daily", "fleet_overview"] {
            writeln!(
                o,
                "report {k:<15} {} requests: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} events stored)",
                r[k]["requests"],
                r[k]["p50_ms"].as_f64().unwrap_or(0.0),
                r[k]["p99_ms"].as_f64().unwrap_or(0.0),
                r[k]["max_ms"].as_f64().unwrap_or(0.0),
                a.seed_events
            )?;
        }
    }
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_vec_pretty(&out)?)?;
    }
    Ok(())
}
