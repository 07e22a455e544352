//! A fault-injecting TCP proxy for tests (plain tokio), standing between nodes: the test
//! sets a [`Fault`] per link (an unordered pair of nodes) and may change it at any time.
//!
//! The proxy listens once per node, on that node's proxy address, and forwards to where the
//! node really listens. It tells which node dialled from the connection's source address
//! (see [`crate::netns`]: each node has its own), and applies the fault of the link between
//! the two to both directions of the connection. A connection from an unknown source is
//! closed.
//!
//! Faults: [`Fault::Pass`]; [`Fault::Cut`] closes the link's open connections and closes
//! new ones at once; [`Fault::BlackHole`] accepts connections but forwards nothing, holding
//! what it read (as TCP would retransmit it) until the fault is lifted; [`Fault::HalfOpen`]
//! does that to the connections open when it is set and lets new ones pass; [`Fault::Delay`]
//! waits before forwarding each chunk read; [`Fault::Throttle`] caps each direction of each
//! connection at a number of bytes per second.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        TcpListener, TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::watch,
};

/// Bytes read from a socket at a time.
const CHUNK: usize = 16 * 1024;
/// A throttled direction sends this many slices per second, so a trickle stays steady.
const SLICES_PER_SEC: u64 = 10;
/// How long the proxy tries to reach a node before giving up on a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What happens to the traffic between two nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything as it comes.
    Pass,
    /// Close open connections, and new ones as soon as they are accepted.
    Cut,
    /// Keep connections open, forward nothing.
    BlackHole,
    /// Keep the connections open now as a black hole does, let new ones pass: a half-open
    /// connection, as after a NAT mapping expired or a peer's address changed.
    HalfOpen,
    /// Wait this long before forwarding each chunk read.
    Delay(Duration),
    /// At most this many bytes per second in each direction of each connection.
    Throttle(u64),
}

/// One node as the proxy sees it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// What the test calls it.
    pub label: String,
    /// Where the proxy listens for connections to it.
    pub listen: SocketAddr,
    /// Where it really listens.
    pub target: SocketAddr,
    /// The source address of its outgoing connections.
    pub source: IpAddr,
}

/// Per link: its fault, and the sequence number of the first connection accepted after it
/// was set.
type Faults = HashMap<(usize, usize), (Fault, u64)>;

struct Shared {
    endpoints: Vec<Endpoint>,
    faults: watch::Sender<Faults>,
    /// Bytes forwarded, by (from, to) node index, row-major.
    bytes: Vec<AtomicU64>,
    /// Connections accepted, by (dialler, dialled) node index, row-major.
    accepted: Vec<AtomicU64>,
    /// Sequence number of the next connection accepted.
    next_connection: AtomicU64,
}

impl Shared {
    fn cell(&self, from: usize, to: usize) -> usize {
        from * self.endpoints.len() + to
    }
}

fn link(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}

/// A running proxy; stops (closing every connection) when dropped.
pub struct Proxy {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Proxy {
    /// Listens on every endpoint's proxy address, every link passing.
    #[track_caller]
    pub fn start(endpoints: Vec<Endpoint>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tipx-test-proxy")
            .enable_all()
            .build()
            .expect("a tokio runtime for the proxy");
        let n = endpoints.len();
        let shared = Arc::new(Shared {
            endpoints,
            faults: watch::Sender::new(HashMap::new()),
            bytes: (0..n * n).map(|_| AtomicU64::new(0)).collect(),
            accepted: (0..n * n).map(|_| AtomicU64::new(0)).collect(),
            next_connection: AtomicU64::new(0),
        });
        for (to, e) in shared.endpoints.iter().enumerate() {
            let std_listener = std::net::TcpListener::bind(e.listen)
                .unwrap_or_else(|err| panic!("the proxy cannot listen on {}: {err}", e.listen));
            std_listener.set_nonblocking(true).expect("non-blocking");
            let shared = shared.clone();
            runtime.spawn(async move {
                let listener = TcpListener::from_std(std_listener).expect("a tokio listener");
                accept_loop(listener, to, shared).await;
            });
        }
        Self {
            shared,
            runtime: Some(runtime),
        }
    }

    fn index(&self, label: &str) -> usize {
        self.shared
            .endpoints
            .iter()
            .position(|e| e.label == label)
            .unwrap_or_else(|| panic!("no endpoint {label}"))
    }

    /// Sets the fault of the link between `a` and `b` (both directions, every connection
    /// open or to come).
    pub fn set(&self, a: &str, b: &str, fault: Fault) {
        let key = link(self.index(a), self.index(b));
        let from = self.shared.next_connection.load(Ordering::SeqCst);
        self.shared.faults.send_modify(|f| {
            f.insert(key, (fault, from));
        });
    }

    /// Sets `fault` on every link between a node of `left` and one of `right`.
    pub fn set_between(&self, left: &[&str], right: &[&str], fault: Fault) {
        for a in left {
            for b in right {
                self.set(a, b, fault);
            }
        }
    }

    /// Bytes forwarded from `from` to `to` so far.
    pub fn bytes(&self, from: &str, to: &str) -> u64 {
        let cell = self.shared.cell(self.index(from), self.index(to));
        self.shared.bytes[cell].load(Ordering::Relaxed)
    }

    /// Connections `from` opened to `to` so far (whatever became of them).
    pub fn connections(&self, from: &str, to: &str) -> u64 {
        let cell = self.shared.cell(self.index(from), self.index(to));
        self.shared.accepted[cell].load(Ordering::Relaxed)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn accept_loop(listener: TcpListener, to: usize, shared: Arc<Shared>) {
    loop {
        let Ok((socket, peer)) = listener.accept().await else {
            // Out of file descriptors, say: let the connections in hand finish first.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Some(from) = shared.endpoints.iter().position(|e| e.source == peer.ip()) else {
            continue;
        };
        shared.accepted[shared.cell(from, to)].fetch_add(1, Ordering::Relaxed);
        let seq = shared.next_connection.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(serve(socket, from, to, seq, shared.clone()));
    }
}

/// A connection: its link and its sequence number.
type Conn = ((usize, usize), u64);

/// The current fault of connection `conn`.
fn fault_of(rx: &watch::Receiver<Faults>, (key, seq): Conn) -> Fault {
    match rx.borrow().get(&key).copied() {
        None => Fault::Pass,
        Some((Fault::HalfOpen, from)) if seq >= from => Fault::Pass,
        Some((Fault::HalfOpen, _)) => Fault::BlackHole,
        Some((f, _)) => f,
    }
}

/// Waits until connection `conn`'s link is cut.
async fn until_cut(mut rx: watch::Receiver<Faults>, key: Conn) {
    while fault_of(&rx, key) != Fault::Cut {
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Carries one connection from node `from` to node `to` until either side closes it or
/// the link is cut.
async fn serve(client: TcpStream, from: usize, to: usize, seq: u64, shared: Arc<Shared>) {
    let key = (link(from, to), seq);
    let rx = shared.faults.subscribe();
    let work = async {
        // A black hole holds a new connection open without reaching the node.
        let mut waiting = rx.clone();
        while fault_of(&waiting, key) == Fault::BlackHole {
            if waiting.changed().await.is_err() {
                return;
            }
        }
        let target = shared.endpoints[to].target;
        let Ok(Ok(server)) =
            tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target)).await
        else {
            return;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (cr, cw) = client.into_split();
        let (sr, sw) = server.into_split();
        let up = &shared.bytes[shared.cell(from, to)];
        let down = &shared.bytes[shared.cell(to, from)];
        tokio::join!(
            pump(cr, sw, rx.clone(), key, up),
            pump(sr, cw, rx.clone(), key, down)
        );
    };
    // The cut is polled first: once it is set, no byte is forwarded.
    tokio::select! {
        biased;
        () = until_cut(rx.clone(), key) => {}
        () = work => {}
    }
}

/// Copies one direction, applying the link's fault to each chunk; on end of input, closes
/// the write side.
async fn pump(
    mut read: OwnedReadHalf,
    mut write: OwnedWriteHalf,
    mut rx: watch::Receiver<Faults>,
    key: Conn,
    counter: &AtomicU64,
) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match read.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = write.shutdown().await;
                return;
            }
            Ok(n) => n,
        };
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            let piece = match fault_of(&rx, key) {
                // `serve` drops the connection; nothing more may cross meanwhile.
                Fault::Cut => return,
                Fault::Pass => rest.len(),
                // `fault_of` has made a half-open link's fault this connection's own.
                Fault::BlackHole | Fault::HalfOpen => {
                    if rx.changed().await.is_err() {
                        return;
                    }
                    continue;
                }
                Fault::Delay(d) => {
                    tokio::time::sleep(d).await;
                    rest.len()
                }
                Fault::Throttle(per_sec) => {
                    let slice = (per_sec / SLICES_PER_SEC).max(1);
                    let piece = rest.len().min(usize::try_from(slice).unwrap_or(usize::MAX));
                    let wait = Duration::from_secs_f64(piece as f64 / per_sec.max(1) as f64);
                    tokio::time::sleep(wait).await;
                    piece
                }
            };
            // Counted before it is written: once the far end has read a byte, it is counted
            // (a test reads the counters as soon as its data is back).
            counter.fetch_add(piece as u64, Ordering::Relaxed);
            if write.write_all(&rest[..piece]).await.is_err() {
                return;
            }
            rest = &rest[piece..];
        }
    }
}

#[cfg(test)]
mod tests;
