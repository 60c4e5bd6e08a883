//! A v1 record line with every field set, for the unit tests of what must
//! carry each field (the scanner, the ClickHouse rows).

pub(crate) const EVERY_FIELD: &str = r#"{"time":"2026-11-27T13:01:37.123456Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","parent_span_id":"0000000000000007","kind":"integrator","service":"bank-gateway","instance":"bg-1","zone":"gz-a","operation":"BankChannel.debit","peer":"icbc","duration_us":5123,"success":false,"code":"BANK_TIMEOUT","error":"Timeout","scene":"quick_pay","channel":"SDK","shadow":true,"version":"1.4.2","keys":{"merchant":"m7","user":"u42"},"amount_cents":-1999,"sql_count":3}"#;
