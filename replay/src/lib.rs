//! replay: recorded records through the war room's analysis on their own clock
//! (`warroom replay`). Files of v1 digest lines, OTLP JSON (one
//! `ExportTraceServiceRequest` per line) or SOFATracer logs, plain or gzip, are streamed in
//! bounded memory (line by line, a bounded queue per file), decoded by the collector's own
//! decoders, merged across files and put in time order within a small window, and fed to
//! an `analyzer::Analyzer` and a `command::IncidentBook` under a `digest::ManualClock` that
//! is stepped to the records' own timestamps — the same tick every 100 ms of record time,
//! the same record-then-tick order as a live step — as fast as the CPU allows. Incidents
//! come out as the live `command::Incident` model, summarised in [`IncidentReport`]; with
//! plans, the one the healer would have matched (dry run: no executor is called).
//!
//! Owns: reading recordings ([`Format`] detection, gzip by magic bytes), the time-ordering
//! window, the stepping of the clock, the reports. Must not: read the wall clock for
//! anything but the throughput figure, act on any system, or hold analysis or incident
//! policy (the analyzer and `command` do).
//!
//! Entry point: [`replay`].

mod error;
mod format;
mod input;
mod order;
mod report;
mod run;

pub use error::ReplayError;
pub use format::Format;
pub use report::{BadInput, IncidentReport, PlanChoice, Summary};
pub use run::{replay, ReplayOptions};
