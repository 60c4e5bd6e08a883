//! Incident lifecycle (open, provisional revision, dedup, supersede, recover)
//! and change correlation (suspects, rollbacks, labels), with exact times.

use analyzer::anomaly::{ChangeLog, ChangeRef};
use analyzer::impact::Impact;
use analyzer::incident::{IncidentBook, IncidentStatus, TickView};
use analyzer::{Candidate, CauseKind, RootCause};
use digest::{ChangeEvent, ChangeKind};

const T: u64 = 1_795_784_400_000_000; // 13:00:00Z
const S: u64 = 1_000_000;

fn cand(rc: RootCause, confidence: f64) -> Candidate {
    Candidate {
        root_cause: rc,
        confidence,
        evidence: vec![],
        codes: vec![],
        slow_share: 0.0,
    }
}

fn none(_: u64) -> Impact {
    Impact {
        users: 0,
        scenes: vec![],
        failed_payments: 0,
        money_at_stake_cents: 0,
        first_failure_us: 0,
    }
}

fn tick(book: &mut IncidentBook, now: u64, c: &[Candidate], bad: bool) {
    book.update(
        &TickView {
            now_us: now,
            candidates: c,
            any_unhealthy: bad,
            detected_us: T,
            start_us: T,
            recover_after_us: 3 * S,
            supersede_after_us: 5 * S,
            refine_us: 2 * S,
            min_confidence: 0.5,
        },
        none,
    );
}

#[test]
fn a_young_diagnosis_is_revised_in_place_then_a_new_cause_opens_a_new_incident() {
    let mut book = IncidentBook::new(10);
    let gw = cand(RootCause::service(CauseKind::Errors, "bank-gateway"), 0.78);
    let bank = cand(RootCause::bank("bank-b"), 0.9);
    tick(&mut book, T + S / 10, std::slice::from_ref(&gw), true);
    assert_eq!(book.open.len(), 1);
    tick(&mut book, T + 3 * S / 10, std::slice::from_ref(&bank), true);
    assert_eq!(book.open.len(), 1, "revised, not a second incident");
    let inc = &book.open[0];
    assert_eq!(inc.root_cause, bank.root_cause);
    assert_eq!(inc.revisions, vec![gw.root_cause.clone()]);
    assert_eq!(inc.diagnosed_us, T + 3 * S / 10);
    // Same cause again: deduplicated.
    tick(&mut book, T + S, std::slice::from_ref(&bank), true);
    assert_eq!(book.open.len(), 1);
    // Past the refine window a different cause is a new incident.
    let zone = cand(RootCause::zone("zone-b"), 0.9);
    tick(&mut book, T + 4 * S, &[zone.clone(), bank.clone()], true);
    assert_eq!(book.open.len(), 2);
    // The bank drops out of the candidates while something is still unhealthy:
    // superseded after 5 s.
    tick(&mut book, T + 9 * S, std::slice::from_ref(&zone), true);
    assert_eq!(book.open.len(), 1);
    assert_eq!(
        book.closed.back().unwrap().status,
        IncidentStatus::Superseded
    );
    // Everything healthy for 3 s: recovered.
    tick(&mut book, T + 10 * S, &[], false);
    assert_eq!(book.open.len(), 1, "not yet");
    tick(&mut book, T + 13 * S, &[], false);
    assert!(book.open.is_empty());
    let z = book.closed.back().unwrap();
    assert_eq!(z.status, IncidentStatus::Recovered);
    assert_eq!(z.recovered_us, Some(T + 10 * S));
}

#[test]
fn low_confidence_opens_nothing() {
    let mut book = IncidentBook::new(10);
    tick(
        &mut book,
        T,
        &[cand(RootCause::service(CauseKind::Overload, "x"), 0.4)],
        true,
    );
    assert!(book.open.is_empty());
}

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
