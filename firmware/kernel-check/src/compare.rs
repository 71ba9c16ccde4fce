//! One case through the reference and the DSP kernel: the reference writes
//! `want`; `got` is first filled with the complement of every wanted byte
//! (so a byte the kernel leaves unwritten differs), has guard bytes on
//! both sides (so a write outside the output shows) and starts 0 to 3
//! bytes past a word; the kernel's answer (ran or declined) must be the
//! expected one.

use crate::rng::Rng;
use crate::tensors::Aligned;

/// Output bytes of the largest case.
pub const MAX_OUTPUT: usize = 24 * 1024;
/// Guard bytes on either side of the output (plus 0 to 3 before it).
const GUARD: usize = 16;
/// What the guard bytes hold.
const GUARD_BYTE: i8 = 0x5a;

/// The two output buffers.
pub struct Outputs {
    want: [i8; MAX_OUTPUT],
    got: Aligned<{ GUARD + 3 + MAX_OUTPUT + GUARD }>,
    /// Where the kernel's output starts in its buffer (0 to 3 bytes past a
    /// word).
    pub at: usize,
}

/// How a case went.
pub enum Verdict {
    /// The kernel ran and wrote the reference's bytes.
    Equal,
    /// The kernel declined, as expected.
    Declined,
    /// The kernel declined (`false`) or ran (`true`) against the expectation.
    Ran(bool),
    /// Output byte `at` differs.
    Byte { at: usize, got: i8, want: i8 },
    /// The kernel wrote the guard byte `at` bytes from the output's start
    /// (negative: before it; else at or past its end).
    Guard { at: isize },
}

impl Outputs {
    /// Empty buffers.
    pub const fn new() -> Self {
        Outputs {
            want: [0; MAX_OUTPUT],
            got: Aligned([0; GUARD + 3 + MAX_OUTPUT + GUARD]),
            at: 0,
        }
    }

    /// Runs one case of `n` output bytes (at most [`MAX_OUTPUT`]), the
    /// kernel's output at a random offset.
    pub fn compare(
        &mut self,
        rng: &mut Rng,
        n: usize,
        expect: bool,
        reference: impl FnOnce(&mut [i8]),
        kernel: impl FnOnce(&mut [i8]) -> bool,
    ) -> Verdict {
        self.at = rng.usize(0, 3);
        let start = GUARD + self.at;
        let (want, all) = (&mut self.want[..n], &mut self.got.0[..start + n + GUARD]);
        if expect {
            reference(want);
        }
        all.fill(GUARD_BYTE);
        let (before, got) = all.split_at_mut(start);
        for (g, w) in got.iter_mut().zip(want.iter()) {
            *g = !*w;
        }
        let ran = kernel(&mut got[..n]);
        if ran != expect {
            return Verdict::Ran(ran);
        }
        if !ran {
            return Verdict::Declined;
        }
        if let Some(at) = (0..n).find(|&i| got[i] != want[i]) {
            return Verdict::Byte {
                at,
                got: got[at],
                want: want[at],
            };
        }
        if let Some(i) = (0..start).find(|&i| before[i] != GUARD_BYTE) {
            return Verdict::Guard {
                at: i as isize - start as isize,
            };
        }
        if let Some(i) = (n..n + GUARD).find(|&i| got[i] != GUARD_BYTE) {
            return Verdict::Guard { at: i as isize };
        }
        Verdict::Equal
    }
}
