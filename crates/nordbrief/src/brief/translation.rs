//! A document translated into English: each source paragraph beside its
//! English, the faults a check found, and the forms it is written in.

use serde::Serialize;
use std::collections::BTreeMap;

use super::record::{LanguageLabel, ModelInfo, Timings};
use crate::ingest::ParagraphKind;

/// Something wrong with a translated paragraph that a second request did not mend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Flag {
    /// Numbers of the source that the English lost or changed, as the source writes them.
    MissingNumbers { numbers: Vec<String> },
    /// Numbers in digits that the English states and the source does not.
    AddedNumbers { numbers: Vec<String> },
    /// The English text does not read as English.
    NotEnglish,
    /// The answer reached the token cap and may be cut short.
    TokenCap,
    /// The model gave no text for this paragraph.
    Empty,
    /// The answer repeats the instructions, the context or the previous
    /// paragraph's English instead of translating this paragraph.
    Echo,
    /// Domain terms of the source (data/terminology.toml) whose standard
    /// English the translation lacks, as `source word = English`.
    MissingTerms { terms: Vec<String> },
    /// Bodies the English names (data/bodies.toml) that the source does not.
    AddedNames { names: Vec<String> },
    /// The English says the opposite of the source on one dimension: a
    /// decrease rendered as an increase, opposition as support, a ban as
    /// a permission.
    Reversed { what: String },
}

impl Flag {
    /// What is wrong, in words for a reader and for the model's second request.
    pub fn describe(&self) -> String {
        match self {
            Flag::MissingNumbers { numbers } => format!("the source's {} missing or changed", numbers.join(", ")),
            Flag::AddedNumbers { numbers } => format!("{} not in the source", numbers.join(", ")),
            Flag::NotEnglish => "not entirely in English".to_string(),
            Flag::TokenCap => "cut off at the length limit (it may repeat itself)".to_string(),
            Flag::Empty => "no translation given".to_string(),
            Flag::Echo => "it repeats the instructions or the previous paragraph instead of translating this one".to_string(),
            Flag::MissingTerms { terms } => format!("these terms not translated by their standard English: {}", terms.join("; ")),
            Flag::AddedNames { names } => format!("{} not named in the source", names.join(", ")),
            Flag::Reversed { what } => format!("it says the opposite of the source ({what})"),
        }
    }

    /// How bad a fault is, to pick the better of two answers.
    pub(crate) fn weight(&self) -> usize {
        match self {
            Flag::Empty => 1000,
            Flag::Echo => 500,
            Flag::TokenCap => 50,
            Flag::NotEnglish => 20,
            Flag::MissingNumbers { numbers } => 5 * numbers.len(),
            Flag::AddedNumbers { numbers } => 3 * numbers.len(),
            Flag::MissingTerms { terms } => 2 * terms.len(),
            Flag::AddedNames { names } => 10 * names.len(),
            Flag::Reversed { .. } => 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranslatedParagraph {
    /// The source paragraph's ¶ id.
    pub id: usize,
    pub kind: ParagraphKind,
    pub source: String,
    pub english: String,
    pub flags: Vec<Flag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GlossaryEntry {
    pub source: String,
    pub english: String,
}

/// A document translated into English.
#[derive(Debug, Clone, Serialize)]
pub struct Translation {
    pub id: String,
    pub source: String,
    pub source_sha256: String,
    pub language: LanguageLabel,
    pub model: ModelInfo,
    pub prompt_versions: BTreeMap<String, String>,
    /// The terms held constant across the document.
    pub glossary: Vec<GlossaryEntry>,
    pub paragraphs: Vec<TranslatedParagraph>,
    pub warnings: Vec<String>,
    pub timings: Timings,
}

/// The forms a translation is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TranslationFormat {
    Md,
    Txt,
    Json,
}

impl std::str::FromStr for TranslationFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(Self::Md),
            "txt" | "text" => Ok(Self::Txt),
            "json" => Ok(Self::Json),
            _ => Err(format!("unknown format `{s}`; use md, txt or json")),
        }
    }
}

fn outputs_md(id: &str) -> Vec<String> {
    vec![format!("{id}.en.json"), format!("{id}.en.md")]
}

fn outputs_txt(id: &str) -> Vec<String> {
    vec![format!("{id}.en.json"), format!("{id}.en.txt")]
}

fn outputs_json(id: &str) -> Vec<String> {
    vec![format!("{id}.en.json")]
}

impl TranslationFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Md => "md",
            Self::Txt => "txt",
            Self::Json => "json",
        }
    }

    /// The files a translation task writes per document: always the JSON
    /// (the aligned record), and the chosen reading form beside it.
    pub fn outputs(self) -> fn(&str) -> Vec<String> {
        match self {
            Self::Md => outputs_md,
            Self::Txt => outputs_txt,
            Self::Json => outputs_json,
        }
    }

    /// The output file holding this format for document `id`.
    pub fn file_name(self, id: &str) -> String {
        format!("{id}.en.{}", self.extension())
    }
}

impl Translation {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("translation serialises")
    }

    /// Markdown: headings as `#` headings (the first heading of the
    /// document as the title), list items as `-` items, and each flagged
    /// paragraph followed by a quoted note naming its ¶ and its faults.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let mut first_heading = true;
        let mut previous_kind = None;
        for p in &self.paragraphs {
            let line = match p.kind {
                ParagraphKind::Heading => {
                    let marks = if first_heading { "#" } else { "##" };
                    first_heading = false;
                    format!("{marks} {}", p.english)
                }
                ParagraphKind::ListItem => format!("- {}", p.english),
                ParagraphKind::Text => p.english.clone(),
            };
            // Consecutive list items form one list.
            let tight = p.kind == ParagraphKind::ListItem
                && previous_kind == Some(ParagraphKind::ListItem)
                && !out.ends_with("\n\n");
            if !out.is_empty() {
                out.push_str(if tight { "\n" } else { "\n\n" });
            }
            out.push_str(&line);
            if !p.flags.is_empty() {
                let faults: Vec<String> = p.flags.iter().map(Flag::describe).collect();
                out.push_str(&format!("\n\n> ⚠ ¶{}: {}", p.id, faults.join("; ")));
                previous_kind = None;
            } else {
                previous_kind = Some(p.kind);
            }
        }
        out.push_str(&format!(
            "\n\n---\n\n_English translation of {} ({}) by {}; ¶ numbers refer to the source's paragraphs._\n",
            self.source, self.language.name, self.model.id
        ));
        for warning in &self.warnings {
            out.push_str(&format!("\n- Warning: {warning}"));
        }
        if !self.warnings.is_empty() {
            out.push('\n');
        }
        out
    }

    /// Plain text: paragraphs separated by blank lines, list items with a
    /// leading "- ", and the flags listed at the end.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for p in &self.paragraphs {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            if p.kind == ParagraphKind::ListItem {
                out.push_str("- ");
            }
            out.push_str(&p.english);
        }
        out.push('\n');
        let flagged: Vec<String> = self
            .paragraphs
            .iter()
            .filter(|p| !p.flags.is_empty())
            .map(|p| {
                format!(
                    "¶{}: {}",
                    p.id,
                    p.flags
                        .iter()
                        .map(Flag::describe)
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            })
            .collect();
        if !flagged.is_empty() {
            out.push_str(&format!(
                "\nFlagged paragraphs (check against the source):\n{}\n",
                flagged.join("\n")
            ));
        }
        out
    }

    pub fn render(&self, format: TranslationFormat) -> String {
        match format {
            TranslationFormat::Md => self.to_markdown(),
            TranslationFormat::Txt => self.to_text(),
            TranslationFormat::Json => self.to_json(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_name_their_files() {
        assert_eq!("md".parse::<TranslationFormat>(), Ok(TranslationFormat::Md));
        assert_eq!(
            "TXT".parse::<TranslationFormat>(),
            Ok(TranslationFormat::Txt)
        );
        assert!("pdf".parse::<TranslationFormat>().is_err());
        assert_eq!(
            (TranslationFormat::Md.outputs())("a"),
            vec!["a.en.json", "a.en.md"]
        );
        assert_eq!((TranslationFormat::Json.outputs())("a"), vec!["a.en.json"]);
    }
}
