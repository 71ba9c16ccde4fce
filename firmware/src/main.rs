//! Runs the model embedded at build time on an emulated Cortex-M4 and prints,
//! through semihosting: its outputs (hex bytes), the instructions one
//! `invoke()` takes, and the arena bytes used. The model runs in the
//! interpreter (`interpreted.rs`, the .tflite file in flash) or, built with
//! `MOTE_CODEGEN=1`, as code mote-codegen generated (`compiled.rs`). The input
//! is made on the device from `xtask`'s seed (`input.rs`). Exits with 0 on
//! success, with 2 on a runtime error, with 4 on a fault. Printing uses a few
//! bytes of code of its own instead of `core::fmt` (which would double a small firmware's flash); the error's
//! text is what the same model gives on the host (`cargo xtask firmware` runs
//! it there first).
//!
//! The deepest stack is measured by painting: free RAM below the stack pointer
//! (at most [`PAINT_MAX`] bytes) is filled with a pattern at start, and the
//! lowest word no longer holding it at the end is how deep the stack went.
//!
//! Instructions are counted as `../shared/EMBEDDED.md` describes: QEMU's
//! `-icount shift=6` advances the virtual clock 64 ns per instruction, and the
//! 25 MHz CMSDK TIMER0 counts that clock.
#![no_std]
#![no_main]

use core::ptr::{read_volatile, write_volatile};

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hio};
use panic_halt as _;

#[cfg(mote_compiled)]
mod compiled;
#[cfg(not(mote_compiled))]
mod interpreted;
#[cfg(mote_compiled)]
use compiled::Engine;
#[cfg(not(mote_compiled))]
use interpreted::Engine;

mod input;
include!(concat!(env!("OUT_DIR"), "/fill.rs"));

const TIMER0: usize = 0x4000_0000;

/// The word free stack RAM is painted with.
const PAINT: u32 = 0xA5C3_5A3C;
/// At most this many bytes below the stack pointer are painted (and measured).
const PAINT_MAX: usize = 256 << 10;

extern "C" {
    /// `cortex-m-rt`'s end of static RAM (`.data`, `.bss`, `.uninit`).
    static __sheap: u32;
    /// `cortex-m-rt`'s initial stack pointer: the top of RAM.
    static _stack_start: u32;
}

/// The painted region: from the end of static RAM (or `PAINT_MAX` below the
/// top of the stack) to 64 bytes below the stack pointer of the caller.
fn paint_region(sp: usize) -> (usize, usize) {
    let (heap, top) = (
        core::ptr::addr_of!(__sheap) as usize,
        core::ptr::addr_of!(_stack_start) as usize,
    );
    let start = heap.max(top.saturating_sub(PAINT_MAX)).next_multiple_of(4);
    (start, sp.saturating_sub(64) & !3)
}

/// Fills the free RAM below the stack with [`PAINT`]. Called first thing.
#[inline(never)]
fn paint_stack() {
    let sp: usize;
    // SAFETY: reads the stack pointer.
    unsafe { core::arch::asm!("mov {}, sp", out(reg) sp) };
    let (start, end) = paint_region(sp);
    let mut at = start;
    while at < end {
        // SAFETY: between the end of static RAM and 64 bytes below the stack
        // pointer: RAM nothing uses (no heap, no interrupts).
        unsafe { write_volatile(at as *mut u32, PAINT) };
        at += 4;
    }
}

/// Bytes of stack used so far: from the top of RAM down to the lowest word
/// [`paint_stack`] painted that no longer holds [`PAINT`].
#[inline(never)]
fn stack_used() -> u32 {
    let sp: usize;
    // SAFETY: reads the stack pointer.
    unsafe { core::arch::asm!("mov {}, sp", out(reg) sp) };
    let (start, end) = paint_region(sp);
    let top = core::ptr::addr_of!(_stack_start) as usize;
    let mut at = start;
    // SAFETY: the region `paint_stack` painted (this frame is above it).
    while at < end && unsafe { read_volatile(at as *const u32) } == PAINT {
        at += 4;
    }
    (top - at) as u32
}

extern "C" {
    /// `cortex-m-rt`'s handler for every exception and interrupt not given one.
    fn DefaultHandler();
}

/// The device interrupt vectors: mps2-an386's NVIC has 32 (none is enabled
/// here). With its `device` feature `cortex-m-rt` takes the table from the
/// application instead of its generic one of 240 entries (960 bytes of flash).
#[link_section = ".vector_table.interrupts"]
#[no_mangle]
#[used]
static __INTERRUPTS: [unsafe extern "C" fn(); 32] = [DefaultHandler; 32];

fn timer_start() {
    // SAFETY: TIMER0's CTRL, VALUE and RELOAD registers on mps2-an386.
    unsafe {
        write_volatile(TIMER0 as *mut u32, 0);
        write_volatile((TIMER0 + 8) as *mut u32, u32::MAX);
        write_volatile((TIMER0 + 4) as *mut u32, u32::MAX);
        write_volatile(TIMER0 as *mut u32, 1);
    }
}

fn timer_value() -> u32 {
    // SAFETY: TIMER0's VALUE register.
    unsafe { read_volatile((TIMER0 + 4) as *const u32) }
}

/// Exits QEMU with `code` (semihosting SYS_EXIT_EXTENDED).
fn exit(code: u32) -> ! {
    let block = [0x20026u32, code];
    // SAFETY: the semihosting call reads the two-word block.
    unsafe {
        cortex_m_semihosting::syscall(0x20, &block);
    }
    debug::exit(debug::EXIT_FAILURE);
    // Not reached on QEMU; on a chip without a debugger, sleep.
    loop {
        cortex_m::asm::wfi();
    }
}

/// A fault (a bad memory access, an undefined instruction) exits QEMU with 4
/// at once, instead of spinning in the default handler until `xtask` gives up.
#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    exit(4)
}

#[entry]
fn main() -> ! {
    paint_stack();
    let mut out = match hio::hstdout() {
        Ok(out) => out,
        Err(()) => exit(3),
    };
    match run(&mut out) {
        Ok(()) => exit(0),
        Err(_) => {
            let _ = out.write_all(
                b"error: the runtime returned an error (run the model on the host for its text)\n",
            );
            exit(2)
        }
    }
}

/// Fills input 0 with the seeded input `xtask` gave the host (`input.rs`).
fn set_input(input: &mut [u8]) {
    input::fill(input, FILL);
}

fn run(out: &mut hio::HostStream) -> Result<(), mote_runtime::Error> {
    let mut engine = Engine::new()?;
    // The planner reuses an input's memory once its last reader has run, so the
    // input is written before each invoke.
    set_input(engine.input()?);
    engine.invoke()?; // untimed, as in TensorFlow Lite Micro's method
    set_input(engine.input()?);
    timer_start();
    let before = timer_value();
    engine.invoke()?;
    let after = timer_value();
    let ticks = u64::from(before.wrapping_sub(after));
    // 25 MHz timer, 64 ns per instruction: instructions = ticks * 40 / 64
    // (at most 2^32 * 40 / 64, so it fits a u32).
    let instructions = ((ticks * 40 + 32) / 64) as u32;
    let _ = out.write_all(b"output:");
    for o in 0..engine.output_count() {
        for &b in engine.output(o)? {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let _ = out.write_all(&[b' ', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
    let _ = out.write_all(b"\ninstructions: ");
    write_decimal(out, instructions);
    let _ = out.write_all(b"\narena_used: ");
    write_decimal(out, engine.arena_used() as u32);
    let _ = out.write_all(b"\nstack: ");
    write_decimal(out, stack_used());
    let _ = out.write_all(b"\n");
    Ok(())
}

/// Writes `n` in decimal (a `u32`: 64-bit division would link 1 KB of
/// compiler-builtins code).
fn write_decimal(out: &mut hio::HostStream, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        at -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let _ = out.write_all(digits.get(at..).unwrap_or(&[]));
}
