//! A stand-in for the healer until the root wiring exists: a backend that serves the
//! figures of a [`RecordBackend`] plus one scripted incident in the dashboard's documented
//! shape, awaiting a commander; approving it marks it recovered with an MTTR. Used only
//! to drive the incident room in the browser harness.
#![allow(dead_code)]

use dashboard::{
    ActionFuture, Actor, BackendError, DashboardBackend, Overview, RecordBackend, SceneStatus,
    Topology,
};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::sync::Arc;

pub struct ScriptedIncident {
    pub records: Arc<RecordBackend>,
    incident: Arc<Mutex<Value>>,
}

impl ScriptedIncident {
    pub fn new(records: Arc<RecordBackend>) -> Self {
        let incident = json!({
            "id": "inc-1",
            "title": "bank_icbc outage",
            "status": "awaiting_approval",
            "root_cause": "bank bank_icbc (dependency failure)",
            "timeline": [
                {"time": "2026-11-27T12:00:01.000000Z", "what": "first bad request"},
                {"time": "2026-11-27T12:00:01.400000Z", "what": "detected"},
                {"time": "2026-11-27T12:00:01.900000Z", "what": "diagnosed: bank bank_icbc"},
                {"time": "2026-11-27T12:00:02.000000Z", "what": "plan matched: bank-failover (commander)"}
            ],
            "impact": {"users": 120, "scenes": ["quick_pay", "balance_pay"], "failed_payments": 37, "money_at_stake_cents": 73963},
            "plan": {"name": "bank-failover", "approval": "commander", "status": "awaiting_approval",
                     "steps": [{"step": 1, "action": "route bank_icbc → bank_cmb", "undo": "route back"}]},
            "reconciliation": null
        });
        Self {
            records,
            incident: Arc::new(Mutex::new(incident)),
        }
    }

    fn status(&self) -> String {
        self.incident.lock()["status"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

impl DashboardBackend for ScriptedIncident {
    fn overview(&self) -> Overview {
        let mut o = self.records.overview();
        if self.status() == "recovered" {
            o.mttr_last_s = Some(4.2);
            o.mttr_avg_s = Some(4.2);
        } else {
            o.open_incidents = 1;
        }
        o
    }
    fn scenes(&self) -> Vec<SceneStatus> {
        self.records.scenes()
    }
    fn topology(&self) -> Topology {
        let mut t = self.records.topology();
        for n in &mut t.nodes {
            n.root_cause = n.id == "bank_icbc" && self.status() != "recovered";
        }
        t
    }
    fn incidents(&self) -> Value {
        let i = self.incident.lock();
        json!([{"id": i["id"], "title": i["title"], "status": i["status"], "root_cause": i["root_cause"]}])
    }
    fn incident(&self, id: &str) -> Result<Value, BackendError> {
        let i = self.incident.lock();
        if i["id"] == id {
            Ok(i.clone())
        } else {
            Err(BackendError::NotFound(format!("incident {id}")))
        }
    }
    fn approve(&self, id: &str, by: &Actor) -> ActionFuture {
        let inc = self.incident.clone();
        let (id, by) = (id.to_string(), by.user.clone());
        Box::pin(async move {
            let mut i = inc.lock();
            if i["id"] != id.as_str() {
                return Err(BackendError::NotFound(format!("incident {id}")));
            }
            if i["status"] != "awaiting_approval" {
                return Err(BackendError::Conflict("not awaiting approval".into()));
            }
            i["status"] = json!("recovered");
            i["plan"]["status"] = json!("done");
            let tl = i["timeline"].as_array_mut().unwrap();
            tl.push(
                json!({"time": "2026-11-27T12:00:03.000000Z", "what": format!("approved by {by}")}),
            );
            tl.push(json!({"time": "2026-11-27T12:00:05.200000Z", "what": "recovered"}));
            i["reconciliation"] =
                json!({"orders": 37, "ledger_entries": 74, "bank_records": 37, "mismatches": 0});
            Ok(json!({"id": id, "status": "recovered"}))
        })
    }
}
