//! `mote cluster`: weight clustering of an int8 model's filters to at most K
//! values per channel, written as a dense int8 model, with what a look-up-table
//! or bitmask encoding of each filter would cost.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use mote_compress::cluster::{cluster, MAX_CLUSTERS};
use mote_train::tflite::ModelDef;

/// Arguments of `mote cluster`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote cluster mlp_int8.tflite --clusters 16 -o mlp_c16.tflite\n  \
mote cluster cnn_sparse_int8.tflite --clusters 4 -o cnn_c4.tflite\n\n\
Each int8 filter of FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D takes, per quantization channel,\n\
the optimal 1-D k-means centroids of its values (exact, by dynamic programming over the histogram,\n\
each centroid the integer nearest its cluster's mean); every value becomes its nearest centroid.\n\
A channel with zeros (a pruned filter) keeps 0 as one of its K centroids, so zeros stay zero.\n\
The output is a dense int8 model (same scales, same ops) that mote and TensorFlow Lite Micro run as\n\
is; the table printed gives each filter's bytes dense, as a look-up table (ceil(log2 K)-bit indices\n\
plus one K-value table per channel, TensorFlow Lite Micro's LUT layout), as bitmask + nonzeros, and\n\
as bitmask + LUT indices of the nonzeros (mask+lut). --lut writes that LUT file too, which\n\
TensorFlow Lite Micro (built with USE_TFLM_COMPRESSION), mote run and mote codegen compile."
)]
pub struct ClusterArgs {
    /// The int8 .tflite model (from `mote quantize`).
    pub model: PathBuf,
    /// Where to write the clustered int8 model.
    #[arg(short, long, value_name = "OUT.tflite")]
    pub output: PathBuf,
    /// Also write the LUT-compressed model (TensorFlow Lite Micro's
    /// COMPRESSION_METADATA format) here; mote-runtime runs it (FULLY_CONNECTED filters only).
    #[arg(long, value_name = "LUT.tflite")]
    pub lut: Option<PathBuf>,
    /// Centroids per channel, 2..=16.
    #[arg(long, default_value_t = MAX_CLUSTERS)]
    pub clusters: usize,
}

/// Runs `mote cluster`.
pub fn run(args: &ClusterArgs) -> Result<()> {
    let bytes = crate::read_model(&args.model)?;
    let model = mote_runtime::Model::parse(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.model.display()))?;
    let mut def =
        ModelDef::from_model(&model).with_context(|| format!("{}", args.model.display()))?;
    let filters =
        cluster(&mut def, args.clusters).with_context(|| format!("{}", args.model.display()))?;
    let out = def
        .to_bytes()
        .with_context(|| format!("{}", args.output.display()))?;
    mote_train::files::write_atomic(&args.output, &out)
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    let head = [
        "filter", "channels", "dense", "bits", "lut", "bitmask", "mask+lut",
    ];
    println!(
        "{:<32} {:>8} {:>8} {:>6} {:>8} {:>8} {:>8}",
        head[0], head[1], head[2], head[3], head[4], head[5], head[6]
    );
    let (mut dense, mut lut, mut bitmask, mut both) = (0, 0, 0, 0);
    for f in &filters {
        let s = f.sizes;
        println!(
            "{:<32} {:>8} {:>8} {:>6} {:>8} {:>8} {:>8}",
            f.name, f.channels, s.dense, s.bits, s.lut, s.bitmask, s.bitmask_lut
        );
        dense += s.dense;
        lut += s.lut;
        bitmask += s.bitmask;
        both += s.bitmask_lut;
    }
    println!(
        "{:<32} {:>8} {:>8} {:>6} {:>8} {:>8} {:>8}",
        "total", "", dense, "", lut, bitmask, both
    );
    if let Some(path) = &args.lut {
        let lut = mote_compress::lut::compress(&def, &filters)
            .with_context(|| format!("{}", args.model.display()))?
            .to_bytes()
            .with_context(|| format!("{}", path.display()))?;
        mote_train::files::write_atomic(path, &lut)
            .with_context(|| format!("{}: cannot write", path.display()))?;
        println!(
            "{}: {} bytes (LUT-compressed), dense {} bytes",
            path.display(),
            lut.len(),
            out.len()
        );
    }
    println!(
        "{} -> {}: {} filters clustered to at most {} values per channel",
        args.model.display(),
        args.output.display(),
        filters.len(),
        args.clusters
    );
    Ok(())
}
