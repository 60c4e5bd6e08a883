//! Which payments a fault touches: all of them, or only those of one scene
//! (`scene`), one channel (`channel`), a merchant group (`merchants`: a comma
//! list of merchant keys, `m-1` or `m-1,m-7,m-hot`) or shadow traffic
//! (`shadow_only`). Several given: a call must match all. The call site carries
//! what is matched (its scene, channel, `merchant` key and shadow flag), on a
//! served call and on a bank call alike.
//!
//! A scope applies to faults that judge calls one by one: latency, errors,
//! timeout, bank-outage, zone-outage and config-push. The others (load, a hot
//! merchant, a release, a pool, the ledger) refuse one, naming the field.

use super::spec::FaultSpec;
use super::{FaultError, FaultKind};
use crate::guard::CallSite;

/// The most merchants one group may list.
const MAX_MERCHANTS: usize = 1000;

/// A fault's scope; the default touches every call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scope {
    scene: Option<String>,
    channel: Option<String>,
    /// Sorted, without repeats; empty = every merchant.
    merchants: Vec<String>,
    shadow_only: bool,
}

fn name(spec: &FaultSpec, field: &str, v: &str) -> Result<String, FaultError> {
    let v = v.trim();
    if v.is_empty() || v.len() > 128 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(spec.err(field, format!("{v:?} must be 1..=128 bytes with no spaces")));
    }
    Ok(v.to_string())
}

impl Scope {
    /// Checks the scope fields against the spec's kind.
    pub(crate) fn check(spec: &FaultSpec) -> Result<Scope, FaultError> {
        let given = [
            ("scene", spec.scene.is_some()),
            ("channel", spec.channel.is_some()),
            ("merchants", spec.merchants.is_some()),
            ("shadow_only", spec.shadow_only),
        ];
        use FaultKind::*;
        if let Some((field, _)) = given.iter().find(|(_, set)| *set) {
            if !matches!(
                spec.kind,
                Latency | Errors | Timeout | BankOutage | ZoneOutage | ConfigPush
            ) {
                return Err(spec.err(
                    field,
                    format!(
                        "{} does not judge calls one by one, so it cannot be scoped \
                         (scope latency, errors, timeout, bank-outage, zone-outage or config-push)",
                        spec.kind
                    ),
                ));
            }
        }
        let mut merchants = Vec::new();
        if let Some(m) = &spec.merchants {
            for item in m.split(',') {
                merchants.push(name(spec, "merchants", item)?);
            }
            merchants.sort();
            merchants.dedup();
            if merchants.len() > MAX_MERCHANTS {
                return Err(spec.err(
                    "merchants",
                    format!("at most {MAX_MERCHANTS} merchants in one group"),
                ));
            }
        }
        Ok(Scope {
            scene: spec
                .scene
                .as_deref()
                .map(|s| name(spec, "scene", s))
                .transpose()?,
            channel: spec
                .channel
                .as_deref()
                .map(|s| name(spec, "channel", s))
                .transpose()?,
            merchants,
            shadow_only: spec.shadow_only,
        })
    }

    /// Does this scope admit the call at `site`? Cheap when unscoped.
    #[inline]
    pub(crate) fn admits(&self, site: &CallSite<'_>) -> bool {
        if self.shadow_only && !site.shadow {
            return false;
        }
        if self.scene.as_deref().is_some_and(|s| s != site.scene) {
            return false;
        }
        if self.channel.as_deref().is_some_and(|c| c != site.channel) {
            return false;
        }
        if !self.merchants.is_empty() {
            let Some(m) = site.keys.get("merchant") else {
                return false;
            };
            return self.merchants.binary_search(m).is_ok();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use digest::Keys;

    fn site<'a>(keys: &'a Keys, scene: &'a str, channel: &'a str, shadow: bool) -> CallSite<'a> {
        CallSite {
            service: "trade",
            operation: "pay",
            instance: "trade-1",
            zone: "zone-a",
            scene,
            channel,
            keys,
            shadow,
        }
    }

    #[test]
    fn a_scope_admits_only_its_calls() {
        let m1 = Keys::from([("merchant".to_string(), "m-1".to_string())]);
        let m2 = Keys::from([("merchant".to_string(), "m-2".to_string())]);
        let none = Keys::new();
        let mut s = FaultSpec::new(FaultKind::Errors);
        assert!(Scope::check(&s)
            .unwrap()
            .admits(&site(&m1, "quick_pay", "SDK", false)));
        s.merchants = Some("m-7, m-1".into());
        let sc = Scope::check(&s).unwrap();
        assert!(sc.admits(&site(&m1, "quick_pay", "SDK", false)));
        assert!(!sc.admits(&site(&m2, "quick_pay", "SDK", false)));
        assert!(!sc.admits(&site(&none, "quick_pay", "SDK", false)));
        s.merchants = None;
        s.scene = Some("scan_pay".into());
        s.channel = Some("SDK".into());
        let sc = Scope::check(&s).unwrap();
        assert!(sc.admits(&site(&m1, "scan_pay", "SDK", false)));
        assert!(!sc.admits(&site(&m1, "quick_pay", "SDK", false)));
        assert!(!sc.admits(&site(&m1, "scan_pay", "WAP", false)));
        let mut s = FaultSpec::new(FaultKind::BankOutage);
        s.shadow_only = true;
        let sc = Scope::check(&s).unwrap();
        assert!(sc.admits(&site(&m1, "scan_pay", "SDK", true)));
        assert!(
            !sc.admits(&site(&m1, "scan_pay", "SDK", false)),
            "real payments never"
        );
    }

    #[test]
    fn refusals_name_the_field() {
        let mut s = FaultSpec::new(FaultKind::Surge);
        s.channel = Some("SDK".into());
        assert_eq!(Scope::check(&s).unwrap_err().field, "channel");
        let mut s = FaultSpec::new(FaultKind::HotMerchant);
        s.shadow_only = true;
        assert_eq!(Scope::check(&s).unwrap_err().field, "shadow_only");
        let mut s = FaultSpec::new(FaultKind::Errors);
        s.merchants = Some("m-1,,m-2".into());
        assert_eq!(Scope::check(&s).unwrap_err().field, "merchants");
        s.merchants = None;
        s.scene = Some(" ".into());
        assert_eq!(Scope::check(&s).unwrap_err().field, "scene");
    }
}
