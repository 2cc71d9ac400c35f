//! Checks every stage applies to the model's English: that it is English,
//! and which of its facts the source does not have.

use super::ground;
use crate::facts::{unsupported_facts, SourceIndex};

/// Fewer words than this are too few to judge a language by (a title made
/// of names, a short key point).
const MIN_WORDS_TO_JUDGE: usize = 4;

/// Whether `text` reads as English (short texts are given the benefit of the doubt).
pub fn is_english(text: &str) -> bool {
    if text.split_whitespace().count() < MIN_WORDS_TO_JUDGE {
        return true;
    }
    crate::ingest::lang::detect(text).language == crate::ingest::Language::English
}

/// Facts in `text` (a brief's lines, citation marks included) that the source does not have.
pub(super) fn facts_not_in(source: &SourceIndex, text: &str) -> Vec<String> {
    // Citation marks are paragraph numbers, not facts of the document.
    let text = text
        .lines()
        .map(|l| ground::split_citations(l).0)
        .collect::<Vec<_>>()
        .join("\n");
    unsupported_facts(&text, source)
        .into_iter()
        .map(|f| f.text)
        .collect()
}

/// The warning of a document not in a Scandinavian language: its `output`
/// ("brief", "translation") may be poor.
pub(super) fn foreign_language_warning(
    doc: &crate::ingest::Document,
    output: &str,
) -> Option<String> {
    let language = doc.language.language;
    (!language.is_scandinavian()).then(|| {
        format!(
            "the document is in {} ({:.0}% confidence), not a Scandinavian language; the {output} may be poor",
            language.english_name(),
            doc.language.confidence * 100.0
        )
    })
}

/// An error when `doc` has no text at all.
pub(super) fn require_text(doc: &crate::ingest::Document) -> Result<(), super::PipelineError> {
    if doc.paragraphs.iter().all(|p| p.text.trim().is_empty()) {
        return Err(super::PipelineError::EmptyDocument {
            source_path: doc.source.clone(),
        });
    }
    Ok(())
}
