//! `.npy` files exactly as `numpy.save` writes them (format versions 1 to 3,
//! little-endian, C order).

use std::path::Path;

use mote_runtime::TensorType;

/// Why an `.npy` file cannot be read or written.
#[derive(Debug)]
pub enum NpyError {
    /// The file cannot be read or written.
    Io(std::io::Error),
    /// The bytes are not an `.npy` array mote reads; the text says why.
    Format(String),
}

impl std::fmt::Display for NpyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NpyError::Io(e) => write!(f, "{e}"),
            NpyError::Format(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for NpyError {}

type Result<T> = std::result::Result<T, NpyError>;

macro_rules! bail {
    ($($t:tt)*) => { return Err(NpyError::Format(format!($($t)*))) };
}

/// `Option` to `Result` with a message.
trait Context<T> {
    fn context(self, why: &str) -> Result<T>;
    fn with_context(self, why: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for Option<T> {
    fn context(self, why: &str) -> Result<T> {
        self.ok_or_else(|| NpyError::Format(why.to_string()))
    }
    fn with_context(self, why: impl FnOnce() -> String) -> Result<T> {
        self.ok_or_else(|| NpyError::Format(why()))
    }
}

impl<T, E> Context<T> for std::result::Result<T, E> {
    fn context(self, why: &str) -> Result<T> {
        self.map_err(|_| NpyError::Format(why.to_string()))
    }
    fn with_context(self, why: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|_| NpyError::Format(why()))
    }
}

/// An n-dimensional array: shape, element type and little-endian bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: TensorType,
    /// Elements, little-endian, C order.
    pub data: Vec<u8>,
}

impl Array {
    /// Number of elements.
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// A float32 array.
    pub fn from_f32(shape: Vec<usize>, values: &[f32]) -> Self {
        Array {
            shape,
            dtype: TensorType::Float32,
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// The elements as f64, for printing.
    pub fn to_f64(&self) -> Vec<f64> {
        let d = &self.data;
        match self.dtype {
            TensorType::Float32 => d
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
            TensorType::Float64 => d
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            TensorType::Int8 => d.iter().map(|&b| b as i8 as f64).collect(),
            TensorType::UInt8 | TensorType::Bool => d.iter().map(|&b| b as f64).collect(),
            TensorType::Int16 => d
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
            TensorType::UInt16 => d
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
            TensorType::Int32 => d
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
            TensorType::UInt32 => d
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
            TensorType::Int64 => d
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
            TensorType::UInt64 => d
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// numpy's `descr` for each type mote reads and writes.
fn descr(dtype: TensorType) -> Option<&'static str> {
    Some(match dtype {
        TensorType::Float32 => "<f4",
        TensorType::Float64 => "<f8",
        TensorType::Int8 => "|i1",
        TensorType::UInt8 => "|u1",
        TensorType::Bool => "|b1",
        TensorType::Int16 => "<i2",
        TensorType::UInt16 => "<u2",
        TensorType::Int32 => "<i4",
        TensorType::UInt32 => "<u4",
        TensorType::Int64 => "<i8",
        TensorType::UInt64 => "<u8",
        _ => return None,
    })
}

fn dtype_of(descr: &str) -> Option<TensorType> {
    let known = [
        TensorType::Float32,
        TensorType::Float64,
        TensorType::Int8,
        TensorType::UInt8,
        TensorType::Bool,
        TensorType::Int16,
        TensorType::UInt16,
        TensorType::Int32,
        TensorType::UInt32,
        TensorType::Int64,
        TensorType::UInt64,
    ];
    // numpy writes single-byte types with '|'; accept '<' and '=' too.
    let normal = descr.replacen('=', "<", 1);
    known
        .into_iter()
        .find(|t| self::descr(*t).is_some_and(|d| d == normal || d.replacen('|', "<", 1) == normal))
}

/// Parses `.npy` bytes.
pub fn parse(bytes: &[u8]) -> Result<Array> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        bail!("not an .npy file (no \\x93NUMPY magic)");
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize,
            12,
        ),
        v => bail!("unsupported .npy format version {v}"),
    };
    let header = bytes
        .get(start..start + header_len)
        .context("truncated .npy header")?;
    let header = std::str::from_utf8(header).context(".npy header is not text")?;
    let field = |key: &str| -> Result<&str> {
        let at = header
            .find(&format!("'{key}'"))
            .with_context(|| format!(".npy header has no '{key}'"))?;
        let rest = &header[at + key.len() + 2..];
        Ok(rest.trim_start().trim_start_matches(':').trim_start())
    };
    let descr_text = field("descr")?;
    let descr_text = descr_text
        .strip_prefix('\'')
        .and_then(|s| s.split('\'').next())
        .context("bad 'descr'")?;
    let dtype = dtype_of(descr_text).with_context(|| {
        format!("unsupported .npy dtype '{descr_text}' (big-endian or non-numeric)")
    })?;
    if field("fortran_order")?.starts_with("True") {
        bail!("Fortran-ordered .npy arrays are not supported (save with np.ascontiguousarray)");
    }
    let shape_text = field("shape")?;
    let shape_text = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .context("bad 'shape'")?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse::<usize>()
                .with_context(|| format!("bad dimension '{s}' in shape"))
        })
        .collect::<Result<Vec<_>>>()?;
    let elements = shape
        .iter()
        .try_fold(1usize, |n, d| n.checked_mul(*d))
        .context("shape too large")?;
    let size = dtype.bytes_for(elements).context("shape too large")?;
    let data = &bytes[start + header_len..];
    if data.len() != size {
        bail!(
            "data has {} bytes, shape {:?} of {} needs {size}",
            data.len(),
            shape,
            dtype
        );
    }
    Ok(Array {
        shape,
        dtype,
        data: data.to_vec(),
    })
}

/// Reads an `.npy` file.
pub fn read(path: &Path) -> Result<Array> {
    parse(&std::fs::read(path).map_err(NpyError::Io)?)
}

/// Serializes as `numpy.save` does (version 1.0, header padded to 64 bytes).
pub fn to_bytes(array: &Array) -> Result<Vec<u8>> {
    let d = descr(array.dtype)
        .with_context(|| format!("{} arrays cannot be saved as .npy", array.dtype))?;
    let shape = match array.shape.len() {
        1 => format!("({},)", array.shape[0]),
        _ => format!(
            "({})",
            array
                .shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{d}', 'fortran_order': False, 'shape': {shape}, }}");
    // numpy leaves room for the first dimension to grow to 21 digits, then pads
    // so the data starts at a multiple of 64 (a whole 64 when already aligned).
    if let Some(first) = array.shape.first() {
        header.push_str(&" ".repeat(21usize.saturating_sub(first.to_string().len())));
    }
    let pad = 64 - (10 + header.len() + 1) % 64;
    header.push_str(&" ".repeat(pad));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(&array.data);
    Ok(out)
}

/// Writes an `.npy` file atomically (a temporary file in the same folder, then
/// a rename), so a failure never leaves a half-written file.
pub fn write(path: &Path, array: &Array) -> Result<()> {
    crate::files::write_atomic(path, &to_bytes(array)?).map_err(NpyError::Io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_matches_numpy_layout() {
        let a = Array::from_f32(vec![2, 3], &[1., 2., 3., 4., 5., 6.]);
        let bytes = to_bytes(&a).unwrap();
        // numpy.save of np.zeros((2, 3), np.float32) writes a 118-byte header
        // (0x76): 21 spaces of room for the first dimension, then padding so
        // the data starts at 128.
        assert_eq!(&bytes[..10], b"\x93NUMPY\x01\x00\x76\x00");
        assert_eq!(bytes.len() - 24, 128);
        assert!(std::str::from_utf8(&bytes[10..128])
            .unwrap()
            .starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));
        assert_eq!(parse(&bytes).unwrap(), a);
    }

    #[test]
    fn one_dimensional_shapes_have_a_trailing_comma() {
        let a = Array {
            shape: vec![3],
            dtype: TensorType::Int8,
            data: vec![1, 2, 255],
        };
        let bytes = to_bytes(&a).unwrap();
        assert!(std::str::from_utf8(&bytes[10..128])
            .unwrap()
            .contains("'shape': (3,)"));
        assert_eq!(parse(&bytes).unwrap().to_f64(), vec![1.0, 2.0, -1.0]);
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        assert!(parse(b"hello")
            .unwrap_err()
            .to_string()
            .contains("not an .npy"));
        let mut bytes = to_bytes(&Array::from_f32(vec![2], &[1., 2.])).unwrap();
        bytes.pop();
        assert!(parse(&bytes).unwrap_err().to_string().contains("needs 8"));
    }
}
