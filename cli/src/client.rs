//! The server's HTTP API as the command-line tools (`demo`, `load`) use it
//! over loopback, through the SDK's std transport.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use safelane_sdk::{HttpRequest, HttpTransport, Transport};

/// Now, Unix ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One request; the reply's status and body (a transport failure is `Err`).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> Result<(u16, Vec<u8>), String> {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(t) = token {
        headers.push(("authorization".into(), format!("Bearer {t}")));
    }
    let r = HttpTransport::default().send(HttpRequest {
        method: method.into(),
        url: format!("http://{addr}{path}"),
        headers,
        body,
    })?;
    Ok((r.status, r.body))
}

/// One request that must succeed (2xx); its body.
pub fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> anyhow::Result<Vec<u8>> {
    let (status, body) = request(addr, method, path, Some(token), body.as_bytes().to_vec())
        .map_err(|e| anyhow::anyhow!("{method} {path}: {e}"))?;
    anyhow::ensure!(
        (200..300).contains(&status),
        "{method} {path}: HTTP {status}: {}",
        String::from_utf8_lossy(&body)
    );
    Ok(body)
}

/// A field of a JSON reply.
pub fn field(body: &[u8], name: &str) -> anyhow::Result<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(body)?;
    v.get(name)
        .cloned()
        .with_context(|| format!("no `{name}` in {v}"))
}

/// A fleet made through the API.
#[derive(Debug)]
pub struct Fleet {
    /// Fleet id.
    pub id: i64,
    /// The fleet admin's token.
    pub admin: String,
    /// Per driver, in the order named: (driver id, device token `<id>.<secret>`).
    pub drivers: Vec<(i64, String)>,
}

/// Creates a fleet (`fleet_body`: the `POST /v1/fleets` JSON) with one
/// driver per name and a device each.
pub fn provision(
    addr: SocketAddr,
    operator: &str,
    fleet_body: &str,
    names: &[String],
) -> anyhow::Result<Fleet> {
    let b = call(addr, "POST", "/v1/fleets", operator, fleet_body)?;
    let id = field(&b, "fleet_id")?.as_i64().context("fleet_id")?;
    let admin = field(&b, "admin_token")?
        .as_str()
        .context("admin_token")?
        .to_owned();
    let mut drivers = Vec::with_capacity(names.len());
    for name in names {
        let body = serde_json::json!({ "name": name }).to_string();
        let b = call(
            addr,
            "POST",
            &format!("/v1/fleets/{id}/drivers"),
            &admin,
            &body,
        )?;
        let driver = field(&b, "driver_id")?.as_i64().context("driver_id")?;
        let b = call(
            addr,
            "POST",
            &format!("/v1/fleets/{id}/drivers/{driver}/devices"),
            &admin,
            "",
        )?;
        let token = format!(
            "{}.{}",
            field(&b, "device_id")?.as_str().context("device_id")?,
            field(&b, "device_secret")?
                .as_str()
                .context("device_secret")?
        );
        drivers.push((driver, token));
    }
    Ok(Fleet { id, admin, drivers })
}

/// `safelane serve` in a child process, killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct ServerChild(pub Child);

impl ServerChild {
    /// Kills the server at once (SIGKILL: no shutdown, no final checkpoint).
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `safelane serve --database DATABASE` on `addr` (`None`: a free
/// loopback port) and waits for `/healthz`; its stderr goes to `stderr`.
/// A port just freed by a killed server may take a moment: binding is
/// retried for up to 60 s.
pub fn start_server(
    database: &str,
    addr: Option<SocketAddr>,
    operator: &str,
    stderr: Stdio,
) -> anyhow::Result<(ServerChild, SocketAddr)> {
    let addr = match addr {
        Some(a) => a,
        None => std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?,
    };
    let child = Command::new(std::env::current_exe()?)
        .args([
            "serve",
            "--database",
            database,
            "--listen",
            &addr.to_string(),
            "--max-in-flight",
            "512",
        ])
        .env("SAFELANE_OPERATOR_TOKEN", operator)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .context("starting `safelane serve`")?;
    let mut child = ServerChild(child);
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        if let Ok((200, _)) = request(addr, "GET", "/healthz", None, vec![]) {
            return Ok((child, addr));
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            anyhow::bail!("`safelane serve` on {addr} exited at start: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!("the server did not answer /healthz within 60 s")
}
