//! The ingestion rules of the wire format, shared by the server (which
//! enforces them) and the fuzz targets (which hammer them): decoding a
//! request body, and why an event, trip or ping is refused. Every refusal
//! names the field and the rule; nothing here panics on any input.

use crate::{
    EventBatch, MAX_BATCH_EVENTS, MAX_BATCH_PINGS, PingBatch, WireEvent, WirePing, WireTrip,
};

/// Items further in the future than this are refused, ms (phone clocks drift, not by a day).
pub const MAX_FUTURE_MS: i64 = 24 * 3600 * 1000;
/// Items before 2020 are refused (a phone clock reset to 1970).
pub const MIN_UNIX_MS: i64 = 1_577_836_800_000;

/// Decodes a `POST /v1/events` body: JSON, at most [`MAX_BATCH_EVENTS`]
/// events and as many trips. The error names what is wrong (serde's
/// message carries line and column).
pub fn decode_event_batch(body: &[u8]) -> Result<EventBatch, String> {
    let batch: EventBatch = serde_json::from_slice(body).map_err(|e| format!("body: {e}"))?;
    if batch.events.len() > MAX_BATCH_EVENTS {
        return Err(format!("events: at most {MAX_BATCH_EVENTS} per batch"));
    }
    if batch.trips.len() > MAX_BATCH_EVENTS {
        return Err(format!("trips: at most {MAX_BATCH_EVENTS} per batch"));
    }
    Ok(batch)
}

/// Decodes a `POST /v1/pings` body: JSON, at most [`MAX_BATCH_PINGS`] pings.
pub fn decode_ping_batch(body: &[u8]) -> Result<PingBatch, String> {
    let batch: PingBatch = serde_json::from_slice(body).map_err(|e| format!("body: {e}"))?;
    if batch.pings.len() > MAX_BATCH_PINGS {
        return Err(format!("pings: at most {MAX_BATCH_PINGS} per batch"));
    }
    Ok(batch)
}

/// An event or trip id: 1-64 characters of `[A-Za-z0-9-]`.
fn id_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Why an event is refused: the field and the rule.
pub fn check_event(e: &WireEvent, now: i64) -> Option<String> {
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
    if let Some(s) = &e.speeding {
        let ok = |v: f32, max: f32| v.is_finite() && (0.0..=max).contains(&v);
        if !(ok(s.threshold_kmh, 400.0)
            && ok(s.max_excess_kmh, 400.0)
            && ok(s.mean_excess_kmh, 400.0)
            && ok(s.distance_m, 1_000_000.0))
        {
            return Some("speeding: threshold and excess 0..400 km/h, distance 0..1000 km".into());
        }
        if !matches!(s.threshold_source.as_str(), "posted" | "zone" | "crowd") {
            return Some("speeding.threshold_source: posted, zone or crowd".into());
        }
    }
    None
}

/// Why a trip is refused: the field and the rule.
pub fn check_trip(t: &WireTrip, now: i64) -> Option<String> {
    if !id_ok(&t.id) {
        return Some("id: 1-64 characters of [A-Za-z0-9-]".into());
    }
    if t.start_unix_ms < MIN_UNIX_MS || t.start_unix_ms > now + MAX_FUTURE_MS {
        return Some("start_unix_ms: before 2020 or more than 24 h in the future".into());
    }
    if t.end_unix_ms < t.start_unix_ms || t.end_unix_ms - t.start_unix_ms > 48 * 3_600_000 {
        return Some("end_unix_ms: before the start or more than 48 h after it".into());
    }
    if !(t.distance_m.is_finite() && (0.0..=5_000_000.0).contains(&t.distance_m)) {
        return Some("distance_m: 0..5,000 km".into());
    }
    if !matches!(t.vehicle.as_str(), "car" | "motorcycle") {
        return Some("vehicle: car or motorcycle".into());
    }
    None
}

/// Why a ping is refused: the field and the rule.
pub fn check_ping(p: &WirePing, now: i64) -> Option<&'static str> {
    if p.t_unix_ms < MIN_UNIX_MS || p.t_unix_ms > now + MAX_FUTURE_MS {
        return Some("t_unix_ms: from 2020 to 24 h ahead");
    }
    if !(p.lat.is_finite() && p.lat.abs() <= 90.0) {
        return Some("lat: -90..90");
    }
    if !(p.lon.is_finite() && p.lon.abs() <= 180.0) {
        return Some("lon: -180..180");
    }
    if !(p.speed_mps.is_finite() && (0.0..=100.0).contains(&p.speed_mps)) {
        return Some("speed_mps: 0..100");
    }
    if !(p.accuracy_m.is_finite() && (0.0..=1000.0).contains(&p.accuracy_m)) {
        return Some("accuracy_m: 0..1000");
    }
    if p.bearing_deg
        .is_some_and(|b| !(b.is_finite() && (0.0..=360.0).contains(&b)))
    {
        return Some("bearing_deg: 0..360");
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::Kind;

    const NOW: i64 = 1_763_800_000_000;

    fn event() -> WireEvent {
        WireEvent {
            id: "e-1".into(),
            trip_id: "t-1".into(),
            kind: Kind::HarshBraking,
            direction: None,
            severity: "moderate".into(),
            start_unix_ms: NOW - 10_000,
            end_unix_ms: NOW - 9_000,
            peak_mps2: Some(4.2),
            speed_mps: Some(12.0),
            lat: Some(60.17),
            lon: Some(24.94),
            confidence: 0.9,
            speeding: None,
        }
    }

    /// Breaks one rule of a valid event.
    type Break = fn(&mut WireEvent);

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(check_event(&event(), NOW), None);
        let cases: [(Break, &str); 7] = [
            (|e| e.id = "has space".into(), "id:"),
            (|e| e.trip_id = String::new(), "trip_id:"),
            (|e| e.start_unix_ms = 0, "start_unix_ms:"),
            (|e| e.end_unix_ms = e.start_unix_ms - 1, "end_unix_ms:"),
            (|e| e.severity = "extreme".into(), "severity:"),
            (|e| e.lat = Some(f64::NAN), "lat:"),
            (|e| e.peak_mps2 = Some(f32::INFINITY), "peak_mps2:"),
        ];
        for (break_it, field) in cases {
            let mut e = event();
            break_it(&mut e);
            let why = check_event(&e, NOW).expect(field);
            assert!(why.starts_with(field), "{why} should name {field}");
        }
    }

    #[test]
    fn bodies_are_decoded_with_their_limits() {
        let ok = serde_json::to_vec(&EventBatch {
            events: vec![event()],
            trips: vec![],
        })
        .unwrap();
        assert_eq!(decode_event_batch(&ok).unwrap().events.len(), 1);
        let e = decode_event_batch(b"{\"events\": [1]}").unwrap_err();
        assert!(e.starts_with("body:") && e.contains("line 1"), "{e}");
        let many = EventBatch {
            events: vec![event(); MAX_BATCH_EVENTS + 1],
            trips: vec![],
        };
        let e = decode_event_batch(&serde_json::to_vec(&many).unwrap()).unwrap_err();
        assert!(e.starts_with("events: at most"), "{e}");
    }
}
