//! `safelane serve`: the server on an embedded SQLite database.

use std::net::SocketAddr;
use std::path::PathBuf;

use safelane_server::{App, ServerConfig};

/// Starts the server and runs until interrupted.
pub fn run(
    database: PathBuf,
    listen: SocketAddr,
    tiles: Option<PathBuf>,
    operator_token: Option<String>,
) -> anyhow::Result<()> {
    let token = match operator_token {
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
    let mut cfg = ServerConfig::new(database.clone(), token);
    cfg.tiles_dir = tiles;
    let app = App::open(cfg)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        eprintln!(
            "safelane server on http://{} (database {})",
            listener.local_addr()?,
            database.display()
        );
        tokio::select! {
            r = safelane_server::serve(listener, app) => r,
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })?;
    Ok(())
}
