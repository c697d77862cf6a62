//! Storage behind the HTTP API: one trait, one implementation per database
//! (the atuin layout). [`SqliteStore`] is the embedded default;
//! [`PgStore`] runs the same API on PostgreSQL. Both keep the same tables
//! (`migrations/<engine>/`), and both maintain the daily roll-ups the reports
//! read (`driver_days`, `driver_day_events`, `fleet_days`, `fleet_day_events`)
//! in the transaction that stores the events, so a report never scans raw
//! events except for its own instances.

use std::future::Future;

mod postgres;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// A storage failure: the message goes to the log, never to the client.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(format!("sqlite: {e}"))
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError(format!("postgres: {e}"))
    }
}

/// A fleet.
#[derive(Clone, Debug, PartialEq)]
pub struct FleetRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// SHA-256 of the admin token, hex.
    pub admin_token_hash: String,
    /// The fleet's local time, minutes east of UTC (day boundaries).
    pub utc_offset_min: i32,
}

/// A driver.
#[derive(Clone, Debug, PartialEq)]
pub struct DriverRow {
    /// Id.
    pub id: i64,
    /// Fleet.
    pub fleet_id: i64,
    /// Name.
    pub name: String,
}

/// A device credential and whom it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceRow {
    /// Driver.
    pub driver_id: i64,
    /// The driver's fleet.
    pub fleet_id: i64,
    /// The fleet's UTC offset, minutes.
    pub utc_offset_min: i32,
    /// SHA-256 of the secret, hex.
    pub secret_hash: String,
}

/// A validated event ready to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    /// Idempotency key.
    pub id: String,
    /// Trip.
    pub trip_id: String,
    /// Kind (stable name).
    pub kind: &'static str,
    /// `moderate` or `severe`.
    pub severity: String,
    /// Start, Unix ms.
    pub start_unix_ms: i64,
    /// End, Unix ms.
    pub end_unix_ms: i64,
    /// Local day of the start.
    pub day: i64,
    /// The event as received (JSON).
    pub body: String,
}

/// A validated trip summary ready to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewTrip {
    /// Id.
    pub id: String,
    /// Start, Unix ms.
    pub start_unix_ms: i64,
    /// End, Unix ms.
    pub end_unix_ms: i64,
    /// Distance, m.
    pub distance_m: f64,
    /// `car` or `motorcycle`.
    pub vehicle: String,
    /// Events in the trip.
    pub events: i64,
    /// Local day of the start (the whole trip counts on that day).
    pub day: i64,
}

/// A device's batch, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct NewBatch {
    /// Driver.
    pub driver_id: i64,
    /// Fleet.
    pub fleet_id: i64,
    /// Events.
    pub events: Vec<NewEvent>,
    /// Trips.
    pub trips: Vec<NewTrip>,
}

/// What became of one stored item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Stored now.
    Stored,
    /// Stored before by the same driver.
    Duplicate,
    /// The id belongs to another driver's event: refused.
    Foreign,
}

/// One driver-day of the roll-up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DayRow {
    /// Driver (0 for fleet totals).
    pub driver_id: i64,
    /// Local day number.
    pub day: i64,
    /// Distance, m.
    pub distance_m: f64,
    /// Time driven, s.
    pub duration_s: f64,
    /// Trips started that day.
    pub trips: i64,
    /// `(kind, severity, count)`.
    pub events: Vec<(String, String, i64)>,
}

/// Whose roll-up rows [`Store::days`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayScope {
    /// One driver (key: driver id).
    Driver,
    /// Every driver of a fleet (key: fleet id).
    FleetDrivers,
    /// The fleet's totals (key: fleet id).
    Fleet,
}

impl DayScope {
    /// The two queries (driving, then events) of a scope, with `$1` (key),
    /// `$2`, `$3` (days) placeholders and `CAST` rather than `::`: valid SQL
    /// for both engines (SQLite numbers `$N` parameters in order of appearance).
    pub(crate) fn queries(self) -> (&'static str, &'static str) {
        match self {
            DayScope::Driver => (
                "SELECT driver_id, day, distance_m, duration_s, trips FROM driver_days
                 WHERE driver_id = $1 AND day BETWEEN $2 AND $3",
                "SELECT driver_id, day, kind, severity, n FROM driver_day_events
                 WHERE driver_id = $1 AND day BETWEEN $2 AND $3",
            ),
            DayScope::FleetDrivers => (
                "SELECT driver_id, day, distance_m, duration_s, trips FROM driver_days
                 WHERE fleet_id = $1 AND day BETWEEN $2 AND $3",
                "SELECT driver_id, day, kind, severity, n FROM driver_day_events
                 WHERE fleet_id = $1 AND day BETWEEN $2 AND $3",
            ),
            DayScope::Fleet => (
                "SELECT CAST(0 AS BIGINT), day, distance_m, duration_s, trips FROM fleet_days
                 WHERE fleet_id = $1 AND day BETWEEN $2 AND $3",
                "SELECT CAST(0 AS BIGINT), day, kind, severity, n FROM fleet_day_events
                 WHERE fleet_id = $1 AND day BETWEEN $2 AND $3",
            ),
        }
    }
}

/// A stored event for a report.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    /// The event as received (JSON).
    pub body: String,
}

/// A coarsened ping, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct PingRow {
    /// Weekly pseudonym of the driver.
    pub pseudonym: String,
    /// Unix time, s, rounded to the minute.
    pub t_unix_s: i64,
    /// Latitude, degrees, rounded to 1e-4.
    pub lat: f64,
    /// Longitude, degrees, rounded to 1e-4.
    pub lon: f64,
    /// Speed, m/s, rounded to 0.1.
    pub speed_mps: f64,
    /// Accuracy, m, rounded to 1.
    pub accuracy_m: f64,
    /// Course, degrees, rounded to 1.
    pub bearing_deg: Option<f64>,
}

/// Most pings one export returns.
pub const MAX_EXPORT_PINGS: i64 = 1_000_000;

/// Most instances a report lists.
pub const MAX_INSTANCES: i64 = 2000;

/// What the API needs from a database. Every method is one transaction.
pub trait Store: PingStore + Clone + Send + Sync + 'static {
    /// The database answers.
    fn health(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Creates a fleet, returns its id.
    fn create_fleet(
        &self,
        name: String,
        admin_token_hash: String,
        utc_offset_min: i32,
        now_ms: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// A fleet by id.
    fn fleet(&self, id: i64) -> impl Future<Output = Result<Option<FleetRow>, StoreError>> + Send;
    /// Creates a driver in a fleet, returns its id.
    fn create_driver(
        &self,
        fleet_id: i64,
        name: String,
        now_ms: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// A driver by id.
    fn driver(&self, id: i64)
    -> impl Future<Output = Result<Option<DriverRow>, StoreError>> + Send;
    /// A fleet's drivers, by id.
    fn drivers(
        &self,
        fleet_id: i64,
    ) -> impl Future<Output = Result<Vec<DriverRow>, StoreError>> + Send;
    /// Stores a device credential (hash only).
    fn create_device(
        &self,
        driver_id: i64,
        device_id: String,
        secret_hash: String,
        now_ms: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A device by id.
    fn device(
        &self,
        id: String,
    ) -> impl Future<Output = Result<Option<DeviceRow>, StoreError>> + Send;
    /// Stores a batch and its roll-ups; outcomes in input order
    /// (events, then trips).
    fn ingest(
        &self,
        batch: NewBatch,
    ) -> impl Future<Output = Result<(Vec<Outcome>, Vec<Outcome>), StoreError>> + Send;
    /// Roll-up rows for local days `from..=to` of a driver, of every driver
    /// of a fleet, or the fleet's totals (`driver_id` 0).
    fn days(
        &self,
        scope: DayScope,
        key: i64,
        from: i64,
        to: i64,
    ) -> impl Future<Output = Result<Vec<DayRow>, StoreError>> + Send;
    /// A driver's events starting in `[from_ms, to_ms)`, oldest first, at most
    /// [`MAX_INSTANCES`].
    fn events(
        &self,
        driver_id: i64,
        from_ms: i64,
        to_ms: i64,
    ) -> impl Future<Output = Result<Vec<EventRecord>, StoreError>> + Send;
}

/// Roll-up groups of a batch: `(day, kind, severity, events)`.
pub(crate) type EventGroups = Vec<(i64, &'static str, String, i64)>;
/// Roll-up groups of a batch: `(day, distance_m, duration_s, trips)`.
pub(crate) type TripGroups = Vec<(i64, f64, f64, i64)>;

/// The pings part of [`Store`].
pub trait PingStore: Send + Sync {
    /// The secret salt of the weekly pseudonyms (created on first use).
    fn ping_salt(&self) -> impl Future<Output = Result<String, StoreError>> + Send;
    /// Stores coarsened pings.
    fn insert_pings(
        &self,
        pings: Vec<PingRow>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Deletes pings older than `before_unix_s`; how many.
    fn prune_pings(
        &self,
        before_unix_s: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Pings with `from <= t < to`, by time, at most [`MAX_EXPORT_PINGS`].
    fn export_pings(
        &self,
        from_unix_s: i64,
        to_unix_s: i64,
    ) -> impl Future<Output = Result<Vec<PingRow>, StoreError>> + Send;
}

/// Groups a batch's stored events into `(day, kind, severity) -> count` and
/// its stored trips into `day -> (distance, duration, trips)`: one roll-up
/// upsert per group instead of one per event.
pub(crate) fn rollup(
    batch: &NewBatch,
    events: &[Outcome],
    trips: &[Outcome],
) -> (EventGroups, TripGroups) {
    let mut ev: std::collections::BTreeMap<(i64, &'static str, &str), i64> = Default::default();
    for (e, o) in batch.events.iter().zip(events) {
        if *o == Outcome::Stored {
            *ev.entry((e.day, e.kind, e.severity.as_str())).or_default() += 1;
        }
    }
    let mut tr: std::collections::BTreeMap<i64, (f64, f64, i64)> = Default::default();
    for (t, o) in batch.trips.iter().zip(trips) {
        if *o == Outcome::Stored {
            let g = tr.entry(t.day).or_default();
            g.0 += t.distance_m;
            g.1 += (t.end_unix_ms - t.start_unix_ms) as f64 / 1000.0;
            g.2 += 1;
        }
    }
    (
        ev.into_iter()
            .map(|((d, k, s), n)| (d, k, s.to_owned(), n))
            .collect(),
        tr.into_iter().map(|(d, (m, s, n))| (d, m, s, n)).collect(),
    )
}

/// Gathers `(driver, day, distance, duration, trips)` rows and
/// `(driver, day, kind, severity, n)` rows into [`DayRow`]s, ordered by
/// driver and day.
pub(crate) fn merge_days(
    driving: Vec<(i64, i64, f64, f64, i64)>,
    events: Vec<(i64, i64, String, String, i64)>,
) -> Vec<DayRow> {
    let mut rows: std::collections::BTreeMap<(i64, i64), DayRow> = Default::default();
    for (driver_id, day, distance_m, duration_s, trips) in driving {
        rows.insert(
            (driver_id, day),
            DayRow {
                driver_id,
                day,
                distance_m,
                duration_s,
                trips,
                events: vec![],
            },
        );
    }
    for (driver_id, day, kind, severity, n) in events {
        rows.entry((driver_id, day))
            .or_insert_with(|| DayRow {
                driver_id,
                day,
                ..Default::default()
            })
            .events
            .push((kind, severity, n));
    }
    rows.into_values().collect()
}

/// A new random salt, hex.
pub(crate) fn fresh_salt() -> Result<String, StoreError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| StoreError(format!("no randomness: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}
