//! MAX_POOL_2D: the maximum of each window (windows clipped to the image),
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
            max_pool_f32(params, range, input, output)
        }
        PoolKind::Int8 { min, max } => {
            let (input, output) = ctx.io_as::<i8, i8>(0, 0);
            max_pool_i8(params, (min, max), input, output)
        }
    };
    if complete {
        Ok(())
    } else {
        Err(ctx.invalid_data("a pooling window lies entirely in the padding"))
    }
}

/// The int8 kernel: the window's maximum, clamped to `[min, max]`.
pub fn max_pool_i8(
    params: &PoolParams,
    (min, max): (i32, i32),
    input: &[i8],
    output: &mut [i8],
) -> bool {
    let depth = params.window.in_depth;
    for_each_window(&params.window, |span, index| {
        let out_pixel = output
            .get_mut(index * depth..(index + 1) * depth)
            .unwrap_or(&mut []);
        out_pixel.fill(i8::MIN);
        for at in span.offsets() {
            let x = input.get(at..at + depth).unwrap_or(&[]);
            for (m, &v) in out_pixel.iter_mut().zip(x) {
                *m = (*m).max(v);
            }
        }
        for out in out_pixel.iter_mut() {
            *out = i32::from(*out).max(min).min(max) as i8;
        }
    })
}

/// The float32 kernel: the window's maximum (from the lowest float), clamped.
pub fn max_pool_f32(
    params: &PoolParams,
    range: (f32, f32),
    input: &[f32],
    output: &mut [f32],
) -> bool {
    let depth = params.window.in_depth;
    for_each_window(&params.window, |span, index| {
        let out_pixel = output
            .get_mut(index * depth..(index + 1) * depth)
            .unwrap_or(&mut []);
        out_pixel.fill(f32::MIN);
        for at in span.offsets() {
            let x = input.get(at..at + depth).unwrap_or(&[]);
            for (m, &v) in out_pixel.iter_mut().zip(x) {
                // std::max(m, v): keeps m unless m < v.
                if *m < v {
                    *m = v;
                }
            }
        }
        for out in out_pixel.iter_mut() {
            *out = clamp(*out, range);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::conv_2d::Window;
    use super::*;

    #[test]
    fn int8_and_float_maxima() {
        // 2x3 input, 2x2 filter, stride 2: windows {1, 2, 2, 2} and {-3, -4}.
        let params = PoolParams {
            window: Window {
                batches: 1,
                in_height: 2,
                in_width: 3,
                in_depth: 1,
                filter_height: 2,
                filter_width: 2,
                out_height: 1,
                out_width: 2,
                out_depth: 1,
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
        };
        let mut out = [0i8; 2];
        assert!(max_pool_i8(
            &params,
            (-128, 127),
            &[1, 2, -3, 2, 2, -4],
            &mut out
        ));
        assert_eq!(out, [2, -3]);
        // relu range [0, 127] clamps -3 to 0.
        assert!(max_pool_i8(
            &params,
            (0, 127),
            &[1, 2, -3, 2, 2, -4],
            &mut out
        ));
        assert_eq!(out, [2, 0]);
        let mut out = [0f32; 2];
        let input = [1.0, 2.5, -3.0, 2.0, 2.0, -4.0];
        assert!(max_pool_f32(
            &params,
            (f32::MIN, f32::MAX),
            &input,
            &mut out
        ));
        assert_eq!(out, [2.5, -3.0]);
    }
}
