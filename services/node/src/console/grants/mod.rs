//! 赋权与印章: the delegated powers a node received (and, on a grantor such as a city, issued),
//! one batch with its items and history, the special seals with their lifecycle, the two
//! register downloads and the count of the node's adjustment requests.
//!
//! Owns `/console/grants` and `/console/grants/{reference}`. Reads through `api::grants`
//! (`visible_grants`, `find_grant`, the domain's `status_on`) and `api::seals::visible_seals`;
//! every action (accept, revoke, extend, seal steps) is a `fetch` of the JSON API by the console
//! script. Must not decide a grant's or a seal's status itself, write, or sign.

mod seals;

use axum::extract::{Path, State};
use chrono::NaiveDate;
use quanze_domain::grants::GrantStatus;
use quanze_domain::{DivisionCode, GrantHeader, Role};
use quanze_store::GrantRow;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::html::{Tone, action_button, badge, escape, filter_box, link_button, table, url_component};
use super::{PageResult, Section, page, require};
use crate::api::grants::{find_grant, ref_text, visible_grants};
use crate::api::seals::visible_seals;
use crate::auth::Principal;
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(grants_page)).routes(routes!(grant_page))
}

/// Whether the user acts on grants and seals here (the establishment office, the operator);
/// government and auditors only read.
fn can_write(user: &Principal) -> bool {
    user.has(Role::Establishment) || user.has(Role::Operator)
}

fn status_badge(h: &GrantHeader, today: NaiveDate) -> String {
    let status = h.status_on(today);
    let tone = match status {
        GrantStatus::AwaitingHandover => Tone::Warn,
        GrantStatus::HandoverOverdue | GrantStatus::Revoked => Tone::Bad,
        GrantStatus::InTraining => Tone::Neutral,
        GrantStatus::InForce => Tone::Good,
    };
    badge(status.label(), tone)
}

/// The handover deadline, marked when late.
fn handover_text(h: &GrantHeader, today: NaiveDate) -> String {
    let due = h.handover_due.to_string();
    if h.handover_late(today) { format!("{} {}", escape(&due), badge("逾期", Tone::Bad)) } else { escape(&due) }
}

/// The training period's end, with its extensions.
fn training_text(h: &GrantHeader) -> String {
    let extra: u32 = h.extensions.iter().map(|e| e.months).sum();
    let months = if extra > 0 {
        format!("{} 个月，延长 {extra} 个月", h.training_months)
    } else {
        format!("{} 个月", h.training_months)
    };
    format!("{}（{months}）", h.training_until())
}

/// A recorded step of a batch in words.
fn event_label(action: &str) -> &'static str {
    match action {
        "grant.issue" => "印发",
        "grant.accept" => "承接",
        "grant.revoke" => "收回",
        "grant.extend" => "延长培训指导期",
        _ => "办理",
    }
}

fn grant_href(h: &GrantHeader) -> String {
    format!("/console/grants/{}", url_component(&ref_text(&h.grant_ref)))
}

fn accept_button(h: &GrantHeader) -> String {
    action_button(
        &format!("/api/v1/grants/{}/accept", url_component(&ref_text(&h.grant_ref))),
        Some("{}"),
        "reload",
        "接收",
        Some(&format!(
            "确认以今日为承接日期接收 {}（{} 个事项，承接部门：{}）？",
            h.doc_no,
            h.items,
            h.departments.join("、")
        )),
    )
}

/// Whether this node (the grantee) may still accept the batch.
fn acceptable(h: &GrantHeader, me: &DivisionCode) -> bool {
    &h.grantee == me && h.accepted_on.is_none() && h.revoked_on.is_none()
}

/// A batch table: `issued` shows the grantee instead of the grantor.
fn grant_table(id: &str, rows: &[GrantRow], today: NaiveDate, me: &DivisionCode, write: bool, issued: bool) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let h = &r.header;
            let other = if issued { &h.grantee } else { &h.grant_ref.origin };
            let items = if h.items_revoked > 0 {
                format!("{}（已收回 {}）", h.items, h.items_revoked)
            } else {
                h.items.to_string()
            };
            let action = if write && acceptable(h, me) {
                format!("<div data-scope>{}<div class=\"error\" hidden></div></div>", accept_button(h))
            } else {
                format!("<a href=\"{}\">查看</a>", escape(&grant_href(h)))
            };
            vec![
                format!("<a href=\"{}\">{}</a>", escape(&grant_href(h)), escape(&h.doc_no)),
                escape(&h.title),
                escape(other.as_str()),
                h.issued.to_string(),
                handover_text(h, today),
                h.accepted_on.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
                escape(&training_text(h)),
                items,
                status_badge(h, today),
                action,
            ]
        })
        .collect();
    let party = if issued { "承接方" } else { "赋权方" };
    table(
        id,
        &["文号", "标题", party, "印发日期", "交接期限", "承接日期", "培训指导期至", "事项数", "状态", "操作"],
        &cells,
    )
}

/// `GET /console/grants`: received and issued batches, seals, registers, requests.
#[utoipa::path(get, path = "/console/grants", tag = "console", responses((status = 200, description = "赋权 / grants", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
async fn grants_page(State(node): State<Node>, user: Principal) -> PageResult {
    require(&node, &user, Section::Grants)?;
    let today = node.today();
    let me = node.division().clone();
    let write = can_write(&user);
    let received = visible_grants(&node, Some("received")).await?;
    let issued = visible_grants(&node, Some("issued")).await?;
    let seals = visible_seals(&node, None, None).await?;
    let requests = node.store().requests(&me, None, None).await?;
    let reviewing = requests.iter().filter(|r| r.status.key() == "reviewing").count();
    let waiting = received.iter().filter(|r| acceptable(&r.header, &me)).count();
    let active = seals.iter().filter(|s| s.state == quanze_domain::SealState::Activated).count();
    let mut body = format!(
        "<div class=\"summary\"><div>收到的赋权批次<b>{}</b></div><div>待接收<b>{waiting}</b></div>\
         <div>下发的赋权批次<b>{}</b></div><div>专用分章（在用）<b>{}（{active}）</b></div>\
         <div><a href=\"/console/requests\">调整申请</a><b id=\"requests\">{}</b><small>审核中 {reviewing}</small></div></div>",
        received.len(),
        issued.len(),
        seals.len(),
        requests.len(),
    );
    body.push_str(&format!(
        "<div class=\"toolbar\">{}{}{}</div>",
        link_button("/api/v1/grants/export?format=xlsx", "下载赋权登记（Excel）"),
        link_button("/api/v1/seals/export?format=xlsx", "下载专用章登记（Excel）"),
        filter_box("received", "筛选收到的赋权"),
    ));
    body.push_str("<h2>收到的赋权</h2>");
    body.push_str(&grant_table("received", &received, today, &me, write, false));
    if !issued.is_empty() || node.tier() == quanze_domain::Tier::City {
        body.push_str("<h2>下发的赋权</h2>");
        body.push_str(&grant_table("issued", &issued, today, &me, write, true));
    }
    if write && node.tier() != quanze_domain::Tier::Township {
        body.push_str(&issue_form(today));
    }
    body.push_str(&format!(
        "<h2>专用分章</h2><div class=\"toolbar\">{}<span class=\"muted\">刻制方负责送达、收回、封存；持有方在承接赋权并收到印章后启用。</span></div>",
        filter_box("seals", "按编号、名称、部门筛选")
    ));
    body.push_str(&seals::seal_table("seals", &seals, &me, write));
    Ok(page(&node, &user, Section::Grants, "赋权与印章", &body))
}

/// The form that issues a grant batch from an Excel or CSV sheet of its items (one row per item:
/// 事项编码, 赋权部门, 承接部门, …); the header fields go with the upload.
fn issue_form(today: NaiveDate) -> String {
    format!(
        "<h2>下发赋权（上传事项表）</h2><form class=\"card\" id=\"issue-grant\" data-upload=\"/api/v1/grants/sheet\" \
         data-format-from-name data-then=\"reload\"><div class=\"columns\">\
         <label>文号<input name=\"doc_no\" required placeholder=\"如 泸府发〔2026〕12号\"></label>\
         <label>标题<input name=\"title\" required placeholder=\"如 泸州市赋予泸县部分市级行政职权的决定\"></label>\
         <label>承接方区划代码<input name=\"grantee\" required pattern=\"[0-9]{{6}}([0-9]{{3}})?\" placeholder=\"如 510521\"></label>\
         <label>印发日期<input name=\"issued\" type=\"date\" value=\"{today}\"></label>\
         <label>培训指导期<select name=\"training_months\"><option value=\"1\">1 个月</option><option value=\"2\">2 个月</option>\
         <option value=\"3\" selected>3 个月</option></select></label>\
         <label>事项表（.xlsx、.xls 或 .csv）<input type=\"file\" name=\"file\" accept=\".xlsx,.xls,.csv\" required></label></div>\
         <p class=\"muted\">事项表每行一个事项：事项编码、事项名称、赋权部门、承接部门、审批类别、需报省办结。任何一行有错，不发出任何赋权，并逐行列出错误。</p>\
         <button type=\"submit\">发出赋权</button><div class=\"progress\"><progress hidden></progress> <span class=\"progress-label\"></span></div>\
         <div class=\"error\" hidden></div></form>"
    )
}

/// `GET /console/grants/{reference}`: one batch, its items, seals and history.
#[utoipa::path(get, path = "/console/grants/{reference}", tag = "console", params(("reference" = String, Path, description = "The reference")), responses((status = 200, description = "赋权详情 / a grant", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
async fn grant_page(State(node): State<Node>, user: Principal, Path(reference): Path<String>) -> PageResult {
    require(&node, &user, Section::Grants)?;
    let today = node.today();
    let me = node.division().clone();
    let write = can_write(&user);
    let row = find_grant(&node, &reference, None).await?;
    let h = &row.header;
    let reference = ref_text(&h.grant_ref);
    let api = format!("/api/v1/grants/{}", url_component(&reference));
    let mut body = format!(
        "<p><a href=\"/console/grants\">← 返回赋权与印章</a></p>\
         <table class=\"grid\"><tbody><tr><th>文号</th><td>{doc}</td><th>批次</th><td class=\"mono\">{reference}</td></tr>\
         <tr><th>标题</th><td colspan=\"3\">{title}</td></tr>\
         <tr><th>赋权方</th><td>{grantor}</td><th>承接方</th><td>{grantee}</td></tr>\
         <tr><th>印发日期</th><td>{issued}</td><th>交接期限</th><td>{handover}</td></tr>\
         <tr><th>承接日期</th><td>{accepted}</td><th>培训指导期至</th><td>{training}</td></tr>\
         <tr><th>承接部门</th><td colspan=\"3\">{departments}</td></tr>\
         <tr><th>状态</th><td id=\"status\">{status}</td><th>事项</th><td>{items} 个（已收回 {revoked} 个）</td></tr></tbody></table>",
        doc = escape(&h.doc_no),
        reference = escape(&reference),
        title = escape(&h.title),
        grantor = escape(h.grant_ref.origin.as_str()),
        grantee = escape(h.grantee.as_str()),
        issued = h.issued,
        handover = handover_text(h, today),
        accepted = h.accepted_on.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
        training = escape(&training_text(h)),
        departments = escape(&h.departments.join("、")),
        status = status_badge(h, today),
        items = h.items,
        revoked = h.items_revoked,
    );
    if let Some(on) = h.revoked_on {
        body.push_str(&format!("<p class=\"error\">本批次已于 {on} 收回：{}</p>", escape(&h.revoke_reason)));
    }
    if write && acceptable(h, &me) {
        body.push_str(&format!(
            "<div class=\"card\" data-scope><h3>接收</h3><p>接收后，本批次事项以承接部门为实施主体进入本级清单（状态“赋权承接”），\
             培训指导期自印发之日起算。</p>{}<div class=\"error\" hidden></div></div>",
            accept_button(h)
        ));
    }
    if write && h.grant_ref.origin == me && h.revoked_on.is_none() {
        body.push_str(&format!(
            "<div class=\"columns\"><form class=\"card\" data-api=\"{api}/revoke\" data-then=\"reload\" data-confirm=\"确定收回？收回后承接方不得再行使所收回的事项。\">\
             <h3>收回赋权</h3><label>收回的事项编码（逗号或换行分隔；留空为整批收回）<textarea name=\"codes\" data-kind=\"list\"></textarea></label>\
             <label>收回理由（必填）<textarea name=\"reason\" required></textarea></label>\
             <label>收回日期（留空为今日）<input name=\"date\" type=\"date\"></label>\
             <button type=\"submit\">收回</button><div class=\"error\" hidden></div></form>\
             <form class=\"card\" data-api=\"{api}/extend\" data-then=\"reload\">\
             <h3>延长培训指导期</h3><label>延长月数（1—6）<input name=\"months\" type=\"number\" min=\"1\" max=\"6\" data-kind=\"number\" required></label>\
             <label>理由（必填）<textarea name=\"reason\" required></textarea></label>\
             <button type=\"submit\">延长</button><div class=\"error\" hidden></div></form></div>",
            api = escape(&api),
        ));
    }
    let items = node.store().grant_items(&h.grant_ref.origin, h.grant_ref.seq).await?;
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|g| {
            let state = match g.revoked_on {
                Some(on) => format!(
                    "{}<br><small>{}</small>",
                    badge(&format!("{on} 收回"), Tone::Bad),
                    escape(&g.revoke_reason)
                ),
                None => badge("赋权中", Tone::Good),
            };
            vec![
                format!("<span class=\"mono\">{}</span>", escape(&g.code)),
                escape(&g.name),
                escape(g.category.label()),
                escape(g.kind.label()),
                escape(&g.grantor_dept),
                escape(&g.grantee_dept),
                if g.provincial { "是" } else { "否" }.to_string(),
                state,
            ]
        })
        .collect();
    body.push_str(&format!(
        "<h2>赋权事项</h2><div class=\"toolbar\">{}</div>",
        filter_box("items", "按编码、名称、部门筛选")
    ));
    body.push_str(&table(
        "items",
        &["事项编码", "事项名称", "职权类别", "审批类别", "赋权部门", "承接部门", "需报省办结", "状态"],
        &rows,
    ));
    let seals: Vec<_> = visible_seals(&node, None, None)
        .await?
        .into_iter()
        .filter(|s| s.seal.scope.iter().any(|r| r.origin == h.grant_ref.origin && r.seq == h.grant_ref.seq))
        .collect();
    body.push_str("<h2>适用本批次的专用分章</h2>");
    body.push_str(&seals::seal_table("seals", &seals, &me, write));
    let events = node.store().grant_events(&format!("grant:{reference}")).await?;
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            let action = format!("{}（{}）", event_label(&e.action), e.action);
            vec![escape(&e.day), escape(&action), escape(&e.detail), escape(&format!("{}#{}", e.origin, e.seq))]
        })
        .collect();
    body.push_str("<h2>办理记录</h2>");
    body.push_str(&table("events", &["日期", "动作", "说明", "条目"], &rows));
    Ok(page(&node, &user, Section::Grants, &format!("赋权批次 {}", h.doc_no), &body))
}

#[cfg(test)]
mod tests {
    use quanze_domain::grants::{Extension, GrantRef};

    use super::*;

    fn header() -> GrantHeader {
        GrantHeader {
            grant_ref: GrantRef { origin: DivisionCode::parse("510500").unwrap(), seq: 7, hash: "ab".into() },
            doc_no: "泸市府发〔2016〕37号".into(),
            title: "方案".into(),
            issued: "2016-09-09".parse().unwrap(),
            grantee: DivisionCode::parse("510521").unwrap(),
            training_months: 3,
            extensions: vec![Extension { months: 2, reason: "专业性强".into() }],
            handover_due: "2016-10-08".parse().unwrap(),
            items: 300,
            departments: vec!["泸县市场监督管理局".into()],
            accepted_on: None,
            revoked_on: None,
            revoke_reason: String::new(),
            items_revoked: 0,
        }
    }

    #[test]
    fn the_grantee_accepts_once_and_lateness_shows() {
        let mut h = header();
        let (city, county) = (DivisionCode::parse("510500").unwrap(), DivisionCode::parse("510521").unwrap());
        assert!(acceptable(&h, &county) && !acceptable(&h, &city));
        let late = "2016-10-09".parse().unwrap();
        assert!(handover_text(&h, late).contains("逾期"));
        assert!(status_badge(&h, late).contains("交接逾期"));
        assert_eq!(training_text(&h), "2017-02-09（3 个月，延长 2 个月）");
        h.accepted_on = "2016-09-30".parse().ok();
        assert!(!acceptable(&h, &county));
        assert!(!handover_text(&h, late).contains("逾期"));
        assert!(status_badge(&h, late).contains("培训指导期"));
        assert!(accept_button(&header()).contains("/api/v1/grants/510500%237/accept"));
    }
}
