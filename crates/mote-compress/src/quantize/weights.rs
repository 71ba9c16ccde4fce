//! Constant tensors: symmetric int8 or int4 weights (per channel or per
//! tensor) and int32 biases at `input_scale * weight_scale`.

use mote_runtime::TensorType;

/// How weights are stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WeightType {
    /// int8, symmetric in `[-127, 127]` (TensorFlow Lite's int8 scheme).
    #[default]
    Int8,
    /// int4 (TensorFlow Lite's `INT4`), symmetric in `[-7, 7]`, packed two a
    /// byte low nibble first ([`pack_int4`]).
    Int4,
}

impl WeightType {
    /// The largest magnitude a weight is quantized to.
    pub fn max(self) -> f32 {
        match self {
            WeightType::Int8 => 127.0,
            WeightType::Int4 => 7.0,
        }
    }

    /// The tensor type the weights are written as.
    pub fn tensor_type(self) -> TensorType {
        match self {
            WeightType::Int8 => TensorType::Int8,
            WeightType::Int4 => TensorType::Int4,
        }
    }

    /// The bytes of quantized `values` as this type stores them.
    pub fn bytes(self, values: &[i8]) -> Vec<u8> {
        match self {
            WeightType::Int8 => values.iter().map(|&v| v as u8).collect(),
            WeightType::Int4 => pack_int4(values),
        }
    }
}

/// int4 values (each in `[-8, 7]`) packed two a byte as TensorFlow Lite
/// stores `INT4`: element `2k` in the low nibble of byte `k`, `2k + 1` in the
/// high nibble; an odd count leaves the last high nibble zero.
pub fn pack_int4(values: &[i8]) -> Vec<u8> {
    values
        .chunks(2)
        .map(|p| {
            let low = p[0] as u8 & 0x0f;
            let high = p.get(1).map_or(0, |&h| h as u8 & 0x0f);
            low | high << 4
        })
        .collect()
}

/// Symmetric int8 weights: `real = scales[c] * q` for channel `c`.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// The int8 values, in the float tensor's order.
    pub values: Vec<i8>,
    /// One scale per channel (or a single one, per tensor).
    pub scales: Vec<f32>,
}

/// Quantizes `values` of `shape` symmetrically to `[-127, 127]`: one scale per
/// index of `axis` when `per_channel`, else one for the tensor. A channel of
/// zeros gets scale 1 (any scale represents it).
pub fn quantize_weights(
    values: &[f32],
    shape: &[usize],
    axis: usize,
    per_channel: bool,
) -> Weights {
    quantize_weights_as(values, shape, axis, per_channel, WeightType::Int8)
}

/// [`quantize_weights`] to `[-m, m]` with `m` = [`WeightType::max`] of `to`.
pub fn quantize_weights_as(
    values: &[f32],
    shape: &[usize],
    axis: usize,
    per_channel: bool,
    to: WeightType,
) -> Weights {
    let top = to.max();
    let channels = if per_channel { shape[axis] } else { 1 };
    let inner: usize = shape[axis + 1..].iter().product();
    let channel_of = |i: usize| {
        if per_channel {
            (i / inner) % channels
        } else {
            0
        }
    };
    let mut max_abs = vec![0f32; channels];
    for (i, v) in values.iter().enumerate() {
        let c = channel_of(i);
        max_abs[c] = max_abs[c].max(v.abs());
    }
    let scales: Vec<f32> = max_abs
        .iter()
        .map(|&m| if m > 0.0 { m / top } else { 1.0 })
        .collect();
    let values = values
        .iter()
        .enumerate()
        .map(|(i, v)| (v / scales[channel_of(i)]).round().clamp(-top, top) as i8)
        .collect();
    Weights { values, scales }
}

/// Quantizes a bias to int32 at scale `input_scale * weight_scale` of its
/// channel. `weight_scales` has one entry per channel, or one for all; the
/// returned scales follow it (one per channel, or one).
pub fn quantize_bias(
    bias: &[f32],
    input_scale: f32,
    weight_scales: &[f32],
) -> (Vec<i32>, Vec<f32>) {
    let scales: Vec<f32> = weight_scales.iter().map(|w| input_scale * w).collect();
    let values = bias
        .iter()
        .enumerate()
        .map(|(c, &b)| {
            let s = scales[c.min(scales.len() - 1)];
            (f64::from(b) / f64::from(s))
                .round()
                .clamp(i32::MIN as f64, i32::MAX as f64) as i32
        })
        .collect();
    (values, scales)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_channel_gets_its_own_scale() {
        // Shape [2, 2], axis 0: channel 0 = [1, -0.25] -> scale 1/127, q = [127, -31.75 -> -32];
        // channel 1 = [0.2, 0.05] -> scale 0.2/127, q = [127, 31.75 -> 32].
        let w = quantize_weights(&[1.0, -0.25, 0.2, 0.05], &[2, 2], 0, true);
        assert_eq!(w.scales, vec![1.0 / 127.0, 0.2 / 127.0]);
        assert_eq!(w.values, vec![127, -32, 127, 32]);
    }

    #[test]
    fn per_tensor_shares_the_largest_scale() {
        // max |w| = 1 -> scale 1/127; 0.2 -> 25.4 -> 25, 0.05 -> 6.35 -> 6.
        let w = quantize_weights(&[1.0, -0.25, 0.2, 0.05], &[2, 2], 0, false);
        assert_eq!(w.scales, vec![1.0 / 127.0]);
        assert_eq!(w.values, vec![127, -32, 25, 6]);
    }

    #[test]
    fn the_last_axis_is_a_channel_axis_too() {
        // Depthwise [1, 1, 2, 2], axis 3: channels alternate; channel 1 is all zero.
        // Channel 0 = [2, -0.5]: scale 2/127, -0.5 -> -31.75 -> -32.
        let w = quantize_weights(&[2.0, 0.0, -0.5, 0.0], &[1, 1, 2, 2], 3, true);
        assert_eq!(w.scales, vec![2.0 / 127.0, 1.0]);
        assert_eq!(w.values, vec![127, 0, -32, 0]);
    }

    #[test]
    fn int4_weights_take_seven_steps_each_way_and_pack_low_nibble_first() {
        // max |w| = 0.7 -> scale 0.1: [0.7, -0.25, 0.04, -0.7] -> [7, -2.5 -> -3, 0, -7].
        let w = quantize_weights_as(
            &[0.7, -0.25, 0.04, -0.7],
            &[1, 4],
            0,
            true,
            WeightType::Int4,
        );
        assert_eq!(w.scales, vec![0.7 / 7.0]);
        assert_eq!(w.values, vec![7, -3, 0, -7]);
        // 7 | -3 << 4 = 0xd7; 0 | -7 << 4 = 0x90; an odd count leaves 0 above -8.
        assert_eq!(WeightType::Int4.bytes(&w.values), vec![0xd7, 0x90]);
        assert_eq!(pack_int4(&[-8, 7, -8]), vec![0x78, 0x08]);
    }

    #[test]
    fn bias_scale_is_input_scale_times_weight_scale() {
        // scales 0.5 * [0.1, 0.2] = [0.05, 0.1]: 1.0 -> 20, -1.0 -> -10.
        let (q, scales) = quantize_bias(&[1.0, -1.0], 0.5, &[0.1, 0.2]);
        assert_eq!(q, vec![20, -10]);
        assert_eq!(scales, vec![0.05, 0.1]);
        // One weight scale for all: one bias scale, 0.5 * 0.1 = 0.05 -> [20, -20].
        assert_eq!(
            quantize_bias(&[1.0, -1.0], 0.5, &[0.1]),
            (vec![20, -20], vec![0.05])
        );
    }
}
