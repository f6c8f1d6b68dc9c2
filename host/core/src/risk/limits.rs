//! Per-account risk limits. The defaults are deliberately small: a new user raises them.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

/// The limits one account trades under. Stored as the setting `risk.limits.<account>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskLimits {
    /// Largest quantity of one order (shares, contracts).
    pub max_quantity: Decimal,
    /// Largest value of one order: quantity × price × multiplier.
    pub max_notional: Decimal,
    /// How far a limit or stop price may be from the last quote, as a fraction (0.05 = 5 %).
    pub price_collar: Decimal,
    /// Largest absolute position in one instrument after the order fills.
    pub max_position: Decimal,
    /// Most orders accepted in any 60-second window.
    pub max_orders_per_minute: u32,
    /// Once today's loss reaches this, only orders that reduce a position pass.
    pub max_daily_loss: Decimal,
}

impl Default for RiskLimits {
    fn default() -> Self {
        Self {
            max_quantity: dec!(500),
            max_notional: dec!(50000),
            price_collar: dec!(0.05),
            max_position: dec!(1000),
            max_orders_per_minute: 30,
            max_daily_loss: dec!(2000),
        }
    }
}
