//! Publishing a catalogue change the way an editorial office (编办) has it: a change sheet
//! (调整表, CSV or Excel .xlsx/.xls) uploaded as raw bytes with the document's header fields in
//! the query, or a few 取消/下放 changes typed one per line in the console's form.
//!
//! Owns the two routes, the header fields and their defaults (today, the publication date, every
//! tier below this node, 20 working days — as `quanze catalogue publish` has them) and the
//! turning of typed lines into a change sheet. Sheets are read only by the domain's
//! `parse_catalogue_csv` / `parse_catalogue_workbook`; typed lines go through the same reader.
//! All-or-nothing: any bad row gives 422 `IMPORT_INVALID` naming sheet, row and field, and
//! nothing is written. The entry is written by `recon::publish_publication`, the one publish
//! path; the store re-checks every rule. Never writes SQL, never decides a catalogue rule.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use quanze_domain::calendar::DayUnit;
use quanze_domain::import::{parse_catalogue_csv, parse_catalogue_workbook};
use quanze_domain::{CatalogueChange, Publication, RowError, Tier, Window};
use serde::Deserialize;
use serde_json::json;

use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, JsonBody, QueryParams, RawBody};
use super::recon::publish_publication;
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(sheet)).routes(routes!(lines))
}

/// The header of a publication as a form or a query gives it; empty means the default.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Header {
    #[serde(default)]
    doc_no: String,
    #[serde(default)]
    title: String,
    published: Option<String>,
    effective: Option<String>,
    /// Tier names (`county`, `县`, …); a value may hold several separated by commas.
    #[serde(default)]
    tiers: Vec<String>,
    window_days: Option<u32>,
    window_unit: Option<String>,
    /// The typed changes (the form only).
    #[serde(default)]
    lines: String,
}

fn field_error(field: &str, message: String) -> serde_json::Value {
    json!({ "field": field, "message": message })
}

impl Header {
    /// The header from query pairs (`tiers` may repeat); unknown keys are refused.
    fn from_query(pairs: Vec<(String, String)>) -> Result<(Header, Option<String>), ApiError> {
        let mut h = Header::default();
        let mut format = None;
        for (key, value) in pairs {
            let value = value.trim().to_string();
            let opt = || Some(value.clone()).filter(|v| !v.is_empty());
            match key.as_str() {
                "format" => format = opt(),
                "doc_no" => h.doc_no = value,
                "title" => h.title = value,
                "published" => h.published = opt(),
                "effective" => h.effective = opt(),
                "tiers" => h.tiers.push(value),
                "window_days" if value.is_empty() => {}
                "window_days" => {
                    h.window_days = Some(value.parse().map_err(|_| {
                        ApiError::bad_query(format!("window_days “{value}” 不是天数 / window_days is not a number"))
                    })?);
                }
                "window_unit" => h.window_unit = opt(),
                other => {
                    return Err(ApiError::bad_query(format!("未知的查询参数 “{other}” / unknown query parameter")));
                }
            }
        }
        Ok((h, format))
    }

    /// The publication this header gives with `changes`, or every bad field at once.
    fn publication(
        &self,
        node_tier: Tier,
        today: NaiveDate,
        changes: Vec<CatalogueChange>,
    ) -> Result<Publication, ApiError> {
        let mut errors = Vec::new();
        let doc_no = self.doc_no.trim().to_string();
        if doc_no.is_empty() {
            errors.push(field_error("doc_no", "文号不能为空 / the document number is required".into()));
        }
        let title = self.title.trim().to_string();
        if title.is_empty() {
            errors.push(field_error("title", "标题不能为空 / the title is required".into()));
        }
        let mut date = |field: &str, label: &str, value: &Option<String>| -> Option<NaiveDate> {
            let v = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
            v.parse()
                .map_err(|_| errors.push(field_error(field, format!("{label} “{v}” 不是日期（YYYY-MM-DD）/ bad date"))))
                .ok()
        };
        let published = date("published", "公布日期", &self.published).unwrap_or(today);
        let effective = date("effective", "施行日期", &self.effective).unwrap_or(published);
        let mut tiers = Vec::new();
        for name in self.tiers.iter().flat_map(|t| t.split([',', '，', '、', ';', '；'])).map(str::trim) {
            match name.parse::<Tier>() {
                Ok(t) if !tiers.contains(&t) => tiers.push(t),
                Ok(_) => {}
                Err(_) if name.is_empty() => {}
                Err(e) => errors.push(field_error("tiers", e.to_string())),
            }
        }
        if tiers.is_empty() {
            tiers = Tier::ALL.into_iter().filter(|t| *t > node_tier).collect();
        }
        tiers.sort();
        let mut window = Window::default();
        if let Some(days) = self.window_days {
            if days == 0 {
                errors.push(field_error("window_days", "对标期限至少 1 天 / the window needs at least one day".into()));
            }
            window.days = days;
        }
        if let Some(unit) = self.window_unit.as_deref().filter(|u| !u.trim().is_empty()) {
            match unit.parse::<DayUnit>() {
                Ok(u) => window.unit = u,
                Err(e) => errors.push(field_error("window_unit", e.to_string())),
            }
        }
        if !errors.is_empty() {
            let n = errors.len();
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
                format!("公布信息有 {n} 处错误，未公布 / {n} invalid header fields, nothing published"),
            )
            .with_errors(errors));
        }
        Ok(Publication { doc_no, title, published, effective, tiers, window, changes })
    }
}

/// 422 `IMPORT_INVALID` with every bad row.
fn refused(errors: Vec<RowError>) -> ApiError {
    let n = errors.len();
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "IMPORT_INVALID",
        format!("调整表有 {n} 处错误，未公布任何调整 / sheet refused: {n} errors, nothing published"),
    )
    .with_errors(errors)
}

/// Whether `bytes` are an Excel workbook: a zip (.xlsx) or an OLE compound file (.xls).
fn is_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// `POST /catalogue/publications/sheet?doc_no=&title=[&published=&effective=&tiers=&window_days=
/// &window_unit=&format=csv|xlsx|xls]`: the body is the change sheet's bytes (format told by
/// content when not given).
#[utoipa::path(post, path = "/catalogue/publications/sheet", tag = "catalogue", params(("doc_no" = String, Query, description = "文号 / document number"), ("title" = String, Query), ("published" = Option<String>, Query, description = "YYYY-MM-DD"), ("effective" = Option<String>, Query, description = "YYYY-MM-DD"), ("tiers" = Option<String>, Query, description = "Tier names, comma-separated"), ("window_days" = Option<u32>, Query), ("window_unit" = Option<String>, Query, description = "working or calendar"), ("format" = Option<String>, Query, description = "csv, xlsx or xls; default: told by content")), request_body(content((String = "text/csv"), (Vec<u8> = "application/octet-stream")), description = "The change sheet: CSV, .xlsx or .xls"), responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
async fn sheet(
    State(node): State<Node>,
    QueryParams(pairs): QueryParams<Vec<(String, String)>>,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let (header, format) = Header::from_query(pairs)?;
    let workbook = match format.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => is_workbook(&bytes),
        Some("csv") => false,
        Some("xlsx" | "xls") => true,
        Some(other) => {
            return Err(ApiError::bad_query(format!(
                "format 应为 csv、xlsx 或 xls，而不是 “{other}” / format must be csv, xlsx or xls"
            )));
        }
    };
    let publication = header.publication(node.tier(), node.today(), Vec::new())?;
    let parsed = if workbook { parse_catalogue_workbook(&bytes) } else { parse_catalogue_csv(&bytes) };
    let changes = parsed.map_err(|e| refused(e.errors))?;
    publish_publication(&node, Publication { changes, ..publication }).await
}

/// `POST /catalogue/publications/lines`: the header fields and `lines`, one 取消 or 下放 a line.
#[utoipa::path(post, path = "/catalogue/publications/lines", tag = "catalogue", request_body = Header, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
async fn lines(State(node): State<Node>, JsonBody(header): JsonBody<Header>) -> Result<Response, ApiError> {
    let publication = header.publication(node.tier(), node.today(), Vec::new())?;
    let changes = parse_lines(&header.lines).map_err(refused)?;
    publish_publication(&node, Publication { changes, ..publication }).await
}

/// Header of the sheet typed lines become: the item columns the reader requires, then the
/// change columns.
const LINES_HEADER: [&str; 8] =
    ["事项编码", "事项名称", "职权类别", "设定依据", "实施主体", "调整方式", "行使层级", "调整理由"];

/// Kinds that need whole items (only a sheet has their columns).
const SHEET_ONLY: [&str; 11] =
    ["新增", "add", "合并", "merge", "拆分", "split", "调整要素", "调整", "adjust", "增加", "变更"];

/// Reads typed changes, one a line (blank lines skipped), numbered as typed:
/// `取消 | 事项编码 | 理由` or `下放 | 事项编码 | 县、乡镇 | 理由`; the cells may be separated by
/// `|`, `｜` or a tab (pasted from Excel), or by spaces when the reason is last. The lines become
/// a change sheet read by `parse_catalogue_csv`, so every rule and message is the sheet's.
pub fn parse_lines(text: &str) -> Result<Vec<CatalogueChange>, Vec<RowError>> {
    if text.trim().is_empty() {
        return Err(vec![RowError::new(1, None, "请至少填写一行调整 / at least one change is required")]);
    }
    let mut errors = Vec::new();
    // One sheet line a typed line, blank ones kept: the reader numbers rows as they stand.
    let mut sheet = record(&LINES_HEADER);
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() {
            sheet.push('\n');
            continue;
        }
        let cells = split_line(line);
        let kind = cells[0];
        if SHEET_ONLY.contains(&kind.to_ascii_lowercase().as_str()) {
            let message =
                format!("“{kind}” 须填写完整的事项要素，请用“上传调整表” / {kind} needs whole items: upload a sheet");
            errors.push(RowError::new(n, None, message));
            continue;
        }
        let delegate = matches!(kind.to_ascii_lowercase().as_str(), "下放" | "delegate");
        let code = cells.get(1).copied().unwrap_or("");
        let (tiers, rest) = if delegate { (cells.get(2).copied().unwrap_or(""), 3) } else { ("", 2) };
        let reason: Vec<&str> = cells.iter().skip(rest).copied().filter(|c| !c.is_empty()).collect();
        sheet.push_str(&record(&[code, "", "", "", "", kind, tiers, &reason.join("；")]));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Row 1 of the sheet is its header: row n + 1 is typed line n.
    parse_catalogue_csv(sheet.as_bytes())
        .map_err(|e| e.errors.into_iter().map(|r| RowError { row: r.row.saturating_sub(1).max(1), ..r }).collect())
}

/// One CSV record (quoted where needed) with its line break.
fn record(cells: &[&str]) -> String {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = w.write_record(cells);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The cells of a typed line: split on `|`, `｜` or tabs when it has one; else on spaces, the
/// reason (last) keeping its own spaces.
fn split_line(line: &str) -> Vec<&str> {
    if line.contains(['|', '｜', '\t']) {
        return line.split(['|', '｜', '\t']).map(str::trim).collect();
    }
    let first = line.split_whitespace().next().unwrap_or("");
    let parts = if matches!(first.to_ascii_lowercase().as_str(), "下放" | "delegate") { 4 } else { 3 };
    line.splitn(parts, char::is_whitespace).map(str::trim).filter(|c| !c.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_lines_become_changes() {
        let text = "取消 | XK00002000 | 法律修订后不再保留\n\n下放\tXK00003000\t县、乡镇\t就近办理\n取消 XK00004000 上位法 已废止";
        let changes = parse_lines(text).unwrap();
        assert_eq!(
            changes,
            [
                CatalogueChange::Cancel { code: "XK00002000".into(), reason: "法律修订后不再保留".into() },
                CatalogueChange::Delegate {
                    code: "XK00003000".into(),
                    tiers: vec![Tier::County, Tier::Township],
                    reason: "就近办理".into()
                },
                CatalogueChange::Cancel { code: "XK00004000".into(), reason: "上位法 已废止".into() },
            ]
        );
    }

    #[test]
    fn bad_lines_are_named_by_their_line_number() {
        let text = "取消 | XK00002000 | 不再保留\n\n下放 | XK00003000 | 村 | 就近办理\n取消 | XK00004000";
        let errors = parse_lines(text).unwrap_err();
        let rows: Vec<usize> = errors.iter().map(|e| e.row).collect();
        assert_eq!(rows, [3, 4], "{errors:?}");
        assert!(errors[0].message.contains("行使层级"), "{}", errors[0].message);
        assert!(errors[1].message.contains("调整理由"), "{}", errors[1].message);
        assert!(errors.iter().all(|e| e.sheet.is_none()));
    }

    #[test]
    fn whole_item_kinds_are_sent_to_the_sheet_and_empty_text_is_refused() {
        let errors = parse_lines("新增 | XK00005000 | 县 | 新设").unwrap_err();
        assert_eq!(errors[0].row, 1);
        assert!(errors[0].message.contains("上传调整表"), "{}", errors[0].message);
        assert!(parse_lines("  \n ").unwrap_err()[0].message.contains("至少填写一行"));
        let unknown = parse_lines("变动 | XK00002000 | 理由").unwrap_err();
        assert!(unknown[0].message.contains("未知调整方式"), "{}", unknown[0].message);
    }

    #[test]
    fn a_header_fills_its_defaults_and_names_every_bad_field() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let h = Header { doc_no: " 泸编发〔2026〕3号 ".into(), title: "调整".into(), ..Default::default() };
        let p = h.publication(Tier::City, today, vec![]).unwrap();
        assert_eq!((p.doc_no.as_str(), p.published, p.effective), ("泸编发〔2026〕3号", today, today));
        assert_eq!(p.tiers, [Tier::County, Tier::Township]);
        assert_eq!(p.window, Window::default());

        let h = Header {
            published: Some("2026-02-30".into()),
            tiers: vec!["县,村".into()],
            window_days: Some(0),
            window_unit: Some("周".into()),
            ..Default::default()
        };
        let e = h.publication(Tier::City, today, vec![]).unwrap_err();
        assert_eq!((e.status, e.code), (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"));
        let fields: Vec<&str> =
            e.errors.as_ref().unwrap().as_array().unwrap().iter().map(|x| x["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["doc_no", "title", "published", "tiers", "window_days", "window_unit"]);
    }

    #[test]
    fn query_headers_take_repeated_tiers_and_refuse_unknown_keys() {
        let pairs = |v: &[(&str, &str)]| v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let (h, format) = Header::from_query(pairs(&[
            ("doc_no", "A"),
            ("tiers", "county"),
            ("tiers", "township"),
            ("format", "xlsx"),
        ]))
        .unwrap();
        assert_eq!((h.doc_no.as_str(), h.tiers.len(), format.as_deref()), ("A", 2, Some("xlsx")));
        assert!(Header::from_query(pairs(&[("lines", "x")])).is_err());
        assert!(Header::from_query(pairs(&[("window_days", "二十")])).is_err());
        assert!(is_workbook(b"PK\x03\x04rest") && !is_workbook("调整方式".as_bytes()));
    }
}
