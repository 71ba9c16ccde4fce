//! The micro_speech audio preprocessor (signal custom ops plus the int32
//! CAST/MUL/ADD/DIV/MINIMUM/MAXIMUM chain), frame by frame, against TensorFlow
//! Lite Micro: all 49 feature frames of each 1 s example clip, run on one
//! interpreter per clip so the noise estimate carries over as it does in TFLM.

use mote_audio::{wav, Framer};
use mote_conformance::{assets, run, Case, Engine};
use mote_runtime::{Interpreter, Model, OpResolver, TensorType};
use mote_train::npy::Array;

const CLIPS: [&str; 4] = [
    "yes_1000ms.wav",
    "no_1000ms.wav",
    "silence_1000ms.wav",
    "noise_1000ms.wav",
];

/// The 480-sample windows of a clip, every 320 samples (49 for 1 s).
fn windows(name: &str) -> Vec<Vec<i16>> {
    let path = assets().join("tflm/micro_speech/testdata").join(name);
    let clip = wav::read(&path, 16_000).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut framer = Framer::<480, 320>::new();
    clip.samples
        .iter()
        .filter_map(|s| framer.push(*s).map(|w| w.to_vec()))
        .collect()
}

#[test]
fn preprocessor_frames_equal_tflm() {
    for model_name in [
        "audio_preprocessor_int8.tflite",
        "audio_preprocessor_float.tflite",
    ] {
        let path = assets().join("tflm/micro_speech").join(model_name);
        let bytes = std::fs::read(&path).unwrap();
        let model = Model::parse(&bytes).unwrap();
        let clips: Vec<Vec<Vec<i16>>> = CLIPS.iter().map(|c| windows(c)).collect();
        let cases: Vec<Case> = clips
            .iter()
            .map(|frames| Case {
                model: path.clone(),
                steps: frames
                    .iter()
                    .map(|w| {
                        vec![Array {
                            shape: vec![1, 480],
                            dtype: TensorType::Int16,
                            data: w.iter().flat_map(|s| s.to_le_bytes()).collect(),
                        }]
                    })
                    .collect(),
            })
            .collect();
        let oracle = run(Engine::Tflm, &cases);
        let mut arena = vec![0u8; 32 * 1024];
        let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
        for ((name, frames), expected) in CLIPS.iter().zip(&clips).zip(oracle) {
            let expected = expected.unwrap_or_else(|e| panic!("TFLM failed on {name}: {e}"));
            assert_eq!(frames.len(), 49, "{name}");
            assert_eq!(expected.steps.len(), 49, "{name}");
            interpreter.reset().unwrap();
            for (f, (window, theirs)) in frames.iter().zip(&expected.steps).enumerate() {
                interpreter
                    .input_mut::<i16>(0)
                    .unwrap()
                    .copy_from_slice(window);
                interpreter.invoke().unwrap();
                let ours = interpreter.output_bytes(0).unwrap();
                assert_eq!(ours, &theirs[0].data[..], "{model_name} {name} frame {f}");
            }
        }
    }
}
