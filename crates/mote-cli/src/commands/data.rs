//! `mote data`: the reference data sets (scikit-learn's digits and iris, from
//! the shared assets) as `.npy` files with the reference train/test split, and
//! the windows of MLPerf Tiny's anomaly-detection sample (for calibration).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use mote_runtime::TensorType;
use mote_train::data::{read_csv, LabelColumn};
use mote_train::npy::{self, Array};
use mote_train::Tensor;

/// A reference data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DataSet {
    /// 1797 8x8 images of handwritten digits, 10 classes; pixels scaled to [0, 1] (/16).
    Digits,
    /// 150 iris flowers, 4 measurements (cm, unscaled), 3 species.
    Iris,
    /// The 196 inputs of MLPerf Tiny's anomaly-detection reference sample (5 frames of 128 log-mel bins each, stride one frame); no labels: writes x.npy only.
    Ad01,
}

/// MLPerf Tiny's anomaly-detection reference sample: 200 frames of 128
/// log-mel bins, float32 little-endian.
const AD01_SAMPLE: &str = "mlperf-tiny/ad/normal_id_01_00000000_hist_librosa.bin";

/// The anomaly-detection sample's model inputs, `[196, 640]`: windows of 5
/// consecutive frames, stride one frame (how MLPerf Tiny scores ad01).
pub fn ad01_windows(assets: &Path) -> Result<Tensor> {
    let path = assets.join(AD01_SAMPLE);
    let bytes = std::fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?;
    const BINS: usize = 128;
    const FRAMES: usize = 5;
    if bytes.len() % (4 * BINS) != 0 || bytes.len() < 4 * BINS * FRAMES {
        bail!(
            "{}: {} bytes is not a whole number of 128-bin float32 frames (at least 5)",
            path.display(),
            bytes.len()
        );
    }
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let windows = values.len() / BINS - FRAMES + 1;
    let data = (0..windows)
        .flat_map(|w| values[w * BINS..(w + FRAMES) * BINS].iter().copied())
        .collect();
    Ok(Tensor::new(data, [windows, FRAMES * BINS])?)
}

/// Arguments of `mote data`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote data digits -o data/digits\n  mote data iris -o data/iris --assets ../shared/assets\n  \
mote data ad01 -o data/ad01\n\n\
digits and iris: writes x_train.npy (float32 [N, features]), y_train.npy (int64 [N] labels), x_test.npy,\n\
y_test.npy. The test rows are those whose index % 5 == 0 (digits: 360 of 1797; iris: 30 of 150), the rest train.\n\
ad01: writes x.npy (float32 [196, 640]), the inputs of the anomaly-detection sample, e.g. to calibrate\n\
`mote quantize` on ad01_fp32.tflite."
)]
pub struct DataArgs {
    /// Which data set.
    pub set: DataSet,
    /// The folder to write the four .npy files into (created if missing).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// The shared assets folder (default: $MOTE_ASSETS, else `../shared/assets` beside the current folder, the mote binary, or one of their parents).
    #[arg(long, value_name = "DIR")]
    pub assets: Option<PathBuf>,
}

/// The shared assets folder: `explicit`, `$MOTE_ASSETS`, or `../shared/assets`
/// beside the current folder, the running binary, or one of their ancestors.
pub fn find_assets(explicit: Option<&Path>) -> Result<PathBuf> {
    let has_manifest = |dir: &Path| dir.join("MANIFEST.md").is_file();
    if let Some(dir) = explicit {
        if !has_manifest(dir) {
            bail!(
                "{}: not the shared assets folder (no MANIFEST.md)",
                dir.display()
            );
        }
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("MOTE_ASSETS").map(PathBuf::from) {
        if !has_manifest(&dir) {
            bail!(
                "MOTE_ASSETS={}: not the shared assets folder (no MANIFEST.md)",
                dir.display()
            );
        }
        return Ok(dir);
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let exe = std::env::current_exe().unwrap_or_default();
    for dir in cwd.ancestors().chain(exe.ancestors().skip(1)) {
        let candidate = dir.join("../shared/assets");
        if has_manifest(&candidate) {
            return Ok(candidate);
        }
    }
    bail!("the shared assets folder was not found: pass --assets DIR or set MOTE_ASSETS")
}

/// Features and labels of a reference set, features scaled as documented.
pub fn load(set: DataSet, assets: &Path) -> Result<(Tensor, Tensor)> {
    let (file, scale) = match set {
        DataSet::Digits => ("data/digits.csv.gz", 1.0 / 16.0),
        DataSet::Iris => ("data/iris.csv", 1.0),
        DataSet::Ad01 => bail!("ad01 has no labels (mote data ad01 writes its windows as x.npy)"),
    };
    let path = assets.join(file);
    let (x, y) = read_csv(&path, LabelColumn::Last)?;
    let x = Tensor::new(x.data().iter().map(|v| v * scale).collect(), x.shape())?;
    Ok((x, y))
}

/// Runs `mote data`.
pub fn run(args: &DataArgs) -> Result<()> {
    let assets = find_assets(args.assets.as_deref())?;
    if args.set == DataSet::Ad01 {
        let x = ad01_windows(&assets)?;
        std::fs::create_dir_all(&args.output)
            .with_context(|| format!("{}: cannot create", args.output.display()))?;
        let path = args.output.join("x.npy");
        npy::write(&path, &Array::from_f32(x.shape().to_vec(), x.data()))
            .with_context(|| format!("{}: cannot write", path.display()))?;
        println!("x: {} windows of {} values", x.rows(), x.row_len());
        return Ok(());
    }
    let (x, y) = load(args.set, &assets)?;
    let test: Vec<usize> = (0..x.rows()).filter(|i| i % 5 == 0).collect();
    let train: Vec<usize> = (0..x.rows()).filter(|i| i % 5 != 0).collect();
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("{}: cannot create", args.output.display()))?;
    for (name, rows) in [("train", &train), ("test", &test)] {
        let xs = x.select_rows(rows);
        let ys = y.select_rows(rows);
        let labels = Array {
            shape: vec![ys.rows()],
            dtype: TensorType::Int64,
            data: ys
                .data()
                .iter()
                .flat_map(|&v| (v as i64).to_le_bytes())
                .collect(),
        };
        let features = Array::from_f32(xs.shape().to_vec(), xs.data());
        for (file, array) in [
            (format!("x_{name}.npy"), features),
            (format!("y_{name}.npy"), labels),
        ] {
            let path = args.output.join(file);
            npy::write(&path, &array)
                .with_context(|| format!("{}: cannot write", path.display()))?;
        }
        println!("{name}: {} rows of {} features", xs.rows(), xs.row_len());
    }
    Ok(())
}
