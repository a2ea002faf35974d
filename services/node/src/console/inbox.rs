//! The establishment office's reconciliation inbox (对账待办) on a lower-level node: the list of
//! its tasks for upper-level catalogue changes, and one task with its proposed diff and the
//! adopt / deviate / not-applicable actions.
//!
//! Owns `/console/inbox` and `/console/inbox/{reference}`. Reads only through
//! `api::recon_tasks` (the same due dates, statuses and diff the JSON API answers); every action
//! is a `fetch` of `POST /api/v1/recon/{ref}/...` by the console script. Must not compute a due
//! date or a diff itself, write, or sign.

use axum::extract::{Path, State};
use quanze_domain::recon::Action;
use quanze_domain::{DayUnit, Expect, PowerItem, TaskStatus, Window};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::html::{Tone, action_button, badge, escape, filter_box, table, url_component};
use super::{PageResult, Section, page, require};
use crate::api::recon::ref_text;
use crate::api::recon_tasks::{DiffLine, TaskLine, TaskView, my_tasks, task_view};
use crate::auth::Principal;
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(inbox_page)).routes(routes!(task_page))
}

/// `20 个工作日` or `7 日`.
fn window_text(w: Window) -> String {
    match w.unit {
        DayUnit::Working => format!("{} 个工作日", w.days),
        DayUnit::Calendar => format!("{} 日（自然日）", w.days),
    }
}

/// The task's status as a badge: overdue red, open amber when three working days or fewer are
/// left, closed green (amber when closed late).
fn status_badge(line: &TaskLine) -> String {
    let tone = match line.status {
        None => Tone::Bad,
        Some(TaskStatus::Overdue) => Tone::Bad,
        Some(TaskStatus::Open) if line.days_left.is_some_and(|d| d <= 3) => Tone::Warn,
        Some(TaskStatus::Open) => Tone::Neutral,
        Some(_) if line.late_days.is_some_and(|d| d > 0) => Tone::Warn,
        Some(_) => Tone::Good,
    };
    let text = line.status.map_or("无法计算期限", TaskStatus::label);
    badge(text, tone)
}

/// Days left, overdue, or when it was closed.
fn days_text(line: &TaskLine) -> String {
    match (line.days_left, line.days_overdue, line.closed_on, line.late_days) {
        (Some(0), ..) => "今日到期".into(),
        (Some(n), ..) => format!("剩余 {n} 个工作日"),
        (_, Some(n), ..) => format!("逾期 {n} 个工作日"),
        (_, _, Some(on), Some(late)) if late > 0 => format!("{on} 办结，迟 {late} 个工作日"),
        (_, _, Some(on), _) => format!("{on} 办结"),
        _ => line.calendar_error.clone().unwrap_or_default(),
    }
}

fn task_href(reference: &str) -> String {
    format!("/console/inbox/{}", url_component(reference))
}

/// `GET /console/inbox`: this node's tasks, newest first.
#[utoipa::path(get, path = "/console/inbox", tag = "console", responses((status = 200, description = "对账任务 / reconciliation inbox", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
async fn inbox_page(State(node): State<Node>, user: Principal) -> PageResult {
    require(&node, &user, Section::Inbox)?;
    let tasks = my_tasks(&node).await?;
    let count = |s: TaskStatus| tasks.iter().filter(|t| t.line.status == Some(s)).count();
    let open = count(TaskStatus::Open);
    let overdue = count(TaskStatus::Overdue);
    let closed = count(TaskStatus::Adopted) + count(TaskStatus::Deviated) + count(TaskStatus::NotApplicable);
    let mut body = format!(
        "<div class=\"summary\"><div>待对标<b>{open}</b></div><div>已逾期<b>{overdue}</b></div>\
         <div>已办结<b>{closed}</b></div><div>今日<b>{}</b></div></div>",
        node.today()
    );
    body.push_str(&format!(
        "<div class=\"toolbar\">{}<span class=\"muted\">期限按省级发布的工作日历计算，自公布之日起算。</span></div>",
        filter_box("tasks", "按文号、标题、状态筛选")
    ));
    let rows: Vec<Vec<String>> = tasks
        .iter()
        .map(|t| {
            let p = &t.publication;
            let reference = ref_text(&p.pub_ref);
            vec![
                format!("<a href=\"{}\">{}</a>", escape(&task_href(&reference)), escape(&p.doc_no)),
                escape(&p.title),
                escape(p.pub_ref.origin.as_str()),
                p.published.to_string(),
                escape(&window_text(p.window)),
                t.line.due.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
                escape(&days_text(&t.line)),
                status_badge(&t.line),
                format!("{}/{}", t.line.resolved, t.line.required),
            ]
        })
        .collect();
    body.push_str(&table(
        "tasks",
        &["文号", "标题", "发布方", "公布（收文）日期", "对标期限", "截止日期", "剩余/逾期", "状态", "已办/应办事项"],
        &rows,
    ));
    Ok(page(&node, &user, Section::Inbox, "对账待办", &body))
}

/// One uniform element of an item: the local value, the catalogue's, and whether adopting
/// changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ElementRow {
    label: &'static str,
    current: String,
    uniform: String,
    changes: bool,
}

fn basis_text(item: &PowerItem) -> String {
    item.basis.iter().map(ToString::to_string).collect::<Vec<_>>().join("；")
}

fn limit_text(item: &PowerItem) -> String {
    let t = &item.time_limit;
    match (t.legal_days, t.promised_days) {
        (None, None) => "未规定".into(),
        (Some(l), None) => format!("法定 {l} 个工作日"),
        (None, Some(p)) => format!("承诺 {p} 个工作日"),
        (Some(l), Some(p)) => format!("法定 {l} 个工作日，承诺 {p} 个工作日"),
    }
}

/// The uniform elements of one requirement, local value against the catalogue's. Which of them
/// change is read from the domain's proposed action (never compared again here).
fn element_rows(expect: &Expect, line: &DiffLine) -> Vec<ElementRow> {
    const NONE: &str = "（本级清单无此事项）";
    let cur = line.current.as_ref();
    let text = |f: fn(&PowerItem) -> String| cur.map_or_else(|| NONE.to_string(), f);
    match expect {
        Expect::Present { item } => {
            let (name, category, basis, limit, status) = match &line.action {
                Action::Add { .. } => (true, true, true, true, false),
                Action::Update { patch } => (
                    patch.name.is_some(),
                    patch.category.is_some(),
                    patch.basis.is_some(),
                    patch.time_limit.is_some(),
                    false,
                ),
                Action::Blocked { .. } => (false, false, false, false, true),
                Action::None | Action::Cancel { .. } => (false, false, false, false, false),
            };
            let mut rows = vec![
                ElementRow {
                    label: "事项名称",
                    current: text(|i| i.name.clone()),
                    uniform: item.name.clone(),
                    changes: name,
                },
                ElementRow {
                    label: "职权类别",
                    current: text(|i| i.category.label().to_string()),
                    uniform: item.category.label().to_string(),
                    changes: category,
                },
                ElementRow {
                    label: "设定依据", current: text(basis_text), uniform: basis_text(item), changes: basis
                },
                ElementRow {
                    label: "办结时限", current: text(limit_text), uniform: limit_text(item), changes: limit
                },
            ];
            if status {
                rows.push(ElementRow {
                    label: "状态",
                    current: text(|i| i.status.label().to_string()),
                    uniform: "在用".into(),
                    changes: true,
                });
            }
            rows
        }
        Expect::Absent { reason, .. } => vec![ElementRow {
            label: "状态",
            current: cur.map_or_else(|| "（本级清单无此事项）".to_string(), |i| i.status.label().to_string()),
            uniform: format!("不再在用：{reason}"),
            changes: matches!(line.action, Action::Cancel { .. }),
        }],
    }
}

fn action_label(action: &Action) -> (&'static str, Tone) {
    match action {
        Action::None => ("无需调整", Tone::Good),
        Action::Add { .. } => ("新增", Tone::Warn),
        Action::Update { .. } => ("修改", Tone::Warn),
        Action::Cancel { delegated: true, .. } => ("下放", Tone::Warn),
        Action::Cancel { .. } => ("取消", Tone::Warn),
        Action::Blocked { .. } => ("无法直接采纳", Tone::Bad),
    }
}

fn resolution_label(key: &str) -> &'static str {
    match key {
        "adopted" => "已采纳",
        "deviated" => "已说明差异",
        "not_applicable" => "不适用",
        _ => "已办结",
    }
}

/// The diff as one table: a row per uniform element, the code repeated so the filter keeps
/// an item's rows findable.
fn diff_table(view: &TaskView, tier: quanze_domain::Tier) -> String {
    let reqs = view.requirements(tier);
    let mut out = String::from(
        "<table id=\"diff\" class=\"grid diff\"><thead><tr><th>事项编码</th><th>事项名称</th><th>要素</th>\
         <th>本级现值</th><th>目录统一值</th><th>调整</th></tr></thead><tbody>",
    );
    for line in &view.diff {
        let Some(req) = reqs.iter().find(|r| r.code == line.code) else { continue };
        let name = line.catalogue_name.clone().or_else(|| line.current.as_ref().map(|i| i.name.clone()));
        let (action, tone) = action_label(&line.action);
        let mut what = match &line.resolution {
            Some(r) => badge(resolution_label(r), Tone::Good),
            None => badge(action, tone),
        };
        if let (None, Action::Blocked { reason }) = (&line.resolution, &line.action) {
            what.push_str(&format!("<br><small>{}</small>", escape(reason)));
        }
        for e in element_rows(&req.expect, line) {
            let (old, new) =
                if e.changes && line.resolution.is_none() { (" class=\"old\"", " class=\"new\"") } else { ("", "") };
            out.push_str(&format!(
                "<tr><td class=\"mono\">{code}</td><td>{name}</td><th>{label}</th><td{old}>{cur}</td><td{new}>{uni}</td><td>{what}</td></tr>",
                code = escape(&line.code),
                name = escape(name.as_deref().unwrap_or("")),
                label = escape(e.label),
                cur = escape(&e.current),
                uni = escape(&e.uniform),
            ));
        }
    }
    out.push_str("</tbody></table>");
    if view.diff.is_empty() {
        out.push_str("<p class=\"muted empty\">该公布对本级没有要求。</p>");
    }
    out
}

/// `GET /console/inbox/{reference}`: one task, its diff and its actions.
#[utoipa::path(get, path = "/console/inbox/{reference}", tag = "console", params(("reference" = String, Path, description = "The reference")), responses((status = 200, description = "对账任务详情 / a task", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
async fn task_page(State(node): State<Node>, user: Principal, Path(reference): Path<String>) -> PageResult {
    require(&node, &user, Section::Inbox)?;
    let view = task_view(&node, &reference).await?;
    let p = &view.publication;
    let line = &view.line;
    let reference = ref_text(&p.pub_ref);
    let api = format!("/api/v1/recon/{}", url_component(&reference));
    let pending: Vec<&DiffLine> = view.diff.iter().filter(|d| d.resolution.is_none()).collect();
    let to_change = pending.iter().filter(|d| !matches!(d.action, Action::None)).count();
    let blocked: Vec<&str> =
        pending.iter().filter(|d| matches!(d.action, Action::Blocked { .. })).map(|d| d.code.as_str()).collect();
    let mut body = format!(
        "<p><a href=\"/console/inbox\">← 返回对账待办</a></p>\
         <table class=\"grid\"><tbody><tr><th>文号</th><td>{doc}</td><th>发布方</th><td>{origin}（{reference}）</td></tr>\
         <tr><th>标题</th><td colspan=\"3\">{title}</td></tr>\
         <tr><th>公布（收文）日期</th><td>{published}</td><th>施行日期</th><td>{effective}</td></tr>\
         <tr><th>对标期限</th><td>{window}</td><th>截止日期</th><td><b id=\"due\">{due}</b></td></tr>\
         <tr><th>状态</th><td id=\"status\">{status} {label}</td><th>进度</th><td>已办 {resolved} / 应办 {required} 个事项</td></tr></tbody></table>",
        doc = escape(&p.doc_no),
        origin = escape(p.pub_ref.origin.as_str()),
        reference = escape(&reference),
        title = escape(&p.title),
        published = p.published,
        effective = p.effective,
        window = escape(&window_text(p.window)),
        due = line.due.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
        status = status_badge(line),
        label = escape(&days_text(line)),
        resolved = line.resolved,
        required = line.required,
    );
    if let Some(e) = &line.calendar_error {
        body.push_str(&format!("<p class=\"error\">{}</p>", escape(e)));
    }
    let open = matches!(line.status, Some(TaskStatus::Open | TaskStatus::Overdue) | None);
    if !open {
        body.push_str(&format!("<p class=\"flash\">本任务已办结：{}。", escape(&line.label)));
        if !line.reason.is_empty() {
            body.push_str(&format!("理由：{}", escape(&line.reason)));
        }
        body.push_str("</p>");
    } else {
        body.push_str("<h2>办理</h2><div class=\"columns\">");
        body.push_str("<div class=\"card\" data-scope><h3>采纳（按目录调整本级清单）</h3>");
        if blocked.is_empty() {
            body.push_str(&format!(
                "<p>将对 {} 个未办结事项按目录统一要素调整本级清单（其中 {to_change} 个需要修改），调整与采纳记录写入同一条目。</p>{}",
                pending.len(),
                action_button(
                    &format!("{api}/adopt"),
                    Some("{}"),
                    "reload",
                    "采纳",
                    Some("确定按目录调整本级清单并记录采纳？"),
                )
            ));
        } else {
            body.push_str(&format!(
                "<p class=\"error\">事项 {} 在本级清单中已取消，不能按目录直接采纳：请先对这些事项说明差异，再采纳其余事项。</p>",
                escape(&blocked.join("、"))
            ));
        }
        body.push_str("<div class=\"error\" hidden></div></div>");
        body.push_str(&format!(
            "<form class=\"card\" data-api=\"{api}/deviate\" data-then=\"reload\" data-confirm=\"确定提交差异说明？\">\
             <h3>差异说明</h3>\
             <label>涉及事项编码（逗号或换行分隔；留空为全部未办结事项）<textarea name=\"codes\" data-kind=\"list\">{codes}</textarea></label>\
             <label>差异理由（必填）<textarea name=\"reason\" required></textarea></label>\
             <label>法律依据（必填，如《四川省行政审批事项清单管理办法》第十条）<input name=\"basis\" required></label>\
             <button type=\"submit\">提交差异说明</button><div class=\"error\" hidden></div></form>",
            api = escape(&api),
            codes = escape(&blocked.join("\n")),
        ));
        body.push_str(&format!(
            "<form class=\"card\" data-api=\"{}/not-applicable\" data-then=\"reload\" data-confirm=\"确定整个任务不适用本级？\">\
             <h3>不适用</h3><label>理由（必填）<textarea name=\"reason\" required></textarea></label>\
             <button type=\"submit\" class=\"secondary\">标记不适用</button><div class=\"error\" hidden></div></form>",
            escape(&api),
        ));
        body.push_str("</div>");
    }
    body.push_str(&format!(
        "<h2>拟调整内容</h2><div class=\"toolbar\">{}<span class=\"muted\">红色删除线为本级现值，绿色为采纳后的目录统一值；\
         实施主体、联系方式等本地要素保持不变。</span></div>",
        filter_box("diff", "按事项编码、名称筛选")
    ));
    body.push_str(&diff_table(&view, node.tier()));
    Ok(page(&node, &user, Section::Inbox, &format!("对账任务 {}", p.doc_no), &body))
}

#[cfg(test)]
mod tests {
    use quanze_domain::{Category, Citation, ItemPatch, ItemStatus};

    use super::*;

    fn item(name: &str, legal: Option<u32>) -> PowerItem {
        let mut i: PowerItem = serde_json::from_value(serde_json::json!({
            "code": "XK00001000", "name": name, "category": "licensing",
            "basis": [{"law": "中华人民共和国食品安全法", "article": "第三十五条"}],
            "implementing_body": "泸县市场监督管理局",
        }))
        .unwrap();
        i.time_limit.legal_days = legal;
        i
    }

    fn line(current: Option<PowerItem>, action: Action) -> DiffLine {
        DiffLine {
            code: "XK00001000".into(),
            change: 0,
            expect: "present",
            catalogue_name: Some("食品经营许可".into()),
            current,
            action,
            resolution: None,
        }
    }

    #[test]
    fn elements_changed_are_those_the_proposal_patches() {
        let cat = item("食品经营许可", Some(20));
        let patch = ItemPatch { name: Some("食品经营许可".into()), ..Default::default() };
        let l = line(Some(item("食品经营许可证核发", Some(20))), Action::Update { patch });
        let rows = element_rows(&Expect::Present { item: cat.clone() }, &l);
        let changed: Vec<&str> = rows.iter().filter(|r| r.changes).map(|r| r.label).collect();
        assert_eq!(changed, ["事项名称"]);
        assert_eq!((rows[0].current.as_str(), rows[0].uniform.as_str()), ("食品经营许可证核发", "食品经营许可"));
        assert_eq!(rows[2].uniform, Citation::parse("《中华人民共和国食品安全法》第三十五条").unwrap().to_string());
        assert_eq!(rows[3].uniform, "法定 20 个工作日");
        assert_eq!(rows[1].uniform, Category::Licensing.label());

        let added = element_rows(&Expect::Present { item: cat.clone() }, &line(None, Action::Add { item: cat }));
        assert!(added.iter().all(|r| r.changes && r.current == "（本级清单无此事项）"));
    }

    #[test]
    fn an_absent_requirement_shows_the_status_and_a_blocked_one_says_why() {
        let mut cur = item("食品经营许可", None);
        let l = line(Some(cur.clone()), Action::Cancel { reason: "下放".into(), delegated: true });
        let rows = element_rows(&Expect::Absent { reason: "依据某文下放".into(), delegated: true }, &l);
        assert_eq!(rows.len(), 1);
        assert!(rows[0].changes && rows[0].current == "在用" && rows[0].uniform.contains("依据某文下放"));

        cur.status = ItemStatus::Cancelled;
        let l = line(Some(cur), Action::Blocked { reason: "已取消".into() });
        let rows = element_rows(&Expect::Present { item: item("食品经营许可", None) }, &l);
        assert_eq!(rows.last().map(|r| (r.label, r.current.as_str(), r.changes)), Some(("状态", "已取消", true)));
    }

    #[test]
    fn days_and_windows_read_as_people_say_them() {
        assert_eq!(window_text(Window { days: 20, unit: DayUnit::Working }), "20 个工作日");
        assert_eq!(window_text(Window { days: 7, unit: DayUnit::Calendar }), "7 日（自然日）");
        let mut l = TaskLine {
            division: "510521".into(),
            name: "泸县".into(),
            tier: quanze_domain::Tier::County,
            due: None,
            status: Some(TaskStatus::Open),
            label: String::new(),
            days_left: Some(3),
            days_overdue: None,
            late_days: None,
            required: 1,
            resolved: 0,
            deviated: 0,
            reason: String::new(),
            closed_on: None,
            calendar_error: None,
        };
        assert_eq!(days_text(&l), "剩余 3 个工作日");
        assert!(status_badge(&l).contains("warn"));
        l.days_left = Some(0);
        assert_eq!(days_text(&l), "今日到期");
        (l.days_left, l.days_overdue, l.status) = (None, Some(2), Some(TaskStatus::Overdue));
        assert_eq!(days_text(&l), "逾期 2 个工作日");
        assert!(status_badge(&l).contains("bad"));
        (l.days_overdue, l.status, l.closed_on, l.late_days) =
            (None, Some(TaskStatus::Adopted), "2025-10-09".parse().ok(), Some(0));
        assert_eq!(days_text(&l), "2025-10-09 办结");
        assert!(status_badge(&l).contains("good"));
    }
}
