//! `quanze init`: makes a new node's data directory. Refuses to touch an existing node.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, bail};
use quanze_domain::{DivisionCode, Tier};
use quanze_ledger::NodeKey;
use quanze_store::Store;

use crate::cli::InitArgs;
use crate::config::{
    self, CERT_FILE, CERT_KEY_FILE, ConfigFile, DatabaseSection, KEY_FILE, NodeSection, ServerSection, TOKEN_FILE,
};
use crate::secrets::{new_token, write_secret};

/// What `init` made, for the caller to print or use.
#[derive(Debug)]
pub struct Initialised {
    pub public_key: String,
    pub config: ConfigFile,
}

pub async fn run(args: InitArgs) -> anyhow::Result<()> {
    let made = init(&args).await?;
    let dir = args.node.data_dir.display();
    println!(
        "已创建节点 / node created: {} {} ({})",
        made.config.node.division,
        made.config.node.name,
        made.config.node.tier.label()
    );
    println!("  数据目录 / data dir:   {dir}");
    println!("  公钥 / public key:     {}", made.public_key);
    println!("  监听 / listen:         https://{}", made.config.server.listen);
    println!("下一步 / next: quanze serve --data-dir {dir}");
    Ok(())
}

/// Creates the data directory, key pair, operator token, TLS certificate, config and schema.
pub async fn init(args: &InitArgs) -> anyhow::Result<Initialised> {
    let tier: Tier = args.tier.parse()?;
    let division = DivisionCode::parse_for(&args.division, tier)
        .with_context(|| format!("--division {} / --tier {}", args.division, args.tier))?;
    let name = args.name.trim();
    if name.is_empty() {
        bail!("--name 不能为空 / --name is required");
    }
    let dir = &args.node.data_dir;
    prepare_dir(dir)?;
    let key = NodeKey::generate()?;
    write_secret(&dir.join(KEY_FILE), &key.to_seed_hex())?;
    write_secret(&dir.join(TOKEN_FILE), &new_token()?)?;
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    names.extend(args.extra_names.iter().cloned());
    crate::tls::make_self_signed(&dir.join(CERT_FILE), &dir.join(CERT_KEY_FILE), &names)?;
    let listen = args.node.listen.clone().unwrap_or_else(|| config::DEFAULT_LISTEN.to_string());
    listen.parse::<std::net::SocketAddr>().with_context(|| format!("--listen “{listen}” 无效 / invalid (ip:port)"))?;
    let file = ConfigFile {
        node: NodeSection { tier, division, name: name.to_string() },
        server: ServerSection { listen },
        database: DatabaseSection { url: args.node.database_url.clone().unwrap_or_default() },
    };
    config::write_new(dir, &file)?;
    // Create the schema now so a broken database URL is reported at init, not at first use.
    let db = if file.database.url.is_empty() {
        dir.join(config::DB_FILE).display().to_string()
    } else {
        file.database.url.clone()
    };
    Store::open(&db).await.context("无法创建数据库 / cannot create database")?.close().await;
    Ok(Initialised { public_key: key.public().to_hex(), config: file })
}

/// Makes a county node 泸县 (510521) in `dir` and opens it in this process (demo and bench).
pub async fn init_and_open_luxian(
    dir: &Path,
) -> anyhow::Result<(Initialised, crate::config::Config, crate::state::Node)> {
    let node = crate::cli::NodeArgs { data_dir: dir.to_path_buf(), database_url: None, listen: None, node_url: None };
    let args =
        InitArgs { tier: "county".into(), division: "510521".into(), name: "泸县".into(), extra_names: vec![], node };
    let made = init(&args).await?;
    let config = crate::config::Config::load(dir, &crate::config::Overrides::default())?;
    let opened = crate::server::open_node(&config).await?;
    Ok((made, config, opened))
}

/// Creates `dir` (mode 0700) or accepts an empty one; refuses a directory holding a node.
fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.join(config::CONFIG_FILE).exists() || dir.join(KEY_FILE).exists() {
        bail!(
            "{} 中已有节点；为保护节点身份，init 不会覆盖 / a node already exists here; init never overwrites it",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("无法创建目录 {} / cannot create directory", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}
