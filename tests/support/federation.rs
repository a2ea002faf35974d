//! Federations of real processes for the black-box tests: 四川省 510000 → 泸州市 510500 → 泸县
//! 510521 → 福集镇 510521100, each node a `quanze serve` in its own temporary data directory,
//! enrolled the way an operator does it: `quanze child invite` on the parent, `quanze init
//! --join <invite>` on the child.
//!
//! Also the tools to forge what a misbehaving peer would send: entries signed with a node's
//! real key read from its `node.key` (or a random one), in the wire form `POST /fed/push` takes.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use quanze_domain::{Op, PowerItem};
use quanze_ledger::{ChainHead, Hash, NodeKey};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{TestNode, describe, free_port, install_crypto_provider, quanze};

/// The four tiers, top down: (tier, division, name).
pub const TIERS: [(&str, &str, &str); 4] = [
    ("province", "510000", "四川省"),
    ("city", "510500", "泸州市"),
    ("county", "510521", "泸县"),
    ("township", "510521100", "福集镇"),
];

pub const PROVINCE: &str = "510000";
pub const CITY: &str = "510500";
pub const COUNTY: &str = "510521";
pub const TOWNSHIP: &str = "510521100";

/// Every origin a node holds: origin → (seq, hash hex).
pub type Heads = BTreeMap<String, (u64, String)>;

/// A chain of running nodes, top down (`nodes[0]` is the province).
#[derive(Debug)]
pub struct Federation {
    pub nodes: Vec<TestNode>,
}

impl Federation {
    /// Starts the first `tiers` (1–4) nodes of `TIERS`, each enrolled by its parent's invite, and
    /// waits until every node holds the enrolments written so far.
    pub async fn start(tiers: usize) -> Federation {
        assert!((1..=4).contains(&tiers), "a federation has 1–4 tiers");
        let (tier, division, name) = TIERS[0];
        let mut nodes = vec![TestNode::start(tier, division, name).await];
        for &(tier, division, name) in &TIERS[1..tiers] {
            let parent = nodes.last().expect("a parent");
            let child = TestNode::join(parent, tier, division, name).await;
            nodes.push(child);
        }
        let fed = Federation { nodes };
        fed.wait_converged(Duration::from_secs(30)).await;
        fed
    }

    pub fn province(&self) -> &TestNode {
        &self.nodes[0]
    }
    pub fn city(&self) -> &TestNode {
        &self.nodes[1]
    }
    pub fn county(&self) -> &TestNode {
        &self.nodes[2]
    }
    pub fn township(&self) -> &TestNode {
        &self.nodes[3]
    }

    /// The node of `division`.
    pub fn node_mut(&mut self, division: &str) -> &mut TestNode {
        self.nodes.iter_mut().find(|n| n.division == division).unwrap_or_else(|| panic!("no node {division}"))
    }

    /// Waits until every node holds every origin at the head its writer has and all nodes hold
    /// the same heads; returns the time taken. Panics with every node's heads after `limit`.
    pub async fn wait_converged(&self, limit: Duration) -> Duration {
        let start = Instant::now();
        eventually(&format!("{} nodes converge", self.nodes.len()), limit, async || {
            let mut all = Vec::new();
            for n in &self.nodes {
                all.push((n.division.clone(), fed_heads(n).await));
            }
            let own: Vec<(&String, Option<&(u64, String)>)> = all.iter().map(|(d, h)| (d, h.get(d))).collect();
            let converged = all.windows(2).all(|w| w[0].1 == w[1].1)
                && own.iter().all(|(d, own)| own.is_none_or(|o| all.iter().all(|(_, h)| h.get(*d) == Some(o))));
            if converged { Ok(()) } else { Err(format!("heads: {all:#?}")) }
        })
        .await;
        start.elapsed()
    }
}

impl TestNode {
    /// A child of `parent`: `quanze child invite` on the parent, `quanze init --join <invite>` on
    /// a free loopback port, then `quanze serve`. Returns when `/healthz` answers.
    pub async fn join(parent: &TestNode, tier: &str, division: &str, name: &str) -> TestNode {
        install_crypto_provider();
        let out = parent.cli(["child", "invite", "--division", division, "--tier", tier, "--name", name]).await;
        assert!(out.status.success(), "quanze child invite {division} failed: {}", describe(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let invite = stdout.lines().last().unwrap_or("").trim().to_string();
        assert!(invite.starts_with("qz1."), "the invite is the last line of `child invite`: {}", describe(&out));

        let root =
            tempfile::Builder::new().prefix("quanze-blackbox-").tempdir().expect("cannot make a temporary directory");
        let data_dir = root.path().join("node");
        let listen = format!("127.0.0.1:{}", free_port());
        let args: Vec<OsString> = vec![
            "init".into(),
            "--join".into(),
            invite.into(),
            "--listen".into(),
            listen.clone().into(),
            "--data-dir".into(),
            data_dir.clone().into(),
        ];
        let out = quanze(args).await;
        assert!(out.status.success(), "quanze init --join ({division}) failed: {}", describe(&out));
        let mut node = TestNode::open(root, data_dir, &listen, division);
        node.serve_anywhere().await;
        node
    }

    /// `quanze serve`, moving to another free port when the chosen one was taken meanwhile
    /// (allowed while nothing points at this node: it has no children yet).
    async fn serve_anywhere(&mut self) {
        for attempt in 0..3 {
            match self.serve().await {
                Ok(()) => return,
                Err(e) if e.contains("无法监听") && attempt < 2 => {
                    let listen = format!("127.0.0.1:{}", free_port());
                    self.set_listen(&listen);
                }
                Err(e) => panic!("{}: {e}", self.division),
            }
        }
        unreachable!("the last attempt panics or returns")
    }

    /// Rewrites `listen` in `quanze.toml` (before the node has children).
    fn set_listen(&mut self, listen: &str) {
        let path = self.data_dir.join("quanze.toml");
        let text = std::fs::read_to_string(&path).expect("quanze.toml");
        let text: String = text
            .lines()
            .map(
                |l| if l.trim_start().starts_with("listen") { format!("listen = \"{listen}\"") } else { l.to_string() },
            )
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&path, text + "\n").expect("cannot rewrite quanze.toml");
        self.url = format!("https://{listen}");
    }

    /// Serves a copy of the data directory `src` (an upgrade fixture) on a free port: secret
    /// files made 0600 again (git keeps no modes) and, when given, `database_url` written into
    /// its config.
    pub async fn from_copy(src: &Path, division: &str, database_url: Option<&str>) -> TestNode {
        install_crypto_provider();
        let root =
            tempfile::Builder::new().prefix("quanze-blackbox-").tempdir().expect("cannot make a temporary directory");
        let data_dir = root.path().join("node");
        copy_dir(src, &data_dir);
        for secret in ["node.key", "operator.token", "tls/key.pem"] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(data_dir.join(secret), std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
        }
        if let Some(url) = database_url {
            let path = data_dir.join("quanze.toml");
            let text = std::fs::read_to_string(&path).expect("quanze.toml");
            let text: Vec<String> = text
                .lines()
                .map(|l| if l.trim_start().starts_with("url") { format!("url = \"{url}\"") } else { l.to_string() })
                .collect();
            std::fs::write(&path, text.join("\n") + "\n").expect("cannot rewrite quanze.toml");
        }
        let listen = format!("127.0.0.1:{}", free_port());
        let mut node = TestNode::open(root, data_dir, &listen, division);
        node.set_listen(&listen);
        node.serve_anywhere().await;
        node
    }

    /// `GET /api/v1/fed/status`.
    pub async fn fed_status(&self) -> Value {
        self.get("/api/v1/fed/status").await.expect(200)
    }

    /// The node's signing key, read from its `node.key`.
    pub fn key(&self) -> NodeKey {
        let text = std::fs::read_to_string(self.data_dir.join("node.key")).expect("node.key");
        NodeKey::from_seed_hex(&text).expect("node.key holds a hex seed")
    }

    /// Copies the data directory to `backup` (the node must be stopped).
    pub fn backup_data_dir(&self, backup: &Path) {
        assert!(!self.is_running(), "copy the data directory of a stopped node only");
        copy_dir(&self.data_dir, backup);
    }

    /// Replaces the data directory by the copy in `backup` (the node must be stopped).
    pub fn restore_data_dir(&self, backup: &Path) {
        assert!(!self.is_running(), "replace the data directory of a stopped node only");
        std::fs::remove_dir_all(&self.data_dir).expect("cannot remove the data directory");
        copy_dir(backup, &self.data_dir);
    }
}

/// Copies a directory tree (files and directories only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("cannot create {}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("cannot read {}: {e}", from.display())) {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("cannot copy {}: {e}", entry.path().display()));
        }
    }
}

/// Polls `probe` every 100 ms until it answers `Ok`, and returns that. After `limit` panics
/// with `what` and the last `Err` description.
pub async fn eventually<T>(what: &str, limit: Duration, mut probe: impl AsyncFnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(state) if Instant::now() >= deadline => panic!("not within {limit:?}: {what}\nlast seen: {state}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The heads of `GET /api/v1/fed/heads` (signed statement; signature not checked here).
pub async fn fed_heads(node: &TestNode) -> Heads {
    let v = node.get("/api/v1/fed/heads").await.expect(200);
    assert_eq!(v["node"], node.division.as_str(), "heads statement names the node: {v}");
    parse_heads(&v["heads"])
}

/// The heads printed by `quanze log heads --json --data-dir <node>` (reads the data directory).
pub async fn cli_heads(node: &TestNode) -> Heads {
    let out = node.cli(["log", "heads", "--json"]).await;
    assert!(out.status.success(), "quanze log heads --json failed: {}", describe(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(&out)));
    parse_heads(&v)
}

fn parse_heads(list: &Value) -> Heads {
    list.as_array()
        .unwrap_or_else(|| panic!("heads are a list: {list}"))
        .iter()
        .map(|h| {
            let origin = h["origin"].as_str().expect("origin").to_string();
            let seq = h["seq"].as_u64().expect("seq");
            (origin, (seq, h["hash"].as_str().expect("hash").to_string()))
        })
        .collect()
}

/// The chain head of `origin` in `heads`, for signing the entry after it.
pub fn chain_head(heads: &Heads, origin: &str) -> Option<ChainHead> {
    heads.get(origin).map(|(seq, hash)| ChainHead { seq: *seq, hash: hash.parse().expect("head hash is hex") })
}

/// A chain head that is not in any log (for gaps).
pub fn made_up_head(seq: u64) -> ChainHead {
    ChainHead { seq, hash: Hash::of(format!("no such entry #{seq}").as_bytes()) }
}

/// A licensing item (行政许可) for `POST /api/v1/items` or an `Op`.
pub fn item(code: &str, name: &str, implementing_body: &str) -> Value {
    json!({
        "code": code,
        "name": name,
        "category": "行政许可",
        "basis": [{"law": "中华人民共和国行政许可法", "article": "第十二条"}],
        "implementing_body": implementing_body
    })
}

/// The item JSON as the domain type, for signing ops.
pub fn power_item(item: &Value) -> PowerItem {
    serde_json::from_value(item.clone()).unwrap_or_else(|e| panic!("not a PowerItem ({e}): {item}"))
}

/// Signs `ops` as the entry of `origin` after `head` with `key`; returns the wire form (exact
/// bytes as a string, signature, hash) as JSON.
pub fn forge(key: &NodeKey, origin: &str, head: Option<ChainHead>, ops: Vec<Op>) -> Value {
    let origin = quanze_domain::DivisionCode::parse(origin).expect("division code");
    let entry = quanze_ledger::sign_entry(key, &origin, head.as_ref(), chrono::Utc::now(), ops).expect("sign_entry");
    serde_json::to_value(entry.to_wire()).expect("wire entry is JSON")
}

/// `POST /api/v1/fed/push` (no operator token: peers authenticate by signatures) of `entries`
/// as from `from`; asserts 200 and returns the deliveries.
pub async fn push(receiver: &TestNode, from: &str, entries: &[Value]) -> Vec<Value> {
    let body = json!({ "from": from, "entries": entries });
    let reply = receiver.send(receiver.request(Method::POST, "/api/v1/fed/push").json(&body)).await;
    let answer = reply.expect(200);
    let deliveries = answer["deliveries"].as_array().unwrap_or_else(|| panic!("deliveries: {answer}")).clone();
    assert_eq!(deliveries.len(), entries.len(), "one delivery per entry: {answer}");
    deliveries
}

/// Asserts a delivery is a refusal with `code` and a message.
#[track_caller]
pub fn assert_refused(delivery: &Value, code: &str, what: &str) {
    assert_eq!(delivery["outcome"], "refused", "{what}: expected a refusal, got {delivery}");
    assert_eq!(delivery["code"], code, "{what}: wrong refusal code in {delivery}");
    let message = delivery["message"].as_str().unwrap_or_else(|| panic!("{what}: refusal without message: {delivery}"));
    assert!(!message.is_empty(), "{what}: empty refusal message");
}

// --- Lifecycle: invites, key rotation, disk recovery -------------------------------------------

impl TestNode {
    /// `quanze child invite` on this node (the parent); returns the invite (the last line).
    pub async fn invite(&self, division: &str, tier: &str, name: &str) -> String {
        let out = self.cli(["child", "invite", "--division", division, "--tier", tier, "--name", name]).await;
        assert!(out.status.success(), "quanze child invite {division} failed: {}", describe(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let invite = stdout.lines().last().unwrap_or("").trim().to_string();
        assert!(invite.starts_with("qz1."), "the invite is the last line of `child invite`: {}", describe(&out));
        invite
    }

    /// `GET /api/v1/log/verify`; asserts every log this node holds verifies.
    pub async fn assert_verifies(&self) -> Value {
        let report = self.get("/api/v1/log/verify").await.expect(200);
        assert_eq!(report["ok"], true, "{} verifies every log it holds: {report}", self.division);
        report
    }
}

/// How a new node uses an invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrol {
    /// `quanze init --join INVITE`: a division never enrolled before.
    Join,
    /// `quanze recover --join-again INVITE`: a division whose data directory was lost.
    Recover,
}

/// A data directory (not made yet) on a free loopback port, for `init --join` or `recover
/// --join-again`; `serve` turns it into a running `TestNode`.
#[derive(Debug)]
pub struct NewNode {
    pub division: String,
    pub data_dir: std::path::PathBuf,
    listen: String,
    root: tempfile::TempDir,
}

impl NewNode {
    pub fn new(division: &str) -> NewNode {
        install_crypto_provider();
        let root =
            tempfile::Builder::new().prefix("quanze-blackbox-").tempdir().expect("cannot make a temporary directory");
        NewNode {
            division: division.to_string(),
            data_dir: root.path().join("node"),
            listen: format!("127.0.0.1:{}", free_port()),
            root,
        }
    }

    /// Runs `quanze init --join INVITE` or `quanze recover --join-again INVITE` with `--listen`
    /// and `--data-dir` of this node; returns the command's output (success or not).
    pub async fn enrol(&self, how: Enrol, invite: &str) -> std::process::Output {
        let command: [&str; 2] = match how {
            Enrol::Join => ["init", "--join"],
            Enrol::Recover => ["recover", "--join-again"],
        };
        let mut args: Vec<OsString> = command.map(OsString::from).into();
        args.extend([
            invite.into(),
            "--listen".into(),
            self.listen.clone().into(),
            "--data-dir".into(),
            self.data_dir.clone().into(),
        ]);
        quanze(args).await
    }

    /// The regular files under the data directory (none when it does not exist).
    pub fn files(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for entry in entries.flatten() {
                match entry.file_type() {
                    Ok(t) if t.is_dir() => walk(&entry.path(), out),
                    _ => out.push(entry.path()),
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.data_dir, &mut out);
        out
    }

    /// `quanze serve` on the data directory made by a successful `enrol`; returns when
    /// `/healthz` answers. The node has no children yet, so it may move to another port when
    /// its port was taken meanwhile.
    pub async fn serve(self) -> TestNode {
        let mut node = TestNode::open(self.root, self.data_dir, &self.listen, &self.division);
        node.serve_anywhere().await;
        node
    }
}

/// `(seq, hash)` of the entry in a write's answer (`{"entry": {origin, seq, hash}, …}`).
#[track_caller]
pub fn entry_head(written: &Value, origin: &str) -> (u64, String) {
    let entry = &written["entry"];
    assert_eq!(entry["origin"], origin, "written by {origin}: {written}");
    (entry["seq"].as_u64().expect("entry.seq"), entry["hash"].as_str().expect("entry.hash").to_string())
}

/// Waits up to `limit` until `node` holds `origin` at exactly `head` (seq, hash).
pub async fn wait_head(node: &TestNode, origin: &str, head: &(u64, String), limit: Duration, what: &str) {
    eventually(what, limit, async || {
        let heads = fed_heads(node).await;
        match heads.get(origin) {
            Some(h) if h == head => Ok(()),
            other => {
                let parent = node.fed_status().await["parent"].clone();
                let parent = if parent.is_null() { String::new() } else { format!("\nits parent link: {parent}") };
                Err(format!("{} holds {origin} at {other:?}, want {head:?}{parent}", node.division))
            }
        }
    })
    .await;
}

/// The invite with its JSON content changed by `edit` and encoded again (`qz1.` + base64url).
/// The certificate and its fingerprint stay as they were, so only what `edit` changes differs.
pub fn edit_invite(invite: &str, edit: impl FnOnce(&mut Value)) -> String {
    let body = invite.trim().strip_prefix("qz1.").expect("an invite starts with qz1.");
    let json = base64url_decode(body).expect("the invite is base64url");
    let mut value: Value = serde_json::from_slice(&json).expect("the invite holds JSON");
    edit(&mut value);
    format!("qz1.{}", base64url_encode(&serde_json::to_vec(&value).expect("JSON")))
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding (RFC 4648 §5), as invites use it.
pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(BASE64URL[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Decodes base64url without padding; `None` for a character outside the alphabet.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = BASE64URL.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
