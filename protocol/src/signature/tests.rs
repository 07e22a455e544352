use curve25519_dalek::constants::EIGHT_TORSION;
use ed25519_dalek::{Signer, SigningKey};
use proptest::prelude::*;

use super::*;

const DOMAIN: &[u8] = b"tipx/sign/v1";

struct Case {
    key: PublicKey,
    message: Vec<u8>,
    signature: [u8; 64],
}

impl Case {
    fn signed(&self) -> Signed<'_> {
        Signed {
            key: &self.key,
            domain: DOMAIN,
            message: &self.message,
            signature: &self.signature,
        }
    }

    /// What ed25519-dalek's `verify_strict` says of it.
    fn strict(&self) -> bool {
        let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(self.key.as_bytes()) else {
            return false;
        };
        let msg = [DOMAIN, &self.message].concat();
        vk.verify_strict(&msg, &ed25519_dalek::Signature::from_bytes(&self.signature))
            .is_ok()
    }
}

fn signing(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn honest(seed: u8, message: &[u8]) -> Case {
    let sk = signing(seed);
    Case {
        key: PublicKey::from_bytes(sk.verifying_key().as_bytes()).expect("valid key"),
        message: message.to_vec(),
        signature: sk.sign(&[DOMAIN, message].concat()).to_bytes(),
    }
}

/// A signature with a chosen `R` by the key of `seed`, solving the equation with the
/// secret scalar: `S = r + k·a` for `R = [r]B + extra`.
fn crafted(seed: u8, message: &[u8], r: Scalar, extra: EdwardsPoint) -> Case {
    let sk = signing(seed);
    let a = sk.to_scalar();
    let key = PublicKey::from_bytes(sk.verifying_key().as_bytes()).expect("valid key");
    let big_r = (EdwardsPoint::mul_base(&r) + extra).compress();
    let mut h = Sha512::new();
    h.update(big_r.as_bytes());
    h.update(key.as_bytes());
    h.update(DOMAIN);
    h.update(message);
    let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
    let s = r + k * a;
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(big_r.as_bytes());
    signature[32..].copy_from_slice(s.as_bytes());
    Case {
        key,
        message: message.to_vec(),
        signature,
    }
}

fn batch(cases: &[Case]) -> Vec<bool> {
    let signed: Vec<Signed<'_>> = cases.iter().map(Case::signed).collect();
    verify_batch(&signed)
}

fn single(cases: &[Case]) -> Vec<bool> {
    cases.iter().map(|c| verify(&c.signed())).collect()
}

#[test]
fn honest_signatures_pass_alone_and_in_a_batch_of_several_signers() {
    let cases: Vec<Case> = (0..40u8)
        .map(|i| honest(i % 3, format!("record {i}").as_bytes()))
        .collect();
    assert!(single(&cases).iter().all(|v| *v));
    assert!(batch(&cases).iter().all(|v| *v));
    assert!(cases.iter().all(Case::strict));
}

#[test]
fn a_batch_names_exactly_the_bad_signatures() {
    let mut cases: Vec<Case> = (0..30u8)
        .map(|i| honest(1, format!("alert {i}").as_bytes()))
        .collect();
    cases[3].message[0] ^= 1; // a tampered message
    cases[11].signature[40] ^= 1; // a flipped bit of S
    cases[17].signature[5] ^= 1; // a flipped bit of R
    cases[22].key = honest(2, b"").key; // the wrong key
    let want: Vec<bool> = (0..30).map(|i| ![3, 11, 17, 22].contains(&i)).collect();
    assert_eq!(batch(&cases), want);
    assert_eq!(single(&cases), want);
    assert_eq!(cases.iter().map(Case::strict).collect::<Vec<_>>(), want);
}

#[test]
fn a_non_canonical_s_is_refused() {
    let mut c = honest(1, b"alert");
    // S + ℓ encodes the same scalar, non-canonically; ℓ = (ℓ - 1) + 1.
    let l_minus_one: [u8; 32] = (-Scalar::ONE).to_bytes();
    let s: [u8; 32] = c.signature[32..].try_into().expect("32 bytes");
    let mut carry = 1u16;
    for (out, (a, b)) in c.signature[32..].iter_mut().zip(s.iter().zip(l_minus_one)) {
        let v = *a as u16 + b as u16 + carry;
        *out = v as u8;
        carry = v >> 8;
    }
    assert_eq!(carry, 0, "S + ℓ fits in 32 bytes for this S");
    assert!(!verify(&c.signed()));
    assert_eq!(batch(&[c, honest(1, b"other")]), [false, true]);
}

#[test]
fn a_small_order_r_is_refused_even_though_the_equation_holds() {
    // R = T of order 8 and S = k·a: [8]([S]B - [k]A - R) = -[8]T = 0.
    let c = crafted(1, b"alert", Scalar::ZERO, EIGHT_TORSION[1]);
    assert!(!verify(&c.signed()));
    assert!(!c.strict());
    assert_eq!(batch(&[c, honest(1, b"other")]), [false, true]);
}

#[test]
fn a_small_order_key_is_refused_even_though_the_equation_holds() {
    // A = T: [k]A vanishes under the cofactor, so R = [r]B, S = r satisfies the equation.
    let r = Scalar::from(7u64);
    let big_r = EdwardsPoint::mul_base(&r).compress();
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(big_r.as_bytes());
    signature[32..].copy_from_slice(r.as_bytes());
    let weak = EIGHT_TORSION[1].compress();
    let c = Case {
        key: PublicKey::from_bytes(weak.as_bytes()).expect("decompresses"),
        message: b"alert".to_vec(),
        signature,
    };
    assert!(!verify(&c.signed()));
    assert!(!c.strict());
    assert_eq!(batch(&[c, honest(1, b"other")]), [false, true]);
}

#[test]
fn non_canonical_point_encodings_are_recognised() {
    let mut p = [0xffu8; 32];
    p[31] = 0x7f;
    for low in 0xed..=0xff {
        p[0] = low;
        assert!(!canonical_y(&p), "y = {low:#x}.. is at or above the prime");
        p[31] = 0xff; // the sign bit does not change y
        assert!(!canonical_y(&p));
        p[31] = 0x7f;
    }
    p[0] = 0xec; // p - 1
    assert!(canonical_y(&p));
    assert!(canonical_y(
        EdwardsPoint::mul_base(&Scalar::ONE).compress().as_bytes()
    ));
}

#[test]
fn a_mixed_order_r_gets_the_same_verdict_alone_and_in_a_batch() {
    // R = [r]B + T: the cofactored equation holds and the cofactorless one does not.
    // `verify_strict` refuses it; this rule accepts it, on every path alike, which is what
    // keeps every node's verdict the same.
    let c = crafted(1, b"alert", Scalar::from(99u64), EIGHT_TORSION[3]);
    assert!(!c.strict());
    assert!(verify(&c.signed()));
    let mut cases = vec![c];
    cases.extend((0..8u8).map(|i| honest(1, &[i])));
    cases.push(crafted(1, b"again", Scalar::from(5u64), EIGHT_TORSION[4]));
    assert!(batch(&cases).iter().all(|v| *v));
}

proptest! {
    #[test]
    fn batch_verdicts_equal_single_verdicts_and_verify_strict(
        flips in proptest::collection::vec((any::<bool>(), 0usize..64 + 11, 0u8..8), 1..24),
    ) {
        let cases: Vec<Case> = flips
            .iter()
            .enumerate()
            .map(|(i, (flip, at, bit))| {
                let mut c = honest((i % 2) as u8, format!("page item {i}").as_bytes());
                if *flip {
                    if *at < 64 {
                        c.signature[*at] ^= 1 << bit;
                    } else {
                        c.message[at - 64] ^= 1 << bit;
                    }
                }
                c
            })
            .collect();
        let singles = single(&cases);
        prop_assert_eq!(batch(&cases), singles.clone());
        prop_assert_eq!(cases.iter().map(Case::strict).collect::<Vec<_>>(), singles);
    }
}
