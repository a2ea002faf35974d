//! Administrative division codes (行政区划代码, GB/T 2260; township codes from the statistical
//! division codes).
//!
//! Owns the shape rules: 6 digits for province (`xx0000`), city (`xxxx00`) and county; 9 digits
//! for township. A division code is also a node's identity in the federation, so it is validated
//! strictly before it is used anywhere (never as a path without passing through here).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::tier::Tier;

/// A validated division code. The tier it denotes follows from its shape.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct DivisionCode(String);

/// Why a text is not a valid division code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DivisionError {
    #[error("行政区划代码 “{0}” 应为 6 位（省、市、县）或 9 位（乡镇）数字 / division code must be 6 or 9 digits")]
    Shape(String),
    #[error("行政区划代码 “{0}” 的省级代码 {1} 不存在 / no such province prefix")]
    Province(String, String),
    #[error("行政区划代码 “{code}” 是{actual}级代码，与层级“{expected}”不符 / code denotes tier {actual_key}, not {expected_key}", actual = .actual.label(), expected = .expected.label(), actual_key = .actual.key(), expected_key = .expected.key())]
    TierMismatch { code: String, actual: Tier, expected: Tier },
    #[error("行政区划代码 “{0}” 的县级或乡镇部分为 0 / county or township part is zero")]
    Zero(String),
}

/// The two-digit province prefixes in use (GB/T 2260: 11–15, 21–23, 31–37, 41–46, 50–54,
/// 61–65, 71, 81, 82).
fn is_province_prefix(p: u32) -> bool {
    matches!(p, 11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81 | 82)
}

impl DivisionCode {
    /// Parses and validates a code of any tier.
    pub fn parse(s: &str) -> Result<Self, DivisionError> {
        let s = s.trim();
        if !(s.len() == 6 || s.len() == 9) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DivisionError::Shape(s.to_string()));
        }
        let prefix: u32 = s[..2].parse().map_err(|_| DivisionError::Shape(s.to_string()))?;
        if !is_province_prefix(prefix) {
            return Err(DivisionError::Province(s.to_string(), s[..2].to_string()));
        }
        if s.len() == 9 && (&s[4..6] == "00" || &s[6..9] == "000") {
            return Err(DivisionError::Zero(s.to_string()));
        }
        if s.len() == 6 && &s[2..4] == "00" && &s[4..6] != "00" {
            // e.g. 510021: a county part under no city part.
            return Err(DivisionError::Zero(s.to_string()));
        }
        Ok(DivisionCode(s.to_string()))
    }

    /// Parses a code and checks that it denotes `tier`.
    pub fn parse_for(s: &str, tier: Tier) -> Result<Self, DivisionError> {
        let code = Self::parse(s)?;
        code.check_tier(tier)?;
        Ok(code)
    }

    /// Fails unless this code denotes `tier`.
    pub fn check_tier(&self, tier: Tier) -> Result<(), DivisionError> {
        if self.tier() == tier {
            Ok(())
        } else {
            Err(DivisionError::TierMismatch { code: self.0.clone(), actual: self.tier(), expected: tier })
        }
    }

    /// The tier this code denotes.
    pub fn tier(&self) -> Tier {
        let s = &self.0;
        if s.len() == 9 {
            Tier::Township
        } else if &s[2..6] == "0000" {
            Tier::Province
        } else if &s[4..6] == "00" {
            Tier::City
        } else {
            Tier::County
        }
    }

    /// The code of the division directly above, derived from the shape (a county's city, a
    /// township's county). Province-managed counties (省直管县) have no city part in reality;
    /// the federation records real parentage in enrolments, not here.
    pub fn parent(&self) -> Option<DivisionCode> {
        let s = &self.0;
        match self.tier() {
            Tier::Province => None,
            Tier::City => Some(DivisionCode(format!("{}0000", &s[..2]))),
            Tier::County => Some(DivisionCode(format!("{}00", &s[..4]))),
            Tier::Township => Some(DivisionCode(s[..6].to_string())),
        }
    }

    /// True when `self` lies in the subtree of `ancestor` (or is it).
    pub fn is_within(&self, ancestor: &DivisionCode) -> bool {
        let mut cur = Some(self.clone());
        while let Some(c) = cur {
            if &c == ancestor {
                return true;
            }
            cur = c.parent();
        }
        false
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DivisionCode {
    type Err = DivisionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for DivisionCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DivisionCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Described as the shape it must have; the province prefix and the tier are checked on use.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for DivisionCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("行政区划代码 / division code (GB/T 2260): 6 digits, or 9 for a township"))
            .pattern(Some("^[0-9]{6}([0-9]{3})?$"))
            .examples([serde_json::json!("510521")])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for DivisionCode {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tiers_follow_the_shape() {
        assert_eq!(DivisionCode::parse("510000").unwrap().tier(), Tier::Province);
        assert_eq!(DivisionCode::parse("510500").unwrap().tier(), Tier::City);
        assert_eq!(DivisionCode::parse("510521").unwrap().tier(), Tier::County);
        assert_eq!(DivisionCode::parse("510521100").unwrap().tier(), Tier::Township);
    }

    #[test]
    fn parents_walk_up_to_the_province() {
        let t = DivisionCode::parse("510521100").unwrap();
        assert_eq!(t.parent().unwrap().as_str(), "510521");
        assert_eq!(t.parent().unwrap().parent().unwrap().as_str(), "510500");
        assert!(t.is_within(&DivisionCode::parse("510000").unwrap()));
        assert!(!t.is_within(&DivisionCode::parse("500000").unwrap()));
    }

    #[test]
    fn bad_codes_are_refused() {
        for bad in ["51050", "5105000", "51050a", "990000", "", "510521000", "510021", " ５１０５００"] {
            assert!(DivisionCode::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn tier_mismatch_is_named() {
        let err = DivisionCode::parse_for("510521", Tier::City).unwrap_err();
        assert!(matches!(err, DivisionError::TierMismatch { actual: Tier::County, expected: Tier::City, .. }));
        assert!(err.to_string().contains("县"));
    }

    proptest! {
        #[test]
        fn valid_codes_round_trip_and_have_a_tier(p in prop::sample::select(vec![11u32, 32, 44, 51, 65]), c in 1u32..99, x in 1u32..99, t in 1u32..999) {
            for s in [format!("{p:02}0000"), format!("{p:02}{c:02}00"), format!("{p:02}{c:02}{x:02}"), format!("{p:02}{c:02}{x:02}{t:03}")] {
                let code = DivisionCode::parse(&s).unwrap();
                prop_assert_eq!(code.as_str(), s.as_str());
                prop_assert!(code.check_tier(code.tier()).is_ok());
                if let Some(parent) = code.parent() {
                    prop_assert!(parent.tier() < code.tier());
                    prop_assert!(code.is_within(&parent));
                }
            }
        }

        #[test]
        fn arbitrary_text_never_panics(s in ".{0,12}") {
            let _ = DivisionCode::parse(&s);
        }
    }
}
