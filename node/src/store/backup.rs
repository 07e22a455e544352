//! Backups of a running store, and restoring one.
//!
//! A backup is taken under the store's writer lock, after a flush, so no insert runs while
//! it is written: sled's tree (every key and value), the body packs and the floor, plus the
//! files the caller adds (the configuration, the key if asked). The format is this crate's
//! own: `tipx-backup-v1\n`, then sections — a file (`1`, name, length, bytes) or a key and
//! value of the tree (`2`) — and an end (`0`) followed by the sha256 of everything before
//! it, so that a truncated or damaged backup is refused before anything is restored.
//!
//! A restored store is marked *unproven*: it may be older than what its partners hold of
//! its own feeds, so the node does not publish until it has synced with them
//! (`core::complete`).

use std::{
    fs,
    io::{self, BufReader, BufWriter, Read, Write},
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};

use super::{BODIES_DIR, Error, SledStore, files, floor};

const MAGIC: &[u8] = b"tipx-backup-v1\n";
const END: u8 = 0;
const FILE: u8 = 1;
const KV: u8 = 2;
/// Largest name or key in a backup (a sanity bound while reading one).
const MAX_NAME: usize = 64 * 1024;
/// Largest value of the tree in a backup.
const MAX_VALUE: usize = 64 * 1024 * 1024;

/// What a backup holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackupStats {
    /// Keys of the store's tree.
    pub keys: u64,
    /// Files (body packs, the floor, and those the caller added).
    pub files: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn put_file(out: &mut impl Write, name: &str, mut data: impl Read, len: u64) -> io::Result<()> {
    out.write_all(&[FILE])?;
    out.write_all(&(name.len() as u32).to_be_bytes())?;
    out.write_all(name.as_bytes())?;
    out.write_all(&len.to_be_bytes())?;
    let copied = io::copy(&mut (&mut data).take(len), out)?;
    if copied != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{name} shrank while it was copied"),
        ));
    }
    Ok(())
}

impl SledStore {
    /// Writes a consistent copy of the store to `out`, with `extra` files (name, bytes)
    /// stored beside it, e.g. the configuration. Inserts wait while it runs.
    pub fn backup(&self, out: &Path, extra: &[(String, Vec<u8>)]) -> Result<BackupStats, Error> {
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        tipx_protocol::Store::flush(self)?;
        let file = fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(out)
            .map_err(files("creating the backup file"))?;
        let mut w = Hashing {
            inner: BufWriter::new(file),
            hash: Sha256::new(),
            bytes: 0,
        };
        let mut stats = BackupStats::default();
        let io = files("writing the backup file");
        (|| -> io::Result<()> {
            w.write_all(MAGIC)?;
            for (name, bytes) in extra {
                put_file(&mut w, name, &bytes[..], bytes.len() as u64)?;
                stats.files += 1;
            }
            let dir = &self.dir;
            let mut packs: Vec<PathBuf> = match fs::read_dir(dir.join(BODIES_DIR)) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(e),
            };
            packs.sort();
            for p in packs.iter().chain([dir.join(floor::FILE)].iter()) {
                let Ok(f) = fs::File::open(p) else { continue };
                let len = f.metadata()?.len();
                let name = p.strip_prefix(dir).unwrap_or(p).display().to_string();
                put_file(&mut w, &format!("store/{name}"), f, len)?;
                stats.files += 1;
            }
            Ok(())
        })()
        .map_err(io)?;
        for kv in self.tree.iter() {
            let (k, v) = kv?;
            (|| -> io::Result<()> {
                w.write_all(&[KV])?;
                w.write_all(&(k.len() as u32).to_be_bytes())?;
                w.write_all(&k)?;
                w.write_all(&(v.len() as u32).to_be_bytes())?;
                w.write_all(&v)
            })()
            .map_err(files("writing the backup file"))?;
            stats.keys += 1;
        }
        stats.bytes = w.bytes + 1 + 32;
        let finish = move || -> io::Result<()> {
            w.write_all(&[END])?;
            let digest = w.hash.clone().finalize();
            w.inner.write_all(&digest)?;
            let file = w.inner.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()
        };
        finish().map_err(files("writing the backup file"))?;
        Ok(stats)
    }
}

fn read_exact_vec(r: &mut impl Read, len: usize) -> io::Result<Vec<u8>> {
    let mut v = vec![0; len];
    r.read_exact(&mut v)?;
    Ok(v)
}

fn read_len(r: &mut impl Read, max: usize, what: &str) -> io::Result<usize> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    let len = u32::from_be_bytes(b) as usize;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} of {len} bytes"),
        ));
    }
    Ok(len)
}

/// A reader that hashes what passes through it.
struct Hashed<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Moves the damaged store in `store` aside, beside it as `store.damaged-<time>` (kept
/// until the operator deletes it), and starts a fresh store in its place that keeps only
/// the old floor (`tipx store recover`, `tipx run --recover`): the node then knows what it
/// must take back from its partners, and publishes nothing until this state's own feeds
/// are whole. Returns where the damaged store went.
pub fn set_aside(store: &Path) -> Result<PathBuf, Error> {
    let stamp = crate::time::rfc3339(crate::core::now_ms()).replace(':', "-");
    let aside = store.with_file_name(format!("store.damaged-{stamp}"));
    fs::rename(store, &aside).map_err(files("moving the damaged store aside"))?;
    fs::create_dir_all(store).map_err(files("creating the fresh store"))?;
    match fs::copy(aside.join(floor::FILE), store.join(floor::FILE)) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(files("copying the floor into the fresh store")(e)),
    }
    // Opening it creates sled's files and the body packs, private to this user.
    SledStore::open(store, 16 << 20)?.set_doubt(super::Doubt::Recovered)?;
    Ok(aside)
}

/// Restores the backup `file` into the empty data directory `dir`: files go to their
/// place under it, the tree into a new store in `dir/store`, which is marked unproven.
/// Nothing is left in `dir` unless the whole backup reads back and its checksum matches.
/// Returns the names of the files restored.
pub fn restore(file: &Path, dir: &Path) -> Result<Vec<String>, Error> {
    let bad = |why: String| Error::Corrupt(format!("the backup {}: {why}", file.display()));
    let input = fs::File::open(file).map_err(files("opening the backup file"))?;
    let mut r = Hashed {
        inner: BufReader::new(input),
        hash: Sha256::new(),
    };
    let staging = dir.with_extension("restoring");
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(files("clearing an earlier restore"))?;
    }
    let store_dir = staging.join("store");
    fs::create_dir_all(store_dir.join(BODIES_DIR)).map_err(files("creating the store"))?;
    let reading = |e: io::Error| bad(format!("cannot be read: {e}"));
    let magic = read_exact_vec(&mut r, MAGIC.len()).map_err(reading)?;
    if magic != MAGIC {
        return Err(bad("is not a tipx backup".into()));
    }
    let db = sled::Config::new().path(&store_dir).open()?;
    let tree = db.open_tree("tipx")?;
    let mut names = Vec::new();
    let mut batch = sled::Batch::default();
    let mut pending = 0;
    loop {
        let mut tag = [0u8; 1];
        r.read_exact(&mut tag).map_err(reading)?;
        match tag[0] {
            END => break,
            FILE => {
                let len = read_len(&mut r, MAX_NAME, "a name").map_err(reading)?;
                let name = String::from_utf8(read_exact_vec(&mut r, len).map_err(reading)?)
                    .map_err(|_| bad("names a file in bytes that are not text".into()))?;
                let path = Path::new(&name);
                if path.is_absolute() || path.components().any(|c| c.as_os_str() == "..") {
                    return Err(bad(format!(
                        "names a file outside the data directory: {name}"
                    )));
                }
                let mut b = [0u8; 8];
                r.read_exact(&mut b).map_err(reading)?;
                let len = u64::from_be_bytes(b);
                let target = staging.join(path);
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(files("creating a directory"))?;
                }
                let mut out = fs::OpenOptions::new()
                    .create_new(true)
                    .write(true)
                    .mode(0o600)
                    .open(&target)
                    .map_err(files("writing a restored file"))?;
                let copied = io::copy(&mut (&mut r).take(len), &mut out).map_err(reading)?;
                if copied != len {
                    return Err(bad(format!("ends inside {name}")));
                }
                names.push(name);
            }
            KV => {
                let klen = read_len(&mut r, MAX_NAME, "a key").map_err(reading)?;
                let k = read_exact_vec(&mut r, klen).map_err(reading)?;
                let vlen = read_len(&mut r, MAX_VALUE, "a value").map_err(reading)?;
                let v = read_exact_vec(&mut r, vlen).map_err(reading)?;
                batch.insert(k, v);
                pending += 1;
                if pending == 4096 {
                    tree.apply_batch(std::mem::take(&mut batch))?;
                    pending = 0;
                }
            }
            other => return Err(bad(format!("holds a section of unknown kind {other}"))),
        }
    }
    let digest = r.hash.clone().finalize();
    let mut stored = [0u8; 32];
    r.inner.read_exact(&mut stored).map_err(reading)?;
    if stored[..] != digest[..] {
        return Err(bad("is damaged: its checksum does not match".into()));
    }
    tree.apply_batch(batch)?;
    let (k, v) = super::Doubt::Restored.entry();
    tree.insert(k, &v[..])?;
    db.flush()?;
    drop(tree);
    drop(db);
    if dir.exists() {
        fs::remove_dir(dir).map_err(files("replacing the empty data directory"))?;
    }
    fs::rename(&staging, dir).map_err(files("putting the restored data directory in place"))?;
    Ok(names)
}
