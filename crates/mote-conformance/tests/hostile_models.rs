//! Models that lie about sizes are refused (at parse time, or by the
//! interpreter for a valid file no arena can hold) with an error that
//! says what and where: buffers that claim more bytes than the file holds, and
//! shapes whose element count or byte size does not fit `usize`. Built with
//! mote's FlatBuffer builder so each file is well-formed except for the lie.

use mote_runtime::model::Fault;
use mote_runtime::{Error, Interpreter, Location, Model, OpResolver, TensorType};
use mote_train::tflite::builder::{finish, Field, Object, Scalar};
use mote_train::tflite::{ModelDef, TensorDef};

/// A one-tensor model whose buffer 1 is `buffer` and whose tensor has `shape`
/// and uses buffer 1 if `constant`.
fn model_with(buffer: Vec<(u16, Field)>, shape: &[i32], constant: bool) -> Vec<u8> {
    let tensor = Object::Table(vec![
        (0, Field::Object(Object::i32s(shape))),
        (1, Field::Scalar(Scalar::U8(0))), // float32
        (2, Field::Scalar(Scalar::U32(u32::from(constant)))),
    ]);
    let subgraph = Object::Table(vec![
        (0, Field::Object(Object::Objects(vec![tensor]))),
        (1, Field::Object(Object::i32s(&[0]))),
        (2, Field::Object(Object::i32s(&[0]))),
        (3, Field::Object(Object::Objects(vec![]))),
    ]);
    let root = Object::Table(vec![
        (0, Field::Scalar(Scalar::U32(3))),
        (1, Field::Object(Object::Objects(vec![]))),
        (2, Field::Object(Object::Objects(vec![subgraph]))),
        (
            4,
            Field::Object(Object::Objects(vec![
                Object::Table(vec![]),
                Object::Table(buffer),
            ])),
        ),
    ]);
    finish(&root, b"TFL3")
}

fn outside(offset: u64, size: u64) -> Vec<(u16, Field)> {
    vec![
        (1, Field::Scalar(Scalar::U64(offset))),
        (2, Field::Scalar(Scalar::U64(size))),
    ]
}

#[test]
fn a_buffer_claiming_more_bytes_than_the_file_holds_is_refused() {
    let cases = [
        (16, 1 << 40),     // a terabyte from byte 16
        (1 << 40, 4),      // starts past the end
        (u64::MAX - 2, 8), // offset + size overflows
        (16, u64::MAX),    // size past usize
    ];
    for (offset, size) in cases {
        let bytes = model_with(outside(offset, size), &[1], false);
        let err = Model::parse(&bytes).unwrap_err();
        assert_eq!(
            err,
            Error::Malformed {
                at: Location::Buffer(1),
                field: "data",
                fault: Fault::OutOfBounds
            },
            "offset {offset} size {size}"
        );
        assert_eq!(
            err.to_string(),
            "malformed model: buffer 1, field `data`: offset or length points outside the file"
        );
    }
    // The same layout with an honest size parses: the bytes after the
    // FlatBuffer are the buffer's.
    let mut bytes = model_with(outside(0, 0), &[2], true);
    let offset = bytes.len() as u64;
    bytes = model_with(outside(offset, 8), &[2], true);
    let at = bytes.len();
    assert_eq!(
        at as u64, offset,
        "the layout does not depend on the values"
    );
    bytes.extend(1.5f32.to_le_bytes());
    bytes.extend(2.5f32.to_le_bytes());
    let model = Model::parse(&bytes).unwrap();
    assert_eq!(model.main().tensor(0).unwrap().data(), &bytes[at..]);
}

#[test]
fn an_inline_buffer_smaller_than_its_shape_is_refused() {
    // shape [1 << 20] float32 needs 4 MiB; the buffer holds 4 bytes.
    let mut def = ModelDef::default();
    def.tensors
        .push(TensorDef::constant_f32("w", &[1 << 20], &[1.0]));
    def.inputs = vec![0];
    let bytes = def.to_bytes().unwrap();
    assert_eq!(
        Model::parse(&bytes).unwrap_err(),
        Error::BufferSize {
            tensor: 0,
            has: 4,
            needs: 4 << 20
        }
    );
}

#[test]
fn shapes_past_usize_are_refused() {
    let huge: &[&[i32]] = &[
        &[i32::MAX, i32::MAX, i32::MAX], // elements overflow (2^93)
        &[1 << 30, 1 << 30, 1 << 4],     // elements 2^64: overflow
        &[1 << 30, 1 << 30, 1 << 3],     // elements 2^63 fit; float32 bytes 2^65 do not
        &[-1, 4],                        // a negative dimension
        &[1, 1, 1, 1, 1, 1, 1, 1, 1],    // rank 9
    ];
    for shape in huge {
        let mut def = ModelDef::default();
        def.tensors
            .push(TensorDef::new("x", shape, TensorType::Float32));
        def.inputs = vec![0];
        def.outputs = vec![0];
        let bytes = def.to_bytes().unwrap();
        let err = Model::parse(&bytes).unwrap_err();
        assert_eq!(err, Error::BadShape { tensor: 0 }, "{shape:?}");
        assert!(err.to_string().starts_with("tensor 0 has an invalid shape"));
    }
}

#[test]
fn a_shape_that_fits_usize_but_not_the_arena_is_refused_by_the_interpreter() {
    // 2^48 float32 elements: a valid file, but no arena holds a petabyte.
    let mut def = ModelDef::default();
    def.tensors.push(TensorDef::new(
        "x",
        &[1 << 16, 1 << 16, 1 << 16],
        TensorType::Float32,
    ));
    def.inputs = vec![0];
    def.outputs = vec![0];
    let bytes = def.to_bytes().unwrap();
    let model = Model::parse(&bytes).unwrap();
    let mut arena = vec![0u8; 1 << 16];
    match Interpreter::new(&model, &mut arena, &OpResolver::all()) {
        Err(Error::ArenaTooSmall { needed, available }) => {
            assert!(needed >= 1 << 50, "needed {needed}");
            assert_eq!(available, 1 << 16);
        }
        // The planner may refuse tensors past what it can address as well.
        Err(Error::BadShape { tensor: 0 }) => {}
        Err(other) => panic!("expected ArenaTooSmall or BadShape, got {other}"),
        Ok(_) => panic!("a petabyte tensor must not fit 64 KiB"),
    }
}

/// The fuzzer's finding: a valid file whose FULLY_CONNECTED sizes multiply past
/// `usize` (2^40 rows times 2^30 units) is refused in `prepare`, not wrapped.
#[test]
fn fully_connected_sizes_that_multiply_past_usize_are_refused() {
    use mote_runtime::BuiltinOperator;
    use mote_train::tflite::{OperatorDef, OptionsDef};
    let bytes = ModelDef {
        description: "fc overflow".into(),
        name: "main".into(),
        tensors: vec![
            TensorDef::new("x", &[1 << 20, 1 << 20], TensorType::Float32),
            TensorDef::new("w", &[1 << 30, 1], TensorType::Float32),
            TensorDef::new("y", &[1, 1], TensorType::Float32),
        ],
        operators: vec![OperatorDef::new(
            BuiltinOperator::FULLY_CONNECTED,
            &[0, 1, -1],
            &[2],
            OptionsDef::fully_connected(0, false),
        )],
        inputs: vec![0, 1],
        outputs: vec![2],
        ..ModelDef::default()
    }
    .to_bytes()
    .unwrap();
    let model = Model::parse(&bytes).unwrap();
    let mut arena = vec![0u8; 1 << 16];
    match Interpreter::new(&model, &mut arena, &OpResolver::all()) {
        Err(Error::InvalidOp { op, .. }) => assert_eq!(op, BuiltinOperator::FULLY_CONNECTED),
        Err(other) => panic!("expected FULLY_CONNECTED to refuse its sizes, got {other}"),
        Ok(_) => panic!("a 2^70-element output must not be accepted"),
    }
}
