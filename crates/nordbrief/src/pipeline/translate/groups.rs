//! What is sent to the model at once: paragraphs split at sentence ends,
//! grouped within the budget, and the numbered answer read back.

use once_cell::sync::Lazy;
use regex::Regex;

use crate::brief::Flag;
use crate::generate::GenerationSettings;

/// Answers read back by their `[n]` numbers: `count` texts in order, or
/// None when a number is missing, repeated, out of order or empty (the model
/// merged or dropped paragraphs). A lone paragraph may come unnumbered.
pub(super) fn parse_numbered(answer: &str, count: usize) -> Option<Vec<String>> {
    static MARK: Lazy<Regex> =
        Lazy::new(|| Regex::new(r"(?:^|\s)\**\[(\d{1,3})\]\**:?").expect("marker pattern"));
    let marks: Vec<(usize, usize, usize)> = MARK
        .captures_iter(answer)
        .filter_map(|c| {
            let whole = c.get(0)?;
            Some((c[1].parse().ok()?, whole.start(), whole.end()))
        })
        .collect();
    let tidy = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .trim_matches('*')
            .trim()
            .to_string()
    };
    if marks.is_empty() {
        let text = tidy(answer);
        return (count == 1 && !text.is_empty()).then_some(vec![text]);
    }
    if marks.len() != count || marks.iter().enumerate().any(|(i, (n, _, _))| *n != i + 1) {
        return None;
    }
    let texts: Vec<String> = marks
        .iter()
        .enumerate()
        .map(|(i, &(_, _, end))| tidy(&answer[end..marks.get(i + 1).map_or(answer.len(), |m| m.1)]))
        .collect();
    texts.iter().all(|t| !t.is_empty()).then_some(texts)
}

/// One paragraph as the translator sees it.
#[derive(Debug, Clone)]
pub(super) struct SourceParagraph<'a> {
    pub text: &'a str,
    /// Its sentences, where a long paragraph may be split.
    pub sentences: &'a [String],
}

/// One unit sent to the model: a paragraph, or a run of a long one's sentences.
#[derive(Debug, Clone)]
pub(super) struct Part {
    pub(super) paragraph: usize,
    pub(super) text: String,
    pub(super) tokens: usize,
}

#[derive(Debug, Clone, Default)]
pub(super) struct PartResult {
    pub(super) english: String,
    pub(super) flags: Vec<Flag>,
}

/// Split `paragraph` into parts of at most `budget` tokens at sentence ends
/// (a single longer sentence stays whole: its answer cap grows with it).
pub(super) fn split_paragraph(
    index: usize,
    paragraph: &SourceParagraph,
    budget: usize,
    count: &dyn Fn(&str) -> usize,
) -> Vec<Part> {
    let tokens = count(paragraph.text);
    if tokens <= budget || paragraph.sentences.len() < 2 {
        return vec![Part {
            paragraph: index,
            text: paragraph.text.trim().to_string(),
            tokens,
        }];
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    for sentence in paragraph.sentences {
        let candidate = if current.is_empty() {
            sentence.trim().to_string()
        } else {
            format!("{current} {}", sentence.trim())
        };
        if !current.is_empty() && count(&candidate) > budget {
            let text = std::mem::replace(&mut current, sentence.trim().to_string());
            parts.push(Part {
                paragraph: index,
                tokens: count(&text),
                text,
            });
        } else {
            current = candidate;
        }
    }
    if !current.is_empty() {
        parts.push(Part {
            paragraph: index,
            tokens: count(&current),
            text: current,
        });
    }
    parts
}

/// Groups of consecutive parts within the budget, as index ranges.
pub(super) fn group_parts(
    parts: &[Part],
    budget: usize,
    most: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    let mut tokens = 0;
    for (i, part) in parts.iter().enumerate() {
        if i > start && (tokens + part.tokens > budget || i - start >= most.max(1)) {
            groups.push(start..i);
            start = i;
            tokens = 0;
        }
        tokens += part.tokens;
    }
    if start < parts.len() {
        groups.push(start..parts.len());
    }
    groups
}

/// The tokens an answer may take: English takes fewer tokens than the
/// Scandinavian it translates, so one and a half times that (twice, when
/// asked again) only stops a model that repeats itself, before it wastes
/// much time.
pub(super) fn answer_cap(parts: &[&Part], settings: &GenerationSettings, generous: bool) -> usize {
    let wanted: usize = parts
        .iter()
        .map(|p| {
            if generous {
                p.tokens * 2 + 32
            } else {
                p.tokens * 3 / 2 + 16
            }
        })
        .sum();
    wanted.min(settings.max_new_tokens.max(1))
}
