//! The node's own list (本级清单): search by name or code, category and status, page through,
//! download it as .xlsx or CSV, and — for the operator — import a whole file (.xlsx, .xls, .csv,
//! JSON) with upload progress and every bad row named. Reads through the items API's filter;
//! the import is the API's all-or-nothing `POST /api/v1/import`.

use axum::extract::State;
use quanze_domain::{Category, ItemStatus, Role};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::html::{escape, filter_box, link_button, table, url_component};
use super::{PageResult, Section, page, require};
use crate::api::QueryParams;
use crate::api::items::ListQuery;
use crate::api::public_page::status_label;
use crate::auth::Principal;
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(list_page))
}

/// Items per page.
const PAGE: u64 = 100;

const STATUSES: [ItemStatus; 4] =
    [ItemStatus::Active, ItemStatus::Cancelled, ItemStatus::Delegated, ItemStatus::Granted];

/// The query string of a page of this listing, `offset` replaced.
fn page_link(q: &ListQuery, offset: u64) -> String {
    let mut parts = vec![format!("offset={offset}")];
    for (key, value) in [("q", &q.q), ("category", &q.category), ("status", &q.status)] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{key}={}", url_component(v)));
        }
    }
    format!("/console/list?{}", parts.join("&"))
}

fn options(all: &str, selected: Option<&str>, values: impl IntoIterator<Item = (String, String)>) -> String {
    let mut out = format!("<option value=\"\">{}</option>", escape(all));
    for (value, label) in values {
        let sel = if selected == Some(value.as_str()) { " selected" } else { "" };
        out.push_str(&format!("<option value=\"{}\"{sel}>{}</option>", escape(&value), escape(&label)));
    }
    out
}

#[utoipa::path(get, path = "/console/list", tag = "console", responses((status = 200, description = "本级清单 / the list", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
async fn list_page(State(node): State<Node>, user: Principal, QueryParams(q): QueryParams<ListQuery>) -> PageResult {
    require(&node, &user, Section::List)?;
    let shown = ListQuery {
        q: q.q.clone(),
        category: q.category.clone(),
        status: q.status.clone(),
        body: None,
        offset: q.offset,
        limit: Some(PAGE),
    };
    let filter = shown.filter()?;
    let offset = filter.offset;
    let found = node.store().items(node.division(), &filter).await?;
    let mut body = String::new();
    body.push_str(&format!(
        "<div class=\"toolbar\"><form method=\"get\" action=\"/console/list\">\
         <input name=\"q\" placeholder=\"事项名称或编码\" value=\"{q_text}\">\
         <select name=\"category\" title=\"职权类别\">{categories}</select>\
         <select name=\"status\" title=\"状态\">{statuses}</select><button type=\"submit\">查询</button></form>\
         {xlsx} {csv}</div>",
        q_text = escape(q.q.as_deref().unwrap_or("")),
        categories = options(
            "全部职权类别",
            q.category.as_deref(),
            Category::ALL.into_iter().map(|c| (c.label().to_string(), c.label().to_string()))
        ),
        statuses = options(
            "全部状态",
            q.status.as_deref(),
            STATUSES.into_iter().map(|s| (s.key().to_string(), status_label(s).to_string()))
        ),
        xlsx = link_button("/api/v1/export?format=xlsx", "下载 Excel（.xlsx）"),
        csv = link_button("/api/v1/export?format=csv", "下载 CSV"),
    ));
    body.push_str(&format!(
        "<p>共 <b>{total}</b> 项{range}。{filter}</p>",
        total = found.total,
        range = if found.total > PAGE {
            format!("，本页第 {}–{} 项", offset + 1, offset + found.items.len() as u64)
        } else {
            String::new()
        },
        filter = filter_box("items", "在本页中筛选"),
    ));
    let rows: Vec<Vec<String>> = found
        .items
        .iter()
        .map(|r| {
            let i = &r.item;
            let days = |d: Option<u32>| d.map_or_else(String::new, |d| d.to_string());
            vec![
                format!("<a href=\"/public/items/{}\">{}</a>", url_component(&i.code), escape(&i.code)),
                escape(&i.name),
                escape(i.category.label()),
                escape(&i.implementing_body),
                days(i.time_limit.legal_days),
                days(i.time_limit.promised_days),
                escape(status_label(i.status)),
                format!("#{}", r.last_seq),
            ]
        })
        .collect();
    body.push_str(&table(
        "items",
        &["事项编码", "事项名称", "职权类别", "实施主体", "法定时限（工作日）", "承诺时限", "状态", "日志序号"],
        &rows,
    ));
    let mut pager = Vec::new();
    if offset > 0 {
        pager.push(format!("<a href=\"{}\">上一页</a>", escape(&page_link(&q, offset.saturating_sub(PAGE)))));
    }
    if offset + (found.items.len() as u64) < found.total {
        pager.push(format!("<a href=\"{}\">下一页</a>", escape(&page_link(&q, offset + PAGE))));
    }
    if !pager.is_empty() {
        body.push_str(&format!("<p class=\"toolbar\">{}</p>", pager.join(" ")));
    }
    if user.has(Role::Operator) {
        body.push_str(
            "<h2>导入清单</h2><form class=\"card\" id=\"import\" data-upload=\"/api/v1/import\" data-format-from-name data-then=\"reload\">\
             <p>上传整份清单（.xlsx、.xls、.csv 或 JSON）。表头可用常见写法（事项编码、事项名称、职权类别、设定依据、实施主体……）。\
             任何一行有错，整份文件都不导入，并逐行列出错误（工作表、行、列、原因）；全部正确时作为一个签名条目写入。</p>\
             <input type=\"file\" name=\"file\" accept=\".xlsx,.xls,.csv,.json\" required> <button type=\"submit\">导入</button>\
             <div class=\"progress\"><progress hidden></progress> <span class=\"progress-label\"></span></div>\
             <div class=\"error\" hidden></div></form>",
        );
    }
    Ok(page(&node, &user, Section::List, "本级清单", &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_the_search() {
        let q = ListQuery { q: Some("食品 许可".into()), status: Some("active".into()), ..Default::default() };
        assert_eq!(
            page_link(&q, 200),
            "/console/list?offset=200&q=%E9%A3%9F%E5%93%81%20%E8%AE%B8%E5%8F%AF&status=active"
        );
    }

    #[test]
    fn options_mark_the_choice_and_escape() {
        let o = options("全部", Some("b"), [("a".into(), "<A>".into()), ("b".into(), "B".into())]);
        assert!(o.contains("<option value=\"b\" selected>B</option>"), "{o}");
        assert!(o.contains("&lt;A&gt;"));
    }
}
