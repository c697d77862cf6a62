//! Ping ingestion for crowd speed profiles (`POST /v1/pings`) and their
//! export for `safelane map profile` (`GET /v1/pings/export`).
//!
//! Pings are coarsened on arrival, before anything is stored: the driver
//! becomes a pseudonym that changes every ISO week (a salted SHA-256 of the
//! driver and the week; the salt never leaves the server), the time is
//! rounded to the minute, the position to 1e-4 degrees (about 11 m), speed to
//! 0.1 m/s, accuracy to 1 m, course to 1 degree. That is what the profiles
//! need (a 200 m segment, an hour of the week, distinct drivers per week)
//! and no more. Pings older than `ServerConfig::ping_retention_days`
//! (default 56: the eight weeks a profile aggregates) are deleted hourly.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use safelane_wire::{ErrorBody, PingBatch, WirePing};
use sha2::{Digest, Sha256};

use crate::App;
use crate::api::{device, now_ms, operator};
use crate::calendar;
use crate::error::ApiError;
use crate::store::{PingRow, PingStore, Store};
use safelane_wire::check::{check_ping as check, decode_ping_batch};

/// The weekly pseudonym of a driver: 16 hex characters.
pub(crate) fn pseudonym(salt: &str, driver_id: i64, t_unix_ms: i64) -> String {
    let week = calendar::format_week(calendar::day_of(t_unix_ms, 0));
    let h = Sha256::digest(format!("{salt}:{driver_id}:{week}").as_bytes());
    h[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of a ping.
pub(crate) fn coarsen(p: &WirePing, driver_id: i64, salt: &str) -> PingRow {
    let round = |v: f64, step: f64| (v / step).round() * step;
    PingRow {
        pseudonym: pseudonym(salt, driver_id, p.t_unix_ms),
        t_unix_s: (p.t_unix_ms.div_euclid(60_000)) * 60,
        lat: round(p.lat, 1e-4),
        lon: round(p.lon, 1e-4),
        speed_mps: round(f64::from(p.speed_mps), 0.1),
        accuracy_m: f64::from(p.accuracy_m).round(),
        bearing_deg: p.bearing_deg.map(|b| f64::from(b).round() % 360.0),
    }
}

/// Reply of `POST /v1/pings`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PingsStored {
    /// Pings stored (coarsened).
    pub stored: usize,
}

#[utoipa::path(post, path = "/v1/pings", tag = "ingestion", security(("device" = [])),
    request_body = PingBatch,
    responses((status = 200, body = PingsStored),
              (status = 400, description = "Malformed, too many, or a ping out of range (named as pings[i].field): nothing stored", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 413, description = "Body over 1 MiB")))]
pub(crate) async fn ingest_pings<S: Store>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let dev = device(&app, &headers).await?;
    let batch = decode_ping_batch(&body).map_err(ApiError::bad)?;
    let now = now_ms();
    for (i, p) in batch.pings.iter().enumerate() {
        if let Some(e) = check(p, now) {
            return Err(ApiError::bad(format!("pings[{i}].{e}")));
        }
    }
    let salt = app.ping_salt().await?;
    let rows: Vec<PingRow> = batch
        .pings
        .iter()
        .map(|p| coarsen(p, dev.driver_id, &salt))
        .collect();
    let stored = rows.len();
    if stored > 0 {
        app.store().insert_pings(rows).await?;
    }
    Ok(crate::api::reply(StatusCode::OK, &PingsStored { stored }))
}

fn param(q: &HashMap<String, String>, name: &str) -> Result<i64, ApiError> {
    q.get(name)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ApiError::bad(format!("{name}: a Unix time in seconds")))
}

#[utoipa::path(get, path = "/v1/pings/export", tag = "ingestion", security(("operator" = [])),
    params(("from_unix_s" = i64, Query, description = "Start, Unix s (inclusive)"),
           ("to_unix_s" = i64, Query, description = "End, Unix s (exclusive); at most 31 days after the start")),
    responses((status = 200, description = "CSV in the column order `safelane map profile --pings` reads; driver_id is the weekly pseudonym. At most 1,000,000 rows", content_type = "text/csv", body = String),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn export_pings<S: Store>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    operator(&app, &headers)?;
    let (from, to) = (param(&q, "from_unix_s")?, param(&q, "to_unix_s")?);
    if to <= from || to - from > 31 * 86_400 {
        return Err(ApiError::bad(
            "to_unix_s: after from_unix_s, at most 31 days later",
        ));
    }
    let rows = app.store().export_pings(from, to).await?;
    let mut csv = String::with_capacity(64 * (rows.len() + 1));
    csv.push_str("driver_id,t_unix_s,lat,lon,speed_mps,accuracy_m,bearing_deg\n");
    for r in rows {
        let b = r.bearing_deg.map_or(String::new(), |b| format!("{b:.0}"));
        csv.push_str(&format!(
            "{},{},{:.4},{:.4},{:.1},{:.0},{b}\n",
            r.pseudonym, r.t_unix_s, r.lat, r.lon, r.speed_mps, r.accuracy_m
        ));
    }
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        csv,
    )
        .into_response())
}

/// Deletes pings past the retention period, now and then every hour.
pub(crate) async fn prune_forever<S: PingStore>(store: S, retention_days: u32) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let before = now_ms() / 1000 - i64::from(retention_days) * 86_400;
        match store.prune_pings(before).await {
            Ok(n) => tracing::info!(deleted = n, retention_days, "pings pruned"),
            Err(e) => tracing::warn!(error = %e, "pruning pings"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn ping(t: i64) -> WirePing {
        WirePing {
            t_unix_ms: t,
            lat: 60.171_234_5,
            lon: 24.941_987,
            speed_mps: 13.94,
            accuracy_m: 4.4,
            bearing_deg: Some(359.7),
        }
    }

    #[test]
    fn pings_are_coarsened_and_pseudonyms_change_weekly() {
        let t = 1_763_800_123_456; // 2025-11-22, a Saturday
        let r = coarsen(&ping(t), 7, "salt");
        assert_eq!(r.t_unix_s % 60, 0);
        assert!((r.t_unix_s * 1000 - t).abs() < 60_000);
        assert!((r.lat - 60.1712).abs() < 1e-9 && (r.lon - 24.942).abs() < 1e-9);
        assert!((r.speed_mps - 13.9).abs() < 1e-9);
        assert!((r.accuracy_m - 4.0).abs() < 1e-9);
        assert_eq!(r.bearing_deg, Some(0.0));
        assert_eq!(r.pseudonym.len(), 16);
        // Same driver, same week: same pseudonym; next week, another; other driver or salt, another.
        assert_eq!(
            r.pseudonym,
            coarsen(&ping(t + 3_600_000), 7, "salt").pseudonym
        );
        assert_ne!(
            r.pseudonym,
            coarsen(&ping(t + 3 * 86_400_000), 7, "salt").pseudonym
        );
        assert_ne!(r.pseudonym, coarsen(&ping(t), 8, "salt").pseudonym);
        assert_ne!(r.pseudonym, coarsen(&ping(t), 7, "pepper").pseudonym);
    }

    #[test]
    fn out_of_range_pings_name_the_field() {
        let now = 1_763_800_000_000;
        let mut p = ping(now);
        assert_eq!(check(&p, now), None);
        p.lat = f64::NAN;
        assert_eq!(
            check(&p, now).map(|e| e.split(':').next().unwrap()),
            Some("lat")
        );
        let mut p = ping(now + 2 * 86_400_000);
        assert!(check(&p, now).unwrap().starts_with("t_unix_ms"));
        p = ping(now);
        p.bearing_deg = Some(400.0);
        assert!(check(&p, now).unwrap().starts_with("bearing_deg"));
        p = ping(now);
        p.speed_mps = f32::INFINITY;
        assert!(check(&p, now).unwrap().starts_with("speed_mps"));
    }
}
