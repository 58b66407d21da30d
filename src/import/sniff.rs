//! Magic-byte detection, so a file is judged by what it contains and not by its name:
//! a renamed file must never reach a decoder for another format, and a file that is no
//! known format at all is refused before any decoder sees it.

use super::MediaKind;

/// Every file format the importer accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JPEG / JFIF / EXIF image.
    Jpeg,
    /// PNG image.
    Png,
    /// GIF image (first frame is validated).
    Gif,
    /// WebP image (RIFF container).
    WebP,
    /// TIFF image, either byte order.
    Tiff,
    /// Windows bitmap.
    Bmp,
    /// RIFF/WAVE audio.
    Wav,
    /// Native FLAC audio.
    Flac,
    /// Ogg container (Vorbis audio).
    Ogg,
    /// MPEG audio layer I/II/III, with or without an ID3v2 tag.
    Mp3,
    /// Plain UTF-8 (or UTF-16 with BOM) text, one item per file.
    Txt,
    /// JSON Lines, one record per line.
    Jsonl,
    /// Comma-separated values with a header row, one record per row.
    Csv,
}

impl Format {
    /// Short lowercase name stored in [`super::MediaInfo`] and used as a decoder hint.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::WebP => "webp",
            Format::Tiff => "tiff",
            Format::Bmp => "bmp",
            Format::Wav => "wav",
            Format::Flac => "flac",
            Format::Ogg => "ogg",
            Format::Mp3 => "mp3",
            Format::Txt => "txt",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }

    /// Upper-case name for messages shown to people ("the bytes are MP3").
    pub fn display_name(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Gif => "GIF",
            Format::WebP => "WebP",
            Format::Tiff => "TIFF",
            Format::Bmp => "BMP",
            Format::Wav => "WAV",
            Format::Flac => "FLAC",
            Format::Ogg => "Ogg",
            Format::Mp3 => "MP3",
            Format::Txt => "text",
            Format::Jsonl => "JSON Lines",
            Format::Csv => "CSV",
        }
    }

    /// Which kind of item the format produces.
    pub fn kind(self) -> MediaKind {
        match self {
            Format::Jpeg
            | Format::Png
            | Format::Gif
            | Format::WebP
            | Format::Tiff
            | Format::Bmp => MediaKind::Image,
            Format::Wav | Format::Flac | Format::Ogg | Format::Mp3 => MediaKind::Audio,
            Format::Txt | Format::Jsonl | Format::Csv => MediaKind::Text,
        }
    }

    /// The signature a file of this format must start with, for "not a X file: no ..." messages.
    pub fn expected_signature(self) -> &'static str {
        match self {
            Format::Jpeg => "start-of-image marker (FF D8 FF)",
            Format::Png => "PNG signature (89 50 4E 47 0D 0A 1A 0A)",
            Format::Gif => "GIF87a/GIF89a header",
            Format::WebP => "RIFF/WEBP header",
            Format::Tiff => "TIFF header (II*\\0 or MM\\0*)",
            Format::Bmp => "BMP file header (BM)",
            Format::Wav => "RIFF/WAVE header",
            Format::Flac => "fLaC stream marker",
            Format::Ogg => "OggS page header",
            Format::Mp3 => "ID3 tag or MPEG audio frame header",
            Format::Txt | Format::Jsonl | Format::Csv => "text",
        }
    }

    /// Maps a file extension (without the dot, any case) to the format it promises.
    pub fn from_extension(ext: &str) -> Option<Format> {
        let ext = ext.to_ascii_lowercase();
        Some(match ext.as_str() {
            "jpg" | "jpeg" => Format::Jpeg,
            "png" => Format::Png,
            "gif" => Format::Gif,
            "webp" => Format::WebP,
            "tif" | "tiff" => Format::Tiff,
            "bmp" => Format::Bmp,
            "wav" => Format::Wav,
            "flac" => Format::Flac,
            "ogg" | "oga" => Format::Ogg,
            "mp3" => Format::Mp3,
            "txt" => Format::Txt,
            "jsonl" | "ndjson" => Format::Jsonl,
            "csv" => Format::Csv,
            _ => return None,
        })
    }
}

/// Detects a binary media format from the first bytes. Text formats have no signature, so
/// they are never returned; `None` means "no known binary format".
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    let head = |n: usize| bytes.get(..n);
    let at = |from: usize, to: usize| bytes.get(from..to);

    if head(3) == Some(&[0xFF, 0xD8, 0xFF]) {
        return Some(Format::Jpeg);
    }
    if head(8) == Some(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some(Format::Png);
    }
    if head(6) == Some(b"GIF87a") || head(6) == Some(b"GIF89a") {
        return Some(Format::Gif);
    }
    if head(4) == Some(b"RIFF") {
        match at(8, 12) {
            Some(b"WEBP") => return Some(Format::WebP),
            Some(b"WAVE") => return Some(Format::Wav),
            _ => {}
        }
    }
    if head(4) == Some(b"II*\0") || head(4) == Some(b"MM\0*") {
        return Some(Format::Tiff);
    }
    if is_bmp(bytes) {
        return Some(Format::Bmp);
    }
    if head(4) == Some(b"fLaC") {
        return Some(Format::Flac);
    }
    if head(4) == Some(b"OggS") {
        return Some(Format::Ogg);
    }
    if is_id3v2(bytes) || is_mpeg_audio_frame(bytes) {
        return Some(Format::Mp3);
    }
    None
}

/// "BM" alone is too weak (a text file may start with it), so the reserved fields and the
/// size of the DIB header that follows are checked as well.
fn is_bmp(bytes: &[u8]) -> bool {
    if bytes.get(..2) != Some(b"BM") {
        return false;
    }
    let reserved_zero = bytes.get(6..10) == Some(&[0, 0, 0, 0]);
    let dib_size = bytes
        .get(14..18)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes);
    reserved_zero && matches!(dib_size, Some(12 | 16 | 40 | 52 | 56 | 64 | 108 | 124))
}

/// An ID3v2 tag: "ID3", a major version 2..=4 and a revision that is never 0xFF.
fn is_id3v2(bytes: &[u8]) -> bool {
    bytes.get(..3) == Some(b"ID3")
        && matches!(bytes.get(3), Some(2..=4))
        && bytes.get(4).is_some_and(|&r| r != 0xFF)
}

/// An MPEG audio frame header at byte 0: 11-bit sync, a defined version and layer, and a
/// bitrate/sample-rate index that is not reserved. JPEG (FF D8) fails the sync test.
fn is_mpeg_audio_frame(bytes: &[u8]) -> bool {
    let (Some(&b0), Some(&b1), Some(&b2)) = (bytes.first(), bytes.get(1), bytes.get(2)) else {
        return false;
    };
    let sync = b0 == 0xFF && (b1 & 0xE0) == 0xE0;
    let version = (b1 >> 3) & 0b11;
    let layer = (b1 >> 1) & 0b11;
    let bitrate = b2 >> 4;
    let rate = (b2 >> 2) & 0b11;
    sync && version != 0b01 && layer != 0b00 && bitrate != 0b1111 && rate != 0b11
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_signature() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Format::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(Format::Png));
        assert_eq!(sniff(b"GIF89a...."), Some(Format::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::WebP));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Some(Format::Wav));
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Some(Format::Tiff));
        assert_eq!(sniff(b"MM\0*\0\0\0\x08"), Some(Format::Tiff));
        assert_eq!(
            sniff(b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0"),
            Some(Format::Bmp)
        );
        assert_eq!(sniff(b"fLaC\0\0\0\x22"), Some(Format::Flac));
        assert_eq!(sniff(b"OggS\0\x02"), Some(Format::Ogg));
        assert_eq!(sniff(b"ID3\x04\0\0\0\0\0\0"), Some(Format::Mp3));
        // MPEG-2 layer III, 22.05 kHz: FF F3 ..
        assert_eq!(sniff(&[0xFF, 0xF3, 0x64, 0xC4]), Some(Format::Mp3));
    }

    #[test]
    fn text_that_looks_like_a_signature_is_not_sniffed() {
        assert_eq!(sniff(b"BM is a fine name for a text file"), None);
        assert_eq!(sniff(b"ID3 tags are discussed below"), None);
        assert_eq!(sniff(b"RIFF raff"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(&[0xFF]), None);
        // Reserved MPEG version bits (01) must not count as a frame.
        assert_eq!(sniff(&[0xFF, 0xEB, 0x90, 0x00]), None);
    }

    #[test]
    fn extensions_are_case_insensitive() {
        assert_eq!(Format::from_extension("JPG"), Some(Format::Jpeg));
        assert_eq!(Format::from_extension("Tif"), Some(Format::Tiff));
        assert_eq!(Format::from_extension("oga"), Some(Format::Ogg));
        assert_eq!(Format::from_extension("NDJSON"), Some(Format::Jsonl));
        assert_eq!(Format::from_extension("docx"), None);
    }
}
