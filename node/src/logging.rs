//! Structured logs through `tracing`, as text or JSON, filtered by `log.level` (or
//! `RUST_LOG`).

use tipx_config::{Log, LogFormat};
use tracing_subscriber::EnvFilter;

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `log.level` (or `RUST_LOG`) is not a filter.
    #[error(
        "log.level: `{level}` is not a log filter ({reason}); use e.g. info or warn,tipx_node=debug"
    )]
    Filter {
        /// The filter given.
        level: String,
        /// Why not.
        reason: String,
    },
    /// A logger is installed already.
    #[error("cannot install the logger: {0}")]
    Install(String),
}

/// Installs the global subscriber.
pub fn init(log: &Log) -> Result<(), Error> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .map_err(|e| Error::Filter {
            level: log.level.clone(),
            reason: e.to_string(),
        })?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let result = match log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    result.map_err(|e| Error::Install(e.to_string()))
}
