//! An int8 model written by mote (FULLY_CONNECTED, per-tensor quantization,
//! int32 bias) runs in TensorFlow Lite Micro and TensorFlow Lite with
//! identical int8 outputs. mote's own int8 kernels are checked elsewhere.

use mote_conformance::{run, Case, Engine, Rng, TempDir};
use mote_runtime::{BuiltinOperator, Model, TensorType};
use mote_train::npy::Array;
use mote_train::tflite::{ModelDef, OperatorDef, OptionsDef, QuantizationDef, TensorDef};

fn quant(scale: f32, zero_point: i64) -> Option<QuantizationDef> {
    Some(QuantizationDef {
        scale: vec![scale],
        zero_point: vec![zero_point],
        ..QuantizationDef::default()
    })
}

/// y = relu(W x + b), x int8 [1, 8], W int8 [4, 8], b int32 [4], y int8 [1, 4].
fn int8_fc() -> ModelDef {
    let mut rng = Rng::new(3);
    let (x_scale, w_scale) = (0.05, 0.02);
    let mut x = TensorDef::new("x", &[1, 8], TensorType::Int8);
    x.quantization = quant(x_scale, -3);
    let mut w = TensorDef::new("w", &[4, 8], TensorType::Int8);
    w.data = Some(rng.bytes(32));
    w.quantization = quant(w_scale, 0);
    let mut b = TensorDef::new("b", &[4], TensorType::Int32);
    b.data = Some(
        (0..4)
            .flat_map(|_| ((rng.next_u64() % 2001) as i32 - 1000).to_le_bytes())
            .collect(),
    );
    b.quantization = quant(x_scale * w_scale, 0);
    let mut y = TensorDef::new("y", &[1, 4], TensorType::Int8);
    y.quantization = quant(0.1, -128);
    ModelDef {
        description: "mote conformance int8 fc".into(),
        name: "main".into(),
        tensors: vec![x, w, b, y],
        operators: vec![OperatorDef::new(
            BuiltinOperator::FULLY_CONNECTED,
            &[0, 1, 2],
            &[3],
            OptionsDef::fully_connected(1, false),
        )],
        inputs: vec![0],
        outputs: vec![3],
        ..ModelDef::default()
    }
}

#[test]
fn a_written_int8_fully_connected_runs_identically_in_tflite_micro_and_tflite() {
    let dir = TempDir::new("writer-int8");
    let path = dir.path().join("fc_int8.tflite");
    let bytes = int8_fc().to_bytes().unwrap();
    Model::parse(&bytes).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let mut rng = Rng::new(11);
    let steps: Vec<Vec<Array>> = (0..8)
        .map(|_| {
            vec![Array {
                shape: vec![1, 8],
                dtype: TensorType::Int8,
                data: rng.bytes(8),
            }]
        })
        .collect();
    let case = Case { model: path, steps };
    let outcome = |engine| {
        run(engine, std::slice::from_ref(&case))
            .remove(0)
            .unwrap_or_else(|e| panic!("{engine:?}: {e}"))
    };
    let micro = outcome(Engine::Tflm);
    let mut distinct = std::collections::HashSet::new();
    for engine in [Engine::Litert, Engine::LitertReference] {
        let lite = outcome(engine);
        assert_eq!(lite.steps.len(), micro.steps.len());
        for (step, (a, b)) in micro.steps.iter().zip(&lite.steps).enumerate() {
            assert_eq!(a[0].dtype, TensorType::Int8);
            assert_eq!(a[0].shape, vec![1, 4]);
            assert_eq!(a[0].data, b[0].data, "{engine:?} step {step}");
            distinct.insert(a[0].data.clone());
        }
    }
    // The inputs are not all mapped to one output (relu floor, saturation).
    assert!(distinct.len() > 4, "{distinct:?}");
}
