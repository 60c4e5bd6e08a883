//! `warroom bench guard`: the cost of the guard on the payment path — one
//! `enter` + `exit` pair per call, per scenario (unsteered, idle steering, rules
//! elsewhere, rules on the called resources, faults elsewhere), on N threads.
//! Wall-clock measurement; a benchmark, not a test.

use super::rules::RuleType;
use super::steering::Steering;
use crate::faults::parse_fault;
use crate::guard::{CallSite, Guard, NoGuard};
use digest::{Keys, SystemClock};
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct GuardScenario {
    pub name: &'static str,
    /// enter + exit pairs per second, all threads together.
    pub calls_per_s: f64,
    /// Nanoseconds per enter + exit pair on one thread.
    pub ns_per_call: f64,
    /// Throughput relative to `no_guard`.
    pub ratio_to_no_guard: f64,
    /// Calls refused (should be 0: every scenario's rules admit everything).
    pub refused: u64,
}

/// The whole benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct GuardBench {
    pub threads: usize,
    pub calls_per_thread: u64,
    pub scenarios: Vec<GuardScenario>,
}

fn steering() -> Arc<Steering> {
    Arc::new(Steering::new(
        Arc::new(SystemClock),
        Steering::discard_events(),
    ))
}

fn scenarios() -> Vec<(&'static str, Arc<dyn Guard>)> {
    let idle = steering();
    let elsewhere = steering();
    let flow: Vec<_> = (0..50)
        .map(|i| serde_json::json!({"resource": format!("svc-{i}:Op.run"), "count": 10}))
        .collect();
    let _ = elsewhere.put_rules_json(
        RuleType::Flow,
        serde_json::to_vec(&flow).unwrap_or_default().as_slice(),
        "bench",
    );
    let on_path = steering();
    let _ = on_path.put_rules_json(
        RuleType::Flow,
        br#"[{"resource":"payment","count":1e12}]"#,
        "bench",
    );
    let _ = on_path.put_rules_json(
        RuleType::Degrade,
        br#"[{"resource":"payment:PaymentService.pay","grade":0,"count":1000,"timeWindow":5}]"#,
        "bench",
    );
    let _ = on_path.put_rules_json(
        RuleType::Param,
        br#"[{"resource":"payment:PaymentService.pay","paramIdx":1,"count":1e12}]"#,
        "bench",
    );
    let faults = steering();
    let specs = ["latency:risk", "bank-outage:bank-c", "zone-outage:zone-x"]
        .iter()
        .filter_map(|f| parse_fault(f).ok())
        .collect();
    let _ = faults.add_faults(specs);
    vec![
        ("no_guard", Arc::new(NoGuard) as Arc<dyn Guard>),
        ("steering_idle", idle),
        ("rules_elsewhere", elsewhere),
        ("rules_on_path", on_path),
        ("faults_elsewhere", faults),
    ]
}

fn run_one(guard: &Arc<dyn Guard>, threads: usize, calls: u64) -> (f64, u64) {
    let start = Instant::now();
    let refused: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let g = guard.clone();
                s.spawn(move || {
                    let keys: Vec<Keys> = (0..64)
                        .map(|m| {
                            Keys::from([
                                ("user".to_string(), format!("u-{t}-{m}")),
                                ("merchant".to_string(), format!("m-{m}")),
                            ])
                        })
                        .collect();
                    let mut refused = 0;
                    for i in 0..calls {
                        let site = CallSite {
                            service: "payment",
                            operation: "PaymentService.pay",
                            instance: "payment-1",
                            zone: "zone-a",
                            scene: "quick_pay",
                            channel: "SDK",
                            keys: &keys[(i % 64) as usize],
                            shadow: false,
                        };
                        let ok = matches!(g.enter(&site), crate::guard::Verdict::Pass { .. });
                        refused += (!ok) as u64;
                        g.exit(&site, true, 1_000);
                    }
                    refused
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    (start.elapsed().as_secs_f64(), refused)
}

/// Runs every scenario with `threads` threads of `calls_per_thread` calls each.
pub fn bench_guard(threads: usize, calls_per_thread: u64) -> GuardBench {
    let threads = threads.max(1);
    let calls = calls_per_thread.max(1);
    let mut out = Vec::new();
    let mut base = 0.0;
    for (name, guard) in scenarios() {
        run_one(&guard, threads, calls / 10 + 1); // warm up
        let (secs, refused) = run_one(&guard, threads, calls);
        let total = (threads as u64 * calls) as f64;
        let per_s = total / secs.max(1e-9);
        if name == "no_guard" {
            base = per_s;
        }
        out.push(GuardScenario {
            name,
            calls_per_s: per_s,
            ns_per_call: secs * 1e9 / calls as f64,
            ratio_to_no_guard: if base > 0.0 { per_s / base } else { 0.0 },
            refused,
        });
    }
    GuardBench {
        threads,
        calls_per_thread: calls,
        scenarios: out,
    }
}
