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

/// The members of a `.npz` (a zip of `.npy` files, stored or deflated), by
/// name. Reads the local file headers in order (numpy writes sizes in them,
/// ZIP64 style).
fn npz(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let u16_at = |at: usize| u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let mut members = Vec::new();
    let mut at = 0;
    while bytes.get(at..at + 4) == Some(&[0x50, 0x4B, 0x03, 0x04][..]) {
        let (method, mut size) = (u16_at(at + 8), u32_at(at + 18));
        let (name_len, extra_len) = (u16_at(at + 26), u16_at(at + 28));
        if size == 0xFFFF_FFFF {
            // ZIP64 (numpy forces it): the extra field 0x0001 holds the
            // uncompressed then the compressed size, 8 bytes each.
            let extra = at + 30 + name_len;
            assert_eq!(u16_at(extra), 1, "zip64 extra field expected");
            size = u64::from_le_bytes(bytes[extra + 12..extra + 20].try_into().unwrap()) as usize;
        }
        let name = String::from_utf8_lossy(&bytes[at + 30..at + 30 + name_len]).into_owned();
        let start = at + 30 + name_len + extra_len;
        let raw = &bytes[start..start + size];
        let data = match method {
            0 => raw.to_vec(),
            8 => {
                let mut out = Vec::new();
                flate2::read::DeflateDecoder::new(raw)
                    .read_to_end(&mut out)
                    .unwrap();
                out
            }
            m => panic!("{name}: zip method {m} not supported"),
        };
        members.push((name, data));
        at = start + size;
    }
    members
}

/// MLPerf Tiny's streaming wake-word model on its 45 calibration spectrograms
/// (float in [0, 1], quantized with the model's input q): the same int8 outputs
/// as TFLM, and 41 of 45 right, as the MANIFEST records for TFLM.
#[test]
fn sww_calibration_samples_equal_tflm() {
    let dir = assets().join("mlperf-tiny/sww");
    let members = npz(&std::fs::read(dir.join("calibration_samples.npz")).unwrap());
    let get = |name: &str| {
        let (_, bytes) = members.iter().find(|(n, _)| n == name).unwrap();
        mote_train::npy::parse(bytes).unwrap()
    };
    let (specs, labels) = (get("specs.npy"), get("labels.npy"));
    assert_eq!(specs.shape, [45, 30, 1, 40]);
    let (specs, labels) = (specs.to_f64(), labels.to_f64());
    let path = dir.join("str_ww_ref_model.tflite");
    let bytes = std::fs::read(&path).unwrap();
    let model = Model::parse(&bytes).unwrap();
    let mut arena = vec![0u8; 256 * 1024];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
    let q = interpreter.input_tensor(0).unwrap().quantization().unwrap();
    let (scale, zero_point) = (q.scale(0) as f64, q.zero_point(0) as f64);
    let inputs: Vec<Vec<i8>> = specs
        .chunks(1200)
        .map(|s| {
            s.iter()
                .map(|x| (x / scale + zero_point).round().clamp(-128.0, 127.0) as i8)
                .collect()
        })
        .collect();
    let case = Case {
        model: path.clone(),
        steps: inputs
            .iter()
            .map(|x| {
                vec![Array {
                    shape: vec![1, 30, 1, 40],
                    dtype: TensorType::Int8,
                    data: x.iter().map(|v| *v as u8).collect(),
                }]
            })
            .collect(),
    };
    let theirs = run(Engine::Tflm, &[case]).remove(0).unwrap();
    let mut correct = 0;
    // The marvin score (int8 + 128, so /256 is the probability) of every
    // non-marvin sample, and of every marvin sample the model ranks first.
    let (mut others, mut marvins) = (vec![], vec![]);
    for (i, (x, expected)) in inputs.iter().zip(&theirs.steps).enumerate() {
        interpreter.input_mut::<i8>(0).unwrap().copy_from_slice(x);
        interpreter.invoke().unwrap();
        let ours = interpreter.output::<i8>(0).unwrap();
        let expected: Vec<i8> = expected[0].data.iter().map(|b| *b as i8).collect();
        assert_eq!(ours, expected, "sample {i}");
        let best = (0..3).rev().max_by_key(|c| ours[*c]).unwrap();
        correct += usize::from(best as f64 == labels[i]);
        let marvin = i32::from(ours[0]) + 128;
        match (labels[i] == 0.0, best) {
            (false, _) => others.push(marvin),
            (true, 0) => marvins.push(marvin),
            (true, _) => {}
        }
    }
    assert_eq!(correct, 41, "41 of 45 right, as TFLM");
    // The streaming detector's default threshold (0.5, `SWW_DETECTOR`) is
    // chosen here, on the calibration set, not on the test stream: it lies
    // between every non-marvin sample's marvin probability and every
    // recognised marvin's (measured: at most 0/256 and at least 158/256).
    let threshold = i32::from(mote_audio::SWW_DETECTOR.threshold);
    assert_eq!(threshold, 128, "0.5");
    assert!(
        others.iter().all(|s| *s < threshold),
        "non-marvin {others:?}"
    );
    assert!(
        marvins.iter().all(|s| *s >= threshold),
        "marvin {marvins:?}"
    );
}
