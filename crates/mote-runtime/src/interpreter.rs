//! The interpreter: plans a model into one caller-owned arena, prepares every
//! operator once, then runs them blindly on each [`Interpreter::invoke`].
//!
//! Arena layout, as in TensorFlow Lite Micro:
//! ```text
//! [ activations (planned, reused) ... | op state and params | aligned constant copies | nodes | tensor lengths | tensor offsets ]
//!   head                                tail (persistent)
//! ```
//! A RESHAPE's output shares its input's bytes (the planner aliases them).
//! Constants stay in the model (unless misaligned for their type, then an
//! aligned copy sits in the tail); the offset table records where every
//! tensor's bytes are, so `invoke` reads no model tables.

use crate::arena::{self, Plain};
use crate::error::{Error, OpName};
use crate::model::{BuiltinOperator, Model, Subgraph, Tensor, TensorType};
use crate::ops::context::{
    bind, Operand, PersistentAllocator, PersistentBytes, MAX_INPUTS, MAX_OUTPUTS,
};
use crate::ops::{EvalContext, EvalFn, OpResolver, Persistent, PrepareContext, ResetFn};
use crate::planner::{self, Request, UNPLACED};

#[cfg(feature = "codegen")]
mod plan;

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
    /// Where `prepare` stored the op's params.
    params: Persistent,
    eval: EvalFn,
    reset: Option<ResetFn>,
}

fn no_eval(_: Persistent, _: &mut EvalContext<'_>) -> Result<(), Error> {
    Ok(())
}

const EMPTY_NODE: Node = Node {
    params: Persistent::EMPTY,
    eval: no_eval,
    reset: None,
};

/// Runs one model in one arena. See the [crate docs](crate) for an example.
pub struct Interpreter<'m, 'a> {
    graph: Subgraph<'m>,
    /// Aligned copies of misaligned constants (see [`relocate`]).
    relocated: &'a [u8],
    /// The head of the arena: planned activations.
    activations: &'a mut [u8],
    /// Per-op data set aside in `prepare`.
    persistent: &'a mut [u8],
    /// Per tensor: its offset in `activations`, or [`UNPLACED`] for constants.
    offsets: &'a mut [u32],
    /// Per tensor: its length in bytes (see [`index_tensors`]).
    lens: &'a mut [u32],
    /// The model file, where constants live.
    bytes: &'m [u8],
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
        let tail_estimate = tensor_count * 8 + op_count * core::mem::size_of::<Node>() + 16;
        let (arena, offsets) = arena::take_tail(arena, tensor_count, UNPLACED)
            .ok_or(too_small(skip + tail_estimate))?;
        let (arena, lens) =
            arena::take_tail(arena, tensor_count, 0u32).ok_or(too_small(skip + tail_estimate))?;
        let (arena, nodes) =
            arena::take_tail(arena, op_count, EMPTY_NODE).ok_or(too_small(skip + tail_estimate))?;
        // Aligned copies of constants whose bytes are misaligned for their type.
        let relocated_len = relocate(&graph, &mut [], &mut [])?;
        let (head, relocated) = arena::take_tail(arena, relocated_len, 0u8)
            .ok_or(too_small(skip + tail_estimate + relocated_len))?;
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
        if peak >= CONSTANT as usize {
            return Err(too_small(used));
        }
        relocate(&graph, relocated, offsets)?;
        index_tensors(&graph, model.bytes(), offsets, lens)?;
        Ok(Interpreter {
            graph,
            relocated,
            activations: head,
            persistent,
            offsets,
            lens,
            bytes: model.bytes(),
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
                persistent: PersistentBytes::Writable(&mut *self.persistent),
            };
            reset(node.params, &mut ctx)?;
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
        // `invoke` asks only for the indices of nodes the model has.
        let Some(node) = self.nodes.get(index).copied() else {
            return Ok(());
        };
        // Used in place: moving the context out would take a second copy
        // of it (some 250 bytes) in this frame.
        let result = match &mut self.bind(index) {
            Ok(Some(ctx)) => (node.eval)(node.params, ctx),
            Ok(None) => Ok(()),
            Err(e) => Err(*e),
        };
        result.map_err(|e| e.naming_op(index as u32, self.builtin(index)))
    }

    /// Operator `index`'s builtin code, for errors only: finding it walks the
    /// FlatBuffer to the operator-code table, some 450 instructions on a
    /// Cortex-M4, so `invoke` does not look it up for every operator.
    #[inline(never)]
    fn builtin(&self, index: usize) -> BuiltinOperator {
        self.graph
            .operator(index)
            .map_or(BuiltinOperator::CUSTOM, |o| o.builtin())
    }

    /// The tensors operator `index` reads and writes (`None` if the model
    /// has no such operator). Out of line so that the scratch of binding
    /// (some 600 bytes) is not in `invoke`'s frame while the kernel runs: on
    /// the firmware that frame is part of the deepest stack.
    #[inline(never)]
    fn bind(&mut self, index: usize) -> Result<Option<EvalContext<'_>>, Error> {
        let Some(operator) = self.graph.operator(index) else {
            return Ok(None);
        };
        // A stand-in: `eval` puts the operator's code into any error that
        // names this operator (`Error::naming_op`).
        let op = BuiltinOperator::CUSTOM;
        let mut outputs = [(0usize, 0usize); MAX_OUTPUTS];
        let op_outputs = operator.outputs();
        let output_count = op_outputs.len().min(MAX_OUTPUTS);
        for (o, slot) in outputs.iter_mut().enumerate().take(output_count) {
            *slot = self.range(op_outputs.get(o).unwrap_or(usize::MAX));
        }
        // Inputs: constants from the model (or their aligned copies),
        // activations from the arena.
        let op_inputs = operator.inputs();
        let (offsets, lens, relocated, bytes) =
            (&*self.offsets, &*self.lens, self.relocated, self.bytes);
        let input = |i: usize| {
            let Some(t) = op_inputs.get(i) else {
                return Operand::None;
            };
            let offset = offsets.get(t).copied().unwrap_or(UNPLACED);
            let len = lens.get(t).copied().unwrap_or(0) as usize;
            if offset == UNPLACED {
                Operand::None
            } else if offset & (RELOCATED | CONSTANT) != 0 {
                let start = (offset & !(RELOCATED | CONSTANT)) as usize;
                let from = if offset & RELOCATED != 0 {
                    relocated
                } else {
                    bytes
                };
                Operand::Bytes(from.get(start..start + len).unwrap_or(&[]))
            } else {
                Operand::Arena {
                    start: offset as usize,
                    len,
                }
            }
        };
        bind(
            index as u32,
            op,
            &mut *self.activations,
            PersistentBytes::Writable(&mut *self.persistent),
            outputs.get(..output_count).unwrap_or(&[]),
            (op_inputs.len(), input),
        )
        .map(Some)
    }

    /// The arena range `(start, len)` of tensor `t`.
    fn range(&self, t: usize) -> (usize, usize) {
        range(self.offsets, self.lens, t)
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

/// Marks an offset-table entry of a constant as an offset into the
/// relocated constants.
const RELOCATED: u32 = 0x8000_0000;

/// Alignment of relocated constants.
const RELOCATED_ALIGN: usize = 16;

/// Constants wider than a byte whose data is not aligned to their element
/// size (a model embedded with `include_bytes!` has no alignment) are copied
/// to 16-byte-aligned places in `block`, and their offset-table entry records
/// where ([`RELOCATED`]). Returns the bytes `block` needs (call it first with
/// an empty block to learn that); copies only when `block` is that large.
fn relocate(graph: &Subgraph<'_>, block: &mut [u8], offsets: &mut [u32]) -> Result<usize, Error> {
    let skip = arena::align_skip(block, RELOCATED_ALIGN);
    let mut position = 0usize;
    for t in 0..graph.tensor_count() {
        let Some(tensor) = graph.tensor(t) else {
            continue;
        };
        let data = tensor.data();
        let width = tensor
            .dtype()
            .bytes_for(1)
            .unwrap_or(1)
            .clamp(1, RELOCATED_ALIGN);
        if data.is_empty() || width == 1 || (data.as_ptr() as usize).is_multiple_of(width) {
            continue;
        }
        let start = planner::align_up(position).ok_or(Error::BadShape { tensor: t as u32 })?;
        position = start + data.len();
        if let (Some(to), Some(slot)) = (
            block.get_mut(skip + start..skip + position),
            offsets.get_mut(t),
        ) {
            to.copy_from_slice(data);
            *slot = RELOCATED | (skip + start) as u32;
        }
    }
    Ok(if position == 0 {
        0
    } else {
        position + RELOCATED_ALIGN
    })
}

/// Marks an offset-table entry of a constant read from the model file.
const CONSTANT: u32 = 0x4000_0000;

/// Records, once, where every tensor's bytes are: for constants not
/// relocated, their offset in the model file ([`CONSTANT`]); for every
/// tensor, its length. `eval` then finds an operator's bytes without
/// reading the model's tables again.
fn index_tensors(
    graph: &Subgraph<'_>,
    file: &[u8],
    offsets: &mut [u32],
    lens: &mut [u32],
) -> Result<(), Error> {
    let base = file.as_ptr() as usize;
    for (t, (offset, len)) in offsets.iter_mut().zip(lens.iter_mut()).enumerate() {
        let Some(tensor) = graph.tensor(t) else {
            continue;
        };
        let bad = Error::BadShape { tensor: t as u32 };
        let data = tensor.data();
        if tensor.is_constant() {
            *len = u32::try_from(data.len()).map_err(|_| bad)?;
            if *offset == UNPLACED {
                let at = (data.as_ptr() as usize)
                    .checked_sub(base)
                    .filter(|at| *at < CONSTANT as usize)
                    .ok_or(bad)?;
                *offset = CONSTANT | at as u32;
            }
        } else if *offset != UNPLACED {
            *len = u32::try_from(tensor.byte_len()).map_err(|_| bad)?;
        }
    }
    Ok(())
}

/// The arena range `(start, len)` of tensor `t` (empty for tensors not in
/// the arena).
fn range(offsets: &[u32], lens: &[u32], t: usize) -> (usize, usize) {
    let offset = offsets.get(t).copied().unwrap_or(UNPLACED);
    if offset == UNPLACED || offset & (RELOCATED | CONSTANT) != 0 {
        return (0, 0);
    }
    (offset as usize, lens.get(t).copied().unwrap_or(0) as usize)
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
        options_tag: registration.options,
    };
    // A LUT-compressed tensor's buffer holds indices, not values: only the
    // ops that decode it may see it (one check here, not one per op).
    for i in 0..inputs {
        if let Some(tensor) = ctx.optional_input(i) {
            crate::ops::lut::refuse_elsewhere(&ctx, i, &tensor)?;
        }
    }
    let params = (registration.prepare)(&mut ctx)?;
    Ok(Node {
        params,
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
                alias: UNPLACED,
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
                alias: UNPLACED,
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
    alias_reshapes(graph, requests);
    Ok(())
}

/// Makes each RESHAPE whose input is an activation run in place: its output
/// becomes an alias of the input's buffer (of the input's root, for chains),
/// whose lifetime grows to cover the output's. Graph inputs, variables and
/// size mismatches keep their own bytes.
fn alias_reshapes(graph: &Subgraph<'_>, requests: &mut [Request]) {
    let is_graph_input = |t: usize| graph.inputs().iter().any(|i| usize::try_from(i) == Ok(t));
    for index in 0..graph.operator_count() {
        let Some(operator) = graph.operator(index) else {
            continue;
        };
        if operator.builtin() != BuiltinOperator::RESHAPE {
            continue;
        }
        let (Some(input), Some(output)) = (operator.inputs().get(0), operator.outputs().get(0))
        else {
            continue;
        };
        let (Some(a), Some(b)) = (graph.tensor(input), graph.tensor(output)) else {
            continue;
        };
        if a.is_constant()
            || a.is_variable()
            || b.is_variable()
            || is_graph_input(output)
            || a.byte_len() != b.byte_len()
            || input == output
        {
            continue;
        }
        let Some(&r_in) = requests.get(input) else {
            continue;
        };
        let root = if r_in.alias == UNPLACED {
            input
        } else {
            r_in.alias as usize
        };
        let Some(&r_out) = requests.get(output) else {
            continue;
        };
        let Some(r_root) = requests.get_mut(root) else {
            continue;
        };
        if r_out.size != r_root.size || r_out.alias != UNPLACED || r_root.size == 0 {
            continue;
        }
        r_root.first = r_root.first.min(r_out.first);
        r_root.last = r_root.last.max(r_out.last);
        if let Some(r) = requests.get_mut(output) {
            r.alias = root as u32;
        }
    }
}
