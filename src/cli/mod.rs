//! The command line, past clap: each subcommand's run, and how problems with the run itself
//! are said (on standard error, with exit code 2).

pub mod args;
pub mod check;
pub mod write_back;

use docklint::config::ConfigError;
use docklint::emit;
use docklint::emit::escape::escape;

pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FOUND: u8 = 1;
pub const EXIT_FAILED: u8 = 2;

/// Says why the run failed; returns the exit code for it.
pub fn failed(message: impl std::fmt::Display) -> u8 {
    eprintln!("docklint: {}", escape(&message.to_string()));
    EXIT_FAILED
}

pub fn warn(message: &str) {
    eprintln!("docklint: warning: {}", escape(message));
}

/// Shows a lint.toml problem with the offending key underlined; returns exit code 2.
pub fn config_failed(e: &ConfigError, color: bool) -> u8 {
    let style = emit::text::Style { color, width: 100 };
    eprint!("{}", emit::text::render_config_error(e, style));
    EXIT_FAILED
}
