//! What the core does when a roster changes this state's own keys: warn the operator in
//! the log, in `tipx status` and in the audit log.

use tipx_protocol::store::Store as _;

use super::{Node, now_ms};

impl Node {
    /// Warns (log, status, audit) when an applied roster of `version` changed this state's
    /// keys: compared with the roster held `before`, or, for the first roster, with this
    /// node's own key alone.
    pub(super) fn on_own_keys(
        &self,
        version: u64,
        before: Option<Vec<tipx_protocol::PublicKey>>,
        after: Vec<tipx_protocol::PublicKey>,
    ) {
        let first = before.is_none();
        let before = before.unwrap_or_else(|| vec![self.key.public()]);
        let added: Vec<String> = after
            .iter()
            .filter(|k| !before.contains(k))
            .map(|k| k.to_string())
            .collect();
        // The first roster counts only for keys it adds: a node not listed yet is warned
        // of that on its own.
        let removed: Vec<String> = if first {
            vec![]
        } else {
            before
                .iter()
                .filter(|k| !after.contains(k))
                .map(|k| k.to_string())
                .collect()
        };
        if added.is_empty() && removed.is_empty() {
            return;
        }
        let list = |ks: &[String]| {
            if ks.is_empty() {
                "none".to_string()
            } else {
                ks.join(", ")
            }
        };
        let text = format!(
            "roster version {version} changed the keys of {}: added {}; removed {}. A key \
             you do not run can read everything addressed to {}: if this change is not yours, \
             ask the coordinator, and set federation.pinned_keys to refuse such rosters",
            self.state,
            list(&added),
            list(&removed),
            self.state
        );
        tracing::warn!(
            state = %self.state,
            roster_version = version,
            added = %list(&added),
            removed = %list(&removed),
            "the roster changed the keys of this node's own state"
        );
        let entry = tipx_protocol::store::AuditEntry {
            state: Some(self.state),
            ..tipx_protocol::store::AuditEntry::new(
                now_ms(),
                tipx_protocol::store::AuditEvent::OwnKeysChanged,
                text.clone(),
            )
        };
        if let Err(e) = self.store.audit(&[entry]) {
            tracing::warn!(error = %e, "could not audit the change of this state's keys");
        }
        self.own_key_changes
            .write()
            .expect("not poisoned")
            .push(text);
    }
}
