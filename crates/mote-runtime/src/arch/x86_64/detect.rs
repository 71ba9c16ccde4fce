//! Whether this CPU and its operating system run AVX2 (and AVX-VNNI) code,
//! asked once with CPUID and XGETBV. The runtime is `no_std`, so
//! `is_x86_feature_detected!` is not available; this is the same test, by
//! hand.

use core::arch::x86_64::{__cpuid, __cpuid_count, _xgetbv};
use core::sync::atomic::{AtomicU8, Ordering};

/// Bits of [`FEATURES`]: asked, AVX2, AVX-VNNI.
const ASKED: u8 = 1;
const AVX2: u8 = 2;
const AVX_VNNI: u8 = 4;

/// The answer once asked (a race only asks twice and gets the same answer).
static FEATURES: AtomicU8 = AtomicU8::new(0);

/// Whether the AVX2 kernels may run here: always in a build that enables
/// AVX2 (`-C target-cpu=x86-64-v3`), else what the CPU says, asked once.
#[inline]
pub fn avx2() -> bool {
    cfg!(target_feature = "avx2") || features() & AVX2 != 0
}

/// Whether the AVX-VNNI kernels may run here (AVX2 and AVX-VNNI).
#[inline]
pub fn avx_vnni() -> bool {
    cfg!(all(target_feature = "avx2", target_feature = "avxvnni"))
        || features() & (AVX2 | AVX_VNNI) == AVX2 | AVX_VNNI
}

/// The feature bits, asked on the first call.
#[inline]
fn features() -> u8 {
    let known = FEATURES.load(Ordering::Relaxed);
    if known & ASKED != 0 {
        return known;
    }
    let asked = probe() | ASKED;
    FEATURES.store(asked, Ordering::Relaxed);
    asked
}

/// CPUID leaf 1 ECX: the OS saves extended state (OSXSAVE, bit 27) and the
/// CPU has AVX (bit 28); XCR0 bits 1 and 2: the OS saves the XMM and YMM
/// registers on a context switch; CPUID leaf 7 subleaf 0 EBX bit 5: AVX2;
/// subleaf 1 EAX bit 4: AVX-VNNI.
#[cold]
fn probe() -> u8 {
    let max_leaf = __cpuid(0).eax;
    if max_leaf < 7 {
        return 0;
    }
    let features = __cpuid(1).ecx;
    if features & (1 << 27) == 0 || features & (1 << 28) == 0 {
        return 0;
    }
    // SAFETY: OSXSAVE (checked above) means XGETBV is available.
    let xcr0 = unsafe { xcr0() };
    if xcr0 & 0b110 != 0b110 {
        return 0;
    }
    // Leaf 7 exists: it is at most the maximum leaf (checked above).
    let leaf7 = __cpuid_count(7, 0);
    if leaf7.ebx & (1 << 5) == 0 {
        return 0;
    }
    // Leaf 7's EAX is its largest subleaf.
    if leaf7.eax >= 1 && __cpuid_count(7, 1).eax & (1 << 4) != 0 {
        AVX2 | AVX_VNNI
    } else {
        AVX2
    }
}

/// XCR0, the register of the state components the OS saves (callable only
/// where the CPU has XGETBV, CPUID.1:ECX.OSXSAVE).
#[target_feature(enable = "xsave")]
fn xcr0() -> u64 {
    // SAFETY: XCR0 (register 0) exists wherever XGETBV does.
    unsafe { _xgetbv(0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_std() {
        let avx2_std = std::is_x86_feature_detected!("avx2");
        let vnni_std = avx2_std && std::is_x86_feature_detected!("avxvnni");
        assert_eq!(probe() & AVX2 != 0, avx2_std);
        assert_eq!(probe() & AVX_VNNI != 0, vnni_std);
        // Asked, then from the cached answer.
        for _ in 0..2 {
            assert_eq!(avx2(), avx2_std);
            assert_eq!(avx_vnni(), vnni_std);
        }
    }
}
