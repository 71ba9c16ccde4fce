//! Structured pruning: whole neurons (Dense units) and channels (Conv2D
//! filters) go, so the model really gets smaller.
//!
//! A *segment* is a producer (Dense or Conv2D) whose output reaches the next
//! Dense or Conv2D (the consumer) only through per-channel layers
//! (activations, max/average pooling, global average pooling, a
//! DepthwiseConv2D with multiplier 1). Channel `c` of a segment is the
//! producer's output `c`, the depthwise filters `c` on the way, and the
//! consumer's input `c`. During fine-tuning, the channels with the smallest
//! `‖producer column c‖₂ · ‖consumer input row c‖₂` are masked (all of the
//! group's weights and biases set to 0), ramping with the same polynomial
//! decay as unstructured pruning, the same fraction of each segment.
//! [`shrink`] then removes from the exported model every channel whose
//! consumer weights are all 0: exact, since such a channel adds nothing.

use mote_runtime::BuiltinOperator;
use mote_train::tflite::ModelDef;
use mote_train::{Layer, Loss, Model, Tensor};

use super::{fine_tune, PruneConfig};

/// One producer -> consumer segment, as indices into `model.weights()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The producer layer's name.
    pub name: String,
    /// Channels.
    pub channels: usize,
    /// Producer kernel (channel = last axis) and bias.
    pub producer: (usize, usize),
    /// Depthwise kernels (channel = axis -2) and biases on the way.
    pub depthwise: Vec<(usize, usize)>,
    /// Consumer kernel (channel = axis -2: Dense `[in, out]`, Conv2D `[kh, kw, in, out]`).
    pub consumer: usize,
}

/// The segments of a chain model (each producer's output feeding exactly the next layer).
pub fn segments(model: &Model) -> Vec<Segment> {
    let layers: Vec<&Layer> = model.layers().collect();
    let names: Vec<&str> = model.layer_names().collect();
    // First weight index of each layer.
    let mut first = Vec::new();
    let mut at = 0;
    for l in &layers {
        first.push(at);
        at += l.params().len();
    }
    let with_bias = |l: usize| layers[l].params().len() == 2;
    let mut found = Vec::new();
    for p in 0..layers.len() {
        let channels = match layers[p] {
            Layer::Dense(d) => d.units(),
            Layer::Conv2D(c) => c.filters(),
            _ => continue,
        };
        if !with_bias(p) {
            continue;
        }
        let mut depthwise = Vec::new();
        let mut consumer = None;
        for (q, layer) in layers.iter().enumerate().skip(p + 1) {
            if model.layer_inputs(q) != [Some(q - 1)] {
                break;
            }
            match layer {
                Layer::Dense(_) | Layer::Conv2D(_) => {
                    consumer = Some(first[q]);
                    break;
                }
                Layer::DepthwiseConv2D(d) if d.multiplier() == 1 && with_bias(q) => {
                    depthwise.push((first[q], first[q] + 1))
                }
                Layer::Activation(_)
                | Layer::MaxPooling2D(_)
                | Layer::AveragePooling2D(_)
                | Layer::GlobalAveragePooling2D(_) => {}
                _ => break,
            }
        }
        // A Dense consumer must read the channels themselves (not a flattened map).
        if let Some(consumer) = consumer {
            let weights = model.weights();
            let shape = weights[consumer].shape();
            if shape.len() >= 2 && shape[shape.len() - 2] == channels {
                found.push(Segment {
                    name: names[p].to_string(),
                    channels,
                    producer: (first[p], first[p] + 1),
                    depthwise,
                    consumer,
                });
            }
        }
    }
    found
}

/// Every weight tensor a segment touches and, per channel, its entries:
/// `(weight index, channel axis from the end (0 = last, 1 = second last))`.
fn parts(segment: &Segment) -> Vec<(usize, usize)> {
    let mut parts = vec![(segment.producer.0, 0), (segment.producer.1, 0)];
    for &(k, b) in &segment.depthwise {
        parts.push((k, 1));
        parts.push((b, 0));
    }
    parts.push((segment.consumer, 1));
    parts
}

/// Whether flat index `i` of a tensor of `shape` is in channel `c` along `axis_from_end`.
fn channel_of(shape: &[usize], i: usize, axis_from_end: usize) -> usize {
    let inner: usize = shape[shape.len() - axis_from_end..].iter().product();
    let size = shape[shape.len() - 1 - axis_from_end];
    (i / inner.max(1)) % size.max(1)
}

/// `‖producer kernel column c‖₂ · ‖consumer row c‖₂` for each channel.
fn channel_scores(weights: &[Tensor], segment: &Segment) -> Vec<f32> {
    let norms = |w: &Tensor, axis: usize| {
        let mut sum = vec![0.0f32; segment.channels];
        for (i, v) in w.data().iter().enumerate() {
            sum[channel_of(w.shape(), i, axis)] += v * v;
        }
        sum
    };
    let producer = norms(&weights[segment.producer.0], 0);
    let consumer = norms(&weights[segment.consumer], 1);
    producer
        .iter()
        .zip(&consumer)
        .map(|(p, c)| (p * c).sqrt())
        .collect()
}

/// What structured pruning kept: per segment `(producer, kept, channels)`, and the loss per epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct StructuredReport {
    /// `(producer layer, channels kept, channels before)`.
    pub kept: Vec<(String, usize, usize)>,
    /// Mean training loss of each epoch.
    pub loss: Vec<f32>,
}

/// Masks `config.sparsity` of the channels of every segment of `model`
/// (gradually, then fine-tuning at the target), leaving the removed channels
/// exactly 0; [`shrink`] of the exported model then drops them.
pub fn prune_structured(
    model: &mut Model,
    x: &Tensor,
    y: &Tensor,
    loss: Loss,
    config: &PruneConfig,
) -> mote_train::Result<StructuredReport> {
    let segments = segments(model);
    // Masked weight tensors: every part of every segment, in order.
    let masked: Vec<(usize, usize, usize)> = segments
        .iter()
        .enumerate()
        .flat_map(|(s, seg)| parts(seg).into_iter().map(move |(w, a)| (s, w, a)))
        .collect();
    let prunable: Vec<usize> = masked.iter().map(|&(_, w, _)| w).collect();
    let schedule = config.schedule(x.rows());
    let mut kept_channels: Vec<Vec<bool>> =
        segments.iter().map(|s| vec![true; s.channels]).collect();
    let (_, losses) = fine_tune(model, x, y, loss, config, &prunable, |model, step| {
        let sparsity = schedule.update_at(step)?;
        let weights = model.weights();
        for (seg, keep) in segments.iter().zip(kept_channels.iter_mut()) {
            let scores = channel_scores(&weights, seg);
            // Keep at least one channel.
            let cut = ((sparsity * seg.channels as f32).round() as usize).min(seg.channels - 1);
            let mut order: Vec<usize> = (0..seg.channels).collect();
            order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
            keep.fill(true);
            for &c in order.iter().take(cut) {
                keep[c] = false;
            }
        }
        Some(
            masked
                .iter()
                .map(|&(s, w, axis)| {
                    let shape = weights[w].shape();
                    (0..weights[w].len())
                        .map(|i| kept_channels[s][channel_of(shape, i, axis)])
                        .collect()
                })
                .collect(),
        )
    })?;
    Ok(StructuredReport {
        kept: segments
            .iter()
            .zip(&kept_channels)
            .map(|(s, k)| (s.name.clone(), k.iter().filter(|&&k| k).count(), s.channels))
            .collect(),
        loss: losses,
    })
}

/// Why a model cannot be shrunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShrinkError(pub String);

impl std::fmt::Display for ShrinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ShrinkError {}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Keeps `keep` along `axis` of the float constant tensor `t`.
fn slice_tensor(
    def: &mut ModelDef,
    t: usize,
    axis: usize,
    keep: &[usize],
) -> Result<(), ShrinkError> {
    let tensor = &mut def.tensors[t];
    let data = tensor
        .data
        .as_ref()
        .ok_or_else(|| ShrinkError(format!("tensor '{}' is not a constant", tensor.name)))?;
    let shape: Vec<usize> = tensor.shape.iter().map(|&d| d.max(0) as usize).collect();
    let values = f32s(data);
    let outer: usize = shape[..axis].iter().product();
    let size = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let mut out = Vec::with_capacity(outer * keep.len() * inner * 4);
    for o in 0..outer {
        for &k in keep {
            for i in 0..inner {
                out.extend_from_slice(&values[(o * size + k) * inner + i].to_le_bytes());
            }
        }
    }
    tensor.data = Some(out);
    tensor.shape[axis] = keep.len() as i32;
    Ok(())
}

/// Sets the last dimension of activation tensor `t` to `channels`.
fn set_channels(def: &mut ModelDef, t: usize, channels: usize) {
    let tensor = &mut def.tensors[t];
    if let Some(last) = tensor.shape.last_mut() {
        *last = channels as i32;
    }
    if let Some(sig) = tensor.shape_signature.as_mut().and_then(|s| s.last_mut()) {
        *sig = channels as i32;
    }
}

/// Removes, from a float chain model, every channel of a FULLY_CONNECTED or
/// CONV_2D output whose weights in the next FULLY_CONNECTED or CONV_2D are
/// all 0 (reached through RELU, RELU6, TANH, LOGISTIC, pooling, MEAN over
/// height and width, or DEPTHWISE_CONV_2D with multiplier 1): the same
/// function with fewer weights and MACs. Returns the channels kept per
/// producer operator.
pub fn shrink(def: &mut ModelDef) -> Result<Vec<(usize, usize, usize)>, ShrinkError> {
    let ops = def.operators.clone();
    let input = |o: usize, k: usize| ops[o].inputs.get(k).and_then(|&i| usize::try_from(i).ok());
    let output = |o: usize| {
        ops[o]
            .outputs
            .first()
            .and_then(|&i| usize::try_from(i).ok())
    };
    let is_layer = |o: usize| {
        matches!(
            ops[o].op,
            BuiltinOperator::FULLY_CONNECTED | BuiltinOperator::CONV_2D
        )
    };
    let mut report = Vec::new();
    for p in 0..ops.len() {
        if !is_layer(p) {
            continue;
        }
        let (Some(weights), Some(bias), Some(mut current)) = (input(p, 1), input(p, 2), output(p))
        else {
            continue;
        };
        let channels = def.tensors[weights]
            .shape
            .first()
            .copied()
            .unwrap_or(0)
            .max(0) as usize;
        let mut between = Vec::new();
        let mut consumer = None;
        for (q, op) in ops.iter().enumerate().skip(p + 1) {
            if input(q, 0) != Some(current) {
                break;
            }
            match op.op {
                BuiltinOperator::FULLY_CONNECTED | BuiltinOperator::CONV_2D => {
                    consumer = Some(q);
                    break;
                }
                BuiltinOperator::DEPTHWISE_CONV_2D => {
                    let w = input(q, 1).map(|w| def.tensors[w].shape.clone());
                    // [1, kh, kw, c * m]: multiplier 1 when the last axis is c.
                    if w.as_ref().and_then(|s| s.last()).copied() != Some(channels as i32)
                        || input(q, 2).is_none()
                    {
                        break;
                    }
                    between.push(q);
                }
                BuiltinOperator::RELU
                | BuiltinOperator::RELU6
                | BuiltinOperator::TANH
                | BuiltinOperator::LOGISTIC
                | BuiltinOperator::MAX_POOL_2D
                | BuiltinOperator::AVERAGE_POOL_2D
                | BuiltinOperator::MEAN => between.push(q),
                _ => break,
            }
            // A per-channel op keeps the channels on the last axis.
            match output(q) {
                Some(o) if def.tensors[o].shape.last().copied() == Some(channels as i32) => {
                    current = o
                }
                _ => {
                    consumer = None;
                    between.clear();
                    break;
                }
            }
        }
        let Some(consumer) = consumer else { continue };
        let Some(cw) = input(consumer, 1) else {
            continue;
        };
        // The consumer reads channels on its last weight axis.
        let cshape = def.tensors[cw].shape.clone();
        if cshape.last().copied() != Some(channels as i32) {
            continue;
        }
        let values = f32s(def.tensors[cw].data.as_deref().unwrap_or(&[]));
        let mut used = vec![false; channels];
        for (i, v) in values.iter().enumerate() {
            if *v != 0.0 {
                used[i % channels.max(1)] = true;
            }
        }
        let mut keep: Vec<usize> = (0..channels).filter(|&c| used[c]).collect();
        if keep.is_empty() {
            keep.push(0);
        }
        report.push((p, keep.len(), channels));
        if keep.len() == channels {
            continue;
        }
        slice_tensor(def, weights, 0, &keep)?;
        slice_tensor(def, bias, 0, &keep)?;
        if let Some(o) = output(p) {
            set_channels(def, o, keep.len());
        }
        for &q in &between {
            if ops[q].op == BuiltinOperator::DEPTHWISE_CONV_2D {
                let (w, b) = (input(q, 1).unwrap_or(0), input(q, 2).unwrap_or(0));
                let last = def.tensors[w].shape.len() - 1;
                slice_tensor(def, w, last, &keep)?;
                slice_tensor(def, b, 0, &keep)?;
            }
            if let Some(o) = output(q) {
                set_channels(def, o, keep.len());
            }
        }
        let last = cshape.len() - 1;
        slice_tensor(def, cw, last, &keep)?;
    }
    Ok(report)
}
