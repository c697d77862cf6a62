//! The soak phase of `safelane load`: sustained paced load for minutes,
//! latency percentiles per window, the server's resident memory sampled from
//! `/proc`, written as CSV and drawn as an SVG (no plotting dependency: a
//! few polylines).

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One window of the soak.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Window {
    /// Window end, s from the start.
    pub t_s: f64,
    /// Stored events per second in the window.
    pub events_per_s: f64,
    /// Latency percentiles from the scheduled time, ms.
    pub p50_ms: f64,
    /// See `p50_ms`.
    pub p95_ms: f64,
    /// See `p50_ms`.
    pub p99_ms: f64,
    /// Slowest request, ms.
    pub max_ms: f64,
    /// Failed requests (errors and 429s).
    pub failed: u64,
    /// Server resident memory at the window's end, MiB.
    pub rss_mib: f64,
}

/// The server's resident set size, KiB (`VmRSS` in `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Samples the RSS of `pid` every second until `stop`; (s from start, KiB).
pub fn sample_rss(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<(f64, u64)>> {
    std::thread::spawn(move || {
        let t0 = Instant::now();
        let mut v = vec![];
        while !stop.load(Ordering::Relaxed) {
            if let Some(k) = rss_kib(pid) {
                v.push((t0.elapsed().as_secs_f64(), k));
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        v
    })
}

/// The `p` quantile of sorted values (nearest rank; NaN when empty).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// One request of a load phase: when it finished (s from the phase's
/// start), its latency from the scheduled time (ms), and whether it was
/// stored.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub done_s: f64,
    pub latency_ms: f64,
    pub ok: bool,
}

/// Cuts samples into windows of `window_s`.
pub fn windows(
    samples: &[Sample],
    rss: &[(f64, u64)],
    batch: usize,
    seconds: f64,
    window_s: f64,
) -> Vec<Window> {
    let n = (seconds / window_s).ceil().max(1.0) as usize;
    (0..n)
        .map(|i| {
            let (from, to) = (i as f64 * window_s, (i + 1) as f64 * window_s);
            let in_window: Vec<&Sample> = samples
                .iter()
                .filter(|s| s.done_s >= from && s.done_s < to)
                .collect();
            let mut lat: Vec<f64> = in_window.iter().map(|s| s.latency_ms).collect();
            lat.sort_by(f64::total_cmp);
            let ok = in_window.iter().filter(|s| s.ok).count();
            let failed = in_window.len() - ok;
            let rss_kib = rss
                .iter()
                .take_while(|r| r.0 < to)
                .last()
                .map_or(0, |r| r.1);
            Window {
                t_s: to,
                events_per_s: (ok * batch) as f64 / window_s,
                p50_ms: percentile(&lat, 0.5),
                p95_ms: percentile(&lat, 0.95),
                p99_ms: percentile(&lat, 0.99),
                max_ms: lat.last().copied().unwrap_or(f64::NAN),
                failed: failed as u64,
                rss_mib: rss_kib as f64 / 1024.0,
            }
        })
        .collect()
}

/// Writes `soak.csv` and `soak.svg` into `dir`.
pub fn write(dir: &Path, w: &[Window], title: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut csv = String::from("t_s,events_per_s,p50_ms,p95_ms,p99_ms,max_ms,failed,rss_mib\n");
    for x in w {
        let _ = writeln!(
            csv,
            "{:.0},{:.0},{:.2},{:.2},{:.2},{:.2},{},{:.1}",
            x.t_s, x.events_per_s, x.p50_ms, x.p95_ms, x.p99_ms, x.max_ms, x.failed, x.rss_mib
        );
    }
    std::fs::write(dir.join("soak.csv"), csv)?;
    std::fs::write(dir.join("soak.svg"), svg(w, title))?;
    Ok(())
}

type Series<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

/// One panel: axes, ticks, a legend and polylines.
fn panel(out: &mut String, top: f64, y_label: &str, series: &[Series<'_>], x_max: f64) {
    let (left, width, height) = (70.0, 820.0, 220.0);
    let y_max = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.1;
    let x = |v: f64| left + v / x_max.max(1e-9) * width;
    let y = |v: f64| top + height - v / y_max * height;
    let _ = write!(
        out,
        r##"<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" stroke="#999"/>"##
    );
    for i in 0..=4 {
        let v = y_max * f64::from(i) / 4.0;
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" font-size="11" text-anchor="end">{v:.1}</text><line x1="{left}" x2="{}" y1="{2}" y2="{2}" stroke="#eee"/>"##,
            left - 6.0,
            y(v) + 4.0,
            left + width,
        );
    }
    for i in 0..=10 {
        let v = x_max * f64::from(i) / 10.0;
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" font-size="11" text-anchor="middle">{v:.0}</text>"##,
            x(v),
            top + height + 14.0
        );
    }
    let _ = write!(
        out,
        r##"<text x="14" y="{}" font-size="12" transform="rotate(-90 14 {0})" text-anchor="middle">{y_label}</text>"##,
        top + height / 2.0
    );
    for (k, (name, color, pts)) in series.iter().enumerate() {
        let path: Vec<String> = pts
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|p| format!("{:.1},{:.1}", x(p.0), y(p.1)))
            .collect();
        let _ = write!(
            out,
            r##"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/><text x="{}" y="{}" font-size="12" fill="{color}">{name}</text>"##,
            path.join(" "),
            left + 10.0 + 110.0 * k as f64,
            top + 16.0
        );
    }
}

fn svg(w: &[Window], title: &str) -> String {
    let x_max = w.last().map_or(1.0, |x| x.t_s);
    let pts = |f: fn(&Window) -> f64| w.iter().map(|x| (x.t_s, f(x))).collect::<Vec<_>>();
    let mut out = String::from(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="920" height="600" font-family="sans-serif"><rect width="920" height="600" fill="white"/>"##,
    );
    let _ = write!(
        out,
        r##"<text x="460" y="22" font-size="14" text-anchor="middle">{title}</text>"##
    );
    panel(
        &mut out,
        40.0,
        "latency, ms",
        &[
            ("p50", "#1f77b4", pts(|x| x.p50_ms)),
            ("p95", "#ff7f0e", pts(|x| x.p95_ms)),
            ("p99", "#d62728", pts(|x| x.p99_ms)),
        ],
        x_max,
    );
    panel(
        &mut out,
        320.0,
        "MiB / k events/s",
        &[
            ("server RSS, MiB", "#2ca02c", pts(|x| x.rss_mib)),
            ("k events/s", "#7f7f7f", pts(|x| x.events_per_s / 1000.0)),
        ],
        x_max,
    );
    let _ = write!(
        out,
        r##"<text x="480" y="590" font-size="12" text-anchor="middle">seconds</text></svg>"##
    );
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn windows_cut_by_time_and_count_failures() {
        let samples = [
            (0.5, 10.0, true),
            (1.5, 20.0, true),
            (9.9, 30.0, false),
            (10.1, 40.0, true),
        ]
        .map(|(done_s, latency_ms, ok)| Sample {
            done_s,
            latency_ms,
            ok,
        });
        let rss = [(0.0, 1024), (12.0, 2048)];
        let w = windows(&samples, &rss, 100, 20.0, 10.0);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].failed, 1);
        assert!((w[0].events_per_s - 20.0).abs() < 1e-9);
        assert!((w[0].p50_ms - 20.0).abs() < 1e-9 && (w[0].max_ms - 30.0).abs() < 1e-9);
        assert!((w[0].rss_mib - 1.0).abs() < 1e-9 && (w[1].rss_mib - 2.0).abs() < 1e-9);
        let svg = svg(&w, "t");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>") && svg.contains("polyline"));
    }

    #[test]
    fn our_own_resident_memory_is_readable() {
        assert!(rss_kib(std::process::id()).unwrap() > 0);
    }
}
