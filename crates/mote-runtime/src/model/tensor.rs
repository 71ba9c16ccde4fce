//! Tensors (`Tensor` and `QuantizationParameters` tables).

use super::{Model, Table, TensorType, Vector};

/// Field ids of the `Tensor` table.
pub(super) mod field {
    pub const SHAPE: u16 = 0;
    pub const TYPE: u16 = 1;
    pub const BUFFER: u16 = 2;
    pub const NAME: u16 = 3;
    pub const QUANTIZATION: u16 = 4;
    pub const IS_VARIABLE: u16 = 5;
    pub const SHAPE_SIGNATURE: u16 = 7;
    pub const HAS_RANK: u16 = 8;
}

/// Field ids of the `QuantizationParameters` table.
pub(super) mod quant_field {
    pub const MIN: u16 = 0;
    pub const MAX: u16 = 1;
    pub const SCALE: u16 = 2;
    pub const ZERO_POINT: u16 = 3;
    pub const QUANTIZED_DIMENSION: u16 = 6;
}

/// The highest tensor rank mote accepts.
pub const MAX_RANK: usize = 8;

/// A tensor's shape, held inline (rank at most [`MAX_RANK`]).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    dims: [usize; MAX_RANK],
    rank: usize,
}

impl Shape {
    /// A shape from its dimensions; `None` if the rank exceeds [`MAX_RANK`].
    pub fn new(dims: &[usize]) -> Option<Self> {
        let mut shape = Shape {
            dims: [0; MAX_RANK],
            rank: dims.len(),
        };
        shape.dims.get_mut(..dims.len())?.copy_from_slice(dims);
        Some(shape)
    }

    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        self.dims.get(..self.rank).unwrap_or(&[])
    }

    /// The rank.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Dimension `axis`, or 1 past the rank.
    pub fn dim(&self, axis: usize) -> usize {
        self.dims().get(axis).copied().unwrap_or(1)
    }

    /// Number of elements (1 for a scalar). Verified not to overflow for model tensors.
    pub fn elements(&self) -> usize {
        self.dims()
            .iter()
            .try_fold(1usize, |n, d| n.checked_mul(*d))
            .unwrap_or(usize::MAX)
    }
}

impl core::fmt::Debug for Shape {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.dims()).finish()
    }
}

impl core::fmt::Display for Shape {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.dims().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

/// A tensor of a subgraph.
#[derive(Clone, Copy, Debug)]
pub struct Tensor<'a> {
    model: Model<'a>,
    table: Table<'a>,
}

impl<'a> Tensor<'a> {
    pub(super) fn new(model: Model<'a>, table: Table<'a>) -> Self {
        Tensor { model, table }
    }

    /// The tensor's shape.
    pub fn shape(&self) -> Shape {
        let dims = self
            .table
            .vector_or_empty(field::SHAPE, 4)
            .unwrap_or(Vector::EMPTY_TABLES);
        read_shape(dims).unwrap_or_default()
    }

    /// The shape signature (`-1` marks a dynamic dimension), if the file has one.
    pub fn shape_signature(&self) -> Option<impl Iterator<Item = i32> + 'a> {
        let dims = self
            .table
            .vector(field::SHAPE_SIGNATURE, 4)
            .ok()
            .flatten()?;
        Some((0..dims.len()).map(move |i| dims.i32(i).unwrap_or(0)))
    }

    /// The element type.
    pub fn dtype(&self) -> TensorType {
        let code = self.table.u8(field::TYPE, 0).unwrap_or(0);
        TensorType::from_code(code).unwrap_or(TensorType::Float32)
    }

    /// Bytes the tensor's data takes (its shape times its element size).
    pub fn byte_len(&self) -> usize {
        self.dtype().bytes_for(self.shape().elements()).unwrap_or(0)
    }

    /// Index of the tensor's buffer (0 = none).
    pub fn buffer_index(&self) -> u32 {
        self.table.u32(field::BUFFER, 0).unwrap_or(0)
    }

    /// The tensor's constant data, or an empty slice if it has none.
    pub fn data(&self) -> &'a [u8] {
        self.model.buffer(self.buffer_index() as usize)
    }

    /// Whether `other` is this very tensor of the same model.
    pub(super) fn same(&self, other: &Tensor<'_>) -> bool {
        self.table.same(&other.table)
    }

    /// The tensor's LUT compression (TensorFlow Lite Micro's
    /// `COMPRESSION_METADATA`), if the model compresses it: [`Tensor::data`]
    /// then holds packed indices, not values. Always `None` without the
    /// `lut` feature (whose `Model::parse` refuses such files).
    pub fn lut(&self) -> Option<super::Lut<'a>> {
        if !cfg!(feature = "lut") {
            return None;
        }
        super::compression::lut(&self.model, self)
    }

    /// Whether the tensor holds constant data.
    pub fn is_constant(&self) -> bool {
        !self.data().is_empty()
    }

    /// Whether the tensor is a variable (state kept across invocations).
    pub fn is_variable(&self) -> bool {
        self.table.u8(field::IS_VARIABLE, 0).unwrap_or(0) != 0
    }

    /// Whether the file says the tensor's rank is known (`has_rank`; a
    /// rank-0 shape with `has_rank` is a scalar, without it unknown).
    pub fn has_rank(&self) -> bool {
        self.table.u8(field::HAS_RANK, 0).unwrap_or(0) != 0
    }

    /// The tensor's name.
    pub fn name(&self) -> &'a str {
        self.table.string(field::NAME).ok().flatten().unwrap_or("")
    }

    /// The tensor's quantization parameters, if it has scales.
    pub fn quantization(&self) -> Option<Quantization<'a>> {
        let table = self.table.table(field::QUANTIZATION).ok().flatten()?;
        let q = Quantization::new(table);
        (q.scale_count() > 0).then_some(q)
    }
}

/// Reads a verified shape vector; `None` if a dimension is negative or the rank too high.
pub(super) fn read_shape(dims: Vector<'_>) -> Option<Shape> {
    if dims.len() > MAX_RANK {
        return None;
    }
    let mut shape = Shape {
        dims: [0; MAX_RANK],
        rank: dims.len(),
    };
    for (i, slot) in shape.dims.iter_mut().take(dims.len()).enumerate() {
        *slot = usize::try_from(dims.i32(i).ok()?).ok()?;
    }
    Some(shape)
}

/// A tensor's quantization: `real = scale * (q - zero_point)`, per tensor or per
/// channel along [`Quantization::quantized_dimension`].
#[derive(Clone, Copy, Debug)]
pub struct Quantization<'a> {
    table: Table<'a>,
    scale: Vector<'a>,
    zero_point: Vector<'a>,
}

impl<'a> Quantization<'a> {
    pub(super) fn new(table: Table<'a>) -> Self {
        let empty = Vector::EMPTY_TABLES;
        Quantization {
            table,
            scale: table
                .vector_or_empty(quant_field::SCALE, 4)
                .unwrap_or(empty),
            zero_point: table
                .vector_or_empty(quant_field::ZERO_POINT, 8)
                .unwrap_or(empty),
        }
    }

    /// Number of scales (1 per tensor, or one per channel).
    pub fn scale_count(&self) -> usize {
        self.scale.len()
    }

    /// Scale `i`.
    pub fn scale(&self, i: usize) -> f32 {
        self.scale.f32(i).unwrap_or(0.0)
    }

    /// Zero point `i` (0 when the file stores none).
    pub fn zero_point(&self, i: usize) -> i64 {
        self.zero_point.i64(i).unwrap_or(0)
    }

    /// The axis the per-channel scales run along.
    pub fn quantized_dimension(&self) -> usize {
        self.table
            .i32(quant_field::QUANTIZED_DIMENSION, 0)
            .unwrap_or(0)
            .max(0) as usize
    }

    /// The recorded float range `(min, max)` of element `i`, if the file has one.
    pub fn min_max(&self, i: usize) -> Option<(f32, f32)> {
        let min = self
            .table
            .vector(quant_field::MIN, 4)
            .ok()
            .flatten()?
            .f32(i)
            .ok()?;
        let max = self
            .table
            .vector(quant_field::MAX, 4)
            .ok()
            .flatten()?
            .f32(i)
            .ok()?;
        Some((min, max))
    }
}
