//! All talk with the server: JSON GET/POST under `/api/` (session cookie sent by the
//! browser, `X-CSRF-Token` on every POST), the session (`Me`), and the live stream
//! (`/api/stream`, Server-Sent Events) feeding the [`Live`] signals every screen reads.

use leptos::prelude::*;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    EventSource, Headers, MessageEvent, Request, RequestCredentials, RequestInit, Response,
};

/// A failed request: the HTTP status (0 when the network failed) and the server's `error`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiErr {
    pub status: u16,
    pub message: String,
}

impl std::fmt::Display for ApiErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            0 => write!(f, "network error: {}", self.message),
            s => write!(f, "{} ({s})", self.message),
        }
    }
}

fn js_err(e: JsValue) -> ApiErr {
    ApiErr {
        status: 0,
        message: e.as_string().unwrap_or_else(|| format!("{e:?}")),
    }
}

async fn send(
    method: &str,
    path: &str,
    body: Option<String>,
    csrf: Option<String>,
) -> Result<Value, ApiErr> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    let headers = Headers::new().map_err(js_err)?;
    headers.set("Accept", "application/json").map_err(js_err)?;
    if let Some(b) = &body {
        headers
            .set("Content-Type", "application/json")
            .map_err(js_err)?;
        init.set_body(&JsValue::from_str(b));
    }
    if let Some(t) = &csrf {
        headers.set("X-CSRF-Token", t).map_err(js_err)?;
    }
    init.set_headers(&headers);
    let req = Request::new_with_str_and_init(path, &init).map_err(js_err)?;
    let window = web_sys::window().ok_or_else(|| js_err(JsValue::from_str("no window")))?;
    let resp: Response = JsFuture::from(window.fetch_with_request(&req))
        .await
        .map_err(js_err)?
        .unchecked_into();
    let text = JsFuture::from(resp.text().map_err(js_err)?)
        .await
        .map_err(js_err)?
        .as_string()
        .unwrap_or_default();
    let status = resp.status();
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        Ok(v)
    } else {
        let message = v
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("request failed")
            .to_string();
        Err(ApiErr { status, message })
    }
}

pub async fn get(path: &str) -> Result<Value, ApiErr> {
    send("GET", path, None, None).await
}

thread_local! {
    /// The session's CSRF token (memory only), set by [`login`] and [`me`].
    static CSRF: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

fn remember(me: Me) -> Me {
    CSRF.with(|c| *c.borrow_mut() = Some(me.csrf.clone()));
    me
}

/// POST with the session's CSRF token.
pub async fn post(path: &str, body: &Value) -> Result<Value, ApiErr> {
    let csrf = CSRF.with(|c| c.borrow().clone());
    send("POST", path, Some(body.to_string()), csrf).await
}

pub async fn login(user: &str, password: &str) -> Result<Me, ApiErr> {
    let body = serde_json::json!({"user": user, "password": password}).to_string();
    send("POST", "/api/login", Some(body), None)
        .await
        .map(|v| remember(Me::from_json(&v)))
}

/// The current session, if the cookie still names one.
pub async fn me() -> Result<Me, ApiErr> {
    get("/api/me").await.map(|v| remember(Me::from_json(&v)))
}

/// The logged-in user.
#[derive(Debug, Clone, PartialEq)]
pub struct Me {
    pub user: String,
    pub role: String,
    pub csrf: String,
}

impl Me {
    pub fn from_json(v: &Value) -> Self {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        Me {
            user: s("user"),
            role: s("role"),
            csrf: s("csrf"),
        }
    }
    fn rank(&self) -> u8 {
        match self.role.as_str() {
            "admin" => 2,
            "commander" => 1,
            _ => 0,
        }
    }
    pub fn is_commander(&self) -> bool {
        self.rank() >= 1
    }
    pub fn is_admin(&self) -> bool {
        self.rank() >= 2
    }
}

/// The session, shared through context. `checked` turns true once `/api/me` answered.
#[derive(Clone, Copy)]
pub struct Session {
    pub me: RwSignal<Option<Me>>,
    pub checked: RwSignal<bool>,
}

impl Session {
    pub fn is_commander(&self) -> bool {
        self.me.get().is_some_and(|m| m.is_commander())
    }
    pub fn is_admin(&self) -> bool {
        self.me.get().is_some_and(|m| m.is_admin())
    }
}

/// What the live stream last pushed; a history of payments/s for the sparkline.
#[derive(Clone, Copy)]
pub struct Live {
    pub overview: RwSignal<Value>,
    pub incidents: RwSignal<Value>,
    pub alerts: RwSignal<Value>,
    pub tps_history: RwSignal<Vec<f64>>,
    pub connected: RwSignal<bool>,
}

impl Live {
    pub fn new() -> Self {
        Live {
            overview: RwSignal::new(Value::Null),
            incidents: RwSignal::new(Value::Array(vec![])),
            alerts: RwSignal::new(Value::Array(vec![])),
            tps_history: RwSignal::new(Vec::new()),
            connected: RwSignal::new(false),
        }
    }

    /// Opens `/api/stream` and feeds the signals; the browser reconnects on its own.
    pub fn connect(self) -> Option<EventSource> {
        let es = EventSource::new("/api/stream").ok()?;
        let on = |name: &str, f: Box<dyn Fn(Value)>| {
            let cb = Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
                if let Some(s) = e.data().as_string() {
                    if let Ok(v) = serde_json::from_str::<Value>(&s) {
                        f(v);
                    }
                }
            });
            let _ = es.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
            cb.forget();
        };
        on(
            "overview",
            Box::new(move |v: Value| {
                let tps = v
                    .pointer("/overview/payments_per_s")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
                self.tps_history.update(|h| {
                    h.push(tps);
                    if h.len() > 120 {
                        h.remove(0);
                    }
                });
                self.overview.set(v);
                self.connected.set(true);
            }),
        );
        on("incidents", Box::new(move |v| self.incidents.set(v)));
        on("alerts", Box::new(move |v| self.alerts.set(v)));
        let err = Closure::<dyn Fn(web_sys::Event)>::new(move |_| self.connected.set(false));
        es.set_onerror(Some(err.as_ref().unchecked_ref()));
        err.forget();
        Some(es)
    }
}
