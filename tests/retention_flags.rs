//! Retention settings of the real binary (issue 14): bad `--retention`,
//! `--retention-bytes` and `[collector] retention` / `retention_bytes` values stop
//! `collect`, `serve` and `up` before anything listens, with an error naming the flag
//! or the key; good ones (`30m`, `6h`, `7d`, `500MiB`) start the collector.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn warroom(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_warroom"));
    c.args(args)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    c
}

fn refused(mut c: Command, field: &str) {
    let out = c.output().expect("run warroom");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should refuse: {err}");
    assert!(err.contains(&format!("{field}: ")), "names {field}: {err}");
}

#[test]
fn bad_retention_values_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let collect = ["collect", "--listen", "127.0.0.1:0"];
    for (flag, bad) in [
        ("--retention", "7x"),
        ("--retention", "7"),
        ("--retention", "0d"),
        ("--retention-bytes", "20 parsecs"),
        ("--retention-bytes", "0"),
    ] {
        let mut c = warroom(dir.path(), &collect);
        c.args([flag, bad]);
        refused(c, flag);
    }
    let config = dir.path().join("room.toml");
    std::fs::write(&config, "[collector]\nretention = \"soon\"\n").unwrap();
    let cfg = config.to_str().unwrap();
    let listen = [
        "--listen",
        "127.0.0.1:0",
        "--collector-listen",
        "127.0.0.1:0",
    ];
    let mut c = warroom(dir.path(), &["serve", "--config", cfg]);
    c.args(listen);
    refused(c, "[collector] retention");
    std::fs::write(&config, "[collector]\nretention_bytes = \"lots\"\n").unwrap();
    let mut c = warroom(dir.path(), &["up", "--tps", "0", "--config", cfg]);
    c.args(listen);
    refused(c, "[collector] retention_bytes");
    let mut c = warroom(dir.path(), &collect);
    c.args(["--config", cfg]);
    refused(c, "[collector] retention_bytes");
}

#[test]
fn good_retention_values_start_the_collector() {
    let dir = tempfile::tempdir().unwrap();
    for (age, size) in [("30m", "500MiB"), ("6h", "1GB"), ("7d", "20GiB")] {
        let mut child = warroom(
            dir.path(),
            &["collect", "--listen", "127.0.0.1:0", "--fsync", "never"],
        )
        .args(["--retention", age, "--retention-bytes", size])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start warroom collect");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            line.starts_with("collector listening on "),
            "{age} {size}: {line:?}"
        );
    }
}
