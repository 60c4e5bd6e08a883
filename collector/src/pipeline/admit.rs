//! What happens to a batch right after it is durable, before it is queued for
//! the store: retried duplicates are dropped, the rest are pre-aggregated per
//! second from borrowed views, platform services are learnt, and the kept lines
//! become the [`LineBatch`] the store writes. Runs under one lock, in write-ahead
//! sequence order, on the request's task (so it uses both cores, and replay
//! after a restart makes the same decisions).

use crate::dedup::{Dedup, Key};
use crate::preagg::Preagg;
use crate::scan::RecordView;
use crate::sources::otlp::KnownServices;
use crate::store::LineBatch;
use digest::{SecondRollup, SpanKind};

/// Dedup window, open seconds and what has been published.
pub(crate) struct Admission {
    dedup: Dedup,
    preagg: Preagg,
    /// Seconds before this one have been published.
    published_before: u64,
}

/// What admitting one batch did.
pub(crate) struct Admitted {
    pub kept: LineBatch,
    pub duplicates: u64,
    pub late: u64,
    /// Records older than the retention cutoff: not kept.
    pub outside_retention: u64,
}

/// The non-blank lines of a payload, without `\r\n` / `\n`.
pub(crate) fn record_lines(payload: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', payload).chain(std::iter::once(payload.len()));
    ends.map(move |end| {
        let l = &payload[start.min(end)..end];
        start = end + 1;
        l.strip_suffix(b"\r").unwrap_or(l)
    })
    .filter(|l| !l.iter().all(|b| b.is_ascii_whitespace()))
}

impl Admission {
    pub fn new(dedup_keys: usize) -> Self {
        Self {
            dedup: Dedup::new(dedup_keys),
            preagg: Preagg::new(),
            published_before: 0,
        }
    }

    /// Remembers keys already stored (a restart rebuilding its window).
    pub fn remember(&mut self, keys: impl IntoIterator<Item = Key>) {
        for k in keys {
            self.dedup.first_time_key(k);
        }
    }

    /// Admits one batch: `views[i]` describes the i-th non-blank line of `payload`.
    /// Records whose `time` is before `cutoff_us` are outside retention: not kept.
    pub fn admit(
        &mut self,
        payload: &[u8],
        views: &[RecordView<'_>],
        known: &KnownServices,
        cutoff_us: u64,
    ) -> Admitted {
        let mut kept = LineBatch::with_capacity(views.len(), payload.len());
        let (mut duplicates, mut late, mut outside_retention) = (0, 0, 0);
        let mut services: Vec<&str> = Vec::new();
        for (line, v) in record_lines(payload).zip(views) {
            if v.time_us < cutoff_us {
                outside_retention += 1;
                continue;
            }
            if !self.dedup.first_time_key((v.trace_id, v.span_id, v.kind)) {
                duplicates += 1;
                continue;
            }
            if v.time_us / 1_000_000 < self.published_before {
                late += 1;
            }
            self.preagg.add(v);
            if matches!(v.kind, SpanKind::Server | SpanKind::Internal)
                && !v.service.is_empty()
                && !services.contains(&v.service)
                && services.len() < 64
            {
                services.push(v.service);
            }
            kept.push(line, v);
        }
        known.observe_names(services);
        Admitted {
            kept,
            duplicates,
            late,
            outside_retention,
        }
    }

    /// Removes and returns every second before `second`.
    pub fn close_before(&mut self, second: u64) -> Vec<SecondRollup> {
        self.published_before = self.published_before.max(second);
        self.preagg.take_before(second)
    }

    /// Everything still open (shutdown).
    pub fn take_all(&mut self) -> Vec<SecondRollup> {
        self.preagg.take_all()
    }

    pub fn dedup_len(&self) -> usize {
        self.dedup.len()
    }
}

#[cfg(test)]
mod tests {
    use super::record_lines;

    #[test]
    fn record_lines_skip_blanks_and_line_ends() {
        let got: Vec<&[u8]> = record_lines(b"a\r\n\n  \nb\nc").collect();
        assert_eq!(got, vec![&b"a"[..], b"b", b"c"]);
        assert_eq!(record_lines(b"x\n").count(), 1);
        assert_eq!(record_lines(b"").count(), 0);
        assert_eq!(record_lines(b"\n\r\n").count(), 0);
    }
}
