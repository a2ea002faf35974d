//! Support for the black-box tests: builds the real `quanze` binary once per test process,
//! starts nodes in temporary data directories on free loopback ports, and talks to them over
//! HTTPS with a client that trusts exactly the node's own certificate (verification is never
//! turned off).
//!
//! Every `TestNode` is independent: its own data directory, port, operator token and process,
//! so tests may run in parallel. When a test panics, the node's log is printed on drop.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use tempfile::TempDir;
use tokio::process::{Child, Command};

pub mod browser;
pub mod faults;
pub mod federation;
pub mod postgres;
pub mod proxy;
pub mod samples;

/// How long a node may take to answer `/healthz` after `serve` is started.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a node may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// Environment that would point a child `quanze` at another node; removed for every child.
const QUANZE_ENV: [&str; 6] =
    ["QUANZE_DATA_DIR", "QUANZE_LISTEN", "QUANZE_DATABASE_URL", "QUANZE_NODE_URL", "QUANZE_LOG", "QUANZE_NOW"];

/// Installs the rustls crypto provider of this test process (aws-lc-rs); harmless when repeated.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The workspace root (the parent of this package).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The `quanze` binary, built once per test process with `$CARGO build -p quanze-node --bin
/// quanze` (debug profile) in the workspace root. Panics with the compiler output if the build
/// fails.
pub fn quanze_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = workspace_root();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = StdCommand::new(&cargo)
            .args(["build", "-p", "quanze-node", "--bin", "quanze"])
            .current_dir(&root)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {} to build quanze: {e}", cargo.to_string_lossy()));
        if !out.status.success() {
            panic!(
                "building quanze failed ({}):\n{}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => root.join(dir),
            None => root.join("target"),
        };
        let bin = target.join("debug").join("quanze");
        assert!(bin.is_file(), "cargo built quanze but {} does not exist", bin.display());
        bin
    })
    .clone()
}

/// A `quanze` command with the test environment: no inherited `QUANZE_*` settings, warnings
/// only, no standard input.
pub fn quanze_command() -> Command {
    let mut cmd = Command::new(quanze_bin());
    for var in QUANZE_ENV {
        cmd.env_remove(var);
    }
    cmd.env("QUANZE_LOG", "warn").stdin(Stdio::null());
    cmd
}

/// Runs `quanze <args>` to completion and returns its exit status and output.
pub async fn quanze<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    quanze_command().args(args).output().await.expect("cannot run quanze")
}

/// Standard output and error of a command, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("cannot bind 127.0.0.1:0").port()
}

/// Percent-encodes a query or path component (UTF-8 bytes; unreserved characters kept).
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An HTTPS client that trusts only the certificate in `pem` and refuses plain HTTP.
pub fn pinned_client(pem: &[u8]) -> reqwest::Client {
    install_crypto_provider();
    let cert = reqwest::Certificate::from_pem(pem).expect("node certificate is PEM");
    reqwest::Client::builder()
        .tls_certs_only([cert])
        .https_only(true)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("cannot build the pinned HTTPS client")
}

/// One HTTP answer, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub text: String,
}

impl Reply {
    /// The body as JSON; panics (showing the body) when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("HTTP {} answer is not JSON ({e}): {:?}", self.status, self.text))
    }

    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        self.json()
    }

    /// Asserts an error answer: the status, a JSON body with this `code` and a bilingual
    /// `message` ("中文 / English"). Returns the body.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        assert!(
            self.content_type.starts_with("application/json"),
            "error is not JSON: {:?} {}",
            self.content_type,
            self.text
        );
        let body = self.json();
        assert_eq!(body["code"], code, "unexpected error code; body: {body}");
        let message = body["message"].as_str().unwrap_or_else(|| panic!("error without a message: {body}"));
        assert_bilingual(message);
        body
    }
}

/// Asserts a message reads “中文 / English”: Chinese, then `/ `, then English. The slash follows
/// a space or, after full-width punctuation such as `）`, directly (`（operator.token）/ operator`).
#[track_caller]
pub fn assert_bilingual(message: &str) {
    let (zh, en) = message.split_once("/ ").unwrap_or_else(|| panic!("message is not “中文 / English”: {message}"));
    assert!(zh.chars().any(is_cjk), "no Chinese before the slash: {message}");
    assert!(zh.ends_with(' ') || zh.ends_with(|c: char| !c.is_ascii()), "no space before the slash: {message}");
    assert!(en.chars().any(|c| c.is_ascii_alphabetic()), "no English after the slash: {message}");
}

/// Whether `c` is a CJK ideograph.
pub fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// What a write could have changed: the log head, the item count and the whole list.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub head: Value,
    pub items: u64,
    pub list: Value,
}

impl Snapshot {
    /// Seq of the own log head (0 before the first entry).
    pub fn seq(&self) -> u64 {
        self.head["seq"].as_u64().unwrap_or(0)
    }
}

/// A running (or stopped) `quanze serve` process with its own data directory.
#[derive(Debug)]
pub struct TestNode {
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    /// The node's data directory (`quanze.toml`, `node.key`, `operator.token`, `tls/`, `quanze.db`).
    pub data_dir: PathBuf,
    /// Division code, e.g. `510521`.
    pub division: String,
    /// The operator bearer token from `operator.token`.
    pub token: String,
    /// HTTPS client pinned to the node's certificate.
    pub client: reqwest::Client,
    pub(crate) child: Option<Child>,
    /// `QUANZE_NOW` for the server: its clock starts at this instant (the test controls time).
    pub now: Option<String>,
    /// Holds the data directory, the server's output files and scratch files.
    pub(crate) root: TempDir,
}

impl TestNode {
    /// `quanze init` a new node (`tier`, `division`, `name`) on a free loopback port and
    /// `quanze serve` it; returns when `/healthz` answers. Panics with the server's output if
    /// it does not come up.
    pub async fn start(tier: &str, division: &str, name: &str) -> TestNode {
        install_crypto_provider();
        let mut last = String::new();
        // A port found free can be taken by another test before the node binds it; try again then.
        for _ in 0..3 {
            match TestNode::try_start(tier, division, name).await {
                Ok(node) => return node,
                Err(e) if e.contains("无法监听") => last = e,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("{last}")
    }

    /// A county node: 510521 泸县.
    pub async fn luxian() -> TestNode {
        TestNode::start("county", "510521", "泸县").await
    }

    async fn try_start(tier: &str, division: &str, name: &str) -> Result<TestNode, String> {
        let root =
            tempfile::Builder::new().prefix("quanze-blackbox-").tempdir().expect("cannot make a temporary directory");
        let data_dir = root.path().join("node");
        let listen = format!("127.0.0.1:{}", free_port());
        let mut args: Vec<OsString> =
            ["init", "--tier", tier, "--division", division, "--name", name, "--listen", &listen, "--data-dir"]
                .map(OsString::from)
                .into();
        if tier != "province" {
            // A node of its own, outside any federation (list tests need no province).
            args.insert(1, "--standalone".into());
        }
        args.push(data_dir.clone().into_os_string());
        let out = quanze(args).await;
        if !out.status.success() {
            return Err(format!("quanze init failed: {}", describe(&out)));
        }
        let mut node = TestNode::open(root, data_dir, &listen, division);
        node.serve().await?;
        Ok(node)
    }

    /// A handle on a node that `quanze init` made in `data_dir` (not started): reads its
    /// operator token and certificate.
    pub(crate) fn open(root: TempDir, data_dir: PathBuf, listen: &str, division: &str) -> TestNode {
        let token = std::fs::read_to_string(data_dir.join("operator.token")).expect("init wrote operator.token");
        let pem = std::fs::read(data_dir.join("tls/cert.pem")).expect("init wrote tls/cert.pem");
        TestNode {
            url: format!("https://{listen}"),
            data_dir,
            division: division.to_string(),
            token: token.trim().to_string(),
            client: pinned_client(&pem),
            child: None,
            now: None,
            root,
        }
    }

    /// Spawns `quanze serve` on the data directory and waits for `/healthz`.
    pub(crate) async fn serve(&mut self) -> Result<(), String> {
        let mut command = quanze_command();
        command.arg("serve").arg("--data-dir").arg(&self.data_dir);
        self.serve_with(command).await
    }

    /// Spawns `command` (a `quanze serve` of this data directory, perhaps wrapped) with the
    /// node's clock and output files, and waits for `/healthz`.
    pub(crate) async fn serve_with(&mut self, mut command: Command) -> Result<(), String> {
        assert!(self.child.is_none(), "node is already running");
        // Appended, so the output of earlier runs on this data directory stays readable.
        let log = |name: &str| {
            File::options()
                .create(true)
                .append(true)
                .open(self.root.path().join(name))
                .unwrap_or_else(|e| panic!("cannot open {name}: {e}"))
        };
        let (stdout, stderr) = (log("serve.stdout"), log("serve.stderr"));
        if let Some(now) = &self.now {
            command.env("QUANZE_NOW", now);
        }
        let child = command
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot spawn quanze serve: {e}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + HEALTH_TIMEOUT;
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                self.child = None;
                return Err(format!("quanze serve exited early ({status}):\n{}", self.server_log()));
            }
            let probe = self.client.get(format!("{}/healthz", self.url)).timeout(Duration::from_secs(2)).send().await;
            if let Ok(res) = probe
                && res.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "node at {} not healthy after {HEALTH_TIMEOUT:?}:\n{}",
                    self.url,
                    self.server_log()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Restarts the server with its clock starting at `now` (a day or an RFC 3339 instant).
    pub async fn set_clock(&mut self, now: &str) {
        if self.is_running() {
            self.stop().await;
        }
        self.now = Some(now.to_string());
        self.restart().await;
    }

    /// Serves the same data directory again after `stop`.
    pub async fn restart(&mut self) {
        if let Err(e) = self.serve().await {
            panic!("{e}");
        }
    }

    /// Whether the server process is running (as far as this handle knows).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Sends SIGTERM, waits for the process to exit and asserts it exited successfully
    /// (graceful shutdown).
    pub async fn stop(&mut self) {
        let mut child = self.child.take().expect("node is not running");
        let pid = child.id().expect("a running child has a pid");
        let kill = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await.expect("cannot run kill");
        assert!(kill.success(), "kill -TERM {pid} failed: {kill}");
        let status = match tokio::time::timeout(STOP_TIMEOUT, child.wait()).await {
            Ok(status) => status.expect("cannot wait for quanze serve"),
            Err(_) => panic!("quanze serve did not exit within {STOP_TIMEOUT:?} of SIGTERM:\n{}", self.server_log()),
        };
        assert!(status.success(), "quanze serve did not shut down cleanly ({status}):\n{}", self.server_log());
    }

    /// The server's standard output and error so far.
    pub fn server_log(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.root.path().join(name)).unwrap_or_default();
        format!("--- serve stdout ---\n{}--- serve stderr ---\n{}", read("serve.stdout"), read("serve.stderr"))
    }

    /// A path for scratch files next to (not inside) the data directory.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// The SQLite database file.
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("quanze.db")
    }

    /// Runs `quanze <args> --data-dir <this node>`.
    pub async fn cli<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        quanze_command().args(args).arg("--data-dir").arg(&self.data_dir).output().await.expect("cannot run quanze")
    }

    /// A request without the operator token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url))
    }

    /// A request with the operator token.
    pub fn authed(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(&self.token)
    }

    /// Sends a request and reads the whole answer.
    pub async fn send(&self, rb: RequestBuilder) -> Reply {
        let res =
            rb.send().await.unwrap_or_else(|e| panic!("request to {} failed: {e:?}\n{}", self.url, self.server_log()));
        let status = res.status().as_u16();
        let content_type =
            res.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = res.text().await.expect("cannot read the answer body");
        Reply { status, content_type, text }
    }

    /// A `GET` with the operator token (reads need a caller; `request` sends none).
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.authed(Method::GET, path)).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send(self.authed(Method::POST, path).json(body)).await
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> Reply {
        self.send(self.authed(Method::PATCH, path).json(body)).await
    }

    pub async fn post_bytes(&self, path: &str, content_type: &str, bytes: impl Into<Vec<u8>>) -> Reply {
        let rb = self.authed(Method::POST, path).header(reqwest::header::CONTENT_TYPE, content_type).body(bytes.into());
        self.send(rb).await
    }

    /// Adds an item; asserts 201 and returns the answer.
    pub async fn add_item(&self, item: &Value) -> Value {
        self.post_json("/api/v1/items", item).await.expect(201)
    }

    /// `GET /api/v1/node`.
    pub async fn info(&self) -> Value {
        self.get("/api/v1/node").await.expect(200)
    }

    /// Seq of the own log head (0 before the first entry).
    pub async fn head_seq(&self) -> u64 {
        self.info().await["head"]["seq"].as_u64().unwrap_or(0)
    }

    /// The first page (up to 1000) of `GET /api/v1/items`.
    pub async fn items(&self) -> Value {
        self.get("/api/v1/items?limit=1000").await.expect(200)
    }

    /// The head, item count and whole list, to show that a refused request changed nothing.
    pub async fn snapshot(&self) -> Snapshot {
        let info = self.info().await;
        Snapshot {
            head: info["head"].clone(),
            items: info["items"].as_u64().expect("items count"),
            list: self.items().await,
        }
    }

    /// Asserts nothing was written since `before`.
    #[track_caller]
    pub fn assert_unchanged(before: &Snapshot, after: &Snapshot, what: &str) {
        assert_eq!(before, after, "{what} changed the node");
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("node {} ({}):\n{}", self.division, self.url, self.server_log());
        }
        // `kill_on_drop` stops a process still running.
    }
}

/// Codes of the items in a `GET /api/v1/items` page, in the order given.
pub fn codes(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items array")
        .iter()
        .map(|i| i["code"].as_str().expect("code").to_string())
        .collect()
}

/// The items of a page with the given keys removed from each (e.g. `last_seq`, `updated_at`).
pub fn items_without(page: &Value, keys: &[&str]) -> Vec<Value> {
    page["items"]
        .as_array()
        .expect("items array")
        .iter()
        .map(|item| {
            let mut item = item.clone();
            if let Some(obj) = item.as_object_mut() {
                for k in keys {
                    obj.remove(*k);
                }
            }
            item
        })
        .collect()
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Runs one SQL statement on a stopped node's SQLite file: with the `sqlite3` command when it
/// is installed, otherwise through sqlx.
pub async fn sqlite_exec(db: &Path, sql: &str) {
    match Command::new("sqlite3").arg(db).arg(sql).stdin(Stdio::null()).output().await {
        Ok(out) => assert!(out.status.success(), "sqlite3 failed: {}", describe(&out)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => sqlite_exec_sqlx(db, sql).await,
        Err(e) => panic!("cannot run sqlite3: {e}"),
    }
}

/// `sqlite_exec` without the `sqlite3` command.
pub async fn sqlite_exec_sqlx(db: &Path, sql: &str) {
    use sqlx::sqlite::SqliteConnectOptions;
    let opts = SqliteConnectOptions::new().filename(db).create_if_missing(false);
    let pool =
        sqlx::SqlitePool::connect_with(opts).await.unwrap_or_else(|e| panic!("cannot open {}: {e}", db.display()));
    // The statement comes from the test itself.
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    pool.close().await;
}
