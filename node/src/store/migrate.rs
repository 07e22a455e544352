//! Migration of a store written by an earlier version of tipx.
//!
//! Schema 2 kept every body inside sled's value (`header ‖ signature ‖ body`), where an
//! erased body's bytes linger in sled's files. Schema 3 moves the bodies of best practices
//! and alerts to the body packs ([`super::bodies`]) and tags every value
//! ([`super::keys::record_value`]). Bodies erased under schema 2 may still sit in sled's
//! old segments; the migration cannot reach them (docs/SECURITY.md).
//!
//! The migration runs in chunks, each one atomic, and can be interrupted: a value already
//! rewritten is recognised (its tail is not the body its header hashes) and left alone, so
//! the next open carries on.

use tipx_protocol::{Kind, ids::sha256, wire};

use super::{
    Error,
    bodies::Bodies,
    files,
    keys::{self, Space, StoredBody},
};

/// Values rewritten per atomic batch.
const CHUNK: usize = 4096;

/// Rewrites every schema-2 record value of `tree` in the schema-3 layout.
pub(super) fn bodies_to_packs(tree: &sled::Tree, bodies: &Bodies) -> Result<(), Error> {
    let mut batch = sled::Batch::default();
    let mut n = 0;
    for kv in tree.scan_prefix([Space::Records as u8]) {
        let (k, v) = kv?;
        let (header_bytes, signature, rest) = keys::split_value(&v)?;
        let header = wire::decode_header(header_bytes)
            .map_err(|e| Error::Corrupt(format!("stored header: {e}")))?;
        let old_body = rest.len() == header.body_len as usize
            && sha256(rest) == header.body_sha256
            && !rest.is_empty();
        let body = if rest.is_empty() {
            StoredBody::None
        } else if !old_body {
            continue; // rewritten by an earlier, interrupted run
        } else if matches!(header.kind, Kind::BestPractice | Kind::Alert) {
            StoredBody::Packed(
                bodies
                    .append(rest)
                    .map_err(files("moving a body to its pack"))?,
            )
        } else {
            StoredBody::Inline(rest)
        };
        batch.insert(k, keys::record_value(header_bytes, &signature, body));
        n += 1;
        if n % CHUNK == 0 {
            commit(tree, bodies, std::mem::take(&mut batch))?;
        }
    }
    commit(tree, bodies, batch)?;
    tracing::info!(
        records = n,
        "store migrated to schema 3: bodies moved to body packs"
    );
    Ok(())
}

fn commit(tree: &sled::Tree, bodies: &Bodies, batch: sled::Batch) -> Result<(), Error> {
    bodies.sync().map_err(files("syncing a body pack"))?;
    tree.apply_batch(batch)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use tipx_protocol::{
        Body,
        body::Retraction,
        store::Store,
        testkit::{Author, NOW_MS, alert, roster},
    };

    use super::super::{SCHEMA_KEY, SledStore, key, keys::position};
    use super::*;

    /// A record value as schema 2 wrote it: the body inline, nothing once erased.
    fn schema2_value(r: &tipx_protocol::Record) -> Vec<u8> {
        let mut v = (r.header_bytes.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(&r.header_bytes);
        v.extend_from_slice(&r.signature);
        v.extend_from_slice(r.body.as_deref().unwrap_or_default());
        v
    }

    #[test]
    fn a_schema_2_store_opens_with_every_record_and_its_body_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut co = Author::new("CO");
        let kept = co.publish(&["CO", "MX"], alert("kept"), NOW_MS);
        let gone = co.publish(&["CO", "MX"], alert("erased"), NOW_MS + 1);
        let retraction = co.publish(
            &["CO", "MX"],
            Body::Retraction(Retraction {
                target: gone.id,
                reason: "in error".into(),
                erase: true,
            }),
            NOW_MS + 2,
        );
        let roster = Author::new("OAS").publish(&["*"], Body::Roster(roster(1, &["OAS"])), NOW_MS);
        let held = [
            kept.clone(),
            gone.erased(),
            retraction.clone(),
            roster.clone(),
        ];
        {
            let db = sled::Config::new().path(dir.path()).open().unwrap();
            let tree = db.open_tree("tipx").unwrap();
            tree.insert(key(Space::Meta, &[SCHEMA_KEY]), &2u32.to_be_bytes())
                .unwrap();
            for r in &held {
                tree.insert(position(&r.header.feed, r.header.seq), schema2_value(r))
                    .unwrap();
            }
            db.flush().unwrap();
        }
        for _ in 0..2 {
            // The second open finds schema 3 and changes nothing.
            let s = SledStore::open(dir.path(), 16 << 20).unwrap();
            for r in &held {
                let page = s
                    .feed_range(&r.header.feed, r.header.seq, 1, usize::MAX)
                    .unwrap();
                assert_eq!(page[0].body, r.body, "{r:?}");
                assert_eq!(page[0].header_bytes, r.header_bytes);
            }
            let v = s.tree.get(position(&kept.header.feed, 1)).unwrap().unwrap();
            let (_, _, body) = keys::record_value_decode(&v).unwrap();
            assert!(matches!(body, StoredBody::Packed(_)), "{body:?}");
        }
    }

    #[test]
    fn an_interrupted_migration_carries_on_without_touching_rewritten_values() {
        let dir = tempfile::tempdir().unwrap();
        let bodies = Bodies::open(&dir.path().join("bodies")).unwrap();
        let db = sled::Config::new()
            .path(dir.path().join("db"))
            .open()
            .unwrap();
        let tree = db.open_tree("tipx").unwrap();
        let a = Author::new("CO").publish(&["CO", "MX"], alert("once"), NOW_MS);
        tree.insert(position(&a.header.feed, 1), schema2_value(&a))
            .unwrap();
        bodies_to_packs(&tree, &bodies).unwrap();
        let once = tree.get(position(&a.header.feed, 1)).unwrap().unwrap();
        bodies_to_packs(&tree, &bodies).unwrap();
        let twice = tree.get(position(&a.header.feed, 1)).unwrap().unwrap();
        assert_eq!(once, twice, "a rewritten value was migrated again");
    }
}
