//! One module per screen.

pub mod alerts;
pub mod changes;
pub mod drills;
pub mod hotspots;
pub mod incidents;
pub mod login;
pub mod overview;
pub mod sla;
pub mod topology;
pub mod trace;
