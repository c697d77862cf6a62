//! Prometheus metrics (`GET /metrics`, text format): requests by route
//! template and status with their latency, and ingestion outcomes. Labels
//! are route templates (`/v1/drivers/{driver}/weeks/{week}`), never ids,
//! tokens or positions.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

fn latency_histogram() -> Histogram {
    // 0.25 ms .. 4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram, fn() -> Histogram>,
    /// Events by outcome (`stored`, `duplicate`, `rejected`).
    pub(crate) events: Family<Labels, Counter>,
    /// Requests refused with 429.
    pub(crate) throttled: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("safelane");
        let requests = Family::<Labels, Counter>::default();
        let latency =
            Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let events = Family::<Labels, Counter>::default();
        let throttled = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register("events", "Ingested events by outcome", events.clone());
        registry.register(
            "throttled_requests",
            "Requests refused with 429",
            throttled.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            events,
            throttled,
        }
    }
}

impl Metrics {
    /// The text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut s, &self.registry);
        s
    }

    pub(crate) fn event(&self, outcome: &'static str, n: u64) {
        if n > 0 {
            self.events
                .get_or_create(&vec![("outcome", outcome.to_owned())])
                .inc_by(n);
        }
    }
}

/// Middleware: counts and times every request, and logs it (method, route
/// template, status, latency).
pub(crate) async fn track<S: crate::store::Store>(
    State(app): State<crate::App<S>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let resp = next.run(req).await;
    let secs = started.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    let m = app.metrics();
    m.requests
        .get_or_create(&vec![
            ("method", method.clone()),
            ("route", route.clone()),
            ("status", status.to_string()),
        ])
        .inc();
    m.latency
        .get_or_create(&vec![("route", route.clone())])
        .observe(secs);
    tracing::info!(%method, %route, status, latency_ms = secs * 1000.0, "request");
    resp
}
