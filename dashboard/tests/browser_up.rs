//! Issue 7's acceptance test in the browser, against the whole stack: the `warroom`
//! binary's `up` (payments-sim traffic, collector, analyzer, SLA, alerts, healer, this
//! dashboard) on loopback ports, Debian's Chromium headless over WebDriver.
//!
//! `up` runs with `--approve commander`, so every plan waits for a commander. The test
//! logs in, sees payments/s change live, opens the topology and finds every payments-sim
//! service, injects a bank outage from the drill screen, sees the incident with its root
//! cause and its plan waiting with Approve/Reject; a viewer sees Approve disabled and gets
//! 403 from the API (the plan still waits); the commander clicks Approve, the timeline
//! records who approved, the plan recovers and the MTTR figure goes from "—" to a number.
//! Every screen is checked at 1920×1080 and 1366×768: no sideways scroll, no element
//! sticking out of the window, no overlapping siblings. A viewer cannot drill (browser and
//! API). Screenshots: `target/browser-artifacts/up/`.
//!
//! `warroom up` and the steps before the incident: `common/up.rs`.

mod common;

use common::layout::{check_layout, wait_true, LAYOUT_PROBLEMS};
use common::up::{
    drill_on_a_calm_stack, log_in, log_out, open_incident_naming, prerequisites, start_up,
    wait_incident_closed, WAIT,
};
use common::webdriver::{artifacts, Browser};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_stack_drill_incident_approve_recover() {
    let Some((bin, dist)) = prerequisites("browser test of `warroom up`") else {
        return;
    };
    let shots = artifacts("up");
    let up = start_up(&bin, &dist);
    let mut b = Browser::start(1920, 1080).await;

    // 1. Log in; payments/s is there and moves; no plan has recovered yet (every plan
    //    waits for a commander), so MTTR reads "—".
    log_in(&b, &format!("{}/", up.url), "ada").await;
    let (first, _) = b
        .wait_text("#tps", Duration::from_secs(60), |t| {
            t.parse::<f64>().is_ok_and(|v| v > 0.0)
        })
        .await;
    b.wait_text("#tps", WAIT, |t| t != first && t.parse::<f64>().is_ok())
        .await;
    assert_eq!(b.text("#mttr").await, "—", "MTTR before any recovery");
    b.screenshot(&shots, "01-overview-live").await;

    // 2. The topology shows every payments-sim service.
    b.click("nav a[href=\"/topology\"]").await;
    for svc in payments_sim::msg::Service::ALL {
        b.wait(
            &format!("#topology [data-node=\"{}\"]", svc.name()),
            Duration::from_secs(60),
        )
        .await;
    }
    b.screenshot(&shots, "02-topology").await;

    // 3. Before the fault, wait for a calm stack (plans raised by startup noise are
    //    rejected, as a commander would); then inject a bank outage from the drill screen.
    drill_on_a_calm_stack(&b, "bank-outage", "bank-a").await;
    b.screenshot(&shots, "03-drill-injected").await;

    // 4. The incident appears with its root cause (other incidents may be open too).
    let room = open_incident_naming(&b, "bank-a").await;
    let (cause, _) = b
        .wait_text("#root-cause", Duration::from_secs(60), |t| {
            t.contains("bank-a")
        })
        .await;
    eprintln!("root cause on screen: {cause}");
    let id = room.trim_start_matches("/incidents/").to_string();
    b.screenshot(&shots, "04-incident").await;

    // 5. Its plan waits for a commander, with Approve and Reject (admin may approve).
    b.wait_text("#plan-status", Duration::from_secs(60), |t| {
        t == "awaiting_approval"
    })
    .await;
    eprintln!("plan waiting: {}", b.text("#plan-approval").await);
    // The plan must be the one for a bank outage. Another name means the healer matched
    // a plan to an earlier, provisional diagnosis that the analyzer then revised into
    // bank-a (src/stack/heal.rs triggers once per analyzer incident).
    let plan = b.text("#plan-name").await;
    assert_eq!(
        plan,
        "bank-failover",
        "the bank-a incident waits on plan {plan}, matched to a diagnosis revised after it; timeline: {}",
        b.text("#timeline").await.replace('\n', " | ")
    );
    assert_eq!(b.attr("#approve", "disabled").await, false);
    assert_eq!(b.attr("#reject", "disabled").await, false);
    b.scroll_to("#approve", "center").await;
    b.screenshot(&shots, "05-plan-waiting").await;

    // 6. A viewer sees Approve and Reject disabled, and the API refuses them (403);
    //    the plan still waits.
    log_out(&b).await;
    log_in(&b, &format!("{}{room}", up.url), "vera").await;
    b.wait_text("#plan-status", WAIT, |t| t == "awaiting_approval")
        .await;
    assert_eq!(
        b.attr("#approve", "disabled").await,
        true,
        "viewer: Approve"
    );
    assert_eq!(b.attr("#reject", "disabled").await, true, "viewer: Reject");
    let statuses = b
        .script_async(&format!(
            "const done = arguments[0];
             (async () => {{
               const me = await (await fetch('/api/me')).json();
               const h = {{'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf}};
               const approve = await fetch('/api/incidents/{id}/approve', {{method: 'POST', headers: h, body: '{{}}'}});
               const reject = await fetch('/api/incidents/{id}/reject', {{method: 'POST', headers: h, body: '{{}}'}});
               const inc = await (await fetch('/api/incidents/{id}')).json();
               done([me.role, approve.status, reject.status, inc.plan && inc.plan.status]);
             }})();"
        ))
        .await;
    assert_eq!(
        statuses,
        serde_json::json!(["viewer", 403, 403, "awaiting_approval"])
    );
    b.scroll_to("#approve", "center").await;
    b.screenshot(&shots, "06-viewer-cannot-approve").await;

    // 7. The commander clicks Approve; the plan and the timeline say who approved.
    log_out(&b).await;
    log_in(&b, &format!("{}{room}", up.url), "cole").await;
    b.wait_text("#plan-status", WAIT, |t| t == "awaiting_approval")
        .await;
    assert_eq!(b.attr("#approve", "disabled").await, false);
    b.click("#approve").await;
    b.wait_text("#action-result", WAIT, |t| t == "approve: done")
        .await;
    b.wait_text("#plan-approval", WAIT, |t| t == "approved by cole")
        .await;
    wait_true(
        &b,
        "a timeline row: approved by cole",
        WAIT,
        "return [...document.querySelectorAll('#timeline tr')]
           .some(r => r.textContent.includes('approved by cole'))",
    )
    .await;
    b.scroll_to("#approve", "center").await;
    b.screenshot(&shots, "07-approved").await;

    // 8. It recovers, and the MTTR figure shows it.
    b.wait_text("#plan-status", Duration::from_secs(120), |t| {
        t == "recovered"
    })
    .await;
    assert_eq!(
        b.attr("#approve", "disabled").await,
        true,
        "Approve after the plan ran"
    );
    eprintln!("{}", b.text("#approve-note").await);
    wait_incident_closed(&b).await;
    b.scroll_to("#approve", "center").await;
    b.screenshot(&shots, "08-recovered").await;
    b.click("nav a[href=\"/\"]").await;
    let (mttr, _) = b
        .wait_text("#mttr", Duration::from_secs(60), |t| {
            t.strip_suffix(" s")
                .and_then(|n| n.parse::<f64>().ok())
                .is_some_and(|v| v > 0.0)
        })
        .await;
    eprintln!("MTTR on screen: {mttr}");
    b.screenshot(&shots, "09-overview-mttr").await;

    // 9. Every screen with live data, wall screen and laptop: no sideways scroll, nothing
    //    sticking out, no overlapping siblings.
    for (w, h) in [(1920, 1080), (1366, 768)] {
        b.resize(w, h).await;
        for page in [
            "/",
            "/topology",
            "/incidents",
            room.as_str(),
            "/hotspots",
            "/sla",
            "/alerts",
            "/changes",
            "/trace",
            "/drills",
        ] {
            check_layout(&b, page, w, h).await;
            if page == "/sla" {
                // The SLA engine's objectives are on the board, not "none configured".
                b.wait("#slo tbody tr", WAIT).await;
            }
            let name = format!("10-{w}x{h}{}", page.replace('/', "-"));
            b.screenshot(&shots, name.trim_end_matches('-')).await;
        }
    }
    b.resize(1920, 1080).await;

    // 10. The login screen reads well at both sizes too; a viewer cannot drill (browser
    //     and API).
    log_out(&b).await;
    for (w, h) in [(1366, 768), (1920, 1080)] {
        b.resize(w, h).await;
        let problems = b.script(LAYOUT_PROBLEMS).await;
        assert_eq!(problems, serde_json::json!([]), "login at {w}x{h}");
        b.screenshot(&shots, &format!("11-login-{w}x{h}")).await;
    }
    log_in(&b, &format!("{}/drills", up.url), "vera").await;
    assert_eq!(b.attr("#drill-inject", "disabled").await, true);
    let statuses = b
        .script_async(
            "const done = arguments[0];
             (async () => {
               const me = await (await fetch('/api/me')).json();
               const h = {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf};
               const drill = await fetch('/api/drills', {method: 'POST', headers: h, body: JSON.stringify({fault: 'bank-outage', target: 'bank-b'})});
               done([me.role, drill.status]);
             })();",
        )
        .await;
    assert_eq!(statuses, serde_json::json!(["viewer", 403]));
    b.screenshot(&shots, "12-viewer-drills").await;
    b.quit().await;
}
