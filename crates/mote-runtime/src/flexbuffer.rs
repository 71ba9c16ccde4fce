//! A small, verified reader for FlexBuffers, the schema-less format TensorFlow
//! Lite stores a custom operator's options in (`Operator::custom_options`).
//!
//! Only what custom options use is read: a root map whose values are scalars
//! (ints, uints, bools, floats, inline or indirect). Every offset and length is
//! checked against the buffer; malformed bytes give [`FlexError`], never a panic.
//!
//! The layout, read from the FlexBuffers specification: the last byte is the
//! root's byte width, the byte before it the root's packed type
//! (`type << 2 | log2(width)`), and before that the root value. Maps, vectors and
//! strings are reached by an unsigned offset *backwards* from where it is stored.
//! A vector is preceded by its length; an untyped vector's elements are followed
//! by one packed-type byte each. A map is such a vector of values, preceded
//! (before the length) by the offset and byte width of its sorted keys vector.
//!
//! ```
//! use mote_runtime::flexbuffer;
//! // {"a": 1, "bb": -2}, as flexbuffers::Builder writes it with 1-byte widths.
//! let bytes = [b'a', 0, b'b', b'b', 0, 2, 6, 5, 2, 1, 2, 1, 0xFE, 4, 4, 4, 36, 1];
//! let map = flexbuffer::root_map(&bytes)?;
//! assert_eq!(map.get("bb")?.as_i64()?, -2);
//! # Ok::<(), flexbuffer::FlexError>(())
//! ```

/// What is wrong with a FlexBuffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlexError {
    /// An offset or length points outside the buffer.
    OutOfBounds,
    /// A byte width other than 1, 2, 4 or 8.
    BadWidth,
    /// A value has a type other than the one asked for.
    WrongType,
    /// The map has no such key.
    MissingKey,
}

impl core::fmt::Display for FlexError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::OutOfBounds => "flexbuffer offset or length out of bounds",
            Self::BadWidth => "flexbuffer byte width is not 1, 2, 4 or 8",
            Self::WrongType => "flexbuffer value has an unexpected type",
            Self::MissingKey => "flexbuffer map has no such key",
        })
    }
}

impl core::error::Error for FlexError {}

/// FlexBuffers value types (`flexbuffers::Type`) this reader knows.
mod kind {
    pub const NULL: u8 = 0;
    pub const INT: u8 = 1;
    pub const UINT: u8 = 2;
    pub const FLOAT: u8 = 3;
    pub const INDIRECT_INT: u8 = 6;
    pub const INDIRECT_UINT: u8 = 7;
    pub const INDIRECT_FLOAT: u8 = 8;
    pub const MAP: u8 = 9;
    pub const BOOL: u8 = 26;
}

/// Reads an unsigned little-endian integer of `width` bytes at `pos`.
fn read_u64(buf: &[u8], pos: usize, width: usize) -> Result<u64, FlexError> {
    let end = pos.checked_add(width).ok_or(FlexError::OutOfBounds)?;
    let bytes = buf.get(pos..end).ok_or(FlexError::OutOfBounds)?;
    let mut value = [0u8; 8];
    value
        .get_mut(..width)
        .ok_or(FlexError::BadWidth)?
        .copy_from_slice(bytes);
    Ok(u64::from_le_bytes(value))
}

/// Reads a signed little-endian integer of `width` bytes at `pos`.
fn read_i64(buf: &[u8], pos: usize, width: usize) -> Result<i64, FlexError> {
    let raw = read_u64(buf, pos, width)?;
    let unused = 64 - 8 * width as u32;
    // Sign-extend from `width` bytes.
    Ok(((raw << unused) as i64) >> unused)
}

/// Reads a float of `width` (4 or 8) bytes at `pos`.
fn read_f64(buf: &[u8], pos: usize, width: usize) -> Result<f64, FlexError> {
    let raw = read_u64(buf, pos, width)?;
    match width {
        4 => Ok(f64::from(f32::from_bits(raw as u32))),
        8 => Ok(f64::from_bits(raw)),
        _ => Err(FlexError::BadWidth),
    }
}

/// Checks a byte width.
fn width(w: u64) -> Result<usize, FlexError> {
    match w {
        1 | 2 | 4 | 8 => Ok(w as usize),
        _ => Err(FlexError::BadWidth),
    }
}

/// The position an offset stored at `pos` (of `width` bytes) points back to.
fn indirect(buf: &[u8], pos: usize, width: usize) -> Result<usize, FlexError> {
    let offset = read_u64(buf, pos, width)?;
    let offset = usize::try_from(offset).map_err(|_| FlexError::OutOfBounds)?;
    pos.checked_sub(offset).ok_or(FlexError::OutOfBounds)
}

/// One value inside a FlexBuffer.
#[derive(Clone, Copy, Debug)]
pub struct Value<'a> {
    buf: &'a [u8],
    /// Where the value (or the offset to it) is stored.
    pos: usize,
    /// Width of the slot at `pos`.
    parent_width: usize,
    /// Width of the data an offset points to.
    byte_width: usize,
    kind: u8,
}

impl<'a> Value<'a> {
    fn new(buf: &'a [u8], pos: usize, parent_width: usize, packed: u8) -> Self {
        Value {
            buf,
            pos,
            parent_width,
            byte_width: 1 << (packed & 3),
            kind: packed >> 2,
        }
    }

    /// The value's FlexBuffers type code.
    pub fn kind(&self) -> u8 {
        self.kind
    }

    /// The value as an integer: ints, uints, bools and nulls (0) convert, as
    /// `flexbuffers::Reference::AsInt64` does; floats are refused.
    pub fn as_i64(&self) -> Result<i64, FlexError> {
        match self.kind {
            kind::NULL => Ok(0),
            kind::INT => read_i64(self.buf, self.pos, self.parent_width),
            kind::UINT | kind::BOOL => {
                read_u64(self.buf, self.pos, self.parent_width).map(|v| v as i64)
            }
            kind::INDIRECT_INT => {
                let at = indirect(self.buf, self.pos, self.parent_width)?;
                read_i64(self.buf, at, self.byte_width)
            }
            kind::INDIRECT_UINT => {
                let at = indirect(self.buf, self.pos, self.parent_width)?;
                read_u64(self.buf, at, self.byte_width).map(|v| v as i64)
            }
            _ => Err(FlexError::WrongType),
        }
    }

    /// The value as an `i32`; out-of-range integers are refused.
    pub fn as_i32(&self) -> Result<i32, FlexError> {
        i32::try_from(self.as_i64()?).map_err(|_| FlexError::WrongType)
    }

    /// The value as a bool: any nonzero integer is true.
    pub fn as_bool(&self) -> Result<bool, FlexError> {
        self.as_i64().map(|v| v != 0)
    }

    /// The value as a float: floats, and integers converted.
    pub fn as_f64(&self) -> Result<f64, FlexError> {
        match self.kind {
            kind::FLOAT => read_f64(self.buf, self.pos, self.parent_width),
            kind::INDIRECT_FLOAT => {
                let at = indirect(self.buf, self.pos, self.parent_width)?;
                read_f64(self.buf, at, self.byte_width)
            }
            _ => self.as_i64().map(|v| v as f64),
        }
    }

    /// The value as a map.
    pub fn as_map(&self) -> Result<Map<'a>, FlexError> {
        if self.kind != kind::MAP {
            return Err(FlexError::WrongType);
        }
        let values = indirect(self.buf, self.pos, self.parent_width)?;
        let w = self.byte_width;
        let field = |back: usize| {
            values
                .checked_sub(back.checked_mul(w).ok_or(FlexError::OutOfBounds)?)
                .ok_or(FlexError::OutOfBounds)
        };
        let len = read_u64(self.buf, field(1)?, w)?;
        let len = usize::try_from(len).map_err(|_| FlexError::OutOfBounds)?;
        let keys_width = width(read_u64(self.buf, field(2)?, w)?)?;
        let keys = indirect(self.buf, field(3)?, w)?;
        let keys_len_pos = keys.checked_sub(keys_width).ok_or(FlexError::OutOfBounds)?;
        if read_u64(self.buf, keys_len_pos, keys_width)? != len as u64 {
            return Err(FlexError::OutOfBounds);
        }
        // The values, their type bytes and the keys must all lie in the buffer.
        let values_end = len
            .checked_mul(w)
            .and_then(|n| n.checked_add(values))
            .ok_or(FlexError::OutOfBounds)?;
        let types_end = values_end.checked_add(len).ok_or(FlexError::OutOfBounds)?;
        let keys_end = len
            .checked_mul(keys_width)
            .and_then(|n| n.checked_add(keys))
            .ok_or(FlexError::OutOfBounds)?;
        if types_end > self.buf.len() || keys_end > self.buf.len() {
            return Err(FlexError::OutOfBounds);
        }
        Ok(Map {
            buf: self.buf,
            values,
            width: w,
            keys,
            keys_width,
            len,
        })
    }
}

/// A FlexBuffers map: keys in sorted order, each with a value.
#[derive(Clone, Copy, Debug)]
pub struct Map<'a> {
    buf: &'a [u8],
    values: usize,
    width: usize,
    keys: usize,
    keys_width: usize,
    len: usize,
}

impl<'a> Map<'a> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The key of entry `i` (bytes up to its terminating zero).
    pub fn key(&self, i: usize) -> Result<&'a [u8], FlexError> {
        if i >= self.len {
            return Err(FlexError::OutOfBounds);
        }
        let slot = i
            .checked_mul(self.keys_width)
            .and_then(|n| n.checked_add(self.keys))
            .ok_or(FlexError::OutOfBounds)?;
        let start = indirect(self.buf, slot, self.keys_width)?;
        let rest = self.buf.get(start..).ok_or(FlexError::OutOfBounds)?;
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(FlexError::OutOfBounds)?;
        rest.get(..end).ok_or(FlexError::OutOfBounds)
    }

    /// The value of entry `i`.
    pub fn value(&self, i: usize) -> Result<Value<'a>, FlexError> {
        if i >= self.len {
            return Err(FlexError::OutOfBounds);
        }
        let pos = self.values + i * self.width;
        let packed = *self
            .buf
            .get(self.values + self.len * self.width + i)
            .ok_or(FlexError::OutOfBounds)?;
        Ok(Value::new(self.buf, pos, self.width, packed))
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Result<Value<'a>, FlexError> {
        for i in 0..self.len {
            if self.key(i)? == key.as_bytes() {
                return self.value(i);
            }
        }
        Err(FlexError::MissingKey)
    }
}

/// The root value of a FlexBuffer.
pub fn root(buf: &[u8]) -> Result<Value<'_>, FlexError> {
    let n = buf.len();
    let root_width = width(u64::from(*buf.last().ok_or(FlexError::OutOfBounds)?))?;
    let packed = *buf
        .get(n.checked_sub(2).ok_or(FlexError::OutOfBounds)?)
        .ok_or(FlexError::OutOfBounds)?;
    let pos = n
        .checked_sub(2 + root_width)
        .ok_or(FlexError::OutOfBounds)?;
    Ok(Value::new(buf, pos, root_width, packed))
}

/// The root map of a FlexBuffer (how custom options are stored).
pub fn root_map(buf: &[u8]) -> Result<Map<'_>, FlexError> {
    root(buf)?.as_map()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// {"a": 1, "bb": -2} with 1-byte widths:
    /// keys "a\0" at 0 and "bb\0" at 2; keys vector (length 2 at 5) at 6 with
    /// offsets 6-0 = 6 and 7-2 = 5; map fields at 8..11: keys offset 8-6 = 2,
    /// keys width 1, length 2; values at 11: 1, -2; types INT|w1 = 4, 4; root at
    /// 15: offset 15-11 = 4, packed MAP<<2 = 36, width 1.
    const SMALL: [u8; 18] = [
        b'a', 0, b'b', b'b', 0, 2, 6, 5, 2, 1, 2, 1, 0xFE, 4, 4, 4, 36, 1,
    ];

    #[test]
    fn reads_a_hand_built_map() {
        let map = root_map(&SMALL).unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map.key(0).unwrap(), b"a");
        assert_eq!(map.key(1).unwrap(), b"bb");
        assert_eq!(map.get("a").unwrap().as_i64().unwrap(), 1);
        assert_eq!(map.get("bb").unwrap().as_i32().unwrap(), -2);
        assert!(map.get("bb").unwrap().as_bool().unwrap());
        assert_eq!(map.get("c").unwrap_err(), FlexError::MissingKey);
        assert_eq!(map.key(2).unwrap_err(), FlexError::OutOfBounds);
    }

    #[test]
    fn wider_values_and_types() {
        // {"x": 300u32, "y": 1.5f32}: keys "x" at 0, "y" at 2; keys vector
        // (length 2 at 4, width 1) at 5 with offsets 5-0 = 5, 6-2 = 4; one
        // byte of padding; then a map with 4-byte slots.
        let mut b = vec![b'x', 0, b'y', 0, 2, 5, 4, 0];
        // map header at 8: keys offset (8 - 5 = 3), keys width 1, length 2.
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        // values at 20: 300 (UINT), 1.5 (FLOAT), both 4 bytes wide.
        b.extend_from_slice(&300u32.to_le_bytes());
        b.extend_from_slice(&1.5f32.to_bits().to_le_bytes());
        b.extend_from_slice(&[(kind::UINT << 2) | 2, (kind::FLOAT << 2) | 2]);
        // root at 30: offset 30 - 20 = 10, packed MAP with 4-byte elements.
        b.extend_from_slice(&[10, (kind::MAP << 2) | 2, 1]);
        let map = root_map(&b).unwrap();
        assert_eq!(map.get("x").unwrap().as_i64().unwrap(), 300);
        assert_eq!(map.get("y").unwrap().as_f64().unwrap(), 1.5);
        assert_eq!(
            map.get("y").unwrap().as_i64().unwrap_err(),
            FlexError::WrongType
        );
    }

    #[test]
    fn truncations_and_corruptions_never_panic() {
        for end in 0..SMALL.len() {
            // A prefix moves the root; it must fail or read in bounds, never panic.
            if let Ok(map) = root_map(&SMALL[..end]) {
                for i in 0..map.len() {
                    let _ = map.key(i);
                    let _ = map.value(i).and_then(|v| v.as_i64());
                }
            }
        }
        assert!(root_map(&[]).is_err());
        assert!(root_map(&[1]).is_err());
        assert_eq!(root_map(&[0, 36, 3]).unwrap_err(), FlexError::BadWidth);
        // Every single-byte corruption of the small map.
        for at in 0..SMALL.len() {
            for v in [0u8, 1, 2, 0x7F, 0x80, 0xFF] {
                let mut b = SMALL;
                b[at] = v;
                if let Ok(map) = root_map(&b) {
                    for i in 0..map.len() {
                        let _ = map.key(i);
                        let _ = map.value(i).and_then(|v| v.as_f64());
                    }
                    let _ = map.get("a");
                }
            }
        }
    }

    #[test]
    fn scalar_root_is_not_a_map() {
        // Root INT 5, width 1.
        assert_eq!(root(&[5, 4, 1]).unwrap().as_i64().unwrap(), 5);
        assert_eq!(root_map(&[5, 4, 1]).unwrap_err(), FlexError::WrongType);
    }
}
