//! The audit log: one JSON line per action applied or undone (dry runs included), with the
//! state before and after, appended and flushed as it happens. Never rewritten.

use crate::error::HealerError;
use crate::plan::Action;
use digest::Micros;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub time: String,
    /// The incident the run worked for (the one id from detection to recovery).
    pub incident: u64,
    /// The plan run within that incident.
    #[serde(default)]
    pub run: u64,
    pub plan: String,
    pub step: usize,
    /// `apply` or `undo`.
    pub phase: String,
    pub executor: String,
    pub action: Action,
    pub by: String,
    pub dry_run: bool,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub before: Value,
    pub after: Value,
}

/// Where audit lines go: a file, memory, or both.
#[derive(Debug, Default)]
pub struct AuditLog {
    file: Option<(PathBuf, File)>,
    entries: Vec<AuditEntry>,
    /// Lines that could not be written (also reported by `append`).
    pub write_errors: u64,
}

impl AuditLog {
    /// An in-memory log.
    pub fn memory() -> Self {
        Self::default()
    }

    /// Appends to `path` (created with its folder).
    pub fn open(path: &Path) -> Result<Self, HealerError> {
        let err = |source| HealerError::Audit {
            path: path.display().to_string(),
            source,
        };
        if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d).map_err(err)?;
        }
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(err)?;
        Ok(Self {
            file: Some((path.into(), f)),
            ..Self::default()
        })
    }

    pub(crate) fn append(&mut self, e: AuditEntry) -> Result<(), HealerError> {
        let mut r = Ok(());
        if let Some((path, f)) = &mut self.file {
            let mut line = serde_json::to_vec(&e).expect("audit entries serialize");
            line.push(b'\n');
            if let Err(source) = f.write_all(&line).and_then(|_| f.flush()) {
                self.write_errors += 1;
                r = Err(HealerError::Audit {
                    path: path.display().to_string(),
                    source,
                });
            }
        }
        self.entries.push(e);
        r
    }

    /// Every entry written by this process.
    pub fn entries(&self) -> &[AuditEntry] {
        &self.entries
    }
}

pub(crate) fn stamp(us: Micros) -> String {
    digest::format_rfc3339(us)
}
