//! What an op's `prepare` and `eval` see of the model and the arena.

use super::BuiltinOperator;
use crate::arena::{self, Plain};
use crate::error::Error;
use crate::model::{Operator, Options, Subgraph, Tensor, TensorType};

/// The most inputs an operator may have (UNIDIRECTIONAL_SEQUENCE_LSTM has 24).
pub const MAX_INPUTS: usize = 24;
/// The most outputs an operator may have.
pub const MAX_OUTPUTS: usize = 4;

/// Bytes an operator set aside in `prepare` (per-channel multipliers, state),
/// found again in `eval`. Kept at the arena's tail for the interpreter's life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Persistent {
    /// Distance of the allocation's start from the end of the persistent region.
    from_end: u32,
    /// Its length in bytes.
    len: u32,
}

impl Persistent {
    /// Rebuilds a handle from its fields (for code `mote-codegen` generates).
    #[doc(hidden)]
    pub const fn from_literal(from_end: u32, len: u32) -> Self {
        Persistent { from_end, len }
    }

    /// The handle's fields: distance from the region's end, length.
    #[cfg(feature = "codegen")]
    pub(crate) fn parts(self) -> (u32, u32) {
        (self.from_end, self.len)
    }
}

impl Persistent {
    /// No bytes.
    pub const EMPTY: Persistent = Persistent {
        from_end: 0,
        len: 0,
    };
}

/// Hands out persistent bytes from the end of a region, growing downwards.
#[derive(Debug)]
pub(crate) struct PersistentAllocator<'a> {
    region: &'a mut [u8],
    used: usize,
}

/// Alignment of every persistent allocation.
const PERSISTENT_ALIGN: usize = 8;

impl<'a> PersistentAllocator<'a> {
    pub(crate) fn new(region: &'a mut [u8]) -> Self {
        PersistentAllocator { region, used: 0 }
    }

    /// A view for one operator's `prepare`.
    pub(crate) fn borrow(&mut self) -> PersistentRegion<'_> {
        PersistentRegion {
            region: &mut *self.region,
            used: &mut self.used,
        }
    }

    /// Splits the region into what is left (for activations) and the persistent bytes.
    pub(crate) fn split(self) -> (&'a mut [u8], &'a mut [u8]) {
        let at = self.region.len() - self.used;
        self.region.split_at_mut(at)
    }
}

/// The persistent region as one `prepare` sees it.
#[derive(Debug)]
pub(crate) struct PersistentRegion<'p> {
    region: &'p mut [u8],
    used: &'p mut usize,
}

impl PersistentRegion<'_> {
    fn allocate(&mut self, len: usize) -> Option<(Persistent, &mut [u8])> {
        let total = self.region.len();
        let end_addr = (self.region.as_ptr() as usize).checked_add(total)?;
        // The start address, aligned down, of `len` more bytes below those used.
        let start_addr =
            end_addr.checked_sub(self.used.checked_add(len)?)? & !(PERSISTENT_ALIGN - 1);
        let from_end = end_addr.checked_sub(start_addr)?;
        let start = total.checked_sub(from_end)?;
        *self.used = from_end;
        let bytes = self.region.get_mut(start..start + len)?;
        Some((
            Persistent {
                from_end: u32::try_from(from_end).ok()?,
                len: u32::try_from(len).ok()?,
            },
            bytes,
        ))
    }
}

/// Finds a persistent allocation inside the region it came from.
pub(crate) fn locate(region_len: usize, p: Persistent) -> Option<core::ops::Range<usize>> {
    let start = region_len.checked_sub(p.from_end as usize)?;
    Some(start..start.checked_add(p.len as usize)?)
}

/// Reads back params that `store_params::<T>` put at `p` in `persistent`
/// (the whole persistent region).
///
/// # Safety
/// `p` must come from `store_params::<T>` with the same `T`.
#[cfg(feature = "codegen")]
pub(crate) unsafe fn load_params<T: Copy>(persistent: &[u8], p: Persistent) -> Option<T> {
    let bytes = locate(persistent.len(), p).and_then(|r| persistent.get(r))?;
    // SAFETY: forwarded from the caller.
    unsafe { arena::load::<T>(bytes) }
}

/// An operator as its `prepare` sees it: its tensors, options and index, and
/// the arena's persistent bytes.
#[derive(Debug)]
pub struct PrepareContext<'m, 'p> {
    pub(crate) index: u32,
    pub(crate) op: BuiltinOperator,
    pub(crate) operator: Operator<'m>,
    pub(crate) graph: Subgraph<'m>,
    pub(crate) persistent: PersistentRegion<'p>,
    /// The op's `BuiltinOptions` tag ([`super::OpRegistration::options`]).
    pub(crate) options_tag: u8,
}

impl<'m, 'p> PrepareContext<'m, 'p> {
    /// Sets aside `count` values of `T`, zeroed, that live as long as the
    /// interpreter: fill them here, read them in `eval` with
    /// [`EvalContext::persistent`].
    pub fn persistent<T: Plain>(&mut self, count: usize) -> Result<(Persistent, &mut [T]), Error> {
        let len = count
            .checked_mul(core::mem::size_of::<T>())
            .ok_or(self.invalid("persistent data too large"))?;
        let needed = self.persistent.used.saturating_add(len);
        let available = self.persistent.region.len();
        let (handle, bytes) = self
            .persistent
            .allocate(len)
            .ok_or(Error::ArenaTooSmall { needed, available })?;
        bytes.fill(0);
        let values = arena::cast_mut(bytes).ok_or(Error::InvalidOp {
            index: self.index,
            op: self.op,
            reason: "persistent data alignment",
        })?;
        Ok((handle, values))
    }

    /// Stores the operator's params in the persistent region, exactly their size.
    pub(crate) fn store_params<T: Copy>(&mut self, params: T) -> Result<Persistent, Error> {
        let len = core::mem::size_of::<T>();
        let needed = self.persistent.used.saturating_add(len);
        let available = self.persistent.region.len();
        if core::mem::align_of::<T>() > PERSISTENT_ALIGN {
            return Err(self.invalid("params need more than 8-byte alignment"));
        }
        let (handle, bytes) = self
            .persistent
            .allocate(len)
            .ok_or(Error::ArenaTooSmall { needed, available })?;
        arena::store(bytes, params).ok_or(self.invalid("params alignment"))?;
        Ok(handle)
    }

    /// The operator's index in execution order.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Number of input slots (omitted optional inputs included).
    pub fn input_count(&self) -> usize {
        self.operator.inputs().len()
    }

    /// Number of outputs.
    pub fn output_count(&self) -> usize {
        self.operator.outputs().len()
    }

    /// Input `i`, which must be present.
    pub fn input(&self, i: usize) -> Result<Tensor<'m>, Error> {
        self.optional_input(i)
            .ok_or(self.invalid("a required input is missing"))
    }

    /// Input `i`, or `None` if the operator omits it (`-1`) or has fewer inputs.
    pub fn optional_input(&self, i: usize) -> Option<Tensor<'m>> {
        self.operator
            .inputs()
            .get(i)
            .and_then(|t| self.graph.tensor(t))
    }

    /// Output `i`.
    pub fn output(&self, i: usize) -> Result<Tensor<'m>, Error> {
        self.operator
            .outputs()
            .get(i)
            .and_then(|t| self.graph.tensor(t))
            .ok_or(self.invalid("a required output is missing"))
    }

    /// The operator's builtin options (absent, every field its default, when
    /// the table is not of this op's options type).
    pub fn options(&self) -> Options<'m> {
        let options = self.operator.options();
        // A table of another type is as good as none: TensorFlow Lite
        // Micro's parsers read it through `builtin_options_as_X()`, which is
        // null for another type, and keep the defaults. So do we.
        if options.kind() != self.options_tag {
            return Options::absent();
        }
        options
    }

    /// An [`Error::InvalidOp`] for this operator.
    pub fn invalid(&self, reason: &'static str) -> Error {
        Error::InvalidOp {
            index: self.index,
            op: self.op,
            reason,
        }
    }

    /// An [`Error::UnsupportedType`] for this operator.
    pub fn unsupported_type(&self, dtype: TensorType) -> Error {
        Error::UnsupportedType {
            index: self.index,
            op: self.op,
            dtype,
        }
    }

    /// The per-tensor `(scale, zero_point)` of `tensor`; an error if it is
    /// not quantized, its scale is not a positive finite number, or its zero
    /// point does not fit `i32`.
    pub fn quantization(&self, tensor: &Tensor<'_>) -> Result<(f32, i32), Error> {
        let q = tensor
            .quantization()
            .ok_or(self.invalid("a quantized tensor has no quantization"))?;
        let scale = q.scale(0);
        let zero_point =
            i32::try_from(q.zero_point(0)).map_err(|_| self.invalid("zero point out of range"))?;
        if !(scale.is_finite() && scale > 0.0) {
            return Err(self.invalid("scale must be positive and finite"));
        }
        Ok((scale, zero_point))
    }

    /// Checks that constant `tensor` holds exactly its elements of `T`, so
    /// that `eval` can read it as `T` (the interpreter gives misaligned
    /// constants an aligned copy). Activations always fit.
    pub fn expect_readable<T: Plain>(&self, tensor: &Tensor<'m>) -> Result<(), Error> {
        let expected = tensor
            .shape()
            .elements()
            .checked_mul(core::mem::size_of::<T>());
        if tensor.is_constant() && expected != Some(tensor.data().len()) {
            return Err(self.invalid("constant data does not match its shape"));
        }
        Ok(())
    }

    /// Checks a weights tensor and its optional bias: their types are `W` and
    /// `B`, and their constant bytes can be read as such.
    pub fn expect_weights<W: crate::Element, B: crate::Element>(
        &self,
        weights: &Tensor<'m>,
        bias: Option<&Tensor<'m>>,
    ) -> Result<(), Error> {
        self.expect_type(weights, W::TYPE)?;
        self.expect_readable::<W>(weights)?;
        if let Some(bias) = bias {
            self.expect_type(bias, B::TYPE)?;
            self.expect_readable::<B>(bias)?;
        }
        Ok(())
    }

    /// The float clamp range of fused activation `code` (none, ReLU, ReLU-N1-to-1
    /// or ReLU6); an error for the others.
    pub fn float_activation(&self, code: u8) -> Result<(f32, f32), Error> {
        super::activation::Activation::from_code(code)
            .and_then(super::activation::Activation::float_range)
            .ok_or(self.invalid("unsupported fused activation"))
    }

    /// Checks that `tensor` has type `dtype`.
    pub fn expect_type(&self, tensor: &Tensor<'_>, dtype: TensorType) -> Result<(), Error> {
        if tensor.dtype() == dtype {
            Ok(())
        } else {
            Err(self.unsupported_type(tensor.dtype()))
        }
    }
}

/// The persistent bytes an operator's `eval` sees: writable (the
/// interpreter, and generated code of a model with state), or read-only
/// (generated code of a model without state, whose per-channel data then
/// stays in flash). Ops that keep state get nothing writable from read-only
/// bytes; the code generator passes them only when no op of the model keeps
/// state ([`OpRegistration::stateful`](super::OpRegistration)).
#[derive(Debug)]
pub enum PersistentBytes<'x> {
    /// Bytes `eval` may change (an op's state).
    Writable(&'x mut [u8]),
    /// Bytes `eval` only reads.
    ReadOnly(&'x [u8]),
}

impl PersistentBytes<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            PersistentBytes::Writable(bytes) => bytes,
            PersistentBytes::ReadOnly(bytes) => bytes,
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            PersistentBytes::Writable(bytes) => bytes,
            PersistentBytes::ReadOnly(_) => &mut [],
        }
    }
}

impl<'x> From<&'x mut [u8]> for PersistentBytes<'x> {
    fn from(bytes: &'x mut [u8]) -> Self {
        PersistentBytes::Writable(bytes)
    }
}

impl<'x> From<&'x [u8]> for PersistentBytes<'x> {
    fn from(bytes: &'x [u8]) -> Self {
        PersistentBytes::ReadOnly(bytes)
    }
}

/// An operator as its `eval` sees it: the bytes of its inputs (constants from
/// the model, activations from the arena) and of its outputs.
#[derive(Debug)]
pub struct EvalContext<'x> {
    pub(crate) index: u32,
    pub(crate) op: BuiltinOperator,
    pub(crate) inputs: [&'x [u8]; MAX_INPUTS],
    pub(crate) outputs: [&'x mut [u8]; MAX_OUTPUTS],
    pub(crate) persistent: PersistentBytes<'x>,
}

impl<'x> EvalContext<'x> {
    /// The values `prepare` set aside with [`PrepareContext::persistent`].
    pub fn persistent<T: Plain>(&self, p: Persistent) -> &[T] {
        let persistent = self.persistent.bytes();
        locate(persistent.len(), p)
            .and_then(|r| persistent.get(r))
            .and_then(arena::cast)
            .unwrap_or(&[])
    }

    /// A copy of the params `prepare` stored with `store_params`.
    ///
    /// # Safety
    /// `p` must come from `store_params::<T>` with the same `T` (the op table's
    /// generated code pairs them).
    pub(crate) unsafe fn params<T: Copy>(&self, p: Persistent) -> Result<T, Error> {
        let persistent = self.persistent.bytes();
        let bytes = locate(persistent.len(), p).and_then(|r| persistent.get(r));
        // SAFETY: forwarded from the caller.
        bytes
            .and_then(|b| unsafe { arena::load::<T>(b) })
            .ok_or(Error::InvalidOp {
                index: self.index,
                op: self.op,
                reason: "operator params are missing",
            })
    }

    /// The values `prepare` set aside, for ops that keep state across invokes.
    pub fn persistent_mut<T: Plain>(&mut self, p: Persistent) -> &mut [T] {
        let persistent = self.persistent.bytes_mut();
        let bytes = match locate(persistent.len(), p).and_then(|r| persistent.get_mut(r)) {
            Some(bytes) => bytes,
            None => return &mut [],
        };
        arena::cast_mut(bytes).unwrap_or(&mut [])
    }

    /// The bytes of input `i` (empty for an omitted input).
    pub fn input(&self, i: usize) -> &'x [u8] {
        self.inputs.get(i).copied().unwrap_or(&[])
    }

    /// Output `o` as `O` together with persistent values `p` as `P`.
    pub fn output_and_persistent<O: Plain, P: Plain>(
        &mut self,
        o: usize,
        p: Persistent,
    ) -> (&mut [O], &[P]) {
        let bytes = self.persistent.bytes();
        let persistent = locate(bytes.len(), p)
            .and_then(|r| bytes.get(r))
            .and_then(arena::cast)
            .unwrap_or(&[]);
        let output = match self.outputs.get_mut(o) {
            Some(out) => arena::cast_mut(out).unwrap_or(&mut []),
            None => &mut [],
        };
        (output, persistent)
    }

    /// Output `o` as `O` together with persistent values `p` as `P` and `q`
    /// as `Q`.
    pub fn output_and_two_persistent<O: Plain, P: Plain, Q: Plain>(
        &mut self,
        o: usize,
        p: Persistent,
        q: Persistent,
    ) -> (&mut [O], &[P], &[Q]) {
        let bytes = self.persistent.bytes();
        let range = |h| locate(bytes.len(), h).and_then(|r| bytes.get(r));
        let first = range(p).and_then(arena::cast::<P>).unwrap_or(&[]);
        let second = range(q).and_then(arena::cast::<Q>).unwrap_or(&[]);
        let output = match self.outputs.get_mut(o) {
            Some(out) => arena::cast_mut(out).unwrap_or(&mut []),
            None => &mut [],
        };
        (output, first, second)
    }

    /// Output `o` as `O` together with persistent values `p` as `P`, both
    /// writable (for ops that keep state across invokes).
    pub fn output_and_persistent_mut<O: Plain, P: Plain>(
        &mut self,
        o: usize,
        p: Persistent,
    ) -> (&mut [O], &mut [P]) {
        let bytes = self.persistent.bytes_mut();
        let persistent = match locate(bytes.len(), p).and_then(|r| bytes.get_mut(r)) {
            Some(bytes) => arena::cast_mut(bytes).unwrap_or(&mut []),
            None => &mut [],
        };
        let output = match self.outputs.get_mut(o) {
            Some(out) => arena::cast_mut(out).unwrap_or(&mut []),
            None => &mut [],
        };
        (output, persistent)
    }

    /// Input `i` and output `o` at once (most kernels need exactly this).
    pub fn io(&mut self, i: usize, o: usize) -> (&'x [u8], &mut [u8]) {
        let input = self.input(i);
        (input, self.output(o))
    }

    /// Input `i` as `T` (empty if `prepare` did not check it readable).
    pub fn input_as<T: Plain>(&self, i: usize) -> &'x [T] {
        arena::cast(self.input(i)).unwrap_or(&[])
    }

    /// Output `o` as `T` (empty if misaligned, which planned memory never is).
    pub fn output_as<T: Plain>(&mut self, o: usize) -> &mut [T] {
        arena::cast_mut(self.output(o)).unwrap_or(&mut [])
    }

    /// Input `i` as `I` and output `o` as `O` at once.
    pub fn io_as<I: Plain, O: Plain>(&mut self, i: usize, o: usize) -> (&'x [I], &mut [O]) {
        let input = self.input_as::<I>(i);
        (input, self.output_as::<O>(o))
    }

    /// The bytes of output `o`.
    pub fn output(&mut self, o: usize) -> &mut [u8] {
        match self.outputs.get_mut(o) {
            Some(out) => out,
            None => &mut [],
        }
    }

    /// An [`Error::InvalidOp`] for this operator, found while running it.
    pub fn invalid_data(&self, reason: &'static str) -> Error {
        Error::InvalidOp {
            index: self.index,
            op: self.op,
            reason,
        }
    }
}

/// Where one input of an operator is, as [`bind`] hands it to `eval`.
#[derive(Clone, Copy, Debug)]
pub enum Operand<'x> {
    /// An omitted optional input: `eval` sees no bytes.
    None,
    /// Bytes outside the activations: a constant.
    Bytes(&'x [u8]),
    /// `len` bytes of the activations from `start`.
    Arena {
        /// First byte.
        start: usize,
        /// Length in bytes.
        len: usize,
    },
}

/// Builds the [`EvalContext`] of operator `index`: carves its outputs (the
/// arena ranges `outputs`, in the operator's order) out of `activations`, and
/// its inputs (`input(i)` for each of `input_count`) out of what is left. An input with exactly an output's range
/// is one buffer with it (a RESHAPE in place): the op sees the input as
/// empty. Overlapping outputs, or an input that overlaps an output in any
/// other way, are refused. The interpreter and generated code both call it.
#[inline(always)]
pub(crate) fn bind<'x>(
    index: u32,
    op: BuiltinOperator,
    activations: &'x mut [u8],
    persistent: PersistentBytes<'x>,
    outputs: &[(usize, usize)],
    (input_count, input): (usize, impl Fn(usize) -> Operand<'x>),
) -> Result<EvalContext<'x>, Error> {
    let invalid = |reason| Error::InvalidOp { index, op, reason };
    // More than MAX_OUTPUTS outputs or MAX_INPUTS inputs cannot come here:
    // `prepare` refuses such operators (and the generator never emits them);
    // the extra ones would be left empty.
    // Output ranges in ascending order, with their slot.
    let mut ranges = [(0usize, 0usize, 0usize); MAX_OUTPUTS];
    for (o, (slot, &(start, len))) in ranges.iter_mut().zip(outputs).enumerate() {
        *slot = (start, len, o);
    }
    let ranges = ranges.get_mut(..outputs.len()).unwrap_or(&mut []);
    // Insertion sort: at most MAX_OUTPUTS entries (a general sort would cost
    // the firmware flash for nothing).
    for i in 1..ranges.len() {
        let mut j = i;
        while j > 0 && ranges.get(j - 1) > ranges.get(j) {
            ranges.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut out_slices: [&mut [u8]; MAX_OUTPUTS] = [&mut [], &mut [], &mut [], &mut []];
    // The read-only pieces between the outputs, each with its start.
    let mut pieces: [(usize, &[u8]); MAX_OUTPUTS + 1] = [(0, &[]); MAX_OUTPUTS + 1];
    let mut rest: &mut [u8] = activations;
    let mut cursor = 0usize;
    for (k, &(start, len, o)) in ranges.iter().enumerate() {
        let gap = start.checked_sub(cursor).ok_or(invalid(
            "an output overlaps another or lies outside the arena",
        ))?;
        let taken = core::mem::take(&mut rest);
        if gap.saturating_add(len) > taken.len() {
            return Err(invalid(
                "an output overlaps another or lies outside the arena",
            ));
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
    let mut in_slices: [&[u8]; MAX_INPUTS] = [&[]; MAX_INPUTS];
    for (i, slot) in in_slices.iter_mut().enumerate().take(input_count) {
        match input(i) {
            Operand::None => {}
            Operand::Bytes(bytes) => *slot = bytes,
            Operand::Arena { start, len } => {
                if len > 0 && ranges.iter().any(|&(s, l, _)| s == start && l == len) {
                    continue;
                }
                *slot = pieces
                    .iter()
                    .find_map(|(base, piece)| {
                        let from = start.checked_sub(*base)?;
                        piece.get(from..from.checked_add(len)?)
                    })
                    .ok_or(invalid("an input shares memory with an output"))?;
            }
        }
    }
    Ok(EvalContext {
        index,
        op,
        inputs: in_slices,
        outputs: out_slices,
        persistent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persistent_allocations_are_aligned_disjoint_and_found_again() {
        let mut storage = [0u64; 16];
        // SAFETY (test): view the u64 storage as bytes.
        let bytes: &mut [u8] =
            unsafe { core::slice::from_raw_parts_mut(storage.as_mut_ptr().cast(), 128) };
        let mut allocator = PersistentAllocator::new(&mut bytes[3..]);
        let mut region = allocator.borrow();
        let (a, a_bytes) = region.allocate(5).unwrap();
        a_bytes.fill(1);
        let (b, b_bytes) = region.allocate(12).unwrap();
        b_bytes.fill(2);
        assert_eq!(b_bytes.as_ptr() as usize % PERSISTENT_ALIGN, 0);
        let (rest, region) = allocator.split();
        assert!(rest.len() + region.len() == 125);
        assert_eq!(&region[locate(region.len(), a).unwrap()], &[1; 5]);
        assert_eq!(&region[locate(region.len(), b).unwrap()], &[2; 12]);
    }
}
