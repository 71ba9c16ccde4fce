//! Calibration: run the float model on representative inputs with
//! mote-runtime's float kernels and record every activation's values.
//!
//! The model is rewritten so that every operator output is also a graph
//! output (the interpreter keeps graph outputs alive), then run once per
//! sample. A first pass records each tensor's min and max; a second pass, when
//! the range method needs it, fills a histogram over that range.

use mote_runtime::{Interpreter, Model, OpResolver, TensorType};
use mote_train::tflite::ModelDef;

use super::lstm;
use super::range::Histogram;
use super::QuantizeError;

/// Representative inputs: `count` samples of the model's input, float32.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Calibration {
    /// Samples stacked along the first axis of `shape` (`[N, ...]`), `data` in C order.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self, QuantizeError> {
        let count = shape.first().copied().unwrap_or(0);
        if count == 0 || data.is_empty() {
            return Err(QuantizeError::EmptyCalibration);
        }
        if shape.iter().product::<usize>() != data.len() {
            return Err(QuantizeError::CalibrationShape {
                expected: vec![data.len()],
                found: shape,
            });
        }
        Ok(Calibration { shape, data })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.shape[0]
    }

    /// Whether there are no samples (never, once built).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape of the whole set, `[N, ...]`.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Sample `i`'s values.
    pub fn sample(&self, i: usize) -> &[f32] {
        let n = self.data.len() / self.len();
        &self.data[i * n..(i + 1) * n]
    }

    /// Checks the samples against a model input of shape `input`: each sample
    /// must have the input's shape, or the input's shape without its batch 1,
    /// or as many values in row-major order (flat `[N, 64]` rows for an
    /// `[1, 8, 8, 1]` image input, as `mote train` and `mote eval` read them).
    pub fn check(&self, input: &[usize]) -> Result<(), QuantizeError> {
        let per_sample = &self.shape[1..];
        let matches = per_sample == input
            || (input.first() == Some(&1) && per_sample == &input[1..])
            || per_sample.iter().product::<usize>() == input.iter().product::<usize>();
        if matches {
            Ok(())
        } else {
            Err(QuantizeError::CalibrationShape {
                expected: input.to_vec(),
                found: self.shape.clone(),
            })
        }
    }
}

/// What calibration recorded for one activation tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// The tensor's index in the model.
    pub tensor: usize,
    /// Its values' histogram (one bin when only min/max was asked for).
    pub histogram: Histogram,
}

/// Runs `def` (a float model with one input) on every sample and returns, for
/// the graph input and every operator output, a histogram of `bins` bins
/// over the values seen; and for each LSTM's cell state, its range
/// `[-max |cell|, max |cell|]` as [`lstm::CellRange`] replays it.
pub fn calibrate(
    def: &ModelDef,
    calibration: &Calibration,
    bins: usize,
) -> Result<Vec<Observed>, QuantizeError> {
    let [input] = def.inputs[..] else {
        return Err(QuantizeError::Unsupported("a model with several inputs"));
    };
    let input = input as usize;
    let mut tensors = vec![input];
    for op in &def.operators {
        for &o in &op.outputs {
            if !tensors.contains(&(o as usize)) {
                tensors.push(o as usize);
            }
        }
    }
    for &t in &tensors {
        let tensor = &def.tensors[t];
        if tensor.dtype != TensorType::Float32 {
            return Err(QuantizeError::NotFloat {
                tensor: tensor.name.clone(),
                dtype: tensor.dtype,
            });
        }
    }
    let mut probe = def.clone();
    probe.outputs = tensors[1..].iter().map(|&t| t as i32).collect();
    let bytes = probe
        .to_bytes()
        .map_err(|_| QuantizeError::Unsupported("a model that cannot be written back"))?;
    let model = Model::parse(&bytes).map_err(QuantizeError::Model)?;
    let shape = model
        .main()
        .tensor(input)
        .map(|t| t.shape().dims().to_vec())
        .unwrap_or_default();
    calibration.check(&shape)?;

    let mut runner = Runner::new(&model)?;
    let mut ranges = vec![(f32::INFINITY, f32::NEG_INFINITY); tensors.len()];
    // Each LSTM's cell state, replayed on the LSTM's input as it is seen.
    let mut cells = Vec::new();
    for (index, op) in def.operators.iter().enumerate() {
        if !lstm::is_lstm(op) {
            continue;
        }
        let options = model.main().operator(index).map(|o| o.options());
        let replay = options
            .and_then(|o| lstm::CellRange::new(def, op, &o))
            .ok_or(QuantizeError::UnsupportedOp { index, op: op.op })?;
        let slot = tensors
            .iter()
            .position(|&t| t == replay.input)
            .ok_or(QuantizeError::UnsupportedOp { index, op: op.op })?;
        cells.push((slot, replay));
    }
    runner.each(calibration, |slot, values| {
        for (s, replay) in &mut cells {
            if *s == slot {
                replay.run(values);
            }
        }
        let (lo, hi) = &mut ranges[slot];
        for &v in values {
            if !v.is_finite() {
                return Err(QuantizeError::NonFinite {
                    tensor: def.tensors[tensors[slot]].name.clone(),
                });
            }
            *lo = lo.min(v);
            *hi = hi.max(v);
        }
        Ok(())
    })?;
    let mut histograms: Vec<Histogram> = ranges
        .iter()
        .map(|&(lo, hi)| Histogram::new(lo, hi, bins))
        .collect();
    if bins > 1 {
        runner.each(calibration, |slot, values| {
            histograms[slot].add(values);
            Ok(())
        })?;
    } else {
        for h in &mut histograms {
            h.counts[0] = 1;
        }
    }
    let mut observed: Vec<Observed> = tensors
        .into_iter()
        .zip(histograms)
        .map(|(tensor, histogram)| Observed { tensor, histogram })
        .collect();
    for (_, replay) in cells {
        let mut histogram = Histogram::new(-replay.max_abs, replay.max_abs, 1);
        histogram.counts[0] = 1;
        observed.push(Observed {
            tensor: replay.cell_state,
            histogram,
        });
    }
    Ok(observed)
}

/// The largest arena calibration allocates.
const MAX_ARENA: usize = 1 << 31;

/// The probe model in an interpreter, with an arena of the size it needs.
struct Runner<'m> {
    model: &'m Model<'m>,
    arena: Vec<u8>,
}

impl<'m> Runner<'m> {
    fn new(model: &'m Model<'m>) -> Result<Self, QuantizeError> {
        let mut size = 1 << 20;
        loop {
            let mut arena = vec![0u8; size];
            match Interpreter::new(model, &mut arena, &OpResolver::all()) {
                Ok(_) => return Ok(Runner { model, arena }),
                // Grow to what the planner asks for (or double), up to 2 GiB.
                Err(e @ mote_runtime::Error::ArenaTooSmall { needed, .. }) => {
                    size = if needed > size {
                        needed.saturating_add(1024)
                    } else {
                        size.saturating_mul(2)
                    };
                    if size > MAX_ARENA {
                        return Err(QuantizeError::Calibration(e));
                    }
                }
                Err(e) => return Err(QuantizeError::Calibration(e)),
            }
        }
    }

    /// Runs every sample; `f(slot, values)` sees the input as slot 0 and
    /// graph output `k` as slot `k + 1`.
    fn each(
        &mut self,
        calibration: &Calibration,
        mut f: impl FnMut(usize, &[f32]) -> Result<(), QuantizeError>,
    ) -> Result<(), QuantizeError> {
        let mut interpreter = Interpreter::new(self.model, &mut self.arena, &OpResolver::all())
            .map_err(QuantizeError::Calibration)?;
        for i in 0..calibration.len() {
            let sample = calibration.sample(i);
            interpreter
                .input_mut::<f32>(0)
                .map_err(QuantizeError::Calibration)?
                .copy_from_slice(sample);
            f(0, sample)?;
            interpreter.invoke().map_err(QuantizeError::Calibration)?;
            for o in 0..interpreter.output_count() {
                let values = interpreter
                    .output::<f32>(o)
                    .map_err(QuantizeError::Calibration)?;
                f(o + 1, values)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mote_runtime::BuiltinOperator;
    use mote_train::tflite::{OperatorDef, OptionsDef, TensorDef};

    /// h = relu(2x - 1), y = h - 3 (a second FULLY_CONNECTED, w = 1, b = -3).
    fn two_lines() -> ModelDef {
        ModelDef {
            description: "two lines".into(),
            name: "main".into(),
            tensors: vec![
                TensorDef::new("x", &[1, 1], TensorType::Float32),
                TensorDef::constant_f32("w1", &[1, 1], &[2.0]),
                TensorDef::constant_f32("b1", &[1], &[-1.0]),
                TensorDef::new("h", &[1, 1], TensorType::Float32),
                TensorDef::constant_f32("w2", &[1, 1], &[1.0]),
                TensorDef::constant_f32("b2", &[1], &[-3.0]),
                TensorDef::new("y", &[1, 1], TensorType::Float32),
            ],
            operators: vec![
                OperatorDef::new(
                    BuiltinOperator::FULLY_CONNECTED,
                    &[0, 1, 2],
                    &[3],
                    OptionsDef::fully_connected(1, false),
                ),
                OperatorDef::new(
                    BuiltinOperator::FULLY_CONNECTED,
                    &[3, 4, 5],
                    &[6],
                    OptionsDef::fully_connected(0, false),
                ),
            ],
            inputs: vec![0],
            outputs: vec![6],
            metadata: vec![],
            signature_defs: vec![],
        }
    }

    #[test]
    fn every_activation_range_is_recorded() {
        // x in {0, 1, 2}: h = relu(2x - 1) in {0, 1, 3}; y = h - 3 in {-3, -2, 0}.
        let samples = Calibration::new(vec![3, 1], vec![0.0, 1.0, 2.0]).unwrap();
        let seen = calibrate(&two_lines(), &samples, 1).unwrap();
        let ranges: Vec<(usize, f32, f32)> = seen
            .iter()
            .map(|o| (o.tensor, o.histogram.min, o.histogram.max))
            .collect();
        assert_eq!(ranges, vec![(0, 0.0, 2.0), (3, 0.0, 3.0), (6, -3.0, 0.0)]);
    }

    #[test]
    fn histograms_count_every_value() {
        // h over [0, 3] in 3 bins: 0 -> bin 0, 1 -> bin 1, 3 -> bin 2 (the top edge).
        let samples = Calibration::new(vec![3, 1], vec![0.0, 1.0, 2.0]).unwrap();
        let seen = calibrate(&two_lines(), &samples, 3).unwrap();
        assert_eq!(seen[1].histogram.counts, vec![1, 1, 1]);
    }

    #[test]
    fn bad_calibration_sets_are_refused() {
        assert_eq!(
            Calibration::new(vec![0, 1], vec![]),
            Err(QuantizeError::EmptyCalibration)
        );
        let wrong = Calibration::new(vec![2, 2], vec![0.0; 4]).unwrap();
        assert_eq!(
            calibrate(&two_lines(), &wrong, 1),
            Err(QuantizeError::CalibrationShape {
                expected: vec![1, 1],
                found: vec![2, 2]
            })
        );
    }
}
