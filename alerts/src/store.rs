//! The append-only history file: alert transitions, notifications sent, silences created and
//! expired — one JSON object a line, flushed per write. Replaying it on start restores the
//! history, the silences and the alerts that were still active. A torn last line (a crash
//! mid-write) is skipped and counted, never fatal.

use crate::error::AlertsError;
use crate::group::NotificationStatus;
use crate::rule::{Alert, AlertState};
use crate::silence::Silence;
use digest::Micros;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum HistoryEntry {
    /// An alert changed state (pending, firing, resolved).
    Alert {
        alert: Alert,
        at_us: Micros,
    },
    /// A notification was handed to a receiver.
    Notified {
        receiver: String,
        group_key: String,
        status: NotificationStatus,
        alerts: usize,
        at_us: Micros,
    },
    Silence {
        silence: Silence,
    },
    Expire {
        id: String,
        at_us: Micros,
    },
}

/// What a replay found.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    pub history: Vec<HistoryEntry>,
    pub silences: Vec<Silence>,
    /// Alerts whose last recorded state was pending or firing.
    pub active: Vec<Alert>,
    /// Lines that could not be read (a torn tail).
    pub rejected_lines: usize,
}

/// The open history file.
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    file: File,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> AlertsError + '_ {
    move |source| AlertsError::Store {
        path: path.display().to_string(),
        source,
    }
}

impl Store {
    /// Opens (creating) the file and replays it.
    pub(crate) fn open(path: &Path) -> Result<(Self, Replay), AlertsError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io(path))?;
        }
        let mut replay = Replay::default();
        if path.exists() {
            let mut silences: BTreeMap<String, Silence> = BTreeMap::new();
            let mut alerts: BTreeMap<String, Alert> = BTreeMap::new();
            for line in BufReader::new(File::open(path).map_err(io(path))?).lines() {
                let line = line.map_err(io(path))?;
                if line.trim().is_empty() {
                    continue;
                }
                let Ok(e) = serde_json::from_str::<HistoryEntry>(&line) else {
                    replay.rejected_lines += 1;
                    continue;
                };
                match &e {
                    HistoryEntry::Alert { alert, .. } => {
                        alerts.insert(alert.fingerprint.clone(), alert.clone());
                    }
                    HistoryEntry::Silence { silence } => {
                        silences.insert(silence.id.clone(), silence.clone());
                    }
                    HistoryEntry::Expire { id, at_us } => {
                        if let Some(s) = silences.get_mut(id) {
                            s.ends_at_us = s.ends_at_us.min(*at_us);
                        }
                    }
                    HistoryEntry::Notified { .. } => {}
                }
                replay.history.push(e);
            }
            replay.silences = silences.into_values().collect();
            replay.active = alerts
                .into_values()
                .filter(|a| a.state != AlertState::Resolved)
                .collect();
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io(path))?;
        Ok((
            Self {
                path: path.into(),
                file,
            },
            replay,
        ))
    }

    /// Appends one entry and flushes it to the OS.
    pub(crate) fn append(&mut self, e: &HistoryEntry) -> Result<(), AlertsError> {
        let mut line = serde_json::to_vec(e).expect("history entries serialize");
        line.push(b'\n');
        self.file.write_all(&line).map_err(io(&self.path))?;
        self.file.flush().map_err(io(&self.path))
    }
}
