//! Section sizes of a 32-bit little-endian ELF file, as `size` reports them.

use anyhow::{bail, Context, Result};

/// Bytes of a firmware image by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    /// Code (allocated, executable).
    pub text: u64,
    /// Read-only data in flash (allocated, not writable, not executable).
    pub rodata: u64,
    /// Initialized data (in flash, copied to RAM).
    pub data: u64,
    /// Zeroed RAM.
    pub bss: u64,
}

impl Sizes {
    /// Flash: code, read-only data and the initial values of `data`.
    pub fn flash(&self) -> u64 {
        self.text + self.rodata + self.data
    }

    /// Static RAM: `data` and `bss` (the stack is not counted).
    pub fn ram(&self) -> u64 {
        self.data + self.bss
    }
}

fn u16_at(b: &[u8], at: usize) -> Result<u16> {
    Ok(u16::from_le_bytes(
        b.get(at..at + 2).context("truncated ELF")?.try_into()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32> {
    Ok(u32::from_le_bytes(
        b.get(at..at + 4).context("truncated ELF")?.try_into()?,
    ))
}

const SHF_WRITE: u32 = 1;
const SHF_ALLOC: u32 = 2;
const SHF_EXECINSTR: u32 = 4;
const SHT_NOBITS: u32 = 8;

/// Reads the section table of an ELF32 file and sums allocated sections by kind.
pub fn sizes(bytes: &[u8]) -> Result<Sizes> {
    if bytes.get(..4) != Some(b"\x7fELF") || bytes.get(4) != Some(&1) || bytes.get(5) != Some(&1) {
        bail!("not a 32-bit little-endian ELF file");
    }
    let shoff = u32_at(bytes, 0x20)? as usize;
    let shentsize = u16_at(bytes, 0x2e)? as usize;
    let shnum = u16_at(bytes, 0x30)? as usize;
    let mut sizes = Sizes::default();
    for i in 0..shnum {
        let at = shoff + i * shentsize;
        let kind = u32_at(bytes, at + 4)?;
        let flags = u32_at(bytes, at + 8)?;
        let size = u64::from(u32_at(bytes, at + 20)?);
        if flags & SHF_ALLOC == 0 {
            continue;
        }
        if kind == SHT_NOBITS {
            sizes.bss += size;
        } else if flags & SHF_EXECINSTR != 0 {
            sizes.text += size;
        } else if flags & SHF_WRITE != 0 {
            sizes.data += size;
        } else {
            sizes.rodata += size;
        }
    }
    Ok(sizes)
}
