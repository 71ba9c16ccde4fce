//! The packed 16-bit primitives of the Armv7E-M DSP extension in plain Rust:
//! the twin the host tests run. A word holds two `i16` halves, low then high.

/// Low half of `w` as `i32`.
#[inline(always)]
fn lo(w: u32) -> i32 {
    i32::from(w as u16 as i16)
}

/// High half of `w` as `i32`.
#[inline(always)]
fn hi(w: u32) -> i32 {
    i32::from((w >> 16) as u16 as i16)
}

/// Two halves into a word.
#[inline(always)]
fn pack(lo: i32, hi: i32) -> u32 {
    (lo as u16 as u32) | ((hi as u16 as u32) << 16)
}

/// `SXTAB16`: bytes 0 and 2 of `x`, sign-extended, added to the halves of `a`
/// (each half wraps).
#[inline(always)]
pub fn sxtab16(a: u32, x: u32) -> u32 {
    pack(
        lo(a).wrapping_add(i32::from(x as u8 as i8)),
        hi(a).wrapping_add(i32::from((x >> 16) as u8 as i8)),
    )
}

/// `SXTAB16 ..., ROR #8`: bytes 1 and 3 of `x` added to the halves of `a`.
#[inline(always)]
pub fn sxtab16_ror8(a: u32, x: u32) -> u32 {
    sxtab16(a, x.rotate_right(8))
}

/// `SXTB16`: bytes 0 and 2 of `x`, sign-extended to halves.
#[inline(always)]
pub fn sxtb16(x: u32) -> u32 {
    sxtab16(0, x)
}

/// `SXTB16 ..., ROR #8`: bytes 1 and 3 of `x`.
#[inline(always)]
pub fn sxtb16_ror8(x: u32) -> u32 {
    sxtab16(0, x.rotate_right(8))
}

/// `SMLAD`: `acc + lo(x) * lo(y) + hi(x) * hi(y)`, wrapping.
#[inline(always)]
pub fn smlad(x: u32, y: u32, acc: i32) -> i32 {
    acc.wrapping_add(lo(x) * lo(y)).wrapping_add(hi(x) * hi(y))
}

/// `SMLABB`: `acc + lo(x) * lo(y)`, wrapping.
#[inline(always)]
pub fn smlabb(x: u32, y: u32, acc: i32) -> i32 {
    acc.wrapping_add(lo(x) * lo(y))
}

/// `SMLATT`: `acc + hi(x) * hi(y)`, wrapping.
#[inline(always)]
pub fn smlatt(x: u32, y: u32, acc: i32) -> i32 {
    acc.wrapping_add(hi(x) * hi(y))
}

/// `cortex_m4::dot_4_rows_wide` in plain Rust: adds to `acc[k]` the sums of
/// `steps` groups of 4 bytes of the row at `w + k * stride` times the widened
/// input words at `x` (`(x0, x2)` then `(x1, x3)` per group).
///
/// # Safety
/// As for the Armv7E-M version: `x` readable for `2 * steps` words, each row
/// for `4 * steps` bytes.
pub unsafe fn dot_4_rows_wide(
    x: *const u32,
    w: *const i8,
    stride: usize,
    steps: usize,
    mut acc: [i32; 4],
) -> [i32; 4] {
    for s in 0..steps {
        // SAFETY: the caller's contract.
        let (x02, x13) = unsafe { (*x.add(2 * s), *x.add(2 * s + 1)) };
        for (k, a) in acc.iter_mut().enumerate() {
            // SAFETY: the caller's contract.
            let c = unsafe { w.add(k * stride + 4 * s).cast::<u32>().read_unaligned() };
            *a = smlad(x13, sxtb16_ror8(c), smlad(x02, sxtb16(c), *a));
        }
    }
    acc
}

/// `cortex_m4::dot_2x2_wide` in plain Rust: adds to `acc` = `[ac, ad, bc,
/// bd]` the sums over `len` weight bytes (a multiple of 4) at `wc` and `wd`
/// times two pixels' widened inputs at `x`, per 4 bytes the words `a02, b02,
/// a13, b13`.
///
/// # Safety
/// `x` readable for `len` words, `wc` and `wd` for `len` bytes.
pub unsafe fn dot_2x2_wide(
    x: *const u32,
    [wc, wd]: [*const i8; 2],
    len: usize,
    [mut ac, mut ad, mut bc, mut bd]: [i32; 4],
) -> [i32; 4] {
    for s in 0..len / 4 {
        // SAFETY: the caller's contract.
        let ([a02, b02, a13, b13], c, d) = unsafe {
            (
                [0, 1, 2, 3].map(|k| *x.add(4 * s + k)),
                wc.add(4 * s).cast::<u32>().read_unaligned(),
                wd.add(4 * s).cast::<u32>().read_unaligned(),
            )
        };
        let (c02, c13, d02, d13) = (sxtb16(c), sxtb16_ror8(c), sxtb16(d), sxtb16_ror8(d));
        ac = smlad(a13, c13, smlad(a02, c02, ac));
        bc = smlad(b13, c13, smlad(b02, c02, bc));
        ad = smlad(a13, d13, smlad(a02, d02, ad));
        bd = smlad(b13, d13, smlad(b02, d02, bd));
    }
    [ac, ad, bc, bd]
}

std::thread_local! {
    /// Calls of [`pair_pass`] on this thread: the tests' proof that a case
    /// ran it.
    pub static PAIR_PASSES: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// `cortex_m4::pair_pass` in plain Rust: every channel pair of `job`, its
/// sums started from the biases, requantized by each channel's `Folded`,
/// `job.offset` added, and clamped to -128..=127.
///
/// # Safety
/// As for the Armv7E-M version.
pub unsafe fn pair_pass(job: *const super::pair_pass::PairJob) {
    // SAFETY: the caller's contract: `job` is readable, and so are its
    // pairs' filters and inputs.
    unsafe {
        let job = &*job;
        let mut w = job.w;
        each_pair(job, |[c, d]| {
            let acc = dot_2x2_wide(job.x, w, job.len, [c, d, c, d]);
            w = w.map(|w| w.wrapping_add(job.len + job.skip));
            acc
        })
    }
}

/// `cortex_m4::pair_pass_wide` in plain Rust: [`pair_pass`] over filters
/// widened as `pair_pass::widen` lays them out.
///
/// # Safety
/// As for the Armv7E-M version.
pub unsafe fn pair_pass_wide(job: *const super::pair_pass::PairJob) {
    // SAFETY: the caller's contract, as above.
    unsafe {
        let job = &*job;
        let mut w = job.w[0].cast::<u32>();
        each_pair(job, |[c, d]| {
            let [mut ac, mut ad, mut bc, mut bd] = [c, d, c, d];
            for g in 0..job.len / 4 {
                let [a02, b02, a13, b13] = [0, 1, 2, 3].map(|k| *job.x.add(4 * g + k));
                let [c02, d02, c13, d13] = [0, 1, 2, 3].map(|k| w.add(4 * g + k).read_unaligned());
                ac = smlad(a13, c13, smlad(a02, c02, ac));
                bc = smlad(b13, c13, smlad(b02, c02, bc));
                ad = smlad(a13, d13, smlad(a02, d02, ad));
                bd = smlad(b13, d13, smlad(b02, d02, bd));
            }
            w = w.cast::<u8>().wrapping_add(4 * job.len + job.skip).cast();
            [ac, ad, bc, bd]
        })
    }
}

/// The pairs of `job`, from `quant` to `quant_end`: `sums` of the pair's
/// biases gives `[ac, ad, bc, bd]`, requantized and stored as the kernels do.
///
/// # Safety
/// The pairs must be readable and the outputs writable for two bytes each.
unsafe fn each_pair(job: &super::pair_pass::PairJob, mut sums: impl FnMut([i32; 2]) -> [i32; 4]) {
    PAIR_PASSES.with(|n| n.set(n.get() + 1));
    let out = |l: &super::requant::Folded, acc: i32| {
        l.scale(acc).wrapping_add(job.offset).clamp(-128, 127) as i8
    };
    let (mut q, mut out_a, mut out_b) = (job.quant, job.out_a, job.out_b);
    // SAFETY: the caller's contract.
    unsafe {
        while q != job.quant_end {
            let p = &*q;
            let [ac, ad, bc, bd] = sums(p.bias);
            let [lc, ld] = &p.lanes;
            *out_a = out(lc, ac);
            *out_b = out(lc, bc);
            *out_a.add(1) = out(ld, ad);
            *out_b.add(1) = out(ld, bd);
            (out_a, out_b) = (out_a.add(2), out_b.add(2));
            q = q.add(1);
        }
    }
}

/// `cortex_m4::pair_pass_offset`: [`pair_pass`], which adds `job.offset`
/// in any case.
///
/// # Safety
/// As for [`pair_pass`].
pub unsafe fn pair_pass_offset(job: *const super::pair_pass::PairJob) {
    // SAFETY: the caller's contract.
    unsafe { pair_pass(job) }
}

/// `cortex_m4::pair_pass_wide_offset`: [`pair_pass_wide`], which adds
/// `job.offset` in any case.
///
/// # Safety
/// As for [`pair_pass_wide`].
pub unsafe fn pair_pass_wide_offset(job: *const super::pair_pass::PairJob) {
    // SAFETY: the caller's contract.
    unsafe { pair_pass_wide(job) }
}

/// `cortex_m4::widen_pair` in plain Rust: `len` bytes of two pixels at `xa`
/// and `xb`, plus the offset `off` holds in both halves, as the words
/// `a02, b02, a13, b13` per 4 bytes.
///
/// # Safety
/// As for the Armv7E-M version.
pub unsafe fn widen_pair(xa: *const i8, xb: *const i8, len: usize, off: u32, to: *mut u32) {
    for s in 0..len / 4 {
        // SAFETY: the caller's contract.
        unsafe {
            let (a, b) = (
                xa.add(4 * s).cast::<u32>().read_unaligned(),
                xb.add(4 * s).cast::<u32>().read_unaligned(),
            );
            let w = [
                sxtab16(off, a),
                sxtab16(off, b),
                sxtab16_ror8(off, a),
                sxtab16_ror8(off, b),
            ];
            for (k, w) in w.into_iter().enumerate() {
                *to.add(4 * s + k) = w;
            }
        }
    }
}

std::thread_local! {
    /// Rows [`depthwise_row`] ran on this thread (for the tests).
    pub static DEPTHWISE_ROWS: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// `cortex_m4::depthwise_row` in plain Rust: `n` pixels' 3x3 taps (strip
/// rows of 56 widened pixels), each channel's sum from its bias (taps and
/// biases doubled), requantized by its lane from that doubled sum and
/// clamped to -128..=127.
///
/// # Safety
/// As for the Armv7E-M version.
pub unsafe fn depthwise_row(
    job: *const super::depthwise_groups::RowJob,
    s: *const u32,
    n: usize,
    out: *mut i8,
) {
    DEPTHWISE_ROWS.with(|r| r.set(r.get() + 1));
    // SAFETY: the caller's contract.
    unsafe {
        let job = &*job;
        for i in 0..n {
            let p = s.cast::<u8>().add(i * job.stride).cast::<u32>();
            let mut acc = job.bias;
            for t in 0..9 {
                let x = p.add(2 * ((t / 3) * 56 + t % 3));
                let (x02, x13) = (*x, *x.add(1));
                let [k02, k13] = job.taps[t];
                acc = [
                    smlabb(x02, k02, acc[0]),
                    smlabb(x13, k13, acc[1]),
                    smlatt(x02, k02, acc[2]),
                    smlatt(x13, k13, acc[3]),
                ];
            }
            for (c, (a, l)) in acc.iter().zip(&job.lanes).enumerate() {
                *out.add(i * job.depth + c) = l.scale_doubled(*a).clamp(-128, 127) as i8;
            }
        }
    }
}

/// `cortex_m4::single_pass_wide` in plain Rust: one pixel (its input words
/// `x02, x13` per 4 bytes) over every channel pair's widened filters.
///
/// # Safety
/// As for the Armv7E-M version.
pub unsafe fn single_pass_wide(job: *const super::pair_pass::PairJob) {
    // SAFETY: the caller's contract.
    unsafe {
        let job = &*job;
        let mut w = job.w[0].cast::<u32>();
        let (mut q, mut out) = (job.quant, job.out_a);
        while q != job.quant_end {
            let p = &*q;
            let [mut ac, mut ad] = p.bias;
            for g in 0..job.len / 4 {
                let (x02, x13) = (*job.x.add(2 * g), *job.x.add(2 * g + 1));
                let [c02, d02, c13, d13] = [0, 1, 2, 3].map(|k| w.add(4 * g + k).read_unaligned());
                ac = smlad(x13, c13, smlad(x02, c02, ac));
                ad = smlad(x13, d13, smlad(x02, d02, ad));
            }
            let [lc, ld] = &p.lanes;
            *out = lc.scale(ac).wrapping_add(job.offset).clamp(-128, 127) as i8;
            *out.add(1) = ld.scale(ad).wrapping_add(job.offset).clamp(-128, 127) as i8;
            out = out.add(2);
            w = w.cast::<u8>().wrapping_add(4 * job.len + job.skip).cast();
            q = q.add(1);
        }
    }
    SINGLE_PASSES.with(|n| n.set(n.get() + 1));
}

/// `cortex_m4::single_pass_wide_offset`: [`single_pass_wide`], which adds
/// `job.offset` in any case.
///
/// # Safety
/// As for [`single_pass_wide`].
pub unsafe fn single_pass_wide_offset(job: *const super::pair_pass::PairJob) {
    // SAFETY: the caller's contract.
    unsafe { single_pass_wide(job) }
}

std::thread_local! {
    /// Calls of [`single_pass_wide`] on this thread (for the tests).
    pub static SINGLE_PASSES: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}
