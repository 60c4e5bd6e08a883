//! collector: placeholder until its issue lands.
