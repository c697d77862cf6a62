//! `safelane faults`: sync under faults, end to end, with real processes.
//!
//! 1. Each of `--phones` phones gets an outbox database (the SDK's own
//!    [`Outbox`]) holding its share of `--events` events over last week's
//!    trips. A copy of every outbox is kept for the reference run.
//! 2. Reference run: a server (`safelane serve`, child process, SQLite) and
//!    one `safelane sync-outbox` child process per phone, no faults.
//! 3. Fault run: another server, reached through a proxy on loopback that
//!    drops requests before or after the server saw them, delays them and
//!    sends them twice; the server is killed (SIGKILL) and restarted on its
//!    database every few seconds; phone processes are killed (SIGKILL)
//!    mid-sync and restarted on their databases, until every phone exits
//!    with an empty outbox.
//! 4. Checks: every event stored exactly once (the server's database), every
//!    outbox empty with every event acknowledged, and every driver's weekly
//!    reports and the fleet overviews identical to the reference run's.
//!
//! The summary (and `summary.json`) gives the faults injected; any failed
//! check is an error (exit status 1).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use safelane_fixtures::vehicle::Rnd;
use safelane_sdk::{HttpTransport, Outbox, Sdk, SdkConfig, SdkError, SyncConfig, ThreadSleeper};
use safelane_server::calendar;
use safelane_wire::{Kind, WireEvent, WireTrip};

use crate::client::{call, now_ms, provision, start_server};

const OPERATOR: &str = "faults-operator-token-0123456789abcdef";
/// The fleet's local time (UTC+2), so local days differ from UTC days.
const UTC_OFFSET_MIN: i32 = 120;

/// `safelane faults` settings.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Events in all (spread over the phones and last week's trips).
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Phones (one driver and one `sync-outbox` process each).
    #[arg(long, default_value_t = 20)]
    pub phones: usize,
    /// Seed of the events and of the faults.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Working folder (emptied first).
    #[arg(long, default_value = "out/faults")]
    pub out: PathBuf,
    /// Share of requests the proxy drops before the server sees them.
    #[arg(long, default_value_t = 0.1)]
    pub drop_before: f64,
    /// Share of requests the proxy drops after the server answered (the reply is lost).
    #[arg(long, default_value_t = 0.1)]
    pub drop_after: f64,
    /// Share of requests the proxy sends twice.
    #[arg(long, default_value_t = 0.1)]
    pub duplicate: f64,
    /// Share of requests the proxy delays (up to 1 s).
    #[arg(long, default_value_t = 0.2)]
    pub delay: f64,
    /// Mean seconds between server kills.
    #[arg(long, default_value_t = 2.0)]
    pub server_kill_every_s: f64,
    /// Mean seconds between phone process kills.
    #[arg(long, default_value_t = 0.5)]
    pub phone_kill_every_s: f64,
}

/// `safelane sync-outbox` settings: one phone's sync, as the app runs it.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The phone's outbox database.
    #[arg(long)]
    pub db: PathBuf,
    /// Server base URL (http://).
    #[arg(long)]
    pub url: String,
    /// Device credentials, `<device id>.<secret>`.
    #[arg(long, env = "SAFELANE_DEVICE_TOKEN", hide_env_values = true)]
    pub device_token: String,
}

/// Syncs one outbox until it is empty, retrying through failures as an app
/// does (short backoff); prints the outbox counts as JSON.
pub fn sync_outbox(a: &SyncArgs) -> anyhow::Result<()> {
    let (device, secret) = a
        .device_token
        .split_once('.')
        .context("--device-token: expected <device id>.<secret>")?;
    let mut cfg = SdkConfig::new(
        safelane_core::VehicleProfile::Car,
        safelane_sdk::Platform::Android,
        Some(a.db.clone()),
    );
    cfg.outbox_max_events = 1_000_000;
    cfg.utc_offset_min = UTC_OFFSET_MIN;
    let sdk = Sdk::open(cfg)?;
    let mut sync = SyncConfig::new(&a.url, device, secret);
    sync.max_attempts = 4;
    sync.base_backoff_ms = 50;
    sync.max_backoff_ms = 500;
    let transport = HttpTransport {
        connect_timeout: Duration::from_secs(2),
        io_timeout: Duration::from_secs(10),
    };
    loop {
        match sdk.sync(&transport, &sync, &mut ThreadSleeper) {
            Ok(_) => {}
            Err(SdkError::Sync {
                retryable: true, ..
            }) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(e.into()),
        }
        let c = sdk.outbox_counts()?;
        if c.pending_events == 0 && c.pending_trips == 0 {
            println!(
                "{}",
                serde_json::json!({
                    "synced_events": c.synced_events,
                    "rejected_events": c.rejected_events,
                    "dropped_events": c.dropped_events,
                })
            );
            return Ok(());
        }
    }
}

/// One phone's recorded week: trips and their events.
struct Recorded {
    events: u64,
    trips: u64,
}

/// Fills a phone's outbox: `events` events over trips of last week.
fn record(path: &Path, phone: usize, events: u64, rnd: &mut Rnd) -> anyhow::Result<Recorded> {
    let mut o = Outbox::open(path, 1_000_000)?;
    let now = now_ms();
    let week_ago = now - 7 * 86_400_000;
    let kinds = [
        (Kind::HarshBraking, 0.3),
        (Kind::HarshAcceleration, 0.2),
        (Kind::HarshCornering, 0.2),
        (Kind::HarshLaneChange, 0.1),
        (Kind::Speeding, 0.195),
        (Kind::Crash, 0.005),
    ];
    let per_trip = 40u64;
    let trips = events.div_ceil(per_trip);
    let mut left = events;
    for t in 0..trips {
        let trip_id = format!("p{phone}-{:016x}", rnd.uniform(0.0, 1.0).to_bits() ^ t);
        let start = week_ago + (t as i64 * (7 * 86_400_000 - 3_600_000)) / trips as i64;
        let duration = 30 * 60_000;
        let n = left.min(per_trip);
        left -= n;
        let mut batch = Vec::with_capacity(n as usize);
        for s in 0..n {
            let u = rnd.uniform(0.0, 1.0);
            let mut acc = 0.0;
            let kind = kinds
                .iter()
                .find(|(_, p)| {
                    acc += p;
                    u < acc
                })
                .map_or(Kind::HarshBraking, |k| k.0);
            let at = start + (s as i64 * duration) / n as i64;
            let speeding = kind == Kind::Speeding;
            batch.push(WireEvent {
                id: format!("{trip_id}-{}", s + 1),
                trip_id: trip_id.clone(),
                kind,
                direction: matches!(kind, Kind::HarshCornering | Kind::HarshLaneChange)
                    .then(|| if rnd.chance(0.5) { "left" } else { "right" }.to_owned()),
                severity: if rnd.chance(0.2) {
                    "severe"
                } else {
                    "moderate"
                }
                .to_owned(),
                start_unix_ms: at,
                end_unix_ms: at + if speeding { 20_000 } else { 1_500 },
                peak_mps2: (!speeding).then(|| rnd.uniform(3.0, 9.0) as f32),
                speed_mps: Some(rnd.uniform(5.0, 30.0) as f32),
                lat: Some(60.17 + rnd.uniform(-0.02, 0.02)),
                lon: Some(24.94 + rnd.uniform(-0.04, 0.04)),
                confidence: rnd.uniform(0.6, 1.0) as f32,
                speeding: speeding.then(|| safelane_wire::SpeedingDetail {
                    threshold_kmh: 50.0,
                    threshold_source: "posted".into(),
                    max_excess_kmh: rnd.uniform(5.0, 30.0) as f32,
                    mean_excess_kmh: 6.0,
                    distance_m: 300.0,
                }),
            });
        }
        o.add_events(&batch)?;
        o.add_trip(&WireTrip {
            id: trip_id,
            start_unix_ms: start,
            end_unix_ms: start + duration,
            distance_m: rnd.uniform(5_000.0, 25_000.0).round(),
            vehicle: "car".into(),
            events: n as u32,
        })?;
    }
    let c = o.counts()?;
    ensure!(
        c.pending_events == events,
        "phone {phone}: outbox holds {c:?}"
    );
    Ok(Recorded { events, trips })
}

/// What the proxy did.
#[derive(Default)]
struct ProxyStats {
    requests: AtomicU64,
    dropped_before: AtomicU64,
    dropped_after: AtomicU64,
    duplicated: AtomicU64,
    delayed: AtomicU64,
    upstream_down: AtomicU64,
}

/// Reads one HTTP/1.1 request (head and `Content-Length` body).
fn read_request(s: &TcpStream) -> std::io::Result<Vec<u8>> {
    let mut r = BufReader::new(s);
    let mut raw = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        raw.extend_from_slice(line.as_bytes());
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body)?;
    raw.extend_from_slice(&body);
    Ok(raw)
}

/// Sends a request to the server and reads its whole reply (the SDK asks
/// for `connection: close`).
fn forward(upstream: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&upstream, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(request)?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply)?;
    if reply.is_empty() {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(reply)
}

/// A lossy proxy on loopback in front of `upstream`, on its own threads.
fn start_proxy(
    upstream: SocketAddr,
    a: &Args,
    seed: u64,
    stats: Arc<ProxyStats>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let rnd = Arc::new(Mutex::new(Rnd::new(seed)));
    let (p_before, p_after, p_dup, p_delay) = (a.drop_before, a.drop_after, a.duplicate, a.delay);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let Ok(mut client) = conn else { continue };
            let (rnd, stats) = (rnd.clone(), stats.clone());
            std::thread::spawn(move || {
                let Ok(request) = read_request(&client) else {
                    return;
                };
                stats.requests.fetch_add(1, Ordering::Relaxed);
                let (u, delay_s) = {
                    let mut r = rnd.lock().unwrap_or_else(|e| e.into_inner());
                    let u = r.uniform(0.0, 1.0);
                    let d = if r.chance(p_delay) {
                        r.uniform(0.0, 1.0)
                    } else {
                        0.0
                    };
                    (u, d)
                };
                if delay_s > 0.0 {
                    stats.delayed.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_secs_f64(delay_s));
                }
                if u < p_before {
                    stats.dropped_before.fetch_add(1, Ordering::Relaxed);
                    return; // the connection closes unanswered
                }
                let reply = if u < p_before + p_dup {
                    stats.duplicated.fetch_add(1, Ordering::Relaxed);
                    let _ = forward(upstream, &request);
                    forward(upstream, &request)
                } else {
                    forward(upstream, &request)
                };
                let Ok(reply) = reply else {
                    // The server is down (killed): what a load balancer says.
                    stats.upstream_down.fetch_add(1, Ordering::Relaxed);
                    let _ = client.write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    );
                    return;
                };
                if u < p_before + p_dup + p_after {
                    stats.dropped_after.fetch_add(1, Ordering::Relaxed);
                    return; // the server stored it; the reply is lost
                }
                let _ = client.write_all(&reply);
            });
        }
    });
    Ok(addr)
}

/// A phone's `sync-outbox` process.
fn spawn_phone(db: &Path, url: &str, token: &str, log: &Path) -> anyhow::Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    Command::new(std::env::current_exe()?)
        .args(["sync-outbox", "--db"])
        .arg(db)
        .args(["--url", url])
        .env("SAFELANE_DEVICE_TOKEN", token)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("starting `safelane sync-outbox`")
}

/// Reports to compare: every driver's weekly report for each week the data
/// spans, and the fleet overview of each week.
fn reports(
    addr: SocketAddr,
    fleet: &crate::client::Fleet,
    weeks: &[String],
) -> anyhow::Result<Vec<(String, serde_json::Value)>> {
    let mut out = vec![];
    for w in weeks {
        for (d, _) in &fleet.drivers {
            let path = format!("/v1/drivers/{d}/weeks/{w}");
            let b = call(addr, "GET", &path, &fleet.admin, "")?;
            out.push((format!("driver {d} week {w}"), serde_json::from_slice(&b)?));
        }
        let path = format!("/v1/fleets/{}/weeks/{w}", fleet.id);
        let b = call(addr, "GET", &path, &fleet.admin, "")?;
        out.push((format!("fleet week {w}"), serde_json::from_slice(&b)?));
    }
    Ok(out)
}

/// Events and distinct event ids stored in a server's SQLite database.
fn stored(db: &Path) -> anyhow::Result<(i64, i64, i64)> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let r = c.query_row(
        "SELECT COUNT(*), COUNT(DISTINCT id), (SELECT COUNT(*) FROM trips) FROM events",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(r)
}

fn fleet_body() -> String {
    format!(r#"{{"name":"faults","utc_offset_min":{UTC_OFFSET_MIN}}}"#)
}

/// Runs the whole experiment; see the module documentation.
pub fn run(a: &Args) -> anyhow::Result<()> {
    ensure!(
        a.phones >= 1 && a.events >= a.phones as u64,
        "--phones 1.. and --events >= phones"
    );
    let t0 = Instant::now();
    let _ = std::fs::remove_dir_all(&a.out);
    let (faulty_dir, reference_dir) = (a.out.join("faulty"), a.out.join("reference"));
    std::fs::create_dir_all(&faulty_dir)?;
    std::fs::create_dir_all(&reference_dir)?;

    // 1. Record.
    let mut rnd = Rnd::new(a.seed);
    let (mut events, mut trips) = (0u64, 0u64);
    for p in 0..a.phones {
        let share = a.events / a.phones as u64 + u64::from((p as u64) < a.events % a.phones as u64);
        let db = faulty_dir.join(format!("phone-{p}.db"));
        let r = record(&db, p, share, &mut rnd)?;
        std::fs::copy(&db, reference_dir.join(format!("phone-{p}.db")))?;
        events += r.events;
        trips += r.trips;
    }
    println!(
        "recorded  {events} events, {trips} trips on {} phones ({:.1} s)",
        a.phones,
        t0.elapsed().as_secs_f64()
    );
    let names: Vec<String> = (0..a.phones).map(|p| format!("Driver {p}")).collect();
    let today = calendar::day_of(now_ms(), UTC_OFFSET_MIN);
    let mut weeks: Vec<String> = (today - 8..=today).map(calendar::format_week).collect();
    weeks.dedup();

    // 2. Reference run: no faults.
    let t_ref = Instant::now();
    let ref_db = reference_dir.join("server.db");
    let (ref_server, ref_addr) =
        start_server(&ref_db.to_string_lossy(), None, OPERATOR, Stdio::null())?;
    let ref_fleet = provision(ref_addr, OPERATOR, &fleet_body(), &names)?;
    let mut kids = vec![];
    for (p, (_, token)) in ref_fleet.drivers.iter().enumerate() {
        let db = reference_dir.join(format!("phone-{p}.db"));
        kids.push(spawn_phone(
            &db,
            &format!("http://{ref_addr}"),
            token,
            &reference_dir.join(format!("phone-{p}.log")),
        )?);
    }
    for (p, mut k) in kids.into_iter().enumerate() {
        let s = k.wait()?;
        ensure!(
            s.success(),
            "reference phone {p} failed: {s} (see {})",
            reference_dir.join(format!("phone-{p}.log")).display()
        );
    }
    let ref_reports = reports(ref_addr, &ref_fleet, &weeks)?;
    drop(ref_server);
    let ref_secs = t_ref.elapsed().as_secs_f64();
    println!("reference {events} events synced without faults in {ref_secs:.1} s");

    // 3. Fault run.
    let t_fault = Instant::now();
    let db = faulty_dir.join("server.db");
    let db_s = db.to_string_lossy().to_string();
    let server_log = faulty_dir.join("server.log");
    let log = |p: &Path| -> anyhow::Result<Stdio> {
        Ok(std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)?
            .into())
    };
    let (mut server, addr) = start_server(&db_s, None, OPERATOR, log(&server_log)?)?;
    let fleet = provision(addr, OPERATOR, &fleet_body(), &names)?;
    let stats = Arc::new(ProxyStats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let proxy = start_proxy(addr, a, a.seed ^ 0x5eed, stats.clone(), stop.clone())?;
    let url = format!("http://{proxy}");
    let phone_db = |p: usize| faulty_dir.join(format!("phone-{p}.db"));
    let phone_log = |p: usize| faulty_dir.join(format!("phone-{p}.log"));
    let mut phones: Vec<Option<Child>> = Vec::with_capacity(a.phones);
    for (p, (_, token)) in fleet.drivers.iter().enumerate() {
        phones.push(Some(spawn_phone(&phone_db(p), &url, token, &phone_log(p))?));
    }
    let mut frnd = Rnd::new(a.seed ^ 0xfa017);
    let exp = |r: &mut Rnd, mean: f64| -mean * (1.0 - r.uniform(0.0, 1.0)).max(1e-9).ln();
    let mut next_server_kill = exp(&mut frnd, a.server_kill_every_s);
    let mut next_phone_kill = exp(&mut frnd, a.phone_kill_every_s);
    let (mut server_kills, mut phone_kills) = (0u64, 0u64);
    let bar = indicatif::ProgressBar::new(a.phones as u64).with_message("phones done");
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    loop {
        let mut done = 0;
        for (p, slot) in phones.iter_mut().enumerate() {
            match slot {
                None => done += 1,
                Some(k) => {
                    if let Some(s) = k.try_wait()? {
                        ensure!(
                            s.success(),
                            "phone {p} failed: {s} (see {})",
                            phone_log(p).display()
                        );
                        *slot = None;
                        done += 1;
                    }
                }
            }
        }
        bar.set_position(done as u64);
        if done == a.phones {
            break;
        }
        ensure!(
            t_fault.elapsed() < Duration::from_secs(900),
            "the fault run did not finish in 15 minutes"
        );
        let now = t_fault.elapsed().as_secs_f64();
        if now >= next_server_kill {
            server.kill();
            server_kills += 1;
            std::thread::sleep(Duration::from_secs_f64(frnd.uniform(0.0, 0.5)));
            let mut tries = 0;
            server = loop {
                match start_server(&db_s, Some(addr), OPERATOR, log(&server_log)?) {
                    Ok((s, _)) => break s,
                    Err(e) if tries < 50 => {
                        tries += 1;
                        let _ = e;
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Err(e) => return Err(e.context("restarting the server")),
                }
            };
            next_server_kill =
                t_fault.elapsed().as_secs_f64() + exp(&mut frnd, a.server_kill_every_s);
        }
        if now >= next_phone_kill {
            let running: Vec<usize> = (0..a.phones).filter(|p| phones[*p].is_some()).collect();
            let p =
                running[(frnd.uniform(0.0, 1.0) * running.len() as f64) as usize % running.len()];
            if let Some(mut k) = phones[p].take() {
                let _ = k.kill();
                let s = k.wait()?;
                if s.success() {
                    phones[p] = None; // it had just finished
                } else {
                    phone_kills += 1;
                    phones[p] = Some(spawn_phone(
                        &phone_db(p),
                        &url,
                        &fleet.drivers[p].1,
                        &phone_log(p),
                    )?);
                }
            }
            next_phone_kill = now + exp(&mut frnd, a.phone_kill_every_s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bar.finish_and_clear();
    stop.store(true, Ordering::Relaxed);
    let fault_secs = t_fault.elapsed().as_secs_f64();
    let got = reports(addr, &fleet, &weeks)?;
    drop(server);

    // 4. Checks.
    let (rows, distinct, trip_rows) = stored(&db)?;
    let mut synced = 0u64;
    for p in 0..a.phones {
        let o = Outbox::open(&phone_db(p), 1_000_000)?;
        let c = o.counts()?;
        ensure!(
            c.pending_events == 0
                && c.pending_trips == 0
                && c.rejected_events == 0
                && c.dropped_events == 0,
            "phone {p}: {c:?}"
        );
        synced += c.synced_events;
    }
    // The reports must show every event (or comparing them proves little).
    let reported: u64 = got
        .iter()
        .filter(|(name, _)| name.starts_with("driver"))
        .filter_map(|(_, r)| r["totals"]["counts"].as_object())
        .flat_map(|counts| counts.values().filter_map(serde_json::Value::as_u64))
        .sum();
    let mut differing = vec![];
    for ((name, want), (_, have)) in ref_reports.iter().zip(&got) {
        if want != have {
            differing.push(name.clone());
        }
    }
    let s = |x: &AtomicU64| x.load(Ordering::Relaxed);
    let summary = serde_json::json!({
        "events": events, "trips": trips, "phones": a.phones,
        "stored_events": rows, "distinct_event_ids": distinct, "stored_trips": trip_rows,
        "acknowledged_events": synced,
        "reports_compared": got.len(), "events_in_reports": reported, "reports_differing": differing,
        "requests": s(&stats.requests), "dropped_before": s(&stats.dropped_before),
        "dropped_after": s(&stats.dropped_after), "duplicated": s(&stats.duplicated),
        "delayed": s(&stats.delayed), "server_down_503": s(&stats.upstream_down),
        "server_kills": server_kills, "phone_kills": phone_kills,
        "fault_run_s": fault_secs, "reference_run_s": ref_secs, "total_s": t0.elapsed().as_secs_f64(),
    });
    std::fs::write(
        a.out.join("summary.json"),
        serde_json::to_vec_pretty(&summary)?,
    )?;
    println!(
        "faults    {} requests through the proxy: {} dropped before the server, {} replies lost, {} sent twice, {} delayed, {} answered 503 while the server was down",
        s(&stats.requests),
        s(&stats.dropped_before),
        s(&stats.dropped_after),
        s(&stats.duplicated),
        s(&stats.delayed),
        s(&stats.upstream_down)
    );
    println!(
        "kills     server {server_kills} times (SIGKILL, restarted on its database), phone processes {phone_kills} times (SIGKILL mid-sync, reopened)"
    );
    println!(
        "stored    {rows} events ({distinct} distinct ids) of {events}; {trip_rows} trips of {trips}; {synced} acknowledged on the phones"
    );
    println!(
        "reports   {} compared with the reference run (counting {reported} events), {} differ",
        got.len(),
        differing.len()
    );
    println!(
        "time      fault run {fault_secs:.1} s, reference {ref_secs:.1} s, all {:.1} s; details in {}",
        t0.elapsed().as_secs_f64(),
        a.out.join("summary.json").display()
    );
    ensure!(
        rows as u64 == events && distinct == rows,
        "stored {rows} events ({distinct} distinct), recorded {events}"
    );
    ensure!(
        trip_rows as u64 == trips,
        "stored {trip_rows} trips, recorded {trips}"
    );
    ensure!(synced == events, "phones acknowledged {synced} of {events}");
    ensure!(
        reported == events,
        "the weekly reports count {reported} events of {events}"
    );
    if !differing.is_empty() {
        bail!(
            "reports differ from the fault-free run: {}",
            differing.join(", ")
        );
    }
    println!(
        "ok        nothing lost, nothing stored twice, reports identical to the fault-free run"
    );
    Ok(())
}
