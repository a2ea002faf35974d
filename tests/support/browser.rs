//! Headless Chromium for the console's browser tests, driven over WebDriver (chromedriver) by
//! fantoccini: start it with a fresh profile at 1366×768, sign in, fill, click, wait for text,
//! and save screenshots where CI keeps them (`target/browser-screenshots`, or
//! `QUANZE_SCREENSHOT_DIR`).
//!
//! Owns the browser process and its WebDriver session; knows nothing of the console's pages
//! beyond the sign-in form. Without Chromium a test skips locally and fails under `CI=true`,
//! where `.ci/run` installs Debian's `chromium` and `chromium-driver`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::{free_port, workspace_root};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a page may take to show what a test waits for.
const WAIT: Duration = Duration::from_secs(20);

/// The flags Chromium needs on a closed, headless CI machine (no GPU, no sandbox as root, no
/// calls home), at the console's design size. The node's certificate is self-signed per node,
/// so the test profile accepts it.
fn chromium_args(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--ignore-certificate-errors",
        "--window-size=1366,768",
        "--lang=zh-CN",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

/// A headless Chromium under test.
#[derive(Debug)]
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    /// Prefix of this test's screenshots.
    test: String,
    shots: u32,
}

impl Browser {
    /// Starts chromedriver and a Chromium session, or `None` (with a note) when Chromium is not
    /// installed and this is not CI.
    pub async fn start(test: &str) -> Option<Browser> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "browser tests need {CHROMIUM} and {CHROMEDRIVER}: apt-get install chromium chromium-driver"
            );
            eprintln!("skipping {test}: Chromium is not installed (apt-get install chromium chromium-driver)");
            return None;
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot start chromedriver");
        let profile = tempfile::Builder::new().prefix("quanze-chromium-").tempdir().expect("temporary profile");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), json!({ "binary": CHROMIUM, "args": chromium_args(profile.path()) }));
        caps.insert("unhandledPromptBehavior".into(), json!("accept"));
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
                Ok(c) => break c,
                Err(e) if started.elapsed() < WAIT => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("cannot open a Chromium session through chromedriver: {e}"),
            }
        };
        Some(Browser { client, driver, _profile: profile, test: test.to_string(), shots: 0 })
    }

    /// Opens `url` and waits until the document has loaded.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        self.wait_ready().await;
    }

    async fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            let state = self.client.execute("return document.readyState", vec![]).await;
            if matches!(state.as_ref().ok().and_then(Value::as_str), Some("complete")) {
                return;
            }
            assert!(started.elapsed() < WAIT, "the page did not finish loading");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Signs in on `<base>/console/login?next=<next>` and waits until the browser has left the
    /// sign-in page.
    pub async fn sign_in(&self, base: &str, login: &str, password: &str, next: &str) {
        self.open(&format!("{base}/console/login?next={}", crate::enc(next))).await;
        self.fill("#login input[name=login]", login).await;
        self.fill("#login input[name=password]", password).await;
        self.click("#login button[type=submit]").await;
        let started = Instant::now();
        while self.path().await.starts_with("/console/login") {
            assert!(started.elapsed() < WAIT, "still on the sign-in page: {}", self.body_text().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.wait_ready().await;
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Types `text` into the field matched by `css` (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await;
        let el = el.unwrap_or_else(|e| panic!("no field {css}: {e}"));
        el.clear().await.unwrap_or_else(|e| panic!("cannot clear {css}: {e}"));
        el.send_keys(text).await.unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    /// Picks the option with `value` in the select matched by `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let el = self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await;
        let el = el.unwrap_or_else(|e| panic!("no select {css}: {e}"));
        el.select_by_value(value).await.unwrap_or_else(|e| panic!("no option {value} in {css}: {e}"));
    }

    /// Chooses `file` in the file input matched by `css`.
    pub async fn choose_file(&self, css: &str, file: &Path) {
        let el = self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await;
        let el = el.unwrap_or_else(|e| panic!("no file input {css}: {e}"));
        el.send_keys(&file.display().to_string()).await.unwrap_or_else(|e| panic!("cannot choose {file:?}: {e}"));
    }

    /// Clicks the element matched by `css`, answering "yes" to a confirmation it asks.
    pub async fn click(&self, css: &str) {
        self.client.execute("window.confirm = function () { return true; };", vec![]).await.expect("script runs");
        let el = self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await;
        let el = el.unwrap_or_else(|e| panic!("nothing to click at {css}: {e}"));
        el.click().await.unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    /// Clicks the link or button whose text contains `text`.
    pub async fn click_text(&self, text: &str) {
        let xpath = format!("//*[self::a or self::button][contains(normalize-space(.), {})]", xpath_literal(text));
        self.client.execute("window.confirm = function () { return true; };", vec![]).await.expect("script runs");
        let el = self.client.wait().at_most(WAIT).for_element(Locator::XPath(&xpath)).await;
        let el = el.unwrap_or_else(|e| panic!("no link or button with text {text}: {e}"));
        el.click().await.unwrap_or_else(|e| panic!("cannot click {text}: {e}"));
    }

    /// The visible text of the page.
    pub async fn body_text(&self) -> String {
        let body = self.client.find(Locator::Css("body")).await.expect("a body");
        body.text().await.expect("body text")
    }

    /// Waits until the page's visible text contains `text`; returns that text.
    pub async fn wait_for_text(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let body = match self.client.find(Locator::Css("body")).await {
                Ok(b) => b.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if body.contains(text) {
                return body;
            }
            if started.elapsed() > WAIT {
                let shot = self.screenshot("timeout").await;
                panic!("the page never showed “{text}” (screenshot {shot:?}); it shows:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits until the element matched by `css` is displayed; returns its text.
    pub async fn wait_visible(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && el.is_displayed().await.unwrap_or(false)
            {
                return el.text().await.unwrap_or_default();
            }
            assert!(started.elapsed() < WAIT, "{css} never became visible: {}", self.body_text().await);
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits until nothing matches `css` (a button gone after the page reloaded with the result).
    pub async fn wait_gone(&self, css: &str) {
        let started = Instant::now();
        while self.client.find(Locator::Css(css)).await.is_ok() {
            assert!(started.elapsed() < WAIT, "{css} is still on the page: {}", self.body_text().await);
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        self.wait_ready().await;
    }

    /// Waits until the browser shows a page whose path starts with `prefix`; returns the path.
    pub async fn wait_path(&self, prefix: &str) -> String {
        let started = Instant::now();
        loop {
            let path = self.path().await;
            if path.starts_with(prefix) {
                self.wait_ready().await;
                return path;
            }
            assert!(started.elapsed() < WAIT, "never reached {prefix}: still on {path}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether the page fits the window's width (no horizontal scrolling at 1366 px).
    pub async fn fits_width(&self) -> (u64, u64) {
        let v = self
            .client
            .execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![])
            .await
            .expect("script runs");
        (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0))
    }

    /// Saves a PNG of the window as `<test>-<n>-<name>.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("cannot make the screenshot directory");
        let png = self.client.screenshot().await.expect("screenshot");
        let path = dir.join(format!("{}-{:02}-{name}.png", self.test, self.shots + 1));
        std::fs::write(&path, png).expect("cannot save the screenshot");
        path
    }

    /// Saves a screenshot and counts it, so a test's pictures sort in the order taken.
    pub async fn shot(&mut self, name: &str) -> PathBuf {
        let path = self.screenshot(name).await;
        self.shots += 1;
        path
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}

/// Where screenshots go: `QUANZE_SCREENSHOT_DIR`, else `target/browser-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("QUANZE_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/browser-screenshots"))
}

/// `text` as an XPath string literal (XPath 1.0 has no escapes: concat the quote pieces).
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        return format!("'{text}'");
    }
    let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
    format!("concat({})", parts.join(", \"'\", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xpath_literals_survive_quotes() {
        assert_eq!(xpath_literal("采纳"), "'采纳'");
        assert_eq!(xpath_literal("a'b"), "concat('a', \"'\", 'b')");
    }
}
