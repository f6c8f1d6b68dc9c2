//! Fills reported by TWS.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::spelled_enum;

/// IB reports fills as bought or sold, not buy/sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecSide {
    Bought,
    Sold,
}
spelled_enum!(ExecSide, "execution side", { Bought => "BOT", Sold => "SLD" });

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// IB's execution id; unique, so a replay after reconnect is idempotent.
    pub exec_id: String,
    pub order_ref: Option<String>,
    pub tws_order_id: Option<i32>,
    pub tws_perm_id: Option<i64>,
    pub account: String,
    pub instrument_id: i64,
    pub side: ExecSide,
    pub quantity: Decimal,
    pub price: Decimal,
    pub commission: Option<Decimal>,
    pub commission_currency: Option<String>,
    pub realized_pnl: Option<Decimal>,
    pub executed_at: DateTime<Utc>,
}
