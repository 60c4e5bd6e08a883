//! Issue 12's levers in the browser at phone size (390×844), against the whole stack:
//! `warroom up --approve commander` (see `common/up.rs`), Debian's Chromium headless.
//!
//! An admin injects a bank outage on `bank-a` from the Drills screen; a commander opens
//! its incident, rejects the plan the healer matched (nothing changes: the plan is
//! `rejected`, no action applied), then runs `bank-failover` from the Plans panel. The run
//! acts — its action is listed under Runs with Undo enabled — and the incident recovers;
//! the damage chart marks the action. The room has no sideways scroll, nothing sticks out
//! of the window and every button can be reached; the audit log holds the reject and the
//! run by the commander. Screenshots: `target/browser-artifacts/up-levers/`.

mod common;

use common::layout::{check_layout, unreachable_buttons, wait_true};
use common::up::{
    drill_on_a_calm_stack, log_in, log_out, open_incident_naming, prerequisites, start_up,
    wait_incident_closed, WAIT,
};
use common::webdriver::{artifacts, Browser};
use std::time::Duration;

const FAILOVER: &str = "#plans [data-plan=\"bank-failover\"] button.run";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_levers_reject_run_recover_at_phone_size() {
    let Some((bin, dist)) = prerequisites("browser test of the levers on `warroom up`") else {
        return;
    };
    let shots = artifacts("up-levers");
    let up = start_up(&bin, &dist);
    let b = Browser::start(390, 844).await;

    // 1. An admin injects a bank outage from the Drills screen, on a calm stack.
    log_in(&b, &format!("{}/", up.url), "ada").await;
    b.wait_text("#tps", Duration::from_secs(60), |t| {
        t.parse::<f64>().is_ok_and(|v| v > 0.0)
    })
    .await;
    drill_on_a_calm_stack(&b, "bank-outage", "bank-a").await;
    b.screenshot(&shots, "01-drill-injected").await;
    log_out(&b).await;

    // 2. A commander opens its incident: the healer's plan waits, holding the target, so
    //    Run waits too.
    log_in(&b, &format!("{}/incidents", up.url), "cole").await;
    let room = open_incident_naming(&b, "bank-a").await;
    b.wait_text("#root-cause", Duration::from_secs(60), |t| {
        t.contains("bank-a")
    })
    .await;
    b.wait_text("#plan-status", Duration::from_secs(60), |t| {
        t == "awaiting_approval"
    })
    .await;
    let plan = b.text("#plan-name").await;
    assert_eq!(
        plan,
        "bank-failover",
        "timeline: {}",
        b.text("#timeline").await.replace('\n', " | ")
    );
    b.wait(FAILOVER, WAIT).await;
    assert_eq!(
        b.attr(FAILOVER, "disabled").await,
        true,
        "the waiting plan holds bank-a"
    );
    b.screenshot(&shots, "02-incident-plan-waiting").await;

    // 3. Reject the waiting plan: nothing changes, and the target is free.
    b.click("#reject").await;
    b.wait_text("#action-result", WAIT, |t| t == "reject: done")
        .await;
    b.wait_text("#plan-status", WAIT, |t| t == "rejected").await;
    wait_true(
        &b,
        "Run enabled once nothing holds bank-a",
        WAIT,
        &format!("return document.querySelector('{FAILOVER}').disabled === false"),
    )
    .await;
    let plans = b.text("#plans").await;
    assert!(
        plans.contains("channel bank-a weight 0"),
        "what it changes: {plans}"
    );
    check_layout(&b, &room, 390, 844).await;
    let problems = b.script(&unreachable_buttons("#incident-room")).await;
    assert_eq!(problems, serde_json::json!([]), "buttons out of reach");
    b.scroll_to("#plans", "start").await;
    b.screenshot(&shots, "03-rejected-plans").await;

    // 4. Run bank-failover from the Plans panel: it acts, its action listed with Undo.
    b.click(FAILOVER).await;
    let (started, _) = b
        .wait_text("#run-result", WAIT, |t| {
            t.starts_with("run bank-failover: started as run ")
        })
        .await;
    let run = started.rsplit(' ').next().unwrap().to_string();
    eprintln!("{started}");
    let action = format!("#runs [data-action=\"{run}.0\"]");
    b.wait(&action, Duration::from_secs(60)).await;
    let listed = b.text(&action).await;
    assert!(listed.contains("bank-a"), "{listed}");
    assert_eq!(
        b.attr(&format!("{action} button.undo"), "disabled").await,
        false,
        "Undo enabled while the action is in force"
    );
    b.wait_text("#plan-approval", WAIT, |t| t == "approved by cole")
        .await;
    b.scroll_to("#runs", "start").await;
    b.screenshot(&shots, "04-run-acting").await;

    // 5. The incident recovers; the chart marks the action.
    let group = format!("#runs [data-run=\"{run}\"]");
    b.wait_text(&group, Duration::from_secs(120), |t| {
        t.contains("recovered")
    })
    .await;
    wait_incident_closed(&b).await;
    wait_true(
        &b,
        "a mark on the damage chart at the action",
        WAIT,
        "return document.querySelectorAll('#damage-chart line.mark.action').length >= 1",
    )
    .await;
    b.scroll_to("#damage", "start").await;
    b.screenshot(&shots, "05-recovered-chart").await;
    check_layout(&b, &room, 390, 844).await;
    b.scroll_to("#runs", "start").await;
    b.screenshot(&shots, "06-recovered-runs").await;
    b.quit().await;

    let audit = up.audit_text();
    let id = room.trim_start_matches("/incidents/");
    for (action, target) in [
        ("reject", id.to_string()),
        ("run", format!("{id}/bank-failover")),
    ] {
        let line = format!(
            "\"user\":\"cole\",\"role\":\"commander\",\"action\":\"{action}\",\"target\":\"{target}\",\"outcome\":\"ok\""
        );
        assert!(audit.contains(&line), "{line}\n{audit}");
    }
}
