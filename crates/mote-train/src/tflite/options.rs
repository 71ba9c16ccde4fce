//! Builtin options of the operators export writes. Union tags and field ids
//! are TensorFlow Lite's `schema.fbs` (as in `schema_py_generated.py` of
//! `ai-edge-litert`): e.g. `Conv2DOptions` is tag 1 with padding at id 0,
//! stride_w 1, stride_h 2, fused_activation_function 3.

use super::builder::Scalar;
use super::OptionsDef;
use crate::layers::Padding;

/// TFLite's `Padding` enum: SAME = 0, VALID = 1.
fn padding(p: Padding) -> Scalar {
    Scalar::U8(match p {
        Padding::Same => 0,
        Padding::Valid => 1,
    })
}

fn options(kind: u8, scalars: Vec<(u16, Scalar)>) -> OptionsDef {
    OptionsDef {
        kind,
        scalars,
        ..OptionsDef::default()
    }
}

/// `Conv2DOptions` (tag 1): padding 0, stride_w 1, stride_h 2, activation 3.
pub fn conv_2d(p: Padding, stride: [usize; 2], activation: u8) -> OptionsDef {
    options(
        1,
        vec![
            (0, padding(p)),
            (1, Scalar::I32(stride[1] as i32)),
            (2, Scalar::I32(stride[0] as i32)),
            (3, Scalar::U8(activation)),
        ],
    )
}

/// `DepthwiseConv2DOptions` (tag 2): padding 0, stride_w 1, stride_h 2,
/// depth_multiplier 3, activation 4.
pub fn depthwise_conv_2d(
    p: Padding,
    stride: [usize; 2],
    multiplier: usize,
    activation: u8,
) -> OptionsDef {
    options(
        2,
        vec![
            (0, padding(p)),
            (1, Scalar::I32(stride[1] as i32)),
            (2, Scalar::I32(stride[0] as i32)),
            (3, Scalar::I32(multiplier as i32)),
            (4, Scalar::U8(activation)),
        ],
    )
}

/// `Pool2DOptions` (tag 5): padding 0, stride_w 1, stride_h 2, filter_width 3,
/// filter_height 4, activation 5.
pub fn pool_2d(p: Padding, stride: [usize; 2], filter: [usize; 2]) -> OptionsDef {
    options(
        5,
        vec![
            (0, padding(p)),
            (1, Scalar::I32(stride[1] as i32)),
            (2, Scalar::I32(stride[0] as i32)),
            (3, Scalar::I32(filter[1] as i32)),
            (4, Scalar::I32(filter[0] as i32)),
            (5, Scalar::U8(0)),
        ],
    )
}

/// `ReshapeOptions` (tag 17): new_shape 0.
pub fn reshape(new_shape: &[i32]) -> OptionsDef {
    OptionsDef {
        kind: 17,
        scalars: vec![],
        vectors: vec![(0, new_shape.to_vec())],
        ..OptionsDef::default()
    }
}

/// `ReducerOptions` (tag 27): keep_dims 0.
pub fn reducer(keep_dims: bool) -> OptionsDef {
    options(27, vec![(0, Scalar::U8(keep_dims as u8))])
}

/// `AddOptions` (tag 11): fused_activation_function 0.
pub fn add(activation: u8) -> OptionsDef {
    options(11, vec![(0, Scalar::U8(activation))])
}

/// `MulOptions` (tag 21): fused_activation_function 0.
pub fn mul(activation: u8) -> OptionsDef {
    options(21, vec![(0, Scalar::U8(activation))])
}

/// `ConcatenationOptions` (tag 10): axis 0, fused_activation_function 1.
pub fn concatenation(axis: i32) -> OptionsDef {
    options(10, vec![(0, Scalar::I32(axis)), (1, Scalar::U8(0))])
}

/// `SoftmaxOptions` (tag 9): beta 0.
pub fn softmax(beta: f32) -> OptionsDef {
    options(9, vec![(0, Scalar::F32(beta))])
}

/// `LeakyReluOptions` (tag 75): alpha 0.
pub fn leaky_relu(alpha: f32) -> OptionsDef {
    options(75, vec![(0, Scalar::F32(alpha))])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_options_put_width_before_height() {
        // stride [h, w] = [2, 1]: stride_w (id 1) = 1, stride_h (id 2) = 2; valid = 1
        let o = conv_2d(Padding::Valid, [2, 1], 3);
        assert_eq!(o.kind, 1);
        assert_eq!(
            o.scalars,
            [
                (0, Scalar::U8(1)),
                (1, Scalar::I32(1)),
                (2, Scalar::I32(2)),
                (3, Scalar::U8(3))
            ]
        );
        let p = pool_2d(Padding::Same, [1, 2], [3, 4]);
        assert_eq!(p.scalars[3], (3, Scalar::I32(4)));
        assert_eq!(p.scalars[4], (4, Scalar::I32(3)));
    }

    #[test]
    fn every_table_has_its_union_tag() {
        // Each helper's table, written and parsed back, is the one TensorFlow
        // Lite's schema has at that tag (LeakyReluOptions was once written
        // as tag 93, WhileOptions: TensorFlow Lite then ran alpha 0).
        use crate::tflite::{ModelDef, OperatorDef, TensorDef};
        use mote_runtime::{BuiltinOperator, Model, TensorType};
        let cases = [
            (conv_2d(Padding::Same, [1, 1], 0), "Conv2DOptions"),
            (
                depthwise_conv_2d(Padding::Same, [1, 1], 1, 0),
                "DepthwiseConv2DOptions",
            ),
            (pool_2d(Padding::Same, [1, 1], [2, 2]), "Pool2DOptions"),
            (reshape(&[1, 2]), "ReshapeOptions"),
            (reducer(false), "ReducerOptions"),
            (add(0), "AddOptions"),
            (mul(0), "MulOptions"),
            (concatenation(1), "ConcatenationOptions"),
            (softmax(1.0), "SoftmaxOptions"),
            (leaky_relu(0.2), "LeakyReluOptions"),
        ];
        for (options, name) in cases {
            let def = ModelDef {
                tensors: vec![
                    TensorDef::new("x", &[1, 2], TensorType::Float32),
                    TensorDef::new("y", &[1, 2], TensorType::Float32),
                ],
                operators: vec![OperatorDef::new(BuiltinOperator::RELU, &[0], &[1], options)],
                inputs: vec![0],
                outputs: vec![1],
                ..ModelDef::default()
            };
            let bytes = def.to_bytes().unwrap();
            let model = Model::parse(&bytes).unwrap();
            let op = model.main().operator(0).unwrap();
            assert_eq!(op.options().schema().map(|s| s.name), Some(name));
        }
    }
}
