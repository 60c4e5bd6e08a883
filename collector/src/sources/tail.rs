//! File tailing (`--tail GLOB`, repeatable): follows our `<service>-digest.log`
//! v1 files and SOFATracer's JSON digest and stat logs (format chosen by file
//! name), through rename rotation (the old file is drained through its open
//! handle, the new one picked up by the glob) and copytruncate (same inode,
//! shorter or different head → start again at 0).
//!
//! A batch goes to a [`TailSink`]; only when the sink accepts it does the
//! offset advance and the checkpoint get saved ([`super::tail_checkpoint`]). A
//! refused batch is re-read and offered again on the next poll, never dropped.
//! A partial last line waits for its newline. Bad lines are counted by reason.
//! [`Tailer::poll_once`] does one pass and never sleeps, so tests drive it step
//! by step; [`Tailer::run`] polls every `poll_interval_ms` until shut down.

use super::sofa::{decode_sofa_line, SofaLine, SofaLogKind, SofaOptions, SofaStat};
use super::tail_checkpoint::{self as ckpt, Checkpoint, FileIdentity, FINGERPRINT_BYTES};
pub use super::tail_stats::{BadLine, SharedTailStats, TailStats};
use crate::store::BoxFuture;
use digest::{ChangeEvent, DigestRecord, Line};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

/// What the tailer hands downstream in one delivery.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TailBatch {
    pub records: Vec<DigestRecord>,
    pub events: Vec<ChangeEvent>,
    /// SOFATracer stat lines (aggregates, not call records).
    pub stats: Vec<SofaStat>,
}

impl TailBatch {
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.events.is_empty() && self.stats.is_empty()
    }
}

/// The downstream of the tailer (the pipeline's ingest). `Err` means "not
/// accepted, offer it again later" (backpressure); nothing is dropped.
pub trait TailSink: Send + Sync {
    fn deliver(&self, batch: TailBatch) -> BoxFuture<'_, Result<(), TailError>>;
    /// `n` tailed lines were rejected for `reason` (told once, after the lines
    /// around them were accepted), so the sink can count them with its own rejects.
    fn rejected(&self, reason: &str, n: u64) {
        let _ = (reason, n);
    }
}

/// Why tailing could not go on.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("tail config: {0}")]
    Config(String),
    #[error("tail checkpoint: {0}")]
    Checkpoint(String),
    /// The downstream did not accept a batch (it will be offered again).
    #[error("downstream refused the batch: {reason}")]
    Refused {
        reason: String,
        retry_after_s: Option<u64>,
    },
}

/// Tailing options (`deny_unknown_fields`; durations in milliseconds).
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TailConfig {
    /// Glob patterns of files to follow (`/var/log/*/rpc-*-digest.log`).
    pub globs: Vec<String>,
    /// Where offsets are saved, e.g. `DATA_DIR/tail-checkpoints.json`.
    pub checkpoint_path: PathBuf,
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    /// Longer lines are skipped and counted as `line_too_long`.
    #[serde(default = "default_max_line")]
    pub max_line_bytes: usize,
    /// Bytes read per file per delivery (at least `max_line_bytes`).
    #[serde(default = "default_batch_bytes")]
    pub batch_bytes: usize,
    /// Zone of SOFATracer timestamps, seconds east of UTC.
    #[serde(default)]
    pub sofa_utc_offset_s: i32,
}

fn default_poll_ms() -> u64 {
    250
}
fn default_max_line() -> usize {
    1 << 20
}
fn default_batch_bytes() -> usize {
    4 << 20
}

impl TailConfig {
    pub fn new(globs: Vec<String>, checkpoint_path: impl Into<PathBuf>) -> Self {
        Self {
            globs,
            checkpoint_path: checkpoint_path.into(),
            poll_interval_ms: default_poll_ms(),
            max_line_bytes: default_max_line(),
            batch_bytes: default_batch_bytes(),
            sofa_utc_offset_s: 0,
        }
    }

    pub fn validate(&self) -> Result<(), TailError> {
        if self.globs.is_empty() {
            return Err(TailError::Config(
                "`globs` is empty: give at least one --tail GLOB".into(),
            ));
        }
        for g in &self.globs {
            glob::Pattern::new(g)
                .map_err(|e| TailError::Config(format!("`globs`: bad pattern {g:?}: {e}")))?;
        }
        if self.max_line_bytes == 0 || self.batch_bytes < self.max_line_bytes {
            return Err(TailError::Config(
                "`batch_bytes` must be at least `max_line_bytes`, and both above 0".into(),
            ));
        }
        if self.poll_interval_ms == 0 {
            return Err(TailError::Config(
                "`poll_interval_ms` must be above 0".into(),
            ));
        }
        Ok(())
    }
}

/// What one [`Tailer::poll_once`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub batches_delivered: u64,
    pub lines: u64,
    /// The sink refused a batch; wait (`retry_after_s` if given) and poll again.
    pub refused: bool,
    pub retry_after_s: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Digest,
    Sofa(SofaLogKind),
}

struct Followed {
    file: File,
    path: PathBuf,
    identity: FileIdentity,
    offset: u64,
    skipping: bool,
    format: Format,
    unseen_polls: u32,
}

/// Follows the files matching the configured globs. See the module comment.
pub struct Tailer<S: TailSink> {
    cfg: TailConfig,
    sink: S,
    sofa: SofaOptions,
    files: HashMap<(u64, u64), Followed>,
    /// Checkpoints loaded at start, not yet matched to a file.
    saved: HashMap<(u64, u64), Checkpoint>,
    stats: TailStats,
    shared: SharedTailStats,
}

impl<S: TailSink> Tailer<S> {
    /// Validates the config and loads the checkpoints (a corrupt checkpoint
    /// file is an error, never a silent re-read).
    pub fn open(cfg: TailConfig, sink: S) -> Result<Self, TailError> {
        cfg.validate()?;
        let saved = ckpt::load(&cfg.checkpoint_path)
            .map_err(TailError::Checkpoint)?
            .into_iter()
            .map(|c| ((c.identity.dev, c.identity.ino), c))
            .collect();
        Ok(Self {
            sofa: SofaOptions {
                utc_offset_s: cfg.sofa_utc_offset_s,
            },
            cfg,
            sink,
            files: HashMap::new(),
            saved,
            stats: TailStats::default(),
            shared: SharedTailStats::default(),
        })
    }

    /// A handle on the stats, refreshed after every poll (read it from any task).
    pub fn shared_stats(&self) -> SharedTailStats {
        self.shared.clone()
    }

    pub fn stats(&self) -> &TailStats {
        &self.stats
    }

    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Polls until `shutdown` completes, sleeping `poll_interval_ms` between
    /// passes (or the sink's `retry_after_s` after a refusal).
    pub async fn run(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<TailStats, TailError> {
        tokio::pin!(shutdown);
        loop {
            let report = self.poll_once().await?;
            let wait_ms = match report.retry_after_s {
                Some(s) if report.refused => s.max(1) * 1000,
                _ => self.cfg.poll_interval_ms,
            };
            tokio::select! {
                _ = &mut shutdown => return Ok(self.stats.clone()),
                _ = tokio::time::sleep(std::time::Duration::from_millis(wait_ms)) => {}
            }
        }
    }

    /// One pass: find files, read their new complete lines, deliver, checkpoint.
    pub async fn poll_once(&mut self) -> Result<PollReport, TailError> {
        self.discover();
        let mut report = PollReport::default();
        let mut keys: Vec<(u64, u64)> = self.files.keys().copied().collect();
        keys.sort_by(|a, b| self.files[a].path.cmp(&self.files[b].path));
        for key in keys {
            if !self.drain(key, &mut report).await? {
                break; // refused: stop this pass, keep order, retry later
            }
        }
        // Let go of files no glob reaches any more, once drained.
        let gone: Vec<(u64, u64)> = self
            .files
            .iter_mut()
            .filter_map(|(k, f)| {
                let len = f.file.metadata().map(|m| m.len()).unwrap_or(0);
                (f.unseen_polls >= 2 && f.offset >= len).then_some(*k)
            })
            .collect();
        if !gone.is_empty() {
            for k in gone {
                self.files.remove(&k);
                self.stats.rotations += 1;
            }
            self.save()?;
        }
        self.stats.files_followed = self.files.len();
        *self.shared.lock() = self.stats.clone();
        Ok(report)
    }

    fn discover(&mut self) {
        for f in self.files.values_mut() {
            f.unseen_polls += 1;
        }
        let mut paths: Vec<PathBuf> = Vec::new();
        for g in &self.cfg.globs {
            if let Ok(it) = glob::glob(g) {
                paths.extend(it.flatten());
            }
        }
        paths.sort();
        paths.dedup();
        for path in paths {
            let Ok(mut file) = File::open(&path) else {
                continue;
            };
            if !file.metadata().map(|m| m.is_file()).unwrap_or(false) {
                continue;
            }
            let Ok(id) = FileIdentity::of(&mut file) else {
                self.stats.io_errors += 1;
                continue;
            };
            let key = (id.dev, id.ino);
            if let Some(f) = self.files.get_mut(&key) {
                f.unseen_polls = 0;
                f.path = path;
                let len = f.file.metadata().map(|m| m.len()).unwrap_or(0);
                let same = f.identity.same_content(&mut f.file).unwrap_or(false);
                if len < f.offset || !same {
                    // copytruncate (or rewritten in place): start again.
                    f.offset = 0;
                    f.skipping = false;
                    f.identity = id;
                    self.stats.truncations += 1;
                } else if f.identity.fp_len < FINGERPRINT_BYTES && id.fp_len > f.identity.fp_len {
                    f.identity = id; // a longer head now: a stronger fingerprint
                }
                continue;
            }
            let format = match path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(SofaLogKind::from_file_name)
            {
                Some(k) => Format::Sofa(k),
                None => Format::Digest,
            };
            let (offset, skipping) = match self.saved.remove(&key) {
                Some(c)
                    if c.identity.same_content(&mut file).unwrap_or(false)
                        && file
                            .metadata()
                            .map(|m| m.len() >= c.offset)
                            .unwrap_or(false) =>
                {
                    (c.offset, c.skipping)
                }
                _ => (0, false),
            };
            self.files.insert(
                key,
                Followed {
                    file,
                    path,
                    identity: id,
                    offset,
                    skipping,
                    format,
                    unseen_polls: 0,
                },
            );
        }
    }

    /// Reads and delivers one file's complete lines. `Ok(false)` when the sink refused.
    async fn drain(&mut self, key: (u64, u64), report: &mut PollReport) -> Result<bool, TailError> {
        loop {
            let Some(f) = self.files.get_mut(&key) else {
                return Ok(true);
            };
            let mut buf = Vec::new();
            let read = f.file.seek(SeekFrom::Start(f.offset)).and_then(|_| {
                f.file
                    .by_ref()
                    .take(self.cfg.batch_bytes as u64)
                    .read_to_end(&mut buf)
            });
            if read.is_err() {
                self.stats.io_errors += 1;
                return Ok(true);
            }
            if buf.is_empty() {
                return Ok(true);
            }
            let (path, format, start, mut skipping) =
                (f.path.clone(), f.format, f.offset, f.skipping);
            let full = buf.len() == self.cfg.batch_bytes;
            let mut batch = TailBatch::default();
            let mut bad: Vec<BadLine> = Vec::new();
            let mut lines = 0u64;
            let mut pos = 0usize;
            while let Some(nl) = memchr::memchr(b'\n', &buf[pos..]) {
                let line_start = pos;
                let mut line = &buf[pos..pos + nl];
                pos += nl + 1;
                if skipping {
                    skipping = false; // the tail of an over-long line
                    continue;
                }
                if line.last() == Some(&b'\r') {
                    line = &line[..line.len() - 1];
                }
                if line.iter().all(|b| b.is_ascii_whitespace()) {
                    continue;
                }
                lines += 1;
                let offset = start + line_start as u64;
                if line.len() > self.cfg.max_line_bytes {
                    bad.push(BadLine {
                        path: path.clone(),
                        offset,
                        reason: "line_too_long".into(),
                    });
                    continue;
                }
                match format {
                    Format::Digest => match crate::scan::decode_fast(line) {
                        Ok(Line::Record(r)) => batch.records.push(r),
                        Ok(Line::Event(e)) => batch.events.push(e),
                        Err(e) => bad.push(BadLine {
                            path: path.clone(),
                            offset,
                            reason: format!("{}: {e}", e.label()),
                        }),
                    },
                    Format::Sofa(kind) => match decode_sofa_line(line, kind, &self.sofa) {
                        Ok(SofaLine::Record(r)) => batch.records.push(r),
                        Ok(SofaLine::Stat(s)) => batch.stats.push(s),
                        Err(e) => bad.push(BadLine {
                            path: path.clone(),
                            offset,
                            reason: format!("{}: {e}", e.label()),
                        }),
                    },
                }
            }
            if pos == 0 && full {
                // No newline in a whole batch: an over-long line. Skip to its end.
                if !skipping {
                    lines += 1;
                    bad.push(BadLine {
                        path: path.clone(),
                        offset: start,
                        reason: "line_too_long".into(),
                    });
                }
                skipping = true;
                pos = buf.len();
            }
            if pos == 0 {
                return Ok(true); // only a partial last line: wait for its newline
            }
            if !batch.is_empty() {
                let (n_rec, n_ev, n_st) =
                    (batch.records.len(), batch.events.len(), batch.stats.len());
                if let Err(e) = self.sink.deliver(batch).await {
                    self.stats.deliveries_refused += 1;
                    report.refused = true;
                    if let TailError::Refused { retry_after_s, .. } = &e {
                        report.retry_after_s = *retry_after_s;
                    }
                    return Ok(false);
                }
                self.stats.records += n_rec as u64;
                self.stats.events += n_ev as u64;
                self.stats.stat_lines += n_st as u64;
                report.batches_delivered += 1;
            }
            // Accepted (or nothing to deliver): count, advance, checkpoint.
            report.lines += lines;
            self.stats.lines_accepted += lines.saturating_sub(bad.len() as u64);
            for b in bad {
                let label = b.reason.split(':').next().unwrap_or("").to_string();
                self.sink.rejected(&label, 1);
                *self.stats.rejected_by_reason.entry(label).or_default() += 1;
                self.stats.rejected_total += 1;
                if self.stats.recent_bad_lines.len() == 20 {
                    self.stats.recent_bad_lines.pop_front();
                }
                self.stats.recent_bad_lines.push_back(b);
            }
            if let Some(f) = self.files.get_mut(&key) {
                f.offset = start + pos as u64;
                f.skipping = skipping;
            }
            self.save()?;
        }
    }

    fn save(&self) -> Result<(), TailError> {
        let mut files: Vec<Checkpoint> = self
            .files
            .values()
            .map(|f| Checkpoint {
                path: f.path.clone(),
                identity: f.identity,
                offset: f.offset,
                skipping: f.skipping,
            })
            .collect();
        // Keep checkpoints of files not (yet) seen again this run.
        files.extend(self.saved.values().cloned());
        files.sort_by(|a, b| a.path.cmp(&b.path));
        ckpt::save(&self.cfg.checkpoint_path, files).map_err(|e| {
            TailError::Checkpoint(format!("{}: {e}", self.cfg.checkpoint_path.display()))
        })
    }
}
