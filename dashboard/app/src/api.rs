//! All talk with the server: typed JSON GET/POST under `/api/` (the `screen` crate's
//! types; session cookie sent by the browser, `X-CSRF-Token` on every POST), the session
//! (`Me`), and the live stream (`/api/stream`, Server-Sent Events) feeding the [`Live`]
//! signals every screen reads.

use leptos::prelude::*;
use screen::{Ack, Alert, ErrorBody, IncidentRow, LoginRequest, Me, OverviewBody, Role};
use serde::de::DeserializeOwned;
use serde::Serialize;
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

async fn send<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<String>,
    csrf: Option<String>,
) -> Result<T, ApiErr> {
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
    if (200..300).contains(&status) {
        serde_json::from_str(&text).map_err(|e| ApiErr {
            status,
            message: format!("unexpected answer from {path}: {e}"),
        })
    } else {
        let message = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| b.error)
            .unwrap_or_else(|_| "request failed".to_string());
        Err(ApiErr { status, message })
    }
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiErr> {
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

/// POST `body` with the session's CSRF token.
pub async fn post<T: DeserializeOwned>(path: &str, body: &impl Serialize) -> Result<T, ApiErr> {
    let csrf = CSRF.with(|c| c.borrow().clone());
    let body = serde_json::to_string(body).map_err(|e| ApiErr {
        status: 0,
        message: e.to_string(),
    })?;
    send("POST", path, Some(body), csrf).await
}

/// An empty JSON object, for POSTs that carry nothing (approve, logout).
#[derive(Serialize)]
struct Nothing {}

/// POST `{}` with the session's CSRF token.
pub async fn post_empty<T: DeserializeOwned>(path: &str) -> Result<T, ApiErr> {
    post(path, &Nothing {}).await
}

pub async fn login(user: &str, password: &str) -> Result<Me, ApiErr> {
    let body = LoginRequest {
        user: user.to_string(),
        password: password.to_string(),
    };
    let body = serde_json::to_string(&body).unwrap_or_default();
    send("POST", "/api/login", Some(body), None)
        .await
        .map(remember)
}

/// The current session, if the cookie still names one.
pub async fn me() -> Result<Me, ApiErr> {
    get("/api/me").await.map(remember)
}

pub async fn logout() -> Result<Ack, ApiErr> {
    post_empty("/api/logout").await
}

/// The session, shared through context. `checked` turns true once `/api/me` answered.
#[derive(Clone, Copy)]
pub struct Session {
    pub me: RwSignal<Option<Me>>,
    pub checked: RwSignal<bool>,
}

impl Session {
    pub fn is_commander(&self) -> bool {
        self.me.get().is_some_and(|m| m.role >= Role::Commander)
    }
    pub fn is_admin(&self) -> bool {
        self.me.get().is_some_and(|m| m.role >= Role::Admin)
    }
}

/// What the live stream last pushed; a history of payments/s for the sparkline.
#[derive(Clone, Copy)]
pub struct Live {
    pub overview: RwSignal<Option<OverviewBody>>,
    pub incidents: RwSignal<Vec<IncidentRow>>,
    pub alerts: RwSignal<Vec<Alert>>,
    pub tps_history: RwSignal<Vec<f64>>,
    pub connected: RwSignal<bool>,
}

/// Registers `f` for the stream's `name` events, each parsed as a `T`.
fn on<T: DeserializeOwned + 'static>(es: &EventSource, name: &str, f: impl Fn(T) + 'static) {
    let cb = Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
        if let Some(s) = e.data().as_string() {
            if let Ok(v) = serde_json::from_str::<T>(&s) {
                f(v);
            }
        }
    });
    let _ = es.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
    cb.forget();
}

impl Live {
    pub fn new() -> Self {
        Live {
            overview: RwSignal::new(None),
            incidents: RwSignal::new(Vec::new()),
            alerts: RwSignal::new(Vec::new()),
            tps_history: RwSignal::new(Vec::new()),
            connected: RwSignal::new(false),
        }
    }

    /// Opens `/api/stream` and feeds the signals; the browser reconnects on its own.
    pub fn connect(self) -> Option<EventSource> {
        let es = EventSource::new("/api/stream").ok()?;
        on(&es, "overview", move |v: OverviewBody| {
            self.tps_history.update(|h| {
                h.push(v.overview.payments_per_s);
                if h.len() > 120 {
                    h.remove(0);
                }
            });
            self.overview.set(Some(v));
            self.connected.set(true);
        });
        on(&es, "incidents", move |v| self.incidents.set(v));
        on(&es, "alerts", move |v| self.alerts.set(v));
        let err = Closure::<dyn Fn(web_sys::Event)>::new(move |_| self.connected.set(false));
        es.set_onerror(Some(err.as_ref().unchecked_ref()));
        err.forget();
        Some(es)
    }
}
