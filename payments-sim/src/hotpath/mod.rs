//! Primitives read on every call of the payment path, shared by the control
//! plane and the faults: [`Published`] values behind per-thread caches,
//! [`Flagged`] collections that cost one atomic load while empty, and the
//! in-flight and refusal counters. Knows nothing of rules or faults.

mod counters;
mod flagged;
mod published;

pub(crate) use counters::{InFlight, Refusals};
pub(crate) use flagged::Flagged;
pub(crate) use published::{Cache, Published};
