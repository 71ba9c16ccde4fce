//! Models mote reads but will not run are refused by name, and the fuzzer's
//! findings stay fixed.

mod support;

use std::path::{Path, PathBuf};

use mote_runtime::{Error, Interpreter, Model, OpName, OpResolver};

fn assets() -> PathBuf {
    let dir = std::env::var_os("MOTE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets"));
    assert!(
        dir.join("MANIFEST.md").is_file(),
        "test assets not found at {} (set MOTE_ASSETS to the shared assets folder)",
        dir.display()
    );
    dir
}

#[test]
fn the_ethos_u_model_parses_and_is_refused_naming_ethos_u() {
    let path = assets().join("tflm/person_detection/person_detect_vela.tflite");
    let bytes = std::fs::read(path).unwrap();
    let model = Model::parse(&bytes).unwrap();
    let op = model.main().operator(0).unwrap();
    assert_eq!(op.code().unwrap().custom_name(), Some("ethos-u"));
    assert!(!op.custom_options().is_empty());
    let mut arena = vec![0u8; 1 << 20];
    match Interpreter::new(&model, &mut arena, &OpResolver::all()) {
        Err(Error::UnsupportedOp { index: 0, op }) => {
            assert_eq!(op, OpName::custom("ethos-u"));
            assert_eq!(op.to_string(), "CUSTOM:ethos-u");
        }
        Err(other) => panic!("expected UnsupportedOp ethos-u, got {other}"),
        Ok(_) => panic!("an Ethos-U command stream must not run"),
    }
}

/// The first fuzzing crash (`crash-b21753e9…`, seeded from
/// trained_lstm_int8.tflite unchanged) was an overflow in the fuzz harness's
/// own checksum over the `-1` entries of LSTM input lists, not in the reader;
/// the walk now wraps. This keeps that model walking cleanly.
#[test]
fn walking_optional_inputs_of_the_int8_lstm_does_not_overflow() {
    let bytes = std::fs::read(assets().join("tflm/mnist_lstm/trained_lstm_int8.tflite")).unwrap();
    let model = Model::parse(&bytes).unwrap();
    assert!(model
        .main()
        .operator(0)
        .unwrap()
        .inputs()
        .iter()
        .any(|i| i == -1));
    std::hint::black_box(support::walk::walk(&model));
}

/// Fuzzing finding `crash-2bbfad08…`: hello_world_int8.tflite with 8 bytes
/// changed gives tensor 0 a shape whose element count fits `usize` but whose
/// FULLY_CONNECTED `batches x units` did not, and the FC kernel's `prepare`
/// overflowed (main's `ops/fully_connected.rs:56`; the ops branch saturates
/// since). The reader now refuses the file: its shapes' byte sizes overflow.
#[test]
fn fuzz_finding_fc_overflow_is_refused_at_parse_time() {
    let mut bytes =
        std::fs::read(assets().join("tflm/hello_world/hello_world_int8.tflite")).unwrap();
    assert_eq!(bytes.len(), 2704, "the asset changed");
    let edits: [(usize, u8, u8); 8] = [
        (1440, 4, 253),
        (1443, 0, 9),
        (1940, 0, 2),
        (1942, 2, 0),
        (2516, 6, 14),
        (2582, 8, 0),
        (2656, 2, 8),
        (2661, 0, 40),
    ];
    for (at, was, now) in edits {
        assert_eq!(bytes[at], was, "the asset changed at {at}");
        bytes[at] = now;
    }
    match Model::parse(&bytes) {
        Err(e @ Error::BadShape { .. }) => {
            assert!(e.to_string().contains("invalid shape"), "{e}");
        }
        Err(other) => panic!("expected BadShape, got {other}"),
        Ok(_) => panic!("expected the reader to refuse the file"),
    }
}
