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
    /// The previous session's closing price (IB tick type 9), sent once when a line starts.
    Close,
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
            TickKind::Close => 9,
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
            TickKind::Close,
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
    /// The previous session's close, for the day's change.
    pub close: Option<Decimal>,
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
            TickKind::Close => (&mut self.close, tick.price),
        };
        if value.is_none() || *field == value {
            return false;
        }
        *field = value;
        self.updated_at = Some(tick.ts);
        true
    }

    /// The change since the previous close, absolute and in percent (of the close), when
    /// both the last price and the close are known (and the close is not zero).
    pub fn change(&self) -> Option<(Decimal, Decimal)> {
        let (last, close) = (self.last?, self.close?);
        if close.is_zero() {
            return None;
        }
        let change = last - close;
        Some((change, change * Decimal::ONE_HUNDRED / close))
    }

    /// The price risk checks compare against: last trade, else the mid.
    pub fn reference_price(&self) -> Option<Decimal> {
        self.last.or_else(|| match (self.bid, self.ask) {
            (Some(bid), Some(ask)) => Some((bid + ask) / Decimal::TWO),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn tick(kind: TickKind, price: Decimal) -> Tick {
        Tick {
            instrument_id: 1,
            ts: Utc::now(),
            kind,
            price: Some(price),
            size: None,
        }
    }

    #[test]
    fn close_tick_sets_the_close_and_the_change_is_exact() {
        let mut quote = Quote::default();
        assert!(quote.apply(&tick(TickKind::Close, dec!(190.00))));
        assert_eq!(quote.change(), None, "no last yet");
        quote.apply(&tick(TickKind::Last, dec!(192.85)));
        let (change, percent) = quote.change().unwrap();
        assert_eq!(change, dec!(2.85));
        assert_eq!(percent.round_dp(6), dec!(1.5));
        assert!(
            !quote.apply(&tick(TickKind::Close, dec!(190.00))),
            "same close"
        );
        assert_eq!(TickKind::from_code(9), Some(TickKind::Close));
    }

    #[test]
    fn zero_close_gives_no_change() {
        let mut quote = Quote::default();
        quote.apply(&tick(TickKind::Close, Decimal::ZERO));
        quote.apply(&tick(TickKind::Last, dec!(1)));
        assert_eq!(quote.change(), None);
    }
}
