//! payments-sim: the observed payment system (placeholder until its issue lands).
pub mod guard;
