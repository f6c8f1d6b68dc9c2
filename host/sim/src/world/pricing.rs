//! Option values consistent with the underlying: Black-Scholes for equity and index options,
//! Black-76 for futures options (the same formula with zero carry). f64 is fine here: it is a
//! model, not money.

/// Risk-free rate used by the model.
pub const RATE: f64 = 0.04;

/// Standard normal CDF via the Abramowitz-Stegun erf approximation (error < 1.5e-7).
pub fn norm_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// Option value. `futures` selects Black-76 (underlying is a forward).
pub fn option_price(
    call: bool,
    spot: f64,
    strike: f64,
    years: f64,
    vol: f64,
    futures: bool,
) -> f64 {
    let intrinsic = if call {
        (spot - strike).max(0.0)
    } else {
        (strike - spot).max(0.0)
    };
    if years <= 0.0 || vol <= 0.0 || spot <= 0.0 || strike <= 0.0 {
        return intrinsic;
    }
    let sd = vol * years.sqrt();
    let disc = (-RATE * years).exp();
    let fwd = if futures { spot } else { spot / disc };
    let d1 = ((fwd / strike).ln() + 0.5 * sd * sd) / sd;
    let d2 = d1 - sd;
    let value = if call {
        disc * (fwd * norm_cdf(d1) - strike * norm_cdf(d2))
    } else {
        disc * (strike * norm_cdf(-d2) - fwd * norm_cdf(-d1))
    };
    value
        .max(if futures {
            0.0
        } else {
            intrinsic * disc.min(1.0)
        })
        .max(0.0)
}

/// A simple skew: out-of-the-money puts trade at higher implied volatility.
pub fn smile_vol(base: f64, spot: f64, strike: f64) -> f64 {
    let m = (strike / spot).ln();
    (base * (1.0 - 0.8 * m + 2.0 * m * m)).clamp(0.05, 3.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_call_parity_holds() {
        let (s, k, t, v) = (100.0, 105.0, 0.5, 0.3);
        let c = option_price(true, s, k, t, v, false);
        let p = option_price(false, s, k, t, v, false);
        assert!((c - p - (s - k * (-RATE * t).exp())).abs() < 1e-4);
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!(option_price(true, 100.0, 50.0, 0.0, 0.3, false) == 50.0);
    }
}
