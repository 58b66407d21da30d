//! Secret key material that must never be printed, logged or left in memory:
//! the per-project master key and the keys derived from it with HKDF.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A fixed-size secret that is wiped on drop and redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct SecretBytes<const N: usize>([u8; N]);

impl<const N: usize> SecretBytes<N> {
    pub fn new(bytes: [u8; N]) -> Self {
        Self(bytes)
    }
    pub fn random() -> Self {
        Self(super::random_bytes::<N>())
    }
    /// Copies from a slice of exactly `N` bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; N] = bytes.try_into().ok()?;
        Some(Self(arr))
    }
    pub fn expose(&self) -> &[u8; N] {
        &self.0
    }
}

impl<const N: usize> fmt::Debug for SecretBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes<{N}>(redacted)")
    }
}

/// The random 256-bit key of one project. The bundle header holds it sealed to
/// each enrolled person; every other project key is derived from it, each with
/// its own HKDF label so no key is ever used for two purposes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterKey(SecretBytes<32>);

impl MasterKey {
    pub fn generate() -> Self {
        Self(SecretBytes::random())
    }
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        SecretBytes::from_slice(bytes).map(Self)
    }
    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose()
    }

    fn derive(&self, label: &str, project_id: &str) -> SecretBytes<32> {
        let hk = Hkdf::<Sha256>::new(Some(project_id.as_bytes()), self.0.expose());
        let mut out = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's 8160-byte output limit.
        if hk.expand(label.as_bytes(), &mut out).is_err() {
            unreachable!("HKDF output length 32 is always valid");
        }
        let key = SecretBytes::new(out);
        out.zeroize();
        key
    }

    /// Raw SQLCipher key: used with `PRAGMA key = "x'…'"`, so SQLCipher's own
    /// PBKDF2 is skipped (we already hold a uniformly random key).
    pub fn database_key(&self, project_id: &str) -> SecretBytes<32> {
        self.derive("sealtag/v1/sqlcipher", project_id)
    }

    fn header_hmac(&self, project_id: &str, message: &[u8]) -> Hmac<Sha256> {
        let key = self.derive("sealtag/v1/header-mac", project_id);
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key.expose()) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        mac.update(message);
        mac
    }

    /// HMAC key authenticating the plaintext header fields.
    pub fn header_mac(&self, project_id: &str, message: &[u8]) -> [u8; 32] {
        self.header_hmac(project_id, message)
            .finalize()
            .into_bytes()
            .into()
    }

    /// Whether `tag` is the header MAC of `message`, compared in constant
    /// time (`hmac`'s `verify_slice`, through `subtle`): how long a wrong
    /// tag takes to refuse says nothing about how many bytes were right.
    pub fn verify_header_mac(&self, project_id: &str, message: &[u8], tag: &[u8]) -> bool {
        self.header_hmac(project_id, message)
            .verify_slice(tag)
            .is_ok()
    }
}

/// The identity of an item's content as the audit trail records it: an
/// HMAC-SHA256 of the bytes under a key derived from the item's own blob
/// key. While the item exists, whoever can read its blob key can check that
/// a file is that item; once the item is erased its blob key is gone, and
/// the value confirms nothing, not even a guess (a plain SHA-256 would let
/// anyone holding the trail test candidate contents forever).
pub fn content_id(blob_key: &SecretBytes<32>, content: &[u8]) -> String {
    let hk = Hkdf::<Sha256>::new(None, blob_key.expose());
    let mut key = [0u8; 32];
    if hk.expand(b"sealtag/v1/audit-content-id", &mut key).is_err() {
        unreachable!("HKDF output length 32 is always valid");
    }
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    key.zeroize();
    mac.update(content);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod content_id_tests {
    use super::*;

    #[test]
    fn header_mac_verification_takes_only_the_exact_tag() {
        let master = MasterKey::generate();
        let id = "0123456789abcdef0123456789abcdef";
        let tag = master.header_mac(id, b"header");
        assert!(master.verify_header_mac(id, b"header", &tag));
        assert!(!master.verify_header_mac(id, b"header!", &tag));
        assert!(!master.verify_header_mac(id, b"header", &tag[..31]));
        assert!(!master.verify_header_mac(id, b"header", &[]));
        let mut flipped = tag;
        flipped[31] ^= 1;
        assert!(!master.verify_header_mac(id, b"header", &flipped));
        assert!(!MasterKey::generate().verify_header_mac(id, b"header", &tag));
    }

    #[test]
    fn content_id_depends_on_the_key_and_is_not_the_plain_hash() {
        let a = SecretBytes::<32>::random();
        let b = SecretBytes::<32>::random();
        let data = b"call me on 07700 900123";
        assert_eq!(content_id(&a, data), content_id(&a, data));
        assert_ne!(content_id(&a, data), content_id(&b, data));
        assert_ne!(content_id(&a, data), crate::crypto::sha256_hex(data));
        assert_ne!(
            content_id(&a, data),
            content_id(&a, b"call me on 07700 900124")
        );
    }
}
