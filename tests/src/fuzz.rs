//! The bodies of the fuzz targets in `fuzz/`: one function per target, taking any bytes.
//! Each must return normally whatever it is given; a panic is a finding. The fuzz targets
//! call them, and `tests/fuzz_corpus.rs` replays the committed corpus through them, so a
//! fixed crash stays fixed under a plain `cargo test`.
//!
//! Besides "no panic", each checks a property that holds for every input it accepts
//! (an `assert!` that fails is a finding too). [`TARGETS`] lists them by target name;
//! [`seeds`] makes the hand-made start of each corpus.

pub mod seeds;

use std::sync::OnceLock;

use tipx_config::Config;
use tipx_node::{cli::publish, net::codec};
use tipx_protocol::{
    Membership, Origin, Record,
    sync::{Request, Response},
    testkit::{NOW_MS, key_of, membership},
    validate::{Context, validate_bytes},
};

/// A target's body: any bytes in, a panic on a finding.
pub type Entry = fn(&[u8]);

/// Every target: its name (the directory under `fuzz/corpus/`) and its entry.
pub const TARGETS: &[(&str, Entry)] = &[
    ("record", record),
    ("sync_messages", sync_messages),
    ("codec", codec),
    ("config", config),
    ("import", import),
];

/// The federation the `record` target validates in: OAS anchors it; MX, CO and PE are
/// partners of each other; BR is a member but nobody's partner (as in the protocol's
/// validation tests).
pub const STATES: &[&str] = &["OAS", "MX", "CO", "PE", "BR"];

/// The state whose node validates: MX.
pub const LOCAL: &str = "MX";

/// MX's view of [`STATES`], built once.
pub fn view() -> &'static Membership {
    static VIEW: OnceLock<Membership> = OnceLock::new();
    VIEW.get_or_init(|| membership(LOCAL, STATES, &[("MX", "CO"), ("MX", "PE"), ("CO", "PE")]))
}

/// What MX knows when it validates, at the test clock ([`NOW_MS`]), with the default
/// `store.max_record_bytes`.
pub fn context() -> Context<'static> {
    Context {
        local_state: view().own_state(),
        now_ms: NOW_MS,
        max_record_bytes: Config::default().store.max_record_bytes,
        membership: view(),
    }
}

/// `record`: bytes as a received `SignedRecord`. Decoding and validating (as published
/// on MX, and as received from CO's node) never panic; a record that decodes re-encodes to
/// bytes that decode to the same record; and the re-encoded bytes get the same verdict as
/// the original (below the size limit).
///
/// Not checked, because it does not hold: that a valid record re-encodes to the bytes it
/// came in. The outer message may carry unknown fields, or a field twice, and still
/// validate with the same id, since the signature and the id cover the header bytes, which
/// are kept exactly; the store keeps the parsed header, signature and body, so such
/// padding is dropped on storage.
pub fn record(data: &[u8]) {
    let Ok(decoded) = Record::decode(data) else {
        return;
    };
    let again = decoded.encode();
    assert_eq!(
        Record::decode(&again).as_ref(),
        Ok(&decoded),
        "a decoded record re-encodes to another record"
    );
    let cx = context();
    if data.len() > cx.max_record_bytes {
        return; // refused for its size; its re-encoding may be smaller
    }
    for from in [Origin::Local, Origin::Peer(key_of("CO").public())] {
        let verdict = validate_bytes(data, from, &cx).map(|v| (v.record.id, v.body));
        let again = validate_bytes(&again, from, &cx).map(|v| (v.record.id, v.body));
        assert_eq!(verdict, again, "re-encoding changed the verdict");
    }
}

/// `sync_messages`: bytes as a sync request and as a sync response. Decoding never
/// panics; a message that decodes re-encodes to one that decodes to the same message; the
/// records a push or a page carries go through [`record`].
pub fn sync_messages(data: &[u8]) {
    if let Ok(req) = Request::decode(data) {
        assert_eq!(
            Request::decode(&req.encode()).as_ref(),
            Ok(&req),
            "a request re-encodes to another"
        );
        if let Request::Push { records } = &req {
            records.iter().for_each(|r| record(r));
        }
    }
    if let Ok(res) = Response::decode(data) {
        assert_eq!(
            Response::decode(&res.encode()).as_ref(),
            Ok(&res),
            "a response re-encodes to another"
        );
        if let Response::Records { records, .. } = &res {
            records.iter().for_each(|r| record(r));
        }
    }
}

/// `codec`: bytes as an incoming `/tipx/sync/1` stream. Reading a frame never panics and
/// returns exactly the declared number of bytes that follow the length, never more than
/// [`codec::MAX_FRAME_BYTES`]; a stream shorter than its length is an error.
pub fn codec(data: &[u8]) {
    let mut io = futures::io::Cursor::new(data);
    let read = futures::executor::block_on(codec::read_frame(&mut io));
    let declared = data
        .get(..4)
        .map(|l| u32::from_be_bytes(l.try_into().expect("4 bytes")) as usize);
    match (read, declared) {
        (Ok(body), Some(len)) => {
            assert!(
                len <= codec::MAX_FRAME_BYTES,
                "a frame over the limit was read"
            );
            assert_eq!(
                body,
                data[4..4 + len],
                "the frame is not the bytes that follow"
            );
        }
        (Ok(_), None) => panic!("a frame was read from fewer than 4 bytes"),
        (Err(_), Some(len)) => assert!(
            len > codec::MAX_FRAME_BYTES || data.len() < 4 + len,
            "a complete frame within the limit was refused"
        ),
        (Err(_), None) => {}
    }
}

/// `config`: UTF-8 bytes as `tipx.toml` (other bytes are skipped: the file is read as
/// text first). Parsing and validating never panic, and a configuration that loads is
/// written by [`Config::to_template`] (what `tipx init` and a rewrite of the file write)
/// as text that loads back to the same configuration.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = Config::from_toml_str(text) else {
        return;
    };
    let template = config.to_template();
    match Config::from_toml_str(&template) {
        Ok(again) => assert_eq!(again, config, "the template loads as another configuration"),
        Err(e) => panic!("the template of a configuration that loads is refused: {e}\n{template}"),
    }
}

/// `import`: bytes as the file of `tipx publish --file` (read at the test clock,
/// [`NOW_MS`]). Parsing never panics; every error names the file; every record it accepts
/// passes the body rules and survives the trip to the daemon (JSON, as the admin API
/// decodes it) unchanged.
pub fn import(data: &[u8]) {
    const NAME: &str = "fuzz.jsonl";
    let requests = match publish::parse_file(NAME, data, NOW_MS) {
        Ok(requests) => requests,
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.starts_with(NAME),
                "an error that does not name the file: {text}"
            );
            return;
        }
    };
    for req in requests {
        req.body
            .check()
            .expect("an imported body passes the body rules");
        let json = serde_json::to_string(&req).expect("a request encodes as JSON");
        let back: tipx_node::api::types::PublishRequest =
            serde_json::from_str(&json).expect("the daemon decodes what the CLI sends");
        assert_eq!(
            serde_json::to_string(&back).expect("a request encodes as JSON"),
            json,
            "the request changed on its way to the daemon"
        );
    }
}
