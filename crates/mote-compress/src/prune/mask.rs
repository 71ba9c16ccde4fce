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

/// Masks (`true` = kept) that zero `round(sparsity * n)` of the smallest
/// weights: of each tensor, or of all `n` weights together. Ties break by
/// position, so the masks are deterministic.
pub fn magnitude_masks(tensors: &[&[f32]], sparsity: f32, scope: Scope) -> Vec<Vec<bool>> {
    let sparsity = sparsity.clamp(0.0, 1.0);
    let mut masks: Vec<Vec<bool>> = tensors.iter().map(|t| vec![true; t.len()]).collect();
    let groups: Vec<Vec<(usize, usize)>> = match scope {
        Scope::PerLayer => tensors
            .iter()
            .enumerate()
            .map(|(t, w)| (0..w.len()).map(|i| (t, i)).collect())
            .collect(),
        Scope::Global => vec![tensors
            .iter()
            .enumerate()
            .flat_map(|(t, w)| (0..w.len()).map(move |i| (t, i)))
            .collect()],
    };
    for mut group in groups {
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
    }
    masks
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
}
