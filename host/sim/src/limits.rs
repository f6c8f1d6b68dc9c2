//! TWS's pacing rules: the API message rate (50/s, shared by all clients, warning then 100)
//! and historical-data pacing (162 for identical requests within 15 s or more than 60 in
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

/// Recent historical requests, for pacing.
#[derive(Debug, Default, Clone)]
pub struct HistoryPacing {
    recent: VecDeque<(Instant, String)>,
}

impl HistoryPacing {
    /// Records a request and returns the 162 text if it violates pacing.
    pub fn check(&mut self, key: &str, now: Instant) -> Result<(), String> {
        while self
            .recent
            .front()
            .is_some_and(|(t, _)| now.saturating_duration_since(*t) > Duration::from_secs(600))
        {
            self.recent.pop_front();
        }
        if self
            .recent
            .iter()
            .any(|(t, k)| k == key && now.saturating_duration_since(*t) < Duration::from_secs(15))
        {
            return Err("Historical Market Data Service error message:Pacing violation: identical request within 15 seconds".into());
        }
        if self.recent.len() >= 60 {
            return Err("Historical Market Data Service error message:Pacing violation: more than 60 requests within 10 minutes".into());
        }
        self.recent.push_back((now, key.to_string()));
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

    #[test]
    fn identical_history_request_is_paced() {
        let mut p = HistoryPacing::default();
        let t = Instant::now();
        assert!(p.check("a", t).is_ok());
        assert!(p.check("a", t + Duration::from_secs(1)).is_err());
        assert!(p.check("b", t + Duration::from_secs(1)).is_ok());
        assert!(p.check("a", t + Duration::from_secs(20)).is_ok());
    }
}
