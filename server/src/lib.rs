//! # safelane-server
//!
//! The server the SDK syncs to. This first slice: fleets, drivers and device
//! credentials, idempotent event ingestion (`POST /v1/events`, the
//! `safelane-wire` contract), map tile download (`GET /v1/tiles/{geohash}`)
//! and `/healthz`, on an embedded SQLite database (WAL, one writer,
//! migrations in `migrations/sqlite/`). Reports, the score, PostgreSQL,
//! metrics and the OpenAPI document come next (issue 6).
//!
//! Security: device and admin secrets are 256-bit random values, shown once
//! and stored only as SHA-256 hashes, compared in constant time; every
//! query is parameterised; logs carry no credentials and no positions.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rusqlite::{Connection, OptionalExtension, params};
use safelane_wire::{BatchReply, ErrorBody, EventBatch, EventStatus, Status, WireEvent, WireTrip};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// Schema migrations, applied in order at start-up (`PRAGMA user_version`).
const MIGRATIONS: &[&str] = &[include_str!("../migrations/sqlite/0001_init.sql")];

/// Events further in the future than this are refused, ms (phone clocks drift, not by a day).
const MAX_FUTURE_MS: i64 = 24 * 3600 * 1000;
/// Events before 2020 are refused (a phone clock reset to 1970).
const MIN_UNIX_MS: i64 = 1_577_836_800_000;

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// SQLite database file (created).
    pub database: PathBuf,
    /// Folder of map tiles (`<geohash>.slmt`) served to phones.
    pub tiles_dir: Option<PathBuf>,
    /// The operator's token: may create fleets.
    pub operator_token: String,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Requests handled at once before 429.
    pub max_in_flight: usize,
}

impl ServerConfig {
    /// Defaults for a database file and an operator token.
    pub fn new(database: PathBuf, operator_token: String) -> Self {
        Self {
            database,
            tiles_dir: None,
            operator_token,
            max_body_bytes: safelane_wire::MAX_BATCH_BYTES,
            max_in_flight: 64,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The database could not be opened or migrated.
    #[error("database {path}: {message}")]
    Database {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// A setting is unusable.
    #[error("invalid setting: {0}")]
    Config(&'static str),
}

#[derive(Debug)]
struct Inner {
    db: Mutex<Connection>,
    cfg: ServerConfig,
    in_flight: Semaphore,
}

/// The server's shared state.
#[derive(Clone, Debug)]
pub struct App(Arc<Inner>);

impl App {
    /// Opens (creating and migrating) the database.
    pub fn open(cfg: ServerConfig) -> Result<Self, ServerError> {
        if cfg.operator_token.len() < 16 {
            return Err(ServerError::Config(
                "the operator token must be at least 16 characters",
            ));
        }
        let path = cfg.database.display().to_string();
        let db_err = |e: rusqlite::Error| ServerError::Database {
            path: path.clone(),
            message: e.to_string(),
        };
        let mut conn = Connection::open(&cfg.database).map_err(db_err)?;
        let _: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(db_err)?;
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(db_err)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db_err)?;
        if version > MIGRATIONS.len() as i64 {
            return Err(ServerError::Database {
                path,
                message: format!("schema version {version} is newer than this server's"),
            });
        }
        let tx = conn.transaction().map_err(db_err)?;
        for m in MIGRATIONS.iter().skip(version as usize) {
            tx.execute_batch(m).map_err(db_err)?;
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)
            .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        let permits = cfg.max_in_flight.max(1);
        Ok(App(Arc::new(Inner {
            db: Mutex::new(conn),
            cfg,
            in_flight: Semaphore::new(permits),
        })))
    }

    /// The HTTP routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/healthz", get(healthz))
            .route("/v1/fleets", post(create_fleet))
            .route("/v1/fleets/{fleet}/drivers", post(create_driver))
            .route(
                "/v1/fleets/{fleet}/drivers/{driver}/devices",
                post(create_device),
            )
            .route("/v1/events", post(ingest))
            .route("/v1/tiles/{key}", get(tile))
            .layer(DefaultBodyLimit::max(self.0.cfg.max_body_bytes))
            .with_state(self.clone())
    }

    /// Runs blocking database work off the async threads.
    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let app = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = app
                .0
                .db
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|_| ApiError::internal())?
    }
}

/// Serves until the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, app: App) -> std::io::Result<()> {
    axum::serve(listener, app.router()).await
}

/// An error reply: status and body (`safelane_wire::ErrorBody`).
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after_s: Option<u32>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }
    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong credentials",
        )
    }
    fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        tracing::error!(error = %e, "database error");
        ApiError::internal()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&ErrorBody {
            code: self.code.to_owned(),
            message: self.message,
        })
        .unwrap_or_default();
        let mut r = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        if let Some(s) = self.retry_after_s {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn random_token() -> Result<String, ApiError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|_| ApiError::internal())?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Equal strings, in time independent of where they differ.
fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("body: {e}")))
}

fn reply<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(b) => (status, [(header::CONTENT_TYPE, "application/json")], b).into_response(),
        Err(_) => ApiError::internal().into_response(),
    }
}

async fn healthz(State(app): State<App>) -> Response {
    match app
        .db(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await
    {
        Ok(_) => (StatusCode::OK, "ok").into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(serde::Deserialize)]
struct NameBody {
    name: String,
}

fn check_name(n: &str) -> Result<String, ApiError> {
    let n = n.trim();
    if n.is_empty() || n.len() > 200 || n.chars().any(char::is_control) {
        return Err(ApiError::bad("name: 1-200 printable characters"));
    }
    Ok(n.to_owned())
}

async fn create_fleet(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let run = async {
        let token = bearer(&headers).ok_or_else(ApiError::unauthorized)?;
        if !constant_time_eq(&hash(token), &hash(&app.0.cfg.operator_token)) {
            return Err(ApiError::unauthorized());
        }
        let name = check_name(&json::<NameBody>(&body)?.name)?;
        let admin_token = random_token()?;
        let h = hash(&admin_token);
        let id = app
            .db(move |c| {
                c.execute(
                    "INSERT INTO fleets (name, admin_token_hash, created_unix_ms) VALUES (?1, ?2, ?3)",
                    params![name, h, now_ms()],
                )?;
                Ok(c.last_insert_rowid())
            })
            .await?;
        tracing::info!(fleet = id, "fleet created");
        Ok(reply(
            StatusCode::CREATED,
            &serde_json::json!({ "fleet_id": id, "admin_token": admin_token }),
        ))
    };
    run.await.unwrap_or_else(ApiError::into_response)
}

/// Checks a fleet admin's token for `fleet`; another fleet's admin gets 404
/// (nothing tells them the fleet exists).
async fn fleet_admin(app: &App, headers: &HeaderMap, fleet: i64) -> Result<(), ApiError> {
    let token = bearer(headers)
        .ok_or_else(ApiError::unauthorized)?
        .to_owned();
    let stored: Option<String> = app
        .db(move |c| {
            Ok(c.query_row(
                "SELECT admin_token_hash FROM fleets WHERE id = ?1",
                params![fleet],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await?;
    match stored {
        Some(h) if constant_time_eq(&h, &hash(&token)) => Ok(()),
        _ => Err(ApiError::not_found("fleet")),
    }
}

async fn create_driver(
    State(app): State<App>,
    Path(fleet): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let run = async {
        fleet_admin(&app, &headers, fleet).await?;
        let name = check_name(&json::<NameBody>(&body)?.name)?;
        let id = app
            .db(move |c| {
                c.execute(
                    "INSERT INTO drivers (fleet_id, name, created_unix_ms) VALUES (?1, ?2, ?3)",
                    params![fleet, name, now_ms()],
                )?;
                Ok(c.last_insert_rowid())
            })
            .await?;
        Ok(reply(
            StatusCode::CREATED,
            &serde_json::json!({ "driver_id": id }),
        ))
    };
    run.await.unwrap_or_else(ApiError::into_response)
}

async fn create_device(
    State(app): State<App>,
    Path((fleet, driver)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> Response {
    let run = async {
        fleet_admin(&app, &headers, fleet).await?;
        let device_id = random_token()?[..24].to_owned();
        let secret = random_token()?;
        let (id, h) = (device_id.clone(), hash(&secret));
        let created = app
            .db(move |c| {
                let owned: Option<i64> = c
                    .query_row(
                        "SELECT id FROM drivers WHERE id = ?1 AND fleet_id = ?2",
                        params![driver, fleet],
                        |r| r.get(0),
                    )
                    .optional()?;
                if owned.is_none() {
                    return Ok(false);
                }
                c.execute(
                    "INSERT INTO devices (id, driver_id, secret_hash, created_unix_ms) VALUES (?1, ?2, ?3, ?4)",
                    params![id, driver, h, now_ms()],
                )?;
                Ok(true)
            })
            .await?;
        if !created {
            return Err(ApiError::not_found("driver"));
        }
        Ok(reply(
            StatusCode::CREATED,
            &serde_json::json!({ "device_id": device_id, "device_secret": secret }),
        ))
    };
    run.await.unwrap_or_else(ApiError::into_response)
}

/// The driver a device token belongs to.
async fn device_driver(app: &App, headers: &HeaderMap) -> Result<i64, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    let (id, secret) = token.split_once('.').ok_or_else(ApiError::unauthorized)?;
    let (id, h) = (id.to_owned(), hash(secret));
    let row: Option<(i64, String)> = app
        .db(move |c| {
            Ok(c.query_row(
                "SELECT driver_id, secret_hash FROM devices WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
        .await?;
    match row {
        Some((driver, stored)) if constant_time_eq(&stored, &h) => Ok(driver),
        _ => Err(ApiError::unauthorized()),
    }
}

/// An event or trip id: 1-64 characters of `[A-Za-z0-9-]`.
fn id_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Why an event is refused: the field and the rule.
fn check_event(e: &WireEvent, now: i64) -> Option<String> {
    if !id_ok(&e.id) {
        return Some("id: 1-64 characters of [A-Za-z0-9-]".into());
    }
    if !id_ok(&e.trip_id) {
        return Some("trip_id: 1-64 characters of [A-Za-z0-9-]".into());
    }
    if e.start_unix_ms < MIN_UNIX_MS {
        return Some("start_unix_ms: before 2020".into());
    }
    if e.start_unix_ms > now + MAX_FUTURE_MS {
        return Some("start_unix_ms: more than 24 h in the future".into());
    }
    if e.end_unix_ms < e.start_unix_ms || e.end_unix_ms - e.start_unix_ms > 3_600_000 {
        return Some("end_unix_ms: before the start or more than 1 h after it".into());
    }
    if !matches!(e.severity.as_str(), "moderate" | "severe") {
        return Some("severity: moderate or severe".into());
    }
    if let Some(d) = &e.direction {
        if !matches!(d.as_str(), "left" | "right") {
            return Some("direction: left or right".into());
        }
    }
    if !(e.confidence.is_finite() && (0.0..=1.0).contains(&e.confidence)) {
        return Some("confidence: 0..1".into());
    }
    if e.lat.is_some_and(|v| !(v.is_finite() && v.abs() <= 90.0)) {
        return Some("lat: -90..90".into());
    }
    if e.lon.is_some_and(|v| !(v.is_finite() && v.abs() <= 180.0)) {
        return Some("lon: -180..180".into());
    }
    if e.peak_mps2
        .is_some_and(|v| !(v.is_finite() && (0.0..=400.0).contains(&v)))
    {
        return Some("peak_mps2: 0..400".into());
    }
    if e.speed_mps
        .is_some_and(|v| !(v.is_finite() && (0.0..=100.0).contains(&v)))
    {
        return Some("speed_mps: 0..100".into());
    }
    None
}

fn check_trip(t: &WireTrip, now: i64) -> Option<String> {
    if !id_ok(&t.id) {
        return Some("id: 1-64 characters of [A-Za-z0-9-]".into());
    }
    if t.start_unix_ms < MIN_UNIX_MS
        || t.start_unix_ms > now + MAX_FUTURE_MS
        || t.end_unix_ms < t.start_unix_ms
    {
        return Some("start_unix_ms/end_unix_ms: out of range".into());
    }
    if !(t.distance_m.is_finite() && (0.0..=5_000_000.0).contains(&t.distance_m)) {
        return Some("distance_m: 0..5,000 km".into());
    }
    if !matches!(t.vehicle.as_str(), "car" | "motorcycle") {
        return Some("vehicle: car or motorcycle".into());
    }
    None
}

async fn ingest(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(_permit) = app.0.in_flight.try_acquire() else {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "busy: retry after 1 s",
        );
        e.retry_after_s = Some(1);
        return e.into_response();
    };
    let run = async {
        let driver = device_driver(&app, &headers).await?;
        let batch: EventBatch = json(&body)?;
        if batch.events.len() > safelane_wire::MAX_BATCH_EVENTS {
            return Err(ApiError::bad(format!(
                "events: at most {} per batch",
                safelane_wire::MAX_BATCH_EVENTS
            )));
        }
        let n_events = batch.events.len();
        let reply_body = app
            .db(move |c| {
                let now = now_ms();
                let tx = c.transaction()?;
                let mut events = Vec::with_capacity(batch.events.len());
                for e in &batch.events {
                    let status = match check_event(e, now) {
                        Some(error) => EventStatus { id: e.id.clone(), status: Status::Rejected, error: Some(error) },
                        None => {
                            let body = serde_json::to_string(e).map_err(|_| ApiError::internal())?;
                            let inserted = tx.execute(
                                "INSERT OR IGNORE INTO events (id, driver_id, trip_id, kind, severity, start_unix_ms, end_unix_ms, body)
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                params![e.id, driver, e.trip_id, e.kind.as_str(), e.severity, e.start_unix_ms, e.end_unix_ms, body],
                            )?;
                            if inserted == 1 {
                                EventStatus { id: e.id.clone(), status: Status::Stored, error: None }
                            } else {
                                let owner: Option<i64> = tx
                                    .query_row("SELECT driver_id FROM events WHERE id = ?1", params![e.id], |r| r.get(0))
                                    .optional()?;
                                if owner == Some(driver) {
                                    EventStatus { id: e.id.clone(), status: Status::Duplicate, error: None }
                                } else {
                                    EventStatus { id: e.id.clone(), status: Status::Rejected, error: Some("id: already used by another device".into()) }
                                }
                            }
                        }
                    };
                    events.push(status);
                }
                let mut trips = Vec::with_capacity(batch.trips.len());
                for t in &batch.trips {
                    let status = match check_trip(t, now) {
                        Some(error) => EventStatus { id: t.id.clone(), status: Status::Rejected, error: Some(error) },
                        None => {
                            let inserted = tx.execute(
                                "INSERT OR IGNORE INTO trips (id, driver_id, start_unix_ms, end_unix_ms, distance_m, vehicle, events)
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                params![t.id, driver, t.start_unix_ms, t.end_unix_ms, t.distance_m, t.vehicle, t.events],
                            )?;
                            let status = if inserted == 1 { Status::Stored } else { Status::Duplicate };
                            EventStatus { id: t.id.clone(), status, error: None }
                        }
                    };
                    trips.push(status);
                }
                tx.commit()?;
                Ok(BatchReply { events, trips })
            })
            .await?;
        tracing::info!(driver, events = n_events, "batch ingested");
        Ok(reply(StatusCode::OK, &reply_body))
    };
    run.await.unwrap_or_else(ApiError::into_response)
}

async fn tile(State(app): State<App>, Path(key): Path<String>, headers: HeaderMap) -> Response {
    let run = async {
        device_driver(&app, &headers).await?;
        // A geohash only: nothing else reaches the file system.
        let key = safelane_core::geo::Geohash::parse(&key)
            .ok_or_else(|| ApiError::bad("tile: not a geohash"))?;
        let Some(dir) = app.0.cfg.tiles_dir.clone() else {
            return Err(ApiError::not_found("tile"));
        };
        let path = dir.join(format!("{}.slmt", key.as_str()));
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/octet-stream")],
                bytes,
            )
                .into_response()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::not_found("tile")),
            Err(_) => Err(ApiError::internal()),
        }
    };
    run.await.unwrap_or_else(ApiError::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_in_constant_time_and_hash_stably() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
