//! The encrypted blob format for media and text bodies.
//!
//! Layout: `magic (8) || nonce prefix (19) || segments`, each segment being
//! up to 64 KiB of plaintext sealed with XChaCha20-Poly1305 in the STREAM
//! construction (big-endian 32-bit counter + last-segment flag), so truncation,
//! reordering and splicing of segments are all detected. Every blob has its own
//! random key, so a nonce is never reused, and the project id and blob id are
//! bound as associated data so a blob cannot be swapped for another.

use chacha20poly1305::aead::stream::{NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::aead::{Buffer, Error as AeadError};
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
    let stream = StreamBE32::from_aead(aead, (&nonce).into());
    out.write_all(MAGIC)?;
    out.write_all(&nonce)?;

    // Two segment buffers, sealed in place (room for the tag), reused for
    // every segment: no allocation per segment, one zeroing at the end.
    let mut current = Zeroizing::new(vec![0u8; SEGMENT_LEN + TAG_LEN]);
    let mut next = Zeroizing::new(vec![0u8; SEGMENT_LEN + TAG_LEN]);
    let mut current_len = read_full(plaintext, &mut current[..SEGMENT_LEN])?;
    let mut total = 0u64;
    let mut position = 0u32;
    loop {
        // Look one segment ahead: STREAM must know which segment is the last.
        let next_len = if current_len == SEGMENT_LEN {
            read_full(plaintext, &mut next[..SEGMENT_LEN])?
        } else {
            0
        };
        total += current_len as u64;
        let last = next_len == 0;
        let mut segment = InPlace {
            bytes: &mut current[..],
            len: current_len,
        };
        stream
            .encrypt_in_place(position, last, &aad, &mut segment)
            .map_err(|_| BlobError::Authentication {
                segment: u64::from(position),
            })?;
        let sealed_len = segment.len;
        out.write_all(&current[..sealed_len])?;
        if last {
            break;
        }
        position = position.checked_add(1).ok_or(BlobError::TooLarge {
            bytes: total,
            limit: u64::from(u32::MAX) * SEGMENT_LEN as u64,
        })?;
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
    // The ciphertext is not secret: read it whole (bounded by what the
    // limit allows), then decrypt in place into one exact allocation.
    let sealed_limit = sealed_len_for(limit);
    let mut sealed = Vec::new();
    input
        .take(sealed_limit.saturating_add(1))
        .read_to_end(&mut sealed)?;
    if sealed.len() as u64 > sealed_limit {
        return Err(BlobError::TooLarge {
            bytes: plain_len_of(sealed.len()) as u64,
            limit,
        });
    }
    decrypt_blob_bytes(key, project_id, blob_id, &sealed, limit)
}

/// The largest sealed size whose plaintext fits in `limit`.
fn sealed_len_for(limit: u64) -> u64 {
    let segments = limit / SEGMENT_LEN as u64 + 1;
    limit
        .saturating_add(segments.saturating_mul(TAG_LEN as u64))
        .saturating_add((MAGIC.len() + NONCE_PREFIX_LEN) as u64)
}

/// Plaintext length of a well-formed sealed blob of `sealed` bytes.
fn plain_len_of(sealed: usize) -> usize {
    let body = sealed.saturating_sub(MAGIC.len() + NONCE_PREFIX_LEN);
    let segments = body.div_ceil(SEGMENT_LEN + TAG_LEN).max(1);
    body.saturating_sub(segments * TAG_LEN)
}

/// Decrypts a whole sealed blob held in memory (copied once; see
/// [`decrypt_blob_in_place`] to avoid even that).
pub fn decrypt_blob_bytes(
    key: &SecretBytes<32>,
    project_id: &str,
    blob_id: &str,
    sealed: &[u8],
    limit: u64,
) -> Result<Zeroizing<Vec<u8>>, BlobError> {
    decrypt_blob_in_place(key, project_id, blob_id, sealed.to_vec(), limit)
}

/// Decrypts a sealed blob inside its own buffer: each segment is opened
/// where it lies and moved down over the headers and tags before it, so the
/// plaintext ends up at the front of the same allocation (no second buffer,
/// no fresh pages to fault in). The buffer is zeroized on drop.
pub fn decrypt_blob_in_place(
    key: &SecretBytes<32>,
    project_id: &str,
    blob_id: &str,
    sealed: Vec<u8>,
    limit: u64,
) -> Result<Zeroizing<Vec<u8>>, BlobError> {
    let mut buf = Zeroizing::new(sealed);
    let header = MAGIC.len() + NONCE_PREFIX_LEN;
    if buf.len() < MAGIC.len() || &buf[..MAGIC.len()] != MAGIC {
        return Err(BlobError::BadMagic);
    }
    if buf.len() < header + TAG_LEN {
        return Err(BlobError::Authentication { segment: 0 });
    }
    let plain_len = plain_len_of(buf.len());
    if plain_len as u64 > limit {
        return Err(BlobError::TooLarge {
            bytes: plain_len as u64,
            limit,
        });
    }
    let aad = associated_data(project_id, blob_id);
    let nonce: [u8; NONCE_PREFIX_LEN] = buf[MAGIC.len()..header]
        .try_into()
        .map_err(|_| BlobError::Authentication { segment: 0 })?;
    let stream =
        StreamBE32::from_aead(XChaCha20Poly1305::new(key.expose().into()), (&nonce).into());
    let total = buf.len();
    let (mut read, mut write, mut index) = (header, 0usize, 0u64);
    while read < total {
        let n = (SEGMENT_LEN + TAG_LEN).min(total - read);
        let position =
            u32::try_from(index).map_err(|_| BlobError::Authentication { segment: index })?;
        let mut segment = InPlace {
            bytes: &mut buf[read..read + n],
            len: n,
        };
        stream
            .decrypt_in_place(position, read + n == total, &aad, &mut segment)
            .map_err(|_| BlobError::Authentication { segment: index })?;
        let opened = segment.len;
        buf.copy_within(read..read + opened, write);
        write += opened;
        read += n;
        index += 1;
    }
    buf.truncate(write);
    Ok(buf)
}

/// A segment being sealed or opened in place inside a larger buffer: the
/// AEAD sees `bytes[..len]` as its message and moves `len` by the tag.
struct InPlace<'a> {
    bytes: &'a mut [u8],
    len: usize,
}

impl AsRef<[u8]> for InPlace<'_> {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl AsMut<[u8]> for InPlace<'_> {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[..self.len]
    }
}

impl Buffer for InPlace<'_> {
    fn extend_from_slice(&mut self, other: &[u8]) -> Result<(), AeadError> {
        let end = self.len + other.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(AeadError)?;
        room.copy_from_slice(other);
        self.len = end;
        Ok(())
    }
    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
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
    let stream =
        StreamBE32::from_aead(XChaCha20Poly1305::new(key.expose().into()), (&nonce).into());

    let sealed_len = SEGMENT_LEN + TAG_LEN;
    // Reused for every segment and opened in place; zeroized when dropped.
    let mut current = Zeroizing::new(vec![0u8; sealed_len]);
    let mut next = Zeroizing::new(vec![0u8; sealed_len]);
    let mut current_len = read_full(input, &mut current)?;
    let mut position = 0u32;
    let mut total = 0u64;
    loop {
        let next_len = if current_len == sealed_len {
            read_full(input, &mut next)?
        } else {
            0
        };
        let last = next_len == 0;
        let mut segment = InPlace {
            bytes: &mut current[..],
            len: current_len,
        };
        stream
            .decrypt_in_place(position, last, &aad, &mut segment)
            .map_err(|_| BlobError::Authentication {
                segment: u64::from(position),
            })?;
        let opened = segment.len;
        out.write_all(&current[..opened])?;
        total += opened as u64;
        if last {
            return Ok(total);
        }
        position = position.checked_add(1).ok_or(BlobError::Authentication {
            segment: u64::from(position),
        })?;
        std::mem::swap(&mut current, &mut next);
        current_len = next_len;
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

    #[test]
    fn in_memory_and_streamed_decryption_agree_and_reject_the_same_damage() {
        let (key, sealed) = sealed_sample();
        let whole = decrypt_blob_bytes(&key, "p", "b", &sealed, u64::MAX).unwrap();
        let mut streamed = Vec::new();
        decrypt_blob_to(&key, "p", "b", &mut sealed.as_slice(), &mut streamed).unwrap();
        assert_eq!(&whole[..], &streamed[..]);
        assert_eq!(whole.len(), 2 * SEGMENT_LEN + 10);
        assert!(
            whole.capacity() <= sealed.len(),
            "decrypted in its own buffer"
        );
        // Damage in the last segment is named by its index.
        let mut flipped = sealed.clone();
        let n = flipped.len();
        flipped[n - 3] ^= 0x80;
        assert!(matches!(
            decrypt_blob_bytes(&key, "p", "b", &flipped, u64::MAX),
            Err(BlobError::Authentication { segment: 2 })
        ));
        for cut in [0, 7, 27, 27 + TAG_LEN - 1, 27 + SEGMENT_LEN + TAG_LEN] {
            assert!(decrypt_blob_bytes(&key, "p", "b", &sealed[..cut], u64::MAX).is_err());
        }
        assert!(matches!(
            decrypt_blob_bytes(&key, "p", "b", &sealed, SEGMENT_LEN as u64),
            Err(BlobError::TooLarge { .. })
        ));
    }
}
