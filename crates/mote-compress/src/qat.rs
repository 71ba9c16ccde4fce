//! Quantization-aware training: fine-tune a float classifier with the int8
//! model's rounding simulated in the forward pass, then export it through
//! the post-training rewrite ([`rewrite`]) with the ranges learned here, so
//! the exported model computes what was trained for.
//!
//! The forward pass fake-quantizes (quantizes, then dequantizes) every tensor
//! the int8 model quantizes, with the same functions the rewrite uses:
//! - weights per output channel, symmetric int8 (FULLY_CONNECTED and CONV_2D
//!   on axis 0, DEPTHWISE_CONV_2D on axis 3, as the PTQ does);
//! - biases to int32 at `input_scale * weight_scale` ([`quantize_bias`]);
//! - the input and every operator output with asymmetric int8
//!   ([`ActivationQuant::from_range`]) over a tracked range: initialized by a
//!   calibration pass (min/max), then an exponential moving average of each
//!   batch's min/max, frozen after [`QatConfig::freeze_after`] epochs;
//!   SOFTMAX/LOGISTIC/TANH outputs at their fixed int8 scales; the poolings,
//!   RESHAPE and RELU6 in their input's quantization (the rewrite's
//!   [`OutputRule::SameAsInput`](crate::quantize::rewrite::OutputRule)), an
//!   AVERAGE_POOL_2D's mean rounded to it.
//!
//! The backward pass is the straight-through estimator: rounding passes the
//! gradient unchanged, and an activation clipped by its range passes none
//! (TensorFlow's `FakeQuantWithMinMaxVars`); MAX_POOL_2D passes it to the
//! input each output took, AVERAGE_POOL_2D and MEAN share it over the window.
//! The loss is sparse categorical cross-entropy on the float softmax of the
//! (fake-quantized) logits.
//!
//! Supported: a chain of FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D (fused
//! NONE, RELU or RELU6; no dilation), MAX_POOL_2D, AVERAGE_POOL_2D, MEAN over
//! height and width (global average pooling), RESHAPE, RELU, RELU6, TANH and
//! LOGISTIC, ending in SOFTMAX (beta 1): what mote-train exports for a
//! Sequential of Dense, Conv2D, DepthwiseConv2D, the 2-D poolings,
//! GlobalAveragePooling2D, Flatten and those activations. Any other operator
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
                "operator {index} ({op}) is not supported by quantization-aware training (FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, AVERAGE_POOL_2D, MEAN, RESHAPE, RELU, RELU6, TANH, LOGISTIC and SOFTMAX are)"
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

    /// The fused activation of a FULLY_CONNECTED or convolution (NONE, RELU, RELU6).
    fn fused(code: u8) -> Option<Act> {
        match code {
            0 => Some(Act::Linear),
            1 => Some(Act::Relu),
            3 => Some(Act::Relu6),
            _ => None,
        }
    }
}

/// A sliding window over an NHWC image: a convolution's or a pooling's.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Window {
    input: [usize; 3],
    output: [usize; 3],
    kernel: [usize; 2],
    stride: [usize; 2],
    /// Rows and columns padded before the image (TensorFlow Lite's SAME).
    pad: [usize; 2],
}

impl Window {
    /// The window of an op with `input`/`output` `[h, w, c]`, kernel and
    /// stride `[h, w]`, SAME (`padding` 0) or VALID (1) padding, as
    /// TensorFlow Lite pads: `((out - 1) * stride + kernel - in) / 2` before.
    fn new(
        input: [usize; 3],
        output: [usize; 3],
        kernel: [usize; 2],
        stride: [usize; 2],
        same: bool,
    ) -> Self {
        let pad = |d: usize| {
            if same {
                ((output[d].saturating_sub(1)) * stride[d] + kernel[d]).saturating_sub(input[d]) / 2
            } else {
                0
            }
        };
        Window {
            input,
            output,
            kernel,
            stride,
            pad: [pad(0), pad(1)],
        }
    }

    /// The input pixel under tap `(ky, kx)` of output pixel `(y, x)`, if inside.
    fn tap(&self, y: usize, x: usize, ky: usize, kx: usize) -> Option<usize> {
        let iy = (y * self.stride[0] + ky).checked_sub(self.pad[0])?;
        let ix = (x * self.stride[1] + kx).checked_sub(self.pad[1])?;
        (iy < self.input[0] && ix < self.input[1]).then_some(iy * self.input[1] + ix)
    }

    fn in_len(&self) -> usize {
        self.input.iter().product()
    }

    fn out_len(&self) -> usize {
        self.output.iter().product()
    }
}

/// A layer with weights: FULLY_CONNECTED, CONV_2D or DEPTHWISE_CONV_2D.
#[derive(Clone, Debug)]
struct Weighted {
    op: BuiltinOperator,
    /// FULLY_CONNECTED `[units, fan_in]`, CONV_2D `[f, kh, kw, c]`,
    /// DEPTHWISE_CONV_2D `[1, kh, kw, c * m]`: TensorFlow Lite's layouts.
    weights: Vec<f32>,
    shape: Vec<usize>,
    bias: Option<Vec<f32>>,
    act: Act,
    weight_tensor: usize,
    bias_tensor: Option<usize>,
    /// The convolutions' window (`None` for FULLY_CONNECTED).
    window: Option<Window>,
}

impl Weighted {
    /// The channel axis of the weights (TensorFlow Lite's per-channel axis).
    fn axis(&self) -> usize {
        match self.op {
            BuiltinOperator::DEPTHWISE_CONV_2D => 3,
            _ => 0,
        }
    }

    /// Output channels.
    fn channels(&self) -> usize {
        self.shape[self.axis()]
    }

    /// The fake-quantized weights and bias (as the rewrite quantizes them).
    fn fake_quantized(&self, input_scale: f32, to: WeightType) -> (Vec<f32>, Vec<f32>) {
        let axis = self.axis();
        let per_channel = weights_per_channel(self.op, to);
        let w = quantize_weights_as(&self.weights, &self.shape, axis, per_channel, to);
        let channels = self.channels();
        let inner: usize = self.shape[axis + 1..].iter().product();
        let scale = |c: usize| w.scales[c.min(w.scales.len() - 1)];
        let wq = w
            .values
            .iter()
            .enumerate()
            .map(|(i, &q)| f32::from(q) * scale((i / inner.max(1)) % channels))
            .collect();
        let bq = match &self.bias {
            Some(b) => {
                let (q, s) = quantize_bias(b, input_scale, &w.scales);
                q.iter()
                    .enumerate()
                    .map(|(c, &q)| q as f32 * s[c.min(s.len() - 1)])
                    .collect()
            }
            None => vec![0.0; channels],
        };
        (wq, bq)
    }

    /// `z = W x + b` for `rows` samples of `input`.
    fn forward(&self, input: &[f32], rows: usize, wq: &[f32], bq: &[f32]) -> Vec<f32> {
        match (self.op, self.window) {
            (BuiltinOperator::CONV_2D, Some(win)) => {
                let [_, kh, kw, c] = self.shape[..] else {
                    return Vec::new();
                };
                let f = self.shape[0];
                let mut z = vec![0.0f32; rows * win.out_len()];
                for r in 0..rows {
                    let x = &input[r * win.in_len()..(r + 1) * win.in_len()];
                    for y in 0..win.output[0] {
                        for xo in 0..win.output[1] {
                            let out =
                                &mut z[r * win.out_len() + (y * win.output[1] + xo) * f..][..f];
                            out.copy_from_slice(bq);
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let Some(p) = win.tap(y, xo, ky, kx) else {
                                        continue;
                                    };
                                    let xp = &x[p * c..(p + 1) * c];
                                    for (o, v) in out.iter_mut().enumerate() {
                                        let wr = &wq[((o * kh + ky) * kw + kx) * c..][..c];
                                        *v += xp.iter().zip(wr).map(|(a, b)| a * b).sum::<f32>();
                                    }
                                }
                            }
                        }
                    }
                }
                z
            }
            (BuiltinOperator::DEPTHWISE_CONV_2D, Some(win)) => {
                let [_, kh, kw, oc] = self.shape[..] else {
                    return Vec::new();
                };
                let c = win.input[2];
                let m = oc / c.max(1);
                let mut z = vec![0.0f32; rows * win.out_len()];
                for r in 0..rows {
                    let x = &input[r * win.in_len()..(r + 1) * win.in_len()];
                    for y in 0..win.output[0] {
                        for xo in 0..win.output[1] {
                            let out =
                                &mut z[r * win.out_len() + (y * win.output[1] + xo) * oc..][..oc];
                            out.copy_from_slice(bq);
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let Some(p) = win.tap(y, xo, ky, kx) else {
                                        continue;
                                    };
                                    let wr = &wq[(ky * kw + kx) * oc..][..oc];
                                    for (o, v) in out.iter_mut().enumerate() {
                                        *v += x[p * c + o / m] * wr[o];
                                    }
                                }
                            }
                        }
                    }
                }
                z
            }
            _ => {
                let (units, fan_in) = (self.shape[0], self.shape[1]);
                let mut z = vec![0.0f32; rows * units];
                for r in 0..rows {
                    let xr = &input[r * fan_in..(r + 1) * fan_in];
                    for u in 0..units {
                        let wr = &wq[u * fan_in..(u + 1) * fan_in];
                        z[r * units + u] =
                            bq[u] + xr.iter().zip(wr).map(|(a, b)| a * b).sum::<f32>();
                    }
                }
                z
            }
        }
    }

    /// From `g` = d loss / d z: (d W, d b, d input).
    fn backward(
        &self,
        g: &[f32],
        input: &[f32],
        rows: usize,
        wq: &[f32],
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let channels = self.channels();
        let mut dw = vec![0.0f32; wq.len()];
        let mut db = vec![0.0f32; channels];
        let mut dx = vec![0.0f32; input.len()];
        match (self.op, self.window) {
            (BuiltinOperator::CONV_2D, Some(win)) => {
                let [f, kh, kw, c] = self.shape[..] else {
                    return (dw, db, dx);
                };
                for r in 0..rows {
                    let x = &input[r * win.in_len()..(r + 1) * win.in_len()];
                    let dxr = &mut dx[r * win.in_len()..(r + 1) * win.in_len()];
                    for y in 0..win.output[0] {
                        for xo in 0..win.output[1] {
                            let go = &g[r * win.out_len() + (y * win.output[1] + xo) * f..][..f];
                            for (o, &gv) in go.iter().enumerate() {
                                db[o] += gv;
                            }
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let Some(p) = win.tap(y, xo, ky, kx) else {
                                        continue;
                                    };
                                    for (o, &gv) in go.iter().enumerate() {
                                        if gv == 0.0 {
                                            continue;
                                        }
                                        let at = ((o * kh + ky) * kw + kx) * c;
                                        for k in 0..c {
                                            dw[at + k] += gv * x[p * c + k];
                                            dxr[p * c + k] += gv * wq[at + k];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (BuiltinOperator::DEPTHWISE_CONV_2D, Some(win)) => {
                let [_, kh, kw, oc] = self.shape[..] else {
                    return (dw, db, dx);
                };
                let c = win.input[2];
                let m = oc / c.max(1);
                for r in 0..rows {
                    let x = &input[r * win.in_len()..(r + 1) * win.in_len()];
                    let dxr = &mut dx[r * win.in_len()..(r + 1) * win.in_len()];
                    for y in 0..win.output[0] {
                        for xo in 0..win.output[1] {
                            let go = &g[r * win.out_len() + (y * win.output[1] + xo) * oc..][..oc];
                            for (o, &gv) in go.iter().enumerate() {
                                db[o] += gv;
                            }
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let Some(p) = win.tap(y, xo, ky, kx) else {
                                        continue;
                                    };
                                    let at = (ky * kw + kx) * oc;
                                    for (o, &gv) in go.iter().enumerate() {
                                        dw[at + o] += gv * x[p * c + o / m];
                                        dxr[p * c + o / m] += gv * wq[at + o];
                                    }
                                }
                            }
                        }
                    }
                }
            }
            _ => {
                let (units, fan_in) = (self.shape[0], self.shape[1]);
                for r in 0..rows {
                    let xr = &input[r * fan_in..(r + 1) * fan_in];
                    let dxr = &mut dx[r * fan_in..(r + 1) * fan_in];
                    for u in 0..units {
                        let gv = g[r * units + u];
                        if gv == 0.0 {
                            continue;
                        }
                        db[u] += gv;
                        let wr = &wq[u * fan_in..(u + 1) * fan_in];
                        let dwr = &mut dw[u * fan_in..(u + 1) * fan_in];
                        for k in 0..fan_in {
                            dwr[k] += gv * xr[k];
                            dxr[k] += gv * wr[k];
                        }
                    }
                }
            }
        }
        (dw, db, dx)
    }
}

#[derive(Clone, Debug)]
enum Step {
    Weighted(Weighted),
    /// MAX_POOL_2D (`true`) or AVERAGE_POOL_2D.
    Pool(Window, bool),
    /// MEAN over the height and width of `[h, w, c]`.
    Mean([usize; 3]),
    /// RESHAPE: the values as they are.
    Reshape,
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

/// How a node's output is quantized, as the rewrite's [`OutputRule`] says.
#[derive(Clone, Copy, Debug)]
enum Quant {
    /// Its own range (tracked, or fixed).
    Own(Range),
    /// Its input's (pooling, RESHAPE, RELU6).
    Input,
}

#[derive(Clone, Debug)]
struct Node {
    step: Step,
    output: usize,
    quant: Quant,
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

/// A tensor's shape as `[h, w, c]` without the batch: `[1, h, w, c]`,
/// `[1, n]` as `[1, 1, n]`.
fn hwc(shape: &[i32]) -> Option<[usize; 3]> {
    let d: Vec<usize> = shape.iter().map(|&v| v.max(0) as usize).collect();
    match d[..] {
        [1, h, w, c] => Some([h, w, c]),
        [1, n] | [n] => Some([1, 1, n]),
        [1, h, n] => Some([1, h, n]),
        _ => None,
    }
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
            .iter()
            .skip(1)
            .map(|&d| d.max(0) as usize)
            .product::<usize>()
            .max(if float.tensors[input].shape.len() == 1 {
                float.tensors[input].shape[0].max(0) as usize
            } else {
                0
            });
        let mut nodes: Vec<Node> = Vec::new();
        let mut current = input;
        let graph = model.main();
        for (index, op) in float.operators.iter().enumerate() {
            let unsupported = QatError::UnsupportedOp { index, op: op.op };
            let options = graph.operator(index).map(|o| o.options());
            let opt_u8 = |id: u16, d: u8| options.map_or(d, |o| o.u8(id, d));
            let opt_i32 = |id: u16, d: i32| options.map_or(d, |o| o.i32(id, d)).max(0) as usize;
            if op.inputs.first().map(|&i| i as usize) != Some(current) || op.outputs.len() != 1 {
                return Err(QatError::Shape(format!(
                    "operator {index} ({}) does not take the previous operator's output: QAT handles a chain of layers",
                    op.op
                )));
            }
            let output = op.outputs[0] as usize;
            let shape_error =
                |what: &str| QatError::Shape(format!("operator {index} ({}): {what}", op.op));
            let in_shape = hwc(&float.tensors[current].shape)
                .ok_or_else(|| shape_error("input is not [1, h, w, c] or [1, n]"))?;
            let out_shape = hwc(&float.tensors[output].shape)
                .ok_or_else(|| shape_error("output is not [1, h, w, c] or [1, n]"))?;
            let fixed = |q: ActivationQuant| {
                Quant::Own(Range {
                    min: 0.0,
                    max: 0.0,
                    fixed: Some(q),
                })
            };
            let (step, quant) = match op.op {
                BuiltinOperator::FULLY_CONNECTED
                | BuiltinOperator::CONV_2D
                | BuiltinOperator::DEPTHWISE_CONV_2D => {
                    let w = &float.tensors[op.inputs.get(1).map_or(0, |&i| i.max(0)) as usize];
                    let Some(data) = &w.data else {
                        return Err(shape_error("weights are not constant"));
                    };
                    let shape: Vec<usize> = w.shape.iter().map(|&d| d.max(0) as usize).collect();
                    let bias_tensor = op.inputs.get(2).filter(|&&b| b >= 0).map(|&b| b as usize);
                    let bias =
                        bias_tensor.map(|b| f32s(float.tensors[b].data.as_deref().unwrap_or(&[])));
                    let (act_id, window) = match op.op {
                        BuiltinOperator::FULLY_CONNECTED => {
                            if shape.len() != 2 {
                                return Err(shape_error("weights are not a matrix"));
                            }
                            (0, None)
                        }
                        _ => {
                            let depthwise = op.op == BuiltinOperator::DEPTHWISE_CONV_2D;
                            // Conv2DOptions: padding 0, stride_w 1, stride_h 2, activation 3,
                            // dilations 4/5; DepthwiseConv2DOptions: the same with the
                            // multiplier at 3, activation 4, dilations 5/6.
                            let (act, dilation) = if depthwise { (4, [5, 6]) } else { (3, [4, 5]) };
                            if opt_i32(dilation[0], 1) != 1 || opt_i32(dilation[1], 1) != 1 {
                                return Err(shape_error("dilated convolutions are not supported"));
                            }
                            let [_, kh, kw, _] = shape[..] else {
                                return Err(shape_error("weights are not 4-D"));
                            };
                            let window = Window::new(
                                in_shape,
                                out_shape,
                                [kh, kw],
                                [opt_i32(2, 1), opt_i32(1, 1)],
                                opt_u8(0, 0) == 0,
                            );
                            (act, Some(window))
                        }
                    };
                    let act = Act::fused(opt_u8(act_id, 0)).ok_or_else(|| {
                        shape_error("fused activations other than RELU and RELU6 are not supported")
                    })?;
                    let step = Step::Weighted(Weighted {
                        op: op.op,
                        weights: f32s(data),
                        shape,
                        bias,
                        act,
                        weight_tensor: op.inputs[1] as usize,
                        bias_tensor,
                        window,
                    });
                    (step, Quant::Own(range_of(output)?))
                }
                BuiltinOperator::MAX_POOL_2D | BuiltinOperator::AVERAGE_POOL_2D => {
                    // Pool2DOptions: padding 0, stride_w 1, stride_h 2, filter_w 3, filter_h 4.
                    if opt_u8(5, 0) != 0 {
                        return Err(shape_error("fused activations are not supported"));
                    }
                    let window = Window::new(
                        in_shape,
                        out_shape,
                        [opt_i32(4, 1), opt_i32(3, 1)],
                        [opt_i32(2, 1), opt_i32(1, 1)],
                        opt_u8(0, 0) == 0,
                    );
                    let max = op.op == BuiltinOperator::MAX_POOL_2D;
                    (Step::Pool(window, max), Quant::Input)
                }
                BuiltinOperator::MEAN => {
                    let axes: Vec<i32> = op
                        .inputs
                        .get(1)
                        .and_then(|&a| float.tensors[a.max(0) as usize].data.as_deref())
                        .unwrap_or(&[])
                        .chunks_exact(4)
                        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect();
                    let mut sorted = axes.clone();
                    sorted.sort_unstable();
                    if float.tensors[current].shape.len() != 4 || sorted != [1, 2] {
                        return Err(shape_error(
                            "only the mean over height and width (global average pooling) is supported",
                        ));
                    }
                    (Step::Mean(in_shape), Quant::Own(range_of(output)?))
                }
                BuiltinOperator::RESHAPE => (Step::Reshape, Quant::Input),
                BuiltinOperator::RELU => {
                    (Step::Activation(Act::Relu), Quant::Own(range_of(output)?))
                }
                BuiltinOperator::RELU6 => (Step::Activation(Act::Relu6), Quant::Input),
                BuiltinOperator::TANH => (Step::Activation(Act::Tanh), fixed(TANH)),
                BuiltinOperator::LOGISTIC => (Step::Activation(Act::Sigmoid), fixed(PROBABILITY)),
                BuiltinOperator::SOFTMAX => {
                    if options.map_or(1.0, |o| o.f32(0, 1.0)) != 1.0 {
                        return Err(shape_error("only beta 1 is supported"));
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
                quant,
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

    /// The parameters, in order: each weighted layer's weights, then its bias.
    fn params_mut(&mut self) -> Vec<&mut Vec<f32>> {
        let mut out: Vec<&mut Vec<f32>> = Vec::new();
        for node in &mut self.nodes {
            if let Step::Weighted(Weighted { weights, bias, .. }) = &mut node.step {
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
        // Per node: its input, pre-activation, output, pass-through mask,
        // fake-quantized weights, and for MAX_POOL_2D the input each output took.
        struct Saved {
            input: Vec<f32>,
            z: Vec<f32>,
            y: Vec<f32>,
            mask: Vec<bool>,
            wq: Vec<f32>,
            argmax: Vec<usize>,
        }
        let mut saved: Vec<Saved> = Vec::with_capacity(self.nodes.len());
        let mut probabilities = Vec::new();
        for node in &mut self.nodes {
            let input = a;
            let mut wq = Vec::new();
            let mut argmax = Vec::new();
            let z = match &node.step {
                Step::Weighted(layer) => {
                    let (w, b) = layer.fake_quantized(input_quant.scale, to);
                    let z = layer.forward(&input, rows, &w, &b);
                    wq = w;
                    z
                }
                Step::Pool(win, max) => {
                    let c = win.input[2];
                    let mut z = vec![0.0f32; rows * win.out_len()];
                    if *max {
                        argmax = vec![0; z.len()];
                    }
                    for r in 0..rows {
                        for yo in 0..win.output[0] {
                            for xo in 0..win.output[1] {
                                for ch in 0..c {
                                    let (mut best, mut at, mut sum, mut n) =
                                        (f32::NEG_INFINITY, 0, 0.0f32, 0usize);
                                    for ky in 0..win.kernel[0] {
                                        for kx in 0..win.kernel[1] {
                                            let Some(p) = win.tap(yo, xo, ky, kx) else {
                                                continue;
                                            };
                                            let i = r * win.in_len() + p * c + ch;
                                            if input[i] > best {
                                                best = input[i];
                                                at = i;
                                            }
                                            sum += input[i];
                                            n += 1;
                                        }
                                    }
                                    let o = r * win.out_len() + (yo * win.output[1] + xo) * c + ch;
                                    if *max {
                                        z[o] = best;
                                        argmax[o] = at;
                                    } else {
                                        z[o] = sum / n.max(1) as f32;
                                    }
                                }
                            }
                        }
                    }
                    z
                }
                Step::Mean([h, w, c]) => {
                    let (h, w, c) = (*h, *w, *c);
                    let mut z = vec![0.0f32; rows * c];
                    for r in 0..rows {
                        for p in 0..h * w {
                            for ch in 0..c {
                                z[r * c + ch] += input[(r * h * w + p) * c + ch];
                            }
                        }
                    }
                    z.iter_mut().for_each(|v| *v /= (h * w) as f32);
                    z
                }
                Step::Reshape | Step::Activation(_) | Step::Softmax => input.clone(),
            };
            let mut out: Vec<f32> = match &node.step {
                Step::Weighted(Weighted { act, .. }) | Step::Activation(act) => {
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
                Step::Pool(..) | Step::Mean(_) | Step::Reshape => z.clone(),
            };
            let quant = match &mut node.quant {
                Quant::Own(range) => {
                    update(range, &out);
                    range.quant()
                }
                Quant::Input => input_quant,
            };
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
                argmax,
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
            let pass = |g: &mut [f32]| {
                for (i, v) in g.iter_mut().enumerate() {
                    *v *= f32::from(u8::from(s.mask[i]));
                }
            };
            match &node.step {
                Step::Softmax => {}
                Step::Reshape => pass(&mut grad),
                Step::Activation(act) => {
                    for (i, g) in grad.iter_mut().enumerate() {
                        *g *= f32::from(u8::from(s.mask[i])) * act.derivative(s.z[i], s.y[i]);
                    }
                }
                Step::Weighted(layer) => {
                    for (i, g) in grad.iter_mut().enumerate() {
                        *g *= f32::from(u8::from(s.mask[i]))
                            * layer.act.derivative(s.z[i], layer.act.apply(s.z[i]));
                    }
                    let (dw, db, dx) = layer.backward(&grad, &s.input, rows, &s.wq);
                    if layer.bias.is_some() {
                        grads.push(db);
                    }
                    grads.push(dw);
                    grad = dx;
                }
                Step::Pool(win, max) => {
                    pass(&mut grad);
                    let c = win.input[2];
                    let mut dx = vec![0.0f32; s.input.len()];
                    if *max {
                        for (o, &g) in grad.iter().enumerate() {
                            dx[s.argmax[o]] += g;
                        }
                    } else {
                        for r in 0..rows {
                            for yo in 0..win.output[0] {
                                for xo in 0..win.output[1] {
                                    let taps: Vec<usize> = (0..win.kernel[0])
                                        .flat_map(|ky| (0..win.kernel[1]).map(move |kx| (ky, kx)))
                                        .filter_map(|(ky, kx)| win.tap(yo, xo, ky, kx))
                                        .collect();
                                    for ch in 0..c {
                                        let o =
                                            r * win.out_len() + (yo * win.output[1] + xo) * c + ch;
                                        let share = grad[o] / taps.len().max(1) as f32;
                                        for &p in &taps {
                                            dx[r * win.in_len() + p * c + ch] += share;
                                        }
                                    }
                                }
                            }
                        }
                    }
                    grad = dx;
                }
                Step::Mean([h, w, c]) => {
                    pass(&mut grad);
                    let (h, w, c) = (*h, *w, *c);
                    let mut dx = vec![0.0f32; s.input.len()];
                    for r in 0..rows {
                        for p in 0..h * w {
                            for ch in 0..c {
                                dx[(r * h * w + p) * c + ch] = grad[r * c + ch] / (h * w) as f32;
                            }
                        }
                    }
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
            if let Step::Weighted(Weighted {
                weights,
                bias,
                weight_tensor,
                bias_tensor,
                ..
            }) = &node.step
            {
                float.tensors[*weight_tensor].data =
                    Some(weights.iter().flat_map(|v| v.to_le_bytes()).collect());
                if let (Some(b), Some(t)) = (bias, bias_tensor) {
                    float.tensors[*t].data = Some(b.iter().flat_map(|v| v.to_le_bytes()).collect());
                }
            }
            if let Quant::Own(range) = &node.quant {
                if range.fixed.is_none() {
                    out.push(observed(node.output, range));
                }
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
        B::CONV_2D,
        B::DEPTHWISE_CONV_2D,
        B::MAX_POOL_2D,
        B::AVERAGE_POOL_2D,
        B::MEAN,
        B::RESHAPE,
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
    use mote_train::{
        Activation, AveragePooling2D, Conv2D, Dense, DepthwiseConv2D, Flatten,
        GlobalAveragePooling2D, Layer, MaxPooling2D, Padding, Sequential,
    };

    /// [6, 6, 2] -> Conv2D 4 3x3 same relu -> DepthwiseConv2D 3x3 valid relu6
    /// multiplier 2 -> MaxPooling 2x2 -> AveragePooling 2x2 stride 1 same ->
    /// Conv2D 5 1x1 stride 2 -> GlobalAveragePooling2D (MEAN) or Flatten
    /// (RESHAPE) -> Dense 3 softmax, seeded.
    fn tiny_cnn(global: bool) -> Vec<u8> {
        let mut layers = vec![
            Layer::from(
                Conv2D::new(4, 3)
                    .padding(Padding::Same)
                    .activation(Activation::Relu)
                    .input_shape([6, 6, 2]),
            ),
            DepthwiseConv2D::new(3)
                .depth_multiplier(2)
                .activation(Activation::Relu6)
                .into(),
            MaxPooling2D::new(2).into(),
            AveragePooling2D::new(2)
                .strides(1)
                .padding(Padding::Same)
                .into(),
            Conv2D::new(5, 1).strides(2).into(),
        ];
        layers.push(if global {
            GlobalAveragePooling2D::new().into()
        } else {
            Flatten::new().into()
        });
        layers.push(Dense::new(3).activation(Activation::Softmax).into());
        let model = Sequential::new(layers).seeded(5).unwrap();
        mote_train::tflite::export(&model)
            .unwrap()
            .to_bytes()
            .unwrap()
    }

    fn image_samples() -> (Calibration, Vec<f32>) {
        let mut rng = Rng::new(2);
        let x: Vec<f32> = (0..24 * 72).map(|_| rng.uniform(-1.0, 1.0)).collect();
        let y: Vec<f32> = (0..24).map(|i| (i % 3) as f32).collect();
        (Calibration::new(vec![24, 6, 6, 2], x).unwrap(), y)
    }

    #[test]
    fn without_training_cnn_qat_exports_exactly_the_min_max_ptq_model() {
        let (x, y) = image_samples();
        for global in [true, false] {
            let config = QatConfig {
                epochs: 0,
                ..QatConfig::default()
            };
            let float = tiny_cnn(global);
            let (mut qat_model, _) = qat(&float, &x, &y, None, &config).unwrap();
            let ptq = quantize(&float, &x, &QuantizeConfig::default()).unwrap();
            qat_model.description.clone_from(&ptq.description);
            assert_eq!(qat_model.to_bytes().unwrap(), ptq.to_bytes().unwrap());
        }
    }

    #[test]
    fn cnn_training_lowers_the_fake_quantized_loss() {
        let (x, y) = image_samples();
        let config = QatConfig {
            epochs: 20,
            learning_rate: 1e-2,
            batch_size: 6,
            ..QatConfig::default()
        };
        let (_, report) = qat(&tiny_cnn(true), &x, &y, None, &config).unwrap();
        assert!(report.loss[19] < report.loss[0], "{:?}", report.loss);
    }

    /// The weighted layers' backward pass is the exact gradient of their
    /// (linear) forward pass: `sum(g * z)` moves by `dW` and `dx` as finite
    /// differences say.
    #[test]
    fn convolution_gradients_match_finite_differences() {
        let bytes = tiny_cnn(true);
        let float = import::import(&bytes).unwrap();
        let model = Model::parse(&bytes).unwrap();
        let (x, _) = image_samples();
        let observed = calibrate(&float, &x, 1).unwrap();
        let net = Network::new(&float, &model, &observed).unwrap();
        let mut rng = Rng::new(9);
        let mut checked = 0;
        let mut input_len = 72;
        for node in &net.nodes {
            let Step::Weighted(layer) = &node.step else {
                if let Step::Pool(win, _) = &node.step {
                    input_len = win.out_len();
                } else if let Step::Mean([_, _, c]) = node.step {
                    input_len = c;
                }
                continue;
            };
            let rows = 2;
            let input: Vec<f32> = (0..rows * input_len)
                .map(|_| rng.uniform(-1.0, 1.0))
                .collect();
            let w = layer.weights.clone();
            let b = vec![0.1; layer.channels()];
            let z = layer.forward(&input, rows, &w, &b);
            let g: Vec<f32> = (0..z.len()).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let loss = |input: &[f32], w: &[f32]| -> f64 {
                let z = layer.forward(input, rows, w, &b);
                z.iter().zip(&g).map(|(a, b)| f64::from(a * b)).sum()
            };
            let (dw, db, dx) = layer.backward(&g, &input, rows, &w);
            assert!((db.iter().sum::<f32>() - g.iter().sum::<f32>()).abs() < 1e-3);
            let eps = 1e-2f32;
            for k in (0..w.len()).step_by(7) {
                let mut up = w.clone();
                up[k] += eps;
                let numeric = (loss(&input, &up) - loss(&input, &w)) / f64::from(eps);
                assert!(
                    (numeric - f64::from(dw[k])).abs() < 1e-2,
                    "{:?} dW[{k}]",
                    layer.op
                );
            }
            for k in (0..input.len()).step_by(5) {
                let mut up = input.clone();
                up[k] += eps;
                let numeric = (loss(&up, &w) - loss(&input, &w)) / f64::from(eps);
                assert!(
                    (numeric - f64::from(dx[k])).abs() < 1e-2,
                    "{:?} dx[{k}]",
                    layer.op
                );
            }
            input_len = z.len() / rows;
            checked += 1;
        }
        assert_eq!(checked, 4);
    }

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
