//! The command line's side of the admin API.

use std::net::SocketAddr;

use serde::{Serialize, de::DeserializeOwned};

use super::types::ApiError;

/// How long to wait for the daemon to accept a connection: it is on this machine.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long one call may take: an import page of a few thousand records, signed, stored
/// and flushed, takes seconds; anything near this is a stuck daemon.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// Why a call to the daemon failed; the message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nothing listens at the address.
    #[error("cannot reach the node at {0} — is `tipx run` running?")]
    Unreachable(SocketAddr),
    /// The daemon refused the request.
    #[error("{0}")]
    Refused(String),
    /// Anything else on the way.
    #[error("talking to the node at {addr}: {source}")]
    Http {
        /// The daemon's address.
        addr: SocketAddr,
        /// The cause.
        source: reqwest::Error,
    },
}

/// A client of one node's admin API.
pub struct Client {
    addr: SocketAddr,
    token: String,
    http: reqwest::Client,
}

impl Client {
    /// A client for the daemon at `addr`, authenticating with `token`.
    pub fn new(addr: SocketAddr, token: String) -> Self {
        Self {
            addr,
            token,
            http: reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                .build()
                .expect("a plain HTTP client builds"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T, Error> {
        let resp = req.bearer_auth(&self.token).send().await.map_err(|e| {
            if e.is_connect() {
                Error::Unreachable(self.addr)
            } else {
                Error::Http {
                    addr: self.addr,
                    source: e,
                }
            }
        })?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| Error::Http {
            addr: self.addr,
            source: e,
        })?;
        if !status.is_success() {
            let msg = serde_json::from_slice::<ApiError>(&bytes)
                .map(|e| e.error)
                .unwrap_or_else(|_| format!("{status}: {}", String::from_utf8_lossy(&bytes)));
            return Err(Error::Refused(msg));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Refused(format!("unexpected answer from the node: {e}")))
    }

    /// GET `path` with query `q`.
    pub async fn get<T: DeserializeOwned, Q: Serialize>(
        &self,
        path: &str,
        q: &Q,
    ) -> Result<T, Error> {
        self.send(self.http.get(self.url(path)).query(q)).await
    }

    /// POST `body` as JSON to `path`.
    pub async fn post<T: DeserializeOwned, B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        self.send(self.http.post(self.url(path)).json(body)).await
    }
}
