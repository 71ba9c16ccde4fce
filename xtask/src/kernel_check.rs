//! `cargo xtask kernel-check [--cases N] [--seed S]`: builds
//! `firmware/kernel-check` (the Cortex-M4 DSP kernels against the reference
//! kernels on random cases) and runs it on QEMU's mps2-an386, with a
//! timeout. Passes only if the firmware exits with 0, which it does only
//! when every case agreed byte for byte and every kernel path was taken;
//! otherwise fails with a one-line reason (the firmware's report above it).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::qemu;

/// Cases when `--cases` is not given (about 5 s on QEMU).
const CASES: u64 = 20_000;

/// QEMU's time limit: a base plus a allowance per case (a case takes about
/// 0.25 ms; a hang must not stall the test run).
fn limit(cases: u64) -> Duration {
    Duration::from_secs(60) + Duration::from_millis(cases)
}

/// Parses `--cases N` and `--seed S`.
fn options(args: &[String]) -> Result<(u64, u64)> {
    let (mut cases, mut seed) = (CASES, 1);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a number"));
        match flag.as_str() {
            "--cases" => cases = value?.parse().context("--cases")?,
            "--seed" => seed = value?.parse().context("--seed")?,
            _ => bail!("usage: cargo xtask kernel-check [--cases N] [--seed S]"),
        }
    }
    Ok((cases, seed))
}

/// Builds and runs the kernel check; `Ok(true)` if it passed.
pub fn run(args: &[String]) -> Result<bool> {
    let (cases, seed) = options(args)?;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware/kernel-check");
    let start = Instant::now();
    let status = Command::new("cargo")
        .args(["build", "--quiet", "--release"])
        .current_dir(&dir)
        // Its own target directory (and target), as the firmware's.
        .env_remove("CARGO_TARGET_DIR")
        .env("MOTE_KERNEL_CHECK_CASES", cases.to_string())
        .env("MOTE_KERNEL_CHECK_SEED", seed.to_string())
        .status()
        .context("cargo build in firmware/kernel-check")?;
    if !status.success() {
        bail!("the kernel check firmware does not build");
    }
    let built = start.elapsed();
    let elf = dir.join("target/thumbv7em-none-eabihf/release/mote-kernel-check");
    let ran = Instant::now();
    let Some(qemu::Finished { status, stdout }) = qemu::run(&elf, false, limit(cases))? else {
        bail!(
            "the kernel check ran for over {} s on QEMU (a hang?)",
            limit(cases).as_secs()
        );
    };
    print!("{stdout}");
    let summary = stdout.lines().find(|l| l.starts_with("cases: "));
    println!(
        "kernel-check: built in {:.1} s, ran in {:.1} s",
        built.as_secs_f64(),
        ran.elapsed().as_secs_f64()
    );
    match status.code() {
        Some(0) if summary.is_some_and(|s| s.ends_with(" mismatches: 0")) => Ok(true),
        Some(1) => bail!(
            "the DSP kernels differ from the reference kernels on QEMU ({}; the first is described above)",
            summary.unwrap_or("no summary")
        ),
        Some(2) => bail!(
            "the kernel check took no case, or a kernel path in none of its cases (the paths above)"
        ),
        Some(4) => bail!("the kernel check firmware hit a hard fault on QEMU"),
        Some(5) => bail!("the kernel check firmware panicked on QEMU"),
        _ => bail!("the kernel check on QEMU failed ({status}) without its summary"),
    }
}
