//! keepUpToDate historical requests: after the bars, TWS keeps sending the bar in progress
//! (HistoricalDataUpdate, message 90) as the price moves, and starts a new bar when its interval
//! ends. The clock calls [`Core::update_live_bars`] after moving prices.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::msg::{BarView, Response};
use crate::state::{Core, Outgoing};
use crate::world::history::BarPlan;

/// Real-time bars are always 5 seconds, as in TWS.
const REALTIME_BAR_SECS: i64 = 5;

/// Minimum spacing of updates for one request (TWS sends a few per bar, not one per tick).
const UPDATE_EVERY: Duration = Duration::from_millis(500);

/// The bar in progress of one keepUpToDate request.
#[derive(Debug, Clone)]
pub struct LiveBar {
    pub con_id: i32,
    bar_secs: i64,
    daily: bool,
    format_date: i32,
    start: i64,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    count: i32,
    last_sent: Option<Instant>,
}

impl LiveBar {
    pub fn new(
        con_id: i32,
        plan: BarPlan,
        format_date: i32,
        price: f64,
        now: DateTime<Utc>,
    ) -> Self {
        let bar_secs = plan.bar_secs.max(1);
        let t = now.timestamp();
        LiveBar {
            con_id,
            bar_secs,
            daily: plan.daily,
            format_date,
            start: t - t.rem_euclid(bar_secs),
            open: price,
            high: price,
            low: price,
            close: price,
            count: 0,
            last_sent: None,
        }
    }

    /// A 5-second real-time bar (reqRealTimeBars), dated in epoch seconds.
    pub fn realtime(con_id: i32, price: f64, now: DateTime<Utc>) -> Self {
        let plan = BarPlan {
            bar_secs: REALTIME_BAR_SECS,
            duration_secs: REALTIME_BAR_SECS,
            daily: false,
        };
        LiveBar::new(con_id, plan, 2, price, now)
    }

    /// Folds in a price for a real-time bar; returns the previous bar once its interval ended.
    fn roll(&mut self, price: f64, now: DateTime<Utc>) -> Option<BarView> {
        let t = now.timestamp();
        let start = t - t.rem_euclid(self.bar_secs);
        let done = (start > self.start).then(|| self.view());
        if done.is_some() {
            *self = LiveBar {
                start,
                open: price,
                high: price,
                low: price,
                close: price,
                count: 0,
                ..self.clone()
            };
        } else {
            self.high = self.high.max(price);
            self.low = self.low.min(price);
            self.close = price;
        }
        self.count += 1;
        done
    }

    /// Folds in a price; true when an update is due.
    fn observe(&mut self, price: f64, now: DateTime<Utc>, wall: Instant) -> bool {
        let t = now.timestamp();
        let start = t - t.rem_euclid(self.bar_secs);
        let new_bar = start > self.start;
        if new_bar {
            *self = LiveBar {
                start,
                open: price,
                high: price,
                low: price,
                close: price,
                count: 0,
                ..self.clone()
            };
        } else {
            self.high = self.high.max(price);
            self.low = self.low.min(price);
            self.close = price;
        }
        self.count += 1;
        let due = new_bar
            || self
                .last_sent
                .is_none_or(|s| wall.duration_since(s) >= UPDATE_EVERY);
        if due {
            self.last_sent = Some(wall);
        }
        due
    }

    fn view(&self) -> BarView {
        let t = Utc
            .timestamp_opt(self.start, 0)
            .single()
            .unwrap_or_default();
        let date = if self.daily {
            t.format("%Y%m%d").to_string()
        } else if self.format_date == 2 {
            self.start.to_string()
        } else {
            t.format("%Y%m%d %H:%M:%S UTC").to_string()
        };
        let wap = Decimal::from_f64_retain((self.open + self.high + self.low + self.close) / 4.0)
            .unwrap_or_default()
            .round_dp(4);
        BarView {
            date,
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume: Decimal::from(self.count) * Decimal::ONE_HUNDRED,
            wap,
            count: self.count,
        }
    }
}

impl Core {
    /// Updates every keepUpToDate bar from the live prices and sends the due updates.
    pub fn update_live_bars(&mut self) {
        let now = self.now();
        let wall = Instant::now();
        let Core {
            conns,
            market,
            universe,
            ..
        } = self;
        for conn in conns.values_mut() {
            let mut due = Vec::new();
            for (req_id, bar) in conn.live_bars.iter_mut() {
                let Some(inst) = universe.get(bar.con_id) else {
                    continue;
                };
                let Some(q) = market.quote(universe, inst, now) else {
                    continue;
                };
                if bar.observe(q.last, now, wall) {
                    let r = Response::HistoricalDataUpdate {
                        req_id: *req_id,
                        bar: bar.view(),
                    };
                    due.push(r);
                }
            }
            for (req_id, bar) in conn.rt_bars.iter_mut() {
                let Some(inst) = universe.get(bar.con_id) else {
                    continue;
                };
                if let Some(q) = market.quote(universe, inst, now)
                    && let Some(done) = bar.roll(q.last, now)
                {
                    due.push(Response::RealTimeBar {
                        req_id: *req_id,
                        bar: done,
                    });
                }
            }
            for r in due {
                conn.push(Outgoing::Resp(r));
            }
        }
    }
}
