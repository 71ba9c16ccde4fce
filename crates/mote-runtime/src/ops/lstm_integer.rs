//! The int8 UNIDIRECTIONAL_SEQUENCE_LSTM of TensorFlow Lite Micro
//! (`lstm_eval` with int8 activations and weights, int16 cell state and gate
//! values, int32 bias), step for step:
//!
//! - each gate is an int8 FULLY_CONNECTED of the input (with the gate bias)
//!   and one of the hidden state (no bias), both to int16 with scale 2^-12,
//!   added with saturation, then the int16 sigmoid (or tanh for the cell
//!   gate) of TensorFlow Lite's lookup-table kernels (output scale 2^-15);
//! - `cell = forget * cell + input * cell_gate` with TensorFlow Lite's
//!   integer MUL (requantized products), saturated, clipped;
//! - `hidden = tanh(cell) * output_gate`, requantized to the hidden state's
//!   int8 scale and zero point.
//!
//! Gates run in TensorFlow Lite Micro's order: forget, input, cell, (cell
//! update), output.

use super::unidirectional_sequence_lstm::{slot, CellActivation, UnidirectionalSequenceLstmParams};
use super::PrepareContext;
use crate::error::Error;
use crate::model::TensorType;
use crate::quant;

/// One gate's two FULLY_CONNECTEDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct GateQuant {
    /// Minus the input zero point.
    pub input_offset: i32,
    /// Multiplier and shift of the input FULLY_CONNECTED.
    pub input_scale: (i32, i32),
    /// Minus the hidden state's zero point.
    pub hidden_offset: i32,
    /// Multiplier and shift of the recurrent FULLY_CONNECTED.
    pub recurrent_scale: (i32, i32),
}

/// An integer MUL between gate values (TensorFlow Lite's `MulElementwise`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct MulQuant {
    /// Multiplier and shift of the product.
    pub scale: (i32, i32),
    /// Output zero point.
    pub offset: i32,
    /// Output range.
    pub min: i32,
    /// Output range.
    pub max: i32,
}

impl MulQuant {
    #[inline]
    fn apply(&self, a: i16, b: i16) -> i32 {
        let product = i32::from(a) * i32::from(b);
        let y = self
            .offset
            .wrapping_add(quant::multiply_by_quantized_multiplier(
                product,
                self.scale.0,
                self.scale.1,
            ));
        y.max(self.min).min(self.max)
    }
}

/// The integer params of an int8 LSTM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct LstmQuant {
    /// Gates in the order input, forget, cell, output.
    pub gates: [GateQuant; 4],
    /// forget (2^-15) * cell -> cell.
    pub forget_mul: MulQuant,
    /// input (2^-15) * cell gate (2^-15) -> cell.
    pub input_mul: MulQuant,
    /// tanh(cell) (2^-15) * output gate (2^-15) -> hidden (int8).
    pub output_mul: MulQuant,
    /// log2 of the cell state's scale.
    pub cell_scale_power: i32,
    /// The cell clip in cell-state units (0 = none).
    pub cell_clip: i16,
}

/// The gate values' scale before the activation (Q3.12).
const GATE_INPUT_SCALE: f64 = 1.0 / 4096.0;
/// The activations' output scale (Q0.15).
const GATE_OUTPUT_SCALE: f64 = 1.0 / 32768.0;

/// Checks the int8 LSTM's quantization and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>, cell_clip: f32) -> Result<LstmQuant, Error> {
    let input = ctx.input(slot::INPUT)?;
    let hidden = ctx.input(slot::OUTPUT_STATE)?;
    let cell = ctx.input(slot::CELL_STATE)?;
    ctx.expect_type(&hidden, TensorType::Int8)?;
    ctx.expect_type(&cell, TensorType::Int16)?;
    let (input_scale, input_zero_point) = ctx.quantization(&input)?;
    let (hidden_scale, hidden_zero_point) = ctx.quantization(&hidden)?;
    let (cell_scale, _) = ctx.quantization(&cell)?;
    let mut gates = [GateQuant {
        input_offset: 0,
        input_scale: (0, 0),
        hidden_offset: 0,
        recurrent_scale: (0, 0),
    }; 4];
    for (g, gate) in gates.iter_mut().enumerate() {
        let w = ctx.input(slot::INPUT_WEIGHTS.get(g).copied().unwrap_or(0))?;
        let r = ctx.input(slot::RECURRENT_WEIGHTS.get(g).copied().unwrap_or(0))?;
        let (w_scale, _) = ctx.quantization(&w)?;
        let (r_scale, _) = ctx.quantization(&r)?;
        if w.quantization().map_or(0, |q| q.scale_count()) != 1
            || r.quantization().map_or(0, |q| q.scale_count()) != 1
        {
            return Err(ctx.invalid("int8 LSTM weights must be quantized per tensor"));
        }
        // As GetQuantizedConvolutionMultipler: (input * weight) / output in f64.
        *gate = GateQuant {
            input_offset: input_zero_point.wrapping_neg(),
            input_scale: quant::quantize_multiplier(
                f64::from(input_scale) * f64::from(w_scale) / GATE_INPUT_SCALE,
            ),
            hidden_offset: hidden_zero_point.wrapping_neg(),
            recurrent_scale: quant::quantize_multiplier(
                f64::from(hidden_scale) * f64::from(r_scale) / GATE_INPUT_SCALE,
            ),
        };
    }
    let cell_scale = f64::from(cell_scale);
    let mul = |a: f64, b: f64, out: f64, offset: i32, (min, max): (i32, i32)| MulQuant {
        scale: quant::quantize_multiplier(a * b / out),
        offset,
        min,
        max,
    };
    let int16 = (-32768, 32767);
    // CheckedLog2: round(log2(scale)), from the exponent and the mantissa.
    let (fraction, exponent) = quant::frexp(cell_scale);
    let cell_scale_power = if fraction >= core::f64::consts::FRAC_1_SQRT_2 {
        exponent
    } else {
        exponent - 1
    };
    let clip = (f64::from(cell_clip) / cell_scale).clamp(-32768.0, 32767.0) as i16;
    Ok(LstmQuant {
        gates,
        forget_mul: mul(GATE_OUTPUT_SCALE, cell_scale, cell_scale, 0, int16),
        input_mul: mul(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, cell_scale, 0, int16),
        output_mul: mul(
            GATE_OUTPUT_SCALE,
            GATE_OUTPUT_SCALE,
            f64::from(hidden_scale),
            hidden_zero_point,
            (-128, 127),
        ),
        cell_scale_power,
        cell_clip: clip,
    })
}

/// An int8 LSTM's weights, gates in the order input, forget, cell, output.
pub struct Lstm<'p, 'w> {
    /// Shapes and options.
    pub params: &'p UnidirectionalSequenceLstmParams,
    /// The integer params.
    pub quant: &'p LstmQuant,
    /// Input-to-gate weights.
    pub weights: [&'w [i8]; 4],
    /// Hidden-to-gate weights.
    pub recurrent: [&'w [i8]; 4],
    /// Gate biases.
    pub biases: [&'w [i32]; 4],
}

impl Lstm<'_, '_> {
    /// Runs every step; `state` holds the cell state, the hidden state (int8
    /// values) and five gate buffers, `batches * cells` values each.
    pub fn run(&self, input: &[i8], output: &mut [i8], state: &mut [i16]) {
        let p = self.params;
        let n = p.cells;
        let per = p.batches * n;
        let mut regions = state.chunks_exact_mut(per.max(1));
        let (
            Some(cell_all),
            Some(hidden_all),
            Some(forget),
            Some(input_gate),
            Some(cell_gate),
            Some(output_gate),
            Some(scratch),
        ) = (
            regions.next(),
            regions.next(),
            regions.next(),
            regions.next(),
            regions.next(),
            regions.next(),
            regions.next(),
        )
        else {
            return;
        };
        for t in 0..p.steps {
            for b in 0..p.batches {
                let row = if p.time_major {
                    t * p.batches + b
                } else {
                    b * p.steps + t
                };
                let x = input
                    .get(row * p.inputs..(row + 1) * p.inputs)
                    .unwrap_or(&[]);
                let range = b * n..(b + 1) * n;
                let (Some(cell), Some(hidden)) = (
                    cell_all.get_mut(range.clone()),
                    hidden_all.get_mut(range.clone()),
                ) else {
                    return;
                };
                let buffers = (
                    forget.get_mut(range.clone()),
                    input_gate.get_mut(range.clone()),
                    cell_gate.get_mut(range.clone()),
                    output_gate.get_mut(range.clone()),
                    scratch.get_mut(range.clone()),
                );
                let (Some(fg), Some(ig), Some(cg), Some(og), Some(buffer)) = buffers else {
                    return;
                };
                self.gate(1, x, hidden, fg, buffer, Act::Sigmoid);
                self.gate(0, x, hidden, ig, buffer, Act::Sigmoid);
                let act = match p.activation {
                    CellActivation::Tanh => Act::Tanh,
                    CellActivation::Sigmoid => Act::Sigmoid,
                };
                self.gate(2, x, hidden, cg, buffer, act);
                // cell = sat(forget * cell + input * cell_gate), clipped.
                let q = self.quant;
                for (((c, &f), &i), &g) in cell.iter_mut().zip(&*fg).zip(&*ig).zip(&*cg) {
                    let kept = q.forget_mul.apply(f, *c);
                    let added = q.input_mul.apply(i, g);
                    let mut v = (kept + added).clamp(-32768, 32767) as i16;
                    if p.cell_clip > 0.0 {
                        v = v.min(q.cell_clip).max(q.cell_clip.wrapping_neg());
                    }
                    *c = v;
                }
                self.gate(3, x, hidden, og, buffer, Act::Sigmoid);
                // hidden = tanh(cell) * output gate, to int8.
                let (multiplier, shift) = tanh_scaling(q.cell_scale_power);
                for ((h, &c), &o) in hidden.iter_mut().zip(&*cell).zip(&*og) {
                    let activated = tanh_i16(c, multiplier, shift);
                    *h = q.output_mul.apply(activated, o) as i16;
                }
                if let Some(out) = output.get_mut(row * n..(row + 1) * n) {
                    for (o, &h) in out.iter_mut().zip(&*hidden) {
                        *o = h as i8;
                    }
                }
            }
        }
    }

    /// Gate `g` into `out`: sat(FC(x) + FC(hidden)), then the activation.
    fn gate(
        &self,
        g: usize,
        x: &[i8],
        hidden: &[i16],
        out: &mut [i16],
        buffer: &mut [i16],
        act: Act,
    ) {
        let q = self.quant.gates.get(g).copied().unwrap_or(GateQuant {
            input_offset: 0,
            input_scale: (0, 0),
            hidden_offset: 0,
            recurrent_scale: (0, 0),
        });
        let n_in = self.params.inputs;
        let n = self.params.cells;
        let w = self.weights.get(g).copied().unwrap_or(&[]);
        let r = self.recurrent.get(g).copied().unwrap_or(&[]);
        let bias = self.biases.get(g).copied().unwrap_or(&[]);
        for (c, (o, s)) in out.iter_mut().zip(buffer.iter_mut()).enumerate() {
            let wr = w.get(c * n_in..(c + 1) * n_in).unwrap_or(&[]);
            let acc = wr.iter().zip(x).fold(0i32, |a, (&w, &v)| {
                a.wrapping_add(i32::from(w) * (i32::from(v) + q.input_offset))
            });
            let acc = acc.wrapping_add(bias.get(c).copied().unwrap_or(0));
            *o = to_i16(quant::multiply_by_quantized_multiplier(
                acc,
                q.input_scale.0,
                q.input_scale.1,
            ));
            let rr = r.get(c * n..(c + 1) * n).unwrap_or(&[]);
            let acc = rr.iter().zip(hidden).fold(0i32, |a, (&w, &v)| {
                a.wrapping_add(i32::from(w) * (i32::from(v) + q.hidden_offset))
            });
            *s = to_i16(quant::multiply_by_quantized_multiplier(
                acc,
                q.recurrent_scale.0,
                q.recurrent_scale.1,
            ));
        }
        for (o, &s) in out.iter_mut().zip(&*buffer) {
            let sum = (i32::from(*o) + i32::from(s)).clamp(-32768, 32767) as i16;
            *o = match act {
                Act::Sigmoid => sigmoid_i16(sum),
                // The gate values have scale 2^-12.
                Act::Tanh => {
                    let (m, s) = tanh_scaling(-12);
                    tanh_i16(sum, m, s)
                }
            };
        }
    }
}

/// A gate's activation.
#[derive(Clone, Copy)]
enum Act {
    Sigmoid,
    Tanh,
}

/// Saturates to int16 (a FULLY_CONNECTED's clamp to the int16 range).
#[inline]
fn to_i16(v: i32) -> i16 {
    v.clamp(-32768, 32767) as i16
}

/// TensorFlow Lite Micro's LSTM `Tanh` input scaling for a cell state scale
/// of 2^power: `(multiplier, left shift)` for the int16 tanh kernel.
fn tanh_scaling(power: i32) -> (i32, i32) {
    let shift = (15 + power) - 3;
    if shift < 0 {
        (3, -shift)
    } else {
        // The power-of-two case: multiplier 3 << shift, no shift.
        (3i32.wrapping_shl(shift as u32), 0)
    }
}

/// TensorFlow Lite's int16 logistic (lookup table with interpolation), input
/// Q3.12 (multiplier 0 and shift 0: the 3/4 scaling only), output Q0.15.
pub fn sigmoid_i16(x: i16) -> i16 {
    let input = i32::from(x) * 3; // 3 << 0, no rounding shift
    let abs = input.unsigned_abs();
    let uh = (abs >> 9) as usize;
    let result: u32 = match (
        quant::SIGMOID_TABLE.get(uh),
        quant::SIGMOID_TABLE.get(uh + 1),
    ) {
        (Some(&ua), Some(&ub)) if uh < 255 => {
            let (ua, ub) = (u32::from(ua), u32::from(ub));
            let ut = abs & 0x1ff;
            (ua << 9).wrapping_add(ut.wrapping_mul(ub.wrapping_sub(ua)))
        }
        _ => 0x7fff << 10,
    };
    let result = if input >= 0 {
        result.wrapping_add(1 << 9)
    } else {
        (1u32 << (16 + 9))
            .wrapping_sub(result)
            .wrapping_add(1 << 9)
            .wrapping_sub(1)
    };
    (result >> 10) as i16
}

/// TensorFlow Lite's int16 tanh (the logistic table, `tanh(x) = 2 *
/// sigmoid(2x) - 1`), with its input `(x * multiplier + round) >> shift`.
pub fn tanh_i16(x: i16, multiplier: i32, shift: i32) -> i16 {
    let shift = shift.clamp(0, 31);
    let round = if shift > 0 { 1i32 << (shift - 1) } else { 0 };
    let input = i32::from(x).wrapping_mul(multiplier).wrapping_add(round) >> shift;
    let abs = input.unsigned_abs();
    let uh = (abs >> 8) as usize;
    let result: i32 = match (
        quant::SIGMOID_TABLE.get(uh),
        quant::SIGMOID_TABLE.get(uh + 1),
    ) {
        (Some(&ua), Some(&ub)) if uh < 255 => {
            let (ua, ub) = (u32::from(ua), u32::from(ub));
            let ut = abs & 0xff;
            (ua << 8).wrapping_add(ut.wrapping_mul(ub.wrapping_sub(ua))) as i32
        }
        _ => 0xffff << 8,
    };
    let result = if input >= 0 {
        result - (1 << (14 + 9)) + (1 << (9 - 2))
    } else {
        -result + (1 << (14 + 9)) + (1 << (9 - 2)) - 1
    };
    (result >> (9 - 1)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int16_activations_track_the_real_ones() {
        // Input Q3.12 (x / 4096), output Q0.15 (y / 32768).
        for &x in &[-30000i16, -4096, -100, 0, 1, 2048, 4096, 20000, 32767] {
            let real = f64::from(x) / 4096.0;
            let s = f64::from(sigmoid_i16(x)) / 32768.0;
            assert!(
                (s - 1.0 / (1.0 + (-real).exp())).abs() < 2e-4,
                "sigmoid({real}) = {s}"
            );
            let (m, sh) = tanh_scaling(-12);
            let t = f64::from(tanh_i16(x, m, sh)) / 32768.0;
            assert!((t - real.tanh()).abs() < 2e-4, "tanh({real}) = {t}");
        }
        // sigmoid(0) = 0.5: (32768 << 9 + 2^9) >> 10 = 16384.
        assert_eq!(sigmoid_i16(0), 16384);
        assert_eq!(tanh_i16(0, 3, 0), 0);
    }

    #[test]
    fn tanh_scaling_as_tflm() {
        // Scale 2^-12: shift 0 -> (3, 0); 2^-11: shift 1 -> (6, 0);
        // 2^-16: shift -4 -> multiplier 3, right shift 4.
        assert_eq!(tanh_scaling(-12), (3, 0));
        assert_eq!(tanh_scaling(-11), (6, 0));
        assert_eq!(tanh_scaling(-16), (3, 4));
    }
}
