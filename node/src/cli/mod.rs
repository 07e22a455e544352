//! The `tipx` command line: argument definitions and dispatch. Every command but `init`,
//! `id`, `config check`, `run` and the generated `completions` and `man` is a client of
//! the daemon's admin API.

#[macro_use]
pub(crate) mod output;

mod activity;
mod backup;
mod bundle;
mod demo;
pub mod export;
mod federation;
mod generate;
mod profile;
pub mod publish;
mod recover;
mod reindex;
mod report;
mod retract;
mod show;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use tipx_protocol::{
    Kind, StateCode,
    body::{Pillar, Severity},
};

use crate::{api::client::Client, datadir::DataDir, query::Filter};

/// tipx — the node with which member states exchange signed best practices and alerts about
/// trafficking in persons, only among states that asked to exchange with each other.
#[derive(Parser, Debug)]
#[command(name = "tipx", version, propagate_version = true)]
pub struct Cli {
    /// The node's data directory (key, configuration, store) [default: ./tipx-data]. For
    /// `demo`: a new or empty directory for the demo's nodes, kept when it ends.
    #[arg(long, global = true, env = "TIPX_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The configuration file [default: DATA_DIR/tipx.toml].
    #[arg(long, global = true, env = "TIPX_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a data directory: key (mode 0600), configuration and API token.
    Init {
        /// Your state's code (ISO 3166-1 alpha-2, e.g. MX), or OAS for the coordinator.
        #[arg(long)]
        state: StateCode,
        /// Port for peer-to-peer traffic (TCP and QUIC).
        #[arg(long, default_value_t = tipx_config::DEFAULT_P2P_PORT)]
        p2p_port: u16,
        /// Port of the local admin API on 127.0.0.1.
        #[arg(long, default_value_t = tipx_config::DEFAULT_API_PORT)]
        api_port: u16,
        /// A member: the coordinator's peer id, pinned as the key that signs the roster
        /// (federation.anchor). Ask the coordinator for it (`tipx id` on its node).
        #[arg(long, value_name = "PEER_ID")]
        anchor: Option<tipx_protocol::PublicKey>,
        /// A member: the coordinator's node address, ending with /p2p/<its peer id>
        /// (network.bootstrap; repeatable), e.g. /ip4/203.0.113.7/tcp/7100/p2p/12D3KooW…
        #[arg(long = "bootstrap", value_name = "MULTIADDR")]
        bootstrap: Vec<String>,
        /// States to exchange with, granted at start-up unless revoked since
        /// (exchange.partners, comma-separated), e.g. CO,PE.
        #[arg(long, value_delimiter = ',', value_name = "STATES")]
        partners: Vec<StateCode>,
    },
    /// Print this node's peer id (its public key).
    Id,
    /// Check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run the node (until Ctrl-C or SIGTERM).
    Run {
        /// If the store's files are damaged, move the store aside (kept until you delete
        /// it) and start with a fresh one that takes back from partners everything they
        /// share with this node; `tipx store recover` then follows the progress.
        #[arg(long)]
        recover: bool,
    },
    /// Show the node's state: records, feeds, partners, roster.
    Status(JsonFlag),
    /// Publish a best practice or an alert, or import records from a file.
    Publish(publish::PublishArgs),
    /// List or show records.
    #[command(subcommand)]
    Records(RecordsCommand),
    /// Withdraw one of your records; with --erase every holder deletes its body.
    Retract {
        /// The record's id (or a unique prefix of at least 8 hex digits).
        id: String,
        /// Why it is withdrawn (shown to every holder).
        #[arg(long)]
        reason: String,
        /// Delete its body everywhere; the header stays so feeds still verify.
        #[arg(long)]
        erase: bool,
    },
    /// Show the audit log: what was published, received, sent, rejected, retracted.
    Audit {
        /// How many of the newest entries.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// The store: check it, recover a damaged one from partners, or accept what it lost.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Write a consistent copy of this node (store and configuration) to a new file, while
    /// it runs. The key is left out unless --include-key.
    Backup {
        /// The file to write (must not exist).
        #[arg(long)]
        out: std::path::PathBuf,
        /// Also copy the node's secret key into the backup.
        #[arg(long)]
        include_key: bool,
    },
    /// Offline bundles: records on a file for a partner whose network cannot reach the
    /// federation, and a partner's bundle read in.
    #[command(subcommand)]
    Bundle(bundle::BundleCommand),
    /// Restore a backup into the data directory (--data-dir), which must hold no store. The
    /// first start then syncs with every partner before publishing.
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
    },
    /// Consent: which states this one exchanges with.
    #[command(subcommand)]
    Partners(federation::PartnersCommand),
    /// Connected and known peers, with traffic.
    Peers(JsonFlag),
    /// Start a demo federation (OAS, MX, CO, PE) on 127.0.0.1 and show who receives what.
    ///
    /// The nodes live in a temporary directory that is removed when the demo ends, unless
    /// --keep is given; with --data-dir DIR they live in DIR and stay.
    Demo {
        /// Check the outcome and exit instead of running until Ctrl-C.
        #[arg(long)]
        check: bool,
        /// Keep the temporary directory (keys, stores) when the demo ends.
        #[arg(long)]
        keep: bool,
    },
    /// The membership roster (edited and signed on the coordinator's node).
    #[command(subcommand)]
    Roster(federation::RosterCommand),
    /// The counts of this node's activity it sends the coordinator once a day for its
    /// report to the Permanent Council (report.activity in tipx.toml): show or send now.
    #[command(subcommand)]
    Activity(activity::ActivityCommand),
    /// This state's national profile: publish a new version, show the profiles held, or
    /// print a template.
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// The report to the Permanent Council: on the coordinator's node, the federation's
    /// participation, exchange volumes, national profiles and best practices; on a
    /// member's node, its own exchange (docs/REPORT.md).
    Report(report::ReportArgs),
    /// Export records as JSON lines (the `publish --file` format), CSV or a STIX 2.1
    /// bundle, with the filters of `records list`; to standard output or --out FILE.
    Export(export::ExportArgs),
    /// Print a shell completion script: `tipx completions bash > /etc/bash_completion.d/tipx`.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page, or write one page per command into a directory.
    Man {
        /// Write tipx.1 and a page per command (tipx-publish.1, …) into this directory
        /// instead of printing tipx.1.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// The data directory when neither `--data-dir` nor `TIPX_DATA_DIR` names one.
pub const DEFAULT_DATA_DIR: &str = "./tipx-data";

/// `--json`.
#[derive(Args, Debug, Clone, Copy)]
pub struct JsonFlag {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `tipx config …`
#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Load the configuration (with TIPX_* overrides) and report the first problem.
    Check,
}

/// `tipx store …`
#[derive(Subcommand, Debug)]
pub enum StoreCommand {
    /// Re-verify every stored record: signature, body hash, feed continuity, indexes, and
    /// that nothing the store once made durable is missing.
    Check(JsonFlag),
    /// Accept the store as it is after it lost records no partner can give back: the
    /// missing records are given up and publishing resumes. Only when `store check` shows
    /// records missing and partners have had time to send them back.
    AcceptLoss,
    /// With the node stopped: move a damaged store aside (kept until you delete it) and
    /// start a fresh one that the next `tipx run` fills from partners; publishing waits
    /// until this state's own feeds are whole again. With the node running: follow the
    /// store coming back from partners, with a progress bar, and report what no partner
    /// could give back.
    Recover,
    /// Rebuild the full-text search index from the store, with a progress bar. With the
    /// node stopped: the index is deleted and rebuilt now. With the node running: follow
    /// the rebuild it makes by itself when it finds its index missing or stale.
    Reindex,
}

/// `tipx records …`
#[derive(Subcommand, Debug)]
pub enum RecordsCommand {
    /// List records, newest first.
    List(ListArgs),
    /// Show one record in full.
    Show {
        /// The record's id (or a unique prefix of at least 8 hex digits).
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

/// `records list`: the filters, how many, and how to print them.
#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    filters: FilterArgs,
    /// At most this many records.
    #[arg(long, default_value_t = crate::query::DEFAULT_LIMIT)]
    limit: usize,
    /// Order: relevance (best match first; the default with --text) or newest.
    #[arg(long, value_enum)]
    sort: Option<crate::query::Sort>,
    #[command(flatten)]
    json: JsonFlag,
}

/// The filters of `records list` and `export`.
#[derive(Args, Debug)]
pub struct FilterArgs {
    /// Only this kind: best-practice, alert, retraction, consent, roster.
    #[arg(long)]
    kind: Option<Kind>,
    /// Only records published by this state.
    #[arg(long)]
    state: Option<StateCode>,
    /// Only records with this tag.
    #[arg(long)]
    tag: Option<String>,
    /// Only best practices for this pillar: prevention, protection, prosecution, partnership.
    #[arg(long)]
    pillar: Option<Pillar>,
    /// Only alerts of at least this severity: info, low, medium, high, critical.
    #[arg(long)]
    severity: Option<Severity>,
    /// Only records matching these words: each word must match, in any form of it in the
    /// record's language (en, es, fr, pt: "trabajador" finds "trabajadores"); "…" is a
    /// phrase, OR and -word as in most search boxes.
    #[arg(long)]
    text: Option<String>,
    /// Created at or after: 2026-11-30, 2026-11-30T14:00:00Z, 36h or 7d (ago).
    #[arg(long)]
    since: Option<String>,
    /// Created at or before (same forms as --since).
    #[arg(long)]
    until: Option<String>,
    /// Include retracted and expired records.
    #[arg(long)]
    all: bool,
}

impl FilterArgs {
    /// The API's filter, returning at most `limit` records a page.
    fn filter(&self, limit: usize) -> anyhow::Result<Filter> {
        let now = crate::core::now_ms();
        let time = |s: &Option<String>, flag: &str| {
            s.as_deref()
                .map(|s| crate::time::parse(s, now).map_err(|e| anyhow::anyhow!("--{flag}: {e}")))
                .transpose()
        };
        Ok(Filter {
            kind: self.kind,
            state: self.state,
            tag: self.tag.clone(),
            pillar: self.pillar,
            severity: self.severity,
            text: self.text.clone(),
            sort: None,
            since: time(&self.since, "since")?,
            until: time(&self.until, "until")?,
            all: self.all,
            limit: Some(limit),
            after: None,
            bodies: false,
        })
    }
}

/// Connects to the daemon of the data directory.
pub(crate) fn client(dd: &DataDir) -> anyhow::Result<Client> {
    let config = dd.config()?;
    let token = dd.token(&config)?;
    Ok(Client::new(config.api.listen, token))
}

/// The running node's client and status, or `None` when no node answers on this data
/// directory's API address (the commands that then work on the store directly).
pub(crate) async fn running(
    dd: &DataDir,
) -> anyhow::Result<Option<(Client, crate::api::types::Status)>> {
    let client = client(dd)?;
    match client.get("/v1/status", &()).await {
        Ok(status) => Ok(Some((client, status))),
        Err(crate::api::client::Error::Unreachable(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Runs the parsed command.
pub async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let dir = cli
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let dd = DataDir::new(&dir, cli.config.as_deref());
    match cli.command {
        Command::Init {
            state,
            p2p_port,
            api_port,
            anchor,
            bootstrap,
            partners,
        } => {
            let mut config = tipx_config::Config::for_new_node(state, p2p_port, api_port);
            config.federation.anchor = anchor;
            config.network.bootstrap = bootstrap;
            config.exchange.partners = partners;
            let pinned = config.federation.anchor.is_some();
            let key = dd.init(&config)?;
            outln!(
                "Created the data directory {} for {state}.",
                dd.dir.display()
            );
            let id = key.public();
            let tipx = format!("tipx --data-dir {}", dd.dir.display());
            let config = dd.config_path.display();
            outln!("peer id: {id}");
            outln!();
            outln!("Next steps:");
            if state.is_coordinator() {
                outln!("  1. Start the node:            {tipx} run");
                outln!(
                    "  2. Add each member's node:    {tipx} roster add --state MX --name Mexico \\"
                );
                outln!(
                    "                                   --peer-id <its `tipx id`> --addr <its address>"
                );
                outln!("  3. Sign and send the roster:  {tipx} roster publish");
                outln!(
                    "  4. Give every member this node's peer id (above), for its federation.anchor,"
                );
                outln!("     and this node's address, for its network.bootstrap:");
                outln!("       /ip4/<public IP>/tcp/{p2p_port}/p2p/{id}");
            } else {
                outln!("  1. Give the coordinator (OAS) this node's peer id (above, or `tipx id`)");
                outln!(
                    "     and the address other nodes dial it at: /ip4/<public IP>/tcp/{p2p_port}"
                );
                if pinned {
                    outln!(
                        "  2. The coordinator's key is pinned (federation.anchor) and its node is"
                    );
                    outln!("     the bootstrap peer (network.bootstrap), as given; see {config}");
                } else {
                    outln!(
                        "  2. Ask the coordinator for its anchor key (federation.anchor) and its node's"
                    );
                    outln!("     address (network.bootstrap), and set them in {config}:");
                    outln!("       [federation]");
                    outln!(
                        "       anchor = \"12D3KooW…\"                                  # signs the roster"
                    );
                    outln!("       [network]");
                    outln!(
                        "       bootstrap = [\"/ip4/<its IP>/tcp/7100/p2p/12D3KooW…\"]  # where to find it"
                    );
                    outln!(
                        "     (or give them to `tipx init` as --anchor and --bootstrap on a new node)"
                    );
                }
                outln!("  3. Check the configuration:   {tipx} config check");
                outln!("  4. Start the node:            {tipx} run");
                outln!("  5. Ask to exchange with a state, once the roster names you:");
                outln!("                                {tipx} partners request XX");
            }
            Ok(())
        }
        Command::Id => {
            let config = dd.config()?;
            outln!("{}", dd.key(&config)?.public());
            Ok(())
        }
        Command::Config(ConfigCommand::Check) => {
            let p = crate::daemon::preflight(&dd)?;
            outln!(
                "{}: OK ({} node {}, key and API token readable)",
                dd.config_path.display(),
                p.state,
                p.key.public()
            );
            Ok(())
        }
        Command::Run { recover } => {
            let config = dd.config()?;
            crate::logging::init(&config.log)?;
            Ok(crate::daemon::run(&dd, recover).await?)
        }
        Command::Status(j) => show::status(&client(&dd)?, j.json).await,
        Command::Publish(args) => publish::run(&client(&dd)?, args).await,
        Command::Records(RecordsCommand::List(args)) => {
            let mut filter = args.filters.filter(args.limit)?;
            filter.sort = args.sort;
            show::list(&client(&dd)?, &filter, args.json.json).await
        }
        Command::Records(RecordsCommand::Show { id, json }) => {
            show::record(&client(&dd)?, &id, json.json).await
        }
        Command::Retract { id, reason, erase } => {
            retract::run(&client(&dd)?, &id, reason, erase).await
        }
        Command::Audit { limit, json } => show::audit(&client(&dd)?, limit, json.json).await,
        Command::Store(StoreCommand::Check(j)) => show::check(&dd, j.json).await,
        Command::Store(StoreCommand::AcceptLoss) => show::accept_loss(&dd).await,
        Command::Store(StoreCommand::Recover) => recover::recover(&dd).await,
        Command::Store(StoreCommand::Reindex) => reindex::reindex(&dd).await,
        Command::Backup { out, include_key } => backup::backup(&dd, &out, include_key).await,
        Command::Restore { file } => backup::restore(&dd, &file),
        Command::Bundle(cmd) => bundle::run(&client(&dd)?, cmd).await,
        Command::Partners(cmd) => federation::partners(&client(&dd)?, cmd).await,
        Command::Demo { check, keep } => {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_writer(std::io::stderr)
                .try_init();
            let place = match cli.data_dir {
                Some(dir) => demo::Place::Given(dir),
                None => demo::Place::Temporary { keep },
            };
            demo::run(check, place).await
        }
        Command::Peers(j) => federation::peers(&client(&dd)?, j.json).await,
        Command::Roster(cmd) => federation::roster(&client(&dd)?, cmd).await,
        Command::Activity(cmd) => activity::run(&dd, cmd).await,
        Command::Profile(cmd) => profile::run(&dd, cmd).await,
        Command::Report(args) => report::run(&dd, args).await,
        Command::Export(args) => export::run(&client(&dd)?, args).await,
        Command::Completions { shell } => generate::completions(shell),
        Command::Man { out } => generate::man(out.as_deref()),
    }
}
