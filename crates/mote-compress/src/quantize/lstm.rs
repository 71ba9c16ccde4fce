//! UNIDIRECTIONAL_SEQUENCE_LSTM in TensorFlow Lite's int8 scheme (as the
//! converter writes `trained_lstm_int8.tflite` and TensorFlow Lite Micro's
//! integer `lstm_eval` runs it): int8 input and output, int8 weights with one
//! symmetric scale per tensor, int32 gate biases at `input_scale *
//! weight_scale`, an int8 hidden state quantized as the output, and an int16
//! cell state whose scale is the power of two `2^ceil(log2(max |cell|)) / 2^15`.
//!
//! The cell state is a variable inside the operator, which calibration cannot
//! read from mote-runtime; [`CellRange`] replays the float LSTM on the
//! operator's calibrated inputs (mote-runtime's float arithmetic, the state
//! carried from one sample to the next as the interpreter carries it) and
//! records the cell's largest magnitude.

use mote_runtime::BuiltinOperator;
use mote_train::tflite::builder::Scalar;
use mote_train::tflite::{ModelDef, OperatorDef};

use super::QuantizeError;

/// Input slots of the operator (TensorFlow Lite's order).
pub mod slot {
    /// The input sequence.
    pub const INPUT: usize = 0;
    /// Input-to-gate weights: input, forget, cell, output gates.
    pub const INPUT_WEIGHTS: [usize; 4] = [1, 2, 3, 4];
    /// Hidden-to-gate weights, same order.
    pub const RECURRENT_WEIGHTS: [usize; 4] = [5, 6, 7, 8];
    /// Gate biases, same order.
    pub const BIASES: [usize; 4] = [12, 13, 14, 15];
    /// The hidden ("output") state variable.
    pub const OUTPUT_STATE: usize = 18;
    /// The cell state variable.
    pub const CELL_STATE: usize = 19;
    /// Peepholes (9-11), projection (16-17) and layer norms (20-23): not supported.
    pub const ABSENT: [usize; 9] = [9, 10, 11, 16, 17, 20, 21, 22, 23];
}

/// Field ids of `UnidirectionalSequenceLSTMOptions`.
mod field {
    pub const FUSED_ACTIVATION_FUNCTION: u16 = 0;
    pub const CELL_CLIP: u16 = 1;
    pub const TIME_MAJOR: u16 = 3;
}

/// The LSTM's tensor at input `slot` (`None` if absent).
pub fn input(op: &OperatorDef, slot: usize) -> Option<usize> {
    op.inputs
        .get(slot)
        .filter(|&&i| i >= 0)
        .map(|&i| i as usize)
}

/// The cell activation TANH (`ActivationFunctionType` 4), the only one
/// TensorFlow's converter writes. (mote-runtime also reads 6 as sigmoid, a
/// value outside the schema's enum that TensorFlow Lite Micro runs as no
/// activation: such a model is refused.)
const TANH: u8 = 4;

/// Checks that an LSTM is one the int8 kernels run: all four gates with
/// constant weights and biases, no peephole, projection or layer norm, a
/// TANH cell activation.
pub fn check(float: &ModelDef, index: usize, op: &OperatorDef) -> Result<(), QuantizeError> {
    let unsupported = QuantizeError::UnsupportedOp { index, op: op.op };
    if slot::ABSENT.iter().any(|&s| input(op, s).is_some()) {
        return Err(unsupported);
    }
    let activation = op
        .options
        .scalars
        .iter()
        .find(|(id, _)| *id == field::FUSED_ACTIVATION_FUNCTION)
        .map_or(0, |(_, v)| match v {
            Scalar::U8(a) => *a,
            _ => u8::MAX,
        });
    if activation != TANH {
        return Err(unsupported);
    }
    let constants = slot::INPUT_WEIGHTS
        .iter()
        .chain(&slot::RECURRENT_WEIGHTS)
        .chain(&slot::BIASES);
    for &s in constants {
        match input(op, s) {
            Some(t) if float.tensors[t].data.is_some() => {}
            Some(_) => return Err(QuantizeError::VariableWeights { index }),
            None => return Err(unsupported),
        }
    }
    if input(op, slot::OUTPUT_STATE).is_none() || input(op, slot::CELL_STATE).is_none() {
        return Err(unsupported);
    }
    Ok(())
}

/// The int16 cell state's scale for a cell that reaches `max_abs`: the
/// smallest power of two `2^k` with `|cell| <= 2^k`, over 2^15.
pub fn cell_scale(max_abs: f32) -> f32 {
    let bound = max_abs.max(f32::MIN_POSITIVE);
    let k = bound.log2().ceil().clamp(-15.0, 15.0);
    2f32.powi(k as i32) / 32768.0
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// The float LSTM of one operator, replayed to find its cell's range.
pub struct CellRange {
    /// The LSTM's input tensor.
    pub input: usize,
    /// The cell state tensor.
    pub cell_state: usize,
    weights: [Vec<f32>; 4],
    recurrent: [Vec<f32>; 4],
    biases: [Vec<f32>; 4],
    batches: usize,
    steps: usize,
    inputs: usize,
    cells: usize,
    time_major: bool,
    clip: f32,
    hidden: Vec<f32>,
    cell: Vec<f32>,
    /// The largest `|cell|` seen.
    pub max_abs: f32,
}

impl CellRange {
    /// The replay of LSTM `op` of `float` (checked by [`check`]); `options`
    /// are its parsed options.
    pub fn new(
        float: &ModelDef,
        op: &OperatorDef,
        options: &mote_runtime::model::Options<'_>,
    ) -> Option<Self> {
        let values = |s: usize| {
            input(op, s)
                .and_then(|t| float.tensors[t].data.as_deref())
                .map(f32s)
        };
        let gather = |slots: [usize; 4]| -> Option<[Vec<f32>; 4]> {
            Some([
                values(slots[0])?,
                values(slots[1])?,
                values(slots[2])?,
                values(slots[3])?,
            ])
        };
        let x = input(op, slot::INPUT)?;
        let shape: Vec<usize> = float.tensors[x]
            .shape
            .iter()
            .map(|&d| d.max(0) as usize)
            .collect();
        let &[d0, d1, inputs] = &shape[..] else {
            return None;
        };
        let time_major = options.bool(field::TIME_MAJOR);
        let (batches, steps) = if time_major { (d1, d0) } else { (d0, d1) };
        let forget = input(op, slot::INPUT_WEIGHTS[1])?;
        let cells = float.tensors[forget]
            .shape
            .first()
            .map(|&d| d.max(0) as usize)?;
        Some(CellRange {
            input: x,
            cell_state: input(op, slot::CELL_STATE)?,
            weights: gather(slot::INPUT_WEIGHTS)?,
            recurrent: gather(slot::RECURRENT_WEIGHTS)?,
            biases: gather(slot::BIASES)?,
            batches,
            steps,
            inputs,
            cells,
            time_major,
            clip: options.f32(field::CELL_CLIP, 0.0),
            hidden: vec![0.0; batches * cells],
            cell: vec![0.0; batches * cells],
            max_abs: 0.0,
        })
    }

    /// Runs one invocation's input sequence, the states carried over.
    pub fn run(&mut self, x: &[f32]) {
        let n = self.cells;
        let mut gates = vec![0f32; 4 * n];
        for t in 0..self.steps {
            for b in 0..self.batches {
                let row = if self.time_major {
                    t * self.batches + b
                } else {
                    b * self.steps + t
                };
                let Some(xr) = x.get(row * self.inputs..(row + 1) * self.inputs) else {
                    return;
                };
                let hidden = self.hidden[b * n..(b + 1) * n].to_vec();
                for g in 0..4 {
                    for c in 0..n {
                        let w = &self.weights[g][c * self.inputs..(c + 1) * self.inputs];
                        let r = &self.recurrent[g][c * n..(c + 1) * n];
                        let z = xr.iter().zip(w).map(|(a, k)| a * k).sum::<f32>()
                            + self.biases[g][c]
                            + hidden.iter().zip(r).map(|(a, k)| a * k).sum::<f32>();
                        gates[g * n + c] = if g == 2 {
                            z.tanh()
                        } else {
                            1.0 / (1.0 + (-z).exp())
                        };
                    }
                }
                for c in 0..n {
                    let (i, f, g, o) = (gates[c], gates[n + c], gates[2 * n + c], gates[3 * n + c]);
                    let cell = &mut self.cell[b * n + c];
                    *cell = f * *cell + i * g;
                    if self.clip > 0.0 {
                        *cell = cell.clamp(-self.clip, self.clip);
                    }
                    self.max_abs = self.max_abs.max(cell.abs());
                    self.hidden[b * n + c] = o * cell.tanh();
                }
            }
        }
    }
}

/// Whether `op` is an LSTM.
pub fn is_lstm(op: &OperatorDef) -> bool {
    op.op == BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cell_scale_is_the_power_of_two_above_the_range() {
        // trained_lstm_int8.tflite's cell: scale 2^-12, a range of +-8.
        assert_eq!(cell_scale(5.3), 1.0 / 4096.0);
        assert_eq!(cell_scale(8.0), 1.0 / 4096.0);
        assert_eq!(cell_scale(8.01), 1.0 / 2048.0);
        assert_eq!(cell_scale(0.9), 1.0 / 32768.0);
    }
}
