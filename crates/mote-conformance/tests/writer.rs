//! What mote's writer produces runs in TensorFlow Lite and TensorFlow Lite
//! Micro with the same outputs as in mote's runtime.

use mote_conformance::{run, Case, Engine, Rng, TempDir};
use mote_runtime::{BuiltinOperator, Interpreter, Model, OpResolver, TensorType};
use mote_train::npy::Array;
use mote_train::tflite::{ModelDef, OperatorDef, OptionsDef, TensorDef};

/// A two-layer float MLP 4 -> 8 (relu) -> 3, with seeded weights.
fn mlp() -> ModelDef {
    let mut rng = Rng::new(1);
    let mut values = |n: usize| (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect::<Vec<_>>();
    ModelDef {
        description: "mote conformance mlp".into(),
        name: "main".into(),
        tensors: vec![
            TensorDef::new("x", &[1, 4], TensorType::Float32),
            TensorDef::constant_f32("w1", &[8, 4], &values(32)),
            TensorDef::constant_f32("b1", &[8], &values(8)),
            TensorDef::new("h", &[1, 8], TensorType::Float32),
            TensorDef::constant_f32("w2", &[3, 8], &values(24)),
            TensorDef::new("y", &[1, 3], TensorType::Float32),
        ],
        operators: vec![
            OperatorDef::new(
                BuiltinOperator::FULLY_CONNECTED,
                &[0, 1, 2],
                &[3],
                OptionsDef::fully_connected(1, false),
            ),
            OperatorDef::new(
                BuiltinOperator::FULLY_CONNECTED,
                &[3, 4, -1],
                &[5],
                OptionsDef::fully_connected(0, false),
            ),
        ],
        inputs: vec![0],
        outputs: vec![5],
        metadata: vec![],
        signature_defs: vec![],
    }
}

fn mote_outputs(bytes: &[u8], inputs: &[Array]) -> Vec<Array> {
    let model = Model::parse(bytes).unwrap();
    let mut arena = vec![0u8; 1 << 16];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
    inputs
        .iter()
        .map(|x| {
            interpreter
                .input_bytes_mut(0)
                .unwrap()
                .copy_from_slice(&x.data);
            interpreter.invoke().unwrap();
            let t = interpreter.output_tensor(0).unwrap();
            Array {
                shape: t.shape().dims().to_vec(),
                dtype: t.dtype(),
                data: interpreter.output_bytes(0).unwrap().to_vec(),
            }
        })
        .collect()
}

#[test]
fn written_models_run_the_same_in_tflite_micro_and_tflite() {
    let dir = TempDir::new("writer");
    let path = dir.path().join("mlp.tflite");
    let bytes = mlp().to_bytes().unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let mut rng = Rng::new(7);
    let inputs: Vec<Array> = (0..5)
        .map(|_| {
            Array::from_f32(
                vec![1, 4],
                &(0..4).map(|_| rng.uniform(-3.0, 3.0)).collect::<Vec<_>>(),
            )
        })
        .collect();
    let ours = mote_outputs(&bytes, &inputs);
    let case = Case {
        model: path,
        steps: inputs.iter().map(|x| vec![x.clone()]).collect(),
    };
    for engine in [Engine::Tflm, Engine::Litert] {
        let theirs = run(engine, std::slice::from_ref(&case))
            .remove(0)
            .unwrap_or_else(|e| panic!("{engine:?}: {e}"));
        for (step, (a, b)) in ours.iter().zip(&theirs.steps).enumerate() {
            let (a, b) = (a.to_f64(), b[0].to_f64());
            for (x, y) in a.iter().zip(&b) {
                let tolerance = 1e-5 * x.abs().max(1.0);
                assert!(
                    (x - y).abs() <= tolerance,
                    "{engine:?} step {step}: mote {a:?} vs {b:?}"
                );
            }
        }
    }
}
