//! Network namespaces for fault tests: each node of a test gets a namespace of its own,
//! joined to the test's (root) namespace by a veth pair and to nothing else. Needs root.
//!
//! Addresses, for a test whose subnet number is `k` and node `i` (0-based):
//!
//! - `10.k.(i+1).2/24`: inside the namespace; the node listens there. Only the root
//!   namespace can reach it (the connected route of the veth).
//! - `10.k.(i+1).1/24`: the root side of the veth.
//! - `10.k.100.(i+1)/32`: also on the root side, the node's **proxy address**. Every
//!   namespace routes `10.k.100.0/24` through its own veth, so every node reaches every
//!   proxy address (they are the root namespace's own addresses: delivered locally, not
//!   forwarded), and the proxy tells the dialling node by its source address.
//!
//! IP forwarding stays off, and a namespace has no route to another's `10.k.(j+1).2`
//! (dialling it fails with "network unreachable"): a node can reach another only through
//! the proxy, whatever addresses identify or the rendezvous point teach it.
//!
//! Names carry the test process's id and a counter (`tipx-<pid>-<n>-<label>` for
//! namespaces, `tx<pid>x<n>x<i>` for the root side of veths), so parallel tests and test
//! processes never collide; everything is deleted on drop (also while panicking), and a new
//! [`Namespaces`] first deletes what a killed test process of the past left behind.

use std::{
    collections::BTreeSet,
    net::Ipv4Addr,
    process::Command,
    sync::{
        Mutex,
        atomic::{AtomicU32, Ordering},
    },
};

/// Subnet numbers (`k` in `10.k.0.0/16`) in use in this test process.
static TAKEN_SUBNETS: Mutex<BTreeSet<u8>> = Mutex::new(BTreeSet::new());
/// Namespace sets made in this test process, for unique names.
static COUNTER: AtomicU32 = AtomicU32::new(0);
/// Prefix of every namespace made here.
const PREFIX: &str = "tipx-";

/// One namespace and its veth.
#[derive(Debug, Clone)]
pub struct Netns {
    /// What the test calls it (a state code).
    pub label: String,
    /// The namespace's name, for `ip netns exec`.
    pub name: String,
    /// The root side of the veth pair.
    veth: String,
    /// The address inside the namespace.
    pub inner: Ipv4Addr,
    /// The node's proxy address, in the root namespace.
    pub proxy: Ipv4Addr,
}

/// A set of namespaces, one per label, deleted on drop.
pub struct Namespaces {
    /// The namespaces, in the order of the labels.
    pub all: Vec<Netns>,
    subnet: u8,
}

/// Runs `ip ARGS…`; the error is its stderr.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip` (iproute2): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}`: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Standard output of `ip ARGS…`, empty if it fails.
fn ip_output(args: &[&str]) -> String {
    Command::new("ip")
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

impl Namespaces {
    /// Makes one namespace per label. Fails the test with a message saying it needs root if
    /// namespaces cannot be made.
    #[track_caller]
    pub fn new(labels: &[&str]) -> Self {
        assert!(labels.len() < 100, "at most 99 namespaces per set");
        sweep_leftovers();
        let pid = std::process::id();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let subnet = take_subnet(pid, n);
        let mut set = Self {
            all: vec![],
            subnet,
        };
        for (i, label) in labels.iter().enumerate() {
            let octet = u8::try_from(i + 1).expect("fewer than 100 labels");
            let ns = Netns {
                label: label.to_string(),
                name: format!("{PREFIX}{pid}-{n}-{}", label.to_lowercase()),
                veth: format!("tx{pid}x{n}x{i}"),
                inner: Ipv4Addr::new(10, subnet, octet, 2),
                proxy: Ipv4Addr::new(10, subnet, 100, octet),
            };
            // Pushed first, so that drop deletes whatever part was made.
            set.all.push(ns.clone());
            if let Err(e) = ns.create(subnet, octet) {
                panic!(
                    "this test runs each node in a network namespace and needs root (CAP_NET_ADMIN) \
                     and `ip netns`: {e}"
                );
            }
        }
        set
    }

    /// The namespace labelled `label`.
    #[track_caller]
    pub fn get(&self, label: &str) -> &Netns {
        self.all
            .iter()
            .find(|n| n.label == label)
            .unwrap_or_else(|| panic!("no namespace {label}"))
    }
}

impl Netns {
    fn create(&self, k: u8, i: u8) -> Result<(), String> {
        let outer = format!("10.{k}.{i}.1");
        ip(&["netns", "add", &self.name])?;
        ip(&[
            "link", "add", &self.veth, "type", "veth", "peer", "name", "eth0", "netns", &self.name,
        ])?;
        ip(&["addr", "add", &format!("{outer}/24"), "dev", &self.veth])?;
        ip(&[
            "addr",
            "add",
            &format!("{}/32", self.proxy),
            "dev",
            &self.veth,
        ])?;
        ip(&["link", "set", &self.veth, "up"])?;
        let inside = |args: &[&str]| {
            let mut all = vec!["-n", self.name.as_str()];
            all.extend_from_slice(args);
            ip(&all)
        };
        inside(&["addr", "add", &format!("{}/24", self.inner), "dev", "eth0"])?;
        inside(&["link", "set", "eth0", "up"])?;
        inside(&["link", "set", "lo", "up"])?;
        inside(&["route", "add", &format!("10.{k}.100.0/24"), "via", &outer])
    }

    fn delete(&self) {
        // Deleting one end of a veth deletes both; the namespace goes once its last process
        // has exited.
        let _ = ip(&["link", "del", &self.veth]);
        let _ = ip(&["netns", "del", &self.name]);
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in &self.all {
            ns.delete();
        }
        TAKEN_SUBNETS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.subnet);
    }
}

/// A subnet number no address of the root namespace uses yet and this process has not
/// taken, starting from one derived from the process id (so two test processes usually
/// start apart).
fn take_subnet(pid: u32, n: u32) -> u8 {
    let used = ip_output(&["-4", "-o", "addr", "show"]);
    let mut taken = TAKEN_SUBNETS.lock().unwrap_or_else(|p| p.into_inner());
    let start = (pid.wrapping_mul(7).wrapping_add(n.wrapping_mul(13))) % 250;
    for step in 0..250 {
        let k = u8::try_from((start + step) % 250 + 1).expect("at most 250");
        if !taken.contains(&k) && !used.contains(&format!(" 10.{k}.")) {
            taken.insert(k);
            return k;
        }
    }
    panic!("no free 10.k.0.0/16 subnet for the test's namespaces");
}

/// Deletes the namespaces and veths of test processes that no longer run (killed before
/// their drop ran).
fn sweep_leftovers() {
    for line in ip_output(&["netns", "list"]).lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = ip(&["netns", "del", name]);
        }
    }
    for line in ip_output(&["-o", "link", "show", "type", "veth"]).lines() {
        // "12: tx1234x0x1@if3: <…>"
        let Some(name) = line.split(": ").nth(1).and_then(|n| n.split('@').next()) else {
            continue;
        };
        let Some(pid) = name
            .strip_prefix("tx")
            .and_then(|rest| rest.split('x').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = ip(&["link", "del", name]);
        }
    }
}
