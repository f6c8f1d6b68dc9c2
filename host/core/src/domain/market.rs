//! Market data as recorded: individual ticks and OHLCV bars.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// Which quote field a tick updates (IB tick types, reduced to what the recorder keeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TickKind {
    Bid,
    Ask,
    Last,
    BidSize,
    AskSize,
    LastSize,
    Volume,
}

impl TickKind {
    /// The stable number stored in `ticks.kind`.
    pub fn code(self) -> i16 {
        match self {
            TickKind::Bid => 1,
            TickKind::Ask => 2,
            TickKind::Last => 4,
            TickKind::BidSize => 0,
            TickKind::AskSize => 3,
            TickKind::LastSize => 5,
            TickKind::Volume => 8,
        }
    }

    pub fn from_code(code: i16) -> Option<Self> {
        [
            TickKind::Bid,
            TickKind::Ask,
            TickKind::Last,
            TickKind::BidSize,
            TickKind::AskSize,
            TickKind::LastSize,
            TickKind::Volume,
        ]
        .into_iter()
        .find(|kind| kind.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub instrument_id: i64,
    pub ts: DateTime<Utc>,
    pub kind: TickKind,
    pub price: Option<Decimal>,
    pub size: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub instrument_id: i64,
    /// Bar length in seconds (60 for one-minute bars).
    pub bar_seconds: i32,
    /// Start of the bar.
    pub ts: DateTime<Utc>,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
}

/// The current quote of an instrument, as the UI and strategies see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quote {
    pub instrument_id: i64,
    pub bid: Option<Decimal>,
    pub ask: Option<Decimal>,
    pub last: Option<Decimal>,
    pub bid_size: Option<Decimal>,
    pub ask_size: Option<Decimal>,
    pub last_size: Option<Decimal>,
    pub volume: Option<Decimal>,
    pub updated_at: Option<DateTime<Utc>>,
    /// The last update was delayed market data (no live subscription for it).
    pub delayed: bool,
}

impl Quote {
    /// Applies one tick; returns whether anything changed.
    pub fn apply(&mut self, tick: &Tick) -> bool {
        let (field, value) = match tick.kind {
            TickKind::Bid => (&mut self.bid, tick.price),
            TickKind::Ask => (&mut self.ask, tick.price),
            TickKind::Last => (&mut self.last, tick.price),
            TickKind::BidSize => (&mut self.bid_size, tick.size),
            TickKind::AskSize => (&mut self.ask_size, tick.size),
            TickKind::LastSize => (&mut self.last_size, tick.size),
            TickKind::Volume => (&mut self.volume, tick.size),
        };
        if value.is_none() || *field == value {
            return false;
        }
        *field = value;
        self.updated_at = Some(tick.ts);
        true
    }

    /// The price risk checks compare against: last trade, else the mid.
    pub fn reference_price(&self) -> Option<Decimal> {
        self.last.or_else(|| match (self.bid, self.ask) {
            (Some(bid), Some(ask)) => Some((bid + ask) / Decimal::TWO),
            _ => None,
        })
    }
}
