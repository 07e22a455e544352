//! What can go wrong with a configuration, each error naming what to fix first: the file,
//! the key (`exchange.partners[1]`) or the environment variable (`TIPX_API_LISTEN`).

use std::{fmt, io, path::PathBuf};

/// Why a configuration could not be loaded or is not acceptable.
///
/// The `Display` text starts with the file, key or variable to fix, so it can be shown to the
/// operator as is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file could not be read.
    #[error("{}: cannot read the configuration file: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The text is not TOML at all (no key to blame).
    #[error("{at}: not valid TOML: {message}")]
    Syntax {
        /// Where in which file.
        at: Location,
        /// The TOML parser's explanation.
        message: String,
    },
    /// A key is unknown, or its value has the wrong type or cannot be read as that type.
    #[error("{key}{}: {message}", at.suffix())]
    Parse {
        /// The dotted key, with `[i]` for list items: `network.listen[1]`.
        key: String,
        /// Where in which file.
        at: Location,
        /// The problem, e.g. ``unknown key — did you mean `partners`?``.
        message: String,
    },
    /// Every value could be read but one breaks a rule (missing state, API not on loopback…).
    #[error("{key}: {message}")]
    Invalid {
        /// The dotted key, with `[i]` for list items.
        key: String,
        /// The problem and how to fix it.
        message: String,
    },
    /// A `TIPX_*` environment variable has a value its key cannot take.
    #[error("{var}: {message}")]
    Env {
        /// The variable, e.g. `TIPX_API_LISTEN`.
        var: String,
        /// The problem, e.g. `"abc" is not an address (host:port)`.
        message: String,
    },
}

impl Error {
    /// The key, variable or file the error is about, as shown first in its text.
    pub fn subject(&self) -> String {
        match self {
            Self::Io { path, .. } => path.display().to_string(),
            Self::Syntax { at, .. } => at.to_string(),
            Self::Parse { key, .. } | Self::Invalid { key, .. } => key.clone(),
            Self::Env { var, .. } => var.clone(),
        }
    }

    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Where in the configuration text a problem is: the file (if read from one) and the line
/// (if the TOML parser knows it), both 1-based for display.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The file, when the text came from [`Config::load`](crate::Config::load).
    pub file: Option<PathBuf>,
    /// The line, counted from 1.
    pub line: Option<usize>,
}

impl Location {
    /// The location of byte `offset` of `text`.
    pub(crate) fn of_offset(text: &str, offset: Option<usize>) -> Self {
        let line = offset.map(|o| {
            let end = o.min(text.len());
            text.as_bytes()[..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1
        });
        Self { file: None, line }
    }

    /// ` (tipx.toml, line 3)`, ` (line 3)`, ` (tipx.toml)` or nothing, to follow a key.
    fn suffix(&self) -> String {
        if self.file.is_none() && self.line.is_none() {
            String::new()
        } else {
            format!(" ({self})")
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.line, &self.file) {
            (Some(line), Some(file)) => write!(f, "{}, line {line}", file.display()),
            (Some(line), None) => write!(f, "line {line}"),
            (None, Some(file)) => write!(f, "{}", file.display()),
            (None, None) => f.write_str("configuration"),
        }
    }
}
