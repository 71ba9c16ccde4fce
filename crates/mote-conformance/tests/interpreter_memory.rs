//! How the interpreter uses memory: RESHAPE runs in place, and constants
//! embedded without alignment (as `include_bytes!` embeds them) still work.

use mote_conformance::{assets, Rng};
use mote_runtime::{BuiltinOperator, Interpreter, Model, OpResolver, TensorType};
use mote_train::tflite::{ModelDef, OperatorDef, OptionsDef, TensorDef};

/// x[1, 8] -> FULLY_CONNECTED -> h[1, 8] -> RESHAPE -> r[2, 4]; both h and r
/// are graph outputs, so their bytes can be compared.
fn fc_then_reshape() -> Vec<u8> {
    let mut rng = Rng::new(3);
    let weights: Vec<f32> = (0..64).map(|_| rng.uniform(-1.0, 1.0)).collect();
    ModelDef {
        description: "reshape in place".into(),
        name: "main".into(),
        tensors: vec![
            TensorDef::new("x", &[1, 8], TensorType::Float32),
            TensorDef::constant_f32("w", &[8, 8], &weights),
            TensorDef::new("h", &[1, 8], TensorType::Float32),
            TensorDef::new("r", &[2, 4], TensorType::Float32),
        ],
        operators: vec![
            OperatorDef::new(
                BuiltinOperator::FULLY_CONNECTED,
                &[0, 1, -1],
                &[2],
                OptionsDef::fully_connected(0, false),
            ),
            OperatorDef::new(BuiltinOperator::RESHAPE, &[2], &[3], OptionsDef::default()),
        ],
        inputs: vec![0],
        outputs: vec![2, 3],
        metadata: vec![],
        signature_defs: vec![],
    }
    .to_bytes()
    .unwrap()
}

#[test]
fn reshape_output_is_its_input_buffer() {
    let bytes = fc_then_reshape();
    let model = Model::parse(&bytes).unwrap();
    let mut arena = vec![0u8; 1 << 14];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
    interpreter
        .input_mut::<f32>(0)
        .unwrap()
        .copy_from_slice(&[1.0, -2.0, 0.5, 3.0, 0.0, 1.0, 1.0, -1.0]);
    interpreter.invoke().unwrap();
    let h = interpreter.output_bytes(0).unwrap();
    let r = interpreter.output_bytes(1).unwrap();
    assert_eq!(h.as_ptr(), r.as_ptr(), "RESHAPE got a buffer of its own");
    assert_eq!(h, r);
    assert!(h.iter().any(|&b| b != 0), "the FULLY_CONNECTED ran");
}

#[test]
fn misaligned_model_bytes_give_the_same_outputs() {
    // kws_ref_model_int8 has int32 biases; shifted by one byte they are all
    // misaligned, and the interpreter reads aligned copies of them.
    let bytes = std::fs::read(assets().join("mlperf-tiny/kws/kws_ref_model_int8.tflite")).unwrap();
    let mut shifted = vec![0u8; bytes.len() + 16];
    let base = shifted.as_ptr() as usize;
    let start = (16 - base % 16) % 16 + 1; // 1 past a 16-byte boundary
    shifted[start..start + bytes.len()].copy_from_slice(&bytes);
    let input = Rng::new(5).bytes(490);
    let run = |model_bytes: &[u8]| {
        let model = Model::parse(model_bytes).unwrap();
        let mut arena = vec![0u8; 1 << 17];
        let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
        interpreter
            .input_bytes_mut(0)
            .unwrap()
            .copy_from_slice(&input);
        interpreter.invoke().unwrap();
        (
            interpreter.output_bytes(0).unwrap().to_vec(),
            interpreter.arena_used(),
        )
    };
    let (aligned, aligned_arena) = run(&bytes);
    let (misaligned, misaligned_arena) = run(&shifted[start..start + bytes.len()]);
    assert_eq!(aligned, misaligned);
    assert!(
        misaligned_arena > aligned_arena,
        "the aligned copies live in the arena ({misaligned_arena} vs {aligned_arena})"
    );
}
