//! The segment file format: framing records and reading them back.
//!
//! A record is `magic (4 bytes) | payload length (u32 LE) | CRC-32C of the payload (u32 LE) |
//! payload`, where the payload is one text line ([`super::record`]). On reading:
//! - a record cut short by the end of the file, or a checksum mismatch in the *last* record, is
//!   a torn write from a crash: it is ignored with a warning (the records before it are kept);
//! - zero bytes where a record should start (a file extended but never written) likewise;
//! - anything else that does not check out is corruption, reported with the file and the byte
//!   offset of the bad record ([`JournalError::Corrupt`]).

use std::fs;
use std::path::{Path, PathBuf};

use super::journal::{JournalError, io, parse_name};
use super::record::{self, Record, RecordRef};

const MAGIC: [u8; 4] = [0xF7, b'T', b'W', 0x01];
const HEADER: usize = 12;
/// No record is anywhere near this long; a longer length field is damage, not data.
const MAX_PAYLOAD: usize = 1 << 20;
const CRC32C: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);

/// How a segment file ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentEnd {
    Clean,
    /// A torn last record starting at `offset` (a crash while appending); ignored.
    Torn {
        offset: u64,
    },
    /// A damaged record at `offset`; the records before it are valid, those after it unknown.
    Corrupt {
        offset: u64,
        reason: String,
    },
}

/// The records of one segment, up to where it stops making sense.
#[derive(Debug)]
pub struct SegmentRead {
    pub records: Vec<Record>,
    pub end: SegmentEnd,
}

impl SegmentRead {
    /// The records, or the corruption as an error naming `path` and the offset.
    pub fn strict(self, path: &Path) -> Result<Vec<Record>, JournalError> {
        match self.end {
            SegmentEnd::Corrupt { offset, reason } => Err(JournalError::Corrupt {
                path: path.to_owned(),
                offset,
                reason,
            }),
            _ => Ok(self.records),
        }
    }
}

/// Reads a whole segment (segments are a few MiB: see `RecorderConfig::segment_bytes`).
pub fn read_segment(path: &Path) -> Result<SegmentRead, JournalError> {
    let data = fs::read(path).map_err(io(path))?;
    Ok(parse(&data))
}

fn parse(data: &[u8]) -> SegmentRead {
    let mut records = Vec::new();
    let mut offset = 0usize;
    let end = loop {
        let rest = &data[offset..];
        if rest.is_empty() {
            break SegmentEnd::Clean;
        }
        let at = offset as u64;
        let zeros = rest.iter().all(|&b| b == 0);
        if rest.len() < HEADER || zeros {
            break SegmentEnd::Torn { offset: at };
        }
        if rest[..4] != MAGIC {
            break SegmentEnd::Corrupt {
                offset: at,
                reason: "no record starts here (bad magic bytes)".into(),
            };
        }
        let len = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let crc = u32::from_le_bytes([rest[8], rest[9], rest[10], rest[11]]);
        if len > MAX_PAYLOAD {
            break SegmentEnd::Corrupt {
                offset: at,
                reason: format!("record length {len} exceeds {MAX_PAYLOAD}"),
            };
        }
        if rest.len() < HEADER + len {
            break SegmentEnd::Torn { offset: at };
        }
        let payload = &rest[HEADER..HEADER + len];
        let last = rest.len() == HEADER + len;
        if CRC32C.checksum(payload) != crc {
            break if last {
                SegmentEnd::Torn { offset: at }
            } else {
                SegmentEnd::Corrupt {
                    offset: at,
                    reason: "checksum mismatch".into(),
                }
            };
        }
        let decoded = std::str::from_utf8(payload)
            .map_err(|e| format!("payload is not UTF-8: {e}"))
            .and_then(record::decode);
        match decoded {
            Ok(record) => records.push(record),
            Err(reason) => {
                break SegmentEnd::Corrupt {
                    offset: at,
                    reason: format!("undecodable record: {reason}"),
                };
            }
        }
        offset += HEADER + len;
    };
    SegmentRead { records, end }
}

/// Frames one record into `out`.
pub(super) fn frame(record: RecordRef<'_>, text: &mut String, out: &mut Vec<u8>) {
    text.clear();
    record::encode(record, text);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    out.extend_from_slice(&CRC32C.checksum(text.as_bytes()).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

/// One segment as seen by [`inspect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentSummary {
    pub path: PathBuf,
    pub bytes: u64,
    pub records: usize,
    pub end: SegmentEnd,
    pub commit_marker: bool,
}

/// Lists the segments in `dir` without taking the lock (read-only; for tools and the UI).
pub fn inspect(dir: &Path) -> Result<Vec<SegmentSummary>, JournalError> {
    let mut names: Vec<(u64, PathBuf)> = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        if let Some(seq) = parse_name(&name.to_string_lossy(), ".journal") {
            names.push((seq, entry.path()));
        }
    }
    names.sort();
    names
        .into_iter()
        .map(|(seq, path)| {
            let read = read_segment(&path)?;
            Ok(SegmentSummary {
                bytes: fs::metadata(&path).map_err(io(&path))?.len(),
                records: read.records.len(),
                end: read.end,
                commit_marker: dir.join(format!("segment-{seq:020}.commit")).exists(),
                path,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::batch::Batch;
    use crate::recorder::journal::Journal;
    use crate::recorder::record::tests::samples;

    /// A segment holding the sample records, and the offset of each record.
    fn segment() -> (tempfile::TempDir, PathBuf, Vec<u64>) {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path(), 1 << 20).unwrap();
        let mut offsets = Vec::new();
        let path = journal.segment_path(1);
        for record in samples() {
            offsets.push(std::fs::metadata(&path).map_or(0, |m| m.len()));
            journal
                .append_durable(&Batch::from_records([record]))
                .unwrap();
        }
        (dir, path, offsets)
    }

    #[test]
    fn clean_segment_reads_back_every_record() {
        let (_dir, path, _) = segment();
        let read = read_segment(&path).unwrap();
        assert_eq!(read.end, SegmentEnd::Clean);
        assert_eq!(read.records, samples());
    }

    #[test]
    fn torn_tail_is_ignored_and_records_before_it_kept() {
        let (_dir, path, offsets) = segment();
        let bytes = std::fs::read(&path).unwrap();
        let last = *offsets.last().unwrap();
        for cut in [
            last as usize + 3,
            last as usize + HEADER + 2,
            bytes.len() - 1,
        ] {
            let read = parse(&bytes[..cut]);
            assert_eq!(read.end, SegmentEnd::Torn { offset: last });
            assert_eq!(read.records.len(), 4);
        }
        // A file extended with zeros by a crash, and a last record whose payload never reached
        // the disk, are torn tails too.
        let mut zeros = bytes.clone();
        zeros.extend_from_slice(&[0; 40]);
        assert_eq!(
            parse(&zeros).end,
            SegmentEnd::Torn {
                offset: bytes.len() as u64
            }
        );
        let mut garbled = bytes.clone();
        let n = garbled.len();
        garbled[n - 2] ^= 0x55;
        let read = parse(&garbled);
        assert_eq!(read.end, SegmentEnd::Torn { offset: last });
        assert_eq!(read.records.len(), 4);
    }

    #[test]
    fn checksum_mismatch_names_the_file_and_offset() {
        let (_dir, path, offsets) = segment();
        let mut bytes = std::fs::read(&path).unwrap();
        let second = offsets[1] as usize;
        bytes[second + HEADER + 1] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let read = read_segment(&path).unwrap();
        assert_eq!(
            read.records.len(),
            1,
            "the record before the damage is kept"
        );
        let err = read.strict(&path).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(&path.display().to_string())
                && message.contains(&format!("offset {second}"))
                && message.contains("checksum mismatch"),
            "{message}"
        );
    }

    #[test]
    fn damaged_header_is_corruption() {
        let (_dir, path, offsets) = segment();
        let bytes = std::fs::read(&path).unwrap();
        let third = offsets[2] as usize;
        let mut magic = bytes.clone();
        magic[third] = b'x';
        assert!(matches!(
            parse(&magic).end,
            SegmentEnd::Corrupt { offset, ref reason } if offset == third as u64 && reason.contains("magic")
        ));
        let mut length = bytes.clone();
        length[third + 7] = 0x7f;
        assert!(matches!(
            parse(&length).end,
            SegmentEnd::Corrupt { ref reason, .. } if reason.contains("exceeds")
        ));
    }

    #[test]
    fn a_valid_frame_with_an_unknown_record_is_corruption() {
        let mut text = String::new();
        let mut bytes = Vec::new();
        let records = samples();
        frame(records[0].as_ref(), &mut text, &mut bytes);
        let payload = b"Q\tfrom the future\n";
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&CRC32C.checksum(payload).to_le_bytes());
        bytes.extend_from_slice(payload);
        let read = parse(&bytes);
        assert_eq!(read.records.len(), 1);
        assert!(matches!(
            read.end,
            SegmentEnd::Corrupt { ref reason, .. } if reason.contains("unknown record kind")
        ));
    }

    #[test]
    fn inspect_lists_segments() {
        let (dir, path, _) = segment();
        let listed = inspect(dir.path()).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].path, path);
        assert_eq!(listed[0].records, 5);
        assert_eq!(listed[0].end, SegmentEnd::Clean);
        assert!(!listed[0].commit_marker);
    }
}
