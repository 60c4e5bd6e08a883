//! Change correlation (suspects, rollbacks, labels), with exact times. (The incident
//! lifecycle over the candidates is the `command` crate's: command/tests/book.rs.)

use analyzer::anomaly::{ChangeLog, ChangeRef};
use digest::{ChangeEvent, ChangeKind};

const T: u64 = 1_795_784_400_000_000; // 13:00:00Z
const S: u64 = 1_000_000;

fn ev(t: u64, kind: ChangeKind, svc: &str, v: &str) -> ChangeEvent {
    ChangeEvent {
        time_us: t,
        event: kind,
        service: svc.into(),
        version: v.into(),
        detail: String::new(),
        by: "ci".into(),
    }
}

#[test]
fn suspects_are_recent_changes_to_the_service_not_undone() {
    let mut log = ChangeLog::new(100);
    log.add(ev(T + 67 * S, ChangeKind::Deploy, "trade", "v2.3"));
    log.add(ev(T + 10 * S, ChangeKind::Config, "payment", ""));
    let lookback = 600 * S;
    let d = log.suspect_for("trade", T + 70 * S, lookback, 0).unwrap();
    assert_eq!(ChangeRef::of(d).label, "trade v2.3 at 13:01:07");
    assert!(
        log.suspect_for("trade", T + 60 * S, lookback, 0).is_none(),
        "after the onset"
    );
    assert!(
        log.suspect_for("trade", T + 66 * S, lookback, 2 * S)
            .is_some(),
        "within grace"
    );
    assert!(
        log.suspect_for("trade", T + 700 * S, lookback, 0).is_none(),
        "too old"
    );
    assert!(log.suspect_for("risk", T + 70 * S, lookback, 0).is_none());
    log.add(ev(T + 80 * S, ChangeKind::Rollback, "trade", "v2.2"));
    assert!(
        log.suspect_for("trade", T + 90 * S, lookback, 0).is_none(),
        "rolled back"
    );
    // Out-of-order arrival is kept in time order.
    log.add(ev(T + 85 * S, ChangeKind::Deploy, "trade", "v2.4"));
    assert_eq!(
        log.suspect_for("trade", T + 90 * S, lookback, 0)
            .unwrap()
            .version,
        "v2.4"
    );
    let any = log.any_before(T + 12 * S, 5 * S, 0).unwrap();
    assert_eq!(any.service, "payment");
    assert_eq!(ChangeRef::of(any).label, "payment config at 13:00:10");
}
