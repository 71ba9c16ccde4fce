//! `mote demo`: the guided tour.

use anyhow::Result;
use clap::Args;

/// Arguments of `mote demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {}

/// Runs `mote demo`.
pub fn run(_args: &DemoArgs) -> Result<()> {
    Ok(())
}
