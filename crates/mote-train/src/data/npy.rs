//! `.npy` files exactly as `numpy.save` writes them (format 1.0, C order),
//! and reading of versions 1-3 with float, integer and bool dtypes.

use std::path::Path;

use crate::error::{Error, Result};
use crate::history::write_atomically;
use crate::tensor::Tensor;

const MAGIC: &[u8] = b"\x93NUMPY";

/// Reads a `.npy` file (float32/64, signed or unsigned integers, bool; either
/// byte order; C order) into an `f32` tensor.
pub fn read_npy(path: impl AsRef<Path>) -> Result<Tensor> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_npy(&bytes).map_err(|message| Error::Format {
        path: path.to_path_buf(),
        message,
    })
}

/// Writes `tensor` as a float32 `.npy` file byte for byte as `numpy.save`
/// would, through a temporary file renamed into place.
pub fn write_npy(path: impl AsRef<Path>, tensor: &Tensor) -> Result<()> {
    write_atomically(path.as_ref(), &npy_bytes(tensor))
}

/// The bytes of `tensor` in `.npy` format 1.0 (`<f4`, C order).
pub fn npy_bytes(tensor: &Tensor) -> Vec<u8> {
    let shape = match tensor.shape() {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    // numpy pads with spaces so that magic + version + length + header + '\n'
    // is a multiple of 64 bytes
    let unpadded = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 4 * tensor.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in tensor.data() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Parses `.npy` bytes; errors say what is wrong.
pub(crate) fn parse_npy(bytes: &[u8]) -> Result<Tensor, String> {
    if !bytes.starts_with(MAGIC) || bytes.len() < 10 {
        return Err("not a .npy file (bad magic)".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or("header runs past the end of the file")?;
    let header = std::str::from_utf8(header).map_err(|_| "header is not text")?;
    let descr = field(header, "descr").ok_or("header has no 'descr'")?;
    let descr = descr
        .strip_prefix(['\'', '"'])
        .and_then(|d| d.split(['\'', '"']).next())
        .ok_or_else(|| format!("bad descr {descr}"))?;
    if field(header, "fortran_order").is_some_and(|f| f.starts_with("True")) {
        return Err("Fortran-order arrays are not supported (save with C order)".into());
    }
    let shape_text = field(header, "shape").ok_or("header has no 'shape'")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| format!("bad shape {shape_text}"))?;
    let shape: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| format!("bad shape {shape_text}")))
        .collect::<Result<_, _>>()?;
    let count: usize = shape.iter().product();
    let (order, kind) = descr.split_at(1.min(descr.len()));
    let little = match order {
        "<" | "|" | "=" => true,
        ">" => false,
        _ => return Err(format!("unsupported dtype {descr}")),
    };
    let size: usize = kind
        .get(1..)
        .and_then(|s| s.parse().ok())
        .ok_or(format!("unsupported dtype {descr}"))?;
    let data = &bytes[start + header_len..];
    if data.len() < count * size {
        return Err(format!(
            "data has {} bytes, shape {shape:?} of {descr} needs {}",
            data.len(),
            count * size
        ));
    }
    let value = |chunk: &[u8]| -> Option<f32> {
        let mut b = [0u8; 8];
        b[..size].copy_from_slice(chunk);
        if !little {
            b[..size].reverse();
        }
        Some(match (kind.as_bytes()[0], size) {
            (b'f', 4) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            (b'f', 8) => f64::from_le_bytes(b) as f32,
            (b'i', 1) => f32::from(b[0] as i8),
            (b'i', 2) => f32::from(i16::from_le_bytes([b[0], b[1]])),
            (b'i', 4) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
            (b'i', 8) => i64::from_le_bytes(b) as f32,
            (b'u', 1) | (b'b', 1) => f32::from(b[0]),
            (b'u', 2) => f32::from(u16::from_le_bytes([b[0], b[1]])),
            (b'u', 4) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
            (b'u', 8) => u64::from_le_bytes(b) as f32,
            _ => return None,
        })
    };
    let values: Option<Vec<f32>> = data[..count * size]
        .chunks_exact(size.max(1))
        .map(value)
        .collect();
    let values = values.ok_or_else(|| format!("unsupported dtype {descr}"))?;
    Tensor::new(values, shape).map_err(|e| e.to_string())
}

/// The text after `'key':` in a header dict, up to the next top-level comma.
fn field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))?;
    let rest = header[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_numpy_writes() {
        // numpy.save of np.array([[1, 2], [3, 4]], dtype=np.float32): a 128-byte
        // header block, then 16 data bytes
        let t = Tensor::new(vec![1.0, 2.0, 3.0, 4.0], [2, 2]).unwrap();
        let bytes = npy_bytes(&t);
        assert_eq!(bytes.len(), 128 + 16);
        let header = std::str::from_utf8(&bytes[10..128]).unwrap();
        assert!(header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }"));
        assert!(header.ends_with(" \n"));
        assert_eq!(&bytes[8..10], &118u16.to_le_bytes());
        assert_eq!(parse_npy(&bytes).unwrap(), t);
        // 1-D shapes are written "(n,)"
        let one = npy_bytes(&Tensor::zeros([3]));
        assert!(std::str::from_utf8(&one[10..64])
            .unwrap()
            .contains("'shape': (3,)"));
    }

    #[test]
    fn reads_other_dtypes() {
        // '>i2' (big-endian int16) [258, -1] and '<f8' [0.5]
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let header = "{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }\n";
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&[1, 2, 0xff, 0xff]);
        assert_eq!(parse_npy(&bytes).unwrap().data(), &[258.0, -1.0]);
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (), }\n";
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&0.5f64.to_le_bytes());
        let t = parse_npy(&bytes).unwrap();
        assert_eq!((t.shape(), t.data()), (&[][..], &[0.5][..]));
        assert!(parse_npy(b"nonsense").unwrap_err().contains("magic"));
    }
}
