//! UNIDIRECTIONAL_SEQUENCE_LSTM, float32 and int8 (see
//! [`lstm_integer`](super::lstm_integer)): an LSTM over every time step of
//! its input, as TensorFlow Lite Micro's `lstm_eval` computes it (four gates,
//! each an input FULLY_CONNECTED with bias plus a recurrent one without,
//! sigmoid or the cell activation; then the cell and hidden updates).
//!
//! Supported: all four gates (no CIFG), no peephole, no projection, no layer
//! normalization; batch-major or time-major input. The hidden and cell states
//! live in the arena's persistent tail, start as TensorFlow Lite Micro resets
//! its variable tensors (zero, or the zero point for int8) and carry over
//! from one invoke to the next.

use super::softmax::exp_f32;
use super::{EvalContext, Persistent, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// Field ids of `UnidirectionalSequenceLSTMOptions`.
pub(crate) mod field {
    pub const FUSED_ACTIVATION_FUNCTION: u16 = 0;
    pub const CELL_CLIP: u16 = 1;
    pub const TIME_MAJOR: u16 = 3;
}

/// Input slots of the operator.
pub(crate) mod slot {
    pub const INPUT: usize = 0;
    /// Input-to-gate weights, gates in the order input, forget, cell, output.
    pub const INPUT_WEIGHTS: [usize; 4] = [1, 2, 3, 4];
    /// Recurrent weights, same order.
    pub const RECURRENT_WEIGHTS: [usize; 4] = [5, 6, 7, 8];
    pub const PEEPHOLES: [usize; 3] = [9, 10, 11];
    /// Gate biases, same order.
    pub const BIASES: [usize; 4] = [12, 13, 14, 15];
    pub const PROJECTION: [usize; 2] = [16, 17];
    pub const OUTPUT_STATE: usize = 18;
    pub const CELL_STATE: usize = 19;
    pub const LAYER_NORM: [usize; 4] = [20, 21, 22, 23];
}

/// The cell activation (the options' fused activation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum CellActivation {
    /// tanh.
    Tanh,
    /// sigmoid.
    Sigmoid,
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct UnidirectionalSequenceLstmParams {
    /// Sequences.
    pub batches: usize,
    /// Time steps.
    pub steps: usize,
    /// Input features per step.
    pub inputs: usize,
    /// Cells (= outputs, without projection).
    pub cells: usize,
    /// Whether the input is `[time, batch, features]`.
    pub time_major: bool,
    /// Clip of the cell state (0 = none).
    pub cell_clip: f32,
    /// The cell gate's activation.
    pub activation: CellActivation,
    /// Hidden state, cell state and gate buffers (`batches * cells` each).
    pub state: Persistent,
    /// The integer arithmetic, for int8 LSTMs (`None` for float32).
    pub integer: Option<super::lstm_integer::LstmQuant>,
}

/// Checks the operator and computes its params.
pub fn prepare(
    ctx: &mut PrepareContext<'_, '_>,
) -> Result<UnidirectionalSequenceLstmParams, Error> {
    let input = ctx.input(slot::INPUT)?;
    let output = ctx.output(0)?;
    let (weight_type, bias_type) = match input.dtype() {
        TensorType::Float32 => (TensorType::Float32, TensorType::Float32),
        TensorType::Int8 => (TensorType::Int8, TensorType::Int32),
        other => return Err(ctx.unsupported_type(other)),
    };
    ctx.expect_type(&output, input.dtype())?;
    let optional = [
        &slot::PEEPHOLES[..],
        &slot::PROJECTION[..],
        &slot::LAYER_NORM[..],
    ];
    if optional
        .iter()
        .flat_map(|s| s.iter())
        .any(|&i| ctx.optional_input(i).is_some())
    {
        return Err(ctx.invalid("peephole, projection and layer norm LSTMs are not supported"));
    }
    let options = ctx.options();
    let time_major = options.bool(field::TIME_MAJOR);
    let shape = input.shape();
    if shape.rank() != 3 {
        return Err(ctx.invalid("LSTM input must have rank 3"));
    }
    let (batches, steps) = if time_major {
        (shape.dim(1), shape.dim(0))
    } else {
        (shape.dim(0), shape.dim(1))
    };
    let inputs = shape.dim(2);
    let forget = ctx.input(slot::INPUT_WEIGHTS[1])?;
    let cells = forget.shape().dim(0);
    for (&w, (&r, &b)) in slot::INPUT_WEIGHTS
        .iter()
        .zip(slot::RECURRENT_WEIGHTS.iter().zip(&slot::BIASES))
    {
        let w = ctx.input(w)?;
        let r = ctx.input(r)?;
        let b = ctx.input(b)?;
        for t in [&w, &r] {
            ctx.expect_type(t, weight_type)?;
        }
        ctx.expect_type(&b, bias_type)?;
        if weight_type == TensorType::Float32 {
            for t in [&w, &r, &b] {
                ctx.expect_readable::<f32>(t)?;
            }
        } else {
            ctx.expect_readable::<i8>(&w)?;
            ctx.expect_readable::<i8>(&r)?;
            ctx.expect_readable::<i32>(&b)?;
        }
        let ok = w.shape().dims() == [cells, inputs]
            && r.shape().dims() == [cells, cells]
            && b.shape().elements() == cells;
        if !ok {
            return Err(ctx.invalid("LSTM weight shapes do not match"));
        }
    }
    if output.shape().elements() != batches * steps * cells {
        return Err(ctx.invalid("LSTM output size is not batches x steps x cells"));
    }
    let activation = match options.u8(field::FUSED_ACTIVATION_FUNCTION, 4) {
        4 => CellActivation::Tanh,
        6 => CellActivation::Sigmoid,
        _ => return Err(ctx.invalid("unsupported LSTM cell activation")),
    };
    let cell_clip = options.f32(field::CELL_CLIP, 0.0);
    let per = batches * cells;
    let integer = if weight_type == TensorType::Int8 {
        Some(super::lstm_integer::prepare(ctx, cell_clip)?)
    } else {
        None
    };
    // As TensorFlow Lite Micro resets variable tensors: int8 to the zero
    // point, everything else to zero (whatever data the model stores).
    let state = if let Some(q) = &integer {
        // One int16 region: cell state, hidden state (int8 values), and five
        // gate buffers.
        let (state, values) = ctx.persistent::<i16>(per * 7)?;
        if let Some(hidden) = values.get_mut(per..2 * per) {
            hidden.fill(q.output_mul.offset as i16);
        }
        state
    } else {
        ctx.persistent::<f32>(per * 6)?.0
    };
    Ok(UnidirectionalSequenceLstmParams {
        batches,
        steps,
        inputs,
        cells,
        time_major,
        cell_clip,
        activation,
        state,
        integer,
    })
}

/// Runs the operator.
pub fn eval(
    params: &UnidirectionalSequenceLstmParams,
    ctx: &mut EvalContext<'_>,
) -> Result<(), Error> {
    if let Some(quant) = &params.integer {
        let input = ctx.input_as::<i8>(slot::INPUT);
        let weights = slot::INPUT_WEIGHTS.map(|i| ctx.input_as::<i8>(i));
        let recurrent = slot::RECURRENT_WEIGHTS.map(|i| ctx.input_as::<i8>(i));
        let biases = slot::BIASES.map(|i| ctx.input_as::<i32>(i));
        let (output, state) = ctx.output_and_persistent_mut::<i8, i16>(0, params.state);
        let lstm = super::lstm_integer::Lstm {
            params,
            quant,
            weights,
            recurrent,
            biases,
        };
        lstm.run(input, output, state);
        return Ok(());
    }
    let input = ctx.input_as::<f32>(slot::INPUT);
    let weights = slot::INPUT_WEIGHTS.map(|i| ctx.input_as::<f32>(i));
    let recurrent = slot::RECURRENT_WEIGHTS.map(|i| ctx.input_as::<f32>(i));
    let biases = slot::BIASES.map(|i| ctx.input_as::<f32>(i));
    let (output, state) = ctx.output_and_persistent_mut::<f32, f32>(0, params.state);
    let lstm = Lstm {
        params,
        weights,
        recurrent,
        biases,
    };
    lstm.run(input, output, state);
    Ok(())
}

/// The weights of one LSTM, gates in the order input, forget, cell, output.
struct Lstm<'p, 'w> {
    params: &'p UnidirectionalSequenceLstmParams,
    weights: [&'w [f32]; 4],
    recurrent: [&'w [f32]; 4],
    biases: [&'w [f32]; 4],
}

impl Lstm<'_, '_> {
    fn run(&self, input: &[f32], output: &mut [f32], state: &mut [f32]) {
        let p = self.params;
        let n = p.cells;
        let per = p.batches * n;
        let (hidden_all, rest) = state.split_at_mut(per.min(state.len()));
        let (cell_all, gates) = rest.split_at_mut(per.min(rest.len()));
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
                let (Some(hidden), Some(cell)) = (
                    hidden_all.get_mut(b * n..(b + 1) * n),
                    cell_all.get_mut(b * n..(b + 1) * n),
                ) else {
                    return;
                };
                let mut gate_buffers = gates.chunks_exact_mut(n.max(1));
                let (Some(ig), Some(fg), Some(cg), Some(og)) = (
                    gate_buffers.next(),
                    gate_buffers.next(),
                    gate_buffers.next(),
                    gate_buffers.next(),
                ) else {
                    return;
                };
                // Gates in TensorFlow Lite Micro's order.
                self.gate(0, x, hidden, ig, sigmoid);
                self.gate(1, x, hidden, fg, sigmoid);
                let activation = match p.activation {
                    CellActivation::Tanh => tanh_f32,
                    CellActivation::Sigmoid => sigmoid,
                };
                self.gate(2, x, hidden, cg, activation);
                // cell = forget * cell + input * cell_gate, then the clip.
                for (((c, &f), &i), &g) in cell.iter_mut().zip(&*fg).zip(&*ig).zip(&*cg) {
                    let kept = f * *c;
                    let added = i * g;
                    *c = kept + added;
                    if p.cell_clip > 0.0 {
                        *c = c.min(p.cell_clip).max(-p.cell_clip);
                    }
                }
                self.gate(3, x, hidden, og, sigmoid);
                // hidden = tanh(cell) * output_gate.
                for ((h, &c), &o) in hidden.iter_mut().zip(&*cell).zip(&*og) {
                    *h = tanh_f32(c) * o;
                }
                if let Some(out) = output.get_mut(row * n..(row + 1) * n) {
                    out.copy_from_slice(hidden);
                }
            }
        }
    }

    /// Gate `g`: `act(W x + b + R h)`, each product summed in order as
    /// TensorFlow Lite's float FULLY_CONNECTED does, into `out`.
    fn gate(&self, g: usize, x: &[f32], hidden: &[f32], out: &mut [f32], act: fn(f32) -> f32) {
        let n_in = self.params.inputs;
        let n = self.params.cells;
        let w = self.weights.get(g).copied().unwrap_or(&[]);
        let r = self.recurrent.get(g).copied().unwrap_or(&[]);
        let b = self.biases.get(g).copied().unwrap_or(&[]);
        for (c, o) in out.iter_mut().enumerate() {
            let wr = w.get(c * n_in..(c + 1) * n_in).unwrap_or(&[]);
            let mut total = 0f32;
            for (a, k) in x.iter().zip(wr) {
                total += a * k;
            }
            let from_input = total + b.get(c).copied().unwrap_or(0.0);
            let rr = r.get(c * n..(c + 1) * n).unwrap_or(&[]);
            let mut total = 0f32;
            for (a, k) in hidden.iter().zip(rr) {
                total += a * k;
            }
            let from_state = total + 0.0;
            *o = act(from_input + from_state);
        }
    }
}

/// TensorFlow Lite's float logistic: 1 above 16.619047, `exp(x)` below -9,
/// else `1 / (1 + exp(-x))`.
fn sigmoid(x: f32) -> f32 {
    if x > 16.619_047 {
        1.0
    } else if x < -9.0 {
        exp_f32(x)
    } else {
        1.0 / (1.0 + exp_f32(-x))
    }
}

/// `tanh(x)` for `f32` without `std`: `1 - 2 / (e^(2x) + 1)` in `f64`.
fn tanh_f32(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    if x.abs() > 10.0 {
        return x.signum();
    }
    let x = f64::from(x);
    if x.abs() < 1e-4 {
        // The series, where the formula would cancel: x - x^3 / 3.
        return (x - x * x * x / 3.0) as f32;
    }
    let e2x = exp_f64(2.0 * x);
    (1.0 - 2.0 / (e2x + 1.0)) as f32
}

/// `e^x` in `f64` (as [`exp_f32`] computes it, before its rounding).
fn exp_f64(x: f64) -> f64 {
    const LN_2: f64 = core::f64::consts::LN_2;
    let k = crate::quant::round_f64(x / LN_2);
    let r = x - k * LN_2;
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    for n in 1..20 {
        term *= r / f64::from(n);
        sum += term;
    }
    let k = k as i64;
    sum * f64::from_bits(((k + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activations() {
        for &x in &[-8.0f32, -1.0, -1e-6, 0.0, 0.3, 2.0, 9.5] {
            let t = tanh_f32(x);
            assert!(
                (f64::from(t) - f64::from(x).tanh()).abs() < 2e-7,
                "tanh({x}) = {t}"
            );
            let s = sigmoid(x);
            let want = 1.0 / (1.0 + (-f64::from(x)).exp());
            assert!((f64::from(s) - want).abs() < 2e-7, "sigmoid({x}) = {s}");
        }
        assert_eq!(sigmoid(20.0), 1.0);
    }

    #[test]
    fn one_cell_by_hand() {
        // One input, one cell, all weights 1, biases 0, x = 1, h = c = 0:
        // every gate sees 1; i = f = o = sigmoid(1) = 0.7310586, g = tanh(1)
        // = 0.7615942; c = 0 * f + i * g = 0.5567699; h = tanh(c) * o =
        // 0.5055769 * 0.7310586 = 0.3696064.
        let params = UnidirectionalSequenceLstmParams {
            batches: 1,
            steps: 1,
            inputs: 1,
            cells: 1,
            time_major: false,
            cell_clip: 0.0,
            activation: CellActivation::Tanh,
            state: Persistent::default(),
            integer: None,
        };
        let one = [1.0f32];
        let zero = [0.0f32];
        let lstm = Lstm {
            params: &params,
            weights: [&one; 4],
            recurrent: [&one; 4],
            biases: [&zero; 4],
        };
        let mut state = [0f32; 6];
        let mut out = [0f32; 1];
        lstm.run(&[1.0], &mut out, &mut state);
        assert!((out[0] - 0.369_606_4).abs() < 1e-6, "{}", out[0]);
        assert!((state[1] - 0.556_769_9).abs() < 1e-6, "cell {}", state[1]);
    }
}
