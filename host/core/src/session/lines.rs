//! Market data lines: reference-counted across subscribers, capped at the account's line
//! limit, with a visible first-come queue beyond it.

use std::collections::{HashMap, VecDeque};

/// IB's default number of simultaneous market data lines.
pub const DEFAULT_LINE_LIMIT: usize = 100;

/// What the session must do after a subscribe or unsubscribe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineAction {
    /// Send reqMktData for these instruments.
    Start(Vec<i64>),
    /// Send cancelMktData for this instrument (and start any that left the queue).
    Stop {
        stop: i64,
        start: Vec<i64>,
    },
    /// Nothing to send (already streaming, or queued at this 1-based position).
    None,
    Queued {
        position: usize,
    },
}

#[derive(Debug)]
pub struct LineManager {
    limit: usize,
    active: HashMap<i64, usize>,
    queued: VecDeque<(i64, usize)>,
}

impl LineManager {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            active: HashMap::new(),
            queued: VecDeque::new(),
        }
    }

    pub fn subscribe(&mut self, instrument: i64) -> LineAction {
        if let Some(count) = self.active.get_mut(&instrument) {
            *count += 1;
            return LineAction::None;
        }
        if let Some(index) = self.queued.iter().position(|(id, _)| *id == instrument) {
            self.queued[index].1 += 1;
            return LineAction::Queued {
                position: index + 1,
            };
        }
        if self.active.len() < self.limit {
            self.active.insert(instrument, 1);
            return LineAction::Start(vec![instrument]);
        }
        self.queued.push_back((instrument, 1));
        LineAction::Queued {
            position: self.queued.len(),
        }
    }

    pub fn unsubscribe(&mut self, instrument: i64) -> LineAction {
        if let Some(count) = self.active.get_mut(&instrument) {
            *count -= 1;
            if *count > 0 {
                return LineAction::None;
            }
            self.active.remove(&instrument);
            let start = self.promote();
            return LineAction::Stop {
                stop: instrument,
                start,
            };
        }
        if let Some(index) = self.queued.iter().position(|(id, _)| *id == instrument) {
            self.queued[index].1 -= 1;
            if self.queued[index].1 == 0 {
                self.queued.remove(index);
            }
        }
        LineAction::None
    }

    /// TWS refused a line (error 101): the account's real limit is lower than assumed. The
    /// instrument goes back to the front of the queue and the limit shrinks to what is active.
    pub fn refused(&mut self, instrument: i64) {
        if let Some(count) = self.active.remove(&instrument) {
            self.limit = self.active.len().max(1);
            self.queued.push_front((instrument, count));
        }
    }

    /// Everything that should be streaming, for a re-subscribe after data was lost.
    pub fn active(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.active.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// The waiting instruments in order, for the UI.
    pub fn queue(&self) -> Vec<i64> {
        self.queued.iter().map(|(id, _)| *id).collect()
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    fn promote(&mut self) -> Vec<i64> {
        let mut started = Vec::new();
        while self.active.len() < self.limit {
            let Some((id, count)) = self.queued.pop_front() else {
                break;
            };
            self.active.insert(id, count);
            started.push(id);
        }
        started
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_lines_are_reference_counted() {
        let mut lines = LineManager::new(2);
        assert_eq!(lines.subscribe(1), LineAction::Start(vec![1]));
        assert_eq!(lines.subscribe(1), LineAction::None);
        assert_eq!(lines.unsubscribe(1), LineAction::None);
        assert_eq!(
            lines.unsubscribe(1),
            LineAction::Stop {
                stop: 1,
                start: vec![]
            }
        );
        assert!(lines.active().is_empty());
    }

    #[test]
    fn beyond_the_limit_instruments_queue_and_are_promoted_in_order() {
        let mut lines = LineManager::new(2);
        lines.subscribe(1);
        lines.subscribe(2);
        assert_eq!(lines.subscribe(3), LineAction::Queued { position: 1 });
        assert_eq!(lines.subscribe(4), LineAction::Queued { position: 2 });
        assert_eq!(lines.subscribe(3), LineAction::Queued { position: 1 });
        assert_eq!(lines.queue(), vec![3, 4]);
        assert_eq!(
            lines.unsubscribe(1),
            LineAction::Stop {
                stop: 1,
                start: vec![3]
            }
        );
        // 3 had two subscribers while queued: it keeps both.
        assert_eq!(lines.unsubscribe(3), LineAction::None);
        assert_eq!(lines.unsubscribe(4), LineAction::None);
        assert!(lines.queue().is_empty());
        assert_eq!(lines.active(), vec![2, 3]);
    }

    #[test]
    fn a_refused_line_shrinks_the_limit() {
        let mut lines = LineManager::new(3);
        lines.subscribe(1);
        lines.subscribe(2);
        lines.subscribe(3);
        lines.refused(3);
        assert_eq!(lines.limit(), 2);
        assert_eq!(lines.queue(), vec![3]);
        assert_eq!(
            lines.unsubscribe(2),
            LineAction::Stop {
                stop: 2,
                start: vec![3]
            }
        );
    }
}
