//! The index written to a file when the store closes, so that the next open builds it from
//! that file rather than from every index page in sled.
//!
//! Why: sled keeps a leaf of index pages (several pages of up to 42 KB each, over its
//! 128 KiB blob threshold) as a blob it does not count in its cache, so the 84 MB of pages a
//! million records have stayed in memory for the life of the process once read at open
//! (docs/DECISIONS.md, "The store"). Read from a plain file, they are gone once the index
//! is built.
//!
//! `index.snapshot` in the store directory: a magic, the number of the last index page the
//! index holds, the number of entries, the entries in the order of their rows (the encoding
//! of a page), and the SHA-256 of all that. Written to a temporary file, synced and renamed
//! at close; **taken** at open — read and deleted at once — so it is only ever used by the
//! open right after the close that wrote it. It is used only if its last page is sled's last
//! page, its length and checksum hold, and the index built from it has the counts kept on
//! disk; otherwise the index is built from the pages, as after a crash.

use std::{
    fs::File,
    io::{BufReader, BufWriter, Read, Write},
    os::unix::fs::OpenOptionsExt,
    path::Path,
};

use sha2::{Digest, Sha256};

use super::{ENTRY_BYTES, Entry, Indexes, decode_page, encode_page};
use crate::store::Error;

/// The file's name in the store directory.
pub(in crate::store) const FILE: &str = "index.snapshot";

const MAGIC: &[u8; 8] = b"tipxidx1";

/// Entries read or written at a time.
const CHUNK: usize = 4096;

/// Writes `index`, which holds every page up to `last`, to `dir`.
pub(in crate::store) fn write(dir: &Path, index: &Indexes, last: u64) -> std::io::Result<()> {
    let tmp = dir.join(format!("{FILE}.tmp"));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    let mut out = Hashed::new(BufWriter::new(file));
    out.put(MAGIC)?;
    out.put(&last.to_be_bytes())?;
    out.put(&(index.rows.len() as u64).to_be_bytes())?;
    let mut rows: Vec<Entry> = Vec::with_capacity(CHUNK);
    for chunk in index.rows.chunks(CHUNK) {
        rows.clear();
        rows.extend(chunk.iter().map(|r| index.entry(r)));
        out.put(&encode_page(&rows))?;
    }
    let (mut w, digest) = out.finish();
    w.write_all(&digest)?;
    let file = w.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(&tmp, dir.join(FILE))?;
    File::open(dir)?.sync_all()
}

/// The index in `dir`'s snapshot if there is one that holds exactly the pages up to `last`;
/// the file is deleted whatever it holds.
pub(in crate::store) fn take(dir: &Path, last: u64) -> Option<Indexes> {
    let path = dir.join(FILE);
    let file = File::open(&path).ok()?;
    let read = read(file, last);
    if let Err(e) = std::fs::remove_file(&path) {
        tracing::warn!(error = %e, "the store's index snapshot could not be deleted");
        return None;
    }
    match read {
        Ok(index) => Some(index),
        Err(e) => {
            tracing::warn!(error = %e, "the store's index snapshot is not used: the index is built from the store");
            None
        }
    }
}

fn read(file: File, last: u64) -> Result<Indexes, Error> {
    let bad = |why: &str| Error::Corrupt(format!("index snapshot: {why}"));
    let len = file.metadata().map_err(|e| bad(&e.to_string()))?.len();
    let mut input = Hashed::new(BufReader::new(file));
    let mut head = [0u8; 24];
    input.take(&mut head).map_err(|_| bad("too short"))?;
    if &head[..8] != MAGIC {
        return Err(bad("not a snapshot of this build"));
    }
    let of = |b: &[u8]| u64::from_be_bytes(b.try_into().expect("8 bytes"));
    if of(&head[8..16]) != last {
        return Err(bad("written before the store's last insert"));
    }
    let entries = of(&head[16..24]);
    if Some(len) != entries.checked_mul(ENTRY_BYTES as u64).map(|n| n + 24 + 32) {
        return Err(bad("of the wrong length"));
    }
    let mut left = entries as usize;
    let mut buf = vec![0u8; CHUNK * ENTRY_BYTES];
    let pages = std::iter::from_fn(|| {
        if left == 0 {
            return None;
        }
        let n = left.min(CHUNK);
        left -= n;
        let page = &mut buf[..n * ENTRY_BYTES];
        Some(
            input
                .take(page)
                .map_err(|e| bad(&e.to_string()))
                .and_then(|()| decode_page(page)),
        )
    });
    let index = Indexes::build(pages)?;
    let (mut rest, digest) = input.finish();
    let mut stored = [0u8; 32];
    rest.read_exact(&mut stored).map_err(|_| bad("too short"))?;
    if stored != digest {
        return Err(bad("its checksum does not match"));
    }
    Ok(index)
}

/// A reader or writer that hashes what goes through it.
struct Hashed<T> {
    inner: T,
    hash: Sha256,
}

impl<T> Hashed<T> {
    fn new(inner: T) -> Self {
        Self {
            inner,
            hash: Sha256::new(),
        }
    }

    fn finish(self) -> (T, [u8; 32]) {
        (self.inner, self.hash.finalize().into())
    }
}

impl<W: Write> Hashed<W> {
    fn put(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.hash.update(b);
        self.inner.write_all(b)
    }
}

impl<R: Read> Hashed<R> {
    fn take(&mut self, b: &mut [u8]) -> std::io::Result<()> {
        self.inner.read_exact(b)?;
        self.hash.update(&*b);
        Ok(())
    }
}
