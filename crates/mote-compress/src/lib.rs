//! mote's model compression: pruning, int8 quantization (PTQ and QAT) and knowledge distillation.
#![deny(missing_docs)]
