//! `warroom up` for the browser tests: the `warroom` binary started on loopback ports
//! with `--approve commander` (every plan waits for a commander) and users of every role,
//! killed on drop; and the steps both tests take on it — wait for a calm stack (rejecting
//! plans raised by startup noise) and inject a fault from the Drills screen, then open
//! the incident that names its target.
//!
//! The binary: `$WARROOM_BIN`, else `target/debug/warroom` (built by `cargo test
//! --workspace`, which the root package's own tests require). Missing binary, bundle or
//! Chromium: skipped with a notice, failed under `CI=true`.
#![allow(dead_code)]

use super::webdriver::{available_or_fail, Browser};
use super::PASSWORD;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(30);

pub fn skip_or_fail(msg: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED {msg}");
}

pub fn warroom_bin() -> Option<PathBuf> {
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
pub struct Up {
    child: Child,
    /// The dashboard's base URL.
    pub url: String,
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

pub fn start_up(bin: &PathBuf, dist: &std::path::Path) -> Up {
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

/// Signs in on the login screen at `url` as `user` (password [`PASSWORD`]).
pub async fn log_in(b: &Browser, url: &str, user: &str) {
    b.log_in(url, user, PASSWORD, WAIT).await;
}

pub async fn log_out(b: &Browser) {
    b.click("#logout").await;
    b.wait("#login-user", WAIT).await;
}

impl Up {
    /// The dashboard's audit log so far.
    pub fn audit_text(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("audit.jsonl")).unwrap_or_default()
    }
}

/// The binary and the bundle, when Chromium, the bundle and the binary are there
/// (otherwise skipped with a notice, or failed under `CI=true`).
pub fn prerequisites(what: &str) -> Option<(PathBuf, PathBuf)> {
    if !available_or_fail(what) {
        return None;
    }
    let dist = dashboard::default_dist_dir();
    if !dist.join("index.html").is_file() {
        skip_or_fail(&format!(
            "{what}: no bundle in {} (run scripts/build-dashboard)",
            dist.display()
        ));
        return None;
    }
    let Some(bin) = warroom_bin() else {
        skip_or_fail(&format!(
            "{what}: no warroom binary (cargo build -p warroom, or set WARROOM_BIN)"
        ));
        return None;
    };
    eprintln!(
        "using {} (modified {:?})",
        bin.display(),
        std::fs::metadata(&bin).and_then(|m| m.modified()).ok()
    );
    Some((bin, dist))
}

/// Waits until no open incident names `target` (rejecting plans startup noise raised),
/// then injects `fault` on `target` from the Drills screen (as an admin).
pub async fn drill_on_a_calm_stack(b: &Browser, fault: &str, target: &str) {
    // The analyzer sometimes diagnoses startup noise (no fault yet). As a commander
    // would, reject every plan waiting on such a diagnosis, and wait until no open
    // incident names the target — otherwise the fault would join an incident opened
    // before it (the command loop keeps one incident per target).
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
        // open incidents that do not name the target.
        let open: Vec<String> = v["open"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(String::from))
            .collect();
        let calm = open.is_empty()
            || (t0.elapsed() > Duration::from_secs(60) && !open.iter().any(|o| o.contains(target)));
        if calm {
            eprintln!("injecting after {:?}; open then: {open:?}", t0.elapsed());
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "an incident naming {target} stays open before any fault: {v}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Inject the fault from the drill screen.
    b.click("nav a[href=\"/drills\"]").await;
    b.type_into("#drill-fault", fault).await;
    b.type_into("#drill-target", target).await;
    b.click("#drill-inject").await;
    b.wait_text("#drill-result", WAIT, |t| t.starts_with("injected"))
        .await;
}

/// Opens, from the incident list, the incident whose row names `word`; returns the room's
/// path (`/incidents/ID`).
pub async fn open_incident_naming(b: &Browser, word: &str) -> String {
    b.click("nav a[href=\"/incidents\"]").await;
    // Other incidents may be open too: open the one that names the target.
    let click = format!(
        "const a = [...document.querySelectorAll('#incident-list li a')]
           .find(x => x.parentElement.textContent.includes({word:?}));
         if (a) {{ a.click(); return true; }} return false;"
    );
    let t0 = Instant::now();
    loop {
        let clicked = b.script(&click).await;
        if clicked == serde_json::json!(true) {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(90),
            "no incident naming {word}: {}",
            b.text("#incident-list").await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let room = b.script("return location.pathname").await;
    room.as_str().unwrap().to_string()
}

/// Waits until the open incident room reads `recovered` (or `superseded`, when a newer
/// diagnosis took its place; the plan's own status is the recovery itself), and prints
/// what the room shows.
pub async fn wait_incident_closed(b: &Browser) -> String {
    let (status, _) = b
        .wait_text("#incident-status", Duration::from_secs(90), |t| {
            t == "recovered" || t == "superseded"
        })
        .await;
    eprintln!("incident status on screen: {status}");
    eprintln!(
        "timeline on screen: {}",
        b.text("#timeline").await.replace('\n', " | ")
    );
    status
}
