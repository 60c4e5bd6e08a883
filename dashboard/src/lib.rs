//! dashboard: placeholder until its issue lands.
