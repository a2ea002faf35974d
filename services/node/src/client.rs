//! The CLI's HTTPS client for a running node: finds the node's URL, pins its certificate and
//! sends the operator token from the data directory. Turns error answers into readable errors.

use std::path::Path;

use anyhow::{Context, bail};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

use crate::config::{CERT_FILE, Config, TOKEN_FILE};
use crate::secrets::read_secret;

/// A client bound to one node.
#[derive(Debug, Clone)]
pub struct NodeClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// Whether a failure means the node is not running (so an offline path may be taken).
pub fn is_unreachable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<reqwest::Error>().is_some_and(|r| r.is_connect()))
}

impl NodeClient {
    /// A client for the node of `config`, or of `url` when given.
    pub fn for_config(config: &Config, url: Option<&str>) -> anyhow::Result<NodeClient> {
        let token = read_secret(&config.path(TOKEN_FILE)).ok().map(|t| t.trim().to_string());
        Self::new(&config.path(CERT_FILE), url.map_or_else(|| config.local_url(), str::to_string), token)
    }

    pub fn new(cert_path: &Path, base: String, token: Option<String>) -> anyhow::Result<NodeClient> {
        let pem = std::fs::read(cert_path)
            .with_context(|| format!("无法读取节点证书 {} / cannot read certificate", cert_path.display()))?;
        Ok(NodeClient { http: crate::tls::pinned_client(&pem)?, base: base.trim_end_matches('/').to_string(), token })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let rb = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    async fn send(&self, rb: RequestBuilder) -> anyhow::Result<Response> {
        let res = rb.send().await.with_context(|| {
            format!("无法连接节点 {} / cannot reach the node (is `quanze serve` running?)", self.base)
        })?;
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        Err(ApiFailure { status: status.as_u16(), body }.into())
    }

    pub async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self.send(self.request(Method::GET, path)).await?.json().await?)
    }

    pub async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        Ok(self.send(self.request(Method::GET, path)).await?.text().await?)
    }

    pub async fn get_bytes(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        Ok(self.send(self.request(Method::GET, path)).await?.bytes().await?.to_vec())
    }

    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> anyhow::Result<Value> {
        Ok(self.send(self.request(method, path).json(body)).await?.json().await?)
    }

    pub async fn post_bytes(&self, path: &str, content_type: &str, bytes: Vec<u8>) -> anyhow::Result<Value> {
        let rb = self.request(Method::POST, path).header(reqwest::header::CONTENT_TYPE, content_type).body(bytes);
        Ok(self.send(rb).await?.json().await?)
    }

    /// Waits until `/healthz` answers, up to `tries` × 100 ms.
    pub async fn wait_healthy(&self, tries: u32) -> anyhow::Result<()> {
        for _ in 0..tries {
            if let Ok(r) = self.http.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        bail!("节点 {} 未就绪 / node did not become healthy", self.base)
    }
}

/// An error answer from the node, printed as its code, message and row/field errors.
#[derive(Debug)]
pub struct ApiFailure {
    pub status: u16,
    pub body: Value,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = self.body.get("code").and_then(Value::as_str).unwrap_or("HTTP_ERROR");
        let message = self.body.get("message").and_then(Value::as_str).unwrap_or("");
        write!(f, "{code} (HTTP {}): {message}", self.status)?;
        if let Some(errors) = self.body.get("errors").and_then(Value::as_array) {
            for e in errors {
                let sheet = e.get("sheet").and_then(Value::as_str).map(|s| format!("工作表 “{s}” "));
                let row = e.get("row").and_then(Value::as_u64).map(|r| format!("第 {r} 行 / row {r} "));
                let column = e.get("column").and_then(Value::as_str).map(|c| format!("（{c} 列）/ column {c} "));
                let field = e.get("field").and_then(Value::as_str).map(|f| format!("[{f}] "));
                let msg = e.get("message").and_then(Value::as_str).unwrap_or("");
                let (sheet, row, column, field) = (
                    sheet.unwrap_or_default(),
                    row.unwrap_or_default(),
                    column.unwrap_or_default(),
                    field.unwrap_or_default(),
                );
                write!(f, "\n  {sheet}{row}{column}{field}{msg}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ApiFailure {}
