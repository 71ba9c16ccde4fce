//! Carving typed slices out of the caller's byte arena.
//!
//! This is the runtime's only `unsafe` code. Plain numeric types and the
//! interpreter's `Copy` records are viewed in place inside the arena, so that all
//! of the interpreter's memory is the arena the caller owns, as in TensorFlow
//! Lite Micro.

use core::mem::{align_of, size_of, MaybeUninit};

/// Types for which every bit pattern is a valid value (plain numbers).
///
/// # Safety
/// Implementors must be `Copy`, have no padding and accept any bit pattern.
pub unsafe trait Plain: Copy + 'static {}

// SAFETY: primitive numbers have no padding and no invalid bit patterns.
unsafe impl Plain for u8 {}
// SAFETY: as above.
unsafe impl Plain for i8 {}
// SAFETY: as above.
unsafe impl Plain for u16 {}
// SAFETY: as above.
unsafe impl Plain for i16 {}
// SAFETY: as above.
unsafe impl Plain for u32 {}
// SAFETY: as above.
unsafe impl Plain for i32 {}
// SAFETY: as above.
unsafe impl Plain for u64 {}
// SAFETY: as above.
unsafe impl Plain for i64 {}
// SAFETY: as above.
unsafe impl Plain for f32 {}

/// Views `bytes` as a slice of `T`; `None` if it is misaligned or not a whole
/// number of elements.
pub(crate) fn cast<T: Plain>(bytes: &[u8]) -> Option<&[T]> {
    // SAFETY: `T: Plain` accepts any bit pattern; `align_to` handles alignment.
    let (head, body, tail) = unsafe { bytes.align_to::<T>() };
    (head.is_empty() && tail.is_empty()).then_some(body)
}

/// Views `bytes` as a mutable slice of `T`; `None` if misaligned or ragged.
pub(crate) fn cast_mut<T: Plain>(bytes: &mut [u8]) -> Option<&mut [T]> {
    // SAFETY: `T: Plain` accepts any bit pattern, and any bytes written through
    // the result are valid `u8`s.
    let (head, body, tail) = unsafe { bytes.align_to_mut::<T>() };
    (head.is_empty() && tail.is_empty()).then_some(body)
}

/// Writes `value` into `bytes`, which must be exactly `size_of::<T>()` bytes
/// aligned for `T`. Used for each operator's params in the persistent region.
pub(crate) fn store<T: Copy>(bytes: &mut [u8], value: T) -> Option<()> {
    if bytes.len() != size_of::<T>() || !(bytes.as_ptr() as usize).is_multiple_of(align_of::<T>()) {
        return None;
    }
    // SAFETY: `bytes` is exclusively borrowed, in bounds and aligned for `T`;
    // `T: Copy` has no destructor to skip.
    unsafe { core::ptr::write(bytes.as_mut_ptr().cast::<T>(), value) };
    Some(())
}

/// Reads back a value [`store`] wrote.
///
/// # Safety
/// `bytes` must hold a value written by `store::<T>` with the same `T`. The
/// interpreter guarantees it: each node's `eval` reads the params type its own
/// registration's `prepare` stored, and hostile models cannot choose types.
pub(crate) unsafe fn load<T: Copy>(bytes: &[u8]) -> Option<T> {
    if bytes.len() != size_of::<T>() || !(bytes.as_ptr() as usize).is_multiple_of(align_of::<T>()) {
        return None;
    }
    // SAFETY: in bounds and aligned (checked above); a valid `T` by the
    // caller's guarantee.
    Some(unsafe { core::ptr::read(bytes.as_ptr().cast::<T>()) })
}

/// Bytes to skip from the start of `bytes` so that it is aligned to `align`.
pub(crate) fn align_skip(bytes: &[u8], align: usize) -> usize {
    bytes.as_ptr().align_offset(align)
}

/// Takes `count` values of `T` from the end of `bytes`, each set to `fill`, and
/// returns them with the bytes left before them. `None` if they do not fit.
pub(crate) fn take_tail<T: Copy>(
    bytes: &mut [u8],
    count: usize,
    fill: T,
) -> Option<(&mut [u8], &mut [T])> {
    let size = size_of::<T>().checked_mul(count)?;
    let base = bytes.as_ptr() as usize;
    let end = base.checked_add(bytes.len())?;
    let start = end.checked_sub(size)? & !(align_of::<T>() - 1);
    let split = start.checked_sub(base)?;
    let (head, tail) = bytes.split_at_mut(split);
    let ptr = tail.as_mut_ptr().cast::<MaybeUninit<T>>();
    // SAFETY: `tail` starts at an address aligned for `T` and holds at least
    // `count * size_of::<T>()` bytes that we borrow exclusively; `MaybeUninit<T>`
    // accepts any bytes.
    let slots: &mut [MaybeUninit<T>] = unsafe { core::slice::from_raw_parts_mut(ptr, count) };
    for slot in slots.iter_mut() {
        slot.write(fill);
    }
    // SAFETY: every element was initialised just above.
    let values = unsafe { core::slice::from_raw_parts_mut(ptr.cast::<T>(), count) };
    Some((head, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_tail_aligns_and_fills() {
        let mut arena = [0u8; 64];
        let (head, values) = take_tail::<u32>(&mut arena[1..], 3, 7).unwrap();
        assert_eq!(values, &[7, 7, 7]);
        assert_eq!(values.as_ptr() as usize % 4, 0);
        assert!(head.len() <= 63 - 12);
        assert!(
            take_tail::<u64>(&mut [0u8; 15], 2, 0).is_none(),
            "does not fit"
        );
    }

    #[test]
    fn stored_values_read_back() {
        #[derive(Clone, Copy, Debug, PartialEq)]
        struct Params {
            a: bool,
            b: f64,
        }
        let mut storage = [0u64; 4];
        // SAFETY (test): view the u64 storage as bytes.
        let bytes: &mut [u8] =
            unsafe { core::slice::from_raw_parts_mut(storage.as_mut_ptr().cast(), 32) };
        let value = Params { a: true, b: 2.5 };
        store(&mut bytes[..16], value).unwrap();
        // SAFETY: written just above as `Params`.
        assert_eq!(unsafe { load::<Params>(&bytes[..16]) }, Some(value));
        assert!(store(&mut bytes[1..17], value).is_none(), "misaligned");
        assert!(store(&mut bytes[..8], value).is_none(), "wrong size");
    }

    #[test]
    fn cast_checks_alignment_and_length() {
        let mut storage = [0u32; 4];
        // SAFETY (test): view the u32 storage as bytes.
        let bytes: &mut [u8] =
            unsafe { core::slice::from_raw_parts_mut(storage.as_mut_ptr().cast(), 16) };
        assert_eq!(cast::<f32>(&bytes[..]).unwrap().len(), 4);
        assert!(cast::<f32>(&bytes[1..5]).is_none());
        assert!(cast::<f32>(&bytes[..6]).is_none());
        cast_mut::<f32>(bytes).unwrap()[0] = 1.5;
        assert_eq!(f32::from_bits(storage[0]), 1.5);
    }
}
