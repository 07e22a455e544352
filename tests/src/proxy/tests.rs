//! The proxy's faults, on loopback addresses (no root needed): an echo server behind the
//! proxy, and a client that dials from its endpoint's source address.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpSocket, TcpStream},
    runtime::Runtime,
};

use super::{Endpoint, Fault, Proxy};
use crate::free_port;

/// How long a read waits before a test takes "nothing came" for an answer.
const SILENCE: Duration = Duration::from_millis(500);

fn lo(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// A runtime for the client and the echo server, the proxy with "A" (the client, dialling
/// from 127.0.0.2) and "B" (the echo server), and B's proxy address.
fn setup() -> (Runtime, Proxy, SocketAddr) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let echo = rt.block_on(TcpListener::bind((lo(1), 0))).unwrap();
    let target = echo.local_addr().unwrap();
    rt.spawn(async move {
        while let Ok((mut s, _)) = echo.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    let b = SocketAddr::new(lo(4), free_port());
    let proxy = Proxy::start(vec![
        Endpoint {
            label: "A".into(),
            listen: SocketAddr::new(lo(3), free_port()),
            target: SocketAddr::new(lo(1), 9),
            source: lo(2),
        },
        Endpoint {
            label: "B".into(),
            listen: b,
            target,
            source: lo(5),
        },
    ]);
    (rt, proxy, b)
}

async fn dial(to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(lo(2), 0)).unwrap();
    socket.connect(to).await.unwrap()
}

/// Sends `data` and reads it back; the time it took.
async fn round_trip(s: &mut TcpStream, data: &[u8]) -> Duration {
    let start = Instant::now();
    let (mut r, mut w) = s.split();
    let mut back = vec![0; data.len()];
    let (wrote, read) = tokio::join!(w.write_all(data), r.read_exact(&mut back));
    wrote.unwrap();
    read.unwrap();
    assert_eq!(back, data);
    start.elapsed()
}

#[test]
fn passing_forwards_everything_and_counts_it() {
    let (rt, proxy, b) = setup();
    let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    rt.block_on(async {
        let mut s = dial(b).await;
        round_trip(&mut s, &data).await;
    });
    assert_eq!(proxy.bytes("A", "B"), 100_000);
    assert_eq!(proxy.bytes("B", "A"), 100_000);
    assert_eq!(proxy.connections("A", "B"), 1);
}

#[test]
fn a_throttle_caps_the_rate_and_a_delay_adds_latency() {
    let (rt, proxy, b) = setup();
    rt.block_on(async {
        let mut s = dial(b).await;
        proxy.set("A", "B", Fault::Throttle(20_000));
        let took = round_trip(&mut s, &[7; 40_000]).await;
        assert!(
            took >= Duration::from_millis(1_800),
            "40 kB at 20 kB/s in {took:?}"
        );
        proxy.set("A", "B", Fault::Delay(Duration::from_millis(200)));
        let took = round_trip(&mut s, b"ping").await;
        assert!(
            took >= Duration::from_millis(400),
            "two delays of 200 ms in {took:?}"
        );
    });
}

#[test]
fn a_black_hole_holds_everything_until_lifted() {
    let (rt, proxy, b) = setup();
    rt.block_on(async {
        let mut open = dial(b).await;
        round_trip(&mut open, b"before").await;
        proxy.set("A", "B", Fault::BlackHole);
        let mut new = dial(b).await;
        for s in [&mut open, &mut new] {
            s.write_all(b"held").await.unwrap();
            let mut buf = [0; 4];
            let read = tokio::time::timeout(SILENCE, s.read_exact(&mut buf)).await;
            assert!(read.is_err(), "something came through the black hole");
        }
        proxy.set("A", "B", Fault::Pass);
        for s in [&mut open, &mut new] {
            let mut buf = [0; 4];
            s.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"held", "what was held is delivered once lifted");
        }
    });
}

#[test]
fn half_open_silences_the_open_connections_and_lets_new_ones_pass() {
    let (rt, proxy, b) = setup();
    rt.block_on(async {
        let mut old = dial(b).await;
        round_trip(&mut old, b"before").await;
        proxy.set("A", "B", Fault::HalfOpen);
        old.write_all(b"held").await.unwrap();
        let mut buf = [0; 4];
        let read = tokio::time::timeout(SILENCE, old.read_exact(&mut buf)).await;
        assert!(read.is_err(), "the open connection still carries data");
        let mut new = dial(b).await;
        round_trip(&mut new, b"fresh").await;
    });
}

#[test]
fn a_cut_closes_open_connections_and_refuses_new_ones() {
    let (rt, proxy, b) = setup();
    rt.block_on(async {
        let mut open = dial(b).await;
        round_trip(&mut open, b"before").await;
        proxy.set("A", "B", Fault::Cut);
        let mut buf = [0; 1];
        assert!(
            matches!(open.read(&mut buf).await, Ok(0) | Err(_)),
            "an open connection survived the cut"
        );
        let mut new = dial(b).await;
        let _ = new.write_all(b"hello").await;
        assert!(
            matches!(new.read(&mut buf).await, Ok(0) | Err(_)),
            "a new connection got through the cut"
        );
        proxy.set("A", "B", Fault::Pass);
        let mut again = dial(b).await;
        round_trip(&mut again, b"after").await;
    });
    assert_eq!(
        proxy.bytes("A", "B"),
        "before".len() as u64 + "after".len() as u64
    );
}
