//! Every asset model, compiled ahead of time by mote-codegen (at this crate's
//! build), gives byte for byte the interpreter's outputs: three invokes in a
//! row on seeded random inputs (state carries over in both), in an arena no
//! larger than the interpreter's.

use mote_codegen_tests::{MODELS, REFUSED};
use mote_runtime::{Interpreter, Model, OpResolver, TensorType};

fn assets() -> std::path::PathBuf {
    std::env::var("MOTE_ASSETS")
        .map(Into::into)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets")
        })
}

/// A small deterministic generator (xorshift), for inputs.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Random bytes for a tensor: floats in [0, 1), integers over their range.
fn random_input(dtype: TensorType, len: usize, rng: &mut Rng) -> Vec<u8> {
    match dtype {
        TensorType::Float32 => (0..len / 4)
            .flat_map(|_| ((rng.next() >> 40) as f32 / (1u64 << 24) as f32).to_le_bytes())
            .collect(),
        _ => (0..len).map(|_| rng.next() as u8).collect(),
    }
}

fn interpreter_outputs(bytes: &[u8], inputs: &[Vec<Vec<u8>>]) -> (Vec<Vec<Vec<u8>>>, usize) {
    let model = Model::parse(bytes).unwrap();
    let mut arena = vec![0u8; 64 << 20];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
    let mut all = Vec::new();
    for invocation in inputs {
        for (i, input) in invocation.iter().enumerate() {
            interpreter
                .input_bytes_mut(i)
                .unwrap()
                .copy_from_slice(input);
        }
        interpreter.invoke().unwrap();
        all.push(
            (0..interpreter.output_count())
                .map(|o| interpreter.output_bytes(o).unwrap().to_vec())
                .collect(),
        );
    }
    (all, interpreter.arena_used())
}

#[test]
fn generated_code_equals_the_interpreter_on_every_asset_model() {
    assert!(MODELS.len() > 140, "only {} models compiled", MODELS.len());
    for (k, compiled) in MODELS.iter().enumerate() {
        let bytes = std::fs::read(assets().join(compiled.path)).unwrap();
        let model = Model::parse(&bytes).unwrap();
        let graph = model.main();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ k as u64);
        let inputs: Vec<Vec<Vec<u8>>> = (0..3)
            .map(|_| {
                (0..graph.inputs().len())
                    .map(|i| {
                        let t = graph.tensor(graph.inputs().get(i).unwrap()).unwrap();
                        random_input(t.dtype(), t.byte_len(), &mut rng)
                    })
                    .collect()
            })
            .collect();
        let (expected, interpreter_arena) = interpreter_outputs(&bytes, &inputs);
        let got = (compiled.run)(&inputs, graph.outputs().len())
            .unwrap_or_else(|e| panic!("{}: {e}", compiled.path));
        assert!(
            got == expected,
            "{}: generated outputs differ from the interpreter's",
            compiled.path
        );
        assert!(
            compiled.arena_bytes <= interpreter_arena,
            "{}: generated arena {} > interpreter's {interpreter_arena}",
            compiled.path,
            compiled.arena_bytes
        );
    }
}

#[test]
fn models_the_generator_refuses_the_interpreter_refuses_too() {
    for (path, reason) in REFUSED {
        let bytes = std::fs::read(assets().join(path)).unwrap();
        let model = Model::parse(&bytes).unwrap();
        let mut arena = vec![0u8; 64 << 20];
        let result = Interpreter::new(&model, &mut arena, &OpResolver::all());
        assert!(
            result.is_err(),
            "{path}: refused by the generator ({reason}) but the interpreter runs it"
        );
    }
}
