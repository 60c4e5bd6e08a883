//! Which decoder a file's lines go through: the format asked for, or (`auto`) the one its
//! name or first non-blank line shows, and the per-line decoding into [`Item`]s with the
//! collector's own decoders (v1: `collector::decode_v1_line`; OTLP JSON:
//! `collector::decode_otlp_with`; SOFATracer: `collector::decode_sofa_line`).

use collector::{OtlpFormat, OtlpOptions, SofaLine, SofaLogKind, SofaOptions};
use digest::{ChangeEvent, DigestRecord, Line};
use std::str::FromStr;

/// The format of the input files (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Each file's own: a SOFATracer log name (`rpc-server-digest.log…`), else the first
    /// non-blank line (`resourceSpans` → OTLP JSON, SOFATracer keys → SOFATracer, another
    /// JSON object → v1).
    #[default]
    Auto,
    /// v1 digest lines and change events (`docs/ARCHITECTURE.md`).
    V1,
    /// One OTLP/JSON `ExportTraceServiceRequest` per line (the OpenTelemetry Collector's
    /// file exporter writes them so).
    OtlpJson,
    /// SOFATracer digest logs (JSON lines); the log kind comes from the file name,
    /// `rpc-server-digest` when the name says nothing.
    SofaTracer,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "v1" => Ok(Self::V1),
            "otlp-json" => Ok(Self::OtlpJson),
            "sofatracer" => Ok(Self::SofaTracer),
            o => Err(format!(
                "unknown format {o:?} (expected auto, v1, otlp-json or sofatracer)"
            )),
        }
    }
}

/// A file's format once known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolved {
    V1,
    OtlpJson,
    Sofa(SofaLogKind),
}

/// The format of a file named `name` whose first non-blank line is `first`; `None` when
/// `auto` cannot tell.
pub(crate) fn resolve(asked: Format, name: &str, first: &[u8]) -> Option<Resolved> {
    let sofa_kind = || SofaLogKind::from_file_name(name).unwrap_or(SofaLogKind::RpcServer);
    match asked {
        Format::V1 => Some(Resolved::V1),
        Format::OtlpJson => Some(Resolved::OtlpJson),
        Format::SofaTracer => Some(Resolved::Sofa(sofa_kind())),
        Format::Auto => {
            if let Some(k) = SofaLogKind::from_file_name(name) {
                return Some(Resolved::Sofa(k));
            }
            let t = first.trim_ascii_start();
            if !t.starts_with(b"{") {
                return None;
            }
            let has = |key: &[u8]| t.windows(key.len()).any(|w| w == key);
            if has(b"\"resourceSpans\"") {
                Some(Resolved::OtlpJson)
            } else if has(b"\"local.app\"") {
                Some(Resolved::Sofa(sofa_kind()))
            } else {
                Some(Resolved::V1)
            }
        }
    }
}

/// What a recording holds, in the order it is fed to the analyzer.
#[allow(clippy::large_enum_variant)]
pub(crate) enum What {
    Record(DigestRecord),
    Event(ChangeEvent),
}

/// A record or change event with the time it is ordered by (the record's start).
pub(crate) struct Item {
    pub time_us: u64,
    pub what: What,
}

/// What one line gave besides its items.
pub(crate) enum Outcome {
    /// Decoded (OTLP: with `rejected` spans of the request refused, and why).
    Ok { rejected: u64, reason: String },
    /// Refused whole.
    Bad(String),
    /// A SOFATracer stat line (per-period aggregates, not calls): skipped, counted.
    Stat,
}

/// Decodes one file's lines.
pub(crate) struct LineDecoder {
    format: Resolved,
    otlp: OtlpOptions,
    sofa: SofaOptions,
}

impl LineDecoder {
    pub(crate) fn new(format: Resolved, sofa: SofaOptions) -> Self {
        Self {
            format,
            otlp: OtlpOptions::default(),
            sofa,
        }
    }

    /// Decodes `line` (without its newline) into `out`.
    pub(crate) fn decode(&mut self, line: &[u8], out: &mut Vec<Item>) -> Outcome {
        match self.format {
            Resolved::V1 => match collector::decode_v1_line(line) {
                Ok(Line::Record(r)) => {
                    out.push(Item {
                        time_us: r.time_us,
                        what: What::Record(r),
                    });
                    Outcome::Ok {
                        rejected: 0,
                        reason: String::new(),
                    }
                }
                Ok(Line::Event(e)) => {
                    out.push(Item {
                        time_us: e.time_us,
                        what: What::Event(e),
                    });
                    Outcome::Ok {
                        rejected: 0,
                        reason: String::new(),
                    }
                }
                Err(e) => Outcome::Bad(e.to_string()),
            },
            Resolved::OtlpJson => {
                match collector::decode_otlp_with(line, OtlpFormat::Json, &self.otlp) {
                    Ok(batch) => {
                        for r in batch.records {
                            // Services seen so far are inside the platform (as the live
                            // collector's known services are).
                            if !self.otlp.platform_services.contains(&r.service) {
                                self.otlp.platform_services.insert(r.service.clone());
                            }
                            out.push(Item {
                                time_us: r.time_us,
                                what: What::Record(r),
                            });
                        }
                        Outcome::Ok {
                            rejected: batch.rejected_spans,
                            reason: batch.error_message,
                        }
                    }
                    Err(e) => Outcome::Bad(e.to_string()),
                }
            }
            Resolved::Sofa(kind) => match collector::decode_sofa_line(line, kind, &self.sofa) {
                Ok(SofaLine::Record(r)) => {
                    out.push(Item {
                        time_us: r.time_us,
                        what: What::Record(r),
                    });
                    Outcome::Ok {
                        rejected: 0,
                        reason: String::new(),
                    }
                }
                Ok(SofaLine::Stat(_)) => Outcome::Stat,
                Err(e) => Outcome::Bad(e.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_reads_the_name_then_the_first_line() {
        let v1 = br#"{"time":"2026-01-01T00:00:00.000000Z","trace_id":"x"}"#;
        let otlp = br#"{"resourceSpans":[]}"#;
        let sofa = br#"{"time":"2026-01-01 00:00:00.000","local.app":"web"}"#;
        assert_eq!(resolve(Format::Auto, "a.jsonl", v1), Some(Resolved::V1));
        assert_eq!(
            resolve(Format::Auto, "a.jsonl", otlp),
            Some(Resolved::OtlpJson)
        );
        assert_eq!(
            resolve(Format::Auto, "x.log", sofa),
            Some(Resolved::Sofa(SofaLogKind::RpcServer))
        );
        assert_eq!(
            resolve(Format::Auto, "logs/rpc-client-digest.log.gz", v1),
            Some(Resolved::Sofa(SofaLogKind::RpcClient))
        );
        assert_eq!(resolve(Format::Auto, "a.bin", b"\x00\x01garbage"), None);
        assert_eq!(resolve(Format::V1, "a.bin", b"garbage"), Some(Resolved::V1));
    }

    #[test]
    fn format_names_parse_and_unknown_ones_are_refused() {
        assert_eq!("otlp-json".parse::<Format>(), Ok(Format::OtlpJson));
        let e = "csv".parse::<Format>().unwrap_err();
        assert!(e.contains("csv") && e.contains("sofatracer"), "{e}");
    }
}
