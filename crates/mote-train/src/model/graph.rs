//! The functional API: layers applied to earlier nodes, for graphs with
//! branches (residual `Add`, `Concatenate`).

use super::{Model, Node};
use crate::error::{Error, Result};
use crate::layers::{Input, Layer};

/// A node of a [`Graph`]: the output of one layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeId(usize);

impl AsRef<[NodeId]> for NodeId {
    fn as_ref(&self) -> &[NodeId] {
        std::slice::from_ref(self)
    }
}

/// Builds a model layer by layer from one input, Keras' functional API.
///
/// ```
/// use mote_train::{Activation, Add, Dense, Graph};
/// let mut graph = Graph::new([4]);
/// let x = graph.input();
/// let h = graph.add(Dense::new(4).activation(Activation::Relu), x);
/// let sum = graph.add(Add::new(), [x, h]); // residual connection
/// let y = graph.add(Dense::new(1), sum);
/// let model = graph.build(y)?;
/// assert_eq!(model.layers().count(), 3);
/// # Ok::<(), mote_train::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Graph {
    nodes: Vec<Node>,
}

impl Graph {
    /// A graph whose input has per-sample shape `input_shape`.
    pub fn new(input_shape: impl AsRef<[usize]>) -> Self {
        Graph {
            nodes: vec![Node {
                name: String::new(),
                layer: Layer::Input(Input::new(input_shape)),
                inputs: Vec::new(),
                shape: Vec::new(),
            }],
        }
    }

    /// The input node.
    pub fn input(&self) -> NodeId {
        NodeId(0)
    }

    /// Applies `layer` to the nodes `inputs` (one `NodeId`, or an array of them)
    /// and returns its output node.
    pub fn add(&mut self, layer: impl Into<Layer>, inputs: impl AsRef<[NodeId]>) -> NodeId {
        self.nodes.push(Node {
            name: String::new(),
            layer: layer.into(),
            inputs: inputs.as_ref().iter().map(|n| n.0).collect(),
            shape: Vec::new(),
        });
        NodeId(self.nodes.len() - 1)
    }

    /// The model computing `output` from the input; layers not needed for
    /// `output` are dropped. Fails when a layer cannot be built on its inputs.
    pub fn build(mut self, output: NodeId) -> Result<Model> {
        if output.0 == 0 || output.0 >= self.nodes.len() {
            return Err(Error::invalid(
                "graph output",
                "must be a node added to this graph",
            ));
        }
        // Keep the ancestors of `output`; ids only point backwards, so one
        // reverse sweep marks them.
        self.nodes.truncate(output.0 + 1);
        let mut needed = vec![false; self.nodes.len()];
        needed[output.0] = true;
        for i in (0..self.nodes.len()).rev() {
            if needed[i] {
                for &j in &self.nodes[i].inputs {
                    needed[j] = true;
                }
            }
        }
        needed[0] = true;
        let mut new_index = vec![0; self.nodes.len()];
        let mut nodes = Vec::new();
        for (i, mut node) in self.nodes.into_iter().enumerate() {
            if needed[i] {
                node.inputs.iter_mut().for_each(|j| *j = new_index[*j]);
                new_index[i] = nodes.len();
                nodes.push(node);
            }
        }
        let mut model = Model::from_nodes(nodes);
        model.build()?;
        Ok(model)
    }
}
