//! Conformance testing against the reference implementations.
//!
//! The oracles are the `tflite-micro` pip package (TensorFlow Lite Micro's
//! reference kernels, the reference for int8 bit-exactness) and `ai-edge-litert`
//! (TensorFlow Lite, a second opinion). [`run`] sends a batch of cases to one
//! Python process (`tools/oracle/run.py`) and reads the outputs back.
//!
//! The Python interpreter is `$MOTE_PYTHON`, or `.venv/bin/python` in the
//! repository, which `./scripts/test` creates. Tests fail, never skip, when it
//! is missing.
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use mote_train::npy::{self, Array};
use serde::{Deserialize, Serialize};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared assets folder: `$MOTE_ASSETS`, or `../shared/assets` beside the
/// repository. Panics with a clear message if it is missing.
pub fn assets() -> PathBuf {
    let dir = std::env::var_os("MOTE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/assets"));
    assert!(
        dir.join("MANIFEST.md").is_file(),
        "test assets not found at {} (set MOTE_ASSETS to the shared assets folder)",
        dir.display()
    );
    dir
}

/// The Python with the oracle packages. Panics with a clear message if missing.
pub fn python() -> PathBuf {
    let python = std::env::var_os("MOTE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"));
    assert!(
        python.exists(),
        "the oracle Python {} is missing: run ./scripts/test once (it installs tflite-micro and ai-edge-litert into .venv), or set MOTE_PYTHON",
        python.display()
    );
    python
}

/// Which implementation to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// TensorFlow Lite Micro (`tflite-micro`), reference kernels.
    Tflm,
    /// TensorFlow Lite (`ai-edge-litert`) built-in kernels, no delegate, one thread.
    Litert,
    /// TensorFlow Lite reference kernels.
    LitertReference,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Tflm => "tflm",
            Engine::Litert => "litert",
            Engine::LitertReference => "litert_ref",
        }
    }
}

/// One model and the inputs of each invocation, in order.
#[derive(Clone, Debug)]
pub struct Case {
    /// The model file.
    pub model: PathBuf,
    /// Per invocation, every input.
    pub steps: Vec<Vec<Array>>,
}

/// What the oracle gave for a case.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Per invocation, every output.
    pub steps: Vec<Vec<Array>>,
    /// TensorFlow Lite Micro's `arena_used_bytes()` (64-bit host), when known.
    pub arena_used: Option<usize>,
}

#[derive(Serialize)]
struct BatchCase {
    model: PathBuf,
    steps: Vec<Vec<PathBuf>>,
    out: PathBuf,
    outputs: usize,
}

#[derive(Deserialize)]
struct BatchResult {
    ok: bool,
    error: String,
    arena_used: Option<usize>,
}

/// A scratch folder removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty folder under the system's temporary directory.
    pub fn new(tag: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mote-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a temporary folder");
        TempDir(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs every case in `engine`, in one Python process. Each case's outcome is
/// `Err` with the oracle's message if it could not run it.
pub fn run(engine: Engine, cases: &[Case]) -> Vec<Result<Outcome, String>> {
    let dir = TempDir::new("oracle");
    let mut batch = Vec::new();
    for (c, case) in cases.iter().enumerate() {
        let mut steps = Vec::new();
        for (s, inputs) in case.steps.iter().enumerate() {
            let mut paths = Vec::new();
            for (i, array) in inputs.iter().enumerate() {
                let path = dir.path().join(format!("case{c}.in{s}.{i}.npy"));
                npy::write(&path, array).expect("write an oracle input");
                paths.push(path);
            }
            steps.push(paths);
        }
        let bytes =
            std::fs::read(&case.model).unwrap_or_else(|e| panic!("{}: {e}", case.model.display()));
        let outputs = mote_runtime::Model::parse(&bytes).map_or(0, |m| m.main().outputs().len());
        let out = dir.path().join(format!("case{c}.out"));
        batch.push(BatchCase {
            model: case.model.clone(),
            steps,
            out,
            outputs,
        });
    }
    let batch_path = dir.path().join("batch.json");
    let body = serde_json::json!({ "engine": engine.name(), "cases": batch });
    std::fs::write(&batch_path, body.to_string()).expect("write the oracle batch");
    let status = Command::new(python())
        .arg(root().join("tools/oracle/run.py"))
        .arg(&batch_path)
        .status()
        .expect("start the oracle Python");
    assert!(status.success(), "the oracle script failed ({status})");
    let results: Vec<BatchResult> = serde_json::from_slice(
        &std::fs::read(batch_path.with_extension("json.result")).expect("read the oracle results"),
    )
    .expect("parse the oracle results");
    results
        .into_iter()
        .enumerate()
        .map(|(c, r)| {
            if !r.ok {
                return Err(r.error);
            }
            let steps = (0..cases[c].steps.len())
                .map(|s| {
                    (0..)
                        .map(|o| dir.path().join(format!("case{c}.out.{s}.{o}.npy")))
                        .take_while(|p| p.exists())
                        .map(|p| npy::read(&p).expect("read an oracle output"))
                        .collect()
                })
                .collect();
            Ok(Outcome {
                steps,
                arena_used: r.arena_used,
            })
        })
        .collect()
}

/// A deterministic pseudo-random generator for test inputs (SplitMix64).
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform float in `[low, high)`.
    pub fn uniform(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
    }

    /// `n` random bytes (uniform int8/uint8 values).
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}
