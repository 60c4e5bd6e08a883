//! `warroom drill`: flags → a `stack::drill::Driver` (the whole stack under a
//! manual clock with traffic) → one drill, `--random N` drills, `--all` built-in
//! faults, a `--scenario`, `--compound N` scenarios or `--noise SECONDS` → JSON on
//! stdout, progress on stderr when it is a terminal.

use anyhow::bail;
use serde_json::{json, Value};
use stack::drill::scenario::{self, Scenario, ScenarioKind};
use stack::drill::{quantile, round3, Approve, DrillOptions, Driver};
use stack::faults::{self, FaultPick};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Fault kind (payments-sim's: bank-outage, latency, errors, timeout, surge,
    /// hot-merchant, bad-release, pool-exhaustion, slow-ledger, zone-outage).
    #[arg(long)]
    pub fault: Option<String>,
    /// Fault target (payments-sim's syntax; default: the kind's default).
    #[arg(long)]
    pub target: Option<String>,
    /// Watch and diagnose only: no healer.
    #[arg(long)]
    pub no_heal: bool,
    /// `auto` (every plan runs), `reject` (every plan asks and is rejected) or
    /// `manual` (plans keep their own mode; nobody answers).
    #[arg(long, default_value = "auto")]
    pub approve: String,
    /// Run N random single faults one after another.
    #[arg(long, value_name = "N")]
    pub random: Option<usize>,
    /// Seed of the random faults and of the traffic.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// One drill per built-in fault (with healing).
    #[arg(long)]
    pub all: bool,
    /// One scenario off the catalogue: service-wide, two-faults, cascade, ramp,
    /// partial, config-push, flapping (`--target` picks its target).
    #[arg(long, value_name = "KIND")]
    pub scenario: Option<String>,
    /// N random scenarios of every kind (but noise), one after another.
    #[arg(long, value_name = "N")]
    pub compound: Option<usize>,
    /// No fault at all for SECONDS of noisy but legitimate traffic (a daily curve, a
    /// flash crowd within capacity, a burst of business declines): nothing may open.
    #[arg(long, value_name = "SECONDS")]
    pub noise: Option<u64>,
    /// Payments per second of the simulated traffic.
    #[arg(long, default_value_t = 300.0)]
    pub tps: f64,
    /// Seconds of traffic before the first drill (the analyzer's baseline).
    #[arg(long, default_value_t = 25)]
    pub warm: u64,
    /// Longest a drill runs after injection, seconds.
    #[arg(long, default_value_t = 30)]
    pub max: u64,
    /// Healthy seconds required between drills (≥ the analyzer's 20 s baseline
    /// + 3 s gap keeps the last fault out of the next baseline).
    #[arg(long, default_value_t = 24)]
    pub quiet: u64,
    /// Print JSON (the only format).
    #[arg(long)]
    pub json: bool,
    /// Also write every digest line and change event of the run to FILE (v1 lines, as the
    /// collector took them in): a recording for `warroom replay`.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let approve = match a.approve.as_str() {
        "auto" => Approve::Auto,
        "reject" => Approve::Reject,
        "manual" => Approve::Manual,
        o => bail!("--approve: {o:?} is not auto, reject or manual"),
    };
    if !(a.tps > 0.0 && a.tps <= 5000.0) {
        bail!("--tps: must be in (0, 5000]");
    }
    let modes = [
        a.fault.is_some(),
        a.random.is_some(),
        a.all,
        a.scenario.is_some(),
        a.compound.is_some(),
        a.noise.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if modes != 1 {
        bail!(
            "give exactly one of --fault KIND, --random N, --all, --scenario KIND, --compound N, --noise SECONDS"
        );
    }
    if a.scenario.is_some() || a.compound.is_some() || a.noise.is_some() {
        return run_scenarios(a, approve).await;
    }
    let picks: Vec<FaultPick> = if let Some(k) = &a.fault {
        let p = FaultPick::new(k, a.target.as_deref().unwrap_or(""));
        payments_sim::faults::parse_fault(&p.spec())
            .map_err(|e| anyhow::anyhow!("--fault/--target: {e}"))?;
        vec![p]
    } else if let Some(n) = a.random {
        if n == 0 || n > 1000 {
            bail!("--random: must be 1..=1000");
        }
        faults::random(n, a.seed)
    } else {
        faults::all()
    };
    let data_dir = scratch_dir();
    let opts = DrillOptions {
        tps: a.tps,
        seed: a.seed,
        heal: !a.no_heal,
        approve,
        warm_s: a.warm,
        max_s: a.max,
        quiet_s: a.quiet,
        data_dir: data_dir.clone(),
        record_to: a.record.clone(),
    };
    let started = Instant::now();
    let progress = std::io::stderr().is_terminal();
    let result = run_drills(opts, &picks, progress).await;
    let _ = std::fs::remove_dir_all(&data_dir);
    let (drills, step_ms, losses) = result?;
    let out = if a.fault.is_some() {
        drills.into_iter().next().unwrap_or(Value::Null)
    } else if a.all {
        Value::Array(drills)
    } else {
        summary(drills, &step_ms, started.elapsed().as_secs_f64(), losses)
    };
    println!("{out}");
    Ok(())
}

async fn run_drills(
    opts: DrillOptions,
    picks: &[FaultPick],
    progress: bool,
) -> anyhow::Result<(Vec<Value>, Vec<f64>, Value)> {
    let mut d = Driver::new(opts).await?;
    if progress {
        eprintln!("warming up ({} drills to run)…", picks.len());
    }
    d.warm().await;
    let mut out = Vec::with_capacity(picks.len());
    for (i, p) in picks.iter().enumerate() {
        let r = d.drill(p, i + 1 < picks.len()).await?;
        if progress {
            eprintln!(
                "[{}/{}] {:<28} correct={} detected_after_s={} recovered={}",
                i + 1,
                picks.len(),
                p.spec(),
                r["correct"],
                r["detected_after_s"],
                r.get("recovered").unwrap_or(&Value::Null)
            );
        }
        out.push(r);
    }
    let losses = d.stack.losses().await;
    d.stack.shutdown();
    Ok((out, d.step_wall_ms.clone(), losses))
}

fn summary(drills: Vec<Value>, step_ms: &[f64], wall_s: f64, losses: Value) -> Value {
    // A drill whose fault changed no call (ground truth) had nothing to find:
    // listed, counted as void, left out of the figures.
    let scored: Vec<&Value> = drills
        .iter()
        .filter(|d| d["fault_touched_calls"].as_bool() == Some(true))
        .collect();
    let n = scored.len().max(1) as f64;
    let count = |f: &str| {
        scored
            .iter()
            .filter(|d| d[f].as_bool() == Some(true))
            .count() as f64
    };
    // A drill never detected counts as its whole window in the quantiles.
    let times = |f: &str| -> Vec<f64> {
        scored
            .iter()
            .map(|d| d[f].as_f64().unwrap_or(f64::INFINITY))
            .collect()
    };
    let q = |v: &[f64], p: f64| {
        quantile(v, p).map(|x| if x.is_finite() { json!(x) } else { Value::Null })
    };
    let detect = times("detected_after_s");
    let diag = times("diagnosed_after_s");
    json!({
        "drills_run": drills.len(),
        "void_drills": drills.len() - scored.len(),
        "top1_accuracy": round3(count("correct") / n),
        "top3_accuracy": round3(count("in_top3") / n),
        "detect_p50_s": q(&detect, 0.5),
        "detect_p95_s": q(&detect, 0.95),
        "diagnose_p50_s": q(&diag, 0.5),
        "diagnose_p95_s": q(&diag, 0.95),
        "recovered": drills.iter().filter(|d| d["recovered"].as_bool() == Some(true)).count(),
        "step_wall_p50_ms": quantile(step_ms, 0.5).map(round3),
        "step_wall_p95_ms": quantile(step_ms, 0.95).map(round3),
        "wall_s": round3(wall_s),
        "losses": losses,
        "drills": drills,
    })
}

/// `--scenario`, `--compound` and `--noise`.
async fn run_scenarios(a: Args, approve: Approve) -> anyhow::Result<()> {
    let scenarios: Vec<Scenario> = if let Some(k) = &a.scenario {
        let kind = ScenarioKind::parse(k).ok_or_else(|| {
            let kinds: Vec<&str> = ScenarioKind::ALL.iter().map(|k| k.as_str()).collect();
            anyhow::anyhow!("--scenario: {k:?} is not one of {}", kinds.join(", "))
        })?;
        vec![scenario::one(kind, a.target.as_deref(), a.seed)]
    } else if let Some(n) = a.compound {
        if n == 0 || n > 1000 {
            bail!("--compound: must be 1..=1000");
        }
        scenario::compound(n, a.seed)
    } else {
        Vec::new()
    };
    if let Some(s) = a.noise {
        if s == 0 || s > 86_400 {
            bail!("--noise: must be 1..=86400 seconds");
        }
    }
    let data_dir = scratch_dir();
    let opts = DrillOptions {
        tps: a.tps,
        seed: a.seed,
        heal: !a.no_heal,
        approve,
        warm_s: a.warm,
        max_s: a.max,
        quiet_s: a.quiet,
        data_dir: data_dir.clone(),
        record_to: a.record.clone(),
    };
    let started = Instant::now();
    let progress = std::io::stderr().is_terminal();
    let result = async {
        let mut d = Driver::new(opts).await?;
        if progress {
            eprintln!("warming up…");
        }
        d.warm().await;
        let mut out = Vec::with_capacity(scenarios.len());
        if let Some(secs) = a.noise {
            out.push(d.noise(secs).await?);
        }
        for (i, s) in scenarios.iter().enumerate() {
            let r = d.scenario(s, i + 1 < scenarios.len()).await?;
            if progress {
                eprintln!(
                    "[{}/{}] {:<48} named={} recovered={} mttr_s={} harm={}",
                    i + 1,
                    scenarios.len(),
                    s.title,
                    r["all_roots_named"],
                    r["recovered"],
                    r["mttr_s"],
                    r["harm_failed_payments"]
                );
            }
            out.push(r);
        }
        let losses = d.stack.losses().await;
        d.stack.shutdown();
        anyhow::Ok((out, d.step_wall_ms.clone(), losses))
    }
    .await;
    let _ = std::fs::remove_dir_all(&data_dir);
    let (drills, step_ms, losses) = result?;
    let out = if a.compound.is_some() {
        scenario_summary(drills, &step_ms, started.elapsed().as_secs_f64(), losses)
    } else {
        drills.into_iter().next().unwrap_or(Value::Null)
    };
    println!("{out}");
    Ok(())
}

fn scenario_summary(drills: Vec<Value>, step_ms: &[f64], wall_s: f64, losses: Value) -> Value {
    let n = drills.len().max(1) as f64;
    let share = |f: &str| {
        round3(
            drills
                .iter()
                .filter(|d| d[f].as_bool() == Some(true))
                .count() as f64
                / n,
        )
    };
    // A drill not recovered counts as its whole window in the MTTR quantiles.
    let mttr: Vec<f64> = drills
        .iter()
        .filter(|d| d["shadow_only"] != json!(true))
        .map(|d| d["mttr_s"].as_f64().unwrap_or(f64::INFINITY))
        .collect();
    let q = |p: f64| quantile(&mttr, p).map(|x| if x.is_finite() { json!(x) } else { Value::Null });
    json!({
        "drills_run": drills.len(),
        "all_roots_top1": share("all_roots_named"),
        "recovered": drills.iter().filter(|d| d["recovered"].as_bool() == Some(true)).count(),
        "recovered_share": share("recovered"),
        "mttr_p50_s": q(0.5),
        "mttr_p95_s": q(0.95),
        "harm_total": round3(drills.iter().filter_map(|d| d["harm_failed_payments"].as_f64()).sum()),
        "harm_aborted": drills.iter().filter(|d| d["harm_aborted"].as_bool() == Some(true)).count(),
        "incidents_opened": drills.iter().filter_map(|d| d["incidents_opened"].as_u64()).sum::<u64>(),
        "step_wall_p50_ms": quantile(step_ms, 0.5).map(round3),
        "step_wall_p95_ms": quantile(step_ms, 0.95).map(round3),
        "wall_s": round3(wall_s),
        "losses": losses,
        "drills": drills,
    })
}

fn scratch_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("warroom-drill-{}-{nanos}", std::process::id()))
}
