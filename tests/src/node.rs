//! One node under test: its data directory (made by `tipx init`) and, while started, its
//! `tipx run` daemon.

use std::{
    collections::BTreeSet,
    fs::{self, OpenOptions},
    net::{TcpListener, UdpSocket},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus},
    sync::Mutex,
    thread,
    time::{Duration, Instant},
};

use crate::{
    COMMAND_DEADLINE, Outcome,
    binary::tipx_command,
    process::{POLL, run_with_deadline, wait_deadline},
};

/// How long a daemon may take from `tipx run` to answering `tipx status`: generous, as a
/// debug build on a loaded CI machine opens its store slowly.
pub const START_DEADLINE: Duration = Duration::from_secs(30);
/// How long a daemon may take to exit after SIGTERM.
pub const STOP_DEADLINE: Duration = Duration::from_secs(10);
/// The daemon's log file inside its data directory (stdout and stderr, every start).
pub const LOG_FILE: &str = "node.log";

/// Ports handed out in this process, so two nodes of one test binary never share one.
static TAKEN_PORTS: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A port that is free now for TCP on 127.0.0.1 and for TCP and UDP on 0.0.0.0 (the p2p
/// port takes both TCP and QUIC), and not handed out before in this process.
pub fn free_port() -> u16 {
    for _ in 0..1_000 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("an ephemeral port on 127.0.0.1")
            .port();
        let free = TcpListener::bind(("0.0.0.0", port)).is_ok()
            && UdpSocket::bind(("0.0.0.0", port)).is_ok();
        if free && TAKEN_PORTS.lock().expect("not poisoned").insert(port) {
            return port;
        }
    }
    panic!("no free port found in 1,000 tries");
}

/// One node: a data directory made by `tipx init`, and its daemon while started.
pub struct Node {
    /// The state it speaks for, e.g. `MX`.
    pub state: String,
    /// Its data directory.
    pub dir: PathBuf,
    /// Port of its admin API on 127.0.0.1.
    pub api_port: u16,
    /// Its p2p port (TCP and QUIC).
    pub p2p_port: u16,
    /// The peer id `tipx init` printed.
    pub peer_id: String,
    /// Variables set for every `tipx` it runs (e.g. [`crate::faketime::env`]).
    pub env: Vec<(String, String)>,
    /// The network namespace its daemon and commands run in (see [`Node::enter`]).
    netns: Option<String>,
    child: Option<Child>,
}

impl Node {
    /// Runs `tipx init --state STATE` for a new data directory under `parent` (named after
    /// the state), with free API and p2p ports.
    #[track_caller]
    pub fn init(state: &str, parent: &Path) -> Self {
        let (node, out) = Self::init_with(parent, &["--state", state]);
        out.ok();
        node
    }

    /// Runs `tipx init ARGS…` (which must include `--state STATE`) for a new data directory
    /// under `parent` (named after the state), adding free `--api-port` and `--p2p-port`;
    /// returns the node and what `init` printed.
    #[track_caller]
    pub fn init_with(parent: &Path, args: &[&str]) -> (Self, Outcome) {
        let state = args
            .iter()
            .position(|a| *a == "--state")
            .and_then(|i| args.get(i + 1))
            .expect("init arguments name --state")
            .to_string();
        let base = parent.join(state.to_lowercase());
        let dir = (1..)
            .map(|i| match i {
                1 => base.clone(),
                i => PathBuf::from(format!("{}-{i}", base.display())),
            })
            .find(|d| !d.exists())
            .expect("an unused directory name");
        let (api_port, p2p_port) = (free_port(), free_port());
        let mut cmd = tipx_command();
        cmd.arg("init")
            .args(args)
            .arg("--data-dir")
            .arg(&dir)
            .args(["--api-port", &api_port.to_string()])
            .args(["--p2p-port", &p2p_port.to_string()]);
        let out = run_with_deadline(cmd, COMMAND_DEADLINE).ok();
        let peer_id = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("peer id: "))
            .unwrap_or_else(|| panic!("`tipx init` printed no peer id:\n{out}"))
            .trim()
            .to_string();
        let node = Self {
            state,
            dir,
            api_port,
            p2p_port,
            peer_id,
            env: Vec::new(),
            netns: None,
            child: None,
        };
        (node, out)
    }

    /// The configuration file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("tipx.toml")
    }

    /// The node key `tipx init` wrote, to sign records as this node would.
    pub fn key(&self) -> tipx_protocol::Keypair {
        let secret = fs::read(self.dir.join("node.key")).expect("reading the node key");
        tipx_protocol::Keypair::from_secret(&secret).expect("a node key")
    }

    /// The daemon's log (every start so far).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join(LOG_FILE)).unwrap_or_default()
    }

    /// The daemon's process id, while started.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// From now on, runs the daemon and every command inside the network namespace `ns`
    /// (`ip netns exec NS tipx …`, which needs root): its admin API on 127.0.0.1 is then
    /// that namespace's loopback, reachable only from inside.
    pub fn enter(&mut self, ns: &str) {
        assert!(self.child.is_none(), "{} is running", self.state);
        self.netns = Some(ns.to_string());
    }

    /// A `tipx --data-dir DIR` command, run from inside the data directory (and inside its
    /// network namespace, if it has one).
    pub fn command(&self) -> Command {
        let mut cmd = match &self.netns {
            None => tipx_command(),
            Some(ns) => {
                // `ip netns exec` execs the program (no fork), so the child's pid is the
                // daemon's and killing it kills the node.
                let plain = tipx_command();
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", ns])
                    .arg(plain.get_program())
                    .stdin(std::process::Stdio::null());
                for (k, v) in plain.get_envs() {
                    match v {
                        Some(v) => cmd.env(k, v),
                        None => cmd.env_remove(k),
                    };
                }
                cmd
            }
        };
        cmd.current_dir(&self.dir).arg("--data-dir").arg(&self.dir);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs `tipx --data-dir DIR ARGS…` to completion (within [`COMMAND_DEADLINE`]).
    #[track_caller]
    pub fn tipx<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = self.command();
        cmd.args(args);
        run_with_deadline(cmd, COMMAND_DEADLINE)
    }

    /// `tipx records list --json --limit 10000 FILTERS…`, as JSON objects.
    #[track_caller]
    pub fn records(&self, filters: &[&str]) -> Vec<serde_json::Value> {
        let mut args = vec!["records", "list", "--json", "--limit", "10000"];
        args.extend_from_slice(filters);
        match self.tipx(&args).json() {
            serde_json::Value::Array(rs) => rs,
            other => panic!("`records list --json` printed no array: {other}"),
        }
    }

    /// Spawns `tipx run` (output appended to [`LOG_FILE`]) and waits until `tipx status`
    /// answers; fails with the log if it does not within [`START_DEADLINE`].
    #[track_caller]
    pub fn start(&mut self) {
        self.start_with(&[]);
    }

    /// [`start`](Self::start), with more arguments to `tipx run`.
    #[track_caller]
    pub fn start_with(&mut self, args: &[&str]) {
        assert!(self.child.is_none(), "{} is already running", self.state);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(LOG_FILE))
            .expect("opening the node log");
        let mut cmd = self.command();
        cmd.arg("run")
            .args(args)
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        self.child = Some(cmd.spawn().expect("spawning `tipx run`"));
        let start = Instant::now();
        loop {
            let child = self.child.as_mut().expect("just spawned");
            if let Some(status) = child.try_wait().expect("polling `tipx run`") {
                self.child = None;
                panic!(
                    "`tipx run` of {} exited with {status} before answering:\n{}",
                    self.state,
                    self.log()
                );
            }
            let mut status = self.command();
            status.arg("status");
            if run_with_deadline(status, COMMAND_DEADLINE).success() {
                return;
            }
            if start.elapsed() >= START_DEADLINE {
                self.kill9();
                panic!(
                    "`tipx status` of {} did not succeed within {START_DEADLINE:?}; log:\n{}",
                    self.state,
                    self.log()
                );
            }
            thread::sleep(POLL);
        }
    }

    /// Kills the daemon with SIGKILL and reaps it: a crash, nothing flushed on the way out.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits for the daemon to exit; fails (after SIGKILL) if it still
    /// runs after [`STOP_DEADLINE`]. Returns its exit status.
    #[track_caller]
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the node is not running");
        let mut kill = Command::new("kill");
        kill.args(["-TERM", &child.id().to_string()]);
        run_with_deadline(kill, COMMAND_DEADLINE).ok();
        match wait_deadline(&mut child, STOP_DEADLINE) {
            Some(status) => status,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} still ran {STOP_DEADLINE:?} after SIGTERM; log:\n{}",
                    self.state,
                    self.log()
                );
            }
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
        if thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            eprintln!(
                "--- last lines of {}'s log ({}) ---\n{}",
                self.state,
                self.dir.join(LOG_FILE).display(),
                tail.join("\n")
            );
        }
    }
}

/// A node of `state` in a temporary directory of its own (removed when the `TempDir` is
/// dropped), initialised but not started.
#[track_caller]
pub fn alone(state: &str) -> (tempfile::TempDir, Node) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let node = Node::init(state, tmp.path());
    (tmp, node)
}

/// As [`alone`], with its daemon running.
#[track_caller]
pub fn alone_running(state: &str) -> (tempfile::TempDir, Node) {
    let (tmp, mut node) = alone(state);
    node.start();
    (tmp, node)
}

/// Runs `tipx publish ARGS…` on `node`; returns the id it printed.
#[track_caller]
pub fn publish(node: &Node, args: &[&str]) -> String {
    let mut all = vec!["publish"];
    all.extend_from_slice(args);
    let out = node.tipx(&all).ok();
    let id = out.stdout.trim().to_string();
    assert_eq!(id.len(), 64, "no record id printed:\n{out}");
    id
}
