//! Commands of this area (filled in by the work on this area).

use std::process::ExitCode;

use clap::Subcommand;

/// Commands of this area.
#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Placeholder until the commands land.
    #[command(hide = true, name = "sla-placeholder")]
    Placeholder,
}

/// Runs a command of this area.
pub(crate) fn run(cmd: Cmd) -> ExitCode {
    match cmd {
        Cmd::Placeholder => ExitCode::FAILURE,
    }
}
