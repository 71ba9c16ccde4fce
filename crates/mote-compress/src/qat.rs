//! Quantization-aware training: fine-tune a float classifier with the int8
//! model's rounding simulated in the forward pass, then export it through
//! the post-training rewrite ([`rewrite`]) with the ranges learned here, so
//! the exported model computes what was trained for.
//!
//! The forward pass fake-quantizes (quantizes, then dequantizes) every tensor
//! the int8 model quantizes, with the same functions the rewrite uses:
//! - weights per output channel, symmetric int8
//!   ([`quantize_weights`], as the PTQ does);
//! - biases to int32 at `input_scale * weight_scale` ([`quantize_bias`]);
//! - the input and every operator output with asymmetric int8
//!   ([`ActivationQuant::from_range`]) over a tracked range: initialized by a
//!   calibration pass (min/max), then an exponential moving average of each
//!   batch's min/max, frozen after [`QatConfig::freeze_after`] epochs;
//!   SOFTMAX/LOGISTIC/TANH outputs at their fixed int8 scales.
//!
//! The backward pass is the straight-through estimator: rounding passes the
//! gradient unchanged, and an activation clipped by its range passes none
//! (TensorFlow's `FakeQuantWithMinMaxVars`). The loss is sparse categorical
//! cross-entropy on the float softmax of the (fake-quantized) logits.
//!
//! Supported: a chain of FULLY_CONNECTED (fused NONE, RELU or RELU6), RELU,
//! RELU6, TANH and LOGISTIC, ending in SOFTMAX (beta 1). Any other operator
//! is refused by name.

use mote_runtime::{BuiltinOperator, Model};
use mote_train::tflite::ModelDef;
use mote_train::Rng;

use crate::quantize::calibrate::{calibrate, Observed};
use crate::quantize::range::{ActivationQuant, Histogram};
use crate::quantize::rewrite::weights_per_channel;
use crate::quantize::rewrite::{check_weights, rewrite, PROBABILITY, TANH};
use crate::quantize::weights::{quantize_bias, quantize_weights_as, WeightType};
use crate::quantize::{import, Calibration, Io, QuantizeConfig, QuantizeError, RangeMethod};

/// How to fine-tune.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QatConfig {
    /// Fine-tuning epochs.
    pub epochs: usize,
    /// Rows per step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f32,
    /// Seed of the batch order.
    pub seed: u64,
    /// Weight of the old range in each moving-average update.
    pub ema_decay: f32,
    /// Epochs after which the activation ranges stop moving (`None`: half the epochs, rounded up).
    pub freeze_after: Option<usize>,
    /// The exported model's input and output type.
    pub io: Io,
    /// How weights are stored (and fake-quantized): int4 FULLY_CONNECTED
    /// weights take one scale per tensor, as the rewrite writes them.
    pub weights: WeightType,
}

impl Default for QatConfig {
    fn default() -> Self {
        QatConfig {
            epochs: 10,
            batch_size: 32,
            learning_rate: 1e-3,
            seed: 0,
            ema_decay: 0.99,
            freeze_after: None,
            io: Io::Int8,
            weights: WeightType::Int8,
        }
    }
}

/// Why quantization-aware training failed.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum QatError {
    /// Reading, calibrating or rewriting the model failed.
    Quantize(QuantizeError),
    /// An operator QAT does not simulate.
    UnsupportedOp {
        /// Its position in execution order.
        index: usize,
        /// Which operator.
        op: BuiltinOperator,
    },
    /// The model is not a chain of operators ending in SOFTMAX.
    Shape(String),
    /// The training examples and labels do not fit the model.
    Data(String),
}

impl std::fmt::Display for QatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QatError::Quantize(e) => write!(f, "{e}"),
            QatError::UnsupportedOp { index, op } => write!(
                f,
                "operator {index} ({op}) is not supported by quantization-aware training (FULLY_CONNECTED, RELU, RELU6, TANH, LOGISTIC and SOFTMAX are)"
            ),
            QatError::Shape(what) | QatError::Data(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for QatError {}

impl From<QuantizeError> for QatError {
    fn from(e: QuantizeError) -> Self {
        QatError::Quantize(e)
    }
}

/// What fine-tuning did.
#[derive(Clone, Debug, PartialEq)]
pub struct QatReport {
    /// Mean training loss of each epoch (fake-quantized forward pass).
    pub loss: Vec<f32>,
    /// Each activation's final range: tensor name, min, max.
    pub ranges: Vec<(String, f32, f32)>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Act {
    Linear,
    Relu,
    Relu6,
    Tanh,
    Sigmoid,
}

impl Act {
    fn apply(self, z: f32) -> f32 {
        match self {
            Act::Linear => z,
            Act::Relu => z.max(0.0),
            Act::Relu6 => z.clamp(0.0, 6.0),
            Act::Tanh => z.tanh(),
            Act::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        }
    }

    /// d act / d z, from z and the activation's value y.
    fn derivative(self, z: f32, y: f32) -> f32 {
        match self {
            Act::Linear => 1.0,
            Act::Relu => f32::from(z > 0.0),
            Act::Relu6 => f32::from(z > 0.0 && z < 6.0),
            Act::Tanh => 1.0 - y * y,
            Act::Sigmoid => y * (1.0 - y),
        }
    }
}

#[derive(Clone, Debug)]
enum Step {
    Dense {
        units: usize,
        fan_in: usize,
        /// `[units, fan_in]`, TFLite's layout.
        weights: Vec<f32>,
        bias: Option<Vec<f32>>,
        act: Act,
        weight_tensor: usize,
        bias_tensor: Option<usize>,
    },
    Activation(Act),
    Softmax,
}

/// A tensor's tracked range, or its fixed quantization.
#[derive(Clone, Copy, Debug)]
struct Range {
    min: f32,
    max: f32,
    fixed: Option<ActivationQuant>,
}

impl Range {
    fn quant(&self) -> ActivationQuant {
        self.fixed
            .unwrap_or_else(|| ActivationQuant::from_range(self.min, self.max))
    }
}

#[derive(Clone, Debug)]
struct Node {
    step: Step,
    output: usize,
    range: Range,
}

/// The network as QAT simulates it.
#[derive(Clone, Debug)]
struct Network {
    input: usize,
    input_range: Range,
    width: usize,
    nodes: Vec<Node>,
    /// How the weights are fake-quantized.
    weights: WeightType,
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Fake-quantizes `values` in place with `q`; returns which passed unclipped.
fn fake_quantize(values: &mut [f32], q: ActivationQuant) -> Vec<bool> {
    let lo = (-128 - q.zero_point) as f32 * q.scale;
    let hi = (127 - q.zero_point) as f32 * q.scale;
    values
        .iter_mut()
        .map(|v| {
            let inside = *v >= lo && *v <= hi;
            *v = q.fake_quantize(*v);
            inside
        })
        .collect()
}

impl Network {
    /// Reads the chain of supported ops from `float` (and the parsed file
    /// `model`, for options), with ranges from calibration.
    fn new(float: &ModelDef, model: &Model<'_>, observed: &[Observed]) -> Result<Self, QatError> {
        let range_of = |t: usize| {
            observed
                .iter()
                .find(|o| o.tensor == t)
                .map(|o| Range {
                    min: o.histogram.min,
                    max: o.histogram.max,
                    fixed: None,
                })
                .ok_or_else(|| QatError::Shape(format!("tensor {t} was not calibrated")))
        };
        let [input] = float.inputs[..] else {
            return Err(QatError::Shape("QAT needs a model with one input".into()));
        };
        let input = input as usize;
        let width = float.tensors[input]
            .shape
            .last()
            .map_or(0, |&d| d.max(0) as usize);
        let mut nodes: Vec<Node> = Vec::new();
        let mut current = input;
        let graph = model.main();
        for (index, op) in float.operators.iter().enumerate() {
            let unsupported = QatError::UnsupportedOp { index, op: op.op };
            let options = graph.operator(index).map(|o| o.options());
            if op.inputs.first().map(|&i| i as usize) != Some(current) || op.outputs.len() != 1 {
                return Err(QatError::Shape(format!(
                    "operator {index} ({}) does not take the previous operator's output: QAT handles a chain of layers",
                    op.op
                )));
            }
            let output = op.outputs[0] as usize;
            let fixed = |q: ActivationQuant| Range {
                min: 0.0,
                max: 0.0,
                fixed: Some(q),
            };
            let (step, range) = match op.op {
                BuiltinOperator::FULLY_CONNECTED => {
                    let w = &float.tensors[op.inputs.get(1).map_or(0, |&i| i.max(0)) as usize];
                    let (Some(data), &[units, fan_in]) = (&w.data, &w.shape[..]) else {
                        return Err(QatError::Shape(format!(
                            "operator {index} (FULLY_CONNECTED): weights are not a constant matrix"
                        )));
                    };
                    let bias_tensor = op.inputs.get(2).filter(|&&b| b >= 0).map(|&b| b as usize);
                    let bias =
                        bias_tensor.map(|b| f32s(float.tensors[b].data.as_deref().unwrap_or(&[])));
                    let act = match options.map_or(0, |o| o.u8(0, 0)) {
                        0 => Act::Linear,
                        1 => Act::Relu,
                        3 => Act::Relu6,
                        code => {
                            return Err(QatError::Shape(format!(
                                "operator {index} (FULLY_CONNECTED): fused activation {code} is not supported"
                            )))
                        }
                    };
                    let step = Step::Dense {
                        units: units as usize,
                        fan_in: fan_in as usize,
                        weights: f32s(data),
                        bias,
                        act,
                        weight_tensor: op.inputs[1] as usize,
                        bias_tensor,
                    };
                    (step, range_of(output)?)
                }
                BuiltinOperator::RELU => (Step::Activation(Act::Relu), range_of(output)?),
                BuiltinOperator::RELU6 => (Step::Activation(Act::Relu6), range_of(output)?),
                BuiltinOperator::TANH => (Step::Activation(Act::Tanh), fixed(TANH)),
                BuiltinOperator::LOGISTIC => (Step::Activation(Act::Sigmoid), fixed(PROBABILITY)),
                BuiltinOperator::SOFTMAX => {
                    if options.map_or(1.0, |o| o.f32(0, 1.0)) != 1.0 {
                        return Err(QatError::Shape(format!(
                            "operator {index} (SOFTMAX): only beta 1 is supported"
                        )));
                    }
                    (Step::Softmax, fixed(PROBABILITY))
                }
                _ => return Err(unsupported),
            };
            if matches!(
                nodes.last(),
                Some(Node {
                    step: Step::Softmax,
                    ..
                })
            ) {
                return Err(QatError::Shape(format!(
                    "operator {index} ({}) follows SOFTMAX: QAT trains classifiers that end in SOFTMAX",
                    op.op
                )));
            }
            nodes.push(Node {
                step,
                output,
                range,
            });
            current = output;
        }
        if !matches!(
            nodes.last(),
            Some(Node {
                step: Step::Softmax,
                ..
            })
        ) {
            return Err(QatError::Shape(
                "the model does not end in SOFTMAX: QAT trains classifiers (cross-entropy on class probabilities)".into(),
            ));
        }
        if float.outputs != [current as i32] {
            return Err(QatError::Shape(
                "the model's output is not its last operator's".into(),
            ));
        }
        Ok(Network {
            input,
            input_range: range_of(input)?,
            width,
            nodes,
            weights: WeightType::Int8,
        })
    }

    /// The parameters, in order: each Dense layer's weights, then its bias.
    fn params_mut(&mut self) -> Vec<&mut Vec<f32>> {
        let mut out: Vec<&mut Vec<f32>> = Vec::new();
        for node in &mut self.nodes {
            if let Step::Dense { weights, bias, .. } = &mut node.step {
                out.push(weights);
                if let Some(b) = bias {
                    out.push(b);
                }
            }
        }
        out
    }

    /// One forward and backward pass over `x` (`rows` x `width`) with labels
    /// `y`: the mean loss and the gradient of each parameter (as [`params`]).
    /// With `track`, every tracked range first moves toward the batch's min/max.
    fn step(&mut self, x: &[f32], y: &[usize], track: Option<f32>) -> (f32, Vec<Vec<f32>>) {
        let rows = y.len();
        let to = self.weights;
        let update = |range: &mut Range, values: &[f32]| {
            if let (Some(decay), None) = (track, range.fixed) {
                let lo = values.iter().copied().fold(f32::INFINITY, f32::min);
                let hi = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                range.min = decay * range.min + (1.0 - decay) * lo;
                range.max = decay * range.max + (1.0 - decay) * hi;
            }
        };
        let mut a = x.to_vec();
        update(&mut self.input_range, &a);
        let mut input_quant = self.input_range.quant();
        fake_quantize(&mut a, input_quant);
        // Per node: its input, pre-activation, output, pass-through mask, fake-quantized weights.
        struct Saved {
            input: Vec<f32>,
            z: Vec<f32>,
            y: Vec<f32>,
            mask: Vec<bool>,
            wq: Vec<f32>,
        }
        let mut saved: Vec<Saved> = Vec::with_capacity(self.nodes.len());
        let mut probabilities = Vec::new();
        for node in &mut self.nodes {
            let input = a;
            let (z, wq) = match &node.step {
                Step::Dense {
                    units,
                    fan_in,
                    weights,
                    bias,
                    ..
                } => {
                    let (units, fan_in) = (*units, *fan_in);
                    let per_channel = weights_per_channel(BuiltinOperator::FULLY_CONNECTED, to);
                    let w = quantize_weights_as(weights, &[units, fan_in], 0, per_channel, to);
                    let scale = |c: usize| w.scales[c.min(w.scales.len() - 1)];
                    let wq: Vec<f32> = w
                        .values
                        .iter()
                        .enumerate()
                        .map(|(i, &q)| f32::from(q) * scale(i / fan_in))
                        .collect();
                    let bq: Vec<f32> = match bias {
                        Some(b) => {
                            let (q, s) = quantize_bias(b, input_quant.scale, &w.scales);
                            q.iter()
                                .enumerate()
                                .map(|(c, &q)| q as f32 * s[c.min(s.len() - 1)])
                                .collect()
                        }
                        None => vec![0.0; units],
                    };
                    let mut z = vec![0.0f32; rows * units];
                    for r in 0..rows {
                        let xr = &input[r * fan_in..(r + 1) * fan_in];
                        for u in 0..units {
                            let wr = &wq[u * fan_in..(u + 1) * fan_in];
                            z[r * units + u] =
                                bq[u] + xr.iter().zip(wr).map(|(a, b)| a * b).sum::<f32>();
                        }
                    }
                    (z, wq)
                }
                Step::Activation(_) | Step::Softmax => (input.clone(), Vec::new()),
            };
            let mut out: Vec<f32> = match &node.step {
                Step::Dense { act, .. } | Step::Activation(act) => {
                    z.iter().map(|&v| act.apply(v)).collect()
                }
                Step::Softmax => {
                    let classes = z.len() / rows.max(1);
                    let mut p = z.clone();
                    for row in p.chunks_mut(classes.max(1)) {
                        let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                        let sum: f32 = row
                            .iter_mut()
                            .map(|v| {
                                *v = (*v - m).exp();
                                *v
                            })
                            .sum();
                        row.iter_mut().for_each(|v| *v /= sum);
                    }
                    probabilities.clone_from(&p);
                    p
                }
            };
            update(&mut node.range, &out);
            let quant = node.range.quant();
            let mask = match node.step {
                // The loss reads the float probabilities.
                Step::Softmax => vec![true; out.len()],
                _ => fake_quantize(&mut out, quant),
            };
            input_quant = quant;
            a = out.clone();
            saved.push(Saved {
                input,
                z,
                y: out,
                mask,
                wq,
            });
        }
        // Loss and d loss / d logits = (p - onehot) / rows.
        let classes = probabilities.len() / rows.max(1);
        let mut loss = 0.0f64;
        let mut grad = probabilities;
        for (r, &label) in y.iter().enumerate() {
            loss -= f64::from(grad[r * classes + label].max(1e-7).ln());
            grad[r * classes + label] -= 1.0;
        }
        grad.iter_mut().for_each(|g| *g /= rows as f32);
        // Backward; the softmax node passes `grad` to its input (the logits).
        let mut grads: Vec<Vec<f32>> = Vec::new();
        for (node, s) in self.nodes.iter().zip(&saved).rev() {
            match &node.step {
                Step::Softmax => {}
                Step::Activation(act) => {
                    for (i, g) in grad.iter_mut().enumerate() {
                        *g *= f32::from(u8::from(s.mask[i])) * act.derivative(s.z[i], s.y[i]);
                    }
                }
                Step::Dense {
                    units,
                    fan_in,
                    bias,
                    act,
                    ..
                } => {
                    let (units, fan_in) = (*units, *fan_in);
                    for (i, g) in grad.iter_mut().enumerate() {
                        *g *= f32::from(u8::from(s.mask[i]))
                            * act.derivative(s.z[i], act.apply(s.z[i]));
                    }
                    let mut dw = vec![0.0f32; units * fan_in];
                    let mut db = vec![0.0f32; units];
                    let mut dx = vec![0.0f32; rows * fan_in];
                    for r in 0..rows {
                        let xr = &s.input[r * fan_in..(r + 1) * fan_in];
                        let dxr = &mut dx[r * fan_in..(r + 1) * fan_in];
                        for u in 0..units {
                            let g = grad[r * units + u];
                            if g == 0.0 {
                                continue;
                            }
                            db[u] += g;
                            let wr = &s.wq[u * fan_in..(u + 1) * fan_in];
                            let dwr = &mut dw[u * fan_in..(u + 1) * fan_in];
                            for k in 0..fan_in {
                                dwr[k] += g * xr[k];
                                dxr[k] += g * wr[k];
                            }
                        }
                    }
                    if bias.is_some() {
                        grads.push(db);
                    }
                    grads.push(dw);
                    grad = dx;
                }
            }
        }
        grads.reverse();
        ((loss / rows.max(1) as f64) as f32, grads)
    }

    /// Writes the weights and the ranges into `float` and the observations the rewrite reads.
    fn export(&self, float: &mut ModelDef) -> Vec<Observed> {
        let observed = |tensor: usize, r: &Range| Observed {
            tensor,
            histogram: Histogram {
                min: r.min,
                max: r.max,
                counts: vec![1],
            },
        };
        let mut out = vec![observed(self.input, &self.input_range)];
        for node in &self.nodes {
            if let Step::Dense {
                weights,
                bias,
                weight_tensor,
                bias_tensor,
                ..
            } = &node.step
            {
                float.tensors[*weight_tensor].data =
                    Some(weights.iter().flat_map(|v| v.to_le_bytes()).collect());
                if let (Some(b), Some(t)) = (bias, bias_tensor) {
                    float.tensors[*t].data = Some(b.iter().flat_map(|v| v.to_le_bytes()).collect());
                }
            }
            if node.range.fixed.is_none() {
                out.push(observed(node.output, &node.range));
            }
        }
        out
    }
}

/// Refuses, by name, the first operator QAT does not simulate (before
/// calibration, which might fail on it less clearly).
fn check_ops(float: &ModelDef) -> Result<(), QatError> {
    use BuiltinOperator as B;
    let supported = [
        B::FULLY_CONNECTED,
        B::RELU,
        B::RELU6,
        B::TANH,
        B::LOGISTIC,
        B::SOFTMAX,
    ];
    match float
        .operators
        .iter()
        .position(|op| !supported.contains(&op.op))
    {
        Some(index) => Err(QatError::UnsupportedOp {
            index,
            op: float.operators[index].op,
        }),
        None => Ok(()),
    }
}

/// Adam as Keras defines it (beta 0.9 / 0.999, epsilon 1e-7).
struct Adam {
    rate: f32,
    t: i32,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

impl Adam {
    fn step(&mut self, params: Vec<&mut Vec<f32>>, grads: &[Vec<f32>]) {
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-7f32);
        self.t += 1;
        let rate = self.rate * (1.0 - b2.powi(self.t)).sqrt() / (1.0 - b1.powi(self.t));
        if self.m.is_empty() {
            self.m = grads.iter().map(|g| vec![0.0; g.len()]).collect();
            self.v = self.m.clone();
        }
        for (((p, g), m), v) in params
            .into_iter()
            .zip(grads)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            for i in 0..p.len() {
                m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                p[i] -= rate * m[i] / (v[i].sqrt() + eps);
            }
        }
    }
}

/// Fine-tunes the float classifier `bytes` with fake quantization on `x`
/// (`[N, features]`, row-major) and class labels `y`, its ranges first
/// calibrated on `calibration` (or `x`), and returns the int8 model the
/// post-training rewrite makes from the trained weights and learned ranges.
pub fn qat(
    bytes: &[u8],
    x: &Calibration,
    y: &[f32],
    calibration: Option<&Calibration>,
    config: &QatConfig,
) -> Result<(ModelDef, QatReport), QatError> {
    let mut float = import::import(bytes)?;
    check_weights(&float)?;
    let model = Model::parse(bytes).map_err(QuantizeError::Model)?;
    check_ops(&float)?;
    if x.len() != y.len() {
        return Err(QatError::Data(format!(
            "{} training examples but {} labels",
            x.len(),
            y.len()
        )));
    }
    let observed = calibrate(&float, calibration.unwrap_or(x), 1)?;
    let mut net = Network::new(&float, &model, &observed)?;
    net.weights = config.weights;
    let features = x.sample(0).len();
    if features != net.width {
        return Err(QatError::Data(format!(
            "the training examples have {features} values each, but the model input has {}",
            net.width
        )));
    }
    let classes = float.tensors[*float.outputs.first().unwrap_or(&0) as usize]
        .shape
        .last()
        .map_or(0, |&d| d.max(0) as usize);
    let mut labels = Vec::with_capacity(y.len());
    for (row, &label) in y.iter().enumerate() {
        if !(label >= 0.0 && label.fract() == 0.0 && (label as usize) < classes) {
            return Err(QatError::Data(format!(
                "label {label} of row {row} is not a class index in 0..{classes}"
            )));
        }
        labels.push(label as usize);
    }
    let freeze_after = config.freeze_after.unwrap_or(config.epochs.div_ceil(2));
    let mut adam = Adam {
        rate: config.learning_rate,
        t: 0,
        m: Vec::new(),
        v: Vec::new(),
    };
    let mut rng = Rng::new(config.seed);
    let mut order: Vec<usize> = (0..labels.len()).collect();
    let mut losses = Vec::with_capacity(config.epochs);
    let batch_size = config.batch_size.max(1);
    for epoch in 0..config.epochs {
        rng.shuffle(&mut order);
        let track = (epoch < freeze_after).then_some(config.ema_decay);
        let (mut sum, mut seen) = (0.0f64, 0usize);
        for batch in order.chunks(batch_size) {
            let xb: Vec<f32> = batch
                .iter()
                .flat_map(|&r| x.sample(r).iter().copied())
                .collect();
            let yb: Vec<usize> = batch.iter().map(|&r| labels[r]).collect();
            let (loss, grads) = net.step(&xb, &yb, track);
            adam.step(net.params_mut(), &grads);
            sum += f64::from(loss) * batch.len() as f64;
            seen += batch.len();
        }
        losses.push((sum / seen.max(1) as f64) as f32);
    }
    let observed = net.export(&mut float);
    let ranges = observed
        .iter()
        .map(|o| {
            (
                float.tensors[o.tensor].name.clone(),
                o.histogram.min,
                o.histogram.max,
            )
        })
        .collect();
    let quantize = QuantizeConfig {
        method: RangeMethod::MinMax,
        overrides: Vec::new(),
        per_channel: true,
        weights: config.weights,
        io: config.io,
    };
    let mut int8 = rewrite(&float, &observed, &quantize)?;
    int8.description = match config.weights {
        WeightType::Int8 => "mote int8 (quantization-aware training)",
        WeightType::Int4 => "mote int8, int4 weights (quantization-aware training)",
    }
    .into();
    Ok((
        int8,
        QatReport {
            loss: losses,
            ranges,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantize::quantize;
    use mote_train::{Activation, Dense, Layer, Sequential};

    /// 3 -> Dense 4 relu -> Dense 3 softmax, seeded, as a float `.tflite`.
    fn tiny() -> Vec<u8> {
        let model = Sequential::new([
            Layer::from(Dense::new(4).activation(Activation::Relu).input_shape([3])),
            Dense::new(3).activation(Activation::Softmax).into(),
        ])
        .seeded(3)
        .unwrap();
        mote_train::tflite::export(&model)
            .unwrap()
            .to_bytes()
            .unwrap()
    }

    fn samples() -> (Calibration, Vec<f32>) {
        let mut rng = Rng::new(1);
        let x: Vec<f32> = (0..60).map(|_| rng.uniform(-1.0, 1.0)).collect();
        let y: Vec<f32> = (0..20).map(|i| (i % 3) as f32).collect();
        (Calibration::new(vec![20, 3], x).unwrap(), y)
    }

    #[test]
    fn without_training_qat_exports_exactly_the_min_max_ptq_model() {
        // Zero epochs: the weights are the file's and the ranges calibration's
        // min/max, so the rewrite must produce the PTQ model byte for byte
        // (but for the description).
        let (x, y) = samples();
        let config = QatConfig {
            epochs: 0,
            ..QatConfig::default()
        };
        let (mut qat_model, report) = qat(&tiny(), &x, &y, None, &config).unwrap();
        let ptq = quantize(&tiny(), &x, &QuantizeConfig::default()).unwrap();
        qat_model.description.clone_from(&ptq.description);
        assert_eq!(qat_model.to_bytes().unwrap(), ptq.to_bytes().unwrap());
        // Input, hidden layer and logits are tracked; the softmax output is fixed.
        assert_eq!(report.ranges.len(), 3);
    }

    #[test]
    fn training_lowers_the_fake_quantized_loss() {
        let (x, y) = samples();
        let config = QatConfig {
            epochs: 30,
            learning_rate: 1e-2,
            batch_size: 5,
            ..QatConfig::default()
        };
        let (_, report) = qat(&tiny(), &x, &y, None, &config).unwrap();
        assert!(report.loss[29] < report.loss[0], "{:?}", report.loss);
    }

    #[test]
    fn labels_outside_the_classes_are_refused() {
        let (x, mut y) = samples();
        y[4] = 3.0;
        let err = qat(&tiny(), &x, &y, None, &QatConfig::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "label 3 of row 4 is not a class index in 0..3"
        );
    }
}
