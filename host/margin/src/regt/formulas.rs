//! Requirements of one unit of each Reg T strategy (docs/margin.md), with the formula and its
//! numbers for the explanation. Amounts are per share, then × multiplier.

use super::book::{Book, OptLeg};
use super::defined_risk;
use super::naked::{Costs, naked_per_share};
use super::strategy::Kind;
use crate::explain::amt;
use crate::model::Right;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// Requirement of one unit of a strategy, and (if `explain`) the formula with numbers.
pub(crate) fn price(book: &Book, kind: Kind, legs: &[usize], explain: bool) -> (Costs, String) {
    let o = &book.options;
    let r = &book.rates;
    let s = r.s;
    let leg = |n: usize| -> &OptLeg { &o[legs.get(n).copied().unwrap_or(0)] };
    let m = leg(0).mult();
    let k = |n: usize| leg(n).spec.strike;
    let ten = dec!(0.10);
    let (per_share, text): (Costs, String) = match kind {
        Kind::Spread => {
            let (short, long) = (leg(0), leg(1));
            let v = match short.spec.right {
                Right::Call => (long.spec.strike - short.spec.strike).max(Decimal::ZERO),
                Right::Put => (short.spec.strike - long.spec.strike).max(Decimal::ZERO),
            };
            (
                Costs::same(v),
                text_if(explain, || match short.spec.right {
                    Right::Call => format!(
                        "max(K_long {} − K_short {}, 0) = {}",
                        amt(long.spec.strike),
                        amt(short.spec.strike),
                        amt(v)
                    ),
                    Right::Put => format!(
                        "max(K_short {} − K_long {}, 0) = {}",
                        amt(short.spec.strike),
                        amt(long.spec.strike),
                        amt(v)
                    ),
                }),
            )
        }
        Kind::ShortStraddle => {
            let (c, p) = (leg(0), leg(1));
            let (nc, np) = (naked_per_share(book, c), naked_per_share(book, p));
            let v = if nc >= np { nc + p.mark } else { np + c.mark };
            (
                Costs::same(v),
                text_if(explain, || {
                    format!(
                        "max(naked call {}, naked put {}) + other leg value {}",
                        amt(nc),
                        amt(np),
                        amt(if nc >= np { p.mark } else { c.mark })
                    )
                }),
            )
        }
        Kind::LongBox => (Costs::default(), text_if(explain, || "0".to_string())),
        Kind::LongButterfly | Kind::ShortButterfly | Kind::IronCondor | Kind::Condor => {
            let combo: Vec<defined_risk::Leg> = legs
                .iter()
                .zip(ratios(kind))
                .map(|(&l, &ratio)| defined_risk::Leg {
                    right: o[l].spec.right,
                    strike: o[l].spec.strike,
                    ratio,
                })
                .collect();
            let c = defined_risk::cost(&combo);
            let shown = |v: Option<Decimal>| v.map_or_else(|| "unbounded".to_string(), amt);
            (
                Costs::same(c.requirement),
                text_if(explain, || {
                    let strikes: Vec<String> = combo
                        .iter()
                        .map(|l| format!("{:+}×{}{}", l.ratio, amt(l.strike), l.right))
                        .collect();
                    format!(
                        "{}: min(max loss at expiry {}, spreads {}) = {}",
                        strikes.join(" "),
                        shown(c.max_loss),
                        shown(c.spreads),
                        amt(c.requirement)
                    )
                }),
            )
        }
        Kind::ShortBox => {
            let close = leg(0).mark - leg(1).mark + leg(2).mark - leg(3).mark;
            let width = k(1) - k(0);
            let v = (dec!(1.02) * close).max(width);
            (
                Costs::same(v),
                text_if(explain, || {
                    format!(
                        "max(1.02 × cost to close {}, width {}) = {}",
                        amt(close),
                        amt(width),
                        amt(v)
                    )
                }),
            )
        }
        Kind::CoveredCall => {
            let c = leg(0);
            let itm = c.itm(s);
            let stock_margin = r.long_maint;
            let a = itm + r.long_maint_pct * s.min(c.spec.strike);
            let b = s.min(c.mark.max(stock_margin));
            let maint = a.max(b);
            (
                Costs {
                    init: r.long_init + itm,
                    maint,
                    eod: r.long_eod + itm,
                },
                text_if(explain, || {
                    format!(
                        "initial {} + ITM {}; maintenance max({} + {}·min({}, {}), min({}, max({}, {}))) = {}",
                        amt(r.long_init),
                        amt(itm),
                        amt(itm),
                        amt(r.long_maint_pct),
                        amt(s),
                        amt(c.spec.strike),
                        amt(s),
                        amt(c.mark),
                        amt(stock_margin),
                        amt(maint)
                    )
                }),
            )
        }
        Kind::CoveredPut => {
            let itm = leg(0).itm(s);
            (
                Costs {
                    init: r.short_init + itm,
                    maint: r.short_maint + itm,
                    eod: r.short_eod + itm,
                },
                text_if(explain, || {
                    format!(
                        "short stock {} / {} + put ITM {}",
                        amt(r.short_init),
                        amt(r.short_maint),
                        amt(itm)
                    )
                }),
            )
        }
        Kind::ProtectivePut => {
            let p = leg(0);
            let maint = (ten * p.spec.strike + p.otm(s)).min(r.long_maint);
            (
                Costs {
                    init: r.long_init,
                    maint,
                    eod: r.long_eod,
                },
                text_if(explain, || {
                    format!(
                        "initial {}; maintenance min(10%·{} + OTM {}, {}) = {}",
                        amt(r.long_init),
                        amt(p.spec.strike),
                        amt(p.otm(s)),
                        amt(r.long_maint),
                        amt(maint)
                    )
                }),
            )
        }
        Kind::ProtectiveCall => {
            let c = leg(0);
            let maint = (ten * c.spec.strike + c.otm(s)).min(r.short_maint);
            (
                Costs {
                    init: r.short_init,
                    maint,
                    eod: r.short_eod,
                },
                text_if(explain, || {
                    format!(
                        "initial {}; maintenance min(10%·{} + OTM {}, {}) = {}",
                        amt(r.short_init),
                        amt(c.spec.strike),
                        amt(c.otm(s)),
                        amt(r.short_maint),
                        amt(maint)
                    )
                }),
            )
        }
        Kind::Collar => {
            let (p, c) = (leg(0), leg(1));
            let itm = c.itm(s);
            let maint = (ten * p.spec.strike + p.otm(s)).min(dec!(0.25) * c.spec.strike);
            (
                Costs {
                    init: r.long_init + itm,
                    maint,
                    eod: r.long_eod + itm,
                },
                text_if(explain, || {
                    format!(
                        "initial {} + call ITM {}; maintenance min(10%·{} + put OTM {}, 25%·{}) = {}",
                        amt(r.long_init),
                        amt(itm),
                        amt(p.spec.strike),
                        amt(p.otm(s)),
                        amt(c.spec.strike),
                        amt(maint)
                    )
                }),
            )
        }
        Kind::Conversion => {
            let c = leg(1);
            let itm = c.itm(s);
            let maint = ten * c.spec.strike + itm;
            (
                Costs {
                    init: r.long_init + itm,
                    maint,
                    eod: r.long_eod + itm,
                },
                text_if(explain, || {
                    format!(
                        "initial {} + call ITM {}; maintenance 10%·{} + {} = {}",
                        amt(r.long_init),
                        amt(itm),
                        amt(c.spec.strike),
                        amt(itm),
                        amt(maint)
                    )
                }),
            )
        }
        Kind::ReverseConversion => {
            let p = leg(0);
            let itm = p.itm(s);
            let maint = ten * p.spec.strike + itm;
            (
                Costs {
                    init: r.short_init + itm,
                    maint,
                    eod: r.short_eod + itm,
                },
                text_if(explain, || {
                    format!(
                        "initial {} + put ITM {}; maintenance 10%·{} + {} = {}",
                        amt(r.short_init),
                        amt(itm),
                        amt(p.spec.strike),
                        amt(itm),
                        amt(maint)
                    )
                }),
            )
        }
    };
    let total = per_share * m;
    let text = if explain {
        format!(
            "per unit, per share: {text}; × {m} = initial {}, maintenance {}",
            amt(total.init),
            amt(total.maint)
        )
    } else {
        text
    };
    (total, text)
}

/// Signed units of each leg per strategy unit, in the leg order documented on [`Kind`].
fn ratios(kind: Kind) -> &'static [i64] {
    match kind {
        Kind::LongButterfly => &[1, -2, 1],
        Kind::ShortButterfly => &[-1, 2, -1],
        Kind::IronCondor | Kind::Condor => &[1, -1, -1, 1],
        _ => &[],
    }
}

fn text_if(explain: bool, f: impl FnOnce() -> String) -> String {
    if explain { f() } else { String::new() }
}
