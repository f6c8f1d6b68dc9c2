//! IB's historical-data pacing rules, applied before a request is sent so that TWS never has
//! to answer with error 162.
//!
//! For bars of 30 seconds or less (IB lifted these limits for 1-minute and larger bars, so
//! chart downloads of those are not slowed):
//! - no identical request within 15 seconds;
//! - fewer than 6 requests for the same contract, exchange and data type within 2 seconds;
//! - at most 60 requests in any 10 minutes.
//!
//! For every bar size: at most 50 requests open at once.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

const IDENTICAL_GAP: Duration = Duration::from_secs(15);
const BURST_WINDOW: Duration = Duration::from_secs(2);
const BURST_MAX: usize = 5;
const LONG_WINDOW: Duration = Duration::from_secs(600);
const LONG_MAX: usize = 60;
pub const MAX_OPEN: usize = 50;
/// Bars of this many seconds or fewer are paced.
pub const PACED_MAX_BAR_SECS: u32 = 30;

/// What identifies a historical request for pacing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HistoricalKey {
    pub con_id: i64,
    pub exchange: String,
    pub what_to_show: String,
    /// End time, duration and bar size: together with the above, an identical request. Ends
    /// with the bar size as TWS spells it (`5 secs`, `1 min`, `1 hour`, `1 day`).
    pub window: String,
}

impl HistoricalKey {
    /// Bar length in seconds, read from the end of `window`; `None` if it does not end with a
    /// bar size.
    pub fn bar_seconds(&self) -> Option<u32> {
        let mut words = self.window.split_whitespace().rev();
        let unit = words.next()?.to_ascii_lowercase();
        let count: u32 = words.next()?.parse().ok()?;
        let unit_secs = match unit.trim_end_matches('s') {
            "sec" => 1,
            "min" => 60,
            "hour" => 3600,
            "day" => 86_400,
            "week" => 7 * 86_400,
            "month" => 30 * 86_400,
            _ => return None,
        };
        count.checked_mul(unit_secs).filter(|s| *s > 0)
    }

    /// Whether IB's pacing limits apply: bars of 30 seconds or less, or a bar size that cannot
    /// be read (pacing an unknown request costs time; not pacing it risks a 162).
    pub fn paced(&self) -> bool {
        self.bar_seconds().is_none_or(|s| s <= PACED_MAX_BAR_SECS)
    }
}

/// The historical-data budget in use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacingStatus {
    /// Requests sent and not yet answered.
    pub open: usize,
    pub max_open: usize,
    /// Paced requests (bars of 30 s or less) sent in the last 10 minutes.
    pub sent_last_10_min: usize,
    pub max_per_10_min: usize,
}

#[derive(Debug, Default)]
pub struct HistoricalPacer {
    sent: VecDeque<(Instant, HistoricalKey)>,
    last_identical: HashMap<HistoricalKey, Instant>,
    open: usize,
}

impl HistoricalPacer {
    /// `Ok` if the request may go now (and counts it as sent and open), otherwise how long to
    /// wait before asking again.
    pub fn admit(&mut self, key: &HistoricalKey, now: Instant) -> Result<(), Duration> {
        while self
            .sent
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= LONG_WINDOW)
        {
            self.sent.pop_front();
        }
        self.last_identical
            .retain(|_, t| now.duration_since(*t) < IDENTICAL_GAP);
        let mut wait = Duration::ZERO;
        if self.open >= MAX_OPEN {
            // Re-check after a short while: an answer frees a slot.
            wait = wait.max(Duration::from_millis(100));
        }
        if !key.paced() {
            if wait > Duration::ZERO {
                return Err(wait);
            }
            self.open += 1;
            return Ok(());
        }
        if let Some(at) = self.last_identical.get(key) {
            wait = wait.max(IDENTICAL_GAP - now.duration_since(*at));
        }
        let same: Vec<Instant> = self
            .sent
            .iter()
            .filter(|(t, k)| {
                now.duration_since(*t) < BURST_WINDOW
                    && k.con_id == key.con_id
                    && k.exchange == key.exchange
                    && k.what_to_show == key.what_to_show
            })
            .map(|(t, _)| *t)
            .collect();
        if same.len() >= BURST_MAX {
            wait = wait.max(BURST_WINDOW - now.duration_since(same[same.len() - BURST_MAX]));
        }
        if self.sent.len() >= LONG_MAX {
            let oldest = self.sent[self.sent.len() - LONG_MAX].0;
            wait = wait.max(LONG_WINDOW - now.duration_since(oldest));
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        self.sent.push_back((now, key.clone()));
        self.last_identical.insert(key.clone(), now);
        self.open += 1;
        Ok(())
    }

    /// How much of the budget is used at `now`: what the connection panel shows.
    pub fn status(&self, now: Instant) -> PacingStatus {
        PacingStatus {
            open: self.open,
            max_open: MAX_OPEN,
            sent_last_10_min: self
                .sent
                .iter()
                .filter(|(t, _)| now.duration_since(*t) < LONG_WINDOW)
                .count(),
            max_per_10_min: LONG_MAX,
        }
    }

    /// The answer (or an error) for an admitted request arrived.
    pub fn finished(&mut self) {
        self.open = self.open.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(con_id: i64, window: &str) -> HistoricalKey {
        HistoricalKey {
            con_id,
            exchange: "SMART".into(),
            what_to_show: "TRADES".into(),
            window: window.into(),
        }
    }

    #[test]
    fn bar_size_is_read_from_the_window() {
        assert_eq!(key(1, "1 D 5 secs").bar_seconds(), Some(5));
        assert_eq!(key(1, "1 D 1 secs").bar_seconds(), Some(1));
        assert_eq!(key(1, "1 D 30 secs").bar_seconds(), Some(30));
        assert_eq!(key(1, "1 D 1 min").bar_seconds(), Some(60));
        assert_eq!(key(1, "2 D 5 mins").bar_seconds(), Some(300));
        assert_eq!(key(1, "30 D 1 hour").bar_seconds(), Some(3600));
        assert_eq!(key(1, "365 D 1 day").bar_seconds(), Some(86_400));
        assert_eq!(key(1, "w").bar_seconds(), None);
        assert!(key(1, "1 D 30 secs").paced());
        assert!(!key(1, "1 D 1 min").paced());
        assert!(key(1, "unreadable").paced(), "unknown sizes are paced");
    }

    #[test]
    fn identical_small_bar_requests_wait_fifteen_seconds() {
        let mut pacer = HistoricalPacer::default();
        let t0 = Instant::now();
        pacer.admit(&key(1, "1 D 5 secs"), t0).unwrap();
        pacer.finished();
        let wait = pacer
            .admit(&key(1, "1 D 5 secs"), t0 + Duration::from_secs(5))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(10));
        assert!(
            pacer
                .admit(&key(1, "1 D 5 secs"), t0 + Duration::from_secs(15))
                .is_ok()
        );
    }

    #[test]
    fn minute_and_larger_bars_are_not_paced() {
        let mut pacer = HistoricalPacer::default();
        let t0 = Instant::now();
        for window in ["1 D 1 min", "2 D 5 mins", "30 D 1 hour", "365 D 1 day"] {
            // Identical, bursty and more than 60: all admitted at once.
            for i in 0..70 {
                pacer
                    .admit(&key(1, window), t0 + Duration::from_millis(i))
                    .unwrap();
                pacer.finished();
            }
        }
        // They did not use up the small-bar budget either.
        for i in 0..5 {
            pacer.admit(&key(1, &format!("{i} D 5 secs")), t0).unwrap();
        }
    }

    #[test]
    fn six_requests_for_one_contract_in_two_seconds_wait() {
        let mut pacer = HistoricalPacer::default();
        let t0 = Instant::now();
        for i in 0..5 {
            pacer
                .admit(
                    &key(1, &format!("{} D 5 secs", i + 1)),
                    t0 + Duration::from_millis(100 * i),
                )
                .unwrap();
        }
        let wait = pacer
            .admit(&key(1, "6 D 5 secs"), t0 + Duration::from_millis(500))
            .unwrap_err();
        assert_eq!(wait, Duration::from_millis(1500));
        assert!(
            pacer
                .admit(&key(2, "6 D 5 secs"), t0 + Duration::from_millis(500))
                .is_ok(),
            "other contracts are free"
        );
        assert!(
            pacer
                .admit(&key(1, "6 D 1 min"), t0 + Duration::from_millis(500))
                .is_ok(),
            "minute bars are free"
        );
    }

    #[test]
    fn sixty_small_bar_requests_in_ten_minutes() {
        let mut pacer = HistoricalPacer::default();
        let t0 = Instant::now();
        for i in 0..60u64 {
            pacer
                .admit(&key(i as i64, "1 D 5 secs"), t0 + Duration::from_secs(i))
                .unwrap();
            pacer.finished();
        }
        let wait = pacer
            .admit(&key(99, "1 D 5 secs"), t0 + Duration::from_secs(60))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(540));
        assert!(
            pacer
                .admit(&key(99, "1 D 1 day"), t0 + Duration::from_secs(60))
                .is_ok()
        );
    }

    #[test]
    fn fifty_open_requests_of_any_bar_size() {
        let t0 = Instant::now();
        for window in ["1 D 5 secs", "1 D 1 day"] {
            let mut pacer = HistoricalPacer::default();
            for i in 0..50 {
                pacer
                    .admit(&key(i, window), t0 + Duration::from_secs(i as u64 * 3))
                    .unwrap();
            }
            let t = t0 + Duration::from_secs(200);
            assert_eq!(
                pacer.admit(&key(500, window), t),
                Err(Duration::from_millis(100)),
                "{window}"
            );
            pacer.finished();
            assert!(pacer.admit(&key(500, window), t).is_ok(), "{window}");
        }
    }

    #[test]
    fn status_counts_open_and_recent_paced_requests() {
        let mut pacer = HistoricalPacer::default();
        let t0 = Instant::now();
        pacer
            .admit(&key(1, "20261124 16:00:00 1800 S 5 secs"), t0)
            .unwrap();
        pacer
            .admit(&key(2, "20261124 16:00:00 1 D 1 hour"), t0)
            .unwrap();
        let status = pacer.status(t0);
        assert_eq!(status.open, 2);
        assert_eq!(status.sent_last_10_min, 1, "hourly bars are not paced");
        assert_eq!(
            (status.max_open, status.max_per_10_min),
            (MAX_OPEN, LONG_MAX)
        );
        pacer.finished();
        let later = pacer.status(t0 + LONG_WINDOW);
        assert_eq!((later.open, later.sent_last_10_min), (1, 0));
    }
}
