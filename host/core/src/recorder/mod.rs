//! The recorder: ticks, bars, executions (with their commission reports) and account values
//! into PostgreSQL, in batches written with `COPY`, without losing a row when the database goes
//! away.
//!
//! ```text
//! Recorder (cloneable handle) ──bounded queue──► writer task ──COPY──► PostgreSQL
//!        │ queue full: ticks spill                  │ database down / behind
//!        ▼                                          ▼
//!   journal segments (local files, fsync'd) ◄───────┘   ──replay, oldest first──► PostgreSQL
//! ```
//!
//! - **Batching.** The writer task collects records until `batch_rows` are waiting or the
//!   oldest has waited `batch_age`, then writes the batch in one transaction ([`sink`]).
//! - **Bounded memory.** The queue holds at most `queue_capacity` records and a batch at most
//!   `batch_rows`; a journal segment is read back whole, and segments rotate at
//!   `segment_bytes`. When the queue is full:
//!   - [`Recorder::record_tick`] never blocks and never drops: the caller appends the tick to
//!     the journal itself (a spill, counted in [`RecorderStats::spilled`]); the writer replays
//!     it like any spooled row. Tick order in the table does not matter (rows carry their time).
//!     The writer fsyncs spilled ticks on its timer (every `batch_age / 2`, at most 100 ms,
//!     unless it is busy with the database then). The spill itself only queues the tick for
//!     the journal thread (below): the caller never waits for the disk.
//!     [`Recorder::record_tick_waiting`] waits for room instead, for producers that can.
//!   - executions, commission reports, bars and account values wait for room (`async`): they
//!     are few, and their order matters.
//! - **Outages.** A batch the database does not take is appended to the journal and fsync'd;
//!   the writer retries with capped backoff and replays the journal in order, each segment in
//!   one transaction, exactly once ([`journal`] explains how, with ticks that have no key).
//!   A journal left by an earlier run is replayed at start.
//! - **Rows PostgreSQL refuses** (say, an execution for an unknown instrument) are isolated and
//!   kept in `rejected.journal` instead of blocking everything behind them.
//! - **No disk I/O on tokio workers.** The journal belongs to one dedicated thread
//!   (`tickwork-journal`, [`journal`]); the writer task and the spilling callers send it work
//!   and never touch a file or wait for an fsync themselves.
//! - **Shutdown** ([`Recorder::shutdown`]) writes everything still queued to PostgreSQL, or to
//!   the journal if PostgreSQL does not answer, and reports the counters.
//!
//! What is *not* covered: rows still in memory (queue and current batch: at most
//! `queue_capacity + batch_rows`, under `batch_age` old in normal operation) when the process
//! itself is killed. Executions lost that way are fetched again by the session's resync
//! ("executions since the last recorded one").

mod batch;
pub mod journal;
mod record;
pub mod segment;
mod sink;
mod stats;
mod writer;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub use batch::RowCounts;
pub use journal::JournalError;
pub use record::{CommissionReport, Record};
pub use stats::RecorderStats;

use crate::domain::{Bar, Execution, Tick};
use crate::store::account_values::AccountValue;
use journal::{Journal, JournalThread};
use writer::{Msg, Shared, Writer};

/// Tuning and the journal's place. [`RecorderConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// Where the journal lives (the app passes `$XDG_STATE_HOME/tickwork/recorder`).
    pub journal_dir: PathBuf,
    /// Write a batch once this many rows wait (default 10,000).
    pub batch_rows: usize,
    /// … or once the oldest row has waited this long (default 200 ms).
    pub batch_age: Duration,
    /// Records the queue holds before ticks spill to the journal (default 65,536).
    pub queue_capacity: usize,
    /// Journal segments rotate at this size (default 8 MiB).
    pub segment_bytes: u64,
    /// First retry after a database failure (default 250 ms), doubling up to `retry_max`
    /// (default 5 s).
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// Longest wait for one database step before it counts as failed (default 15 s). Keep the
    /// pool's `acquire_timeout` below it.
    pub db_timeout: Duration,
    /// How long [`Recorder::shutdown`] keeps replaying the journal before leaving the rest for
    /// the next start (default 20 s).
    pub shutdown_timeout: Duration,
}

impl RecorderConfig {
    pub fn new(journal_dir: impl Into<PathBuf>) -> Self {
        Self {
            journal_dir: journal_dir.into(),
            batch_rows: 10_000,
            batch_age: Duration::from_millis(200),
            queue_capacity: 65_536,
            segment_bytes: 8 << 20,
            retry_initial: Duration::from_millis(250),
            retry_max: Duration::from_secs(5),
            db_timeout: Duration::from_secs(15),
            shutdown_timeout: Duration::from_secs(20),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecorderError {
    #[error("the recorder is shut down")]
    Closed,
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("the recorder must be started on a tokio runtime")]
    NoRuntime,
    #[error("the recorder's writer task stopped unexpectedly: {0}")]
    WriterFailed(String),
}

/// What [`Recorder::shutdown`] did, in numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// The counters at the end; `stats.journal_segments` are left for the next start.
    pub stats: RecorderStats,
}

/// The handle the session and hub feed. Cheap to clone; every clone feeds the same writer.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Msg>,
    shared: Arc<Shared>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Recorder {
    /// Opens the journal (taking its lock: one recorder per directory) and starts the writer
    /// task on the current tokio runtime. Rows left in the journal are replayed first.
    pub fn start(pool: PgPool, config: RecorderConfig) -> Result<Recorder, RecorderError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| RecorderError::NoRuntime)?;
        let mut config = config;
        config.batch_rows = config.batch_rows.max(1);
        config.queue_capacity = config.queue_capacity.max(1);
        // Opening lists the directory once, here at start; every later file operation is on
        // the journal thread.
        let journal = Journal::open(&config.journal_dir, config.segment_bytes.max(1))?;
        let counters = Arc::new(stats::Counters::default());
        let (journal, journal_exited) = JournalThread::spawn(journal, counters.clone())?;
        let shared = Arc::new(Shared {
            spill: Mutex::new(Some(journal.clone())),
            counters,
            segments: journal.segments_seen(),
        });
        let (tx, rx) = mpsc::channel(config.queue_capacity);
        let writer = Writer {
            pool,
            backoff: config.retry_initial,
            config,
            shared: shared.clone(),
            journal,
            journal_exited,
            rx,
            batch: Default::default(),
            retry_at: None,
        };
        let task = runtime.spawn(writer.run());
        Ok(Recorder {
            tx,
            shared,
            task: Arc::new(Mutex::new(Some(task))),
        })
    }

    /// Records a tick without ever blocking: when the queue is full the tick goes to the
    /// journal thread (which appends it; a disk failure there counts the tick as lost). Fails
    /// only after shutdown began.
    pub fn record_tick(&self, tick: Tick) -> Result<(), RecorderError> {
        match self.tx.try_send(Msg::Record(Record::Tick(tick))) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(Msg::Record(record))) => self.spill(record),
            Err(_) => Err(RecorderError::Closed),
        }
    }

    /// Records a tick, waiting for room in the queue instead of spilling: for producers that
    /// can be slowed down (a bulk import, a backfill), which then go at the database's pace
    /// without a detour through the journal.
    pub async fn record_tick_waiting(&self, tick: Tick) -> Result<(), RecorderError> {
        self.send(Record::Tick(tick)).await
    }

    fn spill(&self, record: Record) -> Result<(), RecorderError> {
        // Held only for a channel send: shutdown takes the sender under this lock, so no spill
        // can reach the journal after the writer closed it.
        let spill = self.shared.spill.lock().unwrap_or_else(|e| e.into_inner());
        match spill.as_ref() {
            Some(journal) if journal.spill(record) => Ok(()),
            Some(_) => {
                self.shared.counters.lost(1);
                Err(JournalError::Stopped.into())
            }
            None => Err(RecorderError::Closed),
        }
    }

    /// Records a bar (a later revision of the same bar replaces it); waits for room.
    pub async fn record_bar(&self, bar: Bar) -> Result<(), RecorderError> {
        self.send(Record::Bar(Box::new(bar))).await
    }

    /// Records an execution; waits for room, never dropped. Idempotent by `exec_id`.
    pub async fn record_execution(&self, execution: Execution) -> Result<(), RecorderError> {
        self.send(Record::Execution(Box::new(execution))).await
    }

    /// Attaches a commission report to its execution (recorded before it or in the same batch).
    pub async fn record_commission(&self, report: CommissionReport) -> Result<(), RecorderError> {
        self.send(Record::Commission(Box::new(report))).await
    }

    /// Records one account value (the latest write of a key at one time wins).
    pub async fn record_account_value(&self, value: AccountValue) -> Result<(), RecorderError> {
        self.send(Record::AccountValue(Box::new(value))).await
    }

    async fn send(&self, record: Record) -> Result<(), RecorderError> {
        self.tx
            .send(Msg::Record(record))
            .await
            .map_err(|_| RecorderError::Closed)
    }

    /// Returns once everything recorded before the call is in PostgreSQL or durably in the
    /// journal.
    pub async fn flush(&self) -> Result<(), RecorderError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Msg::Flush(ack))
            .await
            .map_err(|_| RecorderError::Closed)?;
        done.await.map_err(|_| RecorderError::Closed)
    }

    /// The counters now. Never waits: the segment count is the one the journal thread saw
    /// after its last step, and spilled ticks count once the journal thread appended them.
    pub fn stats(&self) -> RecorderStats {
        use std::sync::atomic::Ordering::Relaxed;
        self.shared
            .counters
            .snapshot(self.shared.segments.load(Relaxed))
    }

    /// Stops recording: writes everything queued (to PostgreSQL, or to the journal if it does
    /// not answer), replays the journal for up to `shutdown_timeout`, and waits for the writer
    /// task to end. Every clone stops recording; a second call returns [`RecorderError::Closed`].
    pub async fn shutdown(&self) -> Result<ShutdownReport, RecorderError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Msg::Shutdown(ack))
            .await
            .map_err(|_| RecorderError::Closed)?;
        let report = done
            .await
            .map_err(|_| RecorderError::WriterFailed("it ended without reporting".to_owned()))?;
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            task.await
                .map_err(|e| RecorderError::WriterFailed(e.to_string()))?;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests;
