//! TWS's pacing rules: the API message rate (50/s, shared by all clients, warning then 100)
//! and historical-data pacing, which IB applies only to bars of 30 seconds or less (162 for an
//! identical request within 15 s, six or more for one contract within 2 s, or more than 60 in
//! 10 minutes).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Outcome of counting one inbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateVerdict {
    Ok,
    /// Approaching the limit: send code 0 with this count, then process the message.
    Warn(u32),
    /// Over the limit: send 100 and drop the message.
    Exceeded,
    /// Over the limit for several consecutive seconds: disconnect the sender.
    Disconnect,
}

/// A one-second window counter.
#[derive(Debug, Clone)]
pub struct RateWindow {
    limit: Option<u32>,
    start: Instant,
    count: u32,
    warned: bool,
    violated: bool,
    consecutive: u32,
}

/// Consecutive violating seconds after which the sender is disconnected.
const DISCONNECT_AFTER: u32 = 3;

impl RateWindow {
    pub fn new(limit: Option<u32>) -> Self {
        RateWindow {
            limit,
            start: Instant::now(),
            count: 0,
            warned: false,
            violated: false,
            consecutive: 0,
        }
    }

    pub fn check(&mut self, now: Instant) -> RateVerdict {
        let Some(limit) = self.limit else {
            return RateVerdict::Ok;
        };
        let elapsed = now.saturating_duration_since(self.start);
        if elapsed >= Duration::from_secs(1) {
            self.consecutive = if self.violated && elapsed < Duration::from_secs(2) {
                self.consecutive + 1
            } else {
                0
            };
            self.start = now;
            self.count = 0;
            self.warned = false;
            self.violated = false;
        }
        self.count += 1;
        if self.count > limit {
            self.violated = true;
            if self.consecutive + 1 >= DISCONNECT_AFTER {
                return RateVerdict::Disconnect;
            }
            return RateVerdict::Exceeded;
        }
        if !self.warned && self.count * 5 > limit * 4 {
            self.warned = true;
            return RateVerdict::Warn(self.count);
        }
        RateVerdict::Ok
    }
}

/// Bars of this many seconds or fewer are paced; IB lifted pacing for 1-minute and larger bars.
pub const PACED_MAX_BAR_SECS: i64 = 30;
const IDENTICAL_GAP: Duration = Duration::from_secs(15);
const BURST_WINDOW: Duration = Duration::from_secs(2);
/// Six or more requests for one contract, exchange and data type within two seconds violate.
const BURST_MAX: usize = 5;
const LONG_WINDOW: Duration = Duration::from_secs(600);
const LONG_MAX: usize = 60;

/// What identifies a historical request for pacing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacingKey {
    /// Contract, exchange and data type: the scope of the two-second burst rule.
    pub series: String,
    /// Everything else of the request (end, duration, bar size, RTH): with `series`, what makes
    /// two requests identical.
    pub window: String,
    pub bar_secs: i64,
}

/// Recent small-bar historical requests, for pacing (shared by every client, as in TWS).
#[derive(Debug, Default, Clone)]
pub struct HistoryPacing {
    recent: VecDeque<(Instant, PacingKey)>,
}

impl HistoryPacing {
    /// Records a request and returns the 162 text if it violates pacing. Requests for bars
    /// larger than [`PACED_MAX_BAR_SECS`] are neither checked nor counted.
    pub fn check(&mut self, key: &PacingKey, now: Instant) -> Result<(), String> {
        if key.bar_secs > PACED_MAX_BAR_SECS {
            return Ok(());
        }
        while self
            .recent
            .front()
            .is_some_and(|(t, _)| now.saturating_duration_since(*t) >= LONG_WINDOW)
        {
            self.recent.pop_front();
        }
        let age = |t: &Instant| now.saturating_duration_since(*t);
        let hmds = "Historical Market Data Service error message:Pacing violation";
        if self
            .recent
            .iter()
            .any(|(t, k)| k == key && age(t) < IDENTICAL_GAP)
        {
            return Err(format!("{hmds}: identical request within 15 seconds"));
        }
        let burst = self
            .recent
            .iter()
            .filter(|(t, k)| k.series == key.series && age(t) < BURST_WINDOW)
            .count();
        if burst >= BURST_MAX {
            return Err(format!(
                "{hmds}: six or more requests for the same contract within 2 seconds"
            ));
        }
        if self.recent.len() >= LONG_MAX {
            return Err(format!("{hmds}: more than 60 requests within 10 minutes"));
        }
        self.recent.push_back((now, key.clone()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_warns_then_exceeds() {
        let mut w = RateWindow::new(Some(50));
        let t = Instant::now();
        let verdicts: Vec<_> = (0..52).map(|_| w.check(t)).collect();
        assert_eq!(verdicts[40], RateVerdict::Warn(41));
        assert_eq!(verdicts[50], RateVerdict::Exceeded);
        assert!(verdicts[..40].iter().all(|v| *v == RateVerdict::Ok));
        let later = t + Duration::from_secs(5);
        assert_eq!(w.check(later), RateVerdict::Ok);
    }

    fn key(series: &str, window: &str, bar_secs: i64) -> PacingKey {
        PacingKey {
            series: series.into(),
            window: window.into(),
            bar_secs,
        }
    }

    #[test]
    fn identical_small_bar_request_is_paced() {
        let mut p = HistoryPacing::default();
        let t = Instant::now();
        let a = key("AAPL", "1 D 5 secs", 5);
        assert!(p.check(&a, t).is_ok());
        let again = p.check(&a, t + Duration::from_secs(1));
        assert!(again.is_err_and(|e| e.contains("identical")));
        assert!(p.check(&key("AAPL", "2 D 5 secs", 5), t).is_ok());
        assert!(p.check(&a, t + Duration::from_secs(20)).is_ok());
    }

    #[test]
    fn minute_and_larger_bars_are_not_paced() {
        let mut p = HistoryPacing::default();
        let t = Instant::now();
        for bar_secs in [60, 300, 86_400] {
            let k = key("AAPL", "1 D", bar_secs);
            for i in 0..100 {
                assert!(p.check(&k, t + Duration::from_millis(i)).is_ok());
            }
        }
        assert!(p.recent.is_empty(), "large bars do not count");
        assert!(p.check(&key("AAPL", "1 D 30 secs", 30), t).is_ok());
        assert!(p.check(&key("AAPL", "1 D 30 secs", 30), t).is_err());
    }

    #[test]
    fn six_for_one_contract_within_two_seconds_and_sixty_in_ten_minutes() {
        let mut p = HistoryPacing::default();
        let t = Instant::now();
        for i in 0..5 {
            assert!(p.check(&key("AAPL", &format!("w{i}"), 5), t).is_ok());
        }
        assert!(
            p.check(&key("AAPL", "w5", 5), t + Duration::from_millis(500))
                .is_err_and(|e| e.contains("same contract"))
        );
        assert!(p.check(&key("MSFT", "w5", 5), t).is_ok(), "other contracts");
        assert!(
            p.check(&key("AAPL", "w6", 5), t + Duration::from_secs(2))
                .is_ok()
        );

        let mut p = HistoryPacing::default();
        for i in 0..60u64 {
            let k = key(&format!("c{i}"), "w", 1);
            assert!(p.check(&k, t + Duration::from_secs(i)).is_ok());
        }
        let k = key("c99", "w", 1);
        assert!(
            p.check(&k, t + Duration::from_secs(60))
                .is_err_and(|e| e.contains("60 requests"))
        );
        assert!(p.check(&k, t + Duration::from_secs(600)).is_ok());
    }
}
