use super::*;
use digest::{FieldSpec, SpanId, ValueType, EVENT_FIELDS};
use serde_json::{json, Map, Value};

const GOOD: &str = crate::test_lines::EVERY_FIELD;

#[test]
fn plain_line_matches_reference() {
    let v = scan_record(GOOD.as_bytes()).expect("plain line");
    assert_eq!(
        v.to_record(),
        digest::decode_record(GOOD.as_bytes()).unwrap()
    );
    let spaced = GOOD.replace(",\"", " , \"").replace(":", " : ");
    let spaced = spaced.replace("T13 : 01 : 37", "T13:01:37");
    let v = scan_record(spaced.as_bytes()).expect("spaced line");
    assert_eq!(
        v.to_record(),
        digest::decode_record(GOOD.as_bytes()).unwrap()
    );
}

#[test]
fn non_ascii_strings_are_validated() {
    let zh = GOOD.replace("quick_pay", "快捷支付");
    let v = scan_record(zh.as_bytes()).expect("UTF-8 scene");
    assert_eq!(v.scene, "快捷支付");
    assert_eq!(v.to_record(), digest::decode_record(zh.as_bytes()).unwrap());
    let mut bad = zh.into_bytes();
    let at = bad.iter().position(|&b| b >= 0x80).unwrap();
    bad[at] = 0xff;
    assert!(scan_record(&bad).is_none());
    assert!(digest::decode_line(&bad).is_err());
    // Hex ids: either case, never all zero, exactly the reference's rule.
    assert_eq!(
        span_id("00F067AA0BA902B7"),
        SpanId::parse("00F067AA0BA902B7").ok()
    );
    assert_eq!(span_id("0000000000000000"), None);
    assert_eq!(span_id("00f067aa0ba902bg"), None);
    assert_eq!(trace_id(&"0".repeat(32)), None);
}

#[test]
fn unusual_lines_fall_back() {
    for bad in [
        GOOD.replace("\"m7\"", "\"m\\u0037\""),
        GOOD.replace("\"sql_count\":3", "\"sql_count\":3,\"sql_count\":4"),
        GOOD.replace("\"sql_count\":3", "\"x\":[1]"),
        GOOD.replace("5123", "05123"),
        GOOD.replace("5123", "5123.0"),
        GOOD.replace("\"service\":\"bank-gateway\"", "\"service\":\"\""),
        format!("{GOOD} x"),
    ] {
        assert!(scan_record(bad.as_bytes()).is_none(), "{bad}");
    }
    // The fallback still decodes what is valid.
    let esc = GOOD.replace("\"m7\"", "\"m\\u0037\"");
    let r = decode_fast(esc.as_bytes()).unwrap();
    assert_eq!(r, digest::decode_line(GOOD.as_bytes()).unwrap());
}

/// A value for `spec`'s field unlike the one in `GOOD` (`current`).
fn another_value(spec: &FieldSpec<RecordField>, current: &Value) -> Value {
    match spec.value {
        ValueType::Time => json!("2027-01-02T03:04:05.000006Z"),
        ValueType::TraceId => json!("0123456789abcdef0123456789abcdef"),
        ValueType::SpanId => json!("00000000000000aa"),
        ValueType::SpanKind => json!("client"),
        ValueType::ChangeKind => json!("deploy"),
        ValueType::Text => json!("zz-other"),
        ValueType::U64 | ValueType::U32 => json!(77),
        ValueType::I64 => json!(-77),
        ValueType::Bool => json!(!current.as_bool().unwrap()),
        ValueType::Keys => json!({"bank": "b9"}),
    }
}

#[test]
fn scanner_reads_every_table_field() {
    let good: Map<String, Value> = serde_json::from_str(GOOD).unwrap();
    let names: Vec<&str> = RECORD_FIELDS.iter().map(|f| f.name).collect();
    assert_eq!(good.keys().count(), names.len(), "GOOD carries every field");
    let original = digest::decode_record(GOOD.as_bytes()).unwrap();
    for spec in &RECORD_FIELDS {
        let name = spec.name;
        // Another value (in a line whose keys come sorted, not in table order):
        // the scanner takes it as the reference does.
        let mut m = good.clone();
        let other = another_value(spec, &good[name]);
        m.insert(name.into(), other.clone());
        let line = serde_json::to_string(&m).unwrap();
        let reference = digest::decode_record(line.as_bytes()).unwrap();
        assert_ne!(reference, original, "{name}: the value changed");
        let v = scan_record(line.as_bytes()).unwrap_or_else(|| panic!("{name}: not scanned"));
        assert_eq!(v.to_record(), reference, "{name}");
        // Left out: fine unless required (the reference then refuses the line).
        m.remove(name);
        let line = serde_json::to_string(&m).unwrap();
        match spec.presence {
            Presence::Required => {
                assert!(scan_record(line.as_bytes()).is_none(), "{name}");
                let err = digest::decode_line(line.as_bytes()).unwrap_err();
                assert_eq!(err.field.as_deref(), Some(name));
            }
            Presence::Optional | Presence::Nullable => {
                let v = scan_record(line.as_bytes()).unwrap_or_else(|| panic!("{name}"));
                assert_eq!(
                    v.to_record(),
                    digest::decode_record(line.as_bytes()).unwrap()
                );
            }
        }
        // Twice: left to the reference.
        let twice = format!("{{\"{name}\":{other},{}", &GOOD[1..]);
        assert!(scan_record(twice.as_bytes()).is_none(), "{name}");
    }
    // Change-event fields are the reference's too, even in a record line.
    for spec in &EVENT_FIELDS {
        if RecordField::lookup(spec.name, 0).is_none() {
            let line = format!("{{\"{}\":\"x\",{}", spec.name, &GOOD[1..]);
            assert!(scan_record(line.as_bytes()).is_none(), "{}", spec.name);
            assert_eq!(
                decode_fast(line.as_bytes()),
                digest::decode_line(line.as_bytes())
            );
        }
    }
}
