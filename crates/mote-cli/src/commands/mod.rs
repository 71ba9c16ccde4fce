//! One file per `mote` command.

pub mod demo;
pub mod inspect;
pub mod run;
