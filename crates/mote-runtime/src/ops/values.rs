//! Tensor elements read from and written to little-endian bytes, so kernels
//! need no alignment from the arena or the model's buffers.

/// A fixed-size tensor element.
pub trait Value: Copy + Default {
    /// Bytes per element.
    const SIZE: usize;
    /// Reads one element from exactly [`Value::SIZE`] bytes (default if fewer).
    fn read(bytes: &[u8]) -> Self;
    /// Writes one element into exactly [`Value::SIZE`] bytes.
    fn write(self, bytes: &mut [u8]);
}

macro_rules! value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            #[inline]
            fn read(bytes: &[u8]) -> Self {
                bytes.try_into().map(<$t>::from_le_bytes).unwrap_or_default()
            }
            #[inline]
            fn write(self, bytes: &mut [u8]) {
                bytes.copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
value!(i8, u8, i16, u16, i32, u32, i64, u64, f32);

impl Value for bool {
    const SIZE: usize = 1;
    #[inline]
    fn read(bytes: &[u8]) -> Self {
        bytes.first().is_some_and(|b| *b != 0)
    }
    #[inline]
    fn write(self, bytes: &mut [u8]) {
        bytes.fill(u8::from(self));
    }
}

/// Element `i` of `bytes` (default past the end).
#[inline]
pub fn get<T: Value>(bytes: &[u8], i: usize) -> T {
    let start = i.wrapping_mul(T::SIZE);
    bytes
        .get(start..start.wrapping_add(T::SIZE))
        .map_or_else(T::default, T::read)
}

/// Writes `f(x)` for every element `x` of `input` into `output`.
#[inline]
pub fn map<T: Value, U: Value>(input: &[u8], output: &mut [u8], mut f: impl FnMut(T) -> U) {
    for (x, y) in input
        .chunks_exact(T::SIZE)
        .zip(output.chunks_exact_mut(U::SIZE))
    {
        f(T::read(x)).write(y);
    }
}

/// The little-endian bytes of `values` (for tests).
#[cfg(test)]
pub fn bytes_of<T: Value>(values: &[T]) -> Vec<u8> {
    let mut out = vec![0u8; values.len() * T::SIZE];
    for (v, b) in values.iter().zip(out.chunks_exact_mut(T::SIZE)) {
        v.write(b);
    }
    out
}

/// The values in little-endian `bytes` (for tests).
#[cfg(test)]
pub fn values_of<T: Value>(bytes: &[u8]) -> Vec<T> {
    bytes.chunks_exact(T::SIZE).map(T::read).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_past_the_end_as_default() {
        let b = bytes_of(&[-2i16, 300]);
        assert_eq!(b, [0xfe, 0xff, 0x2c, 0x01]);
        assert_eq!(get::<i16>(&b, 1), 300);
        assert_eq!(get::<i16>(&b, 2), 0);
        let mut out = vec![0u8; 8];
        map(&b, &mut out, |x: i16| f32::from(x) * 0.5);
        assert_eq!(values_of::<f32>(&out), [-1.0, 150.0]);
    }
}
