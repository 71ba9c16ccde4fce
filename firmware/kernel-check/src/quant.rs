//! Random requantizations: input and output offsets, activation ranges,
//! per-tensor or per-channel multipliers and shifts, and biases, either as
//! TensorFlow Lite's converter makes them (multipliers in `[2^30, 2^31)`,
//! right shifts, int8 zero points) or over the whole range the kernels
//! accept (any multiplier, `i32::MIN` and its neighbours included, shifts
//! past 31 either way and `i32::MIN`/`i32::MAX`, offsets at the edge of
//! the 16-bit sums and past it).

use mote_runtime::ops::per_channel::{OutputQuant, Requant};
use mote_runtime::quant::multiply_by_quantized_multiplier;

use crate::rng::Rng;

/// Most output channels (units) of a case.
pub const MAX_CHANNELS: usize = 128;

/// Whether `x + offset` fits 16 bits for every int8 `x`: the blocked
/// kernels' condition (`arch::conv_2d::offset_fits`).
pub fn offset_fits(offset: i32) -> bool {
    (-32_640..=32_640).contains(&offset)
}

/// One case's requantization.
pub struct Quant {
    /// Minus the input zero point.
    pub input_offset: i32,
    /// Output zero point and clamp.
    pub output: OutputQuant,
    multipliers: [i32; MAX_CHANNELS],
    shifts: [i32; MAX_CHANNELS],
    /// Scales held: 1 (per tensor) or the channel count.
    pub count: usize,
}

impl Quant {
    /// A random requantization of `channels` outputs; `wild` draws from
    /// the whole ranges, else as a converter would.
    pub fn random(rng: &mut Rng, channels: usize, wild: bool) -> Self {
        let count = if rng.one_in(4) {
            1
        } else {
            channels.clamp(1, MAX_CHANNELS)
        };
        let mut q = Quant {
            input_offset: input_offset(rng, wild),
            output: output(rng, wild),
            multipliers: [0; MAX_CHANNELS],
            shifts: [0; MAX_CHANNELS],
            count,
        };
        for c in 0..count {
            q.multipliers[c] = multiplier(rng, wild);
            q.shifts[c] = shift(rng, wild);
        }
        q
    }

    /// The kernels' view of it.
    pub fn requant(&self) -> Requant<'_> {
        Requant {
            input_offset: self.input_offset,
            output: self.output,
            multipliers: &self.multipliers[..self.count],
            shifts: &self.shifts[..self.count],
        }
    }

    /// Whether the blocked kernels' folded requantization takes every
    /// scale (`arch::requant::Scales::new`): a multiplier of 0, or one
    /// that is not negative with a right shift of 1 to 31.
    pub fn folds(&self) -> bool {
        (0..self.count).all(|c| {
            let (m, s) = (self.multipliers[c], self.shifts[c]);
            m == 0 || (m >= 0 && (-31..=-1).contains(&s))
        })
    }

    /// Whether `arch::pair_pass` takes the scales of the outputs
    /// `channels` (one pass's; `requant::Folded`'s case, for `folds`
    /// scales) over sums of `taps` products: `None` if not (a narrower
    /// range than int8's, or for a channel of a pair, an odd last one
    /// running apart, a bias (`bias[c]`, 0 if empty) whose sums may reach
    /// 2^29 with a multiplier other than 0: `Channel::folded`), else
    /// whether the lanes hold the output
    /// offset (every such right shift, clamped to 1 to 31 as
    /// `Scales::channel` does, at most 23 and the offset -128 to 128).
    pub fn packs(
        &self,
        channels: core::ops::Range<usize>,
        taps: usize,
        bias: &[i32],
    ) -> Option<bool> {
        let o = self.output;
        let paired = channels.start..channels.end - channels.len() % 2;
        let shift = |c: usize| self.scale(c).1.wrapping_neg().clamp(1, 31);
        let product = 128 * (128 + u64::from(self.input_offset.unsigned_abs()));
        let sums = (taps as u64 * product).min(u64::from(u32::MAX));
        // `Channel::folded`: sums below 2^29, a multiplier of 0, or one
        // output value for every sum (the clamped output is monotonic).
        let small = |c: usize| {
            let b = bias.get(c).copied().unwrap_or(0);
            let (m, s) = self.scale(c);
            if u64::from(b.unsigned_abs()) + sums < 1 << 29 || m == 0 {
                return true;
            }
            let end = |sign: i64| i32::try_from(i64::from(b) + sign * sums as i64).ok();
            let out = |acc: i32| {
                let v = multiply_by_quantized_multiplier(acc, m, s).wrapping_add(o.offset);
                v.clamp(-128, 127)
            };
            matches!((end(-1), end(1)), (Some(lo), Some(hi)) if out(lo) == out(hi))
        };
        let takes = (o.min, o.max) == (-128, 127) && paired.clone().all(small);
        let folds = (-128..=128).contains(&o.offset) && paired.into_iter().all(|c| shift(c) <= 23);
        takes.then_some(folds)
    }

    /// Multiplier and shift of output channel `c`.
    pub fn scale(&self, c: usize) -> (i32, i32) {
        let i = if self.count == 1 { 0 } else { c };
        (self.multipliers[i], self.shifts[i])
    }
}

fn input_offset(rng: &mut Rng, wild: bool) -> i32 {
    if !wild {
        return rng.range(-127, 128) as i32;
    }
    match rng.next() % 8 {
        0 => rng.pick(&[-32_640, 32_640, -32_639, 32_639, -127, 128, 0]),
        // Past the 16-bit sums: the kernels decline.
        1 if rng.one_in(2) => rng.pick(&[-32_641, 32_641, i32::MIN, i32::MAX, 40_000]),
        2 | 3 => rng.range(-32_640, 32_640) as i32,
        _ => rng.range(-128, 128) as i32,
    }
}

fn output(rng: &mut Rng, wild: bool) -> OutputQuant {
    let offset = if wild && rng.one_in(6) {
        rng.range(-1000, 1000) as i32
    } else {
        rng.range(-128, 127) as i32
    };
    let (min, max) = match rng.next() % 8 {
        0..=2 => (-128, 127),
        // ReLU and ReLU6-like ranges.
        3 => (offset.clamp(-128, 127), 127),
        4 if wild => {
            // An empty range (min above max): the clamp's order decides.
            let min = rng.range(-100, 127) as i32;
            (min, rng.range(-128, i64::from(min)) as i32)
        }
        _ => {
            let min = rng.range(-128, 127) as i32;
            (min, rng.range(i64::from(min), 127) as i32)
        }
    };
    OutputQuant { offset, min, max }
}

fn multiplier(rng: &mut Rng, wild: bool) -> i32 {
    if wild {
        match rng.next() % 8 {
            0 | 1 => {
                return rng.pick(&[
                    i32::MIN,
                    i32::MIN + 1,
                    i32::MIN + 2,
                    i32::MAX,
                    i32::MAX - 1,
                    1 << 30,
                    (1 << 30) + 1,
                    (1 << 30) - 1,
                    -(1 << 30),
                    0,
                    1,
                    -1,
                ])
            }
            2 | 3 => return rng.next() as i32,
            _ => {}
        }
    }
    rng.range(1 << 30, i64::from(i32::MAX)) as i32
}

fn shift(rng: &mut Rng, wild: bool) -> i32 {
    if wild {
        match rng.next() % 8 {
            0 => return rng.pick(&[i32::MIN, i32::MAX, -31, 31, -32, 32, -21, -20, 0, 1, -1]),
            1 | 2 => return rng.range(-40, 40) as i32,
            3 => return rng.range(-31, 0) as i32,
            _ => {}
        }
    }
    rng.range(-14, -1) as i32
}

/// Fills `bias[..channels]` and returns how many bias values the case has:
/// none, a converter's (within 2^16), any `i32`, or within a few of
/// `±2^30` (what the converter gives channels whose weights are all but
/// zero: visual wake words has dozens).
pub fn bias(rng: &mut Rng, bias: &mut [i32], channels: usize) -> usize {
    let mode = rng.next() % 8;
    if mode == 0 {
        return 0;
    }
    for b in bias.iter_mut().take(channels) {
        *b = match mode {
            1 => rng.next() as i32,
            2 => {
                let v = (1i64 << 30) + rng.range(-200, 200);
                (if rng.one_in(2) { -v } else { v }) as i32
            }
            3 => rng.pick(&[i32::MIN, i32::MAX, 0, -1]),
            _ => rng.range(-65_536, 65_536) as i32,
        };
    }
    channels
}
