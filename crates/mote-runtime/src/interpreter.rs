//! The interpreter: plans a model into one caller-owned arena, prepares every
//! operator once, then runs them blindly on each [`Interpreter::invoke`].
//!
//! Arena layout, as in TensorFlow Lite Micro:
//! ```text
//! [ activations (planned, reused) ............ | op params | tensor offsets ]
//!   head                                         tail (persistent)
//! ```

use crate::arena::{self, Plain};
use crate::error::{Error, OpName};
use crate::model::{Model, Subgraph, Tensor, TensorType};
use crate::ops::context::{PersistentAllocator, MAX_INPUTS, MAX_OUTPUTS};
use crate::ops::{EvalContext, EvalFn, OpData, OpResolver, PrepareContext, ResetFn};
use crate::planner::{self, Request, UNPLACED};

/// A tensor element type that inputs and outputs can be read and written as.
pub trait Element: Plain {
    /// The tensor type this Rust type stands for.
    const TYPE: TensorType;
}

macro_rules! element {
    ($($t:ty => $v:ident),*) => {$(
        impl Element for $t {
            const TYPE: TensorType = TensorType::$v;
        }
    )*};
}
element!(f32 => Float32, i8 => Int8, u8 => UInt8, i16 => Int16, u16 => UInt16, i32 => Int32, u32 => UInt32, i64 => Int64, u64 => UInt64);

/// A prepared operator: its params and its kernel.
#[derive(Clone, Copy)]
struct Node {
    data: OpData,
    eval: EvalFn,
    reset: Option<ResetFn>,
}

fn no_eval(_: &OpData, _: &mut EvalContext<'_>) -> Result<(), Error> {
    Ok(())
}

const EMPTY_NODE: Node = Node {
    data: OpData::Empty,
    eval: no_eval,
    reset: None,
};

/// Runs one model in one arena. See the [crate docs](crate) for an example.
pub struct Interpreter<'m, 'a> {
    graph: Subgraph<'m>,
    /// The head of the arena: planned activations.
    activations: &'a mut [u8],
    /// Per-op data set aside in `prepare`.
    persistent: &'a mut [u8],
    /// Per tensor: its offset in `activations`, or [`UNPLACED`] for constants.
    offsets: &'a mut [u32],
    nodes: &'a mut [Node],
    used: usize,
}

impl<'m, 'a> Interpreter<'m, 'a> {
    /// Plans `model`'s main subgraph into `arena` and prepares every operator
    /// with the kernels of `ops`. Fails with [`Error::UnsupportedOp`] for an op
    /// `ops` lacks and [`Error::ArenaTooSmall`] (with the bytes needed) when the
    /// arena is too small. When the arena cannot even hold the planner's
    /// scratch, `needed` is a lower bound; retrying with it gives the exact need.
    pub fn new(
        model: &Model<'m>,
        arena: &'a mut [u8],
        ops: &OpResolver<'_>,
    ) -> Result<Self, Error> {
        let graph = model.main();
        let tensor_count = graph.tensor_count();
        let op_count = graph.operator_count();
        let available = arena.len();
        let skip = arena::align_skip(arena, planner::ALIGN).min(available);
        let (_, arena) = arena.split_at_mut(skip);
        let too_small = |needed: usize| Error::ArenaTooSmall { needed, available };

        // The tail: tensor offsets, then op params (persistent). Its size, for
        // the error when it does not fit: the entries plus worst-case padding.
        let tail_estimate = tensor_count * 4 + op_count * core::mem::size_of::<Node>() + 16;
        let (arena, offsets) = arena::take_tail(arena, tensor_count, UNPLACED)
            .ok_or(too_small(skip + tail_estimate))?;
        let (head, nodes) =
            arena::take_tail(arena, op_count, EMPTY_NODE).ok_or(too_small(skip + tail_estimate))?;
        let tail_used = available - skip - head.len();

        // Prepare every operator; persistent per-op data grows down from the
        // head's end and joins the tail.
        let mut persistent = PersistentAllocator::new(head);
        for (index, node) in nodes.iter_mut().enumerate() {
            *node = prepare(&graph, index, ops, &mut persistent).map_err(|e| match e {
                Error::ArenaTooSmall { needed, .. } => too_small(skip + tail_used + needed),
                other => other,
            })?;
        }
        let (head, persistent) = persistent.split();
        let tail_used = tail_used + persistent.len();

        // Plan the activations, with the lifetimes as scratch in the head.
        let scratch_estimate = tensor_count * core::mem::size_of::<Request>() + 16;
        let head_len = head.len();
        let (free, requests) = arena::take_tail(&mut *head, tensor_count, Request::default())
            .ok_or(too_small(skip + tail_used + scratch_estimate))?;
        let scratch = head_len - free.len();
        fill_requests(&graph, requests)?;
        let peak = planner::plan(requests, offsets).ok_or(too_small(usize::MAX))?;
        // Alignment padding at the start (`skip`) counts as used.
        let used = available - head_len + peak.max(scratch);
        if peak > head_len {
            return Err(too_small(used));
        }
        Ok(Interpreter {
            graph,
            activations: head,
            persistent,
            offsets,
            nodes,
            used,
        })
    }

    /// Bytes of the arena in use: activations, per-op params, tensor offsets and
    /// alignment padding.
    pub fn arena_used(&self) -> usize {
        self.used
    }

    /// Returns the model's state to its initial value: variable tensors are
    /// zeroed and stateful operators (such as an audio front-end's noise
    /// estimate) reset theirs. Use it between independent streams or clips.
    pub fn reset(&mut self) -> Result<(), Error> {
        for t in 0..self.graph.tensor_count() {
            if self
                .graph
                .tensor(t)
                .is_some_and(|tensor| tensor.is_variable())
            {
                let (start, len) = self.range(t);
                if let Some(bytes) = self.activations.get_mut(start..start + len) {
                    bytes.fill(0);
                }
            }
        }
        for index in 0..self.nodes.len() {
            let Some(node) = self.nodes.get(index).copied() else {
                continue;
            };
            let Some(reset) = node.reset else { continue };
            let mut ctx = EvalContext {
                index: index as u32,
                op: self
                    .graph
                    .operator(index)
                    .map_or(crate::model::BuiltinOperator::CUSTOM, |o| o.builtin()),
                inputs: [&[]; MAX_INPUTS],
                outputs: [&mut [], &mut [], &mut [], &mut []],
                persistent: &mut *self.persistent,
            };
            reset(&node.data, &mut ctx)?;
        }
        Ok(())
    }

    /// Runs every operator once, in order.
    pub fn invoke(&mut self) -> Result<(), Error> {
        for index in 0..self.nodes.len() {
            self.eval(index)?;
        }
        Ok(())
    }

    fn eval(&mut self, index: usize) -> Result<(), Error> {
        let node = *self
            .nodes
            .get(index)
            .ok_or(Error::NoSuchTensor { index, count: 0 })?;
        let Some(operator) = self.graph.operator(index) else {
            return Ok(());
        };
        // Output ranges, in ascending order, carved out of the activations.
        let mut ranges = [(0usize, 0usize, 0usize); MAX_OUTPUTS];
        let outputs = operator.outputs();
        let count = outputs.len().min(MAX_OUTPUTS);
        for (o, slot) in ranges.iter_mut().enumerate().take(count) {
            let t = outputs.get(o).unwrap_or(usize::MAX);
            let (start, len) = self.range(t);
            *slot = (start, len, o);
        }
        let ranges = ranges.get_mut(..count).unwrap_or(&mut []);
        ranges.sort_unstable();
        let mut out_slices: [&mut [u8]; MAX_OUTPUTS] = [&mut [], &mut [], &mut [], &mut []];
        let mut pieces: [(usize, &[u8]); MAX_OUTPUTS + 1] = [(0, &[]); MAX_OUTPUTS + 1];
        let (graph, offsets) = (self.graph, &*self.offsets);
        let mut rest: &mut [u8] = &mut *self.activations;
        let mut cursor = 0usize;
        for (k, &(start, len, o)) in ranges.iter().enumerate() {
            let gap = start.checked_sub(cursor).ok_or(Error::InvalidOp {
                index: index as u32,
                op: operator.builtin(),
                reason: "outputs overlap",
            })?;
            let taken = core::mem::take(&mut rest);
            if gap + len > taken.len() {
                return Err(Error::WrongSize {
                    expected: gap + len,
                    got: taken.len(),
                });
            }
            let (before, after) = taken.split_at_mut(gap);
            let (out, after) = after.split_at_mut(len);
            if let Some(piece) = pieces.get_mut(k) {
                *piece = (cursor, before);
            }
            if let Some(slot) = out_slices.get_mut(o) {
                *slot = out;
            }
            rest = after;
            cursor = start + len;
        }
        if let Some(piece) = pieces.get_mut(ranges.len()) {
            *piece = (cursor, rest);
        }
        // Inputs: constants from the model, activations from the read-only pieces.
        let mut inputs: [&[u8]; MAX_INPUTS] = [&[]; MAX_INPUTS];
        let op_inputs = operator.inputs();
        for (i, slot) in inputs.iter_mut().enumerate().take(op_inputs.len()) {
            let Some(t) = op_inputs.get(i) else { continue };
            let Some(tensor) = graph.tensor(t) else {
                continue;
            };
            if tensor.is_constant() {
                *slot = tensor.data();
                continue;
            }
            let (start, len) = range(&graph, offsets, t);
            *slot = pieces
                .iter()
                .find_map(|(base, piece)| {
                    let from = start.checked_sub(*base)?;
                    piece.get(from..from.checked_add(len)?)
                })
                .ok_or(Error::InvalidOp {
                    index: index as u32,
                    op: operator.builtin(),
                    reason: "an input shares memory with an output",
                })?;
        }
        let mut ctx = EvalContext {
            index: index as u32,
            op: operator.builtin(),
            inputs,
            outputs: out_slices,
            persistent: &mut *self.persistent,
        };
        (node.eval)(&node.data, &mut ctx)
    }

    /// The arena range `(start, len)` of tensor `t`.
    fn range(&self, t: usize) -> (usize, usize) {
        range(&self.graph, self.offsets, t)
    }

    /// Number of graph inputs.
    pub fn input_count(&self) -> usize {
        self.graph.inputs().len()
    }

    /// Number of graph outputs.
    pub fn output_count(&self) -> usize {
        self.graph.outputs().len()
    }

    /// The tensor behind graph input `i` (shape, type, quantization).
    pub fn input_tensor(&self, i: usize) -> Result<Tensor<'m>, Error> {
        let count = self.input_count();
        self.graph
            .inputs()
            .get(i)
            .and_then(|t| self.graph.tensor(t))
            .ok_or(Error::NoSuchTensor { index: i, count })
    }

    /// The tensor behind graph output `i`.
    pub fn output_tensor(&self, i: usize) -> Result<Tensor<'m>, Error> {
        let count = self.output_count();
        self.graph
            .outputs()
            .get(i)
            .and_then(|t| self.graph.tensor(t))
            .ok_or(Error::NoSuchTensor { index: i, count })
    }

    /// The index of the graph input named `name`.
    pub fn input_index(&self, name: &str) -> Option<usize> {
        let inputs = self.graph.inputs();
        (0..inputs.len()).find(|&i| {
            inputs
                .get(i)
                .and_then(|t| self.graph.tensor(t))
                .is_some_and(|t| t.name() == name)
        })
    }

    /// The index of the graph output named `name`.
    pub fn output_index(&self, name: &str) -> Option<usize> {
        let outputs = self.graph.outputs();
        (0..outputs.len()).find(|&i| {
            outputs
                .get(i)
                .and_then(|t| self.graph.tensor(t))
                .is_some_and(|t| t.name() == name)
        })
    }

    /// The bytes of graph input `i`, to fill before each [`Interpreter::invoke`]:
    /// as in TensorFlow Lite Micro, the planner reuses an input's memory once
    /// its last reader has run.
    pub fn input_bytes_mut(&mut self, i: usize) -> Result<&mut [u8], Error> {
        let count = self.input_count();
        let t = self
            .graph
            .inputs()
            .get(i)
            .ok_or(Error::NoSuchTensor { index: i, count })?;
        let (start, len) = self.range(t);
        self.activations
            .get_mut(start..start + len)
            .ok_or(Error::NoSuchTensor { index: i, count })
    }

    /// The bytes of graph output `i`, valid after [`Interpreter::invoke`].
    pub fn output_bytes(&self, i: usize) -> Result<&[u8], Error> {
        let count = self.output_count();
        let t = self
            .graph
            .outputs()
            .get(i)
            .ok_or(Error::NoSuchTensor { index: i, count })?;
        let tensor = self
            .graph
            .tensor(t)
            .ok_or(Error::NoSuchTensor { index: i, count })?;
        if tensor.is_constant() {
            return Ok(tensor.data());
        }
        let (start, len) = self.range(t);
        self.activations
            .get(start..start + len)
            .ok_or(Error::NoSuchTensor { index: i, count })
    }

    /// Graph input `i` as a typed slice, to fill before each [`Interpreter::invoke`].
    pub fn input_mut<T: Element>(&mut self, i: usize) -> Result<&mut [T], Error> {
        let expected = self.input_tensor(i)?.dtype();
        check_type::<T>(expected)?;
        let bytes = self.input_bytes_mut(i)?;
        let got = bytes.len();
        arena::cast_mut(bytes).ok_or(Error::WrongSize { expected: got, got })
    }

    /// Graph output `i` as a typed slice.
    pub fn output<T: Element>(&self, i: usize) -> Result<&[T], Error> {
        check_type::<T>(self.output_tensor(i)?.dtype())?;
        let bytes = self.output_bytes(i)?;
        arena::cast(bytes).ok_or(Error::WrongSize {
            expected: bytes.len(),
            got: bytes.len(),
        })
    }
}

/// The arena range `(start, len)` of tensor `t` (empty for unplaced tensors).
fn range(graph: &Subgraph<'_>, offsets: &[u32], t: usize) -> (usize, usize) {
    let offset = offsets.get(t).copied().unwrap_or(UNPLACED);
    if offset == UNPLACED {
        return (0, 0);
    }
    let len = graph.tensor(t).map_or(0, |tensor| tensor.byte_len());
    (offset as usize, len)
}

fn check_type<T: Element>(expected: TensorType) -> Result<(), Error> {
    if expected == T::TYPE {
        Ok(())
    } else {
        Err(Error::WrongType {
            expected,
            got: T::TYPE,
        })
    }
}

/// Finds the kernel for operator `index` and runs its `prepare`.
fn prepare(
    graph: &Subgraph<'_>,
    index: usize,
    ops: &OpResolver<'_>,
    persistent: &mut PersistentAllocator<'_>,
) -> Result<Node, Error> {
    let operator = graph.operator(index).ok_or(Error::NoSubgraph)?;
    let op = operator.builtin();
    let name = match operator.code().and_then(|c| c.custom_name()) {
        Some(custom) => OpName::custom(custom),
        None => OpName::Builtin(op),
    };
    let unsupported = Error::UnsupportedOp {
        index: index as u32,
        op: name,
    };
    let custom = operator.code().and_then(|c| c.custom_name());
    let registration = ops.find(op, custom).ok_or(unsupported)?;
    let inputs = operator.inputs().len();
    if inputs > MAX_INPUTS || operator.outputs().len() > MAX_OUTPUTS {
        return Err(Error::InvalidOp {
            index: index as u32,
            op,
            reason: "too many inputs or outputs",
        });
    }
    let mut ctx = PrepareContext {
        index: index as u32,
        op,
        operator,
        graph: *graph,
        persistent: persistent.borrow(),
    };
    let data = (registration.prepare)(&mut ctx)?;
    Ok(Node {
        data,
        eval: registration.eval,
        reset: registration.reset,
    })
}

/// Fills each tensor's size and lifetime; constants and unused tensors get size 0.
fn fill_requests(graph: &Subgraph<'_>, requests: &mut [Request]) -> Result<(), Error> {
    let last_op = graph.operator_count().saturating_sub(1) as u32;
    let touch = |t: usize, op: u32, requests: &mut [Request]| -> Result<(), Error> {
        let Some(tensor) = graph.tensor(t) else {
            return Ok(());
        };
        let Some(r) = requests.get_mut(t) else {
            return Ok(());
        };
        if tensor.is_constant() {
            return Ok(());
        }
        let size = tensor
            .dtype()
            .bytes_for(tensor.shape().elements())
            .ok_or(Error::BadShape { tensor: t as u32 })?;
        let size = planner::align_up(size)
            .filter(|s| *s <= u32::MAX as usize)
            .ok_or(Error::BadShape { tensor: t as u32 })?;
        if r.size == 0 {
            *r = Request {
                size,
                first: op,
                last: op,
            };
        } else {
            r.first = r.first.min(op);
            r.last = r.last.max(op);
        }
        if tensor.is_variable() {
            *r = Request {
                size,
                first: 0,
                last: last_op,
            };
        }
        Ok(())
    };
    for t in graph
        .inputs()
        .iter()
        .filter_map(|t| usize::try_from(t).ok())
    {
        touch(t, 0, requests)?;
    }
    for index in 0..graph.operator_count() {
        let Some(operator) = graph.operator(index) else {
            continue;
        };
        for t in operator
            .inputs()
            .iter()
            .chain(operator.outputs().iter())
            .filter_map(|t| usize::try_from(t).ok())
        {
            touch(t, index as u32, requests)?;
        }
    }
    for t in graph
        .outputs()
        .iter()
        .filter_map(|t| usize::try_from(t).ok())
    {
        touch(t, last_op, requests)?;
    }
    Ok(())
}
