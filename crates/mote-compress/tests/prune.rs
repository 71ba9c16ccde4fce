//! A digits MLP pruned to 50 % and 80 % sparse kernels with fine-tuning keeps
//! most of its accuracy (far more than one-shot pruning), and its exported
//! kernels hold exactly the masked zeros.

mod common;

use mote_compress::prune::{mask, prune, PruneConfig, Scope};
use mote_train::data::{read_csv, LabelColumn};
use mote_train::{Activation, Adam, Dense, Fit, Loss, Metric, Model, Sequential, Tensor};

fn digits() -> (Tensor, Tensor, Tensor, Tensor) {
    let path = common::assets().join("data/digits.csv.gz");
    let (x, y) = read_csv(&path, LabelColumn::Last).unwrap();
    let x = Tensor::new(x.data().iter().map(|v| v / 16.0).collect(), x.shape()).unwrap();
    let test: Vec<usize> = (0..x.rows()).filter(|i| i % 5 == 0).collect();
    let train: Vec<usize> = (0..x.rows()).filter(|i| i % 5 != 0).collect();
    (
        x.select_rows(&train),
        y.select_rows(&train),
        x.select_rows(&test),
        y.select_rows(&test),
    )
}

/// The digits MLP (64 -> 32 relu -> 10 softmax) after 50 epochs, seed 0.
fn trained(x: &Tensor, y: &Tensor) -> Model {
    let mut model = Sequential::new([
        Dense::new(32)
            .activation(Activation::Relu)
            .input_shape([64]),
        Dense::new(10).activation(Activation::Softmax),
    ])
    .seeded(0)
    .unwrap();
    model
        .compile(
            Adam::new(1e-3),
            Loss::SparseCategoricalCrossentropy { from_logits: false },
        )
        .metrics([Metric::Accuracy]);
    model
        .fit(x, y, Fit::epochs(50).batch_size(32).seed(0).verbose(0))
        .unwrap();
    model
}

fn accuracy(model: &mut Model, x: &Tensor, y: &Tensor) -> f32 {
    model.evaluate(x, y).unwrap().get("accuracy").unwrap()
}

#[test]
fn pruned_mlp_keeps_its_accuracy() {
    let (train_x, train_y, test_x, test_y) = digits();
    let mut model = trained(&train_x, &train_y);
    let dense_accuracy = accuracy(&mut model, &test_x, &test_y);

    // One-shot: 80 % of each kernel zeroed, no fine-tuning.
    let mut one_shot = trained(&train_x, &train_y);
    let mut weights = one_shot.weights();
    let masks = {
        let kernels: Vec<&[f32]> = [0, 2].iter().map(|&w| weights[w].data()).collect();
        mask::magnitude_masks(&kernels, 0.8, Scope::PerLayer)
    };
    for (&w, m) in [0, 2].iter().zip(&masks) {
        for (v, &keep) in weights[w].data_mut().iter_mut().zip(m) {
            if !keep {
                *v = 0.0;
            }
        }
    }
    one_shot.set_weights(weights).unwrap();
    let one_shot_accuracy = accuracy(&mut one_shot, &test_x, &test_y);

    // (sparsity, scope, accuracy points the pruned model may lose)
    for (target, scope, loss) in [
        (0.5, Scope::PerLayer, 0.01),
        (0.8, Scope::PerLayer, 0.04),
        (0.8, Scope::Global, 0.04),
    ] {
        let mut pruned = trained(&train_x, &train_y);
        let config = PruneConfig {
            scope,
            ..PruneConfig::new(target, 20, train_x.rows(), 32)
        };
        let report = prune(&mut pruned, &train_x, &train_y, &config).unwrap();
        let pruned_accuracy = accuracy(&mut pruned, &test_x, &test_y);
        println!(
            "{target} {scope:?}: dense {:.2} %, one-shot 80 % {:.2} %, pruned + fine-tuned 20 epochs {:.2} %, sparsity {:?}, last loss {:?}",
            100.0 * dense_accuracy,
            100.0 * one_shot_accuracy,
            100.0 * pruned_accuracy,
            report.sparsity,
            report.loss.last()
        );
        // Kernels: 64 x 32 = 2048 and 32 x 10 = 320 weights.
        let zeros: Vec<usize> = [0, 2]
            .iter()
            .map(|&w| {
                pruned.weights()[w]
                    .data()
                    .iter()
                    .filter(|v| **v == 0.0)
                    .count()
            })
            .collect();
        match scope {
            // round(s * 2048) and round(s * 320): 1024 and 160 at 50 %, 1638 and 256 at 80 %.
            Scope::PerLayer => assert_eq!(
                zeros,
                vec![
                    (target * 2048.0f32).round() as usize,
                    (target * 320.0f32).round() as usize
                ]
            ),
            // round(0.8 * 2368) = 1894 over both.
            Scope::Global => assert_eq!(zeros.iter().sum::<usize>(), 1894),
        }
        assert!(
            pruned_accuracy >= dense_accuracy - loss,
            "{scope:?}: {pruned_accuracy} vs {dense_accuracy}"
        );
        // The exported float model keeps the zeros.
        let def = mote_train::tflite::export(&pruned).unwrap();
        let kernel_zeros = def.tensors[1]
            .data
            .as_ref()
            .unwrap()
            .chunks_exact(4)
            .filter(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) == 0.0)
            .count();
        assert_eq!(kernel_zeros, zeros[0]);
    }
}
