//! `include_model!` gives the interpreter's outputs, byte for byte.

use mote::runtime::{Interpreter, Model, OpResolver};

mote::include_model!(
    HelloWorld,
    "../../../shared/assets/tflm/hello_world/hello_world_int8.tflite"
);

#[test]
fn hello_world_int8_equals_the_interpreter_for_every_input_byte() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/assets/tflm/hello_world/hello_world_int8.tflite"
    ))
    .unwrap();
    let model = Model::parse(&bytes).unwrap();
    let mut arena = [0u8; 4096];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
    let mut compiled = HelloWorld::new();
    for x in i8::MIN..=i8::MAX {
        interpreter.input_mut::<i8>(0).unwrap()[0] = x;
        interpreter.invoke().unwrap();
        let expected = interpreter.output::<i8>(0).unwrap()[0];
        assert_eq!(compiled.predict(&[x]).unwrap(), &[expected], "x = {x}");
    }
    assert!(HelloWorld::ARENA_BYTES <= interpreter.arena_used());
}

#[test]
fn float_callers_quantize_and_dequantize_with_the_models_parameters() {
    // sin(pi/2) = 1: the int8 model answers within its quantization step.
    let q = HelloWorld::quantize_input_0(&[core::f32::consts::FRAC_PI_2]);
    let mut compiled = HelloWorld::new();
    let y = HelloWorld::dequantize_output_0(compiled.predict(&q).unwrap());
    assert!((y[0] - 1.0).abs() < 0.1, "{y:?}");
}
