//! Bearer tokens per source. A [`SourceToken`] keeps only the SHA-256 digest of its
//! token, so the secret itself is never held, logged or rendered by the collector; a
//! presented token is hashed and compared with every configured digest in constant time
//! (`subtle`, all of them, no early exit). [`Access`] counts requests per source name,
//! and under fixed labels for requests refused without a (valid) token.

use crate::error::EdgeError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Label of requests refused because they carried no bearer token.
pub const UNAUTHENTICATED: &str = "unauthenticated";
/// Label of requests refused because their bearer token matched no source.
pub const INVALID_TOKEN: &str = "invalid_token";
/// Shortest token accepted (bytes): a guessable secret protects nothing.
pub const MIN_TOKEN_BYTES: usize = 16;

/// One source allowed to send: its name (shown in counters) and its token's digest.
#[derive(Clone)]
pub struct SourceToken {
    name: String,
    digest: [u8; 32],
}

impl std::fmt::Debug for SourceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceToken")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl SourceToken {
    /// A source `name` (`[A-Za-z0-9._-]`, 1–64 bytes, not a reserved label) with its
    /// `token` (at least [`MIN_TOKEN_BYTES`], no whitespace). Only the digest is kept.
    pub fn new(name: &str, token: &str) -> Result<Self, EdgeError> {
        let bad_name = |reason: &str| EdgeError::SourceName {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        if name.is_empty() || name.len() > 64 {
            return Err(bad_name("a name is 1 to 64 bytes"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(bad_name(
                "a name holds only letters, digits, '.', '_' and '-'",
            ));
        }
        if name == UNAUTHENTICATED || name == INVALID_TOKEN {
            return Err(bad_name("this label is reserved for refused requests"));
        }
        let bad_token = |reason: String| EdgeError::Token {
            name: name.to_string(),
            reason,
        };
        if token.len() < MIN_TOKEN_BYTES {
            return Err(bad_token(format!(
                "shorter than {MIN_TOKEN_BYTES} bytes ({} given)",
                token.len()
            )));
        }
        if token
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(bad_token("holds whitespace or control characters".into()));
        }
        Ok(Self {
            name: name.to_string(),
            digest: sha256(token.as_bytes()),
        })
    }

    /// The source's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Requests seen under one label.
#[derive(Default)]
struct Counts {
    /// Answered 2xx.
    accepted: AtomicU64,
    /// Refused: 401 for the fixed labels; any other non-2xx answer for a source.
    refused: AtomicU64,
}

/// The configured sources and their counters.
pub(crate) struct Access {
    tokens: Vec<SourceToken>,
    /// One per token, in the same order.
    counts: Vec<Counts>,
    unauthenticated: Counts,
    invalid: Counts,
}

/// Why a request was refused before its body was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Missing,
    Invalid,
}

impl Access {
    /// Checks that names and tokens are unique.
    pub(crate) fn new(tokens: Vec<SourceToken>) -> Result<Self, EdgeError> {
        for (i, t) in tokens.iter().enumerate() {
            for u in &tokens[..i] {
                if u.name == t.name {
                    return Err(EdgeError::SourceName {
                        name: t.name.clone(),
                        reason: "used by two tokens".into(),
                    });
                }
                if bool::from(u.digest.ct_eq(&t.digest)) {
                    return Err(EdgeError::Token {
                        name: t.name.clone(),
                        reason: format!(
                            "the same token as `{}` (give each source its own)",
                            u.name
                        ),
                    });
                }
            }
        }
        let counts = tokens.iter().map(|_| Counts::default()).collect();
        Ok(Self {
            tokens,
            counts,
            unauthenticated: Counts::default(),
            invalid: Counts::default(),
        })
    }

    /// Whether requests must carry a token.
    pub(crate) fn required(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// The index of the source whose token the request carries.
    fn check(&self, headers: &HeaderMap) -> Result<usize, Refusal> {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(Refusal::Missing)?;
        let digest = sha256(presented.as_bytes());
        // Every digest is compared, whichever matches.
        let mut found = None;
        for (i, t) in self.tokens.iter().enumerate() {
            let hit = bool::from(t.digest.ct_eq(&digest));
            if hit {
                found = Some(i);
            }
        }
        found.ok_or(Refusal::Invalid)
    }

    /// Requests per label: every source (configured order), then the two fixed labels.
    fn labels(&self) -> impl Iterator<Item = (&str, &Counts)> {
        self.tokens
            .iter()
            .map(|t| t.name.as_str())
            .zip(self.counts.iter())
            .chain([
                (UNAUTHENTICATED, &self.unauthenticated),
                (INVALID_TOKEN, &self.invalid),
            ])
    }

    /// The `auth` object of `/api/stats`.
    pub(crate) fn stats_json(&self) -> serde_json::Value {
        let by_source: BTreeMap<&str, serde_json::Value> = if self.required() {
            self.labels()
                .map(|(name, c)| {
                    (
                        name,
                        serde_json::json!({
                            "accepted": c.accepted.load(Relaxed),
                            "refused": c.refused.load(Relaxed),
                        }),
                    )
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        serde_json::json!({"required": self.required(), "by_source": by_source})
    }

    /// `warroom_collector_auth_requests_total{source,outcome}` (Prometheus text).
    pub(crate) fn render(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "# HELP warroom_collector_auth_required Whether ingest and record reads need a bearer token.\n# TYPE warroom_collector_auth_required gauge\nwarroom_collector_auth_required {}",
            u8::from(self.required())
        );
        if !self.required() {
            return;
        }
        let _ = writeln!(
            o,
            "# HELP warroom_collector_auth_requests_total Requests to token-guarded endpoints, by source and outcome (refused sources `{UNAUTHENTICATED}` and `{INVALID_TOKEN}`: 401).\n# TYPE warroom_collector_auth_requests_total counter"
        );
        for (name, c) in self.labels() {
            for (outcome, v) in [("accepted", &c.accepted), ("refused", &c.refused)] {
                let _ = writeln!(
                    o,
                    "warroom_collector_auth_requests_total{{source=\"{name}\",outcome=\"{outcome}\"}} {}",
                    v.load(Relaxed)
                );
            }
        }
    }
}

fn unauthorized(r: Refusal) -> Response {
    let (message, challenge) = match r {
        Refusal::Missing => (
            "missing bearer token: send `Authorization: Bearer <token>` (the collector's \
             [collector] tokens)",
            "Bearer realm=\"warroom-collector\"",
        ),
        Refusal::Invalid => (
            "invalid bearer token: it matches no source in [collector] tokens",
            "Bearer realm=\"warroom-collector\", error=\"invalid_token\"",
        ),
    };
    let mut resp = (
        StatusCode::UNAUTHORIZED,
        Json(serde_json::json!({"error": message})),
    )
        .into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    resp
}

/// Middleware of the guarded routes: a request without a valid token is answered 401
/// before its body is read; one with a token is counted under its source by outcome.
pub(crate) async fn require_token(
    State(access): State<Arc<Access>>,
    req: Request,
    next: Next,
) -> Response {
    match access.check(req.headers()) {
        Ok(i) => {
            let resp = next.run(req).await;
            let c = &access.counts[i];
            if resp.status().is_success() {
                c.accepted.fetch_add(1, Relaxed);
            } else {
                c.refused.fetch_add(1, Relaxed);
            }
            resp
        }
        Err(r) => {
            let c = match r {
                Refusal::Missing => &access.unauthenticated,
                Refusal::Invalid => &access.invalid,
            };
            c.refused.fetch_add(1, Relaxed);
            unauthorized(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
        h
    }

    fn access() -> Access {
        Access::new(vec![
            SourceToken::new("checkout-svc", "tok-checkout-0123456789").unwrap(),
            SourceToken::new("web", "tok-web-abcdefghijklmn").unwrap(),
        ])
        .unwrap()
    }

    #[test]
    fn a_token_finds_its_source_and_nothing_else_does() {
        let a = access();
        assert_eq!(a.check(&headers("Bearer tok-web-abcdefghijklmn")), Ok(1));
        assert_eq!(a.check(&headers("bearer  tok-checkout-0123456789 ")), Ok(0));
        assert_eq!(a.check(&HeaderMap::new()), Err(Refusal::Missing));
        assert_eq!(
            a.check(&headers("Basic dXNlcjpwdw==")),
            Err(Refusal::Missing)
        );
        assert_eq!(a.check(&headers("Bearer ")), Err(Refusal::Missing));
        // Same length, one byte off; a prefix; a longer one.
        assert_eq!(
            a.check(&headers("Bearer tok-web-abcdefghijklmo")),
            Err(Refusal::Invalid)
        );
        assert_eq!(a.check(&headers("Bearer tok-web")), Err(Refusal::Invalid));
        assert_eq!(
            a.check(&headers("Bearer tok-web-abcdefghijklmnX")),
            Err(Refusal::Invalid)
        );
    }

    #[test]
    fn bad_names_and_tokens_are_refused_naming_the_source_not_the_token() {
        let e = SourceToken::new("web", "s3cr3t").unwrap_err().to_string();
        assert!(e.contains("`web`") && !e.contains("s3cr3t"), "{e}");
        assert!(SourceToken::new("", "0123456789abcdef0").is_err());
        assert!(SourceToken::new("a b", "0123456789abcdef0").is_err());
        assert!(SourceToken::new(UNAUTHENTICATED, "0123456789abcdef0").is_err());
        assert!(SourceToken::new("web", "0123456789 abcdef0").is_err());
        let t = || SourceToken::new("a", "0123456789abcdef0").unwrap();
        let e = Access::new(vec![t(), t()]).err().unwrap().to_string();
        assert!(e.contains("two tokens"), "{e}");
        let same = vec![t(), SourceToken::new("b", "0123456789abcdef0").unwrap()];
        let e = Access::new(same).err().unwrap().to_string();
        assert!(
            e.contains("same token as `a`") && !e.contains("0123456789"),
            "{e}"
        );
        let dbg = format!("{:?}", t());
        assert!(!dbg.contains("0123456789"), "{dbg}");
    }
}
