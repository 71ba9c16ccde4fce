//! Custom operators: kernels TensorFlow Lite models call by name (`CUSTOM`
//! with a `custom_code`), registered in the [`custom_ops!`] table below the same
//! way builtin ops are in `ops!`. A custom op's module has `prepare`, `eval`
//! and `reset` (which returns its state, if any, to the initial value).

#[allow(clippy::wildcard_imports)]
use super::signal::*;
use super::OpRegistration;

macro_rules! custom_ops {
    ($( $name:literal => $module:ident :: $params:ident as $variant:ident as $konst:ident ),* $(,)?) => {
        /// The registration of every custom op.
        pub mod registration {
            $(
                #[doc = concat!("The `", $name, "` kernel.")]
                pub const $konst: $crate::ops::OpRegistration = $crate::ops::OpRegistration {
                    options: 0,
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
                    #[cfg(feature = "codegen")]
                    codegen: $crate::ops::Codegen {
                        module: concat!("mote_runtime::ops::signal::", stringify!($module)),
                        params_type: concat!("mote_runtime::ops::signal::", stringify!($module), "::", stringify!($params)),
                        // Custom ops keep state (the signal ops' noise
                        // estimates, FFT buffers), so they count as stateful.
                        stateful: true,
                        write_params: |persistent, handle, out| {
                            // SAFETY: as in `eval`.
                            let params: super::$module::$params = unsafe {
                                $crate::ops::context::load_params(persistent, handle)
                            }
                            .ok_or(core::fmt::Error)?;
                            $crate::literal::Literal::write_literal(&params, out)
                        },
                    },
                };
            )*
        }

        /// Every custom kernel in this build.
        pub const ALL: &[OpRegistration] = &[$( registration::$konst ),*];
    };
}

// One line per custom op: "Name" => module::Params as Variant as CONSTANT.
custom_ops! {
    "SignalEnergy" => energy::SignalEnergyParams as SignalEnergy as SIGNAL_ENERGY,
    "SignalFftAutoScale" => fft_auto_scale::SignalFftAutoScaleParams as SignalFftAutoScale as SIGNAL_FFT_AUTO_SCALE,
    "SignalFilterBank" => filter_bank::SignalFilterBankParams as SignalFilterBank as SIGNAL_FILTER_BANK,
    "SignalFilterBankLog" => filter_bank_log::SignalFilterBankLogParams as SignalFilterBankLog as SIGNAL_FILTER_BANK_LOG,
    "SignalFilterBankSpectralSubtraction" => filter_bank_spectral_subtraction::SignalFilterBankSpectralSubtractionParams as SignalFilterBankSpectralSubtraction as SIGNAL_FILTER_BANK_SPECTRAL_SUBTRACTION,
    "SignalFilterBankSquareRoot" => filter_bank_square_root::SignalFilterBankSquareRootParams as SignalFilterBankSquareRoot as SIGNAL_FILTER_BANK_SQUARE_ROOT,
    "SignalPCAN" => pcan::SignalPcanParams as SignalPcan as SIGNAL_PCAN,
    "SignalRfft" => rfft::SignalRfftParams as SignalRfft as SIGNAL_RFFT,
    "SignalWindow" => window::SignalWindowParams as SignalWindow as SIGNAL_WINDOW,
}
