//! Defined-risk combinations (butterflies, condors, iron condors, with equal or unequal wings): IB
//! charges min(maximum loss, spread decomposition). The maximum loss is read off the payoff at
//! expiry, a piecewise-linear function of S with kinks at the strikes, so it is exact; the spread
//! decomposition pairs every short leg with a long leg of the same right (the cheaper pairing when
//! there is a choice) and sums the vertical-spread requirements. Premiums are not counted: long
//! legs are paid in full, so a combination that cannot lose at expiry costs 0 beyond them.

use crate::model::Right;
use rust_decimal::Decimal;

/// One leg of a combination, per unit of the strategy: signed ratio (+1 long, −2 two short).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Leg {
    pub right: Right,
    pub strike: Decimal,
    pub ratio: i64,
}

/// The requirement per share of one unit and its two candidates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Cost {
    /// Worst loss at expiry (≥ 0), `None` when the loss is unbounded.
    pub max_loss: Option<Decimal>,
    /// Sum of the vertical spreads of the best pairing, `None` when the legs do not pair up.
    pub spreads: Option<Decimal>,
    /// min of the two available figures.
    pub requirement: Decimal,
}

/// Per-share requirement of a combination of same-expiry legs.
pub(crate) fn cost(legs: &[Leg]) -> Cost {
    let max_loss = max_loss(legs);
    let spreads = decomposition(legs);
    let requirement = match (max_loss, spreads) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        // Not a defined-risk shape: the templates never build one.
        (None, None) => Decimal::ZERO,
    };
    Cost {
        max_loss,
        spreads,
        requirement,
    }
}

/// Value at expiry per share of the combination when the underlying settles at `s`.
fn payoff(legs: &[Leg], s: Decimal) -> Decimal {
    legs.iter()
        .map(|l| {
            let intrinsic = match l.right {
                Right::Call => (s - l.strike).max(Decimal::ZERO),
                Right::Put => (l.strike - s).max(Decimal::ZERO),
            };
            Decimal::from(l.ratio) * intrinsic
        })
        .sum()
}

/// The largest loss at expiry: the payoff is linear between strikes, so its minimum over S ≥ 0 is
/// at 0, at a strike, or unbounded when the slope above the highest strike is negative.
fn max_loss(legs: &[Leg]) -> Option<Decimal> {
    let slope_above: i64 = legs
        .iter()
        .filter(|l| l.right == Right::Call)
        .map(|l| l.ratio)
        .sum();
    if slope_above < 0 {
        return None;
    }
    let lowest = legs
        .iter()
        .map(|l| l.strike)
        .chain([Decimal::ZERO])
        .map(|s| payoff(legs, s))
        .min()
        .unwrap_or(Decimal::ZERO);
    Some((-lowest).max(Decimal::ZERO))
}

/// The cheapest way to pair each short unit with a long unit of the same right as vertical spreads
/// (call: max(K_long − K_short, 0); put: max(K_short − K_long, 0)); `None` if no pairing exists.
fn decomposition(legs: &[Leg]) -> Option<Decimal> {
    let units = |long: bool| -> Vec<(Right, Decimal)> {
        legs.iter()
            .filter(|l| (l.ratio > 0) == long)
            .flat_map(|l| std::iter::repeat_n((l.right, l.strike), l.ratio.unsigned_abs() as usize))
            .collect()
    };
    let (shorts, mut longs) = (units(false), units(true));
    if shorts.len() > longs.len() {
        return None;
    }
    best_pairing(&shorts, &mut longs)
}

/// Exhaustive search over the assignments (combinations have at most four legs).
fn best_pairing(shorts: &[(Right, Decimal)], longs: &mut Vec<(Right, Decimal)>) -> Option<Decimal> {
    let Some((&(right, k_short), rest)) = shorts.split_first() else {
        return Some(Decimal::ZERO);
    };
    let mut best: Option<Decimal> = None;
    for i in 0..longs.len() {
        let (r, k_long) = longs[i];
        if r != right {
            continue;
        }
        let width = match right {
            Right::Call => (k_long - k_short).max(Decimal::ZERO),
            Right::Put => (k_short - k_long).max(Decimal::ZERO),
        };
        let taken = longs.remove(i);
        if let Some(v) = best_pairing(rest, longs) {
            best = Some(best.map_or(width + v, |b: Decimal| b.min(width + v)));
        }
        longs.insert(i, taken);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn leg(right: Right, strike: Decimal, ratio: i64) -> Leg {
        Leg {
            right,
            strike,
            ratio,
        }
    }

    #[test]
    fn broken_wing_call_butterfly_costs_its_max_loss() {
        // +180 −2×190 +205 calls: loses 5 above 205; spreads: 0 + (205 − 190) = 15.
        let c = cost(&[
            leg(Right::Call, dec!(180), 1),
            leg(Right::Call, dec!(190), -2),
            leg(Right::Call, dec!(205), 1),
        ]);
        assert_eq!(c.max_loss, Some(dec!(5)));
        assert_eq!(c.spreads, Some(dec!(15)));
        assert_eq!(c.requirement, dec!(5));
    }

    #[test]
    fn unbalanced_iron_condor_costs_the_wider_wing() {
        let c = cost(&[
            leg(Right::Put, dec!(165), 1),
            leg(Right::Put, dec!(180), -1),
            leg(Right::Call, dec!(200), -1),
            leg(Right::Call, dec!(210), 1),
        ]);
        assert_eq!((c.max_loss, c.spreads), (Some(dec!(15)), Some(dec!(25))));
        assert_eq!(c.requirement, dec!(15));
    }

    #[test]
    fn naked_short_call_is_unbounded() {
        assert_eq!(max_loss(&[leg(Right::Call, dec!(100), -1)]), None);
    }
}
