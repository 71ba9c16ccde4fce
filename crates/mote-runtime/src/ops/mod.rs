//! Operators: one file per TensorFlow Lite op, each with its `<Op>Params`, a
//! `prepare` that checks the operator once and computes the params, and an
//! `eval` that runs blindly on the planned memory.
//!
//! The [`ops!`] table below is the one place an op is registered: it generates
//! [`OpData`] (the params of every op), the op's [`OpRegistration`] constant in
//! [`registration`], and [`ALL`].

pub mod activation;
pub(crate) mod context;
pub mod custom;
pub mod fully_connected;

pub use context::{EvalContext, Persistent, PrepareContext};

use crate::error::Error;
use crate::model::BuiltinOperator;

/// Checks an operator and computes its params.
pub type PrepareFn = fn(&mut PrepareContext<'_, '_>) -> Result<OpData, Error>;
/// Runs an operator on its inputs and outputs.
pub type EvalFn = fn(&OpData, &mut EvalContext<'_>) -> Result<(), Error>;
/// Returns a stateful operator's state (kept in its persistent data) to its
/// initial value; its context has the persistent data but no inputs or outputs.
pub type ResetFn = fn(&OpData, &mut EvalContext<'_>) -> Result<(), Error>;

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

macro_rules! ops {
    ($( $code:ident => $module:ident :: $params:ident as $variant:ident ),* $(,)?) => {
        /// The params of one operator, as its `prepare` computed them.
        #[derive(Clone, Copy, Debug)]
        #[non_exhaustive]
        pub enum OpData {
            /// No operator (an unused slot).
            Empty,
            /// Params of a custom operator.
            Custom(custom::CustomData),
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
                    custom: "",
                    prepare: |ctx| $module::prepare(ctx).map(OpData::$variant),
                    eval: |data, ctx| match data {
                        OpData::$variant(params) => $module::eval(params, ctx),
                        _ => Err(ctx.mismatched_data()),
                    },
                    reset: None,
                };
            )*
        }

        /// Every kernel in this build.
        pub const ALL: &[OpRegistration] = &[$( registration::$code ),*];
    };
}

ops! {
    FULLY_CONNECTED => fully_connected::FullyConnectedParams as FullyConnected,
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
