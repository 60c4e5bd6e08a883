//! Reading one recorded file in bounded memory: a thread per file reads it line by line
//! through a 256 KiB buffer (gzip, detected by its magic bytes `1f 8b`, is inflated on the
//! way), decodes each line and sends the items in batches over a bounded queue, so at most
//! `QUEUED_BATCHES × BATCH` items per file are in flight. Bad lines, an unknown format and
//! an unreadable (e.g. truncated gzip) tail are sent as [`BadInput`] naming the file and the
//! line; the file goes on past bad lines.
//!
//! The reader also builds each tick's per-second rollup (`digest::SecondRollup`, what
//! `Analyzer::ingest_raw` would build on the analyzer's thread; built by
//! `collector::RecordRollups`, without a string copied per record) for its records, so that
//! half of the analyzer's per-record work runs beside it. A tick's rollup is sent with the
//! first batch that reaches a later tick — before any input can have read a whole window
//! past it — and again, partially, for records that come after that (rollups merge exactly).

use crate::format::{resolve, Format, Item, LineDecoder, Outcome, What};
use crate::report::BadInput;
use collector::RecordRollups;
use collector::SofaOptions;
use digest::SecondRollup;
use flate2::bufread::MultiGzDecoder;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// Items per message.
const BATCH: usize = 1024;
/// Messages queued per file before its reader waits.
const QUEUED_BATCHES: usize = 8;
const READ_BUFFER: usize = 256 * 1024;

/// What a file's reader sends.
pub(crate) enum Msg {
    /// Items in input order, and the rollups of the ticks (by index) this input has moved
    /// past.
    Items(Vec<Item>, Vec<(u64, SecondRollup)>),
    Bad(BadInput),
    /// The end of the file, with what was read.
    Done(FileCounts),
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FileCounts {
    pub lines: u64,
    pub stat_lines: u64,
}

/// Fed items, handed back to the readers to be dropped there: the thread that allocated a
/// record frees it fastest (glibc's per-thread caches), and the analyzer's thread is spared.
pub(crate) type Spent = Arc<Mutex<Receiver<Vec<Item>>>>;

/// How a file is read.
#[derive(Debug, Clone)]
pub(crate) struct ReadOptions {
    pub format: Format,
    pub sofa: SofaOptions,
    /// The analyzer's tick, microseconds (rollups are built per tick).
    pub tick_us: u64,
    pub spent: Spent,
}

/// Starts reading `file` (named `name`) on its own thread.
pub(crate) fn spawn(name: String, file: File, o: ReadOptions) -> Receiver<Msg> {
    let (tx, rx) = sync_channel(QUEUED_BATCHES);
    std::thread::Builder::new()
        .name("replay-read".into())
        .spawn(move || read(&name, file, o, &tx))
        .expect("spawn a reader thread");
    rx
}

/// Per tick, the rollup of this input's records not yet sent.
struct Rollups {
    tick_us: u64,
    open: BTreeMap<u64, RecordRollups>,
    /// The latest tick a record of this input fell in.
    newest: u64,
}

impl Rollups {
    fn add(&mut self, items: &[Item]) {
        for it in items {
            // Events move the input on too (the merge's watermark counts them).
            self.newest = self.newest.max(it.time_us / self.tick_us);
            if let What::Record(r) = &it.what {
                let b = r.time_us / self.tick_us;
                self.open.entry(b).or_default().add(r);
            }
        }
    }
    /// The rollups of the ticks before the newest one (all of them at the end).
    fn take(&mut self, all: bool) -> Vec<(u64, SecondRollup)> {
        let keep = if all {
            BTreeMap::new()
        } else {
            self.open.split_off(&self.newest)
        };
        std::mem::replace(&mut self.open, keep)
            .into_iter()
            .flat_map(|(b, mut r)| r.take_all().into_iter().map(move |s| (b, s)))
            .collect()
    }
}

/// Drops what the replay loop has fed since the last call.
fn drop_spent(spent: &Spent) {
    let batches: Vec<Vec<Item>> = match spent.try_lock() {
        Ok(rx) => rx.try_iter().collect(),
        Err(_) => return,
    };
    drop(batches);
}

fn read(name: &str, file: File, o: ReadOptions, tx: &SyncSender<Msg>) {
    let (format, sofa) = (o.format, o.sofa);
    let mut rollups = Rollups {
        tick_us: o.tick_us,
        open: BTreeMap::new(),
        newest: 0,
    };
    let mut raw = BufReader::with_capacity(READ_BUFFER, file);
    let gzip = matches!(raw.fill_buf(), Ok(b) if b.starts_with(&[0x1f, 0x8b]));
    let mut r: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::with_capacity(
            READ_BUFFER,
            MultiGzDecoder::new(raw),
        ))
    } else {
        Box::new(raw)
    };
    let bad = |line: u64, reason: String, rejected: u64| {
        tx.send(Msg::Bad(BadInput {
            file: name.to_string(),
            line,
            reason,
            rejected,
        }))
        .is_ok()
    };
    let mut counts = FileCounts::default();
    let mut decoder: Option<LineDecoder> = None;
    // An unknown format: where it was seen, and the lines skipped since.
    let mut unknown: Option<(u64, u64)> = None;
    let mut items = Vec::with_capacity(BATCH);
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        match r.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                let what = if gzip {
                    "truncated or corrupt gzip"
                } else {
                    "read error"
                };
                counts.lines += 1;
                let _ = bad(
                    counts.lines,
                    format!("{what} ({e}); the rest of the file is skipped"),
                    1,
                );
                break;
            }
        }
        counts.lines += 1;
        let line = buf.trim_ascii_end();
        if line.trim_ascii_start().is_empty() {
            continue;
        }
        if let Some((_, skipped)) = &mut unknown {
            *skipped += 1;
            continue;
        }
        let d = match &mut decoder {
            Some(d) => d,
            None => match resolve(format, name, line) {
                Some(f) => decoder.insert(LineDecoder::new(f, sofa)),
                None => {
                    unknown = Some((counts.lines, 1));
                    continue;
                }
            },
        };
        let before = items.len();
        let outcome = d.decode(line, &mut items);
        rollups.add(&items[before..]);
        match outcome {
            Outcome::Ok { rejected: 0, .. } => {}
            Outcome::Ok { rejected, reason } => {
                if !bad(counts.lines, reason, rejected) {
                    return;
                }
            }
            Outcome::Bad(reason) => {
                if !bad(counts.lines, reason, 1) {
                    return;
                }
            }
            Outcome::Stat => counts.stat_lines += 1,
        }
        if items.len() >= BATCH {
            drop_spent(&o.spent);
            let full = std::mem::replace(&mut items, Vec::with_capacity(BATCH));
            if tx.send(Msg::Items(full, rollups.take(false))).is_err() {
                return;
            }
        }
    }
    if let Some((line, skipped)) = unknown {
        let _ = bad(
            line,
            format!(
                "unknown format (not v1 digest lines, OTLP JSON or SOFATracer; give --format): {skipped} lines skipped"
            ),
            skipped,
        );
    }
    if tx.send(Msg::Items(items, rollups.take(true))).is_err() {
        return;
    }
    let _ = tx.send(Msg::Done(counts));
}
