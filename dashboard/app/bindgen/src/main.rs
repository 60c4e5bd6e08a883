//! dashboard-bindgen: the `wasm-bindgen --target web --no-typescript` step of
//! `scripts/build-dashboard`, as a tiny host binary over `wasm-bindgen-cli-support`
//! (same job as the CLI, no download, version pinned to the app's lockfile).
//!
//! Usage: `dashboard-bindgen INPUT.wasm OUT_DIR`

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir] = args.as_slice() else {
        eprintln!("usage: dashboard-bindgen INPUT.wasm OUT_DIR");
        return ExitCode::from(2);
    };
    let mut b = wasm_bindgen_cli_support::Bindgen::new();
    let res = b
        .input_path(input)
        .web(true)
        .and_then(|b| b.typescript(false).generate(out_dir));
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wasm-bindgen failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}
