//! Magnitude masks: the smallest weights (by absolute value) are zeroed, per
//! tensor or over all pruned tensors at once.

/// Where the sparsity target applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// Every tensor reaches the sparsity on its own.
    #[default]
    PerLayer,
    /// The sparsity holds over all tensors together (small weights anywhere go first).
    Global,
}

/// Per-tensor sparsities that together zero `sparsity` of all weights, with
/// the last tensor (the classifier, which has the fewest weights per output)
/// pruned at `final_scale * sparsity` and the others raised to make up the
/// total (never above 0.99; if they cannot, the total falls short).
///
/// With `final_scale = 1` every tensor gets `sparsity`.
pub fn layer_targets(sizes: &[usize], sparsity: f32, final_scale: f32) -> Vec<f32> {
    let sparsity = sparsity.clamp(0.0, 1.0);
    let mut targets = vec![sparsity; sizes.len()];
    if sizes.len() < 2 {
        return targets;
    }
    let total: usize = sizes.iter().sum();
    let last = sizes.len() - 1;
    let final_sparsity = (sparsity * final_scale.clamp(0.0, 1.0)).min(sparsity);
    let rest: usize = total - sizes[last];
    // zeros wanted in the other tensors = s * total - s_final * n_final
    let wanted = sparsity * total as f32 - final_sparsity * sizes[last] as f32;
    let others = (wanted / rest.max(1) as f32).clamp(0.0, 0.99);
    for t in targets.iter_mut().take(last) {
        *t = others;
    }
    targets[last] = final_sparsity;
    targets
}

/// Masks (`true` = kept) that zero `round(targets[t] * n_t)` of the smallest
/// weights of each tensor `t`. Ties break by position, so the masks are
/// deterministic.
pub fn masks_per_tensor(tensors: &[&[f32]], targets: &[f32]) -> Vec<Vec<bool>> {
    tensors
        .iter()
        .zip(targets)
        .map(|(w, &s)| {
            let mut mask = vec![true; w.len()];
            let cut = (s.clamp(0.0, 1.0) * w.len() as f32).round() as usize;
            let mut order: Vec<usize> = (0..w.len()).collect();
            order.sort_by(|&a, &b| w[a].abs().total_cmp(&w[b].abs()).then(a.cmp(&b)));
            for &i in order.iter().take(cut) {
                mask[i] = false;
            }
            mask
        })
        .collect()
}

/// Masks (`true` = kept) that zero `round(sparsity * n)` of the smallest
/// weights: of each tensor, or of all `n` weights together. Ties break by
/// position, so the masks are deterministic.
pub fn magnitude_masks(tensors: &[&[f32]], sparsity: f32, scope: Scope) -> Vec<Vec<bool>> {
    let sparsity = sparsity.clamp(0.0, 1.0);
    match scope {
        Scope::PerLayer => masks_per_tensor(tensors, &vec![sparsity; tensors.len()]),
        Scope::Global => {
            let mut masks: Vec<Vec<bool>> = tensors.iter().map(|t| vec![true; t.len()]).collect();
            let mut group: Vec<(usize, usize)> = tensors
                .iter()
                .enumerate()
                .flat_map(|(t, w)| (0..w.len()).map(move |i| (t, i)))
                .collect();
            let cut = (sparsity * group.len() as f32).round() as usize;
            group.sort_by(|&(ta, ia), &(tb, ib)| {
                tensors[ta][ia]
                    .abs()
                    .total_cmp(&tensors[tb][ib].abs())
                    .then((ta, ia).cmp(&(tb, ib)))
            });
            for &(t, i) in group.iter().take(cut) {
                masks[t][i] = false;
            }
            masks
        }
    }
}

/// The fraction of `false` entries.
pub fn sparsity(mask: &[bool]) -> f32 {
    mask.iter().filter(|&&k| !k).count() as f32 / mask.len().max(1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_layer_prunes_each_tensor_to_the_target() {
        // 50 % of [0.1, -3, 0.2, 4] -> the two smallest |w| (0.1, 0.2) go;
        // 50 % of [10, -20] -> 10 goes.
        let masks = magnitude_masks(
            &[&[0.1, -3.0, 0.2, 4.0], &[10.0, -20.0]],
            0.5,
            Scope::PerLayer,
        );
        assert_eq!(
            masks,
            vec![vec![false, true, false, true], vec![false, true]]
        );
    }

    #[test]
    fn global_prunes_the_smallest_anywhere() {
        // 50 % of all six: 0.1, 0.2, -3 go; the large tensor keeps both.
        let masks = magnitude_masks(
            &[&[0.1, -3.0, 0.2, 4.0], &[10.0, -20.0]],
            0.5,
            Scope::Global,
        );
        assert_eq!(
            masks,
            vec![vec![false, false, false, true], vec![true, true]]
        );
        assert_eq!(sparsity(&masks[0]), 0.75);
    }

    #[test]
    fn a_spared_final_layer_moves_its_zeros_to_the_others() {
        // MLP kernels 2048 and 320 at 90 %, final at half: 0.45 * 320 = 144
        // zeros; the first must hold 0.9 * 2368 - 144 = 1987.2 -> 0.9703.
        let t = layer_targets(&[2048, 320], 0.9, 0.5);
        assert!((t[1] - 0.45).abs() < 1e-6);
        assert!((t[0] - 1987.2 / 2048.0).abs() < 1e-5, "{t:?}");
        // Scale 1 is plain per-layer; one tensor is never changed.
        assert_eq!(layer_targets(&[2048, 320], 0.8, 1.0), vec![0.8, 0.8]);
        assert_eq!(layer_targets(&[100], 0.8, 0.5), vec![0.8]);
        // The others never exceed 0.99: 0.98 overall of [10, 10] at scale 0.
        assert_eq!(layer_targets(&[10, 10], 0.98, 0.0), vec![0.99, 0.0]);
    }
}
