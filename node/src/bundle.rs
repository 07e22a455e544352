//! Offline bundles on disk (`tipx bundle export`, `tipx bundle import`): the records a
//! partner is entitled to, written as whole feeds and signed by this node
//! ([`tipx_protocol::bundle`]); and a bundle read back, each record checked as if the
//! node that exported it had sent it over the network.
//!
//! The file: `tipx-bundle-v1\n`, the header (a u32 length, then JSON), the frames (each
//! record's network bytes after a u32 length), a zero length, the record count (u64) and
//! the signature (64 bytes). An import reads the file twice — once to check the signature,
//! once to store — so it never holds more than a page of records.

use std::{
    collections::BTreeMap,
    fs,
    io::{self, BufReader, BufWriter, Read, Write},
    os::unix::fs::OpenOptionsExt,
    path::Path,
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tipx_protocol::{
    StateCode,
    bundle::{self, Header},
    store::Inserted,
    sync,
};

use crate::core::{Error as CoreError, Node, now_ms};

const MAGIC: &[u8] = b"tipx-bundle-v1\n";
/// Largest header.
const MAX_HEADER: usize = 64 * 1024;
/// Records handed to the store at once, at most (as a page from a peer).
const PAGE_RECORDS: usize = sync::MAX_RECORDS_PER_MESSAGE;
/// Bytes handed to the store at once, about.
const PAGE_BYTES: usize = 4 << 20;

/// Why a bundle could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why.
        source: io::Error,
    },
    /// The file is not a bundle, or not a whole one.
    #[error("{0}: nothing imported")]
    Invalid(String),
    /// The node failed.
    #[error(transparent)]
    Node(#[from] CoreError),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// What an export wrote.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Exported {
    /// Feeds written whole.
    pub feeds: u64,
    /// Records written.
    pub records: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// What an import did with each record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Imported {
    /// The exporting state.
    pub from: Option<StateCode>,
    /// Records read.
    pub records: u64,
    /// Newly stored.
    pub stored: u64,
    /// Already held.
    pub duplicates: u64,
    /// Refused, by reason (as the audit log words them), with a count.
    pub refused: BTreeMap<String, u64>,
}

/// Writes to `out` (a new file, mode 0600) every record of every feed `node` shares with
/// `for_state` by the network's rules, each feed whole from seq 1, signed by `node`.
pub fn export(node: &Node, for_state: StateCode, out: &Path) -> Result<Exported, Error> {
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .map_err(io_err(format!("creating {}", out.display())))?;
    let header = Header {
        from: node.public_key(),
        state: node.state(),
        for_state,
        created_at_ms: now_ms(),
    };
    let header = serde_json::to_vec(&header).expect("a header serialises");
    let mut w = BufWriter::new(file);
    let write = |w: &mut BufWriter<fs::File>, b: &[u8]| {
        w.write_all(b)
            .map_err(io_err(format!("writing {}", out.display())))
    };
    write(&mut w, MAGIC)?;
    write(&mut w, &(header.len() as u32).to_be_bytes())?;
    write(&mut w, &header)?;
    let (m, local) = (node.membership(), node.state());
    let mut frames = Sha256::new();
    let mut done = Exported::default();
    for feed in node.feeds()? {
        if !sync::shares(&m, local, for_state, &feed) {
            continue;
        }
        done.feeds += 1;
        let mut from_seq = 1;
        while from_seq <= feed.head.seq {
            let page = node.feed_range(&feed.feed, from_seq, PAGE_RECORDS, PAGE_BYTES)?;
            let Some(last) = page.last() else { break };
            from_seq = last.header.seq + 1;
            for r in page {
                let bytes = r.encode();
                let len = (bytes.len() as u32).to_be_bytes();
                frames.update(len);
                frames.update(&bytes);
                write(&mut w, &len)?;
                write(&mut w, &bytes)?;
                done.records += 1;
                done.bytes += 4 + bytes.len() as u64;
            }
        }
    }
    let header_hash: [u8; 32] = Sha256::digest(&header).into();
    let signature =
        node.keypair()
            .sign_bundle(&header_hash, &frames.finalize().into(), done.records);
    write(&mut w, &0u32.to_be_bytes())?;
    write(&mut w, &done.records.to_be_bytes())?;
    write(&mut w, &signature)?;
    let file = w
        .into_inner()
        .map_err(|e| io_err(format!("writing {}", out.display()))(e.into_error()))?;
    file.sync_all()
        .map_err(io_err(format!("writing {}", out.display())))?;
    Ok(done)
}

/// A bundle being read: its header, then its frames.
struct Reader {
    r: BufReader<fs::File>,
    name: String,
    header: Header,
    header_hash: [u8; 32],
}

impl Reader {
    fn open(file: &Path) -> Result<Self, Error> {
        let name = file.display().to_string();
        let f = fs::File::open(file).map_err(io_err(format!("opening {name}")))?;
        let mut r = BufReader::new(f);
        let bad = |why: &str| Error::Invalid(format!("{name} {why}"));
        let mut magic = vec![0; MAGIC.len()];
        r.read_exact(&mut magic)
            .map_err(|_| bad("is not a tipx bundle"))?;
        if magic != MAGIC {
            return Err(bad("is not a tipx bundle"));
        }
        let len = read_u32(&mut r).map_err(|_| bad("ends inside its header"))? as usize;
        if len > MAX_HEADER {
            return Err(bad("has a header too large to be one"));
        }
        let mut bytes = vec![0; len];
        r.read_exact(&mut bytes)
            .map_err(|_| bad("ends inside its header"))?;
        let header: Header =
            serde_json::from_slice(&bytes).map_err(|e| bad(&format!("has a bad header: {e}")))?;
        Ok(Self {
            r,
            name,
            header,
            header_hash: Sha256::digest(&bytes).into(),
        })
    }

    /// The next record, or `None` at the end marker.
    fn next(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let ends = || Error::Invalid(format!("{} ends before its last record", self.name));
        let len = read_u32(&mut self.r).map_err(|_| ends())? as usize;
        if len == 0 {
            return Ok(None);
        }
        if len > sync::MAX_MESSAGE_BYTES {
            return Err(Error::Invalid(format!(
                "{} holds a record of {len} bytes, larger than any the network carries",
                self.name
            )));
        }
        let mut bytes = vec![0; len];
        self.r.read_exact(&mut bytes).map_err(|_| ends())?;
        Ok(Some(bytes))
    }

    /// Reads to the end, checking the signature: the number of records.
    fn check(mut self) -> Result<u64, Error> {
        let mut frames = Sha256::new();
        let mut count = 0u64;
        while let Some(bytes) = self.next()? {
            frames.update((bytes.len() as u32).to_be_bytes());
            frames.update(&bytes);
            count += 1;
        }
        let ends = || Error::Invalid(format!("{} ends before its signature", self.name));
        let mut n = [0u8; 8];
        self.r.read_exact(&mut n).map_err(|_| ends())?;
        let mut sig = [0u8; 64];
        self.r.read_exact(&mut sig).map_err(|_| ends())?;
        let holds = u64::from_be_bytes(n) == count
            && bundle::verify(
                &self.header.from,
                &self.header_hash,
                &frames.finalize().into(),
                count,
                &sig,
            );
        if !holds {
            return Err(Error::Invalid(format!(
                "{}: its signature does not hold — it was changed after {} signed it, or {} \
                 did not sign it",
                self.name, self.header.state, self.header.state
            )));
        }
        Ok(count)
    }
}

fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_be_bytes(b))
}

/// Imports the bundle `file` into `node`: refused whole if it is not for this node's
/// state, not signed by a key the roster gives the state it names, or its signature does
/// not hold; otherwise each record is checked and stored as a page from the exporting
/// node would be (the same rejections and audit entries).
pub fn import(node: &Node, file: &Path) -> Result<Imported, Error> {
    let reader = Reader::open(file)?;
    let h = reader.header.clone();
    let name = reader.name.clone();
    if h.for_state != node.state() {
        return Err(Error::Invalid(format!(
            "{name} was made for {}, and this node is {}'s: a bundle holds only what its \
             state may receive",
            h.for_state,
            node.state()
        )));
    }
    let m = node.membership();
    if sync::key_state(&m, &h.from) != Some(h.state) {
        return Err(Error::Invalid(format!(
            "{name} is signed by {}, which the roster does not give to {}",
            h.from.peer_id(),
            h.state
        )));
    }
    let count = reader.check()?;
    let mut reader = Reader::open(file)?;
    let mut done = Imported {
        from: Some(h.state),
        records: count,
        ..Default::default()
    };
    let mut page: Vec<Vec<u8>> = Vec::new();
    let mut bytes = 0;
    loop {
        let next = reader.next()?;
        let full = page.len() >= PAGE_RECORDS || bytes >= PAGE_BYTES || next.is_none();
        if full && !page.is_empty() {
            let received = node.receive(&page, h.from)?;
            node.stored_offline(h.from, received.stored);
            for outcome in received.outcomes {
                match outcome {
                    Ok(Inserted::Stored) => done.stored += 1,
                    Ok(Inserted::Duplicate) => done.duplicates += 1,
                    Ok(Inserted::Refused(why)) | Err(why) => {
                        *done.refused.entry(why.to_string()).or_default() += 1;
                    }
                }
            }
            page.clear();
            bytes = 0;
        }
        match next {
            Some(r) => {
                bytes += r.len();
                page.push(r);
            }
            None => break,
        }
    }
    Ok(done)
}
