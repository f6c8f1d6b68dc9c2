//! Orders as the workbench tracks them.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::spelled_enum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderSide {
    Buy,
    Sell,
}
spelled_enum!(OrderSide, "order side", { Buy => "BUY", Sell => "SELL" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderType {
    Market,
    Limit,
    Stop,
    StopLimit,
}
spelled_enum!(OrderType, "order type", {
    Market => "MKT", Limit => "LMT", Stop => "STP", StopLimit => "STP LMT",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeInForce {
    Day,
    Gtc,
    Ioc,
}
spelled_enum!(TimeInForce, "time in force", { Day => "DAY", Gtc => "GTC", Ioc => "IOC" });

/// An order and what TWS last told us about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Our unique reference, sent to TWS as `orderRef`; survives reconnects and restarts.
    pub order_ref: String,
    pub account: String,
    pub instrument_id: i64,
    /// `ui`, `script:<name>` or `plugin:<id>/<instance>`.
    pub origin: String,
    pub side: OrderSide,
    pub quantity: Decimal,
    pub order_type: OrderType,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub time_in_force: TimeInForce,
    pub parent_ref: Option<String>,
    pub tws_order_id: Option<i32>,
    pub tws_perm_id: Option<i64>,
    pub tws_client_id: Option<i32>,
    pub status: String,
    /// Why the order ended as it did (TWS's rejection reason, or ours).
    pub status_reason: Option<String>,
    /// A modification TWS has not acknowledged yet; the fields above are what it acknowledged.
    pub requested: Option<RequestedChange>,
    /// The trader asked to cancel; carried out at the first chance.
    pub cancel_requested_at: Option<DateTime<Utc>>,
    pub filled_quantity: Decimal,
    pub average_fill_price: Option<Decimal>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Quantity and prices a modification asked for, before TWS acknowledged them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedChange {
    pub quantity: Decimal,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub at: DateTime<Utc>,
}
