//! The digits reference tasks (MLP and CNN), timed per epoch over several seeds.
//!
//! `cargo run --release -p mote-train --example digits_bench [-- --seeds 5 --only mlp|cnn]`
//!
//! `--init-from DIR`: start seed `s` from `DIR/<task>_<s>.tflite` (initial
//! weights made elsewhere, e.g. by Keras: `bench/train/cross_init.py`) instead
//! of mote's own initialization; shuffling still follows the seed.
//!
//! Reads `$MOTE_ASSETS/data/digits.csv.gz` (default: `../shared/assets` beside
//! the workspace root). Test rows: index % 5 == 0 (360); train: the rest (1437).

use std::path::PathBuf;
use std::time::Instant;

use mote_train::data::{read_csv, LabelColumn};
use mote_train::{Activation, Adam, Dense, Fit, Layer, Loss, Metric, Model, Sequential, Tensor};

struct Task {
    name: &'static str,
    epochs: usize,
    build: fn() -> Model,
    input_shape: &'static [usize],
}

fn mlp() -> Model {
    Sequential::new([
        Dense::new(32)
            .activation(Activation::Relu)
            .input_shape([64]),
        Dense::new(10).activation(Activation::Softmax),
    ])
}

fn cnn() -> Model {
    use mote_train::{Conv2D, DepthwiseConv2D, GlobalAveragePooling2D, MaxPooling2D, Padding};
    Sequential::new([
        Layer::from(
            Conv2D::new(16, [3, 3])
                .padding(Padding::Same)
                .activation(Activation::Relu)
                .input_shape([8, 8, 1]),
        ),
        DepthwiseConv2D::new([3, 3])
            .padding(Padding::Same)
            .activation(Activation::Relu)
            .into(),
        Conv2D::new(32, [1, 1]).activation(Activation::Relu).into(),
        MaxPooling2D::new([2, 2]).into(),
        GlobalAveragePooling2D::new().into(),
        Dense::new(10).activation(Activation::Softmax).into(),
    ])
}

/// Nanoseconds this thread has run on a CPU (Linux' schedstat), if known:
/// unlike the wall clock it does not count time spent waiting for a core
/// on a loaded machine.
fn cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seeds: u64 = arg("--seeds").map_or(Ok(5), |s| s.parse())?;
    let only = arg("--only");
    let init_from = arg("--init-from").map(PathBuf::from);

    let assets = std::env::var_os("MOTE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets")
        });
    let path = assets.join("data/digits.csv.gz");
    let (x, y) = read_csv(&path, LabelColumn::Last)?;
    let x = Tensor::new(x.data().iter().map(|v| v / 16.0).collect(), x.shape())?;
    let test: Vec<usize> = (0..x.rows()).filter(|i| i % 5 == 0).collect();
    let train: Vec<usize> = (0..x.rows()).filter(|i| i % 5 != 0).collect();
    let (train_x, train_y) = (x.select_rows(&train), y.select_rows(&train));
    let (test_x, test_y) = (x.select_rows(&test), y.select_rows(&test));

    let tasks = [
        Task {
            name: "mlp",
            epochs: 50,
            build: mlp,
            input_shape: &[64],
        },
        Task {
            name: "cnn",
            epochs: 30,
            build: cnn,
            input_shape: &[8, 8, 1],
        },
    ];
    println!("task  seed  test_accuracy  ms_per_epoch  cpu_ms_per_epoch");
    for task in tasks
        .iter()
        .filter(|t| only.as_deref().is_none_or(|o| o == t.name))
    {
        let mut shape = vec![train_x.rows()];
        shape.extend_from_slice(task.input_shape);
        let tx = train_x.clone().reshape(&shape)?;
        shape[0] = test_x.rows();
        let vx = test_x.clone().reshape(&shape)?;
        let (mut accuracies, mut times, mut cpu_times) = (Vec::new(), Vec::new(), Vec::new());
        for seed in 0..seeds {
            let mut model = match &init_from {
                Some(dir) => {
                    let path = dir.join(format!("{}_{seed}.tflite", task.name));
                    mote_train::tflite::import_bytes(&std::fs::read(&path)?)?
                }
                None => (task.build)().seeded(seed)?,
            };
            model
                .compile(
                    Adam::new(1e-3),
                    Loss::SparseCategoricalCrossentropy { from_logits: false },
                )
                .metrics([Metric::Accuracy]);
            let started = Instant::now();
            let cpu_started = cpu_ns();
            model.fit(
                &tx,
                &train_y,
                Fit::epochs(task.epochs)
                    .batch_size(32)
                    .seed(seed)
                    .verbose(0),
            )?;
            let ms = started.elapsed().as_secs_f64() * 1e3 / task.epochs as f64;
            let cpu_ms = match (cpu_started, cpu_ns()) {
                (Some(a), Some(b)) => (b - a) as f64 / 1e6 / task.epochs as f64,
                _ => ms,
            };
            let accuracy = model.evaluate(&vx, &test_y)?.get("accuracy").unwrap_or(0.0);
            println!(
                "{:<5} {seed:>4}  {:>12.2} %  {ms:>12.2}  {cpu_ms:>16.2}",
                task.name,
                accuracy * 100.0
            );
            accuracies.push(f64::from(accuracy));
            times.push(ms);
            cpu_times.push(cpu_ms);
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let median = |v: &[f64]| {
            let mut sorted = v.to_vec();
            sorted.sort_by(f64::total_cmp);
            sorted[sorted.len() / 2]
        };
        let low = accuracies.iter().copied().fold(f64::INFINITY, f64::min);
        let high = accuracies.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!(
            "{:<5} mean  {:>12.2} %  {:>12.2}  {:>16.2}  (accuracy min {:.2} max {:.2}; median {:.2} ms/epoch, {:.2} cpu ms/epoch; {} seeds)",
            task.name,
            mean(&accuracies) * 100.0,
            mean(&times),
            mean(&cpu_times),
            low * 100.0,
            high * 100.0,
            median(&times),
            median(&cpu_times),
            seeds
        );
    }
    Ok(())
}
