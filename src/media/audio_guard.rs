//! Checks run on a recording's bytes before symphonia 0.5 sees them, for the fields its
//! demuxers do not check: one makes it panic (a WAV at 0 Hz), one makes it overflow (an MP3
//! Info tag with more padding than frames), and several make it allocate whatever length a
//! tag claims before reading it (`vec![0; len]` for a Vorbis comment, a FLAC picture, a WAV
//! INFO entry: up to 4 GiB from a file of a few hundred bytes). Each was found by fuzzing
//! (`fuzz/`, `tests/hostile_mutations.rs`).
//!
//! [`super::audio::open`] runs them before every probe: import, masking and the waveform
//! alike. Import and masking contain decoder panics, but "the decoder crashed" says neither
//! what nor where, and an allocation cannot be contained at all. So each check names the
//! field and its byte offset. A check that cannot walk the structure returns `None` and
//! leaves the file to symphonia, which reports it in its own words.

use super::audio::check_shape;

/// How far into an MP3 file Xing/Info tags are looked for: the tag sits in the first frame,
/// after an ID3v2 tag (which may hold cover art) and whatever junk the demuxer skips.
const MP3_TAG_SCAN_BYTES: usize = 1 << 20;

/// Every check for `format` ("wav", "flac", "ogg", "mp3"); the first problem found. ID3v2
/// tags at the start are read by symphonia's probe whatever the format, so they are checked
/// for every format.
pub fn demuxer_hazard(format: &str, bytes: &[u8]) -> Option<String> {
    if let Some(problem) = id3v2_problem(bytes) {
        return Some(problem);
    }
    match format {
        "wav" => wav_problem(bytes),
        "flac" => flac_problem(bytes),
        "ogg" => ogg_problem(bytes),
        "mp3" => mp3_info_tag_problem(bytes),
        _ => None,
    }
}

/// A 28-bit ID3v2 "syncsafe" integer (7 bits per byte, top bits clear).
fn syncsafe(bytes: &[u8], at: usize) -> Option<usize> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    if b.iter().any(|v| v & 0x80 != 0) {
        return None;
    }
    Some(b.iter().fold(0usize, |acc, v| (acc << 7) | usize::from(*v)))
}

/// ID3v2 tags at the start of the file (one after another, as the probe reads them): every
/// frame's declared size against the bytes left in the tag. symphonia allocates a frame's
/// size before reading it, and an ID3v2.3 size is a plain 32-bit number (up to 4 GiB).
fn id3v2_problem(bytes: &[u8]) -> Option<String> {
    let mut tag_at: usize = 0;
    while bytes.get(tag_at..tag_at.checked_add(3)?)? == b"ID3" {
        let major = *bytes.get(tag_at + 3)?;
        let flags = *bytes.get(tag_at + 5)?;
        let size = syncsafe(bytes, tag_at + 6)?;
        if !(2..=4).contains(&major) {
            return None;
        }
        let body = tag_at + 10;
        let end = body.saturating_add(size).min(bytes.len());
        let mut at = body;
        // An extended header (v2.3: size excluding itself; v2.4: syncsafe, including itself).
        if flags & 0x40 != 0 && major >= 3 {
            at = match major {
                3 => at.checked_add(4)?.checked_add(usize_of(be32(bytes, at)?))?,
                _ => at.checked_add(syncsafe(bytes, at)?)?,
            };
        }
        let (id_len, header_len) = if major == 2 { (3, 6) } else { (4, 10) };
        while at.saturating_add(header_len) <= end {
            let id = bytes.get(at..at + id_len)?;
            // symphonia takes the first id that is not [A-Z0-9] for the start of the padding.
            if !id
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            {
                break;
            }
            let frame_size = match major {
                2 => {
                    let b = bytes.get(at + 3..at + 6)?;
                    usize_of(u32::from_be_bytes([0, b[0], b[1], b[2]]))
                }
                3 => usize_of(be32(bytes, at + 4)?),
                _ => syncsafe(bytes, at + 4)?,
            };
            let data = at + header_len;
            let left = end.saturating_sub(data);
            if frame_size > left {
                return Some(format!(
                    "the ID3v2 frame '{}' at byte offset {at} declares {frame_size} bytes but only {left} follow in the tag",
                    String::from_utf8_lossy(id)
                ));
            }
            at = data.saturating_add(frame_size);
        }
        // The next tag, if any, starts after this one (and its footer).
        tag_at = body
            .saturating_add(size)
            .saturating_add(if flags & 0x10 != 0 { 10 } else { 0 });
    }
    None
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn usize_of(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// WAV: the fmt chunk's rate and channels (symphonia panics on 0 Hz: "TimeBase cannot have 0
/// numerator or denominator"), and every LIST/INFO entry's length against the bytes actually
/// there (symphonia allocates the entry's claimed length, bounded only by the RIFF header's
/// own claim).
fn wav_problem(bytes: &[u8]) -> Option<String> {
    // RIFF header (12 bytes), then chunks: id (4), size (4, little-endian), data, pad to even.
    let mut at: usize = 12;
    loop {
        let id = bytes.get(at..at.checked_add(4)?)?;
        let size = usize_of(le32(bytes, at.checked_add(4)?)?);
        let body = at.checked_add(8)?;
        if id == b"fmt " {
            let channels = bytes.get(at.checked_add(10)?..at.checked_add(12)?)?;
            let channels = u16::from_le_bytes([channels[0], channels[1]]);
            let rate = le32(bytes, at.checked_add(12)?)?;
            if let Err(problem) = check_shape(rate, channels) {
                return Some(format!("fmt chunk at byte offset {at}: {problem}"));
            }
        }
        if id == b"LIST" && bytes.get(body..body.checked_add(4)?) == Some(b"INFO".as_slice()) {
            let end = body.saturating_add(size).min(bytes.len());
            let mut entry = body.checked_add(4)?;
            while let (Some(name), Some(len)) = (
                bytes.get(entry..entry.saturating_add(4)),
                le32(bytes, entry.saturating_add(4)),
            ) {
                let data = entry.saturating_add(8);
                let left = end.saturating_sub(data);
                if usize_of(len) > left {
                    return Some(format!(
                        "the INFO entry '{}' at byte offset {entry} declares {len} bytes but only {left} follow",
                        String::from_utf8_lossy(name)
                    ));
                }
                entry = data
                    .saturating_add(usize_of(len))
                    .saturating_add(usize_of(len) % 2);
                if entry >= end {
                    break;
                }
            }
        }
        at = body.checked_add(size)?.checked_add(size % 2)?;
    }
}

/// The first Vorbis comment (FLAC VORBIS_COMMENT block, Ogg comment header) whose declared
/// length exceeds what follows it in `body`; `body_at` is the body's offset in the file.
/// symphonia skips the vendor string without allocating, then allocates each comment's
/// declared length before reading it.
fn vorbis_comment_problem(body: &[u8], body_at: usize, what: &str) -> Option<String> {
    let vendor = usize_of(le32(body, 0)?);
    let count = le32(body, vendor.checked_add(4)?)?;
    let mut at = vendor.checked_add(8)?;
    for index in 0..count {
        let len = le32(body, at)?;
        let left = body.len().saturating_sub(at.saturating_add(4));
        if usize_of(len) > left {
            return Some(format!(
                "comment {} of the {what} declares {len} bytes at byte offset {} but only {left} follow",
                u64::from(index) + 1,
                body_at.saturating_add(at)
            ));
        }
        at = at.saturating_add(4).saturating_add(usize_of(len));
    }
    None
}

/// FLAC: the VORBIS_COMMENT and PICTURE blocks (symphonia allocates every length they claim).
fn flac_problem(bytes: &[u8]) -> Option<String> {
    if bytes.get(..4)? != b"fLaC" {
        return None;
    }
    let mut at: usize = 4;
    loop {
        let header = bytes.get(at..at.checked_add(4)?)?;
        let last = header[0] & 0x80 != 0;
        let kind = header[0] & 0x7F;
        let len = usize_of(u32::from_be_bytes([0, header[1], header[2], header[3]]));
        let start = at.checked_add(4)?;
        let end = start.saturating_add(len).min(bytes.len());
        let block = bytes.get(start..end)?;
        let problem = match kind {
            4 => vorbis_comment_problem(block, start, "VORBIS_COMMENT block"),
            6 => picture_problem(block, start),
            _ => None,
        };
        if problem.is_some() || last {
            return problem;
        }
        at = start.checked_add(len)?;
    }
}

/// A FLAC PICTURE block: picture type, then MIME type, description and image data, each
/// preceded by its big-endian length.
fn picture_problem(block: &[u8], block_at: usize) -> Option<String> {
    let mut at: usize = 4;
    for (field, skip_after) in [
        ("MIME type", 0usize),
        ("description", 16),
        ("picture data", 0),
    ] {
        let len = be32(block, at)?;
        let left = block.len().saturating_sub(at.saturating_add(4));
        if usize_of(len) > left {
            return Some(format!(
                "the {field} of the PICTURE block at byte offset {} declares {len} bytes but only {left} follow",
                block_at.saturating_add(at)
            ));
        }
        at = at
            .saturating_add(4)
            .saturating_add(usize_of(len))
            .saturating_add(skip_after);
    }
    None
}

/// Ogg: every packet that is a Vorbis or Opus comment header ("\x03vorbis", "OpusTags"),
/// wherever it is (symphonia's Vorbis mapping reads one at any point of the stream). Pages are
/// walked and packets reassembled per stream; bytes that are no page are skipped to the next
/// capture pattern, as the demuxer does.
fn ogg_problem(bytes: &[u8]) -> Option<String> {
    // symphonia's own cap on a packet; a longer one is refused by the demuxer anyway.
    const MAX_PACKET: usize = 16 << 20;
    // (stream serial, offset of the packet's first byte, bytes so far)
    let mut partial: Vec<(u32, usize, Vec<u8>)> = Vec::new();
    let mut at: usize = 0;
    while let Some(header) = bytes.get(at..at.checked_add(27)?) {
        if &header[..4] != b"OggS" {
            let next = bytes
                .get(at.checked_add(1)?..)?
                .windows(4)
                .position(|w| w == b"OggS")?;
            at = at.checked_add(1)?.checked_add(next)?;
            continue;
        }
        let serial = u32::from_le_bytes([header[14], header[15], header[16], header[17]]);
        let continued = header[5] & 1 != 0;
        let segments = usize::from(header[26]);
        let table = bytes.get(at.checked_add(27)?..at.checked_add(27)?.checked_add(segments)?)?;
        let mut data = at.checked_add(27)?.checked_add(segments)?;
        let slot = match partial.iter().position(|p| p.0 == serial) {
            Some(i) => i,
            None => {
                partial.push((serial, data, Vec::new()));
                partial.len() - 1
            }
        };
        if !continued {
            partial[slot].1 = data;
            partial[slot].2.clear();
        }
        for &lace in table {
            let lace = usize::from(lace);
            let segment = bytes.get(data..data.checked_add(lace)?)?;
            let (_, start, packet) = &mut partial[slot];
            if packet.is_empty() {
                *start = data;
            }
            if packet.len() <= MAX_PACKET {
                packet.extend_from_slice(segment);
            }
            data = data.checked_add(lace)?;
            if lace < 255 {
                let body = if packet.starts_with(b"\x03vorbis") {
                    packet.get(7..).map(|b| (b, 7))
                } else if packet.starts_with(b"OpusTags") {
                    packet.get(8..).map(|b| (b, 8))
                } else {
                    None
                };
                if let Some((body, skip)) = body
                    && let Some(problem) = vorbis_comment_problem(
                        body,
                        start.saturating_add(skip),
                        "Ogg comment header",
                    )
                {
                    return Some(problem);
                }
                packet.clear();
            }
        }
        at = data;
    }
    None
}

/// symphonia 0.5's MP3 reader computes the gapless length as `frames - delay - padding` from
/// the Xing/Info and LAME tags of the first frame without checking that it is positive: a tag
/// whose encoder delay and padding exceed the frame count panics in builds with overflow
/// checks (debug, tests, fuzzing) and wraps to an absurd length in release builds. Such a tag
/// is corrupt whatever else the file holds. Every "Xing"/"Info" in the first MiB that is
/// placed like a tag (right after a layer III frame header and its zeroed side information)
/// is checked.
fn mp3_info_tag_problem(bytes: &[u8]) -> Option<String> {
    let scan = bytes.get(..bytes.len().min(MP3_TAG_SCAN_BYTES))?;
    for tag_at in 0..scan.len().saturating_sub(4) {
        let id = scan.get(tag_at..tag_at + 4)?;
        if id != b"Xing" && id != b"Info" {
            continue;
        }
        // The side information is 9, 17 or 32 bytes depending on version and channel mode.
        for side_info in [9usize, 17, 32] {
            let Some(header_at) = tag_at.checked_sub(4 + side_info) else {
                continue;
            };
            let Some(&[b0, b1, _, b3]) = bytes.get(header_at..header_at + 4) else {
                continue;
            };
            let version = (b1 >> 3) & 0b11; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
            let layer3 = (b1 >> 1) & 0b11 == 0b01;
            let mono = b3 >> 6 == 0b11;
            let expected_side_info = match (version == 0b11, mono) {
                (true, true) => 17,
                (true, false) => 32,
                (false, true) => 9,
                (false, false) => 17,
            };
            let zeroed = bytes
                .get(header_at + 4..tag_at)
                .is_some_and(|side| side.iter().all(|&b| b == 0));
            if b0 != 0xFF
                || b1 & 0xE0 != 0xE0
                || version == 0b01
                || !layer3
                || side_info != expected_side_info
                || !zeroed
            {
                continue;
            }
            let samples_per_frame: u64 = if version == 0b11 { 1152 } else { 576 };
            let flags = be32(bytes, tag_at + 4)?;
            if flags & 1 == 0 {
                continue; // no frame count, so nothing is subtracted from it
            }
            let frames = u64::from(be32(bytes, tag_at + 8)?);
            let mut at = tag_at + 12;
            if flags & 2 != 0 {
                at += 4; // byte count
            }
            if flags & 4 != 0 {
                at += 100; // seek table
            }
            if flags & 8 != 0 {
                at += 4; // quality
            }
            // LAME extension: encoder (9), revision, lowpass, peak (4), two gains (2 + 2),
            // flags, bitrate, then delay and padding as two 12-bit numbers.
            let Some(encoder) = bytes.get(at..at + 4) else {
                continue;
            };
            if encoder != b"LAME" && encoder != b"Lavf" && encoder != b"Lavc" {
                continue;
            }
            let Some(trim) = bytes.get(at + 21..at + 24) else {
                continue;
            };
            let trim = u32::from_be_bytes([0, trim[0], trim[1], trim[2]]);
            let delay = 529 + u64::from(trim >> 12);
            let padding = u64::from(trim & 0xFFF).saturating_sub(529);
            let total = frames.saturating_mul(samples_per_frame);
            if delay + padding > total {
                return Some(format!(
                    "the {} tag at byte offset {tag_at} declares {frames} frames ({total} samples) \
                     but {delay} samples of encoder delay and {padding} of padding",
                    String::from_utf8_lossy(id)
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(v: u32) -> [u8; 4] {
        v.to_le_bytes()
    }

    /// A Vorbis comment body: vendor "v", then the given comments with their declared lengths.
    fn comments(entries: &[(u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&le(1));
        out.push(b'v');
        out.extend_from_slice(&le(entries.len() as u32));
        for (len, text) in entries {
            out.extend_from_slice(&le(*len));
            out.extend_from_slice(text);
        }
        out
    }

    #[test]
    fn flac_comment_claiming_4_gib_is_named_with_its_offset() {
        let body = comments(&[(5, b"A=bcd"), (u32::MAX, b"TITLE=x")]);
        let mut flac = b"fLaC".to_vec();
        // STREAMINFO (type 0, 34 bytes of zeros), then the comment block, last.
        flac.extend_from_slice(&[0, 0, 0, 34]);
        flac.extend_from_slice(&[0; 34]);
        let len = body.len() as u32;
        flac.extend_from_slice(&[0x84, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
        let body_at = flac.len();
        flac.extend_from_slice(&body);
        let problem = flac_problem(&flac).expect("the claim is refused");
        // vendor length (4) + "v" + count (4) + first comment (4 + 5) = offset 18 of the body.
        assert_eq!(
            problem,
            format!(
                "comment 2 of the VORBIS_COMMENT block declares 4294967295 bytes at byte offset {} but only 7 follow",
                body_at + 18
            )
        );
        // Honest lengths pass.
        let body = comments(&[(5, b"A=bcd")]);
        let mut ok = b"fLaC".to_vec();
        let len = body.len() as u32;
        ok.extend_from_slice(&[0x84, 0, 0, len as u8]);
        ok.extend_from_slice(&body);
        assert_eq!(flac_problem(&ok), None);
    }

    #[test]
    fn flac_picture_fields_are_checked_in_order() {
        let mut block = Vec::new();
        block.extend_from_slice(&3u32.to_be_bytes()); // front cover
        block.extend_from_slice(&9u32.to_be_bytes());
        block.extend_from_slice(b"image/png");
        block.extend_from_slice(&0u32.to_be_bytes()); // no description
        block.extend_from_slice(&[0; 16]);
        block.extend_from_slice(&0x7FFF_FFFFu32.to_be_bytes());
        block.extend_from_slice(b"\x89PNG");
        let mut flac = b"fLaC".to_vec();
        let len = block.len() as u32;
        flac.extend_from_slice(&[0x86, 0, 0, len as u8]);
        flac.extend_from_slice(&block);
        assert_eq!(
            flac_problem(&flac).as_deref(),
            Some(
                "the picture data of the PICTURE block at byte offset 45 declares 2147483647 bytes but only 4 follow"
            )
        );
    }

    #[test]
    fn ogg_comment_packet_is_found_across_pages() {
        // One stream; the comment packet is split over two pages (first segment 255 bytes).
        let mut packet = b"\x03vorbis".to_vec();
        packet.extend_from_slice(&comments(&[(300, b"")]));
        packet.resize(300, b'x');
        let page = |flags: u8, laces: &[u8], data: &[u8]| {
            let mut p = b"OggS\0".to_vec();
            p.push(flags);
            p.extend_from_slice(&[0; 8]); // granule
            p.extend_from_slice(&le(7)); // serial
            p.extend_from_slice(&[0; 8]); // sequence, CRC
            p.push(laces.len() as u8);
            p.extend_from_slice(laces);
            p.extend_from_slice(data);
            p
        };
        let mut ogg = b"junk".to_vec();
        ogg.extend(page(0, &[255], &packet[..255]));
        ogg.extend(page(1, &[45], &packet[255..]));
        let problem = ogg_problem(&ogg).expect("refused");
        assert!(
            problem
                == "comment 1 of the Ogg comment header declares 300 bytes at byte offset 48 but only 280 follow",
            "{problem}"
        );
    }

    #[test]
    fn wav_info_entry_claiming_more_than_the_file_is_named() {
        let mut wav = b"RIFF\xff\xff\xff\xffWAVE".to_vec();
        wav.extend_from_slice(b"LIST\xf0\xff\xff\xffINFOINAM");
        wav.extend_from_slice(&le(0xFFFF_0000));
        wav.extend_from_slice(b"Ann");
        assert_eq!(
            wav_problem(&wav).as_deref(),
            Some(
                "the INFO entry 'INAM' at byte offset 24 declares 4294901760 bytes but only 3 follow"
            )
        );
    }

    #[test]
    fn id3v2_3_frame_claiming_4_gib_is_named() {
        let mut mp3 = b"ID3\x03\0\0\0\0\0\x20".to_vec(); // a 32-byte tag
        mp3.extend_from_slice(b"TIT2\0\0\0\x05\0\0\0Call"); // 5 bytes: fits
        mp3.extend_from_slice(b"TPE1\xff\xff\xff\xf0\0\0"); // 4 GiB: does not
        mp3.extend_from_slice(&[0; 3]);
        mp3.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
        assert_eq!(
            id3v2_problem(&mp3).as_deref(),
            Some(
                "the ID3v2 frame 'TPE1' at byte offset 25 declares 4294967280 bytes but only 7 follow in the tag"
            )
        );
        assert_eq!(demuxer_hazard("flac", &mp3), id3v2_problem(&mp3));
        // Frames that fit, then padding: nothing to say.
        let mut ok = b"ID3\x04\0\0\0\0\0\x14".to_vec();
        ok.extend_from_slice(b"TIT2\0\0\0\x05\0\0\0Call");
        ok.extend_from_slice(&[0; 5]);
        assert_eq!(id3v2_problem(&ok), None);
    }
}
