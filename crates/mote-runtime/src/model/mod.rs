//! A verified, zero-copy reader for `.tflite` models.
//!
//! [`Model::parse`] walks the whole file once and checks every offset, vtable,
//! vector length, string, index and constant-buffer size (see `verify.rs`).
//! After that the views ([`Subgraph`], [`Tensor`], [`Operator`]) read straight
//! from the bytes with infallible accessors; the file is never copied.
//!
//! Field ids follow TensorFlow Lite's `schema.fbs`; each view names the table it
//! reads.

mod builtin_operator;
mod compression;
mod flatbuffer;
mod operator;
pub mod options;
mod options_schema;
mod subgraph;
mod tensor;
mod tensor_type;
mod verify;

pub use builtin_operator::BuiltinOperator;
pub(crate) use compression::index as lut_index;
pub use compression::{Lut, MAX_BITS as LUT_MAX_BITS, METADATA_NAME as COMPRESSION_METADATA};
pub use flatbuffer::Fault;
pub(crate) use flatbuffer::{Table, Vector};
pub use operator::{OpCode, Operator};
pub use options::{FieldValue, Options};
pub use subgraph::{Indices, Subgraph};
pub use tensor::{Quantization, Shape, Tensor, MAX_RANK};
pub use tensor_type::TensorType;

use crate::error::Error;

/// Field ids of the `Model` table.
mod field {
    pub const VERSION: u16 = 0;
    pub const OPERATOR_CODES: u16 = 1;
    pub const SUBGRAPHS: u16 = 2;
    pub const DESCRIPTION: u16 = 3;
    pub const BUFFERS: u16 = 4;
    pub const METADATA: u16 = 6;
    pub const SIGNATURE_DEFS: u16 = 7;
}

/// Field ids of the `Buffer` table.
mod buffer_field {
    pub const DATA: u16 = 0;
    pub const OFFSET: u16 = 1;
    pub const SIZE: u16 = 2;
}

/// A verified `.tflite` model, borrowing the file's bytes.
///
/// Only the root table is kept; its vectors (subgraphs, buffers, ...) are
/// found again on each use. Every tensor and operator view holds a copy of
/// its model, so keeping the model small keeps them small: with the five
/// vectors inline a `Tensor` took 148 bytes on a 32-bit target, and the
/// parse and prepare frames on the firmware's stack held dozens of them.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    root: Table<'a>,
}

impl<'a> Model<'a> {
    /// Verifies `bytes` as a `.tflite` model. Every later accessor relies on this
    /// check and cannot fail.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        verify::model(bytes)
    }

    /// The raw bytes of the file.
    pub fn bytes(&self) -> &'a [u8] {
        self.root.bytes()
    }

    /// The root table's vector `id` (verified by `parse`; empty if absent).
    fn list(&self, id: u16) -> Vector<'a> {
        self.root
            .vector_or_empty(id, 4)
            .unwrap_or(Vector::EMPTY_TABLES)
    }

    /// The schema version (always 3 for a parsed model).
    pub fn version(&self) -> u32 {
        self.root.u32(field::VERSION, 0).unwrap_or(0)
    }

    /// The model's description string ("MLIR Converted." for TensorFlow's converter).
    pub fn description(&self) -> &'a str {
        self.root
            .string(field::DESCRIPTION)
            .ok()
            .flatten()
            .unwrap_or("")
    }

    /// Number of subgraphs (at least one).
    pub fn subgraph_count(&self) -> usize {
        self.list(field::SUBGRAPHS).len()
    }

    /// Subgraph `index`.
    pub fn subgraph(&self, index: usize) -> Option<Subgraph<'a>> {
        let table = self.list(field::SUBGRAPHS).table(index).ok()?;
        Some(Subgraph::new(*self, table))
    }

    /// The main subgraph (subgraph 0), the one the interpreter runs.
    pub fn main(&self) -> Subgraph<'a> {
        let table = self.list(field::SUBGRAPHS).table(0).unwrap_or(Table::EMPTY);
        Subgraph::new(*self, table)
    }

    /// Number of entries in the operator-code table.
    pub fn operator_code_count(&self) -> usize {
        self.list(field::OPERATOR_CODES).len()
    }

    /// Entry `index` of the operator-code table.
    pub fn operator_code(&self, index: usize) -> Option<OpCode<'a>> {
        self.list(field::OPERATOR_CODES)
            .table(index)
            .ok()
            .map(OpCode::from_table)
    }

    /// Number of buffers.
    pub fn buffer_count(&self) -> usize {
        self.list(field::BUFFERS).len()
    }

    /// The bytes of buffer `index`: stored inline, or after the FlatBuffer
    /// through its offset and size. Empty for buffer 0 and for unknown indices.
    pub fn buffer(&self, index: usize) -> &'a [u8] {
        let Ok(table) = self.list(field::BUFFERS).table(index) else {
            return &[];
        };
        buffer_bytes(self.bytes(), table).unwrap_or(&[])
    }

    /// Metadata entries as `(name, buffer bytes)`.
    pub fn metadata(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        let (model, entries) = (*self, self.list(field::METADATA));
        (0..entries.len()).filter_map(move |i| {
            let table = entries.table(i).ok()?;
            let name = table.string(0).ok().flatten().unwrap_or("");
            let buffer = table.u32(1, 0).ok()? as usize;
            Some((name, model.buffer(buffer)))
        })
    }

    /// Number of signature definitions.
    pub fn signature_count(&self) -> usize {
        self.list(field::SIGNATURE_DEFS).len()
    }

    /// Signature `index`: its key and subgraph index.
    pub fn signature(&self, index: usize) -> Option<Signature<'a>> {
        self.list(field::SIGNATURE_DEFS)
            .table(index)
            .ok()
            .map(|table| Signature { table })
    }
}

/// A signature definition: named inputs and outputs of a subgraph.
#[derive(Clone, Copy, Debug)]
pub struct Signature<'a> {
    table: Table<'a>,
}

impl<'a> Signature<'a> {
    /// The signature's key (`"serving_default"`).
    pub fn key(&self) -> &'a str {
        self.table.string(2).ok().flatten().unwrap_or("")
    }

    /// The subgraph it runs.
    pub fn subgraph_index(&self) -> u32 {
        self.table.u32(4, 0).unwrap_or(0)
    }

    /// Its inputs as `(name, tensor index)`.
    pub fn inputs(&self) -> impl Iterator<Item = (&'a str, u32)> + 'a {
        tensor_maps(self.table, 0)
    }

    /// Its outputs as `(name, tensor index)`.
    pub fn outputs(&self) -> impl Iterator<Item = (&'a str, u32)> + 'a {
        tensor_maps(self.table, 1)
    }
}

fn tensor_maps<'a>(table: Table<'a>, id: u16) -> impl Iterator<Item = (&'a str, u32)> + 'a {
    let maps = table.vector_or_empty(id, 4).unwrap_or(Vector::EMPTY_TABLES);
    (0..maps.len()).filter_map(move |i| {
        let map = maps.table(i).ok()?;
        Some((
            map.string(0).ok().flatten().unwrap_or(""),
            map.u32(1, 0).ok()?,
        ))
    })
}

/// The bytes a `Buffer` table points at, inline or through offset/size.
fn buffer_bytes<'a>(file: &'a [u8], table: Table<'a>) -> Result<&'a [u8], Fault> {
    let offset = table.u64(buffer_field::OFFSET, 0)?;
    // The schema: offset/size are "only valid if > 1"; they locate data stored
    // after the FlatBuffer, relative to the start of the file.
    if offset > 1 {
        let size = table.u64(buffer_field::SIZE, 0)?;
        let start = usize::try_from(offset).map_err(|_| Fault::OutOfBounds)?;
        let len = usize::try_from(size).map_err(|_| Fault::OutOfBounds)?;
        let end = start.checked_add(len).ok_or(Fault::OutOfBounds)?;
        return file.get(start..end).ok_or(Fault::OutOfBounds);
    }
    Ok(table.vector_or_empty(buffer_field::DATA, 1)?.bytes())
}
