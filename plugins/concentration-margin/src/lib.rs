//! Example margin-rule plugin: a concentration surcharge.
//!
//! The market value of each underlying is the sum, over its legs (shares, options, futures),
//! of |quantity × price × multiplier|. The portfolio's gross value is the sum over all
//! underlyings. When one underlying is worth more than [`THRESHOLD`] (25 %) of the gross
//! value, the part above that share is charged [`RATE`] (20 %):
//!
//! `surcharge(u) = RATE × (value(u) − THRESHOLD × gross)` for each `u` with
//! `value(u) > THRESHOLD × gross`.
//!
//! The total is added to both the initial and the maintenance requirement, in exact decimals
//! rounded to cents, and the reason names each underlying charged. The rule is pure: it sees
//! only the snapshot the host hands it.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use tickwork_plugin_api::sdk::{MarginInput, MarginOutcome, MarginRule};

tickwork_plugin_api::export_plugin! {
    id: "org.tickwork.example.concentration-margin",
    version: env!("CARGO_PKG_VERSION"),
    strategies: [],
    margin_rules: [Concentration],
    panels: [],
}

/// Share of the gross value above which an underlying is charged: 25 %.
pub const THRESHOLD: Decimal = Decimal::from_parts(25, 0, 0, false, 2);
/// Charge on the value above the threshold: 20 %.
pub const RATE: Decimal = Decimal::from_parts(20, 0, 0, false, 2);

/// The rule.
pub struct Concentration;

/// The market value of each underlying, by symbol (sorted, so the reason reads the same every
/// time).
pub fn values_by_underlying(input: &MarginInput) -> BTreeMap<&str, Decimal> {
    let mut out: BTreeMap<&str, Decimal> = BTreeMap::new();
    for leg in &input.legs {
        *out.entry(leg.symbol.as_str()).or_default() += leg.market_value().abs();
    }
    out
}

impl MarginRule for Concentration {
    const RULE_ID: &'static str = "org.tickwork.example.concentration";

    fn compute(input: &MarginInput) -> Result<MarginOutcome, String> {
        let values = values_by_underlying(input);
        let gross: Decimal = values.values().sum();
        if gross.is_zero() {
            return Ok(MarginOutcome::Unchanged);
        }
        let limit = THRESHOLD * gross;
        let mut total = Decimal::ZERO;
        let mut parts = Vec::new();
        for (symbol, value) in &values {
            if *value > limit {
                let charge = (RATE * (value - limit)).round_dp(2);
                total += charge;
                parts.push(format!(
                    "{symbol} {value:.2} is {:.2}% of gross {gross:.2}: {}% of {:.2} above {}% = {charge:.2}",
                    (value / gross * Decimal::ONE_HUNDRED).round_dp(2),
                    (RATE * Decimal::ONE_HUNDRED).normalize(),
                    value - limit,
                    (THRESHOLD * Decimal::ONE_HUNDRED).normalize(),
                ));
            }
        }
        if total.is_zero() {
            return Ok(MarginOutcome::Unchanged);
        }
        Ok(MarginOutcome::AddOn {
            initial: total,
            maintenance: total,
            reason: format!("concentration surcharge: {}", parts.join("; ")),
        })
    }
}

#[cfg(test)]
mod tests;
