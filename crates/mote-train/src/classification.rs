//! Classification reports: confusion matrix, per-class precision and recall,
//! and the area under the ROC curve (for anomaly scores).

/// Counts of (true class, predicted class) pairs.
///
/// ```
/// use mote_train::classification::ConfusionMatrix;
/// let m = ConfusionMatrix::new(2, &[0, 0, 1, 1], &[0, 1, 1, 1]);
/// assert_eq!(m.count(0, 1), 1);          // one 0 taken for a 1
/// assert_eq!(m.precision(1), Some(2.0 / 3.0));
/// assert_eq!(m.recall(0), Some(0.5));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    /// Row-major `[true][predicted]`.
    counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// The matrix of `classes` classes from pairs of true and predicted labels
    /// (labels at or above `classes` are counted in the last class).
    pub fn new(classes: usize, truth: &[usize], predicted: &[usize]) -> Self {
        let classes = classes.max(1);
        let mut counts = vec![0; classes * classes];
        for (&t, &p) in truth.iter().zip(predicted) {
            counts[t.min(classes - 1) * classes + p.min(classes - 1)] += 1;
        }
        ConfusionMatrix { classes, counts }
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Samples of class `truth` predicted as `predicted`.
    pub fn count(&self, truth: usize, predicted: usize) -> usize {
        self.counts[truth * self.classes + predicted]
    }

    /// One row per true class.
    pub fn rows(&self) -> impl Iterator<Item = &[usize]> {
        self.counts.chunks_exact(self.classes)
    }

    /// Fraction of all samples on the diagonal.
    pub fn accuracy(&self) -> f32 {
        let total: usize = self.counts.iter().sum();
        let right: usize = (0..self.classes).map(|c| self.count(c, c)).sum();
        right as f32 / total.max(1) as f32
    }

    /// Of the samples predicted `class`, the fraction that are; `None` if none was.
    pub fn precision(&self, class: usize) -> Option<f32> {
        let predicted: usize = (0..self.classes).map(|t| self.count(t, class)).sum();
        (predicted > 0).then(|| self.count(class, class) as f32 / predicted as f32)
    }

    /// Of the samples of `class`, the fraction predicted so; `None` if there are none.
    pub fn recall(&self, class: usize) -> Option<f32> {
        let actual: usize = (0..self.classes).map(|p| self.count(class, p)).sum();
        (actual > 0).then(|| self.count(class, class) as f32 / actual as f32)
    }

    /// Samples of `class`.
    pub fn support(&self, class: usize) -> usize {
        (0..self.classes).map(|p| self.count(class, p)).sum()
    }
}

/// Area under the ROC curve of `scores` for binary `labels` (true = positive):
/// the probability that a random positive scores above a random negative,
/// ties counting one half (the Mann-Whitney statistic). `None` unless both
/// classes occur.
///
/// ```
/// use mote_train::classification::roc_auc;
/// // positives 0.8, 0.4; negatives 0.5, 0.1: pairs won 1 + 1 + 0 + 1 of 4
/// assert_eq!(roc_auc(&[0.8, 0.4, 0.5, 0.1], &[true, true, false, false]), Some(0.75));
/// ```
pub fn roc_auc(scores: &[f32], labels: &[bool]) -> Option<f32> {
    let mut pairs: Vec<(f32, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives = pairs.iter().filter(|p| p.1).count();
    let negatives = pairs.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    // Sum of the (tie-averaged, 1-based) ranks of the positives.
    let mut rank_sum = 0.0f64;
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            j += 1;
        }
        let average_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += average_rank * pairs[i..j].iter().filter(|p| p.1).count() as f64;
        i = j;
    }
    let (p, n) = (positives as f64, negatives as f64);
    Some(((rank_sum - p * (p + 1.0) / 2.0) / (p * n)) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_counts_and_rates() {
        // truth 0 0 0 1 1 2, predicted 0 0 1 1 2 2
        let m = ConfusionMatrix::new(3, &[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2]);
        let rows: Vec<&[usize]> = m.rows().collect();
        assert_eq!(rows, [&[2, 1, 0][..], &[0, 1, 1], &[0, 0, 1]]);
        assert_eq!(m.accuracy(), 4.0 / 6.0);
        // class 1: predicted twice, right once; present twice, found once
        assert_eq!(m.precision(1), Some(0.5));
        assert_eq!(m.recall(1), Some(0.5));
        assert_eq!(m.recall(0), Some(2.0 / 3.0));
        assert_eq!(m.support(2), 1);
        let empty = ConfusionMatrix::new(2, &[0], &[0]);
        assert_eq!((empty.precision(1), empty.recall(1)), (None, None));
    }

    #[test]
    fn auc_extremes_and_ties() {
        assert_eq!(roc_auc(&[0.9, 0.8, 0.1], &[true, true, false]), Some(1.0));
        assert_eq!(roc_auc(&[0.1, 0.8, 0.9], &[true, false, false]), Some(0.0));
        // all scores tied: every pair counts one half
        assert_eq!(roc_auc(&[0.5; 4], &[true, false, true, false]), Some(0.5));
        assert_eq!(roc_auc(&[0.5, 0.6], &[true, true]), None);
    }
}
