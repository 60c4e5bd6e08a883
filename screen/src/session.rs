//! The session: `POST /api/login` (a [`LoginRequest`], answered with [`Me`]),
//! `GET /api/me`, `POST /api/logout` and `GET /api/health` (both [`Ack`]), and the body
//! of every refusal ([`ErrorBody`]).

use serde::{Deserialize, Serialize};

/// Roles, each allowed everything the one before it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads every screen.
    Viewer,
    /// Also approves or rejects plans and creates silences.
    Commander,
    /// Also injects drills.
    Admin,
}

impl Role {
    /// The JSON word.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Commander => "commander",
            Role::Admin => "admin",
        }
    }
}

/// `POST /api/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
}

/// The logged-in user: the answer of `POST /api/login` and `GET /api/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user: String,
    pub role: Role,
    /// The session's CSRF token, sent back as `X-CSRF-Token` on every POST.
    pub csrf: String,
}

/// `{"ok": true}`: `GET /api/health`, `POST /api/logout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub ok: bool,
}

/// The body of every refused or failed request (4xx, 5xx).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}
