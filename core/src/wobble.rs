//! A hand's or a pocket's swing, followed by the gyroscope.
//!
//! The orientation estimator's tilt is gravity averaged over quiet blocks
//! (tens of seconds): the phone's *mean* place in the vehicle. A phone held
//! in the hand or carried in a pocket swings about that mean by a few degrees
//! at a fraction of a hertz, too fast for the average and too slow to be
//! filtered as noise: every degree leaks 0.17 m/s^2 of gravity into the
//! horizontal axes. The gyroscope sees the swing.
//!
//! The tracker carries the direction of gravity ("up") in the estimator's
//! vehicle frame, turned by every detector step's rotation (`du/dt = -w x u`)
//! and drawn back to the estimator's up with a time constant of a few seconds
//! ([`crate::OrientationConfig::wobble_tau_s`]), so that it stays the swing
//! *about* the mean, which the estimator owns. The pipeline turns its
//! rotation by the smallest rotation `theta` that takes the tracked up to the
//! vehicle's, `M = Exp(theta) R`, and turns the samples it hands to the
//! estimator back to the phone's mean place (`R^T M`), so the gravity average
//! is not shaken by the swing either.
//!
//! A vehicle's turn is a rotation about gravity and leaves the tracked up
//! where it is, whatever the estimator's tilt error, the body's roll or the
//! road's grade. (Integrating the rates about the estimated horizontal axes
//! instead turns the yaw into a swing through those errors: a 1.5 deg tilt
//! error makes a 90 deg turn a 2.4 deg swing. Measured on the simulator's
//! hand-held phone, tilt p95: 8.1 deg that way with a regression of the leak
//! on the yaw rate, 3.1 deg without one, 2.7 deg tracking up, 2.3 deg with
//! the estimator's samples turned back too.) The gyroscope's bias is the
//! mean rate across the tracked up over the last minute: a swing has no
//! mean.
//!
//! The vehicle's body roll and pitch (a car leans a degree or two in a hard
//! corner) turn gravity in the phone too and would be followed like a swing;
//! a motorcycle's lean is not a swing at all (20-30 deg in a corner, with
//! the specific force along the leaning bike's up), so on a motorcycle the
//! pipeline starts the tracker again while the bike turns (its yaw rate over
//! the last second beyond 0.1 rad/s: a rider's own sway stays under it),
//! keeping the sway's measured size, and it tracks again 2 s after the
//! turn. Taking the lean out of the rate instead (`atan(v yaw / g)`) made
//! the rider's yaw sway a 9 deg lean at 15 m/s (docs/results.md,
//! experiments). A phone in a mount does not swing: the correction
//! applies only while the swing band (what changes between 0.3 s and 1 s)
//! has carried more than [`crate::OrientationConfig::wobble_min_deg`] (root
//! mean square) over the last minute. Measured: 0.2-0.45 deg for the
//! simulator's mounts (dashboard, cup holder), up to 0.77 deg on the real
//! cloudpose drive (a mounted iPhone: its body's pitch and roll), 0.86-0.94
//! deg for the simulator's trouser pocket and 1.9-2.1 deg for a hand-held
//! phone; the default 0.8 deg sits between them with a thin margin on both
//! sides.

use crate::math::{Mat3, Vec3, cross, dot};

/// Prior weight of "no bias", in seconds of evidence: the estimate starts
/// from zero instead of from the first few steps' swing.
const PRIOR_S: f32 = 10.0;
/// Sine of the largest swing, 15 deg: beyond it the phone is being moved,
/// and the estimator's move detectors take over.
const MAX_SWING_SIN: f32 = 0.258_82;
/// After a rotation beyond the largest swing, the swing is neither tracked
/// nor applied for this long, s: the phone was picked up or re-mounted, and
/// the estimator's move detectors must see its samples as they are.
const HOLD_S: f32 = 10.0;
/// Time constant that separates a swing (faster) from slow rotations (the
/// body's roll through a corner, a grade), for measuring the swing's size, s.
const SWING_SLOW_S: f32 = 1.0;
/// Time constant below which a rotation is vibration (a mount's rattle,
/// 3 Hz and up), not a swing, for measuring the swing's size, s.
const SWING_FAST_S: f32 = 0.3;
/// Memory of the swing's measured size, s.
const SWING_MEMORY_S: f32 = 60.0;
/// Seconds of swing measured before its size counts.
const SWING_MIN_EVIDENCE_S: f32 = 10.0;
/// Turn from the mean place beyond which a phone is not steady, rad (3 deg:
/// a car's body pitches 1.7 deg in a 5 m/s^2 braking).
const STEADY_MAX_TURN_RAD: f32 = 0.052;
/// Hold after a motorcycle's turn, s: its lean's last degrees unwind (1 s:
/// the jacket pocket's yaw p95 4.96 deg instead of 4.71, 10 seeds; 3 s:
/// tilt 2.01 deg over the suite instead of 2.00).
const TURN_HOLD_S: f32 = 2.0;
/// Rotation rate beyond which a step is left out of the bias, rad/s.
const MAX_FIT_RATE_RPS: f32 = 1.0;

/// The tracker's state (configuration lives in
/// [`crate::OrientationConfig`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WobbleTracker {
    /// Gravity's direction (up) in the estimator's vehicle frame.
    up: Vec3,
    /// The swing: rotation taking `up` to the vehicle's up, about the
    /// vehicle's forward and left axes, rad.
    theta_rad: [f32; 2],
    /// `theta` over the last second, rad: what is slower is not a swing.
    theta_slow_rad: [f32; 2],
    /// `theta` over the last 0.3 s, rad: what is faster is vibration.
    theta_fast_rad: [f32; 2],
    /// Mean square of `theta`'s swing band over the last minute, rad^2.
    swing_sq: f32,
    /// The weight `swing_sq` holds (it starts empty after a reset).
    swing_weight: f32,
    /// Exponentially weighted mean of the rate across `up`, and the weight
    /// it holds (the gyroscope's bias, rad/s).
    bias_sum: Vec3,
    bias_weight: f32,
    /// `1 / (bias_weight + prior)`, followed step by step.
    inv_weight: f32,
    /// Seconds left of the hold after a rotation too large for a swing.
    hold_s: f32,
}

impl Default for WobbleTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl WobbleTracker {
    /// No swing, no evidence.
    pub const fn new() -> Self {
        Self {
            up: [0.0, 0.0, 1.0],
            theta_rad: [0.0; 2],
            theta_slow_rad: [0.0; 2],
            theta_fast_rad: [0.0; 2],
            swing_sq: 0.0,
            swing_weight: 0.0,
            bias_sum: [0.0; 3],
            bias_weight: 0.0,
            inv_weight: 0.0,
            hold_s: 0.0,
        }
    }

    /// Starts the tracked up again from the estimator's while a motorcycle
    /// turns (its lean is no swing), keeping the swing's measured size and
    /// the bias: the tracker steps and applies again 2 s (`TURN_HOLD_S`) after
    /// the turn, not after 10 s of fresh evidence.
    pub fn restart_after_turn(&mut self) {
        self.restart_held(self.hold_s.max(TURN_HOLD_S), true);
    }

    /// Starts the tracked up again from the estimator's, held for `hold_s`;
    /// the bias is the phone's and stays, and so does the swing's measured
    /// size with `keep_swing`.
    fn restart_held(&mut self, hold_s: f32, keep_swing: bool) {
        let (swing_sq, swing_weight) = if keep_swing {
            (self.swing_sq, self.swing_weight)
        } else {
            (0.0, 0.0)
        };
        *self = Self {
            swing_sq,
            swing_weight,
            bias_sum: self.bias_sum,
            bias_weight: self.bias_weight,
            inv_weight: self.inv_weight,
            hold_s,
            ..Self::new()
        };
    }

    /// Forgets the swing and the bias (the frame they were measured in changed).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// The current swing about the vehicle's forward and left axes, rad.
    pub fn theta_rad(&self) -> [f32; 2] {
        self.theta_rad
    }

    /// Root mean square of the swing band over the last minute, rad (zero
    /// before 10 s of evidence, and while held after a rotation too large
    /// for a swing).
    pub fn swing_rad(&self) -> f32 {
        if self.swing_measured() {
            libm::sqrtf(self.swing_sq / self.swing_weight)
        } else {
            0.0
        }
    }

    /// Whether the swing's size is known: no hold, and at least
    /// [`SWING_MIN_EVIDENCE_S`] of it measured.
    #[inline]
    fn swing_measured(&self) -> bool {
        self.hold_s <= 0.0 && self.swing_weight * SWING_MEMORY_S >= SWING_MIN_EVIDENCE_S
    }

    /// Whether [`Self::swing_rad`] exceeds `min_rad` (without its root and
    /// division: asked at every step).
    #[inline]
    pub fn swings_beyond(&self, min_rad: f32) -> bool {
        self.swing_measured() && self.swing_sq > min_rad * min_rad * self.swing_weight
    }

    /// Whether the phone has been measured steady: at least 10 s of
    /// evidence, no hold, a swing band of at most `max_rad` (RMS over the
    /// last minute), and not turned now by more than 3 deg
    /// from its mean place (a hand taking the phone turns it slowly at first).
    #[inline]
    pub fn is_steady(&self, max_rad: f32) -> bool {
        let [a, b] = self.theta_rad;
        self.swing_measured()
            && self.swing_sq <= max_rad * max_rad * self.swing_weight
            && a * a + b * b <= STEADY_MAX_TURN_RAD * STEADY_MAX_TURN_RAD
    }

    /// Advances by one step: `rate_rps` is the mean rotation rate over the
    /// step in the estimator's vehicle frame, `dt_s` its length;
    /// `inv_tau_s` is the inverse of the time constant that draws the
    /// tracked up back to the estimator's, `inv_bias_tau_s` that of the bias
    /// estimate's memory (inverses, so a step divides once).
    pub fn step(&mut self, rate_rps: Vec3, dt_s: f32, inv_tau_s: f32, inv_bias_tau_s: f32) {
        if self.hold_s > 0.0 {
            self.hold_s -= dt_s;
            return;
        }
        // The rate across up: a turn is about up, the swing and the bias
        // are across it.
        let along = dot(rate_rps, self.up);
        let across: Vec3 = core::array::from_fn(|i| rate_rps[i] - along * self.up[i]);
        if dot(across, across) < MAX_FIT_RATE_RPS * MAX_FIT_RATE_RPS {
            let k = (dt_s * inv_bias_tau_s).min(1.0);
            self.bias_weight += k * (1.0 - self.bias_weight);
            for (b, a) in self.bias_sum.iter_mut().zip(across) {
                *b += k * (a - *b);
            }
        }
        // The sum starts from zero: with little evidence yet, the bias
        // estimate is shrunk towards zero by the prior's weight, which is
        // forgotten as the evidence is.
        let weight = self.bias_weight + PRIOR_S * inv_bias_tau_s * (1.0 - self.bias_weight);
        // 1 / weight by a Newton step from the last one (the weight moves
        // by a fraction of a percent per step; no division on the path).
        let inv_weight = if self.inv_weight > 0.0 {
            self.inv_weight * (2.0 - weight * self.inv_weight)
        } else {
            1.0 / weight
        };
        self.inv_weight = inv_weight;
        let rate: Vec3 = core::array::from_fn(|i| rate_rps[i] - self.bias_sum[i] * inv_weight);
        // du/dt = -w x u, then back towards the estimator's up.
        let turn = cross(rate, self.up);
        let pull = (dt_s * inv_tau_s).min(1.0);
        let mut u: Vec3 = core::array::from_fn(|i| {
            let u = self.up[i] - turn[i] * dt_s;
            let target = if i == 2 { 1.0 } else { 0.0 };
            u + pull * (target - u)
        });
        // Back to unit length: a step changes it by a fraction of a percent,
        // and (3 - |u|^2) / 2 is 1 / |u| to second order of that.
        let fix = 0.5 * (3.0 - dot(u, u));
        u = u.map(|c| c * fix);
        // Exp(theta) up = z: theta is along up x z = (u_y, -u_x, 0), its
        // length the angle between them.
        let sin_sq = u[0] * u[0] + u[1] * u[1];
        if !(sin_sq <= MAX_SWING_SIN * MAX_SWING_SIN && u[2] > 0.0) {
            // Not a swing (or not a number): start again from the
            // estimator's up, after the hold (the bias is the phone's and
            // stays).
            self.restart_held(HOLD_S, false);
            return;
        }
        self.up = u;
        // asin(s)/s to fourth order: within 2e-5 up to the largest swing.
        let per_sin = 1.0 + sin_sq * (1.0 / 6.0 + sin_sq * (3.0 / 40.0));
        self.theta_rad = [u[1] * per_sin, -u[0] * per_sin];
        let slow_k = (dt_s * (1.0 / SWING_SLOW_S)).min(1.0);
        let fast_k = (dt_s * (1.0 / SWING_FAST_S)).min(1.0);
        let mut fast_sq = 0.0;
        for i in 0..2 {
            self.theta_slow_rad[i] += slow_k * (self.theta_rad[i] - self.theta_slow_rad[i]);
            self.theta_fast_rad[i] += fast_k * (self.theta_rad[i] - self.theta_fast_rad[i]);
            let d = self.theta_fast_rad[i] - self.theta_slow_rad[i];
            fast_sq += d * d;
        }
        let swing_k = (dt_s * (1.0 / SWING_MEMORY_S)).min(1.0);
        self.swing_sq += swing_k * (fast_sq - self.swing_sq);
        self.swing_weight += swing_k * (1.0 - self.swing_weight);
    }

    /// `Exp(theta)`: the rotation by the swing, about the axis
    /// `(theta_x, theta_y, 0)` in vehicle axes, row-major.
    pub fn rotation(&self) -> Mat3 {
        let [a, b] = self.theta_rad;
        let phi_sq = a * a + b * b;
        // sin(phi)/phi and (1 - cos(phi))/phi^2 to fourth order: exact to
        // 1e-7 within the 15 deg a swing may reach.
        let s = 1.0 - phi_sq / 6.0 * (1.0 - phi_sq / 20.0);
        let c = 0.5 - phi_sq / 24.0 * (1.0 - phi_sq / 30.0);
        // I + s [theta]x + c [theta]x^2, [theta]x^2 = theta theta^T - phi^2 I.
        [
            [1.0 + c * (a * a - phi_sq), c * a * b, s * b],
            [c * a * b, 1.0 + c * (b * b - phi_sq), -s * a],
            [-s * b, s * a, 1.0 - c * phi_sq],
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::{angle_between, mat_mul, mat_vec, transpose};
    use core::f32::consts::PI;

    const STEP_S: f32 = 0.04;
    const TAU_S: f32 = 4.0;
    const BIAS_TAU_S: f32 = 60.0;

    /// Feeds `secs` of steps whose rate is `rate(t)`; calls `check(t, tracker)` after each.
    fn run(
        w: &mut WobbleTracker,
        secs: f32,
        rate: impl Fn(f32) -> Vec3,
        mut check: impl FnMut(f32, &WobbleTracker),
    ) {
        let n = (secs / STEP_S) as usize;
        for i in 0..n {
            let t = i as f32 * STEP_S;
            // The step's mean rate: sampled at the step's middle.
            w.step(
                rate(t + 0.5 * STEP_S),
                STEP_S,
                1.0 / TAU_S,
                1.0 / BIAS_TAU_S,
            );
            check(t + STEP_S, w);
        }
    }

    #[test]
    fn a_swing_about_a_horizontal_axis_is_followed() {
        // 4 deg at 0.3 Hz about the forward axis, on a gyroscope biased by
        // 0.01 rad/s on every axis (integrated alone: 2.3 deg off after a
        // time constant).
        let amp = 4f32.to_radians();
        let f = 0.3;
        let bias = 0.01;
        let swing = |t: f32| amp * libm::sinf(2.0 * PI * f * t);
        let mut w = WobbleTracker::new();
        let (mut err_sq, mut n) = (0.0, 0);
        run(
            &mut w,
            180.0,
            |t| {
                let d = amp * 2.0 * PI * f * libm::cosf(2.0 * PI * f * t);
                [d + bias, bias, bias]
            },
            |t, w| {
                if t > 90.0 {
                    let e = w.theta_rad()[0] - swing(t);
                    err_sq += e * e + w.theta_rad()[1] * w.theta_rad()[1];
                    n += 1;
                }
            },
        );
        let rms_deg = libm::sqrtf(err_sq / n as f32).to_degrees();
        // The swing itself has an RMS of 2.8 deg; what is left is the phase
        // lead of the 4 s pull.
        assert!(rms_deg < 0.5, "error RMS {rms_deg} deg");
        let swing_deg = w.swing_rad().to_degrees();
        assert!(
            (1.2..1.9).contains(&swing_deg),
            "swing band {swing_deg} deg"
        );
    }

    #[test]
    fn a_bias_alone_is_no_swing() {
        let mut w = WobbleTracker::new();
        run(&mut w, 180.0, |_| [0.01, -0.008, 0.005], |_, _| {});
        let [a, b] = w.theta_rad();
        let deg = libm::sqrtf(a * a + b * b).to_degrees();
        assert!(deg < 0.3, "theta {deg} deg (bias x tau would be 2.9)");
        assert!(w.swing_rad().to_degrees() < 0.1);
    }

    #[test]
    fn a_turn_about_a_tilted_axis_does_not_turn_the_frame_off_gravity() {
        // The estimator's up is 3 deg off gravity; the vehicle turns about
        // gravity at 0.3 rad/s for 20 s (a roundabout and more). The tracked
        // up must not wander off: it may only come closer to gravity. (The
        // rates about the estimated horizontal axes, integrated, would be a
        // 6 deg swing by the end of the turn.)
        let tilt = 3f32.to_radians();
        let g = [libm::sinf(tilt), 0.0, libm::cosf(tilt)];
        let mut w = WobbleTracker::new();
        let mut worst: f32 = 0.0;
        run(
            &mut w,
            20.0,
            |_| g.map(|c| 0.3 * c),
            |_, w| {
                let up = mat_vec(&transpose(&w.rotation()), [0.0, 0.0, 1.0]);
                worst = worst.max(angle_between(up, g).to_degrees());
            },
        );
        assert!(worst <= 3.01, "tracked up {worst} deg from gravity");
        let up = mat_vec(&transpose(&w.rotation()), [0.0, 0.0, 1.0]);
        let end = angle_between(up, g).to_degrees();
        assert!(end < 3.0, "{end} deg at the end");
    }

    #[test]
    fn a_large_rotation_is_not_a_swing_and_holds_the_tracker() {
        let mut w = WobbleTracker::new();
        // A swing first, so the gate is open.
        run(
            &mut w,
            60.0,
            |t| [0.2 * libm::cosf(2.0 * PI * 0.3 * t), 0.0, 0.0],
            |_, _| {},
        );
        assert!(w.swing_rad().to_degrees() > 0.8);
        // Picked up: 1 rad/s for a second.
        run(&mut w, 1.0, |_| [0.0, 1.0, 0.0], |_, _| {});
        assert!(w.theta_rad().iter().all(|v| v.abs() <= 0.0));
        assert!(w.swing_rad() <= 0.0);
        // Held for 10 s, then 10 s of evidence before the gate opens again.
        let mut open_after = None;
        run(
            &mut w,
            30.0,
            |t| [0.2 * libm::cosf(2.0 * PI * 0.3 * t), 0.0, 0.0],
            |t, w| {
                if open_after.is_none() && w.swing_rad() > 0.0 {
                    open_after = Some(t);
                }
            },
        );
        let t = open_after.expect("the gate opens again");
        assert!((19.0..21.0).contains(&t), "opened after {t} s");
    }

    #[test]
    fn after_a_turn_the_swing_is_tracked_again_without_new_evidence() {
        let mut w = WobbleTracker::new();
        let sway = |t: f32| [0.2 * libm::cosf(2.0 * PI * 0.5 * t), 0.0, 0.0];
        run(&mut w, 60.0, sway, |_, _| {});
        assert!(w.swing_rad().to_degrees() > 0.8);
        // A motorcycle's turn: the tracked up starts again, the sway's size
        // stays known.
        w.restart_after_turn();
        assert!(w.theta_rad().iter().all(|v| v.abs() <= 0.0));
        let mut back_after = None;
        run(&mut w, 5.0, sway, |t, w| {
            if back_after.is_none() && w.swing_rad() > 0.0 {
                back_after = Some(t);
            }
        });
        let t = back_after.expect("the sway is tracked again");
        assert!((1.9..2.3).contains(&t), "tracked again after {t} s");
    }

    #[test]
    fn the_rotation_takes_the_tracked_up_to_the_vehicles() {
        let mut w = WobbleTracker::new();
        run(&mut w, 1.0, |_| [0.05, -0.03, 0.0], |_, _| {});
        let e = w.rotation();
        // Orthonormal, and maps the tracked up to z.
        let ete = mat_mul(&transpose(&e), &e);
        for (i, row) in ete.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-6);
            }
        }
        let z = mat_vec(&e, w.up);
        assert!(angle_between(z, [0.0, 0.0, 1.0]) < 1e-4);
        // A positive rate about forward tilts up towards +y, theta_x > 0.
        assert!(w.up[1] > 0.0 && w.theta_rad()[0] > 0.0);
    }
}
