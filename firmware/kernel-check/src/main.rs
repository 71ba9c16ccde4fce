//! The kernel check: mote-runtime's Cortex-M4 DSP int8 kernels (their
//! `asm!` loops included) against the reference kernels on random cases, on
//! an emulated Cortex-M4 (QEMU mps2-an386; `cargo xtask kernel-check`).
//!
//! Each case draws, from a seeded generator, one of CONV_2D,
//! DEPTHWISE_CONV_2D (the group kernel alone, or the op's whole entry) or
//! FULLY_CONNECTED: shapes, strides, padding, dilation, depth multipliers,
//! requantization (`quant.rs`) and tensors of random bytes, -128 and 127
//! among them. It runs the reference and the DSP kernel's entry point
//! (`mote_runtime::check`) and compares the outputs byte for byte
//! (`compare.rs`); the kernel must run where its conditions say it covers
//! the case, and decline elsewhere. `tally.rs` counts the cases per kernel
//! branch. Prints, through semihosting, the first mismatch's description,
//! the cases per branch, then `cases: N mismatches: M`, and exits with 0
//! only if N > 0, M == 0 and every branch was taken (1: mismatches, 2: a
//! branch not taken or no cases, 4: a hard fault, 5: a panic).
//!
//! The case count and seed are fixed at build time
//! (`MOTE_KERNEL_CHECK_CASES`, `MOTE_KERNEL_CHECK_SEED`; see `build.rs`).
#![no_std]
#![no_main]

mod compare;
mod conv;
mod depthwise;
mod fully_connected;
mod quant;
mod rng;
mod tally;
mod tensors;

use core::fmt::Arguments;

use cortex_m_rt::{entry, exception, ExceptionFrame};
use mote_runtime::ops::conv_2d::Window;

use compare::{Outputs, Verdict};
use quant::Quant;
use rng::Rng;
use tally::{Taken, Tally, PATHS};
use tensors::Tensors;

include!(concat!(env!("OUT_DIR"), "/run.rs"));

/// Prints one line through semihosting.
pub fn say(args: Arguments<'_>) {
    cortex_m_semihosting::hprintln!("{}", args);
}

/// Exits QEMU with `code` (semihosting SYS_EXIT_EXTENDED).
fn exit(code: u32) -> ! {
    let block = [0x20026u32, code];
    // SAFETY: the semihosting call reads the two-word block.
    unsafe {
        cortex_m_semihosting::syscall(0x20, &block);
    }
    cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    say(format_args!("hard fault at pc {:#010x}", frame.pc()));
    exit(4)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    say(format_args!("panic: {info}"));
    exit(5)
}

/// What a failed case's verdict says; `channels` per output pixel.
pub fn describe_verdict(verdict: &Verdict, channels: usize) {
    match *verdict {
        Verdict::Ran(true) => say(format_args!("  the kernel ran where it should decline")),
        Verdict::Ran(false) => say(format_args!("  the kernel declined where it should run")),
        Verdict::Byte { at, got, want } => say(format_args!(
            "  output byte {at} (channel {}): kernel {got}, reference {want}",
            at % channels.max(1)
        )),
        Verdict::Guard { at } => say(format_args!(
            "  the kernel wrote byte {at} of the output, outside it (counted from its start)"
        )),
        Verdict::Equal | Verdict::Declined => {}
    }
}

/// A failed case's requantization, and the differing channel's scale.
pub fn describe_quant(q: &Quant, bias: &[i32], verdict: &Verdict, channels: usize) {
    say(format_args!(
        "  input offset {}, output {:?}, {} scale(s), {} bias values",
        q.input_offset,
        q.output,
        q.count,
        bias.len()
    ));
    if let Verdict::Byte { at, .. } = *verdict {
        let c = at % channels.max(1);
        let (m, s) = q.scale(c);
        let b = bias.get(c).copied().unwrap_or(0);
        say(format_args!(
            "  channel {c}: multiplier {m}, shift {s}, bias {b}"
        ));
    }
}

/// A failed convolution case.
pub fn describe(op: &str, verdict: &Verdict, w: &Window, q: &Quant, bias: &[i32]) {
    say(format_args!("{op}: {w:?}"));
    describe_verdict(verdict, w.out_depth);
    describe_quant(q, bias, verdict, w.out_depth);
}

#[entry]
fn main() -> ! {
    let mut tensors = Tensors::new();
    let mut outputs = Outputs::new();
    let mut tally = Tally::new();
    let mut mismatches = 0u32;
    say(format_args!("kernel-check: {CASES} cases, seed {SEED}"));
    for case in 0..CASES {
        let mut rng = Rng::for_case(SEED, case);
        let mut taken = Taken::default();
        // Only the first mismatch is described.
        let report = mismatches == 0;
        let (t, o, k) = (&mut tensors, &mut outputs, &mut taken);
        let ok = match case % 8 {
            0..=2 => conv::case(&mut rng, t, o, k, report),
            3 | 4 => depthwise::case(&mut rng, true, t, o, k, report),
            5 => depthwise::case(&mut rng, false, t, o, k, report),
            _ => fully_connected::case(&mut rng, t, o, k, report),
        };
        if !ok {
            if report {
                let (x, f) = tensors.at;
                let o = outputs.at;
                say(format_args!(
                    "  (case {case} of seed {SEED}; input, filter and output {x}, {f}, {o} bytes past a word)"
                ));
            }
            mismatches += 1;
        }
        tally.count(taken);
    }
    let mut missing = 0;
    for (name, n) in PATHS.iter().zip(tally.cases) {
        say(format_args!("path {name}: {n}"));
        if n == 0 {
            missing += 1;
        }
    }
    say(format_args!("cases: {CASES} mismatches: {mismatches}"));
    if missing > 0 {
        say(format_args!("paths never taken: {missing}"));
    }
    exit(if mismatches > 0 {
        1
    } else if CASES == 0 || missing > 0 {
        2
    } else {
        0
    })
}
