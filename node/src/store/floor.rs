//! The floor: what the store must hold at least. Per feed, the head (seq and id) as of the
//! last flush, kept outside sled in `store/floor.log`, so that a store that lost records —
//! a damaged file, an old copy put back — is told apart from a complete one: sled alone
//! would open such a store as if it had never held them, and the node would sign seqs of
//! its own feeds again that its partners already hold with other content.
//!
//! The file is append-only: each flush that moved heads appends one entry per feed moved
//! (fixed size, with a checksum), so keeping it costs one small write per flush whatever
//! the number of feeds. It is rewritten whole (to a new file, synced, renamed) when it has
//! grown to several entries per feed. At open it is read once (time in proportion to its
//! entries, at most a few per feed) and then compared with sled's heads.
//!
//! Appends are not synced: the floor may lag the store after a power cut (it is a lower
//! bound), but it never runs ahead of what sled made durable, since it is written after
//! sled's flush returns.

use std::{
    collections::BTreeMap,
    fs::{File, OpenOptions},
    io::{self, Read, Write},
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};
use tipx_protocol::{FeedId, RecordId, StateCode};

/// The file, in the store's directory.
pub(super) const FILE: &str = "floor.log";
/// The first bytes of the file.
const MAGIC: &[u8; 16] = b"tipx-floor-v1\0\0\0";
/// feed 32, seq 8, id 32, author state 4, at_ms 8, check 8.
const ENTRY: usize = 92;
/// The file is rewritten once it holds this many entries per feed (plus a margin).
const COMPACT_PER_FEED: usize = 4;
const COMPACT_MARGIN: usize = 4096;

/// What the floor holds for one feed: the store held it up to `seq` (record `id`) at
/// `at_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// The head's seq.
    pub seq: u64,
    /// The head's id.
    pub id: RecordId,
    /// The feed's author state.
    pub state: StateCode,
    /// When the flush that made it durable ended, ms since the Unix epoch.
    pub at_ms: u64,
}

/// The floor of one store: the marks in memory and the file they are appended to.
#[derive(Debug)]
pub(super) struct Floor {
    path: PathBuf,
    file: Option<File>,
    marks: BTreeMap<FeedId, Mark>,
    entries: usize,
    /// The file had a damaged entry before its end: the floor cannot vouch for the store.
    damaged: Option<String>,
}

fn check_of(bytes: &[u8]) -> [u8; 8] {
    let h = Sha256::digest(bytes);
    h[..8].try_into().expect("8 bytes")
}

fn encode(feed: &FeedId, m: &Mark) -> [u8; ENTRY] {
    let mut e = [0u8; ENTRY];
    e[..32].copy_from_slice(&feed.0);
    e[32..40].copy_from_slice(&m.seq.to_be_bytes());
    e[40..72].copy_from_slice(&m.id.0);
    let code = m.state.as_str().as_bytes();
    e[72..72 + code.len()].copy_from_slice(code);
    e[76..84].copy_from_slice(&m.at_ms.to_be_bytes());
    let check = check_of(&e[..84]);
    e[84..].copy_from_slice(&check);
    e
}

fn decode(e: &[u8]) -> Option<(FeedId, Mark)> {
    if e.len() != ENTRY || check_of(&e[..84]) != e[84..] {
        return None;
    }
    let code = std::str::from_utf8(&e[72..76]).ok()?.trim_end_matches('\0');
    Some((
        FeedId(e[..32].try_into().ok()?),
        Mark {
            seq: u64::from_be_bytes(e[32..40].try_into().ok()?),
            id: RecordId(e[40..72].try_into().ok()?),
            state: code.parse().ok()?,
            at_ms: u64::from_be_bytes(e[76..84].try_into().ok()?),
        },
    ))
}

impl Floor {
    /// The floor in `dir` (none yet: an empty one, which a new store satisfies).
    pub(super) fn open(dir: &Path) -> io::Result<Self> {
        let path = dir.join(FILE);
        let mut floor = Self {
            path,
            file: None,
            marks: BTreeMap::new(),
            entries: 0,
            damaged: None,
        };
        let mut bytes = Vec::new();
        match File::open(&floor.path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(floor),
            Err(e) => return Err(e),
        }
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            floor.damaged = Some(format!("{} does not start as a floor file", FILE));
            return Ok(floor);
        }
        let body = &bytes[MAGIC.len()..];
        let whole = body.len() / ENTRY;
        for (i, e) in body.chunks(ENTRY).enumerate() {
            match decode(e) {
                Some((feed, mark)) => floor.raise(feed, mark),
                // A torn last entry (a crash during an append) is expected; anything else
                // is damage.
                None if i + 1 >= whole => break,
                None => {
                    floor.damaged =
                        Some(format!("entry {} of {} of {FILE} is damaged", i + 1, whole));
                    break;
                }
            }
        }
        floor.entries = whole;
        Ok(floor)
    }

    fn raise(&mut self, feed: FeedId, mark: Mark) {
        match self.marks.get(&feed) {
            Some(m) if m.seq >= mark.seq => {}
            _ => {
                self.marks.insert(feed, mark);
            }
        }
    }

    /// The marks, per feed.
    pub(super) fn marks(&self) -> &BTreeMap<FeedId, Mark> {
        &self.marks
    }

    /// Why the floor itself cannot be trusted, if it cannot.
    pub(super) fn damaged(&self) -> Option<&str> {
        self.damaged.as_deref()
    }

    /// Notes `moved` (heads made durable by a flush that just returned): appends them to
    /// the file, or rewrites it when it has grown large.
    pub(super) fn record(&mut self, moved: &BTreeMap<FeedId, Mark>) -> io::Result<()> {
        let mut fresh = Vec::with_capacity(moved.len() * ENTRY);
        for (feed, mark) in moved {
            if self.marks.get(feed).is_none_or(|m| m.seq < mark.seq) {
                self.marks.insert(*feed, *mark);
                fresh.extend_from_slice(&encode(feed, mark));
            }
        }
        if fresh.is_empty() {
            return Ok(());
        }
        if self.entries + fresh.len() / ENTRY > self.marks.len() * COMPACT_PER_FEED + COMPACT_MARGIN
        {
            return self.rewrite();
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => {
                let new = !self.path.exists();
                let mut f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(&self.path)?;
                if new {
                    f.write_all(MAGIC)?;
                }
                self.file.insert(f)
            }
        };
        file.write_all(&fresh)?;
        self.entries += fresh.len() / ENTRY;
        Ok(())
    }

    /// Writes every mark to a new file, syncs it and puts it in place of the old one.
    fn rewrite(&mut self) -> io::Result<()> {
        let tmp = self.path.with_extension("log.new");
        let mut out = Vec::with_capacity(MAGIC.len() + self.marks.len() * ENTRY);
        out.extend_from_slice(MAGIC);
        for (feed, mark) in &self.marks {
            out.extend_from_slice(&encode(feed, mark));
        }
        let mut f = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&out)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        self.file = None;
        self.entries = self.marks.len();
        self.damaged = None;
        Ok(())
    }

    /// Sets the floor to exactly `marks` (the operator accepted what the store holds).
    pub(super) fn reset(&mut self, marks: BTreeMap<FeedId, Mark>) -> io::Result<()> {
        self.marks = marks;
        self.rewrite()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(seq: u64) -> Mark {
        Mark {
            seq,
            id: RecordId([seq as u8; 32]),
            state: "MX".parse().unwrap(),
            at_ms: 1_000 + seq,
        }
    }

    #[test]
    fn marks_survive_a_reopen_only_rise_and_a_torn_last_entry_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (FeedId([1; 32]), FeedId([2; 32]));
        let mut f = Floor::open(dir.path()).unwrap();
        f.record(&BTreeMap::from([(a, mark(3)), (b, mark(1))]))
            .unwrap();
        f.record(&BTreeMap::from([(a, mark(2))])).unwrap();
        f.record(&BTreeMap::from([(b, mark(7))])).unwrap();
        drop(f);
        let path = dir.path().join(FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&[9; 40]); // a crash in the middle of an append
        std::fs::write(&path, &bytes).unwrap();
        let f = Floor::open(dir.path()).unwrap();
        assert_eq!(f.marks()[&a], mark(3));
        assert_eq!(f.marks()[&b], mark(7));
        assert_eq!(f.damaged(), None);
    }

    #[test]
    fn a_damaged_entry_before_the_end_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = Floor::open(dir.path()).unwrap();
        for s in 1..=3 {
            f.record(&BTreeMap::from([(FeedId([s as u8; 32]), mark(s))]))
                .unwrap();
        }
        drop(f);
        let path = dir.path().join(FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[MAGIC.len() + ENTRY + 10] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let f = Floor::open(dir.path()).unwrap();
        assert!(f.damaged().is_some_and(|d| d.contains("entry 2 of 3")));
    }

    #[test]
    fn the_file_is_rewritten_once_it_has_grown_and_keeps_every_mark() {
        let dir = tempfile::tempdir().unwrap();
        let feed = FeedId([5; 32]);
        let mut f = Floor::open(dir.path()).unwrap();
        for s in 1..=(COMPACT_MARGIN as u64 + 10) {
            f.record(&BTreeMap::from([(feed, mark(s))])).unwrap();
        }
        let len = std::fs::metadata(dir.path().join(FILE)).unwrap().len() as usize;
        assert!(len < (COMPACT_MARGIN / 2) * ENTRY, "{len} bytes");
        drop(f);
        let f = Floor::open(dir.path()).unwrap();
        assert_eq!(f.marks()[&feed].seq, COMPACT_MARGIN as u64 + 10);
    }
}
