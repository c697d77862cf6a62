//! The driver's weekly report as a web page: score and trend, events per day
//! by kind (Chart.js, a maintained library, vendored in `assets/`), the list
//! of instances. Text is escaped; the report's data travels as JSON inside a
//! non-executed `<script type="application/json">`; scripts come only from
//! the server's own assets (the page's Content-Security-Policy allows nothing
//! else).

use safelane_wire::Kind;

use crate::report::DriverReport;

/// The vendored Chart.js build (see `assets/PROVENANCE.md`).
pub const CHART_JS: &str = include_str!("../assets/chart-4.6.1.umd.min.js");
/// Its file name under `/assets/`.
pub const CHART_JS_NAME: &str = "chart-4.6.1.umd.min.js";
/// The page's own script.
pub const REPORT_JS: &str = include_str!("../assets/report.js");
/// Its file name under `/assets/`.
pub const REPORT_JS_NAME: &str = "report.js";
/// The page's Content-Security-Policy.
pub const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:";

/// Colour of each kind in the charts (`Kind::ALL` order); a screenshot test
/// looks for them.
pub const KIND_COLORS: [&str; 6] = [
    "#d62728", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#1f77b4",
];
/// Colour of the score trend line.
pub const TREND_COLOR: &str = "#2ca02c";

/// The kind's label on the page.
pub fn kind_label(k: Kind) -> &'static str {
    match k {
        Kind::HarshBraking => "Harsh braking",
        Kind::HarshAcceleration => "Harsh acceleration",
        Kind::HarshCornering => "Harsh cornering",
        Kind::HarshLaneChange => "Harsh lane change",
        Kind::Crash => "Crash",
        Kind::Speeding => "Speeding",
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON safe inside a `<script>` element: no `<` can close it.
fn script_json(v: &serde_json::Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The weekly report page. `assets` is the URL prefix of the scripts
/// (`/assets/` when served, `assets/` for a folder of pages).
pub fn weekly_page(r: &DriverReport, assets: &str) -> String {
    let kinds: Vec<serde_json::Value> = Kind::ALL
        .iter()
        .zip(KIND_COLORS)
        .map(|(k, c)| serde_json::json!({ "key": k.as_str(), "label": kind_label(*k), "color": c }))
        .collect();
    let data = serde_json::json!({ "report": r, "kinds": kinds, "trend_color": TREND_COLOR });
    let s = &r.score;
    let previous = r.trend.iter().rev().nth(1).map(|t| t.score);
    let trend_text = match previous {
        Some(p) if s.value - p >= 0.05 => format!("up {:.1} from last week", s.value - p),
        Some(p) if p - s.value >= 0.05 => format!("down {:.1} from last week", p - s.value),
        Some(_) => "unchanged from last week".into(),
        None => String::new(),
    };
    let mut counts = String::new();
    for k in Kind::ALL {
        counts.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td></tr>\n",
            kind_label(k),
            r.totals.counts[&k],
            r.totals.severe[&k],
            r.totals.per_100km[&k],
            r.totals.per_hour[&k],
        ));
    }
    let mut rows = String::new();
    for i in &r.instances {
        let place = match (i.lat, i.lon) {
            (Some(a), Some(b)) => format!("{a:.5}, {b:.5}"),
            _ => "–".into(),
        };
        let speed = i.speed_kmh.map_or("–".into(), |v| format!("{v:.0} km/h"));
        let detail = match (&i.speeding, i.peak_mps2) {
            (Some(sp), _) => format!(
                "{:.0} km/h over {:.0} km/h ({})",
                sp.max_excess_kmh, sp.threshold_kmh, sp.threshold_source
            ),
            (None, Some(p)) => format!("peak {p:.1} m/s²"),
            _ => String::new(),
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&i.local_time),
            kind_label(i.kind),
            escape(&i.severity),
            place,
            speed,
            escape(&detail),
        ));
    }
    if r.instances_truncated {
        rows.push_str("<tr><td colspan=\"6\">… more events than listed</td></tr>\n");
    }
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{name}: safe-driving report {period}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }}
.sub {{ color: #666; margin-bottom: 16px; }}
.score {{ font-size: 48px; font-weight: 700; }}
.band {{ color: #666; }}
.insight {{ background: #f3f6fa; border-left: 4px solid #555; padding: 8px 12px; margin: 12px 0 20px; max-width: 860px; }}
.charts {{ display: flex; gap: 24px; flex-wrap: wrap; }}
table {{ border-collapse: collapse; margin: 12px 0; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; font-size: 14px; }}
</style>
</head>
<body>
<h1>{name} · week {period}</h1>
<div class="sub">{from} to {to} · {km:.1} km · {h:.1} h driven · {trips} trips</div>
<div><span class="score" id="score">{score:.0}</span> / 100 <span class="band">(90 % interval {low:.0}–{high:.0}, confidence {conf:.0} %) {trend}</span></div>
<div class="insight" id="insight">{insight}</div>
<div class="charts">
<figure><figcaption>Events per day by kind</figcaption><canvas id="events-by-day" width="640" height="320"></canvas></figure>
<figure><figcaption>Score by week</figcaption><canvas id="score-trend" width="420" height="320"></canvas></figure>
</div>
<h2>This week</h2>
<table id="counts"><thead><tr><th>Manoeuvre</th><th>Events</th><th>Severe</th><th>per 100 km</th><th>per hour</th></tr></thead>
<tbody>
{counts}</tbody></table>
<h2>Events</h2>
<table id="instances"><thead><tr><th>When</th><th>What</th><th>Severity</th><th>Where</th><th>Speed</th><th>Detail</th></tr></thead>
<tbody>
{rows}</tbody></table>
<script type="application/json" id="report-data">{data}</script>
<script src="{assets}{chart}"></script>
<script src="{assets}{report_js}"></script>
</body>
</html>
"#,
        name = escape(&r.driver_name),
        period = escape(&r.period),
        from = escape(&r.from_date),
        to = escape(&r.to_date),
        km = r.totals.distance_km,
        h = r.totals.driving_h,
        trips = r.totals.trips,
        score = s.value,
        low = s.low,
        high = s.high,
        conf = s.confidence * 100.0,
        trend = escape(&trend_text),
        insight = escape(&s.insight.message),
        data = script_json(&data),
        assets = escape(assets),
        chart = CHART_JS_NAME,
        report_js = REPORT_JS_NAME,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_script_breakouts() {
        assert_eq!(
            escape("<b>\"O'Neil\" & co</b>"),
            "&lt;b&gt;&quot;O&#39;Neil&quot; &amp; co&lt;/b&gt;"
        );
        let v = serde_json::json!({ "name": "</script><script>alert(1)</script>" });
        assert!(!script_json(&v).contains("</script"));
        let back: serde_json::Value = serde_json::from_str(&script_json(&v)).unwrap();
        assert_eq!(back, v);
    }
}
