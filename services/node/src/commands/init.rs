//! `quanze init` and `quanze recover`: make a node's data directory. Refuses to touch an
//! existing node.
//!
//! * `init --tier province …` makes the root of trust (its own key is the root key).
//! * `init --join INVITE` makes a child: checks the invite, makes a key pair, enrols with the
//!   parent (which appends the `Enroll` entry), and only then writes the data directory, with the
//!   parent's certificate pinned and the root key recorded.
//! * `recover --join-again INVITE` does the same for a division that was enrolled before, then
//!   fetches the ancestors' logs and its own log back from the parent, so the node continues at
//!   the seq the parent names and never writes a seq it may already have written.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::Utc;
use quanze_domain::{DivisionCode, Op, Tier};
use quanze_ledger::{NodeKey, SignedEntryWire};
use quanze_store::Store;

use crate::cli::{AddressArgs, InitArgs, NodeArgs, RecoverArgs};
use crate::config::{
    self, CERT_FILE, CERT_KEY_FILE, ConfigFile, DatabaseSection, FederationSection, KEY_FILE, NodeSection,
    PARENT_CERT_FILE, ServerSection, TOKEN_FILE,
};
use crate::federation::client::ParentClient;
use crate::federation::invite::{Invite, der_to_pem};
use crate::federation::wire::{EnrollRequest, EnrollResponse};
use crate::secrets::{new_token, write_secret};
use crate::state::Scope;

/// What `init` made, for the caller to print or use.
#[derive(Debug)]
pub struct Initialised {
    pub public_key: String,
    pub config: ConfigFile,
    /// The parent's answer, for a joined node.
    pub enrolled: Option<EnrollResponse>,
}

pub async fn run(args: InitArgs) -> anyhow::Result<()> {
    let made = init(&args).await?;
    print_made(&made, &args.node.data_dir);
    Ok(())
}

fn print_made(made: &Initialised, dir: &Path) {
    let n = &made.config.node;
    println!("已创建节点 / node created: {} {} ({})", n.division, n.name, n.tier.label());
    println!("  数据目录 / data dir:   {}", dir.display());
    println!("  公钥 / public key:     {}", made.public_key);
    println!("  监听 / listen:         https://{}", made.config.server.listen);
    match &made.enrolled {
        Some(e) => println!(
            "  上级 / parent:         {} {}（登记条目 #{}，本节点日志自 #{} 起）",
            e.parent, e.parent_name, e.entry_seq, e.enrolment.valid_from
        ),
        None if n.tier == Tier::Province => println!("  信任根 / root of trust: 本节点 / this node"),
        None => println!("  独立节点，未加入联邦 / standalone node, not in a federation"),
    }
    println!("下一步 / next: quanze serve --data-dir {}", dir.display());
}

/// Creates a node from `args`: the root (province) or, with `--join`, a child.
pub async fn init(args: &InitArgs) -> anyhow::Result<Initialised> {
    if let Some(invite) = &args.join {
        let invite = Invite::decode(invite, Utc::now()).context("--join")?;
        return join(&invite, &args.node, &args.address, false).await;
    }
    let (Some(tier), Some(division), Some(name)) = (&args.tier, &args.division, &args.name) else {
        bail!("需要 --tier、--division 和 --name，或 --join / need --tier, --division and --name, or --join");
    };
    let tier: Tier = tier.parse()?;
    if tier != Tier::Province && !args.standalone {
        bail!(
            "只有省级节点可直接创建；{} 级节点请用上级的邀请码：quanze init --join <邀请码> / only the province is created \
             directly; other tiers join with an invite from their parent (quanze child invite)",
            tier.label()
        );
    }
    let division = DivisionCode::parse_for(division, tier).with_context(|| format!("--division {division}"))?;
    make_root(&args.node, tier, division, name, &args.address).await
}

/// A node that is its own root of trust (the province; or a standalone node for benchmarks).
pub async fn make_root(
    node: &NodeArgs,
    tier: Tier,
    division: DivisionCode,
    name: &str,
    address: &AddressArgs,
) -> anyhow::Result<Initialised> {
    let name = name.trim();
    if name.is_empty() {
        bail!("--name 不能为空 / --name is required");
    }
    prepare_dir(&node.data_dir)?;
    let key = NodeKey::generate()?;
    let federation = FederationSection {
        root_division: division.clone(),
        root_key: key.public().to_hex(),
        parent_url: None,
        parent_division: None,
    };
    let file = node_files(node, NodeSection { tier, division, name: name.to_string() }, address, federation, &key)?;
    let store = open_store(node, &file).await?;
    store.set_trust_root(&file.node.division, &key.public()).await?;
    if tier == Tier::Province {
        publish_builtin_calendar(&store, &file.node.division, &key).await?;
    }
    store.close().await;
    Ok(Initialised { public_key: key.public().to_hex(), config: file, enrolled: None })
}

/// The province, as root of trust, opens its log with the holiday arrangements this release
/// ships (one `calendar.year` entry per year): every node below counts working days with them.
async fn publish_builtin_calendar(store: &Store, division: &DivisionCode, key: &NodeKey) -> anyhow::Result<()> {
    let mut head = None;
    let mut entries = Vec::new();
    for year in quanze_domain::calendar::Calendar::builtin_years() {
        let at = crate::clock::process_clock().now();
        let entry = quanze_ledger::sign_entry(key, division, head.as_ref(), at, vec![Op::CalendarYear { year }])?;
        head = Some(entry.head());
        entries.push(entry);
    }
    store.append(&entries).await.context("无法发布节假日安排 / cannot publish the calendar")?;
    Ok(())
}

/// Enrols with the parent named by `invite`, then writes the data directory.
async fn join(
    invite: &Invite,
    node: &NodeArgs,
    address: &AddressArgs,
    recovering: bool,
) -> anyhow::Result<Initialised> {
    let existed = node.data_dir.exists();
    prepare_dir(&node.data_dir)?;
    let cert_pem = der_to_pem(&invite.cert_der()?);
    let parent = ParentClient::new(&invite.parent_url, cert_pem.as_bytes())?;
    let key = NodeKey::generate()?;
    let answer = match parent
        .enroll(&EnrollRequest { token: invite.token.clone(), public_key: key.public().to_hex(), recover: recovering })
        .await
    {
        Ok(a) => a,
        Err(e) => {
            // Nothing was written yet: leave no empty directory behind that we made.
            if !existed {
                let _ = std::fs::remove_dir(node.data_dir.join("tls"));
                let _ = std::fs::remove_dir(&node.data_dir);
            }
            return Err(anyhow::Error::new(e)
                .context(format!("向上级 {} 登记失败 / enrolment with the parent failed", invite.parent_url)));
        }
    };
    if answer.recovery != recovering {
        if answer.recovery {
            bail!(
                "{} 此前已登记：上级已按恢复处理（自 #{} 续写）。请改用 quanze recover --join-again / the division was enrolled \
                 before; use `quanze recover --join-again` (the parent already re-enrolled it from seq {})",
                invite.division,
                answer.enrolment.valid_from,
                answer.enrolment.valid_from
            );
        }
        bail!(
            "{} 此前未登记，无需恢复；请用 quanze init --join / not enrolled before: use init --join",
            invite.division
        );
    }
    let federation = FederationSection {
        root_division: invite.root_division.clone(),
        root_key: invite.root_key.clone(),
        parent_url: Some(invite.parent_url.clone()),
        parent_division: Some(invite.parent_division.clone()),
    };
    let section = NodeSection { tier: invite.tier, division: invite.division.clone(), name: invite.name.clone() };
    let file = node_files(node, section, address, federation, &key)?;
    std::fs::write(node.data_dir.join(PARENT_CERT_FILE), cert_pem)?;
    let store = open_store(node, &file).await?;
    let root_key = invite.root_key.parse().context("root key")?;
    store.set_trust_root(&invite.root_division, &root_key).await?;
    store.close().await;
    Ok(Initialised { public_key: key.public().to_hex(), config: file, enrolled: Some(answer) })
}

/// `quanze recover --join-again INVITE`.
pub async fn recover(args: RecoverArgs) -> anyhow::Result<()> {
    let invite = Invite::decode(&args.join_again, Utc::now()).context("--join-again")?;
    let made = join(&invite, &args.node, &args.address, true).await?;
    let enrolled = made.enrolled.as_ref().context("enrolment answer")?;
    let continue_at = enrolled.enrolment.valid_from;
    let config = crate::commands::load_config(&args.node)?;
    let node = crate::server::open_node(&config).await?;
    let parent = ParentClient::new(&invite.parent_url, der_to_pem(&invite.cert_der()?).as_bytes())?;
    // Ancestors first (they hold the enrolments that name our earlier keys), then our own log.
    let mut origins: Vec<DivisionCode> = Vec::new();
    let mut cur = invite.division.parent();
    while let Some(d) = cur {
        cur = d.parent();
        origins.push(d);
    }
    origins.reverse();
    origins.push(invite.division.clone());
    let mut restored = 0u64;
    let progress = crate::progress::counter("从上级取回日志", "条");
    for origin in &origins {
        progress.set_message(format!("从上级取回 {origin} 的日志"));
        let mut after = node.store().head(origin).await?.map_or(0, |h| h.seq);
        loop {
            let page = parent.log(origin.as_str(), after, &invite.token).await?;
            if page.is_empty() {
                break;
            }
            let n = page.len();
            progress.inc(n as u64);
            let entries = page.into_iter().filter_map(SignedEntryWire::into_unverified).collect();
            for d in
                node.ingest(&format!("parent {} (recovery)", invite.parent_division), Scope::Recovery, entries).await?
            {
                if d.is_refusal() {
                    bail!(
                        "恢复时上级的条目被拒绝 / an entry from the parent was refused: {}",
                        crate::federation::sync::describe(&d)
                    );
                }
            }
            after = node.store().head(origin).await?.map_or(0, |h| h.seq);
            if origin == &invite.division {
                restored = after;
            }
            if n < 1000 {
                break;
            }
        }
    }
    progress.finish_and_clear();
    node.store().close().await;
    if restored + 1 != continue_at {
        bail!(
            "从上级取回本节点日志至 #{restored}，但上级登记自 #{continue_at} 续写；请联系上级 / restored up to seq {restored} \
             but the parent re-enrolled from {continue_at}"
        );
    }
    print_made(&made, &args.node.data_dir);
    println!(
        "已从上级取回本节点日志 {restored} 条；新条目自 #{continue_at} 起用新密钥签名 / restored {restored} entries"
    );
    Ok(())
}

/// Writes key, token, certificate and config; returns the config.
fn node_files(
    node: &NodeArgs,
    section: NodeSection,
    address: &AddressArgs,
    federation: FederationSection,
    key: &NodeKey,
) -> anyhow::Result<ConfigFile> {
    let dir = &node.data_dir;
    let listen = node.listen.clone().unwrap_or_else(|| config::DEFAULT_LISTEN.to_string());
    listen.parse::<std::net::SocketAddr>().with_context(|| format!("--listen “{listen}” 无效 / invalid (ip:port)"))?;
    write_secret(&dir.join(KEY_FILE), &key.to_seed_hex())?;
    write_secret(&dir.join(TOKEN_FILE), &new_token()?)?;
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    names.extend(address.extra_names.iter().cloned());
    crate::tls::make_self_signed(&dir.join(CERT_FILE), &dir.join(CERT_KEY_FILE), &names)?;
    let file = ConfigFile {
        node: section,
        server: ServerSection { listen, public_url: address.public_url.clone(), ..ServerSection::default() },
        database: DatabaseSection { url: node.database_url.clone().unwrap_or_default() },
        federation,
    };
    config::write_new(dir, &file)?;
    Ok(file)
}

/// Creates the schema now so a broken database URL is reported at init, not at first use.
async fn open_store(node: &NodeArgs, file: &ConfigFile) -> anyhow::Result<Store> {
    let db = if file.database.url.is_empty() {
        node.data_dir.join(config::DB_FILE).display().to_string()
    } else {
        file.database.url.clone()
    };
    Store::open(&db).await.context("无法创建数据库 / cannot create database")
}

/// Makes a standalone county node 泸县 (510521, its own root of trust) in `dir` and opens it in
/// this process (benchmarks).
pub async fn init_and_open_luxian(
    dir: &Path,
) -> anyhow::Result<(Initialised, crate::config::Config, crate::state::Node)> {
    let node = NodeArgs { data_dir: dir.to_path_buf(), database_url: None, listen: None, node_url: None };
    let made = make_root(&node, Tier::County, DivisionCode::parse("510521")?, "泸县", &AddressArgs::default()).await?;
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
    std::fs::create_dir_all(dir.join("tls"))
        .with_context(|| format!("无法创建目录 {} / cannot create directory", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}
