//! A small FlatBuffer serializer: a tree of [`Object`]s becomes bytes.
//!
//! Objects are written front to back: a table's vtable goes just before it,
//! its inline fields follow, and the objects it points to come after it (the
//! format's `uoffset`s only point forward), each offset patched once its target
//! is placed. Every scalar is aligned to its size, vectors to their element
//! size, and byte vectors marked so to 16 (TensorFlow Lite's `force_align`).

/// A scalar stored inline in a table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// `ubyte`, `byte`, `bool` or a byte-sized enum.
    U8(u8),
    /// `short` or `ushort`.
    U16(u16),
    /// `int` or an int-sized enum.
    I32(i32),
    /// `uint`.
    U32(u32),
    /// `float`.
    F32(f32),
    /// `ulong`, or the bits of a `long` or `double`.
    U64(u64),
}

impl Scalar {
    fn size(self) -> usize {
        match self {
            Scalar::U8(_) => 1,
            Scalar::U16(_) => 2,
            Scalar::I32(_) | Scalar::U32(_) | Scalar::F32(_) => 4,
            Scalar::U64(_) => 8,
        }
    }

    fn write(self, out: &mut [u8]) {
        match self {
            Scalar::U8(v) => out.copy_from_slice(&[v]),
            Scalar::U16(v) => out.copy_from_slice(&v.to_le_bytes()),
            Scalar::I32(v) => out.copy_from_slice(&v.to_le_bytes()),
            Scalar::U32(v) => out.copy_from_slice(&v.to_le_bytes()),
            Scalar::F32(v) => out.copy_from_slice(&v.to_le_bytes()),
            Scalar::U64(v) => out.copy_from_slice(&v.to_le_bytes()),
        }
    }
}

/// A field of a table: a scalar, or an offset to another object.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    /// An inline scalar.
    Scalar(Scalar),
    /// An offset to a sub-object.
    Object(Object),
}

/// Something a FlatBuffer holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    /// A table: `(field id, value)` pairs; absent ids take their defaults.
    Table(Vec<(u16, Field)>),
    /// A vector of scalars, as little-endian bytes of `elem_size`-byte elements,
    /// aligned to `align`.
    Scalars {
        /// The elements' bytes.
        bytes: Vec<u8>,
        /// Bytes per element.
        elem_size: usize,
        /// Alignment of the first element.
        align: usize,
    },
    /// A vector of offsets to objects (tables or strings).
    Objects(Vec<Object>),
    /// A zero-terminated UTF-8 string.
    String(String),
}

impl Object {
    /// A vector of `i32`s.
    pub fn i32s(values: &[i32]) -> Object {
        Object::Scalars {
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            elem_size: 4,
            align: 4,
        }
    }

    /// A vector of `f32`s.
    pub fn f32s(values: &[f32]) -> Object {
        Object::Scalars {
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            elem_size: 4,
            align: 4,
        }
    }

    /// A vector of `i64`s.
    pub fn i64s(values: &[i64]) -> Object {
        Object::Scalars {
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            elem_size: 8,
            align: 8,
        }
    }

    /// A vector of bytes aligned to 16, as TensorFlow Lite wants buffer data.
    pub fn bytes16(bytes: &[u8]) -> Object {
        Object::Scalars {
            bytes: bytes.to_vec(),
            elem_size: 1,
            align: 16,
        }
    }

    /// A vector of bytes with no alignment requirement.
    pub fn bytes(bytes: &[u8]) -> Object {
        Object::Scalars {
            bytes: bytes.to_vec(),
            elem_size: 1,
            align: 1,
        }
    }
}

/// Serializes `root` with the 4-byte file identifier `ident`.
pub fn finish(root: &Object, ident: &[u8; 4]) -> Vec<u8> {
    let mut w = Writer { buf: vec![0; 8] };
    w.buf[4..8].copy_from_slice(ident);
    let pos = w.object(root);
    w.patch(0, pos);
    w.buf
}

struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn pad_to(&mut self, align: usize) {
        while !self.buf.len().is_multiple_of(align) {
            self.buf.push(0);
        }
    }

    /// Writes the offset stored at `at` so that it points to `target`.
    fn patch(&mut self, at: usize, target: usize) {
        let rel = u32::try_from(target - at).expect("a FlatBuffer larger than 4 GiB");
        self.buf[at..at + 4].copy_from_slice(&rel.to_le_bytes());
    }

    /// Writes `object` and its children; returns where it starts.
    fn object(&mut self, object: &Object) -> usize {
        match object {
            Object::Table(fields) => self.table(fields),
            Object::Scalars {
                bytes,
                elem_size,
                align,
            } => {
                // The length precedes the elements, which must be aligned.
                let align = (*align).max(4);
                while !(self.buf.len() + 4).is_multiple_of(align) {
                    self.buf.push(0);
                }
                let pos = self.buf.len();
                let len = u32::try_from(bytes.len() / elem_size).expect("vector too long");
                self.buf.extend(len.to_le_bytes());
                self.buf.extend(bytes);
                pos
            }
            Object::String(s) => {
                self.pad_to(4);
                let pos = self.buf.len();
                self.buf.extend(
                    u32::try_from(s.len())
                        .expect("string too long")
                        .to_le_bytes(),
                );
                self.buf.extend(s.as_bytes());
                self.buf.push(0);
                pos
            }
            Object::Objects(items) => {
                self.pad_to(4);
                let pos = self.buf.len();
                self.buf.extend(
                    u32::try_from(items.len())
                        .expect("vector too long")
                        .to_le_bytes(),
                );
                let slots: Vec<usize> = items
                    .iter()
                    .map(|_| {
                        let at = self.buf.len();
                        self.buf.extend([0; 4]);
                        at
                    })
                    .collect();
                for (item, at) in items.iter().zip(slots) {
                    let target = self.object(item);
                    self.patch(at, target);
                }
                pos
            }
        }
    }

    fn table(&mut self, fields: &[(u16, Field)]) -> usize {
        // Lay the inline fields out largest first, so each is aligned to its size
        // when the table starts 8-aligned (soffset at +0, fields from +4 or +8).
        let mut order: Vec<usize> = (0..fields.len()).collect();
        let size = |f: &Field| match f {
            Field::Scalar(s) => s.size(),
            Field::Object(_) => 4,
        };
        order.sort_by_key(|&i| std::cmp::Reverse(size(&fields[i].1)));
        let mut offsets = vec![0usize; fields.len()];
        let mut end = 4usize;
        for &i in &order {
            let s = size(&fields[i].1);
            end = end.div_ceil(s) * s;
            offsets[i] = end;
            end += s;
        }
        let table_len = end;
        let max_id = fields
            .iter()
            .map(|(id, _)| *id as usize + 1)
            .max()
            .unwrap_or(0);
        let vtable_len = 4 + 2 * max_id;

        // The vtable, then the table right after it, 8-aligned.
        while !(self.buf.len() + vtable_len).is_multiple_of(8) {
            self.buf.push(0);
        }
        let vtable_pos = self.buf.len();
        let mut vtable = vec![0u8; vtable_len];
        vtable[0..2].copy_from_slice(&(vtable_len as u16).to_le_bytes());
        vtable[2..4].copy_from_slice(&(table_len as u16).to_le_bytes());
        for ((id, _), off) in fields.iter().zip(&offsets) {
            let slot = 4 + 2 * *id as usize;
            vtable[slot..slot + 2].copy_from_slice(&(*off as u16).to_le_bytes());
        }
        self.buf.extend(&vtable);
        let table_pos = self.buf.len();
        debug_assert_eq!(table_pos % 8, 0);
        self.buf.resize(table_pos + table_len, 0);
        let soffset = (table_pos - vtable_pos) as i32;
        self.buf[table_pos..table_pos + 4].copy_from_slice(&soffset.to_le_bytes());
        for ((_, field), off) in fields.iter().zip(&offsets) {
            if let Field::Scalar(s) = field {
                let at = table_pos + off;
                s.write(&mut self.buf[at..at + s.size()]);
            }
        }
        for ((_, field), off) in fields.iter().zip(&offsets) {
            if let Field::Object(child) = field {
                let target = self.object(child);
                self.patch(table_pos + off, target);
            }
        }
        table_pos
    }
}
