//! What `mote inspect` reports of a model: one row per operator and totals.

use std::collections::BTreeMap;

use mote_runtime::{BuiltinOperator, Interpreter, Model, OpResolver, Tensor};
use serde::Serialize;

/// A graph input or output.
#[derive(Debug, Serialize)]
pub struct TensorInfo {
    /// Tensor index.
    pub index: usize,
    /// Name.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Element type (numpy's name).
    pub dtype: String,
    /// Quantization scale (per-tensor), if quantized.
    pub scale: Option<f32>,
    /// Quantization zero point (per-tensor), if quantized.
    pub zero_point: Option<i64>,
}

impl TensorInfo {
    fn new(index: usize, t: &Tensor<'_>) -> Self {
        let q = t.quantization();
        TensorInfo {
            index,
            name: t.name().to_string(),
            shape: t.shape().dims().to_vec(),
            dtype: t.dtype().name().to_string(),
            scale: q.map(|q| q.scale(0)),
            zero_point: q.map(|q| q.zero_point(0)),
        }
    }
}

/// One operator's row.
#[derive(Debug, Serialize)]
pub struct OpRow {
    /// Position in execution order.
    pub index: usize,
    /// TensorFlow Lite name (`CONV_2D`, or `CUSTOM:name`).
    pub op: String,
    /// Shapes of the non-constant inputs.
    pub inputs: Vec<Vec<usize>>,
    /// Shapes of the outputs.
    pub outputs: Vec<Vec<usize>>,
    /// Elements of the constant inputs.
    pub params: usize,
    /// Bytes of the constant inputs.
    pub weight_bytes: usize,
    /// Multiply-accumulates per inference.
    pub macs: u64,
}

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The model's description string.
    pub description: String,
    /// Graph inputs.
    pub inputs: Vec<TensorInfo>,
    /// Graph outputs.
    pub outputs: Vec<TensorInfo>,
    /// One row per operator.
    pub operators: Vec<OpRow>,
    /// Operators counted by name.
    pub op_counts: BTreeMap<String, usize>,
    /// Total constant elements.
    pub params: usize,
    /// Total constant bytes (each buffer counted once).
    pub weights_bytes: usize,
    /// Bytes of arena the interpreter plans, if it can run the model.
    pub arena_bytes: Option<usize>,
    /// Why the interpreter cannot run the model, if it cannot.
    pub arena_error: Option<String>,
    /// Total multiply-accumulates per inference.
    pub macs: u64,
    /// Number of tensors.
    pub tensors: usize,
}

/// Multiply-accumulates of operator `index`.
pub fn macs(model: &Model<'_>, index: usize) -> u64 {
    let graph = model.main();
    let Some(op) = graph.operator(index) else {
        return 0;
    };
    let shape = |i: Option<usize>| i.and_then(|t| graph.tensor(t)).map(|t| t.shape());
    let (Some(out), Some(weights)) = (shape(op.outputs().get(0)), shape(op.inputs().get(1))) else {
        return 0;
    };
    let out = out.elements() as u64;
    match op.builtin() {
        // Each output sums over the weights' depth (last dimension).
        BuiltinOperator::FULLY_CONNECTED => {
            out * weights.dim(weights.rank().saturating_sub(1)) as u64
        }
        // Each output sums over a kh x kw x in_channels window: [out_c, kh, kw, in_c].
        BuiltinOperator::CONV_2D => out * (weights.elements() / weights.dim(0).max(1)) as u64,
        // Each output sums over its own kh x kw window: [1, kh, kw, channels].
        BuiltinOperator::DEPTHWISE_CONV_2D => out * (weights.dim(1) * weights.dim(2)) as u64,
        _ => 0,
    }
}

/// Builds the report for `model`.
pub fn summarize(model: &Model<'_>) -> Summary {
    let graph = model.main();
    let mut operators = Vec::new();
    let mut op_counts = BTreeMap::new();
    let mut seen_buffers = std::collections::HashSet::new();
    let mut weights_bytes = 0;
    for index in 0..graph.operator_count() {
        let Some(op) = graph.operator(index) else {
            continue;
        };
        let name = match op.code().and_then(|c| c.custom_name()) {
            Some(custom) => format!("CUSTOM:{custom}"),
            None => op.builtin().to_string(),
        };
        *op_counts.entry(name.clone()).or_insert(0) += 1;
        let (mut inputs, mut params, mut weight_bytes) = (Vec::new(), 0, 0);
        for t in op.inputs().iter().filter_map(|t| usize::try_from(t).ok()) {
            let Some(tensor) = graph.tensor(t) else {
                continue;
            };
            if tensor.is_constant() {
                params += tensor.shape().elements();
                weight_bytes += tensor.data().len();
                if seen_buffers.insert(tensor.buffer_index()) {
                    weights_bytes += tensor.data().len();
                }
            } else {
                inputs.push(tensor.shape().dims().to_vec());
            }
        }
        let outputs = op
            .outputs()
            .iter()
            .filter_map(|t| graph.tensor(usize::try_from(t).ok()?))
            .map(|t| t.shape().dims().to_vec())
            .collect();
        operators.push(OpRow {
            index,
            op: name,
            inputs,
            outputs,
            params,
            weight_bytes,
            macs: macs(model, index),
        });
    }
    let io = |list: mote_runtime::model::Indices<'_>| {
        list.iter()
            .filter_map(|t| usize::try_from(t).ok())
            .filter_map(|t| graph.tensor(t).map(|tensor| TensorInfo::new(t, &tensor)))
            .collect()
    };
    let mut arena = vec![0u8; 64 << 20];
    let (arena_bytes, arena_error) = match Interpreter::new(model, &mut arena, &OpResolver::all()) {
        Ok(interpreter) => (Some(interpreter.arena_used()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Summary {
        description: model.description().to_string(),
        inputs: io(graph.inputs()),
        outputs: io(graph.outputs()),
        params: operators.iter().map(|r| r.params).sum(),
        macs: operators.iter().map(|r| r.macs).sum(),
        operators,
        op_counts,
        weights_bytes,
        arena_bytes,
        arena_error,
        tensors: graph.tensor_count(),
    }
}
