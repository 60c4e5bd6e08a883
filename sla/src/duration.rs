//! Durations as written in objectives files: `30s`, `5m`, `1h`, `6h`, `3d`
//! (a whole number and one unit), down to one second.

use crate::error::SlaError;

/// Parses `N{s|m|h|d}` into seconds; `field` names the setting in errors.
pub(crate) fn parse_secs(text: &str, field: &str) -> Result<u64, SlaError> {
    let t = text.trim();
    let bad = || {
        SlaError::Config(format!(
            "{field}: {text:?} is not a duration (a whole number and s, m, h or d, e.g. 5m)"
        ))
    };
    let (num, unit) = t.split_at(t.len().checked_sub(1).ok_or_else(bad)?);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    if n == 0 {
        return Err(SlaError::Config(format!("{field}: must be at least 1s")));
    }
    n.checked_mul(mult).ok_or_else(bad)
}

/// Formats seconds back into the shortest exact form.
pub(crate) fn format_secs(s: u64) -> String {
    if s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}
