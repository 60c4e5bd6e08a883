//! One module per screen.

pub mod alerts;
pub mod changes;
mod damage;
pub mod drills;
pub mod hotspots;
pub mod incidents;
mod levers;
pub mod login;
pub mod overview;
pub mod sla;
pub mod topology;
pub mod trace;
