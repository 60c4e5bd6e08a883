//! Label sets, their stable fingerprint, and label matchers (`name="v"`, `name!="v"`,
//! `name=~"a|b*"` where `|` separates alternatives and `*` is a wildcard).

use crate::error::AlertsError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Labels of a sample or an alert, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// A stable 64-bit FNV-1a fingerprint of a label set, as 16 hex digits.
pub(crate) fn fingerprint(labels: &Labels) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in labels {
        for b in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xfe]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// How a matcher compares a label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchOp {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    NotEq,
    /// Any of `|`-separated patterns; `*` matches any run of characters.
    #[serde(rename = "=~")]
    Like,
}

/// One label matcher. A missing label compares as the empty string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
}

impl Matcher {
    /// Parses `name="value"`, `name!="value"` or `name=~"a|b*"` (quotes optional).
    pub(crate) fn parse(s: &str) -> Result<Self, AlertsError> {
        let bad = |reason| AlertsError::BadMatcher {
            matcher: s.to_string(),
            reason,
        };
        let (name, op, rest) = if let Some(i) = s.find("!=") {
            (&s[..i], MatchOp::NotEq, &s[i + 2..])
        } else if let Some(i) = s.find("=~") {
            (&s[..i], MatchOp::Like, &s[i + 2..])
        } else if let Some(i) = s.find('=') {
            (&s[..i], MatchOp::Eq, &s[i + 1..])
        } else {
            return Err(bad("expected `=`, `!=` or `=~`"));
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad("label name must be letters, digits or `_`"));
        }
        let rest = rest.trim();
        let value = if rest.len() >= 2 && rest.starts_with('"') && rest.ends_with('"') {
            &rest[1..rest.len() - 1]
        } else if rest.contains('"') {
            return Err(bad("unbalanced quotes"));
        } else {
            rest
        };
        Ok(Self {
            name: name.into(),
            op,
            value: value.into(),
        })
    }

    pub(crate) fn matches(&self, labels: &Labels) -> bool {
        let v = labels.get(&self.name).map(String::as_str).unwrap_or("");
        match self.op {
            MatchOp::Eq => v == self.value,
            MatchOp::NotEq => v != self.value,
            MatchOp::Like => self.value.split('|').any(|p| glob(p, v)),
        }
    }
}

/// All matchers match.
pub(crate) fn matches_all(matchers: &[Matcher], labels: &Labels) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

/// Parses a list of matcher strings; the error names the index.
pub(crate) fn parse_all(field: &str, list: &[String]) -> Result<Vec<Matcher>, AlertsError> {
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            Matcher::parse(s)
                .map_err(|e| crate::error::bad_config(format!("{field}[{i}]"), e.to_string()))
        })
        .collect()
}

/// `*` matches any run of characters; everything else literally.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_and_matches() {
        let m = Matcher::parse("zone=\"hz\"").unwrap();
        assert!(m.matches(&l(&[("zone", "hz")])));
        assert!(!m.matches(&l(&[("zone", "sh")])));
        let m = Matcher::parse("service!=ledger").unwrap();
        assert!(m.matches(&l(&[])));
        let m = Matcher::parse("bank=~\"icbc|ab*\"").unwrap();
        assert!(m.matches(&l(&[("bank", "abc")])));
        assert!(m.matches(&l(&[("bank", "icbc")])));
        assert!(!m.matches(&l(&[("bank", "boc")])));
        for bad in ["", "zone", "=x", "a b=c", "x=\"y"] {
            assert!(Matcher::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob("*", ""));
        assert!(glob("bank:*", "bank:icbc"));
        assert!(glob("*:icbc", "bank:icbc"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxc"));
        assert!(!glob("ab*ba", "aba"));
    }

    #[test]
    fn fingerprint_is_stable_and_distinct() {
        let a = l(&[("a", "1"), ("b", "2")]);
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
        assert_ne!(fingerprint(&a), fingerprint(&l(&[("a", "12")])));
        assert_eq!(fingerprint(&a).len(), 16);
    }
}
