//! The store's errors, with sled's in words.

use super::SCHEMA_VERSION;

/// A failure of the store itself.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// sled failed (I/O, or a corrupt file).
    #[error("store: {}", describe(.0))]
    Sled(sled::Error),
    /// Another process holds the store's lock.
    #[error(
        "the store in {} is in use by another process: is another `tipx run` using this data \
         directory? Stop it first: only one node may use a store",
        .0.display()
    )]
    Locked(std::path::PathBuf),
    /// A stored value does not decode.
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// The store was written by another version of tipx.
    #[error("store schema version {found} is not supported (this tipx uses {SCHEMA_VERSION})")]
    Schema {
        /// The version found.
        found: u32,
    },
    /// The body packs or the store's directory failed.
    #[error("store: {what}: {source}")]
    Files {
        /// What was being done.
        what: &'static str,
        /// The failure.
        source: std::io::Error,
    },
}

impl Error {
    /// The store's files are damaged (as opposed to locked, full, or of another version):
    /// what `tipx store recover` is for.
    pub fn is_damage(&self) -> bool {
        matches!(
            self,
            Self::Corrupt(_)
                | Self::Sled(sled::Error::Corruption { .. } | sled::Error::Unsupported(_))
        )
    }
}

/// An I/O failure of the body packs or the store's files, with what was being done.
pub(super) fn files(what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Files { what, source }
}

// Not `#[from]`: sled's errors already print their cause, so marking it as the source would
// print it twice in an error chain.
impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        Self::Sled(e)
    }
}

/// sled's error in words (its own `Display` prints Debug output for some).
fn describe(e: &sled::Error) -> String {
    match e {
        sled::Error::Io(io)
            if io.kind() == std::io::ErrorKind::StorageFull
                || io.to_string().contains("No space left") =>
        {
            "the disk holding the store is full; sled stops writing after such a failure: \
             free some space and restart the node"
                .into()
        }
        sled::Error::Io(io) => format!("disk error: {io}"),
        sled::Error::Corruption { at: Some(at), .. } => format!(
            "the store's files are damaged (corrupt data at byte {} of the log)",
            at.lid()
        ),
        sled::Error::Corruption { at: None, .. } => "the store's files are damaged".into(),
        // The store's files are only ever written by this build's sled: a file it cannot
        // read is a damaged one (e.g. its settings file, whose checksum failed).
        sled::Error::Unsupported(why) => {
            format!("the store's files are damaged (sled cannot read them: {why})")
        }
        other => other.to_string(),
    }
}
