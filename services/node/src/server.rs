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

use crate::config::{CERT_FILE, CERT_KEY_FILE, Config, KEY_FILE, NEXT_KEY_FILE, PARENT_CERT_FILE, TOKEN_FILE};
use crate::federation::client::ParentClient;
use crate::secrets::{load_key, read_secret};
use crate::state::{Node, NodeEnv};

/// Opens the node's key, token and store as configured.
pub async fn open_node(config: &Config) -> anyhow::Result<Node> {
    if config.path(crate::commands::backup::RESTORE_MARKER).exists() {
        anyhow::bail!(
            "{} 中的恢复未完成；请重新执行 quanze restore / an interrupted restore left this directory: run quanze restore again",
            config.data_dir.display()
        );
    }
    let store = Store::open(&config.database())
        .await
        .with_context(|| format!("无法打开数据库 / cannot open database {}", redact(&config.database())))?;
    finish_key_rotation(config, &store).await?;
    let key = load_key(&config.path(KEY_FILE))?;
    let token = read_secret(&config.path(TOKEN_FILE))?.trim().to_string();
    let node = Node::new(config.division.clone(), config.tier, config.name.clone(), key, store, Some(token)).await?;
    let cert_der = crate::federation::invite::pem_to_der(&std::fs::read(config.path(CERT_FILE))?)?;
    let parent = match (&config.federation.parent_division, &config.federation.parent_url) {
        (Some(d), Some(u)) => Some((d.clone(), u.clone())),
        _ => None,
    };
    node.set_env(NodeEnv {
        data_dir: Some(config.data_dir.clone()),
        public_url: config.public_url(),
        cert_der,
        parent,
    });
    Ok(node)
}

/// A key rotation interrupted between its entry and the key file: keep the staged key if our
/// log announced it, else drop it (the old key is still the one in force).
async fn finish_key_rotation(config: &Config, store: &Store) -> anyhow::Result<()> {
    let staged = config.path(NEXT_KEY_FILE);
    if !staged.exists() {
        return Ok(());
    }
    let next = load_key(&staged)?.public().to_hex();
    let announced = store
        .enrolments(Some(&config.division))
        .await?
        .iter()
        .any(|e| e.by_origin == config.division.as_str() && e.public_key.as_deref() == Some(next.as_str()));
    if announced {
        tracing::warn!("completing an interrupted key rotation");
        std::fs::rename(&staged, config.path(KEY_FILE))?;
    } else {
        std::fs::remove_file(&staged)?;
    }
    Ok(())
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
    let limits = config.limits;
    // TCP_NODELAY: a long-poll answer is one small write that must leave at once (Nagle plus
    // delayed ACKs would add ~40 ms per hop). Slow clients: the connection cap is taken before
    // the handshake, the handshake and each request head have a deadline (an idle keep-alive
    // connection is closed after the header deadline too), `first_request_timeout` bounds the
    // protocol detection of HTTP/2, and the body's deadline is the router's (`api/limits.rs`).
    let nodelay = axum_server::accept::NoDelayAcceptor::new();
    let mut server = axum_server::from_tcp_rustls(listener, tls.clone())?
        .map(|tls| {
            tls.handshake_timeout(limits.handshake_timeout)
                .acceptor(crate::connections::CappedAcceptor::new(limits.max_connections, nodelay))
        })
        .first_request_timeout(limits.header_read_timeout)
        .accept_error_handler(|addr, e| tracing::debug!(?addr, error = %e, "connection dropped before serving"))
        .handle(handle.clone());
    server.http_builder().http1().header_read_timeout(limits.header_read_timeout);
    // With the client's address: the login brake counts failures per address.
    let app = crate::api::router(node.clone(), limits.body_read_timeout);
    tracing::info!(%addr, division = %node.division(), name = node.name(), "serving HTTPS");
    let serving =
        tokio::spawn(
            async move { server.serve(app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await },
        );
    let sync = match node.parent() {
        Some((division, url)) => {
            let pem = std::fs::read(config.path(PARENT_CERT_FILE))
                .with_context(|| format!("无法读取上级证书 {} / cannot read parent certificate", PARENT_CERT_FILE))?;
            let client = ParentClient::new(&url, &pem)?;
            tracing::info!(parent = %division, %url, "syncing with parent");
            Some(crate::federation::sync::start(node.clone(), client, division))
        }
        None => {
            if node.own_log_unconfirmed() {
                // No parent holds our log: the backup is the latest copy there is.
                tracing::warn!("restored root node: no parent to confirm its own log against; writes resume");
                node.confirm_own_log().await?;
            }
            None
        }
    };
    let audit = crate::api::audit::start_refresher(node.clone());
    let watch = tokio::spawn(watch_certificate(tls.clone(), config.path(CERT_FILE), config.path(CERT_KEY_FILE)));
    shutdown.await;
    tracing::info!("shutting down: draining connections");
    audit.abort();
    watch.abort();
    if let Some(tasks) = sync {
        tasks.stop();
    }
    node.begin_shutdown();
    handle.graceful_shutdown(Some(Duration::from_secs(10)));
    serving.await.context("server task failed")??;
    node.store().close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Reloads the certificate when `tls/cert.pem` changes (`quanze tls renew`) or on SIGHUP: new
/// connections get the new certificate, open ones keep theirs; no restart.
async fn watch_certificate(tls: RustlsConfig, cert: std::path::PathBuf, key: std::path::PathBuf) {
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut seen = modified(&cert);
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        let signalled = async {
            match hangup.as_mut() {
                Some(s) => s.recv().await.is_some(),
                None => std::future::pending().await,
            }
        };
        let forced = tokio::select! {
            s = signalled => s,
            () = tokio::time::sleep(Duration::from_secs(2)) => false,
        };
        let now = modified(&cert);
        if !forced && now == seen {
            continue;
        }
        match tls.reload_from_pem_file(&cert, &key).await {
            Ok(()) => {
                seen = now;
                tracing::info!("TLS certificate reloaded");
            }
            // A half-written pair is tried again at the next look.
            Err(e) => tracing::warn!(error = %e, "cannot reload the TLS certificate"),
        }
    }
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
