//! Bounds-checked primitives for reading a FlatBuffer.
//!
//! A FlatBuffer is a tree of *tables* addressed by 32-bit offsets. A table starts
//! with a signed offset to its *vtable*; the vtable lists, per field id, where the
//! field sits inside the table (0 = absent, use the default). Vectors and strings
//! are a `u32` length followed by their elements. Every read here checks its
//! bounds and returns a [`Fault`] instead of reading past the end: the bytes are
//! untrusted.

/// What is wrong with a FlatBuffer, found while reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An offset, length or field points outside the file.
    OutOfBounds,
    /// A vtable is too short, odd-sized or describes a field past its table.
    BadVtable,
    /// A string is not valid UTF-8 or lacks its terminating zero.
    BadString,
    /// The file asks for more work to verify than its size allows (shared
    /// sub-objects referenced over and over).
    TooComplex,
}

fn slice(buf: &[u8], pos: usize, len: usize) -> Result<&[u8], Fault> {
    let end = pos.checked_add(len).ok_or(Fault::OutOfBounds)?;
    buf.get(pos..end).ok_or(Fault::OutOfBounds)
}

pub(crate) fn read_u8(buf: &[u8], pos: usize) -> Result<u8, Fault> {
    buf.get(pos).copied().ok_or(Fault::OutOfBounds)
}

pub(crate) fn read_u16(buf: &[u8], pos: usize) -> Result<u16, Fault> {
    let bytes: [u8; 2] = slice(buf, pos, 2)?
        .try_into()
        .map_err(|_| Fault::OutOfBounds)?;
    Ok(u16::from_le_bytes(bytes))
}

pub(crate) fn read_u32(buf: &[u8], pos: usize) -> Result<u32, Fault> {
    let bytes: [u8; 4] = slice(buf, pos, 4)?
        .try_into()
        .map_err(|_| Fault::OutOfBounds)?;
    Ok(u32::from_le_bytes(bytes))
}

pub(crate) fn read_u64(buf: &[u8], pos: usize) -> Result<u64, Fault> {
    let bytes: [u8; 8] = slice(buf, pos, 8)?
        .try_into()
        .map_err(|_| Fault::OutOfBounds)?;
    Ok(u64::from_le_bytes(bytes))
}

/// Follows the `u32` offset stored at `pos` (offsets are relative to where they are stored).
fn follow(buf: &[u8], pos: usize) -> Result<usize, Fault> {
    let rel = read_u32(buf, pos)? as usize;
    let target = pos.checked_add(rel).ok_or(Fault::OutOfBounds)?;
    if target >= buf.len() {
        return Err(Fault::OutOfBounds);
    }
    Ok(target)
}

/// A verified table: its vtable lies inside the buffer, and every field the
/// vtable names lies inside the table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

impl<'a> Table<'a> {
    /// A table with no fields: every field reads as its default.
    pub(crate) const EMPTY: Table<'static> = Table {
        buf: &[],
        pos: 0,
        vtable: 0,
        vtable_len: 0,
    };

    /// Whether `other` is this very table (same buffer, same place).
    pub(crate) fn same(&self, other: &Table<'_>) -> bool {
        self.pos == other.pos && core::ptr::eq(self.buf.as_ptr(), other.buf.as_ptr())
    }

    /// The whole buffer the table lies in.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// The root table of a FlatBuffer.
    pub(crate) fn root(buf: &'a [u8]) -> Result<Self, Fault> {
        let pos = follow(buf, 0)?;
        Self::at(buf, pos)
    }

    /// Verifies the table at `pos`.
    pub(crate) fn at(buf: &'a [u8], pos: usize) -> Result<Self, Fault> {
        let soffset = read_u32(buf, pos)? as i32;
        let vtable = (pos as i64)
            .checked_sub(i64::from(soffset))
            .filter(|v| *v >= 0)
            .ok_or(Fault::OutOfBounds)? as usize;
        let vtable_len = usize::from(read_u16(buf, vtable)?);
        let table_len = usize::from(read_u16(buf, vtable + 2)?);
        if vtable_len < 4 || vtable_len % 2 != 0 || table_len < 4 {
            return Err(Fault::BadVtable);
        }
        slice(buf, vtable, vtable_len)?;
        slice(buf, pos, table_len)?;
        let table = Table {
            buf,
            pos,
            vtable,
            vtable_len,
        };
        // Every present field must start inside the table.
        let mut slot = 4;
        while slot < vtable_len {
            let off = usize::from(read_u16(buf, vtable + slot)?);
            if off != 0 && (off < 4 || off >= table_len) {
                return Err(Fault::BadVtable);
            }
            slot += 2;
        }
        Ok(table)
    }

    /// Where field `id` is stored, if present; checks that `size` bytes fit.
    fn field(&self, id: u16, size: usize) -> Result<Option<usize>, Fault> {
        let slot = 4 + 2 * usize::from(id);
        if slot + 2 > self.vtable_len {
            return Ok(None);
        }
        let off = usize::from(read_u16(self.buf, self.vtable + slot)?);
        if off == 0 {
            return Ok(None);
        }
        let pos = self.pos + off;
        slice(self.buf, pos, size)?;
        Ok(Some(pos))
    }

    /// A `u8`/`i8`/`bool` field.
    pub(crate) fn u8(&self, id: u16, default: u8) -> Result<u8, Fault> {
        match self.field(id, 1)? {
            Some(pos) => read_u8(self.buf, pos),
            None => Ok(default),
        }
    }

    /// A `u16`/`i16` field.
    pub(crate) fn u16(&self, id: u16, default: u16) -> Result<u16, Fault> {
        match self.field(id, 2)? {
            Some(pos) => read_u16(self.buf, pos),
            None => Ok(default),
        }
    }

    /// A `u32`/`i32`/`f32` field, as raw bits.
    pub(crate) fn u32(&self, id: u16, default: u32) -> Result<u32, Fault> {
        match self.field(id, 4)? {
            Some(pos) => read_u32(self.buf, pos),
            None => Ok(default),
        }
    }

    /// An `i32` field.
    pub(crate) fn i32(&self, id: u16, default: i32) -> Result<i32, Fault> {
        self.u32(id, default as u32).map(|v| v as i32)
    }

    /// An `f32` field.
    pub(crate) fn f32(&self, id: u16, default: f32) -> Result<f32, Fault> {
        self.u32(id, default.to_bits()).map(f32::from_bits)
    }

    /// A `u64`/`i64` field.
    pub(crate) fn u64(&self, id: u16, default: u64) -> Result<u64, Fault> {
        match self.field(id, 8)? {
            Some(pos) => read_u64(self.buf, pos),
            None => Ok(default),
        }
    }

    /// A sub-table field.
    pub(crate) fn table(&self, id: u16) -> Result<Option<Table<'a>>, Fault> {
        match self.field(id, 4)? {
            Some(pos) => Table::at(self.buf, follow(self.buf, pos)?).map(Some),
            None => Ok(None),
        }
    }

    /// A vector field whose elements are `elem_size` bytes each.
    pub(crate) fn vector(&self, id: u16, elem_size: usize) -> Result<Option<Vector<'a>>, Fault> {
        match self.field(id, 4)? {
            Some(pos) => Vector::at(self.buf, follow(self.buf, pos)?, elem_size).map(Some),
            None => Ok(None),
        }
    }

    /// A vector field, or an empty vector when absent.
    pub(crate) fn vector_or_empty(&self, id: u16, elem_size: usize) -> Result<Vector<'a>, Fault> {
        Ok(self
            .vector(id, elem_size)?
            .unwrap_or(Vector::empty(elem_size)))
    }

    /// A string field.
    pub(crate) fn string(&self, id: u16) -> Result<Option<&'a str>, Fault> {
        match self.field(id, 4)? {
            Some(pos) => string_at(self.buf, follow(self.buf, pos)?).map(Some),
            None => Ok(None),
        }
    }
}

fn string_at(buf: &[u8], pos: usize) -> Result<&str, Fault> {
    let len = read_u32(buf, pos)? as usize;
    let bytes = slice(buf, pos + 4, len)?;
    if read_u8(buf, pos + 4 + len)? != 0 {
        return Err(Fault::BadString);
    }
    core::str::from_utf8(bytes).map_err(|_| Fault::BadString)
}

/// A verified vector: `len` elements of `elem_size` bytes, all inside the buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Vector<'a> {
    buf: &'a [u8],
    start: usize,
    len: usize,
    elem_size: usize,
}

impl<'a> Vector<'a> {
    fn at(buf: &'a [u8], pos: usize, elem_size: usize) -> Result<Self, Fault> {
        let len = read_u32(buf, pos)? as usize;
        let bytes = len.checked_mul(elem_size).ok_or(Fault::OutOfBounds)?;
        slice(buf, pos + 4, bytes)?;
        Ok(Vector {
            buf,
            start: pos + 4,
            len,
            elem_size,
        })
    }

    /// An empty vector of offsets (tables or strings).
    pub(crate) const EMPTY_TABLES: Vector<'static> = Vector::empty(4);

    const fn empty(elem_size: usize) -> Self {
        Vector {
            buf: &[],
            start: 0,
            len: 0,
            elem_size,
        }
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The elements' bytes.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.buf
            .get(self.start..self.start + self.len * self.elem_size)
            .unwrap_or(&[])
    }

    fn elem(&self, i: usize) -> Result<usize, Fault> {
        if i >= self.len {
            return Err(Fault::OutOfBounds);
        }
        Ok(self.start + i * self.elem_size)
    }

    /// Element `i` of a byte-sized vector.
    pub(crate) fn u8(&self, i: usize) -> Result<u8, Fault> {
        read_u8(self.buf, self.elem(i)?)
    }

    /// Element `i` of a 2-byte vector.
    pub(crate) fn u16(&self, i: usize) -> Result<u16, Fault> {
        read_u16(self.buf, self.elem(i)?)
    }

    /// Element `i` of an 8-byte vector, as raw bits.
    pub(crate) fn u64(&self, i: usize) -> Result<u64, Fault> {
        read_u64(self.buf, self.elem(i)?)
    }

    /// Element `i` of a vector of strings.
    pub(crate) fn string(&self, i: usize) -> Result<&'a str, Fault> {
        string_at(self.buf, follow(self.buf, self.elem(i)?)?)
    }

    /// Element `i` of a `u32`/`i32`/`f32` vector, as raw bits.
    pub(crate) fn u32(&self, i: usize) -> Result<u32, Fault> {
        read_u32(self.buf, self.elem(i)?)
    }

    /// Element `i` of an `i32` vector.
    pub(crate) fn i32(&self, i: usize) -> Result<i32, Fault> {
        self.u32(i).map(|v| v as i32)
    }

    /// Element `i` of an `f32` vector.
    pub(crate) fn f32(&self, i: usize) -> Result<f32, Fault> {
        self.u32(i).map(f32::from_bits)
    }

    /// Element `i` of an `i64` vector.
    pub(crate) fn i64(&self, i: usize) -> Result<i64, Fault> {
        read_u64(self.buf, self.elem(i)?).map(|v| v as i64)
    }

    /// Element `i` of a vector of tables.
    pub(crate) fn table(&self, i: usize) -> Result<Table<'a>, Fault> {
        Table::at(self.buf, follow(self.buf, self.elem(i)?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-assembled buffer. Layout (byte offsets):
    /// 0: root offset -> 16; 4: vtable [len 10, table len 12, field0 absent,
    /// field1 at +4, field2 at +8]; 16: table [soffset 12, i32 -7, offset -> 28];
    /// 28: vector [len 2, 5, 6].
    fn sample() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(16u32.to_le_bytes());
        for v in [10u16, 12, 0, 4, 8, 0] {
            b.extend(v.to_le_bytes());
        }
        b.extend(12i32.to_le_bytes());
        b.extend((-7i32).to_le_bytes());
        b.extend(4u32.to_le_bytes());
        for v in [2u32, 5, 6] {
            b.extend(v.to_le_bytes());
        }
        b
    }

    #[test]
    fn reads_fields_vectors_and_defaults() {
        let b = sample();
        let t = Table::root(&b).unwrap();
        assert_eq!(t.i32(1, 0).unwrap(), -7);
        assert_eq!(t.i32(0, 42).unwrap(), 42, "absent field gives its default");
        assert_eq!(
            t.i32(9, 3).unwrap(),
            3,
            "field beyond the vtable gives its default"
        );
        let v = t.vector(2, 4).unwrap().unwrap();
        assert_eq!((v.len(), v.i32(0).unwrap(), v.i32(1).unwrap()), (2, 5, 6));
        assert_eq!(v.i32(2), Err(Fault::OutOfBounds));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let b = sample();
        for len in 0..b.len() {
            let cut = &b[..len];
            let read = Table::root(cut)
                .and_then(|t| t.vector(2, 4))
                .map(|v| v.map(|v| v.len()));
            assert!(read.is_err(), "a buffer cut to {len} bytes must not verify");
        }
    }

    #[test]
    fn rejects_a_vtable_outside_the_buffer() {
        let mut b = sample();
        b[16..20].copy_from_slice(&1000i32.to_le_bytes());
        assert_eq!(Table::root(&b).unwrap_err(), Fault::OutOfBounds);
    }

    #[test]
    fn rejects_an_odd_vtable_and_a_field_past_its_table() {
        let mut b = sample();
        b[4..6].copy_from_slice(&7u16.to_le_bytes());
        assert_eq!(Table::root(&b).unwrap_err(), Fault::BadVtable);
        let mut b = sample();
        b[12..14].copy_from_slice(&12u16.to_le_bytes()); // field 2 at +12 == table len
        assert_eq!(Table::root(&b).unwrap_err(), Fault::BadVtable);
    }

    #[test]
    fn rejects_a_vector_longer_than_the_file() {
        let mut b = sample();
        b[28..32].copy_from_slice(&u32::MAX.to_le_bytes());
        let t = Table::root(&b).unwrap();
        assert_eq!(t.vector(2, 4).unwrap_err(), Fault::OutOfBounds);
    }
}
