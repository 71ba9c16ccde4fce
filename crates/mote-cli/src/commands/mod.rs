//! One file per `mote` command.

pub mod bench;
pub mod demo;
pub mod demo_audio;
pub mod inspect;
pub mod listen;
pub mod run;
