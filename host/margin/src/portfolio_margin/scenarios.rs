//! The portfolio-margin scenario grid: the price range of each class and 10 equally spaced price
//! points across it (OCC TIMS), each at the current volatility and with volatility stressed up
//! (IB); plus IB's concentration stress moves.

use crate::model::{Underlying, UnderlyingClass};

/// Relative volatility shift of the "vol up" scenarios (σ × (1 + this)); the size is the engine's
/// documented assumption. There is no "vol down" scenario: it only hurts long options, whose
/// requirement OCC's TIMS (price points at the current volatility) bounds by the per-contract
/// minimum and the premium (CBOE's published examples: a long straddle costs the minimum).
pub const VOL_SHIFT: f64 = 0.15;

/// Volatility factors applied at every price point: unchanged (TIMS) and up (IB's stress).
const VOL_FACTORS: [f64; 2] = [1.0, 1.0 + VOL_SHIFT];

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

/// The range for an underlying's class (FINRA 4210(g)(2)(F)), × the leverage factor of a leveraged
/// fund whatever index class it tracks (capped at 90%).
pub fn range(und: &Underlying) -> Range {
    let high_cap = HIGH_CAP.contains(&und.symbol.as_str());
    let (down, up, name) = match und.class {
        UnderlyingClass::BroadIndex | UnderlyingClass::Etf | UnderlyingClass::Future
            if high_cap =>
        {
            (0.08, 0.06, "high-cap broad-based index: +6% / −8%")
        }
        UnderlyingClass::BroadIndex | UnderlyingClass::Future => {
            (0.10, 0.10, "broad-based index: ±10%")
        }
        UnderlyingClass::LeveragedEtf => (0.15, 0.15, "leveraged ETF: ±15%"),
        UnderlyingClass::Equity | UnderlyingClass::Etf | UnderlyingClass::NarrowIndex => {
            (0.15, 0.15, "equity / narrow index / ETF: ±15%")
        }
    };
    let l: f64 = und.leverage.try_into().unwrap_or(1.0);
    if l == 1.0 {
        return Range { down, up, name };
    }
    Range {
        down: (down * l).min(0.9),
        up: (up * l).min(0.9),
        name: match und.class {
            UnderlyingClass::BroadIndex | UnderlyingClass::Etf if high_cap => {
                "high-cap broad-based index +6% / −8%, × leverage"
            }
            UnderlyingClass::BroadIndex => "broad-based index ±10%, × leverage",
            _ => "±15% × leverage",
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
            "vol unchanged"
        };
        format!("price {:+.2}%, {vol}", self.price_move * 100.0)
    }
}

/// 10 equally spaced price points (5 down, 5 up, excluding no move) × vol unchanged / up.
pub fn standard(r: Range) -> Vec<Scenario> {
    let mut out = Vec::with_capacity(20);
    for i in 1..=5 {
        for m in [-r.down * f64::from(i) / 5.0, r.up * f64::from(i) / 5.0] {
            for v in VOL_FACTORS {
                out.push(Scenario {
                    price_move: m,
                    vol_factor: v,
                });
            }
        }
    }
    out
}

/// ±`pct` with vol unchanged / up (IB concentration stress).
pub fn symmetric(pct: f64) -> Vec<Scenario> {
    let mut out = Vec::with_capacity(4);
    for m in [-pct, pct] {
        for v in VOL_FACTORS {
            out.push(Scenario {
                price_move: m,
                vol_factor: v,
            });
        }
    }
    out
}
