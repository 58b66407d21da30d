//! Cryptographic building blocks: identities, project master keys and the
//! encrypted blob format. Everything here wraps reviewed primitives (age,
//! XChaCha20-Poly1305 STREAM, Ed25519, HKDF-SHA256); nothing is home-made.

pub mod blob;
pub mod identity;
pub mod keys;

pub use blob::{
    BlobError, decrypt_blob, decrypt_blob_bytes, decrypt_blob_in_place, decrypt_blob_to,
    encrypt_blob,
};
pub use identity::{IdentityError, PublicIdentity, UnlockedIdentity};
pub use keys::{MasterKey, SecretBytes, content_id};

use sha2::{Digest, Sha256};

/// Decrypted media shared by reference between a decoder, the waveform and
/// the player (symphonia and rodio want an owned `'static` source; a long
/// recording is hundreds of MB, so it is not copied per reader). The bytes
/// are wiped when the last holder drops them, like every other plaintext
/// buffer.
#[derive(Clone)]
pub struct SharedPlaintext(std::sync::Arc<zeroize::Zeroizing<Vec<u8>>>);

impl SharedPlaintext {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(std::sync::Arc::new(zeroize::Zeroizing::new(bytes)))
    }

    /// The bytes back, without a copy, once no one else holds them.
    pub fn try_unwrap(self) -> Result<zeroize::Zeroizing<Vec<u8>>, Self> {
        std::sync::Arc::try_unwrap(self.0).map_err(Self)
    }
}

impl AsRef<[u8]> for SharedPlaintext {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// Never prints the content.
impl std::fmt::Debug for SharedPlaintext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedPlaintext({} bytes)", self.0.len())
    }
}

/// SHA-256 of `data` as lowercase hex; the one digest format used in the DB,
/// the audit chain and manifests.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Fills a fresh buffer from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore;
    let mut out = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::SharedPlaintext;

    #[test]
    fn shared_plaintext_gives_its_bytes_back_only_to_the_last_holder_and_never_prints_them() {
        let shared = SharedPlaintext::new(b"call recording".to_vec());
        let reader = shared.clone();
        assert_eq!(reader.as_ref(), b"call recording");
        assert_eq!(format!("{reader:?}"), "SharedPlaintext(14 bytes)");
        // Still held by `reader`: not handed back.
        let shared = shared.try_unwrap().unwrap_err();
        drop(reader);
        let bytes = shared.try_unwrap().unwrap();
        assert_eq!(bytes.as_slice(), b"call recording");
    }
}
