//! [`Switches`]: the degrade switches (`marketing`, `risk.async`, …). A switch
//! is on unless switched off; `null` resets it. The payment path asks with one
//! atomic load while none is set.

use super::changes::ChangeBatch;
use super::error::{check_name, ControlError};
use crate::hotpath::Flagged;
use digest::ChangeKind;
use std::collections::BTreeMap;

/// Switches set through the control plane.
#[derive(Debug, Default)]
pub(crate) struct Switches {
    set: Flagged<BTreeMap<String, bool>>,
}

impl Switches {
    /// Is `feature` on? One atomic load while no switch is set.
    #[inline]
    pub(crate) fn enabled(&self, feature: &str) -> bool {
        self.set
            .read_set(|m| m.get(feature).copied())
            .flatten()
            .unwrap_or(true)
    }

    pub(crate) fn all(&self) -> BTreeMap<String, bool> {
        self.set.read(|m| m.clone())
    }

    /// Merges `body` (`null` resets a switch to on); one change event per
    /// switch that changed.
    pub(crate) fn put(
        &self,
        body: BTreeMap<String, Option<bool>>,
        batch: &ChangeBatch<'_>,
    ) -> Result<BTreeMap<String, bool>, ControlError> {
        for k in body.keys() {
            check_name(k, k)?;
        }
        for (feature, on) in self.set.merge(body) {
            let service = feature.split('.').next().unwrap_or(&feature);
            let state = match on {
                Some(true) => "on",
                Some(false) => "off",
                None => "default (on)",
            };
            batch.emit(
                ChangeKind::Switch,
                service,
                "",
                format!("switch {feature} {state}"),
            );
        }
        Ok(self.all())
    }
}
