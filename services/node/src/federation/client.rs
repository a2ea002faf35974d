//! The child's HTTPS client for its parent: trusts exactly the certificate pinned from the
//! invite, accepts gzip answers, and sorts failures into transient (retry with backoff) and
//! refusals (4xx: recorded and shown, never retried blindly).

use std::time::Duration;

use anyhow::Context;
use quanze_ledger::SignedEntryWire;
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::wire::{EnrollRequest, EnrollResponse, PullResponse, PushRequest, PushResponse, SignedHeads};

/// Why a call to the parent failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Network trouble, timeouts, 5xx: try again later.
    #[error("上级暂时不可达 / parent unreachable: {0}")]
    Transient(String),
    /// The parent refused the request (4xx); retrying the same request will not help.
    #[error("上级拒绝 / parent refused ({status} {code}): {message}")]
    Refused { status: u16, code: String, message: String },
}

impl CallError {
    pub fn is_transient(&self) -> bool {
        matches!(self, CallError::Transient(_))
    }
}

#[derive(Debug, Clone)]
pub struct ParentClient {
    http: reqwest::Client,
    base: String,
}

impl ParentClient {
    /// A client for `base` that trusts only `cert_pem`.
    pub fn new(base: &str, cert_pem: &[u8]) -> anyhow::Result<ParentClient> {
        crate::tls::install_crypto_provider();
        let cert = reqwest::Certificate::from_pem(cert_pem).context("上级证书格式错误 / invalid parent certificate")?;
        let http = reqwest::Client::builder()
            .tls_certs_only([cert])
            .https_only(true)
            .gzip(true)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(super::wire::MAX_WAIT_SECS + 30))
            .build()
            .context("无法创建 HTTPS 客户端 / cannot build HTTPS client")?;
        Ok(ParentClient { http, base: base.trim_end_matches('/').to_string() })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn finish<T: DeserializeOwned>(res: Result<reqwest::Response, reqwest::Error>) -> Result<T, CallError> {
        let res = res.map_err(|e| CallError::Transient(error_chain(&e)))?;
        let status = res.status();
        if status.is_success() {
            return res.json().await.map_err(|e| CallError::Transient(format!("bad answer: {}", error_chain(&e))));
        }
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT
        {
            return Err(CallError::Transient(format!("{status}: {body}")));
        }
        Err(CallError::Refused {
            status: status.as_u16(),
            code: body["code"].as_str().unwrap_or("UNKNOWN").to_string(),
            message: body["message"].as_str().unwrap_or("").to_string(),
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T, CallError> {
        Self::finish(self.http.get(format!("{}{path}", self.base)).query(query).send().await).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, CallError> {
        Self::finish(self.http.post(format!("{}{path}", self.base)).json(body).send().await).await
    }

    pub async fn enroll(&self, req: &EnrollRequest) -> Result<EnrollResponse, CallError> {
        self.post("/api/v1/fed/enroll", req).await
    }

    /// The parent's signed heads, and the children it awaits after a restore (`restore_hold`).
    pub async fn heads(&self) -> Result<(SignedHeads, Vec<String>), CallError> {
        let res = self.http.get(format!("{}/api/v1/fed/heads", self.base)).send().await;
        let awaiting: Vec<String> = res
            .as_ref()
            .ok()
            .and_then(|r| r.headers().get(super::restore_hold::AWAITING_HEADER))
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect())
            .unwrap_or_default();
        Ok((Self::finish(res).await?, awaiting))
    }

    /// Tells the restored parent we hold nothing newer of its log (our signed heads).
    pub async fn confirm(&self, signed: &SignedHeads) -> Result<crate::api::fed::ConfirmAnswer, CallError> {
        self.post("/api/v1/fed/confirm", signed).await
    }

    /// Entries of the parent's and its ancestors' logs after `after` (`origin:seq,…`), waiting
    /// up to `wait_secs` for new ones.
    pub async fn pull(&self, after: &str, wait_secs: u64) -> Result<PullResponse, CallError> {
        self.get("/api/v1/fed/pull", &[("after", after.to_string()), ("wait", wait_secs.to_string())]).await
    }

    pub async fn push(&self, req: &PushRequest) -> Result<PushResponse, CallError> {
        self.post("/api/v1/fed/push", req).await
    }

    /// Asks the parent to cosign a checkpoint; a `CHECKPOINT_STALE` refusal carries the size
    /// the parent last cosigned.
    pub async fn cosign(
        &self,
        req: &super::checkpoints::CosignRequest,
    ) -> Result<super::checkpoints::CosignAnswer, CallError> {
        let res = self.http.post(format!("{}/api/v1/fed/checkpoints", self.base)).json(req).send().await;
        if let Ok(r) = &res
            && r.status() == StatusCode::CONFLICT
        {
            let body: serde_json::Value =
                res.map_err(|e| CallError::Transient(error_chain(&e)))?.json().await.unwrap_or_default();
            if let (Some("CHECKPOINT_STALE"), Some(current_size)) =
                (body["code"].as_str(), body["current_size"].as_u64())
            {
                return Ok(super::checkpoints::CosignAnswer::Stale { current_size });
            }
            return Err(CallError::Refused {
                status: StatusCode::CONFLICT.as_u16(),
                code: body["code"].as_str().unwrap_or("UNKNOWN").to_string(),
                message: body["message"].as_str().unwrap_or("").to_string(),
            });
        }
        Self::finish(res).await.map(super::checkpoints::CosignAnswer::Cosigned)
    }

    /// Relays the cosigned checkpoints of our descendants.
    pub async fn relay(
        &self,
        req: &super::checkpoints::RelayRequest,
    ) -> Result<super::checkpoints::RelayResponse, CallError> {
        self.post("/api/v1/fed/checkpoints/relay", req).await
    }

    /// One origin's entries after `after` (disk recovery): our own log or an ancestor's, shown
    /// to whoever holds the invite the parent enrolled us with (`invite_token`).
    pub async fn log(&self, origin: &str, after: u64, invite_token: &str) -> Result<Vec<SignedEntryWire>, CallError> {
        #[derive(serde::Deserialize)]
        struct Page {
            entries: Vec<SignedEntryWire>,
        }
        let query = [("origin", origin.to_string()), ("after", after.to_string()), ("limit", "1000".into())];
        let rb = self.http.get(format!("{}/api/v1/fed/recover", self.base)).query(&query).bearer_auth(invite_token);
        let page: Page = Self::finish(rb.send().await).await?;
        Ok(page.entries)
    }
}

impl ParentClient {
    /// Our own log (or an ancestor's) after `after`, authenticated by a statement signed with
    /// our node key (`signature_header`: see `wire::NODE_SIGNATURE_HEADER`): a restored node
    /// reads back what it wrote after its backup.
    pub async fn own_log(
        &self,
        origin: &str,
        after: u64,
        signature_header: &str,
    ) -> Result<Vec<SignedEntryWire>, CallError> {
        #[derive(serde::Deserialize)]
        struct Page {
            entries: Vec<SignedEntryWire>,
        }
        let query = [("origin", origin.to_string()), ("after", after.to_string()), ("limit", "1000".into())];
        let rb = self
            .http
            .get(format!("{}/api/v1/fed/recover", self.base))
            .query(&query)
            .header(super::wire::NODE_SIGNATURE_HEADER, signature_header);
        let page: Page = Self::finish(rb.send().await).await?;
        Ok(page.entries)
    }
}

/// An error with its causes, on one line (reqwest hides the useful part in `source()`).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}
