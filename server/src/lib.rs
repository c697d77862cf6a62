//! # safelane-server
//!
//! The server the SDK syncs to and fleet managers read: fleets, drivers and
//! device credentials; idempotent event ingestion (`POST /v1/events`, the
//! `safelane-wire` contract); daily and weekly driver reports with the
//! safe-driving score and its insight ([`score`], [`report`]); a fleet
//! overview; the weekly report as a web page; map tiles for phones;
//! `/healthz`, Prometheus `/metrics` and the OpenAPI document
//! (`/v1/openapi.json`).
//!
//! The HTTP layer is generic over a [`store::Store`]: [`store::SqliteStore`]
//! (the default, one embedded file) or [`store::PgStore`] (PostgreSQL, for
//! several stateless nodes behind a load balancer).
//!
//! Security: device and admin secrets are 256-bit random values, shown once
//! and stored only as SHA-256 hashes, compared in constant time; a device
//! writes and reads only its own driver's data, a fleet admin only its own
//! fleet; every query is parameterised; logs carry route templates, never
//! credentials, ids in paths or positions.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::sync::Semaphore;

mod api;
mod auth;
pub mod calendar;
mod error;
pub mod metrics;
pub mod openapi;
mod pings;
pub mod report;
pub mod score;
pub mod store;
pub mod web;

pub use store::{PgStore, SqliteStore, Store, StoreError};

/// The stored form of a token or secret (SHA-256, hex): for tools that
/// provision a database directly, such as the load generator's seeding.
pub fn hash_secret(secret: &str) -> String {
    auth::hash(secret)
}

/// Server settings (separate from state: [`App`] holds the state).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Folder of map tiles (`<geohash>.slmt`) served to phones.
    pub tiles_dir: Option<PathBuf>,
    /// The operator's token: may create fleets.
    pub operator_token: String,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Ingestion requests handled at once before 429.
    pub max_in_flight: usize,
    /// The score model.
    pub score: score::ScoreModel,
    /// Days pings are kept (crowd profiles aggregate eight weeks).
    pub ping_retention_days: u32,
}

impl ServerConfig {
    /// Defaults for an operator token.
    pub fn new(operator_token: String) -> Self {
        Self {
            tiles_dir: None,
            operator_token,
            max_body_bytes: safelane_wire::MAX_BATCH_BYTES,
            max_in_flight: 64,
            score: score::ScoreModel::default(),
            ping_retention_days: 56,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] StoreError),
    /// A setting is unusable.
    #[error("invalid setting: {0}")]
    Config(&'static str),
}

#[derive(Debug)]
struct Inner<S> {
    store: S,
    cfg: ServerConfig,
    in_flight: Semaphore,
    metrics: metrics::Metrics,
    ping_salt: tokio::sync::OnceCell<String>,
}

/// The server's shared state: a store, the settings, the metrics.
#[derive(Debug)]
pub struct App<S>(Arc<Inner<S>>);

impl<S> Clone for App<S> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<S: Store> App<S> {
    /// A server over an opened store.
    pub fn new(store: S, cfg: ServerConfig) -> Result<Self, ServerError> {
        if cfg.operator_token.len() < 16 {
            return Err(ServerError::Config(
                "the operator token must be at least 16 characters",
            ));
        }
        let permits = cfg.max_in_flight.max(1);
        Ok(App(Arc::new(Inner {
            store,
            cfg,
            in_flight: Semaphore::new(permits),
            metrics: Default::default(),
            ping_salt: Default::default(),
        })))
    }

    /// The HTTP routes.
    pub fn router(&self) -> Router {
        api::routes::<S>()
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                metrics::track::<S>,
            ))
            .layer(DefaultBodyLimit::max(self.0.cfg.max_body_bytes))
            .with_state(self.clone())
    }

    /// The storage.
    pub fn store(&self) -> &S {
        &self.0.store
    }

    /// The metrics.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.0.metrics
    }

    /// The pseudonym salt, read (or created) once.
    async fn ping_salt(&self) -> Result<String, StoreError> {
        self.0
            .ping_salt
            .get_or_try_init(|| self.0.store.ping_salt())
            .await
            .cloned()
    }
}

impl App<SqliteStore> {
    /// A server on an SQLite file (created and migrated).
    pub fn open_sqlite(path: &std::path::Path, cfg: ServerConfig) -> Result<Self, ServerError> {
        App::new(SqliteStore::open(path)?, cfg)
    }
}

/// Serves until the listener fails; deletes expired pings hourly meanwhile.
pub async fn serve<S: Store>(
    listener: tokio::net::TcpListener,
    app: App<S>,
) -> std::io::Result<()> {
    let pruner = tokio::spawn(pings::prune_forever(
        app.store().clone(),
        app.0.cfg.ping_retention_days,
    ));
    let r = axum::serve(listener, app.router()).await;
    pruner.abort();
    r
}
