//! Serving a node over HTTPS: open the node from its data directory, bind, serve until the
//! shutdown future completes, then drain connections and close the store.
//!
//! `run` takes an already-bound listener so tests and the demo can bind port 0.

use std::future::Future;
use std::net::TcpListener;
use std::time::Duration;

use anyhow::Context;
use axum_server::tls_rustls::RustlsConfig;
use quanze_store::Store;

use crate::config::{CERT_FILE, CERT_KEY_FILE, Config, KEY_FILE, TOKEN_FILE};
use crate::secrets::{load_key, read_secret};
use crate::state::Node;

/// Opens the node's key, token and store as configured.
pub async fn open_node(config: &Config) -> anyhow::Result<Node> {
    let key = load_key(&config.path(KEY_FILE))?;
    let token = read_secret(&config.path(TOKEN_FILE))?.trim().to_string();
    let store = Store::open(&config.database())
        .await
        .with_context(|| format!("无法打开数据库 / cannot open database {}", redact(&config.database())))?;
    Ok(Node::new(config.division.clone(), config.tier, config.name.clone(), key, store, Some(token)).await?)
}

/// A database URL with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Serves `node` on `listener` with the certificate of the data directory until `shutdown`
/// resolves; then stops accepting, lets requests finish (up to 10 s) and closes the store.
pub async fn run(
    listener: TcpListener,
    node: Node,
    config: &Config,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    crate::tls::install_crypto_provider();
    let tls = RustlsConfig::from_pem_file(config.path(CERT_FILE), config.path(CERT_KEY_FILE))
        .await
        .context("无法加载 TLS 证书 / cannot load TLS certificate")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let server = axum_server::from_tcp_rustls(listener, tls)?.handle(handle.clone());
    let app = crate::api::router(node.clone());
    tracing::info!(%addr, division = %node.division(), name = node.name(), "serving HTTPS");
    let serving = tokio::spawn(async move { server.serve(app.into_make_service()).await });
    shutdown.await;
    tracing::info!("shutting down: draining connections");
    handle.graceful_shutdown(Some(Duration::from_secs(10)));
    serving.await.context("server task failed")??;
    node.store().close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or ctrl-c.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
