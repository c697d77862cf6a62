//! PostgreSQL storage: the same schema and behaviour as SQLite, for fleets
//! that outgrow one machine (stateless HTTP nodes over one database; see
//! ARCHITECTURE.md). A pool of connections (deadpool); a batch is one
//! transaction of a few statements whatever its size (`UNNEST` arrays), so
//! its cost does not grow with round trips.

use std::collections::HashSet;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::types::FromSql;
use tokio_postgres::{NoTls, Row};

use super::{
    DayRow, DayScope, DeviceRow, DriverRow, EventRecord, FleetRow, MAX_EXPORT_PINGS, MAX_INSTANCES,
    NewBatch, Outcome, PingRow, PingStore, Store, StoreError, merge_days, rollup,
};

/// Schema migrations, applied in order at start-up (table `schema_version`).
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_init.sql"),
    include_str!("../../migrations/postgres/0002_pings.sql"),
];

/// Serialises migrations when several nodes start at once.
const MIGRATION_LOCK: i64 = 0x5afe_1a4e;

/// PostgreSQL storage.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never printed.
        f.debug_struct("PgStore")
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError(format!("postgres pool: {e}"))
    }
}

impl PgStore {
    /// Connects (`postgres://user:password@host:port/database`) with up to
    /// `max_connections` connections, and migrates.
    pub async fn open(url: &str, max_connections: usize) -> Result<Self, StoreError> {
        let cfg: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError(format!("database URL: {e}")))?;
        let mgr = Manager::from_config(
            cfg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(max_connections.max(1))
            .build()
            .map_err(|e| StoreError(format!("postgres pool: {e}")))?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .await?;
        let version: i64 = tx
            .query_opt("SELECT version FROM schema_version", &[])
            .await?
            .map_or(Ok(0), |r| r.try_get(0))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError(format!(
                "schema version {version} is newer than this server's ({})",
                MIGRATIONS.len()
            )));
        }
        for m in MIGRATIONS.iter().skip(version as usize) {
            tx.batch_execute(m).await?;
        }
        tx.execute("DELETE FROM schema_version", &[]).await?;
        tx.execute(
            "INSERT INTO schema_version VALUES ($1)",
            &[&(MIGRATIONS.len() as i64)],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn day_rows(
        &self,
        driving_sql: &str,
        events_sql: &str,
        key: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<DayRow>, StoreError> {
        let c = self.pool.get().await?;
        let (a, b) = (
            c.prepare_cached(driving_sql).await?,
            c.prepare_cached(events_sql).await?,
        );
        let args: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&key, &from, &to];
        let (driving, events) = tokio::try_join!(c.query(&a, &args), c.query(&b, &args))?;
        let driving = driving.iter().map(five).collect::<Result<Vec<_>, _>>()?;
        let events = events.iter().map(five).collect::<Result<Vec<_>, _>>()?;
        Ok(merge_days(driving, events))
    }
}

/// The first five columns of a row.
#[allow(clippy::type_complexity)]
fn five<'a, A, B, C, D, E>(r: &'a Row) -> Result<(A, B, C, D, E), tokio_postgres::Error>
where
    A: FromSql<'a>,
    B: FromSql<'a>,
    C: FromSql<'a>,
    D: FromSql<'a>,
    E: FromSql<'a>,
{
    Ok((
        r.try_get(0)?,
        r.try_get(1)?,
        r.try_get(2)?,
        r.try_get(3)?,
        r.try_get(4)?,
    ))
}

fn driver_row(r: &Row) -> Result<DriverRow, tokio_postgres::Error> {
    Ok(DriverRow {
        id: r.try_get(0)?,
        fleet_id: r.try_get(1)?,
        name: r.try_get(2)?,
    })
}

/// Outcomes in input order from the ids the insert returned: the first
/// occurrence of a returned id is `Stored`; other ids are duplicates when
/// their stored owner is this driver.
fn outcomes(
    ids: &[&str],
    inserted: &HashSet<String>,
    owners: &[(String, i64)],
    driver: i64,
) -> Vec<Outcome> {
    let mut seen = HashSet::new();
    ids.iter()
        .map(|id| {
            if inserted.contains(*id) && seen.insert(*id) {
                Outcome::Stored
            } else if inserted.contains(*id) || owners.iter().any(|(o, d)| o == id && *d == driver)
            {
                Outcome::Duplicate
            } else {
                Outcome::Foreign
            }
        })
        .collect()
}

impl Store for PgStore {
    async fn health(&self) -> Result<(), StoreError> {
        self.pool.get().await?.execute("SELECT 1", &[]).await?;
        Ok(())
    }

    async fn create_fleet(
        &self,
        name: String,
        admin_token_hash: String,
        utc_offset_min: i32,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let c = self.pool.get().await?;
        let r = c
            .query_one(
                "INSERT INTO fleets (name, admin_token_hash, created_unix_ms, utc_offset_min)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[&name, &admin_token_hash, &now_ms, &utc_offset_min],
            )
            .await?;
        Ok(r.try_get(0)?)
    }

    async fn fleet(&self, id: i64) -> Result<Option<FleetRow>, StoreError> {
        let c = self.pool.get().await?;
        let s = c
            .prepare_cached(
                "SELECT id, name, admin_token_hash, utc_offset_min FROM fleets WHERE id = $1",
            )
            .await?;
        Ok(match c.query_opt(&s, &[&id]).await? {
            Some(r) => Some(FleetRow {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                admin_token_hash: r.try_get(2)?,
                utc_offset_min: r.try_get(3)?,
            }),
            None => None,
        })
    }

    async fn create_driver(
        &self,
        fleet_id: i64,
        name: String,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let c = self.pool.get().await?;
        let r = c
            .query_one(
                "INSERT INTO drivers (fleet_id, name, created_unix_ms) VALUES ($1, $2, $3) RETURNING id",
                &[&fleet_id, &name, &now_ms],
            )
            .await?;
        Ok(r.try_get(0)?)
    }

    async fn driver(&self, id: i64) -> Result<Option<DriverRow>, StoreError> {
        let c = self.pool.get().await?;
        let s = c
            .prepare_cached("SELECT id, fleet_id, name FROM drivers WHERE id = $1")
            .await?;
        Ok(c.query_opt(&s, &[&id])
            .await?
            .as_ref()
            .map(driver_row)
            .transpose()?)
    }

    async fn drivers(&self, fleet_id: i64) -> Result<Vec<DriverRow>, StoreError> {
        let c = self.pool.get().await?;
        let s = c
            .prepare_cached(
                "SELECT id, fleet_id, name FROM drivers WHERE fleet_id = $1 ORDER BY id",
            )
            .await?;
        Ok(c.query(&s, &[&fleet_id])
            .await?
            .iter()
            .map(driver_row)
            .collect::<Result<_, _>>()?)
    }

    async fn create_device(
        &self,
        driver_id: i64,
        device_id: String,
        secret_hash: String,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let c = self.pool.get().await?;
        c.execute(
            "INSERT INTO devices (id, driver_id, secret_hash, created_unix_ms) VALUES ($1, $2, $3, $4)",
            &[&device_id, &driver_id, &secret_hash, &now_ms],
        )
        .await?;
        Ok(())
    }

    async fn device(&self, id: String) -> Result<Option<DeviceRow>, StoreError> {
        let c = self.pool.get().await?;
        let s = c
            .prepare_cached(
                "SELECT v.driver_id, d.fleet_id, f.utc_offset_min, v.secret_hash
                 FROM devices v JOIN drivers d ON d.id = v.driver_id JOIN fleets f ON f.id = d.fleet_id
                 WHERE v.id = $1",
            )
            .await?;
        Ok(match c.query_opt(&s, &[&id]).await? {
            Some(r) => Some(DeviceRow {
                driver_id: r.try_get(0)?,
                fleet_id: r.try_get(1)?,
                utc_offset_min: r.try_get(2)?,
                secret_hash: r.try_get(3)?,
            }),
            None => None,
        })
    }

    async fn ingest(&self, batch: NewBatch) -> Result<(Vec<Outcome>, Vec<Outcome>), StoreError> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let d = batch.driver_id;
        let f = batch.fleet_id;

        let e = &batch.events;
        let ids: Vec<&str> = e.iter().map(|x| x.id.as_str()).collect();
        let trip_ids: Vec<&str> = e.iter().map(|x| x.trip_id.as_str()).collect();
        let kinds: Vec<&str> = e.iter().map(|x| x.kind).collect();
        let severities: Vec<&str> = e.iter().map(|x| x.severity.as_str()).collect();
        let starts: Vec<i64> = e.iter().map(|x| x.start_unix_ms).collect();
        let ends: Vec<i64> = e.iter().map(|x| x.end_unix_ms).collect();
        let bodies: Vec<&str> = e.iter().map(|x| x.body.as_str()).collect();
        let insert = tx
            .prepare_cached(
                "INSERT INTO events (id, driver_id, trip_id, kind, severity, start_unix_ms, end_unix_ms, body)
                 SELECT u.id, $1, u.trip_id, u.kind, u.severity, u.s, u.e, u.body
                 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[])
                   AS u(id, trip_id, kind, severity, s, e, body)
                 ON CONFLICT (id) DO NOTHING RETURNING id",
            )
            .await?;
        let owner_sql = tx
            .prepare_cached("SELECT id, driver_id FROM events WHERE id = ANY($1::text[])")
            .await?;
        let inserted: HashSet<String> = tx
            .query(
                &insert,
                &[
                    &d,
                    &ids,
                    &trip_ids,
                    &kinds,
                    &severities,
                    &starts,
                    &ends,
                    &bodies,
                ],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let events = if inserted.len() == ids.len() {
            outcomes(&ids, &inserted, &[], d)
        } else {
            let rest: Vec<&str> = ids
                .iter()
                .copied()
                .filter(|i| !inserted.contains(*i))
                .collect();
            let owners: Vec<(String, i64)> = tx
                .query(&owner_sql, &[&rest])
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, tokio_postgres::Error>>()?;
            outcomes(&ids, &inserted, &owners, d)
        };

        let t = &batch.trips;
        let trips = if t.is_empty() {
            Vec::new()
        } else {
            let ids: Vec<&str> = t.iter().map(|x| x.id.as_str()).collect();
            let starts: Vec<i64> = t.iter().map(|x| x.start_unix_ms).collect();
            let ends: Vec<i64> = t.iter().map(|x| x.end_unix_ms).collect();
            let dist: Vec<f64> = t.iter().map(|x| x.distance_m).collect();
            let vehicles: Vec<&str> = t.iter().map(|x| x.vehicle.as_str()).collect();
            let counts: Vec<i64> = t.iter().map(|x| x.events).collect();
            let inserted: HashSet<String> = tx
                .query(
                    "INSERT INTO trips (id, driver_id, start_unix_ms, end_unix_ms, distance_m, vehicle, events)
                     SELECT u.id, $1, u.s, u.e, u.m, u.v, u.n
                     FROM UNNEST($2::text[], $3::bigint[], $4::bigint[], $5::float8[], $6::text[], $7::bigint[])
                       AS u(id, s, e, m, v, n)
                     ON CONFLICT (id) DO NOTHING RETURNING id",
                    &[&d, &ids, &starts, &ends, &dist, &vehicles, &counts],
                )
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            let owners: Vec<(String, i64)> = tx
                .query(
                    "SELECT id, driver_id FROM trips WHERE id = ANY($1::text[])",
                    &[&ids],
                )
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, tokio_postgres::Error>>()?;
            outcomes(&ids, &inserted, &owners, d)
        };

        // Roll-ups, keys in sorted order (BTreeMap) so concurrent batches of
        // one fleet take row locks in the same order and cannot deadlock.
        let (ev, tr) = rollup(&batch, &events, &trips);
        if !ev.is_empty() {
            let days: Vec<i64> = ev.iter().map(|x| x.0).collect();
            let kinds: Vec<&str> = ev.iter().map(|x| x.1).collect();
            let sev: Vec<&str> = ev.iter().map(|x| x.2.as_str()).collect();
            let n: Vec<i64> = ev.iter().map(|x| x.3).collect();
            let s = tx
                .prepare_cached(
                    "INSERT INTO driver_day_events (driver_id, fleet_id, day, kind, severity, n)
                     SELECT $1, $2, u.day, u.kind, u.sev, u.n
                     FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::bigint[]) AS u(day, kind, sev, n)
                     ON CONFLICT (driver_id, day, kind, severity) DO UPDATE SET n = driver_day_events.n + excluded.n",
                )
                .await?;
            tx.execute(&s, &[&d, &f, &days, &kinds, &sev, &n]).await?;
            let s = tx
                .prepare_cached(
                    "INSERT INTO fleet_day_events (fleet_id, day, kind, severity, n)
                     SELECT $1, u.day, u.kind, u.sev, u.n
                     FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::bigint[]) AS u(day, kind, sev, n)
                     ON CONFLICT (fleet_id, day, kind, severity) DO UPDATE SET n = fleet_day_events.n + excluded.n",
                )
                .await?;
            tx.execute(&s, &[&f, &days, &kinds, &sev, &n]).await?;
        }
        if !tr.is_empty() {
            let days: Vec<i64> = tr.iter().map(|x| x.0).collect();
            let m: Vec<f64> = tr.iter().map(|x| x.1).collect();
            let s: Vec<f64> = tr.iter().map(|x| x.2).collect();
            let n: Vec<i64> = tr.iter().map(|x| x.3).collect();
            tx.execute(
                "INSERT INTO driver_days (driver_id, fleet_id, day, distance_m, duration_s, trips)
                 SELECT $1, $2, u.day, u.m, u.s, u.n FROM UNNEST($3::bigint[], $4::float8[], $5::float8[], $6::bigint[]) AS u(day, m, s, n)
                 ON CONFLICT (driver_id, day) DO UPDATE SET distance_m = driver_days.distance_m + excluded.distance_m,
                 duration_s = driver_days.duration_s + excluded.duration_s, trips = driver_days.trips + excluded.trips",
                &[&d, &f, &days, &m, &s, &n],
            )
            .await?;
            tx.execute(
                "INSERT INTO fleet_days (fleet_id, day, distance_m, duration_s, trips)
                 SELECT $1, u.day, u.m, u.s, u.n FROM UNNEST($2::bigint[], $3::float8[], $4::float8[], $5::bigint[]) AS u(day, m, s, n)
                 ON CONFLICT (fleet_id, day) DO UPDATE SET distance_m = fleet_days.distance_m + excluded.distance_m,
                 duration_s = fleet_days.duration_s + excluded.duration_s, trips = fleet_days.trips + excluded.trips",
                &[&f, &days, &m, &s, &n],
            )
            .await?;
        }
        tx.commit().await?;
        Ok((events, trips))
    }

    async fn days(
        &self,
        scope: DayScope,
        key: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<DayRow>, StoreError> {
        let (driving, events) = scope.queries();
        self.day_rows(driving, events, key, from, to).await
    }

    async fn events(
        &self,
        driver_id: i64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let c = self.pool.get().await?;
        let s = c
            .prepare_cached(
                "SELECT body FROM events WHERE driver_id = $1 AND start_unix_ms >= $2 AND start_unix_ms < $3
                 ORDER BY start_unix_ms, id LIMIT $4",
            )
            .await?;
        Ok(c.query(&s, &[&driver_id, &from_ms, &to_ms, &MAX_INSTANCES])
            .await?
            .iter()
            .map(|r| {
                Ok(EventRecord {
                    body: r.try_get(0)?,
                })
            })
            .collect::<Result<_, tokio_postgres::Error>>()?)
    }
}

impl PingStore for PgStore {
    async fn ping_salt(&self) -> Result<String, StoreError> {
        let fresh = super::fresh_salt()?;
        let c = self.pool.get().await?;
        c.execute(
            "INSERT INTO server_secrets (name, value) VALUES ('ping_salt', $1) ON CONFLICT (name) DO NOTHING",
            &[&fresh],
        )
        .await?;
        Ok(c.query_one(
            "SELECT value FROM server_secrets WHERE name = 'ping_salt'",
            &[],
        )
        .await?
        .try_get(0)?)
    }

    async fn insert_pings(&self, pings: Vec<PingRow>) -> Result<(), StoreError> {
        let c = self.pool.get().await?;
        let ps: Vec<&str> = pings.iter().map(|p| p.pseudonym.as_str()).collect();
        let t: Vec<i64> = pings.iter().map(|p| p.t_unix_s).collect();
        let lat: Vec<f64> = pings.iter().map(|p| p.lat).collect();
        let lon: Vec<f64> = pings.iter().map(|p| p.lon).collect();
        let v: Vec<f64> = pings.iter().map(|p| p.speed_mps).collect();
        let acc: Vec<f64> = pings.iter().map(|p| p.accuracy_m).collect();
        let b: Vec<Option<f64>> = pings.iter().map(|p| p.bearing_deg).collect();
        c.execute(
            "INSERT INTO pings (pseudonym, t_unix_s, lat, lon, speed_mps, accuracy_m, bearing_deg)
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[])",
            &[&ps, &t, &lat, &lon, &v, &acc, &b],
        )
        .await?;
        Ok(())
    }

    async fn prune_pings(&self, before_unix_s: i64) -> Result<u64, StoreError> {
        let c = self.pool.get().await?;
        Ok(
            c.execute("DELETE FROM pings WHERE t_unix_s < $1", &[&before_unix_s])
                .await?,
        )
    }

    async fn export_pings(
        &self,
        from_unix_s: i64,
        to_unix_s: i64,
    ) -> Result<Vec<PingRow>, StoreError> {
        let c = self.pool.get().await?;
        Ok(c.query(
            "SELECT pseudonym, t_unix_s, lat, lon, speed_mps, accuracy_m, bearing_deg FROM pings
             WHERE t_unix_s >= $1 AND t_unix_s < $2 ORDER BY t_unix_s LIMIT $3",
            &[&from_unix_s, &to_unix_s, &MAX_EXPORT_PINGS],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(PingRow {
                pseudonym: r.try_get(0)?,
                t_unix_s: r.try_get(1)?,
                lat: r.try_get(2)?,
                lon: r.try_get(3)?,
                speed_mps: r.try_get(4)?,
                accuracy_m: r.try_get(5)?,
                bearing_deg: r.try_get(6)?,
            })
        })
        .collect::<Result<_, tokio_postgres::Error>>()?)
    }
}
