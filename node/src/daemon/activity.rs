//! The daemon's side of activity summaries: once a minute it adds the replication traffic
//! since the last look to the day's ledger, and, unless `report.activity = "off"`, sends
//! the coordinator a summary of each whole day not sent yet (after a stop, the days it
//! missed, up to [`CATCH_UP_DAYS`](crate::core::activity::CATCH_UP_DAYS)) while this state
//! and the coordinator are partners.

use std::{sync::Arc, time::Duration};

use tipx_config::ActivityDetail;
use tipx_protocol::{body::SyncTraffic, day::Day};
use tokio::sync::watch;

use crate::{
    core::{Node, now_ms},
    net::Handle,
};

/// How often the ledger is updated and due summaries are looked for.
const EVERY: Duration = Duration::from_secs(60);

/// Runs until `stop`.
pub(super) async fn run(
    node: Arc<Node>,
    net: Handle,
    detail: ActivityDetail,
    mut stop: watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(EVERY);
    let mut last = SyncTraffic::default();
    let mut warned = false;
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => return,
        }
        let now = net
            .peers()
            .await
            .iter()
            .fold(SyncTraffic::default(), |t, p| SyncTraffic {
                bytes_in: t.bytes_in + p.bytes_in,
                bytes_out: t.bytes_out + p.bytes_out,
                rounds: t.rounds + p.rounds,
            });
        let delta = SyncTraffic {
            bytes_in: now.bytes_in.saturating_sub(last.bytes_in),
            bytes_out: now.bytes_out.saturating_sub(last.bytes_out),
            rounds: now.rounds.saturating_sub(last.rounds),
        };
        last = now;
        let n = node.clone();
        let sent = tokio::task::spawn_blocking(move || -> Result<Vec<Day>, crate::core::Error> {
            let today = Day::of_ms(now_ms());
            if delta != SyncTraffic::default() {
                n.add_traffic(today, delta)?;
            }
            if detail == ActivityDetail::Off || !n.reports_to_coordinator() {
                return Ok(vec![]);
            }
            let mut sent = Vec::new();
            for day in n.activity_due(today)? {
                n.send_activity(day, day.end_ms(), detail)?;
                sent.push(day);
            }
            Ok(sent)
        })
        .await;
        match sent {
            Ok(Ok(days)) if !days.is_empty() => {
                let days: Vec<String> = days.iter().map(Day::to_string).collect();
                tracing::info!(days = %days.join(","), "activity summary sent to OAS");
            }
            Ok(Ok(_)) => {}
            // A store not yet whole again (after a restore) publishes nothing: say it once.
            Ok(Err(e)) if !warned => {
                warned = true;
                tracing::warn!(error = %e, "activity summary not sent; tried again each minute");
            }
            Ok(Err(_)) => {}
            Err(_) => return,
        }
    }
}
