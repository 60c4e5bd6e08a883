//! alerts: placeholder until its issue lands.
