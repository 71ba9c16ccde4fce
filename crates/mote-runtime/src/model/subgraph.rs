//! Subgraphs (`SubGraph` table) and index lists.

use super::{Model, Operator, Table, Tensor, Vector};

/// Field ids of the `SubGraph` table.
pub(super) mod field {
    pub const TENSORS: u16 = 0;
    pub const INPUTS: u16 = 1;
    pub const OUTPUTS: u16 = 2;
    pub const OPERATORS: u16 = 3;
    pub const NAME: u16 = 4;
}

/// A subgraph: tensors, operators in execution order, and the graph's inputs and outputs.
#[derive(Clone, Copy, Debug)]
pub struct Subgraph<'a> {
    model: Model<'a>,
    table: Table<'a>,
    tensors: Vector<'a>,
    operators: Vector<'a>,
}

impl<'a> Subgraph<'a> {
    pub(super) fn new(model: Model<'a>, table: Table<'a>) -> Self {
        let empty = Vector::EMPTY_TABLES;
        Subgraph {
            model,
            table,
            tensors: table.vector_or_empty(field::TENSORS, 4).unwrap_or(empty),
            operators: table.vector_or_empty(field::OPERATORS, 4).unwrap_or(empty),
        }
    }

    /// The model this subgraph belongs to.
    pub fn model(&self) -> Model<'a> {
        self.model
    }

    /// The subgraph's name.
    pub fn name(&self) -> &'a str {
        self.table.string(field::NAME).ok().flatten().unwrap_or("")
    }

    /// Number of tensors.
    pub fn tensor_count(&self) -> usize {
        self.tensors.len()
    }

    /// Tensor `index`.
    pub fn tensor(&self, index: usize) -> Option<Tensor<'a>> {
        self.tensors
            .table(index)
            .ok()
            .map(|t| Tensor::new(self.model, t))
    }

    /// Number of operators.
    pub fn operator_count(&self) -> usize {
        self.operators.len()
    }

    /// Operator `index`, in execution order.
    pub fn operator(&self, index: usize) -> Option<Operator<'a>> {
        self.operators
            .table(index)
            .ok()
            .map(|t| Operator::new(self.model, t))
    }

    /// Indices of the graph's input tensors.
    pub fn inputs(&self) -> Indices<'a> {
        Indices::field(self.table, field::INPUTS)
    }

    /// Indices of the graph's output tensors.
    pub fn outputs(&self) -> Indices<'a> {
        Indices::field(self.table, field::OUTPUTS)
    }
}

/// A list of tensor indices (`[int]` in the schema); `-1` marks an omitted
/// optional operator input.
#[derive(Clone, Copy, Debug)]
pub struct Indices<'a>(Vector<'a>);

impl<'a> Indices<'a> {
    pub(super) fn field(table: Table<'a>, id: u16) -> Self {
        Indices(table.vector_or_empty(id, 4).unwrap_or(Vector::EMPTY_TABLES))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// Entry `i` as written (`-1` for an omitted input).
    pub fn raw(&self, i: usize) -> Option<i32> {
        self.0.i32(i).ok()
    }

    /// Entry `i` as a tensor index, or `None` if absent or omitted (`-1`).
    pub fn get(&self, i: usize) -> Option<usize> {
        self.raw(i).and_then(|v| usize::try_from(v).ok())
    }

    /// The entries as written.
    pub fn iter(&self) -> impl Iterator<Item = i32> + 'a {
        let v = self.0;
        (0..v.len()).map(move |i| v.i32(i).unwrap_or(-1))
    }
}
