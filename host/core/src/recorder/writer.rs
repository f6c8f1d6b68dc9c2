//! The writer task: drains the queue into batches, writes them, spools and replays.
//!
//! One rule keeps the order of rows right: **while the journal holds rows, new batches go to the
//! journal too**, and the journal is replayed oldest segment first. So PostgreSQL sees rows in
//! the order they were recorded even across an outage (a commission report never overtakes its
//! execution, a bar revision never overtakes the bar). The journal is replayed one segment per
//! step between batches, so a long outage drains without starving the queue.
//!
//! When a write fails for a transient reason the batch is spooled and the database is retried
//! after a backoff that doubles from `retry_initial` to `retry_max`.
//!
//! Every journal step (append, fsync, marker, read, delete) runs on the journal thread
//! ([`JournalThread`]) and is awaited here, so this task never blocks a tokio worker on disk
//! I/O. The steps keep the order they had when they ran inline: each is awaited before the
//! next decision, so the exactly-once protocol of [`super::journal`] is unchanged.

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{MissedTickBehavior, timeout};

use super::batch::Batch;
use super::journal::{JournalError, JournalThread};
use super::record::Record;
use super::segment::{SegmentEnd, read_segment};
use super::sink::{self, TxStatus};
use super::stats::Counters;
use super::{RecorderConfig, ShutdownReport};

pub(crate) enum Msg {
    Record(Record),
    Flush(oneshot::Sender<()>),
    Shutdown(oneshot::Sender<ShutdownReport>),
}

/// State shared by the handle (which spills ticks into the journal when the queue is full) and
/// the writer task.
pub(crate) struct Shared {
    /// Where spilled ticks go; `None` once shutdown began (a full queue is then an error).
    pub spill: Mutex<Option<JournalThread>>,
    pub counters: Arc<Counters>,
    /// Journal segments as of the journal thread's last step, for [`super::Recorder::stats`].
    /// Not a journal handle: the thread must end when the writer lets go of it, while callers
    /// may still hold the recorder.
    pub segments: Arc<AtomicUsize>,
}

pub(crate) struct Writer {
    pub pool: PgPool,
    pub config: RecorderConfig,
    pub shared: Arc<Shared>,
    pub journal: JournalThread,
    /// Resolves once the journal thread has ended (every handle dropped).
    pub journal_exited: oneshot::Receiver<()>,
    pub rx: mpsc::Receiver<Msg>,
    pub batch: Batch,
    /// No database attempt before this instant (backoff after a failure).
    pub retry_at: Option<Instant>,
    pub backoff: Duration,
}

impl Writer {
    pub async fn run(mut self) {
        let period =
            (self.config.batch_age / 2).clamp(Duration::from_millis(5), Duration::from_millis(100));
        let mut timer = tokio::time::interval(period);
        timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = self.rx.recv() => match msg {
                    Some(Msg::Record(record)) => {
                        self.batch.push(record);
                        if self.batch.len() >= self.config.batch_rows {
                            self.flush().await;
                            self.maintain().await;
                        }
                    }
                    Some(Msg::Flush(ack)) => {
                        self.flush().await;
                        self.sync_journal().await;
                        let _ = ack.send(());
                    }
                    Some(Msg::Shutdown(ack)) => {
                        self.shutdown(vec![ack]).await;
                        return;
                    }
                    None => {
                        self.shutdown(Vec::new()).await;
                        return;
                    }
                },
                _ = timer.tick() => self.maintain().await,
            }
        }
    }

    /// Periodic work: the age threshold, durability of spilled ticks, and replay.
    async fn maintain(&mut self) {
        if self
            .batch
            .started()
            .is_some_and(|t| t.elapsed() >= self.config.batch_age)
        {
            self.flush().await;
        }
        self.sync_journal().await;
        if self.retry_due() && !self.journal_is_empty().await {
            self.replay_one().await;
        }
    }

    /// Whether no row waits in the journal. A journal that cannot answer counts as holding
    /// rows: new batches then try to go there too, which reports the failure.
    async fn journal_is_empty(&self) -> bool {
        self.journal.run(|j| j.is_empty()).await.unwrap_or(false)
    }

    fn retry_due(&self) -> bool {
        self.retry_at.is_none_or(|t| Instant::now() >= t)
    }

    async fn sync_journal(&self) {
        if let Err(err) = self.journal.run(|j| j.sync()).await.and_then(|r| r) {
            tracing::error!(error = %err, "cannot sync the recorder journal");
        }
    }

    /// Writes the current batch to PostgreSQL, or to the journal when rows are already waiting
    /// there or the database is in backoff.
    async fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = self.batch.take();
        if !self.retry_due() || !self.journal_is_empty().await {
            self.spool(batch).await;
            return;
        }
        let mut prepared =
            match timeout(self.config.db_timeout, sink::prepare(&self.pool, &batch)).await {
                Ok(Ok(prepared)) => prepared,
                Ok(Err(message)) => {
                    self.db_failed(&message);
                    self.spool(batch).await;
                    return;
                }
                Err(_) => {
                    self.db_failed("timed out");
                    self.spool(batch).await;
                    return;
                }
            };
        self.keep_rejects(std::mem::take(&mut prepared.rejected))
            .await;
        let (written, unmatched) = (prepared.written, prepared.unmatched_commissions);
        let marker = prepared.marker.clone();
        match timeout(self.config.db_timeout, prepared.commit()).await {
            Ok(Ok(())) => {
                self.shared.counters.written(written);
                self.shared.counters.unmatched_commissions(unmatched);
                self.db_ok();
            }
            outcome => {
                let message = match outcome {
                    Ok(Err(message)) => message,
                    _ => "commit timed out".to_owned(),
                };
                self.db_failed(&format!("commit outcome unknown: {message}"));
                // The rows may or may not be in: spool them with the transaction id, so the
                // replay asks PostgreSQL before copying them again.
                let rows = batch.len();
                let appended = self
                    .journal
                    .run(move |j| j.append_committing(&batch, &marker))
                    .await
                    .and_then(|r| r);
                match appended {
                    Ok(n) => self.shared.counters.spooled(n),
                    Err(err) => self.lose(rows, &err.to_string()),
                }
            }
        }
    }

    async fn spool(&self, batch: Batch) {
        let rows = batch.len();
        let appended = self
            .journal
            .run(move |j| j.append_durable(&batch))
            .await
            .and_then(|r| r);
        match appended {
            Ok(n) => self.shared.counters.spooled(n),
            Err(err) => self.lose(rows, &err.to_string()),
        }
    }

    fn lose(&self, rows: usize, why: &str) {
        tracing::error!(rows, error = %why,
            "recorder rows lost: neither PostgreSQL nor the journal would take them");
        self.shared.counters.lost(rows as u64);
    }

    async fn keep_rejects(&self, rejected: Batch) {
        if rejected.is_empty() {
            return;
        }
        let rows = rejected.len();
        let kept = self
            .journal
            .run(move |j| j.reject(&rejected))
            .await
            .and_then(|r| r);
        match kept {
            Ok(n) => self.shared.counters.rejected(n),
            Err(err) => self.lose(rows, &err.to_string()),
        }
    }

    fn db_failed(&mut self, message: &str) {
        if self.retry_at.is_none() {
            tracing::warn!(error = %message,
                "recorder cannot write to PostgreSQL; spooling to the journal and retrying");
        } else {
            tracing::debug!(error = %message, "recorder retry failed");
        }
        self.shared.counters.db_error();
        self.retry_at = Some(Instant::now() + self.backoff);
        self.backoff = (self.backoff * 2).min(self.config.retry_max);
    }

    fn db_ok(&mut self) {
        if self.retry_at.take().is_some() {
            tracing::info!("recorder reaches PostgreSQL again");
        }
        self.backoff = self.config.retry_initial;
        self.shared.counters.db_up();
    }

    /// Replays the oldest journal segment in one transaction. Returns true on progress.
    async fn replay_one(&mut self) -> bool {
        // Seal, find the oldest segment, read its marker and its records: one journal step.
        let next = self
            .journal
            .run(|j| {
                let Some(seq) = j.next_to_replay()? else {
                    return Ok(None);
                };
                let path = j.segment_path(seq);
                Ok(Some((seq, j.read_marker(seq), read_segment(&path), path)))
            })
            .await
            .and_then(|r: Result<_, JournalError>| r);
        let (seq, marker, read, path) = match next {
            Ok(Some(found)) => found,
            Ok(None) => return false,
            Err(err) => {
                tracing::error!(error = %err, "cannot seal the recorder journal");
                return false;
            }
        };
        let marker = marker.unwrap_or_else(|err| {
            tracing::error!(error = %err, "unreadable commit marker; replaying the segment");
            None
        });
        let read = match read {
            Ok(read) => read,
            Err(err) => {
                tracing::error!(error = %err, "cannot read a recorder journal segment");
                self.retry_at = Some(Instant::now() + self.config.retry_max);
                return false;
            }
        };
        let corrupt = match &read.end {
            SegmentEnd::Clean => false,
            SegmentEnd::Torn { offset } => {
                tracing::warn!(file = %path.display(), offset,
                    "ignoring a torn record at the end of a journal segment (written during a crash)");
                false
            }
            SegmentEnd::Corrupt { offset, reason } => {
                tracing::error!(file = %path.display(), offset, %reason,
                    "corrupt record in a journal segment; replaying the records before it");
                true
            }
        };
        let batch = Batch::from_records(read.records);

        if let Some(marker) = marker {
            match timeout(
                self.config.db_timeout,
                sink::txid_status(&self.pool, &marker),
            )
            .await
            {
                Ok(Ok(TxStatus::Committed)) => {
                    tracing::info!(file = %path.display(),
                        "journal segment was committed before; deleting it without a replay");
                    self.shared.counters.written(batch.counts());
                    self.shared.counters.replayed(batch.len() as u64);
                    self.db_ok();
                    return self.finish(seq, corrupt).await;
                }
                Ok(Ok(TxStatus::NotCommitted)) => {
                    let removed = self
                        .journal
                        .run(move |j| j.remove_marker(seq))
                        .await
                        .and_then(|r| r);
                    if let Err(err) = removed {
                        tracing::error!(error = %err, "cannot remove a journal commit marker");
                        return false;
                    }
                }
                Ok(Ok(TxStatus::InProgress)) => {
                    self.db_failed("the previous commit of this segment is still in progress");
                    return false;
                }
                Ok(Err(message)) => {
                    self.db_failed(&message);
                    return false;
                }
                Err(_) => {
                    self.db_failed("timed out");
                    return false;
                }
            }
        }
        if batch.is_empty() {
            return self.finish(seq, corrupt).await;
        }
        let mut prepared =
            match timeout(self.config.db_timeout, sink::prepare(&self.pool, &batch)).await {
                Ok(Ok(prepared)) => prepared,
                Ok(Err(message)) => {
                    self.db_failed(&message);
                    return false;
                }
                Err(_) => {
                    self.db_failed("timed out");
                    return false;
                }
            };
        self.keep_rejects(std::mem::take(&mut prepared.rejected))
            .await;
        let marker = prepared.marker.clone();
        let marked = self
            .journal
            .run(move |j| j.write_marker(seq, &marker))
            .await
            .and_then(|r| r);
        if let Err(err) = marked {
            // Without the marker a crash after the commit would replay the rows twice.
            tracing::error!(error = %err, "cannot write a journal commit marker; not replaying");
            self.retry_at = Some(Instant::now() + self.config.retry_max);
            return false;
        }
        let (written, unmatched) = (prepared.written, prepared.unmatched_commissions);
        match timeout(self.config.db_timeout, prepared.commit()).await {
            Ok(Ok(())) => {
                self.shared.counters.written(written);
                self.shared.counters.unmatched_commissions(unmatched);
                self.shared.counters.replayed(batch.len() as u64);
                self.db_ok();
                tracing::debug!(file = %path.display(), rows = batch.len(), "replayed journal segment");
                self.finish(seq, corrupt).await
            }
            Ok(Err(message)) => {
                self.db_failed(&format!("commit outcome unknown: {message}"));
                false
            }
            Err(_) => {
                self.db_failed("commit outcome unknown: timed out");
                false
            }
        }
    }

    /// Deletes a replayed segment, or sets a damaged one aside.
    async fn finish(&mut self, seq: u64, corrupt: bool) -> bool {
        let done = if corrupt {
            self.journal
                .run(move |j| j.quarantine(seq))
                .await
                .and_then(|r| r)
                .map(|kept| {
                    tracing::error!(file = %kept.display(),
                        "damaged journal segment kept for inspection; rows after the damage were not replayed");
                    self.shared.counters.corrupt_segment();
                })
        } else {
            self.journal
                .run(move |j| j.remove(seq))
                .await
                .and_then(|r| r)
        };
        match done {
            Ok(()) => true,
            Err(err) => {
                tracing::error!(error = %err, "cannot remove a replayed journal segment");
                self.retry_at = Some(Instant::now() + self.config.retry_max);
                false
            }
        }
    }

    /// Takes everything still queued, writes it (to PostgreSQL if it answers, else to the
    /// journal), replays what it can within `shutdown_timeout`, waits for the journal thread to
    /// end, and reports to everyone who asked.
    async fn shutdown(mut self, mut acks: Vec<oneshot::Sender<ShutdownReport>>) {
        // From here on a full queue is an error for callers, not a spill. Taken under the lock
        // the callers send under, so every spill already sent is ahead of the close below.
        self.shared
            .spill
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let closed = self.journal.run(|j| j.close()).await.and_then(|r| r);
        if let Err(err) = closed {
            tracing::error!(error = %err, "cannot sync the recorder journal");
        }
        self.rx.close();
        let mut flush_acks = Vec::new();
        while let Some(msg) = self.rx.recv().await {
            match msg {
                Msg::Record(record) => {
                    self.batch.push(record);
                    if self.batch.len() >= self.config.batch_rows {
                        self.flush().await;
                    }
                }
                Msg::Flush(ack) => flush_acks.push(ack),
                Msg::Shutdown(ack) => acks.push(ack),
            }
        }
        let deadline = Instant::now() + self.config.shutdown_timeout;
        // One more chance for the database, whatever the backoff says.
        self.retry_at = None;
        self.flush().await;
        while Instant::now() < deadline && self.retry_due() && !self.journal_is_empty().await {
            if !self.replay_one().await {
                break;
            }
        }
        self.sync_journal().await;
        for ack in flush_acks {
            let _ = ack.send(());
        }
        let (segments, dir) = self
            .journal
            .run(|j| (j.segments(), j.dir().to_owned()))
            .await
            .unwrap_or_else(|_| (self.journal.segments(), Default::default()));
        let report = ShutdownReport {
            stats: self.shared.counters.snapshot(segments),
        };
        let s = report.stats;
        tracing::info!(
            written = s.written.total(),
            ticks = s.written.ticks,
            executions = s.written.executions,
            spooled = s.spooled,
            spilled = s.spilled,
            replayed = s.replayed,
            rejected = s.rejected,
            lost = s.lost,
            journal_segments = segments,
            "recorder stopped"
        );
        if segments > 0 {
            tracing::warn!(segments, dir = %dir.display(),
                "recorder stopped with rows in its journal; they are replayed at the next start");
        }
        let released = self.journal.run(|j| j.release()).await.and_then(|r| r);
        if let Err(err) = released {
            tracing::error!(error = %err, "cannot seal the recorder journal");
        }
        // The last handles go: the journal thread ends, closing its files.
        let Writer {
            journal,
            journal_exited,
            ..
        } = self;
        drop(journal);
        let _ = journal_exited.await;
        for ack in acks {
            let _ = ack.send(report);
        }
    }
}
