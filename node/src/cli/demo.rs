//! `tipx demo`: a small federation on 127.0.0.1 — the coordinator (OAS) and three member
//! states (MX, CO, PE), each a real node with its own key, sled store and admin API, in a
//! temporary directory. MX and CO agree to exchange, and so do MX and OAS; PE asks MX, but
//! MX does not answer, so PE is left out. Each publishes sample records in several
//! languages; the demo then shows who holds what. Without `--check` the nodes keep running
//! until Ctrl-C, so `tipx --data-dir DIR records list` works against any of them.

mod report;

use std::{
    collections::{BTreeMap, BTreeSet},
    net::TcpListener,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context as _, bail};
use tipx_config::Config;
use tipx_protocol::{
    Body, StateCode,
    body::{Alert, BestPractice, Pillar, Severity, Translation},
};
use tokio::sync::watch;

use crate::{
    api::{
        client::Client,
        types::{PublishRequest, Published, RecordView},
    },
    core::now_ms,
    datadir::DataDir,
    net::PeerInfo,
    query::Filter,
};

/// How long the demo waits for each thing it waits for: the consents to be known, records
/// to arrive everywhere they should, a sync round after the publish.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(60);
/// How often the demo asks the nodes while it waits.
const POLL: Duration = Duration::from_millis(300);

/// Who grants exchange to whom: MX and CO agree, and so do MX and OAS; PE asks MX, who
/// does not answer.
const GRANTS: [(&str, &[&str]); 4] = [
    ("OAS", &["MX"]),
    ("MX", &["CO", "OAS"]),
    ("CO", &["MX"]),
    ("PE", &["MX"]),
];

/// What `code` grants.
fn grants(code: &str) -> &'static [&'static str] {
    GRANTS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(&[], |(_, g)| g)
}

/// The partners `code` has once every consent is known: the states it grants that grant
/// it back.
fn partners(code: &str) -> BTreeSet<String> {
    grants(code)
        .iter()
        .filter(|p| grants(p).contains(&code))
        .map(|p| p.to_string())
        .collect()
}

/// A free port on 127.0.0.1, held by the returned listener until the node that will listen
/// on it starts ([`DemoNode::release_ports`]): released at once, another program (or a
/// parallel test) could take it in the seconds before the node binds it.
fn free_port() -> anyhow::Result<(u16, TcpListener)> {
    let held = TcpListener::bind("127.0.0.1:0")?;
    Ok((held.local_addr()?.port(), held))
}

struct DemoNode {
    state: StateCode,
    dd: DataDir,
    client: Client,
    p2p_port: u16,
    peer_id: String,
    /// The node's ports, held until it starts.
    held: std::sync::Mutex<Vec<TcpListener>>,
}

impl DemoNode {
    /// Lets go of the node's ports, for it to listen on them.
    fn release_ports(&self) {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

fn setup(
    root: &Path,
    code: &str,
    anchor: Option<(&str, u16)>,
    partners: &[&str],
) -> anyhow::Result<DemoNode> {
    let state: StateCode = code.parse()?;
    let dd = DataDir::new(&root.join(code.to_lowercase()), None);
    let ((p2p_port, p2p_held), (api_port, api_held)) = (free_port()?, free_port()?);
    let key = dd.init(&Config::for_new_node(state, p2p_port, api_port))?;
    let mut config = Config::for_new_node(state, p2p_port, api_port);
    config.network.listen = vec![format!("/ip4/127.0.0.1/tcp/{p2p_port}")];
    config.exchange.partners = partners
        .iter()
        .map(|p| p.parse())
        .collect::<Result<_, _>>()?;
    config.exchange.sync_interval_secs = 5;
    if let Some((anchor, port)) = anchor {
        config.federation.anchor = Some(anchor.parse()?);
        config.network.bootstrap = vec![format!("/ip4/127.0.0.1/tcp/{port}/p2p/{anchor}")];
    }
    std::fs::write(&dd.config_path, config.to_toml_string())?;
    let token = dd.token(&config)?;
    Ok(DemoNode {
        state,
        client: Client::new(config.api.listen, token),
        dd,
        p2p_port,
        peer_id: key.public().peer_id(),
        held: std::sync::Mutex::new(vec![p2p_held, api_held]),
    })
}

fn samples(state: &str) -> Vec<PublishRequest> {
    let alert = |title: &str, lang: &str, sev, audience: &[&str], tr: Option<(&str, &str)>| {
        PublishRequest {
        audience: audience.iter().map(|a| a.parse().expect("demo code")).collect(),
        tlp: None,
        handling: None,
        body: Body::Alert(Alert {
            title: title.into(),
            description: "Offers of work abroad published on social networks; passports withheld on arrival.".into(),
            language: lang.into(),
            translations: tr.map(|(l, t)| vec![Translation { language: l.into(), title: t.into(), summary: String::new(), text: String::new() }]).unwrap_or_default(),
            severity: sev,
            category: "recruitment".into(),
            indicators: vec![],
            affected_states: vec![],
            valid_until_ms: None,
            tags: vec!["recruitment".into()],
        }),
    }
    };
    let practice = |title: &str, lang: &str, audience: &[&str]| PublishRequest {
        audience: audience
            .iter()
            .map(|a| a.parse().expect("demo code"))
            .collect(),
        tlp: None,
        handling: None,
        body: Body::BestPractice(BestPractice {
            title: title.into(),
            summary: "A programme that worked, with its protocol and contacts.".into(),
            text: String::new(),
            language: lang.into(),
            translations: vec![],
            pillars: vec![Pillar::Protection, Pillar::Partnership],
            tags: vec!["victims".into()],
            references: vec![],
        }),
    };
    match state {
        "MX" => vec![
            alert(
                "Falsas agencias de modelaje reclutan adolescentes",
                "es",
                Severity::High,
                &["CO", "PE", "OAS"],
                Some(("en", "Fake modelling agencies recruiting adolescents")),
            ),
            alert(
                "Ruta de traslado por la frontera sur",
                "es",
                Severity::Critical,
                &["CO", "PE"],
                None,
            ),
            practice(
                "Protocolo de atención a víctimas en albergues",
                "es",
                &["CO", "OAS"],
            ),
        ],
        "CO" => vec![
            practice("Línea 122: atención a víctimas de trata", "es", &["MX"]),
            alert(
                "Fraudulent job offers for domestic work abroad",
                "en",
                Severity::Medium,
                &["MX"],
                Some(("pt", "Ofertas fraudulentas de trabalho doméstico")),
            ),
        ],
        "PE" => vec![alert(
            "Offres d'emploi frauduleuses dans le secteur minier",
            "fr",
            Severity::High,
            &["MX"],
            None,
        )],
        "OAS" => vec![practice(
            "Guía regional de cooperación entre fiscalías",
            "es",
            &["MX"],
        )],
        _ => vec![],
    }
}

async fn holdings(n: &DemoNode) -> anyhow::Result<Vec<RecordView>> {
    let f = Filter {
        limit: Some(1000),
        ..Default::default()
    };
    let all: Vec<RecordView> = n.client.get("/v1/records", &f).await?;
    Ok(all
        .into_iter()
        .filter(|r| r.kind == "alert" || r.kind == "best-practice")
        .collect())
}

/// Where the demo keeps its nodes' data directories.
pub(super) enum Place {
    /// A new temporary directory, removed when the demo ends unless `keep`.
    Temporary {
        /// Keep it when the demo ends.
        keep: bool,
    },
    /// A directory the operator named (`--data-dir`), kept.
    Given(PathBuf),
}

/// Runs the demo.
pub(super) async fn run(check: bool, place: Place) -> anyhow::Result<()> {
    // Ctrl-C from here on stops the nodes and removes a temporary directory, instead of
    // killing the process with the directory (keys included) left behind.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let (root, tmp) = match place {
        Place::Temporary { keep } => {
            let tmp = tempfile::Builder::new().prefix("tipx-demo-").tempdir()?;
            if keep {
                (tmp.keep(), None)
            } else {
                (tmp.path().to_path_buf(), Some(tmp))
            }
        }
        Place::Given(dir) => {
            if std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some()) {
                bail!(
                    "{} is not empty: give the demo a new or empty directory (--data-dir), \
                     or leave --data-dir out for a temporary one",
                    dir.display()
                );
            }
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            (dir, None)
        }
    };
    outln!(
        "tipx demo: a federation of OAS (coordinator), MX, CO and PE on 127.0.0.1, in {}",
        root.display()
    );

    let oas = setup(&root, "OAS", None, grants("OAS"))?;
    let anchor = Some((oas.peer_id.as_str(), oas.p2p_port));
    let members = [
        setup(&root, "MX", anchor, grants("MX"))?,
        setup(&root, "CO", anchor, grants("CO"))?,
        setup(&root, "PE", anchor, grants("PE"))?,
    ];
    let nodes: Vec<&DemoNode> = std::iter::once(&oas).chain(members.iter()).collect();

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = vec![];
    let start = |n: &DemoNode| {
        n.release_ports();
        let dd = DataDir::new(&n.dd.dir, None);
        let stop = stop_rx.clone();
        tokio::spawn(async move { crate::daemon::run_until(&dd, stop, false).await })
    };
    // The coordinator signs the roster before the members start, so that each member is
    // admitted on its first connection.
    tasks.push(start(&oas));
    wait_ready(&oas.client, &mut tasks[0])
        .await
        .context("OAS did not start")?;
    for m in &members {
        let addr = format!("/ip4/127.0.0.1/tcp/{}", m.p2p_port);
        let req = crate::api::types::RosterAdd {
            state: m.state,
            name: m.state.to_string(),
            peer_id: m.peer_id.parse()?,
            addrs: vec![addr],
        };
        let _: crate::api::types::RosterView = oas.client.post("/v1/roster/add", &req).await?;
    }
    let _: Published = oas.client.post("/v1/roster/publish", &()).await?;
    outln!("OAS signed the roster: MX, CO and PE are members.");
    for m in &members {
        tasks.push(start(m));
    }
    for (m, task) in members.iter().zip(&mut tasks[1..]) {
        wait_ready(&m.client, task)
            .await
            .with_context(|| format!("{} did not start", m.state))?;
    }
    outln!(
        "Consent: MX <-> CO and MX <-> OAS agree; PE asked MX, MX did not answer: PE is left out."
    );
    // Publishing before a node knows its partners would hold samples back from them.
    match wait_until(&mut interrupt, async || partners_known(&nodes).await).await? {
        Waited::Ready => {}
        Waited::Interrupted => {
            outln!("\nInterrupted.");
            return stop(stop_tx, tasks, tmp, &root).await;
        }
        Waited::TimedOut => {
            stop(stop_tx, tasks, tmp, &root).await?;
            bail!("the nodes did not learn each other's consents within {DELIVERY_DEADLINE:?}");
        }
    }
    let published_at = now_ms();
    for n in &nodes {
        let reqs = samples(n.state.as_str());
        let _: Published = n.client.post("/v1/records", &reqs).await?;
    }
    outln!("Each state published sample alerts and best practices (es, en, pt, fr).\n");

    // Expected receipts (not counting a node's own records). "Nothing" is only shown once a
    // sync round that began after the publish has completed between every two nodes: by
    // then, whatever would have reached a node has.
    let want: [(&str, usize); 4] = [("OAS", 2), ("MX", 3), ("CO", 3), ("PE", 0)];
    let mut rounds = Rounds::after(published_at);
    let mut received = vec![];
    let waited = wait_until(&mut interrupt, async || {
        received.clear();
        for n in &nodes {
            let held = holdings(n).await?;
            received.push((
                n.state,
                held.into_iter()
                    .filter(|r| r.state != n.state)
                    .collect::<Vec<_>>(),
            ));
        }
        let delivered = want
            .iter()
            .zip(&received)
            .all(|((_, w), (_, got))| got.len() >= *w);
        Ok(rounds.completed(&nodes).await? && delivered)
    })
    .await?;
    if let Waited::Interrupted = waited {
        outln!("\nInterrupted.");
        return stop(stop_tx, tasks, tmp, &root).await;
    }
    let mut ok = true;
    for ((code, w), (state, got)) in want.iter().zip(&received) {
        outln!(
            "{state} received {} record(s){}",
            got.len(),
            if got.is_empty() { "" } else { ":" }
        );
        for r in got {
            outln!("    from {}: [{}] {}", r.state, r.kind, r.title);
        }
        if got.len() != *w {
            ok = false;
            outln!("    !! expected {w} for {code}");
        }
    }
    if received
        .iter()
        .any(|(s, got)| s.as_str() == "PE" && !got.is_empty())
    {
        ok = false;
    }
    for (node, peer) in rounds.pending(&nodes) {
        ok = false;
        outln!("    !! no sync round of {node} with {peer} completed after the publish");
    }
    if ok {
        outln!(
            "\nPE, left out, received nothing: records reach only states that agreed to exchange."
        );
    }
    let written = report::write(&oas, &members, &root, tmp.is_some(), &mut interrupt).await?;
    let Some((path, coordinator)) = written else {
        outln!("\nInterrupted.");
        return stop(stop_tx, tasks, tmp, &root).await;
    };
    outln!(
        "\nThe members published national profiles and sent their activity; MX alone exchanges \
         with OAS, so the report shows CO and PE as \"no data\". The coordinator's report to \
         the Permanent Council:\n    {}",
        path.display()
    );
    for p in report::problems(&coordinator) {
        ok = false;
        outln!("    !! {p}");
    }
    if check {
        let _ = stop_tx.send(true);
        for t in tasks {
            t.await??;
        }
        if !ok {
            bail!("the demo federation did not deliver as expected");
        }
        outln!("demo check passed");
        return Ok(());
    }
    outln!("\nThe nodes keep running until Ctrl-C. Try:");
    for n in &nodes {
        outln!("    tipx --data-dir {} records list", n.dd.dir.display());
    }
    interrupt.recv().await;
    stop(stop_tx, tasks, tmp, &root).await
}

/// Stops the nodes, then removes the demo's temporary directory or says where it stays.
async fn stop(
    stop_tx: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<Result<(), crate::daemon::Error>>>,
    tmp: Option<tempfile::TempDir>,
    root: &Path,
) -> anyhow::Result<()> {
    let _ = stop_tx.send(true);
    for t in tasks {
        t.await??;
    }
    match tmp {
        Some(tmp) => {
            let path = tmp.path().display().to_string();
            tmp.close()
                .with_context(|| format!("cannot remove {path}"))?;
            outln!("\nStopped; removed {path} (its keys and stores with it).");
        }
        None => outln!(
            "\nStopped; the nodes' keys and stores stay in {}.",
            root.display()
        ),
    }
    Ok(())
}

/// How a wait ended.
enum Waited {
    /// What was waited for holds.
    Ready,
    /// [`DELIVERY_DEADLINE`] passed first.
    TimedOut,
    /// Ctrl-C.
    Interrupted,
}

/// Asks `ready` every [`POLL`] until it holds, [`DELIVERY_DEADLINE`] passes, or Ctrl-C.
async fn wait_until(
    interrupt: &mut tokio::signal::unix::Signal,
    mut ready: impl AsyncFnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<Waited> {
    let deadline = tokio::time::Instant::now() + DELIVERY_DEADLINE;
    loop {
        if ready().await? {
            return Ok(Waited::Ready);
        }
        if tokio::time::Instant::now() > deadline {
            return Ok(Waited::TimedOut);
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = interrupt.recv() => return Ok(Waited::Interrupted),
        }
    }
}

/// Whether every node's status shows the partners [`partners`] expects.
async fn partners_known(nodes: &[&DemoNode]) -> anyhow::Result<bool> {
    for n in nodes {
        let status: crate::api::types::Status = n.client.get("/v1/status", &()).await?;
        let have: BTreeSet<String> = status.node.partners.iter().map(|s| s.to_string()).collect();
        if have != partners(n.state.as_str()) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Sync rounds between every two demo nodes since a moment: a round that completes after
/// it may have begun before it, so a pair counts once a second round has completed.
struct Rounds {
    after_ms: u64,
    /// (node, peer) → when its first round after `after_ms` completed.
    first: BTreeMap<(StateCode, StateCode), u64>,
    /// The pairs whose round that began after `after_ms` has completed.
    done: BTreeSet<(StateCode, StateCode)>,
}

impl Rounds {
    fn after(after_ms: u64) -> Self {
        Self {
            after_ms,
            first: BTreeMap::new(),
            done: BTreeSet::new(),
        }
    }

    /// Reads every node's peers; returns whether every pair is done.
    async fn completed(&mut self, nodes: &[&DemoNode]) -> anyhow::Result<bool> {
        for n in nodes {
            let peers: Vec<PeerInfo> = n.client.get("/v1/peers", &()).await?;
            for other in nodes.iter().filter(|o| o.state != n.state) {
                let pair = (n.state, other.state);
                let last = peers
                    .iter()
                    .find(|p| p.peer_id == other.peer_id)
                    .and_then(|p| p.last_sync_ms);
                match (last, self.first.get(&pair)) {
                    (Some(t), Some(first)) if t > *first => {
                        self.done.insert(pair);
                    }
                    (Some(t), None) if t > self.after_ms => {
                        self.first.insert(pair, t);
                    }
                    _ => {}
                }
            }
        }
        Ok(self.pending(nodes).is_empty())
    }

    /// The pairs not done yet.
    fn pending(&self, nodes: &[&DemoNode]) -> Vec<(StateCode, StateCode)> {
        let states = || nodes.iter().map(|n| n.state);
        states()
            .flat_map(|a| states().filter(move |b| *b != a).map(move |b| (a, b)))
            .filter(|pair| !self.done.contains(pair))
            .collect()
    }
}

/// Waits for a node's admin API to answer, for as long as a delivery may take: a node
/// opening its store on a loaded machine (a debug build, disks busy with syncs) can take
/// many seconds.
/// Waits until the node answers on its admin API, or its daemon stops (with the reason).
async fn wait_ready(
    c: &Client,
    task: &mut tokio::task::JoinHandle<Result<(), crate::daemon::Error>>,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + DELIVERY_DEADLINE;
    while tokio::time::Instant::now() < deadline {
        if c.get::<crate::api::types::Status, _>("/v1/status", &())
            .await
            .is_ok()
        {
            return Ok(());
        }
        if task.is_finished() {
            return match task.await {
                Ok(Err(e)) => Err(e.into()),
                Ok(Ok(())) => bail!("the node stopped as soon as it started"),
                Err(e) => Err(e.into()),
            };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("no answer on the admin API within {DELIVERY_DEADLINE:?}")
}
