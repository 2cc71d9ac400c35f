//! Ingest: any supported file → clean, segmented text with a language
//! label, so the model only ever sees the document's content.
//!
//! bytes → [`decode`] (encodings) or [`extract`] (HTML, DOCX, PDF) →
//! [`clean`] (rules, counted by name) → [`segment`] (¶ ids, sentences) →
//! [`lang`] (document and paragraph language).

pub(crate) mod clean;
pub(crate) mod decode;
mod document;
pub(crate) mod extract;
pub mod lang;
pub(crate) mod segment;

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use document::count_words;
pub use document::{Document, Footnote, Paragraph, ParagraphKind, MAX_INPUT_BYTES};
pub use lang::{Language, LanguageGuess};
pub use segment::split_sentences;

/// File extensions nordbrief reads (lowercase, without the dot).
pub const SUPPORTED_EXTENSIONS: &[&str] = &[
    "txt", "text", "md", "markdown", "html", "htm", "xhtml", "docx", "pdf",
];

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: no such file; check the path and try again")]
    NotFound { path: String },
    #[error("{path}: cannot read the file ({source}); check its permissions")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is {} ({bytes} bytes), over the {} limit; split the document or extract the part you need", megabytes(*.bytes), megabytes(*.limit))]
    TooLarge {
        path: String,
        bytes: u64,
        limit: u64,
    },
    #[error("{path} nests HTML elements {depth} deep, more than the {limit} that can be read in reasonable time; save the page as text or PDF and try again")]
    TooDeep {
        path: String,
        depth: usize,
        limit: usize,
    },
    #[error("{path} is not a regular file (a pipe, socket or device), which could be read for ever; save it to a file, or pass it on standard input with `-`")]
    NotAFile { path: String },
    #[error("{path} is not a text document (it looks like binary data); convert it to .txt, .docx or .pdf first")]
    NotText { path: String },
    #[error("{path} contains no text (empty, only white space, or only page furniture); check that it is the right file")]
    Empty { path: String },
    #[error("{path} is a PDF without a text layer (scanned pages?); it needs OCR first, e.g. `ocrmypdf in.pdf out.pdf`, then try again")]
    NeedsOcr { path: String },
    #[error("{path} is not a readable .docx ({reason}); open and re-save it in a word processor, or export it as PDF")]
    BadDocx { path: String, reason: String },
    #[error("{path} is not a readable PDF ({reason}); re-export or print it to PDF again, or convert it to text")]
    BadPdf { path: String, reason: String },
    #[error("{path} unpacks to {what}, more than one document may hold (it may be a zip bomb); split the document or save the part you need as .txt")]
    UnpacksTooLarge { path: String, what: String },
    #[error("{path}: .{extension} files are not supported; supported: .txt, .md, .html, .htm, .docx, .pdf (or - for standard input)")]
    Unsupported { path: String, extension: String },
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// Reads and ingests a file; "-" reads standard input.
pub fn ingest_path(path: &Path) -> Result<Document, IngestError> {
    let name = path.to_string_lossy().to_string();
    if name == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| IngestError::Io {
                path: name.clone(),
                source,
            })?;
        if bytes.len() as u64 > MAX_INPUT_BYTES {
            return Err(IngestError::TooLarge {
                path: name,
                bytes: bytes.len() as u64,
                limit: MAX_INPUT_BYTES,
            });
        }
        return ingest_bytes(&name, &bytes);
    }
    let metadata = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => IngestError::NotFound { path: name.clone() },
        _ => IngestError::Io {
            path: name.clone(),
            source,
        },
    })?;
    if metadata.is_dir() {
        return Err(IngestError::Io {
            path: name,
            source: std::io::Error::other("it is a directory, not a file"),
        });
    }
    if !metadata.is_file() {
        return Err(IngestError::NotAFile { path: name });
    }
    if metadata.len() > MAX_INPUT_BYTES {
        return Err(IngestError::TooLarge {
            path: name,
            bytes: metadata.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|source| IngestError::Io {
            path: name.clone(),
            source,
        })?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(IngestError::TooLarge {
            path: name,
            bytes: bytes.len() as u64,
            limit: MAX_INPUT_BYTES,
        });
    }
    ingest_bytes(&name, &bytes)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Markdown,
    Html,
    Docx,
    Pdf,
}

impl Format {
    fn name(&self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Docx => "docx",
            Format::Pdf => "pdf",
        }
    }
}

/// The format from the file extension; without one (or for standard
/// input), from the first bytes.
fn detect_format(source_name: &str, bytes: &[u8]) -> Result<Format, IngestError> {
    let extension = Path::new(source_name)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase());
    match extension.as_deref() {
        Some("txt" | "text") => Ok(Format::Text),
        Some("md" | "markdown") => Ok(Format::Markdown),
        Some("html" | "htm" | "xhtml") => Ok(Format::Html),
        Some("docx") => Ok(Format::Docx),
        Some("pdf") => Ok(Format::Pdf),
        Some(other) if source_name != "-" => Err(IngestError::Unsupported {
            path: source_name.to_string(),
            extension: other.to_string(),
        }),
        _ => Ok(sniff_format(bytes)),
    }
}

fn sniff_format(bytes: &[u8]) -> Format {
    if bytes.starts_with(b"%PDF-") {
        return Format::Pdf;
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Format::Docx;
    }
    let head: String = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<body") {
        return Format::Html;
    }
    Format::Text
}

/// Ingests bytes; the format comes from the extension of `source_name`
/// ("-" or no extension: detected from the content).
pub fn ingest_bytes(source_name: &str, bytes: &[u8]) -> Result<Document, IngestError> {
    let path = source_name.to_string();
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(IngestError::TooLarge {
            path,
            bytes: bytes.len() as u64,
            limit: MAX_INPUT_BYTES,
        });
    }
    let format = detect_format(source_name, bytes)?;
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(IngestError::Empty { path });
    }
    let not_text = || IngestError::NotText { path: path.clone() };
    let (cleaned, encoding) = match format {
        Format::Text | Format::Markdown => {
            let decoded = decode::decode_text(bytes).map_err(|_| not_text())?;
            (
                clean::clean_plain_text(&decoded.text, clean::Layout::Auto),
                Some(decoded.encoding.to_string()),
            )
        }
        Format::Html => {
            let decoded = decode::decode_text(bytes).map_err(|_| not_text())?;
            let depth = extract::html_depth(&decoded.text);
            if depth > extract::MAX_HTML_DEPTH {
                return Err(IngestError::TooDeep {
                    path: path.clone(),
                    depth,
                    limit: extract::MAX_HTML_DEPTH,
                });
            }
            let blocks = extract::html_blocks(&decoded.text);
            (
                clean::clean_blocks(blocks),
                Some(decoded.encoding.to_string()),
            )
        }
        Format::Docx => {
            let (blocks, footnotes) =
                extract::docx_blocks(bytes).map_err(|e| extract_error(&path, e))?;
            let mut cleaned = clean::clean_blocks(blocks);
            cleaned.footnotes = footnotes
                .into_iter()
                .map(|(number, text)| Footnote {
                    number,
                    text,
                    paragraph: None,
                })
                .collect();
            (cleaned, None)
        }
        Format::Pdf => {
            let text = extract::pdf_text(bytes).map_err(|e| extract_error(&path, e))?;
            (clean::clean_plain_text(&text, clean::Layout::Pdf), None)
        }
    };
    if cleaned.blocks.is_empty() {
        return Err(IngestError::Empty { path });
    }

    let mut paragraphs = segment::build_paragraphs(&cleaned.blocks);
    let mut language_budget = PARAGRAPH_LANGUAGE_BUDGET_CHARS;
    for paragraph in &mut paragraphs {
        if language_budget == 0 {
            break;
        }
        language_budget = language_budget.saturating_sub(paragraph.text.len());
        paragraph.language = paragraph_language(&paragraph.text);
    }
    let mut footnotes = cleaned.footnotes;
    for &(block_index, number) in &cleaned.footnote_references {
        if let Some(footnote) = footnotes
            .iter_mut()
            .find(|f| f.number == number && f.paragraph.is_none())
        {
            footnote.paragraph = Some(block_index + 1);
        }
    }
    let mut document = Document {
        source: path,
        format: format.name().to_string(),
        source_sha256: hex::encode(Sha256::digest(bytes)),
        encoding,
        paragraphs,
        footnotes,
        language: LanguageGuess::unknown(),
        mixed_language: false,
        document_date: cleaned.document_date,
        rules_fired: cleaned.rules_fired,
    };
    document.language = lang::detect(&document.body_text());
    document.mixed_language = is_mixed(&document);
    Ok(document)
}

fn extract_error(path: &str, error: extract::ExtractError) -> IngestError {
    let path = path.to_string();
    match error {
        extract::ExtractError::BadDocx(reason) => IngestError::BadDocx { path, reason },
        extract::ExtractError::BadPdf(reason) => IngestError::BadPdf { path, reason },
        extract::ExtractError::NeedsOcr => IngestError::NeedsOcr { path },
        extract::ExtractError::TooLarge(what) => IngestError::UnpacksTooLarge { path, what },
    }
}

/// Paragraph-level language identification stops after this much text
/// (about 2 seconds of work; a 700-page report); later paragraphs keep no
/// label, so that a huge file cannot take minutes.
const PARAGRAPH_LANGUAGE_BUDGET_CHARS: usize = 2_000_000;

/// Paragraphs shorter than this many words get no language label: a
/// heading of two words is not evidence.
const MIN_WORDS_FOR_PARAGRAPH_LANGUAGE: usize = 4;

fn paragraph_language(text: &str) -> Option<LanguageGuess> {
    if count_words(text) < MIN_WORDS_FOR_PARAGRAPH_LANGUAGE {
        return None;
    }
    let guess = lang::detect(text);
    (guess.language != Language::Unknown).then_some(guess)
}

/// Paragraphs this long, labelled this confidently, count as evidence of
/// another language.
const MIXED_MIN_WORDS: usize = 12;
const MIXED_MIN_CONFIDENCE: f64 = 0.6;
/// Share of such words (of all words) that makes a document mixed.
const MIXED_MIN_SHARE: f64 = 0.2;

/// A document is mixed when long, confidently labelled paragraphs in a
/// language other than the document's make up a fifth of its words.
/// Danish/bokmål/nynorsk disagreements are not counted: on single
/// paragraphs they are too often noise.
fn is_mixed(document: &Document) -> bool {
    let total = document.word_count();
    if total == 0 {
        return false;
    }
    let close = |a: Language, b: Language| {
        let nordic_west =
            |l: Language| matches!(l, Language::Danish | Language::Bokmal | Language::Nynorsk);
        nordic_west(a) && nordic_west(b)
    };
    let other_words: usize = document
        .paragraphs
        .iter()
        .filter_map(|p| {
            let guess = p.language.as_ref()?;
            let words = count_words(&p.text);
            let differs = guess.language != document.language.language
                && !close(guess.language, document.language.language);
            (differs && words >= MIXED_MIN_WORDS && guess.confidence >= MIXED_MIN_CONFIDENCE)
                .then_some(words)
        })
        .sum();
    other_words as f64 >= MIXED_MIN_SHARE * total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_extension_and_content() {
        assert_eq!(detect_format("a.TXT", b"x").unwrap(), Format::Text);
        assert_eq!(detect_format("a.htm", b"x").unwrap(), Format::Html);
        assert_eq!(detect_format("-", b"%PDF-1.4").unwrap(), Format::Pdf);
        assert_eq!(
            detect_format("-", b"<!DOCTYPE html><p>x").unwrap(),
            Format::Html
        );
        assert_eq!(detect_format("notes", b"plain").unwrap(), Format::Text);
        let error = detect_format("report.odt", b"x").unwrap_err();
        assert!(
            error.to_string().contains(".odt files are not supported"),
            "{error}"
        );
    }

    #[test]
    fn errors_say_what_to_do() {
        let error = IngestError::TooLarge {
            path: "big.txt".into(),
            bytes: 60 * 1024 * 1024,
            limit: MAX_INPUT_BYTES,
        };
        assert_eq!(
            error.to_string(),
            "big.txt is 60.0 MB (62914560 bytes), over the 50.0 MB limit; split the document or extract the part you need"
        );
        let error = IngestError::NeedsOcr {
            path: "scan.pdf".into(),
        };
        assert!(error.to_string().contains("needs OCR"));
    }

    #[test]
    fn document_views() {
        let document = ingest_bytes(
            "x.txt",
            "Bakgrund\n\nSverige stöder de föreslagna rådsslutsatserna om integration.\n\n· invandrares delaktighet i samhället".as_bytes(),
        )
        .unwrap();
        assert_eq!(document.paragraphs.len(), 3);
        assert_eq!(
            document.body_text(),
            "Bakgrund\n\nSverige stöder de föreslagna rådsslutsatserna om integration.\n\n- invandrares delaktighet i samhället"
        );
        assert_eq!(document.word_count(), 12);
        let inspect = document.render_inspect();
        assert!(inspect.contains("¶1 [heading]"), "{inspect}");
        assert!(inspect.contains("¶3 [list item]"), "{inspect}");
        assert!(inspect.contains("Swedish (swe)"), "{inspect}");
        assert!(
            inspect.contains("rules fired: heading ×1, list_item ×1"),
            "{inspect}"
        );
        let json = serde_json::to_value(&document).unwrap();
        assert_eq!(json["language"]["language"], "swe");
        assert_eq!(json["paragraphs"][2]["kind"], "list_item");
    }

    #[test]
    fn empty_and_whitespace_are_empty_errors() {
        assert!(matches!(
            ingest_bytes("a.txt", b""),
            Err(IngestError::Empty { .. })
        ));
        assert!(matches!(
            ingest_bytes("a.txt", b" \n\t\r\n "),
            Err(IngestError::Empty { .. })
        ));
        assert!(matches!(
            ingest_bytes("a.txt", "Til forsiden\n".as_bytes()),
            Err(IngestError::Empty { .. })
        ));
    }

    #[test]
    fn unsupported_language_is_a_label_not_an_error() {
        let german = "Die Bundesregierung hat heute neue Regeln für die Einwanderung von Fachkräften beschlossen. Die Opposition kritisiert den Entwurf als unzureichend.";
        let document = ingest_bytes("de.txt", german.as_bytes()).unwrap();
        assert_eq!(document.language.language, Language::German);
        assert!(!document.language.language.is_scandinavian());
        assert!(!document.mixed_language);
    }

    #[test]
    fn mixed_documents_are_flagged() {
        let swedish = "Migrationsverket deltar aktivt i EU-samarbetet och har ett nära samarbete med flera internationella organisationer och nätverk i hela världen.";
        let english = "The Council adopted conclusions on the external dimension of migration policy and asked the Commission to report back before the end of the year.";
        let mixed = format!("{swedish}\n\n{english}\n\n{swedish}\n\n{english}");
        let document = ingest_bytes("mix.txt", mixed.as_bytes()).unwrap();
        assert!(document.mixed_language);
        let languages: Vec<Language> = document
            .paragraphs
            .iter()
            .filter_map(|p| p.language.as_ref().map(|l| l.language))
            .collect();
        assert_eq!(
            languages,
            vec![
                Language::Swedish,
                Language::English,
                Language::Swedish,
                Language::English
            ]
        );
        let single = ingest_bytes("sv.txt", format!("{swedish}\n\n{swedish}").as_bytes()).unwrap();
        assert!(!single.mixed_language);
    }
}
