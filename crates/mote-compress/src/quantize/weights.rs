//! Constant tensors: symmetric int8 weights (per channel or per tensor) and
//! int32 biases at `input_scale * weight_scale`.

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
        .map(|&m| if m > 0.0 { m / 127.0 } else { 1.0 })
        .collect();
    let values = values
        .iter()
        .enumerate()
        .map(|(i, v)| (v / scales[channel_of(i)]).round().clamp(-127.0, 127.0) as i8)
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
