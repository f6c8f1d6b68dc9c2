//! One underlying's book for Reg T: identical series netted, stock shares summed, and the per-share
//! rates that the underlying's class implies.

use crate::error::MarginError;
use crate::model::{Instrument, OptionSpec, Position, Underlying, UnderlyingClass};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::BTreeMap;

/// A netted option series.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OptLeg {
    pub spec: OptionSpec,
    /// Signed contracts after netting.
    pub qty: i64,
    /// Current mark per share.
    pub mark: Decimal,
}

impl OptLeg {
    /// Per-share intrinsic (ITM) amount at `s`.
    pub fn itm(&self, s: Decimal) -> Decimal {
        match self.spec.right {
            crate::model::Right::Call => (s - self.spec.strike).max(Decimal::ZERO),
            crate::model::Right::Put => (self.spec.strike - s).max(Decimal::ZERO),
        }
    }

    /// Per-share out-of-the-money amount at `s`.
    pub fn otm(&self, s: Decimal) -> Decimal {
        match self.spec.right {
            crate::model::Right::Call => (self.spec.strike - s).max(Decimal::ZERO),
            crate::model::Right::Put => (s - self.spec.strike).max(Decimal::ZERO),
        }
    }

    pub fn mult(&self) -> Decimal {
        self.spec.multiplier
    }
}

/// Per-share rates for one underlying (docs/margin.md, Reg T; leverage applied, capped at 100%).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rates {
    pub s: Decimal,
    /// 20% (15% broad-based index) × leverage.
    pub naked_pct: Decimal,
    /// 10% floor × leverage.
    pub floor_pct: Decimal,
    pub long_init: Decimal,
    pub long_maint: Decimal,
    pub long_eod: Decimal,
    pub short_init: Decimal,
    pub short_maint: Decimal,
    pub short_eod: Decimal,
    /// Long-stock maintenance percentage (used by the covered-call formula).
    pub long_maint_pct: Decimal,
    pub short_maint_rule: &'static str,
}

/// A class percentage × the fund's leverage factor, capped at 100%. IB (and CBOE 12.3 for options
/// on leveraged funds) scale the percentage of whatever class the fund tracks: a 1.5× fund on a
/// broad index is 15% × 1.5 = 22.5%. Leverage is 1 for ordinary underlyings.
fn levered(pct: Decimal, und: &Underlying) -> Decimal {
    (pct * und.leverage).min(Decimal::ONE)
}

impl Rates {
    pub fn for_underlying(und: &Underlying) -> Rates {
        let s = und.price;
        let naked = if und.class == UnderlyingClass::BroadIndex {
            dec!(0.15)
        } else {
            dec!(0.20)
        };
        let (long_pct, short_pct, eod_pct) = if und.marginable {
            (
                levered(dec!(0.25), und),
                levered(dec!(0.30), und),
                levered(dec!(0.50), und),
            )
        } else {
            (Decimal::ONE, Decimal::ONE, Decimal::ONE)
        };
        let (short_maint, short_maint_rule) = if !und.marginable {
            (s, "non-marginable: 100% of value")
        } else if s > dec!(16.67) {
            (short_pct * s, "short stock above $16.67: 30% of value")
        } else if s > dec!(5) {
            (dec!(5), "short stock $5–$16.67: $5.00 per share")
        } else if s > dec!(2.50) {
            (s, "short stock $2.50–$5: 100% of value")
        } else {
            (dec!(2.50), "short stock at or below $2.50: $2.50 per share")
        };
        Rates {
            s,
            naked_pct: levered(naked, und),
            floor_pct: levered(dec!(0.10), und),
            long_init: long_pct * s,
            long_maint: long_pct * s,
            long_eod: eod_pct * s,
            short_init: short_pct * s,
            short_maint,
            short_eod: eod_pct * s,
            long_maint_pct: long_pct,
            short_maint_rule,
        }
    }
}

/// One underlying's positions, netted.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Book {
    pub symbol: String,
    pub rates: Rates,
    /// Netted option series, sorted canonically (independent of input order).
    pub options: Vec<OptLeg>,
    /// Net shares (signed).
    pub stock: Decimal,
}

impl Book {
    /// Nets the positions of one underlying. `positions` carry their index in the portfolio for
    /// error paths.
    pub fn build(und: &Underlying, positions: &[(usize, &Position)]) -> Result<Book, MarginError> {
        let mut series: BTreeMap<OptionSpec, (i64, Decimal)> = BTreeMap::new();
        let mut stock = Decimal::ZERO;
        for (i, p) in positions {
            match &p.instrument {
                Instrument::Stock => stock += p.qty,
                Instrument::Option(spec) => {
                    let qty = whole(p.qty).ok_or_else(|| {
                        MarginError::new(
                            format!("positions[{i}].qty"),
                            "option quantity must be a whole number",
                        )
                    })?;
                    let mut spec = *spec;
                    spec.strike = spec.strike.normalize();
                    let e = series.entry(spec).or_insert((0, p.price));
                    e.0 = e.0.checked_add(qty).ok_or_else(|| {
                        MarginError::new(format!("positions[{i}].qty"), "quantity too large")
                    })?;
                }
                Instrument::Future { .. } | Instrument::FutureOption(_) => {
                    return Err(MarginError::new(
                        format!("positions[{i}]"),
                        "futures are margined by the futures rules",
                    ));
                }
            }
        }
        let options = series
            .into_iter()
            .filter(|(_, (q, _))| *q != 0)
            .map(|(spec, (qty, mark))| OptLeg { spec, qty, mark })
            .collect();
        Ok(Book {
            symbol: und.symbol.clone(),
            rates: Rates::for_underlying(und),
            options,
            stock,
        })
    }

    /// Index of the stock in the unit vectors (after the option series).
    pub fn stock_index(&self) -> usize {
        self.options.len()
    }

    /// Whole shares available for covering (capacity of the stock unit).
    pub fn stock_capacity(&self) -> i64 {
        whole(self.stock.abs().floor()).unwrap_or(i64::MAX / 4)
    }
}

/// A whole number as i64 (`None` if fractional or out of range).
pub(crate) fn whole(d: Decimal) -> Option<i64> {
    if !d.fract().is_zero() {
        return None;
    }
    let n = d.trunc().mantissa() / 10i128.pow(d.trunc().scale());
    i64::try_from(n).ok().filter(|v| v.abs() < i64::MAX / 4)
}
