//! The portfolio-margin scenario grid (margin-rules §4): the price range of each class, 10 equally
//! spaced price points across it, each with volatility stressed up and down; plus IB's
//! concentration stress moves.

use crate::model::{Underlying, UnderlyingClass};

/// Relative volatility shift of the "vol up" / "vol down" scenarios (σ × (1 ± this)).
/// The reference does not give the size; this is the engine's documented assumption.
pub const VOL_SHIFT: f64 = 0.15;

/// Symbols treated as high-capitalisation broad-based indices (SPX, NDX and products on them).
const HIGH_CAP: &[&str] = &[
    "SPX", "SPXW", "XSP", "NDX", "NDXP", "NQX", "SPY", "IVV", "VOO", "QQQ", "ES", "MES", "NQ",
    "MNQ",
];

/// The price range of a class: moves from `-down` to `+up` (fractions).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// Largest down move (0.15 = −15%).
    pub down: f64,
    /// Largest up move.
    pub up: f64,
    /// The rule, for the explanation.
    pub name: &'static str,
}

/// The range for an underlying's class (FINRA 4210(g)(2)(F)).
pub fn range(und: &Underlying) -> Range {
    let high_cap = HIGH_CAP.contains(&und.symbol.as_str());
    match und.class {
        UnderlyingClass::BroadIndex | UnderlyingClass::Etf | UnderlyingClass::Future
            if high_cap =>
        {
            Range {
                down: 0.08,
                up: 0.06,
                name: "high-cap broad-based index: +6% / −8%",
            }
        }
        UnderlyingClass::BroadIndex | UnderlyingClass::Future => Range {
            down: 0.10,
            up: 0.10,
            name: "broad-based index: ±10%",
        },
        UnderlyingClass::LeveragedEtf => {
            let l: f64 = und.leverage.try_into().unwrap_or(1.0);
            let r = (0.15 * l).min(0.9);
            Range {
                down: r,
                up: r,
                name: "leveraged ETF: ±15% × leverage",
            }
        }
        UnderlyingClass::Equity | UnderlyingClass::Etf | UnderlyingClass::NarrowIndex => Range {
            down: 0.15,
            up: 0.15,
            name: "equity / narrow index / ETF: ±15%",
        },
    }
}

/// One scenario: relative price move and volatility factor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scenario {
    /// Relative move of the underlying (−0.15 = −15%).
    pub price_move: f64,
    /// Factor applied to each series' volatility.
    pub vol_factor: f64,
}

impl Scenario {
    /// E.g. `price -15.00%, vol up`.
    pub fn describe(&self) -> String {
        let vol = if self.vol_factor > 1.0 {
            "vol up"
        } else {
            "vol down"
        };
        format!("price {:+.2}%, {vol}", self.price_move * 100.0)
    }
}

/// 10 equally spaced price points (5 down, 5 up, excluding no move) × vol up/down.
pub fn standard(r: Range) -> Vec<Scenario> {
    let mut out = Vec::with_capacity(20);
    for i in 1..=5 {
        for m in [-r.down * f64::from(i) / 5.0, r.up * f64::from(i) / 5.0] {
            for v in [1.0 + VOL_SHIFT, 1.0 - VOL_SHIFT] {
                out.push(Scenario {
                    price_move: m,
                    vol_factor: v,
                });
            }
        }
    }
    out
}

/// ±`pct` with vol up/down (IB concentration stress).
pub fn symmetric(pct: f64) -> Vec<Scenario> {
    let mut out = Vec::with_capacity(4);
    for m in [-pct, pct] {
        for v in [1.0 + VOL_SHIFT, 1.0 - VOL_SHIFT] {
            out.push(Scenario {
                price_move: m,
                vol_factor: v,
            });
        }
    }
    out
}
