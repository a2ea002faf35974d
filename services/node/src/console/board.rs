//! The 对账看板 page: for one publication (picked from a list, the latest by default), every
//! lower-level node that must reconcile, with its status, due date and working days left or
//! overdue; counts on top, a server-side status filter, a text filter and the .xlsx export.
//!
//! Every figure comes from `api::recon_board::board`, the same computation as
//! `GET /api/v1/recon/{ref}/status` and its `format=xlsx` export (the export button is that
//! route). Must not judge a task itself, write, or sign.

use std::collections::BTreeMap;

use axum::extract::State;
use quanze_domain::{DivisionCode, TaskStatus};
use quanze_store::PublicationRow;
use serde::Deserialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::html::{Tone, badge, escape, filter_box, link_button, table, url_component};
use super::publish::tiers_text;
use super::{PageResult, Section, page, require};
use crate::api::recon_board::{STATUS_FILTERS, TaskLine, as_of_date, board, days_text, ref_text, status_filter};
use crate::auth::Principal;
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(board_page))
}

#[derive(Debug, Deserialize)]
struct BoardQuery {
    /// The publication (`origin#seq` or 文号); default the latest.
    #[serde(rename = "ref")]
    reference: Option<String>,
    /// Only nodes with this status key.
    status: Option<String>,
    /// Judge on this day instead of today.
    as_of: Option<String>,
}

/// A line's status as a badge: closed on time green, explained differences and tasks due within
/// three working days amber, overdue or unjudgeable red.
fn status_badge(line: &TaskLine) -> String {
    let Some(status) = line.status else { return badge("无法计算期限", Tone::Bad) };
    let tone = match status {
        TaskStatus::Adopted if line.late_days.unwrap_or(0) > 0 => Tone::Warn,
        TaskStatus::Adopted => Tone::Good,
        TaskStatus::Deviated => Tone::Warn,
        TaskStatus::NotApplicable => Tone::Neutral,
        TaskStatus::Open if line.days_left.is_some_and(|d| d <= 3) => Tone::Warn,
        TaskStatus::Open => Tone::Neutral,
        TaskStatus::Overdue => Tone::Bad,
    };
    badge(status.label(), tone)
}

/// Where a publication comes from, seen from this node.
fn source_label(me: &DivisionCode, p: &PublicationRow) -> &'static str {
    if &p.pub_ref.origin == me {
        "本级发布"
    } else if me.is_within(&p.pub_ref.origin) {
        "上级发布"
    } else {
        "下级发布"
    }
}

/// The publication picker: one `<select>` grouped by source, `chosen` selected.
fn picker(me: &DivisionCode, pubs: &[PublicationRow], chosen: &str) -> String {
    let mut groups: BTreeMap<u8, (&str, String)> = BTreeMap::new();
    for p in pubs {
        let label = source_label(me, p);
        let order = match label {
            "本级发布" => 0,
            "上级发布" => 1,
            _ => 2,
        };
        let r = ref_text(&p.pub_ref);
        let selected = if r == chosen { " selected" } else { "" };
        groups.entry(order).or_insert((label, String::new())).1.push_str(&format!(
            "<option value=\"{}\"{selected}>{}　{}（{}）</option>",
            escape(&r),
            escape(&p.doc_no),
            escape(&p.title),
            escape(&p.published.to_string())
        ));
    }
    let options: String = groups
        .values()
        .map(|(label, opts)| format!("<optgroup label=\"{}\">{opts}</optgroup>", escape(label)))
        .collect();
    format!("<label>目录公布 <select name=\"ref\">{options}</select></label>")
}

/// The status filter `<select>`, `current` selected.
fn status_select(current: Option<&str>) -> String {
    let mut out = String::from("<label>状态 <select name=\"status\"><option value=\"\">全部</option>");
    for (key, label) in STATUS_FILTERS {
        let selected = if Some(key) == current { " selected" } else { "" };
        out.push_str(&format!("<option value=\"{key}\"{selected}>{}</option>", escape(label)));
    }
    out.push_str("</select></label>");
    out
}

/// The query string of a board's filters: `status=…&as_of=…` (for the summary links and the
/// export).
fn filters(status: Option<&str>, as_of: Option<&str>) -> String {
    let mut q = String::new();
    if let Some(s) = status {
        q.push_str(&format!("&status={}", url_component(s)));
    }
    if let Some(d) = as_of {
        q.push_str(&format!("&as_of={}", url_component(d)));
    }
    q.trim_start_matches('&').to_string()
}

/// The console path of the board of `reference` with `status` and `as_of`.
fn board_link(reference: &str, status: Option<&str>, as_of: Option<&str>) -> String {
    let f = filters(status, as_of);
    let sep = if f.is_empty() { "" } else { "&" };
    format!("/console/board?ref={}{sep}{f}", url_component(reference))
}

#[utoipa::path(get, path = "/console/board", tag = "console", responses((status = 200, description = "对账看板 / the reconciliation board", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
async fn board_page(State(node): State<Node>, user: Principal, q: axum::extract::Query<BoardQuery>) -> PageResult {
    require(&node, &user, Section::Board)?;
    let q = q.0;
    let filter = status_filter(q.status.as_deref())?;
    let as_of = as_of_date(q.as_of.as_deref())?;
    let me = node.division().clone();
    let mut pubs = node.store().publications().await?;
    pubs.reverse();
    let Some(latest) = pubs.first() else {
        let body = format!(
            "<p class=\"muted\">本节点尚未持有任何目录公布：上级公布或本级发布后，这里显示各下级节点的对标进度。</p><p>{}</p>",
            link_button("/console/publish", "去发布目录调整")
        );
        return Ok(page(&node, &user, Section::Board, "对账看板", &body));
    };
    let reference = q
        .reference
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map_or_else(|| ref_text(&latest.pub_ref), String::from);
    let b = board(&node, &reference, as_of).await?;
    let p = &b.publication;
    let chosen = ref_text(&p.pub_ref);
    let as_of_text = as_of.map(|d| d.to_string());
    let as_of_q = as_of_text.as_deref();

    let mut body = format!(
        "<form class=\"toolbar\" method=\"get\" action=\"/console/board\">{}{}\
         <label>判断日期 <input type=\"date\" name=\"as_of\" value=\"{}\"></label><button type=\"submit\">查看</button></form>",
        picker(&me, &pubs, &chosen),
        status_select(filter),
        escape(as_of_text.as_deref().unwrap_or("")),
    );
    let due = b.lines.iter().find_map(|l| l.due).map_or_else(|| "—".to_string(), |d| d.to_string());
    body.push_str(&format!(
        "<div class=\"card\"><b>{doc}</b>　{title}<br><span class=\"muted\">{source} · 公布 {published} · 施行 {effective} · \
         对标层级 {tiers} · 期限 {window} · 截止 {due} · 调整 {changes} 项 · 按 {as_of} 计</span></div>",
        doc = escape(&p.doc_no),
        title = escape(&p.title),
        source = source_label(&me, p),
        published = p.published,
        effective = p.effective,
        tiers = escape(&tiers_text(&p.tiers)),
        window = escape(&p.window.to_string()),
        due = escape(&due),
        changes = p.changes,
        as_of = b.as_of,
    ));

    let count = |k: &str| b.counts.get(k).copied().unwrap_or(0);
    let mut summary = format!(
        "<div class=\"summary\"><div><a href=\"{}\">应对标节点</a><b>{}</b></div>",
        escape(&board_link(&chosen, None, as_of_q)),
        b.lines.len()
    );
    for (key, label) in STATUS_FILTERS {
        if key == "unknown" && count(key) == 0 {
            continue;
        }
        summary.push_str(&format!(
            "<div><a href=\"{}\">{}</a><b>{}</b></div>",
            escape(&board_link(&chosen, Some(key), as_of_q)),
            escape(label),
            count(key)
        ));
    }
    summary.push_str("</div>");
    body.push_str(&summary);

    let lines = b.lines_with(filter);
    let f = filters(filter, as_of_q);
    let sep = if f.is_empty() { "" } else { "&" };
    let export = format!("/api/v1/recon/{}/status?format=xlsx{sep}{f}", url_component(&chosen));
    body.push_str(&format!(
        "<div class=\"toolbar\">{}<span class=\"muted\">显示 <span data-count-for=\"board\">{}</span> 个节点{}</span>{}</div>",
        filter_box("board", "按区划、名称、状态、理由筛选"),
        lines.len(),
        filter.map_or_else(String::new, |f| {
            let label = STATUS_FILTERS.iter().find(|(k, _)| *k == f).map_or(f, |(_, l)| *l);
            format!("（仅“{}”）", escape(label))
        }),
        link_button(&export, "导出 Excel"),
    ));
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                format!("<span class=\"mono\">{}</span>", escape(&l.division)),
                escape(&l.name),
                escape(l.tier.label()),
                status_badge(l),
                l.due.map_or_else(String::new, |d| escape(&d.to_string())),
                escape(&l.calendar_error.clone().unwrap_or_else(|| days_text(l))),
                format!(
                    "{}/{}{}",
                    l.resolved,
                    l.required,
                    if l.deviated > 0 { format!("（差异 {}）", l.deviated) } else { String::new() }
                ),
                l.closed_on.map_or_else(String::new, |d| escape(&d.to_string())),
                escape(&l.reason),
            ]
        })
        .collect();
    body.push_str(&table(
        "board",
        &[
            "区划代码",
            "节点名称",
            "层级",
            "状态",
            "截止日期",
            "剩余/逾期",
            "已处理/须对标",
            "办结日期",
            "差异或不适用理由",
        ],
        &rows,
    ));
    body.push_str(
        "<p class=\"muted\">期限按上级发布的法定节假日安排以工作日计算；状态与 <span class=\"mono\">quanze recon status</span> 相同。</p>",
    );
    Ok(page(&node, &user, Section::Board, "对账看板", &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_keep_the_publication_and_encode_it() {
        assert_eq!(board_link("510500#3", None, None), "/console/board?ref=510500%233");
        assert_eq!(
            board_link("510500#3", Some("overdue"), Some("2026-03-09")),
            "/console/board?ref=510500%233&status=overdue&as_of=2026-03-09"
        );
        assert_eq!(filters(None, Some("2026-03-09")), "as_of=2026-03-09");
    }

    #[test]
    fn the_status_select_marks_the_current_filter() {
        let s = status_select(Some("overdue"));
        assert!(s.contains("<option value=\"overdue\" selected>已逾期</option>"), "{s}");
        assert!(status_select(None).contains("<option value=\"\">全部</option>"));
    }

    fn line(status: Option<TaskStatus>, days_left: Option<i64>, late_days: Option<i64>) -> TaskLine {
        TaskLine {
            division: "510521".into(),
            name: "泸县".into(),
            tier: quanze_domain::Tier::County,
            due: None,
            status,
            label: String::new(),
            days_left,
            days_overdue: None,
            late_days,
            required: 1,
            resolved: 0,
            deviated: 0,
            reason: String::new(),
            closed_on: None,
            calendar_error: None,
        }
    }

    #[test]
    fn badges_warn_before_the_deadline_and_after_a_late_closing() {
        assert_eq!(status_badge(&line(Some(TaskStatus::Open), Some(10), None)), badge("待对标", Tone::Neutral));
        assert_eq!(status_badge(&line(Some(TaskStatus::Open), Some(3), None)), badge("待对标", Tone::Warn));
        assert_eq!(status_badge(&line(Some(TaskStatus::Overdue), None, None)), badge("已逾期", Tone::Bad));
        assert_eq!(status_badge(&line(Some(TaskStatus::Adopted), None, Some(0))), badge("已对标", Tone::Good));
        assert_eq!(status_badge(&line(Some(TaskStatus::Adopted), None, Some(2))), badge("已对标", Tone::Warn));
        assert_eq!(status_badge(&line(None, None, None)), badge("无法计算期限", Tone::Bad));
    }

    #[test]
    fn the_picker_groups_publications_by_source_and_escapes_them() {
        let row = |origin: &str, seq: u64, doc: &str| PublicationRow {
            pub_ref: quanze_domain::PubRef { origin: DivisionCode::parse(origin).unwrap(), seq, hash: String::new() },
            doc_no: doc.into(),
            title: "<通知>".into(),
            published: chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            effective: chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            tiers: vec![quanze_domain::Tier::County],
            window: Default::default(),
            changes: 1,
            requirements: vec![],
            required_by_tier: BTreeMap::new(),
            at: String::new(),
        };
        let me = DivisionCode::parse("510500").unwrap();
        let pubs = [row("510000", 7, "川府发〔2026〕1号"), row("510500", 3, "泸编发〔2026〕3号")];
        let html = picker(&me, &pubs, "510500#3");
        let own = html.find("本级发布").unwrap();
        assert!(own < html.find("上级发布").unwrap(), "own publications first: {html}");
        assert!(html.contains("<option value=\"510500#3\" selected>泸编发〔2026〕3号"), "{html}");
        assert!(html.contains("&lt;通知&gt;") && !html.contains("<通知>"));
    }
}
