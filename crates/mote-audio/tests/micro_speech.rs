//! TFLM's micro_speech example end to end: the int8 audio preprocessor run by
//! mote's signal ops, then the int8 classifier, on the example's wav files.
//! Expected values are those the MANIFEST records from TFLM.

use std::path::PathBuf;

use mote_audio::{wav, DetectorConfig, Listener};
use mote_runtime::{Interpreter, Model, OpResolver};

fn assets() -> PathBuf {
    let dir = std::env::var_os("MOTE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets")
        });
    assert!(
        dir.join("MANIFEST.md").is_file(),
        "test assets not found at {} (set MOTE_ASSETS to the shared assets folder)",
        dir.display()
    );
    dir
}

fn read(rel: &str) -> Vec<u8> {
    let path = assets().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn samples(name: &str) -> Vec<i16> {
    let path = assets().join("tflm/micro_speech/testdata").join(name);
    wav::read(&path, 16_000).unwrap().samples
}

#[test]
fn first_frame_of_the_30ms_clips_matches_tflm() {
    let bytes = read("tflm/micro_speech/audio_preprocessor_int8.tflite");
    let model = Model::parse(&bytes).unwrap();
    let mut arena = vec![0u8; 32 * 1024];
    let mut frontend = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
    let expected: [(&str, [i8; 40]); 2] = [
        (
            "yes_30ms.wav",
            [
                124, 105, 126, 103, 125, 101, 123, 100, 116, 98, 115, 97, 113, 90, 91, 82, 104, 96,
                117, 97, 121, 103, 126, 101, 125, 104, 126, 104, 125, 101, 116, 90, 81, 74, 80, 71,
                83, 76, 82, 71,
            ],
        ),
        (
            "no_30ms.wav",
            [
                126, 103, 124, 102, 124, 102, 123, 100, 118, 97, 118, 100, 118, 98, 121, 100, 121,
                98, 117, 91, 96, 74, 54, 87, 100, 87, 109, 92, 91, 80, 64, 55, 83, 74, 74, 78, 114,
                95, 101, 81,
            ],
        ),
    ];
    for (name, frame) in expected {
        frontend.reset().unwrap();
        let clip = samples(name);
        frontend
            .input_mut::<i16>(0)
            .unwrap()
            .copy_from_slice(&clip[..480]);
        frontend.invoke().unwrap();
        assert_eq!(frontend.output::<i8>(0).unwrap(), frame, "{name}");
    }
}

#[test]
fn one_second_clips_classify_as_tflm() {
    let pre = read("tflm/micro_speech/audio_preprocessor_int8.tflite");
    let cls = read("tflm/micro_speech/micro_speech_quantized.tflite");
    let (pre, cls) = (Model::parse(&pre).unwrap(), Model::parse(&cls).unwrap());
    // [silence, unknown, yes, no], from the MANIFEST's TFLM table.
    let expected: [(&str, [i8; 4]); 4] = [
        ("yes_1000ms.wav", [-128, -128, 127, -128]),
        ("no_1000ms.wav", [-128, -114, -128, 114]),
        ("silence_1000ms.wav", [-42, -68, -68, -78]),
        ("noise_1000ms.wav", [120, -125, -126, -125]),
    ];
    let (mut a1, mut a2) = (vec![0u8; 32 * 1024], vec![0u8; 32 * 1024]);
    let frontend = Interpreter::new(&pre, &mut a1, &OpResolver::all()).unwrap();
    let classifier = Interpreter::new(&cls, &mut a2, &OpResolver::all()).unwrap();
    let mut storage = [0i8; 1960];
    let mut listener = Listener::new(
        frontend,
        classifier,
        &mut storage,
        DetectorConfig::default(),
    )
    .unwrap();
    for (name, scores) in expected {
        listener.reset().unwrap();
        let mut results = Vec::new();
        // Feed in uneven chunks: the result must not depend on chunking.
        for chunk in samples(name).chunks(777) {
            listener
                .push(chunk, |c| results.push((c.hop, c.scores.to_vec())))
                .unwrap();
        }
        assert_eq!(results.len(), 1, "{name}: one full window in 1 s");
        assert_eq!(results[0].0, 48, "{name}");
        assert_eq!(results[0].1, scores, "{name}");
    }
}
