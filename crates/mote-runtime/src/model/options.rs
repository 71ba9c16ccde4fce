//! Builtin options tables, read typed through the generated schema table
//! (`options_schema.rs`): every field of every options table has a known id,
//! type and default, so each can be verified at parse time, printed and copied.

use super::options_schema::{BUILTIN_OPTIONS, BUILTIN_OPTIONS_2};
use super::{Fault, Indices, Table, Vector};

/// A scalar value of an options field; the variant is the field's type.
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum Value {
    Bool(bool),
    I8(i8),
    U8(u8),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    F32(f32),
    F64(f64),
}

impl Value {
    /// Bytes the value takes in a table or a vector.
    pub const fn size(&self) -> usize {
        match self {
            Value::Bool(_) | Value::I8(_) | Value::U8(_) => 1,
            Value::I16(_) | Value::U16(_) => 2,
            Value::I32(_) | Value::U32(_) | Value::F32(_) => 4,
            Value::I64(_) | Value::U64(_) | Value::F64(_) => 8,
        }
    }

    /// The value as an `i64` (floats truncated, `u64` past `i64::MAX` wrapped).
    pub fn as_i64(&self) -> i64 {
        match *self {
            Value::Bool(v) => i64::from(v),
            Value::I8(v) => i64::from(v),
            Value::U8(v) => i64::from(v),
            Value::I16(v) => i64::from(v),
            Value::U16(v) => i64::from(v),
            Value::I32(v) => i64::from(v),
            Value::U32(v) => i64::from(v),
            Value::I64(v) => v,
            Value::U64(v) => v as i64,
            Value::F32(v) => v as i64,
            Value::F64(v) => v as i64,
        }
    }

    /// The value's little-endian bits, zero-extended (what the file stores).
    pub fn bits(&self) -> u64 {
        match *self {
            Value::Bool(v) => u64::from(v),
            Value::I8(v) => u64::from(v as u8),
            Value::U8(v) => u64::from(v),
            Value::I16(v) => u64::from(v as u16),
            Value::U16(v) => u64::from(v),
            Value::I32(v) => u64::from(v as u32),
            Value::U32(v) => u64::from(v),
            Value::I64(v) => v as u64,
            Value::U64(v) => v,
            Value::F32(v) => u64::from(v.to_bits()),
            Value::F64(v) => v.to_bits(),
        }
    }

    /// A value of the same type as `self` from the stored bits `raw`.
    fn with_bits(&self, raw: u64) -> Value {
        match self {
            Value::Bool(_) => Value::Bool(raw as u8 != 0),
            Value::I8(_) => Value::I8(raw as u8 as i8),
            Value::U8(_) => Value::U8(raw as u8),
            Value::I16(_) => Value::I16(raw as u16 as i16),
            Value::U16(_) => Value::U16(raw as u16),
            Value::I32(_) => Value::I32(raw as u32 as i32),
            Value::U32(_) => Value::U32(raw as u32),
            Value::I64(_) => Value::I64(raw as i64),
            Value::U64(_) => Value::U64(raw),
            Value::F32(_) => Value::F32(f32::from_bits(raw as u32)),
            Value::F64(_) => Value::F64(f64::from_bits(raw)),
        }
    }

    /// Reads a value of `self`'s type from a table field (absent: `self`).
    fn read_field(&self, table: &Table<'_>, id: u16) -> Result<Value, Fault> {
        let default = self.bits();
        let raw = match self.size() {
            1 => u64::from(table.u8(id, default as u8)?),
            2 => u64::from(table.u16(id, default as u16)?),
            4 => u64::from(table.u32(id, default as u32)?),
            _ => table.u64(id, default)?,
        };
        Ok(self.with_bits(raw))
    }
}

impl core::fmt::Display for Value {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Value::Bool(v) => write!(f, "{v}"),
            Value::I8(v) => write!(f, "{v}"),
            Value::U8(v) => write!(f, "{v}"),
            Value::I16(v) => write!(f, "{v}"),
            Value::U16(v) => write!(f, "{v}"),
            Value::I32(v) => write!(f, "{v}"),
            Value::U32(v) => write!(f, "{v}"),
            Value::I64(v) => write!(f, "{v}"),
            Value::U64(v) => write!(f, "{v}"),
            Value::F32(v) => write!(f, "{v:?}"),
            Value::F64(v) => write!(f, "{v:?}"),
        }
    }
}

/// The element type of a vector field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Elem {
    Bool,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
    /// An offset to a string.
    String,
    /// An offset to a table.
    Table,
}

impl Elem {
    /// Bytes per element.
    pub const fn size(&self) -> usize {
        match self {
            Elem::Bool | Elem::I8 | Elem::U8 => 1,
            Elem::I16 | Elem::U16 => 2,
            Elem::I32 | Elem::U32 | Elem::F32 | Elem::String | Elem::Table => 4,
            Elem::I64 | Elem::U64 | Elem::F64 => 8,
        }
    }

    /// A zero value of this element type, or `None` for strings and tables.
    pub fn zero(&self) -> Option<Value> {
        Some(match self {
            Elem::Bool => Value::Bool(false),
            Elem::I8 => Value::I8(0),
            Elem::U8 => Value::U8(0),
            Elem::I16 => Value::I16(0),
            Elem::U16 => Value::U16(0),
            Elem::I32 => Value::I32(0),
            Elem::U32 => Value::U32(0),
            Elem::I64 => Value::I64(0),
            Elem::U64 => Value::U64(0),
            Elem::F32 => Value::F32(0.0),
            Elem::F64 => Value::F64(0.0),
            Elem::String | Elem::Table => return None,
        })
    }
}

/// The type of an options field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldType {
    /// An inline scalar; the value is the field's default.
    Scalar(Value),
    /// A vector of elements.
    Vector(Elem),
    /// A string.
    String,
    /// A sub-table (read as present or absent only).
    Table,
}

/// One field of an options table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FieldDef {
    /// The field id (its slot in the vtable).
    pub id: u16,
    /// The field's name in `schema.fbs`.
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
}

/// An options table type: its name and fields, in id order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptionsTable {
    /// The table's name in `schema.fbs` (`Conv2DOptions`).
    pub name: &'static str,
    /// Its fields.
    pub fields: &'static [FieldDef],
}

/// Which options union an operator field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Union {
    /// `builtin_options` (`BuiltinOptions`).
    Builtin,
    /// `builtin_options_2` (`BuiltinOptions2`).
    Builtin2,
}

impl Union {
    /// The table type for union tag `kind`, if the schema defines one.
    pub fn table(self, kind: u8) -> Option<&'static OptionsTable> {
        let list: &'static [Option<OptionsTable>] = match self {
            Union::Builtin => &BUILTIN_OPTIONS,
            Union::Builtin2 => &BUILTIN_OPTIONS_2,
        };
        list.get(usize::from(kind))?.as_ref()
    }
}

/// A vector field of an options table.
#[derive(Clone, Copy, Debug)]
pub struct OptionVector<'a> {
    vector: Vector<'a>,
    elem: Elem,
}

impl<'a> OptionVector<'a> {
    /// The element type.
    pub fn elem(&self) -> Elem {
        self.elem
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.vector.len()
    }

    /// Whether the vector is empty.
    pub fn is_empty(&self) -> bool {
        self.vector.len() == 0
    }

    /// Element `i` of a scalar vector.
    pub fn value(&self, i: usize) -> Option<Value> {
        let zero = self.elem.zero()?;
        let raw = match self.elem.size() {
            1 => u64::from(self.vector.u8(i).ok()?),
            2 => u64::from(self.vector.u16(i).ok()?),
            4 => u64::from(self.vector.u32(i).ok()?),
            _ => self.vector.u64(i).ok()?,
        };
        Some(zero.with_bits(raw))
    }

    /// Element `i` of a vector of strings.
    pub fn string(&self, i: usize) -> Option<&'a str> {
        (self.elem == Elem::String)
            .then(|| self.vector.string(i).ok())
            .flatten()
    }
}

/// The value of one options field.
#[derive(Clone, Copy, Debug)]
pub enum FieldValue<'a> {
    /// A scalar (its default when the file omits it).
    Scalar(Value),
    /// A vector.
    Vector(OptionVector<'a>),
    /// A string.
    String(&'a str),
    /// A sub-table is present.
    Table,
    /// An absent vector, string or sub-table.
    Absent,
}

/// An operator's builtin options table (one of the `BuiltinOptions` or
/// `BuiltinOptions2` union), read by field id. Absent options read as their
/// defaults, as the format specifies.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    pub(super) union: Union,
    pub(super) kind: u8,
    pub(super) table: Option<Table<'a>>,
}

impl<'a> Options<'a> {
    /// No builtin options: every field reads as its default.
    pub fn absent() -> Self {
        Options {
            union: Union::Builtin,
            kind: 0,
            table: None,
        }
    }

    /// The union's type tag (`BuiltinOptions` enum value; 0 = none).
    pub fn kind(&self) -> u8 {
        self.kind
    }

    /// Which union this is.
    pub fn union(&self) -> Union {
        self.union
    }

    /// Whether the operator has an options table.
    pub fn is_present(&self) -> bool {
        self.table.is_some()
    }

    /// The schema of this options table, if its tag is known.
    pub fn schema(&self) -> Option<&'static OptionsTable> {
        self.union.table(self.kind)
    }

    /// A byte/bool/enum field.
    pub fn u8(&self, id: u16, default: u8) -> u8 {
        self.table
            .and_then(|t| t.u8(id, default).ok())
            .unwrap_or(default)
    }

    /// A bool field.
    pub fn bool(&self, id: u16) -> bool {
        self.u8(id, 0) != 0
    }

    /// An `i32` field.
    pub fn i32(&self, id: u16, default: i32) -> i32 {
        self.table
            .and_then(|t| t.i32(id, default).ok())
            .unwrap_or(default)
    }

    /// An `f32` field.
    pub fn f32(&self, id: u16, default: f32) -> f32 {
        self.table
            .and_then(|t| t.f32(id, default).ok())
            .unwrap_or(default)
    }

    /// An `[int]` field (empty when absent); a fault if it points outside the file.
    pub fn i32s(&self, id: u16) -> Result<Indices<'a>, Fault> {
        if let Some(t) = self.table {
            t.vector(id, 4)?;
            return Ok(Indices::field(t, id));
        }
        Ok(Indices::field(Table::EMPTY, id))
    }

    /// The value of field `field` (verified at parse time, so never a fault
    /// for a parsed model's own schema fields).
    pub fn value(&self, field: &FieldDef) -> FieldValue<'a> {
        let table = self.table.unwrap_or(Table::EMPTY);
        read(&table, field).unwrap_or(FieldValue::Absent)
    }

    /// Every field of the table's schema with its value, in id order (empty
    /// for an unknown tag).
    pub fn fields(&self) -> impl Iterator<Item = (&'static FieldDef, FieldValue<'a>)> + 'a {
        let options = *self;
        let fields: &'static [FieldDef] = self.schema().map_or(&[], |s| s.fields);
        fields.iter().map(move |f| (f, options.value(f)))
    }
}

/// Reads `field` from `table`, checking its bounds.
fn read<'a>(table: &Table<'a>, field: &FieldDef) -> Result<FieldValue<'a>, Fault> {
    Ok(match field.ty {
        FieldType::Scalar(default) => FieldValue::Scalar(default.read_field(table, field.id)?),
        FieldType::Vector(elem) => match table.vector(field.id, elem.size())? {
            Some(vector) => FieldValue::Vector(OptionVector { vector, elem }),
            None => FieldValue::Absent,
        },
        FieldType::String => match table.string(field.id)? {
            Some(s) => FieldValue::String(s),
            None => FieldValue::Absent,
        },
        FieldType::Table => match table.table(field.id)? {
            Some(_) => FieldValue::Table,
            None => FieldValue::Absent,
        },
    })
}

/// How the parse-time walk checks one field, a byte per field id: what the
/// verification needs of the schema (no names, no defaults), so a device
/// carries a few hundred bytes instead of the whole schema table. Derived at
/// compile time from the schema rows, so the two cannot disagree.
mod check {
    /// No field with this id (a gap, or past the table's last field).
    pub const ABSENT: u8 = 0;
    // 1, 2, 4, 8: an inline scalar of that many bytes.
    /// A vector of scalars; the low bits are the element size.
    pub const VECTOR: u8 = 0x10;
    /// A vector of strings.
    pub const STRINGS: u8 = 0x20;
    /// A vector of tables.
    pub const TABLES: u8 = 0x30;
    /// A string.
    pub const STRING: u8 = 0x40;
    /// A sub-table.
    pub const TABLE: u8 = 0x50;
}

const fn check_of(ty: FieldType) -> u8 {
    match ty {
        FieldType::Scalar(v) => v.size() as u8,
        FieldType::Vector(Elem::String) => check::STRINGS,
        FieldType::Vector(Elem::Table) => check::TABLES,
        FieldType::Vector(e) => check::VECTOR | e.size() as u8,
        FieldType::String => check::STRING,
        FieldType::Table => check::TABLE,
    }
}

/// Check bytes one union's rows need: the last field id + 1 of each row.
// Evaluated by the compiler only (in the initializers of `CHECKS`, `STARTS_1`
// and `STARTS_2`): an index out of range would fail the build, never panic at
// run time.
#[allow(clippy::indexing_slicing)]
const fn slot_count(rows: &[Option<OptionsTable>]) -> usize {
    let mut n = 0;
    let mut r = 0;
    while r < rows.len() {
        if let Some(row) = &rows[r] {
            if let Some(last) = row.fields.last() {
                n += last.id as usize + 1;
            }
        }
        r += 1;
    }
    n
}

/// Where each row's check bytes start in [`CHECKS`] (and, at index `len`,
/// where the union's end), for a union whose bytes start at `base`.
// Evaluated by the compiler only (in the initializers of `CHECKS`, `STARTS_1`
// and `STARTS_2`): an index out of range would fail the build, never panic at
// run time.
#[allow(clippy::indexing_slicing)]
const fn starts<const N: usize>(rows: &[Option<OptionsTable>], base: usize) -> [u16; N] {
    let mut out = [0u16; N];
    let mut at = base;
    let mut r = 0;
    while r < N {
        out[r] = at as u16;
        if r < rows.len() {
            if let Some(row) = &rows[r] {
                if let Some(last) = row.fields.last() {
                    at += last.id as usize + 1;
                }
            }
        }
        r += 1;
    }
    out
}

const SLOTS_1: usize = slot_count(&BUILTIN_OPTIONS);
const SLOTS_2: usize = slot_count(&BUILTIN_OPTIONS_2);
const ROWS_1: usize = BUILTIN_OPTIONS.len();
const ROWS_2: usize = BUILTIN_OPTIONS_2.len();

/// The check bytes of every row of both unions, row after row.
// Evaluated by the compiler only (in the initializers of `CHECKS`, `STARTS_1`
// and `STARTS_2`): an index out of range would fail the build, never panic at
// run time.
#[allow(clippy::indexing_slicing)]
static CHECKS: [u8; SLOTS_1 + SLOTS_2] = {
    let mut out = [check::ABSENT; SLOTS_1 + SLOTS_2];
    let unions: [&[Option<OptionsTable>]; 2] = [&BUILTIN_OPTIONS, &BUILTIN_OPTIONS_2];
    let mut at = 0;
    let mut u = 0;
    while u < 2 {
        let rows = unions[u];
        let mut r = 0;
        while r < rows.len() {
            if let Some(row) = &rows[r] {
                let mut f = 0;
                while f < row.fields.len() {
                    let field = row.fields[f];
                    out[at + field.id as usize] = check_of(field.ty);
                    f += 1;
                }
                if let Some(last) = row.fields.last() {
                    at += last.id as usize + 1;
                }
            }
            r += 1;
        }
        u += 1;
    }
    out
};
static STARTS_1: [u16; ROWS_1 + 1] = starts(&BUILTIN_OPTIONS, 0);
static STARTS_2: [u16; ROWS_2 + 1] = starts(&BUILTIN_OPTIONS_2, SLOTS_1);
// The starts are u16s.
const _: () = assert!(SLOTS_1 + SLOTS_2 <= u16::MAX as usize);

/// The check bytes of union `union`'s tag `kind` (field id `i` at index `i`;
/// empty for an unknown tag).
fn checks(union: Union, kind: u8) -> &'static [u8] {
    let starts: &'static [u16] = match union {
        Union::Builtin => &STARTS_1,
        Union::Builtin2 => &STARTS_2,
    };
    let k = usize::from(kind);
    match (starts.get(k), starts.get(k + 1)) {
        (Some(&start), Some(&end)) => CHECKS.get(usize::from(start)..usize::from(end)),
        _ => None,
    }
    .unwrap_or(&[])
}

/// Verifies every field of the options table of union `union`'s tag `kind`
/// against the schema: every scalar, vector (and each string or table in
/// it), string and sub-table lies inside the file. Returns the work done
/// (fields plus vector elements checked) or the failing field id and fault.
pub(super) fn verify(table: &Table<'_>, union: Union, kind: u8) -> Result<usize, (u16, Fault)> {
    let mut work = 0usize;
    for (id, &check) in (0u16..).zip(checks(union, kind)) {
        let fail = |fault| (id, fault);
        let vector = match check {
            check::ABSENT => continue,
            1 => table.u8(id, 0).map(|_| None),
            2 => table.u16(id, 0).map(|_| None),
            4 => table.u32(id, 0).map(|_| None),
            8 => table.u64(id, 0).map(|_| None),
            check::STRING => table.string(id).map(|_| None),
            check::TABLE => table.table(id).map(|_| None),
            check::STRINGS | check::TABLES => table.vector(id, 4),
            _ => table.vector(id, usize::from(check & 0xF)),
        }
        .map_err(fail)?;
        work = work.saturating_add(1);
        let Some(vector) = vector else { continue };
        work = work.saturating_add(vector.len());
        for i in 0..vector.len() {
            match check {
                check::STRINGS => vector.string(i).map(|_| ()),
                check::TABLES => vector.table(i).map(|_| ()),
                _ => break,
            }
            .map_err(fail)?;
        }
    }
    Ok(work)
}

/// The schema name of field `id` of union `union`'s tag `kind`, for error
/// messages (`None` if the schema has no such field).
#[cfg(feature = "names")]
pub(super) fn field_name(union: Union, kind: u8, id: u16) -> Option<&'static str> {
    let row = union.table(kind)?;
    row.fields.iter().find(|f| f.id == id).map(|f| f.name)
}

impl core::fmt::Display for Options<'_> {
    /// `Conv2DOptions { padding: 1, stride_w: 2, ... }`: every scalar (its
    /// default if absent) and every present vector, string or sub-table;
    /// `-` for no options.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Some(schema) = self.schema() else {
            return match self.kind {
                0 => f.write_str("-"),
                kind => write!(f, "options #{kind}"),
            };
        };
        f.write_str(schema.name)?;
        if schema.fields.is_empty() {
            return Ok(());
        }
        f.write_str(" {")?;
        let present = self
            .fields()
            .filter(|(_, value)| !matches!(value, FieldValue::Absent));
        for (i, (field, value)) in present.enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{}: ", field.name)?;
            match value {
                FieldValue::Scalar(v) => write!(f, "{v}")?,
                FieldValue::String(s) => write!(f, "{s:?}")?,
                FieldValue::Table => f.write_str("{..}")?,
                FieldValue::Absent => f.write_str("none")?,
                FieldValue::Vector(v) => {
                    f.write_str("[")?;
                    for i in 0..v.len() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        match (v.value(i), v.string(i)) {
                            (Some(x), _) => write!(f, "{x}")?,
                            (None, Some(s)) => write!(f, "{s:?}")?,
                            (None, None) => f.write_str("{..}")?,
                        }
                    }
                    f.write_str("]")?;
                }
            }
        }
        f.write_str(" }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_tags_name_their_tables() {
        assert_eq!(Union::Builtin.table(0), None, "tag 0 is NONE");
        let conv = Union::Builtin.table(1).unwrap();
        assert_eq!(conv.name, "Conv2DOptions");
        // dilation_w_factor: field 4, an int defaulting to 1.
        assert_eq!(
            conv.fields[4],
            FieldDef {
                id: 4,
                name: "dilation_w_factor",
                ty: FieldType::Scalar(Value::I32(1))
            }
        );
        assert_eq!(
            Union::Builtin.table(8).unwrap().name,
            "FullyConnectedOptions"
        );
        assert_eq!(
            Union::Builtin2.table(1).unwrap().name,
            "StablehloConcatenateOptions"
        );
        assert_eq!(Union::Builtin.table(255), None);
    }

    #[test]
    fn every_schema_row_lists_its_fields_once_in_id_order() {
        for table in BUILTIN_OPTIONS.iter().chain(&BUILTIN_OPTIONS_2).flatten() {
            let ids: Vec<u16> = table.fields.iter().map(|f| f.id).collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "{}", table.name);
        }
    }

    #[test]
    fn the_check_bytes_are_the_schema_rows() {
        for (union, rows) in [
            (Union::Builtin, &BUILTIN_OPTIONS[..]),
            (Union::Builtin2, &BUILTIN_OPTIONS_2[..]),
        ] {
            for (kind, row) in rows.iter().enumerate() {
                let checks = checks(union, kind as u8);
                let fields = row.map_or(&[][..], |r| r.fields);
                let len = fields.last().map_or(0, |f| usize::from(f.id) + 1);
                assert_eq!(checks.len(), len, "{union:?} {kind}");
                for (id, &c) in checks.iter().enumerate() {
                    let expected = fields
                        .iter()
                        .find(|f| usize::from(f.id) == id)
                        .map_or(check::ABSENT, |f| check_of(f.ty));
                    assert_eq!(c, expected, "{union:?} {kind} field {id}");
                }
            }
            assert!(checks(union, 255).is_empty());
        }
        // Conv2DOptions: padding (i8), stride_w, stride_h (i32), ...
        assert_eq!(&checks(Union::Builtin, 1)[..3], &[1, 4, 4]);
        // ReshapeOptions.new_shape: a vector of i32.
        let reshape = Union::Builtin.table(17).unwrap();
        assert_eq!(reshape.name, "ReshapeOptions");
        assert_eq!(checks(Union::Builtin, 17), &[check::VECTOR | 4]);
        #[cfg(feature = "names")]
        {
            assert_eq!(field_name(Union::Builtin, 1, 2), Some("stride_h"));
            assert_eq!(field_name(Union::Builtin, 1, 40), None);
        }
    }

    #[test]
    fn values_keep_their_bits() {
        // -2 as an i8 is stored as the byte 0xFE; read back as an i8 it is -2.
        assert_eq!(Value::I8(-2).bits(), 0xFE);
        assert_eq!(Value::I8(0).with_bits(0xFE), Value::I8(-2));
        assert_eq!(Value::F32(0.0).with_bits(0x3FC0_0000), Value::F32(1.5));
        assert_eq!(Value::I64(0).with_bits(u64::MAX).as_i64(), -1);
        assert_eq!(Elem::String.zero(), None);
        assert_eq!(Elem::I64.size(), 8);
    }

    #[test]
    fn absent_options_print_as_a_dash() {
        let none = Options {
            union: Union::Builtin,
            kind: 0,
            table: None,
        };
        assert_eq!(std::format!("{none}"), "-");
        let unknown = Options {
            union: Union::Builtin,
            kind: 250,
            table: None,
        };
        assert_eq!(std::format!("{unknown}"), "options #250");
        // A known tag without a table: its scalars at their defaults.
        let softmax = Options {
            union: Union::Builtin,
            kind: 9,
            table: None,
        };
        assert_eq!(std::format!("{softmax}"), "SoftmaxOptions { beta: 0.0 }");
    }
}
