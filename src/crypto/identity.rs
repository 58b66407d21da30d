//! A person's identity: an X25519 key (age) to receive sealed key slots and
//! packages, and an Ed25519 key to sign audit heads and packages. The secret
//! half is stored as an age file encrypted under the person's passphrase
//! (scrypt); the public half is a printable string people compare by fingerprint.

use age::secrecy::{ExposeSecret, SecretString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::Zeroizing;

const KEY_PREFIX: &str = "sealtag1";
const SECRET_HEADER: &str = "sealtag-identity-v1";
/// scrypt cost of identity files written now (created, or re-wrapped by a
/// passphrase change): 2^18 × 8 × 128 B = 256 MiB, ~0.6 s here; age's own
/// default. Files sealed earlier at 2^16 still open (see [`MAX_SCRYPT_LOG_N`]
/// for the only bound) and are re-wrapped at this cost on the next change.
pub const DEFAULT_SCRYPT_LOG_N: u8 = 18;
/// The most work we accept when opening an identity file (guards against a
/// planted file that would make unlocking take hours).
pub const MAX_SCRYPT_LOG_N: u8 = 20;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("wrong passphrase, or the identity file is damaged")]
    WrongPassphrase,
    #[error("identity file is not valid: {0}")]
    Malformed(String),
    #[error(
        "public key '{text}' is not valid: {why} (expected 'sealtag1:…:age1…' as printed by `sealtag identity show`)"
    )]
    BadPublicKey { text: String, why: String },
    #[error("could not encrypt the identity: {0}")]
    Seal(String),
}

/// The shareable half of an identity.
#[derive(Clone)]
pub struct PublicIdentity {
    pub signing: VerifyingKey,
    pub recipient: age::x25519::Recipient,
}

impl PartialEq for PublicIdentity {
    fn eq(&self, other: &Self) -> bool {
        self.to_key_string() == other.to_key_string()
    }
}

impl fmt::Debug for PublicIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicIdentity({})", self.fingerprint())
    }
}

impl PublicIdentity {
    /// `sealtag1:<ed25519 public key, base64url>:<age X25519 recipient>`.
    pub fn to_key_string(&self) -> String {
        format!(
            "{KEY_PREFIX}:{}:{}",
            URL_SAFE_NO_PAD.encode(self.signing.as_bytes()),
            self.recipient
        )
    }

    pub fn parse(text: &str) -> Result<Self, IdentityError> {
        let bad = |why: &str| IdentityError::BadPublicKey {
            text: text.chars().take(120).collect(),
            why: why.to_string(),
        };
        let mut parts = text.trim().split(':');
        let (Some(prefix), Some(ed), Some(x), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("it must have three parts separated by ':'"));
        };
        if prefix != KEY_PREFIX {
            return Err(bad("it must start with 'sealtag1:'"));
        }
        let ed_bytes = URL_SAFE_NO_PAD
            .decode(ed)
            .map_err(|_| bad("the signing key is not base64url"))?;
        let ed_arr: [u8; 32] = ed_bytes
            .as_slice()
            .try_into()
            .map_err(|_| bad("the signing key is not 32 bytes"))?;
        let signing = VerifyingKey::from_bytes(&ed_arr)
            .map_err(|_| bad("the signing key is not a valid Ed25519 point"))?;
        let recipient: age::x25519::Recipient = x.parse().map_err(|e: &str| bad(e))?;
        Ok(Self { signing, recipient })
    }

    /// A short, stable fingerprint people read to each other out of band:
    /// the first 80 bits of SHA-256 over the key string, in groups of four hex.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.to_key_string().as_bytes());
        hex::encode(&digest[..10])
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(signature) else {
            return false;
        };
        self.signing.verify(message, &sig).is_ok()
    }
}

/// An identity whose secrets are in memory (after the passphrase was given).
/// Both secret keys wipe themselves on drop. Cloned only to hand a copy to
/// a worker thread (sealing a package); every copy wipes itself.
#[derive(Clone)]
pub struct UnlockedIdentity {
    pub name: String,
    x25519: age::x25519::Identity,
    signing: SigningKey,
}

impl fmt::Debug for UnlockedIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UnlockedIdentity({}, {})",
            self.name,
            self.public().fingerprint()
        )
    }
}

impl UnlockedIdentity {
    pub fn generate(name: &str) -> Self {
        Self {
            name: name.to_string(),
            x25519: age::x25519::Identity::generate(),
            signing: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    pub fn public(&self) -> PublicIdentity {
        PublicIdentity {
            signing: self.signing.verifying_key(),
            recipient: self.x25519.to_public(),
        }
    }

    pub fn age_identity(&self) -> &age::x25519::Identity {
        &self.x25519
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// Encrypts the secret keys under `passphrase` as an age (scrypt) file.
    pub fn seal(&self, passphrase: &SecretString, log_n: u8) -> Result<Vec<u8>, IdentityError> {
        let body = Zeroizing::new(format!(
            "{SECRET_HEADER}\nname={}\nx25519={}\ned25519={}\n",
            self.name.replace('\n', " "),
            self.x25519.to_string().expose_secret(),
            hex::encode(self.signing.to_bytes()),
        ));
        let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
        recipient.set_work_factor(log_n);
        age::encrypt(&recipient, body.as_bytes()).map_err(|e| IdentityError::Seal(e.to_string()))
    }

    /// Opens an identity file. Every decryption failure reads the same, so the
    /// message gives no hint about which part was wrong.
    pub fn unseal(file: &[u8], passphrase: &SecretString) -> Result<Self, IdentityError> {
        let mut identity = age::scrypt::Identity::new(passphrase.clone());
        identity.set_max_work_factor(MAX_SCRYPT_LOG_N);
        let plain = Zeroizing::new(
            age::decrypt(&identity, file).map_err(|_| IdentityError::WrongPassphrase)?,
        );
        let text = std::str::from_utf8(&plain)
            .map_err(|_| IdentityError::Malformed("secret part is not UTF-8".into()))?;
        let mut lines = text.lines();
        if lines.next() != Some(SECRET_HEADER) {
            return Err(IdentityError::Malformed("unknown identity format".into()));
        }
        let (mut name, mut x, mut ed) = (None, None, None);
        for line in lines {
            if let Some(v) = line.strip_prefix("name=") {
                name = Some(v.to_string());
            } else if let Some(v) = line.strip_prefix("x25519=") {
                x = Some(v);
            } else if let Some(v) = line.strip_prefix("ed25519=") {
                ed = Some(v);
            }
        }
        let missing = |what: &str| IdentityError::Malformed(format!("missing {what}"));
        let x25519: age::x25519::Identity = x
            .ok_or_else(|| missing("x25519 key"))?
            .parse()
            .map_err(|e: &str| IdentityError::Malformed(e.to_string()))?;
        let ed_bytes = Zeroizing::new(
            hex::decode(ed.ok_or_else(|| missing("ed25519 key"))?)
                .map_err(|_| IdentityError::Malformed("ed25519 key is not hex".into()))?,
        );
        let ed_arr: Zeroizing<[u8; 32]> = Zeroizing::new(
            ed_bytes
                .as_slice()
                .try_into()
                .map_err(|_| IdentityError::Malformed("ed25519 key is not 32 bytes".into()))?,
        );
        Ok(Self {
            name: name.ok_or_else(|| missing("name"))?,
            x25519,
            signing: SigningKey::from_bytes(&ed_arr),
        })
    }
}

/// The scrypt cost (log2 N) an identity file was sealed with, read from its
/// age header (the stanza `-> scrypt <salt> <log_n>`) without the
/// passphrase; `None` if the file has no such stanza.
pub fn sealed_scrypt_log_n(file: &[u8]) -> Option<u8> {
    let header_end = file
        .windows(4)
        .position(|w| w == b"\n---")
        .unwrap_or(file.len());
    let header = std::str::from_utf8(&file[..header_end]).ok()?;
    let stanza = header
        .lines()
        .find_map(|line| line.strip_prefix("-> scrypt "))?;
    let mut args = stanza.split(' ');
    let (Some(_salt), Some(log_n), None) = (args.next(), args.next(), args.next()) else {
        return None;
    };
    log_n.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> SecretString {
        SecretString::from(s.to_string())
    }

    #[test]
    fn seal_unseal_round_trip_keeps_keys() {
        let id = UnlockedIdentity::generate("Ada");
        let file = id.seal(&pass("correct horse"), 10).unwrap();
        let back = UnlockedIdentity::unseal(&file, &pass("correct horse")).unwrap();
        assert_eq!(back.name, "Ada");
        assert_eq!(back.public(), id.public());
        assert!(matches!(
            UnlockedIdentity::unseal(&file, &pass("wrong")),
            Err(IdentityError::WrongPassphrase)
        ));
        // The file must not contain the secret key in the clear.
        let secret = id.x25519.to_string();
        let secret = secret.expose_secret();
        assert!(!String::from_utf8_lossy(&file).contains(secret));
    }

    #[test]
    fn the_sealed_cost_is_read_from_the_header() {
        let id = UnlockedIdentity::generate("Ed");
        for log_n in [10, 12] {
            let file = id.seal(&pass("correct horse"), log_n).unwrap();
            assert_eq!(sealed_scrypt_log_n(&file), Some(log_n));
        }
        assert_eq!(sealed_scrypt_log_n(b"not an age file"), None);
    }

    #[test]
    fn public_key_string_round_trips_and_rejects_garbage() {
        let id = UnlockedIdentity::generate("Bo");
        let text = id.public().to_key_string();
        let parsed = PublicIdentity::parse(&text).unwrap();
        assert_eq!(parsed.fingerprint(), id.public().fingerprint());
        assert_eq!(parsed.fingerprint().len(), 24);
        for bad in [
            "",
            "sealtag1:abc",
            "x:y:z",
            &text.replace("sealtag1", "sealtag2"),
        ] {
            assert!(PublicIdentity::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signatures_verify_only_for_the_signed_message() {
        let id = UnlockedIdentity::generate("Cy");
        let sig = id.sign(b"head 7");
        assert!(id.public().verify(b"head 7", &sig));
        assert!(!id.public().verify(b"head 8", &sig));
        let other = UnlockedIdentity::generate("Di");
        assert!(!other.public().verify(b"head 7", &sig));
    }
}
