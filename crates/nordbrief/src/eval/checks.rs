//! Checks on the shape of a brief: lengths against the ranges the brief
//! promises, and the share of its text in English.
//!
//! Language detection is passed in as a function so that evaluation does not
//! depend on the detector the ingest module uses.

use serde::{Deserialize, Serialize};

use super::pytext::split_python_whitespace;

/// Summary length the brief promises, in words (inclusive).
pub const SUMMARY_WORDS: (usize, usize) = (80, 160);
/// Number of key points the brief promises (inclusive).
pub const KEY_POINTS: (usize, usize) = (3, 8);

/// Lengths of one brief and whether they are within the promised ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LengthCheck {
    pub summary_words: usize,
    pub summary_in_range: bool,
    pub key_points: usize,
    pub key_points_in_range: bool,
}

/// Words are runs of non-whitespace, so "NOK 5 billion" is three words and
/// "2016–2018" one.
pub fn word_count(text: &str) -> usize {
    split_python_whitespace(text).count()
}

pub fn check_lengths(summary: &str, key_points: &[String]) -> LengthCheck {
    let summary_words = word_count(summary);
    LengthCheck {
        summary_words,
        summary_in_range: (SUMMARY_WORDS.0..=SUMMARY_WORDS.1).contains(&summary_words),
        key_points: key_points.len(),
        key_points_in_range: (KEY_POINTS.0..=KEY_POINTS.1).contains(&key_points.len()),
    }
}

/// Share of the words of `texts` that are in texts `is_english` accepts,
/// on 0–1. Each text (the summary, each key point) is judged as a whole and
/// weighted by its words, so a short untranslated key point costs less than
/// an untranslated summary. Texts without words are skipped; if nothing has
/// words the share is 0, because an empty brief is not English output.
pub fn english_share<S: AsRef<str>>(texts: &[S], is_english: &dyn Fn(&str) -> bool) -> f64 {
    let mut english_words = 0usize;
    let mut all_words = 0usize;
    for text in texts {
        let text = text.as_ref();
        let words = word_count(text);
        if words == 0 {
            continue;
        }
        all_words += words;
        if is_english(text) {
            english_words += words;
        }
    }
    if all_words == 0 {
        0.0
    } else {
        english_words as f64 / all_words as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_checked_against_inclusive_ranges() {
        let summary = vec!["word"; 80].join(" ");
        let points: Vec<String> = (0..3).map(|i| format!("Point {i}.")).collect();
        let check = check_lengths(&summary, &points);
        assert_eq!(check.summary_words, 80);
        assert!(check.summary_in_range && check.key_points_in_range);

        let long = vec!["word"; 161].join(" ");
        let many: Vec<String> = (0..9).map(|i| format!("Point {i}.")).collect();
        let check = check_lengths(&long, &many);
        assert!(!check.summary_in_range && !check.key_points_in_range);
        assert!(!check_lengths("", &[]).summary_in_range);
    }

    #[test]
    fn english_share_weights_texts_by_words() {
        // A stand-in detector: English if it contains " the ".
        let is_english = |text: &str| text.contains(" the ");
        let texts = [
            "This is the summary in English",
            "Det här är svenska",
            "",
            "And the last point",
        ];
        // 6 + 4 English words of 14.
        let share = english_share(&texts, &is_english);
        assert!((share - 10.0 / 14.0).abs() < 1e-12);
        assert_eq!(english_share::<&str>(&[], &is_english), 0.0);
        assert_eq!(english_share(&["  "], &is_english), 0.0);
    }
}
