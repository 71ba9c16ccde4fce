//! Element types of tensors, as the `.tflite` format numbers them.

/// The element type of a tensor (`TensorType` in TensorFlow Lite's schema).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum TensorType {
    Float32,
    Float16,
    Int32,
    UInt8,
    Int64,
    String,
    Bool,
    Int16,
    Complex64,
    Int8,
    Float64,
    Complex128,
    UInt64,
    Resource,
    Variant,
    UInt32,
    UInt16,
    Int4,
    BFloat16,
    Int2,
    UInt4,
    Float8E4M3FN,
    Float8E5M2,
}

impl TensorType {
    /// Every type, indexed by its code in the format.
    const ALL: [TensorType; 23] = [
        Self::Float32,
        Self::Float16,
        Self::Int32,
        Self::UInt8,
        Self::Int64,
        Self::String,
        Self::Bool,
        Self::Int16,
        Self::Complex64,
        Self::Int8,
        Self::Float64,
        Self::Complex128,
        Self::UInt64,
        Self::Resource,
        Self::Variant,
        Self::UInt32,
        Self::UInt16,
        Self::Int4,
        Self::BFloat16,
        Self::Int2,
        Self::UInt4,
        Self::Float8E4M3FN,
        Self::Float8E5M2,
    ];

    /// The type with format code `code`, if it exists.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// The type's code in the format.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Bytes needed for `elements` elements of this type, for types stored at a
    /// fixed width (sub-byte types are packed two or four to a byte); `None` for
    /// variable-size types (strings, resources, variants) or on overflow.
    pub fn bytes_for(self, elements: usize) -> Option<usize> {
        match self {
            Self::Bool | Self::Int8 | Self::UInt8 | Self::Float8E4M3FN | Self::Float8E5M2 => {
                Some(elements)
            }
            Self::Int16 | Self::UInt16 | Self::Float16 | Self::BFloat16 => elements.checked_mul(2),
            Self::Int32 | Self::UInt32 | Self::Float32 => elements.checked_mul(4),
            Self::Int64 | Self::UInt64 | Self::Float64 | Self::Complex64 => elements.checked_mul(8),
            Self::Complex128 => elements.checked_mul(16),
            Self::Int4 | Self::UInt4 => Some(elements.div_ceil(2)),
            Self::Int2 => Some(elements.div_ceil(4)),
            Self::String | Self::Resource | Self::Variant => None,
        }
    }

    /// The name TensorFlow Lite uses (`"int8"`, `"float32"`), as numpy spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Float32 => "float32",
            Self::Float16 => "float16",
            Self::Int32 => "int32",
            Self::UInt8 => "uint8",
            Self::Int64 => "int64",
            Self::String => "string",
            Self::Bool => "bool",
            Self::Int16 => "int16",
            Self::Complex64 => "complex64",
            Self::Int8 => "int8",
            Self::Float64 => "float64",
            Self::Complex128 => "complex128",
            Self::UInt64 => "uint64",
            Self::Resource => "resource",
            Self::Variant => "variant",
            Self::UInt32 => "uint32",
            Self::UInt16 => "uint16",
            Self::Int4 => "int4",
            Self::BFloat16 => "bfloat16",
            Self::Int2 => "int2",
            Self::UInt4 => "uint4",
            Self::Float8E4M3FN => "float8_e4m3fn",
            Self::Float8E5M2 => "float8_e5m2",
        }
    }
}

impl core::fmt::Display for TensorType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in 0..23u8 {
            assert_eq!(TensorType::from_code(code).unwrap().code(), code);
        }
        assert_eq!(TensorType::from_code(23), None);
        assert_eq!(TensorType::from_code(9), Some(TensorType::Int8));
    }

    #[test]
    fn sizes() {
        assert_eq!(TensorType::Float32.bytes_for(10), Some(40));
        assert_eq!(TensorType::Int4.bytes_for(5), Some(3));
        assert_eq!(TensorType::Int64.bytes_for(usize::MAX), None);
        assert_eq!(TensorType::String.bytes_for(1), None);
    }
}
