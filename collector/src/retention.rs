//! Retention settings as people write them: ages (`30m`, `6h`, `7d`) and sizes
//! (`500MiB`, `20GiB`, `1GB`). Parsing only; the embedded store applies them to
//! whole segments and the pipeline to the records it admits.

/// Default age kept: 7 days.
pub const DEFAULT_AGE_S: u64 = 7 * 86_400;
/// Default bytes kept on disk: 20 GiB.
pub const DEFAULT_BYTES: u64 = 20 << 30;

/// How long and how much the collector keeps: ages by arrival on disk, and the
/// records' own age at admission (older ones are acknowledged, counted, not stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// `None`: every age is kept.
    pub max_age_s: Option<u64>,
    /// Bytes of segment files, at most; `None`: no cap.
    pub max_bytes: Option<u64>,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_age_s: Some(DEFAULT_AGE_S),
            max_bytes: Some(DEFAULT_BYTES),
        }
    }
}

impl Retention {
    /// Sets the pipeline's admission cutoff and the embedded store's limits.
    pub fn apply(&self, pipeline: &mut crate::PipelineConfig, store: &mut crate::EmbeddedConfig) {
        pipeline.retention_s = self.max_age_s;
        store.max_age_s = self.max_age_s;
        store.max_bytes = self.max_bytes;
    }
}

/// A retention value that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason} (got `{value}`)")]
pub struct RetentionError {
    /// The setting, e.g. `--retention` or `[collector] retention`.
    pub field: String,
    pub value: String,
    pub reason: String,
}

fn split_number(s: &str) -> Option<(u64, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n = s[..end].parse::<u64>().ok()?;
    Some((n, s[end..].trim()))
}

/// Seconds in an age such as `90s`, `30m`, `6h`, `7d` or `2w` (a unit is required; more than 0).
pub fn parse_age_s(field: &str, value: &str) -> Result<u64, RetentionError> {
    let err = |reason: &str| RetentionError {
        field: field.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let (n, unit) = split_number(value.trim())
        .ok_or_else(|| err("expected a number and a unit (s, m, h, d, w), e.g. `7d`"))?;
    let per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "" => return Err(err("a unit is needed (s, m, h, d, w), e.g. `7d`")),
        _ => return Err(err("unknown unit; use s, m, h, d or w")),
    };
    match n.checked_mul(per) {
        Some(0) => Err(err("must be more than 0")),
        Some(s) => Ok(s),
        None => Err(err("too large")),
    }
}

/// Bytes in a size such as `4096`, `500MiB`, `20GiB`, `1GB`, `2TiB` (more than 0).
pub fn parse_bytes(field: &str, value: &str) -> Result<u64, RetentionError> {
    let err = |reason: &str| RetentionError {
        field: field.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let (n, unit) = split_number(value.trim())
        .ok_or_else(|| err("expected a number and an optional unit (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB), e.g. `20GiB`"))?;
    let per: u64 = match unit {
        "" | "B" => 1,
        "KiB" | "K" => 1 << 10,
        "MiB" | "M" => 1 << 20,
        "GiB" | "G" => 1 << 30,
        "TiB" | "T" => 1 << 40,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        _ => {
            return Err(err(
                "unknown unit; use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB",
            ))
        }
    };
    match n.checked_mul(per) {
        Some(0) => Err(err("must be more than 0")),
        Some(b) => Ok(b),
        None => Err(err("too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_sizes_parse_and_bad_values_name_the_field() {
        assert_eq!(parse_age_s("f", "30m"), Ok(1800));
        assert_eq!(parse_age_s("f", "6h"), Ok(21_600));
        assert_eq!(parse_age_s("f", " 7d "), Ok(604_800));
        assert_eq!(parse_bytes("f", "20GiB"), Ok(20 << 30));
        assert_eq!(parse_bytes("f", "1GB"), Ok(1_000_000_000));
        assert_eq!(parse_bytes("f", "4096"), Ok(4096));
        for bad in ["", "7", "7x", "d", "-1d", "0h", "99999999999999999999d"] {
            let e = parse_age_s("--retention", bad).unwrap_err();
            assert!(e.to_string().starts_with("--retention: "), "{e}");
        }
        for bad in ["", "GiB", "20 parsecs", "0", "1.5GiB"] {
            let e = parse_bytes("[collector] retention_bytes", bad).unwrap_err();
            assert!(
                e.to_string().starts_with("[collector] retention_bytes: "),
                "{e}"
            );
        }
    }
}
