//! Chooses `mote prune`'s defaults on a validation split carved from the
//! digits training rows (the test rows are never looked at): for each seed,
//! the reference MLP or CNN is trained on the first 80 % of `x_train.npy`,
//! pruned with each candidate recipe and scored on the last 20 %.
//!
//! `cargo run --release -p mote-compress --example prune_sweep -- DIR [mlp|cnn]`
//! where DIR holds `mote data digits`' files.

use mote_compress::prune::{loss_for, prune, Criterion, PruneConfig, Scope};
use mote_train::data::read_npy;
use mote_train::spec::Spec;
use mote_train::{Fit, Metric, Model, Tensor};

fn accuracy(model: &mut Model, x: &Tensor, y: &Tensor) -> f32 {
    model.metrics([Metric::Accuracy]);
    model.evaluate(x, y).unwrap().get("accuracy").unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let kind = args.get(2).map(String::as_str).unwrap_or("mlp");
    let x = read_npy(dir.join("x_train.npy")).unwrap();
    let y = read_npy(dir.join("y_train.npy")).unwrap();
    let spec_path = format!(
        "{}/../../examples/specs/digits_{kind}.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(spec_path).unwrap();
    let mut shape = vec![x.rows()];
    let spec0 = Spec::parse(&text).unwrap();
    shape.extend_from_slice(&spec0.input_shape);
    let x = x.reshape(shape).unwrap();
    let cut = x.rows() * 4 / 5;
    let (fit_rows, val_rows): (Vec<usize>, Vec<usize>) =
        ((0..cut).collect(), (cut..x.rows()).collect());
    let (fx, fy) = (x.select_rows(&fit_rows), y.select_rows(&fit_rows));
    let (vx, vy) = (x.select_rows(&val_rows), y.select_rows(&val_rows));
    let sparsities: Vec<f32> = match kind {
        "mlp" => vec![0.5, 0.8, 0.9],
        _ => vec![0.5, 0.8],
    };
    let seeds: Vec<u64> = (0..5).collect();
    let mut dense = Vec::new();
    for &seed in &seeds {
        let spec = Spec::parse(&text.replace("seed = 0", &format!("seed = {seed}"))).unwrap();
        let mut model = spec.model().unwrap();
        let fit = Fit::epochs(spec.epochs)
            .batch_size(spec.batch_size)
            .seed(spec.seed)
            .shuffle(spec.shuffle)
            .verbose(0);
        model.fit(&fx, &fy, fit).unwrap();
        dense.push(model);
    }
    let base: Vec<f32> = dense.iter_mut().map(|m| accuracy(m, &vx, &vy)).collect();
    println!(
        "dense val {:?} mean {:.2}",
        base,
        100.0 * base.iter().sum::<f32>() / 5.0
    );
    type Recipe = (&'static str, fn(f32) -> PruneConfig);
    let recipes: Vec<Recipe> = vec![
        ("tf-mot", |s| PruneConfig::tf_mot(s, 10)),
        ("default", |s| PruneConfig::new(s, 10)),
        ("magnitude", |s| PruneConfig {
            criterion: Criterion::Magnitude,
            ..PruneConfig::new(s, 10)
        }),
        ("per layer", |s| PruneConfig {
            scope: Scope::PerLayer,
            ..PruneConfig::new(s, 10)
        }),
        ("per layer final 1", |s| PruneConfig {
            scope: Scope::PerLayer,
            final_scale: 1.0,
            ..PruneConfig::new(s, 10)
        }),
        ("no reset", |s| PruneConfig {
            reset_optimizer: false,
            ..PruneConfig::new(s, 10)
        }),
        ("no cosine", |s| PruneConfig {
            cosine: false,
            ..PruneConfig::new(s, 10)
        }),
        ("ramp 2/3", |s| PruneConfig {
            ramp: 2.0 / 3.0,
            ..PruneConfig::new(s, 10)
        }),
        ("lr 1e-3", |s| PruneConfig {
            learning_rate: 1e-3,
            ..PruneConfig::new(s, 10)
        }),
        ("lr 3e-3", |s| PruneConfig {
            learning_rate: 3e-3,
            ..PruneConfig::new(s, 10)
        }),
        ("lr 2e-2", |s| PruneConfig {
            learning_rate: 2e-2,
            ..PruneConfig::new(s, 10)
        }),
        // The same fine-tuning without pruning: what the budget alone gives.
        ("control, sparsity 0", |_| PruneConfig::new(0.0, 10)),
    ];
    let only: Option<Vec<String>> = std::env::var("RECIPES")
        .ok()
        .map(|r| r.split(',').map(str::to_string).collect());
    for (name, recipe) in &recipes {
        if let Some(only) = &only {
            if !only.iter().any(|o| o == name) {
                continue;
            }
        }
        let mut line = format!("{name:>20}:");
        for &s in &sparsities {
            let mut accs = Vec::new();
            for (i, &seed) in seeds.iter().enumerate() {
                let mut model = dense[i].clone();
                let config = PruneConfig { seed, ..recipe(s) };
                let loss = loss_for(&model, &fy);
                prune(&mut model, &fx, &fy, loss, &config).unwrap();
                accs.push(accuracy(&mut model, &vx, &vy));
            }
            let mean = 100.0 * accs.iter().sum::<f32>() / accs.len() as f32;
            line += &format!(
                " {:.0}%: {mean:.2} ({})",
                100.0 * s,
                accs.iter()
                    .map(|a| format!("{:.1}", 100.0 * a))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        println!("{line}");
    }
}
