//! Item codes (事项编码, GB/T 39554.1-2020 shapes) and unified social credit codes
//! (统一社会信用代码, GB 32100-2015).
//!
//! Owns parsing and checking of code shapes. A basic code is 2 category letters + 5-digit main
//! item + 3-digit sub item (`XK00035000`); an implementation code appends the level digit, the
//! division code and the implementing body's credit code (`XK00035000-4-510521-<18 chars>`,
//! hyphens optional). Codes of other shapes are a province's legacy codes: accepted with a
//! warning, never refused for their shape alone.

use std::fmt;

use serde::Serialize;

use crate::category::Category;
use crate::division::DivisionCode;

/// The parsed shape of an item code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemCode {
    /// 基本编码.
    Basic { letters: String, main: String, sub: String },
    /// 实施编码: basic code + who implements it.
    Implementation {
        letters: String,
        main: String,
        sub: String,
        level: u8,
        division: DivisionCode,
        credit_code: String,
    },
    /// Any other non-empty code without spaces: a legacy or provincial code.
    Legacy(String),
}

/// A code that has the GB/T 39554.1 shape but breaks its rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("事项编码为空 / code is empty")]
    Empty,
    #[error("事项编码 “{0}” 含有空白字符 / code contains white space")]
    Whitespace(String),
    #[error(
        "事项编码 “{code}” 的类别字母 {letters} 与职权类别“{category}”（应为 {expected}）不符 / category letters do not match the category"
    )]
    LettersMismatch { code: String, letters: String, category: &'static str, expected: &'static str },
    #[error("实施编码 “{code}” 无效：{reason} / invalid implementation code")]
    Implementation { code: String, reason: String },
}

/// A code accepted but not in the national shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeWarning {
    pub code: String,
    pub message: String,
}

impl fmt::Display for CodeWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn is_upper_letters(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

impl ItemCode {
    /// Parses a code. Fails only for an empty code, white space, or a code that starts like an
    /// implementation code but is malformed; anything else unfamiliar is `Legacy`.
    pub fn parse(text: &str) -> Result<ItemCode, CodeError> {
        if text.is_empty() {
            return Err(CodeError::Empty);
        }
        if text.chars().any(char::is_whitespace) {
            return Err(CodeError::Whitespace(text.to_string()));
        }
        let compact: String = text.chars().filter(|&c| c != '-').collect();
        if compact.len() < 10 || !compact.is_ascii() {
            return Ok(ItemCode::Legacy(text.to_string()));
        }
        let (letters, main, sub) = (&compact[..2], &compact[2..7], &compact[7..10]);
        if !(is_upper_letters(letters) && is_digits(main, 5) && is_digits(sub, 3))
            || Category::from_letters(letters).is_none()
        {
            return Ok(ItemCode::Legacy(text.to_string()));
        }
        let rest = &compact[10..];
        if rest.is_empty() {
            return Ok(ItemCode::Basic { letters: letters.into(), main: main.into(), sub: sub.into() });
        }
        let bad = |reason: &str| CodeError::Implementation { code: text.to_string(), reason: reason.to_string() };
        // level (1 digit) + division (6 or 9 digits) + credit code (18).
        let level = rest.as_bytes()[0];
        if !(b'1'..=b'5').contains(&level) {
            return Err(bad("层级位应为 1–5 / level digit must be 1–5"));
        }
        let after = &rest[1..];
        let div_len = match after.len() {
            24 => 6,
            27 => 9,
            _ => return Err(bad("长度不符 / wrong length")),
        };
        let division = DivisionCode::parse(&after[..div_len]).map_err(|e| bad(&e.to_string()))?;
        let credit = &after[div_len..];
        validate_credit_code(credit).map_err(|e| bad(&e.to_string()))?;
        Ok(ItemCode::Implementation {
            letters: letters.into(),
            main: main.into(),
            sub: sub.into(),
            level: level - b'0',
            division,
            credit_code: credit.to_string(),
        })
    }

    /// The basic code (基本编码) part, if the code has the national shape.
    pub fn basic(&self) -> Option<String> {
        match self {
            ItemCode::Basic { letters, main, sub } | ItemCode::Implementation { letters, main, sub, .. } => {
                Some(format!("{letters}{main}{sub}"))
            }
            ItemCode::Legacy(_) => None,
        }
    }

    /// Checks that the category letters match `category`. A legacy code passes with a warning.
    pub fn check_category(&self, category: Category) -> Result<Option<CodeWarning>, CodeError> {
        match self {
            ItemCode::Basic { letters, .. } | ItemCode::Implementation { letters, .. } => {
                if letters == category.letters() {
                    Ok(None)
                } else {
                    Err(CodeError::LettersMismatch {
                        code: self.to_string(),
                        letters: letters.clone(),
                        category: category.label(),
                        expected: category.letters(),
                    })
                }
            }
            ItemCode::Legacy(code) => Ok(Some(CodeWarning {
                code: code.clone(),
                message: format!(
                    "事项编码 “{code}” 不是国家标准（GB/T 39554.1）格式，按原样接收 / legacy code shape accepted as is"
                ),
            })),
        }
    }
}

impl fmt::Display for ItemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemCode::Basic { letters, main, sub } => write!(f, "{letters}{main}{sub}"),
            ItemCode::Implementation { letters, main, sub, level, division, credit_code } => {
                write!(f, "{letters}{main}{sub}-{level}-{division}-{credit_code}")
            }
            ItemCode::Legacy(s) => f.write_str(s),
        }
    }
}

/// The 31 characters of credit codes, in value order (no I, O, S, V, Z).
const CREDIT_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A unified social credit code that breaks GB 32100.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("统一社会信用代码 “{0}” 应为 18 位 / must be 18 characters")]
    Length(String),
    #[error("统一社会信用代码 “{0}” 含有不允许的字符 “{1}” / character not allowed")]
    Character(String, char),
    #[error("统一社会信用代码 “{0}” 校验位错误，应为 “{1}” / check character wrong")]
    Check(String, char),
}

/// The check character for the first 17 characters of a credit code.
pub fn credit_check_char(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    for (i, b) in first17.bytes().enumerate() {
        let v = CREDIT_ALPHABET.iter().position(|&c| c == b)? as u32;
        sum += v * CREDIT_WEIGHTS.get(i)?;
    }
    let check = (31 - sum % 31) % 31;
    Some(CREDIT_ALPHABET[check as usize] as char)
}

/// Validates a unified social credit code (GB 32100-2015).
pub fn validate_credit_code(code: &str) -> Result<(), CreditCodeError> {
    if code.chars().count() != 18 {
        return Err(CreditCodeError::Length(code.to_string()));
    }
    if let Some(c) = code.chars().find(|c| !c.is_ascii() || !CREDIT_ALPHABET.contains(&(*c as u8))) {
        return Err(CreditCodeError::Character(code.to_string(), c));
    }
    let expected = credit_check_char(&code[..17]).ok_or_else(|| CreditCodeError::Length(code.to_string()))?;
    if code.as_bytes()[17] as char != expected {
        return Err(CreditCodeError::Check(code.to_string(), expected));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn with_check(first17: &str) -> String {
        format!("{first17}{}", credit_check_char(first17).unwrap())
    }

    #[test]
    fn basic_codes_parse_and_match_their_category() {
        let code = ItemCode::parse("XK00035000").unwrap();
        assert_eq!(code.basic().unwrap(), "XK00035000");
        assert_eq!(code.check_category(Category::Licensing), Ok(None));
        assert!(matches!(code.check_category(Category::Penalty), Err(CodeError::LettersMismatch { .. })));
    }

    #[test]
    fn implementation_codes_parse_with_or_without_hyphens() {
        let credit = with_check("11510521MB0000001");
        let text = format!("CF00012001-4-510521-{credit}");
        let code = ItemCode::parse(&text).unwrap();
        assert!(matches!(&code, ItemCode::Implementation { level: 4, .. }));
        assert_eq!(code.to_string(), text);
        assert_eq!(ItemCode::parse(&text.replace('-', "")).unwrap(), code);
        assert!(matches!(
            ItemCode::parse(&format!("CF00012001-9-510521-{credit}")),
            Err(CodeError::Implementation { .. })
        ));
    }

    #[test]
    fn legacy_codes_are_accepted_with_a_warning() {
        for legacy in ["510500-XK-001", "0100100000", "川XK001", "XZXK-0001"] {
            let code = ItemCode::parse(legacy).unwrap();
            assert!(matches!(code, ItemCode::Legacy(_)), "{legacy}");
            assert!(code.check_category(Category::Licensing).unwrap().is_some());
        }
        assert_eq!(ItemCode::parse(""), Err(CodeError::Empty));
        assert!(matches!(ItemCode::parse("XK 001"), Err(CodeError::Whitespace(_))));
    }

    #[test]
    fn credit_codes_follow_gb_32100() {
        // A published code of a government body (check character computed by the rule).
        let good = with_check("11510500MB1537468");
        assert_eq!(validate_credit_code(&good), Ok(()));
        assert!(matches!(validate_credit_code("11510500MB153746"), Err(CreditCodeError::Length(_))));
        assert!(matches!(validate_credit_code("11510500MB1537I68X"), Err(CreditCodeError::Character(_, 'I'))));
        let mut wrong = good.clone();
        let last = if good.ends_with('0') { '1' } else { '0' };
        wrong.replace_range(17.., &last.to_string());
        assert!(matches!(validate_credit_code(&wrong), Err(CreditCodeError::Check(..))));
    }

    #[test]
    fn a_real_enterprise_credit_code_checks() {
        // 91350100M000100Y43 is the standard's own worked example.
        assert_eq!(validate_credit_code("91350100M000100Y43"), Ok(()));
    }

    proptest! {
        #[test]
        fn any_17_chars_plus_check_is_valid_and_any_other_check_is_not(idx in prop::collection::vec(0usize..31, 17), other in 0usize..31) {
            let first: String = idx.iter().map(|&i| CREDIT_ALPHABET[i] as char).collect();
            let code = with_check(&first);
            prop_assert!(validate_credit_code(&code).is_ok());
            let alt = CREDIT_ALPHABET[other] as char;
            if alt != code.chars().last().unwrap() {
                let altered = format!("{first}{alt}");
                prop_assert!(validate_credit_code(&altered).is_err());
            }
        }

        #[test]
        fn parsing_arbitrary_codes_never_panics(s in "\\PC{0,40}") {
            let _ = ItemCode::parse(&s);
        }
    }
}
