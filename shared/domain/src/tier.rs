//! Administrative tiers (层级): province, city, county, township.
//!
//! Owns the ordering of tiers and their Chinese/English names. Knows nothing about codes or
//! nodes; `division.rs` decides which tier a division code belongs to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the four tiers of government. Ordered from the top: `Province < City < County < Township`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Province,
    City,
    County,
    Township,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Province, Tier::City, Tier::County, Tier::Township];

    /// Stable lowercase English key, as used in config files, URLs and entries.
    pub fn key(self) -> &'static str {
        match self {
            Tier::Province => "province",
            Tier::City => "city",
            Tier::County => "county",
            Tier::Township => "township",
        }
    }

    /// Chinese label shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Tier::Province => "省",
            Tier::City => "市",
            Tier::County => "县",
            Tier::Township => "乡镇",
        }
    }

    /// The tier directly above, if any.
    pub fn parent(self) -> Option<Tier> {
        match self {
            Tier::Province => None,
            Tier::City => Some(Tier::Province),
            Tier::County => Some(Tier::City),
            Tier::Township => Some(Tier::County),
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The text was not a tier name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知层级 “{0}”，应为 province/city/county/township 或 省/市/县/乡镇 / unknown tier")]
pub struct UnknownTier(pub String);

impl FromStr for Tier {
    type Err = UnknownTier;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "province" | "省" | "省级" => Ok(Tier::Province),
            "city" | "市" | "市级" => Ok(Tier::City),
            "county" | "县" | "县级" | "区" | "县（市、区）" => Ok(Tier::County),
            "township" | "乡镇" | "乡" | "镇" | "街道" | "乡镇（街道）" => Ok(Tier::Township),
            other => Err(UnknownTier(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_ordered_top_down() {
        assert!(Tier::Province < Tier::City);
        assert!(Tier::City < Tier::County);
        assert!(Tier::County < Tier::Township);
        assert_eq!(Tier::Township.parent(), Some(Tier::County));
        assert_eq!(Tier::Province.parent(), None);
    }

    #[test]
    fn tiers_parse_from_chinese_and_english() {
        for t in Tier::ALL {
            assert_eq!(t.key().parse::<Tier>().unwrap(), t);
            assert_eq!(t.label().parse::<Tier>().unwrap(), t);
        }
        assert!("村".parse::<Tier>().is_err());
    }
}
