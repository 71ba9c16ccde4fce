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
    /// The `BuiltinOptions` union tag of the op's options table (0: none).
    /// An options table of another type reads as absent, every field its
    /// default, as in TensorFlow Lite Micro, whose parsers get null from
    /// `builtin_options_as_...()` for another type and keep the defaults.
    pub options: u8,
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
    ($( $code:ident [$tag:literal] => $module:ident :: $params:ident as $variant:ident $(($mark:ident))? ),* $(,)?) => {
        /// The registration of every op, by its TensorFlow Lite name.
        pub mod registration {
            use super::*;
            $(
                #[doc = concat!("The `", stringify!($code), "` kernel.")]
                pub const $code: OpRegistration = OpRegistration {
                    op: BuiltinOperator::$code,
                    custom: "",
                    options: $tag,
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

// One line per op: CODE [TAG] => module::Params as Variant, marked `(stateful)`
// when its `eval` changes its persistent data. TAG is the `BuiltinOptions`
// union tag of the op's options table in `schema.fbs` (0: the op has none).
ops! {
    ADD [11] => add::AddParams as Add,
    AVERAGE_POOL_2D [5] => average_pool_2d::PoolParams as AveragePool2d,
    CAST [37] => cast::CastParams as Cast,
    CONCATENATION [10] => concatenation::ConcatenationParams as Concatenation,
    CONV_2D [1] => conv_2d::Conv2dParams as Conv2d,
    DEPTHWISE_CONV_2D [2] => depthwise_conv_2d::DepthwiseConv2dParams as DepthwiseConv2d,
    DEQUANTIZE [38] => dequantize::DequantizeParams as Dequantize,
    DIV [29] => div::DivParams as Div,
    EXPAND_DIMS [52] => expand_dims::ExpandDimsParams as ExpandDims,
    FULLY_CONNECTED [8] => fully_connected::FullyConnectedParams as FullyConnected,
    HARD_SWISH [91] => hard_swish::HardSwishParams as HardSwish,
    LEAKY_RELU [75] => leaky_relu::LeakyReluParams as LeakyRelu,
    LOGISTIC [0] => logistic::LogisticParams as Logistic,
    MAXIMUM [39] => maximum::MaximumParams as Maximum,
    MEAN [27] => mean::MeanParams as Mean,
    MAX_POOL_2D [5] => max_pool_2d::PoolParams as MaxPool2d,
    MINIMUM [39] => minimum::MinimumParams as Minimum,
    MUL [21] => mul::MulParams as Mul,
    PAD [22] => pad::PadParams as Pad,
    PADV2 [43] => padv2::PadParams as PadV2,
    QUANTIZE [89] => quantize::QuantizeParams as Quantize,
    RELU [0] => relu::ReluParams as Relu,
    RELU6 [0] => relu6::Relu6Params as Relu6,
    RESHAPE [17] => reshape::ReshapeParams as Reshape,
    SOFTMAX [9] => softmax::SoftmaxParams as Softmax,
    SQUEEZE [30] => squeeze::SqueezeParams as Squeeze,
    STRIDED_SLICE [32] => strided_slice::StridedSliceParams as StridedSlice,
    SUB [28] => sub::SubParams as Sub,
    TANH [0] => tanh::TanhParams as Tanh,
    TRANSPOSE [26] => transpose::TransposeParams as Transpose,
    SVDF [6] => svdf::SvdfParams as Svdf (stateful),
    TRANSPOSE_CONV [49] => transpose_conv::TransposeConvParams as TransposeConv,
    UNIDIRECTIONAL_SEQUENCE_LSTM [71] => unidirectional_sequence_lstm::UnidirectionalSequenceLstmParams as UnidirectionalSequenceLstm (stateful),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::options::Union;

    #[test]
    fn each_ops_options_tag_names_its_options_table() {
        // The `BuiltinOptions` member each builtin op's options are, by name
        // (schema.fbs); tag 0: the op has no options table.
        let expected = [
            ("ADD", "AddOptions"),
            ("AVERAGE_POOL_2D", "Pool2DOptions"),
            ("CAST", "CastOptions"),
            ("CONCATENATION", "ConcatenationOptions"),
            ("CONV_2D", "Conv2DOptions"),
            ("DEPTHWISE_CONV_2D", "DepthwiseConv2DOptions"),
            ("DEQUANTIZE", "DequantizeOptions"),
            ("DIV", "DivOptions"),
            ("EXPAND_DIMS", "ExpandDimsOptions"),
            ("FULLY_CONNECTED", "FullyConnectedOptions"),
            ("HARD_SWISH", "HardSwishOptions"),
            ("LEAKY_RELU", "LeakyReluOptions"),
            ("MAXIMUM", "MaximumMinimumOptions"),
            ("MEAN", "ReducerOptions"),
            ("MAX_POOL_2D", "Pool2DOptions"),
            ("MINIMUM", "MaximumMinimumOptions"),
            ("MUL", "MulOptions"),
            ("PAD", "PadOptions"),
            ("PADV2", "PadV2Options"),
            ("QUANTIZE", "QuantizeOptions"),
            ("RESHAPE", "ReshapeOptions"),
            ("SOFTMAX", "SoftmaxOptions"),
            ("SQUEEZE", "SqueezeOptions"),
            ("STRIDED_SLICE", "StridedSliceOptions"),
            ("SUB", "SubOptions"),
            ("TRANSPOSE", "TransposeOptions"),
            ("SVDF", "SVDFOptions"),
            ("TRANSPOSE_CONV", "TransposeConvOptions"),
            (
                "UNIDIRECTIONAL_SEQUENCE_LSTM",
                "UnidirectionalSequenceLSTMOptions",
            ),
        ];
        for r in ALL {
            let op = r.op.to_string();
            let name = Union::Builtin.table(r.options).map(|t| t.name);
            let want = expected.iter().find(|(o, _)| *o == op).map(|(_, n)| *n);
            assert_eq!(name, want, "{op}: tag {}", r.options);
        }
        for r in custom::ALL {
            assert_eq!(r.options, 0, "{r:?}");
        }
    }
}
