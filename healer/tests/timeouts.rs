//! A control plane that accepts the connection and never answers costs an executor call
//! its timeout (short, because the wiring ticks the engine under a lock), not forever; the
//! engine then fails the step, undoes nothing it did not do, and escalates.

use digest::{Clock, ManualClock};
use healer::executor::sim::SimExecutor;
use healer::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A listener that accepts and holds connections without ever answering.
async fn silent_server() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    format!("http://{addr}")
}

#[test]
fn the_default_timeout_is_short() {
    assert!(executor::HTTP_TIMEOUT <= Duration::from_secs(2));
}

#[tokio::test]
async fn a_hung_control_plane_fails_the_call_at_the_timeout() {
    let url = silent_server().await;
    let sim = SimExecutor::new(&url, "t", &[], &[]).with_timeout(Duration::from_millis(300));
    let a = Action::PoolSize {
        service: "accounting".into(),
        size: 64,
    };
    let t0 = Instant::now();
    let e = sim.apply(&a).await.unwrap_err();
    let took = t0.elapsed();
    assert!(matches!(e, ExecError::Http(_)), "{e}");
    assert!(e.to_string().contains("GET /control/pools"), "{e}");
    assert!(
        took >= Duration::from_millis(250),
        "gave up early: {took:?}"
    );
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

struct Never;
impl Probe for Never {
    fn cleared(&self, _t: &Trigger) -> bool {
        false
    }
}

#[tokio::test]
async fn the_engine_escalates_when_the_executor_times_out() {
    let url = silent_server().await;
    let clock = ManualClock::new(1_800_000_000_000_000);
    let sim = SimExecutor::new(&url, "t", &[], &[]).with_timeout(Duration::from_millis(200));
    let mut e = Engine::new(
        Arc::new(clock.clone()),
        EngineConfig::default(),
        builtin_plans(),
        Executors::default().with(ExecutorKind::Sim, Arc::new(sim)),
        AuditLog::memory(),
    );
    let id = e.start(
        7,
        Trigger::diagnosis("overload", "service:accounting", clock.now_us()),
    );
    let t0 = Instant::now();
    for _ in 0..5 {
        e.tick(&Never).await;
    }
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    let inc = e.run(id).unwrap();
    assert_eq!(inc.plan.as_deref(), Some("pool-exhaustion"));
    assert_eq!(inc.state, RunState::RolledBack);
    assert_eq!(inc.escalated_to.as_deref(), Some("duty-manager"));
    assert!(inc.actions.is_empty(), "{:?}", inc.actions);
    assert!(inc
        .events
        .iter()
        .any(|t| t.kind == RunEventKind::ActionFailed
            && t.detail.contains("pool accounting size 64")
            && t.detail.contains("GET /control/pools")));
}
