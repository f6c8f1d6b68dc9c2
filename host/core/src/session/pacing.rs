//! IB's historical-data pacing rules, applied before a request is sent so that TWS never has
//! to answer with error 162.
//!
//! - no identical request within 15 seconds;
//! - fewer than 6 requests for the same contract, exchange and data type within 2 seconds;
//! - at most 60 requests in any 10 minutes;
//! - at most 50 requests open at once.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

const IDENTICAL_GAP: Duration = Duration::from_secs(15);
const BURST_WINDOW: Duration = Duration::from_secs(2);
const BURST_MAX: usize = 5;
const LONG_WINDOW: Duration = Duration::from_secs(600);
const LONG_MAX: usize = 60;
pub const MAX_OPEN: usize = 50;

/// What identifies a historical request for pacing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HistoricalKey {
    pub con_id: i64,
    pub exchange: String,
    pub what_to_show: String,
    /// End time, duration and bar size: together with the above, an identical request.
    pub window: String,
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
    fn identical_requests_wait_fifteen_seconds() {
        let mut pacer = HistoricalPacer::default();
        let t0 = Instant::now();
        pacer.admit(&key(1, "1 D 1 min"), t0).unwrap();
        pacer.finished();
        let wait = pacer
            .admit(&key(1, "1 D 1 min"), t0 + Duration::from_secs(5))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(10));
        assert!(
            pacer
                .admit(&key(1, "1 D 1 min"), t0 + Duration::from_secs(15))
                .is_ok()
        );
    }

    #[test]
    fn six_requests_for_one_contract_in_two_seconds_wait() {
        let mut pacer = HistoricalPacer::default();
        let t0 = Instant::now();
        for i in 0..5 {
            pacer
                .admit(
                    &key(1, &format!("w{i}")),
                    t0 + Duration::from_millis(100 * i),
                )
                .unwrap();
        }
        let wait = pacer
            .admit(&key(1, "w5"), t0 + Duration::from_millis(500))
            .unwrap_err();
        assert_eq!(wait, Duration::from_millis(1500));
        assert!(
            pacer
                .admit(&key(2, "w5"), t0 + Duration::from_millis(500))
                .is_ok(),
            "other contracts are free"
        );
    }

    #[test]
    fn sixty_in_ten_minutes_and_fifty_open() {
        let mut pacer = HistoricalPacer::default();
        let t0 = Instant::now();
        for i in 0..60u64 {
            pacer
                .admit(&key(i as i64, "w"), t0 + Duration::from_secs(i))
                .unwrap();
            pacer.finished();
        }
        let wait = pacer
            .admit(&key(99, "w"), t0 + Duration::from_secs(60))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(540));

        let mut pacer = HistoricalPacer::default();
        for i in 0..50 {
            pacer
                .admit(&key(i, "w"), t0 + Duration::from_secs(i as u64 * 3))
                .unwrap();
        }
        assert!(
            pacer
                .admit(&key(500, "w"), t0 + Duration::from_secs(200))
                .is_err()
        );
        pacer.finished();
        assert!(
            pacer
                .admit(&key(500, "w"), t0 + Duration::from_secs(200))
                .is_ok()
        );
    }
}
