//! Where traffic goes: bank channel weights ([`ChannelWeights`], read by the
//! bank gateway's routing engine) and the zone split ([`ZoneSplit`], which zone
//! serves a user). Each replaces its whole table; an empty table restores the
//! default. The payment path reads them with one atomic load while unset.

use super::super::changes::{ChangeBatch, CHANNEL_SERVICE};
use super::super::error::{check_name, ControlError};
use crate::guard::ChannelWeight;
use crate::hotpath::Flagged;
use digest::ChangeKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// One bank channel and its routing weight (`PUT /control/channels`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    pub bank: String,
    pub weight: u32,
}

/// Bank channel weights set through the control plane.
#[derive(Debug, Default)]
pub(crate) struct ChannelWeights {
    table: Flagged<Vec<ChannelWeight>>,
}

impl ChannelWeights {
    /// The table, or `None` for the routing engine's defaults.
    #[inline]
    pub(crate) fn weights(&self) -> Option<Vec<ChannelWeight>> {
        self.table.read_set(|v| v.clone())
    }

    pub(crate) fn all(&self) -> Vec<ChannelBody> {
        self.table.read(|v| {
            v.iter()
                .map(|c| ChannelBody {
                    bank: c.bank.clone(),
                    weight: c.weight,
                })
                .collect()
        })
    }

    /// Replaces the table (`[]` restores the routing engine's defaults); one
    /// change event.
    pub(crate) fn put(
        &self,
        body: Vec<ChannelBody>,
        batch: &ChangeBatch<'_>,
    ) -> Result<Vec<ChannelBody>, ControlError> {
        let detail = if body.is_empty() {
            "channel weights: routing defaults".to_string()
        } else {
            let parts: Vec<_> = body
                .iter()
                .map(|c| format!("{}={}", c.bank, c.weight))
                .collect();
            format!("channel weights: {}", parts.join(", "))
        };
        let mut seen = HashSet::new();
        for (i, c) in body.iter().enumerate() {
            check_name(&format!("[{i}].bank"), &c.bank)?;
            if !seen.insert(c.bank.as_str()) {
                return Err(ControlError::invalid(
                    format!("[{i}].bank"),
                    format!("{:?} listed twice", c.bank),
                ));
            }
            if c.weight > 1_000_000 {
                return Err(ControlError::invalid(
                    format!("[{i}].weight"),
                    "must be <= 1000000",
                ));
            }
        }
        if !body.is_empty() && body.iter().all(|c| c.weight == 0) {
            return Err(ControlError::invalid(
                "[0].weight",
                "at least one channel needs a weight > 0",
            ));
        }
        self.table.update(|v| {
            *v = body
                .into_iter()
                .map(|c| ChannelWeight {
                    bank: c.bank,
                    weight: c.weight,
                })
                .collect()
        });
        batch.emit(ChangeKind::Config, CHANNEL_SERVICE, "", detail);
        Ok(self.all())
    }
}

/// The zone split set through the control plane: shares in percent by zone.
#[derive(Debug, Default)]
pub(crate) struct ZoneSplit {
    shares: Flagged<Vec<(String, u32)>>,
}

impl ZoneSplit {
    /// The zone for a user hash: buckets `hash % total` over the zones in name
    /// order; `None` for the default split.
    #[inline]
    pub(crate) fn zone_for(&self, user_hash: u64) -> Option<String> {
        self.shares
            .read_set(|z| {
                let total: u64 = z.iter().map(|(_, w)| *w as u64).sum();
                if total == 0 {
                    return None;
                }
                let mut pick = user_hash % total;
                for (zone, w) in z.iter() {
                    if pick < *w as u64 {
                        return Some(zone.clone());
                    }
                    pick -= *w as u64;
                }
                None
            })
            .flatten()
    }

    pub(crate) fn all(&self) -> BTreeMap<String, u32> {
        self.shares.read(|z| z.iter().cloned().collect())
    }

    /// Replaces the split (`{}` restores the default split); one change event.
    pub(crate) fn put(
        &self,
        body: BTreeMap<String, u32>,
        batch: &ChangeBatch<'_>,
    ) -> Result<BTreeMap<String, u32>, ControlError> {
        let parts: Vec<_> = body.iter().map(|(z, w)| format!("{z}={w}%")).collect();
        for (k, w) in &body {
            check_name(k, k)?;
            if *w > 100 {
                return Err(ControlError::invalid(
                    k.clone(),
                    "a zone's share is a percentage, 0..=100",
                ));
            }
        }
        if !body.is_empty() && body.values().map(|w| *w as u64).sum::<u64>() != 100 {
            return Err(ControlError::invalid(
                "body",
                "zone shares must add up to 100",
            ));
        }
        self.shares.update(|z| *z = body.into_iter().collect());
        let detail = if parts.is_empty() {
            "zone split: default".into()
        } else {
            format!("zone split: {}", parts.join(", "))
        };
        batch.emit(ChangeKind::Config, "*", "", detail);
        Ok(self.all())
    }
}
