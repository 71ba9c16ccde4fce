//! The geometry of a 2-D sliding window (convolution or pooling) over NHWC
//! data, shared by every convolution and pooling layer; 1-D layers are the
//! same with height 1.

/// How a sliding window treats the borders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Padding {
    /// No padding: only windows that fit inside the input (Keras `"valid"`).
    #[default]
    Valid,
    /// Zero padding so that `out = ceil(in / stride)` (Keras `"same"`; the
    /// extra row or column goes after, as TensorFlow does).
    Same,
}

/// Sizes of one window pass: input `[h, w, c]`, window `[kh, kw]`, strides,
/// padding before, and output `[out_h, out_w]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub in_h: usize,
    pub in_w: usize,
    pub channels: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub out_h: usize,
    pub out_w: usize,
}

fn output_and_padding(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: Padding,
) -> Result<(usize, usize), String> {
    match padding {
        Padding::Valid => {
            if input < kernel {
                return Err(format!(
                    "window {kernel} is larger than the input {input} (padding valid)"
                ));
            }
            Ok(((input - kernel) / stride + 1, 0))
        }
        Padding::Same => {
            let out = input.div_ceil(stride);
            let total = ((out - 1) * stride + kernel).saturating_sub(input);
            Ok((out, total / 2))
        }
    }
}

impl Geometry {
    /// The geometry of a `kernel` window with `strides` over an `[h, w, c]` input.
    pub fn new(
        input: &[usize],
        kernel: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
    ) -> Result<Geometry, String> {
        let &[in_h, in_w, channels] = input else {
            return Err(format!(
                "needs a per-sample input [height, width, channels], got {input:?}"
            ));
        };
        if kernel.contains(&0) || strides.contains(&0) || input.contains(&0) {
            return Err(format!(
                "sizes must be > 0 (kernel {kernel:?}, strides {strides:?}, input {input:?})"
            ));
        }
        let (out_h, pad_top) = output_and_padding(in_h, kernel[0], strides[0], padding)?;
        let (out_w, pad_left) = output_and_padding(in_w, kernel[1], strides[1], padding)?;
        Ok(Geometry {
            in_h,
            in_w,
            channels,
            kernel_h: kernel[0],
            kernel_w: kernel[1],
            stride_h: strides[0],
            stride_w: strides[1],
            pad_top,
            pad_left,
            out_h,
            out_w,
        })
    }

    /// Input row and column read by output `(oy, ox)` at window offset
    /// `(ky, kx)`, or `None` in the padding.
    #[inline]
    pub fn source(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let iy = (oy * self.stride_h + ky).checked_sub(self.pad_top)?;
        let ix = (ox * self.stride_w + kx).checked_sub(self.pad_left)?;
        (iy < self.in_h && ix < self.in_w).then_some((iy, ix))
    }

    /// For window column `kx`, the output columns `lo..hi` whose input column
    /// `ox * stride_w + kx - pad_left` lies inside the input.
    #[inline]
    pub fn valid_columns(&self, kx: usize) -> (usize, usize) {
        // ix >= 0  <=>  ox * s >= pad_left - kx
        let need = self.pad_left.saturating_sub(kx);
        let lo = need.div_ceil(self.stride_w);
        // ix < in_w  <=>  ox * s + kx < in_w + pad_left
        let limit = self.in_w + self.pad_left;
        let hi = if limit > kx {
            (limit - kx).div_ceil(self.stride_w).min(self.out_w)
        } else {
            0
        };
        (lo.min(hi), hi)
    }

    /// Input row read by output row `oy` at window row `ky`, or `None` in the padding.
    #[inline]
    pub fn source_row(&self, oy: usize, ky: usize) -> Option<usize> {
        let iy = (oy * self.stride_h + ky).checked_sub(self.pad_top)?;
        (iy < self.in_h).then_some(iy)
    }

    /// Values per input sample.
    #[inline]
    pub fn input_len(&self) -> usize {
        self.in_h * self.in_w * self.channels
    }

    /// True when every window is one input pixel in order (1x1, stride 1).
    pub fn is_pointwise(&self) -> bool {
        self.kernel_h == 1 && self.kernel_w == 1 && self.stride_h == 1 && self.stride_w == 1
    }

    /// Patch width: `kh * kw * channels`.
    pub fn patch_len(&self) -> usize {
        self.kernel_h * self.kernel_w * self.channels
    }

    /// Writes the patches of `batch` samples of `x` as rows of `cols`
    /// (`[batch * out_h * out_w, kh * kw * c]`, zeros in the padding).
    pub fn im2col(&self, x: &[f32], batch: usize, cols: &mut Vec<f32>) {
        let c = self.channels;
        let patch = self.patch_len();
        let positions = self.out_h * self.out_w;
        cols.clear();
        cols.resize(batch * positions * patch, 0.0);
        for (sample, block) in x
            .chunks_exact(self.input_len())
            .zip(cols.chunks_exact_mut(positions * patch))
            .take(batch)
        {
            for oy in 0..self.out_h {
                for ky in 0..self.kernel_h {
                    let Some(iy) = self.source_row(oy, ky) else {
                        continue;
                    };
                    for kx in 0..self.kernel_w {
                        // the valid columns of this tap: no per-pixel bounds checks
                        let (lo, hi) = self.valid_columns(kx);
                        let at = (ky * self.kernel_w + kx) * c;
                        for ox in lo..hi {
                            let ix = ox * self.stride_w + kx - self.pad_left;
                            let row = (oy * self.out_w + ox) * patch + at;
                            if c == 1 {
                                block[row] = sample[iy * self.in_w + ix];
                            } else {
                                block[row..row + c]
                                    .copy_from_slice(&sample[(iy * self.in_w + ix) * c..][..c]);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of [`Geometry::im2col`]: adds each patch row of `cols` back
    /// into `dx` (which it first zeroes).
    pub fn col2im(&self, cols: &[f32], batch: usize, dx: &mut [f32]) {
        let c = self.channels;
        let patch = self.patch_len();
        dx.fill(0.0);
        let mut rows = cols.chunks_exact(patch);
        for sample in dx.chunks_exact_mut(self.input_len()).take(batch) {
            for oy in 0..self.out_h {
                for ox in 0..self.out_w {
                    let Some(row) = rows.next() else { return };
                    for ky in 0..self.kernel_h {
                        for kx in 0..self.kernel_w {
                            if let Some((iy, ix)) = self.source(oy, ox, ky, kx) {
                                let src = &row[(ky * self.kernel_w + kx) * c..][..c];
                                let dst = &mut sample[(iy * self.in_w + ix) * c..][..c];
                                dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Reads a window size or strides given as `n` or `[h, w]`.
pub trait Window {
    /// `[h, w]`.
    fn pair(self) -> [usize; 2];
}

impl Window for usize {
    fn pair(self) -> [usize; 2] {
        [self, self]
    }
}

impl Window for [usize; 2] {
    fn pair(self) -> [usize; 2] {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_and_valid_sizes() {
        // same, stride 2 over 5: out = ceil(5/2) = 3, pad total = 2*2 + 3 - 5 = 2, top 1
        let g = Geometry::new(&[5, 5, 1], [3, 3], [2, 2], Padding::Same).unwrap();
        assert_eq!((g.out_h, g.pad_top), (3, 1));
        // same, stride 2 over 4 with a 2 window: out 2, pad total 0
        let g = Geometry::new(&[4, 4, 1], [2, 2], [2, 2], Padding::Same).unwrap();
        assert_eq!((g.out_h, g.pad_top), (2, 0));
        // valid: (8 - 3) / 1 + 1 = 6
        let g = Geometry::new(&[8, 8, 2], [3, 3], [1, 1], Padding::Valid).unwrap();
        assert_eq!((g.out_h, g.out_w, g.patch_len()), (6, 6, 18));
        assert!(Geometry::new(&[2, 2, 1], [3, 3], [1, 1], Padding::Valid).is_err());
    }

    #[test]
    fn valid_columns_match_source() {
        for (w, k, s, padding) in [
            (5, 3, 1, Padding::Same),
            (7, 3, 2, Padding::Same),
            (6, 2, 2, Padding::Valid),
            (4, 4, 3, Padding::Same),
        ] {
            let g = Geometry::new(&[1, w, 1], [1, k], [1, s], padding).unwrap();
            for kx in 0..k {
                let (lo, hi) = g.valid_columns(kx);
                for ox in 0..g.out_w {
                    assert_eq!(
                        g.source(0, ox, 0, kx).is_some(),
                        (lo..hi).contains(&ox),
                        "w={w} k={k} s={s} kx={kx} ox={ox}"
                    );
                }
            }
        }
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), c> = <x, col2im(c)> for any x, c
        let g = Geometry::new(&[4, 5, 2], [3, 2], [2, 1], Padding::Same).unwrap();
        let x: Vec<f32> = (0..2 * g.input_len())
            .map(|i| (i % 7) as f32 - 3.0)
            .collect();
        let mut cols = Vec::new();
        g.im2col(&x, 2, &mut cols);
        let c: Vec<f32> = (0..cols.len()).map(|i| (i % 5) as f32 * 0.5).collect();
        let mut back = vec![0.0; x.len()];
        g.col2im(&c, 2, &mut back);
        let left: f32 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
        let right: f32 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
        assert!((left - right).abs() < 1e-3, "{left} vs {right}");
    }
}
