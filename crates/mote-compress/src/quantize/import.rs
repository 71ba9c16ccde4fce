//! A parsed `.tflite` ([`mote_runtime::Model`]) back into an owned [`ModelDef`]
//! (every field, through mote-train's reader), so it can be rewritten and
//! written again; an op the int8 rewrite does not handle is an error that
//! names it and its index.
//!
//! A dynamic-range ("hybrid") model, float but for int8 weights that its
//! kernels dequantize on the fly (`kws_ref_model_float32.tflite`, which
//! TensorFlow Lite Micro refuses to run), has those weights dequantized here
//! (`scale * (q - zero_point)`): the float model they stand for.

use mote_runtime::{Model, TensorType};
use mote_train::tflite::ModelDef;

use super::rewrite::{check_ops, is_weight_slot};
use super::QuantizeError;

/// Reads `bytes` into a [`ModelDef`]: one subgraph, every op one that
/// quantization knows, int8 weights dequantized. Metadata and signatures
/// are dropped (the int8 model's tensors are numbered anew).
pub fn import(bytes: &[u8]) -> Result<ModelDef, QuantizeError> {
    let model = Model::parse(bytes).map_err(QuantizeError::Model)?;
    if model.subgraph_count() != 1 {
        return Err(QuantizeError::Unsupported("a model with several subgraphs"));
    }
    let mut def = ModelDef::from_model(&model)
        .map_err(|_| QuantizeError::Unsupported("a model whose options cannot be copied"))?;
    def.metadata.clear();
    def.signature_defs.clear();
    check_ops(&def)?;
    // An int8 model (not a hybrid one) is refused by its input.
    for &i in &def.inputs {
        let input = &def.tensors[i.max(0) as usize];
        if input.dtype != TensorType::Float32 {
            return Err(QuantizeError::NotFloat {
                tensor: input.name.clone(),
                dtype: input.dtype,
            });
        }
    }
    dequantize_weights(&mut def);
    Ok(def)
}

/// Turns constant int8 weights with a quantization (a hybrid model's) into
/// the float32 values they stand for; returns how many tensors it changed.
pub fn dequantize_weights(def: &mut ModelDef) -> usize {
    let mut weights: Vec<usize> = Vec::new();
    for op in &def.operators {
        for (slot, &i) in op.inputs.iter().enumerate() {
            if i >= 0 && is_weight_slot(op.op, slot) && !weights.contains(&(i as usize)) {
                weights.push(i as usize);
            }
        }
    }
    let mut changed = 0;
    for t in weights {
        let tensor = &mut def.tensors[t];
        let (Some(data), Some(q), TensorType::Int8) =
            (&tensor.data, &tensor.quantization, tensor.dtype)
        else {
            continue;
        };
        if q.scale.is_empty() {
            continue;
        }
        // Channel `c` of the quantized dimension takes scale[c] (one scale: all).
        let dims: Vec<usize> = tensor.shape.iter().map(|&d| d.max(0) as usize).collect();
        let axis = (q.quantized_dimension.max(0) as usize).min(dims.len().saturating_sub(1));
        let inner: usize = dims.iter().skip(axis + 1).product();
        let channels = dims.get(axis).copied().unwrap_or(1).max(1);
        let per_channel = q.scale.len() > 1;
        let values: Vec<u8> = data
            .iter()
            .enumerate()
            .flat_map(|(k, &b)| {
                let c = if per_channel {
                    (k / inner.max(1)) % channels
                } else {
                    0
                };
                let scale = q.scale.get(c).copied().unwrap_or(1.0);
                let zero = q.zero_point.get(c).copied().unwrap_or(0) as f32;
                (scale * (f32::from(b as i8) - zero)).to_le_bytes()
            })
            .collect();
        tensor.data = Some(values);
        tensor.dtype = TensorType::Float32;
        tensor.quantization = None;
        changed += 1;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use mote_runtime::{BuiltinOperator, TensorType};
    use mote_train::tflite::builder::Scalar;
    use mote_train::tflite::{OperatorDef, OptionsDef, QuantizationDef, TensorDef};

    /// y = relu(2x - 1) as one FULLY_CONNECTED with a fused ReLU.
    fn line() -> ModelDef {
        ModelDef {
            description: "line".into(),
            name: "main".into(),
            tensors: vec![
                TensorDef::new("x", &[1, 1], TensorType::Float32),
                TensorDef::constant_f32("w", &[1, 1], &[2.0]),
                TensorDef::constant_f32("b", &[1], &[-1.0]),
                TensorDef::new("y", &[1, 1], TensorType::Float32),
            ],
            operators: vec![OperatorDef::new(
                BuiltinOperator::FULLY_CONNECTED,
                &[0, 1, 2],
                &[3],
                OptionsDef::fully_connected(1, false),
            )],
            inputs: vec![0],
            outputs: vec![3],
            metadata: vec![],
            signature_defs: vec![],
        }
    }

    #[test]
    fn a_written_model_imports_back_unchanged() {
        let def = line();
        let back = import(&def.to_bytes().unwrap()).unwrap();
        assert_eq!(back.tensors, def.tensors);
        // FullyConnectedOptions: fused ReLU (1); the other fields at their defaults.
        let options = &back.operators[0].options;
        assert_eq!(options.kind, 8);
        assert_eq!(options.scalars, vec![(0, Scalar::U8(1))]);
        assert_eq!((back.inputs, back.outputs), (vec![0], vec![3]));
    }

    #[test]
    fn int8_weights_are_dequantized_per_tensor_and_per_channel() {
        // w = [[1, -2], [3, 4]] int8 with scale 0.5 (per tensor), then with
        // scales [0.5, 2] on axis 0 and zero points [0, 1].
        for (scale, zero_point, expected) in [
            (vec![0.5], vec![0], [0.5, -1.0, 1.5, 2.0]),
            (vec![0.5, 2.0], vec![0, 1], [0.5, -1.0, 4.0, 6.0]),
        ] {
            let mut def = line();
            let w = &mut def.tensors[1];
            w.shape = vec![2, 2];
            w.dtype = TensorType::Int8;
            w.data = Some(vec![1, (-2i8) as u8, 3, 4]);
            w.quantization = Some(QuantizationDef {
                scale,
                zero_point,
                ..QuantizationDef::default()
            });
            assert_eq!(dequantize_weights(&mut def), 1);
            let w = &def.tensors[1];
            assert_eq!(
                (w.dtype, w.quantization.is_none()),
                (TensorType::Float32, true)
            );
            let values: Vec<f32> = w
                .data
                .as_deref()
                .unwrap()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            assert_eq!(values, expected);
        }
    }

    #[test]
    fn an_op_without_int8_support_is_named() {
        let mut def = line();
        def.operators[0].op = BuiltinOperator::SQUARE;
        def.operators[0].options = OptionsDef::default();
        let err = import(&def.to_bytes().unwrap()).unwrap_err();
        assert_eq!(
            err,
            QuantizeError::UnsupportedOp {
                index: 0,
                op: BuiltinOperator::SQUARE
            }
        );
        assert_eq!(
            err.to_string(),
            "operator 0 (SQUARE) cannot be quantized to int8"
        );
    }
}
