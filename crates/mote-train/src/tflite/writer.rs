//! Writes a `.tflite` file from an owned description of one subgraph.
//!
//! Field ids are TensorFlow Lite's `schema.fbs` (the same facts the runtime's
//! reader uses). Every constant tensor gets its own buffer; buffer 0 is the
//! empty sentinel, as TensorFlow's converter writes it.

use mote_runtime::{BuiltinOperator, TensorType};

use super::builder::{finish, Field, Object, Scalar};

/// A tensor to write.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorDef {
    /// Its name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<i32>,
    /// Its shape signature (`-1` = dynamic), if any.
    pub shape_signature: Option<Vec<i32>>,
    /// Its element type.
    pub dtype: TensorType,
    /// Constant data (little-endian), if it is a constant.
    pub data: Option<Vec<u8>>,
    /// Quantization parameters, if quantized.
    pub quantization: Option<QuantizationDef>,
    /// Whether it is a variable (state kept across invocations).
    pub is_variable: bool,
    /// Whether its rank is known (`has_rank`; TensorFlow's converter sets it).
    pub has_rank: bool,
}

impl TensorDef {
    /// A tensor with no data and no quantization.
    pub fn new(name: impl Into<String>, shape: &[i32], dtype: TensorType) -> Self {
        TensorDef {
            name: name.into(),
            shape: shape.to_vec(),
            shape_signature: None,
            dtype,
            data: None,
            quantization: None,
            is_variable: false,
            has_rank: false,
        }
    }

    /// A float32 constant.
    pub fn constant_f32(name: impl Into<String>, shape: &[i32], values: &[f32]) -> Self {
        let mut t = TensorDef::new(name, shape, TensorType::Float32);
        t.data = Some(values.iter().flat_map(|v| v.to_le_bytes()).collect());
        t
    }
}

/// Quantization parameters: `real = scale * (q - zero_point)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QuantizationDef {
    /// Scales (one, or one per channel).
    pub scale: Vec<f32>,
    /// Zero points (same count as `scale`).
    pub zero_point: Vec<i64>,
    /// The channel axis for per-channel scales.
    pub quantized_dimension: i32,
    /// Recorded float minimums, if any.
    pub min: Vec<f32>,
    /// Recorded float maximums, if any.
    pub max: Vec<f32>,
}

/// An operator's builtin options: the union tag (`BuiltinOptions`, or
/// `BuiltinOptions2` in [`OperatorDef::options2`]) and the table's fields by id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptionsDef {
    /// The union tag (0 = no options).
    pub kind: u8,
    /// Scalar fields.
    pub scalars: Vec<(u16, Scalar)>,
    /// `[int]` fields.
    pub vectors: Vec<(u16, Vec<i32>)>,
    /// Any other field: vectors of other element types, strings.
    pub objects: Vec<(u16, Object)>,
}

impl OptionsDef {
    /// `FullyConnectedOptions` with a fused activation code and `keep_num_dims`.
    pub fn fully_connected(activation: u8, keep_num_dims: bool) -> Self {
        OptionsDef {
            kind: 8,
            scalars: vec![
                (0, Scalar::U8(activation)),
                (2, Scalar::U8(keep_num_dims as u8)),
            ],
            ..OptionsDef::default()
        }
    }
}

/// An operator to write.
#[derive(Clone, Debug, PartialEq)]
pub struct OperatorDef {
    /// The builtin operator (`CUSTOM` for a custom op).
    pub op: BuiltinOperator,
    /// The custom op's name, for `CUSTOM`.
    pub custom_name: Option<String>,
    /// The operator's version.
    pub version: i32,
    /// Input tensor indices (`-1` = omitted).
    pub inputs: Vec<i32>,
    /// Output tensor indices.
    pub outputs: Vec<i32>,
    /// Builtin options.
    pub options: OptionsDef,
    /// Second builtin options (`BuiltinOptions2`, StableHLO ops).
    pub options2: OptionsDef,
    /// Custom options bytes.
    pub custom_options: Vec<u8>,
    /// Intermediate tensor indices (quantized recurrent ops).
    pub intermediates: Vec<i32>,
}

impl OperatorDef {
    /// A builtin operator, version 1.
    pub fn new(op: BuiltinOperator, inputs: &[i32], outputs: &[i32], options: OptionsDef) -> Self {
        OperatorDef {
            op,
            custom_name: None,
            version: 1,
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            options,
            options2: OptionsDef::default(),
            custom_options: vec![],
            intermediates: vec![],
        }
    }
}

/// A one-subgraph model to write.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelDef {
    /// The model's description.
    pub description: String,
    /// The subgraph's name.
    pub name: String,
    /// Tensors.
    pub tensors: Vec<TensorDef>,
    /// Operators in execution order.
    pub operators: Vec<OperatorDef>,
    /// Graph input tensor indices.
    pub inputs: Vec<i32>,
    /// Graph output tensor indices.
    pub outputs: Vec<i32>,
    /// Metadata entries `(name, bytes)`.
    pub metadata: Vec<(String, Vec<u8>)>,
    /// Signature definitions (named inputs and outputs of the subgraph).
    pub signature_defs: Vec<SignatureDefDef>,
}

/// A signature definition of the model's subgraph.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignatureDefDef {
    /// The signature's key (`"serving_default"`).
    pub key: String,
    /// Named inputs: `(name, tensor index)`.
    pub inputs: Vec<(String, u32)>,
    /// Named outputs: `(name, tensor index)`.
    pub outputs: Vec<(String, u32)>,
}

/// Why a model cannot be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// An operator or the graph names a tensor that does not exist.
    NoSuchTensor {
        /// The index named.
        index: i32,
    },
    /// The model would exceed the 2 GiB a FlatBuffer can address.
    TooLarge,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::NoSuchTensor { index } => {
                write!(f, "the model names tensor {index}, which does not exist")
            }
            WriteError::TooLarge => {
                f.write_str("the model exceeds the 2 GiB a .tflite file can hold")
            }
        }
    }
}

impl std::error::Error for WriteError {}

impl ModelDef {
    /// Checks the indices and serializes the model as `.tflite` bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WriteError> {
        let count = self.tensors.len() as i32;
        let check = |index: i32, optional: bool| {
            if (0..count).contains(&index) || (optional && index == -1) {
                Ok(())
            } else {
                Err(WriteError::NoSuchTensor { index })
            }
        };
        for op in &self.operators {
            op.inputs.iter().try_for_each(|i| check(*i, true))?;
            op.outputs.iter().try_for_each(|i| check(*i, false))?;
            op.intermediates.iter().try_for_each(|i| check(*i, false))?;
        }
        for sig in &self.signature_defs {
            sig.inputs
                .iter()
                .chain(&sig.outputs)
                .try_for_each(|(_, i)| check(i32::try_from(*i).unwrap_or(-1), false))?;
        }
        self.inputs
            .iter()
            .chain(&self.outputs)
            .try_for_each(|i| check(*i, false))?;
        let data_bytes: usize = self
            .tensors
            .iter()
            .filter_map(|t| t.data.as_ref())
            .map(Vec::len)
            .sum();
        if data_bytes >= (1 << 31) - (1 << 20) {
            return Err(WriteError::TooLarge);
        }
        Ok(finish(&self.to_object(), b"TFL3"))
    }

    fn to_object(&self) -> Object {
        // Buffers: 0 is empty; then one per constant tensor; then metadata.
        let mut buffers = vec![Object::Table(vec![])];
        let mut tensors = Vec::new();
        for t in &self.tensors {
            let buffer = match &t.data {
                Some(data) => {
                    buffers.push(Object::Table(vec![(
                        0,
                        Field::Object(Object::bytes16(data)),
                    )]));
                    buffers.len() as u32 - 1
                }
                None => 0,
            };
            tensors.push(tensor_object(t, buffer));
        }
        let mut metadata = Vec::new();
        for (name, bytes) in &self.metadata {
            buffers.push(Object::Table(vec![(
                0,
                Field::Object(Object::bytes16(bytes)),
            )]));
            metadata.push(Object::Table(vec![
                (0, Field::Object(Object::String(name.clone()))),
                (1, Field::Scalar(Scalar::U32(buffers.len() as u32 - 1))),
            ]));
        }
        // Operator codes, one per distinct (op, custom name, version).
        let mut codes: Vec<(BuiltinOperator, Option<String>, i32)> = Vec::new();
        let mut operators = Vec::new();
        for op in &self.operators {
            let key = (op.op, op.custom_name.clone(), op.version);
            let index = match codes.iter().position(|c| *c == key) {
                Some(i) => i,
                None => {
                    codes.push(key);
                    codes.len() - 1
                }
            };
            operators.push(operator_object(op, index as u32));
        }
        let codes = codes
            .into_iter()
            .map(|(op, custom, version)| {
                let mut fields = vec![
                    // Old readers look at the deprecated byte; codes past 127 store 127
                    // there (PLACEHOLDER_FOR_GREATER_OP_CODES), as the converter does.
                    (0, Field::Scalar(Scalar::U8(op.0.min(127) as u8))),
                    (2, Field::Scalar(Scalar::I32(version))),
                    (3, Field::Scalar(Scalar::I32(op.0))),
                ];
                if let Some(name) = custom {
                    fields.push((1, Field::Object(Object::String(name))));
                }
                Object::Table(fields)
            })
            .collect();
        let subgraph = Object::Table(vec![
            (0, Field::Object(Object::Objects(tensors))),
            (1, Field::Object(Object::i32s(&self.inputs))),
            (2, Field::Object(Object::i32s(&self.outputs))),
            (3, Field::Object(Object::Objects(operators))),
            (4, Field::Object(Object::String(self.name.clone()))),
        ]);
        let mut model = vec![
            (0, Field::Scalar(Scalar::U32(3))),
            (1, Field::Object(Object::Objects(codes))),
            (2, Field::Object(Object::Objects(vec![subgraph]))),
            (3, Field::Object(Object::String(self.description.clone()))),
            (4, Field::Object(Object::Objects(buffers))),
        ];
        if !metadata.is_empty() {
            model.push((6, Field::Object(Object::Objects(metadata))));
        }
        if !self.signature_defs.is_empty() {
            let sigs = self.signature_defs.iter().map(signature_object).collect();
            model.push((7, Field::Object(Object::Objects(sigs))));
        }
        Object::Table(model)
    }
}

fn tensor_object(t: &TensorDef, buffer: u32) -> Object {
    let mut fields = vec![
        (0, Field::Object(Object::i32s(&t.shape))),
        (1, Field::Scalar(Scalar::U8(t.dtype.code()))),
        (2, Field::Scalar(Scalar::U32(buffer))),
        (3, Field::Object(Object::String(t.name.clone()))),
    ];
    if let Some(q) = &t.quantization {
        let mut qf = vec![
            (2, Field::Object(Object::f32s(&q.scale))),
            (3, Field::Object(Object::i64s(&q.zero_point))),
            (6, Field::Scalar(Scalar::I32(q.quantized_dimension))),
        ];
        if !q.min.is_empty() {
            qf.push((0, Field::Object(Object::f32s(&q.min))));
            qf.push((1, Field::Object(Object::f32s(&q.max))));
        }
        fields.push((4, Field::Object(Object::Table(qf))));
    }
    if t.is_variable {
        fields.push((5, Field::Scalar(Scalar::U8(1))));
    }
    if let Some(sig) = &t.shape_signature {
        fields.push((7, Field::Object(Object::i32s(sig))));
    }
    if t.has_rank {
        fields.push((8, Field::Scalar(Scalar::U8(1))));
    }
    Object::Table(fields)
}

fn signature_object(sig: &SignatureDefDef) -> Object {
    let maps = |list: &[(String, u32)]| {
        Object::Objects(
            list.iter()
                .map(|(name, index)| {
                    Object::Table(vec![
                        (0, Field::Object(Object::String(name.clone()))),
                        (1, Field::Scalar(Scalar::U32(*index))),
                    ])
                })
                .collect(),
        )
    };
    Object::Table(vec![
        (0, Field::Object(maps(&sig.inputs))),
        (1, Field::Object(maps(&sig.outputs))),
        (2, Field::Object(Object::String(sig.key.clone()))),
        (4, Field::Scalar(Scalar::U32(0))),
    ])
}

/// The table of an options union member.
fn options_object(options: &OptionsDef) -> Object {
    let mut fields: Vec<(u16, Field)> = options
        .scalars
        .iter()
        .map(|(id, v)| (*id, Field::Scalar(*v)))
        .collect();
    fields.extend(
        options
            .vectors
            .iter()
            .map(|(id, v)| (*id, Field::Object(Object::i32s(v)))),
    );
    fields.extend(
        options
            .objects
            .iter()
            .map(|(id, o)| (*id, Field::Object(o.clone()))),
    );
    Object::Table(fields)
}

fn operator_object(op: &OperatorDef, opcode_index: u32) -> Object {
    let mut fields = vec![
        (0, Field::Scalar(Scalar::U32(opcode_index))),
        (1, Field::Object(Object::i32s(&op.inputs))),
        (2, Field::Object(Object::i32s(&op.outputs))),
    ];
    if op.options.kind != 0 {
        fields.push((3, Field::Scalar(Scalar::U8(op.options.kind))));
        fields.push((4, Field::Object(options_object(&op.options))));
    }
    if !op.custom_options.is_empty() {
        fields.push((5, Field::Object(Object::bytes(&op.custom_options))));
    }
    if !op.intermediates.is_empty() {
        fields.push((8, Field::Object(Object::i32s(&op.intermediates))));
    }
    if op.options2.kind != 0 {
        fields.push((11, Field::Scalar(Scalar::U8(op.options2.kind))));
        fields.push((12, Field::Object(options_object(&op.options2))));
    }
    Object::Table(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mote_runtime::{Interpreter, Model, OpResolver};

    /// y = w x + b as one FULLY_CONNECTED.
    pub(crate) fn line(w: f32, b: f32) -> ModelDef {
        ModelDef {
            description: "line".into(),
            name: "main".into(),
            tensors: vec![
                TensorDef::new("x", &[1, 1], TensorType::Float32),
                TensorDef::constant_f32("w", &[1, 1], &[w]),
                TensorDef::constant_f32("b", &[1], &[b]),
                TensorDef::new("y", &[1, 1], TensorType::Float32),
            ],
            operators: vec![OperatorDef::new(
                BuiltinOperator::FULLY_CONNECTED,
                &[0, 1, 2],
                &[3],
                OptionsDef::fully_connected(0, false),
            )],
            inputs: vec![0],
            outputs: vec![3],
            metadata: vec![("min_runtime_version".into(), b"1.5.0\0".to_vec())],
            signature_defs: vec![],
        }
    }

    #[test]
    fn a_written_line_reads_back_and_runs() {
        let bytes = line(2.0, -1.0).to_bytes().unwrap();
        assert_eq!(&bytes[4..8], b"TFL3");
        let model = Model::parse(&bytes).unwrap();
        let graph = model.main();
        assert_eq!((graph.tensor_count(), graph.operator_count()), (4, 1));
        assert_eq!(graph.tensor(1).unwrap().name(), "w");
        assert_eq!(
            graph.operator(0).unwrap().builtin(),
            BuiltinOperator::FULLY_CONNECTED
        );
        assert_eq!(
            model.metadata().next(),
            Some(("min_runtime_version", &b"1.5.0\0"[..]))
        );
        let mut arena = [0u8; 512];
        let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
        interpreter.input_mut::<f32>(0).unwrap()[0] = 10.0;
        interpreter.invoke().unwrap();
        // y = 2 * 10 - 1
        assert_eq!(interpreter.output::<f32>(0).unwrap(), &[19.0]);
    }

    #[test]
    fn buffer_data_is_16_byte_aligned() {
        let bytes = line(2.0, -1.0).to_bytes().unwrap();
        let model = Model::parse(&bytes).unwrap();
        for i in 1..model.buffer_count() {
            let data = model.buffer(i);
            let offset = data.as_ptr() as usize - bytes.as_ptr() as usize;
            assert_eq!(offset % 16, 0, "buffer {i} at {offset}");
        }
    }

    #[test]
    fn quantization_and_custom_ops_round_trip() {
        let mut def = line(1.0, 0.0);
        def.tensors[0].quantization = Some(QuantizationDef {
            scale: vec![0.5],
            zero_point: vec![-3],
            quantized_dimension: 0,
            min: vec![-1.0],
            max: vec![1.0],
        });
        def.operators.push(OperatorDef {
            op: BuiltinOperator::CUSTOM,
            custom_name: Some("SignalWindow".into()),
            version: 1,
            inputs: vec![3, -1],
            outputs: vec![0],
            options: OptionsDef::default(),
            options2: OptionsDef::default(),
            custom_options: vec![1, 2, 3],
            intermediates: vec![],
        });
        let bytes = def.to_bytes().unwrap();
        let model = Model::parse(&bytes).unwrap();
        let q = model.main().tensor(0).unwrap().quantization().unwrap();
        assert_eq!(
            (q.scale(0), q.zero_point(0), q.min_max(0)),
            (0.5, -3, Some((-1.0, 1.0)))
        );
        let custom = model.main().operator(1).unwrap();
        assert_eq!(custom.code().unwrap().custom_name(), Some("SignalWindow"));
        assert_eq!(custom.custom_options(), &[1, 2, 3]);
        assert_eq!(custom.inputs().raw(1), Some(-1));
    }

    #[test]
    fn bad_indices_are_refused() {
        let mut def = line(1.0, 0.0);
        def.outputs = vec![9];
        assert_eq!(def.to_bytes(), Err(WriteError::NoSuchTensor { index: 9 }));
    }
}
