//! The futures segment: one group per commodity (future symbol). SPAN when every position of the
//! commodity has a risk array; otherwise the exchange per-contract rates, long futures options paid
//! in full, short futures options charged the future's rate plus their value (a conservative
//! stand-in for SPAN, documented in docs/margin.md).

mod span;
mod table;

use crate::error::MarginError;
use crate::explain::{Node, amt};
use crate::group::GroupResult;
use crate::model::{Instrument, Portfolio, Position, RiskArray, Underlying};
use rust_decimal::Decimal;

const RULE_TABLE: &str =
    "futures: exchange per-contract margin × |qty| (CME performance-bond rates; IB)";
const RULE_LONG_FOP: &str = "long futures option: premium paid in full, no margin (IB; CME)";
const RULE_SHORT_FOP: &str = "short futures option without risk array: future's per-contract margin + option value (conservative stand-in for SPAN)";
const RULE_SPAN: &str = "SPAN: max(scanning risk + intra-commodity charge, short option minimum) − net option value (CME SPAN)";

/// Requirement of one commodity.
pub(crate) fn group(
    p: &Portfolio,
    und: &Underlying,
    positions: &[(usize, &Position)],
) -> Result<GroupResult, MarginError> {
    let arrays: Option<Vec<&RiskArray>> = positions
        .iter()
        .map(|(_, pos)| find_array(p, pos))
        .collect();
    match arrays {
        Some(arrays) if !positions.is_empty() => span_group(p, und, positions, &arrays),
        _ => table_group(p, und, positions),
    }
}

fn find_array<'a>(p: &'a Portfolio, pos: &Position) -> Option<&'a RiskArray> {
    p.risk_arrays.iter().find(|a| {
        if a.symbol != pos.symbol {
            return false;
        }
        match &pos.instrument {
            Instrument::Future { expiry, .. } => {
                a.right.is_none() && a.expiry.is_none_or(|e| e == *expiry)
            }
            Instrument::FutureOption(spec) => {
                a.right == Some(spec.right)
                    && a.strike.is_some_and(|k| k == spec.strike)
                    && a.expiry.is_none_or(|e| e == spec.expiry)
            }
            _ => false,
        }
    })
}

fn span_group(
    p: &Portfolio,
    und: &Underlying,
    positions: &[(usize, &Position)],
    arrays: &[&RiskArray],
) -> Result<GroupResult, MarginError> {
    let legs: Vec<span::Leg<'_>> = positions
        .iter()
        .zip(arrays)
        .map(|((_, pos), a)| match &pos.instrument {
            Instrument::FutureOption(spec) => span::Leg {
                array: a,
                qty: pos.qty,
                option_value: Some(pos.price * spec.multiplier),
                expiry_key: Some(spec.expiry),
            },
            Instrument::Future { expiry, .. } => span::Leg {
                array: a,
                qty: pos.qty,
                option_value: None,
                expiry_key: Some(*expiry),
            },
            _ => span::Leg {
                array: a,
                qty: pos.qty,
                option_value: None,
                expiry_key: None,
            },
        })
        .collect();
    let params = p.span_params.get(&und.symbol).cloned().unwrap_or_default();
    let (maint, text) = span::requirement(&legs, params.spread_charge);
    let initial = maint * params.initial_ratio;
    let children = positions
        .iter()
        .map(|(i, pos)| Node::leg(format!("positions[{i}]: {}", pos.describe())))
        .collect();
    Ok(GroupResult {
        initial,
        maintenance: maint,
        eod: initial,
        node: Node::new(und.symbol.clone(), RULE_SPAN, initial, maint)
            .with_detail(format!(
                "{text}; initial = maintenance × {}",
                amt(params.initial_ratio)
            ))
            .with_children(children),
        stress: None,
    })
}

fn table_group(
    p: &Portfolio,
    und: &Underlying,
    positions: &[(usize, &Position)],
) -> Result<GroupResult, MarginError> {
    let mut children = Vec::new();
    let (mut initial, mut maint) = (Decimal::ZERO, Decimal::ZERO);
    for (i, pos) in positions {
        let label = format!("positions[{i}]: {}", pos.describe());
        let node = match &pos.instrument {
            Instrument::Future { .. } => {
                let r = table::rate(p, &pos.symbol, p.as_of)
                    .map_err(|e| MarginError::new(format!("positions[{i}]"), e.to_string()))?;
                let n = pos.qty.abs();
                Node::new(label, RULE_TABLE, r.initial * n, r.maintenance * n).with_detail(format!(
                    "{} contracts × initial {} / maintenance {}{}",
                    amt(n),
                    amt(r.initial),
                    amt(r.maintenance),
                    r.effective
                        .map(|d| format!(" (effective {d})"))
                        .unwrap_or_default()
                ))
            }
            Instrument::FutureOption(spec) if pos.qty >= Decimal::ZERO => {
                Node::new(label, RULE_LONG_FOP, Decimal::ZERO, Decimal::ZERO).with_detail(format!(
                    "premium {} paid",
                    amt(pos.price * spec.multiplier * pos.qty)
                ))
            }
            Instrument::FutureOption(spec) => {
                let r = table::rate(p, &pos.symbol, p.as_of)
                    .map_err(|e| MarginError::new(format!("positions[{i}]"), e.to_string()))?;
                let n = pos.qty.abs();
                let value = pos.price * spec.multiplier;
                Node::new(
                    label,
                    RULE_SHORT_FOP,
                    (r.initial + value) * n,
                    (r.maintenance + value) * n,
                )
                .with_detail(format!(
                    "{} contracts × ({} / {} + value {})",
                    amt(n),
                    amt(r.initial),
                    amt(r.maintenance),
                    amt(value)
                ))
            }
            _ => {
                return Err(MarginError::new(
                    format!("positions[{i}].kind"),
                    "a stock or option on a future-class underlying",
                ));
            }
        };
        initial += node.initial;
        maint += node.maintenance;
        children.push(node);
    }
    Ok(GroupResult {
        initial,
        maintenance: maint,
        eod: initial,
        node: Node::new(und.symbol.clone(), RULE_TABLE, initial, maint).with_children(children),
        stress: None,
    })
}
