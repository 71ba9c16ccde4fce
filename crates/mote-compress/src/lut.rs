//! TensorFlow Lite Micro's LUT compression of a clustered model
//! (`tensorflow/lite/micro/compression`): a filter's buffer holds one
//! `bits`-bit index per element, packed from the high bit of each byte down
//! with no padding between elements; its values are looked up in a table
//! stored in another buffer, one table per quantization channel (all the same
//! length, one after another) when the tensor has more than one scale. A
//! `COMPRESSION_METADATA` entry of the model's `metadata` holds the
//! FlatBuffer `tflite.micro.compression.Metadata { schema_version: 1,
//! subgraphs: [{ lut_tensors: [{ tensor, value_buffer, index_bitwidth }] }] }`.
//!
//! TensorFlow Lite Micro reads the channel of element `i` along axis 0
//! (`i / (elements / channels)`) or along the last axis (`i % channels`);
//! other axes are refused there, so here too. mote-runtime reads this encoding
//! (`Tensor::lut()`; FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D filters), as does the tflite-micro pip
//! package (built with `USE_TFLM_COMPRESSION`).

use mote_train::tflite::builder::{finish, Field, Object, Scalar};
use mote_train::tflite::ModelDef;

use crate::cluster::{index_bits, ClusterError, ClusteredFilter};

/// The metadata name TensorFlow Lite Micro looks for.
pub const METADATA_NAME: &str = "COMPRESSION_METADATA";

/// Packs `indices` as `bits`-bit fields, high bits first (TFLM's layout).
pub fn pack(indices: &[u8], bits: u32) -> Vec<u8> {
    let mut out = vec![0u8; (indices.len() * bits as usize).div_ceil(8)];
    for (i, &index) in indices.iter().enumerate() {
        for b in 0..bits as usize {
            let bit = (index >> (bits as usize - 1 - b)) & 1;
            let at = i * bits as usize + b;
            out[at / 8] |= bit << (7 - at % 8);
        }
    }
    out
}

/// `model` (clustered: at most 2^7 values per channel) with the given
/// `filters` LUT-compressed; the value tables go into buffers of metadata
/// entries named `mote_lut_values_<tensor>` (TFLM needs only their buffer index).
pub fn compress(model: &ModelDef, filters: &[ClusteredFilter]) -> Result<ModelDef, ClusterError> {
    let mut out = model.clone();
    // The writer numbers buffers: 0 empty, one per constant tensor, then one
    // per metadata entry in order.
    let constants = model.tensors.iter().filter(|t| t.data.is_some()).count();
    let mut luts = Vec::new();
    for f in filters {
        let bad = |reason| ClusterError::BadFilter {
            tensor: f.tensor,
            reason,
        };
        let tensor = &mut out.tensors[f.tensor];
        let rank = tensor.shape.len();
        let axis = tensor
            .quantization
            .as_ref()
            .map_or(0, |q| q.quantized_dimension);
        let data = tensor.data.as_mut().ok_or(bad("not constant"))?;
        let channels = f.channels;
        let channel_of: Box<dyn Fn(usize) -> usize> = if channels == 1 {
            Box::new(|_| 0)
        } else if axis == 0 {
            let inner = data.len() / channels;
            Box::new(move |i| i / inner)
        } else if usize::try_from(axis).ok() == Some(rank.saturating_sub(1)) {
            Box::new(move |i| i % channels)
        } else {
            return Err(bad("TFLM's LUT tables follow axis 0 or the last axis only"));
        };
        let mut tables: Vec<Vec<i8>> = vec![Vec::new(); channels];
        for (i, &b) in data.iter().enumerate() {
            tables[channel_of(i)].push(b as i8);
        }
        for t in &mut tables {
            t.sort_unstable();
            t.dedup();
        }
        let stride = tables.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let bits = index_bits(stride);
        if bits > 7 {
            return Err(bad(
                "more than 128 values in a channel (TFLM's LUT indices are 1..=7 bits)",
            ));
        }
        let indices: Vec<u8> = data
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                let table = &tables[channel_of(i)];
                table.binary_search(&(b as i8)).unwrap_or(0) as u8
            })
            .collect();
        *data = pack(&indices, bits);
        let mut values = Vec::with_capacity(channels * stride);
        for t in &tables {
            values.extend(t.iter().map(|&v| v as u8));
            values.resize(values.len() + stride - t.len(), 0);
        }
        let buffer = (1 + constants + out.metadata.len()) as u32;
        out.metadata
            .push((format!("mote_lut_values_{}", f.tensor), values));
        luts.push(Object::Table(vec![
            (0, Field::Scalar(Scalar::I32(f.tensor as i32))),
            (1, Field::Scalar(Scalar::U32(buffer))),
            (2, Field::Scalar(Scalar::U8(bits as u8))),
        ]));
    }
    let subgraph = Object::Table(vec![(0, Field::Object(Object::Objects(luts)))]);
    let metadata = Object::Table(vec![
        (0, Field::Scalar(Scalar::U32(1))),
        (1, Field::Object(Object::Objects(vec![subgraph]))),
    ]);
    out.metadata
        .push((METADATA_NAME.to_string(), finish(&metadata, &[0; 4])));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_high_bits_first() {
        // TFLM's metadata.fbs example: 3-bit indices 7, 0, 3, 2 -> 111 000 011 010 (+ 4 bits of padding).
        assert_eq!(pack(&[7, 0, 3, 2], 3), vec![0b1110_0001, 0b1010_0000]);
        // 4 bits: two a byte, the first in the high nibble.
        assert_eq!(pack(&[1, 15, 8], 4), vec![0x1f, 0x80]);
    }
}
