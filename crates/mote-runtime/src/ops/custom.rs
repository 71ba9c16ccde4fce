//! Custom operators: kernels TensorFlow Lite models call by name (`CUSTOM`
//! with a `custom_code`), registered in the [`custom_ops!`] table below the same
//! way builtin ops are in `ops!`. A custom op's module has `prepare`, `eval`
//! and `reset` (which returns its state, if any, to the initial value).

use super::OpRegistration;

macro_rules! custom_ops {
    ($( $name:literal => $module:ident :: $params:ident as $variant:ident as $konst:ident ),* $(,)?) => {
        /// The params of one custom operator, as its `prepare` computed them.
        #[derive(Clone, Copy, Debug)]
        #[non_exhaustive]
        pub enum CustomData {
            $(
                #[doc = concat!("Params of `", $name, "`.")]
                $variant($module::$params),
            )*
        }

        /// The registration of every custom op.
        pub mod registration {
            $(
                #[doc = concat!("The `", $name, "` kernel.")]
                pub const $konst: $crate::ops::OpRegistration = $crate::ops::OpRegistration {
                    op: $crate::model::BuiltinOperator::CUSTOM,
                    custom: $name,
                    prepare: |ctx| {
                        super::$module::prepare(ctx)
                            .map(|p| $crate::ops::OpData::Custom(super::CustomData::$variant(p)))
                    },
                    eval: |data, ctx| match data {
                        $crate::ops::OpData::Custom(super::CustomData::$variant(params)) => {
                            super::$module::eval(params, ctx)
                        }
                        _ => Err(ctx.mismatched_data()),
                    },
                    reset: Some(|data, ctx| match data {
                        $crate::ops::OpData::Custom(super::CustomData::$variant(params)) => {
                            super::$module::reset(params, ctx)
                        }
                        _ => Err(ctx.mismatched_data()),
                    }),
                };
            )*
        }

        /// Every custom kernel in this build.
        pub const ALL: &[OpRegistration] = &[$( registration::$konst ),*];
    };
}

// One line per custom op: "Name" => module::Params as Variant as CONSTANT.
custom_ops! {}
