//! Evaluation of briefs against hand-written references.
//!
//! The metrics reproduce the reference implementations exactly, so that
//! scores can be compared with published numbers:
//! - [`rouge`]: ROUGE-1/2/L/Lsum as Google's `rouge-score` with stemming
//!   (its tokenizer and NLTK's Porter stemmer, [`porter`]);
//! - [`chrf`]: chrF++ and chrF3++ as sacrebleu 2.x, sentence and corpus level;
//! - [`bleu`]: BLEU as sacrebleu 2.x (13a tokenisation, exp smoothing).
//!
//! `tests/eval_metrics.rs` checks all three against fixtures written by
//! `eval/scripts/make_metric_fixtures.py` from the Python packages.
//!
//! Beside them: [`keypoints`] (coverage of reference key points by brief key
//! points) and [`checks`] (length ranges and English share).
//!
//! `nordbrief eval` on top of them: [`report`] scores one brief against its
//! reference and averages, [`run`] reads the folders and writes
//! `report.json`/`report.md`, [`html`] renders `report.html`, and
//! [`translation`] scores NTREX-128 translations; [`faithfulness`] measures
//! the checker on planted errors.
//!
//! **Scale:** every score, similarity, share and threshold in this module is
//! on 0–1. sacrebleu prints chrF and BLEU times 100; multiply when comparing.

pub mod bleu;
pub(crate) mod checks;
pub mod chrf;
pub mod faithfulness;
pub(crate) mod html;
pub(crate) mod keypoints;
pub mod porter;
mod pytext;
pub mod report;
pub mod rouge;
pub mod run;
pub mod translation;

/// Errors a caller of the evaluation functions can cause.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EvalError {
    #[error(
        "{hypotheses} hypotheses but {references} references: corpus scores need exactly one reference per \
         hypothesis; check that both inputs have the same number of lines"
    )]
    LengthMismatch {
        hypotheses: usize,
        references: usize,
    },
    #[error("the reference has no key points, so key-point coverage is undefined; add key points to the reference")]
    NoReferencePoints,
    #[error("threshold {0} is outside 0–1; similarities are on 0–1 (e.g. 0.35, not 35)")]
    ThresholdOutOfRange(f64),
}
