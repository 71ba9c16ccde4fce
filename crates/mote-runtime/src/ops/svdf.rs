//! SVDF (singular value decomposition filter), int8 with an int16 or int8
//! activation state, as TensorFlow Lite Micro's `EvalIntegerSvdfReference`.
//!
//! Inputs: 0 input `[batch, input]` int8, 1 feature weights `[filters,
//! input]` int8, 2 time weights `[filters, memory]` int16 or int8, 3 optional
//! bias `[units]` int32, 4 the activation state `[batch, memory * filters]`
//! (a variable). Output `[batch, units]` int8 with `units = filters / rank`.
//!
//! Each invoke shifts the state one step back in time, appends each filter's
//! feature dot product (rescaled to the state), then sums state x time
//! weights per filter, the filters of each unit, adds the bias and rescales.
//!
//! TensorFlow Lite Micro's surprises, matched here: the integer kernel does
//! not apply the fused activation; the state value is the clamped product
//! plus the state zero point, stored without a second clamp (it wraps in
//! the state's type); the two scales are multiplied in `f32` before becoming
//! `f64`. The state lives in the arena's persistent tail and starts as TFLM
//! resets variables (the zero point for int8, zero for int16).

use super::{EvalContext, Persistent, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;
use crate::quant;

/// Field ids of `SVDFOptions`.
mod field {
    pub const RANK: u16 = 0;
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct SvdfParams {
    /// Batches.
    pub batches: usize,
    /// Input features.
    pub inputs: usize,
    /// Filters (`units * rank`).
    pub filters: usize,
    /// Filters per unit.
    pub rank: usize,
    /// Time steps remembered.
    pub memory: usize,
    /// Whether the state and time weights are int16 (else int8).
    pub wide_state: bool,
    /// Whether input 3 holds a bias.
    pub has_bias: bool,
    /// The input zero point.
    pub input_zero_point: i32,
    /// The state zero point.
    pub state_zero_point: i32,
    /// The output zero point.
    pub output_zero_point: i32,
    /// Multiplier and shift from feature dot products to the state.
    pub scale_1: (i32, i32),
    /// Multiplier and shift from the time sums to the output.
    pub scale_2: (i32, i32),
    /// The state, `batches * filters * memory` values (as int16).
    pub state: Persistent,
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<SvdfParams, Error> {
    let input = ctx.input(0)?;
    let feature = ctx.input(1)?;
    let time = ctx.input(2)?;
    let bias = ctx.optional_input(3);
    let state = ctx.input(4)?;
    let output = ctx.output(0)?;
    ctx.expect_type(&input, TensorType::Int8)?;
    ctx.expect_type(&feature, TensorType::Int8)?;
    ctx.expect_type(&output, TensorType::Int8)?;
    ctx.expect_readable::<i8>(&feature)?;
    let wide_state = match time.dtype() {
        TensorType::Int16 => {
            ctx.expect_type(&state, TensorType::Int16)?;
            ctx.expect_readable::<i16>(&time)?;
            true
        }
        TensorType::Int8 => {
            ctx.expect_type(&state, TensorType::Int8)?;
            ctx.expect_readable::<i8>(&time)?;
            false
        }
        other => return Err(ctx.unsupported_type(other)),
    };
    let rank = usize::try_from(ctx.options().i32(field::RANK, 0))
        .ok()
        .filter(|r| *r > 0)
        .ok_or(ctx.invalid("bad SVDF rank"))?;
    let (is, fs, ts) = (input.shape(), feature.shape(), time.shape());
    if is.rank() != 2 || fs.rank() != 2 || ts.rank() != 2 {
        return Err(ctx.invalid("SVDF tensors must have rank 2"));
    }
    let (batches, inputs) = (is.dim(0), is.dim(1));
    let filters = fs.dim(0);
    let memory = ts.dim(1);
    let units = filters / rank;
    if fs.dim(1) != inputs
        || ts.dim(0) != filters
        || filters % rank != 0
        || output.shape().elements() != batches * units
        || state.shape().elements() != batches * filters * memory
        || memory == 0
    {
        return Err(ctx.invalid("SVDF shapes do not match"));
    }
    if let Some(bias) = &bias {
        ctx.expect_type(bias, TensorType::Int32)?;
        ctx.expect_readable::<i32>(bias)?;
        if bias.shape().elements() != units {
            return Err(ctx.invalid("SVDF bias size is not the number of units"));
        }
    }
    let (input_scale, input_zero_point) = ctx.quantization(&input)?;
    let (feature_scale, _) = ctx.quantization(&feature)?;
    let (time_scale, _) = ctx.quantization(&time)?;
    let (state_scale, state_zero_point) = ctx.quantization(&state)?;
    let (output_scale, output_zero_point) = ctx.quantization(&output)?;
    // As TensorFlow Lite Micro: products and quotients in f32, then f64.
    let scale_1 = quant::quantize_multiplier(f64::from(input_scale * feature_scale / state_scale));
    let scale_2 = quant::quantize_multiplier(f64::from(state_scale * time_scale / output_scale));
    let (state_handle, values) = ctx.persistent::<i16>(batches * filters * memory)?;
    if !wide_state {
        values.fill(state_zero_point as i16);
    }
    Ok(SvdfParams {
        batches,
        inputs,
        filters,
        rank,
        memory,
        wide_state,
        has_bias: bias.is_some(),
        input_zero_point,
        state_zero_point,
        output_zero_point,
        scale_1,
        scale_2,
        state: state_handle,
    })
}

/// Runs the operator.
pub fn eval(params: &SvdfParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let input = ctx.input_as::<i8>(0);
    let feature = ctx.input_as::<i8>(1);
    let time: Time<'_> = if params.wide_state {
        Time::Wide(ctx.input_as::<i16>(2))
    } else {
        Time::Narrow(ctx.input_as::<i8>(2))
    };
    let bias = if params.has_bias {
        ctx.input_as::<i32>(3)
    } else {
        &[]
    };
    let (output, state) = ctx.output_and_persistent_mut::<i8, i16>(0, params.state);
    svdf_i8(params, input, feature, time, bias, state, output);
    Ok(())
}

/// The time weights, int16 or int8.
#[derive(Clone, Copy, Debug)]
pub enum Time<'t> {
    /// int16 weights (int16 state).
    Wide(&'t [i16]),
    /// int8 weights (int8 state).
    Narrow(&'t [i8]),
}

impl Time<'_> {
    #[inline]
    fn get(&self, i: usize) -> i32 {
        match self {
            Time::Wide(w) => w.get(i).map_or(0, |v| i32::from(*v)),
            Time::Narrow(w) => w.get(i).map_or(0, |v| i32::from(*v)),
        }
    }
}

/// The integer SVDF on one invoke; `state` holds the state values (int8
/// states as int16 values).
pub fn svdf_i8(
    p: &SvdfParams,
    input: &[i8],
    feature: &[i8],
    time: Time<'_>,
    bias: &[i32],
    state: &mut [i16],
    output: &mut [i8],
) {
    let (filters, memory) = (p.filters, p.memory);
    let total = p.batches * filters * memory;
    let Some(state) = state.get_mut(..total) else {
        return;
    };
    // Shift the whole state one step back (as TFLM: one flat copy).
    state.copy_within(1.., 0);
    let (type_min, type_max) = if p.wide_state {
        (i32::from(i16::MIN), i32::from(i16::MAX))
    } else {
        (i32::from(i8::MIN), i32::from(i8::MAX))
    };
    // Append each filter's feature dot product at the newest slot.
    for b in 0..p.batches {
        let x = input.get(b * p.inputs..(b + 1) * p.inputs).unwrap_or(&[]);
        for (f, weights) in feature
            .chunks_exact(p.inputs.max(1))
            .take(filters)
            .enumerate()
        {
            let dot = weights.iter().zip(x).fold(0i32, |a, (&w, &v)| {
                a.wrapping_add(i32::from(w) * (i32::from(v) - p.input_zero_point))
            });
            let scaled = quant::multiply_by_quantized_multiplier(dot, p.scale_1.0, p.scale_1.1)
                .max(type_min)
                .min(type_max);
            let value = p.state_zero_point.wrapping_add(scaled);
            // Stored in the state's type without a second clamp (it wraps).
            let value = if p.wide_state {
                value as i16
            } else {
                i16::from(value as i8)
            };
            if let Some(slot) = state.get_mut((b * filters + f) * memory + memory - 1) {
                *slot = value;
            }
        }
    }
    // Per filter, state x time weights; per unit, its filters plus the bias.
    let units = filters / p.rank.max(1);
    for b in 0..p.batches {
        let batch_state = state
            .get(b * filters * memory..(b + 1) * filters * memory)
            .unwrap_or(&[]);
        let outs = output
            .get_mut(b * units..(b + 1) * units)
            .unwrap_or(&mut []);
        for (u, out) in outs.iter_mut().enumerate() {
            let mut acc = bias.get(u).copied().unwrap_or(0);
            for f in u * p.rank..(u + 1) * p.rank {
                let values = batch_state.get(f * memory..(f + 1) * memory).unwrap_or(&[]);
                let sum = values.iter().enumerate().fold(0i32, |a, (j, &s)| {
                    a.wrapping_add(time.get(f * memory + j) * (i32::from(s) - p.state_zero_point))
                });
                acc = acc.wrapping_add(sum);
            }
            let y = quant::multiply_by_quantized_multiplier(acc, p.scale_2.0, p.scale_2.1)
                .wrapping_add(p.output_zero_point);
            *out = y.clamp(-128, 127) as i8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_filter_remembers_two_steps() {
        // One input, one filter (rank 1), memory 2, all scales 1 (multiplier
        // 2^30, shift 1), zero points 0, time weights [1, 10].
        // Invoke 1, x = 3: state [0, 3] -> 0*1 + 3*10 = 30.
        // Invoke 2, x = 5: state [3, 5] -> 3*1 + 5*10 = 53, + bias 1 = 54.
        let p = SvdfParams {
            batches: 1,
            inputs: 1,
            filters: 1,
            rank: 1,
            memory: 2,
            wide_state: true,
            has_bias: true,
            input_zero_point: 0,
            state_zero_point: 0,
            output_zero_point: 0,
            scale_1: (1 << 30, 1),
            scale_2: (1 << 30, 1),
            state: Persistent::default(),
        };
        let mut state = [0i16; 2];
        let mut out = [0i8; 1];
        let time = Time::Wide(&[1, 10]);
        svdf_i8(&p, &[3], &[1], time, &[0], &mut state, &mut out);
        assert_eq!((state, out), ([0, 3], [30]));
        svdf_i8(&p, &[5], &[1], time, &[1], &mut state, &mut out);
        assert_eq!((state, out), ([3, 5], [54]));
    }
}
