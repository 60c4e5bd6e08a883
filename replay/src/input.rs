//! Reading one recorded file in bounded memory: a thread per file reads it line by line
//! through a 256 KiB buffer (gzip, detected by its magic bytes `1f 8b`, is inflated on the
//! way), decodes each line and sends the items in batches over a bounded queue, so at most
//! `QUEUED_BATCHES × BATCH` items per file are in flight. Bad lines, an unknown format and
//! an unreadable (e.g. truncated gzip) tail are sent as [`BadInput`] naming the file and the
//! line; the file goes on past bad lines.

use crate::format::{resolve, Format, Item, LineDecoder, Outcome};
use crate::report::BadInput;
use collector::SofaOptions;
use flate2::bufread::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Items per message.
const BATCH: usize = 2048;
/// Messages queued per file before its reader waits.
const QUEUED_BATCHES: usize = 4;
const READ_BUFFER: usize = 256 * 1024;

/// What a file's reader sends.
pub(crate) enum Msg {
    Items(Vec<Item>),
    Bad(BadInput),
    /// The end of the file, with what was read.
    Done(FileCounts),
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FileCounts {
    pub lines: u64,
    pub stat_lines: u64,
}

/// Starts reading `file` (named `name`) on its own thread.
pub(crate) fn spawn(name: String, file: File, format: Format, sofa: SofaOptions) -> Receiver<Msg> {
    let (tx, rx) = sync_channel(QUEUED_BATCHES);
    std::thread::Builder::new()
        .name("replay-read".into())
        .spawn(move || read(&name, file, format, sofa, &tx))
        .expect("spawn a reader thread");
    rx
}

fn read(name: &str, file: File, format: Format, sofa: SofaOptions, tx: &SyncSender<Msg>) {
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
        match d.decode(line, &mut items) {
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
            let full = std::mem::replace(&mut items, Vec::with_capacity(BATCH));
            if tx.send(Msg::Items(full)).is_err() {
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
    if !items.is_empty() && tx.send(Msg::Items(items)).is_err() {
        return;
    }
    let _ = tx.send(Msg::Done(counts));
}
