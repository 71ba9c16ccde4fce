//! One file per `mote` command.

pub mod bench;
pub mod cluster;
pub mod codegen;
pub mod compare;
pub mod data;
pub mod demo;
pub mod demo_audio;
pub mod distill;
pub mod eval;
pub mod inspect;
pub mod listen;
pub mod prune;
pub mod qat;
pub mod quantize;
pub mod run;
pub mod train;
