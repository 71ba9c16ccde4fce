//! A model: a graph of layers in topological order, built from a `Sequential`
//! list or the functional [`Graph`] API, with forward and backward passes.

mod graph;
mod summary;
mod train;

pub use graph::{Graph, NodeId};

use crate::error::{Error, Result};
use crate::fit::DEFAULT_SEED;
use crate::layers::{Context, Input, Layer};
use crate::loss::Loss;
use crate::metric::Metric;
use crate::optimizers::{Optimizer, OptimizerState};
use crate::rng::{Rng, Stream};
use crate::tensor::Tensor;

/// Rows per forward pass in `predict` and `evaluate`.
const INFERENCE_BATCH: usize = 256;

/// One layer of the graph and the nodes it reads.
#[derive(Clone, Debug)]
struct Node {
    name: String,
    layer: Layer,
    inputs: Vec<usize>,
    /// Per-sample output shape (known once built).
    shape: Vec<usize>,
}

/// Buffers reused from step to step, so training does not allocate.
#[derive(Clone, Debug, Default)]
struct Workspace {
    /// Output of each node; `outputs[0]` holds the input batch.
    outputs: Vec<Tensor>,
    /// dLoss/doutput of each node.
    grads: Vec<Tensor>,
    /// Per node, per input: the gradient that node sends back.
    input_grads: Vec<Vec<Tensor>>,
    has_grad: Vec<bool>,
    targets: Tensor,
    rng: Rng,
}

/// Optimizer, loss and metrics set by `compile`.
#[derive(Clone, Debug)]
struct Compiled {
    optimizer: Optimizer,
    loss: Loss,
    metrics: Vec<Metric>,
    state: OptimizerState,
}

/// A trainable model. Node 0 is its input; the last node is its output.
#[derive(Clone, Debug)]
pub struct Model {
    nodes: Vec<Node>,
    built: bool,
    seed: u64,
    work: Workspace,
    compiled: Option<Compiled>,
    /// The output layer's softmax is differentiated together with the loss.
    fused_softmax: bool,
}

/// Keras' `Sequential`: a model that is a plain stack of layers.
///
/// ```
/// use mote_train::{Activation, Dense, Sequential};
/// let model = Sequential::new([
///     Dense::new(32).activation(Activation::Relu).input_shape([64]),
///     Dense::new(10).activation(Activation::Softmax),
/// ]);
/// assert_eq!(model.input_shape(), Some(&[64][..]));
/// ```
pub struct Sequential;

impl Sequential {
    /// A model applying `layers` in order. The first layer (or an [`Input`])
    /// may declare the input shape; otherwise the model is built by the first
    /// `fit` or `predict`. Weights are initialized from [`DEFAULT_SEED`].
    #[allow(clippy::new_ret_no_self)]
    pub fn new<L: Into<Layer>>(layers: impl IntoIterator<Item = L>) -> Model {
        let mut layers: Vec<Layer> = layers.into_iter().map(Into::into).collect();
        let input = match layers.first() {
            Some(Layer::Input(_)) => layers.remove(0),
            Some(first) => {
                Layer::Input(Input::new(first.op().declared_input_shape().unwrap_or(&[])))
            }
            None => Layer::Input(Input::new([])),
        };
        let known = matches!(&input, Layer::Input(i) if !i.shape().is_empty());
        let mut nodes = vec![Node {
            name: String::new(),
            layer: input,
            inputs: Vec::new(),
            shape: Vec::new(),
        }];
        for layer in layers {
            let previous = nodes.len() - 1;
            nodes.push(Node {
                name: String::new(),
                layer,
                inputs: vec![previous],
                shape: Vec::new(),
            });
        }
        let mut model = Model::from_nodes(nodes);
        if known {
            // Shape errors surface again, with context, at fit/predict/summary.
            let _ = model.build();
        }
        model
    }
}

impl Model {
    fn from_nodes(mut nodes: Vec<Node>) -> Model {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for node in &mut nodes {
            let base = snake_case(node.layer.kind());
            let count = match counts.iter_mut().find(|(k, _)| *k == base) {
                Some((_, c)) => {
                    *c += 1;
                    *c
                }
                None => {
                    counts.push((base.clone(), 0));
                    0
                }
            };
            node.name = if count == 0 {
                base
            } else {
                format!("{base}_{count}")
            };
        }
        Model {
            nodes,
            built: false,
            seed: DEFAULT_SEED,
            work: Workspace::default(),
            compiled: None,
            fused_softmax: false,
        }
    }

    /// The same model with weights initialized from `seed` instead of [`DEFAULT_SEED`].
    pub fn seeded(mut self, seed: u64) -> Result<Model> {
        self.seed = seed;
        if self.built {
            self.build()?;
        }
        Ok(self)
    }

    /// The layers in order (the input placeholder excluded).
    pub fn layers(&self) -> impl Iterator<Item = &Layer> {
        self.nodes.iter().skip(1).map(|n| &n.layer)
    }

    /// The layers, writable (e.g. to load weights).
    pub fn layers_mut(&mut self) -> impl Iterator<Item = &mut Layer> {
        self.nodes.iter_mut().skip(1).map(|n| &mut n.layer)
    }

    /// The layer names (`dense`, `dense_1` ...), in the order of [`Model::layers`].
    pub fn layer_names(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().skip(1).map(|n| n.name.as_str())
    }

    /// For each layer, the indices (into [`Model::layers`]) of the layers it
    /// reads; `None` stands for the model input.
    pub fn layer_inputs(&self, layer: usize) -> Vec<Option<usize>> {
        self.nodes
            .get(layer + 1)
            .map(|n| n.inputs.iter().map(|&j| j.checked_sub(1)).collect())
            .unwrap_or_default()
    }

    /// Per-sample input shape (batch axis excluded), once known.
    pub fn input_shape(&self) -> Option<&[usize]> {
        match &self.nodes[0].layer {
            Layer::Input(input) if !input.shape().is_empty() => Some(input.shape()),
            _ => None,
        }
    }

    /// Per-sample output shape of layer `layer` (index into [`Model::layers`]),
    /// once built.
    pub fn layer_output_shape(&self, layer: usize) -> Option<&[usize]> {
        self.nodes
            .get(layer + 1)
            .filter(|_| self.built)
            .map(|n| n.shape.as_slice())
    }

    /// Per-sample output shape of the model, once built.
    pub fn output_shape(&self) -> Option<&[usize]> {
        self.nodes
            .last()
            .filter(|_| self.built)
            .map(|n| n.shape.as_slice())
    }

    /// Total number of scalar parameters (trainable or not).
    pub fn param_count(&self) -> usize {
        self.layers().map(Layer::param_count).sum()
    }

    /// Builds on `shape` (per sample) when the input shape was not declared.
    fn build_for(&mut self, x: &Tensor, what: &'static str) -> Result<()> {
        let sample = &x.shape()[1.min(x.shape().len())..];
        match self.input_shape() {
            Some(shape) if shape == sample => {}
            Some(shape) => {
                let mut expected = vec![0];
                expected.extend_from_slice(shape);
                return Err(Error::ShapeMismatch {
                    context: format!("{what} for model input (0 = any batch size)"),
                    expected,
                    found: x.shape().to_vec(),
                });
            }
            None => {
                if sample.is_empty() {
                    return Err(Error::invalid(
                        what,
                        format!(
                            "needs a batch axis and at least one more, got shape {:?}",
                            x.shape()
                        ),
                    ));
                }
                self.nodes[0].layer = Layer::Input(Input::new(sample));
                self.built = false;
            }
        }
        if !self.built {
            self.build()?;
        }
        Ok(())
    }

    /// Builds now, reporting a layer that cannot take its input's shape.
    pub(crate) fn build_checked(&mut self) -> Result<()> {
        self.build()
    }

    /// Infers every node's shape and (re)initializes all parameters from the seed.
    fn build(&mut self) -> Result<()> {
        if self.input_shape().is_none() {
            return Err(Error::NotBuilt);
        }
        let mut rng = Rng::stream(self.seed, Stream::Weights);
        for i in 0..self.nodes.len() {
            let (before, rest) = self.nodes.split_at_mut(i);
            let node = &mut rest[0];
            let input_shapes: Vec<&[usize]> = node
                .inputs
                .iter()
                .map(|&j| before[j].shape.as_slice())
                .collect();
            node.shape = node
                .layer
                .op_mut()
                .build(&input_shapes, &mut rng)
                .map_err(|message| Error::Layer {
                    layer: node.name.clone(),
                    kind: node.layer.kind(),
                    message: format!("{message} (input shapes {input_shapes:?})"),
                })?;
        }
        let n = self.nodes.len();
        self.work.outputs = vec![Tensor::default(); n];
        self.work.grads = vec![Tensor::default(); n];
        self.work.input_grads = self
            .nodes
            .iter()
            .map(|node| vec![Tensor::default(); node.inputs.len()])
            .collect();
        self.work.has_grad = vec![false; n];
        if let Some(compiled) = &mut self.compiled {
            compiled.state = OptimizerState::default();
        }
        self.built = true;
        Ok(())
    }

    /// Runs every layer on the batch already in `work.outputs[0]`.
    fn forward(&mut self, training: bool) {
        let batch = self.work.outputs[0].rows();
        let mut context = Context {
            training,
            rng: &mut self.work.rng,
        };
        for i in 1..self.nodes.len() {
            let node = &mut self.nodes[i];
            let (before, rest) = self.work.outputs.split_at_mut(i);
            let output = &mut rest[0];
            output.resize_batch(batch, &node.shape);
            if let [j] = node.inputs[..] {
                let input = &before[j];
                node.layer
                    .op_mut()
                    .forward(std::slice::from_ref(&input), output, &mut context);
            } else {
                let inputs: Vec<&Tensor> = node.inputs.iter().map(|&j| &before[j]).collect();
                node.layer.op_mut().forward(&inputs, output, &mut context);
            }
        }
    }

    /// Backpropagates `work.grads[last]` (set by the loss) through every layer,
    /// leaving each parameter's gradient in place.
    fn backward(&mut self) {
        let n = self.nodes.len();
        let work = &mut self.work;
        work.has_grad.fill(false);
        work.has_grad[n - 1] = true;
        for i in (1..n).rev() {
            if !work.has_grad[i] {
                continue;
            }
            let node = &mut self.nodes[i];
            let need = node.inputs.iter().any(|&j| j != 0);
            let outputs = &work.outputs;
            let input_grads = &mut work.input_grads[i];
            if need {
                for (grad, &j) in input_grads.iter_mut().zip(&node.inputs) {
                    grad.resize(outputs[j].shape());
                }
            }
            let op = node.layer.op_mut();
            if let [j] = node.inputs[..] {
                let input = &outputs[j];
                op.backward(
                    std::slice::from_ref(&input),
                    &outputs[i],
                    &mut work.grads[i],
                    input_grads,
                    need,
                );
            } else {
                let inputs: Vec<&Tensor> = node.inputs.iter().map(|&j| &outputs[j]).collect();
                op.backward(&inputs, &outputs[i], &mut work.grads[i], input_grads, need);
            }
            if !need {
                continue;
            }
            for (k, &j) in node.inputs.iter().enumerate() {
                if j == 0 {
                    continue;
                }
                if work.has_grad[j] {
                    let add = &work.input_grads[i][k];
                    work.grads[j]
                        .data_mut()
                        .iter_mut()
                        .zip(add.data())
                        .for_each(|(g, a)| *g += a);
                } else {
                    std::mem::swap(&mut work.grads[j], &mut work.input_grads[i][k]);
                    work.has_grad[j] = true;
                }
            }
        }
    }

    /// Runs the model on `x` (batch axis first) in inference mode.
    ///
    /// ```
    /// # use mote_train::{Dense, Sequential, Tensor};
    /// let mut model = Sequential::new([Dense::new(3).input_shape([2])]);
    /// let y = model.predict(&Tensor::zeros([4, 2]))?;
    /// assert_eq!(y.shape(), &[4, 3]);
    /// # Ok::<(), mote_train::Error>(())
    /// ```
    pub fn predict(&mut self, x: &Tensor) -> Result<Tensor> {
        self.build_for(x, "predict")?;
        if let Some(row) = x.first_non_finite_row() {
            return Err(Error::NonFiniteData { what: "x", row });
        }
        let rows = x.rows();
        let out_shape = self
            .nodes
            .last()
            .map(|n| n.shape.clone())
            .unwrap_or_default();
        let mut result = Tensor::zeros([0]);
        result.resize_batch(rows, &out_shape);
        let out_len = result.row_len();
        let in_len = x.row_len();
        for start in (0..rows).step_by(INFERENCE_BATCH) {
            let end = (start + INFERENCE_BATCH).min(rows);
            self.load_rows(x, start, end);
            self.forward(false);
            let out = self
                .work
                .outputs
                .last()
                .map(Tensor::data)
                .unwrap_or_default();
            result.data_mut()[start * out_len..end * out_len].copy_from_slice(out);
            debug_assert_eq!(self.work.outputs[0].len(), (end - start) * in_len);
        }
        Ok(result)
    }

    /// Every layer's output on `x` in inference mode, in the order of
    /// [`Model::layers`] (each `[N, ...]`): what a pruning criterion or a
    /// calibration needs to see inside the model.
    ///
    /// ```
    /// # use mote_train::{Activation, Dense, Sequential, Tensor};
    /// let mut model = Sequential::new([
    ///     Dense::new(3).activation(Activation::Relu).input_shape([2]),
    ///     Dense::new(1),
    /// ]);
    /// let x = Tensor::zeros([5, 2]);
    /// let outputs = model.predict_layers(&x)?;
    /// assert_eq!(outputs[0].shape(), &[5, 3]);
    /// assert_eq!(outputs[1].data(), model.predict(&x)?.data());
    /// # Ok::<(), mote_train::Error>(())
    /// ```
    pub fn predict_layers(&mut self, x: &Tensor) -> Result<Vec<Tensor>> {
        self.build_for(x, "predict")?;
        if let Some(row) = x.first_non_finite_row() {
            return Err(Error::NonFiniteData { what: "x", row });
        }
        let rows = x.rows();
        let mut results: Vec<Tensor> = self.nodes[1..]
            .iter()
            .map(|n| {
                let mut t = Tensor::zeros([0]);
                t.resize_batch(rows, &n.shape);
                t
            })
            .collect();
        for start in (0..rows).step_by(INFERENCE_BATCH) {
            let end = (start + INFERENCE_BATCH).min(rows);
            self.load_rows(x, start, end);
            self.forward(false);
            for (result, out) in results.iter_mut().zip(&self.work.outputs[1..]) {
                let n = result.row_len();
                result.data_mut()[start * n..end * n].copy_from_slice(out.data());
            }
        }
        Ok(results)
    }

    /// Copies rows `start..end` of `x` into the input buffer.
    fn load_rows(&mut self, x: &Tensor, start: usize, end: usize) {
        let n = x.row_len();
        let input = &mut self.work.outputs[0];
        input.resize_batch(end - start, &x.shape()[1..]);
        input
            .data_mut()
            .copy_from_slice(&x.data()[start * n..end * n]);
    }
}

/// `MaxPooling2D` -> `max_pooling2d`, Keras' naming of layers.
fn snake_case(kind: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in kind.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase();
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dense;

    #[test]
    fn names_follow_keras() {
        assert_eq!(snake_case("MaxPooling2D"), "max_pooling2d");
        assert_eq!(snake_case("DepthwiseConv2D"), "depthwise_conv2d");
        let model = Sequential::new([Dense::new(2).input_shape([3]), Dense::new(1)]);
        assert_eq!(
            model.layer_names().collect::<Vec<_>>(),
            ["dense", "dense_1"]
        );
        assert_eq!(model.layer_inputs(1), [Some(0)]);
        assert_eq!(model.layer_inputs(0), [None]);
    }

    #[test]
    fn builds_lazily_from_data() {
        // no input_shape: the first predict builds on [*, 5]
        let mut model = Sequential::new([Dense::new(2)]);
        assert_eq!(model.input_shape(), None);
        let y = model.predict(&Tensor::zeros([3, 5])).unwrap();
        assert_eq!(y.shape(), &[3, 2]);
        assert_eq!(model.input_shape(), Some(&[5][..]));
        // a later call with another width names both shapes
        let err = model
            .predict(&Tensor::zeros([3, 4]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[0, 5]") && err.contains("[3, 4]"), "{err}");
    }

    #[test]
    fn nan_input_names_the_row() {
        let mut model = Sequential::new([Dense::new(1).input_shape([2])]);
        let x = Tensor::new(vec![0.0, 1.0, 2.0, f32::NAN], [2, 2]).unwrap();
        assert!(model.predict(&x).unwrap_err().to_string().contains("row 1"));
    }

    #[test]
    fn seed_decides_weights() {
        let a = Sequential::new([Dense::new(4).input_shape([3])]);
        let b = Sequential::new([Dense::new(4).input_shape([3])]);
        let c = Sequential::new([Dense::new(4).input_shape([3])])
            .seeded(7)
            .unwrap();
        let kernel = |m: &Model| m.layers().next().unwrap().params()[0].value().clone();
        assert_eq!(kernel(&a), kernel(&b));
        assert_ne!(kernel(&a), kernel(&c));
    }
}
