//! One log entry of an audit finding's evidence, as an auditor reads it: origin, seq, time,
//! the chain (previous hash), the stored hash checked against the bytes, and each op of the
//! batch as readable text and as its JSON.
//!
//! Reads the entry's exact stored bytes from the store (`Store::entries`); decodes them for
//! display only. Must not verify signatures here (`quanze log verify` does), write, or
//! re-serialise the entry as if it were the signed form.

use axum::extract::{Path, State};
use quanze_domain::DivisionCode;
use serde_json::Value;

use super::super::html::{Tone, badge, escape, table};
use super::super::{PageResult, Section, page, require};
use crate::api::ApiError;
use crate::auth::Principal;
use crate::state::Node;

/// A line saying what an op does, from its JSON (`type` and the fields a reader looks for).
pub(super) fn op_summary(op: &Value) -> String {
    let kind = op["type"].as_str().unwrap_or("?");
    let mut parts = vec![kind.to_string()];
    let item = &op["item"];
    for v in [
        &op["code"],
        &item["code"],
        &item["name"],
        &op["patch"]["name"],
        &op["reason"],
        &op["publication"]["doc_no"],
        &op["publication"]["title"],
    ] {
        if let Some(s) = v.as_str().filter(|s| !s.is_empty()) {
            parts.push(s.to_string());
        }
    }
    if let Some(d) = op["decision"].as_str() {
        parts.push(format!("decision={d}"));
    }
    if let Some(r) = op["request"].as_u64() {
        parts.push(format!("申请 {r}"));
    }
    parts.join(" · ")
}

/// `GET /console/audit/entry/{origin}/{seq}`: the entry from the store.
#[utoipa::path(get, path = "/console/audit/entry/{origin}/{seq}", tag = "console", params(("origin" = String, Path, description = "The log's division code"), ("seq" = String, Path, description = "The entry's seq")), responses((status = 200, description = "证据条目 / an evidence entry", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
pub(super) async fn entry_page(
    State(node): State<Node>,
    user: Principal,
    Path((origin, seq)): Path<(String, String)>,
) -> PageResult {
    require(&node, &user, Section::Audit)?;
    let origin = DivisionCode::parse(origin.trim()).map_err(|e| ApiError::bad_query(format!("origin：{e}")))?;
    let seq: u64 = seq.trim().parse().map_err(|_| ApiError::bad_query("序号应为正整数 / seq must be a number"))?;
    let not_found = || ApiError::not_found(format!("条目 {origin}#{seq} / entry"));
    let stored = node.store().entries(&origin, seq.saturating_sub(1), 1).await?;
    let entry = stored.into_iter().find(|e| e.seq == seq).ok_or_else(not_found)?;
    let bytes = entry.entry.bytes();
    let stored_hash = entry.stored_hash().map(|h| h.to_hex()).unwrap_or_default();
    let computed = quanze_ledger::Hash::of(bytes).to_hex();
    let body_json: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let hash_state = if stored_hash == computed {
        badge("与字节一致", Tone::Good)
    } else {
        badge("与字节不一致", Tone::Bad)
    };
    let mut body = format!(
        "<div class=\"toolbar\"><a href=\"/console/audit\">← 一致性审计</a>\
         <a class=\"button\" href=\"/console/audit/entry/{o}/{prev}\">上一条</a><a class=\"button\" href=\"/console/audit/entry/{o}/{next}\">下一条</a>\
         <a class=\"button\" href=\"/api/v1/log?origin={o}&amp;after={after}&amp;limit=1\">签名原文（JSON）</a></div>\
         <table class=\"grid\"><tbody><tr><th>日志（区划代码）</th><td>{o}</td><th>序号</th><td>{seq}</td></tr>\
         <tr><th>写入时间</th><td>{at}</td><th>格式版本</th><td>{v}</td></tr>\
         <tr><th>条目哈希</th><td colspan=\"3\"><span class=\"mono\">{hash}</span> {hash_state}</td></tr>\
         <tr><th>前一条目哈希</th><td colspan=\"3\"><span class=\"mono\">{prev_hash}</span></td></tr>\
         <tr><th>签名</th><td colspan=\"3\"><span class=\"mono\">{sig}</span></td></tr></tbody></table>",
        o = escape(origin.as_str()),
        prev = seq.saturating_sub(1).max(1),
        after = seq.saturating_sub(1),
        next = seq + 1,
        at = escape(body_json["at"].as_str().unwrap_or("")),
        v = escape(&body_json["v"].to_string()),
        hash = escape(&stored_hash),
        prev_hash = escape(body_json["prev"].as_str().unwrap_or("—（第一条）")),
        sig = escape(&hex::encode(entry.entry.sig())),
    );
    let ops = body_json["op"].as_array().cloned().unwrap_or_default();
    body.push_str(&format!("<h2>操作（{} 项，一并生效）</h2>", ops.len()));
    let rows: Vec<Vec<String>> = ops
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let pretty = serde_json::to_string_pretty(op).unwrap_or_default();
            vec![
                (i + 1).to_string(),
                escape(&op_summary(op)),
                format!("<details><summary>JSON</summary><pre class=\"mono\">{}</pre></details>", escape(&pretty)),
            ]
        })
        .collect();
    body.push_str(&table("ops", &["#", "操作", "内容"], &rows));
    if body_json.is_null() {
        body.push_str(&format!("<p>{}</p>", badge("条目字节不是有效的 JSON", Tone::Bad)));
    }
    Ok(page(&node, &user, Section::Audit, &format!("日志条目 {origin}#{seq}"), &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_op_reads_as_a_line() {
        let op = json!({"type": "item.cancel", "code": "XK00035000", "reason": "市级实施"});
        assert_eq!(op_summary(&op), "item.cancel · XK00035000 · 市级实施");
        let add = json!({"type": "item.add", "item": {"code": "XK1", "name": "许可"}});
        assert_eq!(op_summary(&add), "item.add · XK1 · 许可");
        assert_eq!(
            op_summary(&json!({"type": "request.step", "request": 3, "decision": "approve"})),
            "request.step · decision=approve · 申请 3"
        );
    }
}
