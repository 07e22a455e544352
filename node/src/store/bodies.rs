//! The bodies of best practices and alerts, kept outside sled so that erasing one is
//! physical.
//!
//! sled writes every new version of a value to the end of its log and leaves the old bytes
//! in place until it happens to clean the segment, so a body deleted from sled stays
//! readable in its files for an unbounded time. Bodies that can be erased therefore live in
//! append-only pack files (`bodies/NNNNNNNN.pack`); sled keeps only where each one is
//! ([`Loc`]). Erasing overwrites the body's bytes in the pack with zeros and syncs the file
//! before the erasure is reported done, so after `tipx retract --erase` (or the arrival of
//! an erasing retraction) the text is gone from every file tipx wrote. What the file
//! system or the disk keeps of overwritten blocks (journals, SSD remapping, snapshots,
//! backups) is outside what a program can reach: README says so.
//!
//! Durability: a body is appended and the pack synced **before** the sled batch that
//! points to it is applied, so sled never refers to bytes that a crash could lose. A
//! batch's bodies are gathered in memory and written with one call at the sync (a write per
//! body cost a catch-up about a tenth of its store thread); a body read before then comes
//! from that buffer. Bytes
//! appended for a batch that never committed are unreferenced and harmless. Zeroing happens
//! only **after** the batch that drops the reference is durable (see `SledStore::insert`),
//! and the locations still to zero are kept in sled (`Space::Wipes`) until done, so a crash
//! in between is finished at the next open.

use std::{
    collections::HashMap,
    fs::{self, File, OpenOptions},
    io,
    os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock},
};

/// A pack is closed and a new one started once it holds this many bytes.
pub(super) const MAX_PACK_BYTES: u64 = 64 << 20;

/// Where a body is: pack number, offset and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Loc {
    pack: u32,
    offset: u64,
    len: u32,
}

impl Loc {
    /// Its encoding: 16 bytes, big-endian.
    pub(super) fn encode(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&self.pack.to_be_bytes());
        b[4..12].copy_from_slice(&self.offset.to_be_bytes());
        b[12..].copy_from_slice(&self.len.to_be_bytes());
        b
    }

    /// Reads [`encode`](Self::encode)'s bytes.
    pub(super) fn decode(b: &[u8]) -> Option<Self> {
        let b: &[u8; 16] = b.try_into().ok()?;
        Some(Self {
            pack: u32::from_be_bytes(b[..4].try_into().ok()?),
            offset: u64::from_be_bytes(b[4..12].try_into().ok()?),
            len: u32::from_be_bytes(b[12..].try_into().ok()?),
        })
    }
}

/// Bodies gathered beyond this many bytes are written out before the next sync.
const BUFFER_BYTES: usize = 1 << 20;

/// The pack being appended to.
struct Writer {
    pack: u32,
    file: Arc<File>,
    /// The pack's length counting the bodies not written yet.
    len: u64,
    /// Bodies appended and not written yet; they start at `len - buf.len()`.
    buf: Vec<u8>,
    /// Written since the last sync.
    dirty: bool,
}

impl Writer {
    /// Where the buffered bodies start in the pack.
    fn written(&self) -> u64 {
        self.len - self.buf.len() as u64
    }

    /// Writes the buffered bodies to the pack (not yet synced).
    fn write_out(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.file.write_all_at(&self.buf, self.written())?;
            self.buf.clear();
            self.dirty = true;
        }
        Ok(())
    }

    /// Writes and syncs everything appended.
    fn sync(&mut self) -> io::Result<()> {
        self.write_out()?;
        if self.dirty {
            self.file.sync_data()?;
            self.dirty = false;
        }
        Ok(())
    }
}

/// The pack files of one store.
pub(super) struct Bodies {
    dir: PathBuf,
    writer: Mutex<Writer>,
    /// Open packs, for reading and zeroing.
    packs: RwLock<HashMap<u32, Arc<File>>>,
}

fn pack_path(dir: &Path, pack: u32) -> PathBuf {
    dir.join(format!("{pack:08}.pack"))
}

fn open_pack(dir: &Path, pack: u32) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(pack_path(dir, pack))?;
    // A pack made by an earlier version, or copied in, may be readable by others.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

impl Bodies {
    /// Opens the packs in `dir` (created, 0700, if missing); appends go to the newest.
    pub(super) fn open(dir: &Path) -> io::Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        let mut packs = HashMap::new();
        for entry in fs::read_dir(dir)? {
            let name = entry?.file_name();
            let Some(n) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".pack"))
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            packs.insert(n, Arc::new(open_pack(dir, n)?));
        }
        let newest = packs.keys().max().copied().unwrap_or(0);
        let file = match packs.get(&newest) {
            Some(f) => f.clone(),
            None => {
                let f = Arc::new(open_pack(dir, newest)?);
                packs.insert(newest, f.clone());
                sync_dir(dir)?;
                f
            }
        };
        let len = file.metadata()?.len();
        Ok(Self {
            dir: dir.to_path_buf(),
            writer: Mutex::new(Writer {
                pack: newest,
                file,
                len,
                buf: Vec::new(),
                dirty: false,
            }),
            packs: RwLock::new(packs),
        })
    }

    fn pack(&self, n: u32) -> io::Result<Arc<File>> {
        self.packs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&n)
            .cloned()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("body pack {} is missing", pack_path(&self.dir, n).display()),
                )
            })
    }

    /// Appends a body; it is durable after the next [`sync`](Self::sync).
    pub(super) fn append(&self, body: &[u8]) -> io::Result<Loc> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if w.len > 0 && w.len + body.len() as u64 > MAX_PACK_BYTES {
            w.sync()?;
            let next = w.pack + 1;
            let file = Arc::new(open_pack(&self.dir, next)?);
            sync_dir(&self.dir)?;
            self.packs
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(next, file.clone());
            *w = Writer {
                pack: next,
                file,
                len: 0,
                buf: Vec::new(),
                dirty: false,
            };
        }
        let loc = Loc {
            pack: w.pack,
            offset: w.len,
            len: u32::try_from(body.len()).map_err(|_| io::ErrorKind::InvalidInput)?,
        };
        if w.buf.len() + body.len() > BUFFER_BYTES {
            w.write_out()?;
        }
        w.buf.extend_from_slice(body);
        w.len += body.len() as u64;
        Ok(loc)
    }

    /// Makes every body appended so far durable.
    pub(super) fn sync(&self) -> io::Result<()> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner()).sync()
    }

    /// The body at `loc`.
    pub(super) fn read(&self, loc: Loc) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; loc.len as usize];
        match self.pack(loc.pack)?.read_exact_at(&mut buf, loc.offset) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {}
            done => return done.map(|()| buf),
        }
        // Past the end of the pack: a body appended and not written yet (or, if it was
        // written meanwhile, in the file now).
        let w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let start = w.written();
        if w.pack == loc.pack && loc.offset >= start {
            let at = (loc.offset - start) as usize;
            if let Some(b) = w.buf.get(at..at + buf.len()) {
                buf.copy_from_slice(b);
                return Ok(buf);
            }
        }
        drop(w);
        self.pack(loc.pack)?.read_exact_at(&mut buf, loc.offset)?;
        Ok(buf)
    }

    /// Overwrites the body at `loc` with zeros, durably.
    pub(super) fn wipe(&self, loc: Loc) -> io::Result<()> {
        let file = self.pack(loc.pack)?;
        file.write_all_at(&vec![0u8; loc.len as usize], loc.offset)?;
        file.sync_data()
    }
}

/// Syncs a directory, so that a file created in it survives a crash.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(i: usize, len: usize) -> Vec<u8> {
        (0..len).map(|j| (i * 31 + j) as u8).collect()
    }

    #[test]
    fn a_body_reads_back_before_and_after_its_sync_and_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Bodies::open(dir.path()).unwrap();
        // Enough to pass the buffer more than once, so some are written out before the sync.
        let sizes = [230, 5000, 70_000, 1, 300_000, 900_000, 2_000];
        let mut locs = Vec::new();
        for (i, n) in sizes.iter().enumerate() {
            locs.push(packs.append(&body(i, *n)).unwrap());
            for (j, loc) in locs.iter().enumerate() {
                assert_eq!(packs.read(*loc).unwrap(), body(j, sizes[j]), "body {j}");
            }
        }
        packs.sync().unwrap();
        drop(packs);
        let again = Bodies::open(dir.path()).unwrap();
        for (i, loc) in locs.iter().enumerate() {
            assert_eq!(again.read(*loc).unwrap(), body(i, sizes[i]), "body {i}");
        }
        // Appends go on after the bodies already there.
        let more = again.append(b"after").unwrap();
        assert_eq!(again.read(more).unwrap(), b"after");
        assert_eq!(again.read(locs[0]).unwrap(), body(0, sizes[0]));
    }

    #[test]
    fn a_pack_filled_up_is_written_out_before_the_next_one_starts() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Bodies::open(dir.path()).unwrap();
        let big = 1 << 20;
        let n = (MAX_PACK_BYTES as usize / big) + 2;
        let locs: Vec<Loc> = (0..n)
            .map(|i| packs.append(&body(i, big)).unwrap())
            .collect();
        assert!(
            locs.iter().any(|l| l.pack == 1),
            "a second pack was started"
        );
        for (i, loc) in locs.iter().enumerate() {
            assert_eq!(packs.read(*loc).unwrap(), body(i, big), "body {i}");
        }
    }
}
