//! The write-ahead buffer: batches are appended as CRC-checked frames to segment
//! files under `DIR/wal/` and acknowledged only once written (and fsynced, per the
//! policy). The store's confirmation moves a checkpoint; segments wholly before it
//! are deleted. On open, every intact frame after the checkpoint is handed back
//! for replay and a torn tail is cut off.

pub(crate) mod frame;

use crate::config::FsyncPolicy;
pub use frame::{Frame, FrameKind};
use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const CHECKPOINT: &str = "confirmed";

struct Segment {
    first_seq: u64,
    path: PathBuf,
}

/// The write-ahead buffer. Callers serialise access (the pipeline holds it in a mutex).
pub struct Wal {
    dir: PathBuf,
    segments: VecDeque<Segment>,
    file: Arc<File>,
    file_bytes: u64,
    segment_max: u64,
    fsync: FsyncPolicy,
    next_seq: u64,
    confirmed: u64,
    /// (seq, frame bytes) not yet confirmed, oldest first.
    unconfirmed: VecDeque<(u64, u64)>,
    unconfirmed_bytes: u64,
}

fn seg_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("wal-{first_seq:020}.log"))
}

impl Wal {
    /// Opens (or creates) the buffer in `dir`. Returns it and the frames to replay
    /// (those after the checkpoint and after `skip_through`, which a store that
    /// records its applied sequence passes).
    pub fn open(
        dir: &Path,
        fsync: FsyncPolicy,
        segment_max: u64,
        skip_through: Option<u64>,
    ) -> io::Result<(Wal, Vec<Frame>)> {
        fs::create_dir_all(dir)?;
        let checkpoint = fs::read_to_string(dir.join(CHECKPOINT))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let confirmed = checkpoint.max(skip_through.unwrap_or(0));
        let mut found: Vec<(u64, PathBuf)> = Vec::new();
        for e in fs::read_dir(dir)? {
            let p = e?.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if let Some(n) = name
                .strip_prefix("wal-")
                .and_then(|r| r.strip_suffix(".log"))
                .and_then(|n| n.parse::<u64>().ok())
            {
                found.push((n, p));
            }
        }
        found.sort();
        let mut replay = Vec::new();
        let mut max_seq = confirmed;
        let mut segments = VecDeque::new();
        for (first_seq, path) in found {
            let (frames, good) = frame::read_file(&path)?;
            let len = fs::metadata(&path)?.len();
            if (good as u64) < len {
                // Torn or corrupt tail: keep the intact prefix only.
                OpenOptions::new()
                    .write(true)
                    .open(&path)?
                    .set_len(good as u64)?;
            }
            for f in frames {
                max_seq = max_seq.max(f.seq);
                if f.seq > confirmed {
                    replay.push(f);
                }
            }
            segments.push_back(Segment { first_seq, path });
        }
        let next_seq = max_seq + 1;
        let path = seg_path(dir, next_seq);
        if segments
            .back()
            .is_some_and(|s: &Segment| s.first_seq == next_seq)
        {
            // An empty segment from a run that wrote nothing: reuse it.
            segments.pop_back();
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let file_bytes = file.metadata()?.len();
        segments.push_back(Segment {
            first_seq: next_seq,
            path,
        });
        let mut unconfirmed = VecDeque::new();
        let mut unconfirmed_bytes = 0;
        for f in &replay {
            let b = (frame::HEADER + f.payload.len()) as u64;
            unconfirmed.push_back((f.seq, b));
            unconfirmed_bytes += b;
        }
        let mut wal = Wal {
            dir: dir.to_path_buf(),
            segments,
            file: Arc::new(file),
            file_bytes,
            segment_max: segment_max.max(1 << 16),
            fsync,
            next_seq,
            confirmed,
            unconfirmed,
            unconfirmed_bytes,
        };
        wal.write_checkpoint()?;
        wal.delete_confirmed_segments()?;
        Ok((wal, replay))
    }

    /// Appends one batch; returns its sequence number once it is durable per the policy.
    pub fn append(&mut self, kind: FrameKind, payload: &[u8]) -> io::Result<u64> {
        if self.file_bytes >= self.segment_max {
            self.roll()?;
        }
        let seq = self.next_seq;
        let n = match frame::write(&mut &*self.file, seq, kind, payload) {
            Ok(n) => n,
            Err(e) => {
                // Cut whatever part of the frame made it, so the file stays clean.
                let _ = self.file.set_len(self.file_bytes);
                return Err(e);
            }
        };
        if self.fsync == FsyncPolicy::Always {
            self.file.sync_data()?;
        }
        self.file_bytes += n;
        self.next_seq += 1;
        self.unconfirmed.push_back((seq, n));
        self.unconfirmed_bytes += n;
        Ok(seq)
    }

    fn roll(&mut self) -> io::Result<()> {
        if self.fsync != FsyncPolicy::Never {
            self.file.sync_data()?;
        }
        let path = seg_path(&self.dir, self.next_seq);
        self.file = Arc::new(OpenOptions::new().create(true).append(true).open(&path)?);
        self.file_bytes = 0;
        self.segments.push_back(Segment {
            first_seq: self.next_seq,
            path,
        });
        Ok(())
    }

    /// The current segment's file, for a periodic fsync outside the lock.
    pub fn current_file(&self) -> Arc<File> {
        self.file.clone()
    }

    /// The store has everything through `seq`: move the checkpoint, drop old segments.
    pub fn confirm(&mut self, seq: u64) -> io::Result<()> {
        if seq <= self.confirmed {
            return Ok(());
        }
        self.confirmed = seq;
        while let Some(&(s, b)) = self.unconfirmed.front() {
            if s > seq {
                break;
            }
            self.unconfirmed.pop_front();
            self.unconfirmed_bytes -= b;
        }
        self.write_checkpoint()?;
        self.delete_confirmed_segments()
    }

    fn write_checkpoint(&self) -> io::Result<()> {
        let tmp = self.dir.join("confirmed.tmp");
        fs::write(&tmp, self.confirmed.to_string())?;
        fs::rename(tmp, self.dir.join(CHECKPOINT))
    }

    fn delete_confirmed_segments(&mut self) -> io::Result<()> {
        // A segment may go when the next one starts at or before confirmed + 1.
        while self.segments.len() > 1 && self.segments[1].first_seq <= self.confirmed + 1 {
            if let Some(s) = self.segments.pop_front() {
                match fs::remove_file(&s.path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Bytes written but not yet confirmed by the store.
    pub fn unconfirmed_bytes(&self) -> u64 {
        self.unconfirmed_bytes
    }
    /// Batches written but not yet confirmed.
    pub fn unconfirmed_batches(&self) -> usize {
        self.unconfirmed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn append_confirm_replay_and_truncate() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, replay) = Wal::open(dir.path(), FsyncPolicy::Never, 1 << 16, None).unwrap();
        assert!(replay.is_empty());
        let big = vec![b'x'; 40_000];
        let s1 = w.append(FrameKind::Records, &big).unwrap();
        let s2 = w.append(FrameKind::Records, &big).unwrap();
        let s3 = w.append(FrameKind::Events, b"e\n").unwrap();
        assert_eq!((s1, s2, s3), (1, 2, 3));
        w.confirm(1).unwrap();
        drop(w);
        let (mut w, replay) = Wal::open(dir.path(), FsyncPolicy::Never, 1 << 16, None).unwrap();
        assert_eq!(replay.iter().map(|f| f.seq).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(replay[1].kind, FrameKind::Events);
        assert_eq!(w.append(FrameKind::Records, b"r\n").unwrap(), 4);
        w.confirm(4).unwrap();
        assert_eq!(w.unconfirmed_bytes(), 0);
        assert_eq!(w.segments.len(), 1);
        drop(w);
        let (_, replay) = Wal::open(dir.path(), FsyncPolicy::Never, 1 << 16, None).unwrap();
        assert!(replay.is_empty());
    }

    #[test]
    fn torn_tail_is_cut_and_skip_through_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, _) = Wal::open(dir.path(), FsyncPolicy::Always, 1 << 20, None).unwrap();
        for _ in 0..3 {
            w.append(FrameKind::Records, b"line\n").unwrap();
        }
        let path = w.segments.back().unwrap().path.clone();
        drop(w);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[9, 0, 0, 0, 1, 2]).unwrap();
        let (mut w, replay) = Wal::open(dir.path(), FsyncPolicy::Never, 1 << 20, Some(1)).unwrap();
        assert_eq!(replay.iter().map(|f| f.seq).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(w.append(FrameKind::Records, b"x\n").unwrap(), 4);
    }
}
