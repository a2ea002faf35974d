//! Tools of the fault-injection tests: SIGKILL a node, serve it under a file-size limit (a full
//! disk without root), point a child at another parent address (a `FaultProxy`), check that a
//! node's projections equal a rebuild from its log, and a seeded generator of kill points.
//!
//! Works on `TestNode`s only through their data directory, process and HTTPS API; it never
//! edits a node's database.

use std::time::Duration;

use serde_json::Value;

use crate::federation::{Heads, fed_heads};
use crate::{TestNode, quanze_bin};

/// How long a verification or a rebuild of thousands of entries may take.
const SLOW_CALL: Duration = Duration::from_secs(300);
/// How long a killed process may take to be reaped.
const REAP_TIMEOUT: Duration = Duration::from_secs(10);

impl TestNode {
    /// Sends SIGKILL (no shutdown of any kind) and waits until the process is gone.
    pub async fn kill9(&mut self) {
        let mut child = self.child.take().expect("node is not running");
        child.start_kill().expect("cannot send SIGKILL");
        match tokio::time::timeout(REAP_TIMEOUT, child.wait()).await {
            Ok(status) => {
                let status = status.expect("cannot wait for quanze serve");
                assert!(!status.success(), "a killed node does not exit successfully: {status}");
            }
            Err(_) => panic!("quanze serve still running {REAP_TIMEOUT:?} after SIGKILL"),
        }
    }

    /// Serves the node with every file it writes limited to `bytes` (RLIMIT_FSIZE, through
    /// `ulimit -f` in 512-byte blocks) and SIGXFSZ ignored, so a write beyond the limit fails
    /// with EFBIG the way a full disk fails with ENOSPC.
    pub async fn serve_with_file_limit(&mut self, bytes: u64) {
        let blocks = bytes.div_ceil(512);
        let mut command = tokio::process::Command::new("sh");
        for var in ["QUANZE_DATA_DIR", "QUANZE_LISTEN", "QUANZE_DATABASE_URL", "QUANZE_NODE_URL", "QUANZE_NOW"] {
            command.env_remove(var);
        }
        command
            .env("QUANZE_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .arg("-c")
            .arg(format!("trap '' XFSZ; ulimit -f {blocks} && exec \"$0\" serve --data-dir \"$1\""))
            .arg(quanze_bin())
            .arg(&self.data_dir);
        if let Err(e) = self.serve_with(command).await {
            panic!("{e}");
        }
    }

    /// The largest file in the data directory (the database and its write-ahead log).
    pub fn largest_data_file(&self) -> u64 {
        std::fs::read_dir(&self.data_dir)
            .expect("data directory")
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .max()
            .unwrap_or(0)
    }

    /// Rewrites `parent_url` in `quanze.toml` (the node must be stopped; takes effect when it is
    /// served again). The pinned certificate stays: a proxy passes TLS through untouched.
    pub fn set_parent_url(&self, url: &str) {
        assert!(!self.is_running(), "change the parent address of a stopped node only");
        let path = self.data_dir.join("quanze.toml");
        let text = std::fs::read_to_string(&path).expect("quanze.toml");
        assert!(text.contains("parent_url"), "the node has a parent: {text}");
        let text: Vec<String> = text
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("parent_url") { format!("parent_url = \"{url}\"") } else { l.to_string() }
            })
            .collect();
        std::fs::write(&path, text.join("\n") + "\n").expect("cannot rewrite quanze.toml");
    }

    /// The loopback address the node listens on.
    pub fn socket_addr(&self) -> std::net::SocketAddr {
        self.url.trim_start_matches("https://").parse().expect("the node listens on ip:port")
    }

    /// Asserts the node is consistent: every log it holds verifies, and rebuilding every
    /// projection from the log changes neither its list nor its counts (nothing half-written).
    /// Entries of other logs may still arrive meanwhile, so the rebuild replays at least what
    /// was held before it and at most what is held after it, and no head goes back. Returns
    /// the heads after the rebuild.
    pub async fn assert_consistent(&self, what: &str) -> Heads {
        // Verifying thousands of signatures in a debug build on a loaded machine takes a while.
        let verify = self.authed(reqwest::Method::GET, "/api/v1/log/verify").timeout(SLOW_CALL);
        let report = self.send(verify).await.expect(200);
        assert_eq!(report["ok"], true, "{what}: {} verifies every log it holds: {report}", self.division);
        let (before, list, info) = (fed_heads(self).await, self.items().await, self.info().await);
        // A rebuild is one long write transaction; entries still arriving hold SQLite's write
        // lock in turns, and a rebuild that waits too long for it is answered 500: ask again.
        let mut replayed = None;
        for _ in 0..10 {
            let rebuild =
                self.authed(reqwest::Method::POST, "/api/v1/admin/rebuild").json(&Value::Null).timeout(SLOW_CALL);
            let reply = self.send(rebuild).await;
            if reply.status == 200 {
                replayed = Some(reply.json());
                break;
            }
            assert_eq!(reply.status, 500, "{what}: rebuild: {}", reply.text);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let replayed = replayed.unwrap_or_else(|| panic!("{what}: the rebuild never got the write lock"));
        let after = fed_heads(self).await;
        let total = |heads: &Heads| heads.values().map(|(seq, _)| seq).sum::<u64>();
        let replayed = replayed["replayed"].as_u64().expect("replayed");
        assert!(
            (total(&before)..=total(&after)).contains(&replayed),
            "{what}: the rebuild replays every entry held ({replayed} of {} … {})",
            total(&before),
            total(&after)
        );
        assert_eq!(self.items().await, list, "{what}: the list equals a rebuild from the log");
        let now = self.info().await;
        assert_eq!((&now["items"], &now["head"]), (&info["items"], &info["head"]), "{what}: counts equal a rebuild");
        for (origin, (seq, _)) in &before {
            let held = after.get(origin).map_or(0, |h| h.0);
            assert!(held >= *seq, "{what}: the head of {origin} went back from #{seq} to #{held} in a rebuild");
        }
        after
    }

    /// `quanze status` (text) against this node; asserts success and returns its output.
    pub async fn status_text(&self) -> String {
        let out = self.cli(["status"]).await;
        assert!(out.status.success(), "quanze status: {}", crate::describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// A small deterministic generator (SplitMix64): the same seed gives the same kill points.
#[derive(Debug, Clone)]
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Seeded {
        Seeded(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `range`.
    pub fn in_range(&mut self, range: std::ops::Range<u64>) -> u64 {
        range.start + self.next_u64() % (range.end - range.start)
    }
}
