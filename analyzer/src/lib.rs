//! analyzer: placeholder until its issue lands.
