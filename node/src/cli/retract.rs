//! `tipx retract`: withdraw one of this node's records, optionally erasing its body at
//! every holder.

use crate::api::{
    client::Client,
    types::{Published, RetractRequest},
};

/// Runs `tipx retract ID --reason … [--erase]`; prints the retraction's id.
pub(super) async fn run(c: &Client, id: &str, reason: String, erase: bool) -> anyhow::Result<()> {
    let out: Published = c
        .post(
            &format!("/v1/records/{id}/retract"),
            &RetractRequest { reason, erase },
        )
        .await?;
    outln!("{}", out.ids[0]);
    Ok(())
}
