//! Export: a trained [`Model`] becomes a float32 `.tflite` description.
//!
//! Each layer maps to TensorFlow Lite operators with batch size 1:
//! - `Dense` -> FULLY_CONNECTED (kernel transposed to TFLite's `[units, in]`);
//! - `Conv2D` -> CONV_2D (kernel `[kh, kw, c, f]` to OHWI `[f, kh, kw, c]`);
//! - `DepthwiseConv2D` -> DEPTHWISE_CONV_2D (kernel `[kh, kw, c, m]` is
//!   already `[1, kh, kw, c * m]` in memory);
//! - `SeparableConv2D` -> DEPTHWISE_CONV_2D then a 1x1 CONV_2D;
//! - `Conv1D`, `MaxPooling1D`, `AveragePooling1D` -> the 2-D operator on a
//!   height of 1, between two RESHAPEs;
//! - `MaxPooling2D`/`AveragePooling2D` -> MAX_POOL_2D/AVERAGE_POOL_2D;
//! - `GlobalAveragePooling2D`/`1D` -> MEAN over axes `[1, 2]`/`[1]`, keep_dims false;
//! - `Flatten`, `Reshape` -> RESHAPE (shape tensor and `new_shape` option);
//! - `BatchNormalization` -> folded into the preceding Dense or convolution
//!   when that layer has no activation and feeds only it, else MUL then ADD;
//! - `Add` -> ADD, `Concatenate` -> CONCATENATION on the last axis,
//!   `Dropout` -> nothing (identity at inference);
//! - activations: ReLU and ReLU6 fused into FULLY_CONNECTED/CONV_2D/
//!   DEPTHWISE_CONV_2D (as the TFLite converter does), others their own operator.
//!
//! A layer with no mapping is an error that names it.

use mote_runtime::{BuiltinOperator, TensorType};

use super::options;
use super::{ModelDef, OperatorDef, OptionsDef, TensorDef};
use crate::activation::Activation;
use crate::layers::{Layer, Padding};
use crate::model::Model;
use crate::tensor::Tensor;

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

/// The fused activation code of `activation`, for operators that fuse it.
fn fused_code(activation: Activation) -> Option<u8> {
    match activation {
        Activation::Linear => Some(0),
        Activation::Relu => Some(1),
        Activation::Relu6 => Some(3),
        _ => None,
    }
}

/// `[1, dims...]` as TFLite's `i32` shape.
fn batch1(shape: &[usize]) -> Vec<i32> {
    std::iter::once(1)
        .chain(shape.iter().copied())
        .map(|d| d as i32)
        .collect()
}

/// A per-output-channel affine map `y = scale * z + shift` (a batch
/// normalization at inference).
#[derive(Clone, Debug)]
struct Affine {
    scale: Vec<f32>,
    shift: Vec<f32>,
}

impl Affine {
    /// `gamma (x - mean) / sqrt(var + eps) + beta` as `scale x + shift`.
    fn of_batch_norm(layer: &Layer) -> Option<Affine> {
        let Layer::BatchNormalization(bn) = layer else {
            return None;
        };
        let p = layer.params();
        let [gamma, beta, mean, var] = [0, 1, 2, 3].map(|i| p.get(i).map(|p| p.value().data()));
        let (gamma, beta, mean, var) = (gamma?, beta?, mean?, var?);
        let eps = bn.variance_epsilon();
        let scale: Vec<f32> = gamma
            .iter()
            .zip(var)
            .map(|(g, v)| g / (v + eps).sqrt())
            .collect();
        let shift = beta
            .iter()
            .zip(mean)
            .zip(&scale)
            .map(|((b, m), s)| b - m * s)
            .collect();
        Some(Affine { scale, shift })
    }

    /// Folds into a kernel whose last axis (flattened) is the output channel,
    /// and its bias: `K' = K * scale`, `b' = b * scale + shift`.
    fn fold(&self, kernel: &mut [f32], bias: &mut [f32]) {
        let out = self.scale.len();
        for (i, k) in kernel.iter_mut().enumerate() {
            *k *= self.scale[i % out];
        }
        for ((b, s), t) in bias.iter_mut().zip(&self.scale).zip(&self.shift) {
            *b = *b * s + t;
        }
    }
}

/// The `.tflite` description under construction.
struct Exporter {
    def: ModelDef,
}

impl Exporter {
    fn push(&mut self, tensor: TensorDef) -> i32 {
        self.def.tensors.push(tensor);
        self.def.tensors.len() as i32 - 1
    }

    fn activation_tensor(&mut self, name: impl Into<String>, shape: &[i32]) -> i32 {
        self.push(TensorDef::new(name, shape, TensorType::Float32))
    }

    fn constant(&mut self, name: impl Into<String>, shape: &[usize], values: &[f32]) -> i32 {
        let shape: Vec<i32> = shape.iter().map(|&d| d as i32).collect();
        self.push(TensorDef::constant_f32(name, &shape, values))
    }

    fn constant_i32(&mut self, name: impl Into<String>, values: &[i32]) -> i32 {
        let mut t = TensorDef::new(name, &[values.len() as i32], TensorType::Int32);
        t.data = Some(values.iter().flat_map(|v| v.to_le_bytes()).collect());
        self.push(t)
    }

    fn op(&mut self, op: BuiltinOperator, inputs: &[i32], outputs: &[i32], options: OptionsDef) {
        self.def
            .operators
            .push(OperatorDef::new(op, inputs, outputs, options));
    }

    /// RESHAPE `x` to `shape`, returning the new tensor.
    fn reshape(&mut self, x: i32, name: &str, shape: &[i32]) -> i32 {
        let target = self.constant_i32(format!("{name}/shape"), shape);
        let y = self.activation_tensor(name.to_string(), shape);
        self.op(
            BuiltinOperator::RESHAPE,
            &[x, target],
            &[y],
            options::reshape(shape),
        );
        y
    }

    /// Emits an operator whose fused activation may absorb `activation`; a
    /// non-fusable activation follows as its own operator. Returns the output.
    #[allow(clippy::too_many_arguments)]
    fn fused(
        &mut self,
        op: BuiltinOperator,
        inputs: &[i32],
        options: impl Fn(u8) -> OptionsDef,
        activation: Activation,
        name: &str,
        shape: &[i32],
    ) -> Option<i32> {
        let fused = fused_code(activation);
        let out_name = match fused {
            Some(_) => name.to_string(),
            None => format!("{name}/linear"),
        };
        let y = self.activation_tensor(out_name, shape);
        self.op(op, inputs, &[y], options(fused.unwrap_or(0)));
        match fused {
            Some(_) => Some(y),
            None => self.activation(activation, y, name, shape),
        }
    }

    /// A standalone activation operator; `None` if it has none in TFLite here.
    fn activation(
        &mut self,
        activation: Activation,
        x: i32,
        name: &str,
        shape: &[i32],
    ) -> Option<i32> {
        let (op, options) = match activation {
            Activation::Linear => return Some(x),
            Activation::Relu => (BuiltinOperator::RELU, OptionsDef::default()),
            Activation::Relu6 => (BuiltinOperator::RELU6, OptionsDef::default()),
            Activation::Sigmoid => (BuiltinOperator::LOGISTIC, OptionsDef::default()),
            Activation::Tanh => (BuiltinOperator::TANH, OptionsDef::default()),
            Activation::HardSwish => (BuiltinOperator::HARD_SWISH, OptionsDef::default()),
            Activation::Softmax => (BuiltinOperator::SOFTMAX, options::softmax(1.0)),
            Activation::LeakyRelu(alpha) => {
                (BuiltinOperator::LEAKY_RELU, options::leaky_relu(alpha))
            }
        };
        let y = self.activation_tensor(name.to_string(), shape);
        self.op(op, &[x], &[y], options);
        Some(y)
    }

    /// A CONV_2D on NHWC `x` with a Keras kernel `[kh, kw, c, f]`.
    #[allow(clippy::too_many_arguments)]
    fn conv_2d(
        &mut self,
        x: i32,
        name: &str,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        fold: Option<&Affine>,
        padding: Padding,
        stride: [usize; 2],
        activation: Activation,
        shape: &[i32],
    ) -> Option<i32> {
        let [kh, kw, c, f] = kernel.shape() else {
            return None;
        };
        let (kh, kw, c, f) = (*kh, *kw, *c, *f);
        let mut k = kernel.data().to_vec();
        let mut b = bias.map_or_else(|| vec![0.0; f], |b| b.data().to_vec());
        if let Some(affine) = fold {
            affine.fold(&mut k, &mut b);
        }
        // [kh, kw, c, f] -> [f, kh, kw, c]
        let mut ohwi = vec![0.0; k.len()];
        for (i, v) in k.iter().enumerate() {
            let (o, hwc) = (i % f, i / f);
            ohwi[o * kh * kw * c + hwc] = *v;
        }
        let w = self.constant(format!("{name}/kernel"), &[f, kh, kw, c], &ohwi);
        let b = self.constant(format!("{name}/bias"), &[f], &b);
        self.fused(
            BuiltinOperator::CONV_2D,
            &[x, w, b],
            |a| options::conv_2d(padding, stride, a),
            activation,
            name,
            shape,
        )
    }

    /// A DEPTHWISE_CONV_2D with a Keras kernel `[kh, kw, c, m]`.
    #[allow(clippy::too_many_arguments)]
    fn depthwise_conv_2d(
        &mut self,
        x: i32,
        name: &str,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        fold: Option<&Affine>,
        padding: Padding,
        stride: [usize; 2],
        activation: Activation,
        shape: &[i32],
    ) -> Option<i32> {
        let [kh, kw, c, m] = kernel.shape() else {
            return None;
        };
        let (kh, kw, out) = (*kh, *kw, c * m);
        let mut k = kernel.data().to_vec();
        let mut b = bias.map_or_else(|| vec![0.0; out], |b| b.data().to_vec());
        if let Some(affine) = fold {
            affine.fold(&mut k, &mut b);
        }
        let w = self.constant(format!("{name}/depthwise_kernel"), &[1, kh, kw, out], &k);
        let b = self.constant(format!("{name}/bias"), &[out], &b);
        let multiplier = *m;
        self.fused(
            BuiltinOperator::DEPTHWISE_CONV_2D,
            &[x, w, b],
            |a| options::depthwise_conv_2d(padding, stride, multiplier, a),
            activation,
            name,
            shape,
        )
    }
}

/// Which layers a batch normalization folds into: `folds[j] = Some(bn)` when
/// layer `bn` normalizes the output of layer `j`, a Dense or convolution with
/// no activation whose output nothing else reads.
fn fold_targets(model: &Model) -> Vec<Option<usize>> {
    let layers: Vec<&Layer> = model.layers().collect();
    let mut readers = vec![0usize; layers.len()];
    for i in 0..layers.len() {
        for j in model.layer_inputs(i).into_iter().flatten() {
            readers[j] += 1;
        }
    }
    let mut folds = vec![None; layers.len()];
    for (i, layer) in layers.iter().enumerate() {
        if !matches!(layer, Layer::BatchNormalization(_)) {
            continue;
        }
        let [Some(j)] = model.layer_inputs(i)[..] else {
            continue;
        };
        let linear = match layers[j] {
            Layer::Dense(l) => l.activation_function() == Activation::Linear,
            Layer::Conv2D(l) => l.activation_function() == Activation::Linear,
            Layer::Conv1D(l) => l.as_conv2d().activation_function() == Activation::Linear,
            Layer::DepthwiseConv2D(l) => l.activation_function() == Activation::Linear,
            Layer::SeparableConv2D(l) => l.pointwise().activation_function() == Activation::Linear,
            _ => false,
        };
        if linear && readers[j] == 1 {
            folds[j] = Some(i);
        }
    }
    folds
}

/// Builds the `.tflite` description of `model` (float32, batch 1).
pub fn export(model: &Model) -> Result<ModelDef, ExportError> {
    let input_shape = model.input_shape().ok_or(ExportError::NotBuilt)?;
    model.output_shape().ok_or(ExportError::NotBuilt)?;
    let mut ex = Exporter {
        def: ModelDef {
            description: "mote".into(),
            name: "main".into(),
            ..ModelDef::default()
        },
    };
    ex.activation_tensor("input", &batch1(input_shape));
    ex.def.inputs = vec![0];
    let layers: Vec<&Layer> = model.layers().collect();
    let folds = fold_targets(model);
    let folded_into: Vec<bool> = (0..layers.len())
        .map(|i| folds.contains(&Some(i)))
        .collect();
    // The tensor holding each layer's output.
    let mut outputs: Vec<i32> = Vec::new();
    let names: Vec<&str> = model.layer_names().collect();
    for (index, layer) in layers.iter().enumerate() {
        let name = names.get(index).copied().unwrap_or("layer");
        let inputs: Vec<i32> = model
            .layer_inputs(index)
            .iter()
            .map(|i| i.map_or(0, |l| outputs[l]))
            .collect();
        let x = inputs.first().copied().unwrap_or(0);
        let in_shape: Vec<usize> = match model.layer_inputs(index).first() {
            Some(Some(l)) => model.layer_output_shape(*l).unwrap_or(&[]).to_vec(),
            _ => input_shape.to_vec(),
        };
        let sample = model
            .layer_output_shape(index)
            .ok_or(ExportError::NotBuilt)?;
        let shape = batch1(sample);
        let unsupported = || ExportError::Unsupported {
            layer: name.to_string(),
            kind: layer.kind(),
        };
        let fold = folds[index].and_then(|bn| Affine::of_batch_norm(layers[bn]));
        let fold = fold.as_ref();
        let output = match layer {
            Layer::Input(_) | Layer::Dropout(_) => Some(x),
            Layer::BatchNormalization(_) if folded_into[index] => Some(x),
            Layer::BatchNormalization(_) => {
                let affine = Affine::of_batch_norm(layer).ok_or_else(unsupported)?;
                let c = affine.scale.len();
                let s = ex.constant(format!("{name}/scale"), &[c], &affine.scale);
                let t = ex.constant(format!("{name}/shift"), &[c], &affine.shift);
                let scaled = ex.activation_tensor(format!("{name}/scaled"), &shape);
                ex.op(BuiltinOperator::MUL, &[x, s], &[scaled], options::mul(0));
                let y = ex.activation_tensor(name, &shape);
                ex.op(BuiltinOperator::ADD, &[scaled, t], &[y], options::add(0));
                Some(y)
            }
            Layer::Dense(dense) => {
                let kernel = dense.kernel().ok_or(ExportError::NotBuilt)?;
                let (fan_in, units) = (kernel.shape()[0], kernel.shape()[1]);
                let mut k = kernel.data().to_vec();
                let mut b = dense.bias().map(|b| b.data().to_vec());
                if let Some(affine) = fold {
                    let bias = b.get_or_insert_with(|| vec![0.0; units]);
                    affine.fold(&mut k, bias);
                }
                // Keras' kernel is [in, units]; TFLite wants [units, in].
                let mut weights = vec![0.0; fan_in * units];
                for i in 0..fan_in {
                    for u in 0..units {
                        weights[u * fan_in + i] = k[i * units + u];
                    }
                }
                let w = ex.constant(format!("{name}/kernel"), &[units, fan_in], &weights);
                let b = match b {
                    Some(bias) => ex.constant(format!("{name}/bias"), &[units], &bias),
                    None => -1,
                };
                let keep_num_dims = shape.len() > 2;
                ex.fused(
                    BuiltinOperator::FULLY_CONNECTED,
                    &[x, w, b],
                    |a| OptionsDef::fully_connected(a, keep_num_dims),
                    dense.activation_function(),
                    name,
                    &shape,
                )
            }
            Layer::Conv2D(conv) => ex.conv_2d(
                x,
                name,
                conv.kernel().ok_or(ExportError::NotBuilt)?,
                conv.bias(),
                fold,
                conv.padding_mode(),
                conv.stride(),
                conv.activation_function(),
                &shape,
            ),
            Layer::Conv1D(conv) => {
                let inner = conv.as_conv2d();
                let kernel = conv.kernel().ok_or(ExportError::NotBuilt)?;
                let mut k4 = vec![1];
                k4.extend_from_slice(kernel.shape());
                let kernel = kernel.clone().reshape(&k4).map_err(|_| unsupported())?;
                let x4 = ex.reshape(
                    x,
                    &format!("{name}/as_2d"),
                    &batch1(&[1, in_shape[0], in_shape[1]]),
                );
                let y4 = ex.conv_2d(
                    x4,
                    &format!("{name}/conv_2d"),
                    &kernel,
                    conv.bias(),
                    fold,
                    inner.padding_mode(),
                    inner.stride(),
                    inner.activation_function(),
                    &batch1(&[1, sample[0], sample[1]]),
                );
                y4.map(|y4| ex.reshape(y4, name, &shape))
            }
            Layer::DepthwiseConv2D(conv) => ex.depthwise_conv_2d(
                x,
                name,
                conv.kernel().ok_or(ExportError::NotBuilt)?,
                conv.bias(),
                fold,
                conv.padding_mode(),
                conv.stride(),
                conv.activation_function(),
                &shape,
            ),
            Layer::SeparableConv2D(sep) => {
                let dw = sep.depthwise();
                let p = layer.params();
                let (Some(dk), Some(pk)) = (p.first(), p.get(1)) else {
                    return Err(ExportError::NotBuilt);
                };
                let middle = batch1(&[
                    sample[0],
                    sample[1],
                    dk.value().shape()[2] * dk.value().shape()[3],
                ]);
                let m = ex.depthwise_conv_2d(
                    x,
                    &format!("{name}/depthwise"),
                    dk.value(),
                    None,
                    None,
                    dw.padding_mode(),
                    dw.stride(),
                    Activation::Linear,
                    &middle,
                );
                m.and_then(|m| {
                    ex.conv_2d(
                        m,
                        name,
                        pk.value(),
                        p.get(2).map(|b| b.value()),
                        fold,
                        Padding::Valid,
                        [1, 1],
                        sep.pointwise().activation_function(),
                        &shape,
                    )
                })
            }
            Layer::MaxPooling2D(_) | Layer::AveragePooling2D(_) => {
                let (op, pool, stride, padding) = match layer {
                    Layer::MaxPooling2D(p) => (
                        BuiltinOperator::MAX_POOL_2D,
                        p.pool_size(),
                        p.stride(),
                        p.padding_mode(),
                    ),
                    Layer::AveragePooling2D(p) => (
                        BuiltinOperator::AVERAGE_POOL_2D,
                        p.pool_size(),
                        p.stride(),
                        p.padding_mode(),
                    ),
                    _ => return Err(unsupported()),
                };
                let y = ex.activation_tensor(name, &shape);
                ex.op(op, &[x], &[y], options::pool_2d(padding, stride, pool));
                Some(y)
            }
            Layer::MaxPooling1D(_) | Layer::AveragePooling1D(_) => {
                let (op, pool, stride, padding) = match layer {
                    Layer::MaxPooling1D(p) => (
                        BuiltinOperator::MAX_POOL_2D,
                        p.pool_size(),
                        p.stride(),
                        p.padding_mode(),
                    ),
                    Layer::AveragePooling1D(p) => (
                        BuiltinOperator::AVERAGE_POOL_2D,
                        p.pool_size(),
                        p.stride(),
                        p.padding_mode(),
                    ),
                    _ => return Err(unsupported()),
                };
                let x4 = ex.reshape(
                    x,
                    &format!("{name}/as_2d"),
                    &batch1(&[1, in_shape[0], in_shape[1]]),
                );
                let y4 = ex.activation_tensor(
                    format!("{name}/pool_2d"),
                    &batch1(&[1, sample[0], sample[1]]),
                );
                ex.op(op, &[x4], &[y4], options::pool_2d(padding, stride, pool));
                Some(ex.reshape(y4, name, &shape))
            }
            Layer::GlobalAveragePooling2D(_) | Layer::GlobalAveragePooling1D(_) => {
                let axes: &[i32] = if matches!(layer, Layer::GlobalAveragePooling2D(_)) {
                    &[1, 2]
                } else {
                    &[1]
                };
                let a = ex.constant_i32(format!("{name}/axes"), axes);
                let y = ex.activation_tensor(name, &shape);
                ex.op(
                    BuiltinOperator::MEAN,
                    &[x, a],
                    &[y],
                    options::reducer(false),
                );
                Some(y)
            }
            Layer::Flatten(_) | Layer::Reshape(_) => Some(ex.reshape(x, name, &shape)),
            Layer::Activation(a) => ex.activation(a.activation_function(), x, name, &shape),
            Layer::Add(_) => {
                let y = ex.activation_tensor(name, &shape);
                ex.op(BuiltinOperator::ADD, &inputs, &[y], options::add(0));
                Some(y)
            }
            Layer::Concatenate(_) => {
                let y = ex.activation_tensor(name, &shape);
                let axis = shape.len() as i32 - 1;
                ex.op(
                    BuiltinOperator::CONCATENATION,
                    &inputs,
                    &[y],
                    options::concatenation(axis),
                );
                Some(y)
            }
            #[allow(unreachable_patterns)]
            _ => None,
        };
        outputs.push(output.ok_or_else(unsupported)?);
    }
    ex.def.outputs = vec![outputs.last().copied().unwrap_or(0)];
    Ok(ex.def)
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
