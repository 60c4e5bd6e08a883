//! Tail checkpoints: for each followed file, its identity (device, inode and a
//! fingerprint of its first bytes) and the offset up to which the downstream
//! has accepted its lines. Saved atomically (write, fsync, rename) after every
//! accepted batch, so a restart neither re-reads nor skips.

use super::sofa::fnv1a64;
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Bytes of a file's head hashed into its fingerprint.
pub const FINGERPRINT_BYTES: u64 = 256;

/// Identity of one file across renames; `fp` is FNV-1a-64 of the first `fp_len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileIdentity {
    pub dev: u64,
    pub ino: u64,
    pub fp_len: u64,
    pub fp: u64,
}

impl FileIdentity {
    /// Reads the identity of an open file (device, inode, head fingerprint).
    pub fn of(file: &mut std::fs::File) -> std::io::Result<Self> {
        use std::os::unix::fs::MetadataExt;
        let md = file.metadata()?;
        let (fp_len, fp) = head_fingerprint(file, FINGERPRINT_BYTES.min(md.len()))?;
        Ok(Self {
            dev: md.dev(),
            ino: md.ino(),
            fp_len,
            fp,
        })
    }

    /// Whether `file` (same device and inode) still starts with the bytes
    /// this identity saw. A file truncated below `fp_len` does not.
    pub fn same_content(&self, file: &mut std::fs::File) -> std::io::Result<bool> {
        let len = file.metadata()?.len();
        if len < self.fp_len {
            return Ok(false);
        }
        Ok(head_fingerprint(file, self.fp_len)?.1 == self.fp)
    }
}

/// FNV-1a-64 of the first `n` bytes (fewer if the file is shorter).
pub fn head_fingerprint(file: &mut std::fs::File, n: u64) -> std::io::Result<(u64, u64)> {
    let pos = file.stream_position()?;
    file.seek(SeekFrom::Start(0))?;
    let mut buf = Vec::with_capacity(n as usize);
    Read::by_ref(file).take(n).read_to_end(&mut buf)?;
    file.seek(SeekFrom::Start(pos))?;
    Ok((buf.len() as u64, fnv1a64(&buf)))
}

/// One followed file as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The path the file was last seen under (informational).
    pub path: PathBuf,
    pub identity: FileIdentity,
    /// Everything before this byte offset has been accepted downstream.
    pub offset: u64,
    /// The bytes at `offset` belong to an over-long line being skipped.
    #[serde(default)]
    pub skipping: bool,
}

/// The checkpoint file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointFile {
    pub version: u32,
    pub files: Vec<Checkpoint>,
}

/// Loads `path`; a missing file is an empty set. A corrupt file is an error
/// (never silently re-read everything).
pub fn load(path: &Path) -> Result<Vec<Checkpoint>, String> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let f: CheckpointFile = serde_json::from_slice(&bytes)
                .map_err(|e| format!("checkpoint file {} is corrupt: {e}", path.display()))?;
            if f.version != 1 {
                return Err(format!(
                    "checkpoint file {}: unknown version {}",
                    path.display(),
                    f.version
                ));
            }
            Ok(f.files)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("checkpoint file {}: {e}", path.display())),
    }
}

/// Saves atomically: a temporary file beside `path`, fsync, rename, fsync the directory.
pub fn save(path: &Path, files: Vec<Checkpoint>) -> std::io::Result<()> {
    let body = serde_json::to_vec_pretty(&CheckpointFile { version: 1, files })
        .map_err(std::io::Error::other)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("json.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&body)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
