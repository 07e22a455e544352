//! The data directory: `tipx.toml`, `node.key` (mode 0600), `api.token` (mode 0600) and
//! `store/` (sled). `tipx init` creates it; every other command reads it.

use std::{
    fs,
    io::Write,
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

use tipx_config::Config;
use tipx_protocol::Keypair;

/// The configuration file's name inside the data directory.
pub const CONFIG_FILE: &str = "tipx.toml";
/// The store's directory inside the data directory.
pub const STORE_DIR: &str = "store";
/// The search index's directory inside the data directory, beside the store: what it
/// holds can always be rebuilt from the store ([`crate::search`]).
pub const SEARCH_DIR: &str = "search";

/// Why a data directory cannot be used. Each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No configuration file.
    #[error("no configuration at {} — run `tipx init --state XX --data-dir {}` first", .config.display(), .dir.display())]
    NoConfig {
        /// The file looked for.
        config: PathBuf,
        /// The data directory.
        dir: PathBuf,
    },
    /// The configuration is wrong (the message names the key).
    #[error(transparent)]
    Config(#[from] tipx_config::Error),
    /// `init` over an existing key.
    #[error("{} already exists: refusing to overwrite a node key (its identity would be lost)", .0.display())]
    KeyExists(PathBuf),
    /// A file operation failed.
    #[error("{what} {}", .path.display())]
    Io {
        /// What was being done ("creating", "writing", "cannot read the node key at").
        what: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store could not be created.
    #[error("creating the store: {0}")]
    Store(#[from] crate::store::Error),
    /// The system has no randomness for a key or token.
    #[error("no system randomness: {0}")]
    NoRandomness(String),
    /// The key file does not hold a key.
    #[error("{} is not a node key: {reason}", .path.display())]
    NotAKey {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A secret file others can read.
    #[error("{} is readable by group or others (mode {mode:o}): refusing to use the {what} — run `chmod 600 {}`", .path.display(), .path.display())]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// "node key" or "API token".
        what: &'static str,
    },
}

fn io(what: impl Into<String>, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let (what, path) = (what.into(), path.to_path_buf());
    move |source| Error::Io { what, path, source }
}

/// Paths of one data directory, and its configuration.
pub struct DataDir {
    /// The directory.
    pub dir: PathBuf,
    /// The configuration file.
    pub config_path: PathBuf,
}

impl DataDir {
    /// The data directory `dir`, configured by `config` (default `dir/tipx.toml`).
    pub fn new(dir: &Path, config: Option<&Path>) -> Self {
        Self {
            dir: dir.to_path_buf(),
            config_path: config.map_or_else(|| dir.join(CONFIG_FILE), Path::to_path_buf),
        }
    }

    /// Loads and checks the configuration.
    pub fn config(&self) -> Result<Config, Error> {
        if !self.config_path.exists() {
            return Err(Error::NoConfig {
                config: self.config_path.clone(),
                dir: self.dir.clone(),
            });
        }
        Ok(Config::load(&self.config_path)?)
    }

    /// Creates the directory, key, token and the configuration file holding `config` (with
    /// every key commented). Refuses to overwrite a key, or to write a configuration that
    /// `tipx run` would refuse.
    pub fn init(&self, config: &Config) -> Result<Keypair, Error> {
        config.validate()?;
        let key_path = self.dir.join(Config::default().node.key_file);
        if key_path.exists() {
            return Err(Error::KeyExists(key_path));
        }
        fs::create_dir_all(&self.dir).map_err(io("creating", &self.dir))?;
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))
            .map_err(io("making private", &self.dir))?;
        let mut secret = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::getrandom(&mut *secret).map_err(|e| Error::NoRandomness(e.to_string()))?;
        let key = Keypair::from_secret(&*secret).map_err(|e| Error::NotAKey {
            path: key_path.clone(),
            reason: e.to_string(),
        })?;
        write_private(&key_path, &*secret)?;
        // A new key has signed nothing: the store is complete for it (`store::provenance`).
        crate::store::SledStore::open(&self.store_dir(), 16 << 20)?.set_owner(&key.public())?;
        self.new_token(&self.dir.join(Config::default().api.token_file))?;
        if !self.config_path.exists() {
            fs::write(&self.config_path, config.to_template())
                .map_err(io("writing", &self.config_path))?;
        }
        Ok(key)
    }

    /// Reads the node key, refusing one that group or others can read.
    pub fn key(&self, config: &Config) -> Result<Keypair, Error> {
        let path = config.key_path(&self.dir);
        // The file's bytes are zeroed once the key is made (the key zeroes itself on drop).
        let bytes = zeroize::Zeroizing::new(read_private(&path, "node key")?);
        Keypair::from_secret(&bytes).map_err(|e| Error::NotAKey {
            path,
            reason: e.to_string(),
        })
    }

    /// Writes a new random API token to `path`.
    pub fn new_token(&self, path: &Path) -> Result<(), Error> {
        let mut token = [0u8; 24];
        getrandom::getrandom(&mut token).map_err(|e| Error::NoRandomness(e.to_string()))?;
        write_private(path, hex::encode(token).as_bytes())
    }

    /// Reads the API token.
    pub fn token(&self, config: &Config) -> Result<String, Error> {
        let path = config.token_path(&self.dir);
        let bytes = read_private(&path, "API token")?;
        Ok(String::from_utf8_lossy(&bytes).trim().to_string())
    }

    /// The store's directory.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.join(STORE_DIR)
    }

    /// The search index's directory.
    pub fn search_dir(&self) -> PathBuf {
        self.dir.join(SEARCH_DIR)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io("creating", path))?;
    f.write_all(bytes).map_err(io("writing", path))?;
    f.sync_all().map_err(io("writing", path))?;
    Ok(())
}

fn read_private(path: &Path, what: &'static str) -> Result<Vec<u8>, Error> {
    let unreadable = || io(format!("cannot read the {what} at"), path);
    let meta = fs::metadata(path).map_err(unreadable())?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::Exposed {
            path: path.to_path_buf(),
            mode,
            what,
        });
    }
    fs::read(path).map_err(unreadable())
}
