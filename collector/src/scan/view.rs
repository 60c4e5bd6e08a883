//! [`RecordView`]: a digest record borrowing its strings from the line it was
//! scanned from (or from an owned record), and its business keys.

use digest::{DigestRecord, Keys, SpanId, SpanKind, TraceId};

/// Business keys of a view: the raw JSON object (validated) or a decoded map.
#[derive(Debug, Clone, Copy)]
pub enum KeysRef<'a> {
    None,
    /// The `{...}` text, known to hold only plain string pairs.
    Raw(&'a str),
    Map(&'a Keys),
}

/// A digest record borrowing its strings from the line (or from a record).
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    pub time_us: u64,
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent_span_id: Option<SpanId>,
    pub kind: SpanKind,
    pub service: &'a str,
    pub instance: &'a str,
    pub zone: &'a str,
    pub operation: &'a str,
    pub peer: &'a str,
    pub duration_us: u64,
    pub success: bool,
    pub code: &'a str,
    pub error: Option<&'a str>,
    pub scene: &'a str,
    pub channel: &'a str,
    pub shadow: bool,
    pub version: &'a str,
    pub keys: KeysRef<'a>,
    pub amount_cents: Option<i64>,
    pub sql_count: Option<u32>,
}

impl RecordView<'static> {
    /// A placeholder view (zero ids, empty strings).
    pub const EMPTY: RecordView<'static> = RecordView {
        time_us: 0,
        trace_id: TraceId(0),
        span_id: SpanId(0),
        parent_span_id: None,
        kind: SpanKind::Server,
        service: "",
        instance: "",
        zone: "",
        operation: "",
        peer: "",
        duration_us: 0,
        success: true,
        code: "",
        error: None,
        scene: "",
        channel: "",
        shadow: false,
        version: "",
        keys: KeysRef::None,
        amount_cents: None,
        sql_count: None,
    };
}

impl<'a> RecordView<'a> {
    /// A view of an owned record.
    pub fn of(r: &'a DigestRecord) -> Self {
        Self {
            time_us: r.time_us,
            trace_id: r.trace_id,
            span_id: r.span_id,
            parent_span_id: r.parent_span_id,
            kind: r.kind,
            service: &r.service,
            instance: &r.instance,
            zone: &r.zone,
            operation: &r.operation,
            peer: &r.peer,
            duration_us: r.duration_us,
            success: r.success,
            code: &r.code,
            error: r.error.as_deref(),
            scene: &r.scene,
            channel: &r.channel,
            shadow: r.shadow,
            version: &r.version,
            keys: KeysRef::Map(&r.keys),
            amount_cents: r.amount_cents,
            sql_count: r.sql_count,
        }
    }

    /// The owned record (what `digest::decode_record` would return for the line).
    pub fn to_record(self) -> DigestRecord {
        let keys = match self.keys {
            KeysRef::None => Keys::new(),
            KeysRef::Map(m) => m.clone(),
            KeysRef::Raw(raw) => raw_pairs(raw),
        };
        DigestRecord {
            time_us: self.time_us,
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            kind: self.kind,
            service: self.service.to_owned(),
            instance: self.instance.to_owned(),
            zone: self.zone.to_owned(),
            operation: self.operation.to_owned(),
            peer: self.peer.to_owned(),
            duration_us: self.duration_us,
            success: self.success,
            code: self.code.to_owned(),
            error: self.error.map(str::to_owned),
            scene: self.scene.to_owned(),
            channel: self.channel.to_owned(),
            shadow: self.shadow,
            version: self.version.to_owned(),
            keys,
            amount_cents: self.amount_cents,
            sql_count: self.sql_count,
        }
    }
}

/// Pairs of an already validated plain keys object (later duplicates win, as in a map).
fn raw_pairs(raw: &str) -> Keys {
    let mut keys = Keys::new();
    // Validated: `{ "k" : "v" , ... }` with no escapes, so quotes delimit strings.
    let mut parts = raw.split('"').skip(1).step_by(2);
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        keys.insert(k.to_owned(), v.to_owned());
    }
    keys
}
