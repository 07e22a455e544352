//! The data directory: `tipx.toml`, `node.key` (mode 0600), `api.token` (mode 0600) and
//! `store/` (sled). `tipx init` creates it; every other command reads it.

use std::{
    fs,
    io::Write,
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use tipx_config::Config;
use tipx_protocol::Keypair;

/// The configuration file's name inside the data directory.
pub const CONFIG_FILE: &str = "tipx.toml";
/// The store's directory inside the data directory.
pub const STORE_DIR: &str = "store";

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
    pub fn config(&self) -> anyhow::Result<Config> {
        if !self.config_path.exists() {
            bail!(
                "no configuration at {} — run `tipx init --state XX --data-dir {}` first",
                self.config_path.display(),
                self.dir.display()
            );
        }
        Ok(Config::load(&self.config_path)?)
    }

    /// Creates the directory, key, token and the configuration file holding `config` (with
    /// every key commented). Refuses to overwrite a key, or to write a configuration that
    /// `tipx run` would refuse.
    pub fn init(&self, config: &Config) -> anyhow::Result<Keypair> {
        config.validate()?;
        let key_path = self.dir.join(Config::default().node.key_file);
        if key_path.exists() {
            bail!(
                "{} already exists: refusing to overwrite a node key (its identity would be lost)",
                key_path.display()
            );
        }
        fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))?;
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret)
            .map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        let key = Keypair::from_secret(&secret)?;
        write_private(&key_path, &secret)?;
        let mut token = [0u8; 24];
        getrandom::getrandom(&mut token)
            .map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        write_private(
            &self.dir.join(Config::default().api.token_file),
            hex::encode(token).as_bytes(),
        )?;
        if !self.config_path.exists() {
            fs::write(&self.config_path, config.to_template())
                .with_context(|| format!("writing {}", self.config_path.display()))?;
        }
        Ok(key)
    }

    /// Reads the node key, refusing one that group or others can read.
    pub fn key(&self, config: &Config) -> anyhow::Result<Keypair> {
        let path = config.key_path(&self.dir);
        let bytes = read_private(&path, "node key")?;
        Keypair::from_secret(&bytes)
            .with_context(|| format!("{} is not a node key", path.display()))
    }

    /// Reads the API token.
    pub fn token(&self, config: &Config) -> anyhow::Result<String> {
        let path = config.token_path(&self.dir);
        let bytes = read_private(&path, "API token")?;
        Ok(String::from_utf8_lossy(&bytes).trim().to_string())
    }

    /// The store's directory.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.join(STORE_DIR)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

fn read_private(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    let meta = fs::metadata(path)
        .with_context(|| format!("cannot read the {what} at {}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "{} is readable by group or others (mode {mode:o}): refusing to use the {what} — run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    fs::read(path).with_context(|| format!("cannot read the {what} at {}", path.display()))
}
