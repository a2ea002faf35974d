//! The clerk's side of adjustment requests: the filing form (one form per common kind — element
//! adjustment, addition, cancellation or delegation — and a JSON form for merges, splits and
//! several items), attachment upload before filing, the re-filing form of a returned request,
//! and the table of a proposal's changes against the list as it stands.
//!
//! Field names are the API's `Proposal` (`changes.0.patch.name`, the console script nests
//! them), so the page adds no shape of its own and the API checks everything. Must not write,
//! sign, or decide whether a proposal is valid.

use std::collections::HashMap;

use axum::extract::State;
use quanze_domain::requests::workflow::{Change, RequestKind};
use quanze_domain::{Category, ItemStatus, PowerItem, Proposal, Role, Trigger};
use quanze_store::{ItemFilter, RequestRow};
use serde::Deserialize;
use serde_json::Value;

use super::super::html::{escape, table};
use super::super::{PageResult, Section, page, require};
use crate::api::QueryParams;
use crate::auth::Principal;
use crate::state::Node;

/// Codes offered in the item-code picker at most.
const PICKER_LIMIT: u64 = 5000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewQuery {
    /// Attachments uploaded so far, SHA-256 separated by commas.
    attach: Option<String>,
}

/// The Chinese name of an item element (a `PowerItem`/`ItemPatch` field).
pub(super) fn element_label(key: &str) -> &str {
    match key {
        "code" => "事项编码",
        "name" => "事项名称",
        "category" => "职权类别",
        "basis" => "设定依据",
        "implementing_body" => "实施主体",
        "implementing_body_code" => "实施主体信用代码",
        "responsibilities" => "责任事项",
        "accountability" => "追责情形",
        "accountability_basis" => "追责依据",
        "supervision" => "监督方式",
        "remedies" => "救济途径",
        "time_limit" => "办理时限",
        "flow" => "流程",
        "risk_points" => "廉政风险点",
        "status" => "状态",
        "status_reason" => "状态原因",
        other => other,
    }
}

/// A JSON value as a person reads it: citations as 《法》条, lists joined by “；”, time limits
/// in words; other objects as compact JSON.
pub(super) fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join("；"),
        Value::Object(o) if o.contains_key("law") => {
            format!("《{}》{}", o["law"].as_str().unwrap_or(""), o.get("article").and_then(Value::as_str).unwrap_or(""))
        }
        Value::Object(o) if o.contains_key("legal_days") || o.contains_key("promised_days") => {
            let mut parts = Vec::new();
            if let Some(d) = o.get("legal_days") {
                parts.push(format!("法定 {d} 个工作日"));
            }
            if let Some(d) = o.get("promised_days") {
                parts.push(format!("承诺 {d} 个工作日"));
            }
            parts.join("，")
        }
        Value::Object(o) if o.contains_key("step") => {
            format!(
                "{}（{}）",
                o["step"].as_str().unwrap_or(""),
                o.get("handler").and_then(Value::as_str).unwrap_or("")
            )
        }
        other => other.to_string(),
    }
}

/// The changes of a proposal: for an element adjustment each element's value now and as
/// proposed (after publication "now" is already the new value, so only the proposal is shown).
pub(super) fn changes_table(proposal: &Proposal, current: &HashMap<String, PowerItem>, published: bool) -> String {
    let mut rows = Vec::new();
    for change in &proposal.changes {
        let now = current.get(change.code()).and_then(|i| serde_json::to_value(i).ok()).unwrap_or(Value::Null);
        let name = now["name"].as_str().unwrap_or("");
        match change {
            Change::Add { item } => {
                let v = serde_json::to_value(item).unwrap_or(Value::Null);
                let details = element_list(&v, &["code", "status"]);
                rows.push(vec!["新增".into(), escape(&item.code), escape(&item.name), details]);
            }
            Change::Update { code, patch } => {
                let v = serde_json::to_value(patch).unwrap_or(Value::Null);
                let mut d = String::from("<table class=\"grid diff\"><tbody>");
                for (key, new) in v.as_object().into_iter().flatten() {
                    let old = if published { String::new() } else { value_text(&now[key.as_str()]) };
                    d.push_str(&format!(
                        "<tr><th>{}</th><td class=\"old\">{}</td><td class=\"new\">{}</td></tr>",
                        escape(element_label(key)),
                        escape(&old),
                        escape(&value_text(new))
                    ));
                }
                d.push_str("</tbody></table>");
                rows.push(vec!["调整要素".into(), escape(code), escape(name), d]);
            }
            Change::Cancel { code, reason } => {
                rows.push(vec!["取消".into(), escape(code), escape(name), format!("理由：{}", escape(reason))]);
            }
        }
    }
    let mut out = table("changes", &["操作", "事项编码", "事项名称", "内容（现行 → 拟调整为）"], &rows);
    if published {
        let links: Vec<String> = proposal
            .changes
            .iter()
            .map(|c| {
                format!(
                    "<a href=\"/public/items/{}\">{}</a>",
                    super::super::html::url_component(c.code()),
                    escape(c.code())
                )
            })
            .collect();
        out.push_str(&format!(
            "<p class=\"muted\">已发布：现行清单即为调整后的内容。公开清单：{}</p>",
            links.join("、")
        ));
    }
    out
}

/// The elements of an item as a definition list (skipping `skip`).
fn element_list(v: &Value, skip: &[&str]) -> String {
    let mut out = String::from("<table class=\"grid\"><tbody>");
    for (key, value) in v.as_object().into_iter().flatten().filter(|(k, _)| !skip.contains(&k.as_str())) {
        out.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(element_label(key)),
            escape(&value_text(value))
        ));
    }
    out.push_str("</tbody></table>");
    out
}

fn options<T: Copy>(all: &[T], key: impl Fn(T) -> &'static str, label: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|x| format!("<option value=\"{}\">{}</option>", key(*x), label(*x))).collect()
}

/// `options` with the one of value `key` selected.
fn selected(options: String, key: &str) -> String {
    options.replacen(&format!("value=\"{key}\""), &format!("value=\"{key}\" selected"), 1)
}

fn category_select(name: &str, required: bool) -> String {
    let first =
        if required { "<option value=\"\">请选择</option>" } else { "<option value=\"\">（不变）</option>" };
    format!(
        "<select name=\"{name}\"{req}>{first}{}</select>",
        options(&Category::ALL, Category::key, Category::label),
        req = if required { " required" } else { "" }
    )
}

/// The fields every filing has: title, trigger and its date, department, reason and basis,
/// the attachments uploaded (as the API's JSON).
fn common_fields(department: &str, attachments_json: &str, trigger: Trigger) -> String {
    let triggers = selected(options(&Trigger::ALL, Trigger::key, Trigger::label), trigger.key());
    format!(
        "<div class=\"columns\"><label>申请标题<input name=\"title\" required placeholder=\"如：关于调整“食品经营许可”实施主体的申请\"></label>\
         <label>申请部门<input name=\"department\" value=\"{dept}\" readonly></label>\
         <label>调整情形<select name=\"trigger\" required>{triggers}</select></label>\
         <label>变更日期（变更之日，办理期限由此起算）<input type=\"date\" name=\"trigger_date\" required></label></div>\
         <label>调整理由及依据（法律法规规章条款、政府决定文号等）<textarea name=\"reason\" required></textarea></label>\
         <input type=\"hidden\" name=\"attachments\" data-kind=\"json\" value=\"{att}\">",
        dept = escape(department),
        att = escape(attachments_json),
    )
}

/// Two rows of citations under `prefix` (`…basis.0.law`, `…basis.0.article`); empty rows are
/// left out by the script.
fn citation_rows(prefix: &str, label: &str) -> String {
    (0..2)
        .map(|i| {
            format!(
                "<div class=\"inline\"><label>{label}{n}：法律法规名称（不含书名号）<input name=\"{prefix}.{i}.law\" size=\"34\"></label>\
                 <label>条款<input name=\"{prefix}.{i}.article\" size=\"12\" placeholder=\"第三十五条\"></label></div>",
                n = i + 1
            )
        })
        .collect()
}

/// The element fields of an item (`prefix` = `changes.0.item` or `changes.0.patch`).
fn element_fields(prefix: &str, adding: bool) -> String {
    let req = if adding { " required" } else { "" };
    let mut out = String::from("<div class=\"columns\">");
    if !adding {
        out.push_str(&format!("<label>事项名称（新）<input name=\"{prefix}.name\"></label>"));
    } else {
        out.push_str(&format!("<label>事项名称<input name=\"{prefix}.name\" required></label>"));
    }
    out.push_str(&format!("<label>职权类别{}</label>", category_select(&format!("{prefix}.category"), adding)));
    out.push_str(&format!("<label>实施主体<input name=\"{prefix}.implementing_body\"{req}></label>"));
    out.push_str(&format!(
        "<label>法定办结时限（工作日）<input type=\"number\" min=\"0\" name=\"{prefix}.time_limit.legal_days\" data-kind=\"number\"></label>\
         <label>承诺办结时限（工作日）<input type=\"number\" min=\"0\" name=\"{prefix}.time_limit.promised_days\" data-kind=\"number\"></label></div>"
    ));
    out.push_str(&citation_rows(&format!("{prefix}.basis"), "设定依据"));
    for (key, label) in [("responsibilities", "责任事项"), ("accountability", "追责情形"), ("remedies", "救济途径")]
    {
        out.push_str(&format!(
            "<label>{label}（每行一条）<textarea name=\"{prefix}.{key}\" data-kind=\"list\"></textarea></label>"
        ));
    }
    out
}

fn filing_form(kind_field: &str, title: &str, open: bool, fields: &str, common: &str) -> String {
    format!(
        "<details class=\"card\"{open}><summary><b>{title}</b></summary>\
         <form data-api=\"/api/v1/requests\" data-then=\"/console/requests/{{id}}\" data-confirm=\"确定提交此调整申请？\">\
         {kind_field}{common}{fields}<button type=\"submit\">提交申请</button><div class=\"error\" hidden></div></form></details>",
        open = if open { " open" } else { "" },
    )
}

/// `GET /console/requests/new[?attach=sha,sha]`: a clerk files a request (attachments first).
#[utoipa::path(get, path = "/console/requests/new", tag = "console", responses((status = 200, description = "提交申请 / the filing form", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
pub(super) async fn new_page(
    State(node): State<Node>,
    user: Principal,
    QueryParams(q): QueryParams<NewQuery>,
) -> PageResult {
    require(&node, &user, Section::Requests)?;
    user.require(Role::Clerk)?;
    let department = user.department.clone().unwrap_or_default();
    let mut attached = Vec::new();
    for sha in q.attach.as_deref().unwrap_or("").split(',').map(str::trim).filter(|x| !x.is_empty()) {
        if let Some((meta, _)) = node.store().attachment(sha).await?
            && !attached.iter().any(|a: &quanze_store::AttachmentRow| a.sha256 == meta.sha256)
        {
            attached.push(meta);
        }
    }
    let att_json = serde_json::to_string(
        &attached
            .iter()
            .map(|a| serde_json::json!({"name": a.name, "sha256": a.sha256, "size": a.size}))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_else(|_| "[]".into());
    let shas: Vec<&str> = attached.iter().map(|a| a.sha256.as_str()).collect();
    let mut then = String::from("/console/requests/new?attach=");
    for s in &shas {
        then.push_str(s);
        then.push(',');
    }
    then.push_str("{sha256}");
    let filter = ItemFilter { status: Some(ItemStatus::Active), limit: PICKER_LIMIT, ..ItemFilter::default() };
    let items = node.store().items(node.division(), &filter).await?;
    let mut body = String::from("<datalist id=\"item-codes\">");
    for it in &items.items {
        body.push_str(&format!(
            "<option value=\"{}\">{}</option>",
            escape(&it.item.code),
            escape(&format!("{} · {}", it.item.name, it.item.implementing_body))
        ));
    }
    body.push_str("</datalist>");
    body.push_str(&format!(
        "<p class=\"muted\">申请部门：{}。先上传请示、政府决定等附件，再选择申请类型填写；提交后按类型进入编办审核 → 法制审核 → 政府审定（或编办决定）。</p>",
        escape(if department.is_empty() { "（账户未设部门，请联系运维）" } else { &department })
    ));
    body.push_str("<h2>1. 附件</h2>");
    let rows: Vec<Vec<String>> =
        attached.iter().map(|a| vec![escape(&a.name), a.size.to_string(), escape(&a.media_type)]).collect();
    body.push_str(&table("attached", &["文件", "字节", "类型"], &rows));
    body.push_str(&format!(
        "<form class=\"toolbar\" data-upload=\"/api/v1/attachments\" data-then=\"{}\">\
         <input type=\"file\" name=\"file\" required><input type=\"hidden\" name=\"name\" value=\"\">\
         <button type=\"submit\" class=\"secondary\">上传附件</button><progress hidden></progress>\
         <span class=\"progress-label muted\"></span><span class=\"muted\">单个文件不超过 5 MB</span><div class=\"error\" hidden></div></form>",
        escape(&then)
    ));
    body.push_str("<h2>2. 申请内容</h2>");
    let common = |trigger| common_fields(&department, &att_json, trigger);
    let code_input = |name: &str| {
        format!(
            "<label>事项编码<input name=\"{name}\" list=\"item-codes\" required placeholder=\"输入编码或名称选择\"></label>"
        )
    };
    let adjust = format!(
        "{}<input type=\"hidden\" name=\"changes.0.op\" value=\"update\"><p class=\"muted\">只填写要改变的要素，其余留空即保持不变。</p>{}",
        code_input("changes.0.code"),
        element_fields("changes.0.patch", false)
    );
    body.push_str(&filing_form(
        "<input type=\"hidden\" name=\"kind\" value=\"adjust\">",
        "调整事项要素（名称、类别、依据、实施主体、时限等）",
        true,
        &adjust,
        &common(Trigger::InformationChanged),
    ));
    let add = format!(
        "<input type=\"hidden\" name=\"changes.0.op\" value=\"add\"><label>事项编码<input name=\"changes.0.item.code\" required placeholder=\"如 XK00035001\"></label>{}",
        element_fields("changes.0.item", true)
    );
    body.push_str(&filing_form(
        "<input type=\"hidden\" name=\"kind\" value=\"add\">",
        "新增事项",
        false,
        &add,
        &common(Trigger::NewPower),
    ));
    let cancel = format!(
        "<input type=\"hidden\" name=\"changes.0.op\" value=\"cancel\">{}<label>取消或下放的说明（下放时写明承接层级和单位）<input name=\"changes.0.reason\" required></label>",
        code_input("changes.0.code")
    );
    body.push_str(&filing_form(
        "<label>申请类型<select name=\"kind\"><option value=\"cancel\">取消</option><option value=\"delegate\">下放</option></select></label>",
        "取消或下放事项",
        false,
        &cancel,
        &common(Trigger::GovernmentDecision),
    ));
    let example = r#"[{"op": "cancel", "code": "XK00035000", "reason": "与XK00035001合并"},
 {"op": "cancel", "code": "XK00035001", "reason": "与XK00035000合并"},
 {"op": "add", "item": {"code": "XK00035002", "name": "合并后的事项名称", "category": "licensing",
   "basis": [{"law": "中华人民共和国食品安全法", "article": "第三十五条"}], "implementing_body": "实施主体"}}]"#;
    let advanced = format!(
        "<label>调整内容（JSON 数组，每项 op 为 add / update / cancel）<textarea name=\"changes\" data-kind=\"json\" \
         data-label=\"调整内容\" rows=\"8\" class=\"mono\" required>{}</textarea></label>",
        escape(example)
    );
    let kinds = format!(
        "<label>申请类型<select name=\"kind\">{}</select></label>",
        options(&RequestKind::ALL, RequestKind::key, RequestKind::label)
    );
    body.push_str(&filing_form(
        &kinds,
        "合并、拆分或涉及多个事项（高级）",
        false,
        &advanced,
        &common(Trigger::Restructuring),
    ));
    Ok(page(&node, &user, Section::Requests, "填报调整申请", &body))
}

/// The re-filing form of a returned request: its proposal prefilled, the changes as JSON.
pub(super) fn resubmit_form(row: &RequestRow) -> String {
    let p = &row.proposal;
    let changes = serde_json::to_string_pretty(&p.changes).unwrap_or_default();
    let attachments = serde_json::to_string(&p.attachments).unwrap_or_else(|_| "[]".into());
    format!(
        "<h2>修改后重新提交</h2><p class=\"muted\">按退回意见修改后提交，申请从编办审核重新开始；首次提交日期不变。</p>\
         <form class=\"card\" data-api=\"/api/v1/requests/{id}/resubmit\" data-then=\"reload\" data-confirm=\"确定重新提交？\">\
         <div class=\"columns\"><label>申请标题<input name=\"title\" value=\"{title}\" required></label>\
         <label>申请部门<input name=\"department\" value=\"{dept}\" readonly></label>\
         <label>申请类型<select name=\"kind\">{kinds}</select></label>\
         <label>调整情形<select name=\"trigger\">{triggers}</select></label>\
         <label>变更日期<input type=\"date\" name=\"trigger_date\" value=\"{tdate}\" required></label></div>\
         <label>调整理由及依据<textarea name=\"reason\" required>{reason}</textarea></label>\
         <label>调整内容（JSON）<textarea name=\"changes\" data-kind=\"json\" data-label=\"调整内容\" rows=\"10\" class=\"mono\">{changes}</textarea></label>\
         <input type=\"hidden\" name=\"attachments\" data-kind=\"json\" value=\"{att}\">\
         <button type=\"submit\">重新提交</button><div class=\"error\" hidden></div></form>",
        id = row.id,
        title = escape(&p.title),
        dept = escape(&p.department),
        kinds = selected(options(&RequestKind::ALL, RequestKind::key, RequestKind::label), p.kind.key()),
        triggers = selected(options(&Trigger::ALL, Trigger::key, Trigger::label), p.trigger.key()),
        tdate = p.trigger_date,
        reason = escape(&p.reason),
        changes = escape(&changes),
        att = escape(&attachments),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_as_text() {
        assert_eq!(value_text(&json!([{"law": "食品安全法", "article": "第三十五条"}])), "《食品安全法》第三十五条");
        assert_eq!(value_text(&json!(["受理", "审查"])), "受理；审查");
        assert_eq!(value_text(&json!({"legal_days": 20, "promised_days": 10})), "法定 20 个工作日，承诺 10 个工作日");
        assert_eq!(value_text(&json!(null)), "");
        assert_eq!(element_label("implementing_body"), "实施主体");
    }

    #[test]
    fn the_form_fields_are_the_api_shape() {
        let f = element_fields("changes.0.patch", false);
        assert!(f.contains("name=\"changes.0.patch.basis.0.law\""));
        assert!(f.contains("name=\"changes.0.patch.time_limit.legal_days\" data-kind=\"number\""));
        assert!(f.contains("name=\"changes.0.patch.responsibilities\" data-kind=\"list\""));
        assert!(!f.contains("required"), "an adjustment changes only what is filled in");
        assert!(element_fields("changes.0.item", true).contains("required"));
        let c = common_fields("局\"", "[{\"a\":1}]", Trigger::Other);
        assert!(c.contains("value=\"other\" selected"));
        assert!(c.contains("value=\"局&quot;\"") && c.contains("value=\"[{&quot;a&quot;:1}]\""));
    }
}
