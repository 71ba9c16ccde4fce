//! The classifier half of a listener: the latest window of int8 feature
//! frames, the classifier model run on it after every hop, and the detector
//! over its scores. Both listeners (a front-end model's, and SWW's built-in
//! front-end) share it.

use mote_runtime::{Interpreter, Shape, TensorType};

use crate::detector::{Detector, DetectorConfig, MAX_CLASSES};
use crate::error::AudioError;
use crate::features::FeatureWindow;
use crate::listener::Classification;
use crate::SAMPLE_RATE;

/// A classifier with its feature window, scores and detector.
pub(crate) struct ClassifierStage<'m, 'a, 's> {
    classifier: Interpreter<'m, 'a>,
    features: FeatureWindow<'s>,
    detector: Detector,
    scores: [i8; MAX_CLASSES],
    classes: usize,
}

impl<'m, 'a, 's> ClassifierStage<'m, 'a, 's> {
    /// Checks that `classifier` takes an int8 input of a whole number of
    /// `frame_len`-long frames (what `storage` must hold) and gives at most
    /// [`MAX_CLASSES`] int8 scores. `frames_from` is the front-end's output
    /// shape, named in the error when the two do not fit.
    pub(crate) fn new(
        classifier: Interpreter<'m, 'a>,
        storage: &'s mut [i8],
        frame_len: usize,
        frames_from: Shape,
        config: DetectorConfig,
    ) -> Result<Self, AudioError> {
        let input = classifier.input_tensor(0)?;
        let needed = input.shape().elements();
        if frame_len == 0 || needed == 0 || needed % frame_len != 0 {
            return Err(AudioError::ShapeMismatch {
                frontend_output: frames_from,
                classifier_input: input.shape(),
            });
        }
        if input.dtype() != TensorType::Int8 {
            return Err(AudioError::NotInt8 {
                what: "classifier's input",
                dtype: input.dtype(),
            });
        }
        let output = classifier.output_tensor(0)?;
        if output.dtype() != TensorType::Int8 {
            return Err(AudioError::NotInt8 {
                what: "classifier's output",
                dtype: output.dtype(),
            });
        }
        let classes = output.shape().elements();
        if classes > MAX_CLASSES {
            return Err(AudioError::TooManyClasses {
                classes,
                max: MAX_CLASSES,
            });
        }
        let got = storage.len();
        let features = FeatureWindow::new(storage, frame_len)
            .filter(|w| w.as_slice().len() == needed)
            .ok_or(AudioError::StorageSize {
                expected: needed,
                got,
            })?;
        Ok(ClassifierStage {
            classifier,
            features,
            detector: Detector::new(config),
            scores: [0; MAX_CLASSES],
            classes,
        })
    }

    /// Adds the feature frame of hop `hop`, whose newest window ends at sample
    /// `end_samples`; once the window is full, classifies it and reports.
    pub(crate) fn push(
        &mut self,
        frame: &[i8],
        hop: usize,
        end_samples: usize,
        on_classification: &mut impl FnMut(&Classification<'_>),
    ) -> Result<(), AudioError> {
        self.features.push(frame);
        if !self.features.is_full() {
            return Ok(());
        }
        self.classifier
            .input_mut::<i8>(0)?
            .copy_from_slice(self.features.as_slice());
        self.classifier.invoke()?;
        let out = self.classifier.output::<i8>(0)?;
        for (dst, src) in self.scores.iter_mut().zip(out) {
            *dst = *src;
        }
        let scores = self.scores.get(..self.classes).unwrap_or(&[]);
        let detection = self.detector.update(hop, scores);
        on_classification(&Classification {
            hop,
            end_ms: end_samples as u64 * 1000 / u64::from(SAMPLE_RATE),
            scores,
            detection,
        });
        Ok(())
    }

    /// The current feature window (oldest frame first).
    pub(crate) fn features(&self) -> &FeatureWindow<'s> {
        &self.features
    }

    /// Number of classes.
    pub(crate) fn classes(&self) -> usize {
        self.classes
    }

    /// Clears the window, the detector and the classifier's state.
    pub(crate) fn reset(&mut self) -> Result<(), AudioError> {
        self.classifier.reset()?;
        self.features.reset();
        self.detector.reset();
        Ok(())
    }
}
