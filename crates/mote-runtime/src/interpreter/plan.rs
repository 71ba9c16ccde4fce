//! The interpreter's plan as the code generator reads it (feature `codegen`):
//! where every tensor is, the persistent bytes `prepare` left, and where each
//! operator's params are in them.

use super::{range, Interpreter, CONSTANT, RELOCATED};
use crate::ops::context::locate;
use crate::ops::Persistent;
use crate::planner::UNPLACED;

impl Interpreter<'_, '_> {
    /// The arena range `(start, len)` of activation tensor `t` (a graph
    /// input, output or intermediate); `None` for constants and tensors no
    /// operator uses.
    pub fn tensor_range(&self, t: usize) -> Option<(usize, usize)> {
        let offset = self.offsets.get(t).copied()?;
        if offset == UNPLACED || offset & (RELOCATED | CONSTANT) != 0 {
            return None;
        }
        Some(range(self.offsets, self.lens, t))
    }

    /// Bytes of the activations in use: the end of the highest tensor.
    pub fn activations_used(&self) -> usize {
        (0..self.offsets.len())
            .filter_map(|t| self.tensor_range(t))
            .map(|(start, len)| start + len)
            .max()
            .unwrap_or(0)
    }

    /// The persistent region as `prepare` left it: op params, per-channel
    /// data, initial state. [`Persistent`] handles count from its end.
    pub fn persistent_bytes(&self) -> &[u8] {
        self.persistent
    }

    /// The address of the persistent region's end modulo 8: its allocations
    /// are 8-byte aligned in absolute addresses, so a copy of it must end at
    /// an address with the same remainder to keep them aligned.
    pub fn persistent_end_misalignment(&self) -> usize {
        (self.persistent.as_ptr() as usize + self.persistent.len()) % 8
    }

    /// Where operator `index`'s params are in [`Interpreter::persistent_bytes`].
    pub fn params_handle(&self, index: usize) -> Option<Persistent> {
        self.nodes.get(index).map(|node| node.params)
    }

    /// The bytes of operator `index`'s params in
    /// [`Interpreter::persistent_bytes`] (their padding is whatever the host
    /// left there: a copy of the region should zero them).
    pub fn params_range(&self, index: usize) -> Option<core::ops::Range<usize>> {
        let handle = self.params_handle(index)?;
        locate(self.persistent.len(), handle)
    }
}
