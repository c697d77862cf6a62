//! The embedded default: one SQLite file in WAL mode, one writer connection
//! and a small pool of readers (WAL lets reports read while a batch is being
//! written). Blocking calls run on tokio's blocking threads.
//!
//! Checkpoints run on their own thread and connection, once a second: with
//! SQLite's automatic checkpoints, the commit that crosses 1000 WAL pages
//! copies them back and fsyncs the file itself, and that request's latency
//! jumps by tens of milliseconds. The thread copies most frames without
//! blocking the writer; past 256 MiB of WAL, the rest with the writer held
//! (see the loop).

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::types::FromSql;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::{
    DayRow, DayScope, DeviceRow, DriverRow, EventRecord, FleetRow, MAX_EXPORT_PINGS, MAX_INSTANCES,
    NewBatch, Outcome, PingRow, PingStore, Store, StoreError, merge_days, rollup,
};

/// Schema migrations, applied in order at start-up (`PRAGMA user_version`).
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_reports.sql"),
    include_str!("../../migrations/sqlite/0003_pings.sql"),
];

/// WAL frames (pages, 4 KiB) past which a checkpoint holds the writer to
/// complete: the WAL stays under about 256 MiB plus one second of batches.
/// Each such pass stalls the writer for two fsyncs: a larger bound makes the
/// stalls rarer (64 MiB: p99 at 10 k events/s 52-65 ms; 256 MiB: 33-69 ms).
const WAL_RESTART_FRAMES: i64 = 65_536;

/// Readers kept open between requests.
const MAX_IDLE_READERS: usize = 8;

#[derive(Debug)]
struct Inner {
    path: std::path::PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

/// SQLite storage.
#[derive(Clone, Debug)]
pub struct SqliteStore(Arc<Inner>);

fn configure(c: &Connection) -> Result<(), rusqlite::Error> {
    c.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;")
}

impl SqliteStore {
    /// Opens (creating and migrating) the database file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        let _: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        configure(&conn)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError(format!(
                "schema version {version} is newer than this server's ({})",
                MIGRATIONS.len()
            )));
        }
        let tx = conn.transaction()?;
        for m in MIGRATIONS.iter().skip(version as usize) {
            tx.execute_batch(m)?;
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)?;
        tx.commit()?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let inner = Arc::new(Inner {
            path: path.to_owned(),
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
        });
        let checkpointer = Connection::open(path)?;
        configure(&checkpointer)?;
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                // (frames in the WAL, frames copied) after a passive checkpoint.
                let passive = |c: &Connection| -> (i64, i64) {
                    match c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                        Ok((r.get(1)?, r.get(2)?))
                    }) {
                        Ok(f) => f,
                        Err(e) => {
                            tracing::warn!(error = %e, "sqlite checkpoint");
                            (0, 0)
                        }
                    }
                };
                // Ends with the store (the last `Arc` dropped).
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                    let Some(inner) = weak.upgrade() else { break };
                    // Frames are copied while batches keep committing. Such a
                    // checkpoint never completes under a continuous stream of
                    // batches, and the WAL restarts from its beginning only
                    // after a complete one: past WAL_RESTART_FRAMES, passes
                    // continue until few frames are left, and the last pass
                    // holds the writer, which completes it and bounds the WAL.
                    let (mut log, mut copied) = passive(&checkpointer);
                    if log > WAL_RESTART_FRAMES {
                        for _ in 0..20 {
                            if log - copied < 256 {
                                break;
                            }
                            (log, copied) = passive(&checkpointer);
                        }
                        let _writer = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
                        passive(&checkpointer);
                    }
                }
            })
            .map_err(|e| StoreError(format!("checkpoint thread: {e}")))?;
        Ok(Self(inner))
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let s = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = s.0.writer.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut c)
        })
        .await
        .map_err(|e| StoreError(format!("blocking task: {e}")))?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let s = self.clone();
        tokio::task::spawn_blocking(move || {
            let idle =
                s.0.readers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop();
            let c = match idle {
                Some(c) => c,
                None => {
                    let c = Connection::open_with_flags(
                        &s.0.path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    configure(&c)?;
                    c
                }
            };
            let out = f(&c);
            let mut idle = s.0.readers.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < MAX_IDLE_READERS {
                idle.push(c);
            }
            out
        })
        .await
        .map_err(|e| StoreError(format!("blocking task: {e}")))?
    }
}

/// The first five columns of a row.
#[allow(clippy::type_complexity)]
fn five<A: FromSql, B: FromSql, C: FromSql, D: FromSql, E: FromSql>(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(A, B, C, D, E)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn day_rows(
    c: &Connection,
    driving_sql: &str,
    events_sql: &str,
    key: i64,
    from: i64,
    to: i64,
) -> Result<Vec<DayRow>, StoreError> {
    let driving = c
        .prepare_cached(driving_sql)?
        .query_map(params![key, from, to], five)?
        .collect::<Result<Vec<_>, _>>()?;
    let events = c
        .prepare_cached(events_sql)?
        .query_map(params![key, from, to], five)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(merge_days(driving, events))
}

impl Store for SqliteStore {
    async fn health(&self) -> Result<(), StoreError> {
        self.read(|c| {
            Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map(|_| ())?)
        })
        .await
    }

    async fn create_fleet(
        &self,
        name: String,
        admin_token_hash: String,
        utc_offset_min: i32,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        self.write(move |c| {
            Ok(c.query_row(
                "INSERT INTO fleets (name, admin_token_hash, created_unix_ms, utc_offset_min)
                 VALUES (?1, ?2, ?3, ?4) RETURNING id",
                params![name, admin_token_hash, now_ms, utc_offset_min],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn fleet(&self, id: i64) -> Result<Option<FleetRow>, StoreError> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT id, name, admin_token_hash, utc_offset_min FROM fleets WHERE id = ?1",
            )?
            .query_row(params![id], |r| {
                Ok(FleetRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    admin_token_hash: r.get(2)?,
                    utc_offset_min: r.get(3)?,
                })
            })
            .optional()?)
        })
        .await
    }

    async fn create_driver(
        &self,
        fleet_id: i64,
        name: String,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        self.write(move |c| {
            Ok(c.query_row(
                "INSERT INTO drivers (fleet_id, name, created_unix_ms) VALUES (?1, ?2, ?3) RETURNING id",
                params![fleet_id, name, now_ms],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn driver(&self, id: i64) -> Result<Option<DriverRow>, StoreError> {
        self.read(move |c| {
            Ok(
                c.prepare_cached("SELECT id, fleet_id, name FROM drivers WHERE id = ?1")?
                    .query_row(params![id], |r| {
                        Ok(DriverRow {
                            id: r.get(0)?,
                            fleet_id: r.get(1)?,
                            name: r.get(2)?,
                        })
                    })
                    .optional()?,
            )
        })
        .await
    }

    async fn drivers(&self, fleet_id: i64) -> Result<Vec<DriverRow>, StoreError> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT id, fleet_id, name FROM drivers WHERE fleet_id = ?1 ORDER BY id",
            )?
            .query_map(params![fleet_id], |r| {
                Ok(DriverRow {
                    id: r.get(0)?,
                    fleet_id: r.get(1)?,
                    name: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn create_device(
        &self,
        driver_id: i64,
        device_id: String,
        secret_hash: String,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO devices (id, driver_id, secret_hash, created_unix_ms) VALUES (?1, ?2, ?3, ?4)",
                params![device_id, driver_id, secret_hash, now_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn device(&self, id: String) -> Result<Option<DeviceRow>, StoreError> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT v.driver_id, d.fleet_id, f.utc_offset_min, v.secret_hash
                 FROM devices v JOIN drivers d ON d.id = v.driver_id JOIN fleets f ON f.id = d.fleet_id
                 WHERE v.id = ?1",
            )?
            .query_row(params![id], |r| {
                Ok(DeviceRow {
                    driver_id: r.get(0)?,
                    fleet_id: r.get(1)?,
                    utc_offset_min: r.get(2)?,
                    secret_hash: r.get(3)?,
                })
            })
            .optional()?)
        })
        .await
    }

    async fn ingest(&self, batch: NewBatch) -> Result<(Vec<Outcome>, Vec<Outcome>), StoreError> {
        self.write(move |c| {
            let tx = c.transaction()?;
            let mut events = Vec::with_capacity(batch.events.len());
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO events (id, driver_id, trip_id, kind, severity, start_unix_ms, end_unix_ms, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING",
                )?;
                let mut owner = tx.prepare_cached("SELECT driver_id FROM events WHERE id = ?1")?;
                for e in &batch.events {
                    let n = insert.execute(params![
                        e.id, batch.driver_id, e.trip_id, e.kind, e.severity,
                        e.start_unix_ms, e.end_unix_ms, e.body
                    ])?;
                    events.push(if n == 1 {
                        Outcome::Stored
                    } else if owner.query_row(params![e.id], |r| r.get::<_, i64>(0))? == batch.driver_id {
                        Outcome::Duplicate
                    } else {
                        Outcome::Foreign
                    });
                }
            }
            let mut trips = Vec::with_capacity(batch.trips.len());
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO trips (id, driver_id, start_unix_ms, end_unix_ms, distance_m, vehicle, events)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
                )?;
                let mut owner = tx.prepare_cached("SELECT driver_id FROM trips WHERE id = ?1")?;
                for t in &batch.trips {
                    let n = insert.execute(params![
                        t.id, batch.driver_id, t.start_unix_ms, t.end_unix_ms, t.distance_m, t.vehicle, t.events
                    ])?;
                    trips.push(if n == 1 {
                        Outcome::Stored
                    } else if owner.query_row(params![t.id], |r| r.get::<_, i64>(0))? == batch.driver_id {
                        Outcome::Duplicate
                    } else {
                        Outcome::Foreign
                    });
                }
            }
            let (ev, tr) = rollup(&batch, &events, &trips);
            {
                let mut d = tx.prepare_cached(
                    "INSERT INTO driver_day_events (driver_id, fleet_id, day, kind, severity, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (driver_id, day, kind, severity) DO UPDATE SET n = n + excluded.n",
                )?;
                let mut f = tx.prepare_cached(
                    "INSERT INTO fleet_day_events (fleet_id, day, kind, severity, n) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (fleet_id, day, kind, severity) DO UPDATE SET n = n + excluded.n",
                )?;
                for (day, kind, severity, n) in &ev {
                    d.execute(params![batch.driver_id, batch.fleet_id, day, kind, severity, n])?;
                    f.execute(params![batch.fleet_id, day, kind, severity, n])?;
                }
                let mut d = tx.prepare_cached(
                    "INSERT INTO driver_days (driver_id, fleet_id, day, distance_m, duration_s, trips) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (driver_id, day) DO UPDATE SET distance_m = distance_m + excluded.distance_m,
                     duration_s = duration_s + excluded.duration_s, trips = trips + excluded.trips",
                )?;
                let mut f = tx.prepare_cached(
                    "INSERT INTO fleet_days (fleet_id, day, distance_m, duration_s, trips) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (fleet_id, day) DO UPDATE SET distance_m = distance_m + excluded.distance_m,
                     duration_s = duration_s + excluded.duration_s, trips = trips + excluded.trips",
                )?;
                for (day, m, s, n) in &tr {
                    d.execute(params![batch.driver_id, batch.fleet_id, day, m, s, n])?;
                    f.execute(params![batch.fleet_id, day, m, s, n])?;
                }
            }
            tx.commit()?;
            Ok((events, trips))
        })
        .await
    }

    async fn days(
        &self,
        scope: DayScope,
        key: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<DayRow>, StoreError> {
        self.read(move |c| {
            let (driving, events) = scope.queries();
            day_rows(c, driving, events, key, from, to)
        })
        .await
    }

    async fn events(
        &self,
        driver_id: i64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<EventRecord>, StoreError> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT body FROM events WHERE driver_id = ?1 AND start_unix_ms >= ?2 AND start_unix_ms < ?3
                 ORDER BY start_unix_ms, id LIMIT ?4",
            )?
            .query_map(params![driver_id, from_ms, to_ms, MAX_INSTANCES], |r| {
                Ok(EventRecord { body: r.get(0)? })
            })?
            .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

impl PingStore for SqliteStore {
    async fn ping_salt(&self) -> Result<String, StoreError> {
        let fresh = super::fresh_salt()?;
        self.write(move |c| {
            c.execute(
                "INSERT INTO server_secrets (name, value) VALUES ('ping_salt', ?1) ON CONFLICT (name) DO NOTHING",
                params![fresh],
            )?;
            Ok(c.query_row("SELECT value FROM server_secrets WHERE name = 'ping_salt'", [], |r| r.get(0))?)
        })
        .await
    }

    async fn insert_pings(&self, pings: Vec<PingRow>) -> Result<(), StoreError> {
        self.write(move |c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT INTO pings (pseudonym, t_unix_s, lat, lon, speed_mps, accuracy_m, bearing_deg)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for p in &pings {
                    st.execute(params![p.pseudonym, p.t_unix_s, p.lat, p.lon, p.speed_mps, p.accuracy_m, p.bearing_deg])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn prune_pings(&self, before_unix_s: i64) -> Result<u64, StoreError> {
        self.write(move |c| {
            Ok(c.execute(
                "DELETE FROM pings WHERE t_unix_s < ?1",
                params![before_unix_s],
            )? as u64)
        })
        .await
    }

    async fn export_pings(
        &self,
        from_unix_s: i64,
        to_unix_s: i64,
    ) -> Result<Vec<PingRow>, StoreError> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT pseudonym, t_unix_s, lat, lon, speed_mps, accuracy_m, bearing_deg FROM pings
                 WHERE t_unix_s >= ?1 AND t_unix_s < ?2 ORDER BY t_unix_s LIMIT ?3",
            )?
            .query_map(params![from_unix_s, to_unix_s, MAX_EXPORT_PINGS], |r| {
                Ok(PingRow {
                    pseudonym: r.get(0)?,
                    t_unix_s: r.get(1)?,
                    lat: r.get(2)?,
                    lon: r.get(3)?,
                    speed_mps: r.get(4)?,
                    accuracy_m: r.get(5)?,
                    bearing_deg: r.get(6)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
