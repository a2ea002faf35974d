//! Federation commands: `quanze child invite|revoke|resolve`, `quanze key rotate`,
//! `quanze status` and `quanze log heads`. All but `log heads` ask the running node (one writer
//! per node); `log heads` reads the data directory, so it works beside a running node.

use reqwest::Method;
use serde_json::{Value, json};

use super::{client, load_config};
use anyhow::{Context, bail};

use crate::cli::{ChildCommand, KeyCommand, NodeArgs, ParentCommand, StatusArgs};
use crate::config::{CONFIG_FILE, ConfigFile, PARENT_CERT_FILE};
use crate::federation::invite::{fingerprint, pem_to_der};

pub async fn child(cmd: ChildCommand) -> anyhow::Result<()> {
    match cmd {
        ChildCommand::Invite { division, tier, name, ttl_hours, url, node } => {
            let body = json!({ "division": division, "tier": tier, "name": name, "ttl_hours": ttl_hours, "url": url });
            let res = client(&node)?.send_json(Method::POST, "/api/v1/fed/invites", &body).await?;
            println!(
                "下级 {} {name} 的一次性邀请码，{} 前有效 / one-time invite, valid until {}",
                res["division"].as_str().unwrap_or(""),
                res["expires_at"].as_str().unwrap_or(""),
                res["expires_at"].as_str().unwrap_or("")
            );
            println!("在下级节点执行 / on the child run: quanze init --join <邀请码> --data-dir …");
            println!("{}", res["invite"].as_str().unwrap_or_default());
        }
        ChildCommand::Revoke { division, after, reason, node } => {
            let path = format!("/api/v1/fed/children/{division}/revoke");
            let res =
                client(&node)?.send_json(Method::POST, &path, &json!({ "after": after, "reason": reason })).await?;
            println!("已撤销 {division} 第 {after} 条之后的签名（本节点日志 #{}）/ revoked", res["seq"]);
        }
        ChildCommand::Release { division, node } => {
            let path = format!("/api/v1/fed/children/{division}/release");
            let res = client(&node)?.send_json(Method::POST, &path, &Value::Null).await?;
            let left: Vec<&str> = res["awaiting"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            if left.is_empty() {
                println!("已不再等待 {division}；写入已恢复 / no longer waiting for {division}: writes resume");
            } else {
                println!("已不再等待 {division}；仍在等待 {} / still waiting for them", left.join("、"));
            }
        }
        ChildCommand::Resolve { division, key, reason, node } => {
            let body = json!({ "division": division, "key": key, "reason": reason });
            let res = client(&node)?.send_json(Method::POST, "/api/v1/fed/resolve", &body).await?;
            println!("已处置 {division} 的分叉（本节点日志 #{}）/ fork resolved", res["seq"]);
        }
    }
    Ok(())
}

/// `quanze parent repin`: checks the certificate against the fingerprint, then replaces
/// `tls/parent.pem` (and the parent URL in `quanze.toml`), each by write-then-rename.
pub fn parent(cmd: ParentCommand) -> anyhow::Result<()> {
    let ParentCommand::Repin { cert, url, fingerprint: expected, node } = cmd;
    let config = load_config(&node)?;
    if config.federation.parent_division.is_none() {
        bail!("本节点没有上级（信任根）/ this node has no parent");
    }
    let pem = std::fs::read(&cert).with_context(|| format!("无法读取 {}", cert.display()))?;
    let actual = fingerprint(&pem_to_der(&pem).with_context(|| cert.display().to_string())?);
    if actual != expected.trim().to_lowercase() {
        bail!("证书指纹不符：{} 的指纹是 {actual} / fingerprint mismatch", cert.display());
    }
    if let Some(u) = &url
        && !u.starts_with("https://")
    {
        bail!("--url 必须以 https:// 开头 / the URL must be https");
    }
    let dir = &config.data_dir;
    let replace = |name: &str, bytes: &[u8]| -> anyhow::Result<()> {
        let tmp = dir.join(format!("{name}.new"));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, dir.join(name))?;
        Ok(())
    };
    replace(PARENT_CERT_FILE, &pem)?;
    if let Some(u) = url {
        let path = dir.join(CONFIG_FILE);
        let mut file: ConfigFile = toml::from_str(&std::fs::read_to_string(&path)?)?;
        file.federation.parent_url = Some(u);
        let header =
            "# Quanze node configuration. Precedence: this file < QUANZE_* environment < command-line flags.\n";
        replace(CONFIG_FILE, format!("{header}{}", toml::to_string(&file)?).as_bytes())?;
    }
    println!("已固定上级新证书 {actual}；重启节点后生效 / parent certificate pinned; restart the node (quanze serve)");
    Ok(())
}

pub async fn key(cmd: KeyCommand) -> anyhow::Result<()> {
    let KeyCommand::Rotate(node) = cmd;
    let res = client(&node)?.send_json(Method::POST, "/api/v1/fed/key/rotate", &Value::Null).await?;
    println!(
        "新公钥 / new public key: {}（自 #{} 起生效；此前的条目仍按旧公钥验证）",
        res["public_key"].as_str().unwrap_or(""),
        res["valid_from"]
    );
    Ok(())
}

pub async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let r = client(&args.node)?.get_json("/api/v1/fed/status").await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    let s = |v: &Value| v.as_str().unwrap_or("—").to_string();
    println!("节点 / node: {} {} ({})  公钥 {}", s(&r["division"]), s(&r["name"]), s(&r["tier"]), s(&r["public_key"]));
    match r["parent"].as_object() {
        Some(p) => {
            println!("上级 / parent: {} {}", s(&p["division"]), s(&p["url"]));
            println!(
                "  最近拉取 / last pull: {}   最近推送 / last push: {}",
                s(&p["last_pull_ok"]),
                s(&p["last_push_ok"])
            );
            if !p["last_error"].is_null() {
                println!("  最近错误 / last error: {}", s(&p["last_error"]));
                if unreachable_now(p) {
                    println!("  ⚠ 上级不可达，自动重试中 / parent unreachable, retrying");
                }
            }
            if let Some(offset) = p["parent_clock_offset_secs"].as_i64() {
                let warn = if p["clock_skew"].as_bool() == Some(true) {
                    "  ⚠ 时钟偏差过大，请校准时钟 / clock skew beyond tolerance, fix the clock"
                } else {
                    ""
                };
                println!("  上级时钟偏差 / parent clock offset: {offset:+} 秒 / s{warn}");
            }
            if !p["rollback"].is_null() {
                println!("  ⚠ 上级回滚 / parent rollback: {}", s(&p["rollback"]));
            }
            for refusal in p["push_refusals"].as_array().into_iter().flatten() {
                println!("  ⚠ 上级拒收 / refused by parent: {}", s(refusal));
            }
        }
        None => println!("上级 / parent: 无（信任根）/ none (root of trust)"),
    }
    if r["own_log_unconfirmed"].as_bool() == Some(true) {
        println!(
            "⚠ 从备份恢复：正在向上级核对本节点日志，暂停写入 / restored: checking our own log with the parent, writes held"
        );
    }
    let awaiting: Vec<String> = r["awaiting_children"].as_array().into_iter().flatten().map(&s).collect();
    if !awaiting.is_empty() {
        println!(
            "⚠ 从备份恢复：等待下级确认未持有本节点更新的条目，暂停写入 / restored: waiting for children to confirm, writes held: {}",
            awaiting.join("、")
        );
        println!("  下级已无法恢复时 / a child gone for good: quanze child release --division <代码>");
    }
    println!("待推送 / outbox: {} 条", r["outbox_depth"]);
    let children = r["children"].as_array().cloned().unwrap_or_default();
    println!("下级 / children: {}", children.len());
    for c in &children {
        let active = if c["active"].as_bool() == Some(true) { "" } else { "（已撤销 / revoked）" };
        println!("  {} {} 已持有至 #{}{active}", s(&c["division"]), s(&c["name"]), c["held_seq"]);
    }
    println!("日志 / logs held:");
    for o in r["origins"].as_array().into_iter().flatten() {
        let lag = if let Some(n) = o["behind_parent"].as_u64() {
            format!("落后上级 {n} 条 / behind parent")
        } else if let Some(n) = o["unacknowledged"].as_u64() {
            format!("待上级确认 {n} 条 / unacknowledged")
        } else {
            String::new()
        };
        println!("  {:<10} #{:<6} {:<10} {lag}", s(&o["origin"]), o["seq"], s(&o["relation"]));
    }
    let quarantined = r["quarantined"].as_array().cloned().unwrap_or_default();
    if !quarantined.is_empty() {
        println!("⚠ 分叉隔离 / quarantined by fork: {}", quarantined.iter().map(&s).collect::<Vec<_>>().join(", "));
    }
    match r.get("own_checkpoint").filter(|c| !c.is_null()) {
        Some(c) => println!(
            "联署检查点 / cosigned checkpoint: #{} 根 / root {} 联署 / cosigned by {} {}",
            c["size"],
            s(&c["root"]),
            s(&c["cosigner"]),
            s(&c["at"])
        ),
        None if r["parent"].is_object() => println!("联署检查点 / cosigned checkpoint: 尚无 / none yet"),
        None => {}
    }
    for f in r["recent_refusals"].as_array().into_iter().flatten().take(5) {
        println!(
            "拒收 / refused {} {}#{} {}: {}",
            s(&f["at"]),
            s(&f["origin"]),
            f["seq"],
            s(&f["code"]),
            s(&f["message"])
        );
    }
    Ok(())
}

/// Whether the last error came after the last successful pull and push (RFC 3339 times of
/// the same offset compare as text).
fn unreachable_now(p: &serde_json::Map<String, Value>) -> bool {
    let error = p["last_error"].as_str().unwrap_or_default();
    let error_at = error.split(' ').next().unwrap_or_default();
    let later = |key: &str| p[key].as_str().is_none_or(|ok| error_at > ok);
    error.contains("parent unreachable") && later("last_pull_ok") && later("last_push_ok")
}

pub async fn heads(json: bool, node: &NodeArgs) -> anyhow::Result<()> {
    let config = load_config(node)?;
    let store = quanze_store::Store::open_read_only(&config.database()).await?;
    let heads = store.heads().await?;
    store.close().await;
    if json {
        let list: Vec<Value> = heads
            .iter()
            .map(|(origin, h)| json!({ "origin": origin, "seq": h.seq, "hash": h.hash.to_hex() }))
            .collect();
        println!("{}", serde_json::to_string(&list)?);
    } else {
        for (origin, h) in heads {
            println!("{origin:<10} #{:<6} {}", h.seq, h.hash.to_hex());
        }
    }
    Ok(())
}
