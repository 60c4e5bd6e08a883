//! How fast the healer decides and acts on this machine (not a test:
//! `cargo bench -p healer --bench heal`). Prints one JSON object per measurement:
//! trigger → plan matched → guards → auto-approved → action applied on payments-sim's real
//! control API over loopback HTTP (GET before, PUT, GET after) → verified → recovered; and
//! the same in dry-run mode (the engine's own cost, no I/O); and each routing lever's
//! apply + undo through the executor alone (`lever_round_trip`), next to a channel weight's
//! for the ratio.

use digest::{ManualClock, SharedClock};
use healer::executor::sim::SimExecutor;
use healer::*;
use payments_sim::control::{api, Steering};
use std::sync::Arc;
use std::time::Instant;

struct Clear;
impl Probe for Clear {
    fn cleared(&self, _t: &Trigger) -> bool {
        true
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

async fn run(dry_run: bool, url: &str, n: usize) -> Vec<f64> {
    let clock = ManualClock::new(1_795_785_000_000_000);
    let sim = SimExecutor::new(
        url,
        "bench",
        &["bank-a", "bank-b", "bank-c", "bank-d"],
        &["zone-a", "zone-b"],
    );
    let cfg = EngineConfig {
        dry_run,
        max_concurrent_plans: usize::MAX,
        ..EngineConfig::default()
    };
    let mut plans = builtin_plans();
    for p in &mut plans {
        p.guards.max_runs_per_hour = u32::MAX;
    }
    let mut e = Engine::new(
        Arc::new(clock.clone()),
        cfg,
        plans,
        Executors::default().with(ExecutorKind::Sim, Arc::new(sim)),
        AuditLog::memory(),
    );
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        // A new bank each time: earlier failovers stay in place, as after real recoveries.
        let bank = format!("bank-n{i}");
        let start = Instant::now();
        let id = e.start(
            1,
            Trigger::diagnosis("dependency", &format!("bank:{bank}"), 0),
        );
        e.tick(&Clear).await;
        lat.push(start.elapsed().as_secs_f64() * 1e6);
        assert_eq!(e.run(id).unwrap().state, RunState::Recovered);
        clock.advance_secs(1);
    }
    lat
}

/// apply + undo of one action, `n` times (the undo restores the state, so it repeats).
async fn round_trips(sim: &SimExecutor, a: &Action, n: usize) -> Vec<f64> {
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let applied = sim.apply(a).await.unwrap();
        sim.undo(a, &applied).await.unwrap();
        lat.push(start.elapsed().as_secs_f64() * 1e6);
    }
    lat
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let clock: SharedClock = Arc::new(ManualClock::new(1_795_785_000_000_000));
    let steering = Arc::new(Steering::new(clock, Steering::discard_events()));
    let app = api::router(steering, "bench").unwrap();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    for dry in [false, true] {
        let mut lat = run(dry, &url, 400).await;
        println!(
            "{{\"bench\":\"trigger_to_recovered\",\"dry_run\":{dry},\"incidents\":{},\"p50_us\":{:.0},\"p99_us\":{:.0},\"max_us\":{:.0}}}",
            lat.len(),
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99),
            pct(&mut lat, 1.0)
        );
    }
    let sim = SimExecutor::new(&url, "bench", &["bank-a", "bank-b"], &[]);
    let levers = [
        Action::ChannelWeight {
            bank: "bank-a".into(),
            weight: 0,
        },
        Action::Isolate {
            instance: "payment-engine-2".into(),
            max_per_service: 1,
        },
        Action::PoolSize {
            service: "accounting".into(),
            size: 64,
        },
        Action::LedgerSwitchover {},
    ];
    let mut base = None;
    for a in &levers {
        let mut lat = round_trips(&sim, a, 400).await;
        let p50 = pct(&mut lat, 0.5);
        let base = *base.get_or_insert(p50);
        println!(
            "{{\"bench\":\"lever_round_trip\",\"action\":\"{}\",\"p50_us\":{p50:.0},\"p99_us\":{:.0},\"ratio_to_channel_weight\":{:.2}}}",
            a.describe(),
            pct(&mut lat, 0.99),
            p50 / base
        );
    }
}
