//! Where a model's instructions go on the Cortex-M4: QEMU logs every executed
//! instruction (`-singlestep -d exec,nochain`), and each is counted against
//! the ELF symbol that holds its address.
//!
//! The log streams through a FIFO, so even VWW's ~40 M lines never touch the
//! disk. Counts cover the whole run (start-up, the untimed and the timed
//! `invoke()`), halved, so a kernel's figure is per inference.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use mote_runtime::Model;

use crate::firmware::{build_firmware, entries, make_input, Build};

/// Linux's `O_NONBLOCK` (the same on x86-64 and Arm hosts).
const O_NONBLOCK: i32 = 0o4000;

/// One function of the ELF: start address (Thumb bit cleared), size, name.
struct Symbol {
    start: u32,
    size: u32,
    name: String,
}

/// `cargo xtask profile MODEL [--top N] [--annotate NAME]`.
pub fn run(args: &[String]) -> Result<bool> {
    let usage = "usage: cargo xtask profile MODEL [--top N] [--annotate SYMBOL-SUBSTRING]";
    let Some(name) = args.first() else {
        bail!(usage);
    };
    let (mut top, mut annotate) = (25usize, None);
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        match (flag.as_str(), rest.next()) {
            ("--top", Some(n)) => top = n.parse().with_context(|| format!("--top {n}"))?,
            ("--annotate", Some(s)) => annotate = Some(s.clone()),
            _ => bail!(usage),
        }
    }
    let entry = entries()?
        .into_iter()
        .find(|e| &e.name == name)
        .with_context(|| format!("{name} is not in firmware/models.txt"))?;
    let bytes = std::fs::read(&entry.path).with_context(|| format!("{}", entry.path.display()))?;
    let model = Model::parse(&bytes).with_context(|| format!("{}", entry.path.display()))?;
    let (fill, _) = make_input(&model, &entry.input)?;
    let elf = build_firmware(&entry.path, fill, &Build::dsp(2 << 20))?;
    let symbols = symbols(&elf)?;
    let (counts, timed) = trace(&elf)?;

    let mut by_symbol: HashMap<usize, u64> = HashMap::new();
    let mut unknown = 0u64;
    for (&pc, &n) in &counts {
        match find(&symbols, pc) {
            Some(i) => *by_symbol.entry(i).or_default() += n,
            None => unknown += n,
        }
    }
    let total: u64 = counts.values().sum();
    let mut rows: Vec<(usize, u64)> = by_symbol.into_iter().collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.1));
    println!(
        "{name}: {timed} instructions in the timed invoke; by function, half of the {total} traced (start-up and both invokes):"
    );
    for &(i, n) in rows.iter().take(top) {
        println!(
            "{:>12} {:>5.1}%  {}",
            n / 2,
            100.0 * n as f64 / total as f64,
            symbols[i].name
        );
    }
    if unknown > 0 {
        println!("{:>12}         outside any symbol", unknown / 2);
    }
    if let Some(pattern) = annotate {
        let Some(&(i, _)) = rows
            .iter()
            .find(|&&(i, _)| symbols[i].name.contains(&pattern))
        else {
            bail!("no executed symbol's name contains {pattern:?}");
        };
        annotate_symbol(&elf, &symbols[i], &counts)?;
    }
    Ok(true)
}

/// The ELF's function symbols, sorted by address.
fn symbols(elf: &Path) -> Result<Vec<Symbol>> {
    let out = Command::new("llvm-nm")
        .args(["-C", "-S", "-n", "--defined-only"])
        .arg(elf)
        .output()
        .context("llvm-nm (apt-get install llvm)")?;
    if !out.status.success() {
        bail!("llvm-nm failed on {}", elf.display());
    }
    let mut symbols = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut words = line.splitn(4, ' ');
        let (Some(start), Some(size), Some(kind), Some(name)) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            continue;
        };
        if !matches!(kind, "T" | "t" | "W" | "w") {
            continue;
        }
        let (Ok(start), Ok(size)) = (
            u32::from_str_radix(start, 16),
            u32::from_str_radix(size, 16),
        ) else {
            continue;
        };
        symbols.push(Symbol {
            start: start & !1,
            size,
            name: name.to_string(),
        });
    }
    symbols.sort_by_key(|s| s.start);
    Ok(symbols)
}

/// The symbol holding `pc`, if any.
fn find(symbols: &[Symbol], pc: u32) -> Option<usize> {
    let i = symbols.partition_point(|s| s.start <= pc).checked_sub(1)?;
    let s = &symbols[i];
    (pc < s.start.saturating_add(s.size.max(1))).then_some(i)
}

/// Runs `elf` one instruction per translation block and counts executions
/// per address; also returns the instructions the firmware counted in its
/// timed invoke.
fn trace(elf: &Path) -> Result<(HashMap<u32, u64>, u64)> {
    let dir = std::env::temp_dir().join(format!("mote-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let fifo = dir.join("trace");
    let result = (|| {
        let status = Command::new("mkfifo").arg(&fifo).status()?;
        if !status.success() {
            bail!("mkfifo {}", fifo.display());
        }
        let qemu = crate::qemu::board(elf)
            .args([
                "-icount",
                "shift=6",
                "-singlestep",
                "-d",
                "exec,nochain",
                "-D",
            ])
            .arg(&fifo)
            .spawn()
            .context(crate::qemu::MISSING)?;
        // Opening the FIFO waits for a writer: should QEMU exit without ever
        // opening its log, the waiter opens it (non-blocking, so that
        // without a reader the open just fails) to end that wait with EOF.
        let waiter = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let output = qemu.wait_with_output();
                let _ = std::fs::OpenOptions::new()
                    .write(true)
                    .custom_flags(O_NONBLOCK)
                    .open(&fifo);
                output
            })
        };
        let log = std::fs::File::open(&fifo)?;
        let mut counts: HashMap<u32, u64> = HashMap::new();
        for line in BufReader::with_capacity(1 << 20, log).split(b'\n') {
            if let Some(pc) = trace_pc(&line?) {
                *counts.entry(pc).or_default() += 1;
            }
        }
        let output = waiter
            .join()
            .map_err(|_| anyhow::anyhow!("the thread waiting for QEMU panicked"))??;
        if !output.status.success() {
            bail!("the firmware failed under tracing ({})", output.status);
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let timed = stdout
            .lines()
            .find_map(|l| l.strip_prefix("instructions:"))
            .and_then(|n| n.trim().parse().ok())
            .context("the firmware printed no instructions line")?;
        Ok((counts, timed))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The guest PC of one `Trace N: HOST [CS_BASE/PC/FLAGS/CFLAGS] ...` line.
fn trace_pc(line: &[u8]) -> Option<u32> {
    if !line.starts_with(b"Trace") {
        return None;
    }
    let open = line.iter().position(|&b| b == b'[')?;
    let fields = &line[open + 1..];
    let first = fields.iter().position(|&b| b == b'/')?;
    let pc = &fields[first + 1..];
    let end = pc.iter().position(|&b| b == b'/')?;
    u32::from_str_radix(std::str::from_utf8(&pc[..end]).ok()?, 16).ok()
}

/// Prints `symbol`'s disassembly with each instruction's count per inference.
fn annotate_symbol(elf: &Path, symbol: &Symbol, counts: &HashMap<u32, u64>) -> Result<()> {
    let out = Command::new("llvm-objdump")
        .args(["-d", "--no-show-raw-insn"])
        .arg(format!("--start-address={:#x}", symbol.start))
        .arg(format!("--stop-address={:#x}", symbol.start + symbol.size))
        .arg(elf)
        .output()
        .context("llvm-objdump (apt-get install llvm)")?;
    println!("\n{}:", symbol.name);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let address = line
            .trim_start()
            .split(':')
            .next()
            .and_then(|a| u32::from_str_radix(a, 16).ok());
        match address {
            Some(a) => println!(
                "{:>10} {line}",
                counts
                    .get(&a)
                    .map_or(String::new(), |n| (n / 2).to_string())
            ),
            None if line.trim().is_empty() => {}
            None => println!("{:>10} {line}", ""),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_pc_of_a_trace_line() {
        let line = b"Trace 0: 0x7f0c3c000100 [00000000/000004c1/00000000/ff200000] ";
        assert_eq!(trace_pc(line), Some(0x4c1));
        assert_eq!(trace_pc(b"IN: 0x4c1"), None);
    }

    #[test]
    fn finds_the_symbol_holding_an_address() {
        let symbols = vec![
            Symbol {
                start: 0x100,
                size: 0x10,
                name: "a".into(),
            },
            Symbol {
                start: 0x200,
                size: 0x8,
                name: "b".into(),
            },
        ];
        assert_eq!(find(&symbols, 0x104), Some(0));
        assert_eq!(find(&symbols, 0x110), None);
        assert_eq!(find(&symbols, 0x207), Some(1));
        assert_eq!(find(&symbols, 0x50), None);
    }
}
