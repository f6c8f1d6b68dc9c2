//! The candles of one chart: stored and downloaded bars merged by start time, and the forming
//! candle built from live quotes (the hub publishes no live bars, so the chart rolls its own).
//!
//! Prices stay [`Decimal`]; only the drawing code turns them into pixels.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use tickwork_core::domain::Bar;

/// The bar sizes the chart offers, with how much history each asks for.
///
/// Every size here is one TWS offers (`session::history::bar_size`) and one the simulator
/// serves (it generates bars for any size; at most 100,000 bars per request). Sizes of 30 s
/// and less are left out: IB paces those requests (no identical request within 15 s, 60 per
/// 10 minutes), so switching the chart between them would soon stall on the pacer, and the
/// chart's forming candle is built from quotes, which arrive too coarsely for 5-second bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarSize {
    pub seconds: i32,
    /// Days of history loaded (and downloaded from TWS) for this size.
    pub days: u32,
    /// Shown in the dropdown.
    pub label: &'static str,
    /// Used in sentences: "AAPL, 5-minute candles".
    pub adjective: &'static str,
}

/// The dropdown's sizes, in order. The days follow IB's table of valid duration and bar size
/// pairs (a duration of up to 1 day for 1-minute bars, up to a week for bars under 30 minutes,
/// up to a month for bars under a day, a year of daily bars), which keeps every download to a
/// few thousand bars. TWS counts the days as trading days; the simulator as calendar days
/// (without weekend bars).
pub const BAR_SIZES: [BarSize; 5] = [
    BarSize {
        seconds: 60,
        days: 1,
        label: "1 min",
        adjective: "1-minute",
    },
    BarSize {
        seconds: 300,
        days: 7,
        label: "5 min",
        adjective: "5-minute",
    },
    BarSize {
        seconds: 900,
        days: 7,
        label: "15 min",
        adjective: "15-minute",
    },
    BarSize {
        seconds: 3600,
        days: 30,
        label: "1 hour",
        adjective: "hourly",
    },
    BarSize {
        seconds: 86_400,
        days: 365,
        label: "1 day",
        adjective: "daily",
    },
];

impl BarSize {
    /// The size with this many seconds, or the 5-minute default.
    pub fn from_seconds(seconds: i32) -> BarSize {
        BAR_SIZES
            .iter()
            .copied()
            .find(|s| s.seconds == seconds)
            .unwrap_or(BAR_SIZES[1])
    }

    pub fn index(self) -> usize {
        BAR_SIZES.iter().position(|s| *s == self).unwrap_or(1)
    }
}

/// One candle as the chart holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candle {
    pub ts: DateTime<Utc>,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
}

impl Candle {
    pub fn from_bar(bar: &Bar) -> Self {
        Self {
            ts: bar.ts,
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
        }
    }

    pub fn up(&self) -> bool {
        self.close >= self.open
    }
}

/// What a live quote did to the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveChange {
    /// Nothing (no last price, an older quote, or the same values).
    None,
    /// The forming (last) candle changed.
    Updated,
    /// A new candle was started: the previous one is complete.
    Rolled,
}

/// The candles of one instrument at one bar size, oldest first, unique by start time.
#[derive(Debug, Clone)]
pub struct Series {
    pub bar_seconds: i32,
    candles: Vec<Candle>,
    /// The quote's cumulative volume last seen (the forming candle adds the increments).
    last_cumulative: Option<Decimal>,
    /// Bumped whenever a candle other than the last one changes (or the count changes): the
    /// drawing cache of the completed candles is keyed by it.
    history_version: u64,
}

impl Series {
    pub fn new(bar_seconds: i32) -> Self {
        Self {
            bar_seconds: bar_seconds.max(1),
            candles: Vec::new(),
            last_cumulative: None,
            history_version: 0,
        }
    }

    pub fn candles(&self) -> &[Candle] {
        &self.candles
    }

    pub fn len(&self) -> usize {
        self.candles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.candles.is_empty()
    }

    pub fn last(&self) -> Option<&Candle> {
        self.candles.last()
    }

    pub fn history_version(&self) -> u64 {
        self.history_version
    }

    /// Where the bar holding `at` starts: intraday sizes are aligned to the epoch (as TWS and
    /// the simulator align them); daily bars start at midnight UTC, as the session dates them.
    pub fn period_start(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let step = i64::from(self.bar_seconds);
        let secs = at.timestamp();
        let start = secs - secs.rem_euclid(step);
        Utc.timestamp_opt(start, 0).single().unwrap_or(at)
    }

    /// Merges bars (stored or downloaded): a bar replaces the candle with the same start time,
    /// new ones are inserted in order. Bars of another size are ignored. Candles the bars do
    /// not mention (the live forming candle, older stored bars) are kept.
    pub fn merge(&mut self, bars: &[Bar]) {
        let mut by_time: BTreeMap<DateTime<Utc>, Candle> =
            self.candles.iter().map(|c| (c.ts, *c)).collect();
        let mut changed = false;
        for bar in bars.iter().filter(|b| b.bar_seconds == self.bar_seconds) {
            let candle = Candle::from_bar(bar);
            if by_time.insert(candle.ts, candle) != Some(candle) {
                changed = true;
            }
        }
        if changed {
            self.candles = by_time.into_values().collect();
            self.history_version += 1;
        }
    }

    /// Applies a quote: the last price extends the forming candle, or starts a new one when
    /// the quote's time is past the forming candle's period. Volume is the increase of the
    /// quote's cumulative volume since the previous quote (a decrease means a new trading day:
    /// the count starts again from there).
    pub fn apply_quote(
        &mut self,
        last: Option<Decimal>,
        cumulative_volume: Option<Decimal>,
        at: DateTime<Utc>,
    ) -> LiveChange {
        // Without a price the volume increase waits for the next quote that has one.
        let Some(price) = last else {
            return LiveChange::None;
        };
        let delta = match (cumulative_volume, self.last_cumulative) {
            (Some(now), Some(before)) if now >= before => now - before,
            _ => Decimal::ZERO,
        };
        if cumulative_volume.is_some() {
            self.last_cumulative = cumulative_volume;
        }
        let start = self.period_start(at);
        match self.candles.last_mut() {
            Some(forming) if forming.ts == start => {
                let before = *forming;
                forming.high = forming.high.max(price);
                forming.low = forming.low.min(price);
                forming.close = price;
                forming.volume += delta;
                if *forming == before {
                    LiveChange::None
                } else {
                    LiveChange::Updated
                }
            }
            // A quote older than the forming candle (late, or from before a download).
            Some(forming) if forming.ts > start => LiveChange::None,
            _ => {
                self.candles.push(Candle {
                    ts: start,
                    open: price,
                    high: price,
                    low: price,
                    close: price,
                    volume: delta,
                });
                self.history_version += 1;
                LiveChange::Rolled
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::str::FromStr;

    use super::*;

    pub fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    pub fn t(secs: i64) -> DateTime<Utc> {
        // 2026-03-02 00:00:00 UTC, a Monday.
        Utc.timestamp_opt(1_772_409_600 + secs, 0).unwrap()
    }

    pub fn bar(secs: i64, size: i32, o: &str, h: &str, l: &str, c: &str, v: &str) -> Bar {
        Bar {
            instrument_id: 1,
            bar_seconds: size,
            ts: t(secs),
            open: d(o),
            high: d(h),
            low: d(l),
            close: d(c),
            volume: d(v),
        }
    }

    #[test]
    fn stored_then_downloaded_bars_merge_by_time_and_the_download_wins() {
        let mut series = Series::new(60);
        series.merge(&[
            bar(0, 60, "10", "11", "9", "10.5", "100"),
            bar(60, 60, "10.5", "12", "10", "11", "50"),
        ]);
        assert_eq!(series.len(), 2);
        let v = series.history_version();
        // The download revises the second bar (it was stored while forming) and adds two more,
        // out of order and with a bar of another size that must be ignored.
        series.merge(&[
            bar(180, 60, "11.5", "12", "11", "11.8", "30"),
            bar(60, 60, "10.5", "12.5", "10", "11.2", "80"),
            bar(120, 60, "11.2", "11.6", "11", "11.5", "40"),
            bar(0, 300, "1", "1", "1", "1", "1"),
        ]);
        let times: Vec<_> = series.candles().iter().map(|c| c.ts).collect();
        assert_eq!(times, vec![t(0), t(60), t(120), t(180)]);
        assert_eq!(series.candles()[1].close, d("11.2"));
        assert_eq!(series.candles()[1].volume, d("80"));
        assert!(series.history_version() > v);
        // The same bars again change nothing (no needless redraw of the cached candles).
        let v = series.history_version();
        series.merge(&[bar(120, 60, "11.2", "11.6", "11", "11.5", "40")]);
        assert_eq!(series.history_version(), v);
        assert_eq!(series.len(), 4);
    }

    #[test]
    fn quotes_build_the_forming_candle_and_roll_at_the_period_boundary() {
        let mut series = Series::new(300);
        series.merge(&[bar(0, 300, "100", "101", "99", "100.5", "1000")]);
        // The first quote only sets the volume baseline; it extends the downloaded bar.
        assert_eq!(
            series.apply_quote(Some(d("101.5")), Some(d("5000")), t(10)),
            LiveChange::Updated
        );
        let c = series.candles()[0];
        assert_eq!(
            (c.high, c.close, c.volume),
            (d("101.5"), d("101.5"), d("1000"))
        );
        assert_eq!(
            series.apply_quote(Some(d("98.75")), Some(d("5040")), t(299)),
            LiveChange::Updated
        );
        let c = series.candles()[0];
        assert_eq!(
            (c.open, c.high, c.low, c.close, c.volume),
            (d("100"), d("101.5"), d("98.75"), d("98.75"), d("1040"))
        );
        // Nothing new: no redraw.
        assert_eq!(
            series.apply_quote(Some(d("98.75")), Some(d("5040")), t(299)),
            LiveChange::None
        );
        // Exactly at the boundary: a new candle opening at the quote's price.
        let v = series.history_version();
        assert_eq!(
            series.apply_quote(Some(d("99")), Some(d("5100")), t(300)),
            LiveChange::Rolled
        );
        assert!(series.history_version() > v);
        assert_eq!(series.len(), 2);
        let c = series.candles()[1];
        assert_eq!(c.ts, t(300));
        assert_eq!(
            (c.open, c.high, c.low, c.close, c.volume),
            (d("99"), d("99"), d("99"), d("99"), d("60"))
        );
        // A late quote from the previous period is ignored.
        assert_eq!(
            series.apply_quote(Some(d("120")), None, t(299)),
            LiveChange::None
        );
        // A quiet period is skipped: the next candle starts where the quote falls.
        assert_eq!(
            series.apply_quote(Some(d("99.5")), Some(d("10")), t(1000)),
            LiveChange::Rolled
        );
        let c = series.candles()[2];
        assert_eq!(c.ts, t(900));
        assert_eq!(
            c.volume,
            d("0"),
            "the cumulative volume restarted: no delta"
        );
        // No last price: nothing to draw.
        assert_eq!(
            series.apply_quote(None, Some(d("20")), t(1001)),
            LiveChange::None
        );
        assert_eq!(
            series.apply_quote(Some(d("99.5")), Some(d("30")), t(1002)),
            LiveChange::Updated
        );
        assert_eq!(series.candles()[2].volume, d("20"));
    }

    #[test]
    fn live_candle_is_kept_when_history_arrives_and_replaced_when_history_has_it() {
        let mut series = Series::new(60);
        series.apply_quote(Some(d("50")), Some(d("1")), t(125));
        assert_eq!(series.len(), 1);
        series.merge(&[
            bar(0, 60, "49", "49.5", "48", "49", "10"),
            bar(60, 60, "49", "50", "49", "49.9", "10"),
        ]);
        assert_eq!(series.len(), 3);
        assert_eq!(series.last().unwrap().ts, t(120));
        // The download includes the bar in progress: it replaces the partial live one, and
        // later quotes extend it.
        series.merge(&[bar(120, 60, "49.9", "50.2", "49.8", "50", "7")]);
        assert_eq!(series.len(), 3);
        series.apply_quote(Some(d("50.4")), Some(d("4")), t(130));
        let c = *series.last().unwrap();
        assert_eq!((c.open, c.high, c.volume), (d("49.9"), d("50.4"), d("10")));
    }

    #[test]
    fn daily_bars_start_at_midnight_utc() {
        let series = Series::new(86_400);
        assert_eq!(series.period_start(t(86_400 + 3600 * 15 + 7)), t(86_400));
        let series = Series::new(3600);
        assert_eq!(series.period_start(t(3600 * 15 + 7)), t(3600 * 15));
    }

    #[test]
    fn bar_sizes_round_trip_and_default_to_five_minutes() {
        for size in BAR_SIZES {
            assert_eq!(BarSize::from_seconds(size.seconds), size);
            assert_eq!(BAR_SIZES[size.index()], size);
            // Within the session's 1..=365 days and the simulator's 100,000 bars.
            assert!((1..=365).contains(&size.days));
            assert!(i64::from(size.days) * 86_400 / i64::from(size.seconds) <= 100_000);
        }
        assert_eq!(BarSize::from_seconds(7).seconds, 300);
    }
}
