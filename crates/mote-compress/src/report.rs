//! The compression report: what a model costs (file, weights, zeros, arena,
//! gzip size as a proxy for what sparsity buys in storage) and what it
//! computes on data, so compressed variants can be compared side by side.

use std::io::Write;

use mote_runtime::{Interpreter, Model, OpResolver, TensorType};

/// The cost of one model.
#[derive(Clone, Debug, PartialEq)]
pub struct Cost {
    /// Bytes of the `.tflite` file.
    pub file_bytes: usize,
    /// Bytes of the file after gzip (level 9).
    pub gzip_bytes: usize,
    /// Weight elements (inputs 1 of FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D).
    pub weights: usize,
    /// Weight elements equal to zero.
    pub zero_weights: usize,
    /// Bytes those weights take.
    pub weight_bytes: usize,
    /// The weights' element type (`"int8"`, `"float32"`, or `"mixed"`).
    pub weight_type: String,
    /// Arena bytes mote-runtime needs.
    pub arena_bytes: usize,
}

/// The interpreter's arena for `model`, grown until it fits.
fn arena_for(model: &Model<'_>) -> Result<Vec<u8>, mote_runtime::Error> {
    let mut size = 1 << 16;
    loop {
        let mut arena = vec![0u8; size];
        match Interpreter::new(model, &mut arena, &OpResolver::all()) {
            Ok(_) => return Ok(arena),
            // Grow to what the planner asks for (or double), up to 2 GiB.
            Err(e @ mote_runtime::Error::ArenaTooSmall { needed, .. }) => {
                size = if needed > size {
                    needed.saturating_add(1024)
                } else {
                    size.saturating_mul(2)
                };
                if size > 1 << 31 {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Measures `bytes` (a `.tflite` file).
pub fn cost(bytes: &[u8]) -> Result<Cost, mote_runtime::Error> {
    let model = Model::parse(bytes)?;
    let graph = model.main();
    let (mut weights, mut zero_weights, mut weight_bytes) = (0, 0, 0);
    let mut types: Vec<TensorType> = Vec::new();
    for i in 0..graph.operator_count() {
        let Some(op) = graph.operator(i) else {
            continue;
        };
        use mote_runtime::BuiltinOperator as B;
        if ![B::FULLY_CONNECTED, B::CONV_2D, B::DEPTHWISE_CONV_2D].contains(&op.builtin()) {
            continue;
        }
        let Some(w) = op.inputs().get(1).and_then(|t| graph.tensor(t)) else {
            continue;
        };
        let data = w.data();
        let size = match w.dtype() {
            TensorType::Float32 => 4,
            TensorType::Int8 => 1,
            _ => continue,
        };
        weights += data.len() / size;
        zero_weights += data
            .chunks_exact(size)
            .filter(|c| c.iter().all(|&b| b == 0) || c == &[0, 0, 0, 0x80])
            .count();
        weight_bytes += data.len();
        if !types.contains(&w.dtype()) {
            types.push(w.dtype());
        }
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let gzip_bytes = gzip
        .write_all(bytes)
        .and_then(|()| gzip.finish())
        .map_or(0, |v| v.len());
    let mut arena = arena_for(&model)?;
    let arena_bytes = Interpreter::new(&model, &mut arena, &OpResolver::all())?.arena_used();
    Ok(Cost {
        file_bytes: bytes.len(),
        gzip_bytes,
        weights,
        zero_weights,
        weight_bytes,
        weight_type: match types[..] {
            [] => "none".into(),
            [t] => t.name().into(),
            _ => "mixed".into(),
        },
        arena_bytes,
    })
}

/// Runs a one-input, one-output model on each sample of `xs` (`sample_len`
/// floats each) and returns the outputs as floats: int8 edges are quantized
/// and dequantized with the model's own parameters.
pub fn run_float(
    bytes: &[u8],
    xs: &[f32],
    sample_len: usize,
) -> Result<Vec<f32>, mote_runtime::Error> {
    let model = Model::parse(bytes)?;
    let mut arena = arena_for(&model)?;
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all())?;
    let (input, output) = (interpreter.input_tensor(0)?, interpreter.output_tensor(0)?);
    let q = |t: &mote_runtime::Tensor<'_>| {
        t.quantization()
            .map_or((1.0, 0), |q| (q.scale(0), q.zero_point(0) as i32))
    };
    let (in_q, out_q) = (q(&input), q(&output));
    let mut ys = Vec::new();
    for x in xs.chunks(sample_len.max(1)) {
        if input.dtype() == TensorType::Int8 {
            for (s, v) in interpreter.input_mut::<i8>(0)?.iter_mut().zip(x) {
                *s = ((v / in_q.0).round() + in_q.1 as f32).clamp(-128.0, 127.0) as i8;
            }
        } else {
            let slot = interpreter.input_mut::<f32>(0)?;
            let n = slot.len().min(x.len());
            slot[..n].copy_from_slice(&x[..n]);
        }
        interpreter.invoke()?;
        if output.dtype() == TensorType::Int8 {
            ys.extend(
                interpreter
                    .output::<i8>(0)?
                    .iter()
                    .map(|&v| (i32::from(v) - out_q.1) as f32 * out_q.0),
            );
        } else {
            ys.extend_from_slice(interpreter.output::<f32>(0)?);
        }
    }
    Ok(ys)
}

/// The fraction of rows of `outputs` (`classes` wide) whose largest entry is at `labels`.
pub fn accuracy(outputs: &[f32], classes: usize, labels: &[f32]) -> f64 {
    let hits = outputs
        .chunks(classes.max(1))
        .zip(labels)
        .filter(|(p, &label)| {
            let best = (0..p.len()).fold(0, |b, i| if p[i] > p[b] { i } else { b });
            best == label as usize
        })
        .count();
    hits as f64 / labels.len().max(1) as f64
}

/// The mean squared difference of two equally long output sets.
pub fn mse(a: &[f32], b: &[f32]) -> f64 {
    let sum: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
    sum / a.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_argmax_hits() {
        // Rows [0.1, 0.9] -> 1 (label 1: hit), [0.8, 0.2] -> 0 (label 1: miss).
        assert_eq!(accuracy(&[0.1, 0.9, 0.8, 0.2], 2, &[1.0, 1.0]), 0.5);
    }

    #[test]
    fn mse_is_the_mean_squared_difference() {
        // (1 - 0)^2 + (2 - 4)^2 = 5, over 2.
        assert_eq!(mse(&[1.0, 2.0], &[0.0, 4.0]), 2.5);
    }
}
