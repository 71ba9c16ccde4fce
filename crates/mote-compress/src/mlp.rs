//! A float `.tflite` multilayer perceptron back into a trainable
//! [`mote_train::Model`], so that pruning and distillation can fine-tune
//! models given as files: FULLY_CONNECTED layers (fused NONE/RELU/RELU6),
//! each optionally followed by RELU, RELU6, TANH, LOGISTIC or SOFTMAX.

use mote_runtime::{BuiltinOperator, Model as TfliteModel, TensorType};
use mote_train::{Activation, Dense, Layer, Model, Sequential, Tensor};

/// Why a `.tflite` is not a trainable MLP here.
#[derive(Debug)]
#[non_exhaustive]
pub enum MlpError {
    /// The bytes are not a valid `.tflite` model.
    Model(mote_runtime::Error),
    /// An operator or tensor outside the MLP shape this reader takes.
    NotMlp {
        /// The operator's position.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The training engine refused the layers or weights.
    Train(mote_train::Error),
}

impl std::fmt::Display for MlpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MlpError::Model(e) => write!(f, "not a valid .tflite model: {e}"),
            MlpError::NotMlp { index, reason } => write!(
                f,
                "operator {index}: {reason} (only float FULLY_CONNECTED stacks can be fine-tuned)"
            ),
            MlpError::Train(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for MlpError {}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// One FULLY_CONNECTED layer read from the file.
struct Fc {
    units: usize,
    fan_in: usize,
    /// `[units, fan_in]`, TFLite's layout.
    weights: Vec<f32>,
    bias: Option<Vec<f32>>,
    activation: Activation,
}

/// Reads a float MLP `.tflite` as a built [`Model`] with its weights.
pub fn read_mlp(bytes: &[u8]) -> Result<Model, MlpError> {
    let model = TfliteModel::parse(bytes).map_err(MlpError::Model)?;
    let graph = model.main();
    let not = |index: usize, reason: String| MlpError::NotMlp { index, reason };
    let mut layers: Vec<Fc> = Vec::new();
    for index in 0..graph.operator_count() {
        let Some(op) = graph.operator(index) else {
            continue;
        };
        let tensor = |slot: usize| op.inputs().get(slot).and_then(|i| graph.tensor(i));
        match op.builtin() {
            BuiltinOperator::FULLY_CONNECTED => {
                let w = tensor(1).ok_or_else(|| not(index, "no weights".into()))?;
                if w.dtype() != TensorType::Float32 || !w.is_constant() || w.shape().rank() != 2 {
                    return Err(not(
                        index,
                        "weights are not a float32 constant matrix".into(),
                    ));
                }
                let (units, fan_in) = (w.shape().dim(0), w.shape().dim(1));
                let bias = tensor(2).map(|b| f32s(b.data()));
                let activation = match op.options().u8(0, 0) {
                    0 => Activation::Linear,
                    1 => Activation::Relu,
                    3 => Activation::Relu6,
                    code => return Err(not(index, format!("fused activation {code}"))),
                };
                layers.push(Fc {
                    units,
                    fan_in,
                    weights: f32s(w.data()),
                    bias,
                    activation,
                });
            }
            other => {
                let activation = match other {
                    BuiltinOperator::RELU => Activation::Relu,
                    BuiltinOperator::RELU6 => Activation::Relu6,
                    BuiltinOperator::TANH => Activation::Tanh,
                    BuiltinOperator::LOGISTIC => Activation::Sigmoid,
                    BuiltinOperator::SOFTMAX => Activation::Softmax,
                    _ => {
                        return Err(not(
                            index,
                            format!("{other} is not a dense layer or activation"),
                        ))
                    }
                };
                match layers.last_mut() {
                    Some(last) if last.activation == Activation::Linear => {
                        last.activation = activation
                    }
                    _ => {
                        return Err(not(
                            index,
                            format!("{other} does not follow a linear FULLY_CONNECTED"),
                        ))
                    }
                }
            }
        }
    }
    let first = layers
        .first()
        .ok_or_else(|| not(0, "no FULLY_CONNECTED".into()))?;
    let mut dense: Vec<Layer> = Vec::new();
    for (i, fc) in layers.iter().enumerate() {
        let mut layer = Dense::new(fc.units)
            .activation(fc.activation)
            .use_bias(fc.bias.is_some());
        if i == 0 {
            layer = layer.input_shape([first.fan_in]);
        }
        dense.push(layer.into());
    }
    let mut model = Sequential::new(dense).seeded(0).map_err(MlpError::Train)?;
    let mut weights = Vec::new();
    for fc in &layers {
        // TFLite's [units, in] becomes Keras' [in, units].
        let kernel = Tensor::from_fn([fc.fan_in, fc.units], |k| {
            let (i, u) = (k / fc.units, k % fc.units);
            fc.weights[u * fc.fan_in + i]
        });
        weights.push(kernel);
        if let Some(b) = &fc.bias {
            weights.push(Tensor::new(b.clone(), [fc.units]).map_err(MlpError::Train)?);
        }
    }
    model.set_weights(weights).map_err(MlpError::Train)?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exported_mlp_reads_back_with_its_weights() {
        // 3 -> Dense 2 relu -> Dense 2 softmax, exported and read back: same predictions.
        let mut model = Sequential::new([
            Layer::from(Dense::new(2).activation(Activation::Relu).input_shape([3])),
            Dense::new(2).activation(Activation::Softmax).into(),
        ])
        .seeded(7)
        .unwrap();
        let bytes = mote_train::tflite::export(&model)
            .unwrap()
            .to_bytes()
            .unwrap();
        let mut back = read_mlp(&bytes).unwrap();
        let x = Tensor::new(vec![0.5, -1.0, 2.0], [1, 3]).unwrap();
        assert_eq!(
            back.predict(&x).unwrap().data(),
            model.predict(&x).unwrap().data()
        );
    }
}
