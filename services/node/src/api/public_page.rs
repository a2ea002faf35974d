//! The public list's HTML pages: plain, self-contained, readable on an old office browser and
//! printable. Rendering only: the data comes from `public.rs`; every value is escaped.

use quanze_domain::{ItemStatus, PowerItem};
use serde_json::Value;

use super::public::SearchQuery;
use crate::audit_report::escape;
use crate::state::Node;

const STYLE: &str = "body{font-family:'Microsoft YaHei','PingFang SC',sans-serif;margin:0;color:#222;background:#f6f6f6}\
header{background:#b71c1c;color:#fff;padding:14px 24px}header h1{margin:0;font-size:22px}\
main{max-width:1100px;margin:16px auto;background:#fff;padding:16px 24px}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ddd;padding:6px 8px;text-align:left;vertical-align:top}\
th{background:#fafafa;white-space:nowrap}form input,form select{padding:4px;margin-right:8px}\
.digest{font-family:monospace;font-size:12px;word-break:break-all;background:#f0f4f8;padding:8px}\
.muted{color:#777}.cancelled{color:#999;text-decoration:line-through}";

fn shell(node: &Node, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title} - {name}</title><style>{STYLE}</style></head><body><header><h1>{name}权责清单</h1>\
         <div>行政区划代码 {division}</div></header><main>{body}</main></body></html>",
        title = escape(title),
        name = escape(node.name()),
        division = escape(node.division().as_str()),
    )
}

pub fn status_label(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::Active => "实施中",
        ItemStatus::Cancelled => "已取消",
        ItemStatus::Delegated => "已下放",
        ItemStatus::Granted => "赋权承接",
    }
}

/// The search page: form, results, downloads and the signed digest.
pub fn index(node: &Node, q: &SearchQuery, total: u64, items: &[PowerItem], digest: &Value) -> String {
    let v = |s: &Option<String>| escape(s.as_deref().unwrap_or(""));
    let mut body = format!(
        "<form method=\"get\" action=\"/public\">\
         <input name=\"q\" placeholder=\"事项名称或编码\" value=\"{}\">\
         <input name=\"category\" placeholder=\"职权类别，如 行政许可\" value=\"{}\">\
         <input name=\"department\" placeholder=\"实施主体\" value=\"{}\">\
         <button type=\"submit\">查询</button></form>\
         <p>共 {total} 项。下载：<a href=\"/api/v1/public/download?format=csv\">CSV</a> · \
         <a href=\"/api/v1/public/download?format=json\">JSON</a></p>\
         <table><tr><th>事项编码</th><th>事项名称</th><th>职权类别</th><th>实施主体</th><th>状态</th></tr>",
        v(&q.q),
        v(&q.category),
        v(&q.department)
    );
    for i in items {
        let class = if i.status == ItemStatus::Cancelled { " class=\"cancelled\"" } else { "" };
        body.push_str(&format!(
            "<tr{class}><td><a href=\"/public/items/{code_url}\">{code}</a></td><td>{name}</td><td>{cat}</td><td>{body}</td><td>{status}</td></tr>",
            code_url = super::requests::rfc5987(&i.code),
            code = escape(&i.code),
            name = escape(&i.name),
            cat = escape(i.category.label()),
            body = escape(&i.implementing_body),
            status = status_label(i.status),
        ));
    }
    body.push_str("</table>");
    if items.is_empty() {
        body.push_str("<p class=\"muted\">没有符合条件的事项。</p>");
    }
    let s = &digest["statement"];
    body.push_str(&format!(
        "<h2>清单一致性校验</h2><p>本页公布的清单与本节点实际运行的清单一致：节点以其密钥对清单摘要签名。\
         下载 JSON 清单并计算 SHA-256，应与下列摘要相同。</p><div class=\"digest\">\
         日志序号 head_seq = {head}<br>事项数 items = {n}<br>SHA-256 = {sha}<br>签名 signature = {sig}<br>节点公钥 public_key = {key}</div>\
         <p class=\"muted\"><a href=\"/api/v1/public/digest\">机器可读的签名摘要</a></p>",
        head = s["head_seq"],
        n = s["items"],
        sha = escape(s["sha256"].as_str().unwrap_or("")),
        sig = escape(digest["signature"].as_str().unwrap_or("")),
        key = escape(digest["public_key"].as_str().unwrap_or("")),
    ));
    body.push_str(&checkpoint_html(&digest["checkpoint"]));
    shell(node, "权责清单", &body)
}

/// The latest cosigned checkpoint of the node's log: the parent vouches for the same history.
fn checkpoint_html(c: &Value) -> String {
    if c.is_null() {
        return String::new();
    }
    format!(
        "<h2>联署检查点 / Cosigned checkpoint</h2><p>上级节点已核对本节点日志的前 {size} 条并联署其默克尔根（RFC 9162），\
         本节点不能向公众与上级展示两份不同的历史。</p><div class=\"digest\">\
         日志条数 size = {size}<br>默克尔根 root = {root}<br>联署节点 cosigner = {cosigner}<br>签署时间 at = {at}</div>\
         <p class=\"muted\"><a href=\"/api/v1/public/checkpoints\">机器可读的检查点与签名</a></p>",
        size = c["size"],
        root = escape(c["root"].as_str().unwrap_or("")),
        cosigner = escape(c["cosigner"].as_str().unwrap_or("")),
        at = escape(c["at"].as_str().unwrap_or("")),
    )
}

fn list_cell(values: &[String]) -> String {
    if values.is_empty() {
        return "<span class=\"muted\">—</span>".into();
    }
    values.iter().map(|v| escape(v)).collect::<Vec<_>>().join("<br>")
}

/// One item: its elements, its flow and the history of its changes with their documents.
pub fn item(node: &Node, view: &Value) -> String {
    let item: PowerItem = match serde_json::from_value(view["item"].clone()) {
        Ok(i) => i,
        Err(_) => return not_found(node, ""),
    };
    let basis: Vec<String> = item.basis.iter().map(ToString::to_string).collect();
    let acc_basis: Vec<String> = item.accountability_basis.iter().map(ToString::to_string).collect();
    let days = |d: Option<u32>| d.map_or("—".to_string(), |d| format!("{d} 个工作日"));
    let rows = [
        ("事项编码", escape(&item.code)),
        ("事项名称", escape(&item.name)),
        ("职权类别", escape(item.category.label())),
        ("状态", status_label(item.status).to_string()),
        ("设定依据", list_cell(&basis)),
        ("实施主体", escape(&item.implementing_body)),
        ("责任事项", list_cell(&item.responsibilities)),
        ("追责情形", list_cell(&item.accountability)),
        ("追责依据", list_cell(&acc_basis)),
        ("监督方式", list_cell(&item.supervision)),
        ("救济途径", list_cell(&item.remedies)),
        ("法定时限", days(item.time_limit.legal_days)),
        ("承诺时限", days(item.time_limit.promised_days)),
        ("廉政风险点", list_cell(&item.risk_points)),
    ];
    let mut body = String::from("<p><a href=\"/public\">← 返回清单</a></p><h2>事项要素</h2><table>");
    for (label, value) in rows {
        body.push_str(&format!("<tr><th>{label}</th><td>{value}</td></tr>"));
    }
    body.push_str("</table><h2>运行流程</h2>");
    if item.flow.is_empty() {
        body.push_str("<p class=\"muted\">未列明流程。</p>");
    } else {
        body.push_str("<table><tr><th>#</th><th>环节</th><th>承办</th><th>时限</th></tr>");
        for (i, s) in item.flow.iter().enumerate() {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                i + 1,
                escape(&s.step),
                escape(&s.handler),
                s.days.map_or(String::new(), |d| format!("{d} 日"))
            ));
        }
        body.push_str("</table>");
    }
    body.push_str(
        "<h2>变更记录</h2><table><tr><th>日期</th><th>名称</th><th>状态</th><th>依据的调整申请及文件</th></tr>",
    );
    for h in view["history"].as_array().into_iter().flatten() {
        let request = match h.get("request") {
            Some(r) => {
                let docs: Vec<String> = r["documents"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| {
                        format!(
                            "<a href=\"{}\">{}</a>",
                            escape(d["url"].as_str().unwrap_or("")),
                            escape(d["name"].as_str().unwrap_or(""))
                        )
                    })
                    .collect();
                format!(
                    "第 {} 号申请：{}（{}，{}；{}）{}{}",
                    r["id"],
                    escape(r["title"].as_str().unwrap_or("")),
                    escape(r["kind"].as_str().unwrap_or("")),
                    escape(r["trigger"].as_str().unwrap_or("")),
                    escape(r["decided_by"].as_str().unwrap_or("")),
                    if docs.is_empty() { "" } else { "<br>文件：" },
                    docs.join("、")
                )
            }
            None => "<span class=\"muted\">初始录入或目录对标</span>".into(),
        };
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(h["day"].as_str().unwrap_or("")),
            escape(h["name"].as_str().unwrap_or("")),
            escape(h["status"].as_str().unwrap_or("")),
            request
        ));
    }
    body.push_str("</table>");
    shell(node, &item.name, &body)
}

pub fn not_found(node: &Node, code: &str) -> String {
    shell(
        node,
        "未找到",
        &format!("<p>清单中没有事项编码 “{}”。</p><p><a href=\"/public\">← 返回清单</a></p>", escape(code)),
    )
}
