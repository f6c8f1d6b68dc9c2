//! Events decoded from the host's size-prefixed records: a receiver checks `size` against the
//! kind's v1.0 layout, reads no byte past `size`, and skips kinds it does not know.

use std::borrow::Cow;

use rust_decimal::Decimal;

use super::convert::{bytes_from_tw, decimal_from_tw};
use crate::abi::{
    TW_EV_BAR, TW_EV_FILL, TW_EV_ORDER, TW_EV_TICK, TW_ORDER_CANCELLED, TW_ORDER_DENIED,
    TW_ORDER_FILLED, TW_ORDER_REJECTED, TW_ORDER_SUBMITTED, TW_ORDER_WORKING, TW_SIDE_BUY,
    TW_SIDE_SELL, TW_TICK_HAS_ASK, TW_TICK_HAS_BID, TW_TICK_HAS_LAST, TwBarEvent, TwEventHeader,
    TwFillEvent, TwOrderEvent, TwTickEvent, v1_0_size,
};

/// Side of an order or fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// The `TW_SIDE_*` value.
    pub const fn to_raw(self) -> u32 {
        match self {
            Side::Buy => TW_SIDE_BUY,
            Side::Sell => TW_SIDE_SELL,
        }
    }

    /// From a `TW_SIDE_*` value; `None` for anything else.
    pub const fn from_raw(raw: u32) -> Option<Side> {
        match raw {
            TW_SIDE_BUY => Some(Side::Buy),
            TW_SIDE_SELL => Some(Side::Sell),
            _ => None,
        }
    }
}

/// The latest quote of an instrument; a side the host has no value for is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    pub instrument_id: u32,
    pub ts_unix_ns: i64,
    pub bid: Option<Decimal>,
    pub ask: Option<Decimal>,
    pub last: Option<Decimal>,
    pub bid_size: Option<Decimal>,
    pub ask_size: Option<Decimal>,
    pub last_size: Option<Decimal>,
}

impl Tick {
    /// The midpoint when both sides are quoted, else the last trade.
    pub fn mid_or_last(&self) -> Option<Decimal> {
        match (self.bid, self.ask) {
            (Some(b), Some(a)) => Some((b + a) / Decimal::TWO),
            _ => self.last,
        }
    }
}

/// A completed bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    pub instrument_id: u32,
    /// The bar's start.
    pub ts_unix_ns: i64,
    pub period_secs: u32,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
}

/// Where an intent stands; an unknown status (from a newer host) is kept as its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Submitted,
    Denied,
    Rejected,
    Cancelled,
    Filled,
    Working,
    Other(u32),
}

impl OrderStatus {
    fn from_raw(raw: u32) -> Self {
        match raw {
            TW_ORDER_SUBMITTED => Self::Submitted,
            TW_ORDER_DENIED => Self::Denied,
            TW_ORDER_REJECTED => Self::Rejected,
            TW_ORDER_CANCELLED => Self::Cancelled,
            TW_ORDER_FILLED => Self::Filled,
            TW_ORDER_WORKING => Self::Working,
            other => Self::Other(other),
        }
    }

    /// Whether the intent will not change any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Denied | Self::Rejected | Self::Cancelled | Self::Filled
        )
    }
}

/// A change of one of the instance's intents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdate<'a> {
    pub instrument_id: u32,
    pub ts_unix_ns: i64,
    pub intent_id: u64,
    pub status: OrderStatus,
    pub filled: Decimal,
    pub remaining: Decimal,
    pub avg_fill_price: Decimal,
    /// Why it was denied, rejected or cancelled; invalid UTF-8 is replaced, not refused.
    pub reason: Cow<'a, str>,
}

/// An execution of one of the instance's intents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    pub instrument_id: u32,
    pub ts_unix_ns: i64,
    pub intent_id: u64,
    /// `None` if the host sent a side this SDK does not know.
    pub side: Option<Side>,
    pub quantity: Decimal,
    pub price: Decimal,
    pub commission: Decimal,
}

/// One event from the host, borrowed for the duration of the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    Tick(Tick),
    Bar(Bar),
    Order(OrderUpdate<'a>),
    Fill(Fill),
}

impl Event<'_> {
    /// The instrument the event is about (0 when none).
    pub fn instrument_id(&self) -> u32 {
        match self {
            Event::Tick(t) => t.instrument_id,
            Event::Bar(b) => b.instrument_id,
            Event::Order(o) => o.instrument_id,
            Event::Fill(f) => f.instrument_id,
        }
    }
}

/// Copies the kind's struct out of an event whose header says it is `size` bytes long: at most
/// `size` bytes, the rest zero (so a host of an older minor reads as "absent").
///
/// # Safety
/// `ev` must point to `size` readable bytes.
unsafe fn read_event<T: Copy>(ev: *const TwEventHeader, size: u32) -> T {
    let take = (size as usize).min(core::mem::size_of::<T>());
    let mut out = core::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: `take` ≤ `size` bytes are readable and fit in `out`; every event struct is valid
    // when zeroed (integers and byte arrays, the reason string empty).
    unsafe {
        core::ptr::copy_nonoverlapping(ev.cast::<u8>(), out.as_mut_ptr().cast::<u8>(), take);
        out.assume_init()
    }
}

impl<'a> Event<'a> {
    /// Decodes an event; `None` for a null pointer, an unknown kind or an event shorter than its
    /// kind's v1.0 layout (receivers skip those).
    ///
    /// # Safety
    /// `ev` must be null or point to a header whose `size` bytes are readable, with any string
    /// it references valid for `'a`.
    pub unsafe fn decode(ev: *const TwEventHeader) -> Option<Event<'a>> {
        if ev.is_null() {
            return None;
        }
        // SAFETY: the header is readable (the caller's contract); unaligned read for safety.
        let header = unsafe { ev.read_unaligned() };
        let size = header.size;
        if (size as usize) < core::mem::size_of::<TwEventHeader>() {
            return None;
        }
        let flag = |bit: u16, d| (header.flags & bit != 0).then(|| decimal_from_tw(d));
        match header.kind {
            TW_EV_TICK if size >= v1_0_size::TICK_EVENT => {
                // SAFETY: `size` bytes are readable.
                let t: TwTickEvent = unsafe { read_event(ev, size) };
                Some(Event::Tick(Tick {
                    instrument_id: header.instrument_id,
                    ts_unix_ns: header.ts_unix_ns,
                    bid: flag(TW_TICK_HAS_BID, t.bid),
                    ask: flag(TW_TICK_HAS_ASK, t.ask),
                    last: flag(TW_TICK_HAS_LAST, t.last),
                    bid_size: flag(TW_TICK_HAS_BID, t.bid_size),
                    ask_size: flag(TW_TICK_HAS_ASK, t.ask_size),
                    last_size: flag(TW_TICK_HAS_LAST, t.last_size),
                }))
            }
            TW_EV_BAR if size >= v1_0_size::BAR_EVENT => {
                // SAFETY: `size` bytes are readable.
                let b: TwBarEvent = unsafe { read_event(ev, size) };
                Some(Event::Bar(Bar {
                    instrument_id: header.instrument_id,
                    ts_unix_ns: header.ts_unix_ns,
                    period_secs: b.period_secs,
                    open: decimal_from_tw(b.open),
                    high: decimal_from_tw(b.high),
                    low: decimal_from_tw(b.low),
                    close: decimal_from_tw(b.close),
                    volume: decimal_from_tw(b.volume),
                }))
            }
            TW_EV_ORDER if size >= v1_0_size::ORDER_EVENT => {
                // SAFETY: `size` bytes are readable.
                let o: TwOrderEvent = unsafe { read_event(ev, size) };
                // SAFETY: the reason is valid for the call (`'a`), per the caller's contract.
                let reason = match unsafe { bytes_from_tw(o.reason) } {
                    Ok(bytes) => String::from_utf8_lossy(bytes),
                    Err(_) => Cow::Borrowed(""),
                };
                Some(Event::Order(OrderUpdate {
                    instrument_id: header.instrument_id,
                    ts_unix_ns: header.ts_unix_ns,
                    intent_id: o.intent_id,
                    status: OrderStatus::from_raw(o.status),
                    filled: decimal_from_tw(o.filled),
                    remaining: decimal_from_tw(o.remaining),
                    avg_fill_price: decimal_from_tw(o.avg_fill_price),
                    reason,
                }))
            }
            TW_EV_FILL if size >= v1_0_size::FILL_EVENT => {
                // SAFETY: `size` bytes are readable.
                let f: TwFillEvent = unsafe { read_event(ev, size) };
                Some(Event::Fill(Fill {
                    instrument_id: header.instrument_id,
                    ts_unix_ns: header.ts_unix_ns,
                    intent_id: f.intent_id,
                    side: Side::from_raw(f.side),
                    quantity: decimal_from_tw(f.quantity),
                    price: decimal_from_tw(f.price),
                    commission: decimal_from_tw(f.commission),
                }))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::TwDecimal;
    use crate::sdk::convert::decimal_to_tw;
    use rust_decimal_macros::dec;

    fn header(kind: u16, size: u32, flags: u16) -> TwEventHeader {
        TwEventHeader {
            size,
            kind,
            flags,
            ts_unix_ns: 1_700_000_000_000_000_000,
            instrument_id: 7,
            _reserved: 0,
        }
    }

    fn bar_event() -> TwBarEvent {
        TwBarEvent {
            header: header(TW_EV_BAR, v1_0_size::BAR_EVENT, 0),
            period_secs: 60,
            _pad: 0,
            open: decimal_to_tw(dec!(100.10)),
            high: decimal_to_tw(dec!(101)),
            low: decimal_to_tw(dec!(99.5)),
            close: decimal_to_tw(dec!(100.3)),
            volume: decimal_to_tw(dec!(1200)),
        }
    }

    #[test]
    fn a_bar_decodes_with_exact_decimals() {
        let ev = bar_event();
        // SAFETY: `ev` is a whole bar event.
        let decoded = unsafe { Event::decode(&ev.header) }.unwrap();
        let Event::Bar(bar) = decoded else {
            panic!("not a bar: {decoded:?}")
        };
        assert_eq!(bar.instrument_id, 7);
        assert_eq!(bar.period_secs, 60);
        assert_eq!(bar.open, dec!(100.10));
        assert_eq!(bar.open.to_string(), "100.10");
        assert_eq!(bar.close, dec!(100.3));
    }

    #[test]
    fn unknown_kinds_and_short_events_are_skipped() {
        let mut ev = bar_event();
        ev.header.kind = 99;
        // SAFETY: `ev` is readable for its size.
        assert_eq!(unsafe { Event::decode(&ev.header) }, None);
        let mut short = bar_event();
        short.header.size = v1_0_size::BAR_EVENT - 1;
        // SAFETY: as above.
        assert_eq!(unsafe { Event::decode(&short.header) }, None);
        // A lone header claiming to be a tick: the size says it is short, nothing past it is read.
        let lone = header(TW_EV_TICK, 24, TW_TICK_HAS_BID);
        // SAFETY: the header's 24 bytes are readable.
        assert_eq!(unsafe { Event::decode(&lone) }, None);
        let tiny = header(TW_EV_TICK, 8, 0);
        // SAFETY: as above.
        assert_eq!(unsafe { Event::decode(&tiny) }, None);
        // SAFETY: null is checked.
        assert_eq!(unsafe { Event::decode(core::ptr::null()) }, None);
    }

    #[test]
    fn tick_sides_follow_the_flags() {
        let zero = TwDecimal::default();
        let ev = TwTickEvent {
            header: header(
                TW_EV_TICK,
                v1_0_size::TICK_EVENT,
                TW_TICK_HAS_BID | TW_TICK_HAS_ASK,
            ),
            bid: decimal_to_tw(dec!(1.10)),
            ask: decimal_to_tw(dec!(1.20)),
            last: zero,
            bid_size: decimal_to_tw(dec!(5)),
            ask_size: decimal_to_tw(dec!(6)),
            last_size: zero,
        };
        // SAFETY: a whole tick event.
        let Some(Event::Tick(t)) = (unsafe { Event::decode(&ev.header) }) else {
            panic!("no tick")
        };
        assert_eq!(t.bid, Some(dec!(1.10)));
        assert_eq!(t.last, None);
        assert_eq!(t.mid_or_last(), Some(dec!(1.15)));
    }

    #[test]
    fn order_reason_and_fill_side_decode() {
        let reason = "denied: max notional";
        let ev = TwOrderEvent {
            header: header(TW_EV_ORDER, v1_0_size::ORDER_EVENT, 0),
            intent_id: 42,
            status: TW_ORDER_DENIED,
            _pad: 0,
            filled: decimal_to_tw(Decimal::ZERO),
            remaining: decimal_to_tw(dec!(10)),
            avg_fill_price: TwDecimal::default(),
            reason: crate::sdk::convert::str_to_tw(reason),
        };
        // SAFETY: a whole order event whose reason outlives the call.
        let Some(Event::Order(o)) = (unsafe { Event::decode(&ev.header) }) else {
            panic!("no order")
        };
        assert_eq!(o.status, OrderStatus::Denied);
        assert!(o.status.is_final());
        assert_eq!(o.reason, reason);
        let fill = TwFillEvent {
            header: header(TW_EV_FILL, v1_0_size::FILL_EVENT, 0),
            intent_id: 42,
            side: TW_SIDE_SELL,
            _pad: 0,
            quantity: decimal_to_tw(dec!(3)),
            price: decimal_to_tw(dec!(412.07)),
            commission: decimal_to_tw(dec!(1.00)),
        };
        // SAFETY: a whole fill event.
        let Some(Event::Fill(f)) = (unsafe { Event::decode(&fill.header) }) else {
            panic!("no fill")
        };
        assert_eq!(f.side, Some(Side::Sell));
        assert_eq!(f.price, dec!(412.07));
    }
}
