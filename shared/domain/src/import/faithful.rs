//! Whether an item survives a spreadsheet: written out by `items_to_csv` and read back by
//! `parse_items`, does it come back the same? Offices keep their lists in Excel, so every item
//! a node accepts as new input (the API, a JSON import, a catalogue or a request filed as JSON)
//! must pass this, or a download → edit → re-import would silently change it.
//!
//! Owns `sheet_faithful_errors`. It decides by doing the round trip, not by a list of
//! characters kept beside the sheet format, so the two cannot drift. It must not be used when
//! replaying or ingesting signed entries: those were accepted under the rules of their day
//! (`PowerItem::validate` alone), and a rule added later must not break an existing log. Pure.

use serde_json::Value;

use super::{FIELDS, ImportFormat, items_to_csv, parse_items};
use crate::item::{Field, FieldError, PowerItem};

const CHANGED: &str = "写入表格再读回会变成不同内容：多值元素中不能含“；”“;”或换行，法规名称不能含《》，\
流程步骤不能含“→”，内容首尾不能有空格，元素不能为空 / would change when written to a spreadsheet and read back";

const CONTROL: &str = "含有不可见的控制字符 / contains control characters";

/// Every field of `item` that a spreadsheet cannot carry unchanged, or that holds control
/// characters (other than tab and line breaks, which cells keep). Empty when the item is faithful.
/// An item that breaks the item rules is left to `PowerItem::validate`: only fields the round
/// trip itself changes are named here.
pub fn sheet_faithful_errors(item: &PowerItem) -> Vec<FieldError> {
    let before = fields(item);
    let mut bad: Vec<(Field, &str)> =
        before.iter().filter(|(_, value)| has_control(value)).map(|(field, _)| (*field, CONTROL)).collect();
    if item.validate().is_ok() {
        let changed: Vec<Field> =
            match parse_items(ImportFormat::Csv, items_to_csv(std::slice::from_ref(item)).as_bytes()) {
                Ok(batch) => match batch.items.as_slice() {
                    [back] => {
                        let after = fields(back);
                        before.iter().filter(|entry| !after.contains(entry)).map(|(field, _)| *field).collect()
                    }
                    _ => FIELDS.to_vec(),
                },
                Err(e) => e.errors.iter().filter_map(|row| row.field).collect(),
            };
        bad.extend(changed.into_iter().map(|field| (field, CHANGED)));
    }
    bad.sort_by_key(|(field, _)| FIELDS.iter().position(|f| f == field));
    bad.dedup_by_key(|(field, _)| *field);
    bad.into_iter().map(|(field, message)| FieldError::new(field, message)).collect()
}

/// The item's elements as the sheet has columns for them (`status_reason` has none), each with
/// its JSON value.
fn fields(item: &PowerItem) -> Vec<(Field, Value)> {
    let value = serde_json::to_value(item).unwrap_or(Value::Null);
    let time_limit = value.get("time_limit");
    FIELDS
        .into_iter()
        .map(|field| {
            let v = match field {
                Field::LegalDays | Field::PromisedDays => time_limit.and_then(|t| t.get(field.key())),
                _ => value.get(field.key()),
            };
            (field, v.cloned().unwrap_or(Value::Null))
        })
        .collect()
}

fn has_control(value: &Value) -> bool {
    match value {
        Value::String(s) => s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
        Value::Array(values) => values.iter().any(has_control),
        Value::Object(fields) => fields.values().any(has_control),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::tests::food_licence;
    use proptest::prelude::*;

    fn fields_named(item: &PowerItem) -> Vec<Field> {
        sheet_faithful_errors(item).into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_sample_lists_are_faithful() {
        assert!(fields_named(&food_licence()).is_empty());
        for item in crate::sample::sample_list("泸县") {
            assert!(fields_named(&item).is_empty(), "{} {}", item.code, item.name);
        }
    }

    #[test]
    fn separators_inside_elements_are_named() {
        let mut item = food_licence();
        item.responsibilities = vec!["受理责任；审查责任".into()];
        item.remedies = vec!["行政复议\n行政诉讼".into()];
        assert_eq!(fields_named(&item), [Field::Responsibilities, Field::Remedies]);

        let mut item = food_licence();
        item.basis[0].article = "第八条;".into();
        assert_eq!(fields_named(&item), [Field::Basis]);

        let mut item = food_licence();
        item.basis[0].law = "《食品安全法》实施条例".into();
        assert_eq!(fields_named(&item), [Field::Basis]);
    }

    #[test]
    fn outer_spaces_and_empty_elements_are_named() {
        let mut item = food_licence();
        item.name = " 食品经营许可".into();
        item.supervision = vec![String::new()];
        assert_eq!(fields_named(&item), [Field::Name, Field::Supervision]);
    }

    #[test]
    fn control_characters_are_named_but_tabs_and_line_breaks_in_one_cell_are_kept() {
        let mut item = food_licence();
        item.implementing_body = "泸县市场\u{1}监督管理局".into();
        assert_eq!(sheet_faithful_errors(&item)[0].message, CONTROL);
        assert_eq!(fields_named(&item), [Field::ImplementingBody]);

        let mut item = food_licence();
        item.name = "食品经营许可\n（仅销售预包装食品）".into();
        assert!(fields_named(&item).is_empty());
    }

    #[test]
    fn an_invalid_item_is_left_to_validate() {
        let mut item = food_licence();
        item.name = String::new();
        assert!(fields_named(&item).is_empty());
    }

    proptest! {
        /// The rule is the round trip: an item it passes comes back from CSV unchanged, except
        /// for `status_reason`, which has no column.
        #[test]
        fn a_faithful_item_survives_the_csv_round_trip(
            responsibility in "[受理审查决定;；\n 《》a-z]{1,8}",
            article in "[第八条;；《》 ]{0,6}",
            step in "[受理→（），0-9个工作日 ]{1,10}",
        ) {
            let mut item = food_licence();
            item.responsibilities = vec![responsibility];
            item.basis[0].article = article;
            item.flow[0].step = step;
            if sheet_faithful_errors(&item).is_empty() {
                let back = parse_items(ImportFormat::Csv, items_to_csv(std::slice::from_ref(&item)).as_bytes());
                let mut back = back.expect("reads back").items.remove(0);
                back.status_reason.clone_from(&item.status_reason);
                prop_assert_eq!(back, item);
            }
        }
    }
}
