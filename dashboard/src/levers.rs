//! The commander's levers on an incident: `GET /api/incidents/{id}/plans` (any role), and
//! `POST …/run`, `…/undo`, `…/resolve` (commander). The POSTs pass the checks every action
//! passes (session, Origin, CSRF token, role), and every attempt past the session is
//! audited with its outcome — refusals too: `denied…` (Origin, token, role), `refused: …`
//! (a bad id or body, 400), `requested` then `ok` or `failed: …` (what the backend said:
//! 404, 409, 503).

use crate::api::{audit_intent, audit_outcome, check_id, parse_json, same_origin, session};
use crate::auth::session::CSRF_HEADER;
use crate::auth::Role;
use crate::backend::{ActionFuture, Actor, DashboardBackend};
use crate::error::ApiError;
use crate::server::Dashboard;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use screen::{InvalidRequest, ResolveRequest, RunRequest, UndoRequest};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

type D = State<Arc<Dashboard>>;
type ApiResult = Result<Response, ApiError>;

pub(crate) fn routes() -> Router<Arc<Dashboard>> {
    Router::new()
        .route("/api/incidents/{id}/plans", get(plans))
        .route(
            "/api/incidents/{id}/run",
            lever(Lever {
                action: "run",
                validate: RunRequest::validate,
                what: |r| r.plan.clone(),
                call: |b, id, req, by| b.run_plan(id, req, by),
            }),
        )
        .route(
            "/api/incidents/{id}/undo",
            lever(Lever {
                action: "undo",
                validate: UndoRequest::validate,
                what: |r| r.action.clone(),
                call: |b, id, req, by| b.undo(id, req, by),
            }),
        )
        .route(
            "/api/incidents/{id}/resolve",
            lever(Lever {
                action: "resolve",
                validate: ResolveRequest::validate,
                // The note is on the incident's timeline; the audit names the incident.
                what: |_| String::new(),
                call: |b, id, req, by| b.resolve(id, req, by),
            }),
        )
}

async fn plans(State(d): D, h: HeaderMap, Path(id): Path<String>) -> ApiResult {
    session(&d, &h)?;
    check_id(&id)?;
    Ok(Json(d.backend.plans(&id).await?).into_response())
}

/// One lever: its audit name, its body's checks, what of the body the audit names beside
/// the incident (`7/bank-failover`, `7/3.0`), and the backend's call.
struct Lever<Req, Out> {
    action: &'static str,
    validate: fn(&Req) -> Result<(), InvalidRequest>,
    what: fn(&Req) -> String,
    call: fn(&dyn DashboardBackend, &str, Req, &Actor) -> ActionFuture<Out>,
}

/// `POST` on a lever.
fn lever<Req, Out>(l: Lever<Req, Out>) -> MethodRouter<Arc<Dashboard>>
where
    Req: DeserializeOwned + Send + 'static,
    Out: Serialize + Send + 'static,
{
    let l = Arc::new(l);
    post(
        move |State(d): D, h: HeaderMap, Path(id): Path<String>, body: Bytes| async move {
            l.pull(&d, &h, &id, &body).await
        },
    )
}

impl<Req: DeserializeOwned, Out: Serialize> Lever<Req, Out> {
    /// The checks in order — session (401, not audited: nobody to name), Origin and CSRF
    /// token (403), the commander role (403), the incident id and the body (400) — each
    /// refusal audited; then `requested`, the backend's call, and its outcome.
    async fn pull(&self, d: &Dashboard, h: &HeaderMap, id: &str, body: &Bytes) -> ApiResult {
        let (_, s) = session(d, h)?;
        let refuse = |target: &str, e: ApiError, outcome: String| {
            if let Err(w) = d
                .audit
                .record(&s.user, Some(s.role), self.action, target, &outcome)
            {
                tracing::error!(error = %w, "audit log write failed after a refused {}", self.action);
            }
            e
        };
        let id_target: String = id.chars().take(64).collect();
        if let Err(e) = same_origin(d, h) {
            let why = format!("denied: {}", e.message);
            return Err(refuse(&id_target, e, why));
        }
        if !s.csrf_ok(h.get(CSRF_HEADER).and_then(|v| v.to_str().ok())) {
            let e = ApiError::forbidden("missing or wrong X-CSRF-Token");
            let why = format!("denied: {}", e.message);
            return Err(refuse(&id_target, e, why));
        }
        if s.role < Role::Commander {
            let e = ApiError::forbidden(format!("{} needs the commander role", self.action));
            return Err(refuse(&id_target, e, "denied".into()));
        }
        let checked = check_id(id)
            .and_then(|()| parse_json::<Req>(body))
            .and_then(|req| {
                (self.validate)(&req)
                    .map(|()| req)
                    .map_err(|e| ApiError::bad_request(e.0))
            });
        let req = match checked {
            Ok(req) => req,
            Err(e) => {
                let why = format!("refused: {}", e.message);
                return Err(refuse(&id_target, e, why));
            }
        };
        let what = (self.what)(&req);
        let target = if what.is_empty() {
            id.to_string()
        } else {
            format!("{id}/{what}")
        };
        audit_intent(d, &s, self.action, &target)?;
        let actor = Actor {
            user: s.user.clone(),
            role: s.role,
        };
        let r = (self.call)(d.backend.as_ref(), id, req, &actor).await;
        audit_outcome(d, &s, self.action, &target, &r);
        Ok(Json(r?).into_response())
    }
}
