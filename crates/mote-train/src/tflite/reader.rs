//! Imports a parsed `.tflite` model into the owned [`ModelDef`], field by
//! field: tensors, quantization, operators with every builtin options field
//! (typed, through the runtime's generated options schema), custom options,
//! metadata and signature definitions. Writing the result gives a file that
//! reads back the same.

use mote_runtime::model::options::{Elem, FieldType, Value};
use mote_runtime::model::{FieldValue, Options};
use mote_runtime::{Model, Tensor};

use super::builder::{Object, Scalar};
use super::writer::{
    ModelDef, OperatorDef, OptionsDef, QuantizationDef, SignatureDefDef, TensorDef,
};

/// Why a model cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// `ModelDef` holds one subgraph; the model has more.
    Subgraphs {
        /// How many the model has.
        count: usize,
    },
    /// A signature runs a subgraph other than the first.
    SignatureSubgraph {
        /// The signature's key.
        key: String,
    },
    /// An options field is a sub-table (the schema has none in its builtin
    /// options today; mote does not copy them).
    OptionsTable {
        /// The operator's index.
        operator: usize,
        /// The options table's name.
        table: &'static str,
        /// The field's name.
        field: &'static str,
    },
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Subgraphs { count } => write!(
                f,
                "the model has {count} subgraphs; mote imports models with one"
            ),
            ImportError::SignatureSubgraph { key } => {
                write!(f, "signature `{key}` runs a subgraph other than the first")
            }
            ImportError::OptionsTable {
                operator,
                table,
                field,
            } => write!(
                f,
                "operator {operator}: {table}.{field} is a sub-table, which mote does not import"
            ),
        }
    }
}

impl std::error::Error for ImportError {}

impl ModelDef {
    /// Imports a parsed model (one subgraph) into an owned description.
    pub fn from_model(model: &Model<'_>) -> Result<ModelDef, ImportError> {
        if model.subgraph_count() != 1 {
            return Err(ImportError::Subgraphs {
                count: model.subgraph_count(),
            });
        }
        let graph = model.main();
        let tensors = (0..graph.tensor_count())
            .filter_map(|i| graph.tensor(i))
            .map(|t| tensor_def(&t))
            .collect();
        let mut operators = Vec::new();
        for index in 0..graph.operator_count() {
            let Some(op) = graph.operator(index) else {
                continue;
            };
            let code = op.code();
            operators.push(OperatorDef {
                op: op.builtin(),
                custom_name: code.and_then(|c| c.custom_name()).map(str::to_string),
                version: code.map_or(1, |c| c.version()),
                inputs: op.inputs().iter().collect(),
                outputs: op.outputs().iter().collect(),
                options: options_def(&op.options(), index)?,
                options2: options_def(&op.options2(), index)?,
                custom_options: op.custom_options().to_vec(),
                intermediates: op.intermediates().iter().collect(),
            });
        }
        let mut signature_defs = Vec::new();
        for i in 0..model.signature_count() {
            let Some(sig) = model.signature(i) else {
                continue;
            };
            if sig.subgraph_index() != 0 {
                return Err(ImportError::SignatureSubgraph {
                    key: sig.key().to_string(),
                });
            }
            let maps = |it: &mut dyn Iterator<Item = (&str, u32)>| {
                it.map(|(name, index)| (name.to_string(), index))
                    .collect::<Vec<_>>()
            };
            signature_defs.push(SignatureDefDef {
                key: sig.key().to_string(),
                inputs: maps(&mut sig.inputs()),
                outputs: maps(&mut sig.outputs()),
            });
        }
        Ok(ModelDef {
            description: model.description().to_string(),
            name: graph.name().to_string(),
            tensors,
            operators,
            inputs: graph.inputs().iter().collect(),
            outputs: graph.outputs().iter().collect(),
            metadata: model
                .metadata()
                .map(|(name, bytes)| (name.to_string(), bytes.to_vec()))
                .collect(),
            signature_defs,
        })
    }
}

fn tensor_def(t: &Tensor<'_>) -> TensorDef {
    let quantization = t.quantization().map(|q| {
        let n = q.scale_count();
        let (min, max) = (0..n).map_while(|i| q.min_max(i)).unzip();
        QuantizationDef {
            scale: (0..n).map(|i| q.scale(i)).collect(),
            zero_point: (0..n).map(|i| q.zero_point(i)).collect(),
            quantized_dimension: q.quantized_dimension() as i32,
            min,
            max,
        }
    });
    TensorDef {
        name: t.name().to_string(),
        shape: t.shape().dims().iter().map(|d| *d as i32).collect(),
        shape_signature: t.shape_signature().map(Iterator::collect),
        dtype: t.dtype(),
        data: t.is_constant().then(|| t.data().to_vec()),
        quantization,
        is_variable: t.is_variable(),
        has_rank: t.has_rank(),
    }
}

/// The scalar as the builder stores it (same width, same bits).
fn scalar(v: Value) -> Scalar {
    match v {
        Value::I32(x) => Scalar::I32(x),
        Value::U32(x) => Scalar::U32(x),
        Value::F32(x) => Scalar::F32(x),
        _ => match v.size() {
            1 => Scalar::U8(v.bits() as u8),
            2 => Scalar::U16(v.bits() as u16),
            _ => Scalar::U64(v.bits()),
        },
    }
}

/// Copies every field of an options table, typed: scalars that differ from
/// their default, every present vector and string.
fn options_def(options: &Options<'_>, operator: usize) -> Result<OptionsDef, ImportError> {
    let mut def = OptionsDef {
        kind: options.kind(),
        ..OptionsDef::default()
    };
    if options.kind() == 0 {
        return Ok(def);
    }
    for (field, value) in options.fields() {
        match value {
            FieldValue::Scalar(v) => {
                if FieldType::Scalar(v) != field.ty {
                    def.scalars.push((field.id, scalar(v)));
                }
            }
            FieldValue::Vector(v) => match v.elem() {
                Elem::I32 => {
                    let values = (0..v.len())
                        .map(|i| v.value(i).map_or(0, |x| x.as_i64() as i32))
                        .collect();
                    def.vectors.push((field.id, values));
                }
                Elem::String => {
                    let strings = (0..v.len())
                        .map(|i| Object::String(v.string(i).unwrap_or("").to_string()))
                        .collect();
                    def.objects.push((field.id, Object::Objects(strings)));
                }
                Elem::Table => {
                    return Err(ImportError::OptionsTable {
                        operator,
                        table: options.schema().map_or("?", |s| s.name),
                        field: field.name,
                    })
                }
                elem => {
                    let size = elem.size();
                    let bytes = (0..v.len())
                        .flat_map(|i| {
                            let bits = v.value(i).map_or(0, |x| x.bits());
                            bits.to_le_bytes().into_iter().take(size)
                        })
                        .collect();
                    def.objects.push((
                        field.id,
                        Object::Scalars {
                            bytes,
                            elem_size: size,
                            align: size,
                        },
                    ));
                }
            },
            FieldValue::String(s) => def.objects.push((field.id, Object::String(s.to_string()))),
            FieldValue::Table => {
                return Err(ImportError::OptionsTable {
                    operator,
                    table: options.schema().map_or("?", |s| s.name),
                    field: field.name,
                })
            }
            FieldValue::Absent => {}
        }
    }
    Ok(def)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tflite::builder::Object as O;
    use mote_runtime::{BuiltinOperator, Error, TensorType};

    /// A RESHAPE with `ReshapeOptions { new_shape: [2, 3] }` and a STRIDED_SLICE
    /// with non-default masks.
    fn shapes() -> ModelDef {
        let mut slice = OptionsDef {
            kind: 32, // StridedSliceOptions
            ..OptionsDef::default()
        };
        slice.scalars = vec![(0, Scalar::I32(5)), (4, Scalar::I32(2))];
        ModelDef {
            description: "shapes".into(),
            name: "main".into(),
            tensors: vec![
                TensorDef::new("x", &[6], TensorType::Float32),
                TensorDef::new("y", &[2, 3], TensorType::Float32),
                TensorDef::new("z", &[1, 3], TensorType::Float32),
            ],
            operators: vec![
                OperatorDef::new(
                    BuiltinOperator::RESHAPE,
                    &[0],
                    &[1],
                    OptionsDef {
                        kind: 17, // ReshapeOptions
                        vectors: vec![(0, vec![2, 3])],
                        ..OptionsDef::default()
                    },
                ),
                OperatorDef::new(BuiltinOperator::STRIDED_SLICE, &[1], &[2], slice),
            ],
            inputs: vec![0],
            outputs: vec![2],
            metadata: vec![],
            signature_defs: vec![SignatureDefDef {
                key: "serving_default".into(),
                inputs: vec![("x".into(), 0)],
                outputs: vec![("z".into(), 2)],
            }],
        }
    }

    #[test]
    fn options_print_typed_with_defaults() {
        let bytes = shapes().to_bytes().unwrap();
        let model = Model::parse(&bytes).unwrap();
        let graph = model.main();
        let reshape = graph.operator(0).unwrap().options();
        assert_eq!(reshape.to_string(), "ReshapeOptions { new_shape: [2, 3] }");
        let slice = graph.operator(1).unwrap().options();
        assert_eq!(
            slice.to_string(),
            "StridedSliceOptions { begin_mask: 5, end_mask: 0, ellipsis_mask: 0, \
             new_axis_mask: 0, shrink_axis_mask: 2, offset: false }"
        );
    }

    #[test]
    fn an_imported_model_writes_back_the_same_bytes() {
        let bytes = shapes().to_bytes().unwrap();
        let model = Model::parse(&bytes).unwrap();
        let def = ModelDef::from_model(&model).unwrap();
        assert_eq!(def, shapes());
        assert_eq!(def.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn an_options_vector_past_the_file_end_is_refused_naming_the_field() {
        let mut bytes = shapes().to_bytes().unwrap();
        // Find new_shape's vector [2, 3] (length 2; written after tensor y's
        // shape, which holds the same) and make its length huge.
        let at = (0..bytes.len() - 12)
            .rfind(|&i| bytes[i..i + 12] == [2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0])
            .unwrap();
        bytes[at..at + 4].copy_from_slice(&0x4000_0000u32.to_le_bytes());
        match Model::parse(&bytes) {
            Err(Error::Malformed { field, .. }) => assert_eq!(field, "new_shape"),
            other => panic!("expected Malformed new_shape, got {other:?}"),
        }
    }

    #[test]
    fn non_int_vectors_and_strings_are_copied_typed() {
        let mut def = shapes();
        // BucketizeOptions (tag 115): boundaries is a [float].
        def.operators[0].options = OptionsDef {
            kind: 115,
            objects: vec![(0, O::f32s(&[0.5, 1.5]))],
            ..OptionsDef::default()
        };
        // StablehloCustomCallOptions (BuiltinOptions2 tag 5): strings.
        def.operators[1].options2 = OptionsDef {
            kind: 5,
            objects: vec![(0, O::String("target".into()))],
            scalars: vec![(1, Scalar::U8(1))],
            ..OptionsDef::default()
        };
        let bytes = def.to_bytes().unwrap();
        let model = Model::parse(&bytes).unwrap();
        let op = model.main().operator(0).unwrap();
        assert_eq!(
            op.options().to_string(),
            "BucketizeOptions { boundaries: [0.5, 1.5] }"
        );
        let again = ModelDef::from_model(&model).unwrap();
        assert_eq!(again.to_bytes().unwrap(), bytes);
        let op2 = model.main().operator(1).unwrap().options2();
        assert!(op2.to_string().starts_with(
            "StablehloCustomCallOptions { call_target_name: \"target\", has_side_effect: true"
        ));
    }
}
