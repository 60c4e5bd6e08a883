//! Rolling digest files: one `<service>-digest.log` per service (change events in
//! `change-events.log`) in one directory, rotated by size to `<name>.1`, `<name>.2`,
//! … keeping `keep` old files. A worker thread does all the writing.

use super::buffer::{Batch, Drained, Queue};
use super::{Counters, Sink, SinkError, SinkStats};
use crate::codec::encode_event;
use crate::record::ChangeEvent;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where and how the files roll.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileSinkConfig {
    /// Directory for the files (created if missing).
    pub dir: PathBuf,
    /// Rotate a file once it reaches this many bytes.
    pub max_bytes: u64,
    /// Old files kept per service (`<name>.1` … `<name>.<keep>`).
    pub keep: u32,
    /// Bytes queued in memory before new lines are dropped (and counted).
    pub queue_bytes: usize,
    /// How often the worker writes out what is queued, in milliseconds.
    pub flush_interval_ms: u64,
}

impl Default for FileSinkConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("digests"),
            max_bytes: 256 * 1024 * 1024,
            keep: 4,
            queue_bytes: 64 * 1024 * 1024,
            flush_interval_ms: 200,
        }
    }
}

/// File name of the change-event log.
pub const EVENTS_FILE: &str = "change-events.log";

/// Rolling files per service.
pub struct FileSink {
    drained: Drained,
}

struct OpenFile {
    file: File,
    size: u64,
}

struct Writer {
    cfg: FileSinkConfig,
    files: HashMap<String, OpenFile>,
}

impl Writer {
    fn path(&self, name: &str) -> PathBuf {
        self.cfg.dir.join(name)
    }

    fn open(&mut self, name: &str) -> std::io::Result<&mut OpenFile> {
        if !self.files.contains_key(name) {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path(name))?;
            let size = file.metadata()?.len();
            self.files.insert(name.to_string(), OpenFile { file, size });
        }
        Ok(self.files.get_mut(name).expect("inserted above"))
    }

    fn rotate(&mut self, name: &str) -> std::io::Result<()> {
        self.files.remove(name);
        let base = self.path(name);
        for i in (1..self.cfg.keep).rev() {
            let from = rotated(&base, i);
            if from.exists() {
                std::fs::rename(&from, rotated(&base, i + 1))?;
            }
        }
        if self.cfg.keep == 0 {
            std::fs::remove_file(&base)?;
        } else {
            std::fs::rename(&base, rotated(&base, 1))?;
        }
        Ok(())
    }

    /// Writes `bytes` (whole lines) to `name`, rotating first when it would pass the limit.
    fn write(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let max = self.cfg.max_bytes;
        let size = self.open(name)?.size;
        if size > 0 && size + bytes.len() as u64 > max {
            self.rotate(name)?;
        }
        let f = self.open(name)?;
        f.file.write_all(bytes)?;
        f.size += bytes.len() as u64;
        Ok(())
    }

    fn handle(&mut self, batch: Batch, counters: &Counters) {
        for (service, buf, n) in batch.lines {
            let name = format!("{}-digest.log", sanitize(&service));
            match self.write(&name, &buf) {
                Ok(()) => Counters::add(&counters.delivered, n),
                Err(_) => Counters::add(&counters.dropped, n),
            }
        }
        if batch.event_count > 0 {
            match self.write(EVENTS_FILE, &batch.events) {
                Ok(()) => Counters::add(&counters.delivered, batch.event_count),
                Err(_) => Counters::add(&counters.dropped, batch.event_count),
            }
        }
    }
}

fn rotated(base: &Path, i: u32) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(format!(".{i}"));
    PathBuf::from(s)
}

/// Keeps file names tame whatever a service calls itself.
fn sanitize(service: &str) -> String {
    let s: String = service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("_{s}")
    } else {
        s
    }
}

impl FileSink {
    /// Creates the directory and starts the writer thread.
    pub fn start(cfg: FileSinkConfig) -> Result<Self, SinkError> {
        if cfg.max_bytes == 0 {
            return Err(SinkError::Config {
                field: "max_bytes",
                reason: "must be > 0".into(),
            });
        }
        if cfg.queue_bytes < 4096 {
            return Err(SinkError::Config {
                field: "queue_bytes",
                reason: "must be at least 4096".into(),
            });
        }
        std::fs::create_dir_all(&cfg.dir).map_err(|source| SinkError::Dir {
            dir: cfg.dir.display().to_string(),
            source,
        })?;
        let queue = Arc::new(Queue::new(cfg.queue_bytes));
        let interval = Duration::from_millis(cfg.flush_interval_ms.max(1));
        let mut writer = Writer {
            cfg,
            files: HashMap::new(),
        };
        let drained = Drained::spawn(queue, "digest-file-sink", move |q| {
            while let Some(batch) = q.take(interval) {
                let upto = batch.upto;
                writer.handle(batch, &q.counters);
                for f in writer.files.values_mut() {
                    let _ = f.file.flush();
                }
                q.handled(upto);
            }
        })?;
        Ok(Self { drained })
    }

    /// Writes out what is queued and stops the writer. Later lines are dropped.
    pub fn close(&self) {
        self.drained.close();
    }
}

impl Sink for FileSink {
    fn line(&self, service: &str, line: &[u8]) {
        self.drained.queue.push_line(service, line);
    }
    fn event(&self, ev: &ChangeEvent) {
        let mut buf = Vec::with_capacity(160);
        encode_event(&mut buf, ev);
        self.drained.queue.push_event(&buf);
    }
    fn stats(&self) -> SinkStats {
        self.drained.queue.counters.snapshot()
    }
    fn flush(&self, timeout: Duration) -> bool {
        self.drained.queue.flush(timeout)
    }
}
