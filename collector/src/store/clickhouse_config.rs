//! [`ClickHouseConfig`]: where the ClickHouse store writes, checked field by
//! field.

use super::StoreError;

/// Where the store writes. TOML/JSON keys are the field names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClickHouseConfig {
    /// HTTP interface, e.g. `http://127.0.0.1:8123`.
    pub url: String,
    /// Database name (created if missing): letters, digits and `_` only.
    #[serde(default = "default_database")]
    pub database: String,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Any one operation taking longer than this fails as `Unavailable`
    /// (a hung server must not stall the pipeline forever).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    30_000
}

fn default_database() -> String {
    "warroom".to_string()
}

impl ClickHouseConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            database: default_database(),
            user: None,
            password: None,
            timeout_ms: default_timeout_ms(),
        }
    }

    /// Checks the fields; the error names the bad one.
    pub fn validate(&self) -> Result<(), StoreError> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(StoreError::Refused(format!(
                "clickhouse `url` must start with http:// or https://, got {:?}",
                self.url
            )));
        }
        let db_ok = !self.database.is_empty()
            && self.database.len() <= 64
            && self
                .database
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !self.database.as_bytes()[0].is_ascii_digit();
        if !db_ok {
            return Err(StoreError::Refused(format!(
                "clickhouse `database` must be letters, digits and `_` (not starting with a digit), got {:?}",
                self.database
            )));
        }
        if self.timeout_ms == 0 {
            return Err(StoreError::Refused(
                "clickhouse `timeout_ms` must be above 0".into(),
            ));
        }
        Ok(())
    }
}
