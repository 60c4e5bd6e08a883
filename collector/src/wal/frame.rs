//! The on-disk frame shared by the write-ahead buffer and the embedded store's
//! segments: `len u32 | crc32 u32 | seq u64 | kind u8 | payload`, little endian.
//! The CRC covers seq, kind and payload, so a torn or corrupted tail is detected
//! and cut instead of being replayed as garbage.

use std::io::{self, Read, Write};

/// Bytes before the payload.
pub const HEADER: usize = 17;
/// Refuse frames larger than this when reading (a corrupted length).
pub const MAX_PAYLOAD: usize = 256 << 20;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// v1 digest record lines, newline-terminated.
    Records = 0,
    /// v1 change event lines, newline-terminated.
    Events = 1,
}

impl FrameKind {
    fn from_u8(b: u8) -> Option<Self> {
        match b {
            0 => Some(Self::Records),
            1 => Some(Self::Events),
            _ => None,
        }
    }
}

/// One frame read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub seq: u64,
    pub kind: FrameKind,
    pub payload: Vec<u8>,
}

/// The header of the frame carrying `payload`.
pub fn header(seq: u64, kind: FrameKind, payload: &[u8]) -> [u8; HEADER] {
    let mut h = crc32fast::Hasher::new();
    h.update(&seq.to_le_bytes());
    h.update(&[kind as u8]);
    h.update(payload);
    let mut out = [0u8; HEADER];
    out[..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    out[4..8].copy_from_slice(&h.finalize().to_le_bytes());
    out[8..16].copy_from_slice(&seq.to_le_bytes());
    out[16] = kind as u8;
    out
}

/// Writes one frame to `w` without copying the payload (vectored write);
/// returns the bytes written. On error part of the frame may have been written.
pub fn write(w: &mut impl Write, seq: u64, kind: FrameKind, payload: &[u8]) -> io::Result<u64> {
    let head = header(seq, kind, payload);
    let mut bufs = [io::IoSlice::new(&head), io::IoSlice::new(payload)];
    let mut slices = &mut bufs[..];
    while !slices.is_empty() {
        match w.write_vectored(slices) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => io::IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((HEADER + payload.len()) as u64)
}

/// Reads every intact frame of a file's bytes. Returns the frames and the length
/// of the intact prefix (anything after it is a torn or corrupt tail).
pub fn decode_all(buf: &[u8]) -> (Vec<Frame>, usize) {
    let mut frames = Vec::new();
    let mut at = 0;
    while buf.len() - at >= HEADER {
        let len = u32::from_le_bytes(buf[at..at + 4].try_into().unwrap_or_default()) as usize;
        let crc = u32::from_le_bytes(buf[at + 4..at + 8].try_into().unwrap_or_default());
        let seq = u64::from_le_bytes(buf[at + 8..at + 16].try_into().unwrap_or_default());
        let Some(kind) = FrameKind::from_u8(buf[at + 16]) else {
            break;
        };
        if len > MAX_PAYLOAD || buf.len() - at - HEADER < len {
            break;
        }
        let payload = &buf[at + HEADER..at + HEADER + len];
        let mut h = crc32fast::Hasher::new();
        h.update(&seq.to_le_bytes());
        h.update(&[kind as u8]);
        h.update(payload);
        if h.finalize() != crc {
            break;
        }
        frames.push(Frame {
            seq,
            kind,
            payload: payload.to_vec(),
        });
        at += HEADER + len;
    }
    (frames, at)
}

/// Reads a whole file and decodes its frames.
pub fn read_file(path: &std::path::Path) -> io::Result<(Vec<Frame>, usize)> {
    let mut buf = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut buf)?;
    Ok(decode_all(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_torn_tail() {
        let mut b = Vec::new();
        write(&mut b, 1, FrameKind::Records, b"a\n").unwrap();
        write(&mut b, 2, FrameKind::Events, b"bb\n").unwrap();
        let full = b.len();
        write(&mut b, 3, FrameKind::Records, b"ccc\n").unwrap();
        let (f, n) = decode_all(&b[..b.len() - 1]);
        assert_eq!(f.len(), 2);
        assert_eq!(n, full);
        assert_eq!(f[1].payload, b"bb\n");
        // A flipped byte in the payload stops the read there.
        let mut c = b.clone();
        let last = c.len() - 2;
        c[last] ^= 0x40;
        assert_eq!(decode_all(&c).0.len(), 2);
        assert_eq!(decode_all(&b).0.len(), 3);
        // Garbage never panics.
        for i in 0..b.len() {
            let mut d = b.clone();
            d[i] = 0xff;
            let _ = decode_all(&d);
            let _ = decode_all(&b[i..]);
        }
    }
}
