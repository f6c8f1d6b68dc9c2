//! Events for a plugin instance as the host keeps them (owned, `Send`), laid out as the ABI
//! wants only for the call that delivers them.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tickwork_plugin_api::abi::{
    TW_EV_BAR, TW_EV_FILL, TW_EV_ORDER, TW_EV_TICK, TW_SIDE_BUY, TW_SIDE_SELL, TW_TICK_HAS_ASK,
    TW_TICK_HAS_BID, TW_TICK_HAS_LAST, TwBarEvent, TwEventHeader, TwFillEvent, TwOrderEvent,
    TwTickEvent,
};

use super::values::{decimal_to_abi, tw_str};
use crate::domain::OrderSide;
use crate::scripting::strategy::ScriptBar;

/// The latest quote of an instrument (what a tick event carries).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuoteState {
    pub bid: Option<Decimal>,
    pub ask: Option<Decimal>,
    pub last: Option<Decimal>,
    pub bid_size: Option<Decimal>,
    pub ask_size: Option<Decimal>,
    pub last_size: Option<Decimal>,
}

impl From<&crate::domain::Quote> for QuoteState {
    fn from(quote: &crate::domain::Quote) -> Self {
        Self {
            bid: quote.bid,
            ask: quote.ask,
            last: quote.last,
            bid_size: quote.bid_size,
            ask_size: quote.ask_size,
            last_size: quote.last_size,
        }
    }
}

/// An intent's status change (`TW_ORDER_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderChange {
    pub intent_id: u64,
    pub status: u32,
    pub filled: Decimal,
    pub remaining: Decimal,
    pub average_price: Decimal,
    pub reason: String,
}

/// An execution of one of the instance's intents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillData {
    pub intent_id: u64,
    pub side: OrderSide,
    pub quantity: Decimal,
    pub price: Decimal,
    pub commission: Decimal,
}

/// What the instance is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Tick {
        instrument_id: u32,
        at: DateTime<Utc>,
        quote: QuoteState,
    },
    Bar {
        instrument_id: u32,
        period_secs: u32,
        bar: ScriptBar,
    },
    Order {
        instrument_id: u32,
        at: DateTime<Utc>,
        change: OrderChange,
    },
    Fill {
        instrument_id: u32,
        at: DateTime<Utc>,
        fill: FillData,
    },
}

fn header(
    size: usize,
    kind: u16,
    flags: u16,
    at: DateTime<Utc>,
    instrument_id: u32,
) -> TwEventHeader {
    TwEventHeader {
        size: u32::try_from(size).unwrap_or(u32::MAX),
        kind,
        flags,
        ts_unix_ns: at.timestamp_nanos_opt().unwrap_or(0),
        instrument_id,
        _reserved: 0,
    }
}

fn or_zero(value: Option<Decimal>) -> tickwork_plugin_api::abi::TwDecimal {
    decimal_to_abi(value.unwrap_or_default())
}

impl Event {
    /// The `TW_EV_*` kind.
    pub fn kind(&self) -> u16 {
        match self {
            Event::Tick { .. } => TW_EV_TICK,
            Event::Bar { .. } => TW_EV_BAR,
            Event::Order { .. } => TW_EV_ORDER,
            Event::Fill { .. } => TW_EV_FILL,
        }
    }

    /// Calls `deliver` with the event laid out as the ABI says, valid for that call.
    pub fn with_abi<R>(&self, deliver: impl FnOnce(*const TwEventHeader) -> R) -> R {
        match self {
            Event::Tick {
                instrument_id,
                at,
                quote,
            } => {
                let mut flags = 0;
                for (known, flag) in [
                    (quote.bid, TW_TICK_HAS_BID),
                    (quote.ask, TW_TICK_HAS_ASK),
                    (quote.last, TW_TICK_HAS_LAST),
                ] {
                    if known.is_some() {
                        flags |= flag;
                    }
                }
                let ev = TwTickEvent {
                    header: header(
                        size_of::<TwTickEvent>(),
                        TW_EV_TICK,
                        flags,
                        *at,
                        *instrument_id,
                    ),
                    bid: or_zero(quote.bid),
                    ask: or_zero(quote.ask),
                    last: or_zero(quote.last),
                    bid_size: or_zero(quote.bid_size),
                    ask_size: or_zero(quote.ask_size),
                    last_size: or_zero(quote.last_size),
                };
                deliver(&raw const ev.header)
            }
            Event::Bar {
                instrument_id,
                period_secs,
                bar,
            } => {
                let ev = TwBarEvent {
                    header: header(
                        size_of::<TwBarEvent>(),
                        TW_EV_BAR,
                        0,
                        bar.time,
                        *instrument_id,
                    ),
                    period_secs: *period_secs,
                    _pad: 0,
                    open: decimal_to_abi(bar.open),
                    high: decimal_to_abi(bar.high),
                    low: decimal_to_abi(bar.low),
                    close: decimal_to_abi(bar.close),
                    volume: decimal_to_abi(bar.volume),
                };
                deliver(&raw const ev.header)
            }
            Event::Order {
                instrument_id,
                at,
                change,
            } => {
                let ev = TwOrderEvent {
                    header: header(
                        size_of::<TwOrderEvent>(),
                        TW_EV_ORDER,
                        0,
                        *at,
                        *instrument_id,
                    ),
                    intent_id: change.intent_id,
                    status: change.status,
                    _pad: 0,
                    filled: decimal_to_abi(change.filled),
                    remaining: decimal_to_abi(change.remaining),
                    avg_fill_price: decimal_to_abi(change.average_price),
                    reason: tw_str(&change.reason),
                };
                deliver(&raw const ev.header)
            }
            Event::Fill {
                instrument_id,
                at,
                fill,
            } => {
                let ev = TwFillEvent {
                    header: header(size_of::<TwFillEvent>(), TW_EV_FILL, 0, *at, *instrument_id),
                    intent_id: fill.intent_id,
                    side: match fill.side {
                        OrderSide::Buy => TW_SIDE_BUY,
                        OrderSide::Sell => TW_SIDE_SELL,
                    },
                    _pad: 0,
                    quantity: decimal_to_abi(fill.quantity),
                    price: decimal_to_abi(fill.price),
                    commission: decimal_to_abi(fill.commission),
                };
                deliver(&raw const ev.header)
            }
        }
    }
}
