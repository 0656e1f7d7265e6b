//! Value types that cannot hold bad data: each is checked when parsed, and serde parses through
//! the same check, so a stored or received value is valid wherever it appears.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("{0:?} is not a GP practice ODS code (one letter and five digits, e.g. Z00011)")]
    PracticeCode(String),
    #[error("{0:?} is not a PCN code (U and five digits, e.g. U10001)")]
    PcnCode(String),
    #[error("{0:?} is not a Directory of Services id (1 to 12 digits, e.g. 2000012345)")]
    DosServiceId(String),
    #[error("list size must be a whole number above 0, not {0}")]
    ListSize(i64),
    #[error("a slot count must be a whole number from 0 to 10000, not {0}")]
    SlotCount(i64),
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters (this is {actual})")]
    TooLong { max: usize, actual: usize },
    #[error("must not contain control characters")]
    ControlCharacter,
    #[error("at least one change is needed")]
    NoChanges,
}

/// The GMS contract's 111 requirement: one slot a day per whole 3,000 patients, at least one.
pub fn required_slots(list_size: ListSize) -> u32 {
    (list_size.get() / 3000).max(1)
}

macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident, $parse:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, ValueError> {
                let parse: fn(&str) -> Result<String, ValueError> = $parse;
                parse(value).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(value: String) -> Result<Self, ValueError> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_value!(
    /// A GP practice's ODS code: one letter and five digits (`Z00011`), upper-cased.
    OdsCode,
    |value| coded(value, |c| c.is_ascii_alphabetic()).ok_or_else(|| ValueError::PracticeCode(value.to_string()))
);

string_value!(
    /// A Primary Care Network's code: `U` and five digits (`U10001`).
    PcnCode,
    |value| coded(value, |c| c == 'U').ok_or_else(|| ValueError::PcnCode(value.to_string()))
);

string_value!(
    /// A service's id on NHS 111's Directory of Services: 1 to 12 digits (`2000012345`), a number:
    /// leading zeros dropped, so one service has one id.
    DosServiceId,
    |value| {
        let value = value.trim();
        (!value.is_empty() && value.len() <= 12 && value.bytes().all(|b| b.is_ascii_digit()))
            .then(|| match value.trim_start_matches('0') {
                "" => "0".to_string(),
                digits => digits.to_string(),
            })
            .ok_or_else(|| ValueError::DosServiceId(value.to_string()))
    }
);

string_value!(
    /// A name, code or reference: 1 to 200 characters, trimmed, no control characters.
    ShortText,
    |value| text(value, 200, false)
);

string_value!(
    /// Free text (notes, summaries, details): 1 to 2,000 characters, trimmed; line breaks and
    /// tabs allowed, other control characters not.
    FreeText,
    |value| text(value, 2000, true)
);

impl FreeText {
    /// `None` for an absent or blank value.
    pub fn parse_optional(value: Option<&str>) -> Result<Option<Self>, ValueError> {
        value.filter(|v| !v.trim().is_empty()).map(Self::parse).transpose()
    }
}

impl ShortText {
    /// `None` for an absent or blank value.
    pub fn parse_optional(value: Option<&str>) -> Result<Option<Self>, ValueError> {
        value.filter(|v| !v.trim().is_empty()).map(Self::parse).transpose()
    }

    /// Text from another system, made to fit: control characters become spaces and anything past
    /// 200 characters is cut (with an ellipsis). `None` when nothing is left.
    pub fn lossy(value: &str) -> Option<Self> {
        let cleaned: String = value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let cleaned = cleaned.trim();
        let text = if cleaned.chars().count() > 200 {
            let cut: String = cleaned.chars().take(199).collect();
            format!("{}…", cut.trim_end())
        } else {
            cleaned.to_string()
        };
        Self::parse(&text).ok()
    }
}

fn coded(value: &str, first_ok: fn(char) -> bool) -> Option<String> {
    let value = value.trim().to_ascii_uppercase();
    let mut chars = value.chars();
    let first = chars.next()?;
    (value.len() == 6 && first_ok(first) && chars.all(|c| c.is_ascii_digit())).then_some(value)
}

fn text(value: &str, max: usize, multiline: bool) -> Result<String, ValueError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ValueError::Empty);
    }
    let actual = value.chars().count();
    if actual > max {
        return Err(ValueError::TooLong { max, actual });
    }
    let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'));
    if !value.chars().all(allowed) {
        return Err(ValueError::ControlCharacter);
    }
    Ok(value.to_string())
}

/// Registered patients: a whole number above 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct ListSize(u32);

impl ListSize {
    pub fn new(value: i64) -> Result<Self, ValueError> {
        u32::try_from(value)
            .ok()
            .filter(|v| *v > 0)
            .map(Self)
            .ok_or(ValueError::ListSize(value))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for ListSize {
    type Error = ValueError;
    fn try_from(value: i64) -> Result<Self, ValueError> {
        Self::new(value)
    }
}

impl From<ListSize> for i64 {
    fn from(value: ListSize) -> i64 {
        i64::from(value.0)
    }
}

/// Appointment slots a day: 0 to 10,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct SlotCount(u32);

impl SlotCount {
    pub const MAX: u32 = 10_000;

    pub fn new(value: i64) -> Result<Self, ValueError> {
        u32::try_from(value)
            .ok()
            .filter(|v| *v <= Self::MAX)
            .map(Self)
            .ok_or(ValueError::SlotCount(value))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for SlotCount {
    type Error = ValueError;
    fn try_from(value: i64) -> Result<Self, ValueError> {
        Self::new(value)
    }
}

impl From<SlotCount> for i64 {
    fn from(value: SlotCount) -> i64 {
        i64::from(value.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn required(list_size: i64) -> u32 {
        required_slots(ListSize::new(list_size).unwrap())
    }

    #[test]
    fn required_slots_is_one_per_whole_three_thousand_and_at_least_one() {
        assert_eq!(required(2_000), 1);
        assert_eq!(required(3_000), 1);
        assert_eq!(required(5_823), 1);
        assert_eq!(required(6_000), 2);
        assert_eq!(required(9_027), 3);
    }

    #[test]
    fn ods_codes_are_one_letter_and_five_digits() {
        assert_eq!(OdsCode::parse(" z00011 ").unwrap().as_str(), "Z00011");
        for bad in ["", "12345", "Z0001", "Z000111", "ZZ0001", "Z0001X", "NOT-A-CODE"] {
            assert!(OdsCode::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(PcnCode::parse("U10001").unwrap().as_str(), "U10001");
        assert!(PcnCode::parse("Z10001").is_err());
    }

    #[test]
    fn counts_reject_what_cannot_be_true() {
        assert!(ListSize::new(0).is_err());
        assert!(ListSize::new(-5).is_err());
        assert_eq!(ListSize::new(1).unwrap().get(), 1);
        assert!(SlotCount::new(-1).is_err());
        assert!(SlotCount::new(10_001).is_err());
        assert_eq!(SlotCount::new(0).unwrap().get(), 0);
    }

    #[test]
    fn text_is_bounded_trimmed_and_free_of_control_characters() {
        assert_eq!(FreeText::parse("  hello  ").unwrap().as_str(), "hello");
        assert_eq!(FreeText::parse(""), Err(ValueError::Empty));
        assert_eq!(
            FreeText::parse(&"x".repeat(2001)),
            Err(ValueError::TooLong {
                max: 2000,
                actual: 2001
            })
        );
        assert!(FreeText::parse("line one\nline two").is_ok());
        assert_eq!(FreeText::parse("bell\u{7}"), Err(ValueError::ControlCharacter));
        assert_eq!(ShortText::parse("two\nlines"), Err(ValueError::ControlCharacter));
        assert_eq!(FreeText::parse_optional(Some("   ")), Ok(None));
    }

    #[test]
    fn serde_parses_through_the_same_checks() {
        assert!(serde_json::from_str::<OdsCode>("\"12345\"").is_err());
        assert!(serde_json::from_str::<ListSize>("0").is_err());
        assert_eq!(
            serde_json::to_string(&OdsCode::parse("Z00011").unwrap()).unwrap(),
            "\"Z00011\""
        );
    }
}
