//! Developer tasks for mote.
//!
//! ```text
//! cargo xtask firmware              build and run the firmware on QEMU for every model in
//!                                   firmware/models.txt; check outputs equal the host's
//! cargo xtask device-report         the same, then print the device table
//! cargo xtask device-report --write ... and write it into BENCHMARKS.md
//! ```

mod elf;
mod firmware;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("firmware") => firmware::check(false, false),
        Some("device-report") => firmware::check(true, args.iter().any(|a| a == "--write")),
        _ => {
            eprintln!("usage: cargo xtask firmware | device-report [--write]");
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
