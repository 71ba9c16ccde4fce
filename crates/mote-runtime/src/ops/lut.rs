//! LUT-compressed int8 filters (TensorFlow Lite Micro's `COMPRESSION_METADATA`,
//! see [`crate::model::Lut`]): each element is a `bits`-bit index into its
//! channel's value table.
//!
//! TensorFlow Lite Micro decompresses the whole filter into a scratch buffer
//! before each run; here the kernel decodes [`BLOCK`] values at a time into a
//! stack buffer (as [`super::int4`] unpacks), so the RAM cost is the value
//! tables (`channels * stride` bytes, copied to the persistent region at
//! prepare) and does not grow with the filter.

/// Whether this build runs LUT-compressed filters (feature `lut`, on by
/// default; a firmware for other models leaves it out and links none of its code).
pub const LUT: bool = cfg!(feature = "lut");

use super::per_channel::{ChannelParams, OutputQuant, Requant};
use super::{EvalContext, Persistent, PrepareContext};
use crate::error::Error;
use crate::model::{BuiltinOperator, Lut, Tensor, TensorType};

/// Values decoded at a time (bytes of stack).
pub const BLOCK: usize = 64;

/// How a LUT filter decodes: what `eval` reads back from the persistent
/// block [`store`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LutLayout {
    /// Bits per index (1..=7).
    pub bits: u8,
    /// Length of each channel's table.
    pub stride: usize,
    /// Number of tables.
    pub channels: usize,
    /// Elements per channel along axis 0, or 0 when the channels are the last axis.
    pub inner: usize,
}

/// Bytes of the block's header: the op's input offset, then bits, stride,
/// channels and inner as little-endian 32-bit values.
const HEADER: usize = 20;

/// Writes a persistent block: a header (`extra`, an `i32` of the op's, and
/// `lut`'s layout), then `lut`'s value tables. The op's params hold only the
/// block's handle, so a FULLY_CONNECTED's params stay the size of the int8
/// kind's (every FULLY_CONNECTED's params live in RAM).
pub fn store(
    ctx: &mut PrepareContext<'_, '_>,
    lut: &Lut<'_>,
    extra: i32,
) -> Result<Persistent, Error> {
    let fields = [lut.stride(), lut.channels(), lut.inner()];
    let mut header = [0u8; HEADER];
    header[..4].copy_from_slice(&extra.to_le_bytes());
    header[4..8].copy_from_slice(&u32::from(lut.bits()).to_le_bytes());
    for (slot, &v) in header[8..].chunks_exact_mut(4).zip(&fields) {
        let v = u32::try_from(v).map_err(|_| ctx.invalid("LUT filter too large"))?;
        slot.copy_from_slice(&v.to_le_bytes());
    }
    let len = HEADER.saturating_add(lut.values().len());
    let (handle, block) = ctx.persistent::<u8>(len)?;
    let (head, values) = block.split_at_mut(HEADER.min(len));
    head.copy_from_slice(header.get(..head.len()).unwrap_or(&[]));
    values.copy_from_slice(lut.values().get(..values.len()).unwrap_or(&[]));
    Ok(handle)
}

/// Reads back a block [`store`] wrote: `(extra, layout, value tables)`.
pub fn load(block: &[i8]) -> (i32, LutLayout, &[i8]) {
    let word = |i: usize| {
        let mut b = [0u8; 4];
        for (d, s) in b.iter_mut().zip(block.get(i * 4..i * 4 + 4).unwrap_or(&[])) {
            *d = *s as u8;
        }
        u32::from_le_bytes(b)
    };
    let layout = LutLayout {
        bits: word(1) as u8,
        stride: word(2) as usize,
        channels: word(3) as usize,
        inner: word(4) as usize,
    };
    (word(0) as i32, layout, block.get(HEADER..).unwrap_or(&[]))
}

impl LutLayout {
    /// The channel of element `i`.
    #[inline]
    fn channel(&self, i: usize) -> usize {
        if self.channels <= 1 {
            0
        } else {
            // `inner` 0: the channels are the last axis.
            i.checked_div(self.inner).unwrap_or(i % self.channels)
        }
    }

    /// Elements `start..start + out.len()` of the filter whose indices are
    /// `packed` and tables `values`: `values[channel(i) * stride + index(i)]`
    /// (0 for anything out of range, which the verifier rules out).
    #[inline]
    pub fn decode(&self, values: &[i8], packed: &[u8], start: usize, out: &mut [i8]) {
        // One channel over the whole run (a FULLY_CONNECTED unit along axis
        // 0, or one table): its table once, the bit position stepped.
        let first = self.channel(start);
        let last = self.channel((start + out.len()).saturating_sub(1));
        if first == last && (self.channels <= 1 || self.inner != 0) {
            let table = values.get(first * self.stride..).unwrap_or(&[]);
            if self.bits == 4 {
                decode_nibbles(table, packed, start, out);
                return;
            }
            // At most 8 bits keeps every shift in range (the verifier allows 7).
            let bits = usize::from(self.bits.clamp(1, 8));
            let mask = (1u16 << bits) - 1;
            let mut at = start.saturating_mul(bits);
            for slot in out.iter_mut() {
                let hi = packed.get(at / 8).copied().unwrap_or(0);
                let lo = packed.get(at / 8 + 1).copied().unwrap_or(0);
                let window = (u16::from(hi) << 8) | u16::from(lo);
                let index = (window >> (16 - at % 8 - bits)) & mask;
                *slot = table.get(usize::from(index)).copied().unwrap_or(0);
                at += bits;
            }
            return;
        }
        for (k, slot) in out.iter_mut().enumerate() {
            let i = start + k;
            let at = self.channel(i) * self.stride + crate::model::lut_index(packed, self.bits, i);
            *slot = values.get(at).copied().unwrap_or(0);
        }
    }

    /// `(sum w*x, sum w)` in wrapping 32-bit arithmetic, where `w` is the
    /// `x.len()` values from element `start`, decoded [`BLOCK`] at a time.
    #[inline]
    pub fn dot(&self, values: &[i8], packed: &[u8], start: usize, x: &[i8]) -> (i32, i32) {
        let first = self.channel(start);
        let one_table = self.channels <= 1
            || (self.inner != 0 && first == self.channel((start + x.len()).saturating_sub(1)));
        if self.bits == 4 && one_table {
            let table = values.get(first * self.stride..).unwrap_or(&[]);
            return dot_nibbles(table, packed, start, x);
        }
        let mut block = [0i8; BLOCK];
        let (mut dot, mut sum) = (0i32, 0i32);
        for (k, xs) in x.chunks(BLOCK).enumerate() {
            let w = block.get_mut(..xs.len()).unwrap_or(&mut []);
            self.decode(values, packed, start + k * BLOCK, w);
            for (&w, &x) in w.iter().zip(xs) {
                dot = dot.wrapping_add(i32::from(w) * i32::from(x));
                sum = sum.wrapping_add(i32::from(w));
            }
        }
        (dot, sum)
    }
}

/// [`LutLayout::dot`] of 4-bit indices from one table, without a decode
/// buffer: the table is copied to 16 stack bytes, so a nibble indexes it
/// without a bounds check.
#[inline]
fn dot_nibbles(table: &[i8], packed: &[u8], start: usize, x: &[i8]) -> (i32, i32) {
    let mut t = [0i8; 16];
    for (d, s) in t.iter_mut().zip(table) {
        *d = *s;
    }
    let w = |index: u8| t.get(usize::from(index)).copied().unwrap_or(0);
    let (mut dot, mut sum) = (0i32, 0i32);
    let mut add = |w: i8, x: i8| {
        dot = dot.wrapping_add(i32::from(w) * i32::from(x));
        sum = sum.wrapping_add(i32::from(w));
    };
    let lead = (start % 2).min(x.len());
    let (head, rest) = x.split_at(lead);
    if let Some(&x0) = head.first() {
        add(w(packed.get(start / 2).copied().unwrap_or(0) & 0x0f), x0);
    }
    let bytes = packed.get((start + lead) / 2..).unwrap_or(&[]);
    let pairs = rest.chunks_exact(2);
    let tail = pairs.remainder();
    let mut used = 0;
    for (pair, &byte) in pairs.zip(bytes) {
        if let [x0, x1] = *pair {
            add(w(byte >> 4), x0);
            add(w(byte & 0x0f), x1);
        }
        used += 1;
    }
    if let Some(&x0) = tail.first() {
        add(w(bytes.get(used).copied().unwrap_or(0) >> 4), x0);
    }
    (dot, sum)
}

/// [`LutLayout::decode`] of 4-bit indices from one table: two indices a
/// byte, high nibble first (what `mote cluster` writes for 9 to 16 values).
#[inline]
fn decode_nibbles(table: &[i8], packed: &[u8], start: usize, out: &mut [i8]) {
    let value = |index: u8| table.get(usize::from(index)).copied().unwrap_or(0);
    let lead = (start % 2).min(out.len());
    let (head, rest) = out.split_at_mut(lead);
    if let Some(first) = head.first_mut() {
        *first = value(packed.get(start / 2).copied().unwrap_or(0) & 0x0f);
    }
    let bytes = packed.get((start + lead) / 2..).unwrap_or(&[]);
    let mut pairs = rest.chunks_exact_mut(2);
    let mut used = 0;
    for (pair, &byte) in (&mut pairs).zip(bytes) {
        if let [high, low] = pair {
            *high = value(byte >> 4);
            *low = value(byte & 0x0f);
        }
        used += 1;
    }
    if let Some(last) = pairs.into_remainder().first_mut() {
        *last = value(bytes.get(used).copied().unwrap_or(0) >> 4);
    }
}

/// Refuses a LUT-compressed tensor as input `i` of an op that cannot read
/// one: every op but the filter (input 1) of FULLY_CONNECTED, CONV_2D and
/// DEPTHWISE_CONV_2D. (Without the `lut` feature the model does not parse.)
pub fn refuse_elsewhere(
    ctx: &PrepareContext<'_, '_>,
    i: usize,
    tensor: &Tensor<'_>,
) -> Result<(), Error> {
    if !LUT || tensor.lut().is_none() {
        return Ok(());
    }
    let filter_op = matches!(
        ctx.op,
        BuiltinOperator::FULLY_CONNECTED
            | BuiltinOperator::CONV_2D
            | BuiltinOperator::DEPTHWISE_CONV_2D
    );
    if filter_op && i == 1 {
        return Ok(());
    }
    Err(ctx.invalid(
        "a LUT-compressed input (mote reads one only as the filter of FULLY_CONNECTED, CONV_2D or DEPTHWISE_CONV_2D)",
    ))
}

/// Checks the tensors of an op whose filter is LUT-compressed: the filter's
/// type is int8 (the verifier checked its indices and tables against its
/// shape) and the bias, if any, is readable int32.
pub fn expect_filter(
    ctx: &PrepareContext<'_, '_>,
    filter: &Tensor<'_>,
    bias: Option<&Tensor<'_>>,
) -> Result<(), Error> {
    ctx.expect_type(filter, TensorType::Int8)?;
    if let Some(bias) = bias {
        ctx.expect_type(bias, TensorType::Int32)?;
        ctx.expect_readable::<i32>(bias)?;
    }
    Ok(())
}

/// A LUT-compressed filter as a kernel reads it.
#[derive(Clone, Copy, Debug)]
pub struct LutFilter<'f> {
    /// How the indices decode.
    pub layout: LutLayout,
    /// The value tables.
    pub values: &'f [i8],
    /// The packed indices (the filter tensor's data).
    pub packed: &'f [u8],
}

impl LutFilter<'_> {
    /// Elements `start..start + out.len()` of the filter ([`LutLayout::decode`]).
    #[inline]
    pub fn decode(&self, start: usize, out: &mut [i8]) {
        self.layout.decode(self.values, self.packed, start, out);
    }

    /// `(sum w*x, sum w)` of the `x.len()` elements from `start` ([`LutLayout::dot`]).
    #[inline]
    pub fn dot(&self, start: usize, x: &[i8]) -> (i32, i32) {
        self.layout.dot(self.values, self.packed, start, x)
    }
}

/// What a LUT-filter kernel reads and writes.
#[derive(Debug)]
pub struct LutOperands<'c> {
    /// Input 0.
    pub input: &'c [i8],
    /// The filter (input 1).
    pub filter: LutFilter<'c>,
    /// The bias (input 2), empty without one.
    pub bias: &'c [i32],
    /// Output 0.
    pub out: &'c mut [i8],
    /// The requantization of the accumulators into `out` (its input offset
    /// read back from the block).
    pub quant: Requant<'c>,
}

/// The operands of an int8 op with a LUT filter: input 0, the packed filter
/// 1, bias 2 (if `has_bias`), output 0 with its requantization, and the
/// layout and tables of the block [`store`] wrote at `lut`.
pub fn operands<'c, 'x: 'c>(
    ctx: &'c mut EvalContext<'x>,
    channels: &ChannelParams,
    has_bias: bool,
    output: OutputQuant,
    lut: Persistent,
) -> LutOperands<'c> {
    let input = ctx.input_as::<i8>(0);
    let packed = ctx.input(1);
    let bias = if has_bias {
        ctx.input_as::<i32>(2)
    } else {
        &[]
    };
    let (out, multipliers, shifts, block) = channels.with_output_and::<i8, i8>(ctx, 0, lut);
    let (input_offset, layout, values) = load(block);
    LutOperands {
        input,
        filter: LutFilter {
            layout,
            values,
            packed,
        },
        bias,
        out,
        quant: Requant {
            input_offset,
            output,
            multipliers,
            shifts,
        },
    }
}

/// `indices` packed `bits` bits each, high bits first (the LUT layout; for
/// kernel tests).
#[cfg(test)]
pub(crate) fn pack(indices: &[usize], bits: u8) -> Vec<u8> {
    let bits = usize::from(bits);
    let mut packed = vec![0u8; (indices.len() * bits).div_ceil(8)];
    for (i, &v) in indices.iter().enumerate() {
        for b in 0..bits {
            if (v >> (bits - 1 - b)) & 1 == 1 {
                let at = i * bits + b;
                packed[at / 8] |= 1 << (7 - at % 8);
            }
        }
    }
    packed
}

/// A random LUT filter of `elements` values in `channels` tables along axis
/// 0 (`inner` elements each) or the last axis (`inner` 0), with its decoded
/// values: `(layout, values, packed, decoded)` (for kernel tests).
#[cfg(test)]
pub(crate) fn random_filter(
    next: &mut impl FnMut(u64) -> usize,
    elements: usize,
    channels: usize,
    inner: usize,
) -> (LutLayout, Vec<i8>, Vec<u8>, Vec<i8>) {
    let bits = 1 + next(7) as u8;
    let stride = 1 + next((1u64 << bits) - 1);
    let values: Vec<i8> = (0..channels * stride)
        .map(|_| next(256) as u8 as i8)
        .collect();
    let indices: Vec<usize> = (0..elements).map(|_| next(stride as u64)).collect();
    let layout = LutLayout {
        bits,
        stride,
        channels,
        inner,
    };
    let decoded = (0..elements)
        .map(|i| values[layout.channel(i) * stride + indices[i]])
        .collect();
    (layout, values, pack(&indices, bits), decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_of_any_run_equals_element_by_element() {
        // 3 channels x 7, 3-, 4- (the nibble path) and 5-bit indices: every
        // start and length, along axis 0 (the one-table path within a
        // channel) and the last axis (the general path).
        for bits in [3u8, 4, 5] {
            let stride = 1usize << bits;
            let indices: Vec<usize> = (0..21).map(|i| i * 5 % stride).collect();
            let packed = pack(&indices, bits);
            let values: Vec<i8> = (0..3 * stride).map(|v| (v as i32 * 7 - 80) as i8).collect();
            for inner in [7, 0] {
                let layout = LutLayout {
                    bits,
                    stride,
                    channels: 3,
                    inner,
                };
                let channel = |i: usize| if inner == 0 { i % 3 } else { i / 7 };
                for start in 0..21 {
                    for len in 0..=21 - start {
                        let mut out = vec![0i8; len];
                        layout.decode(&values, &packed, start, &mut out);
                        let want: Vec<i8> = (start..start + len)
                            .map(|i| values[channel(i) * stride + indices[i]])
                            .collect();
                        assert_eq!(
                            out, want,
                            "bits {bits} inner {inner} start {start} len {len}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn dot_of_any_run_equals_the_decoded_values() {
        // 3 units x 7 (odd, so runs start mid-byte): the nibble path (4 bits)
        // and the block path (3 bits) against decode, every start and length
        // within a unit, and runs across units (the block path).
        for bits in [3u8, 4] {
            let stride = 1usize << bits;
            let indices: Vec<usize> = (0..21).map(|i| i * 5 % stride).collect();
            let packed = pack(&indices, bits);
            let values: Vec<i8> = (0..3 * stride)
                .map(|v| (v as i32 * 11 - 90) as i8)
                .collect();
            let x: Vec<i8> = (0..21).map(|i| (i * 53 % 256) as u8 as i8).collect();
            let layout = LutLayout {
                bits,
                stride,
                channels: 3,
                inner: 7,
            };
            for start in 0..21 {
                for len in 0..=21 - start {
                    let mut w = vec![0i8; len];
                    layout.decode(&values, &packed, start, &mut w);
                    let xs = &x[..len];
                    let want = w.iter().zip(xs).fold((0i32, 0i32), |(d, s), (&w, &x)| {
                        (d + i32::from(w) * i32::from(x), s + i32::from(w))
                    });
                    let got = layout.dot(&values, &packed, start, xs);
                    assert_eq!(got, want, "bits {bits} start {start} len {len}");
                }
            }
        }
    }

    #[test]
    fn dot_spans_blocks_with_per_unit_tables() {
        // 2 units x 150 (three blocks a unit), stride 16, tables differ per unit.
        let depth = 150;
        let indices: Vec<usize> = (0..2 * depth).map(|i| i * 7 % 16).collect();
        let values: Vec<i8> = (0..32).map(|v| (v * 9 - 100) as i8).collect();
        let x: Vec<i8> = (0..depth).map(|i| (i * 37 % 256) as u8 as i8).collect();
        let layout = LutLayout {
            bits: 4,
            stride: 16,
            channels: 2,
            inner: depth,
        };
        let packed = pack(&indices, 4);
        for unit in 0..2 {
            let w: Vec<i8> = (0..depth)
                .map(|d| values[unit * 16 + indices[unit * depth + d]])
                .collect();
            let want_dot: i32 = w
                .iter()
                .zip(&x)
                .map(|(&w, &x)| i32::from(w) * i32::from(x))
                .sum();
            let want_sum: i32 = w.iter().map(|&w| i32::from(w)).sum();
            assert_eq!(
                layout.dot(&values, &packed, unit * depth, &x),
                (want_dot, want_sum),
                "unit {unit}"
            );
        }
    }
}
