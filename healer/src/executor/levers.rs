//! The bodies for payments-sim's routing levers (issue 6): `/control/instances` (the
//! isolated set, replaced), `/control/pools` (`{SERVICE: N}`, merged, `null` removes a
//! resize) and `/control/ledger-db` (`{primary, standby}`; PUT `{primary}` switches over).
//! Pure functions of the state read before the change, so they are tested without a server.

use super::ExecError;
use serde_json::{json, Value};

/// The `isolated` set after isolating `instance`, read from `GET /control/instances`
/// (`{"instances": {NAME: {"service", "zone", "isolated"}}, "isolated": [NAME]}`).
///
/// Refused (nothing is sent) when the instance is unknown, or when its service would then
/// have more than `max_per_service` instances isolated — the blast-radius guard. Isolating
/// an instance that is already isolated keeps the set as it is.
pub fn isolate_body(cur: &Value, instance: &str, max_per_service: u32) -> Result<Value, ExecError> {
    let instances = cur
        .get("instances")
        .and_then(Value::as_object)
        .ok_or_else(|| ExecError::Answer(format!("no `instances` map in {cur}")))?;
    let isolated: Vec<String> = cur
        .get("isolated")
        .and_then(Value::as_array)
        .ok_or_else(|| ExecError::Answer(format!("no `isolated` list in {cur}")))?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let service_of = |name: &str| -> Option<String> {
        instances
            .get(name)?
            .get("service")?
            .as_str()
            .map(str::to_string)
    };
    let service = service_of(instance).ok_or_else(|| {
        let known: Vec<&String> = instances.keys().collect();
        ExecError::Config(format!(
            "instance {instance} is not known to the control plane (known: {known:?})"
        ))
    })?;
    if isolated.iter().any(|i| i == instance) {
        return Ok(json!({ "isolated": isolated }));
    }
    let already: Vec<&String> = isolated
        .iter()
        .filter(|i| service_of(i).as_deref() == Some(service.as_str()))
        .collect();
    if already.len() + 1 > max_per_service as usize {
        return Err(ExecError::Guard(format!(
            "isolating {instance} would take {} instances of {service} out \
             (already isolated: {already:?}; the step allows {max_per_service})",
            already.len() + 1
        )));
    }
    let mut next = isolated.clone();
    next.push(instance.to_string());
    Ok(json!({ "isolated": next }))
}

/// `{"primary": STANDBY}` from `GET /control/ledger-db` (`{"primary", "standby"}`).
pub fn switchover_body(cur: &Value) -> Result<Value, ExecError> {
    let standby = cur
        .get("standby")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ExecError::Config(format!("the ledger db has no standby to switch to: {cur}"))
        })?;
    Ok(json!({ "primary": standby }))
}

/// The body that puts one field of the state read before back (`isolated`, `primary`).
pub fn restore_field(before: &Value, field: &str) -> Result<Value, ExecError> {
    let v = before
        .get(field)
        .cloned()
        .ok_or_else(|| ExecError::Answer(format!("no `{field}` in the state before: {before}")))?;
    Ok(json!({ field: v }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(isolated: &[&str]) -> Value {
        json!({
            "instances": {
                "payment-engine-1": {"service": "payment-engine", "zone": "zone-a", "isolated": false},
                "payment-engine-2": {"service": "payment-engine", "zone": "zone-b", "isolated": false},
                "payment-engine-3": {"service": "payment-engine", "zone": "zone-b", "isolated": false},
                "accounting-1": {"service": "accounting", "zone": "zone-a", "isolated": false},
                "accounting-2": {"service": "accounting", "zone": "zone-b", "isolated": false},
            },
            "isolated": isolated,
        })
    }

    #[test]
    fn isolate_adds_one_instance_to_the_set() {
        assert_eq!(
            isolate_body(&state(&["accounting-1"]), "payment-engine-2", 1).unwrap(),
            json!({"isolated": ["accounting-1", "payment-engine-2"]})
        );
        // Already isolated: the set stays as it is.
        assert_eq!(
            isolate_body(&state(&["payment-engine-2"]), "payment-engine-2", 1).unwrap(),
            json!({"isolated": ["payment-engine-2"]})
        );
    }

    #[test]
    fn isolate_refuses_a_second_instance_of_one_service() {
        let e = isolate_body(&state(&["payment-engine-1"]), "payment-engine-2", 1).unwrap_err();
        assert!(matches!(e, ExecError::Guard(_)), "{e}");
        assert!(e.to_string().contains("payment-engine-1"), "{e}");
        // A step that allows two may.
        assert_eq!(
            isolate_body(&state(&["payment-engine-1"]), "payment-engine-2", 2).unwrap(),
            json!({"isolated": ["payment-engine-1", "payment-engine-2"]})
        );
    }

    #[test]
    fn isolate_names_unknown_instances_and_bad_answers() {
        let e = isolate_body(&state(&[]), "payment-engine-9", 1).unwrap_err();
        assert!(
            e.to_string().contains("payment-engine-9 is not known"),
            "{e}"
        );
        assert!(matches!(
            isolate_body(&json!({"isolated": []}), "x", 1),
            Err(ExecError::Answer(_))
        ));
    }

    #[test]
    fn switchover_makes_the_standby_primary_and_restores_the_primary() {
        let before = json!({"primary": "ledger-db-1", "standby": "ledger-db-2"});
        assert_eq!(
            switchover_body(&before).unwrap(),
            json!({"primary": "ledger-db-2"})
        );
        assert_eq!(
            restore_field(&before, "primary").unwrap(),
            json!({"primary": "ledger-db-1"})
        );
        assert!(switchover_body(&json!({"primary": "ledger-db-1", "standby": null})).is_err());
        assert!(restore_field(&json!({}), "primary").is_err());
    }
}
