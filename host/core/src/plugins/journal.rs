//! The crash journal: before each call into a plugin the host notes which plugin, instance and
//! slot it is entering, in a file that survives the process, so that after a crash (a segfault
//! or `abort()` no guard can catch, or a hang the user killed) the suspect plugin is disabled at
//! the next start.
//!
//! Each process writes its own file, `journal-<pid>.bin` in the journal directory, memory-mapped
//! `MAP_SHARED` so what a thread wrote is in the page cache the moment it is written, and holds
//! an exclusive lock on it while it runs. The file is a header (with a clean-shutdown marker)
//! and one fixed-size slot per thread; a slot is "in a call" between [`enter`] and the drop of
//! its [`CallGuard`]. At start-up, [`recover`] reads the files no running process holds: a file
//! without the clean marker whose slots are in a call names the plugins that were running when
//! the process died.

use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap};

const MAGIC: &[u8; 8] = b"TWPLGJ01";
const HEADER_SIZE: usize = 64;
const SLOT_SIZE: usize = 256;
/// Threads that can be in a plugin call at once and be recorded (more are not journaled).
const SLOTS: usize = 64;
const FILE_SIZE: usize = HEADER_SIZE + SLOTS * SLOT_SIZE;

// Header: magic [0..8], pid u32 [8..12], clean u32 [12..16], started ms i64 [16..24].
const H_PID: usize = 8;
const H_CLEAN: usize = 12;
const H_STARTED: usize = 16;
// Slot: state u32 [0..4], lengths u16 ×3 [4..10], seq u64 [16..24], started ms i64 [24..32],
// plugin [32..128], instance [128..208], slot name [208..256].
const S_STATE: usize = 0;
const S_LENS: usize = 4;
const S_SEQ: usize = 16;
const S_STARTED: usize = 24;
const S_PLUGIN: (usize, usize) = (32, 96);
const S_INSTANCE: (usize, usize) = (128, 80);
const S_NAME: (usize, usize) = (208, 48);

/// The mapped journal of this process.
struct Journal {
    base: NonNull<u8>,
    path: PathBuf,
    /// Holds the exclusive lock for the life of the process.
    _file: File,
    /// Bit `i` set: slot `i` belongs to a live thread.
    taken: AtomicU64,
    seq: AtomicU64,
}

// SAFETY: the mapping lives for the rest of the process; each slot is written only by the
// thread that owns it (`taken`), and the header only through atomics.
unsafe impl Send for Journal {}
// SAFETY: as above.
unsafe impl Sync for Journal {}

static JOURNAL: OnceLock<Journal> = OnceLock::new();

impl Journal {
    fn atomic_u32(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: offsets are within the mapping, 4-byte aligned (page-aligned base), and the
        // mapping outlives `self`.
        unsafe { AtomicU32::from_ptr(self.base.as_ptr().add(offset).cast()) }
    }

    fn slot_ptr(&self, slot: usize) -> *mut u8 {
        // SAFETY: `slot < SLOTS`, so the slot lies inside the mapping.
        unsafe { self.base.as_ptr().add(HEADER_SIZE + slot * SLOT_SIZE) }
    }

    fn write_record(&self, slot: usize, record: &Record) {
        let p = self.slot_ptr(slot);
        let state = self.atomic_u32(HEADER_SIZE + slot * SLOT_SIZE + S_STATE);
        state.store(0, Ordering::Release);
        let put = |(at, cap): (usize, usize), text: &str| -> u16 {
            let bytes = truncate(text, cap);
            // SAFETY: `at + bytes.len() <= at + cap` lies inside this thread's own slot.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.add(at), bytes.len()) };
            bytes.len() as u16
        };
        let lens = [
            put(S_PLUGIN, &record.plugin),
            put(S_INSTANCE, &record.instance),
            put(S_NAME, &record.slot),
        ];
        // SAFETY: fixed offsets inside this thread's own slot; unaligned writes.
        unsafe {
            for (i, len) in lens.iter().enumerate() {
                p.add(S_LENS + 2 * i).cast::<u16>().write_unaligned(*len);
            }
            p.add(S_SEQ).cast::<u64>().write_unaligned(record.seq);
            p.add(S_STARTED)
                .cast::<i64>()
                .write_unaligned(record.started.timestamp_millis());
        }
        state.store(1, Ordering::Release);
    }

    fn clear(&self, slot: usize) {
        self.atomic_u32(HEADER_SIZE + slot * SLOT_SIZE + S_STATE)
            .store(0, Ordering::Release);
    }
}

fn truncate(text: &str, cap: usize) -> &[u8] {
    let mut end = text.len().min(cap);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text.as_bytes()[..end]
}

/// A call that was in progress in a journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub plugin: String,
    pub instance: String,
    /// The entry point (`init`, `compute`, `strategy.on_event`, …).
    pub slot: String,
    pub seq: u64,
    pub started: DateTime<Utc>,
}

/// Starts this process's journal in `dir` (created if needed). Until it is started, [`enter`]
/// records nothing; starting twice is a no-op.
pub fn start(dir: &Path) -> std::io::Result<()> {
    if JOURNAL.get().is_some() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let pid = std::process::id();
    let path = dir.join(format!("journal-{pid}.bin"));
    // Created under a temporary name and locked before it gets its real name, so that another
    // process's `recover` never takes a file still being set up for a dead one.
    let tmp = dir.join(format!(".journal-{pid}.tmp"));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    file.try_lock()
        .map_err(|e| std::io::Error::other(format!("{}: cannot lock: {e}", tmp.display())))?;
    file.set_len(FILE_SIZE as u64)?;
    // SAFETY: a fresh shared read-write mapping of a file we just sized; it is never unmapped
    // (the journal lives as long as the process).
    let base = unsafe {
        mmap(
            None,
            NonZeroUsize::new(FILE_SIZE).expect("non-zero"),
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_SHARED,
            &file,
            0,
        )
    }
    .map_err(std::io::Error::from)?;
    let base: NonNull<u8> = base.cast();
    // SAFETY: the header lies at the start of the mapping.
    unsafe {
        std::ptr::copy_nonoverlapping(MAGIC.as_ptr(), base.as_ptr(), MAGIC.len());
        base.as_ptr().add(H_PID).cast::<u32>().write_unaligned(pid);
        base.as_ptr()
            .add(H_STARTED)
            .cast::<i64>()
            .write_unaligned(Utc::now().timestamp_millis());
    }
    std::fs::rename(&tmp, &path)?;
    let journal = Journal {
        base,
        path,
        _file: file,
        taken: AtomicU64::new(0),
        seq: AtomicU64::new(0),
    };
    if let Err(journal) = JOURNAL.set(journal) {
        // Another thread started it first: drop this mapping and its file.
        // SAFETY: the mapping is ours and nobody else saw it.
        let _ = unsafe { munmap(journal.base.cast(), FILE_SIZE) };
        let _ = std::fs::remove_file(&journal.path);
    }
    Ok(())
}

/// Marks this process's journal as ended cleanly and removes it: what was still "in a call"
/// (a hung callback the watchdog already gave up on) is not a crash.
pub fn finish_clean() {
    if let Some(journal) = JOURNAL.get() {
        journal.atomic_u32(H_CLEAN).store(1, Ordering::Release);
        let _ = std::fs::remove_file(&journal.path);
    }
}

struct ThreadSlot(Cell<Option<usize>>);

impl Drop for ThreadSlot {
    fn drop(&mut self) {
        if let (Some(slot), Some(journal)) = (self.0.get(), JOURNAL.get()) {
            journal.clear(slot);
            journal.taken.fetch_and(!(1u64 << slot), Ordering::AcqRel);
        }
    }
}

thread_local! {
    static SLOT: ThreadSlot = const { ThreadSlot(Cell::new(None)) };
    /// What this thread's slot held before the current (nested) call.
    static CURRENT: std::cell::RefCell<Option<Record>> = const { std::cell::RefCell::new(None) };
}

fn thread_slot(journal: &Journal) -> Option<usize> {
    SLOT.try_with(|s| {
        if let Some(slot) = s.0.get() {
            return Some(slot);
        }
        let mut taken = journal.taken.load(Ordering::Acquire);
        loop {
            let free = (!taken).trailing_zeros() as usize;
            if free >= SLOTS {
                return None;
            }
            match journal.taken.compare_exchange(
                taken,
                taken | (1u64 << free),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    s.0.set(Some(free));
                    return Some(free);
                }
                Err(now) => taken = now,
            }
        }
    })
    .ok()
    .flatten()
}

/// Marks a call into a plugin as in progress until dropped.
#[must_use = "the call counts as in progress only while the guard lives"]
#[derive(Debug)]
pub struct CallGuard {
    /// The slot written, and what it held before (a nested call restores it).
    slot: Option<(usize, Option<Record>)>,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        let (Some((slot, previous)), Some(journal)) = (self.slot.take(), JOURNAL.get()) else {
            return;
        };
        match &previous {
            Some(record) => journal.write_record(slot, record),
            None => journal.clear(slot),
        }
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = previous);
    }
}

/// Notes that the current thread is entering `slot` of `plugin_id`'s `instance`.
pub fn enter(plugin_id: &str, instance: &str, slot: &str) -> CallGuard {
    let Some(journal) = JOURNAL.get() else {
        return CallGuard { slot: None };
    };
    let Some(index) = thread_slot(journal) else {
        return CallGuard { slot: None };
    };
    let record = Record {
        plugin: plugin_id.to_owned(),
        instance: instance.to_owned(),
        slot: slot.to_owned(),
        seq: journal.seq.fetch_add(1, Ordering::Relaxed) + 1,
        started: Utc::now(),
    };
    journal.write_record(index, &record);
    let previous = CURRENT
        .try_with(|c| c.borrow_mut().replace(record))
        .ok()
        .flatten();
    CallGuard {
        slot: Some((index, previous)),
    }
}

/// The journals of processes that are gone, read and still on disk until [`Recovered::finish`].
#[derive(Debug)]
pub struct Recovered {
    /// Calls that were in progress when a process died without its clean marker.
    pub crashed: Vec<Record>,
    files: Vec<(PathBuf, File)>,
}

impl Recovered {
    /// Removes the journals read (after the crashes they name were acted on).
    pub fn finish(self) {
        for (path, file) in self.files {
            let _ = std::fs::remove_file(&path);
            drop(file);
        }
    }
}

/// Reads every journal in `dir` that no running process holds (this process's own excluded).
pub fn recover(dir: &Path) -> Recovered {
    let mut out = Recovered {
        crashed: Vec::new(),
        files: Vec::new(),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let own = JOURNAL.get().map(|j| j.path.clone());
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("journal-") && n.ends_with(".bin"))
                && Some(p) != own.as_ref()
        })
        .collect();
    paths.sort();
    for path in paths {
        let Ok(file) = OpenOptions::new().read(true).open(&path) else {
            continue;
        };
        // A running process holds its lock: leave its journal alone.
        if file.try_lock().is_err() {
            continue;
        }
        match std::fs::read(&path) {
            Ok(bytes) => out.crashed.extend(in_progress(&bytes)),
            Err(e) => {
                tracing::warn!(path = %path.display(), "plugin crash journal unreadable: {e}")
            }
        }
        out.files.push((path, file));
    }
    out
}

/// The calls in progress in a journal's bytes, unless it ended cleanly (or is not a journal).
fn in_progress(bytes: &[u8]) -> Vec<Record> {
    if bytes.len() < FILE_SIZE || &bytes[..8] != MAGIC {
        return Vec::new();
    }
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    if u32_at(H_CLEAN) == 1 {
        return Vec::new();
    }
    let mut records = Vec::new();
    for slot in 0..SLOTS {
        let s = &bytes[HEADER_SIZE + slot * SLOT_SIZE..HEADER_SIZE + (slot + 1) * SLOT_SIZE];
        if u32::from_le_bytes(s[..4].try_into().expect("4 bytes")) != 1 {
            continue;
        }
        let len = |i: usize| {
            u16::from_le_bytes(s[S_LENS + 2 * i..S_LENS + 2 * i + 2].try_into().expect("2"))
                as usize
        };
        let text = |(at, cap): (usize, usize), len: usize| {
            String::from_utf8_lossy(&s[at..at + len.min(cap)]).into_owned()
        };
        let millis = i64::from_le_bytes(s[S_STARTED..S_STARTED + 8].try_into().expect("8"));
        records.push(Record {
            plugin: text(S_PLUGIN, len(0)),
            instance: text(S_INSTANCE, len(1)),
            slot: text(S_NAME, len(2)),
            seq: u64::from_le_bytes(s[S_SEQ..S_SEQ + 8].try_into().expect("8")),
            started: DateTime::from_timestamp_millis(millis).unwrap_or_default(),
        });
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The journal is per process, so one test covers start, nesting, a thread's slot, a
    /// clean end, and reading a dead process's file.
    #[test]
    fn calls_in_progress_survive_in_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        // Before start: nothing is recorded and nothing breaks.
        drop(enter("com.example.early", "", "init"));
        start(tmp.path()).unwrap();
        let own = JOURNAL.get().unwrap().path.clone();
        assert!(own.starts_with(tmp.path()));

        let outer = enter("com.example.rule", "", "init");
        let inner = enter("com.example.rule", "r1", "compute");
        let bytes = std::fs::read(&own).unwrap();
        let now = in_progress(&bytes);
        assert_eq!(now.len(), 1);
        assert_eq!(
            (
                now[0].plugin.as_str(),
                now[0].instance.as_str(),
                now[0].slot.as_str()
            ),
            ("com.example.rule", "r1", "compute")
        );
        drop(inner);
        let now = in_progress(&std::fs::read(&own).unwrap());
        assert_eq!(now[0].slot, "init", "the outer call is restored");
        // Another thread has a slot of its own.
        std::thread::scope(|s| {
            s.spawn(|| {
                let _g = enter("com.example.other", "i", "strategy.on_event");
                assert_eq!(in_progress(&std::fs::read(&own).unwrap()).len(), 2);
            });
        });
        assert_eq!(in_progress(&std::fs::read(&own).unwrap()).len(), 1);
        drop(outer);
        assert!(in_progress(&std::fs::read(&own).unwrap()).is_empty());

        // A running process's journal (ours) is never recovered.
        let _g = enter("com.example.rule", "", "compute");
        assert!(recover(tmp.path()).crashed.is_empty());
        // A dead process's journal: a copy of ours, unlocked, without the clean marker.
        let dead = tmp.path().join("journal-1.bin");
        std::fs::copy(&own, &dead).unwrap();
        let recovered = recover(tmp.path());
        assert_eq!(recovered.crashed.len(), 1);
        assert_eq!(recovered.crashed[0].plugin, "com.example.rule");
        recovered.finish();
        assert!(!dead.exists());

        // The clean marker makes what is still in a call (a hung callback) no crash.
        let mut clean = std::fs::read(&own).unwrap();
        assert_eq!(in_progress(&clean).len(), 1);
        finish_clean();
        assert!(!own.exists());
        clean[H_CLEAN] = 1;
        assert!(in_progress(&clean).is_empty());
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary() {
        let long = "é".repeat(100);
        let cut = truncate(&long, 95);
        assert_eq!(cut.len(), 94);
        assert!(std::str::from_utf8(cut).is_ok());
    }
}
