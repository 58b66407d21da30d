//! Tag stripping: recordings leave with only what decoding needs (WAV
//! `fmt `/`data`, FLAC STREAMINFO/SEEKTABLE and frames, MP3 frames),
//! every tag and trailer dropped. Ogg is decoded to WAV instead.

use super::*;

/// How long a recording [`strip_tags`] decodes (Ogg only): the import limit.
pub const DEFAULT_MAX_SECS: f64 = crate::media::DEFAULT_MAX_AUDIO_SECS;

pub(super) fn malformed(format: &'static str, message: String) -> MaskError {
    MaskError::Malformed { format, message }
}

pub(super) fn u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

pub(super) fn u16_le(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

/// A 28-bit ID3v2 "syncsafe" integer (7 bits per byte, top bit clear).
pub(super) fn syncsafe(bytes: &[u8], at: usize) -> Option<usize> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    if b.iter().any(|v| v & 0x80 != 0) {
        return None;
    }
    Some(b.iter().fold(0usize, |acc, v| (acc << 7) | usize::from(*v)))
}

/// Bytes of the same recording without tags, by allow-list: WAV keeps only
/// the fmt (cut to its defined fields) and data chunks (audio bytes
/// untouched); FLAC keeps STREAMINFO and SEEKTABLE blocks (fix the
/// last-block flag), frames untouched, no appended tags; MP3 drops an ID3v2
/// tag at the start (syncsafe size, footer flag), an ID3v1 "TAG" 128-byte
/// trailer and APEv2 and appended ID3v2 tags; Ogg Vorbis is decoded and returned as WAV
/// (rewriting Ogg pages is not worth it). Returns (bytes, format name).
///
/// Ogg is decoded under [`DEFAULT_MAX_SECS`]; the other formats are parsed,
/// not decoded, so their audio is not checked here ([`derive_audio`] does).
pub fn strip_tags(bytes: &[u8], format: &str) -> Result<(Vec<u8>, &'static str), MaskError> {
    strip_tags_within(bytes, format, DEFAULT_MAX_SECS).map(|(out, name, _)| (out, name))
}

/// [`strip_tags`] with a time limit for the formats that must be decoded;
/// also returns the duration when decoding already measured it.
pub(super) fn strip_tags_within(
    bytes: &[u8],
    format: &str,
    max_secs: f64,
) -> Result<(Vec<u8>, &'static str, Option<f64>), MaskError> {
    match audio_format(format) {
        Some("wav") => Ok((strip_wav(bytes)?, "wav", None)),
        Some("flac") => Ok((strip_flac(bytes)?, "flac", None)),
        Some("mp3") => Ok((strip_mp3(bytes)?, "mp3", None)),
        Some("ogg") => {
            let out = stream_wav(bytes, "ogg", &[], None, max_secs)?;
            let duration = seconds(out.frames, out.sample_rate);
            Ok((out.wav, "wav", Some(duration)))
        }
        _ => Err(unsupported(format)),
    }
}

/// Keeps the `fmt ` and `data` chunks of a RIFF WAVE file and drops the
/// rest (`fact`, `LIST`/`INFO`, `id3 `, `bext`, `iXML`, cue points,
/// anything after the RIFF body). The `fmt ` chunk is cut to the fields its
/// format tag defines (16 bytes for PCM and float, 40 for
/// WAVE_FORMAT_EXTENSIBLE, 18 + cbSize otherwise), so that no bytes hidden
/// after them survive. A data chunk that claims more than the file holds
/// (a recording cut short, or a streaming writer's placeholder size) keeps
/// the whole frames that are there, as the importer accepts such files.
pub(super) fn strip_wav(bytes: &[u8]) -> Result<Vec<u8>, MaskError> {
    const F: &str = "wav";
    if bytes.len() < 12 || bytes.get(8..12) != Some(b"WAVE".as_slice()) {
        return Err(malformed(
            F,
            "no RIFF WAVE header in the first 12 bytes".into(),
        ));
    }
    match bytes.get(..4) {
        Some(b"RIFF") => {}
        Some(b"RF64") => {
            return Err(MaskError::AudioUnsupported {
                what: "container",
                message: "RF64 (WAV over 4 GiB) is not supported".into(),
            });
        }
        _ => return Err(malformed(F, "the file does not start with RIFF".into())),
    }
    let riff_len = u32_le(bytes, 4).map_or(0, |v| v as usize);
    // Writers that stream put 0 or 0xFFFFFFFF here; then the file's end is the end.
    let riff_end = match riff_len.checked_add(8) {
        Some(end) if riff_len >= 4 => end.min(bytes.len()),
        _ => bytes.len(),
    };

    let mut fmt: Option<&[u8]> = None;
    // Read only to refuse a duplicate; never written out.
    let mut fact: Option<&[u8]> = None;
    let mut data: Option<&[u8]> = None;
    let mut pos = 12usize;
    while pos.saturating_add(8) <= riff_end {
        let (Some(id), Some(size)) = (bytes.get(pos..pos + 4), u32_le(bytes, pos + 4)) else {
            break;
        };
        let name = String::from_utf8_lossy(id).into_owned();
        let body_start = pos + 8;
        let declared_end = body_start.saturating_add(size as usize);
        let cut_short = declared_end > riff_end;
        if cut_short && id != b"data" {
            return Err(malformed(
                F,
                format!(
                    "chunk '{name}' at byte {pos} declares {size} bytes but only {} remain",
                    riff_end - body_start
                ),
            ));
        }
        let body = bytes
            .get(body_start..declared_end.min(riff_end))
            .unwrap_or(&[]);
        if id == b"data" && fmt.is_none() {
            return Err(malformed(
                F,
                format!("the data chunk at byte {pos} comes before any fmt chunk"),
            ));
        }
        let slot = match id {
            b"fmt " => Some(&mut fmt),
            b"fact" => Some(&mut fact),
            b"data" => Some(&mut data),
            _ => None,
        };
        if let Some(slot) = slot {
            if slot.is_some() {
                return Err(malformed(
                    F,
                    format!("a second '{name}' chunk at byte {pos}"),
                ));
            }
            *slot = Some(body);
        }
        if cut_short {
            break;
        }
        // Chunks are padded to an even length.
        pos = declared_end.saturating_add(size as usize & 1);
    }

    let fmt = fmt.ok_or_else(|| malformed(F, "no fmt chunk".into()))?;
    let data = data.ok_or_else(|| malformed(F, "no data chunk".into()))?;
    let (Some(channels), Some(rate), Some(block_align)) =
        (u16_le(fmt, 2), u32_le(fmt, 4), u16_le(fmt, 12))
    else {
        return Err(malformed(
            F,
            format!(
                "the fmt chunk is {} bytes, at least 16 are needed",
                fmt.len()
            ),
        ));
    };
    if channels == 0 || rate == 0 || block_align == 0 {
        return Err(malformed(
            F,
            format!("the fmt chunk says {channels} channels, {rate} Hz, {block_align}-byte frames"),
        ));
    }
    // Whole frames only: a partial one at a cut is noise.
    let data = data
        .get(..data.len() - data.len() % usize::from(block_align))
        .unwrap_or(&[]);
    let fmt_len = match u16_le(fmt, 0) {
        Some(1 | 3) => 16,
        Some(0xFFFE) => 40,
        _ => u16_le(fmt, 16).map_or(usize::MAX, |extra| 18 + usize::from(extra)),
    };
    let Some(fmt) = fmt.get(..fmt_len) else {
        return Err(malformed(
            F,
            format!(
                "the fmt chunk is {} bytes, shorter than its format tag requires",
                fmt.len()
            ),
        ));
    };

    let chunks: [(&[u8; 4], &[u8]); 2] = [(b"fmt ", fmt), (b"data", data)];
    let body_len: usize = 4 + chunks
        .iter()
        .map(|(_, b)| 8 + b.len() + (b.len() & 1))
        .sum::<usize>();
    let riff_size = u32::try_from(body_len).map_err(|_| MaskError::WavTooLarge {
        bytes: body_len as u64,
    })?;
    let mut out = Vec::with_capacity(body_len + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_size.to_le_bytes());
    out.extend_from_slice(b"WAVE");
    for (id, body) in chunks {
        out.extend_from_slice(id);
        // Each body came from a chunk with a 32-bit size, so it fits.
        out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(body);
        if body.len() & 1 == 1 {
            out.push(0);
        }
    }
    Ok(out)
}

/// Length of the ID3v2 tag starting at `pos` (header, body, footer), if one does.
pub(super) fn id3v2_len(
    bytes: &[u8],
    pos: usize,
    format: &'static str,
) -> Result<Option<usize>, MaskError> {
    if bytes.get(pos..pos.saturating_add(3)) != Some(b"ID3".as_slice()) {
        return Ok(None);
    }
    let flags = bytes
        .get(pos + 5)
        .copied()
        .ok_or_else(|| malformed(format, format!("the ID3v2 header at byte {pos} is cut off")))?;
    let size = syncsafe(bytes, pos + 6).ok_or_else(|| {
        malformed(
            format,
            format!("the ID3v2 tag at byte {pos} has an invalid size (not syncsafe or cut off)"),
        )
    })?;
    let footer = if flags & 0x10 != 0 { 10 } else { 0 };
    let len = 10 + size + footer;
    if pos.saturating_add(len) > bytes.len() {
        return Err(malformed(
            format,
            format!("the ID3v2 tag at byte {pos} ({len} bytes) runs past the end of the file"),
        ));
    }
    Ok(Some(len))
}

/// Keeps STREAMINFO and SEEKTABLE, drops VORBIS_COMMENT (tags), PICTURE
/// (cover art, sometimes a photo of a person), CUESHEET, APPLICATION and
/// PADDING, plus an ID3v2 tag some taggers put before "fLaC" and ID3v1 /
/// APEv2 tags appended after the frames. Frames are copied untouched.
pub(super) fn strip_flac(bytes: &[u8]) -> Result<Vec<u8>, MaskError> {
    const F: &str = "flac";
    let mut pos = 0usize;
    while let Some(len) = id3v2_len(bytes, pos, F)? {
        pos += len;
    }
    if bytes.get(pos..pos + 4) != Some(b"fLaC".as_slice()) {
        return Err(malformed(F, format!("no fLaC signature at byte {pos}")));
    }
    pos += 4;
    let mut kept: Vec<&[u8]> = Vec::new();
    let mut index = 0usize;
    loop {
        let Some(header) = bytes.get(pos..pos.saturating_add(4)) else {
            return Err(malformed(
                F,
                format!(
                    "the FLAC metadata block header at byte {pos} runs past the end of the file"
                ),
            ));
        };
        let (last, kind) = (header[0] & 0x80 != 0, header[0] & 0x7F);
        let len =
            usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
        let end = pos + 4 + len;
        let Some(block) = bytes.get(pos..end) else {
            return Err(malformed(
                F,
                format!("FLAC metadata block at byte {pos} runs past the end of the file"),
            ));
        };
        if kind == 127 {
            return Err(malformed(
                F,
                format!("invalid FLAC metadata block type 127 at byte {pos}"),
            ));
        }
        if index == 0 && (kind != 0 || len != 34) {
            return Err(malformed(
                F,
                format!("the first metadata block (byte {pos}) is not a 34-byte STREAMINFO"),
            ));
        }
        if kind == 0 && index > 0 {
            return Err(malformed(
                F,
                format!("a second STREAMINFO block at byte {pos}"),
            ));
        }
        if kind == 0 || kind == 3 {
            kept.push(block);
        }
        pos = end;
        index += 1;
        if last {
            break;
        }
    }
    // Taggers append ID3v1 and APEv2 tags to FLAC files as to MP3s.
    let end = tail_tags_start(bytes, pos, F)?;
    let frames = bytes.get(pos..end).unwrap_or(&[]);
    // Frames start with the 14-bit sync code 0b11111111_111110.
    if let [a, b, ..] = frames
        && (*a != 0xFF || b & 0xFE != 0xF8)
    {
        return Err(malformed(
            F,
            format!("no FLAC frame starts at byte {pos}, after the metadata"),
        ));
    }
    let mut out =
        Vec::with_capacity(4 + kept.iter().map(|b| b.len()).sum::<usize>() + frames.len());
    out.extend_from_slice(b"fLaC");
    let n = kept.len();
    for (i, block) in kept.into_iter().enumerate() {
        let Some((first, rest)) = block.split_first() else {
            continue;
        };
        let flag = if i + 1 == n { 0x80 } else { 0 };
        out.push((first & 0x7F) | flag);
        out.extend_from_slice(rest);
    }
    out.extend_from_slice(frames);
    Ok(out)
}

/// Keeps only the MPEG audio frames, by allow-list: ID3v2 tags at the start
/// and APEv2, ID3v1 (and its "TAG+" extension) and appended ID3v2 ("3DI"
/// footer) tags at the end are cut by their structure ([`tail_tags_start`]),
/// then the frames in between are walked by their headers and anything that
/// is not a frame (padding, junk, a tag in the middle) is dropped. Frames,
/// including the Xing/LAME frame that carries the gapless delay and padding,
/// are copied untouched; a last frame cut short is kept as it is.
pub(super) fn strip_mp3(bytes: &[u8]) -> Result<Vec<u8>, MaskError> {
    const F: &str = "mp3";
    let mut pos = 0usize;
    while let Some(len) = id3v2_len(bytes, pos, F)? {
        pos += len;
    }
    let end = tail_tags_start(bytes, pos, F)?;
    let audio = bytes.get(pos..end).unwrap_or(&[]);
    let mut out = Vec::with_capacity(audio.len());
    let mut i = 0usize;
    // Right after a frame the next header is trusted (even for a last frame
    // cut short); after junk, or at the start, a frame only counts when
    // another one follows it or it ends exactly at the end, so that a stray
    // sync pattern inside junk is not taken for audio.
    let mut in_sync = false;
    while i < audio.len() {
        let header = audio.get(i..).and_then(mpeg_frame_len);
        let frame = header.filter(|len| {
            let next = i.saturating_add(*len);
            in_sync || next == audio.len() || audio.get(next..).and_then(mpeg_frame_len).is_some()
        });
        match frame {
            Some(len) => {
                let next = i.saturating_add(len).min(audio.len());
                out.extend_from_slice(audio.get(i..next).unwrap_or(&[]));
                i = next;
                in_sync = true;
            }
            None => {
                i += 1;
                in_sync = false;
            }
        }
    }
    if out.is_empty() {
        return Err(MaskError::AudioEmpty);
    }
    Ok(out)
}

/// The length in bytes of the MPEG audio frame whose header starts `bytes`
/// (ISO/IEC 11172-3 and 13818-3: MPEG 1, 2 and 2.5, layers I to III), or
/// `None` when it is not a valid header (free-format bitrates included:
/// their length is not in the header).
pub(super) fn mpeg_frame_len(bytes: &[u8]) -> Option<usize> {
    const V1: [[u16; 15]; 3] = [
        [
            0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
    ];
    const V2: [[u16; 15]; 2] = [
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ];
    let [b0, b1, b2, b3, ..] = *bytes else {
        return None;
    };
    if b0 != 0xFF || b1 & 0xE0 != 0xE0 || b3 & 0x03 == 0x02 {
        return None;
    }
    let version = (b1 >> 3) & 3; // 0: 2.5, 1: reserved, 2: 2, 3: 1
    let layer = (b1 >> 1) & 3; // 1: III, 2: II, 3: I
    let bitrate_index = usize::from(b2 >> 4);
    let rate_index = usize::from((b2 >> 2) & 3);
    let padding = usize::from((b2 >> 1) & 1);
    if version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    let kbps = usize::from(match (version, layer) {
        (3, 3) => V1[0][bitrate_index],
        (3, 2) => V1[1][bitrate_index],
        (3, _) => V1[2][bitrate_index],
        (_, 3) => V2[0][bitrate_index],
        _ => V2[1][bitrate_index],
    });
    let rate = [44_100usize, 48_000, 32_000][rate_index]
        >> match version {
            3 => 0,
            2 => 1,
            _ => 2,
        };
    let bits_per_sec = kbps * 1000;
    Some(match layer {
        3 => (12 * bits_per_sec / rate + padding) * 4,
        // Layer III of MPEG 2 and 2.5 has half the samples per frame.
        1 if version != 3 => 72 * bits_per_sec / rate + padding,
        _ => 144 * bits_per_sec / rate + padding,
    })
}

/// Where the tags appended after the audio that starts at `pos` begin:
/// APEv2, ID3v1 (and its "TAG+" extension) and appended ID3v2 ("3DI"
/// footer) tags, in any order.
pub(super) fn tail_tags_start(
    bytes: &[u8],
    pos: usize,
    format: &'static str,
) -> Result<usize, MaskError> {
    let mut end = bytes.len();
    loop {
        let avail = end - pos;
        let tail = |n: usize| bytes.get(end.saturating_sub(n)..end).filter(|_| avail >= n);
        // The 227-byte "TAG+" block sits just before the 128-byte ID3v1 tag.
        if tail(227 + 128).is_some_and(|t| t.starts_with(b"TAG+"))
            && tail(128).is_some_and(|t| t.starts_with(b"TAG"))
        {
            end -= 227 + 128;
            continue;
        }
        if tail(128).is_some_and(|t| t.starts_with(b"TAG")) {
            end -= 128;
            continue;
        }
        if let Some(footer) = tail(32).filter(|t| t.starts_with(b"APETAGEX")) {
            let at = end - 32;
            let (Some(size), Some(flags)) = (u32_le(footer, 12), u32_le(footer, 20)) else {
                break;
            };
            let header = if flags & 0x8000_0000 != 0 { 32 } else { 0 };
            let len = (size as usize).saturating_add(header);
            if (size as usize) < 32 || len > avail {
                return Err(malformed(
                    format,
                    format!(
                        "the APEv2 tag ending at byte {end} declares {len} bytes, which do not fit (footer at byte {at})"
                    ),
                ));
            }
            end -= len;
            continue;
        }
        if tail(10).is_some_and(|t| t.starts_with(b"3DI")) {
            let at = end - 10;
            let size = syncsafe(bytes, at + 6).ok_or_else(|| {
                malformed(
                    format,
                    format!("the ID3v2 footer at byte {at} has an invalid size"),
                )
            })?;
            let len = size.saturating_add(20);
            if len > avail {
                return Err(malformed(
                    format,
                    format!(
                        "the appended ID3v2 tag with its footer at byte {at} runs past the start of the audio"
                    ),
                ));
            }
            end -= len;
            continue;
        }
        break;
    }
    Ok(end)
}
