//! Magnitude pruning with a polynomial-decay schedule, kept through
//! fine-tuning: every few steps the smallest kernel weights are masked to the
//! schedule's sparsity, and after every step the masked weights are zeroed
//! again (as TensorFlow Model Optimization's `prune_low_magnitude` does).
//!
//! Kernels (params named `kernel` or `depthwise_kernel`) are pruned; biases and
//! normalization parameters are not.

pub mod mask;
pub mod schedule;

pub use mask::Scope;
pub use schedule::PolynomialDecay;

use mote_train::{Fit, Model, Rng, Tensor};

/// How to prune and fine-tune.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PruneConfig {
    /// The sparsity over steps.
    pub schedule: PolynomialDecay,
    /// Per-layer or global targets.
    pub scope: Scope,
    /// Fine-tuning epochs.
    pub epochs: usize,
    /// Rows per step.
    pub batch_size: usize,
    /// Seed of the batch order.
    pub seed: u64,
}

impl PruneConfig {
    /// Prune to `sparsity` over `epochs` epochs of `rows` rows in batches of
    /// `batch_size`: the target is reached after two thirds of the steps
    /// (masks update every 10 % of an epoch), the rest fine-tunes at it.
    pub fn new(sparsity: f32, epochs: usize, rows: usize, batch_size: usize) -> Self {
        let steps_per_epoch = rows.div_ceil(batch_size.max(1));
        let steps = epochs * steps_per_epoch;
        PruneConfig {
            schedule: PolynomialDecay::to(sparsity, steps * 2 / 3, (steps_per_epoch / 10).max(1)),
            scope: Scope::PerLayer,
            epochs,
            batch_size: batch_size.max(1),
            seed: 0,
        }
    }
}

/// What pruning left: each pruned kernel's name and sparsity, and the loss per epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct PruneReport {
    /// `(layer/param, sparsity)` of each pruned tensor.
    pub sparsity: Vec<(String, f32)>,
    /// Mean training loss of each epoch.
    pub loss: Vec<f32>,
}

/// Prunes `model` (built and compiled; its optimizer fine-tunes) on `x`, `y`.
pub fn prune(
    model: &mut Model,
    x: &Tensor,
    y: &Tensor,
    config: &PruneConfig,
) -> mote_train::Result<PruneReport> {
    // Which entries of `weights()` are kernels, and their names.
    let mut prunable = Vec::new();
    let mut names = Vec::new();
    let layer_names: Vec<String> = model.layer_names().map(str::to_string).collect();
    let mut index = 0;
    for (l, layer) in model.layers().enumerate() {
        for param in layer.params() {
            if matches!(param.name(), "kernel" | "depthwise_kernel") {
                prunable.push(index);
                names.push(format!("{}/{}", layer_names[l], param.name()));
            }
            index += 1;
        }
    }
    let mut masks: Vec<Vec<bool>> = Vec::new();
    let apply = |model: &mut Model, masks: &[Vec<bool>]| -> mote_train::Result<()> {
        let mut weights = model.weights();
        for (&w, mask) in prunable.iter().zip(masks) {
            for (v, &keep) in weights[w].data_mut().iter_mut().zip(mask) {
                if !keep {
                    *v = 0.0;
                }
            }
        }
        model.set_weights(weights)
    };
    let mut order: Vec<usize> = (0..x.rows()).collect();
    let mut rng = Rng::new(config.seed);
    let mut step = 0;
    let mut losses = Vec::new();
    for _ in 0..config.epochs {
        rng.shuffle(&mut order);
        let (mut loss_sum, mut rows) = (0.0f64, 0usize);
        for batch in order.chunks(config.batch_size) {
            if let Some(sparsity) = config.schedule.update_at(step) {
                let weights = model.weights();
                let kernels: Vec<&[f32]> = prunable.iter().map(|&w| weights[w].data()).collect();
                masks = mask::magnitude_masks(&kernels, sparsity, config.scope);
                apply(model, &masks)?;
            }
            let history = model.fit(
                &x.select_rows(batch),
                &y.select_rows(batch),
                Fit::epochs(1)
                    .batch_size(batch.len())
                    .shuffle(false)
                    .verbose(0),
            )?;
            loss_sum += f64::from(history.loss()[0]) * batch.len() as f64;
            rows += batch.len();
            apply(model, &masks)?;
            step += 1;
        }
        losses.push((loss_sum / rows.max(1) as f64) as f32);
    }
    Ok(PruneReport {
        sparsity: names
            .into_iter()
            .zip(&masks)
            .map(|(n, m)| (n, mask::sparsity(m)))
            .collect(),
        loss: losses,
    })
}
