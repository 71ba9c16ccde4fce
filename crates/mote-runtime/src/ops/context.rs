//! What an op's `prepare` and `eval` see of the model and the arena.

use super::BuiltinOperator;
use crate::error::Error;
use crate::model::{Operator, Options, Subgraph, Tensor, TensorType};

/// The most inputs an operator may have (UNIDIRECTIONAL_SEQUENCE_LSTM has 24).
pub const MAX_INPUTS: usize = 24;
/// The most outputs an operator may have.
pub const MAX_OUTPUTS: usize = 4;

/// An operator as its `prepare` sees it: its tensors, options and index.
#[derive(Clone, Copy, Debug)]
pub struct PrepareContext<'m> {
    pub(crate) index: u32,
    pub(crate) op: BuiltinOperator,
    pub(crate) operator: Operator<'m>,
    pub(crate) graph: Subgraph<'m>,
}

impl<'m> PrepareContext<'m> {
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

    /// The operator's builtin options.
    pub fn options(&self) -> Options<'m> {
        self.operator.options()
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

    /// Checks that `tensor` has type `dtype`.
    pub fn expect_type(&self, tensor: &Tensor<'_>, dtype: TensorType) -> Result<(), Error> {
        if tensor.dtype() == dtype {
            Ok(())
        } else {
            Err(self.unsupported_type(tensor.dtype()))
        }
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
}

impl<'x> EvalContext<'x> {
    /// The bytes of input `i` (empty for an omitted input).
    pub fn input(&self, i: usize) -> &'x [u8] {
        self.inputs.get(i).copied().unwrap_or(&[])
    }

    /// Input `i` and output `o` at once (most kernels need exactly this).
    pub fn io(&mut self, i: usize, o: usize) -> (&'x [u8], &mut [u8]) {
        let input = self.input(i);
        (input, self.output(o))
    }

    /// The bytes of output `o`.
    pub fn output(&mut self, o: usize) -> &mut [u8] {
        match self.outputs.get_mut(o) {
            Some(out) => out,
            None => &mut [],
        }
    }

    /// The error for an op whose stored params belong to another op (a bug).
    pub(crate) fn mismatched_data(&self) -> Error {
        Error::InvalidOp {
            index: self.index,
            op: self.op,
            reason: "params belong to another op",
        }
    }
}
