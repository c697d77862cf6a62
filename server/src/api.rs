//! The HTTP handlers. Each parses and checks its input (a 400 names the
//! field), authorises the caller, then calls the store once or a few times.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use safelane_wire::{BatchReply, ErrorBody, EventBatch, EventStatus, Status};
use serde::{Deserialize, Serialize};

use crate::auth::{bearer, constant_time_eq, hash, random_token};
use crate::calendar;
use crate::error::ApiError;
use crate::report::{self, DriverInput, DriverReport, FleetOverview};
use crate::store::{DayScope, DriverRow, FleetRow, NewBatch, NewEvent, NewTrip, Outcome, Store};
use crate::{App, web};
use safelane_wire::check::{check_event, check_trip};

pub(crate) fn routes<S: Store>() -> Router<App<S>> {
    Router::new()
        .route("/healthz", get(healthz::<S>))
        .route("/metrics", get(metrics::<S>))
        .route("/v1/openapi.json", get(openapi_json))
        .route("/v1/fleets", post(create_fleet::<S>))
        .route(
            "/v1/fleets/{fleet}/drivers",
            post(create_driver::<S>).get(list_drivers::<S>),
        )
        .route(
            "/v1/fleets/{fleet}/drivers/{driver}/devices",
            post(create_device::<S>),
        )
        .route("/v1/fleets/{fleet}/weeks/{week}", get(fleet_week::<S>))
        .route("/v1/events", post(ingest::<S>))
        .route("/v1/pings", post(crate::pings::ingest_pings::<S>))
        .route("/v1/pings/export", get(crate::pings::export_pings::<S>))
        .route("/v1/drivers/{driver}/days/{date}", get(driver_day::<S>))
        .route("/v1/drivers/{driver}/weeks/{week}", get(driver_week::<S>))
        .route(
            "/v1/drivers/{driver}/weeks/{week}/page",
            get(driver_week_page::<S>),
        )
        .route("/v1/tiles/{key}", get(tile::<S>))
        .route("/assets/{name}", get(asset))
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub(crate) fn json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("body: {e}")))
}

pub(crate) fn reply<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(b) => (status, [(header::CONTENT_TYPE, "application/json")], b).into_response(),
        Err(_) => ApiError::internal().into_response(),
    }
}

fn parse_id(s: &str, field: &str) -> Result<i64, ApiError> {
    s.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| ApiError::bad(format!("{field}: a positive integer id")))
}

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The server and its database answer", body = String),
              (status = 500, description = "The database does not answer", body = ErrorBody)))]
pub(crate) async fn healthz<S: Store>(State(app): State<App<S>>) -> Result<Response, ApiError> {
    app.store().health().await?;
    Ok((StatusCode::OK, "ok").into_response())
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String)))]
pub(crate) async fn metrics<S: Store>(State(app): State<App<S>>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics().render(),
    )
        .into_response()
}

#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)))]
pub(crate) async fn openapi_json() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::json(),
    )
        .into_response()
}

/// `POST /v1/fleets` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct NewFleetBody {
    /// Fleet name.
    pub name: String,
    /// Local time of the fleet, minutes east of UTC (day boundaries of reports).
    #[serde(default)]
    pub utc_offset_min: i32,
}

/// `POST /v1/fleets/{fleet}/drivers` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct NameBody {
    /// Driver name.
    pub name: String,
}

/// `POST /v1/fleets` reply.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct FleetCreated {
    /// Fleet id.
    pub fleet_id: i64,
    /// The fleet admin's token: shown once, stored only as a hash.
    pub admin_token: String,
}

/// `POST /v1/fleets/{fleet}/drivers` reply.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DriverCreated {
    /// Driver id.
    pub driver_id: i64,
}

/// `POST /v1/fleets/{fleet}/drivers/{driver}/devices` reply.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DeviceCreated {
    /// Device id (the part before the dot of the bearer token).
    pub device_id: String,
    /// Device secret (after the dot): shown once, stored only as a hash.
    pub device_secret: String,
}

/// One driver of a fleet.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DriverEntry {
    /// Driver id.
    pub driver_id: i64,
    /// Name.
    pub name: String,
}

/// `GET /v1/fleets/{fleet}/drivers` reply.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DriverList {
    /// Drivers by id.
    pub drivers: Vec<DriverEntry>,
}

fn check_name(n: &str) -> Result<String, ApiError> {
    let n = n.trim();
    if n.is_empty() || n.len() > 200 || n.chars().any(char::is_control) {
        return Err(ApiError::bad("name: 1-200 printable characters"));
    }
    Ok(n.to_owned())
}

#[utoipa::path(post, path = "/v1/fleets", tag = "fleets", security(("operator" = [])),
    request_body = NewFleetBody,
    responses((status = 201, body = FleetCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn create_fleet<S: Store>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    operator(&app, &headers)?;
    let b: NewFleetBody = json(&body)?;
    let name = check_name(&b.name)?;
    if !(-720..=840).contains(&b.utc_offset_min) {
        return Err(ApiError::bad("utc_offset_min: -720..840"));
    }
    let admin_token = random_token()?;
    let id = app
        .store()
        .create_fleet(name, hash(&admin_token), b.utc_offset_min, now_ms())
        .await?;
    tracing::info!(fleet = id, "fleet created");
    Ok(reply(
        StatusCode::CREATED,
        &FleetCreated {
            fleet_id: id,
            admin_token,
        },
    ))
}

/// Checks the operator's token.
pub(crate) fn operator<S: Store>(app: &App<S>, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    if !constant_time_eq(&hash(token), &hash(&app.0.cfg.operator_token)) {
        return Err(ApiError::unauthorized());
    }
    Ok(())
}

/// The fleet, if the bearer is its admin; another fleet's admin gets 404
/// (nothing tells them the fleet exists).
pub(crate) async fn fleet_admin<S: Store>(
    app: &App<S>,
    headers: &HeaderMap,
    fleet: &str,
) -> Result<FleetRow, ApiError> {
    let fleet = parse_id(fleet, "fleet")?;
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    match app.store().fleet(fleet).await? {
        Some(f) if constant_time_eq(&f.admin_token_hash, &hash(token)) => Ok(f),
        _ => Err(ApiError::not_found("fleet")),
    }
}

#[utoipa::path(post, path = "/v1/fleets/{fleet}/drivers", tag = "fleets", security(("fleet_admin" = [])),
    params(("fleet" = i64, Path, description = "Fleet id")), request_body = NameBody,
    responses((status = 201, body = DriverCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, description = "No such fleet, or not this admin's", body = ErrorBody)))]
pub(crate) async fn create_driver<S: Store>(
    State(app): State<App<S>>,
    Path(fleet): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fleet = fleet_admin(&app, &headers, &fleet).await?;
    let name = check_name(&json::<NameBody>(&body)?.name)?;
    let id = app.store().create_driver(fleet.id, name, now_ms()).await?;
    Ok(reply(StatusCode::CREATED, &DriverCreated { driver_id: id }))
}

#[utoipa::path(get, path = "/v1/fleets/{fleet}/drivers", tag = "fleets", security(("fleet_admin" = [])),
    params(("fleet" = i64, Path, description = "Fleet id")),
    responses((status = 200, body = DriverList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn list_drivers<S: Store>(
    State(app): State<App<S>>,
    Path(fleet): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let fleet = fleet_admin(&app, &headers, &fleet).await?;
    let drivers = app
        .store()
        .drivers(fleet.id)
        .await?
        .into_iter()
        .map(|d| DriverEntry {
            driver_id: d.id,
            name: d.name,
        })
        .collect();
    Ok(reply(StatusCode::OK, &DriverList { drivers }))
}

#[utoipa::path(post, path = "/v1/fleets/{fleet}/drivers/{driver}/devices", tag = "fleets", security(("fleet_admin" = [])),
    params(("fleet" = i64, Path, description = "Fleet id"), ("driver" = i64, Path, description = "Driver id")),
    responses((status = 201, description = "The secret is shown once; the server keeps only its hash", body = DeviceCreated),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn create_device<S: Store>(
    State(app): State<App<S>>,
    Path((fleet, driver)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let fleet = fleet_admin(&app, &headers, &fleet).await?;
    let driver = parse_id(&driver, "driver")?;
    match app.store().driver(driver).await? {
        Some(d) if d.fleet_id == fleet.id => {}
        _ => return Err(ApiError::not_found("driver")),
    }
    let device_id = random_token()?[..24].to_owned();
    let secret = random_token()?;
    app.store()
        .create_device(driver, device_id.clone(), hash(&secret), now_ms())
        .await?;
    Ok(reply(
        StatusCode::CREATED,
        &DeviceCreated {
            device_id,
            device_secret: secret,
        },
    ))
}

/// The device a `<device id>.<secret>` bearer token belongs to.
pub(crate) async fn device<S: Store>(
    app: &App<S>,
    headers: &HeaderMap,
) -> Result<crate::store::DeviceRow, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    let (id, secret) = token.split_once('.').ok_or_else(ApiError::unauthorized)?;
    if id.is_empty() || id.len() > 64 {
        return Err(ApiError::unauthorized());
    }
    match app.store().device(id.to_owned()).await? {
        Some(d) if constant_time_eq(&d.secret_hash, &hash(secret)) => Ok(d),
        _ => Err(ApiError::unauthorized()),
    }
}

/// A driver and their fleet, if the bearer may read the driver's reports:
/// one of the driver's own devices, or the admin of the driver's fleet.
/// Anyone else gets 404 (unknown and foreign drivers look the same).
pub(crate) async fn report_reader<S: Store>(
    app: &App<S>,
    headers: &HeaderMap,
    driver: &str,
) -> Result<(DriverRow, FleetRow), ApiError> {
    let driver = parse_id(driver, "driver")?;
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    let allowed = if token.contains('.') {
        device(app, headers).await?.driver_id == driver
    } else {
        true // checked against the driver's fleet below
    };
    let d = match app.store().driver(driver).await? {
        Some(d) if allowed => d,
        _ => return Err(ApiError::not_found("driver")),
    };
    let f = app
        .store()
        .fleet(d.fleet_id)
        .await?
        .ok_or_else(|| ApiError::not_found("driver"))?;
    if !token.contains('.') && !constant_time_eq(&f.admin_token_hash, &hash(token)) {
        return Err(ApiError::not_found("driver"));
    }
    Ok((d, f))
}

fn status(id: &str, status: Status, error: Option<String>) -> EventStatus {
    EventStatus {
        id: id.to_owned(),
        status,
        error,
    }
}

#[utoipa::path(post, path = "/v1/events", tag = "ingestion", security(("device" = [])),
    request_body = EventBatch,
    responses((status = 200, description = "One status per event and trip, in order", body = BatchReply),
              (status = 400, description = "Malformed JSON or too many items", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 413, description = "Body over 1 MiB"),
              (status = 429, description = "Busy: retry after the Retry-After header's seconds", body = ErrorBody)))]
pub(crate) async fn ingest<S: Store>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Ok(_permit) = app.0.in_flight.try_acquire() else {
        app.metrics().throttled.inc();
        return Err(ApiError::busy());
    };
    let dev = device(&app, &headers).await?;
    let batch = safelane_wire::check::decode_event_batch(&body).map_err(ApiError::bad)?;
    let now = now_ms();
    let off = dev.utc_offset_min;
    // Checked first; only valid items reach the store. A `None` slot is an
    // item sent to the store: its outcome fills the slot, in order.
    let mut events: Vec<Option<EventStatus>> = Vec::with_capacity(batch.events.len());
    let mut new = NewBatch {
        driver_id: dev.driver_id,
        fleet_id: dev.fleet_id,
        events: vec![],
        trips: vec![],
    };
    for e in &batch.events {
        match check_event(e, now) {
            Some(error) => events.push(Some(status(&e.id, Status::Rejected, Some(error)))),
            None => {
                let body = serde_json::to_string(e).map_err(|_| ApiError::internal())?;
                new.events.push(NewEvent {
                    id: e.id.clone(),
                    trip_id: e.trip_id.clone(),
                    kind: e.kind.as_str(),
                    severity: e.severity.clone(),
                    start_unix_ms: e.start_unix_ms,
                    end_unix_ms: e.end_unix_ms,
                    day: calendar::day_of(e.start_unix_ms, off),
                    body,
                });
                events.push(None);
            }
        }
    }
    let mut trips: Vec<Option<EventStatus>> = Vec::with_capacity(batch.trips.len());
    for t in &batch.trips {
        match check_trip(t, now) {
            Some(error) => trips.push(Some(status(&t.id, Status::Rejected, Some(error)))),
            None => {
                new.trips.push(NewTrip {
                    id: t.id.clone(),
                    start_unix_ms: t.start_unix_ms,
                    end_unix_ms: t.end_unix_ms,
                    distance_m: t.distance_m,
                    vehicle: t.vehicle.clone(),
                    events: i64::from(t.events),
                    day: calendar::day_of(t.start_unix_ms, off),
                });
                trips.push(None);
            }
        }
    }
    let (ev_out, tr_out) = if new.events.is_empty() && new.trips.is_empty() {
        (vec![], vec![])
    } else {
        app.store().ingest(new).await?
    };
    let fill = |slots: Vec<Option<EventStatus>>, ids: Vec<&str>, outs: Vec<Outcome>| {
        let mut outs = outs.into_iter();
        slots
            .into_iter()
            .zip(ids)
            .map(|(slot, id)| {
                slot.unwrap_or_else(|| match outs.next() {
                    Some(Outcome::Stored) => status(id, Status::Stored, None),
                    Some(Outcome::Duplicate) => status(id, Status::Duplicate, None),
                    Some(Outcome::Foreign) => status(
                        id,
                        Status::Rejected,
                        Some("id: already used by another device".into()),
                    ),
                    // A store that returned fewer outcomes than items: never
                    // expected, answered as a rejection rather than a panic.
                    None => status(id, Status::Rejected, Some("internal: not stored".into())),
                })
            })
            .collect::<Vec<_>>()
    };
    let events = fill(
        events,
        batch.events.iter().map(|e| e.id.as_str()).collect(),
        ev_out,
    );
    let trips = fill(
        trips,
        batch.trips.iter().map(|t| t.id.as_str()).collect(),
        tr_out,
    );
    let m = app.metrics();
    for (name, st) in [
        ("stored", Status::Stored),
        ("duplicate", Status::Duplicate),
        ("rejected", Status::Rejected),
    ] {
        m.event(
            name,
            events.iter().filter(|e| e.status == st).count() as u64,
        );
    }
    tracing::debug!(
        driver = dev.driver_id,
        events = events.len(),
        "batch ingested"
    );
    Ok(reply(StatusCode::OK, &BatchReply { events, trips }))
}

/// Reads the rows of a driver's report for `days` days from `first` and
/// builds it.
pub(crate) async fn build_report<S: Store>(
    app: &App<S>,
    driver: &DriverRow,
    fleet: &FleetRow,
    first: i64,
    days: i64,
    trend_periods: i64,
) -> Result<DriverReport, ApiError> {
    let from = first - trend_periods * days;
    let to = first + days - 1;
    let (start_ms, end_ms) = report::period_ms(first, days, fleet.utc_offset_min);
    let s = app.store();
    let (driver_rows, fleet_rows, events) = tokio::try_join!(
        s.days(DayScope::Driver, driver.id, from, to),
        s.days(DayScope::Fleet, fleet.id, from, to),
        s.events(driver.id, start_ms, end_ms),
    )?;
    Ok(report::driver_report(
        &app.0.cfg.score,
        &DriverInput {
            driver: (driver.id, &driver.name),
            utc_offset_min: fleet.utc_offset_min,
            first_day: first,
            days,
            trend_periods,
            driver_rows: &driver_rows,
            fleet_rows: &fleet_rows,
            events: &events,
        },
    ))
}

/// A driver's weekly report, with the trend of the 4 weeks before.
async fn weekly_report<S: Store>(
    app: &App<S>,
    headers: &HeaderMap,
    driver: &str,
    week: &str,
) -> Result<DriverReport, ApiError> {
    let first = week_of(week)?;
    let (d, f) = report_reader(app, headers, driver).await?;
    build_report(app, &d, &f, first, 7, 4).await
}

fn week_of(s: &str) -> Result<i64, ApiError> {
    calendar::parse_week(s).ok_or_else(|| ApiError::bad("week: an ISO week, YYYY-Www (2026-W47)"))
}

#[utoipa::path(get, path = "/v1/drivers/{driver}/days/{date}", tag = "reports", security(("device" = []), ("fleet_admin" = [])),
    params(("driver" = i64, Path, description = "Driver id"), ("date" = String, Path, description = "Local date, YYYY-MM-DD")),
    responses((status = 200, body = DriverReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, description = "No such driver, or not readable with these credentials", body = ErrorBody)))]
pub(crate) async fn driver_day<S: Store>(
    State(app): State<App<S>>,
    Path((driver, date)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let first = calendar::parse_date(&date).ok_or_else(|| ApiError::bad("date: YYYY-MM-DD"))?;
    let (d, f) = report_reader(&app, &headers, &driver).await?;
    let r = build_report(&app, &d, &f, first, 1, 6).await?;
    Ok(reply(StatusCode::OK, &r))
}

#[utoipa::path(get, path = "/v1/drivers/{driver}/weeks/{week}", tag = "reports", security(("device" = []), ("fleet_admin" = [])),
    params(("driver" = i64, Path, description = "Driver id"), ("week" = String, Path, description = "ISO week, YYYY-Www")),
    responses((status = 200, body = DriverReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn driver_week<S: Store>(
    State(app): State<App<S>>,
    Path((driver, week)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let r = weekly_report(&app, &headers, &driver, &week).await?;
    Ok(reply(StatusCode::OK, &r))
}

#[utoipa::path(get, path = "/v1/drivers/{driver}/weeks/{week}/page", tag = "reports", security(("device" = []), ("fleet_admin" = [])),
    params(("driver" = i64, Path, description = "Driver id"), ("week" = String, Path, description = "ISO week, YYYY-Www")),
    responses((status = 200, description = "The weekly report as an HTML page", content_type = "text/html", body = String),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn driver_week_page<S: Store>(
    State(app): State<App<S>>,
    Path((driver, week)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let r = weekly_report(&app, &headers, &driver, &week).await?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, web::CSP),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        web::weekly_page(&r, "/assets/"),
    )
        .into_response())
}

#[utoipa::path(get, path = "/v1/fleets/{fleet}/weeks/{week}", tag = "reports", security(("fleet_admin" = [])),
    params(("fleet" = i64, Path, description = "Fleet id"), ("week" = String, Path, description = "ISO week, YYYY-Www")),
    responses((status = 200, body = FleetOverview), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn fleet_week<S: Store>(
    State(app): State<App<S>>,
    Path((fleet, week)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let first = week_of(&week)?;
    let f = fleet_admin(&app, &headers, &fleet).await?;
    let s = app.store();
    let (drivers, driver_rows, fleet_rows) = tokio::try_join!(
        s.drivers(f.id),
        s.days(DayScope::FleetDrivers, f.id, first - 7, first + 6),
        s.days(DayScope::Fleet, f.id, first - 7, first + 6),
    )?;
    let drivers: Vec<(i64, String)> = drivers.into_iter().map(|d| (d.id, d.name)).collect();
    let o = report::fleet_overview(
        &app.0.cfg.score,
        (f.id, &f.name),
        &drivers,
        first,
        &driver_rows,
        &fleet_rows,
    );
    Ok(reply(StatusCode::OK, &o))
}

#[utoipa::path(get, path = "/assets/{name}", tag = "operations",
    params(("name" = String, Path, description = "chart-4.6.1.umd.min.js or report.js")),
    responses((status = 200, description = "A script of the report page", content_type = "text/javascript", body = String), (status = 404, body = ErrorBody)))]
pub(crate) async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (body, ctype) = match name.as_str() {
        web::CHART_JS_NAME => (web::CHART_JS, "text/javascript; charset=utf-8"),
        web::REPORT_JS_NAME => (web::REPORT_JS, "text/javascript; charset=utf-8"),
        _ => return Err(ApiError::not_found("asset")),
    };
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, ctype),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response())
}

#[utoipa::path(get, path = "/v1/tiles/{key}", tag = "ingestion", security(("device" = [])),
    params(("key" = String, Path, description = "Geohash of the tile (docs/tile-format.md)")),
    responses((status = 200, description = "The tile", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn tile<S: Store>(
    State(app): State<App<S>>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    device(&app, &headers).await?;
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
        Err(e) => {
            tracing::error!(error = %e, "tile read");
            Err(ApiError::internal())
        }
    }
}
