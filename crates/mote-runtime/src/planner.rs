//! The memory planner: an offset in the arena for every tensor that lives there.
//!
//! The algorithm is greedy by size, as TensorFlow Lite Micro's:
//! 1. Each tensor's *lifetime* is the span of operators from the one that first
//!    touches it to the one that last reads it (graph inputs live from the first
//!    operator, graph outputs and variables until the last).
//! 2. Tensors are placed largest first (ties: lower index first).
//! 3. Each goes to the lowest 16-byte-aligned offset where it overlaps no
//!    already placed tensor whose lifetime overlaps its own.
//! 4. A tensor marked as an *alias* of another (a RESHAPE's output, which holds
//!    the same bytes as its input) is not placed itself: the interpreter has
//!    already merged its lifetime into its root's, and it gets the root's offset.
//!
//! The planner works in memory the caller owns: the lifetimes live in a scratch
//! slice and the results in the caller's offset table. [`overlaps`] is the
//! oracle that tests use to check a plan.

/// Alignment of every planned tensor, in bytes.
pub(crate) const ALIGN: usize = 16;

/// A tensor to place: its size and lifetime, and, once planned, its offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    /// Bytes needed (0 = not in the arena).
    pub size: usize,
    /// First operator that needs it.
    pub first: u32,
    /// Last operator that needs it.
    pub last: u32,
    /// The tensor whose bytes this one shares ([`UNPLACED`] for none); that
    /// tensor's own `alias` is [`UNPLACED`], its lifetime covers this one's.
    pub alias: u32,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            size: 0,
            first: 0,
            last: 0,
            alias: UNPLACED,
        }
    }
}

impl Request {
    /// Whether this request takes bytes of its own.
    fn placed(&self) -> bool {
        self.size > 0 && self.alias == UNPLACED
    }
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
/// `offsets` (same indices); aliases get their root's offset. Returns the
/// bytes the plan needs (the end of the highest placed tensor), or `None` if
/// it overflows `u32` or an alias names a missing or aliased root.
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
            if r.placed() && *o == UNPLACED && pick.is_none_or(|(_, size)| r.size > size) {
                pick = Some((i, r.size));
            }
        }
        let Some((index, size)) = pick else { break };
        let request = requests.get(index)?;
        let mut offset = 0usize;
        // Move past every conflicting placed tensor until none overlaps.
        'search: loop {
            for (other, o) in requests.iter().zip(offsets.iter()) {
                if *o == UNPLACED || !other.placed() || !live_together(request, other) {
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
    for index in 0..requests.len() {
        let alias = requests.get(index)?.alias;
        if alias != UNPLACED && requests.get(index)?.size > 0 {
            let root = requests.get(alias as usize)?;
            if root.alias != UNPLACED {
                return None;
            }
            *offsets.get_mut(index)? = *offsets.get(alias as usize)?;
        }
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
            // An alias shares its root's bytes on purpose.
            let root = |k: usize, r: &Request| {
                if r.alias == UNPLACED {
                    k
                } else {
                    r.alias as usize
                }
            };
            if root(i, a) == root(j, b) {
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
        Request {
            size,
            first,
            last,
            alias: UNPLACED,
        }
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
    fn an_alias_takes_no_bytes_of_its_own() {
        // t0 (op 0..1) -> reshape (op 1) -> t1 aliases t0, read by op 2; the
        // root's lifetime covers 0..2. t2 (op 2) must not overlap them.
        let mut alias = req(64, 1, 2);
        alias.alias = 0;
        let requests = [req(64, 0, 2), alias, req(32, 2, 2)];
        let mut offsets = [0; 3];
        let peak = plan(&requests, &mut offsets).unwrap();
        assert_eq!(offsets[1], offsets[0]);
        assert_eq!(overlaps(&requests, &offsets), None);
        assert_eq!(peak, 64 + 32);
        // An alias of an alias is refused.
        let mut chained = req(64, 2, 2);
        chained.alias = 1;
        assert_eq!(
            plan(&[requests[0], requests[1], chained], &mut offsets),
            None
        );
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
        let mut word = crate::testing::xorshift(0x2545_f491_4f6c_dd1d);
        let mut next = |n: u64| word() % n;
        for _ in 0..500 {
            let count = 1 + next(40) as usize;
            let ops = 1 + next(30) as u32;
            let mut requests: Vec<Request> = (0..count)
                .map(|_| {
                    let first = next(u64::from(ops)) as u32;
                    let last = first + next(u64::from(ops - first)) as u32;
                    req(next(5000) as usize, first, last)
                })
                .collect();
            // Some tensors alias an earlier root (as a RESHAPE output does):
            // same size, lifetime merged into the root's.
            for i in 1..count {
                if next(4) == 0 {
                    let root = next(i as u64) as usize;
                    if requests[root].alias == UNPLACED {
                        requests[i].size = requests[root].size;
                        requests[i].alias = root as u32;
                        let (first, last) = (requests[i].first, requests[i].last);
                        requests[root].first = requests[root].first.min(first);
                        requests[root].last = requests[root].last.max(last);
                    }
                }
            }
            let mut offsets = vec![0; count];
            let peak = plan(&requests, &mut offsets).unwrap();
            assert_eq!(
                overlaps(&requests, &offsets),
                None,
                "{requests:?} -> {offsets:?}"
            );
            for (r, o) in requests.iter().zip(&offsets) {
                if r.alias != UNPLACED && r.size > 0 {
                    assert_eq!(*o, offsets[r.alias as usize], "an alias sits on its root");
                }
            }
            let live_max = (0..ops)
                .map(|op| {
                    requests
                        .iter()
                        .filter(|r| r.placed() && r.first <= op && op <= r.last)
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
