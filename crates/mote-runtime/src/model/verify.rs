//! The parse-time walk: checks every part of a `.tflite` file once, so that the
//! views can read it afterwards without checks failing.
//!
//! What is checked: every table, vtable, vector and string lies inside the file;
//! every tensor, buffer, operator-code and subgraph index is in range; every
//! shape has non-negative dimensions, rank at most [`MAX_RANK`] and an element
//! count and byte size that fit `usize`; every constant buffer holds exactly
//! the bytes its tensor's shape and type need; per-channel quantization matches
//! its axis (a LUT-compressed tensor's buffer instead holds exactly its packed
//! indices, see `compression.rs`, which checks the `COMPRESSION_METADATA`);
//! every builtin options table's fields (scalars, vectors and their
//! strings, strings, sub-tables) lie inside the file, per the generated schema
//! table of its union tag (`options_schema.rs`).
//! A work budget proportional to the file size bounds the walk, so sub-objects
//! shared many times cannot make it slow.

use super::compression;
use super::operator::{self, code_field};
use super::options::{self, Union};
use super::subgraph::field as subgraph_field;
use super::tensor::{field as tensor_field, quant_field, read_shape};
use super::{buffer_bytes, field, Fault, Model, Table, TensorType, Vector, MAX_RANK};
use crate::error::{Error, Location};

/// Work units allowed per byte of file (each table, string and index checked costs one).
const BUDGET_PER_BYTE: usize = 2;

struct Walk<'a> {
    bytes: &'a [u8],
    budget: usize,
}

impl<'a> Walk<'a> {
    fn spend(&mut self, units: usize, at: Location, field: &'static str) -> Result<(), Error> {
        self.budget = self.budget.checked_sub(units).ok_or(Error::Malformed {
            at,
            field,
            fault: Fault::TooComplex,
        })?;
        Ok(())
    }
}

fn bad(at: Location, field: &'static str) -> impl Fn(Fault) -> Error {
    move |fault| Error::Malformed { at, field, fault }
}

fn index_in(at: Location, field: &'static str, index: i64, count: usize) -> Result<usize, Error> {
    usize::try_from(index)
        .ok()
        .filter(|i| *i < count)
        .ok_or(Error::IndexOutOfRange {
            at,
            field,
            index,
            count,
        })
}

/// Verifies `bytes` and returns the model.
pub(super) fn model(bytes: &[u8]) -> Result<Model<'_>, Error> {
    let at = Location::Model;
    let root = Table::root(bytes).map_err(bad(at, "root"))?;
    let version = root.u32(field::VERSION, 0).map_err(bad(at, "version"))?;
    if version != 3 {
        return Err(Error::UnsupportedSchemaVersion { version });
    }
    root.string(field::DESCRIPTION)
        .map_err(bad(at, "description"))?;
    let mut walk = Walk {
        bytes,
        budget: bytes.len().saturating_mul(BUDGET_PER_BYTE),
    };
    let vector = |id, name| root.vector_or_empty(id, 4).map_err(bad(at, name));
    // Each of the root's vectors must be well formed: `Model` finds them
    // again on every use and then reads them as verified.
    vector(field::OPERATOR_CODES, "operator_codes")?;
    let subgraphs = vector(field::SUBGRAPHS, "subgraphs")?;
    vector(field::BUFFERS, "buffers")?;
    vector(field::METADATA, "metadata")?;
    vector(field::SIGNATURE_DEFS, "signature_defs")?;
    let model = Model { root };
    if subgraphs.len() == 0 {
        return Err(Error::NoSubgraph);
    }
    buffers(&mut walk, &model)?;
    operator_codes(&mut walk, &model)?;
    for i in 0..model.list(field::SUBGRAPHS).len() {
        subgraph(&mut walk, &model, i)?;
    }
    metadata(&mut walk, &model)?;
    if cfg!(feature = "lut") {
        compression::verify(&model, |units, at| {
            walk.spend(units, at, "COMPRESSION_METADATA")
        })?;
    }
    signature_defs(&mut walk, &model)?;
    Ok(model)
}

fn buffers(walk: &mut Walk<'_>, model: &Model<'_>) -> Result<(), Error> {
    let list = model.list(field::BUFFERS);
    for i in 0..list.len() {
        let at = Location::Buffer(i as u32);
        walk.spend(1, at, "buffers")?;
        let table = list.table(i).map_err(bad(at, "buffers"))?;
        buffer_bytes(walk.bytes, table).map_err(bad(at, "data"))?;
    }
    Ok(())
}

fn operator_codes(walk: &mut Walk<'_>, model: &Model<'_>) -> Result<(), Error> {
    let list = model.list(field::OPERATOR_CODES);
    for i in 0..list.len() {
        let at = Location::OperatorCode(i as u32);
        walk.spend(1, at, "operator_codes")?;
        let table = list.table(i).map_err(bad(at, "operator_codes"))?;
        table
            .u8(code_field::DEPRECATED_BUILTIN_CODE, 0)
            .map_err(bad(at, "deprecated_builtin_code"))?;
        table
            .i32(code_field::BUILTIN_CODE, 0)
            .map_err(bad(at, "builtin_code"))?;
        table
            .i32(code_field::VERSION, 1)
            .map_err(bad(at, "version"))?;
        table
            .string(code_field::CUSTOM_CODE)
            .map_err(bad(at, "custom_code"))?;
    }
    Ok(())
}

fn subgraph(walk: &mut Walk<'_>, model: &Model<'_>, index: usize) -> Result<(), Error> {
    let at = Location::Subgraph(index as u32);
    walk.spend(1, at, "subgraphs")?;
    let table = model
        .list(field::SUBGRAPHS)
        .table(index)
        .map_err(bad(at, "subgraphs"))?;
    table
        .string(subgraph_field::NAME)
        .map_err(bad(at, "name"))?;
    let tensors = table
        .vector_or_empty(subgraph_field::TENSORS, 4)
        .map_err(bad(at, "tensors"))?;
    for t in 0..tensors.len() {
        tensor(walk, model, index, tensors, t)?;
    }
    let count = tensors.len();
    indices(
        walk,
        table,
        subgraph_field::INPUTS,
        at,
        "inputs",
        count,
        false,
    )?;
    indices(
        walk,
        table,
        subgraph_field::OUTPUTS,
        at,
        "outputs",
        count,
        false,
    )?;
    let operators = table
        .vector_or_empty(subgraph_field::OPERATORS, 4)
        .map_err(bad(at, "operators"))?;
    for o in 0..operators.len() {
        let at = Location::Operator(o as u32);
        walk.spend(1, at, "operators")?;
        let op = operators.table(o).map_err(bad(at, "operators"))?;
        let code = op
            .u32(operator::field::OPCODE_INDEX, 0)
            .map_err(bad(at, "opcode_index"))?;
        index_in(
            at,
            "opcode_index",
            i64::from(code),
            model.list(field::OPERATOR_CODES).len(),
        )?;
        indices(walk, op, operator::field::INPUTS, at, "inputs", count, true)?;
        indices(
            walk,
            op,
            operator::field::OUTPUTS,
            at,
            "outputs",
            count,
            false,
        )?;
        indices(
            walk,
            op,
            operator::field::INTERMEDIATES,
            at,
            "intermediates",
            count,
            false,
        )?;
        builtin_options(walk, op, at, Union::Builtin)?;
        builtin_options(walk, op, at, Union::Builtin2)?;
        operator::custom_options(walk.bytes, op).map_err(bad(at, "custom_options"))?;
    }
    Ok(())
}

/// Checks an operator's options table of `union` against the schema row of
/// its tag (`options::verify`): every scalar, vector (and each string or
/// table in it), string and sub-table lies inside the file. Unknown tags get
/// the table check only.
fn builtin_options(
    walk: &mut Walk<'_>,
    op: Table<'_>,
    at: Location,
    union: Union,
) -> Result<(), Error> {
    let (tag_id, table_id, tag_name, table_name) = match union {
        Union::Builtin => (
            operator::field::BUILTIN_OPTIONS_TYPE,
            operator::field::BUILTIN_OPTIONS,
            "builtin_options_type",
            "builtin_options",
        ),
        Union::Builtin2 => (
            operator::field::BUILTIN_OPTIONS_2_TYPE,
            operator::field::BUILTIN_OPTIONS_2,
            "builtin_options_2_type",
            "builtin_options_2",
        ),
    };
    let kind = op.u8(tag_id, 0).map_err(bad(at, tag_name))?;
    let Some(table) = op.table(table_id).map_err(bad(at, table_name))? else {
        return Ok(());
    };
    let work = options::verify(&table, union, kind).map_err(|(id, fault)| Error::Malformed {
        at,
        field: field_name(union, kind, id, table_name),
        fault,
    })?;
    walk.spend(work, at, table_name)?;
    Ok(())
}

/// The name of the options field a fault is in: the schema's field name with
/// the `names` feature, else the options table's (`builtin_options`), so a
/// firmware need not carry the schema's names.
#[cfg(feature = "names")]
fn field_name(union: Union, kind: u8, id: u16, table_name: &'static str) -> &'static str {
    options::field_name(union, kind, id).unwrap_or(table_name)
}

#[cfg(not(feature = "names"))]
fn field_name(_: Union, _: u8, _: u16, table_name: &'static str) -> &'static str {
    table_name
}

/// Checks an index list: in bounds, and each entry a valid tensor index (or
/// `-1`, for operator inputs, where it marks an omitted optional input).
fn indices(
    walk: &mut Walk<'_>,
    table: Table<'_>,
    id: u16,
    at: Location,
    name: &'static str,
    count: usize,
    allow_omitted: bool,
) -> Result<(), Error> {
    let list = table.vector_or_empty(id, 4).map_err(bad(at, name))?;
    walk.spend(list.len(), at, name)?;
    for i in 0..list.len() {
        let v = list.i32(i).map_err(bad(at, name))?;
        if !(allow_omitted && v == -1) {
            index_in(at, name, i64::from(v), count)?;
        }
    }
    Ok(())
}

fn tensor(
    walk: &mut Walk<'_>,
    model: &Model<'_>,
    subgraph: usize,
    tensors: Vector<'_>,
    index: usize,
) -> Result<(), Error> {
    let id = index as u32;
    let at = Location::Tensor(id);
    walk.spend(1, at, "tensors")?;
    let table = tensors.table(index).map_err(bad(at, "tensors"))?;
    let dims = table
        .vector_or_empty(tensor_field::SHAPE, 4)
        .map_err(bad(at, "shape"))?;
    walk.spend(dims.len(), at, "shape")?;
    if dims.len() > MAX_RANK {
        return Err(Error::BadShape { tensor: id });
    }
    let shape = read_shape(dims).ok_or(Error::BadShape { tensor: id })?;
    let elements = shape
        .dims()
        .iter()
        .try_fold(1usize, |n, d| n.checked_mul(*d))
        .ok_or(Error::BadShape { tensor: id })?;
    table
        .vector_or_empty(tensor_field::SHAPE_SIGNATURE, 4)
        .map_err(bad(at, "shape_signature"))?;
    let code = table.u8(tensor_field::TYPE, 0).map_err(bad(at, "type"))?;
    let dtype = TensorType::from_code(code).ok_or(Error::UnknownTensorType { tensor: id, code })?;
    // A fixed-width tensor's byte size must fit `usize` too, so every later
    // `elements * element size` is exact.
    if dtype.bytes_for(1).is_some() && dtype.bytes_for(elements).is_none() {
        return Err(Error::BadShape { tensor: id });
    }
    table.string(tensor_field::NAME).map_err(bad(at, "name"))?;
    table
        .u8(tensor_field::IS_VARIABLE, 0)
        .map_err(bad(at, "is_variable"))?;
    table
        .u8(tensor_field::HAS_RANK, 0)
        .map_err(bad(at, "has_rank"))?;
    let buffer = table
        .u32(tensor_field::BUFFER, 0)
        .map_err(bad(at, "buffer"))?;
    let buffer = index_in(
        at,
        "buffer",
        i64::from(buffer),
        model.list(field::BUFFERS).len().max(1),
    )?;
    let data = model
        .list(field::BUFFERS)
        .table(buffer)
        .ok()
        .map(|b| buffer_bytes(walk.bytes, b));
    if let Some(data) = data {
        let has = data
            .map_err(bad(Location::Buffer(buffer as u32), "data"))?
            .len();
        if has > 0 {
            if let Some(needs) = dtype.bytes_for(elements) {
                // A LUT-compressed tensor's buffer holds packed indices;
                // `compression::verify` checks its size.
                // (Without the `lut` feature such files fail here, and none of
                // the compression code is linked.)
                if has != needs
                    && !(cfg!(feature = "lut") && compression::describes(model, subgraph, index))
                {
                    return Err(Error::BufferSize {
                        tensor: id,
                        has,
                        needs,
                    });
                }
            } else if dtype.bytes_for(1).is_none() && dtype != TensorType::String {
                // Resource and variant tensors carry no constant data.
                return Err(Error::BufferSize {
                    tensor: id,
                    has,
                    needs: 0,
                });
            }
        }
    }
    if let Some(q) = table
        .table(tensor_field::QUANTIZATION)
        .map_err(bad(at, "quantization"))?
    {
        quantization(walk, q, at, id, &shape)?;
    }
    Ok(())
}

fn quantization(
    walk: &mut Walk<'_>,
    q: Table<'_>,
    at: Location,
    tensor: u32,
    shape: &super::Shape,
) -> Result<(), Error> {
    let scale = q
        .vector_or_empty(quant_field::SCALE, 4)
        .map_err(bad(at, "quantization.scale"))?;
    let zero = q
        .vector_or_empty(quant_field::ZERO_POINT, 8)
        .map_err(bad(at, "quantization.zero_point"))?;
    q.vector_or_empty(quant_field::MIN, 4)
        .map_err(bad(at, "quantization.min"))?;
    q.vector_or_empty(quant_field::MAX, 4)
        .map_err(bad(at, "quantization.max"))?;
    walk.spend(1, at, "quantization")?;
    let axis = q
        .i32(quant_field::QUANTIZED_DIMENSION, 0)
        .map_err(bad(at, "quantized_dimension"))?;
    if zero.len() != 0 && zero.len() != scale.len() {
        return Err(Error::BadQuantization { tensor });
    }
    // TensorFlow's converter writes per-channel biases whose quantized_dimension
    // is the filter's axis (3 on a rank-1 bias in person_detect.tflite).
    // TensorFlow Lite refuses such files; TensorFlow Lite Micro runs them, so we
    // accept an axis past the rank and let the op that uses the scales decide.
    if scale.len() > 1 {
        let axis = usize::try_from(axis).map_err(|_| Error::BadQuantization { tensor })?;
        if axis < shape.rank() && shape.dim(axis) != scale.len() {
            return Err(Error::BadQuantization { tensor });
        }
    }
    Ok(())
}

fn metadata(walk: &mut Walk<'_>, model: &Model<'_>) -> Result<(), Error> {
    let list = model.list(field::METADATA);
    for i in 0..list.len() {
        let at = Location::Metadata(i as u32);
        walk.spend(1, at, "metadata")?;
        let table = list.table(i).map_err(bad(at, "metadata"))?;
        table.string(0).map_err(bad(at, "name"))?;
        let buffer = table.u32(1, 0).map_err(bad(at, "buffer"))?;
        index_in(
            at,
            "buffer",
            i64::from(buffer),
            model.list(field::BUFFERS).len(),
        )?;
    }
    Ok(())
}

fn signature_defs(walk: &mut Walk<'_>, model: &Model<'_>) -> Result<(), Error> {
    let list = model.list(field::SIGNATURE_DEFS);
    for i in 0..list.len() {
        let at = Location::SignatureDef(i as u32);
        walk.spend(1, at, "signature_defs")?;
        let table = list.table(i).map_err(bad(at, "signature_defs"))?;
        table.string(2).map_err(bad(at, "signature_key"))?;
        let sub = table.u32(4, 0).map_err(bad(at, "subgraph_index"))?;
        let sub = index_in(
            at,
            "subgraph_index",
            i64::from(sub),
            model.list(field::SUBGRAPHS).len(),
        )?;
        let count = model
            .list(field::SUBGRAPHS)
            .table(sub)
            .and_then(|s| s.vector_or_empty(subgraph_field::TENSORS, 4))
            .map_err(bad(at, "subgraph_index"))?
            .len();
        for (id, name) in [(0u16, "inputs"), (1, "outputs")] {
            let maps = table.vector_or_empty(id, 4).map_err(bad(at, name))?;
            walk.spend(maps.len(), at, name)?;
            for m in 0..maps.len() {
                let map = maps.table(m).map_err(bad(at, name))?;
                map.string(0).map_err(bad(at, name))?;
                let tensor = map.u32(1, 0).map_err(bad(at, name))?;
                index_in(at, name, i64::from(tensor), count)?;
            }
        }
    }
    Ok(())
}
