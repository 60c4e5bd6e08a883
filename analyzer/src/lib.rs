//! analyzer: turns digests into live understanding — streaming windows per
//! service / operation / call edge / scene / bank / zone, a call topology
//! (petgraph), hot spots over business keys, anomalies with change awareness,
//! a root-cause diagnosis (ranked candidates with evidence) and impact (users,
//! scenes, money). Incidents are opened from its candidates by the `command` crate.
//!
//! Owns: everything computed from `digest` rollups, records and change events.
//! Must not: depend on the collector or any other war-room crate but `digest`,
//! do I/O, read the wall clock (time comes from a `digest::Clock`), or know the
//! injected fault (a drill compares afterwards, through [`verdict`]).
//!
//! Entry point: [`Analyzer`] — `ingest_rollup`, `ingest_record`, `ingest_raw`,
//! `ingest_event`, `tick`; JSON bodies in [`api`].

pub mod analyzer;
pub mod anomaly;
pub mod api;
pub mod config;
pub mod diagnosis;
pub mod error;
pub mod hotspot;
pub mod impact;
pub mod topology;
pub mod verdict;
pub mod versions;
pub mod window;

pub use analyzer::{Analyzer, IngestCounters, SharedAnalyzer};
pub use anomaly::{Baseline, ChangeRef, Health};
pub use config::AnalyzerConfig;
pub use diagnosis::{Candidate, CauseKind, RootCause};
pub use error::AnalyzerError;
pub use hotspot::HotKey;
pub use impact::Impact;
pub use topology::TopologySnapshot;
pub use window::{Stats, StatsSummary, View, ViewKey};
