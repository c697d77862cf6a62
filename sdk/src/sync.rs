//! Sync: send the outbox to the server in batches, mark events synced only
//! once the server acknowledged them.
//!
//! - Each event carries its idempotency key (`id`): re-sending after a lost
//!   reply stores nothing twice.
//! - Authenticated with the device's credentials: `Authorization: Bearer
//!   <device id>.<secret>`.
//! - Retries with exponential backoff and full jitter (a random wait between
//!   0 and `base x 2^attempt`, capped) on network errors and 5xx; HTTP 429 and
//!   503 wait at least their `Retry-After`. 401/403 stop at once (the
//!   credentials are wrong); a 400 for the whole batch stops too (re-sending
//!   the same bytes cannot help).
//! - The HTTP stack is the app's ([`Transport`], a foreign trait in the
//!   bindings: OkHttp, URLSession); [`crate::http::HttpTransport`] is a small
//!   Rust one for desktop use and tests.

use safelane_wire::{API_VERSION, BatchReply, CONTENT_TYPE, EventBatch, Status};

use crate::SdkError;
use crate::outbox::Outbox;

/// An HTTP request the SDK wants sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// `POST`.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers (name, value).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// The server's response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (name, value); names compared case-insensitively.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one HTTP request. `Err` is a network failure (no response: DNS,
/// connection, timeout), with a message for logs.
pub trait Transport: Send + Sync {
    /// Sends the request and returns the response.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, String>;
}

/// Waits between attempts (the real one sleeps; tests record).
pub trait Sleeper {
    /// Waits `ms` milliseconds.
    fn sleep_ms(&mut self, ms: u64);
}

/// `std::thread::sleep`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadSleeper;

impl Sleeper for ThreadSleeper {
    fn sleep_ms(&mut self, ms: u64) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Sync settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncConfig {
    /// Server base URL, e.g. `https://fleet.example.com` (no trailing slash needed).
    pub base_url: String,
    /// Device id issued by the fleet admin.
    pub device_id: String,
    /// Device secret issued with it.
    pub device_secret: String,
    /// Events per batch. Default 100.
    pub batch_size: usize,
    /// Consecutive failed attempts before giving up (the events stay queued). Default 6.
    pub max_attempts: u32,
    /// First backoff, ms. Default 500.
    pub base_backoff_ms: u64,
    /// Longest single wait, ms. Default 60,000.
    pub max_backoff_ms: u64,
}

impl SyncConfig {
    /// Defaults for a server and device credentials.
    pub fn new(base_url: &str, device_id: &str, device_secret: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            device_id: device_id.to_owned(),
            device_secret: device_secret.to_owned(),
            batch_size: 100,
            max_attempts: 6,
            base_backoff_ms: 500,
            max_backoff_ms: 60_000,
        }
    }

    /// The `Authorization` header's value.
    pub(crate) fn authorization(&self) -> String {
        format!("Bearer {}.{}", self.device_id, self.device_secret)
    }

    pub(crate) fn validate(&self) -> Result<(), SdkError> {
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(SdkError::arg(
                "base_url: must start with http:// or https://",
            ));
        }
        let token_ok =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b'.');
        if !token_ok(&self.device_id) {
            return Err(SdkError::arg(
                "device_id: must be non-empty printable ASCII without '.'",
            ));
        }
        if !token_ok(&self.device_secret) {
            return Err(SdkError::arg(
                "device_secret: must be non-empty printable ASCII without '.'",
            ));
        }
        if !(1..=safelane_wire::MAX_BATCH_EVENTS).contains(&self.batch_size) {
            return Err(SdkError::arg("batch_size: must be 1..=500"));
        }
        if self.max_attempts == 0 {
            return Err(SdkError::arg("max_attempts: must be at least 1"));
        }
        Ok(())
    }
}

/// What a sync did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Events the server stored now or had already (acknowledged).
    pub acknowledged: u64,
    /// Events the server refused (kept aside, not re-sent).
    pub rejected: u64,
    /// Trips acknowledged.
    pub trips: u64,
    /// Requests sent (including retries).
    pub requests: u64,
    /// Request body bytes sent.
    pub bytes_sent: u64,
    /// Waits taken before retries.
    pub retries: u64,
}

/// A source of randomness for jitter (the real one uses the OS).
pub(crate) fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // On failure (no OS randomness) jitter falls back to the full wait.
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

/// Sends everything waiting in the outbox.
pub fn sync(
    outbox: &mut Outbox,
    transport: &dyn Transport,
    cfg: &SyncConfig,
    sleeper: &mut dyn Sleeper,
) -> Result<SyncReport, SdkError> {
    cfg.validate()?;
    let mut report = SyncReport::default();
    let mut failures = 0u32;
    let url = format!("{}/{API_VERSION}/events", cfg.base_url);
    loop {
        let (events, trips) = outbox.pending(cfg.batch_size)?;
        if events.is_empty() && trips.is_empty() {
            return Ok(report);
        }
        let batch = EventBatch { events, trips };
        let body =
            serde_json::to_vec(&batch).map_err(|e| SdkError::storage("encoding a batch", e))?;
        report.requests += 1;
        report.bytes_sent += body.len() as u64;
        let request = HttpRequest {
            method: "POST".into(),
            url: url.clone(),
            headers: vec![
                ("content-type".into(), CONTENT_TYPE.into()),
                ("authorization".into(), cfg.authorization()),
            ],
            body,
        };
        let wait_ms = match transport.send(request) {
            Ok(r) if r.status == 200 => match serde_json::from_slice::<BatchReply>(&r.body) {
                Ok(reply) => {
                    failures = 0;
                    settle(outbox, &batch, &reply, &mut report)?;
                    continue;
                }
                // A garbled reply: nothing is marked; retry.
                Err(_) => {
                    failures += 1;
                    backoff(cfg, failures, None)
                }
            },
            Ok(r) if r.status == 401 || r.status == 403 => {
                return Err(SdkError::Sync {
                    reason: format!(
                        "the server refused the device's credentials (HTTP {})",
                        r.status
                    ),
                    retryable: false,
                });
            }
            Ok(r) if r.status == 429 || r.status == 503 => {
                let retry_after = r
                    .header("retry-after")
                    .and_then(|v| v.trim().parse::<u64>().ok());
                failures += 1;
                backoff(cfg, failures, retry_after.map(|s| s.saturating_mul(1000)))
            }
            Ok(r) if (400..500).contains(&r.status) => {
                return Err(SdkError::Sync {
                    reason: format!("the server refused the batch (HTTP {})", r.status),
                    retryable: false,
                });
            }
            Ok(_) | Err(_) => {
                failures += 1;
                backoff(cfg, failures, None)
            }
        };
        if failures >= cfg.max_attempts {
            return Err(SdkError::Sync {
                reason: format!("gave up after {failures} failed attempts; events stay queued"),
                retryable: true,
            });
        }
        report.retries += 1;
        sleeper.sleep_ms(wait_ms);
    }
}

/// The wait before attempt `failures + 1`: full jitter over the exponential
/// window, never shorter than the server's `Retry-After`.
fn backoff(cfg: &SyncConfig, failures: u32, retry_after_ms: Option<u64>) -> u64 {
    let window = cfg
        .base_backoff_ms
        .saturating_mul(1u64 << failures.saturating_sub(1).min(20))
        .min(cfg.max_backoff_ms);
    let jittered = if window == 0 {
        0
    } else {
        random_u64() % (window + 1)
    };
    match retry_after_ms {
        Some(ra) => ra.min(cfg.max_backoff_ms).max(jittered),
        None => jittered,
    }
}

/// Marks what the reply acknowledged; ids the reply does not mention stay queued.
fn settle(
    outbox: &mut Outbox,
    batch: &EventBatch,
    reply: &BatchReply,
    report: &mut SyncReport,
) -> Result<(), SdkError> {
    let sent: std::collections::HashSet<&str> =
        batch.events.iter().map(|e| e.id.as_str()).collect();
    let sent_trips: std::collections::HashSet<&str> =
        batch.trips.iter().map(|t| t.id.as_str()).collect();
    let mut acked = Vec::new();
    let mut rejected = Vec::new();
    for s in &reply.events {
        if !sent.contains(s.id.as_str()) {
            continue;
        }
        match s.status {
            Status::Stored | Status::Duplicate => acked.push(s.id.as_str()),
            Status::Rejected => {
                rejected.push((s.id.as_str(), s.error.as_deref().unwrap_or("rejected")))
            }
        }
    }
    // A trip summary the server refuses is not re-sent either (its events
    // are judged one by one above).
    let trips: Vec<&str> = reply
        .trips
        .iter()
        .filter(|s| sent_trips.contains(s.id.as_str()))
        .map(|s| s.id.as_str())
        .collect();
    outbox.settle(&acked, &rejected, &trips)?;
    report.acknowledged += acked.len() as u64;
    report.rejected += rejected.len() as u64;
    report.trips += trips.len() as u64;
    Ok(())
}
