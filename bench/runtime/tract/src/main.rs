//! `mote-bench-tract [--invokes N] MODEL.tflite`: loads the model with
//! tract-tflite, optimizes it, runs it on a random input (one thread) and
//! prints `{"median_us": .., "min_us": ..}` as `mote bench --json` does, or
//! `{"error": ".."}` when tract cannot load or run the model.

use std::time::Instant;
use tract_tflite::prelude::*;

fn run(path: &str, invokes: usize) -> TractResult<(f64, f64)> {
    let model = tract_tflite::tflite()
        .model_for_path(path)?
        .into_optimized()?
        .into_runnable()?;
    let fact = model.model().input_fact(0)?.clone();
    let shape: Vec<usize> = fact
        .shape
        .as_concrete()
        .ok_or_else(|| tract_tflite::internal::anyhow!("input shape is not concrete"))?
        .to_vec();
    let n: usize = shape.iter().product();
    // A fixed pseudo-random int8 input, in the input's (quantized) type.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<i8> = (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as i8
        })
        .collect();
    let input = tract_ndarray::Array::from_shape_vec(shape, bytes)?.into_tensor();
    let input = input.cast_to_dt(fact.datum_type)?.into_owned();
    let input: TVec<TValue> = tvec!(input.into_tvalue());
    model.run(input.clone())?; // warm-up
    let mut times = Vec::with_capacity(invokes);
    for _ in 0..invokes {
        let t = Instant::now();
        let out = model.run(input.clone())?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
        drop(out);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[0]))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (invokes, path) = match args.as_slice() {
        [flag, n, path] if flag == "--invokes" => (n.parse().unwrap_or(200), path.clone()),
        [path] => (200, path.clone()),
        _ => {
            eprintln!("usage: mote-bench-tract [--invokes N] MODEL.tflite");
            std::process::exit(2);
        }
    };
    match run(&path, invokes.max(1)) {
        Ok((median, min)) => println!("{{\"median_us\": {median:.3}, \"min_us\": {min:.3}}}"),
        Err(e) => {
            let msg = format!("{e:#}").replace('\\', "\\\\").replace('"', "'").replace('\n', " ");
            println!("{{\"error\": \"{msg}\"}}");
        }
    }
}
