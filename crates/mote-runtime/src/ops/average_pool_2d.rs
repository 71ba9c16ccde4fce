//! AVERAGE_POOL_2D: the mean of each window (windows clipped to the image),
//! int8 and float32, as TensorFlow Lite Micro's reference kernels.

use super::activation::clamp;
use super::pooling::{for_each_window, PoolKind};
use super::EvalContext;
use crate::error::Error;

pub use super::pooling::{prepare, PoolParams};

/// Runs the operator.
pub fn eval(params: &PoolParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let complete = match params.kind {
        PoolKind::Float32 { range } => {
            let (input, output) = ctx.io_as::<f32, f32>(0, 0);
            average_pool_f32(params, range, input, output)
        }
        PoolKind::Int8 { min, max } => {
            let (input, output) = ctx.io_as::<i8, i8>(0, 0);
            average_pool_i8(params, (min, max), input, output)
        }
    };
    if complete {
        Ok(())
    } else {
        Err(ctx.invalid_data("a pooling window lies entirely in the padding"))
    }
}

/// Channels summed at once.
const CHUNK: usize = 64;

/// The int8 kernel: the window's sum divided by its in-image size, rounded
/// half away from zero, then clamped. `false` for an empty window (TensorFlow
/// Lite fails then too).
pub fn average_pool_i8(
    params: &PoolParams,
    (min, max): (i32, i32),
    input: &[i8],
    output: &mut [i8],
) -> bool {
    let depth = params.window.in_depth;
    for_each_window(&params.window, |span, index| {
        let count = span.count() as i32;
        let out_pixel = output
            .get_mut(index * depth..(index + 1) * depth)
            .unwrap_or(&mut []);
        for start in (0..depth).step_by(CHUNK) {
            let end = (start + CHUNK).min(depth);
            let mut acc = [0i32; CHUNK];
            let sums = acc.get_mut(..end - start).unwrap_or(&mut []);
            for at in span.offsets() {
                let x = input.get(at + start..at + end).unwrap_or(&[]);
                for (s, &v) in sums.iter_mut().zip(x) {
                    *s = s.wrapping_add(i32::from(v));
                }
            }
            let outs = out_pixel.get_mut(start..end).unwrap_or(&mut []);
            for (out, &s) in outs.iter_mut().zip(sums.iter()) {
                // C++ division truncates toward zero, as Rust's does.
                let average = if s > 0 {
                    (s + count / 2) / count
                } else {
                    (s - count / 2) / count
                };
                *out = average.max(min).min(max) as i8;
            }
        }
    })
}

/// The float32 kernel: the window's sum (in TensorFlow Lite's order) divided
/// by its in-image size, then clamped.
pub fn average_pool_f32(
    params: &PoolParams,
    range: (f32, f32),
    input: &[f32],
    output: &mut [f32],
) -> bool {
    let depth = params.window.in_depth;
    for_each_window(&params.window, |span, index| {
        let count = span.count() as f32;
        let out_pixel = output
            .get_mut(index * depth..(index + 1) * depth)
            .unwrap_or(&mut []);
        out_pixel.fill(0.0);
        for at in span.offsets() {
            let x = input.get(at..at + depth).unwrap_or(&[]);
            for (s, &v) in out_pixel.iter_mut().zip(x) {
                *s += v;
            }
        }
        for out in out_pixel.iter_mut() {
            *out = clamp(*out / count, range);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::conv_2d::Window;
    use super::*;

    fn params(depth: usize) -> PoolParams {
        // 2x3 input, 2x2 filter, stride 2, SAME: out 1x2; the second window
        // holds only column 2 (two pixels).
        PoolParams {
            window: Window {
                batches: 1,
                in_height: 2,
                in_width: 3,
                in_depth: depth,
                filter_height: 2,
                filter_width: 2,
                out_height: 1,
                out_width: 2,
                out_depth: depth,
                stride_height: 2,
                stride_width: 2,
                dilation_height: 1,
                dilation_width: 1,
                pad_height: 0,
                pad_width: 0,
            },
            kind: PoolKind::Int8 {
                min: -128,
                max: 127,
            },
        }
    }

    #[test]
    fn int8_rounds_half_away_from_zero() {
        // rows [1, 2, -3], [2, 2, -4]: window 0 = 1+2+2+2 = 7 / 4 = 1.75 -> 2;
        // window 1 = -3-4 = -7 / 2 = -3.5 -> -4 (away from zero).
        let mut out = [0i8; 2];
        assert!(average_pool_i8(
            &params(1),
            (-128, 127),
            &[1, 2, -3, 2, 2, -4],
            &mut out
        ));
        assert_eq!(out, [2, -4]);
        // With relu's range [0, 127]: [2, 0].
        assert!(average_pool_i8(
            &params(1),
            (0, 127),
            &[1, 2, -3, 2, 2, -4],
            &mut out
        ));
        assert_eq!(out, [2, 0]);
    }

    #[test]
    fn float_divides_by_the_in_image_count() {
        let mut out = [0f32; 2];
        let input = [1.0, 2.0, -3.0, 2.0, 2.0, -4.0];
        assert!(average_pool_f32(
            &params(1),
            (f32::MIN, f32::MAX),
            &input,
            &mut out
        ));
        assert_eq!(out, [1.75, -3.5]);
    }
}
