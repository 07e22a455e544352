//! The daemon's routes of the admin API. The guards ([`super::guard`]) have already checked
//! the `Host`, the token and the body's size; each handler runs the node's blocking work on
//! a blocking thread.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Path, Query, State},
    http::StatusCode,
    middleware::{from_fn, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::{get, post},
};

use super::{
    guard,
    types::{ApiError, PublishRequest, Published, RetractRequest},
};
use crate::{
    core::{self, Node},
    query::Filter,
};

/// What the handlers share.
#[derive(Clone)]
pub struct Api {
    /// The node.
    pub node: Arc<Node>,
    /// The expected token.
    pub token: Arc<String>,
    /// The network, when the node runs one.
    pub net: Option<crate::net::Handle>,
}

/// A failed request: status and message.
pub struct Failure(pub(super) StatusCode, pub(super) String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(ApiError { error: self.1 })).into_response()
    }
}

impl From<core::Error> for Failure {
    fn from(e: core::Error) -> Self {
        let status = match &e {
            core::Error::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            core::Error::NotFound(_) => StatusCode::NOT_FOUND,
            core::Error::Store(_) | core::Error::Search(_) => StatusCode::INTERNAL_SERVER_ERROR,
            core::Error::Busy | core::Error::Incomplete(_) => StatusCode::SERVICE_UNAVAILABLE,
            core::Error::DiskFull { .. } => StatusCode::INSUFFICIENT_STORAGE,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "request failed");
        }
        Failure(status, e.to_string())
    }
}

type Reply<T> = Result<Json<T>, Failure>;

pub(super) async fn blocking<T: Send + 'static>(
    api: &Api,
    f: impl FnOnce(&Node) -> Result<T, core::Error> + Send + 'static,
) -> Reply<T> {
    let node = api.node.clone();
    match tokio::task::spawn_blocking(move || f(&node)).await {
        Ok(r) => Ok(Json(r?)),
        Err(e) => Err(Failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error: {e}"),
        )),
    }
}

/// The routes behind their guards, outermost first: the time limit, a loopback `Host`,
/// the token, then the body size — [`super::MAX_REQUEST_BYTES`] for the import route
/// (`/v1/records`), [`super::MAX_SMALL_REQUEST_BYTES`] for every other.
pub fn router(api: Api) -> Router {
    let import = Router::new()
        .route("/v1/records", get(list).post(publish))
        .route_layer(DefaultBodyLimit::max(super::MAX_REQUEST_BYTES))
        .route_layer(from_fn_with_state(
            super::MAX_REQUEST_BYTES,
            guard::limit_body,
        ));
    let small = Router::new()
        .route("/v1/status", get(status))
        .route("/v1/records/{id}", get(show))
        .route("/v1/records/{id}/retract", post(retract))
        .route("/v1/audit", get(audit))
        .route("/v1/store/check", post(check))
        .route("/v1/store/accept-loss", post(accept_loss))
        .route("/v1/backup", post(backup))
        .route("/v1/bundle/export", post(bundle_export))
        .route("/v1/bundle/import", post(bundle_import))
        .route("/v1/partners", get(partners))
        .route("/v1/partners/{state}/{action}", post(consent))
        .route("/v1/roster", get(roster))
        .route("/v1/roster/add", post(roster_add))
        .route("/v1/roster/remove", post(roster_remove))
        .route("/v1/roster/publish", post(roster_publish))
        .route("/v1/peers", get(peers))
        .route("/v1/activity", get(super::reporting::show))
        .route("/v1/activity/send", post(super::reporting::send))
        .route("/v1/profiles", get(super::reporting::profiles))
        .route("/v1/report", get(super::reporting::report))
        .route_layer(DefaultBodyLimit::max(super::MAX_SMALL_REQUEST_BYTES))
        .route_layer(from_fn_with_state(
            super::MAX_SMALL_REQUEST_BYTES,
            guard::limit_body,
        ));
    Router::new()
        .merge(import)
        .merge(small)
        .layer(from_fn_with_state(api.token.clone(), guard::require_token))
        .layer(from_fn(guard::require_loopback_host))
        .layer(from_fn(guard::time_limit))
        .with_state(api)
}

async fn status(State(api): State<Api>) -> Reply<super::types::Status> {
    let mut network = match &api.net {
        Some(net) => net.status().await,
        None => Default::default(),
    };
    let Json(mut node) = blocking(&api, |n| n.status()).await?;
    for w in std::mem::take(&mut network.warnings) {
        if !node.warnings.contains(&w) {
            node.warnings.push(w);
        }
    }
    Ok(Json(super::types::Status { node, network }))
}

async fn publish(
    State(api): State<Api>,
    Json(reqs): Json<Vec<PublishRequest>>,
) -> Reply<Published> {
    blocking(&api, move |n| {
        if reqs
            .iter()
            .any(|r| matches!(r.body, tipx_protocol::Body::Activity(_)))
        {
            return Err(core::Error::Invalid(
                "an activity summary is counted and sent by the node itself:                  `tipx activity send`"
                    .into(),
            ));
        }
        let warnings = n.exclusions(&reqs);
        Ok(Published {
            ids: n.publish(reqs)?,
            warnings,
        })
    })
    .await
}

async fn list(
    State(api): State<Api>,
    Query(f): Query<Filter>,
) -> Reply<Vec<super::types::RecordView>> {
    blocking(&api, move |n| n.list(&f)).await
}

async fn show(State(api): State<Api>, Path(id): Path<String>) -> Reply<super::types::RecordView> {
    blocking(&api, move |n| n.show(&n.resolve(&id)?)).await
}

async fn retract(
    State(api): State<Api>,
    Path(id): Path<String>,
    Json(req): Json<RetractRequest>,
) -> Reply<Published> {
    blocking(&api, move |n| {
        Ok(Published {
            ids: vec![n.retract(n.resolve(&id)?, req.reason, req.erase)?],
            warnings: vec![],
        })
    })
    .await
}

#[derive(serde::Deserialize)]
struct AuditQuery {
    limit: Option<usize>,
}

async fn audit(
    State(api): State<Api>,
    Query(q): Query<AuditQuery>,
) -> Reply<super::types::AuditLog> {
    blocking(&api, move |n| {
        let entries = n.audit_log(q.limit.unwrap_or(100))?;
        Ok(entries
            .into_iter()
            .map(|entry| super::types::AuditView {
                at: crate::time::rfc3339(entry.at_ms),
                peer_state: entry
                    .peer
                    .as_deref()
                    .and_then(|p| p.parse().ok())
                    .and_then(|k| n.state_of(&k)),
                entry,
            })
            .collect())
    })
    .await
}

async fn check(State(api): State<Api>) -> Reply<super::types::Check> {
    blocking(&api, |n| n.check_store()).await
}

async fn accept_loss(State(api): State<Api>) -> Reply<usize> {
    blocking(&api, |n| n.accept_loss()).await
}

async fn backup(
    State(api): State<Api>,
    Json(req): Json<super::types::BackupRequest>,
) -> Reply<crate::store::BackupStats> {
    blocking(&api, move |n| n.backup(&req.out, &req.files)).await
}

async fn bundle_export(
    State(api): State<Api>,
    Json(req): Json<super::types::BundleExportRequest>,
) -> Reply<crate::bundle::Exported> {
    blocking(&api, move |n| {
        crate::bundle::export(n, req.for_state, &req.out).map_err(bundle_error)
    })
    .await
}

async fn bundle_import(
    State(api): State<Api>,
    Json(req): Json<super::types::BundleImportRequest>,
) -> Reply<crate::bundle::Imported> {
    blocking(&api, move |n| {
        crate::bundle::import(n, &req.file).map_err(bundle_error)
    })
    .await
}

/// A bundle's failure as the core's: the node's own as it is, the rest as a refusal in
/// words.
fn bundle_error(e: crate::bundle::Error) -> core::Error {
    match e {
        crate::bundle::Error::Node(e) => e,
        other => core::Error::Invalid(other.to_string()),
    }
}

async fn partners(State(api): State<Api>) -> Reply<Vec<super::types::PartnerView>> {
    let peers = match &api.net {
        Some(net) => net.peers().await,
        None => vec![],
    };
    blocking(&api, move |n| {
        Ok(super::types::PartnerView::build(n.partner_rows(), &peers))
    })
    .await
}

async fn consent(
    State(api): State<Api>,
    Path((state, action)): Path<(String, String)>,
) -> Reply<core::ConsentChange> {
    let state: tipx_protocol::StateCode =
        state
            .parse()
            .map_err(|e: tipx_protocol::state_code::InvalidStateCode| {
                Failure(StatusCode::BAD_REQUEST, e.to_string())
            })?;
    let action = match action.as_str() {
        "request" => tipx_protocol::body::ConsentAction::Grant,
        "revoke" => tipx_protocol::body::ConsentAction::Revoke,
        other => {
            return Err(Failure(
                StatusCode::BAD_REQUEST,
                format!("unknown action `{other}`: request or revoke"),
            ));
        }
    };
    blocking(&api, move |n| n.consent(state, action)).await
}

async fn roster(State(api): State<Api>) -> Reply<super::types::RosterView> {
    blocking(&api, |n| {
        let draft = if n.state().is_coordinator() {
            Some(n.roster_draft()?)
        } else {
            None
        };
        Ok(super::types::RosterView {
            in_force: n.roster(),
            draft,
        })
    })
    .await
}

async fn roster_add(
    State(api): State<Api>,
    Json(req): Json<super::types::RosterAdd>,
) -> Reply<super::types::RosterView> {
    blocking(&api, move |n| {
        let draft = n.roster_add(req.state, req.name, req.peer_id, req.addrs)?;
        Ok(super::types::RosterView {
            in_force: n.roster(),
            draft: Some(draft),
        })
    })
    .await
}

async fn roster_remove(
    State(api): State<Api>,
    Json(req): Json<super::types::RosterRemove>,
) -> Reply<super::types::RosterView> {
    blocking(&api, move |n| {
        let draft = n.roster_remove(req.peer_id)?;
        Ok(super::types::RosterView {
            in_force: n.roster(),
            draft: Some(draft),
        })
    })
    .await
}

async fn roster_publish(State(api): State<Api>) -> Reply<Published> {
    blocking(&api, |n| {
        Ok(Published {
            ids: vec![n.roster_publish()?.0],
            warnings: vec![],
        })
    })
    .await
}

async fn peers(State(api): State<Api>) -> Reply<Vec<crate::net::PeerInfo>> {
    Ok(Json(match &api.net {
        Some(net) => net.peers().await,
        None => vec![],
    }))
}
