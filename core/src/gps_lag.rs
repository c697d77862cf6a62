//! How late a phone's GPS speed is.
//!
//! Phones smooth the speed and course they report: the real cloudpose
//! iPhone's speed follows the car's CAN speed 1.2 s late (best-fitting
//! shift over the drive), on top of the fix arriving 0.2 s after its own
//! timestamp. Paired with the integrated acceleration at the fix's time, a
//! lagging speed makes every braking look like a speed mismatch and its GPS
//! confirmation come a second late: on the simulator's `gps-lag` row (1.2 s)
//! the braking F1 fell to 0.67.
//!
//! The lag is measured against the accelerometer: over each interval between
//! fixes, the GPS speed change is compared with the integrated acceleration's
//! speed change over the same interval shifted back by each candidate lag
//! (0 to 3 s in quarter seconds); the candidate whose squared differences,
//! averaged over the last minutes, are least is the lag (refined between
//! its neighbours by a parabola). While the vehicle cruises every candidate
//! fits as well as the others; the speed changes tell them apart.

/// Candidate lags: `0, STEP, 2 STEP, ..` s.
pub const LAG_CANDIDATES: usize = 13;
/// Spacing of the candidate lags, s.
pub const LAG_STEP_S: f32 = 0.25;
/// The longest candidate lag, s.
pub const MAX_LAG_S: f32 = (LAG_CANDIDATES - 1) as f32 * LAG_STEP_S;
/// Memory of the misfits, s (the lag is the phone's: it barely changes).
const MEMORY_S: f32 = 300.0;
/// GPS speed change over one interval that makes it tell the lags apart, m/s.
const INFORMATIVE_DV_MPS: f32 = 1.0;
/// Informative intervals after which the least misfit's lag is taken.
const MIN_INFORMATIVE: u16 = 12;
/// Informative intervals after which a lag is taken early, if its misfit is
/// at most [`EARLY_CONTRAST`] times no lag's: a dozen speed changes take a
/// minute or two in town, and a braking before them is judged with no lag.
/// (Six with no contrast asked let a prompt pocket phone's early noise pass
/// for a lag: a false braking.)
const EARLY_INFORMATIVE: u16 = 6;
/// See [`EARLY_INFORMATIVE`].
const EARLY_CONTRAST: f32 = 0.3;

/// The estimate's state (fixed size).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GpsLag {
    /// Exponentially weighted mean squared misfit per candidate lag, (m/s)^2.
    misfit: [f32; LAG_CANDIDATES],
    /// Intervals seen so far (for a running mean until the memory is full).
    seen: f32,
    /// Intervals with a speed change of at least [`INFORMATIVE_DV_MPS`].
    informative: u16,
    lag_s: f32,
}

impl Default for GpsLag {
    fn default() -> Self {
        Self::new()
    }
}

impl GpsLag {
    /// No evidence: no lag.
    pub const fn new() -> Self {
        Self {
            misfit: [0.0; LAG_CANDIDATES],
            seen: 0.0,
            informative: 0,
            lag_s: 0.0,
        }
    }

    /// The lag, s (0 until enough speed changes were seen: a dozen, or six
    /// that fit one lag far better than none).
    pub fn lag_s(&self) -> f32 {
        self.lag_s
    }

    /// One interval of `dt_s` between two fixes: `dv_gps` the change of
    /// their speeds, `dv_imu[i]` the integrated acceleration's speed change
    /// over the interval shifted back by `i` x [`LAG_STEP_S`].
    pub fn observe(&mut self, dv_gps: f32, dv_imu: &[f32; LAG_CANDIDATES], dt_s: f32) {
        if !(dv_gps.is_finite() && dt_s > 0.0) || dv_imu.iter().any(|v| !v.is_finite()) {
            return;
        }
        self.seen += 1.0;
        let k = (dt_s / MEMORY_S).max(1.0 / self.seen);
        for (m, v) in self.misfit.iter_mut().zip(dv_imu) {
            let r = dv_gps - v;
            *m += k * (r * r - *m);
        }
        if dv_gps.abs() >= INFORMATIVE_DV_MPS {
            self.informative = self.informative.saturating_add(1);
        }
        if self.informative >= EARLY_INFORMATIVE {
            let (best_s, best_misfit) = self.best();
            if self.informative >= MIN_INFORMATIVE || best_misfit <= EARLY_CONTRAST * self.misfit[0]
            {
                self.lag_s = best_s;
            }
        }
    }

    /// The least misfit's lag, refined by the parabola through it and its
    /// neighbours, and that least misfit.
    fn best(&self) -> (f32, f32) {
        let m = &self.misfit;
        let i = (0..LAG_CANDIDATES)
            .min_by(|a, b| m[*a].total_cmp(&m[*b]))
            .unwrap_or(0);
        let shift = if i > 0 && i + 1 < LAG_CANDIDATES {
            let curve = m[i - 1] - 2.0 * m[i] + m[i + 1];
            if curve > 0.0 {
                (0.5 * (m[i - 1] - m[i + 1]) / curve).clamp(-0.5, 0.5)
            } else {
                0.0
            }
        } else {
            0.0
        };
        ((i as f32 + shift) * LAG_STEP_S, m[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A speed profile: cruise, brake at 3 m/s^2 for 3 s, cruise, speed up
    /// at 2.25 m/s^2 for 4 s back to 15 m/s, every 20 s.
    fn speed(t: f32) -> f32 {
        let c = t.rem_euclid(20.0);
        15.0 - 3.0 * (c.clamp(5.0, 8.0) - 5.0) + 2.25 * (c.clamp(10.0, 14.0) - 10.0)
    }

    fn run(true_lag_s: f32, seconds: u32) -> GpsLag {
        let mut est = GpsLag::new();
        for k in 3..seconds {
            let (t0, t1) = (k as f32 - 1.0, k as f32);
            let dv_gps = speed(t1 - true_lag_s) - speed(t0 - true_lag_s);
            let dv_imu = core::array::from_fn(|i| {
                let l = i as f32 * LAG_STEP_S;
                speed(t1 - l) - speed(t0 - l)
            });
            est.observe(dv_gps, &dv_imu, 1.0);
        }
        est
    }

    #[test]
    fn the_lag_is_found_from_the_speed_changes() {
        for true_lag_s in [0.0, 0.4, 1.2, 1.9, 2.2, 2.8] {
            let est = run(true_lag_s, 200);
            assert!(
                (est.lag_s() - true_lag_s).abs() < 0.15,
                "{true_lag_s}: {}",
                est.lag_s()
            );
        }
    }

    #[test]
    fn no_lag_is_taken_from_cruising_or_too_little_evidence() {
        let mut est = GpsLag::new();
        for _ in 0..100 {
            est.observe(0.05, &[0.0; LAG_CANDIDATES], 1.0);
        }
        assert!(est.lag_s() == 0.0);
        // One braking is not enough to go by.
        assert!(run(1.2, 10).lag_s() == 0.0);
        // Six speed changes are when they fit one lag far better than none,
        // not when they fit every lag about as well.
        assert!((run(1.2, 25).lag_s() - 1.2).abs() < 0.15);
        // Here 1 s fits best, but only half as well again as none.
        let mut est = GpsLag::new();
        let weak = |est: &mut GpsLag, n: u16| {
            for k in 0..n {
                let dv: f32 = if k % 2 == 0 { 1.5 } else { -1.5 };
                let dv_imu = core::array::from_fn(|i| dv * (0.9 - 0.01 * (i as f32 - 4.0).abs()));
                est.observe(dv, &dv_imu, 1.0);
            }
        };
        weak(&mut est, 8);
        assert!(est.lag_s() == 0.0);
        // A dozen are taken as they come.
        weak(&mut est, 4);
        assert!((est.lag_s() - 1.0).abs() < 0.01, "{}", est.lag_s());
        // Nonsense is ignored.
        let mut est = run(1.2, 200);
        est.observe(f32::NAN, &[0.0; LAG_CANDIDATES], 1.0);
        est.observe(1.0, &[f32::INFINITY; LAG_CANDIDATES], 1.0);
        assert!((est.lag_s() - 1.2).abs() < 0.15);
    }
}
