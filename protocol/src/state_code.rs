//! State codes: ISO 3166-1 alpha-2 for member states, `OAS` for the coordinator.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// The coordinator's state code.
pub const COORDINATOR: &str = "OAS";

/// A member state's code (`MX`, `CO`, …) or the coordinator's (`OAS`).
///
/// Always upper case: `mx` is accepted on input and stored as `MX`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StateCode {
    bytes: [u8; 3],
    len: u8,
}

/// Why a string is not a state code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a state code: expected two letters (ISO 3166-1 alpha-2, e.g. MX) or OAS")]
pub struct InvalidStateCode(pub String);

impl StateCode {
    /// The coordinator, `OAS`.
    pub fn coordinator() -> Self {
        COORDINATOR.parse().expect("OAS is a valid code")
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).expect("ASCII by construction")
    }

    /// Whether this is the coordinator's code.
    pub fn is_coordinator(&self) -> bool {
        self.as_str() == COORDINATOR
    }
}

impl FromStr for StateCode {
    type Err = InvalidStateCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let up = s.trim().to_ascii_uppercase();
        let ok = (up.len() == 2 && up.bytes().all(|b| b.is_ascii_uppercase())) || up == COORDINATOR;
        if !ok {
            return Err(InvalidStateCode(s.to_string()));
        }
        let mut bytes = [0u8; 3];
        bytes[..up.len()].copy_from_slice(up.as_bytes());
        Ok(Self {
            bytes,
            len: up.len() as u8,
        })
    }
}

impl TryFrom<String> for StateCode {
    type Error = InvalidStateCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<StateCode> for String {
    fn from(s: StateCode) -> String {
        s.as_str().to_string()
    }
}

impl fmt::Display for StateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for StateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_two_letters_and_oas_in_any_case() {
        assert_eq!("mx".parse::<StateCode>().unwrap().as_str(), "MX");
        assert!("oas".parse::<StateCode>().unwrap().is_coordinator());
    }

    #[test]
    fn refuses_everything_else() {
        for bad in ["", "M", "MEX", "M1", "ÑA", "OASX"] {
            assert!(bad.parse::<StateCode>().is_err(), "{bad}");
        }
    }
}
