//! A fault as written: the CLI form `KIND[:TARGET][@START_S[+DURATION_S]]` and the
//! JSON body of `/control/faults`, both parsed into one [`FaultSpec`], and the
//! resolution of a spec's target against its kind (with the documented defaults).

use super::scope::Scope;
use super::shape::Shape;
use super::{defaults, Binding, FaultError, FaultKind, Target, LEDGER_DBS};
use crate::msg::Service;
use serde::{Deserialize, Serialize};

/// One fault, as asked for. Times are seconds relative to the run's start (CLI)
/// or to the moment the request arrives (API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: FaultKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default)]
    pub start_s: f64,
    /// Absent: until the run ends (or the fault is removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// Extra latency (latency, bad-release), timeout (timeout), queue wait
    /// (pool-exhaustion), or per-posting delay (slow-ledger), in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Share of affected calls that fail (errors, timeout, bad-release), 0..=1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Load multiplier (surge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// Share of all payments sent to the hot merchant (hot-merchant), 0..=1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// Concurrent calls the exhausted pool still serves (pool-exhaustion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<u32>,
    /// The bad release's version (bad-release); default: the next minor version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Seconds over which the fault grows linearly from nothing to full strength
    /// after its start (the rate, the delay or the load factor; see `shape.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp_s: Option<f64>,
    /// Flapping: on for `flap_on_s`, off for `flap_off_s`, repeating from the
    /// start (both or neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flap_on_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flap_off_s: Option<f64>,
    /// Scope: only payments of this scene (`quick_pay`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<String>,
    /// Scope: only payments of this channel (`SDK`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Scope: only payments of these merchants, a comma list of merchant keys
    /// (`m-1` or `m-1,m-7,m-hot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchants: Option<String>,
    /// Scope: only shadow (full-link stress-test) traffic; real payments never.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shadow_only: bool,
}

impl FaultSpec {
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            target: None,
            start_s: 0.0,
            duration_s: None,
            delay_ms: None,
            rate: None,
            factor: None,
            share: None,
            pool: None,
            version: None,
            ramp_s: None,
            flap_on_s: None,
            flap_off_s: None,
            scene: None,
            channel: None,
            merchants: None,
            shadow_only: false,
        }
    }

    pub(crate) fn err(&self, field: &str, reason: impl Into<String>) -> FaultError {
        FaultError {
            spec: self.to_cli(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The CLI form of this spec (parameters other than the target are dropped).
    pub(crate) fn to_cli(&self) -> String {
        let mut s = self.kind.as_str().to_string();
        if let Some(t) = &self.target {
            s.push(':');
            s.push_str(t);
        }
        if self.start_s != 0.0 || self.duration_s.is_some() {
            s.push_str(&format!("@{}", self.start_s));
            if let Some(d) = self.duration_s {
                s.push_str(&format!("+{d}"));
            }
        }
        s
    }

    /// Checks every field and resolves the target (with its default).
    pub(crate) fn resolve(&self) -> Result<Target, FaultError> {
        if !self.start_s.is_finite() || self.start_s < 0.0 {
            return Err(self.err("start_s", "must be a number of seconds >= 0"));
        }
        if let Some(d) = self.duration_s {
            if !d.is_finite() || d <= 0.0 {
                return Err(self.err("duration_s", "must be a number of seconds > 0"));
            }
        }
        for (name, v) in [("rate", self.rate), ("share", self.share)] {
            if let Some(v) = v {
                if !(0.0..=1.0).contains(&v) {
                    return Err(self.err(name, "must be within 0..=1"));
                }
            }
        }
        if let Some(f) = self.factor {
            if !f.is_finite() || f <= 0.0 || f > 100.0 {
                return Err(self.err("factor", "must be within (0, 100]"));
            }
        }
        if self.pool == Some(0) && self.kind == FaultKind::PoolExhaustion {
            // A pool of 0 is a full outage: allowed, but say so in the docs.
        }
        if self
            .version
            .as_deref()
            .is_some_and(|v| v.is_empty() || v.len() > 64)
        {
            return Err(self.err("version", "must be 1..=64 bytes"));
        }
        Shape::check(self)?;
        Scope::check(self)?;
        let mut t = self.target.as_deref().map(str::trim);
        if self.kind == FaultKind::SlowLedger && t == Some("") {
            t = None; // the primary, as when absent
        }
        if t == Some("") {
            return Err(self.err("target", "empty (omit it for the default)"));
        }
        if t.is_some_and(|t| {
            t.len() > 128 || t.chars().any(|c| c.is_whitespace() || c.is_control())
        }) {
            return Err(self.err("target", "must be <= 128 bytes with no spaces"));
        }
        use FaultKind::*;
        if let Some(name) = t.and_then(|t| t.strip_prefix("instance:")) {
            if !matches!(self.kind, Latency | Errors | Timeout) {
                return Err(self.err(
                    "target",
                    format!(
                        "instance:NAME targets latency, errors or timeout, not {}",
                        self.kind
                    ),
                ));
            }
            return self.instance_target(name);
        }
        let svc = |default: &str| -> Result<Target, FaultError> {
            let t = t.unwrap_or(default);
            if let Some(bank) = t.strip_prefix("bank:") {
                if bank.is_empty() {
                    return Err(self.err("target", "bank:NAME needs a bank name"));
                }
                return Ok(Target::Bank {
                    bank: bank.to_string(),
                });
            }
            let (service, operation) = match t.split_once(':') {
                Some((s, op)) => (s, Some(op)),
                None => (t, None),
            };
            if service.is_empty() || operation == Some("") {
                return Err(self.err("target", "expected SERVICE, SERVICE:OPERATION or bank:NAME"));
            }
            Ok(Target::Service {
                service: service.to_string(),
                operation: operation.map(str::to_string),
            })
        };
        match self.kind {
            Latency | Errors | Timeout => svc(defaults::SERVICE),
            BadRelease | PoolExhaustion | ConfigPush => {
                let d = match self.kind {
                    BadRelease => defaults::RELEASE_SERVICE,
                    ConfigPush => defaults::CONFIG_SERVICE,
                    _ => defaults::POOL_SERVICE,
                };
                match svc(d)? {
                    Target::Service {
                        service,
                        operation: None,
                    } => Ok(Target::Service {
                        service,
                        operation: None,
                    }),
                    _ => Err(self.err("target", "expected a service name")),
                }
            }
            BankOutage => {
                let b = t.unwrap_or(defaults::BANK);
                Ok(Target::Bank {
                    bank: b.strip_prefix("bank:").unwrap_or(b).to_string(),
                })
            }
            ZoneOutage => Ok(Target::Zone {
                zone: t.unwrap_or(defaults::ZONE).to_string(),
            }),
            HotMerchant => Ok(Target::Merchant {
                merchant: t.unwrap_or(defaults::MERCHANT).to_string(),
            }),
            Surge => {
                if let Some(t) = t {
                    let f: f64 = t.parse().map_err(|_| {
                        self.err("target", "surge's target is its load factor, a number")
                    })?;
                    if !f.is_finite() || f <= 0.0 || f > 100.0 {
                        return Err(self.err("target", "surge factor must be within (0, 100]"));
                    }
                }
                Ok(Target::Global)
            }
            SlowLedger => match t {
                None | Some("accounting") | Some("ledger") => {
                    Ok(Target::LedgerDb { db: String::new() })
                }
                Some(db) if LEDGER_DBS.contains(&db) => Ok(Target::LedgerDb { db: db.to_string() }),
                Some(_) => Err(self.err(
                    "target",
                    format!(
                        "slow-ledger's target is a ledger database ({}), or none for the primary",
                        LEDGER_DBS.join(", ")
                    ),
                )),
            },
        }
    }

    /// `instance:NAME`: NAME is `{service}-{n}` of a known service, n >= 1
    /// (whether it exists is checked by [`FaultSpec::bind`]).
    fn instance_target(&self, name: &str) -> Result<Target, FaultError> {
        let parsed = name.rsplit_once('-').and_then(|(svc, n)| {
            let svc = Service::from_name(svc)?;
            let digits = !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit());
            (digits && n.parse::<u32>().is_ok()).then_some(svc)
        });
        match parsed {
            Some(svc) => Ok(Target::Instance {
                service: svc.name().to_string(),
                instance: name.to_string(),
            }),
            None => Err(self.err(
                "target",
                format!(
                    "unknown instance {name:?} (instances are SERVICE-N, e.g. payment-engine-2)"
                ),
            )),
        }
    }

    /// [`FaultSpec::resolve`], then checks the target against the running
    /// system: an instance must exist; a slow-ledger without a database binds
    /// to the primary of this moment.
    pub(crate) fn bind(&self, b: &Binding<'_>) -> Result<Target, FaultError> {
        match self.resolve()? {
            Target::Instance { service, instance } => {
                if b.instances.find(&instance).is_none() {
                    let n = Service::from_name(&service).map_or(0, |s| b.instances.of(s).len());
                    return Err(self.err(
                        "target",
                        format!("unknown instance {instance:?} ({service} runs {service}-1..={service}-{n})"),
                    ));
                }
                Ok(Target::Instance { service, instance })
            }
            Target::LedgerDb { db } if db.is_empty() => Ok(Target::LedgerDb {
                db: b.primary_db.to_string(),
            }),
            t => Ok(t),
        }
    }
}

/// Parses `KIND[:TARGET][@START_S[+DURATION_S]]`, e.g. `latency:bank:bank-b@10+30`,
/// `surge:4@5`, `zone-outage`. Errors name the part that is wrong.
pub fn parse_fault(text: &str) -> Result<FaultSpec, FaultError> {
    let err = |field: &str, reason: String| FaultError {
        spec: text.to_string(),
        field: field.to_string(),
        reason,
    };
    let (head, when) = match text.rsplit_once('@') {
        Some((h, w)) => (h, Some(w)),
        None => (text, None),
    };
    let (kind_s, target) = match head.split_once(':') {
        Some((k, t)) => (k, Some(t)),
        None => (head, None),
    };
    let kind = FaultKind::parse(kind_s).ok_or_else(|| {
        let all: Vec<_> = FaultKind::ALL.iter().map(|k| k.as_str()).collect();
        err(
            "kind",
            format!(
                "unknown kind {kind_s:?} (expected one of {})",
                all.join(", ")
            ),
        )
    })?;
    let mut spec = FaultSpec::new(kind);
    spec.target = target.map(str::to_string);
    if let Some(w) = when {
        let (start, dur) = match w.split_once('+') {
            Some((s, d)) => (s, Some(d)),
            None => (w, None),
        };
        spec.start_s = start
            .parse::<f64>()
            .map_err(|_| err("start", format!("{start:?} is not a number of seconds")))?;
        if let Some(d) = dur {
            spec.duration_s = Some(
                d.parse::<f64>()
                    .map_err(|_| err("duration", format!("{d:?} is not a number of seconds")))?,
            );
        }
    }
    if let (FaultKind::Surge, Some(t)) = (kind, &spec.target) {
        spec.factor = t.parse().ok();
    }
    spec.resolve().map_err(|e| FaultError {
        spec: text.to_string(),
        ..e
    })?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_cli_form() {
        let s = parse_fault("latency:bank:bank-b@10+30").unwrap();
        assert_eq!(s.kind, FaultKind::Latency);
        assert_eq!(s.target.as_deref(), Some("bank:bank-b"));
        assert_eq!((s.start_s, s.duration_s), (10.0, Some(30.0)));
        assert_eq!(
            s.resolve().unwrap(),
            Target::Bank {
                bank: "bank-b".into()
            }
        );
        let s = parse_fault("errors:payment:pay@2.5").unwrap();
        assert_eq!(
            s.resolve().unwrap(),
            Target::Service {
                service: "payment".into(),
                operation: Some("pay".into())
            }
        );
        assert_eq!(s.duration_s, None);
        let s = parse_fault("surge:4").unwrap();
        assert_eq!(s.factor, Some(4.0));
        assert_eq!(
            parse_fault("zone-outage").unwrap().resolve().unwrap(),
            Target::Zone {
                zone: defaults::ZONE.into()
            }
        );
    }

    #[test]
    fn the_drill_scenarios_specs_are_accepted() {
        // As `stack/src/drill/scenario.rs` sends them.
        for body in [
            r#"{"kind": "latency", "target": "risk", "ramp_s": 60}"#,
            r#"{"kind": "errors", "target": "trade", "ramp_s": 60}"#,
            r#"{"kind": "errors", "target": "trade", "scene": "quick_pay", "rate": 0.6}"#,
            r#"{"kind": "errors", "target": "payment", "channel": "SDK", "rate": 0.6}"#,
            r#"{"kind": "bank-outage", "target": "bank-a", "merchants": "m-1"}"#,
            r#"{"kind": "errors", "target": "accounting", "shadow_only": true, "rate": 0.8}"#,
            r#"{"kind": "config-push", "target": "risk"}"#,
            r#"{"kind": "bank-outage", "target": "bank-b", "flap_on_s": 4, "flap_off_s": 4}"#,
        ] {
            let spec: FaultSpec =
                serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"));
            spec.resolve().unwrap_or_else(|e| panic!("{body}: {e}"));
        }
        let e = serde_json::from_str::<FaultSpec>(r#"{"kind": "errors", "ramp": 6}"#).unwrap_err();
        assert!(e.to_string().contains("ramp"), "{e}");
    }

    #[test]
    fn errors_name_the_part() {
        for (bad, field) in [
            ("latncy", "kind"),
            ("latency@x", "start"),
            ("latency@1+y", "duration"),
            ("latency@-1", "start_s"),
            ("latency@1+0", "duration_s"),
            ("surge:lots", "target"),
            ("bad-release:payment:pay", "target"),
            ("errors:", "target"),
            ("slow-ledger:bank-a", "target"),
        ] {
            let e = parse_fault(bad).unwrap_err();
            assert_eq!(e.field, field, "{bad}: {e}");
            assert!(e.to_string().contains(bad), "{e}");
        }
    }
}
