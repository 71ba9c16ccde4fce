//! The latest frames of features, as the classifier reads them.

/// A sliding window of the latest `frames` feature frames in caller-owned
/// storage, oldest first when read.
#[derive(Debug)]
pub struct FeatureWindow<'s> {
    storage: &'s mut [i8],
    frame_len: usize,
    /// Frames pushed since the last reset (saturating).
    count: usize,
}

impl<'s> FeatureWindow<'s> {
    /// A window over `storage`, whose length must be a multiple of `frame_len`.
    /// Returns `None` otherwise.
    pub fn new(storage: &'s mut [i8], frame_len: usize) -> Option<Self> {
        (frame_len > 0 && !storage.is_empty() && storage.len().is_multiple_of(frame_len)).then_some(
            FeatureWindow {
                storage,
                frame_len,
                count: 0,
            },
        )
    }

    /// Frames the window holds when full.
    pub fn frames(&self) -> usize {
        self.storage.len() / self.frame_len
    }

    /// Values per frame.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Appends a frame (shorter frames are zero-padded, longer ones cut),
    /// dropping the oldest.
    pub fn push(&mut self, frame: &[i8]) {
        self.storage.copy_within(self.frame_len.., 0);
        let start = self.storage.len() - self.frame_len;
        if let Some(last) = self.storage.get_mut(start..) {
            last.fill(0);
            for (dst, src) in last.iter_mut().zip(frame) {
                *dst = *src;
            }
        }
        self.count = self.count.saturating_add(1);
    }

    /// Whether a whole window of frames has arrived since the last reset.
    pub fn is_full(&self) -> bool {
        self.count >= self.frames()
    }

    /// The frames, oldest first, flattened frame-major (`[frame][value]`).
    pub fn as_slice(&self) -> &[i8] {
        self.storage
    }

    /// Forgets every frame.
    pub fn reset(&mut self) {
        self.storage.fill(0);
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_frames_oldest_first() {
        let mut storage = [0i8; 6];
        let mut window = FeatureWindow::new(&mut storage, 2).unwrap();
        window.push(&[1, 1]);
        window.push(&[2, 2]);
        assert!(!window.is_full());
        window.push(&[3, 3]);
        assert!(window.is_full());
        window.push(&[4]);
        assert_eq!(window.as_slice(), [2, 2, 3, 3, 4, 0]);
        assert!(FeatureWindow::new(&mut [0i8; 5], 2).is_none());
    }
}
