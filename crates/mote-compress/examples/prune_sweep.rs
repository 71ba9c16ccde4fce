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
    let recipes: Vec<(&str, Box<dyn Fn(f32) -> PruneConfig>)> = vec![
        ("tf-mot", Box::new(|s| PruneConfig::tf_mot(s, 10))),
        ("default", Box::new(|s| PruneConfig::new(s, 10))),
        (
            "default global",
            Box::new(|s| PruneConfig {
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "default final 1",
            Box::new(|s| PruneConfig {
                final_scale: 1.0,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "default no reset",
            Box::new(|s| PruneConfig {
                reset_optimizer: false,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "default no cosine",
            Box::new(|s| PruneConfig {
                cosine: false,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "default ramp 2/3",
            Box::new(|s| PruneConfig {
                ramp: 2.0 / 3.0,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "default ramp 0.3",
            Box::new(|s| PruneConfig {
                ramp: 0.3,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "default lr 3e-3",
            Box::new(|s| PruneConfig {
                learning_rate: 3e-3,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act global",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "global lr 3e-3",
            Box::new(|s| PruneConfig {
                learning_rate: 3e-3,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "global final1",
            Box::new(|s| PruneConfig {
                final_scale: 1.0,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act global lr 3e-3",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                learning_rate: 3e-3,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act lr 3e-3",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                learning_rate: 3e-3,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act global ramp 0.7 lr 3e-3",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                ramp: 0.7,
                learning_rate: 3e-3,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act global lr 5e-3",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                learning_rate: 5e-3,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act global lr 1e-2",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                learning_rate: 1e-2,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act global lr 3e-3 upd 2",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                learning_rate: 3e-3,
                updates_per_epoch: 2,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act global lr 3e-3 noreset",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                learning_rate: 3e-3,
                reset_optimizer: false,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act global lr 3e-3 nocos",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                learning_rate: 3e-3,
                cosine: false,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act global lr 2e-2",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                learning_rate: 2e-2,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act global lr 4e-2",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                learning_rate: 4e-2,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act lr 1e-2",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                learning_rate: 1e-2,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "global lr 1e-2",
            Box::new(|s| PruneConfig {
                learning_rate: 1e-2,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "act global lr 1e-2 noreset",
            Box::new(|s| PruneConfig {
                criterion: Criterion::Activation,
                learning_rate: 1e-2,
                reset_optimizer: false,
                scope: Scope::Global,
                ..PruneConfig::new(s, 10)
            }),
        ),
        (
            "control lr 1e-2 s0",
            Box::new(|_| PruneConfig {
                criterion: Criterion::Activation,
                learning_rate: 1e-2,
                scope: Scope::Global,
                ..PruneConfig::new(0.0, 10)
            }),
        ),
        (
            "default lr 5e-4",
            Box::new(|s| PruneConfig {
                learning_rate: 5e-4,
                ..PruneConfig::new(s, 10)
            }),
        ),
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
