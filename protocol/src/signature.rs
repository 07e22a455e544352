//! Ed25519 signature checks, one at a time or a page at a time, with the same verdict
//! either way.
//!
//! # The rule
//! A signature `(R, S)` by key `A` on message `M` is valid when
//! - `S` is canonical (less than the group order ℓ);
//! - `A` and `R` are canonical point encodings and neither is of small order;
//! - `[8][S]B = [8]R + [8][k]A`, with `k = SHA-512(R ‖ A ‖ M) mod ℓ` (the cofactored
//!   equation of RFC 8032 §5.1.7).
//!
//! For every signature an honest signer makes, this is the verdict of ed25519-dalek's
//! `verify_strict`. The two differ only on signatures built on purpose with points of mixed
//! order, which pass the cofactored equation and fail the cofactorless one; on those, only
//! the cofactored rule gives a batch check that agrees with the single check on every
//! input (ZIP 215 chose it for the same reason). A record then gets the same verdict on
//! every node, whether it arrived alone or in a page. See docs/DECISIONS.md.
//!
//! # Batches
//! [`verify_batch`] checks `n` signatures with one multiscalar multiplication: the
//! equations are summed with 128-bit coefficients drawn from a hash of everything in the
//! batch, so that no signer can make errors cancel, and the terms of one key are merged
//! (a page of a feed has a single author), which makes a page cheaper than `n` single
//! checks. If the sum fails, each signature is checked alone to find the bad ones.

use curve25519_dalek::{
    EdwardsPoint, Scalar,
    constants::ED25519_BASEPOINT_POINT,
    edwards::CompressedEdwardsY,
    traits::{IsIdentity, VartimeMultiscalarMul},
};
use sha2::{Digest, Sha512};

use crate::PublicKey;

/// A signature to check: `signature` by `key` on `domain ‖ message`.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// The signer.
    pub key: &'a PublicKey,
    /// The domain-separation prefix of the signed message.
    pub domain: &'a [u8],
    /// The rest of the signed message.
    pub message: &'a [u8],
    /// `R ‖ S`.
    pub signature: &'a [u8; 64],
}

/// Checks one signature.
pub fn verify(s: &Signed<'_>) -> bool {
    let Some(a) = key_point(s.key.as_bytes()) else {
        return false;
    };
    prepare(s, &a).is_some_and(|p| p.holds(&a))
}

/// Checks signatures together; the verdict for each is that of [`verify`].
pub fn verify_batch(items: &[Signed<'_>]) -> Vec<bool> {
    // The distinct keys, decompressed and checked once each.
    let mut keys: Vec<(&PublicKey, Option<EdwardsPoint>)> = Vec::new();
    let prepared: Vec<Option<(usize, Prepared)>> = items
        .iter()
        .map(|s| {
            let slot = match keys.iter().position(|(k, _)| *k == s.key) {
                Some(i) => i,
                None => {
                    keys.push((s.key, key_point(s.key.as_bytes())));
                    keys.len() - 1
                }
            };
            let a = keys[slot].1.as_ref()?;
            prepare(s, a).map(|p| (slot, p))
        })
        .collect();
    let valid: Vec<&(usize, Prepared)> = prepared.iter().flatten().collect();
    if valid.len() > 1 && sum_holds(&valid, &keys) {
        return prepared.iter().map(Option::is_some).collect();
    }
    prepared
        .iter()
        .map(|p| {
            p.as_ref().is_some_and(|(slot, p)| {
                p.holds(keys[*slot].1.as_ref().expect("prepared with a valid key"))
            })
        })
        .collect()
}

/// A signature whose encodings passed: the scalars and `R` of its equation.
#[derive(Debug)]
struct Prepared {
    s: Scalar,
    k: Scalar,
    r: EdwardsPoint,
    /// The bytes the batch coefficients are drawn from: `R ‖ S ‖ k`.
    transcript: [u8; 96],
}

impl Prepared {
    /// The cofactored equation alone: `[8]([S]B - [k]A - R) = 0`.
    fn holds(&self, a: &EdwardsPoint) -> bool {
        let sb_minus_ka = EdwardsPoint::vartime_double_scalar_mul_basepoint(&-self.k, a, &self.s);
        (sb_minus_ka - self.r).mul_by_cofactor().is_identity()
    }
}

/// The point of a public key, if its encoding is canonical and it is not of small order.
fn key_point(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    let p = CompressedEdwardsY(*bytes).decompress()?;
    (!p.is_small_order() && p.compress().as_bytes() == bytes).then_some(p)
}

/// Whether a point encoding has its `y` below the field prime `2^255 - 19` (the sign bit
/// aside): the encodings at or above it are the 19 values `ed..ff ff .. ff 7f`.
fn canonical_y(bytes: &[u8; 32]) -> bool {
    !(bytes[0] >= 0xed && bytes[1..31].iter().all(|b| *b == 0xff) && bytes[31] & 0x7f == 0x7f)
}

/// Checks the encodings of `s` and computes its challenge.
fn prepare(s: &Signed<'_>, a: &EdwardsPoint) -> Option<Prepared> {
    debug_assert_eq!(a.compress().as_bytes(), s.key.as_bytes());
    let r_bytes: [u8; 32] = s.signature[..32].try_into().expect("32 bytes");
    let s_bytes: [u8; 32] = s.signature[32..].try_into().expect("32 bytes");
    let scalar = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
    if !canonical_y(&r_bytes) {
        return None;
    }
    let r = CompressedEdwardsY(r_bytes).decompress()?;
    if r.is_small_order() {
        return None;
    }
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(s.key.as_bytes());
    h.update(s.domain);
    h.update(s.message);
    let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
    let mut transcript = [0u8; 96];
    transcript[..64].copy_from_slice(s.signature);
    transcript[64..].copy_from_slice(k.as_bytes());
    Some(Prepared {
        s: scalar,
        k,
        r,
        transcript,
    })
}

/// The random linear combination of the equations: with `z_i` drawn from a hash of the
/// whole batch, `[8](Σ z_i ([S_i]B - [k_i]A_i - R_i)) = 0`, with one term per distinct key.
fn sum_holds(valid: &[&(usize, Prepared)], keys: &[(&PublicKey, Option<EdwardsPoint>)]) -> bool {
    let mut seed = Sha512::new();
    seed.update(b"tipx/batch/v1");
    for (slot, p) in valid {
        seed.update(keys[*slot].0.as_bytes());
        seed.update(p.transcript);
    }
    let seed = seed.finalize();
    let z: Vec<Scalar> = (0..valid.len() as u64)
        .map(|i| {
            let mut h = Sha512::new();
            h.update(seed);
            h.update(i.to_le_bytes());
            let wide = h.finalize();
            let mut bytes = [0u8; 32];
            bytes[..16].copy_from_slice(&wide[..16]);
            Scalar::from_bytes_mod_order(bytes)
        })
        .collect();
    let mut b = Scalar::ZERO;
    let mut per_key = vec![Scalar::ZERO; keys.len()];
    for ((slot, p), z) in valid.iter().zip(&z) {
        b += z * p.s;
        per_key[*slot] -= z * p.k;
    }
    let used: Vec<(Scalar, EdwardsPoint)> = per_key
        .into_iter()
        .zip(keys)
        .filter_map(|(c, (_, a))| Some((c, (*a)?)))
        .filter(|(c, _)| *c != Scalar::ZERO)
        .collect();
    let scalars = std::iter::once(b)
        .chain(z.iter().map(|z| -z))
        .chain(used.iter().map(|(c, _)| *c));
    let points = std::iter::once(ED25519_BASEPOINT_POINT)
        .chain(valid.iter().map(|(_, p)| p.r))
        .chain(used.iter().map(|(_, a)| *a));
    EdwardsPoint::vartime_multiscalar_mul(scalars, points)
        .mul_by_cofactor()
        .is_identity()
}

#[cfg(test)]
mod tests;
