//! Unsigned LEB128 varints of minimal length: seven bits a byte, least significant first,
//! the top bit set on every byte but the last. Used by the reconciliation messages and by
//! the node's compact store pages.

/// Why a varint could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarintError {
    /// The bytes end inside the number.
    Truncated,
    /// Longer than the minimal form, or more than 64 bits.
    NotCanonical,
}

/// Bytes of `v` as a varint.
pub fn len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends `v` to `out`.
pub fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads one varint from the front of `bytes` and moves past it.
pub fn read(bytes: &mut &[u8]) -> Result<u64, VarintError> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let (&b, rest) = bytes.split_first().ok_or(VarintError::Truncated)?;
        *bytes = rest;
        // The tenth byte holds the top bit only; a last byte of zero is an overlong form.
        if (i == 9 && b > 1) || (i > 0 && b == 0) {
            return Err(VarintError::NotCanonical);
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(VarintError::NotCanonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_round_trips_and_its_length_is_known() {
        for v in [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put(&mut out, v);
            assert_eq!(out.len(), len(v), "{v}");
            let mut rest = out.as_slice();
            assert_eq!(read(&mut rest), Ok(v));
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn overlong_and_cut_forms_are_refused() {
        assert_eq!(read(&mut &[0x80, 0x00][..]), Err(VarintError::NotCanonical));
        assert_eq!(read(&mut &[0x80][..]), Err(VarintError::Truncated));
        assert_eq!(read(&mut &[0xff; 10][..]), Err(VarintError::NotCanonical));
    }
}
