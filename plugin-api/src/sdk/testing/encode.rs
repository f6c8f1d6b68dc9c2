//! SDK events turned back into the ABI's size-prefixed records, as a host sends them.

use rust_decimal::Decimal;

use crate::abi::{
    TW_EV_BAR, TW_EV_FILL, TW_EV_ORDER, TW_EV_TICK, TW_ORDER_CANCELLED, TW_ORDER_DENIED,
    TW_ORDER_FILLED, TW_ORDER_REJECTED, TW_ORDER_SUBMITTED, TW_ORDER_WORKING, TW_TICK_HAS_ASK,
    TW_TICK_HAS_BID, TW_TICK_HAS_LAST, TwBarEvent, TwDecimal, TwEventHeader, TwFillEvent,
    TwOrderEvent, TwTickEvent,
};
use crate::sdk::convert::{decimal_to_tw, str_to_tw};
use crate::sdk::event::{Event, OrderStatus};

/// An event in its ABI form; an order event's reason borrows from the [`Event`] it came from.
#[derive(Debug, Clone, Copy)]
pub enum EncodedEvent {
    Tick(TwTickEvent),
    Bar(TwBarEvent),
    Order(TwOrderEvent),
    Fill(TwFillEvent),
}

impl EncodedEvent {
    /// The header, the start of the whole record.
    pub fn header(&self) -> *const TwEventHeader {
        match self {
            EncodedEvent::Tick(e) => &e.header,
            EncodedEvent::Bar(e) => &e.header,
            EncodedEvent::Order(e) => &e.header,
            EncodedEvent::Fill(e) => &e.header,
        }
    }
}

fn header<T>(kind: u16, flags: u16, ts_unix_ns: i64, instrument_id: u32) -> TwEventHeader {
    TwEventHeader {
        size: core::mem::size_of::<T>() as u32,
        kind,
        flags,
        ts_unix_ns,
        instrument_id,
        _reserved: 0,
    }
}

fn opt(d: Option<Decimal>) -> TwDecimal {
    d.map_or(TwDecimal::default(), decimal_to_tw)
}

/// The ABI record of `event` (valid while `event` is).
pub fn encode_event(event: &Event<'_>) -> EncodedEvent {
    match event {
        Event::Tick(t) => {
            let flags = (if t.bid.is_some() { TW_TICK_HAS_BID } else { 0 })
                | (if t.ask.is_some() { TW_TICK_HAS_ASK } else { 0 })
                | (if t.last.is_some() {
                    TW_TICK_HAS_LAST
                } else {
                    0
                });
            EncodedEvent::Tick(TwTickEvent {
                header: header::<TwTickEvent>(TW_EV_TICK, flags, t.ts_unix_ns, t.instrument_id),
                bid: opt(t.bid),
                ask: opt(t.ask),
                last: opt(t.last),
                bid_size: opt(t.bid_size),
                ask_size: opt(t.ask_size),
                last_size: opt(t.last_size),
            })
        }
        Event::Bar(b) => EncodedEvent::Bar(TwBarEvent {
            header: header::<TwBarEvent>(TW_EV_BAR, 0, b.ts_unix_ns, b.instrument_id),
            period_secs: b.period_secs,
            _pad: 0,
            open: decimal_to_tw(b.open),
            high: decimal_to_tw(b.high),
            low: decimal_to_tw(b.low),
            close: decimal_to_tw(b.close),
            volume: decimal_to_tw(b.volume),
        }),
        Event::Order(o) => EncodedEvent::Order(TwOrderEvent {
            header: header::<TwOrderEvent>(TW_EV_ORDER, 0, o.ts_unix_ns, o.instrument_id),
            intent_id: o.intent_id,
            status: match o.status {
                OrderStatus::Submitted => TW_ORDER_SUBMITTED,
                OrderStatus::Denied => TW_ORDER_DENIED,
                OrderStatus::Rejected => TW_ORDER_REJECTED,
                OrderStatus::Cancelled => TW_ORDER_CANCELLED,
                OrderStatus::Filled => TW_ORDER_FILLED,
                OrderStatus::Working => TW_ORDER_WORKING,
                OrderStatus::Other(raw) => raw,
            },
            _pad: 0,
            filled: decimal_to_tw(o.filled),
            remaining: decimal_to_tw(o.remaining),
            avg_fill_price: decimal_to_tw(o.avg_fill_price),
            reason: str_to_tw(&o.reason),
        }),
        Event::Fill(f) => EncodedEvent::Fill(TwFillEvent {
            header: header::<TwFillEvent>(TW_EV_FILL, 0, f.ts_unix_ns, f.instrument_id),
            intent_id: f.intent_id,
            side: f.side.map_or(0, |s| s.to_raw()),
            _pad: 0,
            quantity: decimal_to_tw(f.quantity),
            price: decimal_to_tw(f.price),
            commission: decimal_to_tw(f.commission),
        }),
    }
}
