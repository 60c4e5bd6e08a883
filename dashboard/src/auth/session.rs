//! Sessions: a random 256-bit id in an HttpOnly, SameSite=Strict cookie, mapped to the
//! user, role and a per-session CSRF token; idle sessions expire after the TTL, measured
//! on the injected [`digest::Clock`].

use super::password::{constant_time_eq, random_token};
use super::Role;
use digest::{Micros, SharedClock};
use parking_lot::Mutex;
use std::collections::HashMap;

/// The cookie that carries the session id.
pub const COOKIE: &str = "warroom_session";
/// The header every state-changing request carries, equal to the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// One logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub role: Role,
    pub csrf: String,
    expires_us: Micros,
}

impl Session {
    pub fn csrf_ok(&self, header: Option<&str>) -> bool {
        header.is_some_and(|h| constant_time_eq(h.as_bytes(), self.csrf.as_bytes()))
    }
}

/// All live sessions.
pub struct SessionStore {
    clock: SharedClock,
    ttl_us: u64,
    max_sessions: usize,
    by_id: Mutex<HashMap<String, Session>>,
}

impl SessionStore {
    pub fn new(clock: SharedClock, ttl_s: u64) -> Self {
        Self {
            clock,
            ttl_us: ttl_s * 1_000_000,
            max_sessions: 10_000,
            by_id: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a session; returns its id (for the cookie) and the session.
    pub fn create(&self, user: &str, role: Role) -> (String, Session) {
        let now = self.clock.now_us();
        let id = random_token(32);
        let s = Session {
            user: user.into(),
            role,
            csrf: random_token(16),
            expires_us: now + self.ttl_us,
        };
        let mut m = self.by_id.lock();
        if m.len() >= self.max_sessions {
            m.retain(|_, v| v.expires_us > now);
        }
        if m.len() >= self.max_sessions {
            // Still full of live sessions: drop the one closest to expiry.
            if let Some(k) = m
                .iter()
                .min_by_key(|(_, v)| v.expires_us)
                .map(|(k, _)| k.clone())
            {
                m.remove(&k);
            }
        }
        m.insert(id.clone(), s.clone());
        (id, s)
    }

    /// The live session for an id, extending its idle timeout.
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = self.clock.now_us();
        let mut m = self.by_id.lock();
        match m.get_mut(id) {
            Some(s) if s.expires_us > now => {
                s.expires_us = now + self.ttl_us;
                Some(s.clone())
            }
            Some(_) => {
                m.remove(id);
                None
            }
            None => None,
        }
    }

    pub fn remove(&self, id: &str) -> Option<Session> {
        self.by_id.lock().remove(id)
    }

    pub fn len(&self) -> usize {
        self.by_id.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The session id from a `Cookie` header, if any.
pub fn cookie_value<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use digest::ManualClock;
    use std::sync::Arc;

    #[test]
    fn sessions_expire_when_idle_and_extend_when_used() {
        let clock = ManualClock::new(1_000_000);
        let store = SessionStore::new(Arc::new(clock.clone()), 60);
        let (id, s) = store.create("ada", Role::Commander);
        assert_eq!(s.csrf.len(), 32);
        clock.advance_secs(59);
        assert!(store.get(&id).is_some(), "used at 59 s: extended");
        clock.advance_secs(59);
        assert!(store.get(&id).is_some());
        clock.advance_secs(61);
        assert!(store.get(&id).is_none(), "idle past the TTL");
        assert!(store.is_empty());
    }

    #[test]
    fn csrf_and_cookie_parsing() {
        let store = SessionStore::new(Arc::new(ManualClock::new(0)), 60);
        let (_, s) = store.create("v", Role::Viewer);
        assert!(s.csrf_ok(Some(&s.csrf)));
        assert!(!s.csrf_ok(None));
        assert!(!s.csrf_ok(Some("nope")));
        assert_eq!(
            cookie_value("a=1; warroom_session=abc; b=2", COOKIE),
            Some("abc")
        );
        assert_eq!(cookie_value("a=1", COOKIE), None);
    }
}
