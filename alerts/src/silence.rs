//! Silences: matchers with a start and an end that mute matching alerts. API-shaped: create
//! (validated; bad requests change nothing), expire, list, and the question "is this muted?".

use crate::error::AlertsError;
use crate::labels::{matches_all, Labels, Matcher};
use digest::Micros;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A request to create a silence (the body of `POST /api/silences`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilenceRequest {
    /// Matcher strings, e.g. `["zone=\"hz\"", "alertname=~\"Bank*\""]`; at least one.
    pub matchers: Vec<String>,
    /// RFC 3339 start; absent means now.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// RFC 3339 end; must be after the start and in the future.
    pub ends_at: String,
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
}

/// A stored silence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at_us: Micros,
    pub ends_at_us: Micros,
    pub created_by: String,
    pub comment: String,
}

impl Silence {
    pub(crate) fn is_active(&self, now: Micros) -> bool {
        self.starts_at_us <= now && now < self.ends_at_us
    }
}

/// All silences, by id.
#[derive(Debug, Default)]
pub(crate) struct Silences {
    by_id: BTreeMap<String, Silence>,
    next: u64,
}

impl Silences {
    /// Validates a request into a silence (not yet stored).
    pub(crate) fn build(
        &mut self,
        req: &SilenceRequest,
        now: Micros,
    ) -> Result<Silence, AlertsError> {
        let bad = |m: String| AlertsError::BadSilence(m);
        if req.matchers.is_empty() {
            return Err(bad(
                "`matchers` must not be empty (a silence must not mute everything)".into(),
            ));
        }
        let matchers = req
            .matchers
            .iter()
            .enumerate()
            .map(|(i, m)| Matcher::parse(m).map_err(|e| bad(format!("`matchers[{i}]`: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let starts_at_us = match &req.starts_at {
            None => now,
            Some(s) => digest::parse_rfc3339(s).map_err(|e| bad(format!("`starts_at`: {e}")))?,
        };
        let ends_at_us =
            digest::parse_rfc3339(&req.ends_at).map_err(|e| bad(format!("`ends_at`: {e}")))?;
        if ends_at_us <= starts_at_us || ends_at_us <= now {
            return Err(bad(
                "`ends_at` must be after `starts_at` and in the future".into()
            ));
        }
        if req.created_by.trim().is_empty() {
            return Err(bad("`created_by` must not be empty".into()));
        }
        self.next += 1;
        Ok(Silence {
            id: format!("s-{now:x}-{}", self.next),
            matchers,
            starts_at_us,
            ends_at_us,
            created_by: req.created_by.clone(),
            comment: req.comment.clone(),
        })
    }

    /// Stores (or replaces, on replay) a silence.
    pub(crate) fn insert(&mut self, s: Silence) {
        self.by_id.insert(s.id.clone(), s);
    }

    /// Ends a silence now. Returns the updated silence.
    pub(crate) fn expire(&mut self, id: &str, now: Micros) -> Result<Silence, AlertsError> {
        let s = self
            .by_id
            .get_mut(id)
            .ok_or_else(|| AlertsError::UnknownSilence(id.into()))?;
        s.ends_at_us = s.ends_at_us.min(now);
        Ok(s.clone())
    }

    pub(crate) fn list(&self) -> impl Iterator<Item = &Silence> {
        self.by_id.values()
    }

    /// The id of an active silence muting these labels.
    pub(crate) fn muted_by(&self, labels: &Labels, now: Micros) -> Option<&str> {
        self.by_id
            .values()
            .find(|s| s.is_active(now) && matches_all(&s.matchers, labels))
            .map(|s| s.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(m: &[&str], end: &str) -> SilenceRequest {
        SilenceRequest {
            matchers: m.iter().map(|s| s.to_string()).collect(),
            starts_at: None,
            ends_at: end.into(),
            created_by: "commander".into(),
            comment: String::new(),
        }
    }

    #[test]
    fn mutes_within_window_and_expires() {
        let now = digest::parse_rfc3339("2026-11-27T10:00:00Z").unwrap();
        let mut s = Silences::default();
        let sil = s
            .build(&req(&["zone=hz"], "2026-11-27T11:00:00Z"), now)
            .unwrap();
        let id = sil.id.clone();
        s.insert(sil);
        let hz: Labels = [("zone".to_string(), "hz".to_string())].into();
        assert_eq!(s.muted_by(&hz, now), Some(id.as_str()));
        assert_eq!(s.muted_by(&Labels::new(), now), None);
        s.expire(&id, now + 1).unwrap();
        assert_eq!(s.muted_by(&hz, now + 1), None);
        assert!(s.expire("nope", now).is_err());
    }

    #[test]
    fn bad_requests_are_refused_and_change_nothing() {
        let now = digest::parse_rfc3339("2026-11-27T10:00:00Z").unwrap();
        let mut s = Silences::default();
        for (r, field) in [
            (req(&[], "2026-11-27T11:00:00Z"), "matchers"),
            (req(&["zone"], "2026-11-27T11:00:00Z"), "matchers[0]"),
            (req(&["zone=hz"], "yesterday"), "ends_at"),
            (req(&["zone=hz"], "2026-11-27T09:00:00Z"), "ends_at"),
        ] {
            let e = s.build(&r, now).unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
        assert_eq!(s.list().count(), 0);
    }
}
