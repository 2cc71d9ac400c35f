//! A document as ingest hands it on: its paragraphs (with ¶ ids and kinds),
//! footnotes, language and the facts of its source.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::lang::LanguageGuess;

/// Largest input accepted, in bytes. Larger files are refused with their
/// size rather than read. Memory grows with the number of paragraphs: a text
/// at this limit peaks near 3 GB in `brief` (50 MB of short paragraphs took
/// 2.9 GB and 100 s with canned answers).
pub const MAX_INPUT_BYTES: u64 = 50 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParagraphKind {
    Heading,
    Text,
    ListItem,
}

impl ParagraphKind {
    pub fn label(&self) -> &'static str {
        match self {
            ParagraphKind::Heading => "heading",
            ParagraphKind::Text => "text",
            ParagraphKind::ListItem => "list item",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Paragraph {
    /// 1-based, counted after cleaning; stable for the same input.
    pub id: usize,
    pub kind: ParagraphKind,
    pub text: String,
    pub sentences: Vec<String>,
    /// None for paragraphs too short to identify (or beyond the first
    /// 2 million characters of a very large document).
    pub language: Option<LanguageGuess>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Footnote {
    pub number: u32,
    pub text: String,
    /// Id of the paragraph whose text referred to this footnote, when found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Document {
    /// The path as given ("-" for standard input).
    pub source: String,
    /// "txt", "md", "html", "docx" or "pdf".
    pub format: String,
    /// sha256 of the source bytes, hex.
    pub source_sha256: String,
    /// Text encoding the source was read with (text formats only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    pub paragraphs: Vec<Paragraph>,
    pub footnotes: Vec<Footnote>,
    pub language: LanguageGuess,
    /// True when a substantial part of the text is in another language.
    pub mixed_language: bool,
    /// ISO date from a "last updated"/"published" line, kept out of the body.
    pub document_date: Option<String>,
    /// Cleaning rule → how many times it fired.
    pub rules_fired: BTreeMap<String, usize>,
}

impl Document {
    pub fn word_count(&self) -> usize {
        self.paragraphs.iter().map(|p| count_words(&p.text)).sum()
    }

    /// The cleaned text: paragraphs separated by blank lines, headings as
    /// plain lines, list items with a leading "- ".
    pub fn body_text(&self) -> String {
        let mut out = String::new();
        for (i, paragraph) in self.paragraphs.iter().enumerate() {
            if i > 0 {
                out.push_str("\n\n");
            }
            if paragraph.kind == ParagraphKind::ListItem {
                out.push_str("- ");
            }
            out.push_str(&paragraph.text);
        }
        out
    }

    /// Human-readable view: document facts, then every paragraph with its
    /// ¶ id, kind and language, then footnotes.
    pub fn render_inspect(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "source:      {}", self.source);
        let _ = writeln!(
            out,
            "format:      {}{}",
            self.format,
            self.encoding
                .as_ref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
        let _ = writeln!(out, "sha256:      {}", self.source_sha256);
        let _ = writeln!(
            out,
            "language:    {} ({}) confidence {:.2}{}",
            self.language.language.english_name(),
            self.language.language.code(),
            self.language.confidence,
            if self.mixed_language {
                ", mixed-language document"
            } else {
                ""
            }
        );
        if let Some(date) = &self.document_date {
            let _ = writeln!(out, "date:        {date}");
        }
        let _ =
            writeln!(
            out,
            "paragraphs:  {} ({} headings, {} list items), {} sentences, {} words, {} footnotes",
            self.paragraphs.len(),
            self.paragraphs.iter().filter(|p| p.kind == ParagraphKind::Heading).count(),
            self.paragraphs.iter().filter(|p| p.kind == ParagraphKind::ListItem).count(),
            self.paragraphs.iter().map(|p| p.sentences.len()).sum::<usize>(),
            self.word_count(),
            self.footnotes.len()
        );
        let rules = if self.rules_fired.is_empty() {
            "none".to_string()
        } else {
            self.rules_fired
                .iter()
                .map(|(name, count)| format!("{name} ×{count}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "rules fired: {rules}");
        for paragraph in &self.paragraphs {
            let language = paragraph
                .language
                .as_ref()
                .map(|l| format!("{} {:.2}", l.language.code(), l.confidence))
                .unwrap_or_else(|| "–".to_string());
            let _ = writeln!(
                out,
                "\n¶{} [{}] {} · {} sentence{}",
                paragraph.id,
                paragraph.kind.label(),
                language,
                paragraph.sentences.len(),
                if paragraph.sentences.len() == 1 {
                    ""
                } else {
                    "s"
                }
            );
            let _ = writeln!(out, "{}", paragraph.text);
        }
        if !self.footnotes.is_empty() {
            let _ = writeln!(out, "\nfootnotes:");
            for footnote in &self.footnotes {
                let place = footnote
                    .paragraph
                    .map(|p| format!(" (¶{p})"))
                    .unwrap_or_default();
                let _ = writeln!(out, "[{}]{} {}", footnote.number, place, footnote.text);
            }
        }
        out
    }
}

pub(super) fn count_words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(|c| c.is_alphanumeric()))
        .count()
}
