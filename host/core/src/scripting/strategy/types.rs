//! What a strategy script sees: read-only views of bars, ticks, fills, order updates and its
//! own positions. Every field is read-only in the script (`bar.close = 1` is an error), and the
//! views are small values, cloned into each call.

use chrono::{DateTime, SecondsFormat, Utc};
use rhai::{CustomType, Dynamic, TypeBuilder};
use rust_decimal::Decimal;

use crate::domain::OrderSide;

/// Nanoseconds since the Unix epoch (what `ctx.now()` and `bar.ts` answer; fits until 2262).
pub fn nanos(time: DateTime<Utc>) -> i64 {
    time.timestamp_nanos_opt().unwrap_or(i64::MAX)
}

fn iso(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One completed bar of a subscribed instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptBar {
    pub symbol: String,
    /// Start of the bar.
    pub time: DateTime<Utc>,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
}

impl CustomType for ScriptBar {
    fn build(mut builder: TypeBuilder<Self>) {
        builder
            .with_name("Bar")
            .with_get("symbol", |b: &mut Self| b.symbol.clone())
            .with_get("time", |b: &mut Self| iso(b.time))
            .with_get("ts", |b: &mut Self| nanos(b.time))
            .with_get("open", |b: &mut Self| b.open)
            .with_get("high", |b: &mut Self| b.high)
            .with_get("low", |b: &mut Self| b.low)
            .with_get("close", |b: &mut Self| b.close)
            .with_get("volume", |b: &mut Self| b.volume)
            .with_fn("range", |b: &mut Self| b.high - b.low);
    }
}

/// One market data event: a price or a size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptTick {
    pub symbol: String,
    pub time: DateTime<Utc>,
    /// `bid`, `ask`, `last`, `bid_size`, `ask_size`, `last_size`, `volume`, `close`.
    pub kind: String,
    pub price: Option<Decimal>,
    pub size: Option<Decimal>,
}

fn opt(value: Option<Decimal>) -> Dynamic {
    value.map_or(Dynamic::UNIT, Dynamic::from_decimal)
}

impl CustomType for ScriptTick {
    fn build(mut builder: TypeBuilder<Self>) {
        builder
            .with_name("Tick")
            .with_get("symbol", |t: &mut Self| t.symbol.clone())
            .with_get("time", |t: &mut Self| iso(t.time))
            .with_get("ts", |t: &mut Self| nanos(t.time))
            .with_get("kind", |t: &mut Self| t.kind.clone())
            .with_get("price", |t: &mut Self| opt(t.price))
            .with_get("size", |t: &mut Self| opt(t.size));
    }
}

/// One execution of one of the strategy's orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFill {
    /// The intent id `ctx.buy(…)` returned.
    pub intent_id: i64,
    pub symbol: String,
    pub side: OrderSide,
    pub quantity: Decimal,
    pub price: Decimal,
    pub commission: Decimal,
    pub time: DateTime<Utc>,
}

impl CustomType for ScriptFill {
    fn build(mut builder: TypeBuilder<Self>) {
        builder
            .with_name("Fill")
            .with_get("id", |f: &mut Self| f.intent_id)
            .with_get("symbol", |f: &mut Self| f.symbol.clone())
            .with_get("side", |f: &mut Self| f.side.as_str().to_owned())
            .with_get("qty", |f: &mut Self| f.quantity)
            .with_get("price", |f: &mut Self| f.price)
            .with_get("commission", |f: &mut Self| f.commission)
            .with_get("time", |f: &mut Self| iso(f.time))
            .with_get("ts", |f: &mut Self| nanos(f.time));
    }
}

/// Where one of the strategy's orders stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntentStatus {
    /// Passed the risk gate and sent (or, in a backtest, waiting for the next bar).
    Working,
    /// Refused by the risk gate (the reason says which rule).
    Denied,
    /// Refused by the broker.
    Rejected,
    PartiallyFilled,
    Filled,
    Cancelled,
}

impl IntentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Working => "working",
            Self::Denied => "denied",
            Self::Rejected => "rejected",
            Self::PartiallyFilled => "partially_filled",
            Self::Filled => "filled",
            Self::Cancelled => "cancelled",
        }
    }

    /// No more fills or updates will come.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Denied | Self::Rejected | Self::Filled | Self::Cancelled
        )
    }
}

/// A change in one of the strategy's orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOrderUpdate {
    pub intent_id: i64,
    pub symbol: String,
    pub status: IntentStatus,
    pub filled: Decimal,
    pub remaining: Decimal,
    /// Why it was denied, rejected or cancelled; empty otherwise.
    pub reason: String,
}

impl CustomType for ScriptOrderUpdate {
    fn build(mut builder: TypeBuilder<Self>) {
        builder
            .with_name("OrderUpdate")
            .with_get("id", |u: &mut Self| u.intent_id)
            .with_get("symbol", |u: &mut Self| u.symbol.clone())
            .with_get("status", |u: &mut Self| u.status.as_str().to_owned())
            .with_get("filled", |u: &mut Self| u.filled)
            .with_get("remaining", |u: &mut Self| u.remaining)
            .with_get("reason", |u: &mut Self| u.reason.clone());
    }
}

/// The strategy's own position in one instrument (its fills only, not the whole account's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptPosition {
    pub symbol: String,
    /// Signed: negative when short.
    pub quantity: Decimal,
    /// Average price of the open quantity; zero when flat.
    pub average_price: Decimal,
    /// Last price seen for the instrument, if any.
    pub mark: Option<Decimal>,
    /// Profit taken by closing trades, before commissions.
    pub realized: Decimal,
    /// Contract multiplier (100 for equity options).
    pub multiplier: Decimal,
}

impl ScriptPosition {
    /// (mark − average) × quantity × multiplier; zero without a mark.
    pub fn unrealized(&self) -> Decimal {
        self.mark.map_or(Decimal::ZERO, |mark| {
            (mark - self.average_price) * self.quantity * self.multiplier
        })
    }
}

impl CustomType for ScriptPosition {
    fn build(mut builder: TypeBuilder<Self>) {
        builder
            .with_name("Position")
            .with_get("symbol", |p: &mut Self| p.symbol.clone())
            .with_get("qty", |p: &mut Self| p.quantity)
            .with_get("avg_price", |p: &mut Self| p.average_price)
            .with_get("realized", |p: &mut Self| p.realized)
            .with_get("unrealized", |p: &mut Self| p.unrealized());
    }
}

/// One working order as `ctx.open_orders()` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOpenOrder {
    pub intent_id: i64,
    pub symbol: String,
    pub side: OrderSide,
    pub quantity: Decimal,
    pub filled: Decimal,
    pub order_type: String,
    pub limit: Option<Decimal>,
    pub stop: Option<Decimal>,
    pub tag: String,
}

impl CustomType for ScriptOpenOrder {
    fn build(mut builder: TypeBuilder<Self>) {
        builder
            .with_name("OpenOrder")
            .with_get("id", |o: &mut Self| o.intent_id)
            .with_get("symbol", |o: &mut Self| o.symbol.clone())
            .with_get("side", |o: &mut Self| o.side.as_str().to_owned())
            .with_get("qty", |o: &mut Self| o.quantity)
            .with_get("filled", |o: &mut Self| o.filled)
            .with_get("type", |o: &mut Self| o.order_type.clone())
            .with_get("price", |o: &mut Self| opt(o.limit))
            .with_get("stop", |o: &mut Self| opt(o.stop))
            .with_get("tag", |o: &mut Self| o.tag.clone());
    }
}
