//! A parsed `.tflite` ([`mote_runtime::Model`]) back into an owned [`ModelDef`]
//! (every field, through mote-train's reader), so it can be rewritten and
//! written again; an op the int8 rewrite does not handle is an error that
//! names it and its index.

use mote_runtime::Model;
use mote_train::tflite::ModelDef;

use super::rewrite::check_ops;
use super::QuantizeError;

/// Reads `bytes` into a [`ModelDef`]: one subgraph, every op one that
/// quantization knows. Metadata and signatures are dropped (the int8 model's
/// tensors are numbered anew).
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
    Ok(def)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mote_runtime::{BuiltinOperator, TensorType};
    use mote_train::tflite::builder::Scalar;
    use mote_train::tflite::{OperatorDef, OptionsDef, TensorDef};

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
