//! Stop triggers of the matching engine: when a stop or stop-limit order becomes a market or
//! limit order, by the order's `triggerMethod` as IB documents it. The default is the last price
//! for most instruments (a buy stop triggers when a last at or above the stop prints), and two
//! consecutive bid/ask quotes for OTC stocks and US options.

use rust_decimal::Decimal;

use crate::world::instruments::{Instrument, SecType};
use crate::world::prices::Quote;

/// IB's stop trigger methods (`Order.triggerMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerMethod {
    /// 1: two consecutive asks at or above a buy stop (bids at or below a sell stop).
    DoubleBidAsk,
    /// 2: a last price at or above a buy stop (at or below a sell stop).
    Last,
    /// 3: two consecutive last prices.
    DoubleLast,
    /// 4: the ask for a buy stop, the bid for a sell stop.
    BidAsk,
    /// 7: the last price or the bid/ask, whichever gets there first.
    LastOrBidAsk,
    /// 8: the mid-point of bid and ask.
    MidPoint,
}

/// Exchanges of OTC stocks, whose default trigger is double bid/ask.
fn is_otc(inst: &Instrument) -> bool {
    let otc = |e: &str| {
        let e = e.to_ascii_uppercase();
        e == "PINK" || e.starts_with("OTC")
    };
    inst.sec_type == SecType::Stock && (otc(&inst.exchange) || otc(&inst.primary_exchange))
}

impl TriggerMethod {
    /// The method `code` selects for `inst`; `None` for codes IB does not define. Code 0 is
    /// IB's default: double bid/ask for OTC stocks and US options, last for everything else.
    pub fn resolve(code: i32, inst: &Instrument) -> Option<Self> {
        Some(match code {
            0 if is_otc(inst) || (inst.sec_type == SecType::Option && inst.currency == "USD") => {
                TriggerMethod::DoubleBidAsk
            }
            0 | 2 => TriggerMethod::Last,
            1 => TriggerMethod::DoubleBidAsk,
            3 => TriggerMethod::DoubleLast,
            4 => TriggerMethod::BidAsk,
            7 => TriggerMethod::LastOrBidAsk,
            8 => TriggerMethod::MidPoint,
            _ => return None,
        })
    }

    /// Whether IB defines `code` (orders with other codes are rejected).
    pub fn is_valid_code(code: i32) -> bool {
        matches!(code, 0..=4 | 7 | 8)
    }
}

/// One price observation, so that the "double" methods count a new print or a new quote once
/// however often the engine looks at an unchanged market.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Print(f64, Decimal, Decimal),
    Quote(f64, f64, Decimal, Decimal),
}

/// What a stop order has seen of the market while waiting for its trigger.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StopWatch {
    /// Consecutive observations that reached the stop.
    hits: u8,
    last_seen: Option<Seen>,
}

impl StopWatch {
    /// Looks at the current quote; true once the stop is triggered.
    pub fn observe(&mut self, method: TriggerMethod, buy: bool, stop: f64, q: &Quote) -> bool {
        let reached = |p: f64| p > 0.0 && if buy { p >= stop } else { p <= stop };
        let touch = if buy { q.ask } else { q.bid };
        match method {
            TriggerMethod::Last => reached(q.last),
            TriggerMethod::BidAsk => reached(touch),
            TriggerMethod::LastOrBidAsk => reached(q.last) || reached(touch),
            TriggerMethod::MidPoint => q.bid > 0.0 && q.ask > 0.0 && reached(q.mid()),
            TriggerMethod::DoubleLast => {
                let seen = Seen::Print(q.last, q.volume, q.last_size);
                self.consecutive(seen, reached(q.last))
            }
            TriggerMethod::DoubleBidAsk => {
                let seen = Seen::Quote(q.bid, q.ask, q.bid_size, q.ask_size);
                self.consecutive(seen, reached(touch))
            }
        }
    }

    fn consecutive(&mut self, seen: Seen, reached: bool) -> bool {
        if self.last_seen.as_ref() != Some(&seen) {
            self.last_seen = Some(seen);
            self.hits = if reached {
                self.hits.saturating_add(1)
            } else {
                0
            };
        }
        self.hits >= 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::instruments::Universe;

    fn quote(bid: f64, ask: f64, last: f64, volume: i64) -> Quote {
        Quote {
            con_id: 1,
            bid,
            ask,
            last,
            bid_size: Decimal::from(100),
            ask_size: Decimal::from(100),
            last_size: Decimal::from(100),
            volume: Decimal::from(volume),
            high: ask,
            low: bid,
            open: last,
            close: last,
        }
    }

    fn universe() -> Universe {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 4, 6).unwrap_or_default();
        Universe::build(1, today)
    }

    fn find(u: &Universe, pred: impl Fn(&Instrument) -> bool) -> Instrument {
        u.all()
            .iter()
            .find(|i| pred(i))
            .cloned()
            .unwrap_or_else(|| panic!("no such instrument in the universe"))
    }

    #[test]
    fn default_is_last_except_for_otc_stocks_and_us_options() {
        let u = universe();
        let stock = find(&u, |i| i.sec_type == SecType::Stock);
        let future = find(&u, |i| i.sec_type == SecType::Future);
        let option = find(&u, |i| i.sec_type == SecType::Option);
        let mut otc = stock.clone();
        otc.primary_exchange = "PINK".into();
        let resolve = |i: &Instrument| TriggerMethod::resolve(0, i);
        assert_eq!(resolve(&stock), Some(TriggerMethod::Last));
        assert_eq!(resolve(&future), Some(TriggerMethod::Last));
        assert_eq!(resolve(&option), Some(TriggerMethod::DoubleBidAsk));
        assert_eq!(resolve(&otc), Some(TriggerMethod::DoubleBidAsk));
        let mut foreign = option.clone();
        foreign.currency = "EUR".into();
        assert_eq!(resolve(&foreign), Some(TriggerMethod::Last));
        for (code, method) in [
            (1, TriggerMethod::DoubleBidAsk),
            (2, TriggerMethod::Last),
            (3, TriggerMethod::DoubleLast),
            (4, TriggerMethod::BidAsk),
            (7, TriggerMethod::LastOrBidAsk),
            (8, TriggerMethod::MidPoint),
        ] {
            assert_eq!(TriggerMethod::resolve(code, &option), Some(method));
            assert!(TriggerMethod::is_valid_code(code));
        }
        for code in [-1, 5, 6, 9] {
            assert_eq!(TriggerMethod::resolve(code, &stock), None);
            assert!(!TriggerMethod::is_valid_code(code));
        }
    }

    /// Buy stop at 100 against a market whose ask is above it while the last print is below.
    #[test]
    fn last_ignores_the_ask_and_bid_ask_ignores_the_last() {
        let below_last = quote(99.98, 100.02, 99.99, 1);
        let mut w = StopWatch::default();
        assert!(!w.observe(TriggerMethod::Last, true, 100.0, &below_last));
        assert!(w.observe(
            TriggerMethod::Last,
            true,
            100.0,
            &quote(99.98, 100.02, 100.0, 2)
        ));
        assert!(w.observe(TriggerMethod::BidAsk, true, 100.0, &below_last));
        let low_ask = quote(99.90, 99.95, 100.5, 1);
        assert!(!w.observe(TriggerMethod::BidAsk, true, 100.0, &low_ask));
        // Sell stops look at the bid and at last prices at or below the stop.
        assert!(w.observe(TriggerMethod::BidAsk, false, 99.98, &below_last));
        assert!(!w.observe(TriggerMethod::BidAsk, false, 99.97, &below_last));
        assert!(w.observe(TriggerMethod::Last, false, 99.99, &below_last));
        assert!(!w.observe(TriggerMethod::Last, false, 99.98, &below_last));
    }

    #[test]
    fn last_or_bid_ask_takes_either() {
        let mut w = StopWatch::default();
        let m = TriggerMethod::LastOrBidAsk;
        assert!(w.observe(m, true, 100.0, &quote(99.98, 100.02, 99.99, 1)));
        assert!(w.observe(m, true, 100.0, &quote(99.90, 99.95, 100.0, 1)));
        assert!(!w.observe(m, true, 100.0, &quote(99.90, 99.95, 99.9, 1)));
        assert!(w.observe(m, false, 99.95, &quote(99.90, 99.95, 99.99, 1)));
    }

    #[test]
    fn mid_point() {
        let mut w = StopWatch::default();
        let m = TriggerMethod::MidPoint;
        // Binary-exact prices: mid-points of 99.875, 100 and 100.125.
        assert!(!w.observe(m, true, 100.0, &quote(99.25, 100.5, 100.5, 1)));
        assert!(w.observe(m, true, 100.0, &quote(99.5, 100.5, 99.0, 1)));
        assert!(w.observe(m, false, 100.0, &quote(99.25, 100.5, 100.5, 1)));
        assert!(!w.observe(m, false, 100.0, &quote(99.75, 100.5, 99.0, 1)));
    }

    #[test]
    fn double_last_needs_two_consecutive_prints() {
        let m = TriggerMethod::DoubleLast;
        let mut w = StopWatch::default();
        let first = quote(99.98, 100.02, 100.0, 1);
        assert!(!w.observe(m, true, 100.0, &first));
        assert!(
            !w.observe(m, true, 100.0, &first),
            "no new print, no second hit"
        );
        let other_quote_same_print = quote(99.99, 100.03, 100.0, 1);
        assert!(!w.observe(m, true, 100.0, &other_quote_same_print));
        assert!(w.observe(m, true, 100.0, &quote(99.99, 100.03, 100.01, 2)));

        // A print below the stop in between starts the count again.
        let mut w = StopWatch::default();
        assert!(!w.observe(m, true, 100.0, &quote(99.98, 100.02, 100.0, 1)));
        assert!(!w.observe(m, true, 100.0, &quote(99.98, 100.02, 99.99, 2)));
        assert!(!w.observe(m, true, 100.0, &quote(99.98, 100.02, 100.0, 3)));
        assert!(w.observe(m, true, 100.0, &quote(99.98, 100.02, 100.0, 4)));
    }

    #[test]
    fn double_bid_ask_needs_two_consecutive_quotes() {
        let m = TriggerMethod::DoubleBidAsk;
        let mut w = StopWatch::default();
        let q1 = quote(99.98, 100.0, 99.0, 1);
        assert!(!w.observe(m, true, 100.0, &q1));
        assert!(
            !w.observe(m, true, 100.0, &q1),
            "the same quote counts once"
        );
        let below = quote(99.97, 99.99, 99.0, 1);
        assert!(!w.observe(m, true, 100.0, &below));
        assert!(!w.observe(m, true, 100.0, &q1));
        assert!(w.observe(m, true, 100.0, &quote(99.99, 100.01, 99.0, 1)));
        // Sell stops count bids at or below the stop; the last price plays no part.
        let mut w = StopWatch::default();
        assert!(!w.observe(m, false, 50.0, &quote(50.0, 50.02, 10.0, 1)));
        assert!(w.observe(m, false, 50.0, &quote(49.99, 50.01, 10.0, 1)));
    }
}
