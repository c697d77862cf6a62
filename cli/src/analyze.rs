//! `safelane analyze`: one trip through the phone pipeline.

use std::path::Path;

use anyhow::Context as _;
use safelane_core::{
    Event, FilterMode, Orientation, OrientationState, PingDrop, Pipeline, PipelineConfig,
    SpeedingEvent, Suppression,
};
use safelane_fixtures::eval::{delivery_inputs, replay_on_map};
use serde_json::json;

/// A map to match GPS fixes against (speeding).
#[derive(Debug)]
pub struct MapArg<'a> {
    /// GeoJSON file or tile folder.
    pub path: &'a Path,
    /// Hour of week for crowd thresholds (0 = Monday 00:00 local).
    pub hour_of_week: Option<u8>,
}

pub fn run(
    dir: &Path,
    cfg: PipelineConfig,
    as_json: bool,
    orientation: bool,
    map: Option<MapArg<'_>>,
    batched: bool,
) -> anyhow::Result<()> {
    let trip = safelane_trip::read_trip(dir)?;
    let inputs = if batched {
        delivery_inputs(&trip, 100)
    } else {
        trip.inputs()
    };
    let tile_bytes = match &map {
        Some(m) => safelane_map::store::load_map(m.path)
            .with_context(|| format!("loading the map {}", m.path.display()))?,
        None => Default::default(),
    };
    let tiles = safelane_map::store::parse_all(&tile_bytes)?;
    let mut p = Pipeline::new(cfg)?;
    let mut next_track_t = f64::NEG_INFINITY;
    let mut first_lock: Option<f64> = None;
    let mut locked_samples = 0u64;
    let mut kalman_samples = 0u64;
    let mut outputs = 0u64;
    let mut noise_sum = 0.0f64;
    let mut noise_n = 0u64;
    let mut last_noise_t = f64::NEG_INFINITY;
    let t0 = trip.imu.first().map_or(0.0, |s| s.t_s);
    let mut track: Vec<String> = Vec::new();
    let mut events: Vec<Event> = Vec::new();
    let mut speeding: Vec<SpeedingEvent> = Vec::new();
    let hour = map.as_ref().and_then(|m| m.hour_of_week);
    replay_on_map(&inputs, &mut p, &tiles, hour, |p, out, t| {
        while let Some(e) = p.pop_event() {
            events.push(e);
        }
        while let Some(e) = p.pop_speeding() {
            speeding.push(e);
        }
        if let Some(o) = out {
            outputs += 1;
            if t - last_noise_t >= 1.0 {
                last_noise_t = t;
                noise_sum += f64::from(p.noise_mps2());
                noise_n += 1;
            }
            if o.orientation == OrientationState::Locked {
                locked_samples += 1;
                first_lock.get_or_insert(t - t0);
            }
            if o.filter == FilterMode::Kalman {
                kalman_samples += 1;
            }
        }
        if orientation && t >= next_track_t {
            next_track_t = t.floor() + 1.0;
            let o = p.orientation();
            if as_json {
                track.push(format!(
                    "{}",
                    json!({
                        "type": "orientation", "t_s": t, "state": o.state.as_str(),
                        "roll_deg": o.roll_rad.to_degrees(), "pitch_deg": o.pitch_rad.to_degrees(),
                        "yaw_deg": o.yaw_rad.to_degrees(), "tilt_confidence": o.tilt_confidence,
                        "heading_confidence": o.heading_confidence, "heading_source": o.heading_source.as_str(),
                    })
                ));
            } else {
                track.push(format!("t={t:8.1}s {}", describe(&o)));
            }
        }
    });
    p.finish();
    while let Some(e) = p.pop_event() {
        events.push(e);
    }
    while let Some(e) = p.pop_speeding() {
        speeding.push(e);
    }
    for line in &track {
        say!("{line}")?;
    }
    // Harsh events and speeding in time order.
    let mut lines: Vec<(f64, String)> = Vec::new();
    for e in &events {
        lines.push((
            e.start_s,
            if as_json {
                event_json(e).to_string()
            } else {
                format!("event {}", describe_event(e))
            },
        ));
    }
    for e in &speeding {
        lines.push((
            e.start_s,
            if as_json {
                speeding_json(e).to_string()
            } else {
                format!("event {}", describe_speeding(e))
            },
        ));
    }
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (_, line) in &lines {
        say!("{line}")?;
    }
    let sp = p.speeding_counts();
    let ping_drops = PingDrop::ALL
        .iter()
        .map(|r| (r.as_str(), sp.get(*r)))
        .collect::<std::collections::BTreeMap<_, _>>();
    let c = p.counts();
    let o = p.orientation();
    let share = |n: u64| {
        if outputs > 0 {
            n as f64 / outputs as f64
        } else {
            0.0
        }
    };
    if as_json {
        say!(
            "{}",
            json!({
                "type": "summary",
                "trip": dir.display().to_string(),
                "duration_s": trip.duration_s(),
                "imu": { "accepted": c.imu_accepted, "non_finite": c.imu_non_finite,
                         "time_not_increasing": c.imu_time_not_increasing,
                         "time_jump": c.imu_time_jump,
                         "accel_out_of_range": c.imu_accel_out_of_range,
                         "gyro_out_of_range": c.imu_gyro_out_of_range, "gaps": c.imu_gaps,
                         "rate_hz": p.sample_rate_hz() },
                "gps": { "accepted": c.gps_accepted, "non_finite": c.gps_non_finite,
                         "time_not_increasing": c.gps_time_not_increasing,
                         "time_jump": c.gps_time_jump,
                         "position_out_of_range": c.gps_position_out_of_range,
                         "stale": c.gps_stale,
                         "fields_dropped": c.gps_fields_dropped,
                         "speed_lag_s": p.gps_speed_lag_s() },
                "orientation": { "state": o.state.as_str(), "roll_deg": o.roll_rad.to_degrees(),
                                 "pitch_deg": o.pitch_rad.to_degrees(), "yaw_deg": o.yaw_rad.to_degrees(),
                                 "tilt_confidence": o.tilt_confidence, "heading_confidence": o.heading_confidence,
                                 "heading_source": o.heading_source.as_str(), "first_lock_s": first_lock,
                                 "locked_share": share(locked_samples), "phone_moves": p.phone_moves(),
                                 "phone_moves_by_detector": p.phone_moves_by_detector() },
                "filter": { "kalman_share": share(kalman_samples), "mean_noise_mps2": noise_sum / noise_n.max(1) as f64 },
                "events": events.len() + speeding.len(),
                "speeding": { "map": map.as_ref().map(|m| m.path.display().to_string()), "tiles": tiles.len(),
                              "clean_pings": sp.clean, "dropped_pings": ping_drops },
                "suppressed": Suppression::ALL.iter().map(|r| (r.as_str(), p.suppressed().get(*r))).collect::<std::collections::BTreeMap<_, _>>(),
            })
        )?;
    } else {
        say!("trip {}: {:.1} s", dir.display(), trip.duration_s())?;
        say!(
            "IMU: {} accepted at {:.0} Hz; rejected {} (non-finite {}, time not increasing {}, time jump {}, accel out of range {}, gyro out of range {}); gaps {}",
            c.imu_accepted,
            p.sample_rate_hz(),
            c.imu_rejected(),
            c.imu_non_finite,
            c.imu_time_not_increasing,
            c.imu_time_jump,
            c.imu_accel_out_of_range,
            c.imu_gyro_out_of_range,
            c.imu_gaps
        )?;
        if c.gps_accepted + c.gps_rejected() == 0 {
            say!("GPS: none (accelerometer and gyroscope evidence only)")?;
        } else {
            say!(
                "GPS: {} accepted; rejected {} (non-finite {}, time not increasing {}, time jump {}, position out of range {}, stale repeats {}); invalid fields dropped {}; speed {:.2} s behind the fixes' times (measured against the accelerometer)",
                c.gps_accepted,
                c.gps_rejected(),
                c.gps_non_finite,
                c.gps_time_not_increasing,
                c.gps_time_jump,
                c.gps_position_out_of_range,
                c.gps_stale,
                c.gps_fields_dropped,
                p.gps_speed_lag_s()
            )?;
        }
        say!("orientation: {}", describe(&o))?;
        match first_lock {
            Some(t) => say!(
                "  first locked after {t:.1} s; locked {:.0} % of samples; phone moved {} times (by gyroscope tilt, gravity, yaw vs bearing: {:?})",
                100.0 * share(locked_samples),
                p.phone_moves(),
                p.phone_moves_by_detector()
            ),
            None => say!("  never locked: no vehicle-frame events can be trusted on this trip"),
        }?;
        say!(
            "filter: Kalman (noisy) {:.0} % of samples, low-pass {:.0} %; mean window noise {:.2} m/s^2",
            100.0 * share(kalman_samples),
            100.0 * (1.0 - share(kalman_samples)),
            noise_sum / noise_n.max(1) as f64
        )?;
    }
    let sup: Vec<String> = Suppression::ALL
        .iter()
        .filter(|r| p.suppressed().get(**r) > 0)
        .map(|r| format!("{} {}", r.as_str(), p.suppressed().get(*r)))
        .collect();
    if !as_json {
        if map.is_some() {
            let drops: Vec<String> = ping_drops
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            say!(
                "speeding: {} violations; {} map tiles; pings clean {}, dropped: {}",
                speeding.len(),
                tiles.len(),
                sp.clean,
                if drops.is_empty() {
                    "none".to_string()
                } else {
                    drops.join(", ")
                }
            )?;
        } else {
            say!("speeding: not checked (no --map given: a limit is never assumed)")?;
        }
        say!(
            "events: {} reported; candidates suppressed: {}",
            events.len() + speeding.len(),
            if sup.is_empty() {
                "none".to_string()
            } else {
                sup.join(", ")
            }
        )?;
    }
    Ok(())
}

/// One line: state, Euler angles, confidences and the heading's evidence.
fn describe(o: &Orientation) -> String {
    format!(
        "{:<10} roll {:7.1} pitch {:6.1} yaw {:7.1} deg, tilt confidence {:.2}, heading confidence {:.2} ({})",
        o.state.as_str(),
        o.roll_rad.to_degrees(),
        o.pitch_rad.to_degrees(),
        o.yaw_rad.to_degrees(),
        o.tilt_confidence,
        o.heading_confidence,
        o.heading_source.as_str()
    )
}

/// One line: kind, side, interval, peak, severity, confidence, speed, lateness.
pub fn describe_event(e: &Event) -> String {
    format!(
        "{:<19} {:<5} {:8.1}-{:<8.1} peak {:5.2} m/s^2 {:<8} confidence {:.2}{}{}",
        e.kind.as_str(),
        e.direction.map_or("", |d| d.as_str()),
        e.start_s,
        e.end_s,
        e.peak_mps2,
        e.severity.as_str(),
        e.confidence,
        e.speed_at_start_mps
            .map_or(String::new(), |v| format!(", {v:.1} m/s at start")),
        if e.late {
            ", decided late (before the heading was known)"
        } else {
            ""
        }
    )
}

/// One line for a speeding violation.
pub fn describe_speeding(e: &SpeedingEvent) -> String {
    format!(
        "{:<19} {:<5} {:8.1}-{:<8.1} {:.0} s over {:.0} km/h ({}): max {:.0} km/h (+{:.1}), mean excess {:.1} km/h, {:.0} m",
        "speeding",
        "",
        e.start_s,
        e.end_s,
        e.duration_s(),
        e.threshold_mps * 3.6,
        e.source.as_str(),
        e.max_speed_mps * 3.6,
        e.max_excess_mps * 3.6,
        e.mean_excess_mps * 3.6,
        e.distance_m
    )
}

/// A speeding violation as a JSON object (stable wire names).
pub fn speeding_json(e: &SpeedingEvent) -> serde_json::Value {
    json!({
        "type": "event",
        "kind": "speeding",
        "start_s": e.start_s,
        "end_s": e.end_s,
        "duration_s": e.duration_s(),
        "threshold_kmh": e.threshold_mps * 3.6,
        "threshold_source": e.source.as_str(),
        "max_speed_kmh": e.max_speed_mps * 3.6,
        "max_excess_kmh": e.max_excess_mps * 3.6,
        "mean_excess_kmh": e.mean_excess_mps * 3.6,
        "distance_m": e.distance_m,
        "segment_id": e.segment_id,
        "lat": e.start_position.0,
        "lon": e.start_position.1,
        "decided_s": e.decided_s,
    })
}

/// One event as a JSON object (the stable wire names).
pub fn event_json(e: &Event) -> serde_json::Value {
    json!({
        "type": "event",
        "kind": e.kind.as_str(),
        "direction": e.direction.map(|d| d.as_str()),
        "start_s": e.start_s,
        "end_s": e.end_s,
        "peak_mps2": e.peak_mps2,
        "severity": e.severity.as_str(),
        "confidence": e.confidence,
        "speed_at_start_mps": e.speed_at_start_mps,
        "lat": e.position_at_peak.map(|p| p.0),
        "lon": e.position_at_peak.map(|p| p.1),
        "decided_s": e.decided_s,
        "late": e.late,
    })
}
