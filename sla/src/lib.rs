//! sla: placeholder until its issue lands.
