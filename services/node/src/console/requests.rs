//! The adjustment-request pages (调整申请): the caller's queue first, then every other request
//! they may read; one request with its proposal, its full history and the step the caller may
//! take; the clerk's filing form (`requests/form.rs`).
//!
//! Reads through `api::requests` (`visible`, `readable`, `request_json`, `decidable_stage`,
//! `may_resubmit`): who sees what and who may act are the API's and the domain's answers, never
//! decided here. Every action is a `fetch` of `/api/v1/requests…` by the console script. Must
//! not write, sign or touch another section's pages.

mod form;

use axum::extract::{Path, State};
use quanze_domain::{Role, Status};
use serde::Deserialize;
use serde_json::Value;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::html::{Tone, badge, escape, filter_box, link_button, table};
use super::{PageResult, Section, page, require};
use crate::api::requests::{decidable_stage, may_resubmit, readable, request_json, visible};
use crate::api::{ApiError, QueryParams};
use crate::auth::Principal;
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(list_page)).routes(routes!(form::new_page)).routes(routes!(detail_page))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
}

/// The badge of a request status (API key).
pub(super) fn status_badge(key: &str, label: &str) -> String {
    let tone = match key {
        "published" => Tone::Good,
        "reviewing" => Tone::Warn,
        "rejected" | "returned" => Tone::Bad,
        _ => Tone::Neutral,
    };
    badge(label, tone)
}

/// Text of one JSON field (empty when missing or not a string).
fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

/// The caller's queue first (in the order given), then the others: `(mine, others)`.
fn split_queue<T>(rows: Vec<T>, mine: impl Fn(&T) -> bool) -> (Vec<T>, Vec<T>) {
    rows.into_iter().partition(|r| mine(r))
}

/// One row of a request table, from the API's JSON of a request.
fn row_cells(r: &Value, action: Option<&str>) -> Vec<String> {
    let id = r["id"].as_u64().unwrap_or(0);
    let waiting = match r["waiting_for"]["label"].as_str() {
        Some(label) => format!("{}<br><span class=\"muted\">{}</span>", escape(s(r, "stage_label")), escape(label)),
        None => "—".to_string(),
    };
    let due = if r["late"].as_bool() == Some(true) {
        format!("{} {}", escape(s(r, "due")), badge(&format!("逾期 {} 个工作日", r["late_days"]), Tone::Bad))
    } else if r["due"].is_string() {
        escape(s(r, "due"))
    } else {
        format!("<span class=\"muted\" title=\"{}\">—</span>", escape(s(r, "calendar_error")))
    };
    let mut title = format!("<a href=\"/console/requests/{id}\">{}</a>", escape(s(r, "title")));
    if let Some(a) = action {
        title.push_str(&format!(" {}", badge(a, Tone::Warn)));
    }
    vec![
        format!("<a href=\"/console/requests/{id}\">{id}</a>"),
        title,
        escape(s(r, "kind_label")),
        escape(s(r, "department")),
        status_badge(s(r, "status"), s(r, "status_label")),
        waiting,
        escape(s(r, "filed_on")),
        due,
        escape(r["filer"]["name"].as_str().unwrap_or("")),
    ]
}

const HEADERS: [&str; 9] = ["编号", "标题", "类型", "申请部门", "状态", "当前环节", "提交日", "办理期限", "经办人"];

/// `GET /console/requests[?status=]`: the caller's queue (requests waiting for one of their
/// roles, or returned to their department), then all others they may read.
#[utoipa::path(get, path = "/console/requests", tag = "console", responses((status = 200, description = "调整申请 / adjustment requests", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
async fn list_page(State(node): State<Node>, user: Principal, QueryParams(q): QueryParams<ListQuery>) -> PageResult {
    require(&node, &user, Section::Requests)?;
    let status = match q.status.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
        Some(x) => Some(Status::parse(x).ok_or_else(|| ApiError::bad_query(format!("未知的状态 “{x}” / bad status")))?),
        None => None,
    };
    let rows = visible(&node, &user, node.division(), status.map(Status::key), None).await?;
    let calendar = node.store().calendar().await?;
    let today = node.today();
    let counts = |st: Status| rows.iter().filter(|r| r.status == st).count();
    let summary = [Status::Reviewing, Status::Returned, Status::Published, Status::Rejected]
        .map(|st| format!("<div>{}<b>{}</b></div>", st.label(), counts(st)))
        .concat();
    let (mine, others) = split_queue(rows.iter().collect(), |r| {
        decidable_stage(&user, r).is_some() || (r.status == Status::Returned && may_resubmit(&user, r, today))
    });
    let mut body = format!("<div class=\"summary\"><div>待我办理<b>{}</b></div>{summary}</div>", mine.len());
    body.push_str("<div class=\"toolbar\"><form method=\"get\" action=\"/console/requests\"><select name=\"status\">");
    body.push_str("<option value=\"\">全部状态</option>");
    for st in [Status::Reviewing, Status::Returned, Status::Published, Status::Rejected] {
        let sel = if status == Some(st) { " selected" } else { "" };
        body.push_str(&format!("<option value=\"{}\"{sel}>{}</option>", st.key(), st.label()));
    }
    body.push_str("</select><button type=\"submit\" class=\"secondary\">筛选</button></form>");
    body.push_str(&filter_box("requests-all", "按标题、部门、编号筛选其他申请"));
    if user.has(Role::Clerk) {
        body.push_str(&link_button("/console/requests/new", "填报调整申请"));
    }
    body.push_str("</div>");
    let action_of = |r: &quanze_store::RequestRow| match decidable_stage(&user, r) {
        Some(stage) => format!("待{}", stage.label()),
        None => "待修改后重新提交".to_string(),
    };
    let mine_rows: Vec<Vec<String>> =
        mine.iter().map(|r| row_cells(&request_json(&calendar, r, None), Some(&action_of(r)))).collect();
    body.push_str(&format!("<h2 id=\"queue\">待我办理（{}）</h2>", mine_rows.len()));
    body.push_str(&table("requests-mine", &HEADERS, &mine_rows));
    // 信息公开 decides no stage; what they act on is what was just published: those first.
    let (published, others) = if user.has(Role::Publisher) {
        split_queue(others, |r| r.status == Status::Published)
    } else {
        (Vec::new(), others)
    };
    if user.has(Role::Publisher) {
        let rows: Vec<Vec<String>> =
            published.iter().map(|r| row_cells(&request_json(&calendar, r, None), Some("核对公开清单"))).collect();
        body.push_str(&format!("<h2 id=\"published\">已发布的调整（{}）</h2>", rows.len()));
        body.push_str(
            "<p class=\"muted\">政府（或编办）审定后即写入本级清单并在公开清单展示；请逐项核对公开内容。</p>",
        );
        body.push_str(&table("requests-published", &HEADERS, &rows));
    }
    let other_rows: Vec<Vec<String>> =
        others.iter().map(|r| row_cells(&request_json(&calendar, r, None), None)).collect();
    body.push_str(&format!(
        "<h2 id=\"others\">其他申请（<span data-count-for=\"requests-all\">{n}</span>/{n}）</h2>",
        n = other_rows.len()
    ));
    body.push_str(&table("requests-all", &HEADERS, &other_rows));
    if user.roles == [Role::Clerk] {
        body.push_str("<p class=\"muted\">部门经办人只能看到本部门的申请。</p>");
    }
    Ok(page(&node, &user, Section::Requests, "调整申请", &body))
}

/// `GET /console/requests/{id}`: the proposal, the full history and the caller's possible step.
#[utoipa::path(get, path = "/console/requests/{id}", tag = "console", params(("id" = String, Path, description = "The request id")), responses((status = 200, description = "申请详情 / a request", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
async fn detail_page(State(node): State<Node>, user: Principal, Path(id): Path<String>) -> PageResult {
    require(&node, &user, Section::Requests)?;
    let id = crate::api::requests::parse_id(&id)?;
    let (row, steps) = readable(&node, &user, node.division(), id).await?;
    let calendar = node.store().calendar().await?;
    let r = request_json(&calendar, &row, Some(&steps));
    let current = crate::api::requests::current_items(&node, &row.proposal).await?;
    let mut body = String::from("<div class=\"toolbar\"><a href=\"/console/requests\">← 返回申请列表</a></div>");
    body.push_str(&overview(&r));
    body.push_str("<h2>办理流程</h2>");
    body.push_str(&route_line(&r));
    body.push_str("<h2>拟调整内容</h2>");
    body.push_str(&form::changes_table(&row.proposal, &current, row.status == Status::Published));
    body.push_str(&format!(
        "<h3>调整理由及依据</h3><div class=\"card\" style=\"white-space:pre-wrap\">{}</div>",
        escape(s(&r, "reason"))
    ));
    body.push_str("<h3>附件</h3>");
    let attachments: Vec<Vec<String>> = row
        .proposal
        .attachments
        .iter()
        .map(|a| {
            vec![
                format!("<a href=\"/api/v1/attachments/{}\">{}</a>", escape(&a.sha256), escape(&a.name)),
                a.size.to_string(),
                format!("<span class=\"mono\">{}</span>", escape(&a.sha256)),
            ]
        })
        .collect();
    body.push_str(&table("attachments", &["文件", "字节", "SHA-256"], &attachments));
    body.push_str(&format!("<h2>办理记录（{} 步）</h2>", steps.len()));
    body.push_str(&history_table(&r));
    body.push_str(&actions(&node, &user, &row));
    Ok(page(&node, &user, Section::Requests, &format!("调整申请 {id}"), &body))
}

/// The summary boxes and the facts of a request.
fn overview(r: &Value) -> String {
    let late = if r["late"].as_bool() == Some(true) {
        badge(&format!("逾期提出 {} 个工作日", r["late_days"]), Tone::Bad)
    } else if r["calendar_error"].is_string() {
        badge(s(r, "calendar_error"), Tone::Warn)
    } else {
        badge("按期提出", Tone::Good)
    };
    let published = r["published_seq"].as_u64().map_or(String::new(), |seq| format!("（发布条目 #{seq}）"));
    format!(
        "<h2>{title}</h2><div class=\"summary\"><div>状态<b>{status}</b></div><div>类型<b>{kind}</b></div>\
         <div>修订次数<b>{rev}</b></div><div>办理期限<b>{due}</b></div></div>\
         <table class=\"grid\"><tbody><tr><th>申请部门</th><td>{dept}</td><th>经办人</th><td>{filer}</td></tr>\
         <tr><th>调整情形</th><td>{trigger}</td><th>变更日期</th><td>{tdate}</td></tr>\
         <tr><th>提交日期</th><td>{filed}</td><th>是否按期</th><td>{late}</td></tr>\
         <tr><th>当前环节</th><td>{stage}</td><th>状态说明</th><td>{status}{published}</td></tr></tbody></table>",
        title = escape(s(r, "title")),
        status = status_badge(s(r, "status"), s(r, "status_label")),
        kind = escape(s(r, "kind_label")),
        rev = r["revision"],
        due = escape(s(r, "due")),
        dept = escape(s(r, "department")),
        filer = escape(r["filer"]["name"].as_str().unwrap_or("")),
        trigger = escape(s(r, "trigger_label")),
        tdate = escape(s(r, "trigger_date")),
        filed = escape(s(r, "filed_on")),
        stage = match r["waiting_for"]["label"].as_str() {
            Some(who) => format!("{}（待{}办理）", escape(s(r, "stage_label")), escape(who)),
            None => escape(s(r, "stage_label")),
        },
    )
}

/// The route as a line of stages, the waiting one marked.
fn route_line(r: &Value) -> String {
    let current = s(r, "stage");
    let status = s(r, "status");
    let route = r["route"].as_array().cloned().unwrap_or_default();
    let at = route.iter().position(|st| st["stage"] == current).unwrap_or(0);
    let parts: Vec<String> = route
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let label = st["label"].as_str().unwrap_or("");
            let tone = match status {
                "published" => Tone::Good,
                _ if i < at => Tone::Good,
                "reviewing" if i == at => Tone::Warn,
                "returned" | "rejected" if i == at => Tone::Bad,
                _ => Tone::Neutral,
            };
            badge(label, tone)
        })
        .collect();
    format!("<p>部门提交 → {}</p>", parts.join(" → "))
}

/// Every step: who, role, action, comment, time.
fn history_table(r: &Value) -> String {
    let rows: Vec<Vec<String>> = r["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .enumerate()
                .map(|(i, st)| {
                    let action = s(st, "action");
                    let tone = match action {
                        "approve" => Tone::Good,
                        "return" | "reject" => Tone::Bad,
                        _ => Tone::Neutral,
                    };
                    vec![
                        (i + 1).to_string(),
                        escape(&super::html::local_time(s(st, "at"))),
                        escape(st["actor"]["name"].as_str().unwrap_or("")),
                        escape(st["actor"]["role_label"].as_str().unwrap_or("")),
                        escape(st["stage_label"].as_str().unwrap_or("—")),
                        badge(s(st, "action_label"), tone),
                        escape(s(st, "comment")),
                        format!("第 {} 版 · 条目 #{}", st["revision"], st["seq"]),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    table("history", &["步骤", "时间", "办理人", "角色", "环节", "操作", "意见", "版本与条目"], &rows)
}

/// The caller's possible step on the request: the decision form at their stage, or the
/// re-filing form for a returned request of their department; otherwise why there is none.
fn actions(node: &Node, user: &Principal, row: &quanze_store::RequestRow) -> String {
    if let Some(stage) = decidable_stage(user, row) {
        let last = row.route.last() == Some(&stage);
        let note = if last {
            "<p class=\"muted\">这是最后一个环节：同意后，申请的调整内容即写入本级权责清单并公开。</p>"
        } else {
            "<p class=\"muted\">同意后转入下一环节；退回修改或不予同意须填写意见。</p>"
        };
        return format!(
            "<h2>办理：{label}</h2>{note}<form class=\"card\" data-api=\"/api/v1/requests/{id}/steps\" data-then=\"reload\" \
             data-confirm=\"确定提交{label}意见？\"><input type=\"hidden\" name=\"stage\" value=\"{stage}\">\
             <div class=\"inline\"><label><input type=\"radio\" name=\"decision\" value=\"approve\" checked> 同意</label>\
             <label><input type=\"radio\" name=\"decision\" value=\"return\"> 退回修改</label>\
             <label><input type=\"radio\" name=\"decision\" value=\"reject\"> 不予同意</label></div>\
             <label>审核意见<textarea name=\"comment\" placeholder=\"退回或不予同意时必填，说明理由\"></textarea></label>\
             <button type=\"submit\">提交审核意见</button><div class=\"error\" hidden></div></form>",
            label = escape(stage.label()),
            id = row.id,
            stage = stage.key(),
        );
    }
    if row.status == Status::Returned && may_resubmit(user, row, node.today()) {
        return form::resubmit_form(row);
    }
    let why = match row.status {
        Status::Published => "本申请已审定发布，流程结束。".to_string(),
        Status::Rejected => "本申请不予同意，流程结束。".to_string(),
        Status::Returned => "本申请已退回申请部门，待该部门经办人修改后重新提交。".to_string(),
        Status::Reviewing if row.filer.id == user.account => "本申请由您提交，待各环节审核。".to_string(),
        Status::Reviewing => format!("当前环节“{}”由{}办理。", row.stage.label(), row.stage.role().label()),
    };
    format!("<p class=\"muted\">{}</p>", escape(&why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_queue_keeps_its_order_and_comes_first() {
        let (mine, others) = split_queue(vec![5, 4, 3, 2, 1], |n| n % 2 == 1);
        assert_eq!((mine, others), (vec![5, 3, 1], vec![4, 2]));
    }

    #[test]
    fn status_badges_have_their_tone() {
        assert!(status_badge("published", "已发布").contains("good"));
        assert!(status_badge("returned", "已退回").contains("bad"));
        assert!(status_badge("reviewing", "<x>").contains("&lt;x&gt;"));
    }

    #[test]
    fn a_row_links_the_request_and_flags_lateness() {
        let r = json!({"id": 7, "title": "<取消>", "kind_label": "取消", "department": "局", "status": "reviewing",
            "status_label": "审核中", "stage_label": "编办审核", "waiting_for": {"label": "编办审核人"},
            "filed_on": "2025-10-20", "due": "2025-10-01", "late": true, "late_days": 3, "filer": {"name": "张"}});
        let cells = row_cells(&r, Some("待编办审核"));
        assert!(cells[0].contains("/console/requests/7"));
        assert!(cells[1].contains("&lt;取消&gt;") && cells[1].contains("待编办审核"));
        assert!(cells[7].contains("逾期 3 个工作日"));
    }

    #[test]
    fn the_route_marks_the_waiting_stage() {
        let r = json!({"stage": "legal_review", "status": "reviewing", "route": [
            {"stage": "establishment_review", "label": "编办审核"}, {"stage": "legal_review", "label": "法制审核"},
            {"stage": "government_approval", "label": "政府审定"}]});
        let line = route_line(&r);
        assert!(line.contains("badge good\">编办审核") && line.contains("badge warn\">法制审核"), "{line}");
        assert!(line.contains("badge neutral\">政府审定"));
    }
}
