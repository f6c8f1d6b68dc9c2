//! Holdings as TWS reports them.

use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub instrument_id: i64,
    /// Signed: negative is short.
    pub quantity: Decimal,
    pub average_cost: Decimal,
}
