//! The data directory and the node configuration.
//!
//! Owns the layout of a data directory (`quanze.toml`, `node.key`, `operator.token`, `tls/`,
//! `quanze.db`) and the precedence rule: config file < `QUANZE_*` environment < flags (clap
//! merges environment and flags; this module fills what both left empty from the file).
//! Must not open the database or the network.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use quanze_domain::{DivisionCode, Tier};
use serde::{Deserialize, Serialize};

pub const CONFIG_FILE: &str = "quanze.toml";
pub const KEY_FILE: &str = "node.key";
/// A rotated key, staged until the entry announcing it is committed.
pub const NEXT_KEY_FILE: &str = "node.key.next";
pub const TOKEN_FILE: &str = "operator.token";
pub const CERT_FILE: &str = "tls/cert.pem";
pub const CERT_KEY_FILE: &str = "tls/key.pem";
pub const DB_FILE: &str = "quanze.db";
/// The parent's certificate, pinned from the invite.
pub const PARENT_CERT_FILE: &str = "tls/parent.pem";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7443";

/// The config file, as written by `quanze init`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub node: NodeSection,
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub database: DatabaseSection,
    pub federation: FederationSection,
}

/// Where this node sits in the federation: the root of trust and, below the province, the parent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationSection {
    pub root_division: DivisionCode,
    /// The root (province) public key, hex.
    pub root_key: String,
    /// The parent's HTTPS URL; absent at the province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_division: Option<DivisionCode>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    pub tier: Tier,
    pub division: DivisionCode,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub listen: String,
    /// The URL children reach this node at, when it differs from the listen address (NAT, DNS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Seconds a client has to finish its TLS handshake.
    #[serde(default = "default_handshake_timeout")]
    pub handshake_timeout_secs: u64,
    /// Seconds a client has to send a request's head (method, path, headers); also how long an
    /// idle keep-alive connection stays open.
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body, counted from its head.
    #[serde(default = "default_body_read_timeout")]
    pub body_read_timeout_secs: u64,
    /// Most connections open at once; a connection over it is closed at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            listen: DEFAULT_LISTEN.to_string(),
            public_url: None,
            handshake_timeout_secs: default_handshake_timeout(),
            header_read_timeout_secs: default_header_read_timeout(),
            body_read_timeout_secs: default_body_read_timeout(),
            max_connections: default_max_connections(),
        }
    }
}

fn default_handshake_timeout() -> u64 {
    10
}

fn default_header_read_timeout() -> u64 {
    15
}

fn default_body_read_timeout() -> u64 {
    120
}

fn default_max_connections() -> usize {
    1024
}

/// How long a client may take and how many may be connected: the `[server]` timeouts and cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub handshake_timeout: Duration,
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits::from_section(&ServerSection::default()).expect("the defaults are valid")
    }
}

impl ConnectionLimits {
    /// The limits of a `[server]` section; zero is refused (it would close every connection).
    pub fn from_section(server: &ServerSection) -> anyhow::Result<ConnectionLimits> {
        let secs = |key: &str, value: u64| {
            if value == 0 {
                bail!("[server] {key} 必须大于 0 / must be greater than 0");
            }
            Ok(Duration::from_secs(value))
        };
        if server.max_connections == 0 {
            bail!("[server] max_connections 必须大于 0 / must be greater than 0");
        }
        Ok(ConnectionLimits {
            handshake_timeout: secs("handshake_timeout_secs", server.handshake_timeout_secs)?,
            header_read_timeout: secs("header_read_timeout_secs", server.header_read_timeout_secs)?,
            body_read_timeout: secs("body_read_timeout_secs", server.body_read_timeout_secs)?,
            max_connections: server.max_connections,
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    /// Empty: the SQLite file in the data directory.
    #[serde(default)]
    pub url: String,
}

/// The effective configuration of a node after all sources are merged.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub tier: Tier,
    pub division: DivisionCode,
    pub name: String,
    pub listen: SocketAddr,
    pub database_url: String,
    pub public_url: Option<String>,
    pub federation: FederationSection,
    /// Timeouts and the connection cap of the HTTPS server.
    pub limits: ConnectionLimits,
}

/// Values given on the command line or in the environment (already merged by clap).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub database_url: Option<String>,
}

impl Config {
    /// Loads `<data_dir>/quanze.toml` and applies the overrides.
    pub fn load(data_dir: &Path, overrides: &Overrides) -> anyhow::Result<Config> {
        let path = data_dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("无法读取配置文件 {} / cannot read config; run `quanze init` first", path.display())
        })?;
        let file: ConfigFile =
            toml::from_str(&text).with_context(|| format!("配置文件格式错误 / invalid config {}", path.display()))?;
        file.node.division.check_tier(file.node.tier).with_context(|| format!("{}: [node]", path.display()))?;
        let limits = ConnectionLimits::from_section(&file.server).with_context(|| path.display().to_string())?;
        let listen_text = overrides.listen.clone().unwrap_or(file.server.listen);
        let listen: SocketAddr = listen_text
            .parse()
            .with_context(|| format!("监听地址 “{listen_text}” 无效 / invalid listen address (ip:port)"))?;
        let database_url = overrides.database_url.clone().filter(|u| !u.is_empty()).unwrap_or(file.database.url);
        let fed = &file.federation;
        let is_root = fed.root_division == file.node.division;
        if !is_root && (fed.parent_url.is_none() || fed.parent_division.is_none()) {
            bail!("{}: [federation] 缺少 parent_url / parent_division（非省级节点必须有上级）", path.display());
        }
        Ok(Config {
            data_dir: data_dir.to_path_buf(),
            tier: file.node.tier,
            division: file.node.division,
            name: file.node.name,
            listen,
            database_url,
            public_url: file.server.public_url,
            federation: file.federation,
            limits,
        })
    }

    /// The database to open: the configured URL, or the SQLite file in the data directory.
    pub fn database(&self) -> String {
        if self.database_url.is_empty() {
            self.data_dir.join(DB_FILE).display().to_string()
        } else {
            self.database_url.clone()
        }
    }

    /// The URL children use to reach this node: `[server] public_url`, else the local URL.
    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| self.local_url())
    }

    /// The URL a local client uses to reach this node.
    pub fn local_url(&self) -> String {
        let mut addr = self.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("https://{addr}")
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.data_dir.join(file)
    }
}

/// Writes a fresh config file; refuses to overwrite one.
pub fn write_new(data_dir: &Path, file: &ConfigFile) -> anyhow::Result<()> {
    let path = data_dir.join(CONFIG_FILE);
    if path.exists() {
        bail!("{} 已存在 / config already exists", path.display());
    }
    let header = "# Quanze node configuration. Precedence: this file < QUANZE_* environment < command-line flags.\n";
    std::fs::write(&path, format!("{header}{}", toml::to_string(file)?))
        .with_context(|| format!("无法写入 {} / cannot write config", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example configurations in deploy/config are in the format `init` writes.
    #[test]
    fn the_deploy_examples_parse() {
        for text in [
            include_str!("../../../deploy/config/province.toml"),
            include_str!("../../../deploy/config/city.toml"),
            include_str!("../../../deploy/config/county.toml"),
            include_str!("../../../deploy/config/township.toml"),
        ] {
            let file: ConfigFile = toml::from_str(text).unwrap();
            file.node.division.check_tier(file.node.tier).unwrap();
            assert_eq!(file.federation.parent_url.is_none(), file.node.tier == Tier::Province);
            assert_eq!(ConnectionLimits::from_section(&file.server).unwrap(), ConnectionLimits::default());
        }
    }

    /// A `[server]` section may set every timeout and the cap; zero is refused with the key named.
    #[test]
    fn server_limits_are_read_and_checked() {
        let text = "listen = \"127.0.0.1:7443\"\nhandshake_timeout_secs = 3\nheader_read_timeout_secs = 4\n\
                    body_read_timeout_secs = 5\nmax_connections = 6\n";
        let server: ServerSection = toml::from_str(text).unwrap();
        let limits = ConnectionLimits::from_section(&server).unwrap();
        assert_eq!(limits.handshake_timeout, Duration::from_secs(3));
        assert_eq!(limits.header_read_timeout, Duration::from_secs(4));
        assert_eq!(limits.body_read_timeout, Duration::from_secs(5));
        assert_eq!(limits.max_connections, 6);
        let zero: ServerSection =
            toml::from_str("listen = \"127.0.0.1:7443\"\nheader_read_timeout_secs = 0\n").unwrap();
        let err = ConnectionLimits::from_section(&zero).unwrap_err().to_string();
        assert!(err.contains("header_read_timeout_secs"), "{err}");
    }
}
