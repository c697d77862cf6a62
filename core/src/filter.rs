//! Adaptive noise filtering of the vehicle-frame acceleration.
//!
//! Two filters run side by side on the three axes:
//! - a Butterworth biquad low-pass (cut-off [`FilterConfig::lowpass_cutoff_hz`],
//!   2 Hz by default; vehicle manoeuvres live below about 2 Hz), whose
//!   coefficients follow the measured sample rate;
//! - a Kalman filter with a constant-jerk model per axis (state: acceleration
//!   and jerk), whose measurement noise is the noise measured in the last
//!   window, so it smooths harder the noisier the data.
//!
//! A per-window noise estimate (the spread of the samples around the window's
//! own linear trend, so a manoeuvre's ramp does not count but vibration and
//! the shaking of a hand or pocket do) selects which output is used: the low-pass for clean
//! data, the Kalman filter for noisy data (motorcycles, a phone in a hand or a
//! pocket). Hysteresis (two thresholds and a number of consecutive windows)
//! keeps the choice from flapping.
//!
//! The low-pass always runs; the Kalman filter runs only while selected and
//! starts from the low-pass output when it takes over, so a switch does not
//! step. Cost per sample: about 30 floating-point operations for the
//! low-pass on three axes, 60 with the Kalman filter. Configuration ([`FilterConfig`]) is separate from state
//! ([`AdaptiveFilter`]); one configuration serves all three axes.

use biquad::{Coefficients, Hertz, Q_BUTTERWORTH_F32, Type};

use crate::ConfigError;
use crate::math::{f32x4, xyz};

/// Which filter currently provides the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FilterMode {
    /// Biquad low-pass: clean data.
    LowPass,
    /// Kalman filter: noisy data.
    Kalman,
}

/// Filter configuration. Defaults are documented on each field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FilterConfig {
    /// Low-pass cut-off in Hz. Default 2.0. Clamped to 40 % of the sample rate.
    pub lowpass_cutoff_hz: f32,
    /// Kalman process noise: spectral density of the jerk's rate of change,
    /// (m/s^3)^2 per Hz. Default 20: at 100 Hz and 1 m/s^2 noise the filter's
    /// bandwidth is about 1 Hz.
    pub kalman_jerk_psd: f32,
    /// Noise (standard deviation around the window's trend, m/s^2) above
    /// which the Kalman filter takes over. Default 0.45 (a car's dashboard
    /// measures 0.14-0.28 on the simulator, a motorcycle 0.56-0.75).
    pub noise_enter_kalman_mps2: f32,
    /// Noise below which the low-pass takes over again. Default 0.30; must be
    /// below `noise_enter_kalman_mps2` (the hysteresis band).
    pub noise_leave_kalman_mps2: f32,
    /// Consecutive windows beyond a threshold needed to switch. Default 2.
    pub windows_to_switch: u8,
}

impl Default for FilterConfig {
    fn default() -> Self {
        Self {
            lowpass_cutoff_hz: 2.0,
            kalman_jerk_psd: 20.0,
            noise_enter_kalman_mps2: 0.45,
            noise_leave_kalman_mps2: 0.30,
            windows_to_switch: 2,
        }
    }
}

impl FilterConfig {
    /// Checks that every value is usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check(
            self.lowpass_cutoff_hz.is_finite()
                && self.lowpass_cutoff_hz > 0.05
                && self.lowpass_cutoff_hz <= 20.0,
            "filter.lowpass_cutoff_hz",
            "must be in (0.05, 20] Hz",
        )?;
        ConfigError::check(
            self.kalman_jerk_psd.is_finite() && self.kalman_jerk_psd > 0.0,
            "filter.kalman_jerk_psd",
            "must be positive",
        )?;
        ConfigError::check(
            self.noise_leave_kalman_mps2.is_finite() && self.noise_leave_kalman_mps2 > 0.0,
            "filter.noise_leave_kalman_mps2",
            "must be positive",
        )?;
        ConfigError::check(
            self.noise_enter_kalman_mps2.is_finite()
                && self.noise_enter_kalman_mps2 > self.noise_leave_kalman_mps2,
            "filter.noise_enter_kalman_mps2",
            "must be greater than noise_leave_kalman_mps2",
        )?;
        ConfigError::check(
            self.windows_to_switch != 0,
            "filter.windows_to_switch",
            "must be at least 1",
        )?;
        Ok(())
    }
}

/// Smallest measurement variance the Kalman filter assumes, (m/s^2)^2.
const MIN_MEASUREMENT_VAR: f32 = 1e-4;

/// Filter state for three axes. Fixed size, no allocation.
#[derive(Clone, Copy, Debug)]
pub struct AdaptiveFilter {
    cfg: FilterConfig,
    /// Low-pass coefficients `[b0, b1, b2, a1, a2]` (designed by the
    /// `biquad` crate), each broadcast to all lanes when designed rather
    /// than per sample, and the transposed direct form II state of the three
    /// axes, run as one loop.
    lp_k: [f32x4; 5],
    lp_s1: f32x4,
    lp_s2: f32x4,
    lowpass_fs_hz: f32,
    // Kalman: per-axis state [accel, jerk]; covariance shared by the axes
    // because they see the same dt, process and measurement noise.
    kf_x: [[f32; 2]; 3],
    kf_p: [f32; 3], // [p00, p01, p11]
    kf_r: f32,
    last_lowpass: f32x4,
    primed: bool,
    mode: FilterMode,
    streak: u8,
    // Noise window accumulators: sums for a per-axis linear fit against the
    // sample index (time within the window).
    last_input: f32x4,
    /// Samples in the window, in every lane (it multiplies the lanes of
    /// each sample for `win_sxi`).
    win_n: f32x4,
    win_sx: f32x4,
    win_sxx: f32x4,
    win_sxi: f32x4,
    last_noise_mps2: f32,
}

fn lowpass_coefficients(cutoff_hz: f32, fs_hz: f32) -> Coefficients<f32> {
    let f0 = cutoff_hz.min(0.4 * fs_hz).max(0.01);
    let made = Hertz::<f32>::from_hz(fs_hz)
        .and_then(|fs| Hertz::<f32>::from_hz(f0).map(|f0| (fs, f0)))
        .and_then(|(fs, f0)| {
            Coefficients::<f32>::from_params(Type::LowPass, fs, f0, Q_BUTTERWORTH_F32)
        });
    // from_params only fails for f0 >= fs/2 or a negative frequency, both
    // excluded above; fall back to a pass-through rather than panic.
    made.unwrap_or(Coefficients {
        a1: 0.0,
        a2: 0.0,
        b0: 1.0,
        b1: 0.0,
        b2: 0.0,
    })
}

/// The low-pass coefficients `[b0, b1, b2, a1, a2]`, each in all lanes.
fn lanes_of(c: &Coefficients<f32>) -> [f32x4; 5] {
    [c.b0, c.b1, c.b2, c.a1, c.a2].map(f32x4::splat)
}

impl AdaptiveFilter {
    /// A filter for the given (validated) configuration, tuned for `fs_hz`.
    pub fn new(cfg: FilterConfig, fs_hz: f32) -> Self {
        let c = lowpass_coefficients(cfg.lowpass_cutoff_hz, fs_hz);
        Self {
            cfg,
            lp_k: lanes_of(&c),
            lp_s1: f32x4::ZERO,
            lp_s2: f32x4::ZERO,
            lowpass_fs_hz: fs_hz,
            kf_x: [[0.0; 2]; 3],
            kf_p: [1.0, 0.0, 1.0],
            kf_r: 0.01,
            last_lowpass: f32x4::ZERO,
            primed: false,
            mode: FilterMode::LowPass,
            streak: 0,
            last_input: f32x4::ZERO,
            win_n: f32x4::ZERO,
            win_sx: f32x4::ZERO,
            win_sxx: f32x4::ZERO,
            win_sxi: f32x4::ZERO,
            last_noise_mps2: 0.0,
        }
    }

    /// The filter currently selected.
    pub fn mode(&self) -> FilterMode {
        self.mode
    }

    /// Noise (standard deviation, m/s^2) measured in the last closed window.
    pub fn last_noise_mps2(&self) -> f32 {
        self.last_noise_mps2
    }

    /// Forgets the signal history (after a gap), keeping the mode.
    pub fn reset(&mut self) {
        self.lp_s1 = f32x4::ZERO;
        self.lp_s2 = f32x4::ZERO;
        self.primed = false;
        self.clear_window();
    }

    fn clear_window(&mut self) {
        self.win_n = f32x4::ZERO;
        self.win_sx = f32x4::ZERO;
        self.win_sxx = f32x4::ZERO;
        self.win_sxi = f32x4::ZERO;
    }

    /// Retunes the low-pass when the sample rate moved by more than 10 %.
    pub fn set_rate(&mut self, fs_hz: f32) {
        if (fs_hz - self.lowpass_fs_hz).abs() > 0.1 * self.lowpass_fs_hz {
            let c = lowpass_coefficients(self.cfg.lowpass_cutoff_hz, fs_hz);
            self.lp_k = lanes_of(&c);
            self.lowpass_fs_hz = fs_hz;
        }
    }

    /// Filters one sample taken `dt_s` after the previous one; returns the
    /// output of the selected filter.
    pub fn run(&mut self, x: [f32; 3], dt_s: f32) -> [f32; 3] {
        self.run_lanes(f32x4::new([x[0], x[1], x[2], 0.0]), dt_s)
    }

    /// [`Self::run`] on a sample already in SIMD lanes (the fourth is
    /// carried along and ignored), as the pipeline has it.
    #[inline]
    pub fn run_lanes(&mut self, x4: f32x4, dt_s: f32) -> [f32; 3] {
        if self.win_n.to_array()[0] == 0.0 {
            // Window origin: sums are taken relative to its first sample.
            self.last_input = x4;
            // Unprimed only after a reset, which also opens a new window.
            if !self.primed {
                self.prime(x4);
            }
        }
        // Centre on the window's first sample so the f32 sums stay exact.
        let v = x4 - self.last_input;
        self.win_sx += v;
        self.win_sxx += v * v;
        self.win_sxi += v * self.win_n;
        self.win_n += f32x4::ONE;

        // Transposed direct form II, all lanes at once.
        let [b0, b1, b2, a1, a2] = self.lp_k;
        let y = b0 * x4 + self.lp_s1;
        self.lp_s1 = b1 * x4 - a1 * y + self.lp_s2;
        self.lp_s2 = b2 * x4 - a2 * y;
        self.last_lowpass = y;
        let lp = xyz(y);
        // The low-pass always runs (it is cheap and keeps its state for a
        // switch back); the Kalman filter only while it is selected.
        match self.mode {
            FilterMode::LowPass => lp,
            FilterMode::Kalman => self.kalman_step(xyz(x4), dt_s),
        }
    }

    /// Starts both filters at the first value instead of zero, so the output
    /// has no start-up transient: the low-pass's steady state for a constant
    /// input x has s1 = x (1 - b0), s2 = x (b2 - a2).
    #[cold]
    fn prime(&mut self, x4: f32x4) {
        let [b0, _, b2, _, a2] = self.lp_k.map(|k| k.to_array()[0]);
        self.lp_s1 = x4 * f32x4::splat(1.0 - b0);
        self.lp_s2 = x4 * f32x4::splat(b2 - a2);
        for (kf, xa) in self.kf_x.iter_mut().zip(xyz(x4)) {
            *kf = [xa, 0.0];
        }
        self.kf_p = [self.kf_r, 0.0, 1.0];
        self.primed = true;
    }

    fn kalman_step(&mut self, z: [f32; 3], dt: f32) -> [f32; 3] {
        let q = self.cfg.kalman_jerk_psd;
        let [p00, p01, p11] = self.kf_p;
        // Predict: F = [[1, dt], [0, 1]], Q = q [[dt^3/3, dt^2/2], [dt^2/2, dt]].
        let dt2 = dt * dt;
        let pp00 = p00 + 2.0 * dt * p01 + dt2 * p11 + q * dt2 * dt / 3.0;
        let pp01 = p01 + dt * p11 + q * dt2 / 2.0;
        let pp11 = p11 + q * dt;
        // Update with H = [1, 0].
        let s = pp00 + self.kf_r;
        let k0 = pp00 / s;
        let k1 = pp01 / s;
        self.kf_p = [(1.0 - k0) * pp00, (1.0 - k0) * pp01, pp11 - k1 * pp01];
        let mut out = [0.0; 3];
        for axis in 0..3 {
            let [a, j] = self.kf_x[axis];
            let a_pred = a + dt * j;
            let innov = z[axis] - a_pred;
            self.kf_x[axis] = [a_pred + k0 * innov, j + k1 * innov];
            out[axis] = self.kf_x[axis][0];
        }
        out
    }

    /// Closes a noise window: updates the noise estimate, the Kalman
    /// measurement noise and (with hysteresis) the mode.
    ///
    /// The noise is the spread of the samples around the window's own linear
    /// trend: a manoeuvre's ramp is removed, vibration and the shaking of a
    /// hand or a pocket are kept.
    pub fn end_window(&mut self) {
        let n = self.win_n.to_array()[0];
        if n < 4.0 {
            return;
        }
        // Sums of the index i = 0..n-1.
        let si = n * (n - 1.0) / 2.0;
        let sii = (n - 1.0) * n * (2.0 * n - 1.0) / 6.0;
        let det = n * sii - si * si;
        let (win_sx, win_sxx, win_sxi) = (
            self.win_sx.to_array(),
            self.win_sxx.to_array(),
            self.win_sxi.to_array(),
        );
        let mut var = 0.0;
        for axis in 0..3 {
            let (sx, sxx, sxi) = (win_sx[axis], win_sxx[axis], win_sxi[axis]);
            let slope = (n * sxi - si * sx) / det;
            let icpt = (sx - slope * si) / n;
            // Residual sum of squares of the least-squares line.
            let rss = sxx - icpt * sx - slope * sxi;
            var += (rss / n).max(0.0);
        }
        var /= 3.0;
        self.clear_window();
        let noise = libm::sqrtf(var);
        self.last_noise_mps2 = noise;
        self.kf_r = var.max(MIN_MEASUREMENT_VAR);
        let beyond = match self.mode {
            FilterMode::LowPass => noise > self.cfg.noise_enter_kalman_mps2,
            FilterMode::Kalman => noise < self.cfg.noise_leave_kalman_mps2,
        };
        if beyond {
            self.streak = self.streak.saturating_add(1);
            if self.streak >= self.cfg.windows_to_switch {
                self.mode = match self.mode {
                    FilterMode::LowPass => {
                        // Start the Kalman filter where the low-pass is, so
                        // the output does not step.
                        for (state, lp) in self.kf_x.iter_mut().zip(xyz(self.last_lowpass)) {
                            *state = [lp, 0.0];
                        }
                        self.kf_p = [self.kf_r, 0.0, 1.0];
                        FilterMode::Kalman
                    }
                    FilterMode::Kalman => FilterMode::LowPass,
                };
                self.streak = 0;
            }
        } else {
            self.streak = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-noise in [-1, 1] (xorshift), so tests need no RNG crate.
    struct Noise(u32);
    impl Noise {
        fn next(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            (self.0 as f32 / u32::MAX as f32) * 2.0 - 1.0
        }
    }

    fn run_windows(f: &mut AdaptiveFilter, amp: f32, seconds: usize, fs: usize) -> [f32; 3] {
        let mut n = Noise(12345);
        let mut out = [0.0; 3];
        for _ in 0..seconds {
            for _ in 0..fs {
                let v = 1.0 + amp * n.next();
                out = f.run([v, -v, 0.5 * v], 1.0 / fs as f32);
            }
            f.end_window();
        }
        out
    }

    #[test]
    fn clean_data_uses_lowpass_noisy_data_uses_kalman_with_hysteresis() {
        let mut f = AdaptiveFilter::new(FilterConfig::default(), 100.0);
        run_windows(&mut f, 0.1, 5, 100);
        assert_eq!(f.mode(), FilterMode::LowPass);
        // Uniform noise of amplitude 2 has std 1.15: Kalman.
        run_windows(&mut f, 2.0, 1, 100);
        assert_eq!(f.mode(), FilterMode::LowPass, "one window must not switch");
        run_windows(&mut f, 2.0, 2, 100);
        assert_eq!(f.mode(), FilterMode::Kalman);
        // Inside the hysteresis band (std ~0.38): stays Kalman.
        run_windows(&mut f, 0.65, 5, 100);
        assert_eq!(f.mode(), FilterMode::Kalman);
        run_windows(&mut f, 0.1, 3, 100);
        assert_eq!(f.mode(), FilterMode::LowPass);
    }

    #[test]
    fn a_ramp_is_not_noise() {
        // A 4 m/s^2-per-second ramp (a harsh braking building up) with little
        // noise must not switch to the Kalman filter.
        let mut f = AdaptiveFilter::new(FilterConfig::default(), 100.0);
        for w in 0..5 {
            for i in 0..100 {
                let t = (w * 100 + i) as f32 / 100.0;
                f.run([-4.0 * t, 0.0, 0.0], 0.01);
            }
            f.end_window();
        }
        assert_eq!(f.mode(), FilterMode::LowPass);
        assert!(f.last_noise_mps2() < 0.01, "{}", f.last_noise_mps2());
    }

    #[test]
    fn both_filters_converge_to_a_constant_and_reduce_noise() {
        for amp in [0.1f32, 2.0] {
            let mut f = AdaptiveFilter::new(FilterConfig::default(), 50.0);
            let out = run_windows(&mut f, amp, 10, 50);
            // Output noise well below input noise (uniform std = amp / sqrt 3).
            assert!((out[0] - 1.0).abs() < 0.5 * amp, "{amp}: {out:?}");
            assert!((out[1] + 1.0).abs() < 0.5 * amp, "{amp}: {out:?}");
        }
    }

    #[test]
    fn lowpass_follows_the_sample_rate() {
        // A 10 Hz sine is attenuated by the 2 Hz low-pass at 100 Hz and at
        // 25 Hz sampling, once the coefficients follow the rate.
        for fs in [100.0f32, 25.0] {
            let mut f = AdaptiveFilter::new(FilterConfig::default(), 200.0);
            f.set_rate(fs);
            let mut peak: f32 = 0.0;
            let n = (fs * 10.0) as usize;
            for i in 0..n {
                let t = i as f32 / fs;
                let x = libm::sinf(2.0 * core::f32::consts::PI * 3.0 * t);
                let y = f.run([x, 0.0, 0.0], 1.0 / fs);
                if i > n / 2 {
                    peak = peak.max(y[0].abs());
                }
            }
            // Butterworth 2nd order at 1.5 x cut-off: |H| = 1/sqrt(1 + 1.5^4) = 0.41.
            assert!(peak < 0.5, "fs {fs}: peak {peak}");
        }
    }

    #[test]
    fn invalid_configuration_is_named() {
        let cfg = FilterConfig {
            noise_enter_kalman_mps2: 0.2,
            ..FilterConfig::default()
        };
        let e = cfg.validate().err();
        assert_eq!(e.map(|e| e.field), Some("filter.noise_enter_kalman_mps2"));
    }
}
