//! The int8 model: every activation int8 with its calibrated quantization,
//! weights int8 per channel, biases int32, and the edges as the caller wants.

use std::collections::HashMap;

use mote_runtime::{BuiltinOperator, TensorType};
use mote_train::tflite::{ModelDef, OperatorDef, OptionsDef, QuantizationDef, TensorDef};

use super::calibrate::Observed;
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

/// The lowest op version that has int8 kernels (TensorFlow Lite's registrations).
fn int8_version(op: BuiltinOperator) -> i32 {
    match op {
        BuiltinOperator::FULLY_CONNECTED => 4,
        BuiltinOperator::CONV_2D | BuiltinOperator::DEPTHWISE_CONV_2D => 3,
        BuiltinOperator::RESHAPE => 1,
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

/// Chooses every activation's quantization, in execution order: calibrated
/// ranges, fixed ones for SOFTMAX/LOGISTIC/TANH, and the input's for ops that
/// move values without rescaling them (RESHAPE, MAX_POOL_2D, AVERAGE_POOL_2D).
pub fn activation_quants(
    float: &ModelDef,
    observed: &[Observed],
    config: &QuantizeConfig,
) -> Result<HashMap<usize, ActivationQuant>, QuantizeError> {
    let by_tensor: HashMap<usize, &Observed> = observed.iter().map(|o| (o.tensor, o)).collect();
    let calibrated = |t: usize| {
        let method = config.method_for(&float.tensors[t].name);
        by_tensor.get(&t).map(|o| {
            let (lo, hi) = choose(method, &o.histogram);
            ActivationQuant::from_range(lo, hi)
        })
    };
    let mut quants = HashMap::new();
    for &input in &float.inputs {
        let t = input as usize;
        quants.insert(
            t,
            calibrated(t).ok_or(QuantizeError::Unsupported("an input never seen"))?,
        );
    }
    for (index, op) in float.operators.iter().enumerate() {
        let [output] = op.outputs[..] else {
            return Err(QuantizeError::UnsupportedOp { index, op: op.op });
        };
        let output = output as usize;
        let quant = match op.op {
            BuiltinOperator::SOFTMAX | BuiltinOperator::LOGISTIC => PROBABILITY,
            BuiltinOperator::TANH => TANH,
            BuiltinOperator::RESHAPE
            | BuiltinOperator::MAX_POOL_2D
            | BuiltinOperator::AVERAGE_POOL_2D => {
                let input = op.inputs.first().map_or(-1, |&i| i) as usize;
                *quants
                    .get(&input)
                    .ok_or(QuantizeError::UnsupportedOp { index, op: op.op })?
            }
            _ => calibrated(output).ok_or(QuantizeError::UnsupportedOp { index, op: op.op })?,
        };
        quants.insert(output, quant);
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
    let mut builder = Builder {
        float,
        quants: &quants,
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
    out: ModelDef,
    /// Float activation index -> int8 tensor index in `out`.
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
                // RESHAPE's shape and other non-float constants stay as they are.
                (_, _, true) if tensor.dtype != TensorType::Float32 => self.push(tensor.clone()),
                (_, _, true) => {
                    // A float constant operand (ADD's): asymmetric int8 over its own range.
                    let values = float_values(tensor);
                    let lo = values.iter().copied().fold(0.0f32, f32::min);
                    let hi = values.iter().copied().fold(0.0f32, f32::max);
                    let q = ActivationQuant::from_range(lo, hi);
                    let mut def =
                        TensorDef::new(tensor.name.clone(), &tensor.shape, TensorType::Int8);
                    def.data = Some(
                        values
                            .iter()
                            .map(|&v| {
                                ((v / q.scale).round() + q.zero_point as f32).clamp(-128.0, 127.0)
                                    as i8 as u8
                            })
                            .collect(),
                    );
                    def.quantization = Some(per_tensor(q));
                    self.push(def)
                }
                (_, _, false) => {
                    if !self.quants.contains_key(&t) {
                        return Err(unsupported());
                    }
                    self.activation(t, "")
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
}
