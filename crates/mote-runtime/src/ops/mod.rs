//! Operators: one file per TensorFlow Lite op, each with its `<Op>Params`, a
//! `prepare` that checks the operator once and computes the params, and an
//! `eval` that runs blindly on the planned memory.
//!
//! The `ops!` table below is the one place an op is registered: it generates
//! [`OpData`] (the params of every op), the op's [`OpRegistration`] constant in
//! [`registration`], and [`ALL`].

pub mod activation;
pub mod average_pool_2d;
pub(crate) mod context;
pub mod conv_2d;
pub mod conv_2d_fast;
pub mod depthwise_conv_2d;
pub mod fully_connected;
pub mod lstm_integer;
pub mod max_pool_2d;
pub mod mean;
pub mod padding;
pub mod per_channel;
pub mod pooling;
pub mod reshape;
pub mod softmax;
pub mod svdf;
pub mod transpose_conv;
pub mod unidirectional_sequence_lstm;

pub use context::{EvalContext, Persistent, PrepareContext};

use crate::error::Error;
use crate::model::BuiltinOperator;

/// Checks an operator and computes its params.
pub type PrepareFn = fn(&mut PrepareContext<'_, '_>) -> Result<OpData, Error>;
/// Runs an operator on its inputs and outputs.
pub type EvalFn = fn(&OpData, &mut EvalContext<'_>) -> Result<(), Error>;

/// One kernel the interpreter can call: which operator, and its two phases.
#[derive(Clone, Copy)]
pub struct OpRegistration {
    /// The operator this kernel implements.
    pub op: BuiltinOperator,
    /// Checks the operator and computes its params.
    pub prepare: PrepareFn,
    /// Runs it.
    pub eval: EvalFn,
}

impl core::fmt::Debug for OpRegistration {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "OpRegistration({})", self.op)
    }
}

macro_rules! ops {
    ($( $code:ident => $module:ident :: $params:ident as $variant:ident ),* $(,)?) => {
        /// The params of one operator, as its `prepare` computed them.
        #[derive(Clone, Copy, Debug)]
        #[non_exhaustive]
        pub enum OpData {
            /// No operator (an unused slot).
            Empty,
            $(
                #[doc = concat!("Params of `", stringify!($code), "`.")]
                $variant($module::$params),
            )*
        }

        /// The registration of every op, by its TensorFlow Lite name.
        pub mod registration {
            use super::*;
            $(
                #[doc = concat!("The `", stringify!($code), "` kernel.")]
                pub const $code: OpRegistration = OpRegistration {
                    op: BuiltinOperator::$code,
                    prepare: |ctx| $module::prepare(ctx).map(OpData::$variant),
                    eval: |data, ctx| match data {
                        OpData::$variant(params) => $module::eval(params, ctx),
                        _ => Err(ctx.mismatched_data()),
                    },
                };
            )*
        }

        /// Every kernel in this build.
        pub const ALL: &[OpRegistration] = &[$( registration::$code ),*];
    };
}

ops! {
    AVERAGE_POOL_2D => average_pool_2d::PoolParams as AveragePool2d,
    CONV_2D => conv_2d::Conv2dParams as Conv2d,
    DEPTHWISE_CONV_2D => depthwise_conv_2d::DepthwiseConv2dParams as DepthwiseConv2d,
    FULLY_CONNECTED => fully_connected::FullyConnectedParams as FullyConnected,
    MAX_POOL_2D => max_pool_2d::PoolParams as MaxPool2d,
    MEAN => mean::MeanParams as Mean,
    RESHAPE => reshape::ReshapeParams as Reshape,
    SOFTMAX => softmax::SoftmaxParams as Softmax,
    SVDF => svdf::SvdfParams as Svdf,
    TRANSPOSE_CONV => transpose_conv::TransposeConvParams as TransposeConv,
    UNIDIRECTIONAL_SEQUENCE_LSTM => unidirectional_sequence_lstm::UnidirectionalSequenceLstmParams as UnidirectionalSequenceLstm,
}

/// The kernels an interpreter may use. A firmware that names only the kernels
/// its model needs links only those.
#[derive(Clone, Copy, Debug)]
pub struct OpResolver<'r> {
    ops: &'r [OpRegistration],
}

impl<'r> OpResolver<'r> {
    /// A resolver over the given kernels.
    pub const fn new(ops: &'r [OpRegistration]) -> Self {
        OpResolver { ops }
    }

    /// The kernel for `op`, if this resolver has one.
    pub fn find(&self, op: BuiltinOperator) -> Option<&'r OpRegistration> {
        self.ops.iter().find(|r| r.op == op)
    }
}

impl OpResolver<'static> {
    /// A resolver over every kernel in this build.
    pub const fn all() -> Self {
        OpResolver { ops: ALL }
    }
}
