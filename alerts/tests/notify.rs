//! End-to-end: samples → rules → groups → a real SMTP server and a real HTTP webhook
//! listener. One incident with many alerts sends one e-mail and one webhook per group;
//! failures are retried with backoff and counted; history and silences survive a restart.

use alerts::*;
use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
use digest::{Clock, ManualClock, SharedClock};
use parking_lot::Mutex;
use serde_json::Value;
use std::sync::Arc;

const T0: u64 = 1_795_785_000_000_000;

#[derive(Clone, Default)]
struct Hook {
    bodies: Arc<Mutex<Vec<Value>>>,
    fail_first: Arc<Mutex<u32>>,
}

async fn hook(State(h): State<Hook>, Json(v): Json<Value>) -> StatusCode {
    let mut f = h.fail_first.lock();
    if *f > 0 {
        *f -= 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    h.bodies.lock().push(v);
    StatusCode::OK
}

async fn webhook_server(fail_first: u32) -> (String, Hook) {
    let h = Hook::default();
    *h.fail_first.lock() = fail_first;
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(h.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/hook"), h)
}

/// The SMTP relay started by `scripts/test`; `None` (with a notice) outside it, a failure under CI.
fn smtp() -> Option<(String, std::path::PathBuf)> {
    match (
        std::env::var("WARROOM_SMTP_ADDR"),
        std::env::var("WARROOM_SMTP_MAILDIR"),
    ) {
        (Ok(a), Ok(d)) => Some((a, d.into())),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but WARROOM_SMTP_ADDR/WARROOM_SMTP_MAILDIR are unset: run the tests with scripts/test"
            );
            eprintln!("notice: no SMTP server (WARROOM_SMTP_ADDR unset); run scripts/test for the e-mail test");
            None
        }
    }
}

fn mails_with(maildir: &std::path::Path, marker: &str) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(rd) = std::fs::read_dir(maildir.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if text.contains(marker) {
                out.push(text);
            }
        }
    }
    out
}

fn config(webhook_url: &str, smarthost: Option<&str>, marker: &str) -> ManagerConfig {
    serde_json::from_value(serde_json::json!({
        "external_url": "http://warroom.test",
        "rules": [{
            "name": "ServiceErrors", "series": "error_ratio", "op": ">", "threshold": 0.05, "for_s": 1.0,
            "labels": {"severity": "page", "incident": marker},
            "annotations": {"summary": "{{ $labels.service }} errors at {{ $value }}"}
        }, {
            "name": "ZoneOutage", "series": "zone_up", "op": "<", "threshold": 0.5,
            "labels": {"severity": "page", "incident": marker}
        }],
        "route": {"receiver": "oncall", "group_by": ["incident"], "group_wait_s": 2.0,
                  "group_interval_s": 5.0, "repeat_interval_s": 3600.0},
        "receivers": [{
            "name": "oncall", "dashboard": true,
            "webhook": {"url": webhook_url},
            "email": smarthost.map(|h| serde_json::json!({"smarthost": h, "from": "warroom@pay.test", "to": ["commander@pay.test"]}))
        }],
        "retry": {"initial_backoff_s": 1.0, "max_backoff_s": 8.0, "max_attempts": 4}
    }))
    .unwrap()
}

fn storm(n: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            Sample::new(
                "error_ratio",
                &[("service", &format!("svc{i}")), ("zone", "hz")],
                0.4,
            )
        })
        .collect()
}

#[tokio::test]
async fn one_incident_one_email_one_webhook_per_group() {
    let (url, hook) = webhook_server(0).await;
    let smtp = smtp();
    let marker = format!("inc-{}", std::process::id());
    let cfg = config(&url, smtp.as_ref().map(|s| s.0.as_str()), &marker);
    let clock = ManualClock::new(T0);
    let shared: SharedClock = Arc::new(clock.clone());
    let mut m = Manager::new(&cfg, shared, None).unwrap();
    let feed = DashboardFeed::new(100);
    let mut sub = feed.subscribe();
    let mut n = Notifier::new(
        cfg.receivers.clone(),
        cfg.retry,
        feed.clone(),
        &cfg.external_url,
    )
    .unwrap();
    // 25 services fail at once and keep failing for 20 s, evaluated every second.
    for _ in 0..20 {
        let notes = m.evaluate(&storm(25)).unwrap();
        n.enqueue(notes, clock.now_us());
        n.deliver_due(clock.now_us()).await;
        clock.advance_secs(1);
    }
    assert_eq!(m.firing().len(), 25);
    let bodies = hook.bodies.lock().clone();
    assert_eq!(bodies.len(), 1, "one webhook for the whole incident");
    let b = &bodies[0];
    assert_eq!(b["version"], "4");
    assert_eq!(b["status"], "firing");
    assert_eq!(b["receiver"], "oncall");
    assert_eq!(b["groupLabels"]["incident"], marker.as_str());
    assert_eq!(b["commonLabels"]["zone"], "hz");
    assert_eq!(b["externalURL"], "http://warroom.test");
    assert_eq!(b["alerts"].as_array().unwrap().len(), 25);
    let a0 = &b["alerts"][0];
    for k in [
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "generatorURL",
        "fingerprint",
    ] {
        assert!(!a0[k].is_null(), "alert field {k}");
    }
    assert_eq!(a0["endsAt"], "0001-01-01T00:00:00Z");
    assert!(b["groupKey"].as_str().unwrap().contains(&marker));
    assert_eq!(feed.recent().len(), 1);
    assert_eq!(sub.try_recv().unwrap().notification.alerts.len(), 25);
    if let Some((_, dir)) = &smtp {
        let mails = mails_with(dir, &marker);
        assert_eq!(mails.len(), 1, "one e-mail for the whole incident");
        assert!(mails[0].contains("[FIRING:25]"), "{}", mails[0]);
        assert!(mails[0].contains("svc7 errors at 0.4"));
    }
    // Recovery: one resolved notification per channel, then the group is gone.
    for _ in 0..8 {
        let notes = m.evaluate(&[]).unwrap();
        n.enqueue(notes, clock.now_us());
        n.deliver_due(clock.now_us()).await;
        clock.advance_secs(1);
    }
    let bodies = hook.bodies.lock().clone();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1]["status"], "resolved");
    assert_ne!(bodies[1]["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    if let Some((_, dir)) = &smtp {
        let mails = mails_with(dir, &marker);
        assert_eq!(mails.len(), 2);
        assert!(mails.iter().any(|m| m.contains("[RESOLVED:25]")));
    }
    let st = n.stats();
    assert_eq!(st["oncall/webhook"].sent, 2);
    assert_eq!(st["oncall/webhook"].failed_attempts, 0);
}

#[tokio::test]
async fn failed_webhooks_are_retried_with_backoff_and_counted() {
    let (url, hook) = webhook_server(2).await;
    let cfg = config(&url, None, "retry");
    let clock = ManualClock::new(T0);
    let mut m = Manager::new(&cfg, Arc::new(clock.clone()), None).unwrap();
    let mut n =
        Notifier::new(cfg.receivers.clone(), cfg.retry, DashboardFeed::new(10), "").unwrap();
    m.evaluate(&storm(3)).unwrap();
    clock.advance_secs(1);
    m.evaluate(&storm(3)).unwrap();
    clock.advance_secs(2);
    let notes = m.evaluate(&storm(3)).unwrap();
    assert_eq!(notes.len(), 1);
    n.enqueue(notes, clock.now_us());
    assert_eq!(n.deliver_due(clock.now_us()).await, 0);
    let st = &n.stats()["oncall/webhook"];
    assert_eq!((st.failed_attempts, st.pending), (1, 1));
    assert!(
        st.last_error.as_deref().unwrap().contains("503"),
        "{:?}",
        st.last_error
    );
    // Backoff: 1 s after the first failure, then 2 s after the second.
    let t = clock.now_us();
    assert_eq!(n.next_due(), Some(t + 1_000_000));
    assert_eq!(n.deliver_due(t + 500_000).await, 0);
    assert_eq!(n.deliver_due(t + 1_000_000).await, 0);
    assert_eq!(n.next_due(), Some(t + 3_000_000));
    assert_eq!(n.deliver_due(t + 3_000_000).await, 1);
    let st = &n.stats()["oncall/webhook"];
    assert_eq!(
        (st.sent, st.failed_attempts, st.pending, st.gave_up),
        (1, 2, 0, 0)
    );
    assert_eq!(hook.bodies.lock().len(), 1);

    // A dead endpoint: gives up after max_attempts, visibly.
    let mut dead = cfg.receivers.clone();
    dead[0].webhook = Some(WebhookConfig {
        url: "http://127.0.0.1:9/hook".into(),
        bearer_token: None,
    });
    let mut n = Notifier::new(dead, cfg.retry, DashboardFeed::new(10), "").unwrap();
    n.enqueue(vec![hook_note()], T0);
    for s in 0..30 {
        n.deliver_due(T0 + s * 1_000_000).await;
    }
    let st = &n.stats()["oncall/webhook"];
    assert_eq!(
        (st.sent, st.failed_attempts, st.gave_up, st.pending),
        (0, 4, 1, 0)
    );
    assert!(st.last_error.is_some());
}

fn hook_note() -> Notification {
    Notification {
        receiver: "oncall".into(),
        group_key: "k".into(),
        status: NotificationStatus::Firing,
        group_labels: Labels::new(),
        common_labels: Labels::new(),
        common_annotations: Labels::new(),
        alerts: vec![],
        at_us: T0,
    }
}

#[tokio::test]
async fn zone_outage_inhibits_and_silences_mute() {
    let (url, hook) = webhook_server(0).await;
    let mut cfg = config(&url, None, "zone");
    cfg.route.group_by = Some(vec!["alertname".into()]);
    let clock = ManualClock::new(T0);
    let mut m = Manager::new(&cfg, Arc::new(clock.clone()), None).unwrap();
    let mut n =
        Notifier::new(cfg.receivers.clone(), cfg.retry, DashboardFeed::new(10), "").unwrap();
    let mut samples = storm(4);
    samples.push(Sample::new("zone_up", &[("zone", "hz")], 0.0));
    for _ in 0..6 {
        let notes = m.evaluate(&samples).unwrap();
        n.enqueue(notes, clock.now_us());
        n.deliver_due(clock.now_us()).await;
        clock.advance_secs(1);
    }
    let bodies = hook.bodies.lock().clone();
    assert_eq!(
        bodies.len(),
        1,
        "service alerts in the dead zone are inhibited: {bodies:?}"
    );
    assert_eq!(bodies[0]["groupLabels"]["alertname"], "ZoneOutage");
    let views = m.alerts();
    assert_eq!(views.iter().filter(|v| v.inhibited).count(), 4);

    // A silence on the zone mutes the zone alert too (and it is shown as silenced).
    let s = m
        .create_silence(&SilenceRequest {
            matchers: vec!["zone=hz".into()],
            starts_at: None,
            ends_at: digest::format_rfc3339(clock.now_us() + 3_600_000_000),
            created_by: "commander".into(),
            comment: "known".into(),
        })
        .unwrap();
    assert!(m
        .alerts()
        .iter()
        .all(|v| v.silenced_by.as_deref() == Some(s.id.as_str())));
    m.expire_silence(&s.id).unwrap();
    assert!(m.alerts().iter().all(|v| v.silenced_by.is_none()));
    // The dashboard's shape: label equalities and a duration.
    let zone: std::collections::BTreeMap<String, String> =
        [("zone".to_string(), "hz".to_string())].into();
    let s2 = m.silence_for(&zone, 600, "commander", "").unwrap();
    assert!(m
        .alerts()
        .iter()
        .all(|v| v.silenced_by.as_deref() == Some(s2.id.as_str())));
    assert!(m
        .silence_for(&Default::default(), 600, "commander", "")
        .is_err());
    assert!(m.silence_for(&zone, 0, "commander", "").is_err());
}

#[tokio::test]
async fn history_and_silences_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("alerts-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("history.jsonl");
    let cfg = config("http://127.0.0.1:9/unused", None, "restart");
    let clock = ManualClock::new(T0);
    let sid;
    {
        let mut m = Manager::new(&cfg, Arc::new(clock.clone()), Some(&path)).unwrap();
        m.evaluate(&storm(2)).unwrap();
        clock.advance_secs(1);
        m.evaluate(&storm(2)).unwrap();
        sid = m
            .create_silence(&SilenceRequest {
                matchers: vec!["service=svc0".into()],
                starts_at: None,
                ends_at: digest::format_rfc3339(T0 + 3_600_000_000),
                created_by: "commander".into(),
                comment: String::new(),
            })
            .unwrap()
            .id;
        assert!(m
            .create_silence(&SilenceRequest {
                matchers: vec![],
                starts_at: None,
                ends_at: "2099-01-01T00:00:00Z".into(),
                created_by: "x".into(),
                comment: String::new(),
            })
            .is_err());
    }
    // A crash left half a line at the end.
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"{\"t\":\"alert\",\"al")
        .unwrap();
    clock.advance_secs(1);
    let m = Manager::new(&cfg, Arc::new(clock.clone()), Some(&path)).unwrap();
    assert_eq!(m.rejected_history_lines, 1);
    assert_eq!(m.silences().len(), 1);
    assert_eq!(m.silences()[0].id, sid);
    assert_eq!(
        m.firing().len(),
        2,
        "firing alerts are restored, not re-pending"
    );
    let h = m.history();
    assert_eq!(
        h.iter()
            .filter(|e| matches!(e, HistoryEntry::Alert { .. }))
            .count(),
        4
    );
    let v = m.alerts();
    assert_eq!(v.iter().filter(|a| a.silenced_by.is_some()).count(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn manager_and_delivery_can_move_between_tasks() {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Manager>();
    send_sync::<Notifier>();
    let mut n = Notifier::new(vec![], RetryPolicy::default(), DashboardFeed::new(1), "").unwrap();
    let fut = n.deliver_due(0);
    send(&fut);
}
