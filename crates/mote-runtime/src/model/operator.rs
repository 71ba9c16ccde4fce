//! Operators (`Operator` and `OperatorCode` tables) and their options.

use super::options::{Options, Union};
use super::{BuiltinOperator, Fault, Indices, Model, Table};

/// Field ids of the `Operator` table.
pub(super) mod field {
    pub const OPCODE_INDEX: u16 = 0;
    pub const INPUTS: u16 = 1;
    pub const OUTPUTS: u16 = 2;
    pub const BUILTIN_OPTIONS_TYPE: u16 = 3;
    pub const BUILTIN_OPTIONS: u16 = 4;
    pub const CUSTOM_OPTIONS: u16 = 5;
    pub const INTERMEDIATES: u16 = 8;
    pub const LARGE_CUSTOM_OPTIONS_OFFSET: u16 = 9;
    pub const LARGE_CUSTOM_OPTIONS_SIZE: u16 = 10;
    pub const BUILTIN_OPTIONS_2_TYPE: u16 = 11;
    pub const BUILTIN_OPTIONS_2: u16 = 12;
}

/// Field ids of the `OperatorCode` table.
pub(super) mod code_field {
    pub const DEPRECATED_BUILTIN_CODE: u16 = 0;
    pub const CUSTOM_CODE: u16 = 1;
    pub const VERSION: u16 = 2;
    pub const BUILTIN_CODE: u16 = 3;
}

/// An entry of the model's operator-code table: which operator, and which version of it.
#[derive(Clone, Copy, Debug)]
pub struct OpCode<'a> {
    table: Table<'a>,
}

impl<'a> OpCode<'a> {
    pub(super) fn from_table(table: Table<'a>) -> Self {
        OpCode { table }
    }

    /// The builtin operator, resolved as TensorFlow Lite does: the larger of
    /// `builtin_code` and `deprecated_builtin_code` (old files only set the
    /// latter, new files set both, codes past 127 only fit the former).
    pub fn builtin(&self) -> BuiltinOperator {
        let deprecated = self
            .table
            .u8(code_field::DEPRECATED_BUILTIN_CODE, 0)
            .unwrap_or(0) as i8;
        let code = self.table.i32(code_field::BUILTIN_CODE, 0).unwrap_or(0);
        BuiltinOperator(code.max(i32::from(deprecated)))
    }

    /// The custom operator's name, for `CUSTOM` operators.
    pub fn custom_name(&self) -> Option<&'a str> {
        if self.builtin() != BuiltinOperator::CUSTOM {
            return None;
        }
        self.table.string(code_field::CUSTOM_CODE).ok().flatten()
    }

    /// The operator's version.
    pub fn version(&self) -> i32 {
        self.table.i32(code_field::VERSION, 1).unwrap_or(1)
    }
}

/// One operator of a subgraph.
#[derive(Clone, Copy, Debug)]
pub struct Operator<'a> {
    model: Model<'a>,
    table: Table<'a>,
}

impl<'a> Operator<'a> {
    pub(super) fn new(model: Model<'a>, table: Table<'a>) -> Self {
        Operator { model, table }
    }

    /// Index into the model's operator-code table.
    pub fn opcode_index(&self) -> usize {
        self.table.u32(field::OPCODE_INDEX, 0).unwrap_or(0) as usize
    }

    /// The operator's code entry.
    pub fn code(&self) -> Option<OpCode<'a>> {
        self.model.operator_code(self.opcode_index())
    }

    /// The builtin operator (`CUSTOM` for custom ops).
    pub fn builtin(&self) -> BuiltinOperator {
        self.code().map_or(BuiltinOperator::CUSTOM, |c| c.builtin())
    }

    /// Input tensor indices (`-1` = omitted optional input).
    pub fn inputs(&self) -> Indices<'a> {
        Indices::field(self.table, field::INPUTS)
    }

    /// Output tensor indices.
    pub fn outputs(&self) -> Indices<'a> {
        Indices::field(self.table, field::OUTPUTS)
    }

    /// Intermediate tensor indices (used by some quantized recurrent ops).
    pub fn intermediates(&self) -> Indices<'a> {
        Indices::field(self.table, field::INTERMEDIATES)
    }

    /// The builtin options (`builtin_options`, union `BuiltinOptions`).
    pub fn options(&self) -> Options<'a> {
        Options {
            union: Union::Builtin,
            kind: self.table.u8(field::BUILTIN_OPTIONS_TYPE, 0).unwrap_or(0),
            table: self.table.table(field::BUILTIN_OPTIONS).ok().flatten(),
        }
    }

    /// The second builtin options (`builtin_options_2`, union
    /// `BuiltinOptions2`, used by StableHLO ops).
    pub fn options2(&self) -> Options<'a> {
        Options {
            union: Union::Builtin2,
            kind: self.table.u8(field::BUILTIN_OPTIONS_2_TYPE, 0).unwrap_or(0),
            table: self.table.table(field::BUILTIN_OPTIONS_2).ok().flatten(),
        }
    }

    /// The custom options bytes (a flexbuffer for most custom ops), inline or
    /// stored after the FlatBuffer.
    pub fn custom_options(&self) -> &'a [u8] {
        custom_options(self.model.bytes(), self.table).unwrap_or(&[])
    }
}

/// Reads an operator's custom options, verifying their bounds.
pub(super) fn custom_options<'a>(file: &'a [u8], table: Table<'a>) -> Result<&'a [u8], Fault> {
    let offset = table.u64(field::LARGE_CUSTOM_OPTIONS_OFFSET, 0)?;
    if offset > 1 {
        let size = table.u64(field::LARGE_CUSTOM_OPTIONS_SIZE, 0)?;
        let start = usize::try_from(offset).map_err(|_| Fault::OutOfBounds)?;
        let len = usize::try_from(size).map_err(|_| Fault::OutOfBounds)?;
        let end = start.checked_add(len).ok_or(Fault::OutOfBounds)?;
        return file.get(start..end).ok_or(Fault::OutOfBounds);
    }
    Ok(table.vector_or_empty(field::CUSTOM_OPTIONS, 1)?.bytes())
}
