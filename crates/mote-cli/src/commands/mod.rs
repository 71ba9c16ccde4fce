//! One file per `mote` command.

pub mod data;
pub mod demo;
pub mod eval;
pub mod inspect;
pub mod run;
pub mod train;
