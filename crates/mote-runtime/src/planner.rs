//! The memory planner: an offset in the arena for every tensor that lives there.
//!
//! The algorithm is greedy by size, as TensorFlow Lite Micro's:
//! 1. Each tensor's *lifetime* is the span of operators from the one that first
//!    touches it to the one that last reads it (graph inputs live from the first
//!    operator, graph outputs and variables until the last).
//! 2. Tensors are placed largest first (ties: lower index first).
//! 3. Each goes to the lowest 16-byte-aligned offset where it overlaps no
//!    already placed tensor whose lifetime overlaps its own.
//!
//! The planner works in memory the caller owns: the lifetimes live in a scratch
//! slice and the results in the caller's offset table. [`overlaps`] is the
//! oracle that tests use to check a plan.

/// Alignment of every planned tensor, in bytes.
pub(crate) const ALIGN: usize = 16;

/// A tensor to place: its size and lifetime, and, once planned, its offset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Request {
    /// Bytes needed (0 = not in the arena).
    pub size: usize,
    /// First operator that needs it.
    pub first: u32,
    /// Last operator that needs it.
    pub last: u32,
}

/// Marks a tensor not yet placed (or not in the arena) in an offset table.
pub(crate) const UNPLACED: u32 = u32::MAX;

/// Rounds `n` up to [`ALIGN`].
pub(crate) fn align_up(n: usize) -> Option<usize> {
    n.checked_add(ALIGN - 1).map(|v| v & !(ALIGN - 1))
}

/// Whether two lifetimes share an operator.
fn live_together(a: &Request, b: &Request) -> bool {
    a.first <= b.last && b.first <= a.last
}

/// Places every request with a non-zero size, writing its offset into
/// `offsets` (same indices). Returns the bytes the plan needs (the end of the
/// highest placed tensor), or `None` if it overflows `u32`.
pub(crate) fn plan(requests: &[Request], offsets: &mut [u32]) -> Option<usize> {
    for slot in offsets.iter_mut() {
        *slot = UNPLACED;
    }
    let mut peak = 0usize;
    // Pick the largest unplaced request each round: O(n^2) picks and checks,
    // with no memory beyond `offsets`.
    loop {
        let mut pick: Option<(usize, usize)> = None;
        for (i, (r, o)) in requests.iter().zip(offsets.iter()).enumerate() {
            if r.size > 0 && *o == UNPLACED && pick.is_none_or(|(_, size)| r.size > size) {
                pick = Some((i, r.size));
            }
        }
        let Some((index, size)) = pick else { break };
        let request = requests.get(index)?;
        let mut offset = 0usize;
        // Move past every conflicting placed tensor until none overlaps.
        'search: loop {
            for (other, o) in requests.iter().zip(offsets.iter()) {
                if *o == UNPLACED || !live_together(request, other) {
                    continue;
                }
                let start = *o as usize;
                let end = start.saturating_add(other.size);
                if offset < end && start < offset.saturating_add(size) {
                    offset = align_up(end)?;
                    continue 'search;
                }
            }
            break;
        }
        let end = offset.checked_add(size)?;
        *offsets.get_mut(index)? = u32::try_from(offset).ok()?;
        peak = peak.max(end);
    }
    Some(peak)
}

/// The test oracle: the first pair of tensors that are live together and share bytes.
#[cfg(test)]
pub(crate) fn overlaps(requests: &[Request], offsets: &[u32]) -> Option<(usize, usize)> {
    for (i, a) in requests.iter().enumerate() {
        for (j, b) in requests.iter().enumerate().skip(i + 1) {
            if a.size == 0 || b.size == 0 || !live_together(a, b) {
                continue;
            }
            let (sa, sb) = (offsets[i] as usize, offsets[j] as usize);
            if sa < sb + b.size && sb < sa + a.size {
                return Some((i, j));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(size: usize, first: u32, last: u32) -> Request {
        Request { size, first, last }
    }

    #[test]
    fn a_chain_reuses_memory() {
        // t0 -> op0 -> t1 -> op1 -> t2 -> op2 -> t3: t0 and t2 can share bytes.
        let requests = [req(100, 0, 0), req(50, 0, 1), req(100, 1, 2), req(10, 2, 2)];
        let mut offsets = [0; 4];
        let peak = plan(&requests, &mut offsets).unwrap();
        assert_eq!(overlaps(&requests, &offsets), None);
        assert_eq!(offsets[0], offsets[2], "t0 is dead when t2 is born");
        // 100 (t0/t2) + 50 aligned to 112 + ... = 112 + 50 = 162 at most.
        assert!(peak <= 112 + 50, "peak {peak}");
    }

    #[test]
    fn zero_sized_requests_are_not_placed() {
        let requests = [req(0, 0, 0), req(8, 0, 0)];
        let mut offsets = [0; 2];
        assert_eq!(plan(&requests, &mut offsets), Some(8));
        assert_eq!(offsets, [UNPLACED, 0]);
    }

    #[test]
    fn random_lifetimes_never_overlap() {
        // A small xorshift keeps the test dependency-free and repeatable.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for _ in 0..500 {
            let count = 1 + next(40) as usize;
            let ops = 1 + next(30) as u32;
            let requests: Vec<Request> = (0..count)
                .map(|_| {
                    let first = next(u64::from(ops)) as u32;
                    let last = first + next(u64::from(ops - first)) as u32;
                    req(next(5000) as usize, first, last)
                })
                .collect();
            let mut offsets = vec![0; count];
            let peak = plan(&requests, &mut offsets).unwrap();
            assert_eq!(
                overlaps(&requests, &offsets),
                None,
                "{requests:?} -> {offsets:?}"
            );
            let live_max = (0..ops)
                .map(|op| {
                    requests
                        .iter()
                        .filter(|r| r.first <= op && op <= r.last)
                        .map(|r| r.size)
                        .sum::<usize>()
                })
                .max()
                .unwrap();
            assert!(
                peak >= live_max,
                "a plan cannot beat the live bytes at one operator"
            );
            for (r, o) in requests.iter().zip(&offsets) {
                if r.size > 0 {
                    assert_eq!(*o as usize % ALIGN, 0);
                    assert!(*o as usize + r.size <= peak);
                }
            }
        }
    }
}
