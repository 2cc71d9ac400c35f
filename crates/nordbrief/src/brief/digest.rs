//! One Markdown briefing across many briefs: grouped by source language and
//! date, a line per document with its title and top points, then the themes
//! that recur across documents. Made from the briefs alone, without a model.

use std::collections::{BTreeMap, BTreeSet};

use super::record::Brief;

/// Key points shown per document in the digest.
const TOP_POINTS: usize = 2;
/// Themes listed at the end.
const MAX_THEMES: usize = 10;

/// Words too common to make a theme.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "also",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "been",
    "between",
    "both",
    "but",
    "by",
    "can",
    "do",
    "does",
    "for",
    "from",
    "has",
    "have",
    "how",
    "in",
    "into",
    "is",
    "it",
    "its",
    "more",
    "must",
    "new",
    "not",
    "of",
    "on",
    "or",
    "other",
    "out",
    "over",
    "should",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "under",
    "up",
    "was",
    "were",
    "which",
    "while",
    "who",
    "will",
    "with",
    "within",
    "would",
    "document",
    "documents",
    "report",
    "says",
    "describes",
    "states",
    "notes",
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|w| w.len() > 2)
        .map(|w| w.to_lowercase())
        .collect()
}

/// Two-word phrases of content words, e.g. "integration policy".
fn phrases(text: &str) -> BTreeSet<String> {
    let ws = words(text);
    ws.windows(2)
        .filter(|w| !STOPWORDS.contains(&w[0].as_str()) && !STOPWORDS.contains(&w[1].as_str()))
        .filter(|w| {
            !w[0].chars().all(|c| c.is_ascii_digit()) && !w[1].chars().all(|c| c.is_ascii_digit())
        })
        .map(|w| format!("{} {}", w[0], w[1]))
        .collect()
}

/// Phrases found in at least two documents, most widespread first.
pub fn themes(briefs: &[Brief]) -> Vec<(String, Vec<String>)> {
    let mut docs_by_phrase: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for b in briefs {
        let text = format!("{} {} {}", b.title, b.summary, b.key_points.join(" "));
        for p in phrases(&text) {
            docs_by_phrase.entry(p).or_default().insert(b.id.clone());
        }
    }
    let mut themes: Vec<(String, Vec<String>)> = docs_by_phrase
        .into_iter()
        .filter(|(_, docs)| docs.len() >= 2)
        .map(|(p, docs)| (p, docs.into_iter().collect()))
        .collect();
    themes.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    themes.truncate(MAX_THEMES);
    themes
}

pub fn digest(briefs: &[Brief]) -> String {
    let mut md = format!("# Digest of {} documents\n\n", briefs.len());
    let mut by_language: BTreeMap<&str, Vec<&Brief>> = BTreeMap::new();
    for b in briefs {
        by_language
            .entry(b.language.name.as_str())
            .or_default()
            .push(b);
    }
    for (language, mut group) in by_language {
        // Newest first; undated documents last, by id.
        group.sort_by(|a, b| {
            b.document_date
                .cmp(&a.document_date)
                .then_with(|| a.id.cmp(&b.id))
        });
        md.push_str(&format!("## {language} ({})\n\n", group.len()));
        for b in group {
            let title = if b.title.is_empty() {
                b.id.as_str()
            } else {
                b.title.as_str()
            };
            let date = b
                .document_date
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            md.push_str(&format!("- **{title}**{date} — `{}`\n", b.id));
            for p in b.key_points.iter().take(TOP_POINTS) {
                md.push_str(&format!("  - {p}\n"));
            }
            if !b.warnings.is_empty() {
                md.push_str(&format!(
                    "  - *{} warning(s): see the brief*\n",
                    b.warnings.len()
                ));
            }
        }
        md.push('\n');
    }
    let themes = themes(briefs);
    if !themes.is_empty() {
        md.push_str("## Recurring themes\n\n");
        for (phrase, docs) in themes {
            md.push_str(&format!(
                "- {phrase} — {} documents: {}\n",
                docs.len(),
                docs.join(", ")
            ));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::tests::sample;

    fn brief(id: &str, language: &str, date: Option<&str>, points: &[&str]) -> Brief {
        let mut b = sample();
        b.id = id.into();
        b.title = format!("Title of {id}");
        b.language.name = language.into();
        b.document_date = date.map(String::from);
        b.key_points = points.iter().map(|p| p.to_string()).collect();
        b.summary = String::new();
        b.warnings.clear();
        b
    }

    #[test]
    fn groups_by_language_newest_first_with_top_points() {
        let briefs = vec![
            brief(
                "a",
                "Swedish",
                Some("2020-03-03"),
                &["Integration policy matters.", "Second.", "Third."],
            ),
            brief("b", "Danish", None, &["Mobility partnerships were signed."]),
            brief(
                "c",
                "Swedish",
                Some("2021-01-01"),
                &["Integration policy again."],
            ),
        ];
        let md = digest(&briefs);
        let danish = md.find("## Danish (1)").unwrap();
        let swedish = md.find("## Swedish (2)").unwrap();
        assert!(danish < swedish, "languages in order");
        assert!(
            md.find("Title of c").unwrap() < md.find("Title of a").unwrap(),
            "newest first"
        );
        assert!(
            md.contains("  - Second.") && !md.contains("  - Third."),
            "top two points only"
        );
        assert!(
            md.contains("- integration policy — 2 documents: a, c"),
            "{md}"
        );
    }

    #[test]
    fn themes_need_two_documents_and_skip_stopwords() {
        let briefs = vec![
            brief(
                "a",
                "Swedish",
                None,
                &["The asylum seekers arrived in the spring."],
            ),
            brief("b", "Swedish", None, &["Asylum seekers were returned."]),
        ];
        let t = themes(&briefs);
        assert_eq!(t[0].0, "asylum seekers");
        assert!(t.iter().all(|(p, _)| !p.starts_with("the ")));
    }
}
