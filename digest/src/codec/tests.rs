use super::*;
use crate::fields::{JsonType, Presence, EVENT_FIELDS, RECORD_FIELDS};
use crate::ids::{SpanId, TraceId};
use crate::record::{ChangeKind, Keys, SpanKind};
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::{json, Map, Value};

fn sample() -> DigestRecord {
    let mut keys = Keys::new();
    keys.insert("user".into(), "u42".into());
    keys.insert("merchant".into(), "m\"7".into());
    DigestRecord {
        time_us: 1_795_784_497_123_456,
        trace_id: TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736),
        span_id: SpanId(0x00f067aa0ba902b7),
        parent_span_id: Some(SpanId(7)),
        kind: SpanKind::Integrator,
        service: "bank-gateway".into(),
        instance: "bank-gateway-1".into(),
        zone: "gz-a".into(),
        operation: "BankChannel.debit".into(),
        peer: "icbc".into(),
        duration_us: 5123,
        success: false,
        code: "BANK_TIMEOUT".into(),
        error: Some("Timeout".into()),
        scene: "quick_pay".into(),
        channel: "SDK".into(),
        shadow: true,
        version: "1.4.2".into(),
        keys,
        amount_cents: Some(-1999),
        sql_count: Some(3),
    }
}

#[test]
fn record_round_trip() {
    let r = sample();
    let line = record_to_line(&r);
    assert!(line.ends_with('\n'));
    assert_eq!(decode_record(line.as_bytes()).unwrap(), r);
    // serde_json agrees it is valid JSON.
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(v["keys"]["merchant"], "m\"7");
}

fn sample_event() -> ChangeEvent {
    ChangeEvent {
        time_us: 1_795_784_497_000_000,
        event: ChangeKind::Deploy,
        service: "trade".into(),
        version: "2.3".into(),
        detail: "canary\tall".into(),
        by: "ci".into(),
    }
}

#[test]
fn event_round_trip() {
    let e = sample_event();
    let line = event_to_line(&e);
    assert_eq!(
        decode_line(line.as_bytes()).unwrap(),
        Line::Event(e.clone())
    );
    assert_eq!(decode_event(line.as_bytes()).unwrap(), e);
    assert!(decode_record(line.as_bytes()).is_err());
}

#[test]
fn unknown_fields_ignored_and_optional_absent() {
    let line = br#"{"time":"2026-11-27T13:01:37.000000Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","kind":"server","service":"trade","operation":"pay","duration_us":10,"success":true,"extra":{"a":[1,2]},"parent_span_id":null}"#;
    let r = decode_record(line).unwrap();
    assert_eq!(r.service, "trade");
    assert_eq!(r.parent_span_id, None);
    assert!(r.keys.is_empty());
}

#[test]
fn bad_lines_name_the_field() {
    let good = record_to_line(&sample());
    let cases: Vec<(String, Option<&str>)> = vec![
        (
            good.replace("\"kind\":\"integrator\"", "\"kind\":\"server2\""),
            Some("kind"),
        ),
        (
            good.replace("\"duration_us\":5123", "\"duration_us\":\"5\""),
            Some("duration_us"),
        ),
        (
            good.replace("\"duration_us\":5123", "\"duration_us\":-5"),
            Some("duration_us"),
        ),
        (good.replace("00f067aa0ba902b7", "xyz"), Some("span_id")),
        (
            good.replace("2026-11-27T13:01:37.123456Z", "yesterday"),
            Some("time"),
        ),
        (
            good.replace("\"success\":false", "\"success\":\"no\""),
            Some("success"),
        ),
        (
            good.replace("\"service\":\"bank-gateway\",", ""),
            Some("service"),
        ),
        (
            good.replace("\"keys\":{", "\"keys\":{\"n\":1,"),
            Some("keys"),
        ),
        ("{\"time\":".to_string(), Some("time")),
        ("[1,2,3]".to_string(), None),
        ("".to_string(), None),
        (format!("{} trailing", good.trim_end()), None),
    ];
    for (line, field) in cases {
        let err = decode_line(line.as_bytes()).unwrap_err();
        assert_eq!(err.field.as_deref(), field, "{line} -> {err}");
        assert!(!err.reason.is_empty());
    }
}

#[test]
fn never_panics_on_prefixes_and_bytes() {
    let good = record_to_line(&sample());
    let b = good.as_bytes();
    for i in 0..b.len() {
        let _ = decode_line(&b[..i]);
        let mut m = b.to_vec();
        m[i] = m[i].wrapping_add(1);
        let _ = decode_line(&m);
        m[i] = 0xff;
        let _ = decode_line(&m);
    }
}

/// The top-level keys of a JSON object line, in the order written.
fn keys_in_order(line: &str) -> Vec<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            while let Some((k, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                out.push(k);
            }
            Ok(out)
        }
    }
    use serde::Deserializer as _;
    serde_json::Deserializer::from_str(line)
        .deserialize_map(Keys)
        .unwrap()
}

#[test]
fn encoders_write_every_table_field_in_table_order() {
    // `sample` sets every field, so every one is written.
    let names: Vec<&str> = RECORD_FIELDS.iter().map(|f| f.name).collect();
    assert_eq!(keys_in_order(&record_to_line(&sample())), names);
    let names: Vec<&str> = EVENT_FIELDS.iter().map(|f| f.name).collect();
    assert_eq!(keys_in_order(&event_to_line(&sample_event())), names);
    // Left empty, only the required record fields remain.
    let bare = DigestRecord {
        service: "s".into(),
        operation: "o".into(),
        trace_id: TraceId(1),
        span_id: SpanId(1),
        ..Default::default()
    };
    let required: Vec<&str> = RECORD_FIELDS
        .iter()
        .filter(|f| f.presence == Presence::Required)
        .map(|f| f.name)
        .collect();
    assert_eq!(keys_in_order(&record_to_line(&bare)), required);
}

/// A value of another JSON type than `t`.
fn wrong_type(t: JsonType) -> Value {
    match t {
        JsonType::String => json!(5),
        JsonType::Integer => json!("5"),
        JsonType::Bool => json!(1),
        JsonType::Object => json!([]),
    }
}

fn line_of(m: &Map<String, Value>) -> String {
    serde_json::to_string(m).unwrap()
}

#[test]
fn decoder_follows_the_record_table() {
    let good: Map<String, Value> = serde_json::from_str(&record_to_line(&sample())).unwrap();
    for spec in RECORD_FIELDS {
        let name = spec.name;
        let mut m = good.clone();
        m.remove(name);
        let absent = decode_line(line_of(&m).as_bytes());
        m.insert(name.into(), Value::Null);
        let null = decode_line(line_of(&m).as_bytes());
        match spec.presence {
            Presence::Required => {
                assert_eq!(absent.unwrap_err().field.as_deref(), Some(name));
                assert_eq!(null.unwrap_err().field.as_deref(), Some(name));
            }
            Presence::Optional => {
                let Ok(Line::Record(r)) = absent else {
                    panic!("{name}: {absent:?}")
                };
                assert!(!record_to_line(&r).contains(&format!("\"{name}\":")));
                assert_eq!(null.unwrap_err().field.as_deref(), Some(name));
            }
            Presence::Nullable => {
                assert_eq!(absent, null, "{name}: null reads as absent");
                let Ok(Line::Record(r)) = null else {
                    panic!("{name}: {null:?}")
                };
                assert!(!record_to_line(&r).contains(&format!("\"{name}\":")));
            }
        }
        m.insert(name.into(), wrong_type(spec.value.json_type()));
        let err = decode_line(line_of(&m).as_bytes()).unwrap_err();
        assert_eq!(err.field.as_deref(), Some(name), "{err}");
    }
}

#[test]
fn decoder_follows_the_event_table() {
    let good: Map<String, Value> = serde_json::from_str(&event_to_line(&sample_event())).unwrap();
    for spec in EVENT_FIELDS {
        let name = spec.name;
        let mut m = good.clone();
        m.remove(name);
        let absent = decode_event(line_of(&m).as_bytes());
        match spec.presence {
            // Without `event` the line is read as a record, and refused as one.
            Presence::Required => assert!(absent.is_err(), "{name}"),
            Presence::Optional | Presence::Nullable => {
                assert_ne!(absent.unwrap(), sample_event(), "{name} was read")
            }
        }
        m.insert(name.into(), wrong_type(spec.value.json_type()));
        let err = decode_line(line_of(&m).as_bytes()).unwrap_err();
        assert_eq!(err.field.as_deref(), Some(name), "{err}");
    }
}
