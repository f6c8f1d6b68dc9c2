//! A plugin instance's market data: its subscriptions on the session's lines, turned into
//! tick events (the instrument's latest quote after each change) and bar events (built by the
//! same [`BarBuilder`] as scripts' bars). Pure, so strategies and panels share it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use tickwork_plugin_api::abi::{TW_MD_BARS, TW_MD_TICKS};

use super::events::{Event, QuoteState};
use crate::domain::{Quote, Tick, TickKind};
use crate::scripting::host::BarBuilder;

/// How long after its end a bar no tick closed is delivered anyway.
const BAR_GRACE_SECS: i64 = 2;

/// One subscription: the plugin's instrument id on a session line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    pub instrument_id: u32,
    /// The session's instrument id (its market data line).
    pub line: i64,
    /// `TW_MD_*` bits.
    pub kinds: u32,
    /// Bar length when `kinds` has `TW_MD_BARS`.
    pub bar_secs: u32,
}

impl Subscription {
    fn bars(&self, line: i64, secs: u32) -> bool {
        self.line == line && self.kinds & TW_MD_BARS != 0 && self.bar_secs == secs
    }
}

/// The subscriptions of one instance and what their events need.
#[derive(Debug, Default)]
pub struct MarketFeed {
    subs: Vec<Subscription>,
    quotes: HashMap<i64, Quote>,
    /// One builder per bar length.
    builders: BTreeMap<u32, BarBuilder>,
}

impl MarketFeed {
    pub fn add(&mut self, sub: Subscription) {
        if sub.kinds & TW_MD_BARS != 0 {
            let secs = i32::try_from(sub.bar_secs).unwrap_or(i32::MAX);
            self.builders
                .entry(sub.bar_secs)
                .or_insert_with(|| BarBuilder::new(secs));
        }
        self.subs.push(sub);
    }

    /// Ends a subscription; answers its line, to release (each subscription watched it once).
    pub fn remove(&mut self, instrument_id: u32) -> Option<i64> {
        let at = self
            .subs
            .iter()
            .position(|s| s.instrument_id == instrument_id)?;
        Some(self.subs.remove(at).line)
    }

    /// The line of each subscription (a line twice when two subscriptions watch it).
    pub fn lines(&self) -> Vec<i64> {
        self.subs.iter().map(|s| s.line).collect()
    }

    /// The events a tick of the session makes: bars it completed first, then the quote.
    pub fn tick(&mut self, tick: &Tick) -> Vec<Event> {
        let line = tick.instrument_id;
        if !self.subs.iter().any(|s| s.line == line) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (secs, builder) in &mut self.builders {
            if !self.subs.iter().any(|s| s.bars(line, *secs)) {
                continue;
            }
            if let Some(bar) = builder.tick("", tick) {
                bar_events(&self.subs, line, *secs, &bar, &mut out);
            }
        }
        let quote = self.quotes.entry(line).or_default();
        let quoted = !matches!(tick.kind, TickKind::Volume | TickKind::Close);
        if !quote.apply(tick) || !quoted {
            return out;
        }
        let quote = QuoteState::from(&*quote);
        for sub in self
            .subs
            .iter()
            .filter(|s| s.line == line && s.kinds & TW_MD_TICKS != 0)
        {
            out.push(Event::Tick {
                instrument_id: sub.instrument_id,
                at: tick.ts,
                quote,
            });
        }
        out
    }

    /// Bars whose time is up though no tick closed them.
    pub fn flush(&mut self, now: DateTime<Utc>) -> Vec<Event> {
        let mut out = Vec::new();
        for (secs, builder) in &mut self.builders {
            for (line, bar) in builder.flush_by_line(now, chrono::Duration::seconds(BAR_GRACE_SECS))
            {
                bar_events(&self.subs, line, *secs, &bar, &mut out);
            }
        }
        out
    }
}

fn bar_events(
    subs: &[Subscription],
    line: i64,
    secs: u32,
    bar: &crate::scripting::strategy::ScriptBar,
    out: &mut Vec<Event>,
) {
    for sub in subs.iter().filter(|s| s.bars(line, secs)) {
        out.push(Event::Bar {
            instrument_id: sub.instrument_id,
            period_secs: secs,
            bar: bar.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;

    fn tick(secs: i64, kind: TickKind, price: rust_decimal::Decimal) -> Tick {
        Tick {
            instrument_id: 7,
            ts: Utc.with_ymd_and_hms(2026, 1, 5, 14, 30, 0).unwrap()
                + chrono::Duration::seconds(secs),
            kind,
            price: Some(price),
            size: None,
        }
    }

    #[test]
    fn ticks_and_bars_go_to_their_subscriptions() {
        let mut feed = MarketFeed::default();
        feed.add(Subscription {
            instrument_id: 1,
            line: 7,
            kinds: TW_MD_TICKS,
            bar_secs: 0,
        });
        feed.add(Subscription {
            instrument_id: 2,
            line: 7,
            kinds: TW_MD_BARS,
            bar_secs: 60,
        });
        let events = feed.tick(&tick(1, TickKind::Bid, dec!(99)));
        assert_eq!(events.len(), 1);
        let Event::Tick {
            instrument_id,
            quote,
            ..
        } = &events[0]
        else {
            panic!("{events:?}")
        };
        assert_eq!(
            (*instrument_id, quote.bid, quote.ask),
            (1, Some(dec!(99)), None)
        );
        feed.tick(&tick(2, TickKind::Last, dec!(100)));
        let events = feed.tick(&tick(61, TickKind::Last, dec!(101)));
        let kinds: Vec<u16> = events.iter().map(Event::kind).collect();
        assert_eq!(kinds, [2, 1], "the bar the tick closed comes first");
        let Event::Bar {
            instrument_id,
            period_secs,
            bar,
        } = &events[0]
        else {
            panic!("{events:?}")
        };
        assert_eq!(
            (*instrument_id, *period_secs, bar.close),
            (2, 60, dec!(100))
        );
        // Another line's ticks are nobody's here.
        let mut other = tick(3, TickKind::Last, dec!(5));
        other.instrument_id = 8;
        assert!(feed.tick(&other).is_empty());
        let later = Utc.with_ymd_and_hms(2026, 1, 5, 14, 33, 0).unwrap();
        assert_eq!(feed.flush(later).len(), 1);
        assert_eq!(feed.lines(), [7, 7]);
        assert_eq!(feed.remove(1), Some(7));
        assert_eq!(feed.remove(1), None);
        assert_eq!(feed.remove(2), Some(7));
        assert!(feed.lines().is_empty());
    }
}
