//! Fused activations (`ActivationFunctionType` in the schema).

/// A fused activation as the options store it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum Activation {
    /// None.
    None,
    /// max(x, 0).
    Relu,
    /// clamp(x, -1, 1).
    ReluN1To1,
    /// clamp(x, 0, 6).
    Relu6,
    /// tanh(x).
    Tanh,
    /// The sign bit (unused by the TinyML ops).
    SignBit,
}

impl Activation {
    /// The activation with schema code `code`.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::None,
            1 => Self::Relu,
            2 => Self::ReluN1To1,
            3 => Self::Relu6,
            4 => Self::Tanh,
            5 => Self::SignBit,
            _ => return None,
        })
    }

    /// The float clamp range of a clamping activation, as TensorFlow Lite Micro's
    /// `CalculateActivationRange`; `None` for tanh and sign bit, which ops fuse
    /// only where they say so.
    pub fn float_range(self) -> Option<(f32, f32)> {
        match self {
            Self::None => Some((f32::MIN, f32::MAX)),
            Self::Relu => Some((0.0, f32::MAX)),
            Self::ReluN1To1 => Some((-1.0, 1.0)),
            Self::Relu6 => Some((0.0, 6.0)),
            Self::Tanh | Self::SignBit => None,
        }
    }
}

/// Clamps `x` to `[min, max]` as TensorFlow Lite's `ActivationFunctionWithMinMax`
/// does with `std::min(std::max(x, min), max)`: unlike `f32::max`, a NaN passes
/// through, as it does in TensorFlow Lite.
#[inline]
pub fn clamp(x: f32, (min, max): (f32, f32)) -> f32 {
    let low = if x < min { min } else { x };
    if max < low {
        max
    } else {
        low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let relu6 = Activation::from_code(3).unwrap().float_range().unwrap();
        assert_eq!(
            (clamp(-2.0, relu6), clamp(3.0, relu6), clamp(9.0, relu6)),
            (0.0, 3.0, 6.0)
        );
        assert_eq!(Activation::from_code(4).unwrap().float_range(), None);
        assert_eq!(Activation::from_code(6), None);
        assert!(
            clamp(f32::NAN, relu6).is_nan(),
            "NaN passes through as in TensorFlow Lite"
        );
    }
}
