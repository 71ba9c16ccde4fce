//! Matrix products on the host through the `matrixmultiply` crate (single
//! thread), behind one safe, bounds-checked function.

/// `c = a' * b' + (if accumulate { c } else { 0 })` where `a'` is `a` stored
/// row-major as `[m, k]` (or `[k, m]` when `transpose_a`), `b'` is `b` stored as
/// `[k, n]` (or `[n, k]` when `transpose_b`), and `c` is `[m, n]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul(
    a: &[f32],
    transpose_a: bool,
    b: &[f32],
    transpose_b: bool,
    c: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    assert!(
        a.len() >= m * k,
        "matmul: a has {} values, needs {}",
        a.len(),
        m * k
    );
    assert!(
        b.len() >= k * n,
        "matmul: b has {} values, needs {}",
        b.len(),
        k * n
    );
    assert!(
        c.len() >= m * n,
        "matmul: c has {} values, needs {}",
        c.len(),
        m * n
    );
    if m == 0 || n == 0 {
        return;
    }
    let beta = if accumulate { 1.0 } else { 0.0 };
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    let (rsa, csa) = if transpose_a { (1, m) } else { (k, 1) };
    let (rsb, csb) = if transpose_b { (1, k) } else { (n, 1) };
    // SAFETY: the asserts above show every element addressed by the strides
    // lies inside `a`, `b` and `c`: the largest offset of `a` is
    // (m-1)*rsa + (k-1)*csa = m*k - 1 in both layouts, likewise for `b` and `c`;
    // `c` is a unique borrow so it aliases neither input.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_transpositions() {
        // A = [[1,2,3],[4,5,6]] (2x3), B = [[1,0],[0,1],[1,1]] (3x2)
        // A*B = [[1+3, 2+3],[4+6, 5+6]] = [[4,5],[10,11]]
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let a_t = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let b_t = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0];
        let want = [4.0, 5.0, 10.0, 11.0];
        for (a, ta) in [(&a, false), (&a_t, true)] {
            for (b, tb) in [(&b, false), (&b_t, true)] {
                let mut c = [0.0; 4];
                matmul(a, ta, b, tb, &mut c, 2, 3, 2, false);
                assert_eq!(c, want, "ta={ta} tb={tb}");
            }
        }
        // accumulate: c = 1 + A*B
        let mut c = [1.0; 4];
        matmul(&a, false, &b, false, &mut c, 2, 3, 2, true);
        assert_eq!(c, [5.0, 6.0, 11.0, 12.0]);
    }
}
