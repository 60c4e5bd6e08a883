//! The dashboard's errors: [`DashboardError`] for setting it up (config, files), and
//! [`ApiError`], the one mapping from a failure to an HTTP status and a JSON body
//! `{"error": "..."}` at the edge.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Why the dashboard could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("dashboard config {path}: {msg}")]
    Config { path: String, msg: String },
    #[error("audit log {path}: {source}")]
    Audit {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A refused or failed API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, m)
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "not logged in")
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, m)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(screen::ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

impl From<crate::backend::BackendError> for ApiError {
    fn from(e: crate::backend::BackendError) -> Self {
        use crate::backend::BackendError as B;
        let status = match e {
            B::NotFound(_) => StatusCode::NOT_FOUND,
            B::Invalid(_) => StatusCode::BAD_REQUEST,
            B::Conflict(_) => StatusCode::CONFLICT,
            B::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        Self::new(status, e.to_string())
    }
}
