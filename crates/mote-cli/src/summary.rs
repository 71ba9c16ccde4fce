//! What `mote inspect` reports of a model: one row per operator and totals.

use std::collections::BTreeMap;

use mote_runtime::{BuiltinOperator, Interpreter, Model, OpResolver, Shape, Tensor};
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
    /// The builtin options, typed (`Conv2DOptions { padding: 1, ... }`; `-` for none).
    pub options: String,
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

/// Multiply-accumulates of operator `index`, for the ops that multiply
/// weights: per inference, each counted as TensorFlow Lite's ops compute them
/// (saturating, for files whose shapes claim more than a `u64` holds).
pub fn macs(model: &Model<'_>, index: usize) -> u64 {
    let graph = model.main();
    let Some(op) = graph.operator(index) else {
        return 0;
    };
    let shape = |i: Option<usize>| i.and_then(|t| graph.tensor(t)).map(|t| t.shape());
    let input = |i: usize| shape(op.inputs().get(i));
    let elements = |i: usize| input(i).map_or(0, |s| s.elements() as u64);
    let last = |s: &Shape| s.dim(s.rank().saturating_sub(1)) as u64;
    let out = shape(op.outputs().get(0)).map_or(0, |s| s.elements() as u64);
    match op.builtin() {
        // Each output sums over the input depth: weights [units, depth].
        BuiltinOperator::FULLY_CONNECTED => out.saturating_mul(input(1).map_or(0, |w| last(&w))),
        // Each output sums over a kh x kw x in_channels window: [out_c, kh, kw, in_c].
        BuiltinOperator::CONV_2D => {
            let w = input(1).unwrap_or_default();
            out.saturating_mul((w.elements() / w.dim(0).max(1)) as u64)
        }
        // Each output sums over its own kh x kw window: [1, kh, kw, channels].
        BuiltinOperator::DEPTHWISE_CONV_2D => {
            let w = input(1).unwrap_or_default();
            out.saturating_mul((w.dim(1) as u64).saturating_mul(w.dim(2) as u64))
        }
        // Inputs [output_shape, weights [out_c, kh, kw, in_c], x]: every input
        // pixel is scattered through every weight.
        BuiltinOperator::TRANSPOSE_CONV => {
            let x = input(2).unwrap_or_default();
            (x.elements() as u64 / last(&x).max(1)).saturating_mul(elements(1))
        }
        // Per batch row: weights_feature [filters, input] then weights_time
        // [filters, memory] (SVDF's two matrix products).
        BuiltinOperator::SVDF => {
            let x = input(0).unwrap_or_default();
            (x.dim(0) as u64).saturating_mul(elements(1).saturating_add(elements(2)))
        }
        // Per time step and batch row: the 4 input and 4 recurrent gate
        // matrices (inputs 1..=8) and the projection (input 16).
        BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM => {
            let x = input(0).unwrap_or_default();
            let steps = x.elements() as u64 / last(&x).max(1);
            let weights = (1..=8)
                .chain([16])
                .map(elements)
                .fold(0u64, u64::saturating_add);
            steps.saturating_mul(weights)
        }
        // Each output sums over the shared dimension: lhs's last (or, with
        // adj_x, second-to-last) dimension.
        BuiltinOperator::BATCH_MATMUL => {
            let lhs = input(0).unwrap_or_default();
            let adj_x = op.options().bool(0);
            let k = if adj_x {
                lhs.dim(lhs.rank().saturating_sub(2))
            } else {
                lhs.dim(lhs.rank().saturating_sub(1))
            };
            out.saturating_mul(k as u64)
        }
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
                params = tensor.shape().elements().saturating_add(params);
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
            options: match op.options2().kind() {
                0 => op.options().to_string(),
                _ => format!("{} {}", op.options(), op.options2()),
            },
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
        params: operators
            .iter()
            .fold(0usize, |n, r| n.saturating_add(r.params)),
        macs: operators.iter().fold(0u64, |n, r| n.saturating_add(r.macs)),
        operators,
        op_counts,
        weights_bytes,
        arena_bytes,
        arena_error,
        tensors: graph.tensor_count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn assets() -> PathBuf {
        let dir = std::env::var_os("MOTE_ASSETS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets")
            });
        assert!(
            dir.join("MANIFEST.md").is_file(),
            "test assets not found at {} (set MOTE_ASSETS to the shared assets folder)",
            dir.display()
        );
        dir
    }

    fn summary_of(relative: &str) -> Summary {
        let bytes = std::fs::read(assets().join(relative)).unwrap();
        summarize(&Model::parse(&bytes).unwrap())
    }

    /// `inspect --json`'s `operators` equal, for every asset model, what
    /// TensorFlow Lite lists (tools/oracle/op_lists.py); custom ops are
    /// `CUSTOM:<name>` in mote and `<name>` in TensorFlow Lite.
    #[test]
    fn operators_are_the_ones_tensorflow_lite_lists() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../mote-conformance/tests/data/op_lists.json");
        let lists: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let lists = lists.as_object().unwrap();
        assert_eq!(lists.len(), 153);
        for (model, entry) in lists {
            let expected: Vec<&str> = entry["ops"]
                .as_array()
                .unwrap()
                .iter()
                .map(|op| op.as_str().unwrap())
                .collect();
            let summary = summary_of(model);
            let ours: Vec<&str> = summary
                .operators
                .iter()
                .map(|r| r.op.strip_prefix("CUSTOM:").unwrap_or(&r.op))
                .collect();
            assert_eq!(ours, expected, "{model}");
        }
    }

    #[test]
    fn macs_of_every_weighted_op_kind_the_assets_use() {
        let macs = |model: &str, op: usize| summary_of(model).operators[op].macs;
        // FULLY_CONNECTED 1 -> 16 -> 16 -> 1: 16 + 16*16 + 16.
        assert_eq!(
            summary_of("tflm/hello_world/hello_world_float.tflite").macs,
            288
        );
        // TRANSPOSE_CONV: 1x1x5 input pixels through weights 64x3x4x64.
        assert_eq!(
            macs(
                "tflm/integration_tests/seanet/transpose_conv/transpose_conv0.tflite",
                0
            ),
            5 * 64 * 3 * 4 * 64
        );
        // SVDF, batch 1: weights_feature 64x96 + weights_time 64x8.
        assert_eq!(
            macs("tflm/models/keyword_scrambled.tflite", 1),
            64 * 96 + 64 * 8
        );
        // UNIDIRECTIONAL_SEQUENCE_LSTM: 28 steps x (4 gates x 20x28 input
        // weights + 4 x 20x20 recurrent weights).
        assert_eq!(
            macs("tflm/mnist_lstm/trained_lstm.tflite", 0),
            28 * (4 * 20 * 28 + 4 * 20 * 20)
        );
        // CONV_2D and DEPTHWISE_CONV_2D: the first two ops of the KWS DS-CNN:
        // CONV_2D 10x4 kernel, 1 -> 64 channels, output 25x5x64;
        // DEPTHWISE_CONV_2D 3x3 on 25x5x64.
        let kws = summary_of("mlperf-tiny/kws/kws_ref_model_float32.tflite");
        assert_eq!(kws.operators[0].macs, 25 * 5 * 64 * (10 * 4));
        assert_eq!(kws.operators[1].macs, 25 * 5 * 64 * 9);
    }

    #[test]
    fn options_are_printed_typed() {
        let s = summary_of("tflm/hello_world/hello_world_float.tflite");
        assert_eq!(
            s.operators[0].options,
            "FullyConnectedOptions { fused_activation_function: 1, weights_format: 0, \
             keep_num_dims: false, asymmetric_quantize_inputs: false, quantized_bias_type: 0 }"
        );
    }
}
