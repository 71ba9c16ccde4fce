//! Operators: one file per TensorFlow Lite op, each with its `<Op>Params`, a
//! `prepare` that checks the operator once and computes the params, and an
//! `eval` that runs blindly on the planned memory.
//!
//! The [`ops!`] table below is the one place an op is registered: it generates
//! the op's [`OpRegistration`] constant in [`registration`] (whose `prepare`
//! stores the op's params in the arena, exactly their size, and whose `eval`
//! reads them back), and [`ALL`].
//! The `ops!` table below is the one place an op is registered: it generates
//! [`OpData`] (the params of every op), the op's [`OpRegistration`] constant in
//! [`registration`], and [`ALL`].

pub mod activation;
pub mod add;
pub mod arithmetic;
pub mod average_pool_2d;
pub mod broadcast;
pub mod cast;
pub mod concatenation;
pub mod context;
pub mod conv_2d;
pub mod conv_2d_fast;
pub mod custom;
pub mod depthwise_conv_2d;
pub mod dequantize;
pub mod div;
pub mod expand_dims;
pub mod float_math;
pub mod fully_connected;
pub mod hard_swish;
pub mod int4;
pub mod leaky_relu;
pub mod logistic;
pub mod lstm_integer;
pub mod lut;
pub mod max_pool_2d;
pub mod maximum;
pub mod mean;
pub mod minimum;
pub mod mul;
pub mod pad;
pub mod padding;
pub mod padv2;
pub mod per_channel;
pub mod pooling;
pub mod quantization;
pub mod quantize;
pub mod relu;
pub mod relu6;
pub mod reshape;
pub mod signal;
pub mod softmax;
pub mod squeeze;
pub mod strided_slice;
pub mod sub;
pub mod svdf;
pub mod tanh;
pub mod transpose;
pub mod transpose_conv;
pub mod unary;
pub mod unidirectional_sequence_lstm;
pub mod values;

pub use context::{EvalContext, Operand, Persistent, PersistentBytes, PrepareContext};

use crate::error::Error;
use crate::model::BuiltinOperator;

/// Checks an operator, computes its params and stores them in the arena's
/// persistent region (exactly their size).
pub type PrepareFn = fn(&mut PrepareContext<'_, '_>) -> Result<Persistent, Error>;
/// Runs an operator on its inputs and outputs.
pub type EvalFn = fn(Persistent, &mut EvalContext<'_>) -> Result<(), Error>;
/// Returns a stateful operator's state (kept in its persistent data) to its
/// initial value; its context has the persistent data but no inputs or outputs.
pub type ResetFn = fn(Persistent, &mut EvalContext<'_>) -> Result<(), Error>;

/// One kernel the interpreter can call: which operator, and its two phases.
#[derive(Clone, Copy)]
pub struct OpRegistration {
    /// The operator this kernel implements (`CUSTOM` for a custom op).
    pub op: BuiltinOperator,
    /// The custom op's name (`"SignalWindow"`); empty for builtin ops.
    pub custom: &'static str,
    /// Checks the operator and computes its params.
    pub prepare: PrepareFn,
    /// Runs it.
    pub eval: EvalFn,
    /// Resets its state, for stateful ops.
    pub reset: Option<ResetFn>,
    /// What the code generator needs to call this kernel without the table.
    #[cfg(feature = "codegen")]
    pub codegen: Codegen,
}

/// A kernel as generated code calls it (feature `codegen`): the module whose
/// `eval` (and `reset`) it calls, and its params written as Rust.
#[cfg(feature = "codegen")]
#[derive(Clone, Copy)]
pub struct Codegen {
    /// The op's module from the crate root (`mote_runtime::ops::conv_2d`).
    pub module: &'static str,
    /// The op's params type from the crate root.
    pub params_type: &'static str,
    /// Whether `eval` changes the op's persistent data (state kept across
    /// invokes); if no op of a model does, generated code keeps the
    /// persistent data in flash.
    pub stateful: bool,
    /// Writes the params stored at `handle` in the persistent bytes as a Rust
    /// expression of the op's own params type.
    pub write_params: fn(
        persistent: &[u8],
        handle: Persistent,
        out: &mut crate::literal::Writer<'_>,
    ) -> core::fmt::Result,
}

impl core::fmt::Debug for OpRegistration {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.custom.is_empty() {
            write!(f, "OpRegistration({})", self.op)
        } else {
            write!(f, "OpRegistration(CUSTOM:{})", self.custom)
        }
    }
}

/// `true` for an op marked `(stateful)` in the `ops!` table.
#[cfg(feature = "codegen")]
macro_rules! stateful {
    () => {
        false
    };
    (stateful) => {
        true
    };
}

macro_rules! ops {
    ($( $code:ident => $module:ident :: $params:ident as $variant:ident $(($mark:ident))? ),* $(,)?) => {
        /// The registration of every op, by its TensorFlow Lite name.
        pub mod registration {
            use super::*;
            $(
                #[doc = concat!("The `", stringify!($code), "` kernel.")]
                pub const $code: OpRegistration = OpRegistration {
                    op: BuiltinOperator::$code,
                    custom: "",
                    prepare: |ctx| {
                        let params = $module::prepare(ctx)?;
                        ctx.store_params(params)
                    },
                    eval: |handle, ctx| {
                        // SAFETY: `handle` is what this registration's `prepare`
                        // stored: a `$params`.
                        let params: $module::$params = unsafe { ctx.params(handle) }?;
                        $module::eval(&params, ctx)
                    },
                    reset: None,
                    #[cfg(feature = "codegen")]
                    codegen: Codegen {
                        module: concat!("mote_runtime::ops::", stringify!($module)),
                        params_type: concat!("mote_runtime::ops::", stringify!($module), "::", stringify!($params)),
                        stateful: stateful!($($mark)?),
                        write_params: |persistent, handle, out| {
                            // SAFETY: `handle` is what this registration's
                            // `prepare` stored: a `$params`.
                            let params: $module::$params =
                                unsafe { context::load_params(persistent, handle) }
                                    .ok_or(core::fmt::Error)?;
                            crate::literal::Literal::write_literal(&params, out)
                        },
                    },
                };
            )*
        }

        /// Every kernel in this build.
        pub const ALL: &[OpRegistration] = &[$( registration::$code ),*];
    };
}

// One line per op: CODE => module::Params as Variant, marked `(stateful)` when
// its `eval` changes its persistent data.
ops! {
    ADD => add::AddParams as Add,
    AVERAGE_POOL_2D => average_pool_2d::PoolParams as AveragePool2d,
    CAST => cast::CastParams as Cast,
    CONCATENATION => concatenation::ConcatenationParams as Concatenation,
    CONV_2D => conv_2d::Conv2dParams as Conv2d,
    DEPTHWISE_CONV_2D => depthwise_conv_2d::DepthwiseConv2dParams as DepthwiseConv2d,
    DEQUANTIZE => dequantize::DequantizeParams as Dequantize,
    DIV => div::DivParams as Div,
    EXPAND_DIMS => expand_dims::ExpandDimsParams as ExpandDims,
    FULLY_CONNECTED => fully_connected::FullyConnectedParams as FullyConnected,
    HARD_SWISH => hard_swish::HardSwishParams as HardSwish,
    LEAKY_RELU => leaky_relu::LeakyReluParams as LeakyRelu,
    LOGISTIC => logistic::LogisticParams as Logistic,
    MAXIMUM => maximum::MaximumParams as Maximum,
    MEAN => mean::MeanParams as Mean,
    MAX_POOL_2D => max_pool_2d::PoolParams as MaxPool2d,
    MINIMUM => minimum::MinimumParams as Minimum,
    MUL => mul::MulParams as Mul,
    PAD => pad::PadParams as Pad,
    PADV2 => padv2::PadParams as PadV2,
    QUANTIZE => quantize::QuantizeParams as Quantize,
    RELU => relu::ReluParams as Relu,
    RELU6 => relu6::Relu6Params as Relu6,
    RESHAPE => reshape::ReshapeParams as Reshape,
    SOFTMAX => softmax::SoftmaxParams as Softmax,
    SQUEEZE => squeeze::SqueezeParams as Squeeze,
    STRIDED_SLICE => strided_slice::StridedSliceParams as StridedSlice,
    SUB => sub::SubParams as Sub,
    TANH => tanh::TanhParams as Tanh,
    TRANSPOSE => transpose::TransposeParams as Transpose,
    SVDF => svdf::SvdfParams as Svdf (stateful),
    TRANSPOSE_CONV => transpose_conv::TransposeConvParams as TransposeConv,
    UNIDIRECTIONAL_SEQUENCE_LSTM => unidirectional_sequence_lstm::UnidirectionalSequenceLstmParams as UnidirectionalSequenceLstm (stateful),
}

/// The kernels an interpreter may use, builtin and custom alike. A firmware
/// that names only the kernels its model needs links only those.
#[derive(Clone, Copy, Debug)]
pub struct OpResolver<'r> {
    ops: &'r [OpRegistration],
    more: &'r [OpRegistration],
}

impl<'r> OpResolver<'r> {
    /// A resolver over the given kernels.
    pub const fn new(ops: &'r [OpRegistration]) -> Self {
        OpResolver { ops, more: &[] }
    }

    /// The kernel for builtin `op`, or for the custom op named `custom` when
    /// `op` is `CUSTOM`.
    pub fn find(&self, op: BuiltinOperator, custom: Option<&str>) -> Option<&'r OpRegistration> {
        let name = custom.unwrap_or("");
        self.ops
            .iter()
            .chain(self.more)
            .find(|r| r.op == op && r.custom == name)
    }
}

impl OpResolver<'static> {
    /// A resolver over every kernel in this build.
    pub const fn all() -> Self {
        OpResolver {
            ops: ALL,
            more: custom::ALL,
        }
    }
}
