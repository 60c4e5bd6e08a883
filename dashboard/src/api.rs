//! The JSON API under `/api/`: login/logout/me, the read endpoints every role may call,
//! and the actions guarded by role, CSRF token and Origin, each audited before it runs
//! (the commander's levers on an incident are in `levers.rs`). Handlers only
//! translate HTTP to [`DashboardBackend`] calls.

use crate::auth::session::{cookie_value, COOKIE, CSRF_HEADER};
use crate::auth::{Role, Session};
use crate::backend::{Actor, BackendError, DashboardBackend};
use crate::error::ApiError;
use crate::server::Dashboard;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use digest::TraceId;
use screen::{Ack, DrillRequest, LoginRequest, Me, RejectRequest, SilenceRequest};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

type D = State<Arc<Dashboard>>;
type ApiResult = Result<Response, ApiError>;

/// Largest request body accepted by any endpoint.
const MAX_BODY: usize = 16 * 1024;

pub fn routes() -> Router<Arc<Dashboard>> {
    Router::new()
        .route("/api/health", get(|| async { Json(Ack { ok: true }) }))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/overview", get(overview))
        .route("/api/scenes", reader(|b| b.scenes()))
        .route("/api/topology", reader(|b| b.topology()))
        .route("/api/services", reader(|b| b.services()))
        .route("/api/hotspots", reader(|b| b.hotspots()))
        .route("/api/incidents", reader(|b| b.incidents()))
        .route("/api/incidents/{id}", get(incident))
        .route("/api/incidents/{id}/approve", post(approve))
        .route("/api/incidents/{id}/reject", post(reject))
        .route("/api/alerts", reader(|b| b.alerts()))
        .route("/api/silences", reader(|b| b.silences()).post(silence))
        .route("/api/slo", reader(|b| b.slo()))
        .route("/api/changes", reader(|b| b.changes()))
        .route("/api/traces/{id}", get(trace))
        .route("/api/drills", reader(|b| b.drill_kinds()).post(drill))
        .route("/api/stream", get(crate::stream::stream))
        .merge(crate::levers::routes())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
}

/// The live session of a request, or 401.
pub(crate) fn session(d: &Dashboard, h: &HeaderMap) -> Result<(String, Session), ApiError> {
    let id = h
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| cookie_value(c, COOKIE))
        .ok_or_else(ApiError::unauthorized)?;
    let s = d.sessions.get(id).ok_or_else(ApiError::unauthorized)?;
    Ok((id.to_string(), s))
}

/// Refuses requests another site made the browser send: an `Origin` that is not the
/// dashboard's own (or an allowed one), or `Sec-Fetch-Site: cross-site`.
pub(crate) fn same_origin(d: &Dashboard, h: &HeaderMap) -> Result<(), ApiError> {
    let cross = || ApiError::forbidden("cross-site request refused");
    if h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return Err(cross());
    }
    let Some(origin) = h.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().map_err(|_| cross())?;
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let own = !host.is_empty()
        && (origin == format!("http://{host}") || origin == format!("https://{host}"));
    if own || d.allowed_origins.iter().any(|o| o == origin) {
        Ok(())
    } else {
        Err(cross())
    }
}

/// A state-changing request: a session (401), same origin and the CSRF header (403),
/// and at least `role` (403, audited as denied).
fn authorize(
    d: &Dashboard,
    h: &HeaderMap,
    role: Role,
    action: &str,
    target: &str,
) -> Result<Session, ApiError> {
    let (_, s) = session(d, h)?;
    same_origin(d, h)?;
    if !s.csrf_ok(h.get(CSRF_HEADER).and_then(|v| v.to_str().ok())) {
        return Err(ApiError::forbidden("missing or wrong X-CSRF-Token"));
    }
    if s.role < role {
        let _ = d
            .audit
            .record(&s.user, Some(s.role), action, target, "denied");
        return Err(ApiError::forbidden(format!(
            "{action} needs the {} role",
            role.as_str()
        )));
    }
    Ok(s)
}

/// Writes the audit line that must exist before an action runs.
pub(crate) fn audit_intent(
    d: &Dashboard,
    s: &Session,
    action: &str,
    target: &str,
) -> Result<(), ApiError> {
    d.audit
        .record(&s.user, Some(s.role), action, target, "requested")
        .map_err(|e| {
            tracing::error!(error = %e, "audit log write failed; action refused");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit log unavailable; action refused",
            )
        })
}

pub(crate) fn audit_outcome<T>(
    d: &Dashboard,
    s: &Session,
    action: &str,
    target: &str,
    r: &Result<T, BackendError>,
) {
    let outcome = match r {
        Ok(_) => "ok".to_string(),
        Err(e) => format!("failed: {e}"),
    };
    if let Err(e) = d
        .audit
        .record(&s.user, Some(s.role), action, target, &outcome)
    {
        tracing::error!(error = %e, "audit log write failed after {action}");
    }
}

pub(crate) fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("bad JSON body: {e}")))
}

/// A GET endpoint any logged-in role may read.
fn reader<T: Serialize + 'static>(
    f: fn(&dyn DashboardBackend) -> T,
) -> MethodRouter<Arc<Dashboard>> {
    get(move |State(d): D, h: HeaderMap| async move {
        session(&d, &h)?;
        Ok::<_, ApiError>(Json(f(d.backend.as_ref())))
    })
}

async fn login(State(d): D, h: HeaderMap, body: Bytes) -> ApiResult {
    same_origin(&d, &h)?;
    let b: LoginRequest = parse_json(&body)?;
    let name: String = b.user.chars().take(64).collect();
    if let Some(wait_s) = d.throttle.locked_for(&name) {
        let _ = d
            .audit
            .record(&name, None, "login", "", "denied: too many failures");
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many failed logins for this user; try again in {wait_s} s"),
        ));
    }
    let d2 = d.clone();
    let (n2, pw) = (name.clone(), b.password);
    // PBKDF2 is deliberately slow: keep it off the async workers.
    let role = tokio::task::spawn_blocking(move || d2.users.check(&n2, &pw))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "login failed"))?;
    let Some(role) = role else {
        let _ = d
            .audit
            .record(&name, None, "login", "", "failed: bad user or password");
        d.throttle.failed(&name);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad user or password",
        ));
    };
    d.throttle.succeeded(&name);
    let (id, s) = d.sessions.create(&name, role);
    let _ = d.audit.record(&name, Some(role), "login", "", "ok");
    let cookie = format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/");
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(Me {
            user: s.user,
            role,
            csrf: s.csrf,
        }),
    )
        .into_response())
}

async fn logout(State(d): D, h: HeaderMap) -> ApiResult {
    let (id, s) = session(&d, &h)?;
    same_origin(&d, &h)?;
    if !s.csrf_ok(h.get(CSRF_HEADER).and_then(|v| v.to_str().ok())) {
        return Err(ApiError::forbidden("missing or wrong X-CSRF-Token"));
    }
    d.sessions.remove(&id);
    let _ = d.audit.record(&s.user, Some(s.role), "logout", "", "ok");
    let cookie = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok(([(header::SET_COOKIE, cookie)], Json(Ack { ok: true })).into_response())
}

async fn me(State(d): D, h: HeaderMap) -> ApiResult {
    let (_, s) = session(&d, &h)?;
    Ok(Json(Me {
        user: s.user,
        role: s.role,
        csrf: s.csrf,
    })
    .into_response())
}

async fn overview(State(d): D, h: HeaderMap) -> ApiResult {
    session(&d, &h)?;
    Ok(Json(crate::stream::overview_body(d.backend.as_ref())).into_response())
}

async fn incident(State(d): D, h: HeaderMap, Path(id): Path<String>) -> ApiResult {
    session(&d, &h)?;
    check_id(&id)?;
    Ok(Json(d.backend.incident(&id)?).into_response())
}

async fn trace(State(d): D, h: HeaderMap, Path(id): Path<String>) -> ApiResult {
    session(&d, &h)?;
    let tid = TraceId::parse(&id).map_err(|e| ApiError::bad_request(format!("trace id: {e}")))?;
    Ok(Json(d.backend.trace(tid).await?).into_response())
}

pub(crate) fn check_id(id: &str) -> Result<(), ApiError> {
    if screen::is_token(id) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "incident id: 1..=64 of [A-Za-z0-9_.:-]",
        ))
    }
}

async fn approve(State(d): D, h: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let s = authorize(&d, &h, Role::Commander, "approve", &id)?;
    check_id(&id)?;
    audit_intent(&d, &s, "approve", &id)?;
    let actor = Actor {
        user: s.user.clone(),
        role: s.role,
    };
    let r = d.backend.approve(&id, &actor).await;
    audit_outcome(&d, &s, "approve", &id, &r);
    Ok(Json(r?).into_response())
}

async fn reject(State(d): D, h: HeaderMap, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let s = authorize(&d, &h, Role::Commander, "reject", &id)?;
    check_id(&id)?;
    let b: RejectRequest = parse_json(&body)?;
    b.validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    audit_intent(&d, &s, "reject", &id)?;
    let actor = Actor {
        user: s.user.clone(),
        role: s.role,
    };
    let r = d.backend.reject(&id, &actor, b.reason).await;
    audit_outcome(&d, &s, "reject", &id, &r);
    Ok(Json(r?).into_response())
}

async fn silence(State(d): D, h: HeaderMap, body: Bytes) -> ApiResult {
    let s = authorize(&d, &h, Role::Commander, "silence", "")?;
    let req: SilenceRequest = parse_json(&body)?;
    req.validate().map_err(BackendError::from)?;
    let target = serde_json::to_string(&req.matchers).unwrap_or_default();
    audit_intent(&d, &s, "silence", &target)?;
    let actor = Actor {
        user: s.user.clone(),
        role: s.role,
    };
    let r = d.backend.create_silence(req, &actor).await;
    audit_outcome(&d, &s, "silence", &target, &r);
    Ok((StatusCode::CREATED, Json(r?)).into_response())
}

async fn drill(State(d): D, h: HeaderMap, body: Bytes) -> ApiResult {
    let s = authorize(&d, &h, Role::Admin, "drill", "")?;
    let req: DrillRequest = parse_json(&body)?;
    req.validate().map_err(BackendError::from)?;
    let target = format!("{}@{}", req.fault, req.target.as_deref().unwrap_or("*"));
    audit_intent(&d, &s, "drill", &target)?;
    let actor = Actor {
        user: s.user.clone(),
        role: s.role,
    };
    let r = d.backend.inject_drill(req, &actor).await;
    audit_outcome(&d, &s, "drill", &target, &r);
    Ok((StatusCode::ACCEPTED, Json(r?)).into_response())
}
