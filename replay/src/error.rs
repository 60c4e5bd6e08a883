//! What stops a replay before it starts. Bad lines never do: they are counted and
//! reported as [`crate::BadInput`] while the replay goes on.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("no input files")]
    NoFiles,
    #[error("cannot open {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("analyzer settings: {0}")]
    Analyzer(#[from] analyzer::AnalyzerError),
    #[error("replay options: {0}")]
    Options(String),
}
