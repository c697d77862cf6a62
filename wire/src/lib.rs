//! # safelane-wire: what the SDK sends and the server answers
//!
//! JSON over HTTPS, versioned by the URL (`/v1/...`). Field names are stable:
//! snapshot tests (`tests/snapshots/`) fail when a change would break the
//! other side. Units are in the names; times are Unix milliseconds (UTC).
//!
//! - [`EventBatch`]: `POST /v1/events`, a device's recorded events and the
//!   trips they belong to. Every event carries an idempotency key ([`WireEvent::id`]):
//!   a re-sent event is stored once.
//! - [`BatchReply`]: the server's answer, one [`EventStatus`] per event.
//!   The SDK marks an event synced only when its status is `stored` or
//!   `duplicate`; `rejected` events are kept aside with the reason and not
//!   re-sent. HTTP 429 and 503 carry `Retry-After` (seconds).
//!
//! A batch holds at most [`MAX_BATCH_EVENTS`] events and [`MAX_BATCH_BYTES`]
//! bytes of JSON.

use serde::{Deserialize, Serialize};

pub mod check;

/// Wire version in the URL path.
pub const API_VERSION: &str = "v1";
/// Most pings in one `POST /v1/pings` body.
pub const MAX_BATCH_PINGS: usize = 2000;
/// Most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 500;
/// Largest batch body, bytes.
pub const MAX_BATCH_BYTES: usize = 1 << 20;
/// Content type of every body.
pub const CONTENT_TYPE: &str = "application/json";

/// A manoeuvre kind (the core's stable names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Harsh braking.
    HarshBraking,
    /// Harsh acceleration.
    HarshAcceleration,
    /// Harsh cornering.
    HarshCornering,
    /// Harsh lane change.
    HarshLaneChange,
    /// Crash.
    Crash,
    /// Speeding.
    Speeding,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 6] = [
        Kind::HarshBraking,
        Kind::HarshAcceleration,
        Kind::HarshCornering,
        Kind::HarshLaneChange,
        Kind::Crash,
        Kind::Speeding,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::HarshBraking => "harsh_braking",
            Kind::HarshAcceleration => "harsh_acceleration",
            Kind::HarshCornering => "harsh_cornering",
            Kind::HarshLaneChange => "harsh_lane_change",
            Kind::Crash => "crash",
            Kind::Speeding => "speeding",
        }
    }
}

/// Speeding details.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpeedingDetail {
    /// Threshold in force, km/h.
    pub threshold_kmh: f32,
    /// `posted`, `zone` or `crowd`.
    pub threshold_source: String,
    /// Largest speed over the threshold, km/h.
    pub max_excess_kmh: f32,
    /// Mean speed over the threshold, km/h.
    pub mean_excess_kmh: f32,
    /// Distance driven while speeding, m.
    pub distance_m: f32,
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WireEvent {
    /// Idempotency key: unique per event, stable across re-sends
    /// (`<trip id>-<sequence>`), at most 64 characters.
    pub id: String,
    /// The trip it belongs to.
    pub trip_id: String,
    /// Kind.
    pub kind: Kind,
    /// `left` or `right` for cornering and lane changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// `moderate` or `severe`.
    pub severity: String,
    /// Start, Unix ms.
    pub start_unix_ms: i64,
    /// End, Unix ms.
    pub end_unix_ms: i64,
    /// Peak acceleration, m/s^2 (harsh kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_mps2: Option<f32>,
    /// Speed at the start, m/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_mps: Option<f32>,
    /// Place, degrees, rounded to 1e-5 (about 1 m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Place, degrees, rounded to 1e-5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Detection confidence, 0..1.
    pub confidence: f32,
    /// Speeding details, for `speeding` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speeding: Option<SpeedingDetail>,
}

/// A finished trip's summary (distance and time driven, for rates).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WireTrip {
    /// Trip id (random, 32 hex characters).
    pub id: String,
    /// Start, Unix ms.
    pub start_unix_ms: i64,
    /// End, Unix ms.
    pub end_unix_ms: i64,
    /// Distance driven (from GPS), m.
    pub distance_m: f64,
    /// `car` or `motorcycle`.
    pub vehicle: String,
    /// Events recorded in the trip.
    pub events: u32,
}

/// `POST /v1/events` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventBatch {
    /// Events, oldest first.
    pub events: Vec<WireEvent>,
    /// Finished trips not yet acknowledged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trips: Vec<WireTrip>,
}

/// What the server did with one event (or trip).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Stored now.
    Stored,
    /// Already stored earlier (a re-send): nothing changed.
    Duplicate,
    /// Refused: `error` says why; re-sending will not help.
    Rejected,
}

/// Per-item status in a reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventStatus {
    /// The event's (or trip's) id.
    pub id: String,
    /// What happened.
    pub status: Status,
    /// For `rejected`: the field and the rule, e.g. `start_unix_ms: in the future`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `POST /v1/events` reply (HTTP 200).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchReply {
    /// One per event, in the batch's order.
    pub events: Vec<EventStatus>,
    /// One per trip, in the batch's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trips: Vec<EventStatus>,
}

/// An error body (HTTP 4xx/5xx).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Machine-readable code, e.g. `bad_request`, `too_many_requests`.
    pub code: String,
    /// Human-readable message naming the field.
    pub message: String,
}

/// One GPS fix for crowd speed profiles. The server coarsens it on arrival
/// (a weekly pseudonym instead of the driver, the minute, about 11 m,
/// 0.1 m/s) and deletes it after its retention period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WirePing {
    /// Time, Unix ms.
    pub t_unix_ms: i64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Speed over ground, m/s.
    pub speed_mps: f32,
    /// Horizontal accuracy (68 % radius), m.
    pub accuracy_m: f32,
    /// Course, degrees clockwise from north, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearing_deg: Option<f32>,
}

/// `POST /v1/pings` body: at most [`MAX_BATCH_PINGS`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PingBatch {
    /// Pings, oldest first.
    pub pings: Vec<WirePing>,
}
