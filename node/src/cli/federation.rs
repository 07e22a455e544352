//! The federation commands: `partners`, `peers` and, on the coordinator, `roster`.

use clap::Subcommand;
use tipx_protocol::{
    PublicKey, StateCode,
    body::{ConsentAction, Roster},
};

use crate::{
    api::{
        client::Client,
        types::{PartnerView, Published, RosterAdd, RosterRemove, RosterView},
    },
    core::{ConsentChange, PartnerRow},
    net::PeerInfo,
    time,
};

use super::show::human::short_peer;

/// `tipx partners …`
#[derive(Subcommand, Debug)]
pub enum PartnersCommand {
    /// Per state: my consent, theirs, whether exchange is active, connection and traffic.
    List(super::JsonFlag),
    /// Ask to exchange with a state (publishes a signed consent grant).
    Request {
        /// The state, e.g. CO.
        state: StateCode,
    },
    /// Stop exchanging with a state (publishes a signed revocation; takes effect at once).
    Revoke {
        /// The state, e.g. CO.
        state: StateCode,
    },
}

/// `tipx roster …` (the coordinator's node)
#[derive(Subcommand, Debug)]
pub enum RosterCommand {
    /// The roster in force and, on the coordinator, the unpublished draft.
    Show(super::JsonFlag),
    /// Add a member node to the draft.
    Add {
        /// The member's state code.
        #[arg(long)]
        state: StateCode,
        /// The state's name.
        #[arg(long, default_value = "")]
        name: String,
        /// The node's peer id (`tipx id` on that node).
        #[arg(long)]
        peer_id: PublicKey,
        /// Where the node can be dialled, e.g. /ip4/203.0.113.7/tcp/7100 (repeatable).
        #[arg(long = "addr")]
        addrs: Vec<String>,
    },
    /// Remove a node key from the draft; its connections close and its later records are refused.
    Remove {
        /// The node's peer id.
        #[arg(long)]
        peer_id: PublicKey,
    },
    /// Sign the draft as the next roster version and send it to every member.
    Publish,
}

pub(super) async fn partners(c: &Client, cmd: PartnersCommand) -> anyhow::Result<()> {
    match cmd {
        PartnersCommand::List(j) => {
            let rows: Vec<PartnerView> = c.get("/v1/partners", &()).await?;
            if j.json {
                outln!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(());
            }
            if rows.is_empty() {
                outln!("no consents yet: `tipx partners request XX` asks a state to exchange");
                return Ok(());
            }
            outln!(
                "{:<6} {:<6} {:<7} {:<24} {:<9} {:<20} {:>6} {:>8}",
                "STATE",
                "MINE",
                "THEIRS",
                "ACTIVE",
                "CONNECTED",
                "LAST SYNC",
                "SENT",
                "RECEIVED"
            );
            let mut revoked_configured = vec![];
            for r in rows {
                if r.row.configured_but_revoked {
                    revoked_configured.push(r.row.state);
                }
                let show = |a: Option<ConsentAction>| a.map_or("-".to_string(), |a| a.to_string());
                // Traffic is shown for active pairs only: an inactive pair exchanges nothing.
                let (last_sync, sent, received) = if r.row.active {
                    (
                        r.last_sync_ms.map_or("-".into(), time::format),
                        r.sent.to_string(),
                        r.received.to_string(),
                    )
                } else {
                    ("-".into(), "-".into(), "-".into())
                };
                outln!(
                    "{:<6} {:<6} {:<7} {:<24} {:<9} {last_sync:<20} {sent:>6} {received:>8}",
                    r.row.state.to_string(),
                    show(r.row.mine),
                    show(r.row.theirs),
                    active(&r.row),
                    if r.connected { "yes" } else { "no" },
                );
            }
            for state in revoked_configured {
                outln!(
                    "note: {state} is in exchange.partners, but you revoked it; restarts do not \
                     grant it again: `tipx partners request {state}` resumes exchange"
                );
            }
            Ok(())
        }
        PartnersCommand::Request { state } => {
            let change: ConsentChange = c
                .post(&format!("/v1/partners/{state}/request"), &())
                .await?;
            outln!("{}", requested(state, &change));
            Ok(())
        }
        PartnersCommand::Revoke { state } => {
            let change: ConsentChange =
                c.post(&format!("/v1/partners/{state}/revoke"), &()).await?;
            outln!("{}", revoked(state, &change));
            Ok(())
        }
    }
}

/// The ACTIVE column of `partners list`: `yes`, or why not in a few words.
fn active(row: &PartnerRow) -> String {
    use ConsentAction::{Grant, Revoke};
    let state = row.state;
    match (row.active, row.mine, row.theirs) {
        (true, _, _) => "yes".into(),
        (false, Some(Revoke), _) if row.configured_but_revoked => "no: you revoked (config)".into(),
        (false, Some(Revoke), _) => "no: you revoked".into(),
        (false, _, Some(Revoke)) => format!("no: {state} revoked"),
        (false, Some(Grant), _) => format!("no: awaiting {state}"),
        (false, None, Some(Grant)) => format!("no: {state} asks you"),
        (false, None, None) => "no".into(),
    }
}

/// What `partners request` did, in words.
fn requested(state: StateCode, change: &ConsentChange) -> String {
    let theirs = change.after.theirs;
    match (change.published, change.after.active) {
        (None, true) => {
            format!("already exchanging with {state}: both states agreed; nothing changed")
        }
        (None, false) if theirs == Some(ConsentAction::Revoke) => format!(
            "you already requested exchange with {state}, but {state} revoked it: exchange resumes \
             if {state} requests it again; nothing changed"
        ),
        (None, false) => format!(
            "you already requested exchange with {state}; it becomes active once {state} \
             requests it too; nothing changed"
        ),
        (Some(id), true) => format!(
            "exchange with {state} is now active: {state} had already agreed (consent {id})"
        ),
        (Some(id), false) if theirs == Some(ConsentAction::Revoke) => format!(
            "requested exchange with {state} (consent {id}); {state} has revoked exchange with \
             you, so it becomes active only if {state} requests it again"
        ),
        (Some(id), false) => format!(
            "requested exchange with {state} (consent {id}); it becomes active once {state} \
             requests it too"
        ),
    }
}

/// What `partners revoke` did, in words.
fn revoked(state: StateCode, change: &ConsentChange) -> String {
    match (change.published, change.before.active) {
        (None, _) if change.before.mine == Some(ConsentAction::Revoke) => {
            format!("exchange with {state} was already revoked; nothing changed")
        }
        (None, _) => format!(
            "you never requested exchange with {state}, so there is nothing to revoke; nothing changed"
        ),
        (Some(id), true) => format!(
            "stopped exchange with {state} (consent {id}): nothing more is sent to or accepted \
             from {state}"
        ),
        (Some(id), false) => format!(
            "withdrew your request to exchange with {state} (consent {id}); you were not \
             exchanging with {state} yet"
        ),
    }
}

pub(super) async fn peers(c: &Client, json: bool) -> anyhow::Result<()> {
    let peers: Vec<PeerInfo> = c.get("/v1/peers", &()).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&peers)?);
        return Ok(());
    }
    if peers.is_empty() {
        outln!("no peers known yet");
        return Ok(());
    }
    outln!(
        "{:<5} {:<10} {:<9} {:<20} {:>6} {:>8} {:>8}  ADDRESS",
        "STATE",
        "PEER ID",
        "CONNECTED",
        "LAST SYNC",
        "SENT",
        "RECEIVED",
        "REJECTED"
    );
    for p in peers {
        let address = match p.addrs.as_slice() {
            [] => "-".to_string(),
            [one] => one.clone(),
            [first, rest @ ..] => format!("{first} (+{} more, see --json)", rest.len()),
        };
        outln!(
            "{:<5} {:<10} {:<9} {:<20} {:>6} {:>8} {:>8}  {address}",
            p.state.map_or("?".to_string(), |s| s.to_string()),
            short_peer(&p.peer_id),
            if p.connected { "yes" } else { "no" },
            p.last_sync_ms.map_or("-".into(), time::format),
            p.sent,
            p.received,
            p.rejected
        );
    }
    Ok(())
}

fn print_roster(title: &str, r: &Roster) {
    outln!("{title} (version {}):", r.version);
    for m in &r.members {
        outln!("  {:<4} {}", m.state.to_string(), m.name);
        for n in &m.nodes {
            outln!("       {} {}", n.key, n.addrs.join(" "));
        }
    }
    for k in &r.revoked {
        outln!(
            "  revoked {} ({}) from {}",
            k.key,
            k.state,
            time::format(k.revoked_at_ms)
        );
    }
}

pub(super) async fn roster(c: &Client, cmd: RosterCommand) -> anyhow::Result<()> {
    let view: RosterView = match cmd {
        RosterCommand::Show(j) => {
            let v: RosterView = c.get("/v1/roster", &()).await?;
            if j.json {
                outln!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(());
            }
            v
        }
        RosterCommand::Add {
            state,
            name,
            peer_id,
            addrs,
        } => {
            c.post(
                "/v1/roster/add",
                &RosterAdd {
                    state,
                    name,
                    peer_id,
                    addrs,
                },
            )
            .await?
        }
        RosterCommand::Remove { peer_id } => {
            c.post("/v1/roster/remove", &RosterRemove { peer_id })
                .await?
        }
        RosterCommand::Publish => {
            let out: Published = c.post("/v1/roster/publish", &()).await?;
            outln!("published roster record {}", out.ids[0]);
            return Ok(());
        }
    };
    match &view.in_force {
        Some(r) => print_roster("roster in force", r),
        None => outln!("no roster in force"),
    }
    if let Some(d) = &view.draft
        && view.in_force.as_ref() != Some(d)
    {
        print_roster("draft (publish with `tipx roster publish`)", d);
    }
    Ok(())
}
