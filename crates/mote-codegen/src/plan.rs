//! Everything the generated code needs, read off a host interpreter that ran
//! every operator's `prepare`.

use mote_runtime::literal::Writer;
use mote_runtime::{Error, Interpreter, Model, OpResolver, TensorType};

use crate::CodegenError;

/// The most arena the host interpreter may ask for (the generator grows its
/// arena to what `Interpreter::new` reports it needs, up to this).
const MAX_ARENA: usize = 1 << 30;

/// Where one operand is.
#[derive(Clone, Debug, PartialEq)]
pub enum Place {
    /// An omitted optional input.
    None,
    /// Constant number `k` of [`Plan::constants`].
    Constant(usize),
    /// `(start, len)` in the activations.
    Arena(usize, usize),
}

/// One operator, prepared.
#[derive(Clone, Debug)]
pub struct OpPlan {
    /// The TensorFlow Lite name (`CONV_2D`, `CUSTOM:SignalWindow`).
    pub name: String,
    /// The builtin operator code.
    pub code: i32,
    /// The op's module from the crate root (`mote_runtime::ops::conv_2d`).
    pub module: &'static str,
    /// Its params type (`mote_runtime::ops::conv_2d::Conv2dParams`).
    pub params_type: &'static str,
    /// Its params as a Rust expression of that type.
    pub params: String,
    /// Its inputs.
    pub inputs: Vec<Place>,
    /// Its outputs, `(start, len)` in the activations.
    pub outputs: Vec<(usize, usize)>,
}

/// A graph input or output.
#[derive(Clone, Debug)]
pub struct TensorPlan {
    /// The tensor's name in the model.
    pub name: String,
    /// Its element type.
    pub dtype: TensorType,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its number of elements.
    pub elements: usize,
    /// Its first byte in the activations.
    pub start: usize,
    /// Per-tensor `(scale, zero_point)` when it is quantized.
    pub quantization: Option<(f32, i32)>,
}

/// Where a generated model's persistent bytes live. Either way they end at an
/// address with the host region's remainder modulo 8, so their 8-aligned
/// allocations stay aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersistentAt {
    /// An op changes its persistent data (state): the bytes are copied into
    /// the arena's tail from `start`.
    Arena {
        /// Their first byte in the arena.
        start: usize,
    },
    /// No op changes them: they stay in flash, after `pad` zero bytes in
    /// their 16-aligned static, and the arena holds only the activations.
    Flash {
        /// Padding bytes before them.
        pad: usize,
    },
}

/// A model, planned and prepared.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The operators in execution order.
    pub ops: Vec<OpPlan>,
    /// Constant data, each once (tensors sharing a buffer share it).
    pub constants: Vec<Vec<u8>>,
    /// The graph's inputs.
    pub inputs: Vec<TensorPlan>,
    /// The graph's outputs.
    pub outputs: Vec<TensorPlan>,
    /// Variable tensors' `(start, len)` (zeroed on reset).
    pub variables: Vec<(usize, usize)>,
    /// Bytes of activations.
    pub activations: usize,
    /// The persistent bytes `prepare` left (params, per-channel data, state).
    pub persistent: Vec<u8>,
    /// Where the persistent bytes live.
    pub persistent_at: PersistentAt,
    /// The whole arena.
    pub arena_bytes: usize,
    /// What the interpreter needs for the same model (for comparison).
    pub interpreter_arena_bytes: usize,
}

impl Plan {
    /// Parses `bytes`, prepares every operator and reads off the plan.
    pub fn new(bytes: &[u8]) -> Result<Self, CodegenError> {
        let model = Model::parse(bytes).map_err(CodegenError::Malformed)?;
        let resolver = OpResolver::all();
        let mut size = 64 * 1024;
        loop {
            let mut arena = vec![0u8; size];
            match Interpreter::new(&model, &mut arena, &resolver) {
                Ok(interpreter) => return read(&model, &interpreter, &resolver),
                Err(Error::ArenaTooSmall { needed, .. })
                    if needed > size && needed <= MAX_ARENA =>
                {
                    size = needed.max(size * 2).min(MAX_ARENA);
                }
                Err(e) => return Err(CodegenError::from_prepare(e)),
            }
        }
    }
}

fn read(
    model: &Model<'_>,
    interpreter: &Interpreter<'_, '_>,
    resolver: &OpResolver<'_>,
) -> Result<Plan, CodegenError> {
    let graph = model.main();
    let mut constants: Vec<Vec<u8>> = Vec::new();
    let mut constant_at: Vec<(usize, usize, usize)> = Vec::new(); // (address, len, k)
    let persistent = interpreter.persistent_bytes();
    let params_ranges: Vec<std::ops::Range<usize>> = (0..graph.operator_count())
        .filter_map(|i| interpreter.params_range(i))
        .collect();
    let compacted = Compacted::new(persistent, &params_ranges);
    let relocate = |from_end: u32| compacted.relocate(from_end);
    let mut ops = Vec::new();
    let mut stateful = false;
    for index in 0..graph.operator_count() {
        let operator = graph
            .operator(index)
            .ok_or(CodegenError::Unsupported(format!(
                "operator {index} is missing"
            )))?;
        let custom = operator.code().and_then(|c| c.custom_name());
        let builtin = operator.builtin();
        let name = match custom {
            Some(custom) => format!("CUSTOM:{custom}"),
            None => builtin.to_string(),
        };
        let registration =
            resolver
                .find(builtin, custom)
                .ok_or_else(|| CodegenError::UnsupportedOp {
                    index: index as u32,
                    op: name.clone(),
                })?;
        stateful |= registration.codegen.stateful;
        let handle = interpreter
            .params_handle(index)
            .ok_or(CodegenError::Unsupported(format!(
                "operator {index} has no params"
            )))?;
        let mut params = String::new();
        let mut writer = Writer::relocating(&mut params, 0, &relocate);
        (registration.codegen.write_params)(persistent, handle, &mut writer).map_err(|_| {
            CodegenError::Unsupported(format!("operator {index} ({name}): params not found"))
        })?;
        let mut inputs = Vec::new();
        for i in 0..operator.inputs().len() {
            let Some(tensor) = operator
                .inputs()
                .get(i)
                .and_then(|t| graph.tensor(t).map(|x| (t, x)))
            else {
                inputs.push(Place::None);
                continue;
            };
            let (t, tensor) = tensor;
            // A LUT-compressed filter is a constant of packed indices: the
            // kernel reads them as it does in the interpreter, and its value
            // tables are persistent data `prepare` wrote.
            if tensor.is_constant() {
                let data = tensor.data();
                let key = (data.as_ptr() as usize, data.len());
                let k = match constant_at.iter().find(|(a, l, _)| (*a, *l) == key) {
                    Some(&(_, _, k)) => k,
                    None => {
                        constants.push(data.to_vec());
                        constant_at.push((key.0, key.1, constants.len() - 1));
                        constants.len() - 1
                    }
                };
                inputs.push(Place::Constant(k));
            } else if let Some((start, len)) = interpreter.tensor_range(t) {
                inputs.push(Place::Arena(start, len));
            } else {
                inputs.push(Place::None);
            }
        }
        let mut outputs = Vec::new();
        for o in 0..operator.outputs().len() {
            let t = operator.outputs().get(o).unwrap_or(usize::MAX);
            let range = interpreter
                .tensor_range(t)
                .ok_or(CodegenError::Unsupported(format!(
                    "operator {index} ({name}): output {o} is not in the arena"
                )))?;
            outputs.push(range);
        }
        ops.push(OpPlan {
            name,
            code: builtin.0,
            module: registration.codegen.module,
            params_type: registration.codegen.params_type,
            params,
            inputs,
            outputs,
        });
    }
    let tensor_plan =
        |which: &str, i: usize, t: Option<usize>| -> Result<TensorPlan, CodegenError> {
            let unsupported =
                |why: &str| CodegenError::Unsupported(format!("graph {which} {i} {why}"));
            let t = t.ok_or(unsupported("is missing"))?;
            let tensor = graph.tensor(t).ok_or(unsupported("is missing"))?;
            let (start, _) = interpreter
                .tensor_range(t)
                .ok_or(unsupported("is a constant or unused, not in the arena"))?;
            let quantization = tensor
                .quantization()
                .filter(|q| q.scale_count() == 1)
                .map(|q| (q.scale(0), q.zero_point(0) as i32));
            Ok(TensorPlan {
                name: tensor.name().to_string(),
                dtype: tensor.dtype(),
                shape: tensor.shape().dims().to_vec(),
                elements: tensor.shape().elements(),
                start,
                quantization,
            })
        };
    let inputs = (0..graph.inputs().len())
        .map(|i| tensor_plan("input", i, graph.inputs().get(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let outputs = (0..graph.outputs().len())
        .map(|i| tensor_plan("output", i, graph.outputs().get(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let variables = (0..graph.tensor_count())
        .filter(|&t| graph.tensor(t).is_some_and(|x| x.is_variable()))
        .filter_map(|t| interpreter.tensor_range(t))
        .collect();
    // The persistent copy must end at an address with the host region's
    // remainder modulo 8, so its 8-aligned allocations stay aligned.
    let activations = interpreter.activations_used();
    let image = compacted.image;
    let misalignment = interpreter.persistent_end_misalignment();
    let (persistent_at, arena_bytes) = if stateful {
        let end = align(activations + image.len(), 8) + misalignment;
        (
            PersistentAt::Arena {
                start: end - image.len(),
            },
            align(end, 16),
        )
    } else {
        let pad = (misalignment + 8 - image.len() % 8) % 8;
        (PersistentAt::Flash { pad }, align(activations, 16))
    };
    Ok(Plan {
        ops,
        constants,
        inputs,
        outputs,
        variables,
        activations,
        persistent: image,
        persistent_at,
        arena_bytes,
        interpreter_arena_bytes: interpreter.arena_used(),
    })
}

impl Plan {
    /// Whether an op changes its persistent data, so that it lives in the arena.
    pub fn stateful(&self) -> bool {
        matches!(self.persistent_at, PersistentAt::Arena { .. })
    }
}

fn align(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

/// The persistent region without the stored params: the generated code has
/// them as consts. What lies between two ops' params (their per-channel data,
/// state) moves as one chunk towards the region's end by a multiple of 8
/// bytes, so every allocation in it stays 8-aligned; handles into a chunk
/// move with it.
struct Compacted {
    /// The new region.
    image: Vec<u8>,
    /// Per chunk: its distances from the end `(nearest, farthest]` in the old
    /// region, and how far it moved.
    moves: Vec<(usize, usize, usize)>,
}

impl Compacted {
    fn new(region: &[u8], params: &[std::ops::Range<usize>]) -> Self {
        let total = region.len();
        // Params as distances from the end `(nearest, farthest]`, nearest first
        // (allocation order).
        let mut taken: Vec<(usize, usize)> = params
            .iter()
            .map(|r| (total - r.end, total - r.start))
            .collect();
        taken.sort_unstable();
        // The chunks between them (and before the first), nearest first.
        let mut chunks = Vec::new();
        let mut cursor = 0;
        for &(near, far) in &taken {
            if near > cursor {
                chunks.push((cursor, near));
            }
            cursor = cursor.max(far);
        }
        if total > cursor {
            chunks.push((cursor, total));
        }
        let mut moves = Vec::new();
        let mut used = 0usize;
        let mut pieces: Vec<(usize, &[u8])> = Vec::new();
        for (near, far) in chunks {
            let shift = (near - used) / 8 * 8;
            moves.push((near, far, shift));
            pieces.push((far - shift, &region[total - far..total - near]));
            used = far - shift;
        }
        let mut image = vec![0u8; used];
        for (far, bytes) in pieces {
            let start = used - far;
            image[start..start + bytes.len()].copy_from_slice(bytes);
        }
        Compacted { image, moves }
    }

    /// Where the allocation at `from_end` is in the new region.
    fn relocate(&self, from_end: u32) -> u32 {
        let d = from_end as usize;
        self.moves
            .iter()
            .find(|&&(near, far, _)| d > near && d <= far)
            .map_or(from_end, |&(_, _, shift)| (d - shift) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lut_models_keep_their_packed_filters_as_constants() {
        let bytes = include_bytes!("../../mote-runtime/tests/data/digits_mlp_lut.tflite");
        let plan = Plan::new(bytes).unwrap();
        let model = mote_runtime::Model::parse(bytes).unwrap();
        let graph = model.main();
        let packed: Vec<Vec<u8>> = (0..graph.tensor_count())
            .filter_map(|i| graph.tensor(i)?.lut().map(|l| l.packed().to_vec()))
            .collect();
        assert_eq!(packed.len(), 2);
        for p in &packed {
            assert!(
                plan.constants.contains(p),
                "a packed filter is not a constant"
            );
        }
    }

    #[test]
    fn compaction_drops_params_and_keeps_chunks_aligned() {
        // A 40-byte region, allocated from the end: data A (8 bytes at
        // distance 8), params (12 bytes, distances 8..20 padded to 24), data
        // B (8 bytes at distance 32), params (8 bytes at distance 40).
        let mut region = vec![0u8; 40];
        region[32..40].fill(0xA);
        region[8..16].fill(0xB);
        let params = [16..28, 0..8];
        let c = Compacted::new(&region, &params);
        // A stays (with the 4 padding bytes after it: a chunk cannot tell
        // padding from data); B moves 8 bytes nearer the end, the params' 12
        // rounded down to keep it aligned.
        assert_eq!(c.relocate(8), 8);
        assert_eq!(c.relocate(32), 24);
        assert_eq!(c.image.len(), 24);
        assert_eq!(&c.image[16..24], &[0xA; 8]);
        assert_eq!(&c.image[0..8], &[0xB; 8]);
        assert_eq!(&c.image[8..16], &[0; 8]);
    }
}
