//! The v1 field lists, declared once: every field of a call record
//! ([`RECORD_FIELDS`]) and of a change event ([`EVENT_FIELDS`]) with its name,
//! what its value is (and so its JSON type) and whether a line must carry it.
//!
//! The line codec reads and writes exactly these fields; the collector's fast
//! scanner and its ClickHouse schema follow the same tables. Each field also has
//! an enum variant ([`RecordField`], [`EventField`]) whose discriminant is its
//! index in the table, so code that handles every field is a `match` the
//! compiler checks for completeness, and tests beside each reader fail when one
//! drifts from the table. Encoders write record fields in table order, which
//! [`RecordField::lookup`] takes as its hint.

/// The JSON type of a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    String,
    /// A number without fraction or exponent.
    Integer,
    Bool,
    Object,
}

/// What a field's value is: finer than its JSON type (what parses and stores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// RFC 3339 UTC with six fractional digits.
    Time,
    /// 32 hex digits, not all zero.
    TraceId,
    /// 16 hex digits, not all zero.
    SpanId,
    /// `server`, `client`, `integrator` or `internal`.
    SpanKind,
    /// `deploy`, `config`, `rule`, `switch` or `rollback`.
    ChangeKind,
    Text,
    /// 0 ..= 2^64 - 1.
    U64,
    /// 0 ..= 2^32 - 1.
    U32,
    /// -2^63 ..= 2^63 - 1.
    I64,
    Bool,
    /// An object whose values are strings (business keys).
    Keys,
}

impl ValueType {
    /// How the value is written in JSON.
    pub const fn json_type(self) -> JsonType {
        match self {
            Self::Time
            | Self::TraceId
            | Self::SpanId
            | Self::SpanKind
            | Self::ChangeKind
            | Self::Text => JsonType::String,
            Self::U64 | Self::U32 | Self::I64 => JsonType::Integer,
            Self::Bool => JsonType::Bool,
            Self::Keys => JsonType::Object,
        }
    }
}

/// Whether a line must carry a field, and what its absence means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Every line carries it; a line without it is refused, naming the field.
    Required,
    /// May be left out; absent reads as the empty value (`""`, `false`, no keys).
    Optional,
    /// May be left out or `null`; absent is kept as "none", apart from every value.
    Nullable,
}

/// One row of a field table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec<F> {
    pub field: F,
    /// The JSON key.
    pub name: &'static str,
    pub value: ValueType,
    pub presence: Presence,
}

/// The fields of a v1 call record, in the order encoders write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordField {
    Time,
    TraceId,
    SpanId,
    ParentSpanId,
    Kind,
    Service,
    Instance,
    Zone,
    Operation,
    Peer,
    DurationUs,
    Success,
    Code,
    Error,
    Scene,
    Channel,
    Shadow,
    Version,
    Keys,
    AmountCents,
    SqlCount,
}

const fn spec<F>(
    field: F,
    name: &'static str,
    value: ValueType,
    presence: Presence,
) -> FieldSpec<F> {
    FieldSpec {
        field,
        name,
        value,
        presence,
    }
}

/// The v1 call record: one row per [`RecordField`], indexed by its discriminant.
pub const RECORD_FIELDS: [FieldSpec<RecordField>; 21] = {
    use Presence::{Nullable, Optional, Required};
    use RecordField as F;
    use ValueType as V;
    [
        spec(F::Time, "time", V::Time, Required),
        spec(F::TraceId, "trace_id", V::TraceId, Required),
        spec(F::SpanId, "span_id", V::SpanId, Required),
        spec(F::ParentSpanId, "parent_span_id", V::SpanId, Nullable),
        spec(F::Kind, "kind", V::SpanKind, Required),
        spec(F::Service, "service", V::Text, Required),
        spec(F::Instance, "instance", V::Text, Optional),
        spec(F::Zone, "zone", V::Text, Optional),
        spec(F::Operation, "operation", V::Text, Required),
        spec(F::Peer, "peer", V::Text, Optional),
        spec(F::DurationUs, "duration_us", V::U64, Required),
        spec(F::Success, "success", V::Bool, Required),
        spec(F::Code, "code", V::Text, Optional),
        spec(F::Error, "error", V::Text, Nullable),
        spec(F::Scene, "scene", V::Text, Optional),
        spec(F::Channel, "channel", V::Text, Optional),
        spec(F::Shadow, "shadow", V::Bool, Optional),
        spec(F::Version, "version", V::Text, Optional),
        spec(F::Keys, "keys", V::Keys, Optional),
        spec(F::AmountCents, "amount_cents", V::I64, Nullable),
        spec(F::SqlCount, "sql_count", V::U32, Nullable),
    ]
};

/// The fields of a v1 change event. A line with `event` is an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventField {
    Time,
    Event,
    Service,
    Version,
    Detail,
    By,
}

/// The v1 change event: one row per [`EventField`], indexed by its discriminant.
pub const EVENT_FIELDS: [FieldSpec<EventField>; 6] = {
    use EventField as F;
    use Presence::{Optional, Required};
    use ValueType as V;
    [
        spec(F::Time, "time", V::Time, Required),
        spec(F::Event, "event", V::ChangeKind, Required),
        spec(F::Service, "service", V::Text, Optional),
        spec(F::Version, "version", V::Text, Optional),
        spec(F::Detail, "detail", V::Text, Optional),
        spec(F::By, "by", V::Text, Optional),
    ]
};

// Each table row sits at its variant's discriminant (checked when compiling).
const _: () = {
    let mut i = 0;
    while i < RECORD_FIELDS.len() {
        assert!(RECORD_FIELDS[i].field as usize == i);
        i += 1;
    }
    let mut i = 0;
    while i < EVENT_FIELDS.len() {
        assert!(EVENT_FIELDS[i].field as usize == i);
        i += 1;
    }
};

impl RecordField {
    /// Its row of [`RECORD_FIELDS`].
    #[inline]
    pub const fn spec(self) -> &'static FieldSpec<RecordField> {
        &RECORD_FIELDS[self as usize]
    }

    /// The JSON key.
    #[inline]
    pub const fn name(self) -> &'static str {
        self.spec().name
    }

    /// The field named `name`, searching the table from index `expected` on
    /// (then from the start). Readers pass the index after the line's previous
    /// field: encoders write the table's order, so the first look usually hits.
    #[inline]
    pub fn lookup(name: &str, expected: usize) -> Option<RecordField> {
        let n = RECORD_FIELDS.len();
        let mut i = if expected < n { expected } else { 0 };
        let mut tried = 0;
        while tried < n {
            let f = &RECORD_FIELDS[i];
            if f.name.len() == name.len() && f.name == name {
                return Some(f.field);
            }
            i += 1;
            if i == n {
                i = 0;
            }
            tried += 1;
        }
        None
    }
}

impl EventField {
    /// Its row of [`EVENT_FIELDS`].
    #[inline]
    pub const fn spec(self) -> &'static FieldSpec<EventField> {
        &EVENT_FIELDS[self as usize]
    }

    /// The JSON key.
    #[inline]
    pub const fn name(self) -> &'static str {
        self.spec().name
    }

    /// The field named `name`.
    pub fn lookup(name: &str) -> Option<EventField> {
        EVENT_FIELDS
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_every_field_from_every_hint() {
        for f in RECORD_FIELDS {
            for hint in 0..=RECORD_FIELDS.len() + 1 {
                assert_eq!(
                    RecordField::lookup(f.name, hint),
                    Some(f.field),
                    "{}",
                    f.name
                );
            }
            assert_eq!(f.field.name(), f.name);
        }
        assert_eq!(RecordField::lookup("event", 0), None);
        assert_eq!(RecordField::lookup("", 3), None);
        for f in EVENT_FIELDS {
            assert_eq!(EventField::lookup(f.name), Some(f.field));
            assert_eq!(f.field.name(), f.name);
        }
        assert_eq!(EventField::lookup("kind"), None);
    }

    #[test]
    fn names_are_unique_and_shared_event_fields_agree_with_records() {
        for (i, a) in RECORD_FIELDS.iter().enumerate() {
            assert!(RECORD_FIELDS[i + 1..].iter().all(|b| b.name != a.name));
        }
        for e in EVENT_FIELDS {
            // A name in both tables (time, service, version) has one value type.
            if let Some(r) = RecordField::lookup(e.name, 0) {
                assert_eq!(r.spec().value, e.value, "{}", e.name);
            }
        }
    }
}
