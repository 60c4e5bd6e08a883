//! [`RuleBook`]: the Sentinel rules of one payments-sim — flow, hot-parameter
//! and degrade (circuit breaker) — as pushed, and compiled for the payment
//! path. Replacing a list validates it whole (bad input changes nothing and
//! names the field), recompiles, and emits one change event per service whose
//! rules changed.

use super::breaker::BreakerState;
use super::changes::{ChangeBatch, CHANNEL_SERVICE};
use super::error::{parse_json, ControlError};
use super::limits::Compiled;
use super::rules::{
    split_resource, validate_degrade, validate_flow, validate_param, RuleSet, RuleType,
};
use crate::hotpath::{Cache, Published};
use digest::ChangeKind;
use parking_lot::RwLock;
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    static COMPILED: Cache = const { Cache::new(Vec::new()) };
}

/// The rules, as pushed and as compiled.
#[derive(Debug)]
pub(crate) struct RuleBook {
    pushed: RwLock<RuleSet>,
    compiled: Published<Compiled>,
    /// Is any rule compiled? The payment path loads this first.
    active: AtomicBool,
}

impl Default for RuleBook {
    fn default() -> Self {
        Self {
            pushed: RwLock::new(RuleSet::default()),
            compiled: Published::new(Compiled::default(), &COMPILED),
            active: AtomicBool::new(false),
        }
    }
}

/// Replaces `list` with the rules in `body` once they parse and validate;
/// the resources named before and after.
fn replace<R: DeserializeOwned>(
    list: &mut Vec<R>,
    body: &[u8],
    validate: fn(&[R]) -> Result<(), ControlError>,
    resource: fn(&R) -> &String,
) -> Result<(Vec<String>, Vec<String>), ControlError> {
    let rules: Vec<R> = parse_json(body)?;
    validate(&rules)?;
    let names = |l: &[R]| l.iter().map(|r| resource(r).clone()).collect();
    let old = names(list);
    *list = rules;
    Ok((old, names(list)))
}

impl RuleBook {
    /// The rules of one type, as pushed (Sentinel JSON array).
    pub(crate) fn json(&self, kind: RuleType) -> serde_json::Value {
        let r = self.pushed.read();
        match kind {
            RuleType::Flow => serde_json::to_value(&r.flow),
            RuleType::Param => serde_json::to_value(&r.param),
            RuleType::Degrade => serde_json::to_value(&r.degrade),
        }
        .unwrap_or(serde_json::Value::Null)
    }

    /// Replaces the rules of one type from a Sentinel JSON array.
    pub(crate) fn put_json(
        &self,
        kind: RuleType,
        body: &[u8],
        batch: &ChangeBatch<'_>,
    ) -> Result<serde_json::Value, ControlError> {
        let mut next = self.pushed.read().clone();
        let (old_res, new_res) = match kind {
            RuleType::Flow => replace(&mut next.flow, body, validate_flow, |r| &r.resource)?,
            RuleType::Param => replace(&mut next.param, body, validate_param, |r| &r.resource)?,
            RuleType::Degrade => {
                replace(&mut next.degrade, body, validate_degrade, |r| &r.resource)?
            }
        };
        let compiled = Compiled::build(&next.flow, &next.param, &next.degrade);
        self.active.store(!compiled.is_empty(), Ordering::Release);
        self.compiled.publish(compiled);
        *self.pushed.write() = next;
        let services: BTreeSet<&str> = old_res
            .iter()
            .chain(new_res.iter())
            .map(|r| split_resource(r).0)
            .collect();
        let detail = format!(
            "{} rules: {} rule(s) on [{}]",
            kind.as_str(),
            new_res.len(),
            new_res.join(", ")
        );
        if services.is_empty() {
            batch.emit(ChangeKind::Rule, "*", "", detail.clone());
        }
        for s in services {
            let svc = if s == "bank" { CHANNEL_SERVICE } else { s };
            batch.emit(ChangeKind::Rule, svc, "", detail.clone());
        }
        Ok(self.json(kind))
    }

    /// Breaker states by resource (`CLOSED`, `OPEN`, `HALF_OPEN`).
    pub(crate) fn breaker_states(&self) -> Vec<(String, BreakerState)> {
        self.compiled
            .load()
            .breakers
            .iter()
            .map(|(r, b)| (r.clone(), b.state()))
            .collect()
    }

    /// Is any rule in force? One atomic load.
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    /// Runs `f` on the compiled rules: on the payment path, a per-thread
    /// cached snapshot (no shared lock or reference count).
    #[inline]
    pub(crate) fn compiled<R>(&self, f: impl FnOnce(&Compiled) -> R) -> R {
        self.compiled.with(f)
    }
}
