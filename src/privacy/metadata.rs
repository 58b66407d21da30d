//! Lossless metadata stripping by allow-list: every JPEG and PNG that
//! leaves the site (derivatives, package members, exported media,
//! watermarked copies) is rebuilt from the pieces a decoder needs, so that
//! EXIF, XMP, IPTC, MPF, JUMBF/C2PA, comments, private chunks and anything
//! appended after the image can never ride along, whatever new segment a
//! camera invents next. The image data are copied byte for byte.
//!
//! What is kept:
//! - JPEG: SOI; a canonical JFIF APP0 (version 1.01, no density, no
//!   thumbnail) when the original had one; a synthesized EXIF APP1 holding
//!   only the Orientation tag when the original's orientation was not 1; a
//!   canonical Adobe APP14 holding only the colour transform (needed to
//!   decode CMYK/YCCK); the `ICC_PROFILE` APP2 chunks when they form one
//!   well-formed profile; DQT, DHT, DAC, DRI, DNL, SOFn and SOS segments
//!   (their lengths checked against their contents) with the entropy-coded
//!   data and RSTn markers; EOI. Nothing after EOI.
//! - PNG: IHDR, PLTE, IDAT, IEND, tRNS, gAMA, cHRM, sRGB, pHYs and iCCP
//!   (whose free-text profile name is replaced by "ICC profile"). Nothing
//!   after IEND.
//!
//! Anything the walker cannot account for is an error, never copied.

/// Why an image could not be rebuilt from its allowed parts.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StripError {
    #[error("'{format}' is not a format the metadata stripper rebuilds; re-encode it instead")]
    UnsupportedFormat { format: String },
    #[error(
        "the file is not a {format} image: its signature is missing at byte 0; re-import the original file"
    )]
    NotFormat { format: &'static str },
    #[error(
        "the {format} image is truncated: {what} at byte {offset} runs past the end of the data ({len} bytes); re-import the original file"
    )]
    Truncated {
        format: &'static str,
        what: String,
        offset: usize,
        len: usize,
    },
    #[error(
        "the {format} image is malformed at byte {offset}: {reason}; its metadata cannot be stripped safely, so it is not written (re-import the original file or convert it)"
    )]
    Malformed {
        format: &'static str,
        offset: usize,
        reason: String,
    },
}

/// Rebuilds a JPEG or PNG (`format` as the store names it) from its
/// allowed parts.
pub fn strip_image(format: &str, bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    match format {
        "jpeg" => strip_jpeg(bytes),
        "png" => strip_png(bytes),
        other => Err(StripError::UnsupportedFormat {
            format: other.to_owned(),
        }),
    }
}

// ---------------------------------------------------------------------------
// JPEG (ITU-T T.81 Annex B)

const JPEG: &str = "jpeg";
const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;

/// One marker segment of a JPEG, in file order.
#[derive(Clone, Copy, Debug)]
pub struct JpegSegment<'a> {
    /// The marker code (the byte after FF).
    pub marker: u8,
    /// Offset of the marker's first FF (after any fill bytes).
    pub offset: usize,
    /// The payload after the 2-byte length (empty for EOI).
    pub body: &'a [u8],
    /// For SOS: the entropy-coded data that follows, RSTn markers included;
    /// empty for every other marker.
    pub scan: &'a [u8],
}

/// The marker segments of the first JPEG image in `bytes`, up to and
/// including its EOI, and the offset just after that EOI.
pub struct JpegLayout<'a> {
    pub segments: Vec<JpegSegment<'a>>,
    pub end: usize,
}

fn truncated(
    format: &'static str,
    what: impl Into<String>,
    offset: usize,
    len: usize,
) -> StripError {
    StripError::Truncated {
        format,
        what: what.into(),
        offset,
        len,
    }
}

fn malformed(format: &'static str, offset: usize, reason: impl Into<String>) -> StripError {
    StripError::Malformed {
        format,
        offset,
        reason: reason.into(),
    }
}

/// Walks the marker segments of the first image (lengths skip segment
/// bodies, so an FF D9 inside an EXIF thumbnail or a comment is not taken
/// for the end) and the entropy-coded data after each SOS (where FF 00 is
/// a stuffed byte and FF D0..D7 a restart marker), until the first EOI.
/// Progressive images simply have several SOS segments. Only the structure
/// is checked here; [`strip_jpeg`] also checks the contents it keeps.
pub fn parse_jpeg(bytes: &[u8]) -> Result<JpegLayout<'_>, StripError> {
    let len = bytes.len();
    if bytes.get(..2) != Some(&[0xFF, SOI]) {
        return Err(StripError::NotFormat { format: JPEG });
    }
    let mut segments = Vec::new();
    let mut i = 2usize;
    loop {
        match bytes.get(i) {
            None => return Err(truncated(JPEG, "the next marker", i, len)),
            Some(0xFF) => {}
            Some(b) => {
                return Err(malformed(
                    JPEG,
                    i,
                    format!("a marker (FF xx) was expected, found byte {b:02X}"),
                ));
            }
        }
        // Any number of FF fill bytes may precede a marker code.
        let mut code_at = i + 1;
        while bytes.get(code_at) == Some(&0xFF) {
            code_at += 1;
        }
        let offset = code_at - 1;
        let Some(&marker) = bytes.get(code_at) else {
            return Err(truncated(JPEG, "the marker", offset, len));
        };
        i = code_at + 1;
        match marker {
            EOI => {
                segments.push(JpegSegment {
                    marker,
                    offset,
                    body: &[],
                    scan: &[],
                });
                return Ok(JpegLayout { segments, end: i });
            }
            0x00 | 0x01 | SOI | 0xD0..=0xD7 => {
                return Err(malformed(
                    JPEG,
                    offset,
                    format!("marker FF {marker:02X} is not allowed outside entropy-coded data"),
                ));
            }
            _ => {}
        }
        let what = || format!("the FF {marker:02X} segment");
        let Some(len_bytes) = bytes.get(i..i + 2) else {
            return Err(truncated(JPEG, what(), offset, len));
        };
        let seg_len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if seg_len < 2 {
            return Err(malformed(
                JPEG,
                offset,
                format!("the FF {marker:02X} segment declares a length of {seg_len} bytes"),
            ));
        }
        let Some(body) = bytes.get(i + 2..i + seg_len) else {
            return Err(truncated(JPEG, what(), offset, len));
        };
        i += seg_len;
        let scan_start = i;
        if marker == SOS {
            i = scan_end(bytes, scan_start)?;
        }
        segments.push(JpegSegment {
            marker,
            offset,
            body,
            scan: bytes.get(scan_start..i).unwrap_or(&[]),
        });
    }
}

/// The offset of the first FF (fill bytes included) of the marker that ends
/// the entropy-coded data starting at `start`.
fn scan_end(bytes: &[u8], start: usize) -> Result<usize, StripError> {
    let mut i = start;
    loop {
        let Some(ff) = bytes
            .get(i..)
            .and_then(|rest| rest.iter().position(|b| *b == 0xFF))
        else {
            return Err(truncated(
                JPEG,
                "the entropy-coded data of the scan starting",
                start,
                bytes.len(),
            ));
        };
        let at = i + ff;
        let mut next = at + 1;
        while bytes.get(next) == Some(&0xFF) {
            next += 1;
        }
        match bytes.get(next) {
            None => {
                return Err(truncated(
                    JPEG,
                    "the entropy-coded data of the scan starting",
                    start,
                    bytes.len(),
                ));
            }
            // A stuffed FF data byte or a restart marker: the scan goes on.
            Some(0x00 | 0xD0..=0xD7) => i = next + 1,
            Some(_) => return Ok(at),
        }
    }
}

/// The length of the first JPEG image in `bytes` (up to and including its
/// EOI); anything after it is a trailer (a motion photo's video, an MPO's
/// second image, padding).
pub fn jpeg_image_len(bytes: &[u8]) -> Result<usize, StripError> {
    parse_jpeg(bytes).map(|layout| layout.end)
}

/// The EXIF orientation (1..=8) of a JPEG, if its first EXIF APP1 has one.
pub fn jpeg_orientation(bytes: &[u8]) -> Option<u16> {
    let layout = parse_jpeg(bytes).ok()?;
    layout
        .segments
        .iter()
        .find(|s| s.marker == 0xE1 && s.body.starts_with(b"Exif\0\0"))
        .and_then(|s| exif_orientation(s.body.get(6..)?))
}

/// Tag 0x0112 (Orientation, SHORT) of IFD0 of a TIFF-structured EXIF block.
fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let big = match tiff.get(..4)? {
        [b'M', b'M', 0, 42] => true,
        [b'I', b'I', 42, 0] => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = tiff.get(at..at.checked_add(2)?)?;
        Some(if big {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b = tiff.get(at..at.checked_add(4)?)?;
        Some(if big {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    (0..count).find_map(|n| {
        let entry = ifd.checked_add(2)?.checked_add(n.checked_mul(12)?)?;
        (u16_at(entry)? == 0x0112 && u16_at(entry + 2)? == 3)
            .then(|| u16_at(entry + 8))
            .flatten()
            .filter(|o| (1..=8).contains(o))
    })
}

/// The payload of a minimal big-endian EXIF APP1 holding only IFD0 with
/// the Orientation tag.
fn orientation_exif(orientation: u16) -> Vec<u8> {
    let mut body = Vec::with_capacity(32);
    body.extend_from_slice(b"Exif\0\0MM\0\x2A");
    body.extend_from_slice(&8u32.to_be_bytes()); // IFD0 right after the header
    body.extend_from_slice(&1u16.to_be_bytes()); // one entry
    body.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    body.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    body.extend_from_slice(&1u32.to_be_bytes()); // count
    body.extend_from_slice(&orientation.to_be_bytes());
    body.extend_from_slice(&[0, 0]); // value padding
    body.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    body
}

/// A JPEG rebuilt from its allowed parts (see the module comment), keeping
/// its own orientation.
pub fn strip_jpeg(bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    let orientation = jpeg_orientation(bytes);
    strip_jpeg_with_orientation(bytes, orientation)
}

/// [`strip_jpeg`], writing `orientation` (when it is 2..=8) as the only
/// EXIF tag instead of the image's own: a re-encoded image carries its
/// source's orientation this way.
pub fn strip_jpeg_with_orientation(
    bytes: &[u8],
    orientation: Option<u16>,
) -> Result<Vec<u8>, StripError> {
    let layout = parse_jpeg(bytes)?;
    let mut jfif = false;
    let mut adobe_transform: Option<u8> = None;
    let mut icc: Vec<&JpegSegment<'_>> = Vec::new();
    let mut decoding: Vec<&JpegSegment<'_>> = Vec::new();
    let (mut frames, mut scans) = (0usize, 0usize);
    for seg in &layout.segments {
        match seg.marker {
            0xE0 if seg.body.starts_with(b"JFIF\0") => jfif = true,
            0xE2 if seg.body.starts_with(b"ICC_PROFILE\0") => icc.push(seg),
            0xEE if seg.body.starts_with(b"Adobe") => {
                let transform = seg.body.get(11).copied().ok_or_else(|| {
                    malformed(
                        JPEG,
                        seg.offset,
                        "the Adobe APP14 segment is shorter than its 12 bytes",
                    )
                })?;
                if transform > 2 {
                    return Err(malformed(
                        JPEG,
                        seg.offset,
                        format!("the Adobe APP14 colour transform is {transform}, not 0, 1 or 2"),
                    ));
                }
                adobe_transform = Some(transform);
            }
            // Application data (APPn), the reserved JPGn extensions and
            // comments carry nothing a decoder needs.
            0xE0..=0xFE => {}
            EOI => {}
            marker => {
                check_decoding_segment(seg)?;
                match marker {
                    SOS => scans += 1,
                    0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => frames += 1,
                    _ => {}
                }
                decoding.push(seg);
            }
        }
    }
    if frames != 1 || scans == 0 {
        return Err(malformed(
            JPEG,
            0,
            format!(
                "{frames} frame header(s) and {scans} scan(s); one frame with at least one scan is needed"
            ),
        ));
    }

    let mut out = Vec::with_capacity(bytes.len().min(layout.end));
    out.extend_from_slice(&[0xFF, SOI]);
    if jfif {
        // Version 1.01, no units, 1:1 density, no thumbnail.
        segment(
            &mut out,
            0xE0,
            b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00",
        );
    }
    if let Some(o) = orientation.filter(|o| (2..=8).contains(o)) {
        segment(&mut out, 0xE1, &orientation_exif(o));
    }
    for chunk in icc_chunks(&icc) {
        segment(&mut out, 0xE2, chunk);
    }
    if let Some(t) = adobe_transform {
        // Version 100, no flags, the transform.
        segment(
            &mut out,
            0xEE,
            &[b'A', b'd', b'o', b'b', b'e', 0, 100, 0, 0, 0, 0, t],
        );
    }
    for seg in decoding {
        segment(&mut out, seg.marker, seg.body);
        out.extend_from_slice(seg.scan);
    }
    out.extend_from_slice(&[0xFF, EOI]);
    Ok(out)
}

/// The `ICC_PROFILE` chunks in sequence order when they form exactly one
/// well-formed profile (numbered 1..=count, each once, the assembled
/// profile's header giving its own length and the `acsp` signature);
/// otherwise none: a damaged profile is dropped, not copied.
fn icc_chunks<'a>(segments: &[&JpegSegment<'a>]) -> Vec<&'a [u8]> {
    const HEADER: usize = 14; // "ICC_PROFILE\0", sequence number, count
    let Some(count) = segments.first().and_then(|s| s.body.get(13).copied()) else {
        return Vec::new();
    };
    if usize::from(count) != segments.len() {
        return Vec::new();
    }
    let mut ordered: Vec<Option<&'a [u8]>> = vec![None; segments.len()];
    for seg in segments {
        let (Some(&seq), Some(&n)) = (seg.body.get(12), seg.body.get(13)) else {
            return Vec::new();
        };
        let slot = usize::from(seq)
            .checked_sub(1)
            .and_then(|i| ordered.get_mut(i));
        match slot {
            Some(slot @ None) if n == count => *slot = Some(seg.body),
            _ => return Vec::new(),
        }
    }
    let chunks: Vec<&'a [u8]> = ordered.into_iter().flatten().collect();
    let profile: Vec<u8> = chunks
        .iter()
        .flat_map(|c| c.get(HEADER..).unwrap_or(&[]).iter().copied())
        .collect();
    let declared = profile
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    if profile.len() < 128
        || declared != Some(profile.len())
        || profile.get(36..40) != Some(b"acsp")
    {
        return Vec::new();
    }
    chunks
}

/// Writes one marker segment.
fn segment(out: &mut Vec<u8>, marker: u8, body: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    // Every body came from, or is smaller than, a 16-bit segment.
    let len = u16::try_from(body.len() + 2).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
}

/// Checks that a segment a decoder reads holds exactly what its header
/// says, so that no extra bytes ride along inside it.
fn check_decoding_segment(seg: &JpegSegment<'_>) -> Result<(), StripError> {
    let (marker, body) = (seg.marker, seg.body);
    let bad = |reason: String| Err(malformed(JPEG, seg.offset, reason));
    match marker {
        // DQT: (precision/id, 64 or 128 bytes)*
        0xDB => {
            let mut at = 0;
            while let Some(&pq_tq) = body.get(at) {
                let size = if pq_tq >> 4 == 0 { 64 } else { 128 };
                if pq_tq >> 4 > 1 || pq_tq & 0x0F > 3 || at + 1 + size > body.len() {
                    return bad(format!("the quantisation table at +{at} is malformed"));
                }
                at += 1 + size;
            }
            if body.is_empty() {
                return bad("an empty quantisation table segment".into());
            }
        }
        // DHT: (class/id, 16 counts, the values)*
        0xC4 => {
            let mut at = 0;
            while let Some(&tc_th) = body.get(at) {
                let Some(counts) = body.get(at + 1..at + 17) else {
                    return bad(format!("the Huffman table at +{at} is cut off"));
                };
                let values: usize = counts.iter().map(|c| usize::from(*c)).sum();
                if tc_th >> 4 > 1 || tc_th & 0x0F > 3 || at + 17 + values > body.len() {
                    return bad(format!("the Huffman table at +{at} is malformed"));
                }
                at += 17 + values;
            }
            if body.is_empty() {
                return bad("an empty Huffman table segment".into());
            }
        }
        // DAC: (class/id, value)*
        0xCC if body.is_empty() || body.len() % 2 != 0 => {
            return bad(format!(
                "the arithmetic-coding segment holds {} bytes, not pairs",
                body.len()
            ));
        }
        0xCC => {}
        // DRI, DNL: one 16-bit number.
        0xDD | 0xDC if body.len() != 2 => {
            return bad(format!(
                "the FF {marker:02X} segment holds {} bytes, not 2",
                body.len()
            ));
        }
        0xDD | 0xDC => {}
        // SOFn (not DHT, JPG, DAC).
        0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
            let components = body.get(5).map_or(0, |n| usize::from(*n));
            if components == 0 || body.len() != 6 + 3 * components {
                return bad(format!(
                    "the frame header holds {} bytes for {components} component(s)",
                    body.len()
                ));
            }
        }
        SOS => {
            let components = body.first().map_or(0, |n| usize::from(*n));
            if components == 0 || body.len() != 4 + 2 * components {
                return bad(format!(
                    "the scan header holds {} bytes for {components} component(s)",
                    body.len()
                ));
            }
        }
        other => {
            return bad(format!(
                "marker FF {other:02X} is not one this stripper knows a decoder needs (hierarchical or reserved)"
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// PNG (ISO/IEC 15948)

const PNG: &str = "png";
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// CRC-32 (ISO-HDLC, as PNG uses) lookup table, built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// The PNG chunk CRC of `bytes` (chunk type and data).
pub fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(u32::MAX, |c, &b| {
        CRC_TABLE[usize::from((c as u8) ^ b)] ^ (c >> 8)
    })
}

/// One chunk of a PNG, in file order.
#[derive(Clone, Copy, Debug)]
pub struct PngChunk<'a> {
    pub kind: [u8; 4],
    /// Offset of the chunk's length field.
    pub offset: usize,
    pub data: &'a [u8],
    pub crc: u32,
}

/// The chunks of a PNG up to and including IEND, and the offset just
/// after IEND's CRC.
pub struct PngLayout<'a> {
    pub chunks: Vec<PngChunk<'a>>,
    pub end: usize,
}

/// Walks the chunks from the signature to IEND.
pub fn parse_png(bytes: &[u8]) -> Result<PngLayout<'_>, StripError> {
    let len = bytes.len();
    if bytes.get(..8) != Some(&PNG_SIGNATURE) {
        return Err(StripError::NotFormat { format: PNG });
    }
    let mut chunks = Vec::new();
    let mut at = 8usize;
    loop {
        let Some(header) = bytes.get(at..at + 8) else {
            return Err(truncated(PNG, "the chunk header", at, len));
        };
        let size = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let kind = [header[4], header[5], header[6], header[7]];
        if size > 0x7FFF_FFFF || !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(malformed(
                PNG,
                at,
                format!("a chunk with type {:02X?} and length {size}", kind),
            ));
        }
        let data_end = (at + 8).saturating_add(size as usize);
        let name = String::from_utf8_lossy(&kind).into_owned();
        let (Some(data), Some(crc)) = (
            bytes.get(at + 8..data_end),
            bytes.get(data_end..data_end.saturating_add(4)),
        ) else {
            return Err(truncated(PNG, format!("the {name} chunk"), at, len));
        };
        chunks.push(PngChunk {
            kind,
            offset: at,
            data,
            crc: u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]),
        });
        at = data_end + 4;
        if &kind == b"IEND" {
            return Ok(PngLayout { chunks, end: at });
        }
    }
}

/// The length of a PNG up to the end of its IEND chunk.
pub fn png_image_len(bytes: &[u8]) -> Result<usize, StripError> {
    parse_png(bytes).map(|layout| layout.end)
}

/// A PNG rebuilt from its allowed chunks (see the module comment).
pub fn strip_png(bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    let layout = parse_png(bytes)?;
    let mut out = Vec::with_capacity(layout.end);
    out.extend_from_slice(&PNG_SIGNATURE);
    for (index, chunk) in layout.chunks.iter().enumerate() {
        let name = String::from_utf8_lossy(&chunk.kind).into_owned();
        let bad = |reason: String| Err(malformed(PNG, chunk.offset, reason));
        let mut covered = Vec::with_capacity(4 + chunk.data.len());
        covered.extend_from_slice(&chunk.kind);
        covered.extend_from_slice(chunk.data);
        if crc32(&covered) != chunk.crc {
            return bad(format!("the {name} chunk fails its CRC"));
        }
        if (index == 0) != (&chunk.kind == b"IHDR") {
            return bad(format!(
                "{name} where IHDR is expected first, and only there"
            ));
        }
        let fixed = match &chunk.kind {
            b"IHDR" => Some(13),
            b"gAMA" => Some(4),
            b"cHRM" => Some(32),
            b"sRGB" => Some(1),
            b"pHYs" => Some(9),
            b"IEND" => Some(0),
            _ => None,
        };
        if let Some(n) = fixed
            && chunk.data.len() != n
        {
            return bad(format!(
                "the {name} chunk holds {} bytes, not {n}",
                chunk.data.len()
            ));
        }
        let data: std::borrow::Cow<'_, [u8]> = match &chunk.kind {
            b"IHDR" | b"PLTE" | b"IDAT" | b"IEND" | b"tRNS" | b"gAMA" | b"cHRM" | b"sRGB"
            | b"pHYs" => chunk.data.into(),
            b"iCCP" => {
                // The profile name is free text: replace it.
                let Some(nul) = chunk.data.iter().take(80).position(|b| *b == 0) else {
                    return bad("the iCCP chunk has no profile name terminator".into());
                };
                let mut data = b"ICC profile\0".to_vec();
                data.extend_from_slice(chunk.data.get(nul + 1..).unwrap_or(&[]));
                data.into()
            }
            kind if kind[0].is_ascii_uppercase() => {
                return bad(format!(
                    "{name} is a critical chunk this stripper does not know"
                ));
            }
            _ => continue,
        };
        write_png_chunk(&mut out, &chunk.kind, &data);
    }
    Ok(out)
}

fn write_png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // Every data block came from a chunk with a 31-bit length.
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(out.get(start..).unwrap_or(&[]));
    out.extend_from_slice(&crc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        segment(&mut out, marker, body);
        out
    }

    /// SOI, an APP1 and a COM that hold FF D9, a one-component frame, one
    /// scan whose data hold a stuffed FF, a restart marker and fill bytes,
    /// a second (progressive-style) scan, EOI, then a trailer.
    fn synthetic() -> (Vec<u8>, usize) {
        let mut j = vec![0xFF, SOI];
        j.extend(seg(0xE1, b"Exif\0\0\xFF\xD9"));
        j.extend(seg(0xFE, b"\xFF\xD9"));
        j.extend(seg(0xDB, &[0; 65]));
        j.extend(seg(0xC2, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
        let mut dht = vec![0x00, 1];
        dht.extend([0; 15]);
        dht.push(0);
        j.extend(seg(0xC4, &dht));
        j.extend(seg(SOS, &[1, 1, 0, 0, 63, 0]));
        j.extend([0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF]);
        j.extend(seg(SOS, &[1, 1, 0, 1, 63, 0]));
        j.extend([0x78, 0xFF, 0xD7, 0x9A]);
        j.extend([0xFF, EOI]);
        let end = j.len();
        j.extend(b"\0\0\0\x18ftypmp42 video \xFF\xD9");
        (j, end)
    }

    #[test]
    fn the_walker_ends_at_the_real_eoi_past_segments_stuffing_restarts_and_fill() {
        let (jpeg, end) = synthetic();
        let layout = parse_jpeg(&jpeg).unwrap();
        assert_eq!(layout.end, end);
        let markers: Vec<u8> = layout.segments.iter().map(|s| s.marker).collect();
        assert_eq!(markers, [0xE1, 0xFE, 0xDB, 0xC2, 0xC4, SOS, SOS, EOI]);
        assert_eq!(
            layout.segments[5].scan,
            [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]
        );
        // Cut anywhere before the EOI: truncated, whatever FF D9 the cut leaves last.
        for cut in [3, 8, 12, end - 12, end - 3, end - 1] {
            assert!(
                matches!(parse_jpeg(&jpeg[..cut]), Err(StripError::Truncated { .. })),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn stripping_keeps_the_scans_and_drops_the_rest() {
        let (jpeg, _) = synthetic();
        let out = strip_jpeg(&jpeg).unwrap();
        assert!(!out.windows(4).any(|w| w == b"Exif" || w == b"ftyp"));
        let markers: Vec<u8> = parse_jpeg(&out)
            .unwrap()
            .segments
            .iter()
            .map(|s| s.marker)
            .collect();
        assert_eq!(markers, [0xDB, 0xC2, 0xC4, SOS, SOS, EOI]);
        assert_eq!(parse_jpeg(&out).unwrap().end, out.len());
    }

    #[test]
    fn the_synthesized_exif_holds_the_orientation_and_nothing_else() {
        for o in 1..=8 {
            let exif = orientation_exif(o);
            assert_eq!(exif.len(), 32);
            assert_eq!(exif_orientation(&exif[6..]), Some(o));
        }
        assert_eq!(exif_orientation(b"MM\0\x2A\0\0\0\x08\0\x01"), None);
        assert_eq!(exif_orientation(b"II"), None);
    }

    #[test]
    fn icc_chunks_are_kept_in_order_only_when_they_form_one_profile() {
        let mut profile = [0u8; 200];
        profile[..4].copy_from_slice(&200u32.to_be_bytes());
        profile[36..40].copy_from_slice(b"acsp");
        let chunk = |seq: u8, count: u8, data: &[u8]| {
            let mut body = b"ICC_PROFILE\0".to_vec();
            body.extend([seq, count]);
            body.extend_from_slice(data);
            body
        };
        let (a, b) = (chunk(1, 2, &profile[..100]), chunk(2, 2, &profile[100..]));
        let seg = |body: &[u8]| JpegSegment {
            marker: 0xE2,
            offset: 0,
            body: body.to_vec().leak(),
            scan: &[],
        };
        let (sa, sb) = (seg(&a), seg(&b));
        assert_eq!(icc_chunks(&[&sb, &sa]), [a.as_slice(), b.as_slice()]);
        assert!(icc_chunks(&[&sa]).is_empty(), "one chunk of two");
        assert!(icc_chunks(&[&sa, &sa]).is_empty(), "a duplicate");
        let short = seg(&chunk(2, 2, &profile[100..150]));
        assert!(icc_chunks(&[&sa, &short]).is_empty(), "length disagrees");
    }
}
