//! The int8 model: every activation int8 with its calibrated quantization,
//! weights int8 per channel, biases int32, and the edges as the caller wants.
//!
//! Each operator's output quantization follows TensorFlow Lite's int8 spec
//! ([`output_rule`]): calibrated, fixed (SOFTMAX, LOGISTIC, TANH), the
//! input's (ops that move values without rescaling them, which TensorFlow
//! Lite Micro's kernels copy as they are), or one quantization shared by the
//! inputs and the output (CONCATENATION, MAXIMUM, MINIMUM). Tensors that must
//! share a quantization form a group whose range covers every range that
//! flows into it; where a group cannot take an input (an input with a fixed
//! quantization of its own), the input is requantized by an int8 QUANTIZE.

use std::collections::HashMap;

use mote_runtime::{BuiltinOperator, TensorType};
use mote_train::tflite::{ModelDef, OperatorDef, OptionsDef, QuantizationDef, TensorDef};

use super::calibrate::Observed;
use super::lstm;
use super::range::{choose, ActivationQuant};
use super::weights::{quantize_bias, quantize_weights_as, WeightType};
use super::{Io, QuantizeConfig, QuantizeError};

/// The fixed output quantization of SOFTMAX and LOGISTIC: `[0, 1)` in 1/256 steps.
pub const PROBABILITY: ActivationQuant = ActivationQuant {
    scale: 1.0 / 256.0,
    zero_point: -128,
};

/// The fixed output quantization of TANH: `[-1, 1)` in 1/128 steps.
pub const TANH: ActivationQuant = ActivationQuant {
    scale: 1.0 / 128.0,
    zero_point: 0,
};

/// How an operator's int8 output quantization is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OutputRule {
    /// From the output's own calibrated range (the kernel rescales).
    Calibrated,
    /// A fixed quantization.
    Fixed(ActivationQuant),
    /// The first input's: the kernel moves or compares values without
    /// rescaling them (RESHAPE, the poolings, PAD, RELU6, ...).
    SameAsInput,
    /// One quantization for every input and the output (CONCATENATION,
    /// MAXIMUM, MINIMUM: the kernels copy or compare raw values).
    Shared,
    /// UNIDIRECTIONAL_SEQUENCE_LSTM: the output calibrated, the hidden state
    /// quantized as the output, weights, biases and the cell state by the
    /// LSTM's own rules ([`super::lstm`]).
    Lstm,
}

/// The output rule of `op` in TensorFlow Lite's int8 spec, or `None` for an
/// op this quantizer does not handle.
pub fn output_rule(op: BuiltinOperator) -> Option<OutputRule> {
    use BuiltinOperator as B;
    Some(match op {
        B::FULLY_CONNECTED
        | B::CONV_2D
        | B::DEPTHWISE_CONV_2D
        | B::ADD
        | B::SUB
        | B::MUL
        | B::MEAN
        | B::RELU
        | B::LEAKY_RELU
        | B::HARD_SWISH => OutputRule::Calibrated,
        B::SOFTMAX | B::LOGISTIC => OutputRule::Fixed(PROBABILITY),
        B::TANH => OutputRule::Fixed(TANH),
        // TensorFlow Lite Micro's int8 RELU6 clamps without requantizing.
        B::RESHAPE
        | B::MAX_POOL_2D
        | B::AVERAGE_POOL_2D
        | B::PAD
        | B::PADV2
        | B::SQUEEZE
        | B::EXPAND_DIMS
        | B::TRANSPOSE
        | B::STRIDED_SLICE
        | B::RELU6 => OutputRule::SameAsInput,
        B::CONCATENATION | B::MAXIMUM | B::MINIMUM => OutputRule::Shared,
        B::UNIDIRECTIONAL_SEQUENCE_LSTM => OutputRule::Lstm,
        _ => return None,
    })
}

/// The channel axis of an op's weights, for ops with weights.
fn weight_axis(op: BuiltinOperator) -> Option<usize> {
    match op {
        BuiltinOperator::FULLY_CONNECTED | BuiltinOperator::CONV_2D => Some(0),
        BuiltinOperator::DEPTHWISE_CONV_2D => Some(3),
        _ => None,
    }
}

/// Whether `op`'s weights of type `weights` may take one scale per channel:
/// not int4 FULLY_CONNECTED, which TensorFlow Lite Micro refuses
/// (`fully_connected_common.cc`).
pub fn weights_per_channel(op: BuiltinOperator, weights: WeightType) -> bool {
    !(weights == WeightType::Int4 && op == BuiltinOperator::FULLY_CONNECTED)
}

/// The op version of the int8 kernel (TensorFlow Lite's registrations;
/// TensorFlow Lite Micro does not read it).
fn int8_version(op: BuiltinOperator) -> i32 {
    use BuiltinOperator as B;
    match op {
        B::FULLY_CONNECTED => 4,
        B::CONV_2D | B::DEPTHWISE_CONV_2D => 3,
        B::RESHAPE
        | B::SQUEEZE
        | B::EXPAND_DIMS
        | B::HARD_SWISH
        | B::QUANTIZE
        | B::UNIDIRECTIONAL_SEQUENCE_LSTM => 1,
        _ => 2,
    }
}

fn float_values(tensor: &TensorDef) -> Vec<f32> {
    tensor
        .data
        .as_deref()
        .unwrap_or(&[])
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn dims(tensor: &TensorDef) -> Vec<usize> {
    tensor.shape.iter().map(|&d| d.max(0) as usize).collect()
}

fn per_tensor(q: ActivationQuant) -> QuantizationDef {
    QuantizationDef {
        scale: vec![q.scale],
        zero_point: vec![i64::from(q.zero_point)],
        ..QuantizationDef::default()
    }
}

/// The smallest and largest of `values`, with 0 (the range an int8 constant covers).
fn value_range(values: &[f32]) -> (f32, f32) {
    let lo = values.iter().copied().fold(0.0f32, f32::min);
    let hi = values.iter().copied().fold(0.0f32, f32::max);
    (lo, hi)
}

/// `values` quantized with `q`, clamped to int8.
fn quantize_values(values: &[f32], q: ActivationQuant) -> Vec<u8> {
    values
        .iter()
        .map(|&v| ((v / q.scale).round() + q.zero_point as f32).clamp(-128.0, 127.0) as i8 as u8)
        .collect()
}

/// Whether input `slot` of `op` is a weight or bias (quantized per channel /
/// to int32), as opposed to an activation-like operand.
pub fn is_weight_slot(op: BuiltinOperator, slot: usize) -> bool {
    match op {
        BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM => slot != lstm::slot::INPUT,
        _ => weight_axis(op).is_some() && matches!(slot, 1 | 2),
    }
}

/// Refuses, by index and name, the first operator int8 quantization does not handle.
pub fn check_ops(float: &ModelDef) -> Result<(), QuantizeError> {
    for (index, op) in float.operators.iter().enumerate() {
        if op.op == BuiltinOperator::CUSTOM {
            return Err(QuantizeError::UnsupportedCustomOp {
                index,
                name: op.custom_name.clone().unwrap_or_default(),
            });
        }
        if output_rule(op.op).is_none() || op.outputs.len() != 1 {
            return Err(QuantizeError::UnsupportedOp { index, op: op.op });
        }
        if lstm::is_lstm(op) {
            lstm::check(float, index, op)?;
        }
    }
    Ok(())
}

/// Checks that every op's weights and bias are float32 constants (a model
/// with int8 weights, such as a dynamic-range "hybrid" model, is not float).
pub fn check_weights(float: &ModelDef) -> Result<(), QuantizeError> {
    for (index, op) in float.operators.iter().enumerate() {
        if weight_axis(op.op).is_none() {
            continue;
        }
        for &i in op.inputs.iter().skip(1).filter(|&&i| i >= 0) {
            let tensor = &float.tensors[i as usize];
            if tensor.data.is_none() {
                return Err(QuantizeError::VariableWeights { index });
            }
            if tensor.dtype != TensorType::Float32 {
                return Err(QuantizeError::NotFloat {
                    tensor: tensor.name.clone(),
                    dtype: tensor.dtype,
                });
            }
        }
    }
    Ok(())
}

/// Tensors that must share one quantization (union-find over tensor indices).
struct Groups {
    parent: Vec<usize>,
    /// Per root: the fixed quantization, if a member has one.
    fixed: Vec<Option<ActivationQuant>>,
    /// Per root: the ranges that flow into the group (calibrated outputs,
    /// the graph input, constants).
    ranges: Vec<Vec<(f32, f32)>>,
}

impl Groups {
    fn new(n: usize) -> Self {
        Groups {
            parent: (0..n).collect(),
            fixed: vec![None; n],
            ranges: vec![Vec::new(); n],
        }
    }

    fn root(&mut self, t: usize) -> usize {
        let mut r = t;
        while self.parent[r] != r {
            r = self.parent[r];
        }
        let mut t = t;
        while self.parent[t] != r {
            let next = self.parent[t];
            self.parent[t] = r;
            t = next;
        }
        r
    }

    /// Joins the groups of `a` and `b` if one quantization can serve both:
    /// not two different fixed ones, nor a fixed one and calibrated ranges
    /// (which it would clip). Returns whether they are now one group.
    fn join(&mut self, a: usize, b: usize) -> bool {
        let (a, b) = (self.root(a), self.root(b));
        if a == b {
            return true;
        }
        let compatible = match (self.fixed[a], self.fixed[b]) {
            (Some(x), Some(y)) => x == y,
            (Some(_), None) => self.ranges[b].is_empty(),
            (None, Some(_)) => self.ranges[a].is_empty(),
            (None, None) => true,
        };
        if compatible {
            self.parent[b] = a;
            self.fixed[a] = self.fixed[a].or(self.fixed[b]);
            let moved = std::mem::take(&mut self.ranges[b]);
            self.ranges[a].extend(moved);
        }
        compatible
    }

    fn add_range(&mut self, t: usize, range: (f32, f32)) {
        let r = self.root(t);
        self.ranges[r].push(range);
    }

    fn fix(&mut self, t: usize, q: ActivationQuant) {
        let r = self.root(t);
        self.fixed[r] = Some(q);
    }

    /// The group's quantization: its fixed one, or the union of its ranges.
    fn quant(&mut self, t: usize) -> Option<ActivationQuant> {
        let r = self.root(t);
        if let Some(q) = self.fixed[r] {
            return Some(q);
        }
        let ranges = &self.ranges[r];
        if ranges.is_empty() {
            return None;
        }
        let lo = ranges.iter().map(|r| r.0).fold(f32::INFINITY, f32::min);
        let hi = ranges.iter().map(|r| r.1).fold(f32::NEG_INFINITY, f32::max);
        Some(ActivationQuant::from_range(lo, hi))
    }
}

/// Chooses the quantization of every int8 tensor that is not a weight or
/// bias: the graph input, every operator output, and float constants that
/// operators other than FULLY_CONNECTED/CONV_2D/DEPTHWISE_CONV_2D read (an
/// ADD's addend: over its own values; a CONCATENATION's: the output's).
pub fn activation_quants(
    float: &ModelDef,
    observed: &[Observed],
    config: &QuantizeConfig,
) -> Result<HashMap<usize, ActivationQuant>, QuantizeError> {
    check_ops(float)?;
    let by_tensor: HashMap<usize, &Observed> = observed.iter().map(|o| (o.tensor, o)).collect();
    let chosen = |t: usize| {
        let method = config.method_for(&float.tensors[t].name);
        by_tensor.get(&t).map(|o| choose(method, &o.histogram))
    };
    let is_float_constant =
        |t: usize| float.tensors[t].data.is_some() && float.tensors[t].dtype == TensorType::Float32;
    let mut groups = Groups::new(float.tensors.len());
    let mut states = Vec::new();
    for &input in &float.inputs {
        let t = input as usize;
        let range = chosen(t).ok_or(QuantizeError::Unsupported("an input never seen"))?;
        groups.add_range(t, range);
    }
    // Constants: over their own values (a group they join widens to them).
    let mut constants = Vec::new();
    for op in &float.operators {
        for (slot, &i) in op.inputs.iter().enumerate() {
            if i >= 0 && !is_weight_slot(op.op, slot) && is_float_constant(i as usize) {
                let t = i as usize;
                if !constants.contains(&t) {
                    constants.push(t);
                    groups.add_range(t, value_range(&float_values(&float.tensors[t])));
                }
            }
        }
    }
    for (index, op) in float.operators.iter().enumerate() {
        let unsupported = QuantizeError::UnsupportedOp { index, op: op.op };
        let output = op.outputs[0] as usize;
        let activations = || {
            op.inputs
                .iter()
                .filter(|&&i| i >= 0)
                .map(|&i| i as usize)
                .filter(|&t| float.tensors[t].dtype == TensorType::Float32)
        };
        match output_rule(op.op).ok_or(unsupported)? {
            OutputRule::Calibrated => {
                let range =
                    chosen(output).ok_or(QuantizeError::UnsupportedOp { index, op: op.op })?;
                groups.add_range(output, range);
            }
            OutputRule::Lstm => {
                let range =
                    chosen(output).ok_or(QuantizeError::UnsupportedOp { index, op: op.op })?;
                groups.add_range(output, range);
                // The hidden state is what the output is made of.
                if let Some(state) = lstm::input(op, lstm::slot::OUTPUT_STATE) {
                    groups.join(output, state);
                    states.push(state);
                }
            }
            OutputRule::Fixed(q) => groups.fix(output, q),
            OutputRule::SameAsInput => {
                let input = activations()
                    .next()
                    .ok_or(QuantizeError::UnsupportedOp { index, op: op.op })?;
                // The output is new: joining always succeeds.
                groups.join(input, output);
            }
            OutputRule::Shared => {
                // The output's own range covers every input's (a
                // CONCATENATION's parts, a MAXIMUM's larger values), also
                // of inputs that cannot join and are requantized by the
                // rewrite. Calibrated inputs join first, so that a fixed
                // quantization (a SOFTMAX's) does not clip them.
                if let Some(range) = chosen(output) {
                    groups.add_range(output, range);
                }
                let mut inputs: Vec<usize> = activations().collect();
                inputs.sort_by_key(|&t| {
                    let r = groups.root(t);
                    groups.fixed[r].is_some()
                });
                for input in inputs {
                    if constants.contains(&input) {
                        let range = value_range(&float_values(&float.tensors[input]));
                        groups.add_range(output, range);
                    } else {
                        groups.join(output, input);
                    }
                }
            }
        }
    }
    let mut quants = HashMap::new();
    let mut tensors: Vec<usize> = float.inputs.iter().map(|&t| t as usize).collect();
    tensors.extend(&constants);
    tensors.extend(float.operators.iter().map(|op| op.outputs[0] as usize));
    tensors.extend(states);
    for t in tensors {
        let q = groups
            .quant(t)
            .ok_or(QuantizeError::Unsupported("a tensor with no range"))?;
        quants.insert(t, q);
    }
    Ok(quants)
}

/// Builds the int8 model from the float one and what calibration observed.
pub fn rewrite(
    float: &ModelDef,
    observed: &[Observed],
    config: &QuantizeConfig,
) -> Result<ModelDef, QuantizeError> {
    let quants = activation_quants(float, observed, config)?;
    // Each LSTM cell state's int16 scale, from the replayed range.
    let mut cell_scales = HashMap::new();
    for op in float.operators.iter().filter(|op| lstm::is_lstm(op)) {
        if let Some(cell) = lstm::input(op, lstm::slot::CELL_STATE) {
            let seen = observed.iter().find(|o| o.tensor == cell);
            let max_abs = seen.map_or(0.0, |o| o.histogram.max.abs().max(o.histogram.min.abs()));
            cell_scales.insert(cell, lstm::cell_scale(max_abs));
        }
    }
    let mut builder = Builder {
        float,
        quants: &quants,
        cell_scales: &cell_scales,
        out: ModelDef {
            description: match config.weights {
                WeightType::Int8 => "mote int8 (post-training quantization)",
                WeightType::Int4 => "mote int8, int4 weights (post-training quantization)",
            }
            .into(),
            name: float.name.clone(),
            ..ModelDef::default()
        },
        activations: HashMap::new(),
    };
    let edge_suffix = match config.io {
        Io::Int8 => "",
        Io::Float => "_int8",
    };
    // Graph inputs first, with QUANTIZE from float when asked.
    for &input in &float.inputs {
        let q = builder.activation(input as usize, edge_suffix);
        if config.io == Io::Float {
            let f = builder.float_edge(input as usize);
            builder.push_op(BuiltinOperator::QUANTIZE, &[f], &[q], OptionsDef::default());
            builder.out.inputs.push(f);
        } else {
            builder.out.inputs.push(q);
        }
    }
    for &output in &float.outputs {
        builder.activation(output as usize, edge_suffix);
    }
    for (index, op) in float.operators.iter().enumerate() {
        builder.operator(index, op, config.per_channel, config.weights)?;
    }
    for &output in &float.outputs {
        let q = builder.activation(output as usize, edge_suffix);
        if config.io == Io::Float {
            let f = builder.float_edge(output as usize);
            builder.push_op(
                BuiltinOperator::DEQUANTIZE,
                &[q],
                &[f],
                OptionsDef::default(),
            );
            builder.out.outputs.push(f);
        } else {
            builder.out.outputs.push(q);
        }
    }
    Ok(builder.out)
}

struct Builder<'f> {
    float: &'f ModelDef,
    quants: &'f HashMap<usize, ActivationQuant>,
    /// LSTM cell state tensor -> its int16 scale.
    cell_scales: &'f HashMap<usize, f32>,
    out: ModelDef,
    /// Float activation (or float constant) index -> int8 tensor index in `out`.
    activations: HashMap<usize, i32>,
}

impl Builder<'_> {
    fn push(&mut self, tensor: TensorDef) -> i32 {
        self.out.tensors.push(tensor);
        self.out.tensors.len() as i32 - 1
    }

    fn push_op(
        &mut self,
        op: BuiltinOperator,
        inputs: &[i32],
        outputs: &[i32],
        options: OptionsDef,
    ) {
        let mut def = OperatorDef::new(op, inputs, outputs, options);
        def.version = int8_version(op);
        self.out.operators.push(def);
    }

    /// The int8 tensor of float activation `t` (made on first use).
    fn activation(&mut self, t: usize, suffix: &str) -> i32 {
        if let Some(&i) = self.activations.get(&t) {
            return i;
        }
        let source = &self.float.tensors[t];
        let mut tensor = TensorDef::new(
            format!("{}{suffix}", source.name),
            &source.shape,
            TensorType::Int8,
        );
        tensor.shape_signature = source.shape_signature.clone();
        tensor.quantization = self.quants.get(&t).map(|q| per_tensor(*q));
        let i = self.push(tensor);
        self.activations.insert(t, i);
        i
    }

    /// Float constant `t` as an int8 constant quantized with `q`.
    fn constant(&mut self, t: usize, q: ActivationQuant, name: String) -> i32 {
        let tensor = &self.float.tensors[t];
        let mut def = TensorDef::new(name, &tensor.shape, TensorType::Int8);
        def.data = Some(quantize_values(&float_values(tensor), q));
        def.quantization = Some(per_tensor(q));
        self.push(def)
    }

    /// A float32 copy of graph edge tensor `t` (same name and shape).
    fn float_edge(&mut self, t: usize) -> i32 {
        let source = &self.float.tensors[t];
        let mut tensor = TensorDef::new(source.name.clone(), &source.shape, TensorType::Float32);
        tensor.shape_signature = source.shape_signature.clone();
        self.push(tensor)
    }

    fn operator(
        &mut self,
        index: usize,
        op: &OperatorDef,
        per_channel: bool,
        weights: WeightType,
    ) -> Result<(), QuantizeError> {
        let unsupported = || QuantizeError::UnsupportedOp { index, op: op.op };
        let rule = output_rule(op.op).ok_or_else(unsupported)?;
        if rule == OutputRule::Lstm {
            return self.lstm(index, op);
        }
        let output = *op.outputs.first().ok_or_else(unsupported)? as usize;
        let output_quant = *self.quants.get(&output).ok_or_else(unsupported)?;
        let mut inputs = Vec::with_capacity(op.inputs.len());
        let input_scale = op
            .inputs
            .first()
            .and_then(|&i| self.quants.get(&(i as usize)))
            .map(|q| q.scale);
        let mut weight_scales = Vec::new();
        for (slot, &i) in op.inputs.iter().enumerate() {
            if i < 0 {
                inputs.push(-1);
                continue;
            }
            let t = i as usize;
            let tensor = &self.float.tensors[t];
            let constant = tensor.data.is_some();
            let new_index = match (weight_axis(op.op), slot, constant) {
                (Some(_), 1 | 2, false) => return Err(QuantizeError::VariableWeights { index }),
                (Some(axis), 1, true) => {
                    let per_channel = per_channel && weights_per_channel(op.op, weights);
                    let w = quantize_weights_as(
                        &float_values(tensor),
                        &dims(tensor),
                        axis,
                        per_channel,
                        weights,
                    );
                    let scales = w.scales.clone();
                    weight_scales.clone_from(&scales);
                    let mut def =
                        TensorDef::new(tensor.name.clone(), &tensor.shape, weights.tensor_type());
                    def.data = Some(weights.bytes(&w.values));
                    def.quantization = Some(QuantizationDef {
                        zero_point: vec![0; scales.len()],
                        scale: scales,
                        quantized_dimension: axis as i32,
                        ..QuantizationDef::default()
                    });
                    self.push(def)
                }
                (Some(_), 2, true) => {
                    let input_scale = input_scale.ok_or_else(unsupported)?;
                    let (values, scales) =
                        quantize_bias(&float_values(tensor), input_scale, &weight_scales);
                    let mut def =
                        TensorDef::new(tensor.name.clone(), &tensor.shape, TensorType::Int32);
                    def.data = Some(values.iter().flat_map(|v| v.to_le_bytes()).collect());
                    def.quantization = Some(QuantizationDef {
                        zero_point: vec![0; scales.len()],
                        scale: scales,
                        quantized_dimension: 0,
                        ..QuantizationDef::default()
                    });
                    self.push(def)
                }
                // Shapes, axes, paddings and other non-float constants stay as they are.
                (_, _, true) if tensor.dtype != TensorType::Float32 => self.push(tensor.clone()),
                // A constant the kernel reads raw (a CONCATENATION's part,
                // PADV2's pad value): in the output's quantization.
                (_, _, true)
                    if rule == OutputRule::Shared
                        || (op.op == BuiltinOperator::PADV2 && slot == 2) =>
                {
                    let name = format!("{}/{}", tensor.name, self.float.tensors[output].name);
                    self.constant(t, output_quant, name)
                }
                (_, _, true) => {
                    // Another constant operand (an ADD's): as chosen, made once.
                    if let Some(&i) = self.activations.get(&t) {
                        i
                    } else {
                        let q = *self.quants.get(&t).ok_or_else(unsupported)?;
                        let i = self.constant(t, q, tensor.name.clone());
                        self.activations.insert(t, i);
                        i
                    }
                }
                (_, _, false) => {
                    if tensor.dtype != TensorType::Float32 {
                        return Err(QuantizeError::NotFloat {
                            tensor: tensor.name.clone(),
                            dtype: tensor.dtype,
                        });
                    }
                    let q = *self.quants.get(&t).ok_or_else(unsupported)?;
                    let i = self.activation(t, "");
                    if rule == OutputRule::Shared && q != output_quant {
                        self.requantize(i, output_quant, &self.float.tensors[output].name.clone())
                    } else {
                        i
                    }
                }
            };
            inputs.push(new_index);
        }
        let outputs: Vec<i32> = op
            .outputs
            .iter()
            .map(|&o| self.activation(o as usize, ""))
            .collect();
        self.push_op(op.op, &inputs, &outputs, op.options.clone());
        Ok(())
    }

    /// An UNIDIRECTIONAL_SEQUENCE_LSTM ([`lstm`]): int8 weights per tensor,
    /// int32 biases at `input_scale * weight_scale` of the gate's input
    /// weights, the int8 hidden and int16 cell states as variables.
    fn lstm(&mut self, index: usize, op: &OperatorDef) -> Result<(), QuantizeError> {
        use lstm::slot;
        let unsupported = || QuantizeError::UnsupportedOp { index, op: op.op };
        let input = lstm::input(op, slot::INPUT).ok_or_else(unsupported)?;
        let output = *op.outputs.first().ok_or_else(unsupported)? as usize;
        let input_scale = self.quants.get(&input).ok_or_else(unsupported)?.scale;
        let output_quant = *self.quants.get(&output).ok_or_else(unsupported)?;
        let mut inputs = vec![-1; op.inputs.len()];
        inputs[slot::INPUT] = self.activation(input, "");
        for gate in 0..4 {
            let mut input_weight_scale = 0.0;
            for (k, &s) in [slot::INPUT_WEIGHTS[gate], slot::RECURRENT_WEIGHTS[gate]]
                .iter()
                .enumerate()
            {
                let t = lstm::input(op, s).ok_or_else(unsupported)?;
                let tensor = &self.float.tensors[t];
                let w = quantize_weights_as(
                    &float_values(tensor),
                    &dims(tensor),
                    0,
                    false,
                    WeightType::Int8,
                );
                if k == 0 {
                    input_weight_scale = w.scales[0];
                }
                let mut def = TensorDef::new(tensor.name.clone(), &tensor.shape, TensorType::Int8);
                def.data = Some(WeightType::Int8.bytes(&w.values));
                def.quantization = Some(QuantizationDef {
                    scale: w.scales,
                    zero_point: vec![0],
                    ..QuantizationDef::default()
                });
                inputs[s] = self.push(def);
            }
            let t = lstm::input(op, slot::BIASES[gate]).ok_or_else(unsupported)?;
            let tensor = &self.float.tensors[t];
            let (values, scales) =
                quantize_bias(&float_values(tensor), input_scale, &[input_weight_scale]);
            let mut def = TensorDef::new(tensor.name.clone(), &tensor.shape, TensorType::Int32);
            def.data = Some(values.iter().flat_map(|v| v.to_le_bytes()).collect());
            def.quantization = Some(QuantizationDef {
                zero_point: vec![0; scales.len()],
                scale: scales,
                ..QuantizationDef::default()
            });
            inputs[slot::BIASES[gate]] = self.push(def);
        }
        let hidden = lstm::input(op, slot::OUTPUT_STATE).ok_or_else(unsupported)?;
        let cell = lstm::input(op, slot::CELL_STATE).ok_or_else(unsupported)?;
        let cell_scale = *self.cell_scales.get(&cell).ok_or_else(unsupported)?;
        let cell_quant = ActivationQuant {
            scale: cell_scale,
            zero_point: 0,
        };
        for (s, t, dtype, q) in [
            (slot::OUTPUT_STATE, hidden, TensorType::Int8, output_quant),
            (slot::CELL_STATE, cell, TensorType::Int16, cell_quant),
        ] {
            let source = &self.float.tensors[t];
            let mut def = TensorDef::new(source.name.clone(), &source.shape, dtype);
            def.is_variable = true;
            def.quantization = Some(per_tensor(q));
            inputs[s] = self.push(def);
        }
        let out = self.activation(output, "");
        self.push_op(op.op, &inputs, &[out], op.options.clone());
        Ok(())
    }

    /// int8 tensor `i` requantized to `q` by a QUANTIZE (for the input of `user`).
    fn requantize(&mut self, i: i32, q: ActivationQuant, user: &str) -> i32 {
        let source = &self.out.tensors[i as usize];
        let mut tensor = TensorDef::new(
            format!("{}/requantized_for/{user}", source.name),
            &source.shape,
            TensorType::Int8,
        );
        tensor.shape_signature = source.shape_signature.clone();
        tensor.quantization = Some(per_tensor(q));
        let r = self.push(tensor);
        self.push_op(BuiltinOperator::QUANTIZE, &[i], &[r], OptionsDef::default());
        r
    }
}
