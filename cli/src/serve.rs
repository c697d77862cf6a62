//! `safelane serve`: the server, on an embedded SQLite file by default or on
//! PostgreSQL (`--database postgres://...`). Every flag has an environment
//! variable (`SAFELANE_DATABASE`, `SAFELANE_LISTEN`, ...); logs go to stderr
//! as text or JSON lines, filtered by `RUST_LOG` (default `info`).

use std::net::SocketAddr;
use std::path::PathBuf;

use safelane_server::{App, PgStore, ServerConfig, SqliteStore, Store};

/// `safelane serve` settings.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// SQLite database file (created, migrated), or a postgres:// URL.
    #[arg(
        long,
        env = "SAFELANE_DATABASE",
        default_value = "safelane.db",
        hide_env_values = true
    )]
    pub database: String,
    /// Address to listen on.
    #[arg(long, env = "SAFELANE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Folder of map tiles served at /v1/tiles/{geohash}.
    #[arg(long, env = "SAFELANE_TILES")]
    pub tiles: Option<PathBuf>,
    /// Operator token (may create fleets); default: a random one, printed.
    #[arg(long, env = "SAFELANE_OPERATOR_TOKEN", hide_env_values = true)]
    pub operator_token: Option<String>,
    /// PostgreSQL connections in the pool.
    #[arg(long, env = "SAFELANE_MAX_CONNECTIONS", default_value_t = 16)]
    pub max_connections: usize,
    /// Ingestion requests handled at once; more get 429 with Retry-After.
    #[arg(long, env = "SAFELANE_MAX_IN_FLIGHT", default_value_t = 64)]
    pub max_in_flight: usize,
    /// Log format on stderr: text or json (RUST_LOG filters, default info).
    #[arg(long, env = "SAFELANE_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
}

fn init_logs(format: &str) -> anyhow::Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        "json" => b.json().try_init(),
        "text" => b.try_init(),
        other => anyhow::bail!("--log-format {other}: text or json"),
    }
    .map_err(|e| anyhow::anyhow!("logging: {e}"))
}

/// Starts the server and runs until interrupted.
pub fn run(a: Args) -> anyhow::Result<()> {
    init_logs(&a.log_format)?;
    let token = match a.operator_token {
        Some(t) => t,
        None => {
            let mut b = [0u8; 24];
            getrandom::fill(&mut b)
                .map_err(|e| anyhow::anyhow!("no randomness for a token: {e}"))?;
            let t: String = b.iter().map(|x| format!("{x:02x}")).collect();
            eprintln!(
                "operator token (create fleets with it; set SAFELANE_OPERATOR_TOKEN to choose one): {t}"
            );
            t
        }
    };
    let mut cfg = ServerConfig::new(token);
    cfg.tiles_dir = a.tiles;
    cfg.max_in_flight = a.max_in_flight;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(a.listen).await?;
        let addr = listener.local_addr()?;
        if a.database.starts_with("postgres://") || a.database.starts_with("postgresql://") {
            let store = PgStore::open(&a.database, a.max_connections).await?;
            eprintln!("safelane server on http://{addr} (PostgreSQL)");
            run_app(listener, App::new(store, cfg)?).await
        } else {
            let store = SqliteStore::open(std::path::Path::new(&a.database))?;
            eprintln!("safelane server on http://{addr} (SQLite {})", a.database);
            run_app(listener, App::new(store, cfg)?).await
        }
    })
}

async fn run_app<S: Store>(listener: tokio::net::TcpListener, app: App<S>) -> anyhow::Result<()> {
    tokio::select! {
        r = safelane_server::serve(listener, app) => r?,
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: stopping"),
    }
    Ok(())
}
