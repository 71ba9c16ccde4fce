//! A small float model that uses every op post-training quantization handles:
//! CONV_2D (relu) -> DEPTHWISE_CONV_2D (relu6) -> ADD -> MAX_POOL_2D ->
//! AVERAGE_POOL_2D -> RESHAPE -> FULLY_CONNECTED -> RELU -> FULLY_CONNECTED ->
//! TANH -> FULLY_CONNECTED -> LOGISTIC -> FULLY_CONNECTED -> SOFTMAX, with
//! seeded random weights; input [1, 6, 6, 2], output [1, 5].

use mote_runtime::{BuiltinOperator, TensorType};
use mote_train::tflite::builder::Scalar;
use mote_train::tflite::{ModelDef, OperatorDef, OptionsDef, TensorDef};

/// A seeded generator of uniform floats in [-1, 1) (SplitMix64).
pub struct Uniform(u64);

impl Uniform {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Uniform(seed)
    }

    /// The next value.
    pub fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    /// `n` values scaled by `scale`.
    pub fn values(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| scale * self.next()).collect()
    }
}

fn options(kind: u8, scalars: Vec<(u16, Scalar)>) -> OptionsDef {
    OptionsDef {
        kind,
        scalars,
        ..OptionsDef::default()
    }
}

/// Conv2DOptions / DepthwiseConv2DOptions / Pool2DOptions field values
/// (padding: SAME = 0, VALID = 1; activation: RELU = 1, RELU6 = 3).
fn conv(padding: u8, activation: u8) -> OptionsDef {
    let i = |v| Scalar::I32(v);
    options(
        1,
        vec![
            (0, Scalar::U8(padding)),
            (1, i(1)),
            (2, i(1)),
            (3, Scalar::U8(activation)),
            (4, i(1)),
            (5, i(1)),
        ],
    )
}

fn depthwise(padding: u8, activation: u8) -> OptionsDef {
    let i = |v| Scalar::I32(v);
    options(
        2,
        vec![
            (0, Scalar::U8(padding)),
            (1, i(1)),
            (2, i(1)),
            (3, i(1)),
            (4, Scalar::U8(activation)),
            (5, i(1)),
            (6, i(1)),
        ],
    )
}

fn pool(padding: u8, stride: i32, filter: i32) -> OptionsDef {
    let i = |v| Scalar::I32(v);
    options(
        5,
        vec![
            (0, Scalar::U8(padding)),
            (1, i(stride)),
            (2, i(stride)),
            (3, i(filter)),
            (4, i(filter)),
            (5, Scalar::U8(0)),
        ],
    )
}

/// The model, its weights drawn from `seed`.
pub fn model(seed: u64) -> ModelDef {
    let mut rng = Uniform::new(seed);
    let mut def = ModelDef {
        description: "every quantizable op".into(),
        name: "main".into(),
        ..ModelDef::default()
    };
    let tensor = |def: &mut ModelDef, t: TensorDef| {
        def.tensors.push(t);
        def.tensors.len() as i32 - 1
    };
    let act = |name: &str, shape: &[i32]| TensorDef::new(name, shape, TensorType::Float32);
    let x = tensor(&mut def, act("x", &[1, 6, 6, 2]));
    let w1 = tensor(
        &mut def,
        TensorDef::constant_f32("conv/w", &[4, 3, 3, 2], &rng.values(72, 0.4)),
    );
    let b1 = tensor(
        &mut def,
        TensorDef::constant_f32("conv/b", &[4], &rng.values(4, 0.1)),
    );
    let a = tensor(&mut def, act("conv", &[1, 6, 6, 4]));
    let w2 = tensor(
        &mut def,
        TensorDef::constant_f32("dw/w", &[1, 3, 3, 4], &rng.values(36, 0.5)),
    );
    let b2 = tensor(
        &mut def,
        TensorDef::constant_f32("dw/b", &[4], &rng.values(4, 0.1)),
    );
    let b = tensor(&mut def, act("dw", &[1, 6, 6, 4]));
    let c = tensor(&mut def, act("add", &[1, 6, 6, 4]));
    let d = tensor(&mut def, act("max_pool", &[1, 3, 3, 4]));
    let e = tensor(&mut def, act("average_pool", &[1, 1, 1, 4]));
    let f = tensor(&mut def, act("reshape", &[1, 4]));
    let mut dense = |def: &mut ModelDef, name: &str, fan_in: usize, units: usize, scale: f32| {
        let w = TensorDef::constant_f32(
            format!("{name}/w"),
            &[units as i32, fan_in as i32],
            &rng.values(units * fan_in, scale),
        );
        let b = TensorDef::constant_f32(
            format!("{name}/b"),
            &[units as i32],
            &rng.values(units, 0.2),
        );
        def.tensors.push(w);
        def.tensors.push(b);
        let n = def.tensors.len() as i32;
        def.tensors.push(TensorDef::new(
            name,
            &[1, units as i32],
            TensorType::Float32,
        ));
        (n - 2, n - 1, n)
    };
    let (w3, b3, g) = dense(&mut def, "fc1", 4, 6, 1.0);
    let g2 = tensor(&mut def, act("relu", &[1, 6]));
    let (w4, b4, g3) = dense(&mut def, "fc2", 6, 6, 1.0);
    let h = tensor(&mut def, act("tanh", &[1, 6]));
    let (w5, b5, i) = dense(&mut def, "fc3", 6, 6, 1.0);
    let j = tensor(&mut def, act("logistic", &[1, 6]));
    let (w6, b6, k) = dense(&mut def, "fc4", 6, 5, 6.0);
    let y = tensor(&mut def, act("softmax", &[1, 5]));
    let fc = || OptionsDef::fully_connected(0, false);
    let none = OptionsDef::default;
    let op = |o: BuiltinOperator, i: &[i32], out: i32, opt: OptionsDef| {
        OperatorDef::new(o, i, &[out], opt)
    };
    def.operators = vec![
        op(BuiltinOperator::CONV_2D, &[x, w1, b1], a, conv(0, 1)),
        op(
            BuiltinOperator::DEPTHWISE_CONV_2D,
            &[a, w2, b2],
            b,
            depthwise(0, 3),
        ),
        op(
            BuiltinOperator::ADD,
            &[a, b],
            c,
            options(11, vec![(0, Scalar::U8(0))]),
        ),
        op(BuiltinOperator::MAX_POOL_2D, &[c], d, pool(1, 2, 2)),
        op(BuiltinOperator::AVERAGE_POOL_2D, &[d], e, pool(1, 1, 3)),
        op(
            BuiltinOperator::RESHAPE,
            &[e],
            f,
            OptionsDef {
                kind: 17,
                scalars: vec![],
                vectors: vec![(0, vec![1, 4])],
                ..OptionsDef::default()
            },
        ),
        op(BuiltinOperator::FULLY_CONNECTED, &[f, w3, b3], g, fc()),
        op(BuiltinOperator::RELU, &[g], g2, none()),
        op(BuiltinOperator::FULLY_CONNECTED, &[g2, w4, b4], g3, fc()),
        op(BuiltinOperator::TANH, &[g3], h, none()),
        op(BuiltinOperator::FULLY_CONNECTED, &[h, w5, b5], i, fc()),
        op(BuiltinOperator::LOGISTIC, &[i], j, none()),
        op(BuiltinOperator::FULLY_CONNECTED, &[j, w6, b6], k, fc()),
        op(
            BuiltinOperator::SOFTMAX,
            &[k],
            y,
            options(9, vec![(0, Scalar::F32(1.0))]),
        ),
    ];
    def.inputs = vec![x];
    def.outputs = vec![y];
    def
}
