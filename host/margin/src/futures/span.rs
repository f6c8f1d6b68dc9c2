//! SPAN scanning for one combined commodity (CME SPAN methodology): sum the 16-scenario risk arrays,
//! count the two extreme scenarios at their fraction, take the largest loss, add the intra-commodity
//! spread charge, floor at the short option minimum, subtract the net option value.

use crate::explain::amt;
use crate::model::RiskArray;
use rust_decimal::Decimal;

/// One position's contribution: its array, signed contracts, and option value if an option.
pub(crate) struct Leg<'a> {
    pub array: &'a RiskArray,
    pub qty: Decimal,
    /// `Some(price × multiplier)` per contract for an option; `None` for a future.
    pub option_value: Option<Decimal>,
    pub expiry_key: Option<crate::date::Date>,
}

/// The SPAN maintenance requirement and its explanation.
pub(crate) fn requirement(legs: &[Leg<'_>], spread_charge: Decimal) -> (Decimal, String) {
    let mut totals = [Decimal::ZERO; 16];
    for l in legs {
        for (k, v) in l.array.scenarios.iter().enumerate() {
            let w = if k >= 14 {
                l.array.extreme_fraction
            } else {
                Decimal::ONE
            };
            totals[k] += l.qty * *v * w;
        }
    }
    let (worst_k, scan) = totals
        .iter()
        .enumerate()
        .fold((0usize, Decimal::ZERO), |acc, (k, v)| {
            if *v > acc.1 { (k, *v) } else { acc }
        });
    // Intra-commodity: futures calendar spreads = min(long, short) futures when expiries differ.
    let mut long = Decimal::ZERO;
    let mut short = Decimal::ZERO;
    let mut expiries = std::collections::BTreeSet::new();
    let mut som = Decimal::ZERO;
    let mut nov = Decimal::ZERO;
    for l in legs {
        match l.option_value {
            None => {
                expiries.insert(l.expiry_key);
                if l.qty > Decimal::ZERO {
                    long += l.qty
                } else {
                    short -= l.qty
                }
            }
            Some(v) => {
                nov += l.qty * v;
                if l.qty < Decimal::ZERO {
                    som += -l.qty * l.array.short_option_minimum;
                }
            }
        }
    }
    let spreads = if expiries.len() > 1 {
        long.min(short)
    } else {
        Decimal::ZERO
    };
    let intra = spreads * spread_charge;
    let risk = (scan + intra).max(som);
    let total = (risk - nov).max(Decimal::ZERO);
    let text = format!(
        "scanning risk {} (scenario {}), intra-commodity charge {} ({} spreads × {}), short option minimum {}, net option value {}: max({} + {}, {}) − {} = {}",
        amt(scan),
        worst_k + 1,
        amt(intra),
        amt(spreads),
        amt(spread_charge),
        amt(som),
        amt(nov),
        amt(scan),
        amt(intra),
        amt(som),
        amt(nov),
        amt(total)
    );
    (total, text)
}
