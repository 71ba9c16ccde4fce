//! Magnitude pruning with a polynomial-decay schedule, kept through
//! fine-tuning: every few steps the smallest kernel weights are masked to the
//! schedule's sparsity, and after every step the masked weights are zeroed
//! again (as TensorFlow Model Optimization's `prune_low_magnitude` does).
//!
//! Kernels (params named `kernel` or `depthwise_kernel`: Dense, Conv2D and
//! DepthwiseConv2D) are pruned; biases and normalization parameters are not.
//! What this adds to TF-MOT's recipe, each measured on a validation split of
//! the digits MLP (see `RESULTS.md`): weights are ranked by `|w|` times the
//! RMS of the input they multiply (a weight on an always-blank pixel costs
//! nothing to remove), over all kernels together; Adam's moments are reset
//! whenever the masks change; the learning rate is 1e-2 and, once the target
//! is reached, follows a cosine to 0 over the remaining steps. Per layer, the
//! last kernel can be spared (`final_scale`; the other kernels take its zeros
//! so the total holds).

pub mod mask;
pub mod schedule;
pub mod structured;

pub use mask::Scope;
pub use schedule::PolynomialDecay;

use mote_train::{Activation, Adam, Fit, Layer, Loss, Model, Rng, Schedule, Tensor};

/// How to prune and fine-tune.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PruneConfig {
    /// The fraction of all kernel weights set to 0, in `[0, 1)`.
    pub sparsity: f32,
    /// Per-layer or global targets.
    pub scope: Scope,
    /// Per layer: the last kernel's sparsity is `final_scale * sparsity`
    /// (1 = as hard as the others); the other kernels make up the total.
    pub final_scale: f32,
    /// Fine-tuning epochs.
    pub epochs: usize,
    /// Rows per step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f32,
    /// The fraction of the fine-tuning steps over which sparsity ramps from 0
    /// to the target (polynomial decay, power 3).
    pub ramp: f32,
    /// Mask updates per epoch during the ramp.
    pub updates_per_epoch: usize,
    /// Reset Adam's state at every mask update.
    pub reset_optimizer: bool,
    /// After the ramp, a cosine decay of the learning rate to 0.
    pub cosine: bool,
    /// What ranks the weights.
    pub criterion: Criterion,

    /// Seed of the batch order.
    pub seed: u64,
}

/// How weights are ranked for pruning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Criterion {
    /// `|w|`.
    #[default]
    Magnitude,
    /// `|w|` times the root mean square of the input channel it multiplies
    /// over the training rows (weights on inputs that are always 0, such as
    /// the digits' blank border pixels, go first).
    Activation,
}

impl PruneConfig {
    /// Prune to `sparsity` over `epochs` epochs with the defaults chosen on a
    /// validation split of the digits training rows (`RESULTS.md`): weights
    /// ranked by `|w|` times their input's RMS over all kernels together,
    /// ramp over the first half, 10 mask updates per epoch, Adam 1e-2 reset
    /// at each update, cosine decay after the ramp (per layer: the last
    /// kernel at half the target).
    pub fn new(sparsity: f32, epochs: usize) -> Self {
        PruneConfig {
            sparsity,
            scope: Scope::Global,
            final_scale: 0.5,
            epochs,
            batch_size: 32,
            learning_rate: 1e-2,
            ramp: 0.5,
            updates_per_epoch: 10,
            reset_optimizer: true,
            cosine: true,
            criterion: Criterion::Activation,
            seed: 0,
        }
    }

    /// TensorFlow Model Optimization's recipe as this crate first had it:
    /// ramp over two thirds of the steps, one Adam throughout, every kernel
    /// at the target.
    pub fn tf_mot(sparsity: f32, epochs: usize) -> Self {
        PruneConfig {
            scope: Scope::PerLayer,
            criterion: Criterion::Magnitude,
            learning_rate: 1e-3,
            final_scale: 1.0,
            ramp: 2.0 / 3.0,
            reset_optimizer: false,
            cosine: false,
            ..PruneConfig::new(sparsity, epochs)
        }
    }

    /// The sparsity schedule over the fine-tuning steps of `rows` rows.
    pub fn schedule(&self, rows: usize) -> PolynomialDecay {
        let steps_per_epoch = rows.div_ceil(self.batch_size.max(1));
        let steps = self.epochs * steps_per_epoch;
        let end = ((steps as f32 * self.ramp.clamp(0.0, 1.0)).round() as usize).min(steps);
        PolynomialDecay::to(
            self.sparsity,
            end,
            (steps_per_epoch / self.updates_per_epoch.max(1)).max(1),
        )
    }
}

/// What pruning left: each pruned kernel's name and sparsity, and the loss per epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct PruneReport {
    /// `(layer/param, sparsity)` of each pruned tensor.
    pub sparsity: Vec<(String, f32)>,
    /// The fraction of all pruned tensors' weights that are 0.
    pub total_sparsity: f32,
    /// Mean training loss of each epoch.
    pub loss: Vec<f32>,
}

/// The loss a classifier or regressor fine-tunes with: cross-entropy after a
/// softmax (sparse for `[N]` labels) or a sigmoid, mean squared error otherwise.
pub fn loss_for(model: &Model, y: &Tensor) -> Loss {
    let last = model.layers().last().map(|l| match l {
        Layer::Dense(d) => d.activation_function(),
        Layer::Activation(a) => a.activation_function(),
        _ => Activation::Linear,
    });
    match last {
        Some(Activation::Softmax) if y.shape().len() == 1 => {
            Loss::SparseCategoricalCrossentropy { from_logits: false }
        }
        Some(Activation::Softmax) => Loss::CategoricalCrossentropy { from_logits: false },
        Some(Activation::Sigmoid) => Loss::BinaryCrossentropy { from_logits: false },
        _ => Loss::MeanSquaredError,
    }
}

/// The indices in `model.weights()` of the prunable kernels, and their names.
pub fn kernels(model: &Model) -> Vec<(usize, String)> {
    let layer_names: Vec<String> = model.layer_names().map(str::to_string).collect();
    let mut found = Vec::new();
    let mut index = 0;
    for (l, layer) in model.layers().enumerate() {
        for param in layer.params() {
            if matches!(param.name(), "kernel" | "depthwise_kernel") {
                found.push((index, format!("{}/{}", layer_names[l], param.name())));
            }
            index += 1;
        }
    }
    found
}

/// Zeroes `weights[w]` where `mask` is false, for each `(w, mask)`.
pub(crate) fn apply_masks(
    model: &mut Model,
    prunable: &[usize],
    masks: &[Vec<bool>],
) -> mote_train::Result<()> {
    if masks.is_empty() {
        return Ok(());
    }
    let mut weights = model.weights();
    for (&w, mask) in prunable.iter().zip(masks) {
        for (v, &keep) in weights[w].data_mut().iter_mut().zip(mask) {
            if !keep {
                *v = 0.0;
            }
        }
    }
    model.set_weights(weights)
}

/// Fine-tunes `model` on `x`, `y` with `loss` for `config.epochs`, calling
/// `update(model, step)` before each step (it returns the masks to keep from
/// then on, or `None` to keep the current ones) and re-applying the masks
/// after each step. Compiles `model` (Adam) itself.
pub(crate) fn fine_tune(
    model: &mut Model,
    x: &Tensor,
    y: &Tensor,
    loss: Loss,
    config: &PruneConfig,
    prunable: &[usize],
    mut update: impl FnMut(&mut Model, usize) -> Option<Vec<Vec<bool>>>,
) -> mote_train::Result<(Vec<Vec<bool>>, Vec<f32>)> {
    let steps_per_epoch = x.rows().div_ceil(config.batch_size.max(1));
    let steps = config.epochs * steps_per_epoch;
    let end = config.schedule(x.rows()).end_step;
    let lr = config.learning_rate;
    model.compile(Adam::new(lr), loss);
    let mut masks: Vec<Vec<bool>> = Vec::new();
    let mut order: Vec<usize> = (0..x.rows()).collect();
    let mut rng = Rng::new(config.seed);
    let mut step = 0;
    let mut losses = Vec::new();
    for _ in 0..config.epochs {
        rng.shuffle(&mut order);
        let (mut loss_sum, mut rows) = (0.0f64, 0usize);
        for batch in order.chunks(config.batch_size.max(1)) {
            if let Some(new) = update(model, step) {
                masks = new;
                apply_masks(model, prunable, &masks)?;
                if config.reset_optimizer {
                    model.compile(Adam::new(lr), loss);
                }
            }
            if config.cosine && step == end {
                let rest = (steps - end).max(1) as u64;
                model.compile(
                    Adam::new(Schedule::Cosine {
                        initial: lr,
                        decay_steps: rest,
                        alpha: 0.0,
                    }),
                    loss,
                );
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
            apply_masks(model, prunable, &masks)?;
            step += 1;
        }
        losses.push((loss_sum / rows.max(1) as f64) as f32);
    }
    Ok((masks, losses))
}

/// The root mean square of each input channel (the last axis) of the
/// tensor each prunable kernel multiplies, over the rows of `x`.
pub(crate) fn input_channel_rms(
    model: &mut Model,
    x: &Tensor,
    prunable: &[usize],
) -> mote_train::Result<Vec<Vec<f32>>> {
    let outputs = model.predict_layers(x)?;
    // The layer that owns each weight tensor.
    let mut owner = Vec::new();
    for (l, layer) in model.layers().enumerate() {
        owner.extend(std::iter::repeat_n(l, layer.params().len()));
    }
    let mut result = Vec::new();
    for &w in prunable {
        let layer = owner[w];
        let input = match model.layer_inputs(layer).first().copied().flatten() {
            Some(j) => &outputs[j],
            None => x,
        };
        let channels = input.shape().last().copied().unwrap_or(1).max(1);
        let mut sum = vec![0.0f64; channels];
        for (i, v) in input.data().iter().enumerate() {
            sum[i % channels] += f64::from(*v) * f64::from(*v);
        }
        let count = (input.len() / channels).max(1) as f64;
        result.push(sum.iter().map(|s| (s / count).sqrt() as f32).collect());
    }
    Ok(result)
}

/// `|w| * rms[channel]` where a kernel of shape `[..., c, last]` reads input
/// channel `(i / last) % c` at flat index `i`.
pub(crate) fn scaled_scores(kernel: &Tensor, rms: &[f32]) -> Vec<f32> {
    let shape = kernel.shape();
    let last = shape.last().copied().unwrap_or(1).max(1);
    let c = if shape.len() >= 2 {
        shape[shape.len() - 2].max(1)
    } else {
        1
    };
    kernel
        .data()
        .iter()
        .enumerate()
        .map(|(i, v)| v.abs() * rms.get((i / last) % c).copied().unwrap_or(1.0))
        .collect()
}

/// Prunes `model` (built) on `x`, `y`, fine-tuning with `loss` and Adam.
pub fn prune(
    model: &mut Model,
    x: &Tensor,
    y: &Tensor,
    loss: Loss,
    config: &PruneConfig,
) -> mote_train::Result<PruneReport> {
    let found = kernels(model);
    let prunable: Vec<usize> = found.iter().map(|(w, _)| *w).collect();
    let schedule = config.schedule(x.rows());
    let tuned = fine_tune(model, x, y, loss, config, &prunable, |model, step| {
        let sparsity = schedule.update_at(step)?;
        let weights = model.weights();
        let scores: Vec<Vec<f32>> = match config.criterion {
            Criterion::Magnitude => prunable
                .iter()
                .map(|&w| weights[w].data().to_vec())
                .collect(),
            Criterion::Activation => {
                let rms = input_channel_rms(model, x, &prunable).ok()?;
                prunable
                    .iter()
                    .zip(&rms)
                    .map(|(&w, r)| scaled_scores(&weights[w], r))
                    .collect()
            }
        };
        let kernels: Vec<&[f32]> = scores.iter().map(Vec::as_slice).collect();
        Some(match config.scope {
            Scope::Global => mask::magnitude_masks(&kernels, sparsity, Scope::Global),
            Scope::PerLayer => {
                let sizes: Vec<usize> = kernels.iter().map(|k| k.len()).collect();
                let targets = mask::layer_targets(&sizes, sparsity, config.final_scale);
                mask::masks_per_tensor(&kernels, &targets)
            }
        })
    })?;
    let (masks, losses) = tuned;
    let zeros: usize = masks.iter().flatten().filter(|&&k| !k).count();
    let total: usize = masks.iter().map(Vec::len).sum();
    Ok(PruneReport {
        sparsity: found
            .into_iter()
            .zip(&masks)
            .map(|((_, n), m)| (n, mask::sparsity(m)))
            .collect(),
        total_sparsity: zeros as f32 / total.max(1) as f32,
        loss: losses,
    })
}
