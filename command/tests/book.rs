//! The incident lifecycle over the analyzer's candidates, with exact times: open, a young
//! diagnosis revised in place (one id), dedup, superseded, recovered; the timeline each
//! incident carries; the episode's start and detection times.

use analyzer::{Candidate, CauseKind, Impact, RootCause};
use command::{BookConfig, EntryKind, IncidentBook, IncidentStatus, Observation};

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
    tick_graph(book, now, c, bad, &|_, _| false);
}

fn tick_graph(
    book: &mut IncidentBook,
    now: u64,
    c: &[Candidate],
    bad: bool,
    calls: &dyn Fn(&str, &str) -> bool,
) {
    book.update(
        &Observation {
            now_us: now,
            candidates: c,
            any_unhealthy: bad,
            calls,
        },
        none,
    );
}

/// A call graph: `web → orders → ledger-svc → bank-x`, and `web → search`.
fn graph(caller: &str, callee: &str) -> bool {
    let below: &[&str] = match caller {
        "web" => &["orders", "ledger-svc", "bank-x", "search"],
        "orders" => &["ledger-svc", "bank-x"],
        "ledger-svc" => &["bank-x"],
        _ => &[],
    };
    below.contains(&callee)
}

#[test]
fn latency_on_the_callers_of_a_blamed_service_is_its_symptom_not_another_incident() {
    let mut book = IncidentBook::new(BookConfig::default());
    let cause = cand(RootCause::service(CauseKind::Latency, "ledger-svc"), 0.8);
    tick_graph(&mut book, T, std::slice::from_ref(&cause), true, &graph);
    // Past the refine window, the callers show it, the cause itself less (mitigated):
    // still one incident, seen, on its cause.
    let orders = cand(RootCause::service(CauseKind::Latency, "orders"), 0.85);
    let web = cand(RootCause::service(CauseKind::Errors, "web"), 0.7);
    for k in 3..15 {
        tick_graph(
            &mut book,
            T + k * S,
            &[orders.clone(), web.clone()],
            true,
            &graph,
        );
    }
    assert_eq!(book.open().len(), 1, "{:#?}", book.open());
    assert_eq!(book.open()[0].root_cause, cause.root_cause);
    assert_eq!(book.open()[0].last_seen_us, T + 14 * S);
    // A service off that path is another fault; so is another kind of cause upstream.
    let search = cand(RootCause::service(CauseKind::Latency, "search"), 0.8);
    tick_graph(
        &mut book,
        T + 15 * S,
        &[search, orders.clone()],
        true,
        &graph,
    );
    assert_eq!(book.open().len(), 2);
    let mut release = RootCause::service(CauseKind::BadRelease, "web");
    release.change = None;
    tick_graph(&mut book, T + 18 * S, &[cand(release, 0.9)], true, &graph);
    assert_eq!(book.open().len(), 3);
    // A failing bank: errors on the services above it are its symptom.
    let mut book = IncidentBook::new(BookConfig::default());
    let bank = cand(RootCause::bank("bank-x"), 0.9);
    tick_graph(&mut book, T, std::slice::from_ref(&bank), true, &graph);
    let gw = cand(RootCause::service(CauseKind::Errors, "ledger-svc"), 0.95);
    tick_graph(&mut book, T + 5 * S, &[gw, bank.clone()], true, &graph);
    assert_eq!(book.open().len(), 1);
    assert_eq!(book.open()[0].root_cause, bank.root_cause);
}

#[test]
fn a_young_diagnosis_is_revised_in_place_then_a_new_cause_opens_a_new_incident() {
    let mut book = IncidentBook::new(BookConfig {
        history: 10,
        ..BookConfig::default()
    });
    let gw = cand(RootCause::service(CauseKind::Errors, "bank-gateway"), 0.78);
    let bank = cand(RootCause::bank("bank-b"), 0.9);
    tick(&mut book, T + S / 10, std::slice::from_ref(&gw), true);
    assert_eq!(book.open().len(), 1);
    tick(&mut book, T + 3 * S / 10, std::slice::from_ref(&bank), true);
    assert_eq!(book.open().len(), 1, "revised, not a second incident");
    let inc = &book.open()[0];
    assert_eq!(inc.root_cause, bank.root_cause);
    assert_eq!(inc.revisions, vec![gw.root_cause.clone()]);
    assert_eq!(inc.diagnosed_us, T + 3 * S / 10);
    assert_eq!(
        (inc.start_us, inc.detected_us),
        (T + S / 10, T + S / 10),
        "the episode's first flag (no failure was seen to date it earlier)"
    );
    let kinds: Vec<EntryKind> = inc.timeline.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EntryKind::FirstBadRequest,
            EntryKind::Detected,
            EntryKind::Diagnosed,
            EntryKind::Revised
        ]
    );
    assert_eq!(
        inc.timeline[3].detail,
        "errors service:bank-gateway → dependency bank:bank-b"
    );
    // Same cause again: deduplicated.
    tick(&mut book, T + S, std::slice::from_ref(&bank), true);
    assert_eq!(book.open().len(), 1);
    // Past the refine window a different cause is a new incident.
    let zone = cand(RootCause::zone("zone-b"), 0.9);
    tick(&mut book, T + 4 * S, &[zone.clone(), bank.clone()], true);
    assert_eq!(book.open().len(), 2);
    // The bank drops out of the candidates while something is still unhealthy:
    // superseded after 5 s.
    tick(&mut book, T + 9 * S, std::slice::from_ref(&zone), true);
    assert_eq!(book.open().len(), 1);
    assert_eq!(
        book.closed().next_back().unwrap().status,
        IncidentStatus::Superseded
    );
    // Everything healthy for 3 s: recovered.
    tick(&mut book, T + 10 * S, &[], false);
    assert_eq!(book.open().len(), 1, "not yet");
    tick(&mut book, T + 13 * S, &[], false);
    assert!(book.open().is_empty());
    let z = book.closed().next_back().unwrap();
    assert_eq!(z.status, IncidentStatus::Recovered);
    assert_eq!(z.recovered_us, Some(T + 10 * S));
}

#[test]
fn low_confidence_opens_nothing() {
    let mut book = IncidentBook::new(BookConfig {
        history: 10,
        ..BookConfig::default()
    });
    tick(
        &mut book,
        T,
        &[cand(RootCause::service(CauseKind::Overload, "x"), 0.4)],
        true,
    );
    assert!(book.open().is_empty());
}

#[test]
fn one_component_is_one_incident_whatever_the_kind() {
    let mut book = IncidentBook::new(BookConfig::default());
    let slow = cand(RootCause::service(CauseKind::Latency, "risk"), 0.8);
    let failing = cand(RootCause::service(CauseKind::Errors, "risk"), 0.9);
    tick(&mut book, T, std::slice::from_ref(&slow), true);
    // Well past the refine window the slow service starts failing: the same incident.
    for k in 1..=10 {
        tick(&mut book, T + k * S, std::slice::from_ref(&slow), true);
    }
    tick(&mut book, T + 11 * S, std::slice::from_ref(&failing), true);
    tick(
        &mut book,
        T + 12 * S,
        &[slow.clone(), failing.clone()],
        true,
    );
    assert_eq!(book.open().len(), 1);
    assert!(book.closed().next().is_none());
    let i = &book.open()[0];
    assert_eq!(
        i.root_cause.kind,
        CauseKind::Latency,
        "the top candidate wins each tick"
    );
    assert_eq!(i.revisions.len(), 2, "latency → errors → latency");
    assert_eq!(i.id, 1);
}

#[test]
fn a_symptoms_incident_moves_to_its_cause() {
    let mut book = IncidentBook::new(BookConfig::default());
    let entry = cand(RootCause::service(CauseKind::Errors, "cashier"), 0.7);
    let bank = cand(RootCause::bank("bank-b"), 0.9);
    for k in 0..5 {
        tick(&mut book, T + k * S, std::slice::from_ref(&entry), true);
    }
    // Past the refine window, the entry's errors are no longer named on their own; the
    // bank behind them is.
    tick(&mut book, T + 5 * S, &[], true);
    tick(&mut book, T + 6 * S, std::slice::from_ref(&bank), true);
    assert_eq!(book.open().len(), 1, "{:#?}", book.open());
    let i = &book.open()[0];
    assert_eq!((i.id, i.root_cause.bank.as_deref()), (1, Some("bank-b")));
    assert_eq!(i.timeline.last().unwrap().kind, EntryKind::Revised);
}

#[test]
fn a_flapping_fault_reopens_its_incident() {
    let mut book = IncidentBook::new(BookConfig::default());
    let bank = cand(RootCause::bank("bank-c"), 0.9);
    for flap in 0..4u64 {
        let on = T + flap * 10 * S;
        for k in 0..3 {
            tick(&mut book, on + k * S, std::slice::from_ref(&bank), true);
        }
        // Off long enough to close as recovered.
        for k in 3..10 {
            tick(&mut book, on + k * S, &[], false);
        }
        assert!(book.open().is_empty(), "flap {flap}: closed while off");
    }
    let all: Vec<_> = book.all().collect();
    assert_eq!(
        all.len(),
        1,
        "one incident for the whole flapping: {all:#?}"
    );
    let reopened = all[0]
        .timeline
        .iter()
        .filter(|e| e.kind == EntryKind::Reopened)
        .count();
    assert_eq!(reopened, 3);
    // Long after, the same cause is a new fault.
    tick(&mut book, T + 200 * S, std::slice::from_ref(&bank), true);
    assert_eq!(book.open()[0].id, 2);
}
