//! The encrypted blob format for media and text bodies.
//!
//! Layout: `magic (8) || nonce prefix (19) || segments`, each segment being
//! up to 64 KiB of plaintext sealed with XChaCha20-Poly1305 in the STREAM
//! construction (big-endian 32-bit counter + last-segment flag), so truncation,
//! reordering and splicing of segments are all detected. Every blob has its own
//! random key, so a nonce is never reused, and the project id and blob id are
//! bound as associated data so a blob cannot be swapped for another.

use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use std::io::{self, Read, Write};
use zeroize::Zeroizing;

use super::SecretBytes;

const MAGIC: &[u8; 8] = b"STBLOB01";
const NONCE_PREFIX_LEN: usize = 19;
/// Plaintext bytes per segment.
pub const SEGMENT_LEN: usize = 64 * 1024;
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob I/O failed: {0}")]
    Io(#[from] io::Error),
    #[error("not a Sealtag blob (bad magic bytes)")]
    BadMagic,
    #[error(
        "blob segment {segment} failed authentication: the file is corrupt, truncated or was tampered with"
    )]
    Authentication { segment: u64 },
    #[error("blob is too large to hold in memory ({bytes} bytes, limit {limit})")]
    TooLarge { bytes: u64, limit: u64 },
}

fn associated_data(project_id: &str, blob_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64);
    aad.extend_from_slice(b"sealtag blob v1\0");
    aad.extend_from_slice(project_id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(blob_id.as_bytes());
    aad
}

/// Reads until `buf` is full or EOF; returns the number of bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Encrypts everything `plaintext` yields into `out`, one segment at a time,
/// so arbitrarily large inputs stream through bounded memory.
/// Returns the number of plaintext bytes written.
pub fn encrypt_blob(
    key: &SecretBytes<32>,
    project_id: &str,
    blob_id: &str,
    plaintext: &mut impl Read,
    out: &mut impl Write,
) -> Result<u64, BlobError> {
    let aad = associated_data(project_id, blob_id);
    let nonce: [u8; NONCE_PREFIX_LEN] = super::random_bytes();
    let aead = XChaCha20Poly1305::new(key.expose().into());
    let mut stream = EncryptorBE32::from_aead(aead, (&nonce).into());
    out.write_all(MAGIC)?;
    out.write_all(&nonce)?;

    let mut current = Zeroizing::new(vec![0u8; SEGMENT_LEN]);
    let mut next = Zeroizing::new(vec![0u8; SEGMENT_LEN]);
    let mut current_len = read_full(plaintext, &mut current)?;
    let mut total = 0u64;
    loop {
        // Look one segment ahead: STREAM must know which segment is the last.
        let next_len = if current_len == SEGMENT_LEN {
            read_full(plaintext, &mut next)?
        } else {
            0
        };
        total += current_len as u64;
        let aead_payload = chacha20poly1305::aead::Payload {
            msg: &current[..current_len],
            aad: &aad,
        };
        if next_len == 0 {
            let sealed = stream
                .encrypt_last(aead_payload)
                .map_err(|_| BlobError::Authentication { segment: 0 })?;
            out.write_all(&sealed)?;
            break;
        }
        let sealed = stream
            .encrypt_next(aead_payload)
            .map_err(|_| BlobError::Authentication { segment: 0 })?;
        out.write_all(&sealed)?;
        std::mem::swap(&mut current, &mut next);
        current_len = next_len;
    }
    out.flush()?;
    Ok(total)
}

/// Decrypts a whole blob into memory (never to disk). `limit` bounds the
/// plaintext size so a forged length cannot exhaust memory.
pub fn decrypt_blob(
    key: &SecretBytes<32>,
    project_id: &str,
    blob_id: &str,
    input: &mut impl Read,
    limit: u64,
) -> Result<Zeroizing<Vec<u8>>, BlobError> {
    let mut out = LimitedVec {
        bytes: Zeroizing::new(Vec::new()),
        limit,
    };
    match decrypt_blob_to(key, project_id, blob_id, input, &mut out) {
        Ok(_) => Ok(out.bytes),
        Err(BlobError::Io(e)) if e.kind() == io::ErrorKind::OutOfMemory => {
            Err(BlobError::TooLarge {
                bytes: out.bytes.len() as u64 + SEGMENT_LEN as u64,
                limit,
            })
        }
        Err(e) => Err(e),
    }
}

/// Decrypts a blob segment by segment into `out`, so a blob of any size
/// streams through bounded memory (package members). Each segment is
/// authenticated before it is written; a failure stops at that segment.
/// Returns the number of plaintext bytes written.
pub fn decrypt_blob_to(
    key: &SecretBytes<32>,
    project_id: &str,
    blob_id: &str,
    input: &mut impl Read,
    out: &mut impl Write,
) -> Result<u64, BlobError> {
    let aad = associated_data(project_id, blob_id);
    let mut magic = [0u8; 8];
    if read_full(input, &mut magic)? != magic.len() || &magic != MAGIC {
        return Err(BlobError::BadMagic);
    }
    let mut nonce = [0u8; NONCE_PREFIX_LEN];
    if read_full(input, &mut nonce)? != NONCE_PREFIX_LEN {
        return Err(BlobError::Authentication { segment: 0 });
    }
    let aead = XChaCha20Poly1305::new(key.expose().into());
    let mut stream = DecryptorBE32::from_aead(aead, (&nonce).into());

    let sealed_len = SEGMENT_LEN + TAG_LEN;
    let mut current = vec![0u8; sealed_len];
    let mut next = vec![0u8; sealed_len];
    let mut current_len = read_full(input, &mut current)?;
    let mut segment = 0u64;
    let mut total = 0u64;
    loop {
        let next_len = if current_len == sealed_len {
            read_full(input, &mut next)?
        } else {
            0
        };
        let payload = chacha20poly1305::aead::Payload {
            msg: &current[..current_len],
            aad: &aad,
        };
        if next_len == 0 {
            let plain = Zeroizing::new(
                stream
                    .decrypt_last(payload)
                    .map_err(|_| BlobError::Authentication { segment })?,
            );
            out.write_all(&plain)?;
            return Ok(total + plain.len() as u64);
        }
        let plain = Zeroizing::new(
            stream
                .decrypt_next(payload)
                .map_err(|_| BlobError::Authentication { segment })?,
        );
        out.write_all(&plain)?;
        total += plain.len() as u64;
        std::mem::swap(&mut current, &mut next);
        current_len = next_len;
        segment += 1;
    }
}

/// An in-memory sink that refuses to grow past `limit` (reported as
/// `OutOfMemory`, turned into [`BlobError::TooLarge`] by the caller).
struct LimitedVec {
    bytes: Zeroizing<Vec<u8>>,
    limit: u64,
}

impl Write for LimitedVec {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len() as u64 + buf.len() as u64 > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "blob larger than its limit",
            ));
        }
        // Grow by hand so a reallocation never leaves an unzeroized copy.
        if self.bytes.capacity() < self.bytes.len() + buf.len() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(
                (self.bytes.len() + buf.len()).max(self.bytes.capacity() * 2),
            ));
            bigger.extend_from_slice(&self.bytes);
            self.bytes = bigger;
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(len: usize) {
        let key = SecretBytes::random();
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let mut sealed = Vec::new();
        let n = encrypt_blob(&key, "p", "b", &mut data.as_slice(), &mut sealed).unwrap();
        assert_eq!(n, len as u64);
        assert!(
            !sealed
                .windows(16)
                .any(|w| data.len() >= 16 && w == &data[..16])
        );
        let back = decrypt_blob(&key, "p", "b", &mut sealed.as_slice(), u64::MAX).unwrap();
        assert_eq!(&back[..], &data[..]);
    }

    #[test]
    fn round_trips_at_segment_boundaries() {
        for len in [
            0,
            1,
            SEGMENT_LEN - 1,
            SEGMENT_LEN,
            SEGMENT_LEN + 1,
            3 * SEGMENT_LEN,
        ] {
            round_trip(len);
        }
    }

    fn sealed_sample() -> (SecretBytes<32>, Vec<u8>) {
        let key = SecretBytes::random();
        let data = vec![42u8; 2 * SEGMENT_LEN + 10];
        let mut sealed = Vec::new();
        encrypt_blob(&key, "p", "b", &mut data.as_slice(), &mut sealed).unwrap();
        (key, sealed)
    }

    #[test]
    fn detects_bit_flip_truncation_and_wrong_binding() {
        let (key, sealed) = sealed_sample();
        let mut flipped = sealed.clone();
        flipped[40] ^= 1;
        assert!(matches!(
            decrypt_blob(&key, "p", "b", &mut flipped.as_slice(), u64::MAX),
            Err(BlobError::Authentication { segment: 0 })
        ));
        // Dropping the final segment must not look like a shorter valid blob.
        let truncated = &sealed[..8 + 19 + SEGMENT_LEN + TAG_LEN];
        assert!(decrypt_blob(&key, "p", "b", &mut &truncated[..], u64::MAX).is_err());
        // A blob moved to another id or project does not decrypt.
        assert!(decrypt_blob(&key, "p", "other", &mut sealed.as_slice(), u64::MAX).is_err());
        assert!(decrypt_blob(&key, "q", "b", &mut sealed.as_slice(), u64::MAX).is_err());
        let other_key = SecretBytes::random();
        assert!(decrypt_blob(&other_key, "p", "b", &mut sealed.as_slice(), u64::MAX).is_err());
    }

    #[test]
    fn refuses_plaintext_over_limit_and_bad_magic() {
        let (key, sealed) = sealed_sample();
        assert!(matches!(
            decrypt_blob(&key, "p", "b", &mut sealed.as_slice(), 1000),
            Err(BlobError::TooLarge { .. })
        ));
        assert!(matches!(
            decrypt_blob(&key, "p", "b", &mut &b"garbage-bytes-here"[..], u64::MAX),
            Err(BlobError::BadMagic)
        ));
    }
}
