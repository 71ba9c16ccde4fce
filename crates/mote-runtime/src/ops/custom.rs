//! Custom operators: kernels TensorFlow Lite models call by name (`CUSTOM`
//! with a `custom_code`), registered in the [`custom_ops!`] table below the same
//! way builtin ops are in `ops!`. A custom op's module has `prepare`, `eval`
//! and `reset` (which returns its state, if any, to the initial value).

use super::OpRegistration;

macro_rules! custom_ops {
    ($( $name:literal => $module:ident :: $params:ident as $variant:ident as $konst:ident ),* $(,)?) => {
        /// The registration of every custom op.
        pub mod registration {
            $(
                #[doc = concat!("The `", $name, "` kernel.")]
                pub const $konst: $crate::ops::OpRegistration = $crate::ops::OpRegistration {
                    op: $crate::model::BuiltinOperator::CUSTOM,
                    custom: $name,
                    prepare: |ctx| {
                        let params = super::$module::prepare(ctx)?;
                        ctx.store_params(params)
                    },
                    eval: |handle, ctx| {
                        // SAFETY: `handle` is what this registration's `prepare`
                        // stored: a `$params`.
                        let params: super::$module::$params = unsafe { ctx.params(handle) }?;
                        super::$module::eval(&params, ctx)
                    },
                    reset: Some(|handle, ctx| {
                        // SAFETY: as in `eval`.
                        let params: super::$module::$params = unsafe { ctx.params(handle) }?;
                        super::$module::reset(&params, ctx)
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
