//! The whole pipeline: samples in, classifications and detections out.

use mote_runtime::{Interpreter, TensorType};

use crate::classifier::ClassifierStage;
use crate::detector::{Detection, DetectorConfig};
use crate::error::AudioError;
use crate::features::FeatureWindow;
use crate::framer::Framer;
use crate::{HOP_SAMPLES, WINDOW_SAMPLES};

/// One run of the classifier, after a hop.
#[derive(Clone, Copy, Debug)]
pub struct Classification<'r> {
    /// Index of the newest feature frame (0 for the first window).
    pub hop: usize,
    /// Time of the end of the newest window, in milliseconds from the start.
    pub end_ms: u64,
    /// The classifier's int8 scores, one per class.
    pub scores: &'r [i8],
    /// A detection made at this hop, if any.
    pub detection: Option<Detection>,
}

/// Streams audio through a front-end model and a classifier: each hop of
/// samples gives one feature frame, and once a window of frames has arrived the
/// classifier runs after every hop.
pub struct Listener<'m, 'a, 's> {
    frontend: Interpreter<'m, 'a>,
    framer: Framer<WINDOW_SAMPLES, HOP_SAMPLES>,
    stage: ClassifierStage<'m, 'a, 's>,
    hops: usize,
}

/// Checks that `frontend` takes one window of int16 samples and gives int8
/// frames; returns the frame length.
pub fn check_frontend(frontend: &Interpreter<'_, '_>) -> Result<usize, AudioError> {
    let input = frontend.input_tensor(0)?;
    if input.dtype() != TensorType::Int16 || input.shape().elements() != WINDOW_SAMPLES {
        return Err(AudioError::FrontEndInput {
            shape: input.shape(),
            dtype: input.dtype(),
            window: WINDOW_SAMPLES,
        });
    }
    let output = frontend.output_tensor(0)?;
    if output.dtype() != TensorType::Int8 {
        return Err(AudioError::NotInt8 {
            what: "front-end's output",
            dtype: output.dtype(),
        });
    }
    Ok(output.shape().elements())
}

impl<'m, 'a, 's> Listener<'m, 'a, 's> {
    /// Joins a front-end and a classifier (both prepared interpreters), with
    /// `storage` for the feature window (the classifier's input size).
    pub fn new(
        frontend: Interpreter<'m, 'a>,
        classifier: Interpreter<'m, 'a>,
        storage: &'s mut [i8],
        config: DetectorConfig,
    ) -> Result<Self, AudioError> {
        let frame_len = check_frontend(&frontend)?;
        let frames_from = frontend.output_tensor(0)?.shape();
        let stage = ClassifierStage::new(classifier, storage, frame_len, frames_from, config)?;
        Ok(Listener {
            frontend,
            framer: Framer::new(),
            stage,
            hops: 0,
        })
    }

    /// Feeds samples; `on_classification` is called after every hop once a
    /// window of frames has arrived.
    pub fn push(
        &mut self,
        samples: &[i16],
        mut on_classification: impl FnMut(&Classification<'_>),
    ) -> Result<(), AudioError> {
        for &sample in samples {
            let Some(window) = self.framer.push(sample) else {
                continue;
            };
            self.frontend.input_mut::<i16>(0)?.copy_from_slice(window);
            self.frontend.invoke()?;
            let hop = self.hops;
            self.hops += 1;
            let end_samples = hop * HOP_SAMPLES + WINDOW_SAMPLES;
            let frame = self.frontend.output::<i8>(0)?;
            self.stage
                .push(frame, hop, end_samples, &mut on_classification)?;
        }
        Ok(())
    }

    /// The current feature window (oldest frame first).
    pub fn features(&self) -> &FeatureWindow<'s> {
        self.stage.features()
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.stage.classes()
    }

    /// Starts over: clears the samples, features, scores and the front-end's
    /// state (noise estimates), as before a new clip.
    pub fn reset(&mut self) -> Result<(), AudioError> {
        self.frontend.reset()?;
        self.stage.reset()?;
        self.framer.reset();
        self.hops = 0;
        Ok(())
    }
}
