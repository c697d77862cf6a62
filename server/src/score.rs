//! The safe-driving score: a transparent model, documented in
//! `docs/score.md`.
//!
//! 1. Per manoeuvre kind `k`, the driver's exposure-weighted count `n_k`
//!    (a severe event counts [`ScoreModel::severe_weight`] times) over
//!    `D` km driven.
//! 2. Shrinkage toward the fleet's typical driver: a Gamma-Poisson model whose
//!    prior is the fleet's rate `mu_k` (events per 100 km) with the weight of
//!    [`ScoreModel::prior_km`] km of driving. Posterior rate
//!    `r_k = (n_k + mu_k * P / 100) / ((D + P) / 100)`: with little driving the
//!    driver looks like the fleet; with a lot, like themself.
//! 3. Score `S = 100 * exp(-sum_k w_k * r_k)`: in (0, 100], higher is safer,
//!    strictly decreasing in every rate, smooth.
//! 4. Confidence `D / (D + P)`, and a 90 % interval on the score from the
//!    posterior Gamma variances (delta method on the exponent).
//! 5. Insight: the kind whose removal would raise the score most. Removing
//!    kind `k` gives exactly `S * (exp(w_k * r_k) - 1)` points.

use safelane_wire::Kind;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Gamma, Normal};

/// Number of manoeuvre kinds.
pub const KINDS: usize = Kind::ALL.len();

/// The model's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreModel {
    /// Points of the exponent per event per 100 km, in `Kind::ALL` order.
    pub weights: [f64; KINDS],
    /// How many events one severe event counts as.
    pub severe_weight: f64,
    /// Weight of the fleet prior, km of driving.
    pub prior_km: f64,
    /// Rates per 100 km assumed for a fleet that has not driven yet.
    pub default_rates_per_100km: [f64; KINDS],
    /// Weight of the default rates in a fleet's typical rates, km.
    pub fleet_prior_km: f64,
    /// Probability mass of the reported intervals.
    pub interval: f64,
}

impl Default for ScoreModel {
    fn default() -> Self {
        Self {
            // harsh braking, acceleration, cornering, lane change, crash, speeding.
            // Braking and speeding weigh most among the frequent kinds (they
            // predict claims best in the telematics literature); a crash weighs
            // ten times a harsh brake.
            weights: [0.05, 0.03, 0.04, 0.03, 0.5, 0.05],
            severe_weight: 2.0,
            prior_km: 200.0,
            default_rates_per_100km: [1.5, 1.5, 1.0, 0.5, 0.0, 1.0],
            fleet_prior_km: 1000.0,
            interval: 0.9,
        }
    }
}

/// Driving and events over a period.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Exposure {
    /// Distance driven, km.
    pub distance_km: f64,
    /// Events per kind (`Kind::ALL` order).
    pub counts: [u64; KINDS],
    /// Of which severe.
    pub severe: [u64; KINDS],
}

impl Exposure {
    /// Adds another period.
    pub fn add(&mut self, o: &Exposure) {
        self.distance_km += o.distance_km;
        for k in 0..KINDS {
            self.counts[k] += o.counts[k];
            self.severe[k] += o.severe[k];
        }
    }
}

/// One kind's part of a score.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct KindScore {
    /// Kind.
    pub kind: Kind,
    /// Events (severe ones counted `severe_weight` times) per 100 km, observed.
    pub observed_per_100km: f64,
    /// The fleet's typical rate, per 100 km.
    pub fleet_per_100km: f64,
    /// The rate the score uses (shrunk toward the fleet), per 100 km.
    pub rate_per_100km: f64,
    /// Interval of that rate, per 100 km.
    pub rate_low: f64,
    /// Interval of that rate, per 100 km.
    pub rate_high: f64,
    /// Points the score would gain without this kind.
    pub points: f64,
}

/// The one actionable insight.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Insight {
    /// The kind to work on, if any costs at least half a point.
    pub kind: Option<Kind>,
    /// Points the score would gain without it.
    pub points: f64,
    /// The advice, in words.
    pub message: String,
}

/// A score with its confidence and explanation.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Score {
    /// 0-100, higher is safer.
    pub value: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
    /// `distance / (distance + prior_km)`: 0 with no driving, toward 1 with more.
    pub confidence: f64,
    /// Distance the score rests on, km.
    pub distance_km: f64,
    /// Per kind, `Kind::ALL` order.
    pub kinds: Vec<KindScore>,
    /// What would raise the score most.
    pub insight: Insight,
}

fn advice(kind: Kind) -> &'static str {
    match kind {
        Kind::HarshBraking => "keep a longer gap and brake earlier",
        Kind::HarshAcceleration => "pull away more gently",
        Kind::HarshCornering => "slow down before bends, not in them",
        Kind::HarshLaneChange => "signal and change lanes gradually",
        Kind::Crash => "review the crash with the driver",
        Kind::Speeding => "keep to the limit, especially where it drops",
    }
}

fn label(kind: Kind) -> &'static str {
    match kind {
        Kind::HarshBraking => "Harsh braking",
        Kind::HarshAcceleration => "Harsh acceleration",
        Kind::HarshCornering => "Harsh cornering",
        Kind::HarshLaneChange => "Harsh lane changes",
        Kind::Crash => "Crashes",
        Kind::Speeding => "Speeding",
    }
}

impl ScoreModel {
    fn weighted(&self, e: &Exposure, k: usize) -> f64 {
        let (n, s) = (e.counts[k] as f64, e.severe[k].min(e.counts[k]) as f64);
        n + (self.severe_weight - 1.0) * s
    }

    /// The fleet's typical rates per 100 km: the fleet's own totals, shrunk
    /// toward the defaults while the fleet has driven little.
    pub fn fleet_rates(&self, fleet: &Exposure) -> [f64; KINDS] {
        let km = fleet.distance_km.max(0.0) + self.fleet_prior_km;
        std::array::from_fn(|k| {
            (self.weighted(fleet, k)
                + self.default_rates_per_100km[k] * self.fleet_prior_km / 100.0)
                / (km / 100.0)
        })
    }

    /// The score from rates alone (per 100 km): `100 exp(-sum w_k r_k)`.
    pub fn value_of_rates(&self, rates: &[f64; KINDS]) -> f64 {
        let x: f64 = rates
            .iter()
            .zip(&self.weights)
            .map(|(r, w)| r.max(0.0) * w)
            .sum();
        100.0 * (-x).exp()
    }

    /// Scores a driver's exposure against the fleet's typical rates, with
    /// the per-kind rate intervals.
    pub fn score(&self, driver: &Exposure, fleet_rates: &[f64; KINDS]) -> Score {
        self.score_with(driver, fleet_rates, true)
    }

    /// Same, without the per-kind rate intervals (left 0): the Gamma
    /// quantiles are the costly part, and trends and rankings do not show them.
    pub fn score_brief(&self, driver: &Exposure, fleet_rates: &[f64; KINDS]) -> Score {
        self.score_with(driver, fleet_rates, false)
    }

    fn score_with(
        &self,
        driver: &Exposure,
        fleet_rates: &[f64; KINDS],
        rate_intervals: bool,
    ) -> Score {
        let d = driver.distance_km.max(0.0);
        let beta = (d + self.prior_km) / 100.0;
        let z = Normal::standard().inverse_cdf(0.5 + self.interval / 2.0);
        let mut rates = [0.0; KINDS];
        let mut exponent_var = 0.0;
        let mut intervals = [(0.0, 0.0); KINDS];
        for k in 0..KINDS {
            let alpha = self.weighted(driver, k) + fleet_rates[k].max(0.0) * self.prior_km / 100.0;
            rates[k] = alpha / beta;
            exponent_var += self.weights[k].powi(2) * alpha / (beta * beta);
            intervals[k] = match Gamma::new(alpha, beta) {
                Ok(g) if rate_intervals => (
                    g.inverse_cdf((1.0 - self.interval) / 2.0),
                    g.inverse_cdf(0.5 + self.interval / 2.0),
                ),
                // Not asked for, or alpha = 0: no events and a fleet without any.
                _ => (0.0, 0.0),
            };
        }
        let value = self.value_of_rates(&rates);
        let exponent = (100.0 / value).ln();
        let sd = exponent_var.sqrt();
        let kinds: Vec<KindScore> = Kind::ALL
            .iter()
            .enumerate()
            .map(|(k, &kind)| KindScore {
                kind,
                observed_per_100km: if d > 0.0 {
                    self.weighted(driver, k) / (d / 100.0)
                } else {
                    0.0
                },
                fleet_per_100km: fleet_rates[k],
                rate_per_100km: rates[k],
                rate_low: intervals[k].0,
                rate_high: intervals[k].1,
                points: value * ((self.weights[k] * rates[k]).exp() - 1.0),
            })
            .collect();
        let insight = self.insight(&kinds);
        Score {
            value,
            low: 100.0 * (-(exponent + z * sd)).exp(),
            high: (100.0 * (-(exponent - z * sd).max(0.0)).exp()).min(100.0),
            confidence: d / (d + self.prior_km),
            distance_km: d,
            kinds,
            insight,
        }
    }

    fn insight(&self, kinds: &[KindScore]) -> Insight {
        let best = kinds
            .iter()
            .filter(|k| k.points.is_finite())
            .max_by(|a, b| a.points.total_cmp(&b.points));
        match best {
            Some(k) if k.points >= 0.5 => Insight {
                kind: Some(k.kind),
                points: k.points,
                message: format!(
                    "{} cost {:.1} points ({:.1} per 100 km, fleet typical {:.1}): {}.",
                    label(k.kind),
                    k.points,
                    k.rate_per_100km,
                    k.fleet_per_100km,
                    advice(k.kind)
                ),
            },
            _ => Insight {
                kind: None,
                points: best.map_or(0.0, |k| k.points),
                message: "No manoeuvre costs half a point: keep driving this way.".into(),
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn exposure(km: f64, counts: [u64; KINDS]) -> Exposure {
        Exposure {
            distance_km: km,
            counts,
            severe: [0; KINDS],
        }
    }

    const FLEET: [f64; KINDS] = [1.5, 1.5, 1.0, 0.5, 0.02, 1.0];

    #[test]
    fn bounded_and_monotonic_in_every_rate() {
        let m = ScoreModel::default();
        let mut seed = 7u64;
        let mut next = |max: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % max
        };
        for _ in 0..300 {
            let km = next(5000) as f64;
            let counts: [u64; KINDS] = std::array::from_fn(|_| next(300));
            let base = m.score(&exposure(km, counts), &FLEET);
            assert!(base.value > 0.0 && base.value <= 100.0, "{}", base.value);
            assert!(base.low <= base.value && base.value <= base.high && base.high <= 100.0);
            for k in 0..KINDS {
                let mut more = counts;
                more[k] += 1;
                let s = m.score(&exposure(km, more), &FLEET);
                assert!(
                    s.value < base.value,
                    "one more {:?} raised the score",
                    Kind::ALL[k]
                );
                let mut fleet = FLEET;
                fleet[k] += 0.5;
                assert!(m.score(&exposure(km, counts), &fleet).value < base.value);
            }
        }
        // Bounded even for absurd inputs.
        let s = m.score(&exposure(1.0, [100_000; KINDS]), &FLEET);
        assert!(s.value >= 0.0 && s.value.is_finite());
        assert!((m.score(&exposure(0.0, [0; KINDS]), &[0.0; KINDS]).value - 100.0).abs() < 1e-9);
    }

    #[test]
    fn stable_with_little_driving_and_confident_with_a_lot() {
        let m = ScoreModel::default();
        let fleet_score = m.value_of_rates(&FLEET);
        // 3 km and one harsh brake: near the fleet's typical driver, not 0.
        let short = m.score(&exposure(3.0, [1, 0, 0, 0, 0, 0]), &FLEET);
        assert!(
            (short.value - fleet_score).abs() < 3.0,
            "{} vs {fleet_score}",
            short.value
        );
        assert!(short.confidence < 0.02);
        // One more event moves a 1,000 km score by well under a point.
        let a = m.score(&exposure(1000.0, [15, 15, 10, 5, 0, 10]), &FLEET);
        let b = m.score(&exposure(1000.0, [16, 15, 10, 5, 0, 10]), &FLEET);
        assert!(a.value - b.value < 0.5 && a.value > b.value);
        assert!(a.confidence > 0.8);
        // Intervals narrow as distance grows.
        let wide = m.score(&exposure(50.0, [1, 1, 0, 0, 0, 0]), &FLEET);
        let narrow = m.score(&exposure(5000.0, [100, 100, 0, 0, 0, 0]), &FLEET);
        assert!(narrow.high - narrow.low < wide.high - wide.low);
        // A clean driver over many km tends to 100, a poor one well below the fleet.
        assert!(m.score(&exposure(100_000.0, [0; KINDS]), &FLEET).value > 99.0);
        assert!(
            m.score(&exposure(1000.0, [100, 80, 50, 30, 0, 60]), &FLEET)
                .value
                < fleet_score - 20.0
        );
    }

    #[test]
    fn insight_names_the_kind_worth_most_with_its_exact_points() {
        let m = ScoreModel::default();
        let s = m.score(&exposure(800.0, [40, 5, 3, 1, 0, 8]), &FLEET);
        let k = s.insight.kind.unwrap();
        assert_eq!(k, Kind::HarshBraking);
        // Exact: the score with that kind's rate at zero, minus the score.
        let mut rates: [f64; KINDS] = std::array::from_fn(|i| s.kinds[i].rate_per_100km);
        rates[0] = 0.0;
        assert!((m.value_of_rates(&rates) - s.value - s.insight.points).abs() < 1e-9);
        assert!(s.insight.message.contains("Harsh braking"));
        for other in &s.kinds {
            assert!(other.points <= s.insight.points);
        }
        // A clean record gets no manoeuvre to work on.
        let clean = m.score(&exposure(5000.0, [0; KINDS]), &[0.0; KINDS]);
        assert_eq!(clean.insight.kind, None);
    }

    #[test]
    fn severe_events_weigh_more_and_fleet_rates_shrink_to_defaults() {
        let m = ScoreModel::default();
        let mild = exposure(300.0, [5, 0, 0, 0, 0, 0]);
        let mut severe = mild.clone();
        severe.severe[0] = 3;
        assert!(m.score(&severe, &FLEET).value < m.score(&mild, &FLEET).value);
        for (a, b) in m
            .fleet_rates(&Exposure::default())
            .iter()
            .zip(m.default_rates_per_100km)
        {
            assert!((a - b).abs() < 1e-12);
        }
        let big = exposure(1_000_000.0, [30_000, 0, 0, 0, 0, 0]);
        assert!((m.fleet_rates(&big)[0] - 3.0).abs() < 0.01);
    }
}
