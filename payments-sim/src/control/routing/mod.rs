//! [`Routing`]: the levers that route around a sick component — bank channel
//! weights and the zone split (`traffic`), instance isolation and pool resizes
//! (`instances`), ledger strategies and the ledger's database (`ledger`). Each
//! lever is its own type owning its state; faults are bound against the
//! instances and the ledger's primary of the moment ([`Routing::with_binding`]).

mod instances;
mod ledger;
mod traffic;

pub use instances::{InstanceView, InstancesView, IsolateBody};
pub use ledger::{LedgerDbView, SwitchoverBody};
pub use traffic::ChannelBody;

pub(crate) use instances::{Pools, Rotation};
pub(crate) use ledger::{LedgerDb, LedgerStrategies};
pub(crate) use traffic::{ChannelWeights, ZoneSplit};

use crate::faults::Binding;

/// Every routing lever of one payments-sim.
#[derive(Debug, Default)]
pub(crate) struct Routing {
    pub(crate) channels: ChannelWeights,
    pub(crate) zones: ZoneSplit,
    pub(crate) rotation: Rotation,
    pub(crate) pools: Pools,
    pub(crate) strategies: LedgerStrategies,
    pub(crate) ledger_db: LedgerDb,
}

impl Routing {
    /// What faults are bound against now (instances, the ledger's primary).
    pub(crate) fn with_binding<R>(&self, f: impl FnOnce(&Binding<'_>) -> R) -> R {
        let table = self.rotation.table();
        f(&Binding {
            instances: &table,
            primary_db: self.ledger_db.primary(),
        })
    }
}
