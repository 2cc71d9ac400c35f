//! BLEU identical to sacrebleu 2.x with its defaults: `13a` tokenisation
//! (mteval-v13a, as used by WMT), case kept, exponential ("exp", NIST)
//! smoothing, n-grams up to 4, one reference per segment. Scores are on
//! 0–1 like every score in [`crate::eval`]: sacrebleu's number divided by 100.
//!
//! [`corpus_bleu`] is `BLEU().corpus_score`; [`sentence_bleu`] is
//! `sacrebleu.sentence_bleu`, which additionally uses the effective order
//! (orders the hypothesis is too short for are left out).

use std::collections::HashMap;

use once_cell::sync::Lazy;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::pytext::{rstrip_python, split_python_whitespace};
use super::EvalError;

pub const MAX_NGRAM_ORDER: usize = 4;

/// A BLEU score with the statistics sacrebleu reports beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BleuScore {
    /// 0–1.
    pub score: f64,
    /// Matching n-grams per order (clipped by the reference counts).
    pub counts: [u64; MAX_NGRAM_ORDER],
    /// Hypothesis n-grams per order.
    pub totals: [u64; MAX_NGRAM_ORDER],
    /// Smoothed precisions per order, 0–1.
    pub precisions: [f64; MAX_NGRAM_ORDER],
    /// Brevity penalty.
    pub bp: f64,
    /// Hypothesis tokens.
    pub sys_len: u64,
    /// Reference tokens.
    pub ref_len: u64,
}

/// Sufficient statistics; add sentence statistics for a corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BleuStats {
    pub sys_len: u64,
    pub ref_len: u64,
    pub correct: [u64; MAX_NGRAM_ORDER],
    pub total: [u64; MAX_NGRAM_ORDER],
}

impl BleuStats {
    pub fn add(&mut self, other: &BleuStats) {
        self.sys_len += other.sys_len;
        self.ref_len += other.ref_len;
        for n in 0..MAX_NGRAM_ORDER {
            self.correct[n] += other.correct[n];
            self.total[n] += other.total[n];
        }
    }

    /// sacrebleu's `compute_bleu` with exp smoothing; same operations in the
    /// same order so that the floating-point result is the same.
    pub fn score(&self, effective_order: bool) -> BleuScore {
        let mut bp = 1.0;
        if self.sys_len < self.ref_len {
            bp = if self.sys_len > 0 {
                (1.0 - self.ref_len as f64 / self.sys_len as f64).exp()
            } else {
                0.0
            };
        }
        let mut precisions = [0.0; MAX_NGRAM_ORDER];
        let mut result = BleuScore {
            score: 0.0,
            counts: self.correct,
            totals: self.total,
            precisions,
            bp,
            sys_len: self.sys_len,
            ref_len: self.ref_len,
        };
        if self.correct.iter().all(|&c| c == 0) {
            return result;
        }
        let mut smooth_mteval = 1.0;
        let mut used_orders = MAX_NGRAM_ORDER;
        for (n, (&total, &correct)) in self.total.iter().zip(&self.correct).enumerate() {
            if total == 0 {
                break;
            }
            if effective_order {
                used_orders = n + 1;
            }
            precisions[n] = if correct == 0 {
                smooth_mteval *= 2.0;
                100.0 / (smooth_mteval * total as f64)
            } else {
                100.0 * correct as f64 / total as f64
            };
        }
        // sacrebleu works on 0–100 throughout; convert only at the end.
        let log_sum: f64 = precisions[..used_orders]
            .iter()
            .map(|&p| floored_log(p))
            .sum();
        result.score = bp * (log_sum / used_orders as f64).exp() / 100.0;
        result.precisions = precisions.map(|p| p / 100.0);
        result
    }
}

/// sacrebleu's `my_log`: log with log(0) floored to a very low number.
fn floored_log(x: f64) -> f64 {
    if x == 0.0 {
        -9_999_999_999.0
    } else {
        x.ln()
    }
}

static PUNCTUATION: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"([{-~\[-` -&(-+:-@/])").expect("13a punctuation pattern is valid"));
static PERIOD_COMMA_AFTER_NON_DIGIT: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"([^0-9])([\.,])").expect("13a pattern is valid"));
static PERIOD_COMMA_BEFORE_NON_DIGIT: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"([\.,])([^0-9])").expect("13a pattern is valid"));
static DASH_AFTER_DIGIT: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"([0-9])(-)").expect("13a pattern is valid"));

/// sacrebleu's `13a` tokenizer (after its `rstrip`): tokens joined by one
/// space.
pub fn tokenize_13a(text: &str) -> String {
    let mut line = rstrip_python(text)
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if line.contains('&') {
        line = line
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    let line = format!(" {line} ");
    let line = PUNCTUATION.replace_all(&line, " ${1} ");
    let line = PERIOD_COMMA_AFTER_NON_DIGIT.replace_all(&line, "${1} ${2} ");
    let line = PERIOD_COMMA_BEFORE_NON_DIGIT.replace_all(&line, " ${1} ${2}");
    let line = DASH_AFTER_DIGIT.replace_all(&line, "${1} ${2} ");
    split_python_whitespace(&line).collect::<Vec<_>>().join(" ")
}

/// Statistics of one hypothesis against one reference.
pub fn bleu_stats(hypothesis: &str, reference: &str) -> BleuStats {
    let hypothesis = tokenize_13a(hypothesis);
    let reference = tokenize_13a(reference);
    let hypothesis_tokens: Vec<&str> = split_python_whitespace(&hypothesis).collect();
    let reference_tokens: Vec<&str> = split_python_whitespace(&reference).collect();
    let hypothesis_counts = all_ngrams(&hypothesis_tokens);
    let reference_counts = all_ngrams(&reference_tokens);
    let mut stats = BleuStats {
        sys_len: hypothesis_tokens.len() as u64,
        ref_len: reference_tokens.len() as u64,
        ..BleuStats::default()
    };
    for (gram, &count) in &hypothesis_counts {
        let order = gram.len() - 1;
        stats.total[order] += count;
        if let Some(&in_reference) = reference_counts.get(gram) {
            stats.correct[order] += count.min(in_reference);
        }
    }
    stats
}

/// Counts of all n-grams of orders 1..=4.
fn all_ngrams<'t>(tokens: &'t [&'t str]) -> HashMap<&'t [&'t str], u64> {
    let mut counts = HashMap::new();
    for n in 1..=MAX_NGRAM_ORDER {
        if tokens.len() < n {
            break;
        }
        for window in tokens.windows(n) {
            *counts.entry(window).or_insert(0) += 1;
        }
    }
    counts
}

/// `sacrebleu.sentence_bleu(hypothesis, [reference])`: exp smoothing and
/// effective order.
pub fn sentence_bleu(hypothesis: &str, reference: &str) -> BleuScore {
    bleu_stats(hypothesis, reference).score(true)
}

/// `BLEU().corpus_score(hypotheses, [references])`.
pub fn corpus_bleu<H: AsRef<str>, R: AsRef<str>>(
    hypotheses: &[H],
    references: &[R],
) -> Result<BleuScore, EvalError> {
    if hypotheses.len() != references.len() {
        return Err(EvalError::LengthMismatch {
            hypotheses: hypotheses.len(),
            references: references.len(),
        });
    }
    let mut total = BleuStats::default();
    for (hypothesis, reference) in hypotheses.iter().zip(references) {
        total.add(&bleu_stats(hypothesis.as_ref(), reference.as_ref()));
    }
    Ok(total.score(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_13a_splits_punctuation_but_not_numbers() {
        assert_eq!(
            tokenize_13a("Hello, world! It cost $1,234.50."),
            "Hello , world ! It cost $ 1,234.50 ."
        );
        assert_eq!(
            tokenize_13a("AT&amp;T said &quot;no&quot;"),
            "AT & T said \" no \""
        );
        assert_eq!(
            tokenize_13a("2019-10-03 and x-ray"),
            "2019 - 10 - 03 and x-ray"
        );
        assert_eq!(tokenize_13a("don't"), "don't");
    }

    #[test]
    fn identical_sentence_scores_100() {
        let text = "The government tightened the rules for residence permits in 2016.";
        let score = sentence_bleu(text, text);
        assert!((score.score - 1.0).abs() < 1e-12);
        assert_eq!(score.bp, 1.0);
    }

    #[test]
    fn no_match_scores_zero_and_short_hypothesis_is_penalised() {
        assert_eq!(
            sentence_bleu("completely unrelated", "the reference text").score,
            0.0
        );
        let short = sentence_bleu("the reference", "the reference text here today");
        assert!(short.bp < 1.0);
        assert_eq!(sentence_bleu("", "the reference").score, 0.0);
    }

    #[test]
    fn corpus_bleu_rejects_mismatched_lengths() {
        assert!(corpus_bleu(&["a"], &["a", "b"]).is_err());
    }
}
