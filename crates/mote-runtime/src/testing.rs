//! What the crate's unit tests share.

/// Marsaglia's xorshift64 from `seed` (nonzero): each call the next
/// pseudo-random word, the same sequence for the same seed.
pub fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
