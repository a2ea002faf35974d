//! `quanze audit`: the uniformity audit (四级四同、同级一致) of a scope as of a day, asked of the
//! running node's API. Prints a summary (per-node score and the rule counts) or writes the
//! whole report as JSON, CSV or HTML. Decides nothing: the node computes, this file prints.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use super::client;
use super::grants::{s, write_out};
use super::items::encode;
use crate::cli::NodeArgs;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// 510000 (a division and everything below it) or tier:county (every node of a tier);
    /// default: this node and everything below it.
    #[arg(long)]
    scope: Option<String>,
    /// The day audited (YYYY-MM-DD): the state the entries of that day or before give. Default:
    /// today.
    #[arg(long)]
    as_of: Option<String>,
    /// table (default: a summary on the terminal), json, csv or html (the whole report).
    #[arg(long, default_value = "table")]
    format: String,
    /// Recompute from the entries even for today (default: today's answer comes from the
    /// node's incrementally kept results).
    #[arg(long)]
    full: bool,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    node: NodeArgs,
}

pub async fn run(args: AuditArgs) -> anyhow::Result<()> {
    let wire = if args.format == "table" { "json" } else { args.format.as_str() };
    let mut path = format!("/api/v1/audit?format={}", encode(wire));
    if let Some(scope) = &args.scope {
        path.push_str(&format!("&scope={}", encode(scope)));
    }
    if let Some(day) = &args.as_of {
        path.push_str(&format!("&as_of={}", encode(day)));
    }
    if args.full {
        path.push_str("&source=full");
    }
    let api = client(&args.node)?;
    if args.format != "table" {
        let body = api.get_text(&path).await?;
        return write_out(args.out, &body);
    }
    let report = api.get_json(&path).await?;
    write_out(args.out, &summary(&report))
}

/// The terminal summary: one line per node (worst first), then the count of each rule.
fn summary(r: &Value) -> String {
    let mut out = format!(
        "审计范围 / scope: {}    截至 / as of: {}    来源 / source: {}\n",
        s(&r["scope"]),
        s(&r["as_of"]),
        s(&r["source"])
    );
    let mut nodes: Vec<&Value> = r["nodes"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    nodes.sort_by(|a, b| {
        let (x, y) = (a["score"].as_f64().unwrap_or(1.0), b["score"].as_f64().unwrap_or(1.0));
        x.total_cmp(&y).then_with(|| s(&a["division"]).cmp(&s(&b["division"])))
    });
    out.push_str(&format!(
        "\n{:<10} {:<16} {:>8} {:>8} {:>8}  问题分布\n",
        "单位代码", "单位名称", "检查项", "有问题", "得分"
    ));
    for n in &nodes {
        let counts: Vec<String> = n["counts"]
            .as_object()
            .map(|m| m.iter().filter(|(_, v)| v.as_u64().unwrap_or(0) > 0).map(|(k, v)| format!("{k}×{v}")).collect())
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<10} {:<16} {:>8} {:>8} {:>7.1}%  {}\n",
            s(&n["division"]),
            s(&n["name"]),
            s(&n["units"]),
            s(&n["failing"]),
            n["score"].as_f64().unwrap_or(1.0) * 100.0,
            if counts.is_empty() { "—".to_string() } else { counts.join(" ") }
        ));
    }
    out.push_str("\n规则 / rule                                 问题数  涉及单位\n");
    for rule in r["rules"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "{} {:<30} {:>6} {:>8}\n",
            s(&rule["id"]),
            s(&rule["label"]),
            s(&rule["findings"]),
            s(&rule["nodes"])
        ));
    }
    let total = r["findings"].as_array().map_or(0, Vec::len);
    out.push_str(&format!(
        "\n共 {total} 条问题。完整报告（含证据条目）：--format html|csv|json --out 文件 / {total} findings; the full report with evidence: --format html|csv|json\n"
    ));
    out
}
