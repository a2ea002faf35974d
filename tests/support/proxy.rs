//! A fault-injecting TCP proxy for the black-box tests: listens on a free loopback port and
//! forwards bytes to one upstream address, untouched (TLS passes through; the child still
//! verifies the parent's pinned certificate end to end). The test switches its mode at run time:
//!
//! * `Pass` — forward both ways (with `delay`, each chunk waits that long first);
//! * `BlackHole` — accept connections and never answer; bytes on open connections are dropped;
//! * `Reset` — close every open connection and close new ones at once (a refused link).
//!
//! Owns only its listener and the connections it accepted; it never looks inside the bytes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with traffic now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward, each chunk after `delay` (zero: at once).
    Pass { delay: Duration },
    /// Accept and never answer.
    BlackHole,
    /// Close everything.
    Reset,
}

impl Mode {
    /// Forward at once.
    pub const PASS: Mode = Mode::Pass { delay: Duration::ZERO };
}

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    /// `127.0.0.1:<port>` the proxy listens on.
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    accepted: Arc<Mutex<u64>>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (e.g. `127.0.0.1:4431`), in `Pass` mode.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("cannot bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (mode, watching) = watch::channel(Mode::PASS);
        let accepted = Arc::new(Mutex::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { continue };
                *counter.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
                tokio::spawn(connection(client, upstream, watching.clone()));
            }
        });
        FaultProxy { addr, mode, accepted, task }
    }

    /// The `https://` URL of the proxy.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Switches the mode; open connections follow at once.
    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        *self.mode.borrow()
    }

    /// Connections accepted so far (in any mode).
    pub fn accepted(&self) -> u64 {
        *self.accepted.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.set(Mode::Reset);
    }
}

/// One accepted connection, until either side closes or the mode is `Reset`.
async fn connection(client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    if *mode.borrow_and_update() == Mode::Reset {
        return;
    }
    // In a black hole the client waits; once it is lifted the connection is made.
    loop {
        let now = *mode.borrow();
        match now {
            Mode::Reset => return,
            Mode::Pass { .. } => break,
            Mode::BlackHole => {
                if mode.changed().await.is_err() {
                    return;
                }
            }
        }
    }
    let Ok(server) = TcpStream::connect(upstream).await else { return };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = tokio::spawn(pipe(client_read, server_write, mode.clone()));
    let down = tokio::spawn(pipe(server_read, client_write, mode));
    let _ = tokio::join!(up, down);
}

/// Copies one direction, obeying the mode chunk by chunk.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            changed = mode.changed() => {
                let now = *mode.borrow();
                if changed.is_err() || now == Mode::Reset {
                    return;
                }
                continue;
            }
        };
        let now = *mode.borrow();
        match now {
            Mode::Reset => return,
            // Dropped: the peer never hears of it.
            Mode::BlackHole => continue,
            Mode::Pass { delay } if !delay.is_zero() => tokio::time::sleep(delay).await,
            Mode::Pass { .. } => {}
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
