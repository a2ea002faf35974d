//! Spreadsheet cells and headers: how offices write each element in one cell, and back.
//!
//! Owns header recognition (the labels real lists use), the splitting of multi-valued cells,
//! working-day numbers and flow steps. Pure string functions; no I/O.

use crate::item::{Field, FlowStep};

/// Header labels accepted for each field, besides the field's English key. The first one is the
/// canonical label (`Field::label`).
const HEADERS: [(Field, &[&str]); 16] = [
    (Field::Code, &["事项编码", "编码", "权力编码", "基本编码", "职权编码", "事项代码"]),
    (Field::Name, &["事项名称", "名称", "权力名称", "职权名称", "权力事项名称"]),
    (Field::Category, &["职权类别", "类别", "权力类别", "事项类型", "权力类型", "事项类别", "职权类型"]),
    (Field::Basis, &["设定依据", "法律依据", "依据", "实施依据"]),
    (Field::ImplementingBody, &["实施主体", "实施机关", "承办机构", "责任主体"]),
    (Field::ImplementingBodyCode, &["实施主体统一社会信用代码", "统一社会信用代码"]),
    (Field::Responsibilities, &["责任事项"]),
    (Field::Accountability, &["追责情形"]),
    (Field::AccountabilityBasis, &["追责依据"]),
    (Field::Supervision, &["监督方式"]),
    (Field::Remedies, &["救济途径"]),
    (Field::LegalDays, &["法定办结时限", "法定时限"]),
    (Field::PromisedDays, &["承诺办结时限", "承诺时限"]),
    (Field::Flow, &["办理流程", "流程", "流程图"]),
    (Field::RiskPoints, &["风险点", "廉政风险点"]),
    (Field::Status, &["状态", "事项状态"]),
];

/// The fields a spreadsheet must have a column for.
pub(super) const REQUIRED: [Field; 5] =
    [Field::Code, Field::Name, Field::Category, Field::Basis, Field::ImplementingBody];

/// What a header cell names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
    Field(Field),
    /// 序号: a serial number column, ignored.
    Serial,
    /// An empty header cell: the column must stay empty.
    Blank,
}

/// The column a header names, or `None` for an unknown header.
pub(super) fn column_for(header: &str) -> Option<Column> {
    let h = normalise_header(header);
    if h.is_empty() {
        return Some(Column::Blank);
    }
    if h == "序号" {
        return Some(Column::Serial);
    }
    let lower = h.to_ascii_lowercase();
    HEADERS
        .iter()
        .find(|(field, labels)| labels.contains(&h.as_str()) || field.key() == lower)
        .map(|&(field, _)| Column::Field(field))
}

/// Removes white space, required-marks (`*事项名称`) and trailing notes (`法定时限（工作日）`).
fn normalise_header(header: &str) -> String {
    let mut h: String = header.chars().filter(|c| !c.is_whitespace()).collect();
    loop {
        let trimmed = h.trim_matches(['*', '＊']);
        let stripped = match trimmed.strip_suffix(['）', ')']) {
            Some(inner) => match inner.rfind(['（', '(']) {
                Some(open) => &inner[..open],
                None => trimmed,
            },
            None => trimmed,
        };
        if stripped.len() == h.len() {
            return h;
        }
        h = stripped.to_string();
    }
}

/// The elements of a multi-valued cell: one per line or per `；`/`;`, trimmed, blanks dropped.
pub(super) fn split_multi(cell: &str) -> Vec<String> {
    cell.split(['\n', '\r', '；', ';']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// Joins elements for one cell (the inverse of `split_multi` for elements without separators).
pub(super) fn join_multi<T: ToString>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join("；")
}

/// Working days: `20`, `20个工作日`, `20工作日`; empty is `Ok(None)`, anything else `Err`.
pub(super) fn parse_days(cell: &str) -> Result<Option<u32>, ()> {
    let t: String = cell.chars().filter(|c| !c.is_whitespace()).collect();
    if t.is_empty() {
        return Ok(None);
    }
    let digits = t.strip_suffix("个工作日").or_else(|| t.strip_suffix("工作日")).unwrap_or(&t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    digits.parse().map(Some).map_err(|_| ())
}

/// The message for a cell that is not a number of working days.
pub(super) fn days_message(cell: &str) -> String {
    format!("“{}” 不是工作日数，应写作 20 或 20个工作日 / not a number of working days", cell.trim())
}

/// Flow steps: `受理（政务服务窗口，1个工作日）→审查（…）`, steps also separated by `->` or new
/// lines. Parentheses at the end of a step hold the handler, the days, or both.
pub(super) fn parse_flow(cell: &str) -> Result<Vec<FlowStep>, String> {
    let normalised = cell.replace("->", "→");
    let mut steps = Vec::new();
    for part in normalised.split(['→', '\n', '\r']).map(str::trim).filter(|s| !s.is_empty()) {
        let step = parse_step(part);
        if step.step.is_empty() {
            return Err(format!("流程步骤 “{part}” 缺少步骤名称 / flow step has no name"));
        }
        steps.push(step);
    }
    Ok(steps)
}

fn parse_step(text: &str) -> FlowStep {
    let plain = || FlowStep { step: text.to_string(), handler: String::new(), days: None };
    let Some(inner) = text.strip_suffix(['）', ')']) else { return plain() };
    let Some(open) = inner.rfind(['（', '(']) else { return plain() };
    let step = inner[..open].trim().to_string();
    let note = inner[open..].trim_start_matches(['（', '(']).trim();
    let (handler, days) = match note.rsplit_once(['，', ',']) {
        Some((handler, last)) => match parse_days(last) {
            Ok(Some(days)) => (handler.trim(), Some(days)),
            _ => (note, None),
        },
        None => match parse_days(note) {
            Ok(Some(days)) => ("", Some(days)),
            _ => (note, None),
        },
    };
    FlowStep { step, handler: handler.to_string(), days }
}

/// Writes flow steps in the form `parse_flow` reads.
pub(super) fn format_flow(flow: &[FlowStep]) -> String {
    let step = |s: &FlowStep| match (s.handler.is_empty(), s.days) {
        (true, None) => s.step.clone(),
        (false, None) => format!("{}（{}）", s.step, s.handler),
        (true, Some(d)) => format!("{}（{d}个工作日）", s.step),
        (false, Some(d)) => format!("{}（{}，{d}个工作日）", s.step, s.handler),
    };
    flow.iter().map(step).collect::<Vec<_>>().join("→")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_recognised_as_offices_write_them() {
        let f = |h: &str| column_for(h);
        assert_eq!(f(" 事项名称 "), Some(Column::Field(Field::Name)));
        assert_eq!(f("*权力编码"), Some(Column::Field(Field::Code)));
        assert_eq!(f("法定时限（工作日）"), Some(Column::Field(Field::LegalDays)));
        assert_eq!(f("承诺办结时限(工作日)"), Some(Column::Field(Field::PromisedDays)));
        assert_eq!(f("法定办结时限\n（工作日）"), Some(Column::Field(Field::LegalDays)));
        assert_eq!(f("Implementing_Body"), Some(Column::Field(Field::ImplementingBody)));
        assert_eq!(f("实施主体统一社会信用代码"), Some(Column::Field(Field::ImplementingBodyCode)));
        assert_eq!(f("序 号"), Some(Column::Serial));
        assert_eq!(f("  "), Some(Column::Blank));
        assert_eq!(f("备注"), None);
        for field in super::super::FIELDS {
            assert_eq!(f(field.label()), Some(Column::Field(field)), "{field}");
            assert_eq!(f(field.key()), Some(Column::Field(field)), "{field}");
        }
    }

    #[test]
    fn multi_valued_cells_split_on_lines_and_semicolons() {
        assert_eq!(split_multi("行政复议；行政诉讼"), ["行政复议", "行政诉讼"]);
        assert_eq!(split_multi(" 受理责任\r\n审查责任;\n\n决定责任 ； "), ["受理责任", "审查责任", "决定责任"]);
        assert!(split_multi(" \n ；").is_empty());
    }

    #[test]
    fn working_days_accept_the_usual_spellings() {
        assert_eq!(parse_days("20"), Ok(Some(20)));
        assert_eq!(parse_days("20个工作日"), Ok(Some(20)));
        assert_eq!(parse_days(" 20 工作日"), Ok(Some(20)));
        assert_eq!(parse_days(""), Ok(None));
        for bad in ["二十", "20天", "即办", "-1", "个工作日", "99999999999"] {
            assert_eq!(parse_days(bad), Err(()), "{bad}");
        }
    }

    #[test]
    fn flow_steps_parse_with_handler_and_days() {
        let flow = parse_flow("受理（政务服务窗口，1个工作日）→审查(审批股,3) -> 决定（局长）\n送达（1个工作日）→归档")
            .unwrap();
        let got: Vec<(&str, &str, Option<u32>)> =
            flow.iter().map(|s| (s.step.as_str(), s.handler.as_str(), s.days)).collect();
        assert_eq!(
            got,
            [
                ("受理", "政务服务窗口", Some(1)),
                ("审查", "审批股", Some(3)),
                ("决定", "局长", None),
                ("送达", "", Some(1)),
                ("归档", "", None)
            ]
        );
        assert_eq!(
            format_flow(&flow),
            "受理（政务服务窗口，1个工作日）→审查（审批股，3个工作日）→决定（局长）→送达（1个工作日）→归档"
        );
        let comma = parse_flow("审查（审批股，法制股）").unwrap();
        assert_eq!(comma[0].handler, "审批股，法制股");
        assert!(parse_flow("（窗口，1个工作日）").is_err());
        assert!(parse_flow(" \n ").unwrap().is_empty());
    }
}
