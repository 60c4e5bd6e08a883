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
//! The binary: `$WARROOM_BIN`, else `target/debug/warroom` (built by `cargo test
//! --workspace`, which the root package's own tests require). Missing binary, bundle or
//! Chromium: skipped with a notice, failed under `CI=true`.

mod common;

use common::layout::{check_layout, wait_true, LAYOUT_PROBLEMS};
use common::webdriver::{artifacts, available_or_fail, Browser};
use common::PASSWORD;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn skip_or_fail(msg: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED {msg}");
}

fn warroom_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WARROOM_BIN") {
        return Some(PathBuf::from(p));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    let p = target.join("debug/warroom");
    p.is_file().then_some(p)
}

/// `warroom up` in a child process; killed on drop.
struct Up {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_up(bin: &PathBuf, dist: &std::path::Path) -> Up {
    let dir = tempfile::tempdir().unwrap();
    let h = |pw: &str| dashboard::hash_password_with(pw, 1000);
    let config = format!(
        "tps = 150\n[dashboard]\naudit_log = {:?}\n\
         [[dashboard.users]]\nname = \"vera\"\nrole = \"viewer\"\npassword_hash = \"{}\"\n\
         [[dashboard.users]]\nname = \"cole\"\nrole = \"commander\"\npassword_hash = \"{}\"\n\
         [[dashboard.users]]\nname = \"ada\"\nrole = \"admin\"\npassword_hash = \"{}\"\n",
        dir.path().join("audit.jsonl"),
        h(PASSWORD),
        h(PASSWORD),
        h(PASSWORD)
    );
    let cfg = dir.path().join("up.toml");
    std::fs::write(&cfg, config).unwrap();
    let help = Command::new(bin)
        .args(["up", "--help"])
        .output()
        .expect("warroom up --help");
    assert!(
        String::from_utf8_lossy(&help.stdout).contains("--approve <APPROVE>"),
        "{} has no `up --approve`: rebuild it (cargo build -p warroom)",
        bin.display()
    );
    let mut child = Command::new(bin)
        .args(["up", "--approve", "commander"])
        .args([
            "--listen",
            "127.0.0.1:0",
            "--collector-listen",
            "127.0.0.1:0",
            "--control-listen",
            "127.0.0.1:0",
        ])
        .arg("--config")
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("WARROOM_DASHBOARD_DIST", dist)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start warroom up");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            eprintln!("[warroom up] {line}");
            if let Some(url) = line.strip_prefix("dashboard: ") {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("`warroom up` printed no dashboard URL within 60 s");
    Up {
        child,
        url,
        _dir: dir,
    }
}

const WAIT: Duration = Duration::from_secs(30);

async fn log_in(b: &Browser, url: &str, user: &str) {
    b.log_in(url, user, PASSWORD, WAIT).await;
}

/// Scrolls the incident room's plan (its status, Approve and Reject) into view.
async fn show_plan(b: &Browser) {
    b.script("document.querySelector('#approve').scrollIntoView({block: 'center'}); return true")
        .await;
}

async fn log_out(b: &Browser) {
    b.click("#logout").await;
    b.wait("#login-user", WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_stack_drill_incident_approve_recover() {
    if !available_or_fail("browser test of `warroom up`") {
        return;
    }
    let dist = dashboard::default_dist_dir();
    if !dist.join("index.html").is_file() {
        return skip_or_fail(&format!(
            "browser test of `warroom up`: no bundle in {} (run scripts/build-dashboard)",
            dist.display()
        ));
    }
    let Some(bin) = warroom_bin() else {
        return skip_or_fail("browser test of `warroom up`: no warroom binary (cargo build -p warroom, or set WARROOM_BIN)");
    };
    eprintln!(
        "using {} (modified {:?})",
        bin.display(),
        std::fs::metadata(&bin).and_then(|m| m.modified()).ok()
    );
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

    // 3. Before the fault: the analyzer sometimes diagnoses startup noise (no fault yet).
    //    As a commander would, reject every plan waiting on such a diagnosis, and wait
    //    until no open incident names bank-a — otherwise the outage below would join an
    //    incident opened before it (the healer keeps one incident per target).
    let t0 = Instant::now();
    loop {
        let v = b
            .script_async(
                "const done = arguments[0];
                 (async () => {
                   const me = await (await fetch('/api/me')).json();
                   const h = {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf};
                   const list = await (await fetch('/api/incidents')).json();
                   const rejected = [], open = [];
                   for (const i of list) {
                     const d = await (await fetch('/api/incidents/' + i.id)).json();
                     if (d.plan && d.plan.status === 'awaiting_approval') {
                       const r = await fetch('/api/incidents/' + i.id + '/reject', {method: 'POST', headers: h,
                         body: JSON.stringify({reason: 'no fault injected yet'})});
                       rejected.push(`${i.id} ${i.root_cause}: ${r.status}`);
                     }
                     if (i.status === 'open') open.push(`${i.id} ${i.root_cause}`);
                   }
                   done({rejected, open});
                 })();",
            )
            .await;
        for r in v["rejected"].as_array().into_iter().flatten() {
            eprintln!("before the drill, rejected the plan of {r}");
        }
        // Best: nothing open at all (a young diagnosis of noise may otherwise be revised
        // into the outage's, keeping the plan matched for the noise); after 60 s, accept
        // open incidents that do not name bank-a.
        let open: Vec<String> = v["open"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(String::from))
            .collect();
        let calm = open.is_empty()
            || (t0.elapsed() > Duration::from_secs(60)
                && !open.iter().any(|o| o.contains("bank-a")));
        if calm {
            eprintln!("injecting after {:?}; open then: {open:?}", t0.elapsed());
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "an incident naming bank-a stays open before any fault: {v}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Inject a bank outage from the drill screen.
    b.click("nav a[href=\"/drills\"]").await;
    b.type_into("#drill-fault", "bank-outage").await;
    b.type_into("#drill-target", "bank-a").await;
    b.click("#drill-inject").await;
    b.wait_text("#drill-result", WAIT, |t| t.starts_with("injected"))
        .await;
    b.screenshot(&shots, "03-drill-injected").await;

    // 4. The incident appears with its root cause.
    b.click("nav a[href=\"/incidents\"]").await;
    // Other incidents may be open too: open the one that names the bank.
    let t0 = Instant::now();
    loop {
        let clicked = b
            .script(
                "const a = [...document.querySelectorAll('#incident-list li a')]
                   .find(x => x.parentElement.textContent.includes('bank-a'));
                 if (a) { a.click(); return true; } return false;",
            )
            .await;
        if clicked == serde_json::json!(true) {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(90),
            "no incident naming bank-a: {}",
            b.text("#incident-list").await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (cause, _) = b
        .wait_text("#root-cause", Duration::from_secs(60), |t| {
            t.contains("bank-a")
        })
        .await;
    eprintln!("root cause on screen: {cause}");
    let room = b.script("return location.pathname").await;
    let room = room.as_str().unwrap().to_string();
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
    show_plan(&b).await;
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
    show_plan(&b).await;
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
    show_plan(&b).await;
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
    let (status, _) = b
        .wait_text("#incident-status", Duration::from_secs(90), |t| {
            // The analyzer closes an incident as recovered, or as superseded when a
            // newer diagnosis took its place; the healer's plan status above is the
            // recovery itself.
            t == "recovered" || t == "superseded"
        })
        .await;
    eprintln!("incident status on screen: {status}");
    eprintln!(
        "timeline on screen: {}",
        b.text("#timeline").await.replace('\n', " | ")
    );
    show_plan(&b).await;
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
