//! `safelane cloudpose`: the real cloudpose drive (iPhone X on a dashboard,
//! BMW M235i CAN bus as reference) through the phone pipeline.
//!
//! The data is evaluation material kept outside the repository; this command
//! reads it where it lies and says so when it is absent.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use safelane_core::{
    GpsFix, ImuSample, OrientationState, Pipeline, PipelineConfig, STANDARD_GRAVITY_MPS2,
};

struct Table {
    columns: HashMap<String, usize>,
    rows: Vec<csv::StringRecord>,
    name: String,
}

impl Table {
    fn read(path: &Path) -> anyhow::Result<Self> {
        let mut r = csv::Reader::from_path(path).with_context(|| format!("{}", path.display()))?;
        let columns = r
            .headers()
            .with_context(|| format!("{}:1", path.display()))?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_string(), i))
            .collect();
        let mut rows = Vec::new();
        for (i, rec) in r.records().enumerate() {
            rows.push(rec.with_context(|| format!("{}:{}", path.display(), i + 2))?);
        }
        Ok(Self {
            columns,
            rows,
            name: path.display().to_string(),
        })
    }

    fn col(&self, name: &str) -> anyhow::Result<usize> {
        self.columns
            .get(name)
            .copied()
            .with_context(|| format!("{}: no column `{name}`", self.name))
    }

    fn num(&self, row: usize, col: usize) -> anyhow::Result<f64> {
        let cell = self.rows[row].get(col).unwrap_or("");
        cell.trim()
            .parse()
            .with_context(|| format!("{}:{}: `{cell}` is not a number", self.name, row + 2))
    }

    /// Wall-clock seconds of the day from `YYYY-MM-DD hh:mm:ss.fff`.
    fn seconds_of_day(&self, row: usize, col: usize) -> anyhow::Result<f64> {
        let cell = self.rows[row].get(col).unwrap_or("");
        let time = cell.split(' ').nth(1).unwrap_or("");
        let mut parts = time.split(':');
        let mut next = || parts.next().and_then(|p| p.parse::<f64>().ok());
        match (next(), next(), next()) {
            (Some(h), Some(m), Some(s)) => Ok(h * 3600.0 + m * 60.0 + s),
            _ => bail!("{}:{}: `{cell}` is not a date and time", self.name, row + 2),
        }
    }
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// Linear interpolation of (t, v) pairs sorted by t.
fn interp(track: &[(f64, f64)], t: f64) -> Option<f64> {
    let i = track.partition_point(|p| p.0 < t);
    if i == 0 || i >= track.len() {
        return None;
    }
    let (t0, v0) = track[i - 1];
    let (t1, v1) = track[i];
    Some(v0 + (v1 - v0) * (t - t0) / (t1 - t0).max(1e-9))
}

pub fn run(data: &Path) -> anyhow::Result<()> {
    let phone_path = data.join("dataset1_phone.csv");
    let car_path = data.join("dataset1_car.csv");
    if !phone_path.exists() || !car_path.exists() {
        say!(
            "skipped: cloudpose data not found in {} (it is evaluation data kept outside the repository)",
            data.display()
        )?;
        return Ok(());
    }
    let phone = Table::read(&phone_path)?;
    let car = Table::read(&car_path)?;

    let c_wall = phone.col("loggingTime(txt)")?;
    let c_t = phone.col("accelerometerTimestamp_sinceReboot(s)")?;
    let c_a = [
        phone.col("accelerometerAccelerationX(G)")?,
        phone.col("accelerometerAccelerationY(G)")?,
        phone.col("accelerometerAccelerationZ(G)")?,
    ];
    let c_w = [
        phone.col("gyroRotationX(rad/s)")?,
        phone.col("gyroRotationY(rad/s)")?,
        phone.col("gyroRotationZ(rad/s)")?,
    ];
    let c_fix = phone.col("locationTimestamp_since1970(s)")?;
    let c_lat = phone.col("locationLatitude(WGS84)")?;
    let c_lon = phone.col("locationLongitude(WGS84)")?;
    let c_speed = phone.col("locationSpeed(m/s)")?;
    let c_course = phone.col("locationCourse(°)")?;
    let c_acc = phone.col("locationHorizontalAccuracy(m)")?;

    let t0 = phone.num(0, c_t)?;
    let wall0 = phone.seconds_of_day(0, c_wall)?;
    let mut p = Pipeline::new(PipelineConfig::car())?;
    let mut last_fix = f64::NAN;
    let mut out: Vec<(f64, [f32; 3], OrientationState)> = Vec::new();
    let mut gps_track: Vec<(f64, f64, f64)> = Vec::new(); // (wall, speed, course)
    let mut first_lock = None;
    let mut events = Vec::new();
    for row in 0..phone.rows.len() {
        let t = phone.num(row, c_t)? - t0;
        // Sensor clock and wall clock run together; the sensor clock is the
        // monotonic one, the wall clock aligns with the CAN log.
        let wall = wall0 + t;
        let fix_t = phone.num(row, c_fix)?;
        // SensorLog repeats the last fix on every row; a new fix has a new timestamp.
        if fix_t.to_bits() != last_fix.to_bits() {
            last_fix = fix_t;
            let speed = phone.num(row, c_speed)?;
            let course = phone.num(row, c_course)?;
            let fix = GpsFix {
                t_s: t,
                lat_deg: phone.num(row, c_lat)?,
                lon_deg: phone.num(row, c_lon)?,
                // iOS reports -1 for "invalid"; the core drops such fields.
                speed_mps: Some(speed as f32),
                bearing_deg: Some(course as f32),
                accuracy_m: Some(phone.num(row, c_acc)? as f32),
            };
            let _ = p.push_gps(&fix);
            if speed >= 0.0 && course >= 0.0 {
                gps_track.push((wall, speed, course));
            }
        }
        // iOS: acceleration in g, opposite sign to Android's specific force.
        let accel_mps2: [f32; 3] = [0, 1, 2].map(|i| {
            (-phone.num(row, c_a[i]).unwrap_or(f64::NAN) * f64::from(STANDARD_GRAVITY_MPS2)) as f32
        });
        let gyro_rps: [f32; 3] =
            [0, 1, 2].map(|i| phone.num(row, c_w[i]).unwrap_or(f64::NAN) as f32);
        if let Ok(s) = p.push_imu(&ImuSample {
            t_s: t,
            accel_mps2,
            gyro_rps: Some(gyro_rps),
        }) {
            if s.orientation == OrientationState::Locked {
                first_lock.get_or_insert(t);
            }
            out.push((wall, s.accel_mps2, s.orientation));
        }
        while let Some(e) = p.pop_event() {
            events.push(e);
        }
    }
    p.finish();
    while let Some(e) = p.pop_event() {
        events.push(e);
    }

    let c_time = car.col("Time")?;
    let c_long = car.col("Acceleration Gs")?;
    let c_latg = car.col("Lateral Gs")?;
    let c_mph = car.col("Speed (MPH)")?;
    let mut can_long = Vec::new();
    let mut can_lat = Vec::new();
    let mut can_speed = Vec::new();
    for row in 0..car.rows.len() {
        let t = car.seconds_of_day(row, c_time)?;
        let g = f64::from(STANDARD_GRAVITY_MPS2);
        can_long.push((t, car.num(row, c_long)? * g));
        can_lat.push((t, car.num(row, c_latg)? * g));
        can_speed.push((t, car.num(row, c_mph)? * 0.44704));
    }

    // The CAN lateral sign convention, from the data: GPS course rate x speed
    // is the lateral acceleration positive to the right (course is clockwise).
    let mut right_gps = Vec::new();
    let mut right_can = Vec::new();
    for w in gps_track.windows(2) {
        let (t0, v0, c0) = w[0];
        let (t1, v1, c1) = w[1];
        let dt = t1 - t0;
        if !(0.5..=1.5).contains(&dt) || v0 < 3.0 {
            continue;
        }
        let d = (c1 - c0 + 540.0).rem_euclid(360.0) - 180.0;
        if let Some(can) = interp(&can_lat, 0.5 * (t0 + t1)) {
            right_gps.push(0.5 * (v0 + v1) * d.to_radians() / dt);
            right_can.push(can);
        }
    }
    let can_lat_vs_right = pearson(&right_gps, &right_can);
    let can_lat_sign = if can_lat_vs_right >= 0.0 { -1.0 } else { 1.0 }; // to "positive left"

    let locked: Vec<_> = out
        .iter()
        .filter(|o| o.2 == OrientationState::Locked)
        .collect();
    // Correlations at a lag, the vehicle-frame output turned by `yaw_rad`
    // about the vertical (positive to the left).
    let corr_turned = |lag_s: f64, yaw_rad: f64| {
        let (sin, cos) = yaw_rad.sin_cos();
        let (mut px, mut py, mut cx, mut cy) = (vec![], vec![], vec![], vec![]);
        for (wall, a, _) in &locked {
            if let (Some(l), Some(y)) = (
                interp(&can_long, wall + lag_s),
                interp(&can_lat, wall + lag_s),
            ) {
                let (x0, y0) = (f64::from(a[0]), f64::from(a[1]));
                px.push(cos * x0 + sin * y0);
                py.push(-sin * x0 + cos * y0);
                cx.push(l);
                cy.push(can_lat_sign * y);
            }
        }
        (pearson(&px, &cx), pearson(&py, &cy), px.len())
    };
    let corr_at = |lag_s: f64| corr_turned(lag_s, 0.0);
    let (r_long, r_lat, n) = corr_at(0.0);
    // The heading error the CAN bus implies: the turn of the output that
    // agrees with it best (a diagnosis; nothing is tuned on it).
    let mut yaw_fit = (0.0f64, r_long, r_lat);
    for k in -30..=30 {
        let d = f64::from(k);
        let (a, b, _) = corr_turned(0.0, d.to_radians());
        if a + b > yaw_fit.1 + yaw_fit.2 {
            yaw_fit = (d, a, b);
        }
    }
    let mut best = (0.0, r_long, r_lat);
    for k in -15..=15 {
        let lag = f64::from(k) * 0.1;
        let (a, b, _) = corr_at(lag);
        if a + b > best.1 + best.2 {
            best = (lag, a, b);
        }
    }
    // How late the GPS speed is: the shift of the CAN speed that fits the
    // fixes' speeds best (as the fixes are pushed: at their arrival).
    let speed_misfit = |shift_s: f64| {
        let (mut sum, mut n) = (0.0, 0usize);
        for &(wall, v, _) in &gps_track {
            if let Some(can) = interp(&can_speed, wall - shift_s) {
                sum += (v - can) * (v - can);
                n += 1;
            }
        }
        sum / n.max(1) as f64
    };
    let can_speed_lag_s = (0..=30)
        .map(|k| f64::from(k) * 0.1)
        .min_by(|a, b| speed_misfit(*a).total_cmp(&speed_misfit(*b)))
        .unwrap_or(0.0);
    let gps_mean = gps_track.iter().map(|g| g.1).sum::<f64>() / gps_track.len().max(1) as f64;
    let can_mean = can_speed.iter().map(|c| c.1).sum::<f64>() / can_speed.len().max(1) as f64;
    let o = p.orientation();
    let c = p.counts();
    say!(
        "cloudpose dataset 1: {} phone rows ({:.0} Hz), {} CAN rows",
        phone.rows.len(),
        p.sample_rate_hz(),
        car.rows.len()
    )?;
    say!(
        "  IMU accepted {} rejected {}; GPS fixes {} (invalid fields dropped {})",
        c.imu_accepted,
        c.imu_rejected(),
        c.gps_accepted,
        c.gps_fields_dropped
    )?;
    say!("  mean speed: GPS {gps_mean:.2} m/s, CAN {can_mean:.2} m/s")?;
    say!(
        "  GPS speed lag: {:.2} s measured by the pipeline against the accelerometer; {can_speed_lag_s:.1} s against the CAN speed (best-fitting shift)",
        p.gps_speed_lag_s()
    )?;
    say!(
        "  orientation: {} after {}, roll {:.1} pitch {:.1} yaw {:.1} deg, heading from {} (confidence {:.2}); phone moves {} (gyroscope tilt, gravity, yaw vs bearing: {:?})",
        o.state.as_str(),
        first_lock.map_or("never".into(), |t| format!("first lock at {t:.1} s")),
        o.roll_rad.to_degrees(),
        o.pitch_rad.to_degrees(),
        o.yaw_rad.to_degrees(),
        o.heading_source.as_str(),
        o.heading_confidence,
        p.phone_moves(),
        p.phone_moves_by_detector()
    )?;
    say!(
        "  CAN `Lateral Gs` vs GPS course-rate x speed (positive right): r = {can_lat_vs_right:.2} -> CAN lateral is positive to the {}",
        if can_lat_sign < 0.0 { "right" } else { "left" }
    )?;
    say!("  correlation over {n} locked samples (vehicle frame vs CAN, same sign convention):")?;
    say!(
        "    longitudinal r = {r_long:.3} (aim >= 0.80)   lateral r = {r_lat:.3} (aim >= 0.75)   at lag 0"
    )?;
    say!(
        "    longitudinal r = {:.3}              lateral r = {:.3}                at best lag {:+.1} s (CAN later than phone)",
        best.1,
        best.2,
        best.0
    )?;
    say!(
        "    longitudinal r = {:.3}              lateral r = {:.3}                with the output turned {:+.0} deg (the heading error the CAN bus implies)",
        yaw_fit.1,
        yaw_fit.2,
        yaw_fit.0
    )?;
    // Events, with what the CAN bus measured around them.
    let can_peak = |track: &[(f64, f64)], a: f64, b: f64| {
        track
            .iter()
            .filter(|(t, _)| *t >= a && *t <= b)
            .map(|(_, v)| *v)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
    };
    say!("  events: {} reported", events.len())?;
    for e in &events {
        let (a, b) = (wall0 + e.start_s - 0.5, wall0 + e.end_s + 0.5);
        let (long_lo, long_hi) = can_peak(&can_long, a, b);
        let (lat_lo, lat_hi) = can_peak(&can_lat, a, b);
        say!(
            "    {}\n      CAN around it: longitudinal {long_lo:.2}..{long_hi:.2}, lateral {lat_lo:.2}..{lat_hi:.2} m/s^2 (lateral as logged)",
            crate::analyze::describe_event(e)
        )?;
    }
    let sup: Vec<String> = safelane_core::Suppression::ALL
        .iter()
        .filter(|r| p.suppressed().get(**r) > 0)
        .map(|r| format!("{} {}", r.as_str(), p.suppressed().get(*r)))
        .collect();
    say!(
        "  candidates suppressed: {}",
        if sup.is_empty() {
            "none".to_string()
        } else {
            sup.join(", ")
        }
    )?;
    let (all_lo, all_hi) = can_peak(&can_long, f64::NEG_INFINITY, f64::INFINITY);
    let (lat_lo, lat_hi) = can_peak(&can_lat, f64::NEG_INFINITY, f64::INFINITY);
    say!(
        "  CAN over the whole drive: longitudinal {all_lo:.2}..{all_hi:.2} m/s^2, lateral {lat_lo:.2}..{lat_hi:.2} m/s^2 (its sign as logged)"
    )?;
    Ok(())
}
