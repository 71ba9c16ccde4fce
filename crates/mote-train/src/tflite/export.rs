//! Export: a trained [`Model`] becomes a float32 `.tflite` description.
//!
//! Each layer maps to TensorFlow Lite operators with batch size 1:
//! `Dense` -> FULLY_CONNECTED (weights transposed to TFLite's `[units, in]`,
//! ReLU/ReLU6 fused, other activations as their own operator), `Add` -> ADD,
//! `Concatenate` -> CONCATENATION on the last axis, `Dropout` -> nothing
//! (identity at inference). A layer with no mapping yet is an error that names it.

use mote_runtime::{BuiltinOperator, TensorType};

use super::builder::Scalar;
use super::{ModelDef, OperatorDef, OptionsDef, TensorDef};
use crate::activation::Activation;
use crate::layers::Layer;
use crate::model::Model;

/// Why a model cannot be exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportError {
    /// The model has not been built (no input shape yet): fit or predict first.
    NotBuilt,
    /// A layer has no `.tflite` mapping yet.
    Unsupported {
        /// The layer's name.
        layer: String,
        /// Its kind (`"Conv1D"`).
        kind: &'static str,
    },
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportError::NotBuilt => {
                f.write_str("the model is not built yet: give its input shape, or fit it first")
            }
            ExportError::Unsupported { layer, kind } => {
                write!(
                    f,
                    "layer '{layer}' ({kind}) cannot be exported to .tflite yet"
                )
            }
        }
    }
}

impl std::error::Error for ExportError {}

/// `FULLY_CONNECTED` fuses these activations (schema codes).
fn fused_code(activation: Activation) -> Option<u8> {
    match activation {
        Activation::Linear => Some(0),
        Activation::Relu => Some(1),
        Activation::Relu6 => Some(3),
        _ => None,
    }
}

/// Builds the `.tflite` description of `model` (float32, batch 1).
pub fn export(model: &Model) -> Result<ModelDef, ExportError> {
    let input_shape = model.input_shape().ok_or(ExportError::NotBuilt)?;
    model.output_shape().ok_or(ExportError::NotBuilt)?;
    let batch1 = |shape: &[usize]| {
        std::iter::once(1)
            .chain(shape.iter().copied())
            .map(|d| d as i32)
            .collect::<Vec<_>>()
    };
    let mut def = ModelDef {
        description: "mote".into(),
        name: "main".into(),
        ..ModelDef::default()
    };
    def.tensors.push(TensorDef::new(
        "input",
        &batch1(input_shape),
        TensorType::Float32,
    ));
    def.inputs = vec![0];
    // The tensor holding each layer's output.
    let mut outputs: Vec<i32> = Vec::new();
    let names: Vec<&str> = model.layer_names().collect();
    for (index, layer) in model.layers().enumerate() {
        let name = names.get(index).copied().unwrap_or("layer");
        let inputs: Vec<i32> = model
            .layer_inputs(index)
            .iter()
            .map(|i| i.map_or(0, |l| outputs[l]))
            .collect();
        let shape = batch1(
            model
                .layer_output_shape(index)
                .ok_or(ExportError::NotBuilt)?,
        );
        let unsupported = || ExportError::Unsupported {
            layer: name.to_string(),
            kind: layer.kind(),
        };
        let output = match layer {
            Layer::Input(_) => inputs.first().copied().unwrap_or(0),
            Layer::Dropout(_) => inputs.first().copied().unwrap_or(0),
            Layer::Dense(dense) => {
                let kernel = dense.kernel().ok_or(ExportError::NotBuilt)?;
                let (fan_in, units) = (kernel.shape()[0], kernel.shape()[1]);
                // Keras' kernel is [in, units]; TFLite wants [units, in].
                let mut weights = vec![0.0; fan_in * units];
                for i in 0..fan_in {
                    for u in 0..units {
                        weights[u * fan_in + i] = kernel.data()[i * units + u];
                    }
                }
                let w = push(
                    &mut def,
                    TensorDef::constant_f32(
                        format!("{name}/kernel"),
                        &[units as i32, fan_in as i32],
                        &weights,
                    ),
                );
                let b = match dense.bias() {
                    Some(bias) => push(
                        &mut def,
                        TensorDef::constant_f32(
                            format!("{name}/bias"),
                            &[units as i32],
                            bias.data(),
                        ),
                    ),
                    None => -1,
                };
                let activation = dense.activation_function();
                let fused = fused_code(activation);
                let keep_num_dims = shape.len() > 2;
                let out_name = if fused.is_some() {
                    name.to_string()
                } else {
                    format!("{name}/linear")
                };
                let y = push(
                    &mut def,
                    TensorDef::new(out_name, &shape, TensorType::Float32),
                );
                let x = inputs.first().copied().unwrap_or(0);
                def.operators.push(OperatorDef::new(
                    BuiltinOperator::FULLY_CONNECTED,
                    &[x, w, b],
                    &[y],
                    OptionsDef::fully_connected(fused.unwrap_or(0), keep_num_dims),
                ));
                match fused {
                    Some(_) => y,
                    None => activation_op(&mut def, activation, y, name, &shape)
                        .ok_or_else(unsupported)?,
                }
            }
            Layer::Add(_) => {
                let y = push(&mut def, TensorDef::new(name, &shape, TensorType::Float32));
                // AddOptions (union tag 11): fused_activation_function = NONE.
                let options = OptionsDef {
                    kind: 11,
                    scalars: vec![(0, Scalar::U8(0))],
                    ..OptionsDef::default()
                };
                def.operators.push(OperatorDef::new(
                    BuiltinOperator::ADD,
                    &inputs,
                    &[y],
                    options,
                ));
                y
            }
            Layer::Concatenate(_) => {
                let y = push(&mut def, TensorDef::new(name, &shape, TensorType::Float32));
                // ConcatenationOptions (union tag 10): axis = last, no activation.
                let axis = shape.len() as i32 - 1;
                let options = OptionsDef {
                    kind: 10,
                    scalars: vec![(0, Scalar::I32(axis)), (1, Scalar::U8(0))],
                    ..OptionsDef::default()
                };
                def.operators.push(OperatorDef::new(
                    BuiltinOperator::CONCATENATION,
                    &inputs,
                    &[y],
                    options,
                ));
                y
            }
            #[allow(unreachable_patterns)]
            _ => return Err(unsupported()),
        };
        outputs.push(output);
    }
    def.outputs = vec![outputs.last().copied().unwrap_or(0)];
    Ok(def)
}

fn push(def: &mut ModelDef, tensor: TensorDef) -> i32 {
    def.tensors.push(tensor);
    def.tensors.len() as i32 - 1
}

/// Appends a standalone activation operator; `None` if it has no TFLite op here.
fn activation_op(
    def: &mut ModelDef,
    activation: Activation,
    x: i32,
    name: &str,
    shape: &[i32],
) -> Option<i32> {
    let (op, options) = match activation {
        Activation::Sigmoid => (BuiltinOperator::LOGISTIC, OptionsDef::default()),
        Activation::Tanh => (BuiltinOperator::TANH, OptionsDef::default()),
        Activation::HardSwish => (BuiltinOperator::HARD_SWISH, OptionsDef::default()),
        // SoftmaxOptions (union tag 9): beta = 1.
        Activation::Softmax => (
            BuiltinOperator::SOFTMAX,
            OptionsDef {
                kind: 9,
                scalars: vec![(0, Scalar::F32(1.0))],
                ..OptionsDef::default()
            },
        ),
        // LeakyReluOptions (union tag 93): alpha.
        Activation::LeakyRelu(alpha) => (
            BuiltinOperator::LEAKY_RELU,
            OptionsDef {
                kind: 93,
                scalars: vec![(0, Scalar::F32(alpha))],
                ..OptionsDef::default()
            },
        ),
        Activation::Linear | Activation::Relu | Activation::Relu6 => return None,
    };
    let y = push(def, TensorDef::new(name, shape, TensorType::Float32));
    def.operators
        .push(OperatorDef::new(op, &[x], &[y], options));
    Some(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, Fit, Loss, Sequential, Sgd, Tensor};
    use mote_runtime::{Interpreter, Model as Runtime, OpResolver};

    #[test]
    fn a_trained_line_exports_and_predicts_the_same_in_the_runtime() {
        let xs = Tensor::new(vec![-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], [6, 1]).unwrap();
        let ys = Tensor::new(vec![-3.0, -1.0, 1.0, 3.0, 5.0, 7.0], [6, 1]).unwrap();
        let mut model = Sequential::new([Dense::new(1).input_shape([1])]);
        model.compile(Sgd::new(0.01), Loss::MeanSquaredError);
        model.fit(&xs, &ys, Fit::epochs(500).verbose(0)).unwrap();
        let expected = model
            .predict(&Tensor::new(vec![10.0], [1, 1]).unwrap())
            .unwrap()
            .data()[0];
        let bytes = export(&model).unwrap().to_bytes().unwrap();
        let runtime = Runtime::parse(&bytes).unwrap();
        let mut arena = [0u8; 1024];
        let mut interpreter = Interpreter::new(&runtime, &mut arena, &OpResolver::all()).unwrap();
        interpreter.input_mut::<f32>(0).unwrap()[0] = 10.0;
        interpreter.invoke().unwrap();
        let got = interpreter.output::<f32>(0).unwrap()[0];
        assert!(
            (got - expected).abs() <= 1e-6,
            "runtime {got} vs trained {expected}"
        );
    }

    #[test]
    fn an_mlp_transposes_its_kernels() {
        use crate::Activation;
        let mut model = Sequential::new([
            Dense::new(3).activation(Activation::Relu).input_shape([2]),
            Dense::new(2),
        ]);
        let x = Tensor::new(vec![0.5, -1.5], [1, 2]).unwrap();
        let expected = model.predict(&x).unwrap();
        let bytes = export(&model).unwrap().to_bytes().unwrap();
        let runtime = Runtime::parse(&bytes).unwrap();
        let mut arena = [0u8; 2048];
        let mut interpreter = Interpreter::new(&runtime, &mut arena, &OpResolver::all()).unwrap();
        interpreter
            .input_mut::<f32>(0)
            .unwrap()
            .copy_from_slice(x.data());
        interpreter.invoke().unwrap();
        let got = interpreter.output::<f32>(0).unwrap();
        for (a, b) in got.iter().zip(expected.data()) {
            assert!((a - b).abs() <= 1e-6, "{got:?} vs {:?}", expected.data());
        }
    }
}
