//! The audit log: one JSON line per action (logins, logouts, approvals, rejections, plan
//! runs, undos, resolutions, silences, drills, refusals), appended to a file and flushed
//! before the action runs. An action whose intent cannot be written is refused. Secrets
//! never reach it.

use crate::error::DashboardError;
use digest::{format_rfc3339, SharedClock};
use parking_lot::Mutex;
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One audit line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub time: String,
    /// The user, or the name tried at a failed login.
    pub user: String,
    pub role: Option<String>,
    /// `login`, `logout`, `approve`, `reject`, `run`, `undo`, `resolve`, `silence`, `drill`.
    pub action: String,
    /// What the action is about (incident id, fault, …).
    pub target: String,
    /// `requested`, `ok`, `denied` (`denied: …` for a lever's Origin or token),
    /// `refused: …` (a lever's bad id or body), `failed: …`.
    pub outcome: String,
}

/// The append-only audit file.
pub struct Audit {
    clock: SharedClock,
    path: PathBuf,
    file: Mutex<File>,
}

impl Audit {
    /// Opens (creating folders and the file) for appending.
    pub fn open(path: &Path, clock: SharedClock) -> Result<Self, DashboardError> {
        let err = |source| DashboardError::Audit {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(err)?;
        Ok(Self {
            clock,
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line and flushes it to the OS.
    pub fn record(
        &self,
        user: &str,
        role: Option<crate::auth::Role>,
        action: &str,
        target: &str,
        outcome: &str,
    ) -> std::io::Result<()> {
        let e = AuditEntry {
            time: format_rfc3339(self.clock.now_us()),
            user: user.chars().take(64).collect(),
            role: role.map(|r| r.as_str().to_string()),
            action: action.into(),
            target: target.chars().take(200).collect(),
            outcome: outcome.chars().take(500).collect(),
        };
        let mut line = serde_json::to_vec(&e).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut f = self.file.lock();
        f.write_all(&line)?;
        f.flush()
    }
}
