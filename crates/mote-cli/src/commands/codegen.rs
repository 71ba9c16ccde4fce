//! `mote codegen`: a `.tflite` model compiled ahead of time into Rust source.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

/// Arguments of `mote codegen`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote codegen kws_ref_model_int8.tflite -o src/kws.rs --name Kws\n  \
mote codegen hello_world_int8.tflite -o src/model.rs\n\n\
The file is a Rust module for a crate that depends on mote-runtime (`mod kws;`):\n  \
static mut KWS: kws::Kws = kws::Kws::new();   // the arena lives in .bss\n  \
let scores = kws.predict(&features)?;          // &[i8; 12]\n\
It holds the weights as static byte arrays (flash), each operator's params as a const\n\
computed by the runtime's own prepare, and a straight-line invoke calling the same eval\n\
functions as the interpreter: outputs are byte for byte the interpreter's, the arena is\n\
Kws::ARENA_BYTES, and only the kernels the model uses are linked. To compile the model\n\
while your crate builds instead, use mote::include_model!(Kws, \"models/kws.tflite\")."
)]
pub struct CodegenArgs {
    /// The .tflite model.
    pub model: PathBuf,
    /// Where to write the Rust source.
    #[arg(short, long, value_name = "OUT.rs")]
    pub output: PathBuf,
    /// The generated struct's name.
    #[arg(long, default_value = "Model")]
    pub name: String,
}

/// Runs `mote codegen`.
pub fn run(args: &CodegenArgs) -> Result<()> {
    let bytes = crate::read_model(&args.model)?;
    let source = mote_codegen::generate(&bytes, &args.name)
        .with_context(|| args.model.display().to_string())?;
    let source = format!(
        "// `mote codegen {}` wrote this file; mote-codegen {}.\n{source}",
        args.model
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        env!("CARGO_PKG_VERSION"),
    );
    mote_train::files::write_atomic(&args.output, source.as_bytes())
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    let arena = source
        .lines()
        .find_map(|l| l.strip_prefix("const ARENA: usize = "))
        .unwrap_or("?")
        .trim_end_matches(';');
    println!(
        "wrote {} ({} bytes of Rust): struct {}, ARENA_BYTES = {arena}",
        args.output.display(),
        source.len(),
        args.name
    );
    Ok(())
}
