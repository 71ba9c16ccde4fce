//! FULLY_CONNECTED: `output[b, o] = act(sum_d input[b, d] * weights[o, d] + bias[o])`.
//!
//! Inputs: 0 input `[..., depth]` (all leading dimensions are batches),
//! 1 weights `[units, depth]`, 2 optional bias `[units]`. Output `[batches, units]`
//! (or the input's leading dimensions with `keep_num_dims`).

use super::activation::{clamp, Activation};
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// Field ids of `FullyConnectedOptions`.
mod field {
    pub const FUSED_ACTIVATION_FUNCTION: u16 = 0;
    pub const WEIGHTS_FORMAT: u16 = 1;
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FullyConnectedParams {
    /// Rows of the input (product of its leading dimensions).
    pub batches: usize,
    /// Elements summed per output (the input's last dimension).
    pub depth: usize,
    /// Outputs per row.
    pub units: usize,
    /// Whether input 2 holds a bias.
    pub has_bias: bool,
    /// The fused activation's clamp range.
    pub range: (f32, f32),
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<FullyConnectedParams, Error> {
    let input = ctx.input(0)?;
    let weights = ctx.input(1)?;
    let bias = ctx.optional_input(2);
    let output = ctx.output(0)?;
    let options = ctx.options();
    if options.u8(field::WEIGHTS_FORMAT, 0) != 0 {
        return Err(ctx.invalid("only the default weights format is supported"));
    }
    let activation = Activation::from_code(options.u8(field::FUSED_ACTIVATION_FUNCTION, 0))
        .and_then(Activation::float_range)
        .ok_or(ctx.invalid("unsupported fused activation"))?;
    let w = weights.shape();
    if w.rank() != 2 {
        return Err(ctx.invalid("weights must have rank 2"));
    }
    let (units, depth) = (w.dim(0), w.dim(1));
    let elements = input.shape().elements();
    if depth == 0 || elements % depth != 0 {
        return Err(ctx.invalid("input size is not a multiple of the weights' depth"));
    }
    let batches = elements / depth;
    if output.shape().elements() != batches * units {
        return Err(ctx.invalid("output size is not batches x units"));
    }
    if let Some(bias) = bias {
        if bias.shape().elements() != units {
            return Err(ctx.invalid("bias size is not the number of units"));
        }
        ctx.expect_type(&bias, TensorType::Float32)?;
    }
    match input.dtype() {
        TensorType::Float32 => {
            ctx.expect_type(&weights, TensorType::Float32)?;
            ctx.expect_type(&output, TensorType::Float32)?;
        }
        other => return Err(ctx.unsupported_type(other)),
    }
    Ok(FullyConnectedParams {
        batches,
        depth,
        units,
        has_bias: bias.is_some(),
        range: activation,
    })
}

/// Runs the operator.
pub fn eval(params: &FullyConnectedParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let weights = ctx.input(1);
    let bias = if params.has_bias { ctx.input(2) } else { &[] };
    let (input, output) = ctx.io(0, 0);
    fully_connected_f32(params, input, weights, bias, output);
    Ok(())
}

fn f32_at(bytes: &[u8]) -> f32 {
    f32::from_le_bytes(bytes.try_into().unwrap_or([0; 4]))
}

/// The float32 reference kernel on little-endian bytes, summing in TensorFlow
/// Lite Micro's order (the products in depth order, then the bias).
pub fn fully_connected_f32(
    params: &FullyConnectedParams,
    input: &[u8],
    weights: &[u8],
    bias: &[u8],
    output: &mut [u8],
) {
    let row_bytes = params.depth * 4;
    for (row, out_row) in input
        .chunks_exact(row_bytes)
        .zip(output.chunks_exact_mut(params.units * 4))
    {
        let filters = weights.chunks_exact(row_bytes);
        for (unit, (filter, out)) in filters.zip(out_row.chunks_exact_mut(4)).enumerate() {
            let mut total = 0.0f32;
            for (x, w) in row.chunks_exact(4).zip(filter.chunks_exact(4)) {
                total += f32_at(x) * f32_at(w);
            }
            let b = bias.get(unit * 4..unit * 4 + 4).map_or(0.0, f32_at);
            out.copy_from_slice(&clamp(total + b, params.range).to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn two_rows_two_units_with_bias_and_relu() {
        // in = [[1, 2], [3, -4]], w = [[1, 1], [2, -1]], b = [0.5, -10]
        // row 0: 1+2+0.5 = 3.5;   2-2-10 = -10 -> relu 0
        // row 1: 3-4+0.5 = -0.5 -> 0;  6+4-10 = 0
        let params = FullyConnectedParams {
            batches: 2,
            depth: 2,
            units: 2,
            has_bias: true,
            range: (0.0, f32::MAX),
        };
        let mut out = vec![0u8; 16];
        fully_connected_f32(
            &params,
            &bytes(&[1., 2., 3., -4.]),
            &bytes(&[1., 1., 2., -1.]),
            &bytes(&[0.5, -10.]),
            &mut out,
        );
        assert_eq!(out, bytes(&[3.5, 0.0, 0.0, 0.0]));
    }

    #[test]
    fn no_bias() {
        // y = 2 * 10 = 20
        let params = FullyConnectedParams {
            batches: 1,
            depth: 1,
            units: 1,
            has_bias: false,
            range: (f32::MIN, f32::MAX),
        };
        let mut out = vec![0u8; 4];
        fully_connected_f32(&params, &bytes(&[10.]), &bytes(&[2.]), &[], &mut out);
        assert_eq!(out, bytes(&[20.0]));
    }
}
