//! The dashboard's config file (TOML, unknown fields refused): users with their roles
//! and password hashes, session lifetime, audit log path, extra allowed origins.
//!
//! ```toml
//! session_ttl_s = 43200
//! audit_log = ".warroom/audit.jsonl"
//! [[users]]
//! name = "ada"
//! role = "commander"            # viewer | commander | admin
//! password_hash = "pbkdf2-sha256$600000$<salt hex>$<hash hex>"
//! ```

use crate::auth::{PasswordHash, Role};
use crate::error::DashboardError;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::PathBuf;

/// The whole `[dashboard]` config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardConfig {
    /// Who may log in. At least one user.
    pub users: Vec<UserConfig>,
    /// How long a session lives without being used again, seconds (default 12 h).
    #[serde(default = "default_ttl")]
    pub session_ttl_s: u64,
    /// Append-only audit log (JSON lines); default `.warroom/audit.jsonl`.
    #[serde(default)]
    pub audit_log: Option<PathBuf>,
    /// Origins besides the dashboard's own that may send state-changing requests
    /// (e.g. `https://warroom.example` behind a proxy).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// One user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    pub role: Role,
    /// `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX`, as `dashboard::hash_password` writes it.
    pub password_hash: String,
}

fn default_ttl() -> u64 {
    12 * 3600
}

impl DashboardConfig {
    /// Parses and validates; `origin` names the source in errors (a path).
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, DashboardError> {
        let err = |msg: String| DashboardError::Config {
            path: origin.to_string(),
            msg,
        };
        let cfg: DashboardConfig = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        cfg.validate().map_err(err)?;
        Ok(cfg)
    }

    /// Reads, parses and validates a file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, DashboardError> {
        let text = std::fs::read_to_string(path).map_err(|e| DashboardError::Config {
            path: path.display().to_string(),
            msg: e.to_string(),
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    fn validate(&self) -> Result<(), String> {
        if self.users.is_empty() {
            return Err("users: at least one user is needed".into());
        }
        if self.session_ttl_s < 60 || self.session_ttl_s > 30 * 86_400 {
            return Err("session_ttl_s: must be 60..=2592000".into());
        }
        let mut seen = HashSet::new();
        for (i, u) in self.users.iter().enumerate() {
            if !screen::is_token(&u.name) {
                return Err(format!("users[{i}].name: 1..=64 of [A-Za-z0-9_.:-]"));
            }
            if !seen.insert(u.name.as_str()) {
                return Err(format!("users[{i}].name: {:?} appears twice", u.name));
            }
            PasswordHash::parse(&u.password_hash)
                .map_err(|e| format!("users[{i}].password_hash ({}): {e}", u.name))?;
        }
        for (i, o) in self.allowed_origins.iter().enumerate() {
            if !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/') {
                return Err(format!(
                    "allowed_origins[{i}]: scheme://host[:port] without a trailing slash"
                ));
            }
        }
        Ok(())
    }
}
