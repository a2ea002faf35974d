//! The province auditor's uniformity audit pages (一致性审计): the node × rule heat map as of a
//! chosen day, the findings of one cell with their differences and evidence, and one log entry
//! of the evidence (`audit/entry.rs`).
//!
//! Reads the report from `api::audit::run` (the cache for today, a recomputation for a past
//! day) and the scope and day as the API parses them; colours from `audit_report::HEAT`. Links
//! the API's HTML, CSV and .xlsx exports of the same report. Must not compute a finding, write
//! anything or touch another section's pages.

mod entry;

use axum::extract::State;
use quanze_domain::audit::{AuditReport, Finding};
use serde::Deserialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::html::{Tone, badge, escape, filter_box, link_button, table, url_component};
use super::{PageResult, Section, page, require};
use crate::api::QueryParams;
use crate::api::audit::{Source, parse_as_of, parse_scope, run};
use crate::audit_report::{HEAT, HTML_FINDINGS_LIMIT, heat, percent, sorted_nodes};
use crate::auth::Principal;
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(heat_page)).routes(routes!(findings_page)).routes(routes!(entry::entry_page))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    as_of: Option<String>,
    scope: Option<String>,
    /// Drill-down: one node (division code) and/or one rule (A01…).
    node: Option<String>,
    rule: Option<String>,
}

/// The query string `?as_of=..&scope=..` (plus `extra` pairs) for links between the pages.
fn query(as_of: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![("as_of", as_of), ("scope", scope)];
    pairs.extend_from_slice(extra);
    let parts: Vec<String> =
        pairs.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", url_component(v))).collect();
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

/// The findings of a cell (node and/or rule; `None` matches all), in report order.
fn cell_findings<'a>(report: &'a AuditReport, node: Option<&str>, rule: Option<&str>) -> Vec<&'a Finding> {
    report
        .findings
        .iter()
        .filter(|f| node.is_none_or(|n| f.node.as_str() == n) && rule.is_none_or(|r| f.rule.id() == r))
        .collect()
}

/// The day picker and the scope box (a GET form), and the report's downloads.
fn toolbar(as_of: &str, scope: &str, today: &str, action: &str, hidden: &[(&str, &str)]) -> String {
    let mut out = format!(
        "<div class=\"toolbar\"><form method=\"get\" action=\"{action}\"><label>截至日期 <input type=\"date\" name=\"as_of\" \
         value=\"{as_of}\" max=\"{today}\"></label><label>范围 <input name=\"scope\" value=\"{scope}\" size=\"12\" \
         placeholder=\"本级及下级\" title=\"区划代码（如 510500）或 tier:county\"></label>",
        action = escape(action),
        as_of = escape(as_of),
        today = escape(today),
        scope = escape(scope),
    );
    for (k, v) in hidden.iter().filter(|(_, v)| !v.is_empty()) {
        out.push_str(&format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(k), escape(v)));
    }
    out.push_str("<button type=\"submit\">查看</button></form>");
    for (format, text) in [("html", "HTML 报告"), ("csv", "导出 CSV"), ("xlsx", "导出 Excel")] {
        let q = query(as_of, scope, &[("format", format)]);
        out.push_str(&link_button(&format!("/api/v1/audit{q}"), text));
    }
    out.push_str("</div>");
    out
}

/// `GET /console/audit[?as_of=&scope=]`: summary, heat map (each cell a link to its findings)
/// and the rules.
#[utoipa::path(get, path = "/console/audit", tag = "console", responses((status = 200, description = "审计热力图 / the audit heat map", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
async fn heat_page(State(node): State<Node>, user: Principal, QueryParams(q): QueryParams<AuditQuery>) -> PageResult {
    require(&node, &user, Section::Audit)?;
    let scope = parse_scope(&node, q.scope.as_deref())?;
    let (report, source) = run(&node, &scope, parse_as_of(q.as_of.as_deref())?, false).await?;
    let as_of = report.as_of.to_string();
    let scope_text = q.scope.as_deref().unwrap_or("").trim().to_string();
    let mut body = toolbar(&as_of, &scope_text, &node.today().to_string(), "/console/audit", &[]);
    let nodes = sorted_nodes(&report);
    let average = if nodes.is_empty() {
        "—".to_string()
    } else {
        percent(nodes.iter().map(|n| n.score).sum::<f64>() / nodes.len() as f64)
    };
    let failing = nodes.iter().filter(|n| n.counts.values().any(|c| *c > 0)).count();
    body.push_str(&format!(
        "<div class=\"summary\"><div>截至<b>{as_of}</b></div><div>审计单位<b>{}</b></div><div>有问题的单位<b>{failing}</b></div>\
         <div>问题总数<b>{}</b></div><div>平均得分<b>{average}</b></div><div>数据来源<b>{}</b></div></div>",
        nodes.len(),
        report.findings.len(),
        match source {
            Source::Cache => "今日缓存",
            Source::Full => "按日重算",
        },
    ));
    body.push_str(&format!(
        "<p class=\"muted\">范围：{}。每格为该单位违反该规则的问题条数，点击查看明细与证据；得分最低的单位排在最前。</p>",
        escape(&report.scope)
    ));
    body.push_str(&filter_box("heat", "按单位名称或代码筛选"));
    body.push_str(&heat_table(&report, &as_of, &scope_text));
    body.push_str("<p class=\"muted\">颜色：");
    for (_, bg, fg, label) in HEAT {
        body.push_str(&format!("<span class=\"badge\" style=\"background:{bg};color:{fg}\">{label}</span> "));
    }
    body.push_str("</p><h2>规则说明</h2>");
    let rules: Vec<Vec<String>> = report
        .rules
        .iter()
        .map(|r| {
            let link = format!("/console/audit/findings{}", query(&as_of, &scope_text, &[("rule", &r.id)]));
            vec![
                escape(&r.id),
                escape(&r.label),
                escape(&r.explain),
                format!("<a href=\"{}\">{}</a>", escape(&link), r.findings),
                r.nodes.to_string(),
            ]
        })
        .collect();
    body.push_str(&table("rules", &["编号", "规则", "查什么", "问题数", "涉及单位数"], &rules));
    Ok(page(&node, &user, Section::Audit, "一致性审计", &body))
}

/// The heat map: a row per node (worst first), a cell per rule linking to its findings.
fn heat_table(report: &AuditReport, as_of: &str, scope: &str) -> String {
    let mut out = String::from(
        "<div class=\"scroll\"><table id=\"heat\" class=\"grid heat\"><thead><tr><th>单位</th><th>层级</th><th class=\"num\">得分</th>",
    );
    for r in &report.rules {
        out.push_str(&format!(
            "<th class=\"num\" title=\"{}\">{}<br>{}</th>",
            escape(&r.explain),
            escape(&r.id),
            escape(&r.label)
        ));
    }
    out.push_str("</tr></thead><tbody>");
    for n in sorted_nodes(report) {
        let all = format!("/console/audit/findings{}", query(as_of, scope, &[("node", n.division.as_str())]));
        out.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a> <span class=\"muted mono\">{}</span></td><td>{}</td><td class=\"num\">{}</td>",
            escape(&all),
            escape(&n.name),
            escape(n.division.as_str()),
            escape(n.tier.label()),
            percent(n.score)
        ));
        for r in &report.rules {
            let count = n.counts.get(&r.id).copied().unwrap_or(0);
            let (_, bg, fg, _) = heat(count);
            let link = format!(
                "/console/audit/findings{}",
                query(as_of, scope, &[("node", n.division.as_str()), ("rule", &r.id)])
            );
            out.push_str(&format!(
                "<td class=\"cell\" style=\"background:{bg};color:{fg}\" title=\"{} · {} {}：{count} 项\"><a href=\"{}\">{count}</a></td>",
                escape(&n.name),
                escape(&r.id),
                escape(&r.label),
                escape(&link)
            ));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    if report.nodes.is_empty() {
        out.push_str("<p class=\"muted empty\">审计范围内没有单位。</p>");
    }
    out
}

/// `GET /console/audit/findings?node=&rule=&as_of=&scope=`: the findings of one cell (or one
/// node's, or one rule's) with their differences and evidence entries.
#[utoipa::path(get, path = "/console/audit/findings", tag = "console", responses((status = 200, description = "审计发现 / the findings of a cell", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
async fn findings_page(
    State(node): State<Node>,
    user: Principal,
    QueryParams(q): QueryParams<AuditQuery>,
) -> PageResult {
    require(&node, &user, Section::Audit)?;
    let scope = parse_scope(&node, q.scope.as_deref())?;
    let (report, _) = run(&node, &scope, parse_as_of(q.as_of.as_deref())?, false).await?;
    let as_of = report.as_of.to_string();
    let scope_text = q.scope.as_deref().unwrap_or("").trim().to_string();
    let want_node = q.node.as_deref().map(str::trim).filter(|x| !x.is_empty());
    let want_rule = q.rule.as_deref().map(str::trim).filter(|x| !x.is_empty());
    let found = cell_findings(&report, want_node, want_rule);
    let node_name = want_node
        .and_then(|d| report.nodes.iter().find(|n| n.division.as_str() == d))
        .map_or_else(|| want_node.unwrap_or("全部单位").to_string(), |n| format!("{}（{}）", n.name, n.division));
    let rule_name = want_rule
        .and_then(|id| report.rules.iter().find(|r| r.id == id))
        .map_or_else(|| want_rule.unwrap_or("全部规则").to_string(), |r| format!("{} {}", r.id, r.label));
    let hidden = [("node", want_node.unwrap_or("")), ("rule", want_rule.unwrap_or(""))];
    let mut body = toolbar(&as_of, &scope_text, &node.today().to_string(), "/console/audit/findings", &hidden);
    body.push_str(&format!(
        "<p><a href=\"/console/audit{}\">← 返回热力图</a></p><div class=\"summary\"><div>单位<b>{}</b></div>\
         <div>规则<b>{}</b></div><div>截至<b>{as_of}</b></div><div>问题<b>{}</b></div></div>",
        escape(&query(&as_of, &scope_text, &[])),
        escape(&node_name),
        escape(&rule_name),
        found.len()
    ));
    body.push_str(&filter_box("findings", "按事项编码、说明筛选"));
    let rows: Vec<Vec<String>> = found.iter().take(HTML_FINDINGS_LIMIT).map(|f| finding_cells(&report, f)).collect();
    body.push_str(&table("findings", &["单位", "规则", "事项编码或对象", "起算日", "说明", "差异", "证据条目"], &rows));
    if found.len() > rows.len() {
        body.push_str(&format!(
            "<p class=\"muted\">本页只列出前 {} 条，共 {} 条；全部问题请导出 Excel 或 CSV。</p>",
            rows.len(),
            found.len()
        ));
    }
    if rows.is_empty() {
        body.push_str(&format!("<p>{}</p>", badge("该格截至此日没有问题", Tone::Good)));
    }
    Ok(page(&node, &user, Section::Audit, "审计问题明细", &body))
}

/// One finding as table cells; each evidence entry links to its entry page.
fn finding_cells(report: &AuditReport, f: &Finding) -> Vec<String> {
    let name = report.nodes.iter().find(|n| n.division == f.node).map_or("", |n| n.name.as_str());
    let differences = if f.differences.is_empty() { String::new() } else { crate::audit_report::differences_html(f) };
    let evidence: Vec<String> = f
        .evidence
        .iter()
        .map(|e| {
            let short: String = e.hash.chars().take(12).collect();
            let text = if short.is_empty() {
                format!("{}#{}", e.origin, e.seq)
            } else {
                format!("{}#{}:{short}", e.origin, e.seq)
            };
            format!(
                "<a class=\"mono\" href=\"/console/audit/entry/{}/{}\" title=\"{}\">{}</a>",
                url_component(e.origin.as_str()),
                e.seq,
                escape(&e.hash),
                escape(&text)
            )
        })
        .collect();
    vec![
        format!("{} <span class=\"muted mono\">{}</span>", escape(name), escape(f.node.as_str())),
        format!("{} {}", escape(f.rule.id()), escape(f.rule.label())),
        escape(&f.subject),
        f.from.to_string(),
        escape(&f.message),
        differences,
        evidence.join("<br>"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_day_scope_and_cell() {
        assert_eq!(
            query("2025-11-04", "", &[("node", "510521"), ("rule", "A02")]),
            "?as_of=2025-11-04&node=510521&rule=A02"
        );
        assert_eq!(query("", "tier:county", &[]), "?scope=tier%3Acounty");
        assert_eq!(query("", "", &[]), "");
    }

    #[test]
    fn the_toolbar_has_the_day_picker_and_the_exports() {
        let t = toolbar("2025-11-04", "510000", "2025-11-05", "/console/audit", &[("node", "510521"), ("rule", "")]);
        assert!(t.contains("type=\"date\" name=\"as_of\" value=\"2025-11-04\" max=\"2025-11-05\""), "{t}");
        assert!(t.contains("name=\"node\" value=\"510521\"") && !t.contains("name=\"rule\""));
        assert!(t.contains("/api/v1/audit?as_of=2025-11-04&amp;scope=510000&amp;format=xlsx"), "{t}");
    }
}
