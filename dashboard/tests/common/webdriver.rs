//! A thin W3C WebDriver client over plain HTTP JSON (reqwest), driving Debian's
//! Chromium through `chromedriver`, headless with the flags measured on these machines.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `$WARROOM_CHROMIUM`, else Debian's `/usr/bin/chromium`.
pub fn chromium() -> String {
    std::env::var("WARROOM_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// `$WARROOM_CHROMEDRIVER`, else Debian's `/usr/bin/chromedriver`.
pub fn chromedriver() -> String {
    std::env::var("WARROOM_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

/// Whether Chromium and chromedriver are installed. When they are not, a test skips
/// with a notice — except under `CI=true`, where it fails.
pub fn available_or_fail(what: &str) -> bool {
    if Path::new(&chromium()).exists() && Path::new(&chromedriver()).exists() {
        return true;
    }
    let msg = format!("{what}: Debian's chromium and chromium-driver are needed (apt-get install chromium chromium-driver; scripts/test installs them)");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED {msg}");
    false
}

/// A running chromedriver with one browser session.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start(width: u32, height: u32) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let t0 = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await {
                if r.json::<Value>()
                    .await
                    .ok()
                    .and_then(|v| v["value"]["ready"].as_bool())
                    == Some(true)
                {
                    break;
                }
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={width},{height}"),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium(), "args": args}
        }}});
        let v: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        let mut b = Browser {
            driver,
            base,
            session,
            http,
            _profile: profile,
        };
        b.resize(width, height).await;
        b
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn resize(&mut self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    /// The element id for a CSS selector, if present now.
    pub async fn find(&self, css: &str) -> Option<String> {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        v.as_object()
            .filter(|o| !o.contains_key("error"))
            .and_then(|o| o.values().next()?.as_str().map(String::from))
    }

    /// Waits up to `timeout` for a selector.
    pub async fn wait(&self, css: &str, timeout: Duration) -> String {
        let t0 = Instant::now();
        loop {
            if let Some(e) = self.find(css).await {
                return e;
            }
            assert!(
                t0.elapsed() < timeout,
                "no {css} after {timeout:?}; page: {}",
                self.text("body").await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        match self.find(css).await {
            Some(e) => self
                .call(reqwest::Method::GET, &format!("/element/{e}/text"), None)
                .await
                .as_str()
                .unwrap_or("")
                .to_string(),
            None => String::new(),
        }
    }

    /// Waits until the text of `css` satisfies `ok`; returns the text and how long it took.
    pub async fn wait_text(
        &self,
        css: &str,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> (String, Duration) {
        let t0 = Instant::now();
        loop {
            let t = self.text(css).await;
            if ok(&t) {
                return (t, t0.elapsed());
            }
            assert!(
                t0.elapsed() < timeout,
                "{css} still reads {t:?} after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let e = self.wait(css, Duration::from_secs(10)).await;
        self.post(&format!("/element/{e}/click"), json!({})).await;
    }

    /// Opens `url`, signs in on the login screen as `user` with `password`, and
    /// waits up to `wait` for the signed-in header.
    pub async fn log_in(&self, url: &str, user: &str, password: &str, wait: Duration) {
        self.goto(url).await;
        self.type_into("#login-user", user).await;
        self.type_into("#login-password", password).await;
        self.click("#login-submit").await;
        self.wait("header.top .who", wait).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait(css, Duration::from_secs(10)).await;
        self.post(&format!("/element/{e}/clear"), json!({})).await;
        self.post(&format!("/element/{e}/value"), json!({"text": text}))
            .await;
    }

    pub async fn attr(&self, css: &str, name: &str) -> Value {
        let e = self.wait(css, Duration::from_secs(10)).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{e}/property/{name}"),
            None,
        )
        .await
    }

    pub async fn count(&self, css: &str) -> usize {
        let v = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await;
        v.as_array().map(|a| a.len()).unwrap_or(0)
    }

    pub async fn script(&self, js: &str) -> Value {
        self.post("/execute/sync", json!({"script": js, "args": []}))
            .await
    }

    /// Scrolls `css` into view, `block` being `start`, `center` or `end` (for a screenshot).
    pub async fn scroll_to(&self, css: &str, block: &str) {
        self.script(&format!(
            "document.querySelector({css:?}).scrollIntoView({{block: {block:?}}}); return true"
        ))
        .await;
    }

    /// Runs an async script; it calls `arguments[0](result)` when done.
    pub async fn script_async(&self, js: &str) -> Value {
        self.post("/execute/async", json!({"script": js, "args": []}))
            .await
    }

    /// Saves a PNG of the viewport to `dir/name.png`.
    pub async fn screenshot(&self, dir: &Path, name: &str) -> PathBuf {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64_decode(v.as_str().expect("screenshot data"));
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    pub async fn quit(mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => 255,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for &c in s.as_bytes() {
        let v = val(c);
        if v == 255 {
            continue;
        }
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// `target/browser-artifacts/<test>` of this workspace, emptied (a run's screenshots
/// only, never a mix with an earlier run's).
pub fn artifacts(test: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    let dir = target.join("browser-artifacts").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
