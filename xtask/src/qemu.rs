//! Runs a firmware ELF on QEMU's mps2-an386 (the Cortex-M4 board of
//! `../shared/EMBEDDED.md`) with semihosting, under a time limit, for both
//! the model firmware and the kernel check.

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How a run ended: its exit status and what it printed.
pub struct Finished {
    /// QEMU's status: the firmware's semihosting exit code.
    pub status: ExitStatus,
    /// Standard output (the firmware's semihosting prints).
    pub stdout: String,
}

/// QEMU's mps2-an386 running `elf`, without display, monitor or serial
/// port, semihosting on, its standard output piped: what every run here
/// starts from.
pub fn board(elf: &Path) -> Command {
    let mut qemu = Command::new("qemu-system-arm");
    qemu.args(["-M", "mps2-an386", "-nographic", "-monitor", "none"])
        .args([
            "-serial",
            "none",
            "-semihosting-config",
            "enable=on,target=native",
        ])
        .arg("-kernel")
        .arg(elf)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    qemu
}

/// What to say when QEMU does not start.
pub const MISSING: &str = "start qemu-system-arm (run ./scripts/test to install it)";

/// Runs `elf`, counting instructions exactly when `icount` (`-icount
/// shift=6`). `Ok(None)` if it ran past `limit` (QEMU is killed).
pub fn run(elf: &Path, icount: bool, limit: Duration) -> Result<Option<Finished>> {
    let mut qemu = board(elf);
    if icount {
        qemu.args(["-icount", "shift=6"]);
    }
    let mut child = qemu.spawn().context(MISSING)?;
    // Read while it runs, so a long print cannot fill the pipe and stall it.
    let mut pipe = child.stdout.take().context("qemu's stdout")?;
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = pipe.read_to_end(&mut text);
        text
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = reader.join().unwrap_or_default();
    Ok(Some(Finished {
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
    }))
}
