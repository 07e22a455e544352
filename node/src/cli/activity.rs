//! `tipx activity`: the counts this node sends the coordinator once a day (docs/REPORT.md):
//! shown, or sent at once.

use clap::Subcommand;
use tipx_protocol::{body::Activity, day::Day};

use super::{DataDir, JsonFlag};
use crate::api::reporting::ActivityRequest;

/// `tipx activity …`
#[derive(Subcommand, Debug)]
pub enum ActivityCommand {
    /// Show the summary of a day (today so far by default) without sending it.
    Show {
        /// The day, YYYY-MM-DD.
        #[arg(long)]
        day: Option<Day>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Send the coordinator the summary of today so far now (the whole day's summary,
    /// sent after midnight UTC, supersedes it).
    Send(JsonFlag),
}

/// Runs `tipx activity …`.
pub(super) async fn run(dd: &DataDir, cmd: ActivityCommand) -> anyhow::Result<()> {
    let detail = dd.config()?.report.activity;
    let client = super::client(dd)?;
    let (a, json, sent): (Activity, bool, bool) = match cmd {
        ActivityCommand::Show { day, json } => {
            let req = ActivityRequest { day, detail };
            (client.get("/v1/activity", &req).await?, json.json, false)
        }
        ActivityCommand::Send(json) => {
            let req = ActivityRequest { day: None, detail };
            (
                client.post("/v1/activity/send", &req).await?,
                json.json,
                true,
            )
        }
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&a)?);
        return Ok(());
    }
    let counts = |m: Vec<String>| {
        if m.is_empty() {
            "none".into()
        } else {
            m.join(", ")
        }
    };
    outln!(
        "{} summary of {} up to {}{}",
        if sent { "sent to OAS:" } else { "not sent:" },
        a.day,
        crate::time::format(a.through_ms),
        if a.totals_only { " (totals only)" } else { "" }
    );
    outln!(
        "  published  {}",
        counts(
            a.published
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect()
        )
    );
    outln!(
        "  received   {}",
        counts(
            a.received
                .iter()
                .map(|r| match r.state {
                    Some(s) => format!("{} {} from {s}", r.count, r.kind),
                    None => format!("{} {}", r.count, r.kind),
                })
                .collect()
        )
    );
    outln!(
        "  refused    {}",
        counts(
            a.rejections
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect()
        )
    );
    outln!(
        "  partners {}, sync {} B in, {} B out, {} rounds",
        a.active_partners,
        a.sync.bytes_in,
        a.sync.bytes_out,
        a.sync.rounds
    );
    Ok(())
}
