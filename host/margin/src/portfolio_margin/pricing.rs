//! Option pricing for the risk-based scenarios: Black-Scholes (equity and index options, on the
//! spot) and Black-76 (futures options, on the futures price), and the implied volatility of a mark.
//! f64 is used only here, inside the models; results go back to `Decimal` at the group level.

use crate::model::Right;

/// Standard normal cumulative distribution, via a rational erfc approximation (|error| < 1.2e-7).
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Which model prices the option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// Black-Scholes on the spot price (no dividends).
    BlackScholes,
    /// Black-76 on the futures price.
    Black76,
}

/// Price per unit of the underlying. `t` in years, `r` the continuous risk-free rate, `vol` annual.
/// At or past expiry, or with no volatility, the (discounted) intrinsic value.
pub fn price(model: Model, right: Right, s: f64, k: f64, t: f64, r: f64, vol: f64) -> f64 {
    if !(s.is_finite() && k.is_finite()) || s <= 0.0 || k <= 0.0 {
        return 0.0;
    }
    Contract::new(model, right, s, k, t, r).value(s, 0.0, vol)
}

/// An option with everything that does not depend on the scenario computed once, so that a grid
/// of scenarios costs two normal CDFs per point.
#[derive(Clone, Copy, Debug)]
pub struct Contract {
    right: Right,
    k: f64,
    df: f64,
    sqrt_t: f64,
    expired: bool,
    /// ln(F/K) at the base price; a move m adds ln(1 + m).
    ln_fk: f64,
    /// Forward per unit of spot (1/df for Black-Scholes, 1 for Black-76).
    fwd_per_spot: f64,
}

impl Contract {
    /// Precomputes the scenario-independent parts at base price `s`.
    pub fn new(model: Model, right: Right, s: f64, k: f64, t: f64, r: f64) -> Contract {
        let df = (-r * t.max(0.0)).exp();
        let fwd_per_spot = match model {
            Model::BlackScholes => 1.0 / df,
            Model::Black76 => 1.0,
        };
        let ln_fk = if s > 0.0 && k > 0.0 {
            (s * fwd_per_spot / k).ln()
        } else {
            f64::NEG_INFINITY
        };
        Contract {
            right,
            k,
            df,
            sqrt_t: t.max(0.0).sqrt(),
            expired: t <= 0.0,
            ln_fk,
            fwd_per_spot,
        }
    }

    /// Value at spot `s2` where `ln_move` = ln(s2 / s) relative to the base price, at `vol`.
    pub fn value(&self, s2: f64, ln_move: f64, vol: f64) -> f64 {
        let (k, df) = (self.k, self.df);
        if !(s2.is_finite() && k.is_finite()) || s2 <= 0.0 || k <= 0.0 {
            return 0.0;
        }
        let fwd = s2 * self.fwd_per_spot;
        if self.expired || vol <= 0.0 || !vol.is_finite() {
            let intrinsic = match self.right {
                Right::Call => (fwd - k).max(0.0),
                Right::Put => (k - fwd).max(0.0),
            };
            return df * intrinsic;
        }
        let sd = vol * self.sqrt_t;
        let d1 = (self.ln_fk + ln_move + 0.5 * sd * sd) / sd;
        let d2 = d1 - sd;
        match self.right {
            Right::Call => df * (fwd * norm_cdf(d1) - k * norm_cdf(d2)),
            Right::Put => df * (k * norm_cdf(-d2) - fwd * norm_cdf(-d1)),
        }
    }
}

/// The volatility at which the model reproduces `mark`, by bisection on [0.1%, 500%]; marks
/// outside the model's range give the nearest bound.
pub fn implied_vol(model: Model, right: Right, s: f64, k: f64, t: f64, r: f64, mark: f64) -> f64 {
    let (mut lo, mut hi) = (0.001_f64, 5.0_f64);
    if price(model, right, s, k, t, r, lo) >= mark {
        return lo;
    }
    if price(model, right, s, k, t, r, hi) <= mark {
        return hi;
    }
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if price(model, right, s, k, t, r, mid) < mark {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-7 {
            break;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn black_scholes_reference_value() {
        // Hull's example: S=42, K=40, r=10%, σ=20%, T=0.5 → call 4.76, put 0.81.
        let c = price(Model::BlackScholes, Right::Call, 42.0, 40.0, 0.5, 0.1, 0.2);
        let p = price(Model::BlackScholes, Right::Put, 42.0, 40.0, 0.5, 0.1, 0.2);
        assert!((c - 4.76).abs() < 0.01, "{c}");
        assert!((p - 0.81).abs() < 0.01, "{p}");
    }

    #[test]
    fn black76_put_call_parity() {
        let (f, k, t, r, v) = (5912.25, 5900.0, 0.07, 0.04, 0.18);
        let c = price(Model::Black76, Right::Call, f, k, t, r, v);
        let p = price(Model::Black76, Right::Put, f, k, t, r, v);
        assert!((c - p - (-r * t).exp() * (f - k)).abs() < 1e-6);
    }

    #[test]
    fn implied_vol_round_trips() {
        let m = price(
            Model::BlackScholes,
            Right::Put,
            187.2,
            180.0,
            0.1,
            0.0,
            0.31,
        );
        let v = implied_vol(Model::BlackScholes, Right::Put, 187.2, 180.0, 0.1, 0.0, m);
        assert!((v - 0.31).abs() < 1e-5);
    }
}
