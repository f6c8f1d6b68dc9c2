//! Quotes between the core runtime and the window: merged per instrument, drained per frame.
//!
//! A flood of ticks must never become a flood of window messages. The backend merges every
//! quote into the board and wakes the window only when the board goes from empty to non-empty;
//! the window drains it once per frame (a tick callback registered only while there is
//! something to drain) and hands the batch to the open panels.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tickwork_core::domain::Quote;

#[derive(Debug, Default)]
pub struct QuoteBoard {
    pending: Mutex<HashMap<i64, Quote>>,
    scheduled: AtomicBool,
}

impl QuoteBoard {
    /// Merges quotes; true when the window must be woken (nothing was waiting before).
    pub fn merge(&self, quotes: impl IntoIterator<Item = Quote>) -> bool {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for quote in quotes {
            pending.insert(quote.instrument_id, quote);
        }
        !pending.is_empty() && !self.scheduled.swap(true, Ordering::AcqRel)
    }

    /// Everything that changed since the last drain; later merges wake the window again.
    pub fn drain(&self) -> Vec<Quote> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        self.scheduled.store(false, Ordering::Release);
        pending.drain().map(|(_, quote)| quote).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(id: i64, last: i64) -> Quote {
        Quote {
            instrument_id: id,
            last: Some(last.into()),
            ..Quote::default()
        }
    }

    #[test]
    fn wakes_once_per_drain_and_keeps_the_latest_per_instrument() {
        let board = QuoteBoard::default();
        assert!(board.merge([quote(1, 10)]));
        assert!(
            !board.merge([quote(1, 11), quote(2, 20)]),
            "already scheduled"
        );
        let mut drained = board.drain();
        drained.sort_by_key(|q| q.instrument_id);
        assert_eq!(drained, vec![quote(1, 11), quote(2, 20)]);
        assert!(board.drain().is_empty());
        assert!(board.merge([quote(2, 21)]), "a drain re-arms the wake-up");
        assert!(!board.merge([]));
    }
}
