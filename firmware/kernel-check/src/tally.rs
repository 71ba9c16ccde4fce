//! The kernel paths a case takes, counted per path: what the DSP kernels'
//! own conditions (in `mote-runtime/src/arch`) select for the case's shape
//! and scales. Whether a kernel ran at all is the entry point's answer,
//! checked against [`crate::compare`]'s expectation; which of its branches
//! ran is worked out here from the same conditions, so a run that never
//! reaches a branch (an asm loop among them) fails the check.

/// One branch of a kernel.
#[derive(Clone, Copy)]
#[repr(u8)]
pub enum Path {
    /// CONV_2D pixel pairs, inputs widened once: the `dot_2x2_wide` asm loop.
    ConvPairWide,
    /// ... whole filter rows, a full int8 range and right shifts of 2 to
    /// 31: every channel pair in one `pair_pass` (naked asm), the output
    /// offset folded into the lanes (shifts to 23, offsets of -128 to 128).
    ConvPairPass,
    /// ... the offset added after the shift: `pair_pass_offset`.
    ConvPairPassOffset,
    /// ... filters widened once per pass: `pair_pass_wide`.
    ConvPairPassWide,
    /// ... and the offset added after the shift: `pair_pass_wide_offset`.
    ConvPairPassWideOffset,
    /// ... a 1x1 filter at stride 1 without padding, a pass of channel
    /// pairs: the pass straight off the tensors (`gemm/pointwise.rs`).
    ConvPointwise,
    /// Pairs over the whole filter whose rows are not whole words: rows
    /// padded to words and widened, then `pair_pass_wide` (`gemm/padded.rs`).
    ConvPairPadded,
    /// ... with an odd channel count: the last channel's `dot_2x1_wide`.
    ConvPairWideOdd,
    /// Pixel pairs whose runs are not whole words or exceed 640 bytes: `dot_2x2`.
    ConvPair,
    /// Single pixels over their widened window, 4 channels per `dot_4_rows_wide` asm loop.
    ConvSingleWide,
    /// ... in a pass with widened filters: every channel pair in one
    /// `single_pass_wide` (naked asm).
    ConvSinglePass,
    /// ... the offset added after the shift: `single_pass_wide_offset`.
    ConvSinglePassOffset,
    /// ... the last `channels % 4` by `dot_1_row_wide`.
    ConvSingleWideTail,
    /// Single pixels whose filter is not whole words or exceeds 640 bytes: `dot_1x4`/`dot_1x1`.
    ConvSingle,
    /// Horizontal dilation, an offset past 16 bits or a scale the folded
    /// requantization does not take: the kernel declines.
    ConvDeclined,
    /// DEPTHWISE_CONV_2D channel groups whose scales fold the output
    /// offset, full int8 range: each output row in `depthwise_row`.
    DepthwiseRow,
    /// ... other scales, full int8 range (`ssat`).
    DepthwiseGroupsFull,
    /// ... a narrower range.
    DepthwiseGroupsClamped,
    /// A 3x3 case the group kernel declines (rows past its strip, depth not a multiple of 4).
    DepthwiseGroupsDeclined,
    /// The per-pixel loop, 4 channels per pass.
    DepthwisePixels,
    /// ... the last `depth % 4` channels one by one.
    DepthwisePixelsTail,
    /// One input channel, any depth multiplier: CONV_2D's kernel on the
    /// transposed filter (`depthwise_as_conv`).
    DepthwiseOneChannel,
    /// A depth multiplier other than 1 over several channels, an offset past 16 bits or a scale the folded requantization does not take: declined.
    DepthwiseDeclined,
    /// FULLY_CONNECTED rows of up to 64 bytes (the small buffer).
    FcSmall,
    /// Rows of 68 to 640 bytes.
    FcLarge,
    /// Longer rows over units in fours, widened 640 bytes at a time (`long_rows`).
    FcLong,
    /// 4 units per `dot_4_rows_wide` asm loop.
    FcUnits4,
    /// The last `units % 4` by `dot_1_row_wide`.
    FcUnitTail,
    /// One scale in `requant::Fixed`'s case (folded requantization).
    FcFixed,
    /// Per-unit scales, or one outside `Fixed`'s case.
    FcGeneral,
    /// Depth not a multiple of 4, past 640 over units not in fours, or an offset past 16 bits: declined.
    FcDeclined,
}

// Each path is one bit of `Taken`.
const _: () = assert!(PATHS.len() <= 64);

/// Every path, in [`Path`]'s order, with its printed name.
pub const PATHS: [&str; 31] = [
    "conv_2d pairs widened (asm dot_2x2_wide)",
    "conv_2d pairs widened, whole pass (naked asm pair_pass)",
    "conv_2d pairs widened, whole pass, offset apart (naked asm pair_pass_offset)",
    "conv_2d pairs widened, whole pass, filters widened (naked asm pair_pass_wide)",
    "conv_2d pairs widened, whole pass, filters widened, offset apart (naked asm pair_pass_wide_offset)",
    "conv_2d pairs, 1x1 at stride 1 (gemm/pointwise.rs)",
    "conv_2d pairs padded to words (pair_pass_wide)",
    "conv_2d pairs widened, odd channel",
    "conv_2d pairs",
    "conv_2d single widened (asm dot_4_rows_wide)",
    "conv_2d single widened, filters widened (naked asm single_pass_wide)",
    "conv_2d single widened, filters widened, offset apart (naked asm single_pass_wide_offset)",
    "conv_2d single widened, channel tail",
    "conv_2d single",
    "conv_2d declined",
    "depthwise groups, rows (naked asm depthwise_row)",
    "depthwise groups, full range (asm taps, ssat)",
    "depthwise groups, clamped range",
    "depthwise groups declined",
    "depthwise pixels",
    "depthwise pixels, channel tail",
    "depthwise one input channel (as conv_2d)",
    "depthwise declined",
    "fully_connected small rows",
    "fully_connected large rows",
    "fully_connected long rows (chunks)",
    "fully_connected 4 units (asm dot_4_rows_wide)",
    "fully_connected unit tail",
    "fully_connected folded requant",
    "fully_connected general requant",
    "fully_connected declined",
];

/// The paths one case took.
#[derive(Clone, Copy, Default)]
pub struct Taken(u64);

impl Taken {
    /// Marks `path` taken.
    pub fn add(&mut self, path: Path) {
        self.0 |= 1 << path as u64;
    }
}

/// Cases per path.
pub struct Tally {
    /// Indexed as [`PATHS`].
    pub cases: [u32; PATHS.len()],
}

impl Tally {
    /// No case yet.
    pub const fn new() -> Self {
        Tally {
            cases: [0; PATHS.len()],
        }
    }

    /// Counts the paths of one case.
    pub fn count(&mut self, taken: Taken) {
        for (i, n) in self.cases.iter_mut().enumerate() {
            if taken.0 & (1u64 << i) != 0 {
                *n += 1;
            }
        }
    }
}
