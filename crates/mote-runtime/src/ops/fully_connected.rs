//! FULLY_CONNECTED: `output[b, o] = act(sum_d input[b, d] * weights[o, d] + bias[o])`.
//!
//! Inputs: 0 input `[..., depth]` (all leading dimensions are batches),
//! 1 weights `[units, depth]`, 2 optional bias `[units]`. Output `[batches, units]`
//! (or the input's leading dimensions with `keep_num_dims`).

use super::activation::clamp;
use super::int4::{self, INT4};
use super::lut::{self, LutFilter, LUT};
use super::per_channel::{ChannelParams, OutputQuant, Requant};
use super::Persistent;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// Field ids of `FullyConnectedOptions`.
mod field {
    pub const FUSED_ACTIVATION_FUNCTION: u16 = 0;
    pub const WEIGHTS_FORMAT: u16 = 1;
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct FullyConnectedParams {
    /// Rows of the input (product of its leading dimensions).
    pub batches: usize,
    /// Elements summed per output (the input's last dimension).
    pub depth: usize,
    /// Outputs per row.
    pub units: usize,
    /// Whether input 2 holds a bias.
    pub has_bias: bool,
    /// The arithmetic.
    pub kind: FullyConnectedKind,
}

/// The arithmetic of a FULLY_CONNECTED.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum FullyConnectedKind {
    /// float32, clamped to the fused activation's range.
    Float32 {
        /// The fused activation's clamp range.
        range: (f32, f32),
    },
    /// int8 activations and weights, int32 bias (TensorFlow Lite Micro's
    /// `FullyConnected` / `FullyConnectedPerChannel` reference kernels).
    Int8 {
        /// Minus the input zero point.
        input_offset: i32,
        /// Output zero point and clamp range.
        output: OutputQuant,
        /// The multiplier and shift of each unit (all equal when per-tensor).
        channels: ChannelParams,
    },
    /// int8 activations, int4 weights packed two a byte ([`super::int4`]),
    /// int32 bias, one weight scale (TensorFlow Lite Micro refuses per-channel
    /// int4 here); the arithmetic of [`FullyConnectedKind::Int8`].
    Int4Filter {
        /// Minus the input zero point.
        input_offset: i32,
        /// Output zero point and clamp range.
        output: OutputQuant,
        /// The one multiplier and shift.
        channels: ChannelParams,
    },
    /// int8 activations, a LUT-compressed int8 filter ([`super::lut`]),
    /// int32 bias; the arithmetic of [`FullyConnectedKind::Int8`] on the
    /// decoded values.
    LutFilter {
        /// Output zero point and clamp range.
        output: OutputQuant,
        /// The multiplier and shift of each unit (all equal when per-tensor).
        channels: ChannelParams,
        /// Minus the input zero point, the filter's layout and its value
        /// tables ([`lut::store`]; kept there so these params are no larger
        /// than [`FullyConnectedKind::Int8`]'s).
        lut: Persistent,
    },
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<FullyConnectedParams, Error> {
    let input = ctx.input(0)?;
    let weights = ctx.input(1)?;
    let bias = ctx.optional_input(2);
    let output = ctx.output(0)?;
    let options = ctx.options();
    if options.u8(field::WEIGHTS_FORMAT, 0) != 0 {
        return Err(ctx.invalid("only the default weights format is supported"));
    }
    let activation = options.u8(field::FUSED_ACTIVATION_FUNCTION, 0);
    let w = weights.shape();
    if w.rank() != 2 {
        return Err(ctx.invalid("weights must have rank 2"));
    }
    let (units, depth) = (w.dim(0), w.dim(1));
    let elements = input.shape().elements();
    if depth == 0 || elements % depth != 0 {
        return Err(ctx.invalid("input size is not a multiple of the weights' depth"));
    }
    let batches = elements / depth;
    if output.shape().elements() != batches.saturating_mul(units) {
        return Err(ctx.invalid("output size is not batches x units"));
    }
    if let Some(bias) = &bias {
        if bias.shape().elements() != units {
            return Err(ctx.invalid("bias size is not the number of units"));
        }
    }
    ctx.expect_type(&output, input.dtype())?;
    let kind = match input.dtype() {
        TensorType::Float32 => {
            ctx.expect_weights::<f32, f32>(&weights, bias.as_ref())?;
            let range = ctx.float_activation(activation)?;
            FullyConnectedKind::Float32 { range }
        }
        TensorType::Int8 => {
            // int4 weights: the int8 arithmetic on unpacked values (one
            // preparation for both, so the firmware links it once).
            // (Without the `int4` feature the int8 check refuses an int4 filter.)
            let int4 = INT4 && weights.dtype() == TensorType::Int4;
            let lut = if LUT { weights.lut() } else { None };
            if lut.is_some() {
                lut::expect_filter(ctx, &weights, bias.as_ref())?;
            } else if int4 {
                int4::expect_filter(ctx, &weights)?;
                if let Some(bias) = &bias {
                    ctx.expect_type(bias, TensorType::Int32)?;
                    ctx.expect_readable::<i32>(bias)?;
                }
                if weights.quantization().map(|q| q.scale_count()) != Some(1) {
                    return Err(ctx.invalid("an int4 filter takes one scale (as in TFLite Micro)"));
                }
            } else {
                ctx.expect_weights::<i8, i32>(&weights, bias.as_ref())?;
            }
            let (_, input_zero_point) = ctx.quantization(&input)?;
            let output_quant = OutputQuant::prepare(ctx, &output, activation, -128, 127)?;
            let channels = ChannelParams::prepare(ctx, &input, &weights, &output, units, 0)?;
            let input_offset = input_zero_point.wrapping_neg();
            if let Some(lut) = &lut {
                FullyConnectedKind::LutFilter {
                    output: output_quant,
                    channels,
                    lut: lut::store(ctx, lut, input_offset)?,
                }
            } else if int4 {
                FullyConnectedKind::Int4Filter {
                    input_offset,
                    output: output_quant,
                    channels,
                }
            } else {
                FullyConnectedKind::Int8 {
                    input_offset,
                    output: output_quant,
                    channels,
                }
            }
        }
        other => return Err(ctx.unsupported_type(other)),
    };
    Ok(FullyConnectedParams {
        batches,
        depth,
        units,
        has_bias: bias.is_some(),
        kind,
    })
}

/// Runs the operator.
pub fn eval(params: &FullyConnectedParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    match params.kind {
        FullyConnectedKind::Float32 { range } => {
            let weights = ctx.input(1);
            let bias = if params.has_bias { ctx.input(2) } else { &[] };
            let (input, output) = ctx.io(0, 0);
            fully_connected_f32(params, range, input, weights, bias, output);
        }
        FullyConnectedKind::Int8 {
            input_offset,
            output,
            channels,
        }
        | FullyConnectedKind::Int4Filter {
            input_offset,
            output,
            channels,
        } => {
            let int4 = matches!(params.kind, FullyConnectedKind::Int4Filter { .. });
            if int4 && !INT4 {
                return Err(ctx.invalid_data("an int4 filter needs mote-runtime's `int4` feature"));
            }
            let o = channels.int8_operands(ctx, params.has_bias, input_offset, output);
            if int4 {
                fully_connected_i8_int4(params, &o.quant, o.input, o.weights, o.bias, o.out);
            } else {
                crate::arch::fully_connected_i8(
                    params, &o.quant, o.input, o.weights, o.bias, o.out,
                );
            }
        }
        FullyConnectedKind::LutFilter {
            output,
            channels,
            lut,
        } => {
            if !LUT {
                return Err(ctx.invalid_data("a LUT filter needs mote-runtime's `lut` feature"));
            }
            let o = lut::operands(ctx, &channels, params.has_bias, output, lut);
            fully_connected_i8_lut(params, &o.quant, o.input, &o.filter, o.bias, o.out);
        }
    }
    Ok(())
}

/// The int8 reference kernel: per unit, the sum over the depth of
/// `w[u, d] * (x[b, d] + input_offset)` plus `bias[u]`, requantized. The sum is
/// regrouped as `sum(w * x) + input_offset * sum(w)`, which in wrapping 32-bit
/// arithmetic is the same number.
pub fn fully_connected_i8(
    params: &FullyConnectedParams,
    quant: &Requant<'_>,
    input: &[i8],
    weights: &[i8],
    bias: &[i32],
    output: &mut [i8],
) {
    // Small rows take a small buffer: zeroing it is part of every call.
    if params.depth <= 64 {
        with_storage::<64>(params, quant, input, weights, bias, output);
    } else {
        with_storage::<WIDE_ROW>(params, quant, input, weights, bias, output);
    }
}

/// [`fully_connected_i8_rows`] with an `N`-value stack buffer, in a frame of
/// its own, off the stack of calls that do not use it (one copy of the loop
/// serves both sizes).
#[inline(never)]
fn with_storage<const N: usize>(
    params: &FullyConnectedParams,
    quant: &Requant<'_>,
    input: &[i8],
    weights: &[i8],
    bias: &[i32],
    output: &mut [i8],
) {
    let mut storage = [0i16; N];
    fully_connected_i8_rows(params, quant, input, weights, bias, output, &mut storage);
}

/// Rows of up to `storage.len()` values are widened once to 16 bits with the
/// offset folded in; each unit is then one 16x8 dot product. Longer rows take
/// the 8-bit path with the filter sum.
#[inline(never)]
fn fully_connected_i8_rows(
    params: &FullyConnectedParams,
    quant: &Requant<'_>,
    input: &[i8],
    weights: &[i8],
    bias: &[i32],
    output: &mut [i8],
    storage: &mut [i16],
) {
    let depth = params.depth;
    let narrow = (-32_000..=32_000).contains(&quant.input_offset);
    for (row, out_row) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(params.units))
    {
        if let Some(wide) = storage.get_mut(..depth).filter(|_| narrow) {
            for (v, &x) in wide.iter_mut().zip(row) {
                *v = (i32::from(x) + quant.input_offset) as i16;
            }
            let wide = &*wide;
            let units = weights.chunks_exact(depth).zip(out_row.iter_mut());
            for (unit, (filter, out)) in units.enumerate() {
                let dot = wide.iter().zip(filter).fold(0i32, |a, (&x, &w)| {
                    a.wrapping_add(i32::from(x) * i32::from(w))
                });
                let acc = dot.wrapping_add(bias.get(unit).copied().unwrap_or(0));
                *out = quant.apply(acc, unit);
            }
            continue;
        }
        let units = weights.chunks_exact(depth).zip(out_row.iter_mut());
        for (unit, (filter, out)) in units.enumerate() {
            let (dot, filter_sum) = dot_i8(filter, row);
            let mut acc = dot.wrapping_add(filter_sum.wrapping_mul(quant.input_offset));
            if let Some(b) = bias.get(unit) {
                acc = acc.wrapping_add(*b);
            }
            *out = quant.apply(acc, unit);
        }
    }
}

/// The int4-filter kernel: [`fully_connected_i8`]'s sums with the weights of
/// each unit unpacked [`int4::BLOCK`] at a time from `packed` (the filter as
/// TensorFlow Lite stores int4: unit `u`'s weights are elements
/// `u * depth..(u + 1) * depth`, which start mid-byte when `depth` is odd).
pub fn fully_connected_i8_int4(
    params: &FullyConnectedParams,
    quant: &Requant<'_>,
    input: &[i8],
    packed: &[i8],
    bias: &[i32],
    output: &mut [i8],
) {
    let depth = params.depth;
    for (row, out_row) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(params.units))
    {
        for (unit, out) in out_row.iter_mut().enumerate() {
            let (dot, filter_sum) = int4::dot(packed, unit * depth, row);
            let mut acc = dot.wrapping_add(filter_sum.wrapping_mul(quant.input_offset));
            if let Some(b) = bias.get(unit) {
                acc = acc.wrapping_add(*b);
            }
            *out = quant.apply(acc, unit);
        }
    }
}

/// The LUT-filter kernel: [`fully_connected_i8`]'s sums with the weights of
/// each unit decoded [`super::lut::BLOCK`] at a time (`layout`, its tables
/// `values` and indices `packed`; unit `u`'s weights are elements
/// `u * depth..(u + 1) * depth`).
#[allow(clippy::too_many_arguments)]
pub fn fully_connected_i8_lut(
    params: &FullyConnectedParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &LutFilter<'_>,
    bias: &[i32],
    output: &mut [i8],
) {
    let depth = params.depth;
    for (row, out_row) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(params.units))
    {
        for (unit, out) in out_row.iter_mut().enumerate() {
            let (dot, filter_sum) = filter.dot(unit * depth, row);
            let mut acc = dot.wrapping_add(filter_sum.wrapping_mul(quant.input_offset));
            if let Some(b) = bias.get(unit) {
                acc = acc.wrapping_add(*b);
            }
            *out = quant.apply(acc, unit);
        }
    }
}

/// The longest input row widened to 16 bits (twice this in stack bytes).
#[cfg(target_pointer_width = "64")]
const WIDE_ROW: usize = 2048;
/// The longest input row widened to 16 bits (twice this in stack bytes).
#[cfg(not(target_pointer_width = "64"))]
const WIDE_ROW: usize = 512;

/// `(sum a*b, sum a)` over two int8 slices, in wrapping 32-bit arithmetic.
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> (i32, i32) {
    let mut dot = 0i32;
    let mut sum = 0i32;
    for (&x, &y) in a.iter().zip(b) {
        dot = dot.wrapping_add(i32::from(x) * i32::from(y));
        sum = sum.wrapping_add(i32::from(x));
    }
    (dot, sum)
}

fn f32_at(bytes: &[u8]) -> f32 {
    f32::from_le_bytes(bytes.try_into().unwrap_or([0; 4]))
}

/// The float32 reference kernel on little-endian bytes, summing in TensorFlow
/// Lite Micro's order (the products in depth order, then the bias).
pub fn fully_connected_f32(
    params: &FullyConnectedParams,
    range: (f32, f32),
    input: &[u8],
    weights: &[u8],
    bias: &[u8],
    output: &mut [u8],
) {
    let row_bytes = params.depth * 4;
    for (row, out_row) in input
        .chunks_exact(row_bytes)
        .zip(output.chunks_exact_mut(params.units * 4))
    {
        let filters = weights.chunks_exact(row_bytes);
        for (unit, (filter, out)) in filters.zip(out_row.chunks_exact_mut(4)).enumerate() {
            let mut total = 0.0f32;
            for (x, w) in row.chunks_exact(4).zip(filter.chunks_exact(4)) {
                total += f32_at(x) * f32_at(w);
            }
            let b = bias.get(unit * 4..unit * 4 + 4).map_or(0.0, f32_at);
            out.copy_from_slice(&clamp(total + b, range).to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::lut::LutLayout;

    fn bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn two_rows_two_units_with_bias_and_relu() {
        // in = [[1, 2], [3, -4]], w = [[1, 1], [2, -1]], b = [0.5, -10]
        // row 0: 1+2+0.5 = 3.5;   2-2-10 = -10 -> relu 0
        // row 1: 3-4+0.5 = -0.5 -> 0;  6+4-10 = 0
        let params = FullyConnectedParams {
            batches: 2,
            depth: 2,
            units: 2,
            has_bias: true,
            kind: FullyConnectedKind::Float32 {
                range: (0.0, f32::MAX),
            },
        };
        let mut out = vec![0u8; 16];
        fully_connected_f32(
            &params,
            (0.0, f32::MAX),
            &bytes(&[1., 2., 3., -4.]),
            &bytes(&[1., 1., 2., -1.]),
            &bytes(&[0.5, -10.]),
            &mut out,
        );
        assert_eq!(out, bytes(&[3.5, 0.0, 0.0, 0.0]));
    }

    #[test]
    fn no_bias() {
        // y = 2 * 10 = 20
        let params = FullyConnectedParams {
            batches: 1,
            depth: 1,
            units: 1,
            has_bias: false,
            kind: FullyConnectedKind::Float32 {
                range: (f32::MIN, f32::MAX),
            },
        };
        let mut out = vec![0u8; 4];
        fully_connected_f32(
            &params,
            (f32::MIN, f32::MAX),
            &bytes(&[10.]),
            &bytes(&[2.]),
            &[],
            &mut out,
        );
        assert_eq!(out, bytes(&[20.0]));
    }

    #[test]
    fn int8_per_channel_with_offsets_and_clamp() {
        // input zero point 3 (offset -3): x = [5, 1] -> [2, -2].
        // unit 0: w = [10, 20]: 20 - 40 = -20, + bias 100 = 80;
        //   multiplier 0.5 (2^30, 0): 40; + output zero point -5 = 35.
        // unit 1: w = [-1, 4]: -2 - 8 = -10, no bias term (bias 0);
        //   multiplier 0.25 (2^30, -1): -10 * 0.5 = -5 (high mul), -5 / 2 =
        //   -2.5 -> -3 (away from zero); -3 - 5 = -8; relu clamps at -5.
        let params = FullyConnectedParams {
            batches: 1,
            depth: 2,
            units: 2,
            has_bias: true,
            kind: FullyConnectedKind::Float32 { range: (0.0, 0.0) },
        };
        let quant = Requant {
            input_offset: -3,
            output: OutputQuant {
                offset: -5,
                min: -5,
                max: 127,
            },
            multipliers: &[1 << 30, 1 << 30],
            shifts: &[0, -1],
        };
        let mut out = [0i8; 2];
        fully_connected_i8(
            &params,
            &quant,
            &[5, 1],
            &[10, 20, -1, 4],
            &[100, 0],
            &mut out,
        );
        assert_eq!(out, [35, -5]);
    }

    #[test]
    fn int8_wide_rows_equal_the_narrow_path() {
        // Depth 3000 takes the plain path, depth 300 the widened one; both
        // against a literal sum of w * (x + offset).
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8 as i8
        };
        for depth in [300usize, 3000] {
            let input: Vec<i8> = (0..depth).map(|_| next()).collect();
            let weights: Vec<i8> = (0..3 * depth).map(|_| next()).collect();
            let params = FullyConnectedParams {
                batches: 1,
                depth,
                units: 3,
                has_bias: false,
                kind: FullyConnectedKind::Float32 { range: (0.0, 0.0) },
            };
            let quant = Requant {
                input_offset: 57,
                output: OutputQuant {
                    offset: 0,
                    min: -128,
                    max: 127,
                },
                multipliers: &[1 << 30],
                shifts: &[-10],
            };
            let mut out = [0i8; 3];
            fully_connected_i8(&params, &quant, &input, &weights, &[], &mut out);
            for (unit, &o) in out.iter().enumerate() {
                let acc: i32 = (0..depth)
                    .map(|d| i32::from(weights[unit * depth + d]) * (i32::from(input[d]) + 57))
                    .sum();
                assert_eq!(o, quant.apply(acc, unit), "depth {depth} unit {unit}");
            }
        }
    }

    #[test]
    fn int4_filter_equals_the_int8_kernel_on_its_values() {
        // Depth 5 (odd: unit 1 starts in a high nibble), 3 units, 2 rows;
        // weights -8..7 packed low nibble first.
        let weights: Vec<i8> = (0..15).map(|i| (i * 5 % 16) as i8 - 8).collect();
        let packed: Vec<i8> = weights
            .chunks(2)
            .map(|p| ((p[0] as u8 & 0x0f) | (p.get(1).map_or(0, |&h| h as u8) << 4)) as i8)
            .collect();
        let input: Vec<i8> = (0..10).map(|i| (i * 29 % 256) as u8 as i8).collect();
        let params = FullyConnectedParams {
            batches: 2,
            depth: 5,
            units: 3,
            has_bias: true,
            kind: FullyConnectedKind::Float32 { range: (0.0, 0.0) },
        };
        let quant = Requant {
            input_offset: 9,
            output: OutputQuant {
                offset: 2,
                min: -128,
                max: 127,
            },
            multipliers: &[1 << 30],
            shifts: &[-3],
        };
        let bias = [100, -50, 7];
        let (mut want, mut got) = ([0i8; 6], [0i8; 6]);
        fully_connected_i8(&params, &quant, &input, &weights, &bias, &mut want);
        fully_connected_i8_int4(&params, &quant, &input, &packed, &bias, &mut got);
        assert_eq!(got, want);
        assert!(want.iter().any(|&v| v != want[0]), "{want:?}");
    }

    #[test]
    fn lut_filter_equals_the_int8_kernel_on_its_values() {
        // Depth 5, 3 units with a 3-bit table of 8 each (axis 0), 2 rows.
        let indices: Vec<usize> = (0..15).map(|i| i * 3 % 8).collect();
        let values: Vec<i8> = (0..24).map(|v| (v * 11 - 120) as i8).collect();
        let weights: Vec<i8> = (0..15).map(|i| values[i / 5 * 8 + indices[i]]).collect();
        let packed = crate::ops::lut::pack(&indices, 3);
        let layout = LutLayout {
            bits: 3,
            stride: 8,
            channels: 3,
            inner: 5,
        };
        let input: Vec<i8> = (0..10).map(|i| (i * 29 % 256) as u8 as i8).collect();
        let params = FullyConnectedParams {
            batches: 2,
            depth: 5,
            units: 3,
            has_bias: true,
            kind: FullyConnectedKind::Float32 { range: (0.0, 0.0) },
        };
        let quant = Requant {
            input_offset: 9,
            output: OutputQuant {
                offset: 2,
                min: -128,
                max: 127,
            },
            multipliers: &[1 << 30, 1 << 29, 1 << 30],
            shifts: &[-3, -2, -4],
        };
        let bias = [100, -50, 7];
        let (mut want, mut got) = ([0i8; 6], [0i8; 6]);
        fully_connected_i8(&params, &quant, &input, &weights, &bias, &mut want);
        let filter = LutFilter {
            layout,
            values: &values,
            packed: &packed,
        };
        fully_connected_i8_lut(&params, &quant, &input, &filter, &bias, &mut got);
        assert_eq!(got, want);
        assert!(want.iter().any(|&v| v != want[0]), "{want:?}");
    }

    #[test]
    fn int8_saturates_to_the_type() {
        // 127 * 127 * 4 = 64516 with multiplier 1.0 (2^30, 1): 64516 -> 127.
        let params = FullyConnectedParams {
            batches: 1,
            depth: 4,
            units: 1,
            has_bias: false,
            kind: FullyConnectedKind::Float32 { range: (0.0, 0.0) },
        };
        let quant = Requant {
            input_offset: 0,
            output: OutputQuant {
                offset: 0,
                min: -128,
                max: 127,
            },
            multipliers: &[1 << 30],
            shifts: &[1],
        };
        let mut out = [0i8; 1];
        fully_connected_i8(&params, &quant, &[127; 4], &[127; 4], &[], &mut out);
        assert_eq!(out, [127]);
    }
}
