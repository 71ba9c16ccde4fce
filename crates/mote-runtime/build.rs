//! Sets `cfg(mote_dsp)` on targets whose cores all have the Armv7E-M DSP
//! extension (Cortex-M4/M7: `thumbv7em-*`), unless the `reference-kernels`
//! feature asks for the reference kernels. Stable Rust does not expose
//! `target_feature = "dsp"` to `cfg`, hence this script.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mote_dsp)");
    let target = std::env::var("TARGET").unwrap_or_default();
    let reference = std::env::var_os("CARGO_FEATURE_REFERENCE_KERNELS").is_some();
    if target.starts_with("thumbv7em") && !reference {
        println!("cargo::rustc-cfg=mote_dsp");
    }
}
