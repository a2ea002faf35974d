//! Categories of administrative powers (职权类别).
//!
//! Owns the eleven categories, their code letters (GB/T 39554.1: XK, CF, …) and the parsing of
//! the Chinese labels as real spreadsheets write them ("行政许可", "许可", "其他职权", …).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One of the eleven categories of DESIGN.md §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Licensing,
    Penalty,
    Coercion,
    Levy,
    Payment,
    Inspection,
    Confirmation,
    Reward,
    Adjudication,
    Other,
    PublicService,
}

impl Category {
    pub const ALL: [Category; 11] = [
        Category::Licensing,
        Category::Penalty,
        Category::Coercion,
        Category::Levy,
        Category::Payment,
        Category::Inspection,
        Category::Confirmation,
        Category::Reward,
        Category::Adjudication,
        Category::Other,
        Category::PublicService,
    ];

    /// Stable English key used in entries and the API.
    pub fn key(self) -> &'static str {
        match self {
            Category::Licensing => "licensing",
            Category::Penalty => "penalty",
            Category::Coercion => "coercion",
            Category::Levy => "levy",
            Category::Payment => "payment",
            Category::Inspection => "inspection",
            Category::Confirmation => "confirmation",
            Category::Reward => "reward",
            Category::Adjudication => "adjudication",
            Category::Other => "other",
            Category::PublicService => "public_service",
        }
    }

    /// The official Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Category::Licensing => "行政许可",
            Category::Penalty => "行政处罚",
            Category::Coercion => "行政强制",
            Category::Levy => "行政征收",
            Category::Payment => "行政给付",
            Category::Inspection => "行政检查",
            Category::Confirmation => "行政确认",
            Category::Reward => "行政奖励",
            Category::Adjudication => "行政裁决",
            Category::Other => "其他行政权力",
            Category::PublicService => "公共服务",
        }
    }

    /// The two-letter category code of item basic codes (基本编码).
    pub fn letters(self) -> &'static str {
        match self {
            Category::Licensing => "XK",
            Category::Penalty => "CF",
            Category::Coercion => "QZ",
            Category::Levy => "ZS",
            Category::Payment => "JF",
            Category::Inspection => "JC",
            Category::Confirmation => "QR",
            Category::Reward => "JL",
            Category::Adjudication => "CJ",
            Category::Other => "QT",
            Category::PublicService => "GG",
        }
    }

    /// The category whose code letters are `letters`, if any.
    pub fn from_letters(letters: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.letters() == letters)
    }

    /// Approval (审批) items are licensing items; the other ten categories are non-approval.
    pub fn is_approval(self) -> bool {
        self == Category::Licensing
    }
}

/// The text names no known category.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "未知职权类别 “{0}”，应为行政许可、行政处罚、行政强制、行政征收、行政给付、行政检查、行政确认、行政奖励、行政裁决、其他行政权力或公共服务 / unknown category"
)]
pub struct UnknownCategory(pub String);

impl FromStr for Category {
    type Err = UnknownCategory;

    /// Accepts the official label, the short label without "行政", common variants seen in
    /// published lists, the English key and the two code letters.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let t = t.trim_end_matches(['类', '：', ':']);
        let found = match t {
            "行政许可" | "许可" => Category::Licensing,
            "行政处罚" | "处罚" => Category::Penalty,
            "行政强制" | "强制" | "行政强制措施" | "行政强制执行" => Category::Coercion,
            "行政征收" | "征收" | "行政征收征用" | "行政征用" => Category::Levy,
            "行政给付" | "给付" => Category::Payment,
            "行政检查" | "检查" | "行政监督检查" | "监督检查" => Category::Inspection,
            "行政确认" | "确认" => Category::Confirmation,
            "行政奖励" | "奖励" => Category::Reward,
            "行政裁决" | "裁决" => Category::Adjudication,
            "其他行政权力" | "其他权力" | "其他职权" | "其他" | "其它行政权力" | "其它职权" | "其他行政职权" => {
                Category::Other
            }
            "公共服务" | "基本公共服务" | "公共服务事项" => Category::PublicService,
            other => {
                let lower = other.to_ascii_lowercase();
                if let Some(c) = Category::ALL.into_iter().find(|c| c.key() == lower) {
                    c
                } else if let Some(c) = Category::from_letters(&other.to_ascii_uppercase()) {
                    c
                } else {
                    return Err(UnknownCategory(s.trim().to_string()));
                }
            }
        };
        Ok(found)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl Serialize for Category {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Described by its keys (what the API writes); a request may also use the Chinese labels.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Category {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("职权类别 / category: its key, or its Chinese label (行政许可, 许可, …) in a request"))
            .enum_values(Some(Category::ALL.map(Category::key)))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Category {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_keys_and_letters_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.label().parse::<Category>().unwrap(), c);
            assert_eq!(c.key().parse::<Category>().unwrap(), c);
            assert_eq!(c.letters().parse::<Category>().unwrap(), c);
            assert_eq!(Category::from_letters(c.letters()), Some(c));
        }
    }

    #[test]
    fn spreadsheet_variants_parse() {
        assert_eq!("许可".parse::<Category>().unwrap(), Category::Licensing);
        assert_eq!("其他职权".parse::<Category>().unwrap(), Category::Other);
        assert_eq!("基本公共服务".parse::<Category>().unwrap(), Category::PublicService);
        assert_eq!(" 行政 处罚 ".parse::<Category>().unwrap(), Category::Penalty);
        assert_eq!("行政强制措施".parse::<Category>().unwrap(), Category::Coercion);
    }

    #[test]
    fn unknown_categories_are_refused_with_the_text() {
        let err = "行政备案".parse::<Category>().unwrap_err();
        assert!(err.to_string().contains("行政备案"));
    }

    #[test]
    fn serde_uses_the_english_key_and_reads_labels() {
        assert_eq!(serde_json::to_string(&Category::PublicService).unwrap(), "\"public_service\"");
        let c: Category = serde_json::from_str("\"行政许可\"").unwrap();
        assert_eq!(c, Category::Licensing);
    }
}
