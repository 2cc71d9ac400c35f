//! ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum, identical to Google's
//! `rouge-score` package with `RougeScorer([...], use_stemmer=True)`.
//!
//! Tokenizer (rouge-score's default): lowercase, every run of characters
//! outside `[a-z0-9]` becomes a separator, tokens longer than three
//! characters go through NLTK's Porter stemmer ([`super::porter`]). Text in
//! other scripts therefore yields no tokens, and "å" splits a word in two —
//! exactly as in the reference implementation.
//!
//! ROUGE-Lsum treats every line (split on `\n`) as a sentence and scores the
//! summary-level union LCS, including rouge-score's guard against counting a
//! token more often than it occurs.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::porter;

/// Precision, recall and F1 on the 0–1 scale.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    fn new(precision: f64, recall: f64) -> Prf {
        Prf {
            precision,
            recall,
            f1: fmeasure(precision, recall),
        }
    }
}

/// All four ROUGE variants for one reference/candidate pair.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RougeScores {
    pub rouge1: Prf,
    pub rouge2: Prf,
    pub rouge_l: Prf,
    pub rouge_lsum: Prf,
}

/// rouge-score's harmonic mean: 0 when both inputs are 0.
fn fmeasure(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

/// Scores `candidate` against `reference` (note the order: reference first,
/// as in rouge-score's `score(target, prediction)`).
pub fn rouge(reference: &str, candidate: &str) -> RougeScores {
    let reference_tokens = tokenize(reference);
    let candidate_tokens = tokenize(candidate);
    RougeScores {
        rouge1: rouge_n(&reference_tokens, &candidate_tokens, 1),
        rouge2: rouge_n(&reference_tokens, &candidate_tokens, 2),
        rouge_l: rouge_l(&reference_tokens, &candidate_tokens),
        rouge_lsum: rouge_lsum(reference, candidate),
    }
}

/// rouge-score's tokenizer with stemming: lowercase ASCII letters and digits.
pub fn tokenize(text: &str) -> Vec<String> {
    // Python's str.lower() and Rust's to_lowercase both follow Unicode full
    // case mapping, so e.g. "İ" becomes "i" + a combining dot in both, and
    // the Kelvin sign becomes "k".
    let lower = text.to_lowercase();
    lower
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|token| !token.is_empty())
        .map(|token| {
            if token.len() > 3 {
                porter::stem(token)
            } else {
                token.to_string()
            }
        })
        .filter(|token| !token.is_empty())
        .collect()
}

fn ngram_counts(tokens: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut counts = HashMap::new();
    if n == 0 || tokens.len() < n {
        return counts;
    }
    for window in tokens.windows(n) {
        *counts.entry(window).or_insert(0) += 1;
    }
    counts
}

/// ROUGE-N over clipped n-gram counts.
pub fn rouge_n(reference: &[String], candidate: &[String], n: usize) -> Prf {
    let reference_counts = ngram_counts(reference, n);
    let candidate_counts = ngram_counts(candidate, n);
    let overlap: usize = reference_counts
        .iter()
        .map(|(gram, &count)| count.min(candidate_counts.get(gram).copied().unwrap_or(0)))
        .sum();
    let reference_total: usize = reference_counts.values().sum();
    let candidate_total: usize = candidate_counts.values().sum();
    Prf::new(
        overlap as f64 / candidate_total.max(1) as f64,
        overlap as f64 / reference_total.max(1) as f64,
    )
}

/// Length of the longest common subsequence in O(min) memory, since a long
/// document against a summary would otherwise need a large table.
fn lcs_length(a: &[String], b: &[String]) -> usize {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut previous = vec![0usize; short.len() + 1];
    let mut current = vec![0usize; short.len() + 1];
    for x in long {
        for (j, y) in short.iter().enumerate() {
            current[j + 1] = if x == y {
                previous[j] + 1
            } else {
                previous[j + 1].max(current[j])
            };
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[short.len()]
}

/// ROUGE-L over the whole text as one sequence.
pub fn rouge_l(reference: &[String], candidate: &[String]) -> Prf {
    if reference.is_empty() || candidate.is_empty() {
        return Prf::default();
    }
    let lcs = lcs_length(reference, candidate) as f64;
    Prf::new(lcs / candidate.len() as f64, lcs / reference.len() as f64)
}

/// rouge-score's `get_sents` without sentence splitting: lines, dropping
/// empty ones (a line of spaces stays and simply yields no tokens).
fn sentences(text: &str) -> Vec<Vec<String>> {
    text.split('\n')
        .filter(|line| !line.is_empty())
        .map(tokenize)
        .collect()
}

/// ROUGE-Lsum: summary-level union LCS with newline-separated sentences.
pub fn rouge_lsum(reference: &str, candidate: &str) -> Prf {
    let reference_sentences = sentences(reference);
    let candidate_sentences = sentences(candidate);
    if reference_sentences.is_empty() || candidate_sentences.is_empty() {
        return Prf::default();
    }
    let m: usize = reference_sentences.iter().map(Vec::len).sum();
    let n: usize = candidate_sentences.iter().map(Vec::len).sum();
    if m == 0 || n == 0 {
        return Prf::default();
    }

    // Token budgets prevent a token from being credited more often than it
    // occurs in either text (rouge-score follows ROUGE 1.5.5 here).
    let mut reference_budget: HashMap<&str, usize> = HashMap::new();
    let mut candidate_budget: HashMap<&str, usize> = HashMap::new();
    for token in reference_sentences.iter().flatten() {
        *reference_budget.entry(token.as_str()).or_insert(0) += 1;
    }
    for token in candidate_sentences.iter().flatten() {
        *candidate_budget.entry(token.as_str()).or_insert(0) += 1;
    }

    let mut hits = 0usize;
    for reference_sentence in &reference_sentences {
        for token in union_lcs(reference_sentence, &candidate_sentences) {
            let in_candidate = candidate_budget.get(token.as_str()).copied().unwrap_or(0);
            let in_reference = reference_budget.get(token.as_str()).copied().unwrap_or(0);
            if in_candidate > 0 && in_reference > 0 {
                hits += 1;
                candidate_budget.insert(token.as_str(), in_candidate - 1);
                reference_budget.insert(token.as_str(), in_reference - 1);
            }
        }
    }
    Prf::new(hits as f64 / n as f64, hits as f64 / m as f64)
}

/// Tokens of `reference` that lie on the LCS with at least one candidate
/// sentence, in reference order.
fn union_lcs<'a>(reference: &'a [String], candidates: &[Vec<String>]) -> Vec<&'a String> {
    let mut on_some_lcs = vec![false; reference.len()];
    for candidate in candidates {
        for index in lcs_indices(reference, candidate) {
            on_some_lcs[index] = true;
        }
    }
    reference
        .iter()
        .zip(on_some_lcs)
        .filter_map(|(token, keep)| keep.then_some(token))
        .collect()
}

/// Reference positions of one LCS, chosen by rouge-score's backtracking
/// (which LCS is chosen changes the union, so the tie-break must match).
fn lcs_indices(reference: &[String], candidate: &[String]) -> Vec<usize> {
    let rows = reference.len();
    let cols = candidate.len();
    let width = cols + 1;
    let mut table = vec![0usize; (rows + 1) * width];
    for i in 1..=rows {
        for j in 1..=cols {
            table[i * width + j] = if reference[i - 1] == candidate[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let (mut i, mut j) = (rows, cols);
    let mut indices = Vec::new();
    while i > 0 && j > 0 {
        if reference[i - 1] == candidate[j - 1] {
            indices.push(i - 1);
            i -= 1;
            j -= 1;
        } else if table[i * width + j - 1] > table[(i - 1) * width + j] {
            j -= 1;
        } else {
            i -= 1;
        }
    }
    indices.reverse();
    indices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_lowercases_splits_and_stems() {
        assert_eq!(
            tokenize("The Ministers' proposals, 2019-10!"),
            vec!["the", "minist", "propos", "2019", "10"]
        );
        // Non-ASCII letters are separators, as in rouge-score.
        assert_eq!(tokenize("Smörgåsbord"), vec!["sm", "rg", "sbord"]);
        assert!(tokenize("!!! ...").is_empty());
    }

    #[test]
    fn rouge_of_the_readme_example() {
        // rouge-score README: rouge1 P=0.75 R=0.6667 for this pair.
        let scores = rouge(
            "The quick brown fox jumps over the lazy dog",
            "The quick brown dog jumps on the log.",
        );
        assert!((scores.rouge1.precision - 0.75).abs() < 1e-12);
        assert!((scores.rouge1.recall - 6.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn identical_texts_score_one_and_empty_scores_zero() {
        let text = "Asylum applications fell.\nThe government welcomed it.";
        let same = rouge(text, text);
        for prf in [same.rouge1, same.rouge2, same.rouge_l, same.rouge_lsum] {
            assert!((prf.f1 - 1.0).abs() < 1e-12);
        }
        let empty = rouge(text, "");
        assert_eq!(empty, RougeScores::default());
    }

    #[test]
    fn lsum_differs_from_l_when_sentences_reorder() {
        let reference = "a b c d\ne f g h";
        let candidate = "e f g h\na b c d";
        let scores = rouge(reference, candidate);
        assert!((scores.rouge_lsum.f1 - 1.0).abs() < 1e-12);
        assert!(scores.rouge_l.f1 < 0.6);
    }

    #[test]
    fn lcs_length_matches_table_backtrack() {
        let a: Vec<String> = "a b c b d a b".split(' ').map(String::from).collect();
        let b: Vec<String> = "b d c a b a".split(' ').map(String::from).collect();
        assert_eq!(lcs_length(&a, &b), 4);
        assert_eq!(lcs_indices(&a, &b).len(), 4);
    }
}
