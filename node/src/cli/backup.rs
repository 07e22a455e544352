//! `tipx backup` and `tipx restore`: a consistent copy of a node (its store and
//! configuration; the key only when asked), taken while it runs, and putting one back.

use std::path::Path;

use crate::{api::client, datadir::DataDir, store::BackupStats};

/// The configuration's name inside a backup.
const CONFIG_NAME: &str = "tipx.toml";

/// `tipx backup --out FILE [--include-key]`.
pub(super) async fn backup(dd: &DataDir, out: &Path, include_key: bool) -> anyhow::Result<()> {
    let out = std::path::absolute(out)?;
    if out.exists() {
        anyhow::bail!("{} exists: a backup never overwrites a file", out.display());
    }
    let config = dd.config()?;
    let mut files = vec![(
        CONFIG_NAME.to_string(),
        std::fs::read(&dd.config_path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", dd.config_path.display()))?,
    )];
    if include_key {
        eprintln!(
            "warning: the backup holds this node's secret key: whoever reads the file can sign \
             as this node ({}). Keep it as safe as the key itself",
            config
                .node
                .state
                .map_or_else(|| "its state".into(), |s| s.to_string())
        );
        let key_path = config.key_path(&dd.dir);
        let name = key_path
            .strip_prefix(&dd.dir)
            .unwrap_or(Path::new("node.key"))
            .display()
            .to_string();
        let bytes = std::fs::read(&key_path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", key_path.display()))?;
        files.push((name, bytes));
    }
    let request = crate::api::types::BackupRequest {
        out: out.clone(),
        files,
    };
    let stats: BackupStats = match super::client(dd)?
        .post::<BackupStats, _>("/v1/backup", &request)
        .await
    {
        Ok(s) => s,
        Err(client::Error::Unreachable(_)) => {
            let dir = dd.store_dir();
            tokio::task::spawn_blocking(move || -> anyhow::Result<BackupStats> {
                let store =
                    crate::store::SledStore::open(&dir, config.store.cache_capacity_bytes())?;
                Ok(store.backup(&request.out, &request.files)?)
            })
            .await??
        }
        Err(e) => return Err(e.into()),
    };
    outln!(
        "backup written to {}: {} store keys, {} files, {} MiB{}",
        out.display(),
        stats.keys,
        stats.files,
        stats.bytes.div_ceil(1 << 20),
        if include_key {
            ", with the node key"
        } else {
            ", without the node key"
        }
    );
    Ok(())
}

/// `tipx restore FILE`: into the data directory, which must hold no store.
pub(super) fn restore(dd: &DataDir, file: &Path) -> anyhow::Result<()> {
    if dd.store_dir().exists() {
        anyhow::bail!(
            "{} already holds a store: restore into a new data directory (--data-dir), or move \
             this one aside first",
            dd.dir.display()
        );
    }
    let names = crate::store::restore(file, &dd.dir)?;
    let config = dd.config()?;
    let token = config.token_path(&dd.dir);
    if !token.exists() {
        dd.new_token(&token)?;
    }
    let has_key = names
        .iter()
        .any(|n| !n.starts_with("store/") && n != CONFIG_NAME);
    outln!("restored {} into {}", file.display(), dd.dir.display());
    if !has_key {
        outln!(
            "the backup holds no node key: put this state's key where node.key_file says \
             before `tipx run`"
        );
    }
    outln!(
        "At its first start the node syncs with its partners before it publishes: the backup \
         may be older than what they hold of this state's own feeds."
    );
    Ok(())
}
