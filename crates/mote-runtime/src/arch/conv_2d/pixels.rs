//! CONV_2D's output pixels in order, each with where its input taps start
//! and which filter taps lie inside the image, as `Gemm::run` takes them.
//! A plain struct: the nested `flat_map`s this replaces cost about 110
//! instructions per pixel on Cortex-M4, once per pass.

use crate::arch::gemm::{Pixel, Runs};
use crate::ops::conv_2d::Window;

/// The pixels of `w`, batch by batch, row by row.
#[derive(Clone)]
pub struct Pixels {
    w: Window,
    /// The next pixel's batch, output row and column.
    at: (usize, usize, usize),
    /// The taps of the output row `at.1` (`Window::rows`).
    row: (usize, usize, isize),
}

impl Pixels {
    /// The first pixel of `w` next.
    pub fn new(w: Window) -> Pixels {
        Pixels {
            w,
            at: (0, 0, 0),
            row: w.rows(0),
        }
    }
}

impl Iterator for Pixels {
    type Item = Pixel;

    fn next(&mut self) -> Option<Pixel> {
        let w = &self.w;
        let (b, oy, ox) = self.at;
        if b >= w.batches || oy >= w.out_height || ox >= w.out_width {
            return None;
        }
        let (y_first, y_end, y0) = self.row;
        let (x_first, x_end, x0) = w.columns(ox);
        let depth = w.in_depth;
        let pixel = if y_end == y_first || x_end == x_first {
            // Every tap in the padding: bias only.
            let runs = Runs {
                filter: 0,
                rows: 0,
                len: 0,
            };
            Pixel { input: 0, runs }
        } else {
            // First tap inside the image: row y0 + y_first * dilation,
            // column x0 + x_first (both >= 0 by `rows`/`columns`).
            let y = (y0 + (y_first * w.dilation_height) as isize) as usize;
            let x = (x0 + x_first as isize) as usize;
            Pixel {
                input: ((b * w.in_height + y) * w.in_width + x) * depth,
                runs: Runs {
                    filter: (y_first * w.filter_width + x_first) * depth,
                    rows: y_end - y_first,
                    len: (x_end - x_first) * depth,
                },
            }
        };
        self.at = if ox + 1 < w.out_width {
            (b, oy, ox + 1)
        } else if oy + 1 < w.out_height {
            self.row = w.rows(oy + 1);
            (b, oy + 1, 0)
        } else {
            self.row = w.rows(0);
            (b + 1, 0, 0)
        };
        Some(pixel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pixels as the nested loops they replace wrote them.
    fn nested(w: Window) -> Vec<Pixel> {
        let mut all = Vec::new();
        for b in 0..w.batches {
            for oy in 0..w.out_height {
                let (y_first, y_end, y0) = w.rows(oy);
                for ox in 0..w.out_width {
                    let (x_first, x_end, x0) = w.columns(ox);
                    all.push(if y_end == y_first || x_end == x_first {
                        Pixel {
                            input: 0,
                            runs: Runs {
                                filter: 0,
                                rows: 0,
                                len: 0,
                            },
                        }
                    } else {
                        let y = (y0 + (y_first * w.dilation_height) as isize) as usize;
                        let x = (x0 + x_first as isize) as usize;
                        Pixel {
                            input: ((b * w.in_height + y) * w.in_width + x) * w.in_depth,
                            runs: Runs {
                                filter: (y_first * w.filter_width + x_first) * w.in_depth,
                                rows: y_end - y_first,
                                len: (x_end - x_first) * w.in_depth,
                            },
                        }
                    });
                }
            }
        }
        all
    }

    #[test]
    fn pixels_are_the_nested_loops() {
        let mut n = 0;
        for (batches, size, filter, stride, dilation, pad) in [
            (1, (5, 7), (3, 3), (1, 1), (1, 1), (1, 1)),
            (2, (6, 6), (3, 2), (2, 2), (1, 1), (1, 0)),
            (1, (9, 4), (5, 3), (3, 1), (2, 1), (2, 1)),
            (1, (3, 3), (1, 1), (1, 1), (1, 1), (0, 0)),
            (3, (1, 8), (1, 4), (1, 3), (1, 1), (0, 3)),
        ] {
            let (out_height, out_width) = (
                (size.0 + 2 * pad.0 - dilation.0 * (filter.0 - 1) - 1) / stride.0 + 1,
                (size.1 + 2 * pad.1 - dilation.1 * (filter.1 - 1) - 1) / stride.1 + 1,
            );
            let w = Window {
                batches,
                in_height: size.0,
                in_width: size.1,
                in_depth: 3,
                filter_height: filter.0,
                filter_width: filter.1,
                out_height,
                out_width,
                out_depth: 2,
                stride_height: stride.0,
                stride_width: stride.1,
                dilation_height: dilation.0,
                dilation_width: dilation.1,
                pad_height: pad.0,
                pad_width: pad.1,
            };
            let want = nested(w);
            let got: Vec<Pixel> = Pixels::new(w).collect();
            assert_eq!(got.len(), want.len());
            for (g, e) in got.iter().zip(&want) {
                assert_eq!((g.input, g.runs), (e.input, e.runs), "{w:?}");
            }
            n += got.len();
        }
        assert_eq!(n, 82);
    }

    #[test]
    fn random_windows_are_the_nested_loops() {
        let mut rng = crate::arch::tests::Rng(5);
        let mut r = |lo: i64, hi: i64| rng.range(lo, hi) as usize;
        for _ in 0..500 {
            let (fh, fw) = (r(1, 5), r(1, 5));
            let (sh, sw, dh) = (r(1, 3), r(1, 3), r(1, 2));
            let (ih, iw) = (r(1, 9), r(1, 9));
            let (ph, pw) = (r(0, fh as i64), r(0, fw as i64));
            let out = |i: usize, p: usize, f: usize, d: usize, s: usize| {
                ((i + 2 * p).saturating_sub(d * (f - 1) + 1)) / s + 1
            };
            let w = Window {
                batches: r(1, 2),
                in_height: ih,
                in_width: iw,
                in_depth: r(1, 5),
                filter_height: fh,
                filter_width: fw,
                out_height: out(ih, ph, fh, dh, sh),
                out_width: out(iw, pw, fw, 1, sw),
                out_depth: 1,
                stride_height: sh,
                stride_width: sw,
                dilation_height: dh,
                dilation_width: 1,
                pad_height: ph,
                pad_width: pw,
            };
            let want = nested(w);
            let got: Vec<Pixel> = Pixels::new(w).collect();
            assert_eq!(got.len(), want.len(), "{w:?}");
            for (g, e) in got.iter().zip(&want) {
                assert_eq!((g.input, g.runs), (e.input, e.runs), "{w:?}");
            }
        }
    }
}
