//! The SDK object: trip sessions around the core pipeline, real-time alerts,
//! the outbox and sync.
//!
//! Thread-safe (`Send + Sync`): one `Mutex` guards the state, so the app may
//! push from its sensor thread and sync from a background worker.
//!
//! Clocks: samples carry the platform's time since boot; events go out in
//! Unix milliseconds. [`Sdk::set_clock`] gives the pair (now in Unix ms, now
//! since boot in s) once; [`Sdk::start_trip`] takes a fresh pair.
//!
//! Trips start and stop by the app's calls, or automatically from GPS speed
//! when [`AutoTripConfig`] is set: a trip starts once the speed has stayed at
//! or above `start_speed_mps` for `start_after_s` (at the first of those
//! fixes), and stops once it has stayed below `stop_speed_mps` (or no fix
//! came) for `stop_after_s`.

use std::sync::{Arc, Mutex, MutexGuard};

use safelane_core::geo::distance_m;
use safelane_core::{
    Event, EventKind, GpsFix, OrientationState, PingDrop, Pipeline, PipelineConfig, SpeedingEvent,
    Suppression, Tile, VehicleProfile,
};
use safelane_wire::{Kind, SpeedingDetail, WireEvent, WireTrip};

use crate::SdkError;
use crate::outbox::{Outbox, OutboxCounts};
use crate::platform::{Platform, PlatformGps, PlatformImu};
use crate::sync::{Sleeper, SyncConfig, SyncReport, Transport, sync};

/// Called as soon as an event is recorded (after it is safely in the outbox).
pub trait AlertListener: Send + Sync {
    /// One recorded event.
    fn on_event(&self, event: WireEvent);
}

/// Automatic trip detection from GPS speed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AutoTripConfig {
    /// Speed that starts a trip, m/s. Default 5 (18 km/h: faster than walking or cycling slowly).
    pub start_speed_mps: f64,
    /// For this long, s. Default 10.
    pub start_after_s: f64,
    /// Below this speed the vehicle counts as stopped, m/s. Default 1.5.
    pub stop_speed_mps: f64,
    /// Stopped (or no fix) for this long ends the trip, s. Default 180 (longer
    /// than a red light or a level crossing).
    pub stop_after_s: f64,
}

impl Default for AutoTripConfig {
    fn default() -> Self {
        Self {
            start_speed_mps: 5.0,
            start_after_s: 10.0,
            stop_speed_mps: 1.5,
            stop_after_s: 180.0,
        }
    }
}

/// SDK settings.
#[derive(Clone, Debug, PartialEq)]
pub struct SdkConfig {
    /// Vehicle profile (thresholds).
    pub vehicle: VehicleProfile,
    /// Sensor conventions of the samples pushed.
    pub platform: Platform,
    /// Outbox database file (created); `None` keeps it in memory.
    pub outbox_path: Option<std::path::PathBuf>,
    /// Most events waiting in the outbox (see `outbox` for the bound's rule). Default 100,000.
    pub outbox_max_events: u64,
    /// Cap on the outbox file, bytes (0, the default: only the disk's size).
    /// When full, the oldest non-crash events make room (see `outbox`).
    pub outbox_max_bytes: u64,
    /// Automatic trips; `None`: the app starts and stops trips.
    pub auto_trip: Option<AutoTripConfig>,
    /// Local time = UTC + this many minutes (crowd speed thresholds are per local hour of week).
    pub utc_offset_min: i32,
}

impl SdkConfig {
    /// Defaults for a vehicle and platform, outbox in a file.
    pub fn new(
        vehicle: VehicleProfile,
        platform: Platform,
        outbox_path: Option<std::path::PathBuf>,
    ) -> Self {
        Self {
            vehicle,
            platform,
            outbox_path,
            outbox_max_events: 100_000,
            outbox_max_bytes: 0,
            auto_trip: None,
            utc_offset_min: 0,
        }
    }
}

/// The summary of a finished trip.
#[derive(Clone, Debug, PartialEq)]
pub struct TripSummary {
    /// Trip id.
    pub trip_id: String,
    /// Start, Unix ms.
    pub start_unix_ms: i64,
    /// End, Unix ms.
    pub end_unix_ms: i64,
    /// Distance driven (GPS), m.
    pub distance_m: f64,
    /// Events per kind, in [`Kind::ALL`] order.
    pub events: [u32; 6],
    /// Candidates not reported, by reason ([`Suppression::ALL`] names).
    pub suppressed: Vec<(String, u64)>,
    /// Speeding pings dropped, by reason ([`PingDrop::ALL`] names).
    pub speeding_pings_dropped: Vec<(String, u64)>,
    /// IMU samples accepted / rejected by the core's checks.
    pub imu_accepted: u64,
    /// IMU samples rejected.
    pub imu_rejected: u64,
    /// GPS fixes accepted.
    pub gps_accepted: u64,
    /// GPS fixes rejected.
    pub gps_rejected: u64,
}

impl TripSummary {
    /// Duration, s.
    pub fn duration_s(&self) -> f64 {
        (self.end_unix_ms - self.start_unix_ms) as f64 / 1000.0
    }
}

/// Accepted and rejected counts of one pushed batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PushResult {
    /// Samples the core accepted.
    pub accepted: u32,
    /// Samples the core refused (counted by reason in the trip summary).
    pub rejected: u32,
    /// Samples ignored because no trip was running (automatic trips only).
    pub ignored: u32,
    /// Events recorded during the batch.
    pub events: u32,
}

/// Tiles are fetched for the cells within this distance of the vehicle, m.
pub const TILE_PREFETCH_RADIUS_M: f64 = 1500.0;
/// A cached tile older than this is fetched again, ms (7 days).
pub const TILE_MAX_AGE_MS: i64 = 7 * 24 * 3600 * 1000;
/// Most tiles kept in the cache.
pub const TILE_CACHE_MAX: u32 = 64;

/// What a tile update did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TileUpdate {
    /// Tiles around the position.
    pub wanted: u32,
    /// Served from the on-device cache.
    pub from_cache: u32,
    /// Downloaded (and checked) now.
    pub fetched: u32,
    /// The server has no tile there (no roads known).
    pub missing: u32,
    /// Download failed or the tile was invalid; a stale cached copy is used if any.
    pub failed: u32,
}

/// The orientation as the app may show it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrientationInfo {
    /// `unknown`, `estimating`, `locked` or `moved`.
    pub state: &'static str,
    /// Roll, degrees.
    pub roll_deg: f32,
    /// Pitch, degrees.
    pub pitch_deg: f32,
    /// Yaw, degrees.
    pub yaw_deg: f32,
    /// Heading confidence 0..1.
    pub heading_confidence: f32,
}

#[derive(Debug)]
struct Trip {
    id: String,
    pipeline: Box<Pipeline>,
    start_unix_ms: i64,
    seq: u32,
    distance_m: f64,
    last_fix: Option<GpsFix>,
    last_t_s: f64,
    events: [u32; 6],
    auto: bool,
    slow_since_s: Option<f64>,
}

#[derive(Debug, Default)]
struct AutoState {
    fast_since: Option<GpsFix>,
}

struct Inner {
    cfg: SdkConfig,
    outbox: Outbox,
    trip: Option<Trip>,
    listener: Option<Arc<dyn AlertListener>>,
    /// Unix ms at boot time 0 (from the last clock pair).
    boot_epoch_unix_ms: Option<f64>,
    tiles: Vec<Vec<u8>>,
    auto: AutoState,
    /// Events taken from the pipeline but not yet committed (the outbox
    /// failed, e.g. a full disk): retried on the next drain, never lost.
    unsaved: Vec<WireEvent>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("cfg", &self.cfg)
            .field("trip", &self.trip.as_ref().map(|t| &t.id))
            .field("tiles", &self.tiles.len())
            .finish_non_exhaustive()
    }
}

/// The SDK.
#[derive(Debug)]
pub struct Sdk {
    inner: Mutex<Inner>,
}

fn new_trip_id() -> Result<String, SdkError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| SdkError::storage("drawing a trip id", e))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn round5(v: f64) -> f64 {
    (v * 1e5).round() / 1e5
}

fn kind(k: EventKind) -> Kind {
    match k {
        EventKind::HarshBraking => Kind::HarshBraking,
        EventKind::HarshAcceleration => Kind::HarshAcceleration,
        EventKind::HarshCornering => Kind::HarshCornering,
        EventKind::HarshLaneChange => Kind::HarshLaneChange,
        EventKind::Crash => Kind::Crash,
        EventKind::Speeding => Kind::Speeding,
    }
}

impl Sdk {
    /// Opens the SDK: checks the settings, opens (or creates) the outbox.
    pub fn open(cfg: SdkConfig) -> Result<Self, SdkError> {
        PipelineConfig::for_vehicle(cfg.vehicle)
            .validate()
            .map_err(|e| SdkError::arg(e.to_string()))?;
        if let Some(a) = cfg.auto_trip {
            let ok = |v: f64| v.is_finite() && v > 0.0;
            if !(ok(a.start_speed_mps)
                && ok(a.start_after_s)
                && ok(a.stop_speed_mps)
                && ok(a.stop_after_s))
                || a.stop_speed_mps >= a.start_speed_mps
            {
                return Err(SdkError::arg(
                    "auto_trip: every value must be positive and stop_speed_mps below start_speed_mps",
                ));
            }
        }
        if cfg.utc_offset_min.abs() > 14 * 60 {
            return Err(SdkError::arg("utc_offset_min: must be within +-14 h"));
        }
        let mut outbox = match &cfg.outbox_path {
            Some(p) => Outbox::open(p, cfg.outbox_max_events)?,
            None => Outbox::in_memory(cfg.outbox_max_events)?,
        };
        outbox.set_max_bytes(cfg.outbox_max_bytes)?;
        Ok(Self {
            inner: Mutex::new(Inner {
                cfg,
                outbox,
                trip: None,
                listener: None,
                boot_epoch_unix_ms: None,
                tiles: Vec::new(),
                auto: AutoState::default(),
                unsaved: Vec::new(),
            }),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, SdkError> {
        // A panic while holding the lock (none is expected) leaves the state
        // as it was at the last completed operation; go on with it.
        Ok(self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Registers the alert listener (replacing any earlier one); `None` removes it.
    pub fn set_listener(&self, listener: Option<Arc<dyn AlertListener>>) -> Result<(), SdkError> {
        self.lock()?.listener = listener;
        Ok(())
    }

    /// Tells the SDK how the sensor clock maps to wall time: now in Unix ms
    /// and now in the platform's since-boot seconds.
    pub fn set_clock(&self, now_unix_ms: i64, now_boot_s: f64) -> Result<(), SdkError> {
        if !now_boot_s.is_finite() || now_unix_ms <= 0 {
            return Err(SdkError::arg(
                "clock: now_unix_ms must be positive and now_boot_s finite",
            ));
        }
        self.lock()?.boot_epoch_unix_ms = Some(now_unix_ms as f64 - now_boot_s * 1000.0);
        Ok(())
    }

    /// Map threshold tiles for speeding (the tiles around the vehicle; see
    /// `safelane_core::geo::cells_around`). Each is checked; a bad one is an
    /// error naming its index and nothing changes.
    pub fn set_tiles(&self, tiles: Vec<Vec<u8>>) -> Result<(), SdkError> {
        for (i, t) in tiles.iter().enumerate() {
            Tile::parse(t).map_err(|e| SdkError::arg(format!("tiles[{i}]: {e}")))?;
        }
        self.lock()?.tiles = tiles;
        Ok(())
    }

    /// Starts a trip now; returns its id.
    pub fn start_trip(&self, now_unix_ms: i64, now_boot_s: f64) -> Result<String, SdkError> {
        self.set_clock(now_unix_ms, now_boot_s)?;
        let mut g = self.lock()?;
        if g.trip.is_some() {
            return Err(SdkError::state("a trip is already running"));
        }
        g.begin_trip(now_unix_ms, now_boot_s, false)
    }

    /// Stops the running trip: the last events are decided and recorded, the
    /// trip's summary is stored for sync and returned.
    pub fn stop_trip(&self) -> Result<TripSummary, SdkError> {
        let mut g = self.lock()?;
        g.end_trip()
    }

    /// Whether a trip is running, and its id.
    pub fn current_trip(&self) -> Result<Option<String>, SdkError> {
        Ok(self.lock()?.trip.as_ref().map(|t| t.id.clone()))
    }

    /// Pushes a batch of IMU samples (timestamp order).
    pub fn push_imu(&self, samples: &[PlatformImu]) -> Result<PushResult, SdkError> {
        self.lock()?.push_imu(samples)
    }

    /// Pushes a batch of GPS fixes (timestamp order).
    pub fn push_gps(&self, fixes: &[PlatformGps]) -> Result<PushResult, SdkError> {
        self.lock()?.push_gps(fixes)
    }

    /// The current orientation (unknown when no trip runs).
    pub fn orientation(&self) -> Result<OrientationInfo, SdkError> {
        let g = self.lock()?;
        let o = g.trip.as_ref().map(|t| t.pipeline.orientation());
        Ok(match o {
            Some(o) => OrientationInfo {
                state: o.state.as_str(),
                roll_deg: o.roll_rad.to_degrees(),
                pitch_deg: o.pitch_rad.to_degrees(),
                yaw_deg: o.yaw_rad.to_degrees(),
                heading_confidence: o.heading_confidence,
            },
            None => OrientationInfo {
                state: OrientationState::Unknown.as_str(),
                roll_deg: 0.0,
                pitch_deg: 0.0,
                yaw_deg: 0.0,
                heading_confidence: 0.0,
            },
        })
    }

    /// What the outbox holds.
    pub fn outbox_counts(&self) -> Result<OutboxCounts, SdkError> {
        self.lock()?.outbox.counts()
    }

    /// Makes the map tiles around a position available for speeding: the
    /// cells within [`TILE_PREFETCH_RADIUS_M`] come from the on-device cache
    /// when fresh (younger than [`TILE_MAX_AGE_MS`]), otherwise from
    /// `GET {base}/v1/tiles/{geohash}` through the app's transport; each
    /// download is checked before it is cached, and the cache keeps the
    /// [`TILE_CACHE_MAX`] most recent. The network is used without holding
    /// the SDK's lock, so pushing samples goes on meanwhile.
    pub fn update_tiles(
        &self,
        transport: &dyn Transport,
        cfg: &SyncConfig,
        lat_deg: f64,
        lon_deg: f64,
        now_unix_ms: i64,
    ) -> Result<TileUpdate, SdkError> {
        use safelane_core::geo::cells_around;
        if !(lat_deg.is_finite()
            && lon_deg.is_finite()
            && lat_deg.abs() <= 90.0
            && lon_deg.abs() <= 180.0)
        {
            return Err(SdkError::arg("position: not a valid coordinate"));
        }
        cfg.validate()?;
        let keys: Vec<String> = cells_around(lat_deg, lon_deg, TILE_PREFETCH_RADIUS_M, 5)
            .iter()
            .flatten()
            .map(|g| g.as_str().to_owned())
            .collect();
        let mut report = TileUpdate {
            wanted: keys.len() as u32,
            ..TileUpdate::default()
        };
        // 1. What the cache has.
        let cached: Vec<Option<(Vec<u8>, i64)>> = {
            let g = self.lock()?;
            keys.iter()
                .map(|k| g.outbox.cached_tile(k))
                .collect::<Result<_, _>>()?
        };
        // 2. Fetch what is missing or stale, without the lock.
        let mut tiles: Vec<Vec<u8>> = Vec::new();
        let mut fresh: Vec<(String, Vec<u8>)> = Vec::new();
        for (key, cache) in keys.iter().zip(cached) {
            if let Some((data, at)) = &cache {
                if now_unix_ms - at < TILE_MAX_AGE_MS {
                    report.from_cache += 1;
                    tiles.push(data.clone());
                    continue;
                }
            }
            let request = crate::sync::HttpRequest {
                method: "GET".into(),
                url: format!(
                    "{}/{}/tiles/{key}",
                    cfg.base_url,
                    safelane_wire::API_VERSION
                ),
                headers: vec![("authorization".into(), cfg.authorization())],
                body: Vec::new(),
            };
            let valid = |b: &[u8]| Tile::parse(b).is_ok_and(|t| t.key().as_str() == key);
            match transport.send(request) {
                Ok(r) if r.status == 200 && valid(&r.body) => {
                    report.fetched += 1;
                    tiles.push(r.body.clone());
                    fresh.push((key.clone(), r.body));
                }
                Ok(r) if r.status == 404 => report.missing += 1,
                Ok(r) if r.status == 401 || r.status == 403 => {
                    return Err(SdkError::Sync {
                        reason: format!(
                            "the server refused the device's credentials (HTTP {})",
                            r.status
                        ),
                        retryable: false,
                    });
                }
                _ => {
                    report.failed += 1;
                    if let Some((data, _)) = cache {
                        tiles.push(data);
                    }
                }
            }
        }
        // 3. Cache the downloads and use the tiles.
        let mut g = self.lock()?;
        for (key, data) in &fresh {
            g.outbox
                .cache_tile(key, data, now_unix_ms, TILE_CACHE_MAX)?;
        }
        g.tiles = tiles;
        Ok(report)
    }

    /// Sends the outbox to the server (blocking, retrying as configured).
    pub fn sync(
        &self,
        transport: &dyn Transport,
        cfg: &SyncConfig,
        sleeper: &mut dyn Sleeper,
    ) -> Result<SyncReport, SdkError> {
        let mut g = self.lock()?;
        sync(&mut g.outbox, transport, cfg, sleeper)
    }
}

impl Inner {
    fn unix_ms(&self, t_boot_s: f64) -> i64 {
        self.boot_epoch_unix_ms
            .map_or(0, |e| (e + t_boot_s * 1000.0).round() as i64)
    }

    fn begin_trip(
        &mut self,
        now_unix_ms: i64,
        now_boot_s: f64,
        auto: bool,
    ) -> Result<String, SdkError> {
        let pipeline = Pipeline::new(PipelineConfig::for_vehicle(self.cfg.vehicle))
            .map_err(|e| SdkError::arg(e.to_string()))?;
        let id = new_trip_id()?;
        self.trip = Some(Trip {
            id: id.clone(),
            pipeline: Box::new(pipeline),
            start_unix_ms: now_unix_ms,
            seq: 0,
            distance_m: 0.0,
            last_fix: None,
            last_t_s: now_boot_s,
            events: [0; 6],
            auto,
            slow_since_s: None,
        });
        Ok(id)
    }

    fn end_trip(&mut self) -> Result<TripSummary, SdkError> {
        let Some(trip) = self.trip.as_mut() else {
            return Err(SdkError::state("no trip is running"));
        };
        trip.pipeline.finish();
        self.drain()?;
        let Some(trip) = self.trip.take() else {
            return Err(SdkError::state("no trip is running"));
        };
        let p = &trip.pipeline;
        let end_unix_ms = self.unix_ms(trip.last_t_s).max(trip.start_unix_ms);
        let summary = TripSummary {
            trip_id: trip.id.clone(),
            start_unix_ms: trip.start_unix_ms,
            end_unix_ms,
            distance_m: trip.distance_m,
            events: trip.events,
            suppressed: Suppression::ALL
                .iter()
                .map(|r| (r.as_str().to_owned(), u64::from(p.suppressed().get(*r))))
                .collect(),
            speeding_pings_dropped: PingDrop::ALL
                .iter()
                .map(|r| (r.as_str().to_owned(), p.speeding_counts().get(*r)))
                .collect(),
            imu_accepted: p.counts().imu_accepted,
            imu_rejected: p.counts().imu_rejected(),
            gps_accepted: p.counts().gps_accepted,
            gps_rejected: p.counts().gps_rejected(),
        };
        self.outbox.add_trip(&WireTrip {
            id: trip.id.clone(),
            start_unix_ms: trip.start_unix_ms,
            end_unix_ms,
            distance_m: (trip.distance_m * 10.0).round() / 10.0,
            vehicle: match self.cfg.vehicle {
                VehicleProfile::Car => "car",
                VehicleProfile::Motorcycle => "motorcycle",
            }
            .into(),
            events: trip.events.iter().sum(),
        })?;
        Ok(summary)
    }

    fn no_trip(&self) -> Result<(), SdkError> {
        if self.cfg.auto_trip.is_some() {
            Ok(())
        } else {
            Err(SdkError::state("no trip is running: call start_trip first"))
        }
    }

    fn push_imu(&mut self, samples: &[PlatformImu]) -> Result<PushResult, SdkError> {
        let mut r = PushResult::default();
        if self.trip.is_none() {
            self.no_trip()?;
            r.ignored = samples.len() as u32;
            return Ok(r);
        }
        let platform = self.cfg.platform;
        for s in samples {
            let Some(trip) = self.trip.as_mut() else {
                break;
            };
            let sample = platform.imu(s);
            match trip.pipeline.push_imu(&sample) {
                Ok(_) => {
                    r.accepted += 1;
                    trip.last_t_s = trip.last_t_s.max(sample.t_s);
                }
                Err(_) => r.rejected += 1,
            }
            r.events += self.drain()?;
        }
        Ok(r)
    }

    fn push_gps(&mut self, fixes: &[PlatformGps]) -> Result<PushResult, SdkError> {
        // The tiles were checked when set; parse them once per batch, not
        // once per fix. They are taken out while the batch runs (nothing in
        // it changes them) and put back whatever the outcome.
        let bytes = std::mem::take(&mut self.tiles);
        let tiles: Vec<Tile<'_>> = bytes.iter().filter_map(|t| Tile::parse(t).ok()).collect();
        let result = self.push_gps_on(fixes, &tiles);
        drop(tiles);
        self.tiles = bytes;
        result
    }

    fn push_gps_on(
        &mut self,
        fixes: &[PlatformGps],
        tiles: &[Tile<'_>],
    ) -> Result<PushResult, SdkError> {
        let mut r = PushResult::default();
        let platform = self.cfg.platform;
        for f in fixes {
            let fix = platform.gps(f);
            self.auto_step(&fix)?;
            if self.trip.is_none() {
                self.no_trip()?;
                r.ignored += 1;
                continue;
            }
            let how = self.hour_of_week(fix.t_s);
            let Some(trip) = self.trip.as_mut() else {
                continue;
            };
            let accepted = if tiles.is_empty() {
                trip.pipeline.push_gps(&fix).is_ok()
            } else {
                trip.pipeline.push_gps_on_map(&fix, tiles, how).is_ok()
            };
            if accepted {
                r.accepted += 1;
                if let Some(last) = trip.last_fix {
                    if fix.accuracy_m.is_some_and(|a| a <= 25.0)
                        && fix.speed_mps.is_some_and(|v| v >= 1.0)
                    {
                        trip.distance_m +=
                            distance_m(last.lat_deg, last.lon_deg, fix.lat_deg, fix.lon_deg);
                    }
                }
                trip.last_fix = Some(fix);
                trip.last_t_s = trip.last_t_s.max(fix.t_s);
            } else {
                r.rejected += 1;
            }
            r.events += self.drain()?;
        }
        Ok(r)
    }

    fn hour_of_week(&self, t_boot_s: f64) -> Option<u8> {
        let epoch = self.boot_epoch_unix_ms?;
        Some(safelane_core::matching::hour_of_week(
            (epoch + t_boot_s * 1000.0) / 1000.0,
            f64::from(self.cfg.utc_offset_min) * 60.0,
        ))
    }

    /// Automatic trip start/stop on one fix.
    fn auto_step(&mut self, fix: &GpsFix) -> Result<(), SdkError> {
        let Some(a) = self.cfg.auto_trip else {
            return Ok(());
        };
        let speed = fix.speed_mps.map(f64::from).filter(|v| v.is_finite());
        match &mut self.trip {
            None => {
                if speed.is_some_and(|v| v >= a.start_speed_mps) {
                    let first = *self.auto.fast_since.get_or_insert(*fix);
                    if fix.t_s - first.t_s >= a.start_after_s {
                        self.auto.fast_since = None;
                        let start_ms = self.unix_ms(first.t_s);
                        self.begin_trip(start_ms, first.t_s, true)?;
                    }
                } else {
                    self.auto.fast_since = None;
                }
            }
            Some(trip) if trip.auto => {
                if speed.is_some_and(|v| v >= a.stop_speed_mps) {
                    trip.slow_since_s = None;
                } else {
                    let since = *trip.slow_since_s.get_or_insert(fix.t_s);
                    if fix.t_s - since >= a.stop_after_s {
                        self.end_trip()?;
                    }
                }
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// Records every event the pipeline has ready: outbox first, then alerts.
    fn drain(&mut self) -> Result<u32, SdkError> {
        let Some(trip) = self.trip.as_mut() else {
            return Ok(0);
        };
        let mut harsh: Vec<Event> = Vec::new();
        while let Some(e) = trip.pipeline.pop_event() {
            harsh.push(e);
        }
        let mut speeding: Vec<SpeedingEvent> = Vec::new();
        while let Some(e) = trip.pipeline.pop_speeding() {
            speeding.push(e);
        }
        if harsh.is_empty() && speeding.is_empty() && self.unsaved.is_empty() {
            return Ok(0);
        }
        let epoch = self.boot_epoch_unix_ms.unwrap_or(0.0);
        let ms = |t: f64| (epoch + t * 1000.0).round() as i64;
        let Some(trip) = self.trip.as_mut() else {
            return Ok(0);
        };
        let mut out = Vec::with_capacity(harsh.len() + speeding.len());
        for e in &harsh {
            trip.seq += 1;
            out.push(WireEvent {
                id: format!("{}-{}", trip.id, trip.seq),
                trip_id: trip.id.clone(),
                kind: kind(e.kind),
                direction: e.direction.map(|d| d.as_str().to_owned()),
                severity: e.severity.as_str().to_owned(),
                start_unix_ms: ms(e.start_s),
                end_unix_ms: ms(e.end_s),
                peak_mps2: Some(e.peak_mps2),
                speed_mps: e.speed_at_start_mps,
                lat: e.position_at_peak.map(|p| round5(p.0)),
                lon: e.position_at_peak.map(|p| round5(p.1)),
                confidence: e.confidence,
                speeding: None,
            });
        }
        for e in &speeding {
            trip.seq += 1;
            let severe = e.max_excess_mps > 0.3 * e.threshold_mps;
            out.push(WireEvent {
                id: format!("{}-{}", trip.id, trip.seq),
                trip_id: trip.id.clone(),
                kind: Kind::Speeding,
                direction: None,
                severity: if severe { "severe" } else { "moderate" }.to_owned(),
                start_unix_ms: ms(e.start_s),
                end_unix_ms: ms(e.end_s),
                peak_mps2: None,
                speed_mps: Some(e.max_speed_mps),
                lat: Some(round5(e.start_position.0)),
                lon: Some(round5(e.start_position.1)),
                confidence: 1.0,
                speeding: Some(SpeedingDetail {
                    threshold_kmh: e.threshold_mps * 3.6,
                    threshold_source: e.source.as_str().to_owned(),
                    max_excess_kmh: e.max_excess_mps * 3.6,
                    mean_excess_kmh: e.mean_excess_mps * 3.6,
                    distance_m: e.distance_m,
                }),
            });
        }
        for e in &out {
            if let Some(i) = Kind::ALL.iter().position(|k| *k == e.kind) {
                trip.events[i] += 1;
            }
        }
        // Stored before anyone hears of it; on failure the events wait in
        // `unsaved` for the next attempt.
        self.unsaved.extend(out);
        self.outbox.add_events(&self.unsaved)?;
        let saved = std::mem::take(&mut self.unsaved);
        if let Some(l) = &self.listener {
            for e in &saved {
                l.on_event(e.clone());
            }
        }
        Ok(saved.len() as u32)
    }
}
