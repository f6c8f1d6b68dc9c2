//! The spool: append-only journal segments in a local directory, for rows the database could not
//! take yet.
//!
//! ```text
//! <dir>/journal.lock                          held exclusively by the one recorder using <dir>
//! <dir>/segment-00000000000000000007.journal  records, oldest segment replayed first
//! <dir>/segment-00000000000000000007.commit   "txid server database": a commit of this segment's rows
//!                                             whose outcome is not known yet (see below)
//! <dir>/segment-….journal.corrupt             a segment with a damaged record, set aside
//! <dir>/rejected.journal                      rows PostgreSQL refused as invalid (never replayed)
//! ```
//!
//! The record format is in [`super::segment`].
//!
//! **Exactly once.** A segment is deleted only after the transaction that copied its rows has
//! committed. Just before that commit the writer stores the transaction's id in the `.commit`
//! marker (fsync'd); if the process dies, or the connection drops during `COMMIT`, the next
//! attempt asks PostgreSQL `txid_status(id)`: `committed` means the rows are in and the segment is
//! deleted without a second copy, anything else means it is replayed. Executions and bars would
//! be idempotent anyway (`exec_id`, upsert); this is what makes ticks, which have no key, safe.
//!
//! **One thread owns the journal.** Every write, fsync, rename and read of these files happens
//! on the `tickwork-journal` thread ([`JournalThread`]), never on a tokio worker: the writer
//! task sends it closures and awaits their answers, and a caller spilling a tick only queues
//! it (no disk I/O, no lock held across I/O). Jobs run in the order they were sent, so a
//! `sync` sent after a spill makes that spill durable.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::batch::Batch;
use super::record::{Record, RecordRef};
use super::segment::frame;
use super::stats::Counters;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "journal directory {} is in use by another Tickwork recorder (journal.lock is held)",
        path.display()
    )]
    InUse { path: PathBuf },
    #[error("journal {}: corrupt record at byte offset {offset}: {reason}", path.display())]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("the recorder's journal thread has stopped")]
    Stopped,
}

pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The transaction that was committing a segment's rows when last seen, and where: a
/// transaction id means something only on the server (cluster) and database that issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitMarker {
    pub txid: i64,
    /// The cluster's `system_identifier` (0 when the server would not say).
    pub server: i64,
    pub database: String,
}

struct OpenSegment {
    seq: u64,
    file: BufWriter<File>,
    records: u64,
    bytes: u64,
    unsynced: bool,
}

/// The journal directory of one recorder. Not thread-safe by itself: the recorder hands it to
/// a [`JournalThread`], the only place it is used.
pub struct Journal {
    dir: PathBuf,
    /// Held until [`Journal::release`]; another recorder on the same directory is refused.
    lock: Option<File>,
    open: Option<OpenSegment>,
    /// Segments no longer appended to, oldest first, waiting to be replayed.
    sealed: VecDeque<u64>,
    next_seq: u64,
    segment_bytes: u64,
    /// Set at shutdown: callers may no longer spill.
    closed: bool,
    text: String,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("dir", &self.dir)
            .field("sealed", &self.sealed)
            .field("open", &self.open.as_ref().map(|o| o.seq))
            .finish()
    }
}

impl Journal {
    /// Opens (creating) `dir`, takes its lock, and lists leftover segments for replay.
    /// Segments rotate once they reach `segment_bytes`.
    pub fn open(dir: &Path, segment_bytes: u64) -> Result<Self, JournalError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join("journal.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(JournalError::InUse {
                    path: dir.to_owned(),
                });
            }
            Err(fs::TryLockError::Error(err)) => return Err(io(&lock_path)(err)),
        }
        let mut segments = Vec::new();
        let mut markers = Vec::new();
        for entry in fs::read_dir(dir).map_err(io(dir))? {
            let name = entry.map_err(io(dir))?.file_name();
            let name = name.to_string_lossy();
            if let Some(seq) = parse_name(&name, ".journal") {
                segments.push(seq);
            } else if let Some(seq) = parse_name(&name, ".commit") {
                markers.push(seq);
            }
        }
        segments.sort_unstable();
        let mut journal = Journal {
            dir: dir.to_owned(),
            lock: Some(lock),
            open: None,
            sealed: VecDeque::new(),
            next_seq: segments.last().map_or(1, |s| s + 1),
            segment_bytes,
            closed: false,
            text: String::new(),
            buf: Vec::new(),
        };
        for seq in markers {
            if segments.binary_search(&seq).is_err() {
                // The segment was deleted after its commit; only the marker was left.
                remove_if_exists(&journal.marker_path(seq))?;
            }
        }
        for seq in segments {
            let path = journal.segment_path(seq);
            let len = fs::metadata(&path).map_err(io(&path))?.len();
            if len == 0 {
                remove_if_exists(&path)?;
                remove_if_exists(&journal.marker_path(seq))?;
            } else {
                journal.sealed.push_back(seq);
            }
        }
        if !journal.sealed.is_empty() {
            tracing::info!(
                dir = %dir.display(),
                segments = journal.sealed.len(),
                "recorder journal has rows left from an earlier run; they will be replayed"
            );
        }
        Ok(journal)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn segment_path(&self, seq: u64) -> PathBuf {
        segment_path(&self.dir, seq)
    }

    pub fn marker_path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("segment-{seq:020}.commit"))
    }

    /// True when no row waits in the journal.
    pub fn is_empty(&self) -> bool {
        self.sealed.is_empty() && self.open.as_ref().is_none_or(|o| o.records == 0)
    }

    /// Segments waiting to be replayed, the open one included.
    pub fn segments(&self) -> usize {
        self.sealed.len() + usize::from(self.open.as_ref().is_some_and(|o| o.records > 0))
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Refuses further spills from callers (the writer still appends while it shuts down).
    pub fn close(&mut self) -> Result<(), JournalError> {
        self.closed = true;
        self.sync()
    }

    /// Seals the open segment and gives the directory up for the next recorder.
    pub fn release(&mut self) -> Result<(), JournalError> {
        self.closed = true;
        self.seal()?;
        self.lock = None;
        Ok(())
    }

    /// Appends records to the open segment (buffered: call [`Journal::sync`] to make them
    /// durable). Returns how many were appended.
    pub fn append<'a>(
        &mut self,
        records: impl IntoIterator<Item = RecordRef<'a>>,
    ) -> Result<u64, JournalError> {
        self.buf.clear();
        let mut count = 0;
        for r in records {
            frame(r, &mut self.text, &mut self.buf);
            count += 1;
        }
        if count == 0 {
            return Ok(0);
        }
        let open = match self.open {
            Some(ref mut open) => open,
            None => self
                .open
                .insert(create_segment(&self.dir, &mut self.next_seq)?),
        };
        let path = segment_path(&self.dir, open.seq);
        open.file.write_all(&self.buf).map_err(io(&path))?;
        open.records += count;
        open.bytes += self.buf.len() as u64;
        open.unsynced = true;
        if open.bytes >= self.segment_bytes {
            self.seal()?;
        }
        Ok(count)
    }

    /// Appends a whole batch and makes it durable (fsync).
    pub fn append_durable(&mut self, batch: &Batch) -> Result<u64, JournalError> {
        let n = self.append(batch.iter())?;
        self.sync()?;
        Ok(n)
    }

    /// Writes a batch whose commit had an unknown outcome into a segment of its own, with the
    /// marker naming the transaction, so a replay first asks whether it committed.
    pub fn append_committing(
        &mut self,
        batch: &Batch,
        marker: &CommitMarker,
    ) -> Result<u64, JournalError> {
        self.seal()?;
        let seq = self.next_seq;
        let n = self.append(batch.iter())?;
        self.write_marker(seq, marker)?;
        self.seal()?;
        Ok(n)
    }

    /// Writes buffered records to disk and fsyncs them.
    pub fn sync(&mut self) -> Result<(), JournalError> {
        let Some(seq) = self.open.as_ref().map(|o| o.seq) else {
            return Ok(());
        };
        let path = self.segment_path(seq);
        if let Some(open) = self.open.as_mut().filter(|o| o.unsynced) {
            open.file.flush().map_err(io(&path))?;
            open.file.get_ref().sync_data().map_err(io(&path))?;
            open.unsynced = false;
        }
        Ok(())
    }

    /// Closes the open segment so it can be replayed; the next append starts a new one.
    pub fn seal(&mut self) -> Result<(), JournalError> {
        self.sync()?;
        if let Some(open) = self.open.take() {
            if open.records > 0 {
                self.sealed.push_back(open.seq);
            } else {
                remove_if_exists(&self.segment_path(open.seq))?;
            }
        }
        Ok(())
    }

    /// The oldest segment waiting for replay, sealing the open one if it is the only one left.
    pub fn next_to_replay(&mut self) -> Result<Option<u64>, JournalError> {
        if self.sealed.is_empty() {
            self.seal()?;
        }
        Ok(self.sealed.front().copied())
    }

    pub fn read_marker(&self, seq: u64) -> Result<Option<CommitMarker>, JournalError> {
        let path = self.marker_path(seq);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(io(&path)(err)),
        };
        let mut parts = text.trim_end().splitn(3, ' ');
        let txid = parts.next().and_then(|t| t.parse().ok());
        let server = parts.next().and_then(|t| t.parse().ok());
        match (txid, server, parts.next()) {
            (Some(txid), Some(server), Some(database)) => Ok(Some(CommitMarker {
                txid,
                server,
                database: database.to_owned(),
            })),
            _ => Err(JournalError::Corrupt {
                path,
                offset: 0,
                reason: format!("expected `txid server database`, found {:?}", text),
            }),
        }
    }

    /// Records (durably) which transaction is about to commit segment `seq`.
    pub fn write_marker(&self, seq: u64, marker: &CommitMarker) -> Result<(), JournalError> {
        let path = self.marker_path(seq);
        let mut file = File::create(&path).map_err(io(&path))?;
        writeln!(
            file,
            "{} {} {}",
            marker.txid, marker.server, marker.database
        )
        .map_err(io(&path))?;
        file.sync_all().map_err(io(&path))?;
        sync_dir(&self.dir)
    }

    pub fn remove_marker(&self, seq: u64) -> Result<(), JournalError> {
        remove_if_exists(&self.marker_path(seq))
    }

    /// Deletes a replayed segment (then its marker).
    pub fn remove(&mut self, seq: u64) -> Result<(), JournalError> {
        remove_if_exists(&self.segment_path(seq))?;
        remove_if_exists(&self.marker_path(seq))?;
        self.sealed.retain(|&s| s != seq);
        sync_dir(&self.dir)
    }

    /// Sets a damaged segment aside as `….journal.corrupt`, kept for inspection.
    pub fn quarantine(&mut self, seq: u64) -> Result<PathBuf, JournalError> {
        let from = self.segment_path(seq);
        let mut to = from.clone().into_os_string();
        to.push(".corrupt");
        let to = PathBuf::from(to);
        fs::rename(&from, &to).map_err(io(&from))?;
        remove_if_exists(&self.marker_path(seq))?;
        self.sealed.retain(|&s| s != seq);
        sync_dir(&self.dir)?;
        Ok(to)
    }

    /// Appends rows PostgreSQL refused to `rejected.journal` (durably); they are never replayed
    /// automatically.
    pub fn reject(&mut self, batch: &Batch) -> Result<u64, JournalError> {
        if batch.is_empty() {
            return Ok(0);
        }
        let path = self.dir.join("rejected.journal");
        self.buf.clear();
        for r in batch.iter() {
            frame(r, &mut self.text, &mut self.buf);
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        file.write_all(&self.buf).map_err(io(&path))?;
        file.sync_data().map_err(io(&path))?;
        Ok(batch.len() as u64)
    }
}

/// Work for the journal thread.
enum Job {
    /// A tick the full queue could not take ([`super::Recorder::record_tick`]).
    Spill(Record),
    /// A step of the writer task; it sends its own answer.
    Run(Box<dyn FnOnce(&mut Journal) + Send>),
}

/// The handle to the thread that owns a [`Journal`]. Cheap to clone; the thread ends once
/// every handle is gone, after the jobs already sent.
#[derive(Clone)]
pub(crate) struct JournalThread {
    jobs: mpsc::Sender<Job>,
    /// Segments waiting, as of the last job: for [`super::Recorder::stats`], which never waits.
    segments: Arc<AtomicUsize>,
}

impl JournalThread {
    /// Moves `journal` to a new thread. The receiver resolves (with an error: nothing is ever
    /// sent) once that thread has ended and closed the journal's files.
    pub fn spawn(
        journal: Journal,
        counters: Arc<Counters>,
    ) -> Result<(Self, oneshot::Receiver<()>), JournalError> {
        let (jobs, rx) = mpsc::channel();
        let (exited_tx, exited) = oneshot::channel::<()>();
        let segments = Arc::new(AtomicUsize::new(journal.segments()));
        let seen = segments.clone();
        let dir = journal.dir().to_owned();
        std::thread::Builder::new()
            .name("tickwork-journal".into())
            .spawn(move || {
                let mut journal = journal;
                while let Ok(job) = rx.recv() {
                    match job {
                        Job::Spill(record) => spill(&mut journal, &record, &counters),
                        Job::Run(step) => step(&mut journal),
                    }
                    seen.store(journal.segments(), Relaxed);
                }
                // Files (and the directory lock) close before the exit is signalled.
                drop(journal);
                drop(exited_tx);
            })
            .map_err(io(&dir))?;
        Ok((Self { jobs, segments }, exited))
    }

    /// Runs `step` on the journal thread and returns its answer. `Err` only if the thread is
    /// gone (it panicked).
    pub async fn run<R: Send + 'static>(
        &self,
        step: impl FnOnce(&mut Journal) -> R + Send + 'static,
    ) -> Result<R, JournalError> {
        let (answer, answered) = oneshot::channel();
        let seen = self.segments.clone();
        let job = Job::Run(Box::new(move |journal: &mut Journal| {
            let result = step(journal);
            // Before answering, so a caller that awaited this step sees fresh stats.
            seen.store(journal.segments(), Relaxed);
            let _ = answer.send(result);
        }));
        self.jobs.send(job).map_err(|_| JournalError::Stopped)?;
        answered.await.map_err(|_| JournalError::Stopped)
    }

    /// Queues a spilled tick; it is appended in order with the writer's steps and made durable
    /// by the next `sync`. Never blocks. `false` if the thread is gone.
    pub fn spill(&self, record: Record) -> bool {
        self.jobs.send(Job::Spill(record)).is_ok()
    }

    /// Segments waiting, as of the last job the thread finished.
    pub fn segments(&self) -> usize {
        self.segments.load(Relaxed)
    }

    /// The counter behind [`JournalThread::segments`], to read without holding a handle.
    pub fn segments_seen(&self) -> Arc<AtomicUsize> {
        self.segments.clone()
    }
}

fn spill(journal: &mut Journal, record: &Record, counters: &Counters) {
    if journal.is_closed() {
        // Not through the recorder: it stops spilling before it closes the journal.
        tracing::error!("a tick spilled after the recorder journal was closed is lost");
        counters.lost(1);
        return;
    }
    match journal.append(std::iter::once(record.as_ref())) {
        Ok(n) => counters.spilled(n),
        Err(err) => {
            tracing::error!(error = %err, "recorder tick lost: the journal would not take it");
            counters.lost(1);
        }
    }
}

fn create_segment(dir: &Path, next_seq: &mut u64) -> Result<OpenSegment, JournalError> {
    let seq = *next_seq;
    *next_seq += 1;
    let path = segment_path(dir, seq);
    let file = OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    sync_dir(dir)?;
    Ok(OpenSegment {
        seq,
        file: BufWriter::with_capacity(256 * 1024, file),
        records: 0,
        bytes: 0,
        unsynced: false,
    })
}

fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("segment-{seq:020}.journal"))
}

pub(super) fn parse_name(name: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_prefix("segment-")?.strip_suffix(suffix)?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

fn remove_if_exists(path: &Path) -> Result<(), JournalError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(io(path)(err)),
    }
}

fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::record::Record;
    use crate::recorder::record::tests::samples;
    use crate::recorder::segment::read_segment;

    #[test]
    fn segments_rotate_and_replay_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path(), 300).unwrap();
        assert!(journal.is_empty());
        for _ in 0..3 {
            journal
                .append_durable(&Batch::from_records(samples()))
                .unwrap();
        }
        // Each batch is over 300 bytes: every append sealed its segment.
        assert_eq!(journal.segments(), 3);
        assert_eq!(journal.next_to_replay().unwrap(), Some(1));
        journal.remove(1).unwrap();
        assert_eq!(journal.next_to_replay().unwrap(), Some(2));
        // Within a batch, records are stored grouped by kind: E, C, B, A, T.
        let expected: Vec<Record> = [2, 3, 1, 4, 0]
            .iter()
            .map(|&i| samples()[i].clone())
            .collect();
        assert_eq!(
            read_segment(&journal.segment_path(2)).unwrap().records,
            expected
        );
        assert!(!journal.is_empty());
    }

    #[test]
    fn reopening_keeps_segments_and_cleans_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut journal = Journal::open(dir.path(), 1 << 20).unwrap();
            journal
                .append_durable(&Batch::from_records(samples()))
                .unwrap();
            let marker = CommitMarker {
                txid: 42,
                server: 7711628920313800825,
                database: "tick work".into(),
            };
            journal.write_marker(1, &marker).unwrap();
            assert_eq!(journal.read_marker(1).unwrap(), Some(marker));
            journal
                .write_marker(
                    9,
                    &CommitMarker {
                        txid: 1,
                        server: 0,
                        database: "x".into(),
                    },
                )
                .unwrap();
        }
        std::fs::write(dir.path().join(format!("segment-{:020}.journal", 5)), b"").unwrap();
        let mut journal = Journal::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(journal.segments(), 1, "the empty segment 5 is removed");
        assert!(
            !journal.marker_path(9).exists(),
            "a marker without a segment is removed"
        );
        assert_eq!(
            journal.read_marker(1).unwrap().unwrap().database,
            "tick work"
        );
        // New segments continue after the highest number seen.
        journal
            .append(std::iter::once(samples()[0].as_ref()))
            .unwrap();
        journal.sync().unwrap();
        assert!(journal.segment_path(6).exists());
        assert_eq!(journal.next_to_replay().unwrap(), Some(1));
    }

    #[test]
    fn a_bad_marker_is_an_error_not_a_guess() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), 1 << 20).unwrap();
        std::fs::write(journal.marker_path(3), "not a txid\n").unwrap();
        assert!(matches!(
            journal.read_marker(3),
            Err(JournalError::Corrupt { .. })
        ));
    }

    #[test]
    fn quarantine_and_rejects_keep_the_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path(), 1 << 20).unwrap();
        journal
            .append_durable(&Batch::from_records(samples()))
            .unwrap();
        let seq = journal.next_to_replay().unwrap().unwrap();
        let kept = journal.quarantine(seq).unwrap();
        assert!(kept.to_string_lossy().ends_with(".journal.corrupt"));
        assert!(journal.is_empty());
        let tick = samples()
            .into_iter()
            .find(|r| matches!(r, Record::Tick(_)))
            .unwrap();
        journal
            .reject(&Batch::from_records([tick.clone()]))
            .unwrap();
        journal
            .reject(&Batch::from_records([tick.clone()]))
            .unwrap();
        let rejected = read_segment(&dir.path().join("rejected.journal")).unwrap();
        assert_eq!(rejected.records, vec![tick.clone(), tick]);
    }

    #[tokio::test]
    async fn a_spill_never_waits_for_the_journal_thread() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), 1 << 20).unwrap();
        let counters = Arc::new(Counters::default());
        let (thread, exited) = JournalThread::spawn(journal, counters.clone()).unwrap();
        // Hold the thread in a step, as a slow fsync would.
        let (started_tx, started) = oneshot::channel();
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let held = thread.clone();
        let busy = tokio::spawn(async move {
            held.run(move |_| {
                started_tx.send(()).unwrap();
                blocked.recv().unwrap();
            })
            .await
        });
        started.await.unwrap();
        let ticks: Vec<Record> = samples()
            .into_iter()
            .filter(|r| matches!(r, Record::Tick(_)))
            .collect();
        assert!(!ticks.is_empty());
        // Spilling while the thread is busy returns at once (inline I/O would wait here for ever).
        for tick in &ticks {
            assert!(thread.spill(tick.clone()));
        }
        assert_eq!(counters.snapshot(0).spilled, 0, "not appended yet");
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        thread.run(|j| j.sync()).await.unwrap().unwrap();
        assert_eq!(counters.snapshot(0).spilled, ticks.len() as u64);
        assert_eq!(thread.segments(), 1);
        let on = thread
            .run(|_| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(on.as_deref(), Some("tickwork-journal"));
        let path = thread.run(|j| j.segment_path(1)).await.unwrap();
        drop(thread);
        assert!(
            exited.await.is_err(),
            "the thread ends with its last handle"
        );
        assert_eq!(read_segment(&path).unwrap().records, ticks);
    }

    #[test]
    fn a_closed_journal_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path(), 1 << 20).unwrap();
        assert!(!journal.is_closed());
        journal.close().unwrap();
        assert!(journal.is_closed());
        assert!(matches!(
            Journal::open(dir.path(), 1 << 20),
            Err(JournalError::InUse { .. })
        ));
        journal.release().unwrap();
        Journal::open(dir.path(), 1 << 20).unwrap();
    }
}
