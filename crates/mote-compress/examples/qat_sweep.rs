//! Quantization-aware training of the digits CNN against post-training
//! quantization and against float fine-tuning of the same budget, 5 seeds.
//!
//! For each seed s: the CNN of `examples/specs/digits_cnn.toml` (`seed = s`,
//! 30 epochs) is trained; then, per learning rate, (a) `mote qat` 10 epochs
//! (Adam, batch 32, seed s) and (b) the control: the float model fine-tuned
//! 10 epochs by mote-train with the same optimizer, batch size and seed, then
//! quantized by min/max PTQ. PTQ of the 30-epoch model (min/max, percentile)
//! is the baseline.
//!
//! `cargo run --release -p mote-compress --example qat_sweep -- DIR val` fits
//! on the first 80 % of `x_train.npy` and scores the last 20 % (for choosing
//! the learning rate); `... DIR test [LR ...]` fits on all training rows and
//! scores `x_test.npy`. DIR holds `mote data digits`' files.

use mote_compress::qat::{qat, QatConfig};
use mote_compress::quantize::{quantize, Calibration, QuantizeConfig, RangeMethod};
use mote_compress::report::{accuracy, run_float};
use mote_train::data::read_npy;
use mote_train::spec::Spec;
use mote_train::{Adam, Fit, Loss};

fn export(model: &mote_train::Model) -> Vec<u8> {
    mote_train::tflite::export(model)
        .unwrap()
        .to_bytes()
        .unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let mode = args.get(2).map_or("val", String::as_str);
    let rates: Vec<f32> = if args.len() > 3 {
        args[3..].iter().map(|r| r.parse().unwrap()).collect()
    } else {
        vec![1e-3, 3e-3, 1e-2]
    };
    let x = read_npy(dir.join("x_train.npy")).unwrap();
    let y = read_npy(dir.join("y_train.npy")).unwrap();
    let (fx, fy, ex, ey) = if mode == "test" {
        let tx = read_npy(dir.join("x_test.npy")).unwrap();
        let ty = read_npy(dir.join("y_test.npy")).unwrap();
        (x, y, tx, ty)
    } else {
        let cut = x.rows() * 4 / 5;
        let fit: Vec<usize> = (0..cut).collect();
        let val: Vec<usize> = (cut..x.rows()).collect();
        (
            x.select_rows(&fit),
            y.select_rows(&fit),
            x.select_rows(&val),
            y.select_rows(&val),
        )
    };
    let text = std::fs::read_to_string(format!(
        "{}/../../examples/specs/digits_cnn.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let score =
        |bytes: &[u8]| 100.0 * accuracy(&run_float(bytes, ex.data(), 64).unwrap(), 10, ey.data());
    let calibration = Calibration::new(vec![fx.rows(), 64], fx.data().to_vec()).unwrap();
    let ptq = |bytes: &[u8], method: RangeMethod| {
        let config = QuantizeConfig {
            method,
            ..QuantizeConfig::default()
        };
        quantize(bytes, &calibration, &config)
            .unwrap()
            .to_bytes()
            .unwrap()
    };
    let mut columns: Vec<(String, Vec<f64>)> = Vec::new();
    let mut record = |name: String, value: f64| match columns.iter_mut().find(|(n, _)| *n == name) {
        Some((_, v)) => v.push(value),
        None => columns.push((name, vec![value])),
    };
    for seed in 0..5u64 {
        let spec = Spec::parse(&text.replace("seed = 0", &format!("seed = {seed}"))).unwrap();
        let mut shape = vec![fx.rows()];
        shape.extend_from_slice(&spec.input_shape);
        let images = fx.clone().reshape(shape).unwrap();
        let mut model = spec.model().unwrap();
        let fit = |epochs| {
            Fit::epochs(epochs)
                .batch_size(spec.batch_size)
                .seed(seed)
                .shuffle(spec.shuffle)
                .verbose(0)
        };
        model.fit(&images, &fy, fit(spec.epochs)).unwrap();
        let float = export(&model);
        record("float".into(), score(&float));
        record(
            "PTQ min/max".into(),
            score(&ptq(&float, RangeMethod::MinMax)),
        );
        record(
            "PTQ percentile".into(),
            score(&ptq(&float, RangeMethod::Percentile)),
        );
        for &rate in &rates {
            let config = QatConfig {
                learning_rate: rate,
                seed,
                ..QatConfig::default()
            };
            let (int8, _) = qat(&float, &calibration, fy.data(), None, &config).unwrap();
            record(format!("QAT lr {rate}"), score(&int8.to_bytes().unwrap()));
            // The control: the same 10 epochs in float (fresh Adam), then PTQ.
            let mut tuned = mote_train::tflite::import_bytes(&float).unwrap();
            tuned.compile(
                Adam::new(rate),
                Loss::SparseCategoricalCrossentropy { from_logits: false },
            );
            tuned.fit(&images, &fy, fit(10)).unwrap();
            let tuned = export(&tuned);
            record(format!("float +10 lr {rate}"), score(&tuned));
            record(
                format!("PTQ of float +10 lr {rate}"),
                score(&ptq(&tuned, RangeMethod::MinMax)),
            );
        }
        eprintln!("seed {seed} done");
    }
    println!("{mode} accuracy (%), seeds 0-4:");
    for (name, values) in &columns {
        let row: Vec<String> = values.iter().map(|v| format!("{v:.2}")).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        println!("| {name} | {} | {mean:.2} |", row.join(" | "));
    }
}
