//! The checks of one translated paragraph against its source, and the
//! flags they raise.

use super::super::checks::is_english;
use super::groups::PartResult;
use crate::brief::Flag;
use crate::check::Bodies;
use crate::facts::{missing_numbers, unsupported_facts, FactKind, SourceIndex};
use crate::generate::StopReason;

/// The faults of `english` as a translation of `source`.
pub(super) fn check_translation(source: &str, english: &str, stop: StopReason) -> Vec<Flag> {
    if english.trim().is_empty() {
        return vec![Flag::Empty];
    }
    let mut flags = Vec::new();
    if stop == StopReason::TokenCap {
        flags.push(Flag::TokenCap);
    }
    let missing = missing_numbers(source, english);
    if !missing.is_empty() {
        flags.push(Flag::MissingNumbers { numbers: missing });
    }
    // Only figures in digits: "two-year" may well translate "toårige".
    let added: Vec<String> = unsupported_facts(english, &SourceIndex::new(source))
        .into_iter()
        .filter(|f| f.kind != FactKind::Name && f.text.chars().any(|c| c.is_ascii_digit()))
        .map(|f| f.text)
        .collect();
    if !added.is_empty() {
        flags.push(Flag::AddedNumbers { numbers: added });
    }
    if !is_english(english) {
        flags.push(Flag::NotEnglish);
    }
    let added = added_names(source, english);
    if !added.is_empty() {
        flags.push(Flag::AddedNames { names: added });
    }
    if let Some(what) = crate::check::reversal(source, english) {
        flags.push(Flag::Reversed {
            what: what.to_string(),
        });
    }
    flags
}

/// Bodies `english` names that `source` does not (by any of their names).
fn added_names(source: &str, english: &str) -> Vec<String> {
    let bodies = Bodies::builtin();
    let named = bodies.in_source(source);
    let lower = source.to_lowercase();
    bodies
        .in_english(english)
        .into_iter()
        .filter(|(words, ids)| {
            !ids.iter().any(|i| named.contains(i)) && !lower.contains(&words.to_lowercase())
        })
        .map(|(words, _)| words)
        .collect()
}

/// Words of the prompt that never belong in a translation.
pub(super) const PROMPT_PHRASES: &[&str] = &[
    "paragraph in english",
    "reads in english:",
    "paragraphs to translate",
    "numbered translation",
];

/// Flag `result` when it copies the prompt or, for a source unlike the
/// previous one, is the previous paragraph's English again (`previous`: its
/// last words), as small models do.
pub(super) fn mark_echo(result: &mut PartResult, previous: &str, same_source: bool) {
    let lower = result.english.to_lowercase();
    let copied_prompt = PROMPT_PHRASES.iter().any(|p| lower.contains(p));
    let repeated = !same_source
        && !previous.is_empty()
        && last_words(&result.english, CONTEXT_WORDS) == previous;
    if (copied_prompt || repeated) && !result.flags.contains(&Flag::Echo) {
        result.flags.insert(0, Flag::Echo);
    }
}

pub(super) fn badness(flags: &[Flag]) -> usize {
    flags.iter().map(Flag::weight).sum()
}

/// Add `flag` to a paragraph's flags, merging the numbers of the parts of a split paragraph.
pub(super) fn merge_flag(flags: &mut Vec<Flag>, flag: Flag) {
    for existing in flags.iter_mut() {
        match (existing, &flag) {
            (Flag::MissingNumbers { numbers }, Flag::MissingNumbers { numbers: more })
            | (Flag::AddedNumbers { numbers }, Flag::AddedNumbers { numbers: more })
            | (Flag::MissingTerms { terms: numbers }, Flag::MissingTerms { terms: more })
            | (Flag::AddedNames { names: numbers }, Flag::AddedNames { names: more }) => {
                numbers.extend(more.iter().cloned());
                return;
            }
            (existing, flag) if existing == flag => return,
            _ => {}
        }
    }
    flags.push(flag);
}

/// Words of the previous translation given as context.
pub(super) const CONTEXT_WORDS: usize = 60;

pub(super) fn last_words(text: &str, n: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    words[words.len().saturating_sub(n)..].join(" ")
}
