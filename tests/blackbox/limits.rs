//! Slow and oversized clients: a node with short `[server]` timeouts closes connections that
//! never finish the TLS handshake or trickle their request head, answers a trickled body with
//! 408 and oversized bodies (declared, streamed chunked, or sent whole) with 413
//! `PAYLOAD_TOO_LARGE`, and keeps serving everyone else meanwhile and afterwards.
//!
//! The slow clients speak raw TLS (rustls over a std socket, pinned to the node's certificate)
//! so the test controls every byte; each runs on a blocking thread.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quanze_tests::{TestNode, install_crypto_provider};
use reqwest::Method;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// Short timeouts, so slow clients are cut within seconds.
const SHORT_LIMITS: [(&str, u64); 3] =
    [("handshake_timeout_secs", 2), ("header_read_timeout_secs", 2), ("body_read_timeout_secs", 3)];
/// Far longer than any of those timeouts: a slow client still open after this was never cut.
const GIVE_UP: Duration = Duration::from_secs(40);

/// A county node restarted with `SHORT_LIMITS` in its `[server]` section.
async fn node_with_short_timeouts() -> TestNode {
    let mut node = TestNode::luxian().await;
    node.stop().await;
    let path = node.data_dir.join("quanze.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (key, value) in SHORT_LIMITS {
        let line =
            text.lines().find(|l| l.starts_with(&format!("{key} = "))).unwrap_or_else(|| panic!("{key}: {text}"));
        text = text.replacen(line, &format!("{key} = {value}"), 1);
    }
    std::fs::write(&path, text).unwrap();
    node.restart().await;
    node
}

fn tls_config(node: &TestNode) -> Arc<rustls::ClientConfig> {
    install_crypto_provider();
    let pem = std::fs::read(node.data_dir.join("tls/cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(&pem).unwrap()).unwrap();
    Arc::new(rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth())
}

fn addr(node: &TestNode) -> String {
    node.url.trim_start_matches("https://").to_string()
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A TLS connection with the handshake done.
fn connect(config: &Arc<rustls::ClientConfig>, addr: &str) -> Tls {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = rustls::StreamOwned::new(rustls::ClientConnection::new(config.clone(), name).unwrap(), tcp);
    while tls.conn.is_handshaking() {
        if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
            assert!(matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut), "TLS handshake failed: {e}");
        }
    }
    tls
}

/// Whether the node has answered or closed: Some(bytes read) then, None while it is still open.
fn poll_answer(tls: &mut Tls) -> Option<Vec<u8>> {
    let mut buf = [0u8; 4096];
    match tls.read(&mut buf) {
        Ok(0) => Some(Vec::new()),
        Ok(n) => Some(buf[..n].to_vec()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(_) => Some(Vec::new()),
    }
}

/// Sends `head` a byte every 300 ms (never finishing it) until the node closes the connection;
/// true when it did before `GIVE_UP`.
fn trickle_head(config: Arc<rustls::ClientConfig>, addr: String) -> bool {
    let mut tls = connect(&config, &addr);
    let start = Instant::now();
    let head = b"GET /api/v1/public/list HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    for byte in head.iter().chain(std::iter::repeat(&b'a')) {
        if tls.write_all(&[*byte]).and_then(|()| tls.flush()).is_err() || poll_answer(&mut tls).is_some() {
            return true;
        }
        if start.elapsed() > GIVE_UP {
            return false;
        }
    }
    unreachable!("the trickle is endless")
}

/// Opens a TCP connection and never starts the TLS handshake; true when the node closed it.
fn stall_handshake(addr: String) -> bool {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(GIVE_UP)).unwrap();
    let mut buf = [0u8; 64];
    match tcp.read(&mut buf) {
        // End of stream (0) or the node's TLS alert: either way it gave up on us.
        Ok(_read) => true,
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

/// Sends `head`, then `body` in pieces (a pause after each), then waits for the answer; returns
/// the status line and the rest of the answer.
fn send_raw(
    config: Arc<rustls::ClientConfig>,
    addr: String,
    head: String,
    body: Vec<Vec<u8>>,
    pause: Duration,
) -> String {
    let mut tls = connect(&config, &addr);
    tls.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    for piece in body {
        if tls.write_all(&piece).and_then(|()| tls.flush()).is_err() {
            break;
        }
        std::thread::sleep(pause);
        if !pause.is_zero()
            && let Some(bytes) = poll_answer(&mut tls)
        {
            answer = bytes;
            break;
        }
    }
    let start = Instant::now();
    while start.elapsed() < GIVE_UP {
        match poll_answer(&mut tls) {
            Some(bytes) if bytes.is_empty() => break,
            Some(bytes) => answer.extend(bytes),
            None if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") => break,
            None => {}
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn slow_clients_are_cut_while_others_are_served() {
    let node = node_with_short_timeouts().await;
    let config = tls_config(&node);
    let mut slow = Vec::new();
    for _ in 0..50 {
        let (config, addr) = (config.clone(), addr(&node));
        slow.push(tokio::task::spawn_blocking(move || trickle_head(config, addr)));
    }
    let mut stalled = Vec::new();
    for _ in 0..10 {
        let addr = addr(&node);
        stalled.push(tokio::task::spawn_blocking(move || stall_handshake(addr)));
    }
    // Meanwhile, ordinary requests are answered.
    for _ in 0..10 {
        assert_eq!(node.send(node.request(Method::GET, "/healthz")).await.status, 200);
        node.get("/api/v1/items").await.expect(200);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (i, task) in slow.into_iter().enumerate() {
        assert!(task.await.unwrap(), "slow connection {i} was still open after {GIVE_UP:?}");
    }
    for (i, task) in stalled.into_iter().enumerate() {
        assert!(task.await.unwrap(), "connection {i} without a handshake was still open after {GIVE_UP:?}");
    }
    assert_eq!(node.send(node.request(Method::GET, "/healthz")).await.status, 200);
    assert!(node.is_running());
}

#[tokio::test]
async fn a_trickled_body_is_408() {
    let node = node_with_short_timeouts().await;
    let before = node.snapshot().await;
    let body = br#"{"code":"XK00035000","name":"slow"}"#;
    let head = format!(
        "POST /api/v1/items HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        node.token,
        body.len()
    );
    // One byte a second: the 3 s body deadline passes long before the 35 bytes are sent.
    let pieces = body.iter().map(|b| vec![*b]).collect();
    let (config, addr) = (tls_config(&node), addr(&node));
    let answer = tokio::task::spawn_blocking(move || send_raw(config, addr, head, pieces, Duration::from_secs(1)))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"BODY_TIMEOUT\""), "{answer}");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "a trickled body");
    node.get("/api/v1/items").await.expect(200);
}

#[tokio::test]
async fn oversized_bodies_are_413_however_they_are_sent() {
    let node = node_with_short_timeouts().await;
    let before = node.snapshot().await;
    let (config, addr) = (tls_config(&node), addr(&node));
    let mib = 1024 * 1024;

    // Declared: a 1 GiB upload is refused from its head alone, without sending the body.
    let head = format!(
        "POST /api/v1/import?format=csv HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
        node.token,
        1024 * mib
    );
    let (c, a) = (config.clone(), addr.clone());
    let answer = tokio::task::spawn_blocking(move || send_raw(c, a, head, Vec::new(), Duration::ZERO)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"code\":\"PAYLOAD_TOO_LARGE\""), "{answer}");

    // Chunked, no length: the JSON API's 1 MiB limit is crossed in the stream.
    let head = format!(
        "POST /api/v1/items HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        node.token
    );
    let chunk = [format!("{:x}\r\n", 64 * 1024).into_bytes(), vec![b' '; 64 * 1024], b"\r\n".to_vec()].concat();
    let pieces = vec![chunk; 17];
    let (c, a) = (config.clone(), addr.clone());
    let answer = tokio::task::spawn_blocking(move || send_raw(c, a, head, pieces, Duration::ZERO)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"code\":\"PAYLOAD_TOO_LARGE\""), "{answer}");
    assert!(answer.contains("1 MiB"), "{answer}");

    // Whole: a JSON body just over 1 MiB, and an import just over its 8 MiB.
    let mut json = br#"{"code":"CF00148000","name":""#.to_vec();
    json.resize(json.len() + mib, b'a');
    json.extend_from_slice(br#""}"#);
    node.post_bytes("/api/v1/items", "application/json", json).await.expect_error(413, "PAYLOAD_TOO_LARGE");
    let csv = vec![b'#'; 8 * mib + 1];
    node.post_bytes("/api/v1/import?format=csv", "text/csv", csv).await.expect_error(413, "PAYLOAD_TOO_LARGE");

    TestNode::assert_unchanged(&before, &node.snapshot().await, "oversized bodies");
    assert_eq!(node.send(node.request(Method::GET, "/healthz")).await.status, 200);
    node.get("/api/v1/items").await.expect(200);
}
