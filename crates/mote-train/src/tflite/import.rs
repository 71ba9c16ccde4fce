//! Import: a float32 `.tflite` model (as parsed by `mote_runtime::Model`)
//! becomes a trainable [`Model`], so a model trained elsewhere can be
//! fine-tuned.
//!
//! Supported: one subgraph that is a chain (each operator reads the previous
//! one's output), batch 1, float32, of FULLY_CONNECTED, CONV_2D,
//! DEPTHWISE_CONV_2D, MAX_POOL_2D, AVERAGE_POOL_2D, MEAN over height and
//! width (or steps), RESHAPE, SOFTMAX (beta 1), RELU, RELU6, LOGISTIC, TANH.
//! Anything else is an error naming the operator and why.
//!
//! Dense and convolution layers always get a bias: zeros where the file
//! omits it (TensorFlow's converter drops all-zero biases, e.g. of a model
//! not trained yet), so that fine-tuning trains it as Keras would.

use mote_runtime::{BuiltinOperator, Model as Runtime, TensorType};

use crate::activation::Activation;
use crate::layers::*;
use crate::model::{Model, Sequential};
use crate::tensor::Tensor;

/// Why a `.tflite` model cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// The file is not a valid `.tflite` model.
    Malformed(String),
    /// The graph's shape (inputs, outputs, data flow) is not supported.
    Graph(String),
    /// An operator is not supported as used.
    Operator {
        /// Its index in the subgraph.
        index: usize,
        /// Its TFLite name, e.g. `CONV_2D`.
        op: String,
        /// What is not supported.
        reason: String,
    },
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Malformed(m) => write!(f, "not a valid .tflite model: {m}"),
            ImportError::Graph(m) => write!(f, "cannot import this graph: {m}"),
            ImportError::Operator { index, op, reason } => {
                write!(f, "cannot import operator {index} ({op}): {reason}")
            }
        }
    }
}

impl std::error::Error for ImportError {}

/// Imports a float32 `.tflite` file's bytes.
pub fn import_bytes(bytes: &[u8]) -> Result<Model, ImportError> {
    let model = Runtime::parse(bytes).map_err(|e| ImportError::Malformed(e.to_string()))?;
    import(&model)
}

/// A fused activation code as an activation.
fn fused(code: u8) -> Option<Activation> {
    match code {
        0 => Some(Activation::Linear),
        1 => Some(Activation::Relu),
        3 => Some(Activation::Relu6),
        4 => Some(Activation::Tanh),
        _ => None,
    }
}

fn padding(code: u8) -> Padding {
    if code == 0 {
        Padding::Same
    } else {
        Padding::Valid
    }
}

/// Imports the main subgraph of a parsed model.
pub fn import(model: &Runtime) -> Result<Model, ImportError> {
    let graph = model.main();
    let tensor = |i: usize| {
        graph
            .tensor(i)
            .ok_or_else(|| ImportError::Graph(format!("tensor {i} does not exist")))
    };
    let (inputs, outputs) = (graph.inputs(), graph.outputs());
    if inputs.len() != 1 || outputs.len() != 1 {
        return Err(ImportError::Graph(format!(
            "{} inputs and {} outputs; one of each is supported",
            inputs.len(),
            outputs.len()
        )));
    }
    let input_index = inputs.get(0).unwrap_or(0);
    let input = tensor(input_index)?;
    let dims = input.shape().dims().to_vec();
    if input.dtype() != TensorType::Float32 || dims.first() != Some(&1) || dims.len() < 2 {
        return Err(ImportError::Graph(format!(
            "input '{}' is {} {:?}; float32 with batch 1 is supported",
            input.name(),
            input.dtype(),
            dims
        )));
    }
    let mut layers: Vec<Layer> = vec![Layer::Input(Input::new(&dims[1..]))];
    // Per layer after the input: the weights to load, in Keras' layout.
    let mut weights: Vec<Vec<Tensor>> = Vec::new();
    let mut current = input_index;
    let mut current_shape = dims;
    for index in 0..graph.operator_count() {
        let op = graph
            .operator(index)
            .ok_or_else(|| ImportError::Graph(format!("operator {index} does not exist")))?;
        let kind = op.builtin();
        let fail = |reason: String| ImportError::Operator {
            index,
            op: kind.name().unwrap_or("?").to_string(),
            reason,
        };
        let ins: Vec<Option<usize>> = op
            .inputs()
            .iter()
            .map(|i| usize::try_from(i).ok())
            .collect();
        if ins.first().copied().flatten() != Some(current) {
            return Err(fail(
                "its first input is not the previous operator's output (only chains are supported)"
                    .into(),
            ));
        }
        let out_index = op
            .outputs()
            .get(0)
            .ok_or_else(|| fail("no output".into()))?;
        let out = tensor(out_index)?;
        let out_shape = out.shape().dims().to_vec();
        if out.dtype() != TensorType::Float32 {
            return Err(fail(format!(
                "output '{}' is {}, not float32",
                out.name(),
                out.dtype()
            )));
        }
        // A float constant input as a tensor of its own shape.
        let constant = |k: usize| -> Result<Option<Tensor>, ImportError> {
            let Some(Some(i)) = ins.get(k).copied() else {
                return Ok(None);
            };
            let t = tensor(i)?;
            if t.dtype() != TensorType::Float32 || !t.is_constant() {
                return Err(fail(format!(
                    "input {k} ('{}') is not a float32 constant",
                    t.name()
                )));
            }
            let values: Vec<f32> = t
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            Tensor::new(values, t.shape().dims())
                .map(Some)
                .map_err(|e| fail(e.to_string()))
        };
        let options = op.options();
        let activation = |id: u16| {
            let code = options.u8(id, 0);
            fused(code).ok_or_else(|| fail(format!("fused activation {code} is not supported")))
        };
        let (new_layers, new_weights): (Vec<Layer>, Vec<Vec<Tensor>>) = match kind {
            BuiltinOperator::FULLY_CONNECTED => {
                let w = constant(1)?.ok_or_else(|| fail("no weights".into()))?;
                let [units, fan_in] = w.shape() else {
                    return Err(fail("weights are not 2-D".into()));
                };
                let (units, fan_in) = (*units, *fan_in);
                // TFLite's [units, in] -> Keras' [in, units]
                let mut kernel = vec![0.0; units * fan_in];
                for u in 0..units {
                    for i in 0..fan_in {
                        kernel[i * units + u] = w.data()[u * fan_in + i];
                    }
                }
                let kernel =
                    Tensor::new(kernel, [fan_in, units]).map_err(|e| fail(e.to_string()))?;
                let bias = constant(2)?.unwrap_or_else(|| Tensor::zeros([units]));
                let dense = Dense::new(units).activation(activation(0)?);
                let params = vec![kernel, bias];
                let per_sample: usize = current_shape[1..].iter().product();
                if current_shape.last() == Some(&fan_in) && current_shape.len() == 2 {
                    (vec![dense.into()], vec![params])
                } else if per_sample == fan_in && out_shape.len() == 2 {
                    (
                        vec![Flatten::new().into(), dense.into()],
                        vec![vec![], params],
                    )
                } else if current_shape.last() == Some(&fan_in) && options.bool(2) {
                    (vec![dense.into()], vec![params])
                } else {
                    return Err(fail(format!(
                        "input {current_shape:?} against weights [{units}, {fan_in}]"
                    )));
                }
            }
            BuiltinOperator::CONV_2D | BuiltinOperator::DEPTHWISE_CONV_2D => {
                let depthwise = kind == BuiltinOperator::DEPTHWISE_CONV_2D;
                let (act_id, dilation_w, dilation_h) =
                    if depthwise { (4, 5, 6) } else { (3, 4, 5) };
                if options.i32(dilation_w, 1) != 1 || options.i32(dilation_h, 1) != 1 {
                    return Err(fail("dilation other than 1".into()));
                }
                let w = constant(1)?.ok_or_else(|| fail("no weights".into()))?;
                let bias = constant(2)?;
                let [a, kh, kw, d] = w.shape() else {
                    return Err(fail("weights are not 4-D".into()));
                };
                let (a, kh, kw, d) = (*a, *kh, *kw, *d);
                let stride = [
                    options.i32(2, 1).max(1) as usize,
                    options.i32(1, 1).max(1) as usize,
                ];
                let pad = padding(options.u8(0, 0));
                let act = activation(act_id)?;
                if depthwise {
                    let channels = *current_shape.last().unwrap_or(&1);
                    let m = d / channels.max(1);
                    if a != 1 || m * channels != d {
                        return Err(fail(format!(
                            "weights {:?} for {channels} channels",
                            w.shape()
                        )));
                    }
                    // [1, kh, kw, c * m] holds the values of Keras' [kh, kw, c, m]
                    let kernel = w
                        .reshape([kh, kw, channels, m])
                        .map_err(|e| fail(e.to_string()))?;
                    let layer = DepthwiseConv2D::new([kh, kw])
                        .strides(stride)
                        .padding(pad)
                        .depth_multiplier(m)
                        .activation(act);
                    let bias = bias.unwrap_or_else(|| Tensor::zeros([d]));
                    let params = vec![kernel, bias];
                    (vec![layer.into()], vec![params])
                } else {
                    // OHWI [f, kh, kw, c] -> [kh, kw, c, f]
                    let (f, c) = (a, d);
                    let mut kernel = vec![0.0; w.len()];
                    for o in 0..f {
                        for hwc in 0..kh * kw * c {
                            kernel[hwc * f + o] = w.data()[o * kh * kw * c + hwc];
                        }
                    }
                    let kernel =
                        Tensor::new(kernel, [kh, kw, c, f]).map_err(|e| fail(e.to_string()))?;
                    let layer = Conv2D::new(f, [kh, kw])
                        .strides(stride)
                        .padding(pad)
                        .activation(act);
                    let bias = bias.unwrap_or_else(|| Tensor::zeros([f]));
                    let params = vec![kernel, bias];
                    (vec![layer.into()], vec![params])
                }
            }
            BuiltinOperator::MAX_POOL_2D | BuiltinOperator::AVERAGE_POOL_2D => {
                if activation(5)? != Activation::Linear {
                    return Err(fail("a fused activation on pooling".into()));
                }
                let stride = [
                    options.i32(2, 1).max(1) as usize,
                    options.i32(1, 1).max(1) as usize,
                ];
                let pool = [
                    options.i32(4, 1).max(1) as usize,
                    options.i32(3, 1).max(1) as usize,
                ];
                let pad = padding(options.u8(0, 0));
                let layer: Layer = if kind == BuiltinOperator::MAX_POOL_2D {
                    MaxPooling2D::new(pool).strides(stride).padding(pad).into()
                } else {
                    AveragePooling2D::new(pool)
                        .strides(stride)
                        .padding(pad)
                        .into()
                };
                (vec![layer], vec![vec![]])
            }
            BuiltinOperator::MEAN => {
                let axes_index = ins
                    .get(1)
                    .copied()
                    .flatten()
                    .ok_or_else(|| fail("no axes".into()))?;
                let axes: Vec<i32> = tensor(axes_index)?
                    .data()
                    .chunks_exact(4)
                    .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                let layer: Layer = match (current_shape.len(), &axes[..], options.bool(0)) {
                    (4, [1, 2], false) => GlobalAveragePooling2D::new().into(),
                    (3, [1], false) => GlobalAveragePooling1D::new().into(),
                    _ => {
                        return Err(fail(format!(
                            "mean over axes {axes:?} of {current_shape:?} (only height and width, keep_dims false)"
                        )))
                    }
                };
                (vec![layer], vec![vec![]])
            }
            BuiltinOperator::RESHAPE => {
                if out_shape.first() != Some(&1) {
                    return Err(fail(format!(
                        "output shape {out_shape:?} has no batch of 1"
                    )));
                }
                let layer: Layer = if out_shape.len() == 2 {
                    Flatten::new().into()
                } else {
                    Reshape::new(
                        out_shape[1..]
                            .iter()
                            .map(|&d| d as isize)
                            .collect::<Vec<_>>(),
                    )
                    .into()
                };
                (vec![layer], vec![vec![]])
            }
            BuiltinOperator::SOFTMAX => {
                let beta = options.f32(0, 1.0);
                if beta != 1.0 {
                    return Err(fail(format!("beta {beta} (only 1 is supported)")));
                }
                // A softmax after a linear Dense becomes that Dense's
                // activation, so that training fuses it with the cross-entropy.
                if let Some(Layer::Dense(dense)) = layers.last_mut() {
                    if dense.activation_function() == Activation::Linear {
                        *dense = dense.clone().activation(Activation::Softmax);
                        current = out_index;
                        current_shape = out_shape;
                        continue;
                    }
                }
                (
                    vec![ActivationLayer::new(Activation::Softmax).into()],
                    vec![vec![]],
                )
            }
            BuiltinOperator::RELU
            | BuiltinOperator::RELU6
            | BuiltinOperator::LOGISTIC
            | BuiltinOperator::TANH => {
                let act = match kind {
                    BuiltinOperator::RELU => Activation::Relu,
                    BuiltinOperator::RELU6 => Activation::Relu6,
                    BuiltinOperator::LOGISTIC => Activation::Sigmoid,
                    _ => Activation::Tanh,
                };
                (vec![ActivationLayer::new(act).into()], vec![vec![]])
            }
            _ => {
                return Err(fail(
                    "this operator has no mote layer to import into yet".into(),
                ))
            }
        };
        layers.extend(new_layers);
        weights.extend(new_weights);
        current = out_index;
        current_shape = out_shape;
    }
    if outputs.get(0) != Some(current) {
        return Err(ImportError::Graph(
            "the graph output is not the last operator's output".into(),
        ));
    }
    let mut model = Sequential::new(layers);
    let names: Vec<String> = model.layer_names().map(str::to_string).collect();
    for ((layer, values), name) in model.layers_mut().zip(weights).zip(names) {
        let kind = layer.kind();
        for (param, value) in layer.params_mut().iter_mut().zip(values) {
            param
                .set_value(value)
                .map_err(|e| ImportError::Graph(format!("layer '{name}' ({kind}): {e}")))?;
        }
    }
    if model.output_shape() != Some(&current_shape[1..]) {
        return Err(ImportError::Graph(format!(
            "the imported layers give {:?}, the file says {:?}",
            model.output_shape(),
            &current_shape[1..]
        )));
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tflite::export;

    #[test]
    fn an_exported_cnn_imports_and_predicts_the_same() {
        let mut model = Sequential::new([
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
            AveragePooling2D::new(2).into(),
            MaxPooling2D::new(2).padding(Padding::Same).into(),
            Flatten::new().into(),
            Dense::new(5).activation(Activation::Tanh).into(),
            Dense::new(3).activation(Activation::Softmax).into(),
        ])
        .seeded(5)
        .unwrap();
        let x = Tensor::from_fn([3, 6, 6, 2], |i| ((i * 37 % 23) as f32 - 11.0) / 7.0);
        let expected = model.predict(&x).unwrap();
        let bytes = export(&model).unwrap().to_bytes().unwrap();
        let mut imported = import_bytes(&bytes).unwrap();
        let kinds: Vec<&str> = imported.layers().map(Layer::kind).collect();
        // tanh is its own TFLite operator, so it comes back as an Activation
        // layer; the softmax goes back into its Dense
        assert_eq!(
            kinds,
            [
                "Conv2D",
                "DepthwiseConv2D",
                "AveragePooling2D",
                "MaxPooling2D",
                "Flatten",
                "Dense",
                "Activation",
                "Dense"
            ]
        );
        let got = imported.predict(&x).unwrap();
        for (a, b) in got.data().iter().zip(expected.data()) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn a_missing_bias_comes_back_as_zeros_to_train() {
        // Dense without bias exported (bias input -1) -> imported with a zero bias
        let mut model = Sequential::new([Dense::new(2).use_bias(false).input_shape([3])]);
        model.predict(&Tensor::zeros([1, 3])).unwrap();
        let bytes = export(&model).unwrap().to_bytes().unwrap();
        let imported = import_bytes(&bytes).unwrap();
        let params = imported.layers().next().unwrap().params();
        assert_eq!(params.len(), 2);
        assert_eq!(params[1].value().data(), &[0.0, 0.0]);
    }

    #[test]
    fn unsupported_operators_are_named() {
        let mut model = Sequential::new([Dense::new(2)
            .activation(Activation::HardSwish)
            .input_shape([3])]);
        model.predict(&Tensor::zeros([1, 3])).unwrap();
        let bytes = export(&model).unwrap().to_bytes().unwrap();
        let err = import_bytes(&bytes).unwrap_err().to_string();
        assert_eq!(
            err,
            "cannot import operator 1 (HARD_SWISH): this operator has no mote layer to import into yet"
        );
    }
}
