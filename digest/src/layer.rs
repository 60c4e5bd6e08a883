//! The `tracing-subscriber` layer that turns finished call spans into digest
//! lines: what each span collects ([`CallData`]), and how it is written. The
//! span fields it reads are documented on [`DigestLayer`].

mod call;

use crate::sink::Sink;
use crate::time::SharedClock;
use call::CallData;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// Target of the spans this layer turns into digests.
const TARGET: &str = "digest";

/// Turns closed `digest` spans into v1 lines: how a Rust service instrumented
/// with `tracing` writes digests (see the crate documentation for a complete
/// use, and `examples/pay_service/` for a tokio service written this way).
///
/// A call span is any span with target `"digest"`. Its fields map onto the v1
/// record: `kind`, `service`, `operation`, `peer`, `instance`, `zone`, `scene`,
/// `channel`, `version`, `code`, `error` (strings); `shadow`, `success` (bools);
/// `trace_id` (u128), `span_id`, `parent_span_id` (u64, 0 = none);
/// `amount_cents`, `sql_count` (integers); `key.<name>` (a business key such as
/// `key.merchant`); and `extra_us`, simulated time added to the measured
/// duration. Fields may be declared `Empty` and recorded later (`code`,
/// `success`, …); each is taken once. The ids are the caller's to carry (from
/// the incoming request's trace context): the layer does not derive them from
/// the span tree.
///
/// `kind = "rpc"` is a call made and served inside one process: one span,
/// written as two records. Its `service`, `instance`, `version`, `span_id`
/// describe the server; `peer` is the caller; `parent_span_id` is the client's
/// span id (the server's parent); `client_instance`, `client_version` and
/// `client_parent_span_id` complete the client record, which shares everything
/// else (and the duration).
///
/// `time` is the clock at span creation and `duration_us` the clock at close
/// minus that (plus `extra_us`). The line is written straight from the fields
/// into one buffer — no intermediate record — and handed to the [`Sink`]. Spans
/// lacking a required field (`trace_id`, `span_id`, a valid `kind`, `service`,
/// `operation`) are counted in [`DigestLayer::invalid`] and produce nothing.
pub struct DigestLayer {
    sink: Arc<dyn Sink>,
    clock: SharedClock,
    instance: String,
    invalid: Arc<AtomicU64>,
}

impl DigestLayer {
    /// `instance` is written when a span does not name its own.
    pub fn new(sink: Arc<dyn Sink>, clock: SharedClock, instance: impl Into<String>) -> Self {
        Self {
            sink,
            clock,
            instance: instance.into(),
            invalid: Arc::new(AtomicU64::new(0)),
        }
    }
    /// A counter of spans dropped for lacking a required field.
    pub fn invalid(&self) -> Arc<AtomicU64> {
        self.invalid.clone()
    }
}

/// A registry with only the digest layer: what a process installs to write digests.
pub fn subscriber(layer: DigestLayer) -> impl Subscriber + Send + Sync {
    use tracing_subscriber::layer::SubscriberExt;
    tracing_subscriber::registry().with(layer)
}

thread_local! {
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(1024));
}

impl<S> Layer<S> for DigestLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.is_span() && meta.target() == TARGET {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        meta.is_span() && meta.target() == TARGET
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().target() != TARGET {
            return;
        }
        let mut data = CallData::pooled(self.clock.now_us());
        attrs.record(&mut data);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(data);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(data) = span.extensions_mut().get_mut::<CallData>() {
                values.record(data);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(data) = span.extensions_mut().remove::<CallData>() else {
            return;
        };
        let end = self.clock.now_us();
        LINE.with(|buf| {
            let mut out = buf.borrow_mut();
            let sink = &self.sink;
            if !data.finish(end, &self.instance, &mut out, |svc, line| {
                sink.line(svc, line)
            }) {
                self.invalid.fetch_add(1, Ordering::Relaxed);
            }
        });
        data.recycle();
    }
}

#[cfg(test)]
mod tests;
