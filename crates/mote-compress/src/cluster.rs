//! Weight clustering of an int8 model: each FULLY_CONNECTED, CONV_2D and
//! DEPTHWISE_CONV_2D filter's values are replaced, per quantization channel,
//! by the nearest of at most `K` int8 centroids, so that a look-up table and
//! `ceil(log2 K)`-bit indices can store them ([`Sizes::lut`], the layout of
//! TensorFlow Lite Micro's LUT compression: one table per channel, all tables
//! the same length, indices packed without padding).
//!
//! The centroids are the optimal 1-D k-means of the channel's values, solved
//! exactly by dynamic programming over their histogram (the clusters of an
//! optimal 1-D k-means are runs of consecutive values); each centroid is the
//! integer nearest its cluster's mean and the cost is computed with it. When a
//! channel has zeros (a pruned filter), 0 is kept as a centroid of its own, so
//! pruned weights stay exactly zero. A channel with at most `K` distinct values
//! is unchanged.

use mote_runtime::{BuiltinOperator, TensorType};
use mote_train::tflite::ModelDef;

/// Largest number of centroids (TensorFlow Lite Micro's LUT indices are at
/// most 7 bits; this command keeps to 4-bit indices at most).
pub const MAX_CLUSTERS: usize = 16;

/// Why a model cannot be clustered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterError {
    /// `K` outside `2..=MAX_CLUSTERS`.
    BadClusterCount(usize),
    /// The model has no int8 FULLY_CONNECTED, CONV_2D or DEPTHWISE_CONV_2D filter.
    NoInt8Filter,
    /// Filter tensor `tensor` is malformed (data length, quantization axis).
    BadFilter {
        /// The tensor index.
        tensor: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadClusterCount(k) => {
                write!(f, "--clusters must be 2..={MAX_CLUSTERS}, got {k}")
            }
            Self::NoInt8Filter => write!(
                f,
                "no int8 FULLY_CONNECTED, CONV_2D or DEPTHWISE_CONV_2D filter (cluster an int8 model from `mote quantize`)"
            ),
            Self::BadFilter { tensor, reason } => write!(f, "filter tensor {tensor}: {reason}"),
        }
    }
}

impl std::error::Error for ClusterError {}

/// Storage of one filter tensor under three encodings, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Dense int8: one byte a value.
    pub dense: usize,
    /// LUT: `bits`-bit indices packed over the whole tensor plus one int8
    /// table of `table` values per channel.
    pub lut: usize,
    /// Bitmask of nonzeros (one bit a value) plus the nonzero int8 values.
    pub bitmask: usize,
    /// Bitmask of nonzeros plus `bits`-bit LUT indices of the nonzeros only,
    /// plus the tables (sparsity and clustering together).
    pub bitmask_lut: usize,
    /// Index bit width of the LUT encoding.
    pub bits: u32,
    /// Table length per channel of the LUT encoding (the largest channel's).
    pub table: usize,
}

/// One clustered filter.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusteredFilter {
    /// Its tensor index.
    pub tensor: usize,
    /// Its name.
    pub name: String,
    /// Number of quantization channels (tables).
    pub channels: usize,
    /// Its sizes after clustering.
    pub sizes: Sizes,
}

/// The optimal `k`-means of the values with histogram `counts` (index
/// `v + 128` for value `v`), as int8 centroids in increasing order, each the
/// integer nearest its cluster's mean; fewer if fewer values occur.
pub fn centroids(counts: &[u64; 256], k: usize) -> Vec<i8> {
    let values: Vec<(i64, u64)> = (0..256)
        .filter(|&i| counts[i] > 0)
        .map(|i| (i as i64 - 128, counts[i]))
        .collect();
    let n = values.len();
    if n <= k {
        return values.iter().map(|&(v, _)| v as i8).collect();
    }
    // Prefix sums of count, count*v, count*v^2 over the distinct values.
    let mut c = vec![0i128; n + 1];
    let mut s1 = vec![0i128; n + 1];
    let mut s2 = vec![0i128; n + 1];
    for (i, &(v, w)) in values.iter().enumerate() {
        let (v, w) = (i128::from(v), i128::from(w));
        c[i + 1] = c[i] + w;
        s1[i + 1] = s1[i] + w * v;
        s2[i + 1] = s2[i] + w * v * v;
    }
    // The cluster of values a..b (exclusive): its integer centroid and cost
    // sum w (v - m)^2 = S2 - 2 m S1 + m^2 N.
    let segment = |a: usize, b: usize| -> (i128, i128) {
        let (cn, c1, c2) = (c[b] - c[a], s1[b] - s1[a], s2[b] - s2[a]);
        // Nearest integer to c1 / cn, halves away from zero.
        let m = if c1 >= 0 {
            (2 * c1 + cn) / (2 * cn)
        } else {
            -((-2 * c1 + cn) / (2 * cn))
        };
        (m, c2 - 2 * m * c1 + m * m * cn)
    };
    // cost[j][b]: best cost of values 0..b in j + 1 clusters; from[j][b]: start of the last.
    let mut cost = vec![vec![i128::MAX; n + 1]; k];
    let mut from = vec![vec![0usize; n + 1]; k];
    for (b, c) in cost[0].iter_mut().enumerate().skip(1) {
        *c = segment(0, b).1;
    }
    for j in 1..k {
        for b in (j + 1)..=n {
            for a in j..b {
                let prev = cost[j - 1][a];
                if prev == i128::MAX {
                    continue;
                }
                let total = prev + segment(a, b).1;
                if total < cost[j][b] {
                    cost[j][b] = total;
                    from[j][b] = a;
                }
            }
        }
    }
    let mut out = Vec::with_capacity(k);
    let mut b = n;
    for j in (0..k).rev() {
        let a = if j == 0 { 0 } else { from[j][b] };
        out.push(segment(a, b).0 as i8);
        b = a;
    }
    out.reverse();
    out.dedup();
    out
}

/// The centroids of one channel's values: [`centroids`] of its nonzero
/// values into `k - 1` clusters plus 0 when it has zeros, else of all into `k`.
pub fn channel_centroids(values: &[i8], k: usize) -> Vec<i8> {
    let mut counts = [0u64; 256];
    for &v in values {
        counts[(i16::from(v) + 128) as usize] += 1;
    }
    let zeros = counts[128];
    if zeros == 0 {
        return centroids(&counts, k);
    }
    counts[128] = 0;
    let mut out = centroids(&counts, k - 1);
    out.push(0);
    out.sort_unstable();
    out.dedup();
    out
}

/// The centroid nearest `v` (the lower of two at the same distance).
pub fn nearest(table: &[i8], v: i8) -> i8 {
    table
        .iter()
        .copied()
        .min_by_key(|&c| ((i16::from(c) - i16::from(v)).abs(), c))
        .unwrap_or(v)
}

/// Index bits for a table of `len` values (at least 1, as TFLM's LUT).
pub fn index_bits(len: usize) -> u32 {
    (usize::BITS - len.saturating_sub(1).leading_zeros()).max(1)
}

/// Clusters every int8 filter of FULLY_CONNECTED, CONV_2D and
/// DEPTHWISE_CONV_2D in `model` to at most `k` values per quantization
/// channel, in place, and returns what each filter costs afterwards.
///
/// ```no_run
/// use mote_compress::cluster::cluster;
/// use mote_train::tflite::ModelDef;
/// let bytes = std::fs::read("model_int8.tflite")?;
/// let mut def = ModelDef::from_model(&mote_runtime::Model::parse(&bytes)?)?;
/// let filters = cluster(&mut def, 16)?;
/// std::fs::write("model_c16.tflite", def.to_bytes()?)?;
/// let lut = mote_compress::lut::compress(&def, &filters)?;
/// std::fs::write("model_c16_lut.tflite", lut.to_bytes()?)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn cluster(model: &mut ModelDef, k: usize) -> Result<Vec<ClusteredFilter>, ClusterError> {
    if !(2..=MAX_CLUSTERS).contains(&k) {
        return Err(ClusterError::BadClusterCount(k));
    }
    let mut filters: Vec<usize> = model
        .operators
        .iter()
        .filter(|op| {
            [
                BuiltinOperator::FULLY_CONNECTED,
                BuiltinOperator::CONV_2D,
                BuiltinOperator::DEPTHWISE_CONV_2D,
            ]
            .contains(&op.op)
        })
        .filter_map(|op| usize::try_from(*op.inputs.get(1)?).ok())
        .filter(|&t| {
            model
                .tensors
                .get(t)
                .is_some_and(|t| t.dtype == TensorType::Int8 && t.data.is_some())
        })
        .collect();
    filters.sort_unstable();
    filters.dedup();
    if filters.is_empty() {
        return Err(ClusterError::NoInt8Filter);
    }
    filters
        .into_iter()
        .map(|t| cluster_tensor(model, t, k))
        .collect()
}

fn cluster_tensor(
    model: &mut ModelDef,
    index: usize,
    k: usize,
) -> Result<ClusteredFilter, ClusterError> {
    let bad = |reason| ClusterError::BadFilter {
        tensor: index,
        reason,
    };
    let tensor = &mut model.tensors[index];
    let shape: Vec<usize> = tensor
        .shape
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| bad("negative dimension")))
        .collect::<Result<_, _>>()?;
    let elements: usize = shape.iter().product();
    let data = tensor.data.as_mut().ok_or(bad("not constant"))?;
    if data.len() != elements {
        return Err(bad("data is not one byte a value"));
    }
    let scales = tensor.quantization.as_ref().map_or(0, |q| q.scale.len());
    let (channels, axis) = if scales > 1 {
        let axis = tensor
            .quantization
            .as_ref()
            .map_or(0, |q| q.quantized_dimension);
        let axis = usize::try_from(axis)
            .ok()
            .filter(|&a| a < shape.len() && shape[a] == scales)
            .ok_or(bad("quantized_dimension does not match the scales"))?;
        (scales, axis)
    } else {
        (1, 0)
    };
    // Element i's channel: (i / inner) % channels, inner = product of dims after the axis.
    let inner: usize = if channels > 1 {
        shape[axis + 1..].iter().product()
    } else {
        elements.max(1)
    };
    let channel_of = |i: usize| {
        if channels > 1 {
            (i / inner) % channels
        } else {
            0
        }
    };
    let mut per_channel: Vec<Vec<i8>> = vec![Vec::new(); channels];
    for (i, &b) in data.iter().enumerate() {
        per_channel[channel_of(i)].push(b as i8);
    }
    let tables: Vec<Vec<i8>> = per_channel
        .iter()
        .map(|v| channel_centroids(v, k))
        .collect();
    for (i, b) in data.iter_mut().enumerate() {
        *b = nearest(&tables[channel_of(i)], *b as i8) as u8;
    }
    let table = tables.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let bits = index_bits(table);
    let nonzero = data.iter().filter(|&&b| b != 0).count();
    let sizes = Sizes {
        dense: elements,
        lut: (elements * bits as usize).div_ceil(8) + channels * table,
        bitmask: elements.div_ceil(8) + nonzero,
        bitmask_lut: elements.div_ceil(8)
            + (nonzero * bits as usize).div_ceil(8)
            + channels * table,
        bits,
        table,
    };
    Ok(ClusteredFilter {
        tensor: index,
        name: tensor.name.clone(),
        channels,
        sizes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(values: &[i8]) -> [u64; 256] {
        let mut counts = [0u64; 256];
        for &v in values {
            counts[(i16::from(v) + 128) as usize] += 1;
        }
        counts
    }

    /// The cost of the best assignment of `values` to `table`.
    fn cost(values: &[i8], table: &[i8]) -> i64 {
        values
            .iter()
            .map(|&v| (i64::from(nearest(table, v)) - i64::from(v)).pow(2))
            .sum()
    }

    #[test]
    fn two_obvious_clusters() {
        // {-10, -9, -8} -> mean -9; {20, 21, 22, 23} -> mean 21.5, rounds to 22.
        let values = [-10, -9, -8, 20, 21, 22, 23];
        assert_eq!(centroids(&histogram(&values), 2), vec![-9, 22]);
    }

    #[test]
    fn few_values_stay_as_they_are() {
        let values = [3, 3, -7, 100];
        assert_eq!(centroids(&histogram(&values), 4), vec![-7, 3, 100]);
        assert_eq!(channel_centroids(&values, 16), vec![-7, 3, 100]);
    }

    #[test]
    fn dynamic_programming_beats_every_split_into_runs() {
        // Brute force over all ways to cut 9 distinct values into 3 runs.
        let values: Vec<i8> = vec![-50, -49, -30, -2, 0, 1, 7, 40, 41, 41, 41, 90];
        let distinct: Vec<i8> = {
            let mut d = values.clone();
            d.sort_unstable();
            d.dedup();
            d
        };
        let got = cost(&values, &centroids(&histogram(&values), 3));
        let mut best = i64::MAX;
        for a in 1..distinct.len() {
            for b in a + 1..distinct.len() {
                let runs = [&distinct[..a], &distinct[a..b], &distinct[b..]];
                // Each run's best integer centroid, by trying all of them.
                let table: Vec<i8> = runs
                    .iter()
                    .map(|run| {
                        (-128..=127i16)
                            .map(|m| m as i8)
                            .min_by_key(|&m| {
                                let r: Vec<i8> =
                                    values.iter().copied().filter(|v| run.contains(v)).collect();
                                r.iter()
                                    .map(|&v| (i64::from(v) - i64::from(m)).pow(2))
                                    .sum::<i64>()
                            })
                            .unwrap()
                    })
                    .collect();
                best = best.min(cost(&values, &table));
            }
        }
        assert_eq!(got, best);
    }

    #[test]
    fn zeros_stay_zero() {
        // Many zeros and values near zero: 0 keeps its own centroid.
        let values = [0, 0, 0, 0, 1, 2, -1, 60, 61, -70];
        let table = channel_centroids(&values, 3);
        assert!(table.contains(&0));
        assert_eq!(table.len(), 3);
        assert_eq!(nearest(&table, 0), 0);
    }

    #[test]
    fn index_bits_hold_the_table() {
        assert_eq!(
            [1, 2, 3, 4, 5, 8, 9, 16].map(index_bits),
            [1, 1, 2, 2, 3, 3, 4, 4]
        );
    }
}
