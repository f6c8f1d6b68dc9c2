//! Stand-alone (ungrouped) requirements: naked short options, long options, stock long and short
//! (margin-rules §1, §2 first rows). These are also the baseline that grouping saves against.

use super::book::{Book, OptLeg};
use crate::explain::amt;
use crate::model::Right;
use rust_decimal::Decimal;
use std::ops::{Add, Mul};

/// Initial, maintenance and end-of-day Reg T figures of one unit or one strategy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Costs {
    pub init: Decimal,
    pub maint: Decimal,
    pub eod: Decimal,
}

impl Costs {
    pub fn same(v: Decimal) -> Costs {
        Costs {
            init: v,
            maint: v,
            eod: v,
        }
    }
}

impl Add for Costs {
    type Output = Costs;
    fn add(self, o: Costs) -> Costs {
        Costs {
            init: self.init + o.init,
            maint: self.maint + o.maint,
            eod: self.eod + o.eod,
        }
    }
}

impl Mul<Decimal> for Costs {
    type Output = Costs;
    fn mul(self, k: Decimal) -> Costs {
        Costs {
            init: self.init * k,
            maint: self.maint * k,
            eod: self.eod * k,
        }
    }
}

pub(crate) const RULE_LONG_OPTION: &str =
    "long option: paid in full, no margin (IB; Reg T §220.12)";
pub(crate) const RULE_NAKED_CALL: &str =
    "short naked call: value + max(pct·S − OTM, 10%·S) (IB; FINRA 4210(f)(2)(D); CBOE 12.3)";
pub(crate) const RULE_NAKED_PUT: &str =
    "short naked put: value + max(pct·S − OTM, 10%·K) (IB; FINRA 4210(f)(2)(D); CBOE 12.3)";
pub(crate) const RULE_LONG_STOCK: &str =
    "long stock: 25% of value; Reg T end of day 50% (IB; FINRA 4210(c); Reg T §220.12)";
pub(crate) const RULE_SHORT_STOCK: &str =
    "short stock: initial 30%, maintenance by price tier; Reg T end of day 50% (IB; FINRA 4210(c))";

/// Per-share requirement of a naked short option (initial = maintenance = end of day).
pub(crate) fn naked_per_share(book: &Book, leg: &OptLeg) -> Decimal {
    let r = &book.rates;
    let s = r.s;
    let otm = leg.otm(s);
    let floor = match leg.spec.right {
        Right::Call => r.floor_pct * s,
        Right::Put => r.floor_pct * leg.spec.strike,
    };
    leg.mark + (r.naked_pct * s - otm).max(floor)
}

/// Requirement of one contract of `leg` standing alone (0 for a long option).
pub(crate) fn option_unit(book: &Book, leg: &OptLeg) -> Costs {
    if leg.qty > 0 {
        Costs::default()
    } else {
        Costs::same(naked_per_share(book, leg) * leg.mult())
    }
}

/// Explanation of a stand-alone option leg (per contract).
pub(crate) fn option_detail(book: &Book, leg: &OptLeg) -> (&'static str, String) {
    if leg.qty > 0 {
        return (RULE_LONG_OPTION, "0".to_string());
    }
    let r = &book.rates;
    let s = r.s;
    let (rule, floor_text, floor) = match leg.spec.right {
        Right::Call => (
            RULE_NAKED_CALL,
            format!("{}·{}", amt(r.floor_pct), amt(s)),
            r.floor_pct * s,
        ),
        Right::Put => (
            RULE_NAKED_PUT,
            format!("{}·{}", amt(r.floor_pct), amt(leg.spec.strike)),
            r.floor_pct * leg.spec.strike,
        ),
    };
    let per_share = naked_per_share(book, leg);
    (
        rule,
        format!(
            "per contract: ({} + max({}·{} − {}, {} = {})) × {} = {}",
            amt(leg.mark),
            amt(r.naked_pct),
            amt(s),
            amt(leg.otm(s)),
            floor_text,
            amt(floor),
            leg.spec.multiplier,
            amt(per_share * leg.mult())
        ),
    )
}

/// Per-share requirement of the stock position standing alone.
pub(crate) fn stock_share(book: &Book) -> Costs {
    let r = &book.rates;
    if book.stock >= Decimal::ZERO {
        Costs {
            init: r.long_init,
            maint: r.long_maint,
            eod: r.long_eod,
        }
    } else {
        Costs {
            init: r.short_init,
            maint: r.short_maint,
            eod: r.short_eod,
        }
    }
}

/// Explanation of stand-alone shares.
pub(crate) fn stock_detail(book: &Book, shares: Decimal) -> (&'static str, String) {
    let c = stock_share(book) * shares.abs();
    let r = &book.rates;
    if book.stock >= Decimal::ZERO {
        (
            RULE_LONG_STOCK,
            format!(
                "{} shares × {} = initial {}, maintenance {}, end of day {}",
                amt(shares.abs()),
                amt(r.s),
                amt(c.init),
                amt(c.maint),
                amt(c.eod)
            ),
        )
    } else {
        (
            RULE_SHORT_STOCK,
            format!(
                "{} shares × {}: initial {}, maintenance {} ({}), end of day {}",
                amt(shares.abs()),
                amt(r.s),
                amt(c.init),
                amt(c.maint),
                r.short_maint_rule,
                amt(c.eod)
            ),
        )
    }
}
