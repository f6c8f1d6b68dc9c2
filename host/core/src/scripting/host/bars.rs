//! Bars for live strategies, built from the session's ticks: one bar per instrument per
//! `bar_seconds` bucket (aligned to the Unix epoch, so 60-second bars start on the minute),
//! from trade prices, or from the bid/ask midpoint for instruments that report no trades.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use crate::domain::{Tick, TickKind};
use crate::scripting::strategy::ScriptBar;

#[derive(Debug, Clone)]
struct Forming {
    bar: ScriptBar,
    /// The bar was built from midpoints; a trade replaces them.
    from_mid: bool,
}

#[derive(Debug, Default, Clone)]
struct Book {
    bid: Option<Decimal>,
    ask: Option<Decimal>,
}

/// Builds bars for several instruments (by instrument id, named by the script's symbol).
#[derive(Debug)]
pub struct BarBuilder {
    seconds: i64,
    forming: HashMap<i64, Forming>,
    books: HashMap<i64, Book>,
}

impl BarBuilder {
    pub fn new(bar_seconds: i32) -> Self {
        Self {
            seconds: i64::from(bar_seconds.max(1)),
            forming: HashMap::new(),
            books: HashMap::new(),
        }
    }

    fn bucket(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let secs = at.timestamp().div_euclid(self.seconds) * self.seconds;
        DateTime::from_timestamp(secs, 0).unwrap_or(at)
    }

    /// Adds a tick; answers the bar it completed, if it started a new bucket.
    pub fn tick(&mut self, symbol: &str, tick: &Tick) -> Option<ScriptBar> {
        let book = self.books.entry(tick.instrument_id).or_default();
        let (price, from_mid) = match (tick.kind, tick.price) {
            (TickKind::Last, Some(price)) => (price, false),
            (TickKind::Bid, Some(price)) => {
                book.bid = Some(price);
                (mid(book)?, true)
            }
            (TickKind::Ask, Some(price)) => {
                book.ask = Some(price);
                (mid(book)?, true)
            }
            (TickKind::LastSize, _) => {
                let size = tick.size?;
                if let Some(forming) = self.forming.get_mut(&tick.instrument_id) {
                    forming.bar.volume += size;
                }
                return None;
            }
            _ => return None,
        };
        let start = self.bucket(tick.ts);
        let done = match self.forming.get(&tick.instrument_id) {
            Some(f) if f.bar.time < start => {
                self.forming.remove(&tick.instrument_id).map(|f| f.bar)
            }
            _ => None,
        };
        let forming = self
            .forming
            .entry(tick.instrument_id)
            .or_insert_with(|| Forming {
                bar: flat_bar(symbol, start, price, Decimal::ZERO),
                from_mid,
            });
        if from_mid && !forming.from_mid {
            // Trades make the bar; quotes only fill in when there are none.
            return done;
        }
        if forming.from_mid && !from_mid {
            let volume = forming.bar.volume;
            forming.bar = flat_bar(symbol, start, price, volume);
            forming.from_mid = false;
        }
        let bar = &mut forming.bar;
        bar.high = bar.high.max(price);
        bar.low = bar.low.min(price);
        bar.close = price;
        done
    }

    /// Bars whose bucket ended more than `grace` before `now` (no tick came to close them).
    pub fn flush(&mut self, now: DateTime<Utc>, grace: Duration) -> Vec<ScriptBar> {
        self.flush_by_line(now, grace)
            .into_iter()
            .map(|(_, bar)| bar)
            .collect()
    }

    /// [`BarBuilder::flush`], each bar with the instrument id it was built for.
    pub fn flush_by_line(&mut self, now: DateTime<Utc>, grace: Duration) -> Vec<(i64, ScriptBar)> {
        let length = Duration::seconds(self.seconds);
        let due: Vec<i64> = self
            .forming
            .iter()
            .filter(|(_, f)| f.bar.time + length + grace <= now)
            .map(|(id, _)| *id)
            .collect();
        let mut bars: Vec<(i64, ScriptBar)> = due
            .into_iter()
            .filter_map(|id| self.forming.remove(&id).map(|f| (id, f.bar)))
            .collect();
        bars.sort_by(|(la, a), (lb, b)| (a.time, &a.symbol, la).cmp(&(b.time, &b.symbol, lb)));
        bars
    }
}

/// A bar that opens at `price` (and so far closes there).
fn flat_bar(symbol: &str, time: DateTime<Utc>, price: Decimal, volume: Decimal) -> ScriptBar {
    ScriptBar {
        symbol: symbol.to_owned(),
        time,
        open: price,
        high: price,
        low: price,
        close: price,
        volume,
    }
}

fn mid(book: &Book) -> Option<Decimal> {
    Some((book.bid? + book.ask?) / Decimal::TWO)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;

    fn tick(secs: i64, kind: TickKind, price: Decimal) -> Tick {
        Tick {
            instrument_id: 1,
            ts: Utc.with_ymd_and_hms(2026, 1, 5, 14, 30, 0).unwrap() + Duration::seconds(secs),
            kind,
            price: Some(price),
            size: None,
        }
    }

    #[test]
    fn trades_make_bars_per_bucket_and_quotes_fill_in_without_trades() {
        let mut b = BarBuilder::new(60);
        assert!(b.tick("SPY", &tick(1, TickKind::Bid, dec!(99))).is_none());
        assert!(b.tick("SPY", &tick(2, TickKind::Ask, dec!(101))).is_none());
        b.tick("SPY", &tick(3, TickKind::Last, dec!(100.5)));
        b.tick("SPY", &tick(10, TickKind::Last, dec!(102)));
        b.tick("SPY", &tick(20, TickKind::Bid, dec!(90)));
        b.tick("SPY", &tick(30, TickKind::Last, dec!(99)));
        let bar = b.tick("SPY", &tick(61, TickKind::Last, dec!(98))).unwrap();
        assert_eq!(
            (bar.open, bar.high, bar.low, bar.close),
            (dec!(100.5), dec!(102), dec!(99), dec!(99))
        );
        assert_eq!(bar.time.timestamp() % 60, 0);
        let now = bar.time + Duration::seconds(125);
        let flushed = b.flush(now, Duration::seconds(2));
        assert_eq!(flushed.len(), 1);
        assert_eq!(flushed[0].close, dec!(98));
        assert!(b.flush(now, Duration::seconds(2)).is_empty());
    }
}
