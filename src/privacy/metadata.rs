//! Lossless metadata stripping for images that need no other change: the
//! segments and chunks that carry EXIF (GPS, camera serials, owners,
//! thumbnails), XMP, IPTC and comments are dropped; the image data are
//! copied byte for byte. Used by work packages and exports.

/// A JPEG without APP1 (EXIF, XMP), APP13 (IPTC) and COM segments; the
/// image data are untouched. Anything unexpected keeps the bytes as they
/// are from that point (they were validated at import).
pub fn strip_jpeg(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() < 4 || bytes[..2] != [0xFF, 0xD8] {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..2]);
    let mut i = 2;
    while i + 4 <= bytes.len() && bytes[i] == 0xFF {
        let marker = bytes[i + 1];
        // Start of scan: the rest is entropy-coded data and the trailer.
        if marker == 0xDA {
            break;
        }
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        let end = i + 2 + len;
        if len < 2 || end > bytes.len() {
            break;
        }
        if !matches!(marker, 0xE1 | 0xED | 0xFE) {
            out.extend_from_slice(&bytes[i..end]);
        }
        i = end;
    }
    out.extend_from_slice(&bytes[i..]);
    out
}

/// A PNG without its text and EXIF chunks (tEXt, zTXt, iTXt, eXIf, tIME).
pub fn strip_png(bytes: &[u8]) -> Vec<u8> {
    const SIG: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    if bytes.len() < 8 || bytes[..8] != SIG {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&SIG);
    let mut i = 8;
    while i + 12 <= bytes.len() {
        let len = u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]) as usize;
        let end = i + 12 + len;
        if end > bytes.len() {
            break;
        }
        let kind = &bytes[i + 4..i + 8];
        if !matches!(kind, b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"tIME") {
            out.extend_from_slice(&bytes[i..end]);
        }
        i = end;
    }
    out.extend_from_slice(&bytes[i..]);
    out
}
