//! TensorFlow Lite Micro's LUT compression (`tensorflow/lite/micro/compression`):
//! a `COMPRESSION_METADATA` entry of the model's `metadata` holds the FlatBuffer
//! `tflite.micro.compression.Metadata { schema_version: 1, subgraphs: [{
//! lut_tensors: [{ tensor, value_buffer, index_bitwidth }] }] }`. A compressed
//! tensor's own buffer holds one `index_bitwidth`-bit index per element,
//! packed from the high bit of each byte down with no padding between
//! elements; `value_buffer` holds one value table per quantization channel,
//! all `stride` long, one after another. Element `i`'s value is
//! `table[channel(i) * stride + index(i)]`, the channel along axis 0 or the
//! last axis (TensorFlow Lite Micro refuses other axes; so does mote).
//!
//! mote reads int8 tensors only. [`verify`] checks all of it at parse time,
//! every index included, so [`Lut`]'s readers cannot go out of range.

use super::{Fault, Model, Table, TensorType, Vector};
use crate::error::{Error, Location};

/// The metadata name TensorFlow Lite Micro looks for.
pub const METADATA_NAME: &str = "COMPRESSION_METADATA";

/// The widest index TensorFlow Lite Micro accepts (`LookupTableData::kMaxBitWidth`).
pub const MAX_BITS: u8 = 7;

/// Field ids of `Metadata`, `Subgraph` and `LutTensor`.
mod field {
    pub const SCHEMA_VERSION: u16 = 0;
    pub const SUBGRAPHS: u16 = 1;
    pub const LUT_TENSORS: u16 = 0;
    pub const TENSOR: u16 = 0;
    pub const VALUE_BUFFER: u16 = 1;
    pub const INDEX_BITWIDTH: u16 = 2;
}

/// A LUT-compressed int8 tensor, as the verifier accepted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lut<'a> {
    bits: u8,
    stride: usize,
    channels: usize,
    /// Elements per channel along axis 0, or 0 when the channel is the last axis.
    inner: usize,
    values: &'a [u8],
    packed: &'a [u8],
}

impl<'a> Lut<'a> {
    /// Bits per index (1..=7).
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Length of each channel's value table.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Number of value tables (1, or the quantization's channel count).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Whether the channels run along the last axis (else along axis 0).
    pub fn channel_axis_is_last(&self) -> bool {
        self.channels > 1 && self.inner == 0
    }

    /// Elements per channel along axis 0, or 0 when the channels are the last axis.
    pub(crate) fn inner(&self) -> usize {
        self.inner
    }

    /// The value tables, `channels * stride` int8 values.
    pub fn values(&self) -> &'a [u8] {
        self.values
    }

    /// The packed indices.
    pub fn packed(&self) -> &'a [u8] {
        self.packed
    }

    /// The channel of element `i`.
    #[inline]
    fn channel(&self, i: usize) -> usize {
        if self.channels <= 1 {
            0
        } else {
            // `inner` 0: the channels are the last axis.
            i.checked_div(self.inner).unwrap_or(i % self.channels)
        }
    }

    /// Element `i`'s value (0 past the end).
    #[inline]
    pub fn value(&self, i: usize) -> i8 {
        value(
            self.values,
            self.packed,
            self.bits,
            self.stride,
            self.channel(i),
            i,
        )
    }

    /// Elements `start..start + out.len()`, decoded.
    #[inline]
    pub fn decode(&self, start: usize, out: &mut [i8]) {
        for (k, slot) in out.iter_mut().enumerate() {
            *slot = self.value(start + k);
        }
    }
}

/// Index `i` of `packed` (`bits` wide, high bits first); 0 past the end.
#[inline]
pub(crate) fn index(packed: &[u8], bits: u8, i: usize) -> usize {
    // At most 8 bits keeps every shift in range (the verifier allows 7).
    let bits = usize::from(bits.clamp(1, 8));
    let at = i.saturating_mul(bits);
    // Two bytes cover any field of at most 8 bits.
    let hi = packed.get(at / 8).copied().unwrap_or(0);
    let lo = packed.get(at / 8 + 1).copied().unwrap_or(0);
    let window = (u16::from(hi) << 8) | u16::from(lo);
    let shift = 16usize.saturating_sub(at % 8 + bits);
    usize::from((window >> shift) & ((1u16 << bits) - 1))
}

#[inline]
fn value(values: &[u8], packed: &[u8], bits: u8, stride: usize, channel: usize, i: usize) -> i8 {
    let at = channel * stride + index(packed, bits, i);
    values.get(at).copied().unwrap_or(0) as i8
}

/// One `LutTensor` entry.
struct Entry {
    tensor: i32,
    value_buffer: u32,
    bits: u8,
}

/// The `COMPRESSION_METADATA` root table, if the model has that entry.
fn root<'a>(model: &Model<'a>) -> Option<Result<Table<'a>, Fault>> {
    let (_, bytes) = model.metadata().find(|(name, _)| *name == METADATA_NAME)?;
    Some(Table::root(bytes))
}

/// The `lut_tensors` of subgraph `subgraph` (empty if none).
fn lut_tensors<'a>(root: Table<'a>, subgraph: usize) -> Result<Vector<'a>, Fault> {
    let subgraphs = root.vector_or_empty(field::SUBGRAPHS, 4)?;
    if subgraph >= subgraphs.len() {
        return Ok(Vector::EMPTY_TABLES);
    }
    subgraphs
        .table(subgraph)?
        .vector_or_empty(field::LUT_TENSORS, 4)
}

fn entry(table: Table<'_>) -> Result<Entry, Fault> {
    Ok(Entry {
        tensor: table.i32(field::TENSOR, 0)?,
        value_buffer: table.u32(field::VALUE_BUFFER, 0)?,
        bits: table.u8(field::INDEX_BITWIDTH, 0)?,
    })
}

/// The entry describing tensor `tensor` of subgraph `subgraph`, read with
/// every fault caught (the verifier asks before the metadata is verified).
fn find(model: &Model<'_>, subgraph: usize, tensor: usize) -> Option<Entry> {
    let root = root(model)?.ok()?;
    let luts = lut_tensors(root, subgraph).ok()?;
    (0..luts.len())
        .filter_map(|j| entry(luts.table(j).ok()?).ok())
        .find(|e| usize::try_from(e.tensor).ok() == Some(tensor))
}

/// Whether the metadata names tensor `tensor` of subgraph `subgraph` (its
/// short buffer is then checked by [`verify`]).
pub(super) fn describes(model: &Model<'_>, subgraph: usize, tensor: usize) -> bool {
    find(model, subgraph, tensor).is_some()
}

/// The LUT of `tensor` (of any subgraph) of a verified model, if the
/// metadata compresses it.
pub(super) fn lut<'a>(model: &Model<'a>, tensor: &super::Tensor<'a>) -> Option<Lut<'a>> {
    let root = root(model)?.ok()?;
    let count = root.vector_or_empty(field::SUBGRAPHS, 4).ok()?.len();
    (0..count).find_map(|s| {
        let graph = model.subgraph(s)?;
        let luts = lut_tensors(root, s).ok()?;
        (0..luts.len()).find_map(|j| {
            let e = entry(luts.table(j).ok()?).ok()?;
            let t = graph.tensor(usize::try_from(e.tensor).ok()?)?;
            if !t.same(tensor) {
                return None;
            }
            layout(model, &t, &e).ok()
        })
    })
}

/// The tensor's [`Lut`], or why the entry does not fit it.
fn layout<'a>(
    model: &Model<'a>,
    tensor: &super::Tensor<'a>,
    e: &Entry,
) -> Result<Lut<'a>, &'static str> {
    if !(1..=MAX_BITS).contains(&e.bits) {
        return Err("index_bitwidth is not 1..=7");
    }
    if tensor.dtype() != TensorType::Int8 {
        return Err("mote reads LUT-compressed int8 tensors only");
    }
    let shape = tensor.shape();
    let elements = shape.elements();
    let packed = tensor.data();
    let needs = elements
        .checked_mul(usize::from(e.bits))
        .map(|b| b.div_ceil(8))
        .ok_or("too many elements")?;
    if elements == 0 || packed.len() != needs {
        return Err(
            "the tensor's buffer is not its indices packed (ceil(elements * bits / 8) bytes)",
        );
    }
    let buffer = usize::try_from(e.value_buffer).unwrap_or(usize::MAX);
    if buffer == 0 || buffer >= model.buffer_count() {
        return Err("value_buffer is out of range");
    }
    let values = model.buffer(buffer);
    let (channels, inner) = match tensor.quantization() {
        Some(q) if q.scale_count() > 1 => {
            let channels = q.scale_count();
            let axis = q.quantized_dimension();
            if shape.rank() == 0 || axis >= shape.rank() || shape.dim(axis) != channels {
                return Err("per-channel quantization does not fit the shape");
            }
            if axis == 0 {
                (channels, elements / channels)
            } else if axis == shape.rank() - 1 {
                (channels, 0)
            } else {
                return Err(
                    "value tables follow axis 0 or the last axis only (as in TFLite Micro)",
                );
            }
        }
        _ => (1, elements),
    };
    let stride = values.len() / channels;
    if stride == 0 || values.len() != channels * stride {
        return Err("the value buffer is not channels x stride int8 values");
    }
    Ok(Lut {
        bits: e.bits,
        stride,
        channels,
        inner: if channels > 1 { inner } else { elements },
        values,
        packed,
    })
}

/// Checks the `COMPRESSION_METADATA` entry, if any: one such entry, schema
/// version 1, no more subgraphs than the model, each `LutTensor` naming a
/// distinct constant int8 tensor whose buffer is exactly its packed indices,
/// a value buffer of `channels * stride` values and every index `< stride`.
/// `spend` charges the work budget (one unit per 8 indices checked).
pub(super) fn verify(
    model: &Model<'_>,
    mut spend: impl FnMut(usize, Location) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut found = None;
    for (i, (name, _)) in model.metadata().enumerate() {
        if name == METADATA_NAME {
            if found.is_some() {
                return Err(bad_metadata(
                    i,
                    Fault::OutOfBounds,
                    "two COMPRESSION_METADATA entries",
                ));
            }
            found = Some(i);
        }
    }
    let (Some(at), Some(root)) = (found, root(model)) else {
        return Ok(());
    };
    let malformed = |fault| bad_metadata(at, fault, METADATA_NAME);
    let root = root.map_err(malformed)?;
    let version = root.u32(field::SCHEMA_VERSION, 1).map_err(malformed)?;
    if version != 1 {
        return Err(Error::BadCompression {
            tensor: None,
            reason: "COMPRESSION_METADATA schema_version is not 1",
        });
    }
    let subgraphs = root
        .vector_or_empty(field::SUBGRAPHS, 4)
        .map_err(malformed)?;
    if subgraphs.len() > model.subgraph_count() {
        return Err(Error::BadCompression {
            tensor: None,
            reason: "COMPRESSION_METADATA has more subgraphs than the model",
        });
    }
    for s in 0..subgraphs.len() {
        let luts = lut_tensors(root, s).map_err(malformed)?;
        let graph = model.subgraph(s).ok_or(malformed(Fault::OutOfBounds))?;
        spend(
            luts.len().saturating_mul(luts.len()).saturating_add(1),
            Location::Metadata(at as u32),
        )?;
        for j in 0..luts.len() {
            let e = entry(luts.table(j).map_err(malformed)?).map_err(malformed)?;
            let t = usize::try_from(e.tensor)
                .ok()
                .filter(|t| *t < graph.tensor_count())
                .ok_or(Error::IndexOutOfRange {
                    at: Location::Metadata(at as u32),
                    field: "lut_tensors.tensor",
                    index: i64::from(e.tensor),
                    count: graph.tensor_count(),
                })?;
            let id = Some(t as u32);
            for k in 0..j {
                let other = entry(luts.table(k).map_err(malformed)?).map_err(malformed)?;
                if other.tensor == e.tensor {
                    return Err(Error::BadCompression {
                        tensor: id,
                        reason: "the tensor has two LutTensor entries",
                    });
                }
            }
            let tensor = graph.tensor(t).ok_or(malformed(Fault::OutOfBounds))?;
            if tensor.buffer_index() == e.value_buffer {
                return Err(Error::BadCompression {
                    tensor: id,
                    reason: "value_buffer is the tensor's own buffer",
                });
            }
            let lut = layout(model, &tensor, &e)
                .map_err(|reason| Error::BadCompression { tensor: id, reason })?;
            let elements = tensor.shape().elements();
            spend(elements / 8 + 1, Location::Tensor(t as u32))?;
            let bits = lut.bits;
            if (0..elements).any(|i| index(lut.packed, bits, i) >= lut.stride) {
                return Err(Error::BadCompression {
                    tensor: id,
                    reason: "an index is past its value table",
                });
            }
        }
    }
    Ok(())
}

fn bad_metadata(at: usize, fault: Fault, field: &'static str) -> Error {
    Error::Malformed {
        at: Location::Metadata(at as u32),
        field,
        fault,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_read_high_bits_first() {
        // TFLM's metadata.fbs example: 3-bit 7, 0, 3, 2 = 111 000 011 010 (+ padding).
        let packed = [0b1110_0001, 0b1010_0000];
        let got: Vec<usize> = (0..4).map(|i| index(&packed, 3, i)).collect();
        assert_eq!(got, [7, 0, 3, 2]);
        // 4 bits: the first in the high nibble.
        assert_eq!(
            [index(&[0x1f, 0x80], 4, 0), index(&[0x1f, 0x80], 4, 1)],
            [1, 15]
        );
        assert_eq!(index(&[0x1f, 0x80], 4, 2), 8);
        assert_eq!(index(&[0xff], 7, 5), 0, "past the end");
    }

    /// Packs like mote-compress's `lut::pack` (TFLM's layout), written again here.
    fn pack(indices: &[usize], bits: u8) -> Vec<u8> {
        let bits = usize::from(bits);
        let mut out = vec![0u8; (indices.len() * bits).div_ceil(8)];
        for (i, &v) in indices.iter().enumerate() {
            for b in 0..bits {
                if (v >> (bits - 1 - b)) & 1 == 1 {
                    let at = i * bits + b;
                    out[at / 8] |= 1 << (7 - at % 8);
                }
            }
        }
        out
    }

    #[test]
    fn every_width_round_trips() {
        for bits in 1..=MAX_BITS {
            let n = 1usize << bits;
            let indices: Vec<usize> = (0..101).map(|i| (i * 37 + 5) % n).collect();
            let packed = pack(&indices, bits);
            for (i, &want) in indices.iter().enumerate() {
                assert_eq!(index(&packed, bits, i), want, "bits {bits} element {i}");
            }
        }
    }

    #[test]
    fn values_follow_the_channel_of_either_axis() {
        // 2 channels x 3 elements, stride 2: tables [10, 11] and [-20, -21].
        let values = [10u8, 11, (-20i8) as u8, (-21i8) as u8];
        let indices = [0, 1, 1, 0, 1, 0];
        let packed = pack(&indices, 1);
        let axis0 = Lut {
            bits: 1,
            stride: 2,
            channels: 2,
            inner: 3,
            values: &values,
            packed: &packed,
        };
        let mut out = [0i8; 6];
        axis0.decode(0, &mut out);
        assert_eq!(out, [10, 11, 11, -20, -21, -20]);
        let last = Lut { inner: 0, ..axis0 };
        assert!(last.channel_axis_is_last());
        last.decode(0, &mut out);
        assert_eq!(out, [10, -21, 11, -20, 11, -20]);
        let mut tail = [0i8; 2];
        axis0.decode(4, &mut tail);
        assert_eq!(tail, [-21, -20]);
    }
}
