//! `tipx profile`: this state's national profile — published from a TOML or JSON file,
//! shown, and a commented template to start from in the node's language.

mod template;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use tipx_protocol::{Body, Handling, StateCode, Tlp, body::Profile};

use super::{DataDir, JsonFlag};
use crate::{
    api::types::{PublishRequest, Published},
    core::ProfileView,
};

/// `tipx profile …`
#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    /// Publish a new version of this state's national profile from a file (TOML, or JSON
    /// if it ends in .json): the latest version supersedes the earlier ones, which stay as
    /// history. Start from `tipx profile template`.
    Set {
        /// The profile file.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// States it is for (comma-separated); yours is always added. Default: your
        /// partners. Include OAS for the coordinator's report to the Permanent Council.
        #[arg(long, value_delimiter = ',')]
        audience: Vec<StateCode>,
        /// TLP 2.0 marking: clear, green, amber, amber+strict, red.
        #[arg(long, default_value = "green")]
        tlp: Tlp,
    },
    /// Show the latest national profile of each state this node holds (or of one).
    Show {
        /// Only this state.
        #[arg(long)]
        state: Option<StateCode>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Print a commented profile template, in the node's language (report.language) or
    /// --lang.
    Template {
        /// en, es, fr or pt.
        #[arg(long)]
        lang: Option<String>,
    },
}

/// Runs `tipx profile …`.
pub(super) async fn run(dd: &DataDir, cmd: ProfileCommand) -> anyhow::Result<()> {
    match cmd {
        ProfileCommand::Set {
            file,
            audience,
            tlp,
        } => {
            let profile = read(&file)?;
            let req = PublishRequest {
                audience,
                tlp: Some(tlp),
                handling: Some(Handling::NationalAuthorities),
                body: Body::Profile(profile),
            };
            let client = super::client(dd)?;
            let done: Published = client.post("/v1/records", &vec![req]).await?;
            for w in &done.warnings {
                outln!("warning: {w}");
            }
            outln!("national profile published: {}", done.ids[0]);
            Ok(())
        }
        ProfileCommand::Show { state, json } => {
            let client = super::client(dd)?;
            let views: Vec<ProfileView> = client
                .get("/v1/profiles", &[("state", state.map(|s| s.to_string()))])
                .await?;
            if json.json {
                outln!("{}", serde_json::to_string_pretty(&views)?);
                return Ok(());
            }
            if views.is_empty() {
                outln!(
                    "no national profile held{}",
                    state.map(|s| format!(" of {s}")).unwrap_or_default()
                );
            }
            for v in &views {
                show(v);
            }
            Ok(())
        }
        ProfileCommand::Template { lang } => {
            let lang = match lang {
                Some(l) => l,
                None => dd
                    .config()
                    .map(|c| c.report.language)
                    .unwrap_or_else(|_| "en".into()),
            };
            outln!("{}", template::text(&lang)?);
            Ok(())
        }
    }
}

/// Reads a profile file: JSON if it ends in `.json`, TOML otherwise.
fn read(file: &Path) -> anyhow::Result<Profile> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let profile: Profile = if file.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a profile", file.display()))?
    } else {
        toml::from_str(&text).with_context(|| format!("{} is not a profile", file.display()))?
    };
    profile
        .check()
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    Ok(profile)
}

fn known<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "unknown".into(), |v| v.to_string())
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

fn show(v: &ProfileView) {
    let p = &v.profile;
    outln!(
        "{} — national profile of {} ({} version{} held)",
        v.state,
        v.published,
        v.versions,
        if v.versions == 1 { "" } else { "s" }
    );
    let palermo = match (p.palermo.status, p.palermo.date) {
        (Some(s), Some(d)) => format!("{s} on {d}"),
        (s, _) => known(s),
    };
    outln!("  Palermo Protocol       {palermo}");
    for l in &p.laws {
        outln!(
            "  law                    {} ({}) {}",
            l.title,
            known(l.year),
            l.reference
        );
    }
    outln!(
        "  coordination mechanism {} {}{}",
        yes_no(p.mechanism.exists),
        p.mechanism.name,
        if p.mechanism.lead.is_empty() {
            String::new()
        } else {
            format!(" (led by {})", p.mechanism.lead)
        }
    );
    if let Some(a) = &p.action_plan {
        outln!("  action plan            {}–{} {}", a.from, a.to, a.title);
    }
    outln!(
        "  hotline                {}",
        if p.hotline.is_empty() {
            "unknown"
        } else {
            &p.hotline
        }
    );
    outln!("  shelters               {}", known(p.shelters));
    outln!(
        "  identification protocol {}",
        yes_no(p.identification_protocol)
    );
    for s in &p.statistics {
        outln!(
            "  {}: victims {} (women {}, men {}, girls {}, boys {}, not disaggregated {}); \
             investigations {}, prosecutions {}, convictions {}",
            s.year,
            known(s.victims.total()),
            known(s.victims.women),
            known(s.victims.men),
            known(s.victims.girls),
            known(s.victims.boys),
            known(s.victims.not_disaggregated),
            known(s.investigations),
            known(s.prosecutions),
            known(s.convictions)
        );
    }
    let f = &p.focal_point;
    if !(f.role.is_empty() && f.institution.is_empty()) {
        outln!(
            "  focal point            {}, {} {}",
            f.role,
            f.institution,
            f.address
        );
    }
}
