//! Output sizes and padding of windowed ops (convolutions, pooling), as
//! TensorFlow Lite's `ComputePaddingHeightWidth`.

/// The schema's `Padding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum Padding {
    /// Pad so that `out = ceil(in / stride)`.
    Same,
    /// No padding: `out = ceil((in - effective_filter + 1) / stride)`.
    Valid,
}

impl Padding {
    /// The padding with schema code `code` (0 SAME, 1 VALID).
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Same),
            1 => Some(Self::Valid),
            _ => None,
        }
    }
}

/// One spatial axis of a window: its output size and the padding before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct Axis {
    /// Output size along the axis.
    pub out: usize,
    /// Padding before the first input element (TensorFlow Lite puts the odd
    /// element of the total padding after the input).
    pub pad: usize,
}

/// The output size and leading padding of one axis; `None` for a zero stride
/// or dilation, or an empty filter.
pub fn axis(
    padding: Padding,
    input: usize,
    filter: usize,
    stride: usize,
    dilation: usize,
) -> Option<Axis> {
    if stride == 0 || dilation == 0 || filter == 0 {
        return None;
    }
    let effective = (filter - 1).checked_mul(dilation)?.checked_add(1)?;
    let out = match padding {
        Padding::Same => input.checked_add(stride - 1)? / stride,
        Padding::Valid => (input + stride).saturating_sub(effective) / stride,
    };
    let total = out
        .saturating_sub(1)
        .checked_mul(stride)?
        .checked_add(effective)?
        .saturating_sub(input);
    Some(Axis {
        out,
        pad: total / 2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_and_valid() {
        // SAME, in 5, filter 3, stride 2: out = ceil(5/2) = 3;
        // total padding = (3-1)*2 + 3 - 5 = 2 -> 1 before.
        assert_eq!(
            axis(Padding::Same, 5, 3, 2, 1),
            Some(Axis { out: 3, pad: 1 })
        );
        // SAME, in 4, filter 3, stride 2: out 2; total = 2 + 3 - 4 = 1 -> 0 before.
        assert_eq!(
            axis(Padding::Same, 4, 3, 2, 1),
            Some(Axis { out: 2, pad: 0 })
        );
        // VALID, in 5, filter 3, stride 1: out 3, no padding.
        assert_eq!(
            axis(Padding::Valid, 5, 3, 1, 1),
            Some(Axis { out: 3, pad: 0 })
        );
        // VALID with dilation 2: effective filter 5 -> out (5 + 1 - 5) / 1 = 1.
        assert_eq!(
            axis(Padding::Valid, 5, 3, 1, 2),
            Some(Axis { out: 1, pad: 0 })
        );
        // A filter larger than the input under VALID: no output.
        assert_eq!(
            axis(Padding::Valid, 2, 3, 1, 1),
            Some(Axis { out: 0, pad: 0 })
        );
        assert_eq!(axis(Padding::Same, 2, 3, 0, 1), None);
    }
}
