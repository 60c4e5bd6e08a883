//! `warroom hash-password`: reads a password from stdin (first line) and prints the
//! `password_hash` value for a `[[users]]` entry of the dashboard config. The password
//! never appears in argv or the output.

use std::io::BufRead;

#[derive(clap::Args)]
pub struct Args {}

pub async fn run(_a: Args) -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']);
    anyhow::ensure!(
        password.len() >= 8,
        "a password of at least 8 characters is needed on stdin"
    );
    println!("{}", dashboard::hash_password(password));
    Ok(())
}
