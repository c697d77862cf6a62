//! # safelane-ffi: the SDK as Kotlin and Swift see it
//!
//! A thin layer over `safelane-sdk` with uniffi proc-macros: records for
//! samples and results, one object ([`Safelane`]), two foreign traits the app
//! implements ([`AlertListener`] for real-time alerts, [`HttpTransport`] for
//! sync over the app's own HTTP stack), one error type ([`SafelaneError`]).
//! Nothing here panics on input; a panic anyway would surface as an
//! exception from uniffi's catch, never an abort.

use std::sync::Arc;

use safelane_core::VehicleProfile;
use safelane_sdk as sdk;

uniffi::setup_scaffolding!();

/// The one error type: few variants a caller can act on; messages never hold
/// positions, speeds or credentials.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SafelaneError {
    /// A sample, setting or argument is unusable.
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// The field and the rule.
        reason: String,
    },
    /// Not possible in the current state (no trip running, a trip running).
    #[error("invalid state: {reason}")]
    InvalidState {
        /// The state.
        reason: String,
    },
    /// The on-device database failed; what was stored is kept.
    #[error("storage: {reason}")]
    Storage {
        /// The operation and the cause.
        reason: String,
    },
    /// Sync did not complete; events stay queued.
    #[error("sync: {reason}")]
    Sync {
        /// What failed.
        reason: String,
        /// Whether retrying later can help.
        retryable: bool,
    },
}

impl From<sdk::SdkError> for SafelaneError {
    fn from(e: sdk::SdkError) -> Self {
        match e {
            sdk::SdkError::InvalidArgument { reason } => Self::InvalidArgument { reason },
            sdk::SdkError::InvalidState { reason } => Self::InvalidState { reason },
            sdk::SdkError::Storage { reason } => Self::Storage { reason },
            sdk::SdkError::Sync { reason, retryable } => Self::Sync { reason, retryable },
        }
    }
}

/// A network failure reported by the app's transport (no HTTP response).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum TransportError {
    /// Connection, DNS, TLS or timeout failure.
    #[error("network: {reason}")]
    Network {
        /// For logs (`reason`, not `message`: Kotlin exceptions own that name).
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TransportError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        TransportError::Network {
            reason: format!("transport threw: {}", e.reason),
        }
    }
}

/// Sensor conventions (see the SDK's `platform` module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Platform {
    /// Android: m/s^2 specific force, ns since boot.
    Android,
    /// iOS: g with the opposite sign, s since boot.
    Ios,
}

/// Vehicle profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Vehicle {
    /// Car or van.
    Car,
    /// Motorcycle or scooter.
    Motorcycle,
}

/// SDK settings.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Config {
    /// Vehicle profile.
    pub vehicle: Vehicle,
    /// Sensor conventions of the samples pushed.
    pub platform: Platform,
    /// Outbox database file; `None` keeps events in memory only.
    pub outbox_path: Option<String>,
    /// Most events waiting in the outbox (crashes are never dropped).
    pub outbox_max_events: u64,
    /// Start and stop trips from GPS speed.
    pub auto_trips: bool,
    /// Local time = UTC + this many minutes.
    pub utc_offset_min: i32,
    /// Cap on the outbox file, bytes; 0 (the default): only the disk's size.
    /// Last, so that positional constructors written before it still compile.
    #[uniffi(default = 0)]
    pub outbox_max_bytes: u64,
}

/// One IMU sample in the platform's convention.
#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct ImuSample {
    /// Android: ns since boot; iOS: s since boot.
    pub timestamp: f64,
    /// Accelerometer x.
    pub ax: f64,
    /// Accelerometer y.
    pub ay: f64,
    /// Accelerometer z.
    pub az: f64,
    /// Gyroscope x, rad/s (`None` without a gyroscope).
    pub gx: Option<f64>,
    /// Gyroscope y.
    pub gy: Option<f64>,
    /// Gyroscope z.
    pub gz: Option<f64>,
}

/// One location fix in the platform's convention.
#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct GpsFix {
    /// Android: `elapsedRealtimeNanos`; iOS: s since boot.
    pub timestamp: f64,
    /// Latitude, degrees.
    pub lat_deg: f64,
    /// Longitude, degrees.
    pub lon_deg: f64,
    /// Speed, m/s (`None` or negative when unknown).
    pub speed_mps: Option<f64>,
    /// Course, degrees (`None` or negative when unknown).
    pub bearing_deg: Option<f64>,
    /// Horizontal accuracy, m (`None` or negative when unknown).
    pub accuracy_m: Option<f64>,
}

/// A recorded event, as the real-time alert delivers it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Alert {
    /// Idempotency key.
    pub id: String,
    /// Trip id.
    pub trip_id: String,
    /// `harsh_braking`, `harsh_acceleration`, `harsh_cornering`, `harsh_lane_change`, `crash`, `speeding`.
    pub kind: String,
    /// `left` / `right` for lateral kinds.
    pub direction: Option<String>,
    /// `moderate` or `severe`.
    pub severity: String,
    /// Start, Unix ms.
    pub start_unix_ms: i64,
    /// End, Unix ms.
    pub end_unix_ms: i64,
    /// Peak acceleration, m/s^2.
    pub peak_mps2: Option<f32>,
    /// Speed, m/s.
    pub speed_mps: Option<f32>,
    /// Place.
    pub lat: Option<f64>,
    /// Place.
    pub lon: Option<f64>,
    /// Threshold in force, km/h (speeding).
    pub threshold_kmh: Option<f32>,
    /// Largest excess, km/h (speeding).
    pub max_excess_kmh: Option<f32>,
}

impl From<safelane_wire::WireEvent> for Alert {
    fn from(e: safelane_wire::WireEvent) -> Self {
        Alert {
            kind: e.kind.as_str().to_owned(),
            threshold_kmh: e.speeding.as_ref().map(|s| s.threshold_kmh),
            max_excess_kmh: e.speeding.as_ref().map(|s| s.max_excess_kmh),
            id: e.id,
            trip_id: e.trip_id,
            direction: e.direction,
            severity: e.severity,
            start_unix_ms: e.start_unix_ms,
            end_unix_ms: e.end_unix_ms,
            peak_mps2: e.peak_mps2,
            speed_mps: e.speed_mps,
            lat: e.lat,
            lon: e.lon,
        }
    }
}

/// What a pushed batch did.
#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct PushResult {
    /// Accepted by the core.
    pub accepted: u32,
    /// Refused by the core's checks.
    pub rejected: u32,
    /// Ignored: no trip running (automatic trips).
    pub ignored: u32,
    /// Events recorded during the batch.
    pub events: u32,
}

/// A finished trip.
#[derive(Debug, Clone, uniffi::Record)]
pub struct TripSummary {
    /// Trip id.
    pub trip_id: String,
    /// Start, Unix ms.
    pub start_unix_ms: i64,
    /// End, Unix ms.
    pub end_unix_ms: i64,
    /// Distance, m.
    pub distance_m: f64,
    /// Events per kind: braking, acceleration, cornering, lane change, crash, speeding.
    pub events: Vec<u32>,
    /// Suppressed candidates as `reason=count`.
    pub suppressed: Vec<String>,
}

/// The orientation for display.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Orientation {
    /// `unknown`, `estimating`, `locked`, `moved`.
    pub state: String,
    /// Roll, degrees.
    pub roll_deg: f32,
    /// Pitch, degrees.
    pub pitch_deg: f32,
    /// Yaw, degrees.
    pub yaw_deg: f32,
}

/// What the outbox holds.
#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct OutboxCounts {
    /// Events waiting for the server.
    pub pending_events: u64,
    /// Trips waiting for the server.
    pub pending_trips: u64,
    /// Events the server refused.
    pub rejected_events: u64,
    /// Events dropped at the bound.
    pub dropped_events: u64,
    /// Events acknowledged.
    pub synced_events: u64,
}

/// Sync settings.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncSettings {
    /// Server base URL.
    pub base_url: String,
    /// Device id.
    pub device_id: String,
    /// Device secret.
    pub device_secret: String,
    /// Events per request (1-500).
    pub batch_size: u32,
    /// Consecutive failures before giving up.
    pub max_attempts: u32,
    /// First backoff, ms (waits grow x2 with full jitter).
    pub base_backoff_ms: u64,
    /// Longest wait, ms.
    pub max_backoff_ms: u64,
}

/// What a sync did.
#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct SyncReport {
    /// Events acknowledged.
    pub acknowledged: u64,
    /// Events refused by the server.
    pub rejected: u64,
    /// Requests sent.
    pub requests: u64,
    /// Body bytes sent.
    pub bytes_sent: u64,
    /// Retries after waits.
    pub retries: u64,
}

/// What a tile update did.
#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct TileUpdate {
    /// Tiles around the position.
    pub wanted: u32,
    /// From the on-device cache.
    pub from_cache: u32,
    /// Downloaded now.
    pub fetched: u32,
    /// No tile on the server (no roads known there).
    pub missing: u32,
    /// Download failed or invalid (a stale cached copy is used if any).
    pub failed: u32,
}

/// An HTTP request for the app's transport.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpRequest {
    /// `POST`.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers as (name, value) pairs, flattened: name, value, name, value...
    pub headers: Vec<String>,
    /// Body.
    pub body: Vec<u8>,
}

/// The app transport's response.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// `Retry-After` header value, when present.
    pub retry_after: Option<String>,
    /// Body.
    pub body: Vec<u8>,
}

/// Receives alerts (implemented in Kotlin / Swift).
#[uniffi::export(with_foreign)]
pub trait AlertListener: Send + Sync {
    /// Called on the pushing thread as soon as an event is recorded.
    fn on_alert(&self, alert: Alert);
}

/// Sends HTTP requests with the app's stack (OkHttp, URLSession).
#[uniffi::export(with_foreign)]
pub trait HttpTransport: Send + Sync {
    /// Sends one request; throw (return an error) only when there is no response.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

struct ListenerBridge(Arc<dyn AlertListener>);

impl sdk::AlertListener for ListenerBridge {
    fn on_event(&self, event: safelane_wire::WireEvent) {
        self.0.on_alert(event.into());
    }
}

struct TransportBridge(Arc<dyn HttpTransport>);

impl sdk::Transport for TransportBridge {
    fn send(&self, r: sdk::HttpRequest) -> Result<sdk::HttpResponse, String> {
        let headers = r.headers.into_iter().flat_map(|(k, v)| [k, v]).collect();
        let resp = self
            .0
            .send(HttpRequest {
                method: r.method,
                url: r.url,
                headers,
                body: r.body,
            })
            .map_err(|e| e.to_string())?;
        Ok(sdk::HttpResponse {
            status: resp.status,
            headers: resp
                .retry_after
                .map(|v| vec![("retry-after".to_owned(), v)])
                .unwrap_or_default(),
            body: resp.body,
        })
    }
}

/// The SDK object.
#[derive(Debug, uniffi::Object)]
pub struct Safelane {
    inner: sdk::Sdk,
}

#[uniffi::export]
impl Safelane {
    /// Opens the SDK (and its outbox).
    #[uniffi::constructor]
    pub fn new(config: Config) -> Result<Arc<Self>, SafelaneError> {
        let mut cfg = sdk::SdkConfig::new(
            match config.vehicle {
                Vehicle::Car => VehicleProfile::Car,
                Vehicle::Motorcycle => VehicleProfile::Motorcycle,
            },
            match config.platform {
                Platform::Android => sdk::Platform::Android,
                Platform::Ios => sdk::Platform::Ios,
            },
            config.outbox_path.map(Into::into),
        );
        cfg.outbox_max_events = config.outbox_max_events;
        cfg.outbox_max_bytes = config.outbox_max_bytes;
        cfg.utc_offset_min = config.utc_offset_min;
        cfg.auto_trip = config.auto_trips.then(sdk::AutoTripConfig::default);
        Ok(Arc::new(Self {
            inner: sdk::Sdk::open(cfg)?,
        }))
    }

    /// Registers the alert listener (`None` removes it).
    pub fn set_listener(
        &self,
        listener: Option<Arc<dyn AlertListener>>,
    ) -> Result<(), SafelaneError> {
        let bridge = listener.map(|l| Arc::new(ListenerBridge(l)) as Arc<dyn sdk::AlertListener>);
        Ok(self.inner.set_listener(bridge)?)
    }

    /// Maps the sensor clock to wall time: now in Unix ms, now since boot in s.
    pub fn set_clock(&self, now_unix_ms: i64, now_boot_s: f64) -> Result<(), SafelaneError> {
        Ok(self.inner.set_clock(now_unix_ms, now_boot_s)?)
    }

    /// Map threshold tiles around the vehicle (each checked).
    pub fn set_tiles(&self, tiles: Vec<Vec<u8>>) -> Result<(), SafelaneError> {
        Ok(self.inner.set_tiles(tiles)?)
    }

    /// Starts a trip; returns its id.
    pub fn start_trip(&self, now_unix_ms: i64, now_boot_s: f64) -> Result<String, SafelaneError> {
        Ok(self.inner.start_trip(now_unix_ms, now_boot_s)?)
    }

    /// Stops the trip and returns its summary.
    pub fn stop_trip(&self) -> Result<TripSummary, SafelaneError> {
        let s = self.inner.stop_trip()?;
        Ok(TripSummary {
            trip_id: s.trip_id,
            start_unix_ms: s.start_unix_ms,
            end_unix_ms: s.end_unix_ms,
            distance_m: s.distance_m,
            events: s.events.to_vec(),
            suppressed: s
                .suppressed
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
        })
    }

    /// Pushes a batch of IMU samples.
    pub fn push_imu(&self, samples: Vec<ImuSample>) -> Result<PushResult, SafelaneError> {
        let batch: Vec<sdk::PlatformImu> = samples
            .iter()
            .map(|s| sdk::PlatformImu {
                timestamp: s.timestamp,
                accel: [s.ax, s.ay, s.az],
                gyro: match (s.gx, s.gy, s.gz) {
                    (Some(x), Some(y), Some(z)) => Some([x, y, z]),
                    _ => None,
                },
            })
            .collect();
        Ok(push_result(self.inner.push_imu(&batch)?))
    }

    /// Pushes a batch of IMU samples packed as bytes: 7 little-endian f64 per
    /// sample (timestamp, ax, ay, az, gx, gy, gz; NaN gyroscope values mean
    /// none), 56 bytes each. One buffer copy across the boundary instead of
    /// a record per sample: the cheapest way in (see `ImuBatcher`).
    pub fn push_imu_packed(&self, data: Vec<u8>) -> Result<PushResult, SafelaneError> {
        if data.len() % 56 != 0 {
            return Err(SafelaneError::InvalidArgument {
                reason: format!(
                    "push_imu_packed: length {} is not a multiple of 56 (7 f64 per sample)",
                    data.len()
                ),
            });
        }
        let f = |b: &[u8]| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            f64::from_le_bytes(a)
        };
        let batch: Vec<sdk::PlatformImu> = data
            .chunks_exact(56)
            .map(|c| {
                let v: [f64; 7] = std::array::from_fn(|i| f(&c[i * 8..i * 8 + 8]));
                sdk::PlatformImu {
                    timestamp: v[0],
                    accel: [v[1], v[2], v[3]],
                    gyro: (!v[4].is_nan()).then_some([v[4], v[5], v[6]]),
                }
            })
            .collect();
        Ok(push_result(self.inner.push_imu(&batch)?))
    }

    /// Pushes a batch of GPS fixes.
    pub fn push_gps(&self, fixes: Vec<GpsFix>) -> Result<PushResult, SafelaneError> {
        let batch: Vec<sdk::PlatformGps> = fixes
            .iter()
            .map(|f| sdk::PlatformGps {
                timestamp: f.timestamp,
                lat_deg: f.lat_deg,
                lon_deg: f.lon_deg,
                speed_mps: f.speed_mps,
                bearing_deg: f.bearing_deg,
                accuracy_m: f.accuracy_m,
            })
            .collect();
        Ok(push_result(self.inner.push_gps(&batch)?))
    }

    /// The running trip's id.
    pub fn current_trip(&self) -> Result<Option<String>, SafelaneError> {
        Ok(self.inner.current_trip()?)
    }

    /// The orientation.
    pub fn orientation(&self) -> Result<Orientation, SafelaneError> {
        let o = self.inner.orientation()?;
        Ok(Orientation {
            state: o.state.to_owned(),
            roll_deg: o.roll_deg,
            pitch_deg: o.pitch_deg,
            yaw_deg: o.yaw_deg,
        })
    }

    /// What the outbox holds.
    pub fn outbox_counts(&self) -> Result<OutboxCounts, SafelaneError> {
        let c = self.inner.outbox_counts()?;
        Ok(OutboxCounts {
            pending_events: c.pending_events,
            pending_trips: c.pending_trips,
            rejected_events: c.rejected_events,
            dropped_events: c.dropped_events,
            synced_events: c.synced_events,
        })
    }

    /// Fetches (or takes from the on-device cache) the map tiles around a
    /// position, for speeding; call every minute or so while driving, from a
    /// background worker.
    pub fn update_tiles(
        &self,
        transport: Arc<dyn HttpTransport>,
        settings: SyncSettings,
        lat_deg: f64,
        lon_deg: f64,
        now_unix_ms: i64,
    ) -> Result<TileUpdate, SafelaneError> {
        let u = self.inner.update_tiles(
            &TransportBridge(transport),
            &sync_config(&settings),
            lat_deg,
            lon_deg,
            now_unix_ms,
        )?;
        Ok(TileUpdate {
            wanted: u.wanted,
            from_cache: u.from_cache,
            fetched: u.fetched,
            missing: u.missing,
            failed: u.failed,
        })
    }

    /// Sends the outbox through the app's transport (blocking; call from a
    /// background worker).
    pub fn sync(
        &self,
        transport: Arc<dyn HttpTransport>,
        settings: SyncSettings,
    ) -> Result<SyncReport, SafelaneError> {
        let r = self.inner.sync(
            &TransportBridge(transport),
            &sync_config(&settings),
            &mut sdk::ThreadSleeper,
        )?;
        Ok(SyncReport {
            acknowledged: r.acknowledged,
            rejected: r.rejected,
            requests: r.requests,
            bytes_sent: r.bytes_sent,
            retries: r.retries,
        })
    }
}

/// Default sync settings for a server and device credentials.
#[uniffi::export]
pub fn default_sync_settings(
    base_url: String,
    device_id: String,
    device_secret: String,
) -> SyncSettings {
    let c = sdk::SyncConfig::new(&base_url, &device_id, &device_secret);
    SyncSettings {
        base_url: c.base_url,
        device_id: c.device_id,
        device_secret: c.device_secret,
        batch_size: c.batch_size as u32,
        max_attempts: c.max_attempts,
        base_backoff_ms: c.base_backoff_ms,
        max_backoff_ms: c.max_backoff_ms,
    }
}

fn sync_config(settings: &SyncSettings) -> sdk::SyncConfig {
    sdk::SyncConfig {
        batch_size: settings.batch_size as usize,
        max_attempts: settings.max_attempts,
        base_backoff_ms: settings.base_backoff_ms,
        max_backoff_ms: settings.max_backoff_ms,
        ..sdk::SyncConfig::new(
            &settings.base_url,
            &settings.device_id,
            &settings.device_secret,
        )
    }
}

fn push_result(r: sdk::PushResult) -> PushResult {
    PushResult {
        accepted: r.accepted,
        rejected: r.rejected,
        ignored: r.ignored,
        events: r.events,
    }
}
