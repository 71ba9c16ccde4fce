//! Host cost of the micro_speech front-end per 20 ms hop: runs
//! `audio_preprocessor_int8.tflite` on every hop of the four 1 s example clips,
//! many times, and prints the median, min and mean microseconds per hop.
//!
//! `cargo run --release -p mote-audio --example frontend_cost [ASSETS]`

use std::path::PathBuf;
use std::time::Instant;

use mote_audio::{wav, Framer};
use mote_runtime::{Interpreter, Model, OpResolver};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let assets = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("MOTE_ASSETS").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("../shared/assets"));
    let dir = assets.join("tflm/micro_speech");
    let bytes = std::fs::read(dir.join("audio_preprocessor_int8.tflite"))?;
    let model = Model::parse(&bytes)?;
    let mut arena = vec![0u8; 32 * 1024];
    let mut frontend = Interpreter::new(&model, &mut arena, &OpResolver::all())?;
    let mut windows = Vec::new();
    for clip in ["yes", "no", "silence", "noise"] {
        let path = dir.join(format!("testdata/{clip}_1000ms.wav"));
        let mut framer = Framer::<480, 320>::new();
        for s in wav::read(&path, 16_000)?.samples {
            if let Some(w) = framer.push(s) {
                windows.push(*w);
            }
        }
    }
    let mut times = Vec::new();
    for round in 0..200 {
        frontend.reset()?;
        for w in &windows {
            let start = Instant::now();
            frontend.input_mut::<i16>(0)?.copy_from_slice(w);
            frontend.invoke()?;
            let elapsed = start.elapsed();
            if round > 0 {
                times.push(elapsed.as_secs_f64() * 1e6);
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "front-end per 20 ms hop: median {:.2} us, min {:.2} us, mean {:.2} us over {} hops; arena {} B",
        times[times.len() / 2],
        times[0],
        mean,
        times.len(),
        frontend.arena_used()
    );
    Ok(())
}
