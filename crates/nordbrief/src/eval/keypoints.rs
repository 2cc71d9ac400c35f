//! Key-point coverage: how many reference key points the brief's key points
//! cover, and how many brief key points correspond to some reference point.
//!
//! Every reference point is compared with every brief point by a
//! [`Similarity`] on 0–1 (by default sentence-level chrF++, [`ChrfSimilarity`],
//! with the brief point as hypothesis and the reference point as reference).
//! - **recall**: share of reference points whose best brief point scores at
//!   least the threshold;
//! - **precision**: share of brief points whose best reference point scores
//!   at least the threshold (the same rule seen from the brief's side, so a
//!   brief point that restates a covered reference point in other words
//!   still counts, and an invented point does not);
//! - **f1**: their harmonic mean.
//!
//! A brief without key points scores 0 on all three. The default threshold
//! and how it was chosen are documented in `eval/README.md` ("Metrics").

use serde::{Deserialize, Serialize};

use super::chrf::{profile_stats, ChrfProfile, BETA_CHRF_PP};
use super::EvalError;

/// chrF++ similarity at or above which two key points are taken to state the
/// same thing (see `eval/README.md` for how it was chosen).
pub const DEFAULT_THRESHOLD: f64 = 0.35;

/// A similarity between a reference key point and a brief key point on 0–1.
/// Kept behind a trait so that an embedding model can replace chrF++.
pub trait Similarity {
    /// Similarities of every reference point (rows) to every brief point
    /// (columns). Takes all points at once so that an implementation can
    /// prepare each text once (n-gram counts, embeddings).
    fn matrix(&self, reference_points: &[String], brief_points: &[String]) -> Vec<Vec<f64>>;

    /// A short name for reports, e.g. "chrF++".
    fn name(&self) -> String;
}

/// Sentence-level chrF++ (β = 2): recall-weighted character and word
/// n-gram overlap, robust to inflection and word order.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChrfSimilarity;

impl Similarity for ChrfSimilarity {
    fn matrix(&self, reference_points: &[String], brief_points: &[String]) -> Vec<Vec<f64>> {
        let brief_profiles: Vec<ChrfProfile> =
            brief_points.iter().map(|p| ChrfProfile::new(p)).collect();
        reference_points
            .iter()
            .map(|reference| {
                let reference_profile = ChrfProfile::new(reference);
                brief_profiles
                    .iter()
                    .map(|brief| profile_stats(brief, &reference_profile).score(BETA_CHRF_PP))
                    .collect()
            })
            .collect()
    }

    fn name(&self) -> String {
        "chrF++".to_string()
    }
}

/// A reference point with its best-matching brief point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedPair {
    pub reference_index: usize,
    pub reference_point: String,
    /// `None` when the brief has no key points.
    pub brief_index: Option<usize>,
    pub brief_point: Option<String>,
    /// Similarity on 0–1 (0 when there is no brief point).
    pub score: f64,
    /// Whether `score` reaches the threshold.
    pub matched: bool,
}

/// Coverage of one brief's key points against one reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    pub similarity: String,
    pub threshold: f64,
    pub recall: f64,
    pub precision: f64,
    pub f1: f64,
    /// One entry per reference point, in reference order.
    pub pairs: Vec<MatchedPair>,
    /// Best similarity of each brief point to any reference point.
    pub brief_best_scores: Vec<f64>,
}

/// Coverage with chrF++ similarity.
pub fn coverage(
    reference_points: &[String],
    brief_points: &[String],
    threshold: f64,
) -> Result<Coverage, EvalError> {
    coverage_with(&ChrfSimilarity, reference_points, brief_points, threshold)
}

/// Coverage with any similarity.
pub fn coverage_with(
    similarity: &dyn Similarity,
    reference_points: &[String],
    brief_points: &[String],
    threshold: f64,
) -> Result<Coverage, EvalError> {
    if !(0.0..=1.0).contains(&threshold) {
        return Err(EvalError::ThresholdOutOfRange(threshold));
    }
    if reference_points.is_empty() {
        return Err(EvalError::NoReferencePoints);
    }
    let matrix = similarity.matrix(reference_points, brief_points);

    let pairs: Vec<MatchedPair> = reference_points
        .iter()
        .enumerate()
        .map(|(reference_index, reference_point)| {
            let best = best_of(
                matrix
                    .get(reference_index)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]),
            );
            MatchedPair {
                reference_index,
                reference_point: reference_point.clone(),
                brief_index: best.map(|(index, _)| index),
                brief_point: best.and_then(|(index, _)| brief_points.get(index).cloned()),
                score: best.map_or(0.0, |(_, score)| score),
                matched: best.is_some_and(|(_, score)| score >= threshold),
            }
        })
        .collect();

    let brief_best_scores: Vec<f64> = (0..brief_points.len())
        .map(|column| {
            matrix
                .iter()
                .filter_map(|row| row.get(column).copied())
                .fold(0.0, f64::max)
        })
        .collect();

    let recall = share(
        pairs.iter().filter(|pair| pair.matched).count(),
        pairs.len(),
    );
    let precision = share(
        brief_best_scores
            .iter()
            .filter(|&&score| score >= threshold)
            .count(),
        brief_best_scores.len(),
    );
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Ok(Coverage {
        similarity: similarity.name(),
        threshold,
        recall,
        precision,
        f1,
        pairs,
        brief_best_scores,
    })
}

/// Index and value of the highest score; the first wins a tie.
fn best_of(scores: &[f64]) -> Option<(usize, f64)> {
    scores
        .iter()
        .copied()
        .enumerate()
        .fold(None, |best, (index, score)| match best {
            Some((_, best_score)) if best_score >= score => best,
            _ => Some((index, score)),
        })
}

fn share(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn paraphrased_points_match_and_invented_points_do_not() {
        let reference = strings(&[
            "Asylum applications fell by 30 percent in 2016.",
            "The government will tighten the rules for family reunification.",
            "Municipalities receive extra funding for integration courses.",
        ]);
        let brief = strings(&[
            "The government plans tighter rules on family reunification.",
            "In 2016 asylum applications fell 30 percent.",
            "The weather in Copenhagen was unusually warm.",
        ]);
        let result = coverage(&reference, &brief, DEFAULT_THRESHOLD).unwrap();
        assert_eq!(result.pairs[0].brief_index, Some(1));
        assert_eq!(result.pairs[1].brief_index, Some(0));
        assert!(result.pairs[0].matched && result.pairs[1].matched);
        assert!(!result.pairs[2].matched);
        assert!((result.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((result.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!(result.brief_best_scores[2] < DEFAULT_THRESHOLD);
    }

    #[test]
    fn empty_brief_scores_zero_and_empty_reference_is_an_error() {
        let reference = strings(&["One point."]);
        let result = coverage(&reference, &[], DEFAULT_THRESHOLD).unwrap();
        assert_eq!(
            (result.recall, result.precision, result.f1),
            (0.0, 0.0, 0.0)
        );
        assert_eq!(result.pairs[0].brief_index, None);
        assert_eq!(
            coverage(&[], &reference, 0.3),
            Err(EvalError::NoReferencePoints)
        );
        assert_eq!(
            coverage(&reference, &reference, 35.0),
            Err(EvalError::ThresholdOutOfRange(35.0))
        );
    }

    /// A similarity that only recognises identical strings, to show that the
    /// trait decides the matching.
    struct Exact;
    impl Similarity for Exact {
        fn matrix(&self, reference_points: &[String], brief_points: &[String]) -> Vec<Vec<f64>> {
            reference_points
                .iter()
                .map(|r| {
                    brief_points
                        .iter()
                        .map(|b| if r == b { 1.0 } else { 0.0 })
                        .collect()
                })
                .collect()
        }
        fn name(&self) -> String {
            "exact".into()
        }
    }

    #[test]
    fn similarity_is_pluggable() {
        let reference = strings(&["a", "b"]);
        let brief = strings(&["b", "c", "d", "e"]);
        let result = coverage_with(&Exact, &reference, &brief, 0.5).unwrap();
        assert_eq!(result.similarity, "exact");
        assert_eq!(result.recall, 0.5);
        assert_eq!(result.precision, 0.25);
        assert_eq!(result.pairs[1].brief_point.as_deref(), Some("b"));
    }
}
