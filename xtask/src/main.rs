//! Developer tasks for mote.
//!
//! ```text
//! cargo xtask firmware              build and run the firmware on QEMU for every model in
//!                                   firmware/models.txt, interpreted and compiled ahead of
//!                                   time by mote-codegen; check outputs equal the host's
//! cargo xtask device-report         the same, then print the device table
//! cargo xtask device-report --write ... and write it into BENCHMARKS.md
//! cargo xtask firmware --budget MODEL FLASH RAM
//!                                   link MODEL's firmware (opt-level z) for a chip of
//!                                   FLASH/RAM bytes (e.g. 32K 4K), run it, check outputs
//! cargo xtask kernel-check [--cases N] [--seed S]
//!                                   the Cortex-M4 DSP kernels against the reference kernels
//!                                   on N random cases on QEMU (firmware/kernel-check)
//! cargo xtask profile MODEL [--top N] [--annotate SYMBOL]
//!                                   MODEL's DSP firmware traced one instruction at a time on
//!                                   QEMU: instructions per inference by function, and with
//!                                   --annotate one function's disassembly with its counts
//! ```
//!
//! `MOTE_FIRMWARE_MODELS=a,b` limits either to those models of models.txt.

mod elf;
mod firmware;
mod kernel_check;
mod profile;
mod qemu;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("firmware") => match args.get(1..) {
            Some([flag, name, flash, ram]) if flag == "--budget" => {
                firmware::budget(name, flash, ram)
            }
            Some([]) => firmware::check(false, false),
            _ => {
                eprintln!("usage: cargo xtask firmware [--budget MODEL FLASH RAM]");
                return ExitCode::from(2);
            }
        },
        Some("device-report") => firmware::check(true, args.iter().any(|a| a == "--write")),
        Some("kernel-check") => kernel_check::run(args.get(1..).unwrap_or(&[])),
        Some("profile") => profile::run(args.get(1..).unwrap_or(&[])),
        _ => {
            eprintln!(
                "usage: cargo xtask firmware | device-report [--write] | kernel-check [--cases N] [--seed S] | profile MODEL [--top N] [--annotate SYMBOL]"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
