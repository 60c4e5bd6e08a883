//! payments-sim: the observed payment system (placeholder until its issue lands).
pub mod control;
pub mod faults;
pub mod guard;
