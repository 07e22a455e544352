//! `tipx bundle export` and `tipx bundle import`: records on a file, for a partner whose
//! network cannot reach the federation (docs/PROTOCOL.md, "Offline bundles").

use std::path::PathBuf;

use clap::Subcommand;
use tipx_protocol::StateCode;

use crate::{
    api::{
        client::Client,
        types::{BundleExportRequest, BundleImportRequest},
    },
    bundle::{Exported, Imported},
};

/// `tipx bundle …`
#[derive(Subcommand, Debug)]
pub enum BundleCommand {
    /// Write the records a partner may receive from this node — by the same audience and
    /// consent rules as the network, nothing else — as whole feeds, signed by this node.
    Export {
        /// The state the records are for (a partner).
        #[arg(long = "for", value_name = "STATE")]
        for_state: StateCode,
        /// The file to create (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Store the records of a bundle made for this state, each checked exactly as if the
    /// node that exported it had sent it over the network (same refusals, same audit log).
    Import {
        /// The bundle file.
        file: PathBuf,
    },
}

/// Runs `tipx bundle …`.
pub(super) async fn run(client: &Client, cmd: BundleCommand) -> anyhow::Result<()> {
    match cmd {
        BundleCommand::Export { for_state, out } => {
            let out = std::path::absolute(&out)?;
            if out.exists() {
                anyhow::bail!("{} exists: a bundle never overwrites a file", out.display());
            }
            let req = BundleExportRequest {
                for_state,
                out: out.clone(),
            };
            let done: Exported = client.post("/v1/bundle/export", &req).await?;
            outln!(
                "bundle for {for_state} written to {}: {} records in {} feeds, {} KiB",
                out.display(),
                done.records,
                done.feeds,
                done.bytes.div_ceil(1024)
            );
            if done.records == 0 {
                outln!(
                    "it holds no record: {for_state} may receive nothing from this node (is it \
                     a partner? `tipx partners list`)"
                );
            }
            Ok(())
        }
        BundleCommand::Import { file } => {
            let req = BundleImportRequest {
                file: std::path::absolute(&file)?,
            };
            let done: Imported = client.post("/v1/bundle/import", &req).await?;
            let from = done.from.map_or_else(|| "?".into(), |s| s.to_string());
            outln!(
                "bundle from {from}: {} records — {} stored, {} already held, {} refused",
                done.records,
                done.stored,
                done.duplicates,
                done.refused.values().sum::<u64>()
            );
            for (why, n) in &done.refused {
                outln!("  refused {n}: {why}");
            }
            Ok(())
        }
    }
}
