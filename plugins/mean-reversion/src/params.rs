//! The strategy's parameters, checked field by field.

use rust_decimal::Decimal;
use serde::Deserialize;

/// `{"symbol":"SPY","window":20,"entry_z":"2.0","qty":"10"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// What to trade (`SPY`).
    pub symbol: String,
    /// How many closes the mean and deviation are taken over (at least 2).
    pub window: usize,
    /// How many deviations from the mean open a position (positive).
    pub entry_z: Decimal,
    /// Position size (positive).
    pub qty: Decimal,
}

impl Params {
    /// Parses and checks; the error names the field at fault.
    pub fn parse(json: &str) -> Result<Params, String> {
        let p: Params = serde_json::from_str(json).map_err(|e| format!("params: {e}"))?;
        if p.symbol.trim().is_empty() {
            return Err("params: `symbol` is empty".to_owned());
        }
        if p.window < 2 {
            return Err(format!(
                "params: `window` must be at least 2, not {}",
                p.window
            ));
        }
        if p.entry_z <= Decimal::ZERO {
            return Err(format!(
                "params: `entry_z` must be positive, not {}",
                p.entry_z
            ));
        }
        if p.qty <= Decimal::ZERO {
            return Err(format!("params: `qty` must be positive, not {}", p.qty));
        }
        Ok(p)
    }
}
