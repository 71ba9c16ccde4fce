//! A parsed `.tflite` ([`mote_runtime::Model`]) back into an owned [`ModelDef`],
//! for the ops quantization handles, so it can be rewritten and written again.
//!
//! Each supported op's builtin options are copied field by field (ids and
//! types from TensorFlow Lite's `schema.fbs`); an op outside the table is an
//! error that names it.

use mote_runtime::model::Options;
use mote_runtime::{BuiltinOperator, Model};
use mote_train::tflite::builder::Scalar;
use mote_train::tflite::{ModelDef, OperatorDef, OptionsDef, QuantizationDef, TensorDef};

use super::QuantizeError;

/// A field of an options table: its id and type.
#[derive(Clone, Copy)]
enum Field {
    U8(u16, u8),
    I32(u16, i32),
    F32(u16, f32),
    I32s(u16),
}

/// The options table of each op quantization handles: union tag and fields.
fn options_layout(op: BuiltinOperator) -> Option<(u8, &'static [Field])> {
    use Field::*;
    const POOL: &[Field] = &[
        U8(0, 0),
        I32(1, 0),
        I32(2, 0),
        I32(3, 0),
        I32(4, 0),
        U8(5, 0),
    ];
    Some(match op {
        // Conv2DOptions: padding, stride_w, stride_h, fused activation, dilation w/h.
        BuiltinOperator::CONV_2D => (
            1,
            &[
                U8(0, 0),
                I32(1, 0),
                I32(2, 0),
                U8(3, 0),
                I32(4, 1),
                I32(5, 1),
            ],
        ),
        // DepthwiseConv2DOptions: padding, strides, depth_multiplier, activation, dilations.
        BuiltinOperator::DEPTHWISE_CONV_2D => (
            2,
            &[
                U8(0, 0),
                I32(1, 0),
                I32(2, 0),
                I32(3, 0),
                U8(4, 0),
                I32(5, 1),
                I32(6, 1),
            ],
        ),
        // Pool2DOptions: padding, strides, filter size, fused activation.
        BuiltinOperator::AVERAGE_POOL_2D | BuiltinOperator::MAX_POOL_2D => (5, POOL),
        // FullyConnectedOptions: fused activation, weights_format, keep_num_dims.
        BuiltinOperator::FULLY_CONNECTED => (8, &[U8(0, 0), U8(1, 0), U8(2, 0)]),
        // SoftmaxOptions: beta.
        BuiltinOperator::SOFTMAX => (9, &[F32(0, 0.0)]),
        // AddOptions: fused activation.
        BuiltinOperator::ADD => (11, &[U8(0, 0)]),
        // ReshapeOptions: new_shape.
        BuiltinOperator::RESHAPE => (17, &[I32s(0)]),
        BuiltinOperator::LOGISTIC
        | BuiltinOperator::TANH
        | BuiltinOperator::RELU
        | BuiltinOperator::RELU6 => (0, &[]),
        _ => return None,
    })
}

/// Copies an operator's options as the layout says.
fn copy_options(op: BuiltinOperator, options: Options<'_>) -> Option<OptionsDef> {
    let (kind, fields) = options_layout(op)?;
    if kind == 0 || !options.is_present() {
        return Some(OptionsDef::default());
    }
    let mut def = OptionsDef {
        kind,
        ..OptionsDef::default()
    };
    for field in fields {
        match *field {
            Field::U8(id, d) => def.scalars.push((id, Scalar::U8(options.u8(id, d)))),
            Field::I32(id, d) => def.scalars.push((id, Scalar::I32(options.i32(id, d)))),
            Field::F32(id, d) => def.scalars.push((id, Scalar::F32(options.f32(id, d)))),
            Field::I32s(id) => {
                let values: Vec<i32> = options.i32s(id).ok()?.iter().collect();
                if !values.is_empty() {
                    def.vectors.push((id, values));
                }
            }
        }
    }
    Some(def)
}

/// Reads `bytes` into a [`ModelDef`]: one subgraph, every op one that
/// quantization knows, options and constants copied.
pub fn import(bytes: &[u8]) -> Result<ModelDef, QuantizeError> {
    let model = Model::parse(bytes).map_err(QuantizeError::Model)?;
    if model.subgraph_count() != 1 {
        return Err(QuantizeError::Unsupported("a model with several subgraphs"));
    }
    let graph = model.main();
    let mut def = ModelDef {
        description: model.description().to_string(),
        name: graph.name().to_string(),
        inputs: graph.inputs().iter().collect(),
        outputs: graph.outputs().iter().collect(),
        ..ModelDef::default()
    };
    for i in 0..graph.tensor_count() {
        let Some(t) = graph.tensor(i) else { continue };
        let shape: Vec<i32> = t.shape().dims().iter().map(|&d| d as i32).collect();
        let mut tensor = TensorDef::new(t.name(), &shape, t.dtype());
        tensor.shape_signature = t.shape_signature().map(|s| s.collect());
        tensor.is_variable = t.is_variable();
        if t.is_constant() {
            tensor.data = Some(t.data().to_vec());
        }
        tensor.quantization = t.quantization().map(|q| QuantizationDef {
            scale: (0..q.scale_count()).map(|c| q.scale(c)).collect(),
            zero_point: (0..q.scale_count()).map(|c| q.zero_point(c)).collect(),
            quantized_dimension: q.quantized_dimension() as i32,
            min: vec![],
            max: vec![],
        });
        def.tensors.push(tensor);
    }
    for index in 0..graph.operator_count() {
        let Some(op) = graph.operator(index) else {
            continue;
        };
        let builtin = op.builtin();
        let options = copy_options(builtin, op.options())
            .ok_or(QuantizeError::UnsupportedOp { index, op: builtin })?;
        let mut def_op = OperatorDef::new(
            builtin,
            &op.inputs().iter().collect::<Vec<_>>(),
            &op.outputs().iter().collect::<Vec<_>>(),
            options,
        );
        def_op.version = op.code().map_or(1, |c| c.version());
        def.operators.push(def_op);
    }
    Ok(def)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mote_runtime::TensorType;

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
        // FullyConnectedOptions: fused ReLU (1), weights_format and keep_num_dims 0.
        let options = &back.operators[0].options;
        assert_eq!(options.kind, 8);
        assert_eq!(
            options.scalars,
            vec![(0, Scalar::U8(1)), (1, Scalar::U8(0)), (2, Scalar::U8(0))]
        );
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
