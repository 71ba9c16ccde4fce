//! NumPy-style broadcasting of two inputs to one output, up to
//! [`MAX_BROADCAST_RANK`] dimensions (TensorFlow Lite's `BroadcastBinaryOpSimple`
//! extends every shape to six).

use crate::model::Shape;

/// The highest rank the binary elementwise ops broadcast.
pub const MAX_BROADCAST_RANK: usize = 6;

/// How the two inputs' elements map onto the output's, computed in `prepare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct Broadcast {
    /// Output dimensions, left-padded with 1s.
    dims: [usize; MAX_BROADCAST_RANK],
    /// Element strides of input 1 per output axis (0 where it broadcasts).
    strides1: [usize; MAX_BROADCAST_RANK],
    /// Element strides of input 2 per output axis (0 where it broadcasts).
    strides2: [usize; MAX_BROADCAST_RANK],
    /// Output elements.
    elements: usize,
    /// Whether both inputs have the output's element count (no broadcasting).
    same: bool,
}

impl Broadcast {
    /// Rebuilds a broadcast from its fields (for code `mote-codegen` generates).
    #[doc(hidden)]
    pub const fn from_literal(
        dims: [usize; MAX_BROADCAST_RANK],
        strides1: [usize; MAX_BROADCAST_RANK],
        strides2: [usize; MAX_BROADCAST_RANK],
        elements: usize,
        same: bool,
    ) -> Self {
        Broadcast {
            dims,
            strides1,
            strides2,
            elements,
            same,
        }
    }
}

/// `shape` left-padded with 1s to [`MAX_BROADCAST_RANK`] dimensions.
fn extend(shape: &Shape) -> Option<[usize; MAX_BROADCAST_RANK]> {
    let dims = shape.dims();
    let pad = MAX_BROADCAST_RANK.checked_sub(dims.len())?;
    let mut out = [1usize; MAX_BROADCAST_RANK];
    out.get_mut(pad..)?.copy_from_slice(dims);
    Some(out)
}

/// Row-major element strides of `dims`, 0 on axes of size 1 that broadcast.
fn strides(dims: &[usize; MAX_BROADCAST_RANK], out: &[usize; MAX_BROADCAST_RANK]) -> [usize; 6] {
    let mut strides = [0usize; MAX_BROADCAST_RANK];
    let mut step = 1usize;
    for ((s, &d), &o) in strides.iter_mut().zip(dims).zip(out).rev() {
        *s = if d == 1 && o != 1 { 0 } else { step };
        step = step.saturating_mul(d);
    }
    strides
}

impl Broadcast {
    /// The mapping of `input1` and `input2` onto `output`; `None` if a shape
    /// has more than [`MAX_BROADCAST_RANK`] dimensions or the output is not the
    /// broadcast of the inputs (each input dimension must be the output's or 1).
    pub fn new(input1: &Shape, input2: &Shape, output: &Shape) -> Option<Self> {
        let (a, b, o) = (extend(input1)?, extend(input2)?, extend(output)?);
        let rank = input1.rank().max(input2.rank());
        if output.rank() != rank {
            return None;
        }
        for ((&x, &y), &z) in a.iter().zip(&b).zip(&o) {
            let expected = if x == 1 { y } else { x };
            if (x != 1 && y != 1 && x != y) || z != expected {
                return None;
            }
        }
        let elements = output.elements();
        Some(Broadcast {
            dims: o,
            strides1: strides(&a, &o),
            strides2: strides(&b, &o),
            elements,
            same: input1.elements() == elements && input2.elements() == elements,
        })
    }

    /// Output elements.
    pub fn elements(&self) -> usize {
        self.elements
    }

    /// Whether both inputs have the output's element count (no
    /// broadcasting: element `i` of each input makes output `i`).
    pub fn same(&self) -> bool {
        self.same
    }

    /// Calls `f(output_index, input1_index, input2_index)` for every output
    /// element, in order.
    #[inline]
    pub fn for_each(&self, mut f: impl FnMut(usize, usize, usize)) {
        if self.same {
            for i in 0..self.elements {
                f(i, i, i);
            }
            return;
        }
        let mut index = [0usize; MAX_BROADCAST_RANK];
        let (mut a, mut b) = (0usize, 0usize);
        for o in 0..self.elements {
            f(o, a, b);
            let axes = index
                .iter_mut()
                .zip(&self.dims)
                .zip(self.strides1.iter().zip(&self.strides2))
                .rev();
            for ((i, &d), (&s1, &s2)) in axes {
                *i += 1;
                a = a.wrapping_add(s1);
                b = b.wrapping_add(s2);
                if *i < d {
                    break;
                }
                *i = 0;
                a = a.wrapping_sub(s1.wrapping_mul(d));
                b = b.wrapping_sub(s2.wrapping_mul(d));
            }
        }
    }

    /// Writes `f(x, y)` for every output element, `x` and `y` the broadcast
    /// elements of `input1` and `input2`.
    #[inline]
    pub fn map<T: super::values::Value, U: super::values::Value>(
        &self,
        input1: &[u8],
        input2: &[u8],
        output: &mut [u8],
        mut f: impl FnMut(T, T) -> U,
    ) {
        use super::values::get;
        let mut out = output.chunks_exact_mut(U::SIZE);
        self.for_each(|_, i, j| {
            if let Some(y) = out.next() {
                f(get(input1, i), get(input2, j)).write(y);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(d: &[usize]) -> Shape {
        Shape::new(d).unwrap()
    }

    fn indices(b: &Broadcast) -> Vec<(usize, usize)> {
        let mut v = vec![];
        b.for_each(|_, i, j| v.push((i, j)));
        v
    }

    #[test]
    fn row_plus_column() {
        // [2,1] + [3] -> [2,3]: x[i] pairs with y[j]
        let b = Broadcast::new(&shape(&[2, 1]), &shape(&[3]), &shape(&[2, 3])).unwrap();
        assert_eq!(
            indices(&b),
            [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
        );
    }

    #[test]
    fn scalar_and_same_shapes() {
        let b = Broadcast::new(&shape(&[]), &shape(&[2, 2]), &shape(&[2, 2])).unwrap();
        assert_eq!(indices(&b), [(0, 0), (0, 1), (0, 2), (0, 3)]);
        let b = Broadcast::new(&shape(&[3]), &shape(&[3]), &shape(&[3])).unwrap();
        assert_eq!(indices(&b), [(0, 0), (1, 1), (2, 2)]);
    }

    #[test]
    fn rejects_mismatches() {
        assert!(Broadcast::new(&shape(&[2]), &shape(&[3]), &shape(&[3])).is_none());
        assert!(Broadcast::new(&shape(&[2, 1]), &shape(&[3]), &shape(&[3, 2])).is_none());
        assert!(
            Broadcast::new(&shape(&[1, 1, 1, 1, 1, 1, 2]), &shape(&[2]), &shape(&[2])).is_none()
        );
    }
}
