//! JSON files: an array of items, or `{"items": [...]}`, each item in the API's shape. Rows
//! are 1-based positions in the array, except for a syntax error, reported on its line.
//! Pure: text in, values out; no I/O.

use serde::Deserialize;
use serde_json::Value;

use super::{FIELDS, Read, row_error};
use crate::category::Category;
use crate::item::{Citation, Field, FlowStep, ItemStatus, PowerItem};

pub(super) fn read(text: &str) -> Read {
    let fail = |errors| Read { items: Vec::new(), first_row: 1, errors, columns: Vec::new() };
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            let (line, column) = (e.line(), e.column());
            let full = e.to_string();
            let what = full.split(" at line ").next().unwrap_or(&full);
            let message = format!("JSON 格式错误（第 {line} 行第 {column} 列）：{what} / malformed JSON");
            return fail(vec![row_error(line.max(1), None, message)]);
        }
    };
    let elements = match value {
        Value::Array(elements) => elements,
        Value::Object(mut object) if matches!(object.get("items"), Some(Value::Array(_))) => {
            match object.remove("items") {
                Some(Value::Array(elements)) => elements,
                _ => Vec::new(),
            }
        }
        _ => {
            let message =
                "JSON 顶层应为事项数组或 {\"items\": [...]} / expected an array of items or {\"items\": [...]}";
            return fail(vec![row_error(1, None, message)]);
        }
    };
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (i, element) in elements.iter().enumerate() {
        let row = i + 1;
        match PowerItem::deserialize(element) {
            Ok(item) => {
                // A list imported as JSON must also be one a spreadsheet can carry.
                for e in super::sheet_faithful_errors(&item) {
                    errors.push(row_error(row, Some(e.field), e.message));
                }
                items.push((row, item));
            }
            Err(e) => {
                let message = e.to_string();
                let field = field_of(element, &message);
                errors.push(row_error(row, field, format!("事项格式错误：{message} / invalid item")));
            }
        }
    }
    Read { items, first_row: 1, errors, columns: Vec::new() }
}

/// The element a deserialisation error is about, when it can be told: a missing field, or the
/// first present field whose value does not read as its type.
fn field_of(element: &Value, message: &str) -> Option<Field> {
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.split('`').next()?;
        return FIELDS.into_iter().find(|f| f.key() == key);
    }
    let object = element.as_object()?;
    fn fails<'a, T: Deserialize<'a>>(value: &'a Value) -> bool {
        T::deserialize(value).is_err()
    }
    FIELDS.into_iter().find(|&field| {
        let value = match field {
            Field::LegalDays | Field::PromisedDays => object.get("time_limit").and_then(|t| t.get(field.key())),
            _ => object.get(field.key()),
        };
        let Some(value) = value else { return false };
        match field {
            Field::Code | Field::Name | Field::ImplementingBody => fails::<String>(value),
            Field::Category => fails::<Category>(value),
            Field::Basis | Field::AccountabilityBasis => fails::<Vec<Citation>>(value),
            Field::ImplementingBodyCode => fails::<Option<String>>(value),
            Field::Responsibilities
            | Field::Accountability
            | Field::Supervision
            | Field::Remedies
            | Field::RiskPoints => fails::<Vec<String>>(value),
            Field::LegalDays | Field::PromisedDays => fails::<Option<u32>>(value),
            Field::Flow => fails::<Vec<FlowStep>>(value),
            Field::Status => fails::<ItemStatus>(value),
        }
    })
}

/// Writes items as a pretty-printed JSON array, in the shape `parse_items(ImportFormat::Json, …)`
/// reads back exactly (every element, including `status_reason`).
pub fn items_to_json(items: &[PowerItem]) -> String {
    let mut text = serde_json::to_string_pretty(items).expect("items always serialise");
    text.push('\n');
    text
}
