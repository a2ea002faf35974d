//! `quanze item …`, `quanze import` and `quanze export`: list work through the node's API.

use std::io::{IsTerminal, Write};

use anyhow::{Context, bail};
use quanze_domain::Citation;
use quanze_domain::import::ImportFormat;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::client;
use crate::cli::{ExportArgs, ImportArgs, ItemCommand, ItemFields};

pub async fn run(cmd: ItemCommand) -> anyhow::Result<()> {
    match cmd {
        ItemCommand::Add { code, fields, node } => {
            let body = match &fields.json {
                Some(path) => read_json(path)?,
                None => {
                    let mut obj = fields_to_json(&fields);
                    obj.insert("code".into(), json!(code.unwrap_or_default()));
                    Value::Object(obj)
                }
            };
            let res = client(&node)?.send_json(Method::POST, "/api/v1/items", &body).await?;
            print_written("已新增事项 / item added", &res);
        }
        ItemCommand::Update { code, fields, node } => {
            let body = match &fields.json {
                Some(path) => read_json(path)?,
                None => Value::Object(fields_to_json(&fields)),
            };
            let res =
                client(&node)?.send_json(Method::PATCH, &format!("/api/v1/items/{}", encode(&code)), &body).await?;
            print_written("已调整事项 / item updated", &res);
        }
        ItemCommand::Cancel { code, reason, node } => {
            let path = format!("/api/v1/items/{}/cancel", encode(&code));
            let res = client(&node)?.send_json(Method::POST, &path, &json!({ "reason": reason })).await?;
            print_written("已取消事项 / item cancelled", &res);
        }
        ItemCommand::List { category, status, implementing_body, q, offset, limit, json, node } => {
            let mut query = vec![format!("offset={offset}"), format!("limit={limit}")];
            for (k, v) in [("category", category), ("status", status), ("body", implementing_body), ("q", q)] {
                if let Some(v) = v {
                    query.push(format!("{k}={}", encode(&v)));
                }
            }
            let page = client(&node)?.get_json(&format!("/api/v1/items?{}", query.join("&"))).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page)?);
            } else {
                print_table(&page);
            }
        }
        ItemCommand::Show { code, json, node } => {
            let item = client(&node)?.get_json(&format!("/api/v1/items/{}", encode(&code))).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&item)?);
            } else {
                print_item(&item);
            }
        }
    }
    Ok(())
}

pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let file_name = args.file.display().to_string();
    let format = match &args.format {
        Some(f) => f.parse::<ImportFormat>()?,
        None => ImportFormat::from_file_name(&file_name).with_context(|| {
            format!("{file_name}: 无法从文件名判断格式，请加 --format csv|xlsx|xls|json / cannot tell the format")
        })?,
    };
    let progress = crate::progress::spinner(format!("读取并解析 {file_name}……"));
    let bytes = std::fs::read(&args.file).with_context(|| format!("无法读取 {file_name} / cannot read file"))?;
    // Counted here only to show the size of the job; the node parses and checks again and its
    // answer (with every bad row) is the one that counts.
    let rows = quanze_domain::parse_items(format, &bytes).ok().map(|b| b.items.len());
    progress.set_message(format!(
        "上传{}（{} 字节），节点校验并签名中……",
        crate::progress::rows_text(rows, "行"),
        bytes.len()
    ));
    let content_type = match format {
        ImportFormat::Csv => "text/csv",
        ImportFormat::Json => "application/json",
        ImportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ImportFormat::Xls => "application/vnd.ms-excel",
    };
    let res = client(&args.node)?
        .post_bytes(&format!("/api/v1/import?format={}", format.key()), content_type, bytes)
        .await
        .with_context(|| format!("{file_name}: 导入失败 / import failed"));
    progress.finish_and_clear();
    let res = res?;
    println!(
        "已导入 {} 项（一个条目）/ imported {} items as one entry: {}",
        res["imported"],
        res["imported"],
        entry_text(&res)
    );
    if let Some(ws) = res["warnings"].as_array().filter(|w| !w.is_empty()) {
        for w in ws {
            let sheet = res["sheet"].as_str().map(|s| format!("工作表 “{s}” ")).unwrap_or_default();
            let message = w["message"].as_str().unwrap_or("");
            println!("  提示 / warning {file_name} {sheet}第 {} 行: {message}", w["row"]);
        }
    }
    Ok(())
}

pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let format: ImportFormat = args.format.parse()?;
    if format == ImportFormat::Xls {
        bail!("导出请用 --format xlsx（.xls 为旧格式，只能导入）/ export as xlsx; .xls is import only");
    }
    if format.is_workbook() && args.output.is_none() && std::io::stdout().is_terminal() {
        bail!(
            "Excel 文件是二进制文件，不能输出到终端，请加 --output 清单.xlsx / an .xlsx is binary: give --output FILE.xlsx"
        );
    }
    let bytes = client(&args.node)?.get_bytes(&format!("/api/v1/export?format={}", format.key())).await?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("无法写入 {} / cannot write", path.display()))?;
            eprintln!("已导出到 / exported to {}", path.display());
        }
        None => std::io::stdout().write_all(&bytes).context("无法写出 / cannot write to standard output")?,
    }
    Ok(())
}

pub(super) fn read_json(path: &std::path::Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("无法读取 {} / cannot read", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: JSON 格式错误 / malformed JSON", path.display()))
}

/// The elements given as flags, as the JSON the API takes.
fn fields_to_json(f: &ItemFields) -> Map<String, Value> {
    let mut obj = Map::new();
    if let Some(v) = &f.name {
        obj.insert("name".into(), json!(v));
    }
    if let Some(v) = &f.category {
        obj.insert("category".into(), json!(v));
    }
    if !f.basis.is_empty() {
        let citations: Vec<Citation> = f.basis.iter().flat_map(|b| Citation::parse_many(b)).collect();
        obj.insert("basis".into(), json!(citations));
    }
    if let Some(v) = &f.implementing_body {
        obj.insert("implementing_body".into(), json!(v));
    }
    if f.legal_days.is_some() || f.promised_days.is_some() {
        let mut tl = Map::new();
        if let Some(d) = f.legal_days {
            tl.insert("legal_days".into(), json!(d));
        }
        if let Some(d) = f.promised_days {
            tl.insert("promised_days".into(), json!(d));
        }
        obj.insert("time_limit".into(), Value::Object(tl));
    }
    if !f.responsibilities.is_empty() {
        obj.insert("responsibilities".into(), json!(f.responsibilities));
    }
    if !f.remedies.is_empty() {
        obj.insert("remedies".into(), json!(f.remedies));
    }
    obj
}

/// Percent-encodes a path or query component.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(super) fn entry_text(res: &Value) -> String {
    let e = &res["entry"];
    format!("{}#{} {}", e["origin"].as_str().unwrap_or("?"), e["seq"], e["hash"].as_str().unwrap_or(""))
}

fn print_written(what: &str, res: &Value) {
    println!(
        "{what}: {} {} — 条目 / entry {}",
        res["item"]["code"].as_str().unwrap_or(""),
        res["item"]["name"].as_str().unwrap_or(""),
        entry_text(res)
    );
    if let Some(ws) = res["warnings"].as_array() {
        for w in ws {
            println!("  提示 / warning: {}", w["message"].as_str().unwrap_or(""));
        }
    }
}

fn category_label(key: &str) -> String {
    key.parse::<quanze_domain::Category>().map(|c| c.label().to_string()).unwrap_or_else(|_| key.to_string())
}

fn status_label(key: &str) -> &'static str {
    quanze_domain::ItemStatus::parse(key).map_or("?", |s| s.label())
}

fn print_table(page: &Value) {
    let items = page["items"].as_array().cloned().unwrap_or_default();
    println!("{:<14} {:<8} {:<8} {:<24} 事项名称 / name", "事项编码", "类别", "状态", "实施主体");
    for it in &items {
        println!(
            "{:<18} {:<8} {:<8} {:<24} {}",
            it["code"].as_str().unwrap_or(""),
            category_label(it["category"].as_str().unwrap_or("")),
            status_label(it["status"].as_str().unwrap_or("")),
            it["implementing_body"].as_str().unwrap_or(""),
            it["name"].as_str().unwrap_or("")
        );
    }
    println!(
        "共 {} 项，显示第 {}–{} 项 / {} items in total",
        page["total"],
        page["offset"].as_u64().unwrap_or(0) + 1,
        page["offset"].as_u64().unwrap_or(0) + items.len() as u64,
        page["total"]
    );
}

fn print_item(it: &Value) {
    let list = |v: &Value| {
        v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("；")).unwrap_or_default()
    };
    let cites = |v: &Value| {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|c| format!("《{}》{}", c["law"].as_str().unwrap_or(""), c["article"].as_str().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join("；")
            })
            .unwrap_or_default()
    };
    println!("事项编码 / code:        {}", it["code"].as_str().unwrap_or(""));
    println!("事项名称 / name:        {}", it["name"].as_str().unwrap_or(""));
    println!("职权类别 / category:    {}", category_label(it["category"].as_str().unwrap_or("")));
    println!("设定依据 / basis:       {}", cites(&it["basis"]));
    println!("实施主体 / body:        {}", it["implementing_body"].as_str().unwrap_or(""));
    println!("责任事项:               {}", list(&it["responsibilities"]));
    println!("追责情形:               {}", list(&it["accountability"]));
    println!("追责依据:               {}", cites(&it["accountability_basis"]));
    println!("监督方式:               {}", list(&it["supervision"]));
    println!("救济途径:               {}", list(&it["remedies"]));
    println!("法定/承诺时限（工作日）: {} / {}", it["time_limit"]["legal_days"], it["time_limit"]["promised_days"]);
    println!(
        "状态 / status:          {} {}",
        status_label(it["status"].as_str().unwrap_or("")),
        it["status_reason"].as_str().unwrap_or("")
    );
    println!("最后条目 / last entry:  #{} {}", it["last_seq"], it["updated_at"].as_str().unwrap_or(""));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_codes_readable() {
        assert_eq!(encode("XK00035000"), "XK00035000");
        assert_eq!(encode("行政许可"), "%E8%A1%8C%E6%94%BF%E8%AE%B8%E5%8F%AF");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn flags_become_the_api_shape() {
        let f = ItemFields {
            name: Some("食品经营许可".into()),
            basis: vec!["《中华人民共和国食品安全法》第三十五条".into()],
            promised_days: Some(10),
            ..Default::default()
        };
        let obj = fields_to_json(&f);
        assert_eq!(obj["basis"][0]["article"], "第三十五条");
        assert_eq!(obj["time_limit"]["promised_days"], 10);
        assert!(!obj.contains_key("category"));
    }
}
