//! chrF++ identical to sacrebleu 2.x `CHRF(word_order=2)` with its other
//! defaults: character n-grams of order 1–6 with whitespace removed, word
//! n-grams of order 1–2 after splitting punctuation off word edges, case
//! kept, and no epsilon smoothing (orders absent from hypothesis or
//! reference are left out of the average, sacrebleu's default "effective
//! order"). `beta` = 2 gives chrF++, 3 gives chrF3++.
//!
//! Scores are on 0–1 like every score in [`crate::eval`]; sacrebleu prints
//! the same number times 100 (it multiplies as its very last step, so the
//! two agree exactly). Corpus scores sum the per-sentence
//! n-gram statistics first and compute one score from the sums, as sacrebleu
//! does; they are not an average of sentence scores.
//!
//! N-grams are counted in hash maps keyed by slices of the text, so a long
//! document costs a few passes over its characters, never a quadratic scan.

use std::collections::HashMap;
use std::hash::Hash;

use super::pytext::split_python_whitespace;
use super::EvalError;

/// sacrebleu's default character n-gram order.
pub const CHAR_ORDER: usize = 6;
/// Word n-gram order of chrF++.
pub const WORD_ORDER: usize = 2;
/// β of chrF++ (recall weighted twice as much as precision).
pub const BETA_CHRF_PP: f64 = 2.0;
/// β of chrF3++, the summary score EuroEval reports.
pub const BETA_CHRF3_PP: f64 = 3.0;

const ORDERS: usize = CHAR_ORDER + WORD_ORDER;

/// Hypothesis, reference and matching n-gram counts for one n-gram order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderCounts {
    pub hypothesis: u64,
    pub reference: u64,
    pub matching: u64,
}

/// Sufficient statistics of chrF++: counts for character orders 1–6, then
/// word orders 1–2. Add sentence statistics to get corpus statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChrfStats {
    pub orders: [OrderCounts; ORDERS],
}

impl ChrfStats {
    /// Adds another sentence's statistics (corpus aggregation).
    pub fn add(&mut self, other: &ChrfStats) {
        for (mine, theirs) in self.orders.iter_mut().zip(other.orders.iter()) {
            mine.hypothesis += theirs.hypothesis;
            mine.reference += theirs.reference;
            mine.matching += theirs.matching;
        }
    }

    /// The F-β score on 0–1, computed as sacrebleu's `_compute_f_score`
    /// with `eps_smoothing=False` (same operations in the same order, so the
    /// floating-point result is the same).
    pub fn score(&self, beta: f64) -> f64 {
        const EPS: f64 = 1e-16;
        let factor = beta * beta;
        let mut precision_sum = 0.0;
        let mut recall_sum = 0.0;
        let mut effective_order = 0usize;
        for counts in &self.orders {
            let precision = if counts.hypothesis > 0 {
                counts.matching as f64 / counts.hypothesis as f64
            } else {
                EPS
            };
            let recall = if counts.reference > 0 {
                counts.matching as f64 / counts.reference as f64
            } else {
                EPS
            };
            if counts.hypothesis > 0 && counts.reference > 0 {
                precision_sum += precision;
                recall_sum += recall;
                effective_order += 1;
            }
        }
        if effective_order == 0 {
            return 0.0;
        }
        let precision = precision_sum / effective_order as f64;
        let recall = recall_sum / effective_order as f64;
        if precision + recall == 0.0 {
            return 0.0;
        }
        let mut score = (1.0 + factor) * precision * recall;
        score /= factor * precision + recall;
        score
    }
}

/// The n-gram counts of one text, kept so that one reference can be scored
/// against many hypotheses (key-point matching) without recounting.
#[derive(Debug, Clone)]
pub struct ChrfProfile {
    chars: Vec<HashMap<String, u64>>,
    words: Vec<HashMap<String, u64>>,
}

impl ChrfProfile {
    pub fn new(text: &str) -> ChrfProfile {
        ChrfProfile {
            chars: char_ngrams(text),
            words: word_ngrams(text),
        }
    }
}

/// Statistics of `hypothesis` against `reference` (sacrebleu's argument
/// order: hypothesis first).
pub fn chrf_stats(hypothesis: &str, reference: &str) -> ChrfStats {
    profile_stats(&ChrfProfile::new(hypothesis), &ChrfProfile::new(reference))
}

/// Statistics of two precomputed profiles.
pub fn profile_stats(hypothesis: &ChrfProfile, reference: &ChrfProfile) -> ChrfStats {
    let mut stats = ChrfStats::default();
    let pairs = hypothesis
        .chars
        .iter()
        .zip(&reference.chars)
        .chain(hypothesis.words.iter().zip(&reference.words));
    for (slot, (hyp, reference)) in stats.orders.iter_mut().zip(pairs) {
        *slot = match_counts(hyp, reference);
    }
    stats
}

/// Sentence-level chrF++ (β = 2) or chrF3++ (β = 3) on 0–1.
pub fn chrf_pp(hypothesis: &str, reference: &str, beta: f64) -> f64 {
    chrf_stats(hypothesis, reference).score(beta)
}

/// Corpus-level chrF with statistics summed over all sentence pairs.
pub fn corpus_stats<H: AsRef<str>, R: AsRef<str>>(
    hypotheses: &[H],
    references: &[R],
) -> Result<ChrfStats, EvalError> {
    if hypotheses.len() != references.len() {
        return Err(EvalError::LengthMismatch {
            hypotheses: hypotheses.len(),
            references: references.len(),
        });
    }
    let mut total = ChrfStats::default();
    for (hypothesis, reference) in hypotheses.iter().zip(references) {
        total.add(&chrf_stats(hypothesis.as_ref(), reference.as_ref()));
    }
    Ok(total)
}

/// Corpus-level chrF++ / chrF3++ on 0–1 (sacrebleu `corpus_score` / 100).
pub fn corpus_chrf_pp<H: AsRef<str>, R: AsRef<str>>(
    hypotheses: &[H],
    references: &[R],
    beta: f64,
) -> Result<f64, EvalError> {
    Ok(corpus_stats(hypotheses, references)?.score(beta))
}

/// sacrebleu's `_get_match_statistics`: when the reference has no n-grams of
/// an order, the hypothesis count is reported as 0 too.
fn match_counts<K: Eq + Hash>(
    hypothesis: &HashMap<K, u64>,
    reference: &HashMap<K, u64>,
) -> OrderCounts {
    let mut hypothesis_total = 0;
    let mut matching = 0;
    for (gram, &count) in hypothesis {
        hypothesis_total += count;
        if let Some(&in_reference) = reference.get(gram) {
            matching += count.min(in_reference);
        }
    }
    OrderCounts {
        hypothesis: if reference.is_empty() {
            0
        } else {
            hypothesis_total
        },
        reference: reference.values().sum(),
        matching,
    }
}

/// Character n-grams of orders 1..=6 over the text with all whitespace
/// removed; n-grams are counted over Unicode scalar values, as Python
/// slices strings.
fn char_ngrams(text: &str) -> Vec<HashMap<String, u64>> {
    let joined: String = split_python_whitespace(text).collect();
    // Byte offset of every character, plus the end, to slice n-grams.
    let bounds: Vec<usize> = joined
        .char_indices()
        .map(|(offset, _)| offset)
        .chain(std::iter::once(joined.len()))
        .collect();
    let length = bounds.len() - 1;
    (1..=CHAR_ORDER)
        .map(|n| {
            let mut counts: HashMap<String, u64> = HashMap::new();
            if length >= n {
                for start in 0..=length - n {
                    let gram = &joined[bounds[start]..bounds[start + n]];
                    // Look up by &str first to avoid an allocation per repeat.
                    if let Some(count) = counts.get_mut(gram) {
                        *count += 1;
                    } else {
                        counts.insert(gram.to_string(), 1);
                    }
                }
            }
            counts
        })
        .collect()
}

/// ASCII punctuation that chrF++ splits off the start or end of a word.
fn is_chrf_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
}

/// sacrebleu's `_remove_punctuation`: one punctuation character is split off
/// the end of a word, or else off its start; one-character words stay.
fn words_with_punctuation_split(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    for word in split_python_whitespace(text) {
        let mut chars = word.chars();
        let (Some(first), Some(last)) = (chars.next(), chars.next_back()) else {
            // A single character (the iterator yielded only `first`).
            tokens.push(word);
            continue;
        };
        if is_chrf_punctuation(last) {
            let cut = word.len() - last.len_utf8();
            tokens.push(&word[..cut]);
            tokens.push(&word[cut..]);
        } else if is_chrf_punctuation(first) {
            let cut = first.len_utf8();
            tokens.push(&word[..cut]);
            tokens.push(&word[cut..]);
        } else {
            tokens.push(word);
        }
    }
    tokens
}

/// Word n-grams of orders 1..=2, keyed by the words joined with a space as
/// in sacrebleu (words never contain spaces, so keys cannot collide).
fn word_ngrams(text: &str) -> Vec<HashMap<String, u64>> {
    let words = words_with_punctuation_split(text);
    (1..=WORD_ORDER)
        .map(|n| {
            let mut counts: HashMap<String, u64> = HashMap::new();
            if words.len() >= n {
                for window in words.windows(n) {
                    *counts.entry(window.join(" ")).or_insert(0) += 1;
                }
            }
            counts
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_sentences_score_100() {
        let text = "Regeringen skärper kraven för uppehållstillstånd.";
        assert!((chrf_pp(text, text, BETA_CHRF_PP) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn empty_hypothesis_or_reference_scores_zero() {
        assert_eq!(chrf_pp("", "The reference.", BETA_CHRF_PP), 0.0);
        assert_eq!(chrf_pp("The hypothesis.", "", BETA_CHRF_PP), 0.0);
        assert_eq!(chrf_pp("", "", BETA_CHRF_PP), 0.0);
    }

    #[test]
    fn punctuation_is_split_from_one_word_edge_only() {
        assert_eq!(
            words_with_punctuation_split("(hello) world! a ."),
            vec!["(hello", ")", "world", "!", "a", "."]
        );
        assert_eq!(
            words_with_punctuation_split("\"quoted\""),
            vec!["\"quoted", "\""]
        );
        // Non-ASCII punctuation is part of the word.
        assert_eq!(words_with_punctuation_split("«ord»"), vec!["«ord»"]);
    }

    #[test]
    fn reference_without_ngrams_reports_no_hypothesis_ngrams() {
        // A one-character reference has no bigrams, so the bigram hypothesis
        // count is zeroed as in sacrebleu.
        let stats = chrf_stats("abc", "a");
        assert_eq!(
            stats.orders[0],
            OrderCounts {
                hypothesis: 3,
                reference: 1,
                matching: 1
            }
        );
        assert_eq!(
            stats.orders[1],
            OrderCounts {
                hypothesis: 0,
                reference: 0,
                matching: 0
            }
        );
    }

    #[test]
    fn corpus_score_sums_statistics_rather_than_averaging() {
        let hyps = [
            "the cat sat",
            "a completely different and much longer sentence here",
        ];
        let refs = ["the cat sat", "nothing in common"];
        let corpus = corpus_chrf_pp(&hyps, &refs, BETA_CHRF_PP).unwrap();
        let mean = (chrf_pp(hyps[0], refs[0], 2.0) + chrf_pp(hyps[1], refs[1], 2.0)) / 2.0;
        assert!((corpus - mean).abs() > 0.01);
        let mut summed = chrf_stats(hyps[0], refs[0]);
        summed.add(&chrf_stats(hyps[1], refs[1]));
        assert_eq!(summed.score(2.0), corpus);
    }

    #[test]
    fn mismatched_corpus_lengths_are_an_error() {
        let result = corpus_chrf_pp(&["a"], &["a", "b"], BETA_CHRF_PP);
        assert!(matches!(
            result,
            Err(EvalError::LengthMismatch {
                hypotheses: 1,
                references: 2
            })
        ));
    }

    #[test]
    fn beta_three_weights_recall_more() {
        // A short hypothesis has high precision and low recall.
        let hyp = "asylum";
        let reference = "asylum applications fell sharply in the first half of the year";
        assert!(chrf_pp(hyp, reference, BETA_CHRF3_PP) < chrf_pp(hyp, reference, BETA_CHRF_PP));
    }
}
