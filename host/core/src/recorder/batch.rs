//! A batch: the records the writer collects between two writes, grouped by kind.
//!
//! Grouping by kind is what lets one batch become a handful of `COPY`s instead of one statement
//! per row. Within a kind the order of arrival is kept (a revised bar or account value must
//! replace the earlier one); across kinds the writer always writes executions before commission
//! reports, so a report finds the execution it belongs to.

use std::time::Instant;

use super::record::{CommissionReport, Record, RecordRef};
use crate::domain::{Bar, Execution, Tick};
use crate::store::account_values::AccountValue;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Batch {
    pub ticks: Vec<Tick>,
    pub bars: Vec<Bar>,
    pub executions: Vec<Execution>,
    pub commissions: Vec<CommissionReport>,
    pub account_values: Vec<AccountValue>,
    /// When the first record of this batch arrived: the age threshold counts from here.
    started: Option<Instant>,
}

/// Rows per kind: what a batch holds, or what the recorder wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    pub ticks: u64,
    pub bars: u64,
    pub executions: u64,
    pub commissions: u64,
    pub account_values: u64,
}

impl RowCounts {
    pub fn total(&self) -> u64 {
        self.ticks + self.bars + self.executions + self.commissions + self.account_values
    }
}

impl std::ops::AddAssign for RowCounts {
    fn add_assign(&mut self, other: Self) {
        self.ticks += other.ticks;
        self.bars += other.bars;
        self.executions += other.executions;
        self.commissions += other.commissions;
        self.account_values += other.account_values;
    }
}

impl Batch {
    pub fn from_records(records: impl IntoIterator<Item = Record>) -> Self {
        let mut batch = Batch::default();
        for record in records {
            batch.push(record);
        }
        batch
    }

    pub fn push(&mut self, record: Record) {
        if self.started.is_none() {
            self.started = Some(Instant::now());
        }
        match record {
            Record::Tick(t) => self.ticks.push(t),
            Record::Bar(b) => self.bars.push(*b),
            Record::Execution(e) => self.executions.push(*e),
            Record::Commission(c) => self.commissions.push(*c),
            Record::AccountValue(v) => self.account_values.push(*v),
        }
    }

    pub fn len(&self) -> usize {
        self.ticks.len()
            + self.bars.len()
            + self.executions.len()
            + self.commissions.len()
            + self.account_values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// When the oldest record arrived (`None` for an empty batch).
    pub fn started(&self) -> Option<Instant> {
        self.started
    }

    pub fn counts(&self) -> RowCounts {
        RowCounts {
            ticks: self.ticks.len() as u64,
            bars: self.bars.len() as u64,
            executions: self.executions.len() as u64,
            commissions: self.commissions.len() as u64,
            account_values: self.account_values.len() as u64,
        }
    }

    /// The records in the order they are written to the journal and to the database:
    /// executions, commission reports, bars, account values, ticks.
    pub fn iter(&self) -> impl Iterator<Item = RecordRef<'_>> {
        self.executions
            .iter()
            .map(RecordRef::Execution)
            .chain(self.commissions.iter().map(RecordRef::Commission))
            .chain(self.bars.iter().map(RecordRef::Bar))
            .chain(self.account_values.iter().map(RecordRef::AccountValue))
            .chain(self.ticks.iter().map(RecordRef::Tick))
    }

    pub fn take(&mut self) -> Batch {
        std::mem::take(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::record::tests::samples;

    #[test]
    fn groups_by_kind_and_writes_executions_before_commissions() {
        let mut records = samples();
        // Commission report first, as if it overtook its execution in the queue.
        records.swap(0, 3);
        let batch = Batch::from_records(records);
        assert_eq!(batch.len(), 5);
        assert!(batch.started().is_some());
        let kinds: Vec<&str> = batch
            .iter()
            .map(|r| match r {
                RecordRef::Execution(_) => "E",
                RecordRef::Commission(_) => "C",
                RecordRef::Bar(_) => "B",
                RecordRef::AccountValue(_) => "A",
                RecordRef::Tick(_) => "T",
            })
            .collect();
        assert_eq!(kinds, ["E", "C", "B", "A", "T"]);
        assert_eq!(batch.counts().total(), 5);
        let mut batch = batch;
        let taken = batch.take();
        assert!(batch.is_empty() && batch.started().is_none());
        assert_eq!(taken.counts().ticks, 1);
    }
}
