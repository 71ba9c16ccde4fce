//! Single-op conformance cases: build a model with mote's writer, run it in
//! mote and (in one batch) in TensorFlow Lite Micro, and compare.
#![allow(dead_code)]

use mote_conformance::{run, Case, Engine, Rng, TempDir};
use mote_runtime::{BuiltinOperator, Interpreter, Model, OpResolver, TensorType};
use mote_train::npy::Array;
use mote_train::tflite::builder::Scalar;
use mote_train::tflite::{ModelDef, OperatorDef, OptionsDef, QuantizationDef, TensorDef};

/// A tensor of a single-op model.
#[derive(Clone, Debug)]
pub struct T {
    /// Shape.
    pub shape: Vec<usize>,
    /// Type.
    pub dtype: TensorType,
    /// Per-tensor `(scale, zero_point)`.
    pub quant: Option<(f32, i64)>,
    /// Constant data.
    pub data: Option<Vec<u8>>,
}

/// A tensor of `shape` and `dtype`.
pub fn t(shape: &[usize], dtype: TensorType) -> T {
    T {
        shape: shape.to_vec(),
        dtype,
        quant: None,
        data: None,
    }
}

impl T {
    /// Quantized per tensor.
    pub fn q(mut self, scale: f32, zero_point: i64) -> T {
        self.quant = Some((scale, zero_point));
        self
    }

    /// A constant with these bytes.
    pub fn constant(mut self, data: Vec<u8>) -> T {
        self.data = Some(data);
        self
    }

    /// An int32 constant vector.
    pub fn i32s(values: &[i32]) -> T {
        t(&[values.len()], TensorType::Int32)
            .constant(values.iter().flat_map(|v| v.to_le_bytes()).collect())
    }
}

/// Options of union tag `kind` with scalar and vector fields.
pub fn options(kind: u8, scalars: &[(u16, Scalar)], vectors: &[(u16, Vec<i32>)]) -> OptionsDef {
    OptionsDef {
        kind,
        scalars: scalars.to_vec(),
        vectors: vectors.to_vec(),
        ..OptionsDef::default()
    }
}

/// A model of one operator; its non-constant inputs are the graph's inputs.
pub fn single_op(
    op: BuiltinOperator,
    options: OptionsDef,
    inputs: &[T],
    outputs: &[T],
) -> ModelDef {
    let mut tensors = vec![];
    let mut graph_inputs = vec![];
    let def = |name: String, x: &T| {
        let shape: Vec<i32> = x.shape.iter().map(|&d| d as i32).collect();
        let mut d = TensorDef::new(name, &shape, x.dtype);
        d.data = x.data.clone();
        d.quantization = x.quant.map(|(scale, zero_point)| QuantizationDef {
            scale: vec![scale],
            zero_point: vec![zero_point],
            ..Default::default()
        });
        d
    };
    for (i, x) in inputs.iter().enumerate() {
        if x.data.is_none() {
            graph_inputs.push(tensors.len() as i32);
        }
        tensors.push(def(format!("in{i}"), x));
    }
    let n = inputs.len() as i32;
    for (o, x) in outputs.iter().enumerate() {
        tensors.push(def(format!("out{o}"), x));
    }
    let outs: Vec<i32> = (n..n + outputs.len() as i32).collect();
    ModelDef {
        description: "mote conformance".into(),
        name: "main".into(),
        tensors,
        operators: vec![OperatorDef::new(
            op,
            &(0..n).collect::<Vec<_>>(),
            &outs,
            options,
        )],
        inputs: graph_inputs,
        outputs: outs,
        ..ModelDef::default()
    }
}

/// Random values for an input tensor.
pub fn random(rng: &mut Rng, x: &T) -> Array {
    let n: usize = x.shape.iter().product();
    let data: Vec<u8> = match x.dtype {
        TensorType::Float32 => (0..n)
            .flat_map(|_| rng.uniform(-4.0, 4.0).to_le_bytes())
            .collect(),
        TensorType::Int8 | TensorType::UInt8 => rng.bytes(n),
        TensorType::Bool => (0..n).map(|_| (rng.next_u64() & 1) as u8).collect(),
        TensorType::Int16 => (0..n)
            .flat_map(|_| (rng.next_u64() as i16).to_le_bytes())
            .collect(),
        TensorType::Int32 => (0..n)
            .flat_map(|_| ((rng.next_u64() % 2001) as i32 - 1000).to_le_bytes())
            .collect(),
        TensorType::UInt32 => (0..n)
            .flat_map(|_| ((rng.next_u64() % 2001) as u32).to_le_bytes())
            .collect(),
        TensorType::Int64 => (0..n)
            .flat_map(|_| ((rng.next_u64() % 2001) as i64 - 1000).to_le_bytes())
            .collect(),
        other => panic!("no random inputs for {other:?}"),
    };
    Array {
        shape: x.shape.clone(),
        dtype: x.dtype,
        data,
    }
}

/// What a case must show.
#[derive(Clone, Debug)]
pub enum Expect {
    /// Both run; outputs identical (integers) or within 1e-5 (floats).
    Same,
    /// Both refuse the model: mote at `Interpreter::new` with an error whose
    /// text contains the first string, TensorFlow Lite Micro with one
    /// containing the second.
    Refused(&'static str, &'static str),
}

/// One conformance case.
#[derive(Clone, Debug)]
pub struct Check {
    /// What it tests.
    pub name: String,
    /// The model.
    pub model: ModelDef,
    /// One value per graph input.
    pub inputs: Vec<Array>,
    /// The expectation.
    pub expect: Expect,
}

impl Check {
    /// A case with random inputs that must give the same outputs.
    pub fn same(
        name: impl Into<String>,
        rng: &mut Rng,
        op: BuiltinOperator,
        options: OptionsDef,
        inputs: &[T],
        outputs: &[T],
    ) -> Check {
        let model = single_op(op, options, inputs, outputs);
        let inputs = inputs
            .iter()
            .filter(|x| x.data.is_none())
            .map(|x| random(rng, x))
            .collect();
        Check {
            name: name.into(),
            model,
            inputs,
            expect: Expect::Same,
        }
    }

    /// The same case, expected to be refused by both.
    pub fn refused(mut self, mote: &'static str, tflm: &'static str) -> Check {
        self.expect = Expect::Refused(mote, tflm);
        self
    }
}

/// mote's outputs, or its error.
pub fn run_mote(bytes: &[u8], inputs: &[Array]) -> Result<Vec<Array>, String> {
    let model = Model::parse(bytes).map_err(|e| format!("{e}"))?;
    let mut arena = vec![0u8; 1 << 20];
    let mut interpreter =
        Interpreter::new(&model, &mut arena, &OpResolver::all()).map_err(|e| format!("{e}"))?;
    for (i, x) in inputs.iter().enumerate() {
        interpreter
            .input_bytes_mut(i)
            .map_err(|e| format!("{e}"))?
            .copy_from_slice(&x.data);
    }
    interpreter.invoke().map_err(|e| format!("{e}"))?;
    (0..interpreter.output_count())
        .map(|o| {
            let t = interpreter.output_tensor(o).map_err(|e| format!("{e}"))?;
            Ok(Array {
                shape: t.shape().dims().to_vec(),
                dtype: t.dtype(),
                data: interpreter
                    .output_bytes(o)
                    .map_err(|e| format!("{e}"))?
                    .to_vec(),
            })
        })
        .collect()
}

/// Whether `ours` equals `theirs`: bytes for integers, 1e-5 relative for floats.
fn same(ours: &Array, theirs: &Array) -> Result<(), String> {
    if ours.dtype != theirs.dtype || ours.elements() != theirs.elements() {
        return Err(format!(
            "mote gave {:?} {:?}, TFLM {:?} {:?}",
            ours.dtype, ours.shape, theirs.dtype, theirs.shape
        ));
    }
    if ours.dtype == TensorType::Float32 {
        for (i, (x, y)) in ours.to_f64().iter().zip(theirs.to_f64()).enumerate() {
            let close = (x - y).abs() <= 1e-5 * y.abs().max(1.0) || (x.is_nan() && y.is_nan());
            if !close {
                return Err(format!("element {i}: mote {x}, TFLM {y}"));
            }
        }
    } else if ours.data != theirs.data {
        let (a, b) = (ours.to_f64(), theirs.to_f64());
        let diffs = a.iter().zip(&b).filter(|(x, y)| x != y).count();
        let first = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(0);
        return Err(format!(
            "{diffs} of {} elements differ; first at {first}: mote {}, TFLM {}",
            a.len(),
            a[first],
            b[first]
        ));
    }
    Ok(())
}

/// Runs every check in mote and in one TensorFlow Lite Micro batch; panics
/// listing every failure. Returns the number of checks that ran in both.
pub fn conform(checks: &[Check]) -> usize {
    let dir = TempDir::new("elementwise");
    let mut cases = vec![];
    let mut ours = vec![];
    for (c, check) in checks.iter().enumerate() {
        let bytes = check
            .model
            .to_bytes()
            .unwrap_or_else(|e| panic!("{}: write: {e:?}", check.name));
        let path = dir.path().join(format!("case{c}.tflite"));
        std::fs::write(&path, &bytes).unwrap();
        ours.push(run_mote(&bytes, &check.inputs));
        cases.push(Case {
            model: path,
            steps: vec![check.inputs.clone()],
        });
    }
    let theirs = run(Engine::Tflm, &cases);
    let mut failures = vec![];
    let mut compared = 0;
    for ((check, ours), theirs) in checks.iter().zip(ours).zip(theirs) {
        let verdict = match (&check.expect, ours, theirs) {
            (Expect::Same, Ok(a), Ok(b)) => {
                compared += 1;
                let b = b.steps.into_iter().next().unwrap_or_default();
                if a.len() != b.len() {
                    Err(format!("{} outputs vs {}", a.len(), b.len()))
                } else {
                    a.iter().zip(&b).try_for_each(|(x, y)| same(x, y))
                }
            }
            (Expect::Refused(m, t), Err(a), Err(b)) if a.contains(m) && b.contains(t) => Ok(()),
            (expect, a, b) => Err(format!(
                "expected {expect:?}; mote: {}; TFLM: {}",
                a.map_or_else(|e| format!("error {e}"), |_| "ran".into()),
                b.map_or_else(|e| format!("error {e}"), |_| "ran".into())
            )),
        };
        if let Err(why) = verdict {
            failures.push(format!("{}: {why}", check.name));
        }
    }
    println!(
        "{compared} of {} cases ran in both and were compared",
        checks.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        checks.len(),
        failures.join("\n")
    );
    compared
}
