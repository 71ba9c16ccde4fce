//! Links with `../board.x` (the emulated board's memory map), copied to
//! `OUT_DIR` as the only `memory.x` the linker sees, and passes the case
//! count and seed of a run (`MOTE_KERNEL_CHECK_CASES`, default 2000;
//! `MOTE_KERNEL_CHECK_SEED`, default 1) to the program as constants.

use std::path::PathBuf;
use std::{env, fs};

fn number(var: &str, default: u64) -> u64 {
    println!("cargo:rerun-if-env-changed={var}");
    match env::var(var) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{var}={text}: not a number")),
        Err(_) => default,
    }
}

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let memory = manifest.join("../board.x");
    fs::copy(&memory, out.join("memory.x")).unwrap_or_else(|e| panic!("{}: {e}", memory.display()));
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={}", memory.display());
    let cases = number("MOTE_KERNEL_CHECK_CASES", 2000);
    let seed = number("MOTE_KERNEL_CHECK_SEED", 1);
    fs::write(
        out.join("run.rs"),
        format!("/// Cases to run.\nconst CASES: u32 = {cases};\n/// The generator's seed.\nconst SEED: u64 = {seed};\n"),
    )
    .expect("write run.rs");
}
