//! Counters the recorder keeps for the UI, logs and tests: lock-free, read at any time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use super::batch::RowCounts;

#[derive(Debug, Default)]
pub(crate) struct Counters {
    ticks: AtomicU64,
    bars: AtomicU64,
    executions: AtomicU64,
    commissions: AtomicU64,
    account_values: AtomicU64,
    replayed: AtomicU64,
    spooled: AtomicU64,
    spilled: AtomicU64,
    rejected: AtomicU64,
    unmatched_commissions: AtomicU64,
    lost: AtomicU64,
    db_errors: AtomicU64,
    corrupt_segments: AtomicU64,
    db_down: AtomicBool,
}

impl Counters {
    pub fn written(&self, rows: RowCounts) {
        self.ticks.fetch_add(rows.ticks, Relaxed);
        self.bars.fetch_add(rows.bars, Relaxed);
        self.executions.fetch_add(rows.executions, Relaxed);
        self.commissions.fetch_add(rows.commissions, Relaxed);
        self.account_values.fetch_add(rows.account_values, Relaxed);
    }

    pub fn replayed(&self, rows: u64) {
        self.replayed.fetch_add(rows, Relaxed);
    }

    pub fn spooled(&self, rows: u64) {
        self.spooled.fetch_add(rows, Relaxed);
    }

    pub fn spilled(&self, rows: u64) {
        self.spilled.fetch_add(rows, Relaxed);
        self.spooled.fetch_add(rows, Relaxed);
    }

    pub fn rejected(&self, rows: u64) {
        self.rejected.fetch_add(rows, Relaxed);
    }

    pub fn unmatched_commissions(&self, rows: u64) {
        self.unmatched_commissions.fetch_add(rows, Relaxed);
    }

    pub fn lost(&self, rows: u64) {
        self.lost.fetch_add(rows, Relaxed);
    }

    pub fn db_error(&self) {
        self.db_errors.fetch_add(1, Relaxed);
        self.db_down.store(true, Relaxed);
    }

    pub fn db_up(&self) {
        self.db_down.store(false, Relaxed);
    }

    pub fn corrupt_segment(&self) {
        self.corrupt_segments.fetch_add(1, Relaxed);
    }

    pub fn snapshot(&self, journal_segments: usize) -> RecorderStats {
        RecorderStats {
            written: RowCounts {
                ticks: self.ticks.load(Relaxed),
                bars: self.bars.load(Relaxed),
                executions: self.executions.load(Relaxed),
                commissions: self.commissions.load(Relaxed),
                account_values: self.account_values.load(Relaxed),
            },
            replayed: self.replayed.load(Relaxed),
            spooled: self.spooled.load(Relaxed),
            spilled: self.spilled.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            unmatched_commissions: self.unmatched_commissions.load(Relaxed),
            lost: self.lost.load(Relaxed),
            db_errors: self.db_errors.load(Relaxed),
            corrupt_segments: self.corrupt_segments.load(Relaxed),
            db_available: !self.db_down.load(Relaxed),
            journal_segments,
        }
    }
}

/// A snapshot of the recorder's counters since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderStats {
    /// Rows that reached PostgreSQL, directly or by replay, per kind. Executions count once per
    /// record even if the execution was already stored; commission reports count when their
    /// execution was found.
    pub written: RowCounts,
    /// Of `written`, rows that came from the journal (including rows found already committed).
    pub replayed: u64,
    /// Rows appended to the journal because the database was unreachable, behind, or the
    /// queue was full.
    pub spooled: u64,
    /// Of `spooled`, ticks a caller wrote to the journal itself because the queue was full.
    pub spilled: u64,
    /// Rows PostgreSQL refused as invalid; kept in `rejected.journal`.
    pub rejected: u64,
    /// Commission reports whose execution is not in the database.
    pub unmatched_commissions: u64,
    /// Rows lost because neither the database nor the journal's disk would take them.
    pub lost: u64,
    /// Failed attempts to reach the database.
    pub db_errors: u64,
    /// Journal segments set aside as damaged.
    pub corrupt_segments: u64,
    /// False from a failed write until the next successful one.
    pub db_available: bool,
    /// Journal segments waiting to be replayed.
    pub journal_segments: usize,
}
