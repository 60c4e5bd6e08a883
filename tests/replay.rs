//! `warroom replay` end to end through the real binary (issue 14): a drill recorded live
//! (`warroom drill --record`) and replayed gives the same root cause and the same
//! detection (within one analyzer tick) and names the plan that would have run;
//! `warroom bench replay` prints its figure beside
//! the live ingest path's; a missing file is an error; bad lines are named on stderr.

use serde_json::Value;
use std::process::Command;

fn warroom(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(args)
        .output()
        .expect("run warroom")
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn a_recorded_drill_replays_to_the_same_root_cause_and_detection() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("drill.jsonl");
    let out = warroom(&[
        "drill",
        "--json",
        "--warm",
        "22",
        "--tps",
        "250",
        "--no-heal",
        "--fault",
        "bank-outage",
        "--target",
        "bank-b",
        "--record",
        rec.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "drill: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live: Value = serde_json::from_slice(&out.stdout).unwrap();
    let live_detected = live["incident_detected_us"]
        .as_u64()
        .expect("live incident");
    let live_opened = live["incident_opened_us"].as_u64().expect("live incident");
    assert_eq!(live["root_cause"]["bank"], "bank-b", "{live}");

    // The drill's analyzer settings (a 20 s baseline).
    let cfg = dir.path().join("room.toml");
    std::fs::write(&cfg, "[analyzer]\nbaseline_s = 20\nretention_1s = 40\n").unwrap();
    // Which plan would have run (dry run: nothing listens on the sim's control API).
    let plans = dir.path().join("plans");
    std::fs::create_dir(&plans).unwrap();
    std::fs::write(
        plans.join("drain-bank.toml"),
        "name = \"drain-bank\"\n[trigger]\nkind = \"dependency\"\ntarget = \"bank:*\"\n[[steps]]\nchannel_weight = { bank = \"{target}\", weight = 0 }\n",
    )
    .unwrap();
    let out = warroom(&[
        "replay",
        "--json",
        "--config",
        cfg.to_str().unwrap(),
        "--plans",
        plans.to_str().unwrap(),
        rec.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "replay: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stdout);
    let (summary, incidents) = lines.split_last().expect("a summary line");
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert!(summary["records"].as_u64().unwrap() > 10_000, "{summary}");
    // The incident of the fault: the one with the live root cause, opened near it.
    let same: Vec<&Value> = incidents
        .iter()
        .filter(|i| i["root_cause"] == live["root_cause"])
        .collect();
    assert_eq!(
        same.len(),
        1,
        "live {}: replayed {incidents:?}",
        live["root_cause"]
    );
    let i = same[0];
    assert_eq!(i["plan"]["name"], "drain-bank", "{i}");
    assert_eq!(i["plan"]["target"], "bank:bank-b", "{i}");
    let detected = i["detected"].as_u64().unwrap();
    let opened = i["opened"].as_u64().unwrap();
    let tick = 100_000;
    assert!(
        detected.abs_diff(live_detected) <= tick,
        "detected {detected} vs live {live_detected}"
    );
    let delay = detected - opened;
    let live_delay = live_detected - live_opened;
    assert!(
        delay.abs_diff(live_delay) <= tick,
        "delay {delay} µs vs live {live_delay} µs"
    );
    // Nothing else opened during the drill's healthy warm-up.
    assert!(
        incidents
            .iter()
            .all(|x| x["opened"].as_u64().unwrap() + 1_000_000 >= opened),
        "{incidents:?}"
    );
}

#[test]
fn replay_names_bad_lines_and_refuses_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.jsonl");
    std::fs::write(&f, "{\"time\":\"nope\"}\n\nnot json\n").unwrap();
    let out = warroom(&["replay", f.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let name = f.display().to_string();
    assert!(
        err.contains(&format!("{name}:1:")) && err.contains(&format!("{name}:3:")),
        "{err}"
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["rejected"], 2, "{}", lines[0]);
    assert_eq!(lines[0]["records"], 0);

    let out = warroom(&["replay", dir.path().join("missing.jsonl").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.jsonl"));
    let out = warroom(&["replay", "--format", "csv", f.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("csv"));
}

#[test]
fn bench_replay_prints_its_figure_beside_the_live_ingest_path() {
    let out = warroom(&[
        "bench", "replay", "--json", "--lines", "200000", "--rounds", "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["replay"]["records"], 200_000, "{v}");
    assert!(v["replay"]["records_per_s"].as_f64().unwrap() > 0.0, "{v}");
    assert!(
        v["live_ingest"]["lines_per_s"].as_f64().unwrap() > 0.0,
        "{v}"
    );
    assert!(v["ratio_vs_live_ingest"].as_f64().is_some(), "{v}");
}
