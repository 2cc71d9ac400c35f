//! Bytes → text: byte-order marks, UTF-16, UTF-8, and legacy single-byte
//! encodings (Windows-1252 / ISO-8859-1, common for Scandinavian text)
//! detected with chardetng. Invalid bytes become U+FFFD, never a panic.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// Why bytes could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes look like a binary file (image, archive, executable…).
    NotText,
}

/// Decoded text and the encoding it was read with.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
}

/// How much of the input the binary sniffing looks at.
const SNIFF_BYTES: usize = 64 * 1024;

/// Decodes `bytes` as text, or says it is not text.
pub fn decode_text(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_length..]);
        return finish(text.into_owned(), encoding.name());
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(bytes);
        return finish(text.into_owned(), encoding.name());
    }
    if looks_binary(bytes) {
        return Err(DecodeError::NotText);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return finish(text.to_string(), UTF_8.name());
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    // No top-level domain hint; allow UTF-8 since a file may be UTF-8 with
    // a few broken bytes, which decodes better as UTF-8 with replacements.
    let encoding = detector.guess(None, true);
    let (text, _, _) = encoding.decode(bytes);
    finish(text.into_owned(), encoding.name())
}

/// Rejects decodings that are mostly replacement or control characters
/// (binary data that slipped past the byte sniffing) and drops NULs.
fn finish(text: String, encoding: &'static str) -> Result<Decoded, DecodeError> {
    let mut total = 0usize;
    let mut bad = 0usize;
    for c in text.chars().take(SNIFF_BYTES) {
        total += 1;
        if c == '\u{FFFD}' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}')) {
            bad += 1;
        }
    }
    if total > 0 && bad * 10 > total {
        return Err(DecodeError::NotText);
    }
    let text = if text.contains('\0') {
        text.replace('\0', "")
    } else {
        text
    };
    Ok(Decoded { text, encoding })
}

/// UTF-16 without a BOM shows up as a NUL in every other byte for
/// Latin-script text; recognise that instead of calling it binary.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(SNIFF_BYTES)];
    if sample.len() < 8 || !sample.len().is_multiple_of(2) {
        return None;
    }
    let pairs = sample.len() / 2;
    let even_nuls = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nuls = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    // Most high bytes zero, (almost) no low bytes zero.
    if odd_nuls * 10 >= pairs * 7 && even_nuls * 50 <= pairs {
        Some(UTF_16LE)
    } else if even_nuls * 10 >= pairs * 7 && odd_nuls * 50 <= pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Binary files have NULs or many C0 control bytes; text has almost none.
/// A stray NUL or two in a text file is tolerated (and later dropped).
fn looks_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(SNIFF_BYTES)];
    if sample.is_empty() {
        return false;
    }
    let nuls = sample.iter().filter(|&&b| b == 0).count();
    let controls = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x1b))
        .count();
    nuls * 100 > sample.len() || controls * 20 > sample.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWEDISH: &str = "Sidan senast uppdaterad: åäö ÅÄÖ – “citat”";

    #[test]
    fn utf8_with_and_without_bom() {
        let plain = decode_text(SWEDISH.as_bytes()).unwrap();
        assert_eq!(plain.text, SWEDISH);
        let mut with_bom = vec![0xEF, 0xBB, 0xBF];
        with_bom.extend_from_slice(SWEDISH.as_bytes());
        let decoded = decode_text(&with_bom).unwrap();
        assert_eq!(decoded.text, SWEDISH);
        assert_eq!(decoded.encoding, "UTF-8");
    }

    #[test]
    fn utf16_le_and_be_with_bom() {
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in SWEDISH.encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
            be.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(decode_text(&le).unwrap().text, SWEDISH);
        assert_eq!(decode_text(&be).unwrap().text, SWEDISH);
        assert_eq!(decode_text(&be).unwrap().encoding, "UTF-16BE");
    }

    #[test]
    fn utf16_without_bom_is_recognised() {
        let text = "Dette er en norsk tekst om innvandring.";
        let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(decode_text(&le).unwrap().text, text);
    }

    #[test]
    fn windows_1252_is_detected() {
        let text = "Migrationsverket är en myndighet. Överenskommelsen nåddes i Göteborg för flyktingar och asylsökande – ”citat”.";
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
        assert!(!unmappable);
        let decoded = decode_text(&bytes).unwrap();
        assert_eq!(decoded.text, text);
        assert_eq!(decoded.encoding, "windows-1252");
    }

    #[test]
    fn binary_is_not_text() {
        let png = [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
            0, 0, 1, 0, 0, 0, 1, 0, 8, 6, 0, 0, 0, 0x5c, 0x72, 0xa8,
        ];
        assert_eq!(decode_text(&png).unwrap_err(), DecodeError::NotText);
        let noise: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert_eq!(decode_text(&noise).unwrap_err(), DecodeError::NotText);
    }

    #[test]
    fn a_few_nuls_are_dropped_not_fatal() {
        let mut bytes = "Hej och välkommen till en lång text om migration. "
            .repeat(20)
            .into_bytes();
        bytes.insert(3, 0);
        let decoded = decode_text(&bytes).unwrap();
        assert!(!decoded.text.contains('\0'));
        assert!(
            decoded.text.starts_with("Hej och vä"),
            "{}",
            &decoded.text[..20]
        );
    }

    #[test]
    fn invalid_utf8_does_not_panic() {
        let bytes = [b'a', 0xC3, b'b', 0xFF, 0xFE, b'c', 0xE2, 0x82];
        let _ = decode_text(&bytes);
        assert!(decode_text(&[]).unwrap().text.is_empty());
    }
}
