//! Evaluation reports: one brief scored against its hand-written reference
//! ([`score_document`]), the means over all documents ([`Report`]), floors
//! that a mean must reach ([`Floor`]), the Markdown table, and the
//! comparison of two reports ([`compare`]).
//!
//! Reading folders and writing files is [`super::run`]'s job and the HTML
//! page [`super::html`]'s; everything here works on values, so it is tested
//! without files.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::checks::{check_lengths, english_share, LengthCheck};
use super::chrf::{chrf_pp, BETA_CHRF3_PP, BETA_CHRF_PP};
use super::keypoints::{coverage, Coverage};
use super::rouge::{self, RougeScores};
use super::EvalError;
use crate::brief::Brief;
use crate::facts::{extract_facts, unsupported_facts, FactKind, SourceIndex};
use crate::ingest::lang::{detect, Language};
use crate::ingest::segment::split_sentences;

/// Version of the `report.json` schema; bump when a field changes meaning.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// Means within this distance below a floor still pass, so that a floor
/// written as `0.2` is not failed by a mean printed as 0.2 but stored as
/// 0.19999999999999998.
const FLOOR_TOLERANCE: f64 = 1e-9;

/// A hand-written reference brief, `eval/references/<id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// The file name without `.json`; the file's own `id` field, if any, is
    /// only checked against it.
    #[serde(default)]
    pub id: String,
    /// Source language code: swe, dan, nob or nno.
    #[serde(default)]
    pub language: String,
    pub title: String,
    pub summary: String,
    pub key_points: Vec<String>,
    #[serde(default)]
    pub notes: String,
}

/// Every number the evaluation reports for one document (or their means
/// over documents). Field names are the metric names of [`METRICS`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Scores {
    pub rouge1: f64,
    pub rouge2: f64,
    pub rouge_l: f64,
    pub rouge_lsum: f64,
    pub chrf_pp: f64,
    pub chrf3_pp: f64,
    pub keypoint_recall: f64,
    pub keypoint_precision: f64,
    pub keypoint_f1: f64,
    pub english_share: f64,
    /// Absent in reports written before the checker.
    #[serde(default)]
    pub checked_supported: f64,
    #[serde(default)]
    pub untranslated_words: f64,
    #[serde(default)]
    pub unsupported_entities: f64,
    #[serde(default)]
    pub checker_findings: f64,
    pub length_ok: f64,
    pub unsupported_facts: f64,
    pub warnings: f64,
    pub summary_words: f64,
    pub key_points: f64,
    pub grounded_share: f64,
    pub citation_precision: f64,
}

/// Whether a metric is a score on 0–1 or a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// On 0–1; higher is better.
    Score,
    /// Higher is worse (unsupported facts, warnings).
    Problems,
    /// A size with a target range, neither better higher nor lower.
    Size,
}

/// A metric of [`Scores`]: its name on the command line and in JSON, a
/// short label for tables, and what it measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: MetricKind,
    pub description: &'static str,
}

/// All metrics, in report order.
pub const METRICS: &[Metric] = &[
    Metric {
        name: "rouge1",
        label: "ROUGE-1",
        kind: MetricKind::Score,
        description:
            "ROUGE-1 F1 of the summary against the reference summary (stemmed, as rouge-score)",
    },
    Metric {
        name: "rouge2",
        label: "ROUGE-2",
        kind: MetricKind::Score,
        description: "ROUGE-2 F1 of the summary",
    },
    Metric {
        name: "rouge_l",
        label: "ROUGE-L",
        kind: MetricKind::Score,
        description: "ROUGE-L F1 of the summary (one longest common subsequence)",
    },
    Metric {
        name: "rouge_lsum",
        label: "ROUGE-Lsum",
        kind: MetricKind::Score,
        description: "ROUGE-Lsum F1 of the summary, one sentence per line",
    },
    Metric {
        name: "chrf_pp",
        label: "chrF++",
        kind: MetricKind::Score,
        description: "chrF++ (beta 2) of the summary, as sacrebleu",
    },
    Metric {
        name: "chrf3_pp",
        label: "chrF3++",
        kind: MetricKind::Score,
        description: "chrF3++ (beta 3) of the summary, EuroEval's summary score",
    },
    Metric {
        name: "keypoint_recall",
        label: "KP recall",
        kind: MetricKind::Score,
        description: "share of reference key points matched by a brief key point",
    },
    Metric {
        name: "keypoint_precision",
        label: "KP precision",
        kind: MetricKind::Score,
        description: "share of brief key points matching a reference key point",
    },
    Metric {
        name: "keypoint_f1",
        label: "KP F1",
        kind: MetricKind::Score,
        description: "harmonic mean of key-point recall and precision",
    },
    Metric {
        name: "english_share",
        label: "English",
        kind: MetricKind::Score,
        description: "share of summary and key-point words detected as English",
    },
    Metric {
        name: "checked_supported",
        label: "checked",
        kind: MetricKind::Score,
        description: "share of summary sentences and key points in which the faithfulness checker finds nothing",
    },
    Metric {
        name: "grounded_share",
        label: "grounded",
        kind: MetricKind::Score,
        description: "share of key points with a source paragraph that passes the citation check",
    },
    Metric {
        name: "citation_precision",
        label: "cite prec.",
        kind: MetricKind::Score,
        description: "share of the model's own paragraph citations that pass the citation check",
    },
    Metric {
        name: "length_ok",
        label: "length ok",
        kind: MetricKind::Score,
        description: "1 when summary words and key-point count are within the promised ranges",
    },
    Metric {
        name: "unsupported_facts",
        label: "unsupported",
        kind: MetricKind::Problems,
        description: "facts in the brief that the source does not support",
    },
    Metric {
        name: "untranslated_words",
        label: "untransl.",
        kind: MetricKind::Problems,
        description: "words the checker finds untranslated or garbled",
    },
    Metric {
        name: "unsupported_entities",
        label: "entities",
        kind: MetricKind::Problems,
        description: "bodies and names the checker finds the source does not name",
    },
    Metric {
        name: "checker_findings",
        label: "findings",
        kind: MetricKind::Problems,
        description: "all findings of the faithfulness checker, of every kind",
    },
    Metric {
        name: "warnings",
        label: "warnings",
        kind: MetricKind::Problems,
        description: "warnings the brief carries",
    },
    Metric {
        name: "summary_words",
        label: "words",
        kind: MetricKind::Size,
        description: "words in the summary (80-160 promised)",
    },
    Metric {
        name: "key_points",
        label: "points",
        kind: MetricKind::Size,
        description: "key points in the brief (3-8 promised)",
    },
];

/// The metric called `name`, if there is one.
pub fn metric(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

/// The names of the metrics a floor can guard (all but the counts of
/// problems, where lower is better), comma-separated, for error messages.
pub fn floor_metric_names() -> String {
    METRICS
        .iter()
        .filter(|m| m.kind != MetricKind::Problems)
        .map(|m| m.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Metric {
    /// The value as tables print it: scores with three decimals, counts of
    /// one document as whole numbers and their means with one decimal.
    pub fn format(&self, value: f64) -> String {
        match self.kind {
            MetricKind::Score => format!("{value:.3}"),
            _ if value.fract() == 0.0 => format!("{value:.0}"),
            _ => format!("{value:.1}"),
        }
    }

    /// A difference B − A with its sign.
    pub fn format_delta(&self, delta: f64) -> String {
        match self.kind {
            MetricKind::Score => format!("{delta:+.3}"),
            _ => format!("{delta:+.1}"),
        }
    }
}

impl Scores {
    /// The value of the metric called `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        let mut copy = *self;
        copy.get_mut(name).map(|v| *v)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut f64> {
        Some(match name {
            "rouge1" => &mut self.rouge1,
            "rouge2" => &mut self.rouge2,
            "rouge_l" => &mut self.rouge_l,
            "rouge_lsum" => &mut self.rouge_lsum,
            "chrf_pp" => &mut self.chrf_pp,
            "chrf3_pp" => &mut self.chrf3_pp,
            "keypoint_recall" => &mut self.keypoint_recall,
            "keypoint_precision" => &mut self.keypoint_precision,
            "keypoint_f1" => &mut self.keypoint_f1,
            "english_share" => &mut self.english_share,
            "checked_supported" => &mut self.checked_supported,
            "untranslated_words" => &mut self.untranslated_words,
            "unsupported_entities" => &mut self.unsupported_entities,
            "checker_findings" => &mut self.checker_findings,
            "unsupported_facts" => &mut self.unsupported_facts,
            "summary_words" => &mut self.summary_words,
            "key_points" => &mut self.key_points,
            "length_ok" => &mut self.length_ok,
            "warnings" => &mut self.warnings,
            "grounded_share" => &mut self.grounded_share,
            "citation_precision" => &mut self.citation_precision,
            _ => return None,
        })
    }

    /// The metric-by-metric arithmetic mean; `None` for no scores.
    pub fn mean(all: &[Scores]) -> Option<Scores> {
        if all.is_empty() {
            return None;
        }
        let mut mean = Scores::default();
        for m in METRICS {
            let sum: f64 = all.iter().filter_map(|s| s.get(m.name)).sum();
            if let Some(slot) = mean.get_mut(m.name) {
                *slot = sum / all.len() as f64;
            }
        }
        Some(mean)
    }
}

/// A fact in the brief that the source does not support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnsupportedFact {
    /// Where it is: `title`, `summary` or `key_points[i]` (0-based).
    pub field: String,
    pub kind: FactKind,
    pub text: String,
    /// Byte range of `text` in that field.
    pub span: (usize, usize),
}

/// One brief scored against its reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentReport {
    pub id: String,
    /// The brief file that was read.
    pub brief_file: String,
    /// The source file the facts were checked against.
    pub source_file: String,
    /// False when the source's sha256 differs from the one the brief records
    /// (the document changed since it was briefed).
    pub source_matches_brief: bool,
    pub model: String,
    pub title: String,
    pub summary: String,
    pub key_points: Vec<String>,
    pub reference_title: String,
    pub reference_summary: String,
    /// Language code lingua gives the summary ("eng" when English).
    pub summary_language: String,
    pub scores: Scores,
    /// Precision, recall and F1 of every ROUGE variant (F1 is in `scores`).
    pub rouge: RougeScores,
    pub lengths: LengthCheck,
    pub keypoints: Coverage,
    /// How many facts the brief states (title, summary, key points).
    pub facts_checked: usize,
    pub unsupported_facts: Vec<UnsupportedFact>,
    /// The checker's verdict on each summary sentence and key point.
    #[serde(default)]
    pub checked: Vec<crate::check::SentenceCheck>,
    pub warnings: Vec<String>,
}

/// Where a brief came from, for the report.
#[derive(Debug, Clone, Default)]
pub struct BriefOrigin {
    pub brief_file: String,
    pub source_file: String,
    pub source_sha256: String,
}

/// Puts each sentence on its own line, so that ROUGE-Lsum (which splits on
/// newlines) scores at summary level, as rouge-score does with
/// `split_summaries=True`.
pub fn sentences_per_line(text: &str) -> String {
    text.split('\n')
        .flat_map(split_sentences)
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_english(text: &str) -> bool {
    detect(text).language == Language::English
}

/// The citation scores of a brief, re-checked against the source document:
/// the share of key points with a recorded source that passes the check, and
/// the share of the model's own citations (not those found by search) that pass.
///
/// With `embedder` the citations are checked by meaning, as the pipeline
/// checks them when it has the embedding model; without it by wording.
pub fn grounding_scores(
    brief: &Brief,
    document: &crate::ingest::Document,
    embedder: Option<&dyn crate::model::Embed>,
) -> (f64, f64) {
    let grounder = embedder
        .and_then(|e| crate::pipeline::ground::Grounder::with_embedder(document, e).ok())
        .unwrap_or_else(|| crate::pipeline::ground::Grounder::new(document));
    let mut grounded = 0;
    let mut cited = 0;
    let mut verified = 0;
    for (i, point) in brief.key_points.iter().enumerate() {
        let Some(sources) = brief.key_point_sources.get(i) else {
            continue;
        };
        let passing = sources
            .sources
            .iter()
            .filter(|r| grounder.supports(point, r.paragraph))
            .count();
        grounded += usize::from(passing > 0);
        if !sources.recited {
            cited += sources.sources.len();
            verified += passing;
        }
        cited += sources.rejected_citations.len() + sources.invalid_citations.len();
    }
    let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    (
        share(grounded, brief.key_points.len()),
        share(verified, cited),
    )
}

/// The faithfulness checker's verdict on every summary sentence and key
/// point of `brief`, against its source; with `embedder` the checks that
/// need meaning (unsupported, contradiction) are made too.
pub fn checker_verdicts(
    brief: &Brief,
    document: &crate::ingest::Document,
    embedder: Option<&dyn crate::model::Embed>,
) -> Vec<crate::check::SentenceCheck> {
    use crate::check::Checker;
    let checker = embedder
        .and_then(|e| Checker::with_embedder(document, e).ok())
        .unwrap_or_else(|| Checker::new(document));
    crate::ingest::split_sentences(&brief.summary)
        .into_iter()
        .chain(brief.key_points.iter().cloned())
        .filter(|s| !s.trim().is_empty())
        .filter_map(|s| {
            checker
                .check(&s)
                .or_else(|_| Checker::new(document).check(&s))
                .ok()
        })
        .collect()
}

impl Scores {
    /// The checker's figures of one brief from its verdicts.
    pub fn set_checker_figures(&mut self, checked: &[crate::check::SentenceCheck]) {
        use crate::check::FindingKind;
        let count = |kind: FindingKind| {
            checked
                .iter()
                .flat_map(|c| &c.findings)
                .filter(|f| f.kind == kind)
                .count() as f64
        };
        self.checked_supported = if checked.is_empty() {
            0.0
        } else {
            checked.iter().filter(|c| c.supported).count() as f64 / checked.len() as f64
        };
        self.untranslated_words = count(FindingKind::Untranslated);
        self.unsupported_entities = count(FindingKind::Entity);
        self.checker_findings = checked.iter().map(|c| c.findings.len()).sum::<usize>() as f64;
    }
}

/// Scores one brief against its reference and the text of its source.
///
/// A summary that is not in English scores 0 on ROUGE and chrF (as EuroEval
/// scores a summary in the wrong language), whatever its overlap.
pub fn score_document(
    brief: &Brief,
    reference: &Reference,
    source_text: &str,
    origin: &BriefOrigin,
    keypoint_threshold: f64,
) -> Result<DocumentReport, EvalError> {
    let summary_language = detect(&brief.summary).language;
    let (rouge, chrf, chrf3) = if summary_language == Language::English {
        let mut scores = rouge::rouge(&reference.summary, &brief.summary);
        scores.rouge_lsum = rouge::rouge_lsum(
            &sentences_per_line(&reference.summary),
            &sentences_per_line(&brief.summary),
        );
        (
            scores,
            chrf_pp(&brief.summary, &reference.summary, BETA_CHRF_PP),
            chrf_pp(&brief.summary, &reference.summary, BETA_CHRF3_PP),
        )
    } else {
        (RougeScores::default(), 0.0, 0.0)
    };

    let keypoints = coverage(&reference.key_points, &brief.key_points, keypoint_threshold)?;
    let lengths = check_lengths(&brief.summary, &brief.key_points);

    let mut texts = vec![brief.summary.clone()];
    texts.extend(brief.key_points.iter().cloned());
    let english = english_share(&texts, &is_english);

    let index = SourceIndex::new(source_text);
    let mut fields = vec![
        ("title".to_string(), &brief.title),
        ("summary".to_string(), &brief.summary),
    ];
    fields.extend(
        brief
            .key_points
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("key_points[{i}]"), p)),
    );
    let mut facts_checked = 0;
    let mut unsupported = Vec::new();
    for (field, text) in &fields {
        facts_checked += extract_facts(text).len();
        unsupported.extend(unsupported_facts(text, &index).into_iter().map(|fact| {
            UnsupportedFact {
                field: field.clone(),
                kind: fact.kind,
                text: fact.text,
                span: fact.span,
            }
        }));
    }

    let scores = Scores {
        rouge1: rouge.rouge1.f1,
        rouge2: rouge.rouge2.f1,
        rouge_l: rouge.rouge_l.f1,
        rouge_lsum: rouge.rouge_lsum.f1,
        chrf_pp: chrf,
        chrf3_pp: chrf3,
        keypoint_recall: keypoints.recall,
        keypoint_precision: keypoints.precision,
        keypoint_f1: keypoints.f1,
        english_share: english,
        unsupported_facts: unsupported.len() as f64,
        summary_words: lengths.summary_words as f64,
        key_points: lengths.key_points as f64,
        length_ok: if lengths.summary_in_range && lengths.key_points_in_range {
            1.0
        } else {
            0.0
        },
        warnings: brief.warnings.len() as f64,
        // Filled in by the caller, which has the source document.
        grounded_share: 0.0,
        citation_precision: 0.0,
        checked_supported: 0.0,
        untranslated_words: 0.0,
        unsupported_entities: 0.0,
        checker_findings: 0.0,
    };
    Ok(DocumentReport {
        id: brief.id.clone(),
        brief_file: origin.brief_file.clone(),
        source_file: origin.source_file.clone(),
        source_matches_brief: brief.source_sha256.is_empty()
            || origin.source_sha256.is_empty()
            || brief
                .source_sha256
                .eq_ignore_ascii_case(&origin.source_sha256),
        model: brief.model.id.clone(),
        title: brief.title.clone(),
        summary: brief.summary.clone(),
        key_points: brief.key_points.clone(),
        reference_title: reference.title.clone(),
        reference_summary: reference.summary.clone(),
        summary_language: summary_language.code().to_string(),
        scores,
        rouge,
        lengths,
        keypoints,
        facts_checked,
        unsupported_facts: unsupported,
        checked: Vec::new(),
        warnings: brief.warnings.clone(),
    })
}

/// The evaluation of a folder of briefs: `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub briefs_dir: String,
    pub references_dir: String,
    /// Distinct model ids of the briefs evaluated.
    pub models: Vec<String>,
    pub keypoint_similarity: String,
    pub keypoint_threshold: f64,
    /// Means over `documents`, metric by metric.
    pub means: Scores,
    pub documents: Vec<DocumentReport>,
    /// Ids of briefs for which there is no reference (not scored).
    pub briefs_without_reference: Vec<String>,
    /// Ids of references for which there is no brief (not scored).
    pub references_without_brief: Vec<String>,
}

impl Report {
    /// A report over `documents` (at least one), sorted by id.
    pub fn new(
        briefs_dir: String,
        references_dir: String,
        mut documents: Vec<DocumentReport>,
        briefs_without_reference: Vec<String>,
        references_without_brief: Vec<String>,
        keypoint_threshold: f64,
    ) -> Option<Report> {
        documents.sort_by(|a, b| a.id.cmp(&b.id));
        let means = Scores::mean(&documents.iter().map(|d| d.scores).collect::<Vec<_>>())?;
        let models: BTreeSet<String> = documents.iter().map(|d| d.model.clone()).collect();
        let keypoint_similarity = documents
            .first()
            .map(|d| d.keypoints.similarity.clone())
            .unwrap_or_default();
        Some(Report {
            schema_version: REPORT_SCHEMA_VERSION,
            briefs_dir,
            references_dir,
            models: models.into_iter().collect(),
            keypoint_similarity,
            keypoint_threshold,
            means,
            documents,
            briefs_without_reference,
            references_without_brief,
        })
    }

    /// The report as Markdown: one row per document and a row of means,
    /// then the unsupported facts and what was not evaluated.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "# Evaluation of {}\n",
            briefs_count(self.documents.len())
        );
        let _ = writeln!(
            md,
            "Briefs `{}` against references `{}`; model {}. Scores on 0–1 (higher is better); \
             a summary not in English scores 0 on ROUGE and chrF. Key points matched by {} at {}.\n",
            self.briefs_dir,
            self.references_dir,
            if self.models.is_empty() { "unknown".to_string() } else { self.models.join(", ") },
            self.keypoint_similarity,
            self.keypoint_threshold,
        );
        md.push_str("| document |");
        for m in METRICS {
            let _ = write!(md, " {} |", m.label);
        }
        md.push_str("\n|---|");
        for _ in METRICS {
            md.push_str("---:|");
        }
        md.push('\n');
        for doc in &self.documents {
            let _ = write!(md, "| {} |", doc.id);
            for m in METRICS {
                let _ = write!(
                    md,
                    " {} |",
                    m.format(doc.scores.get(m.name).unwrap_or_default())
                );
            }
            md.push('\n');
        }
        md.push_str("| **mean** |");
        for m in METRICS {
            let _ = write!(
                md,
                " **{}** |",
                m.format(self.means.get(m.name).unwrap_or_default())
            );
        }
        md.push('\n');

        let with_facts: Vec<&DocumentReport> = self
            .documents
            .iter()
            .filter(|d| !d.unsupported_facts.is_empty())
            .collect();
        if !with_facts.is_empty() {
            md.push_str("\n## Unsupported facts\n\n");
            for doc in with_facts {
                let facts: Vec<String> = doc
                    .unsupported_facts
                    .iter()
                    .map(|f| format!("“{}” ({}, {})", f.text, kind_name(f.kind), f.field))
                    .collect();
                let _ = writeln!(md, "- {}: {}", doc.id, facts.join("; "));
            }
        }
        let changed: Vec<&str> = self
            .documents
            .iter()
            .filter(|d| !d.source_matches_brief)
            .map(|d| d.id.as_str())
            .collect();
        if !changed.is_empty() {
            let _ = writeln!(
                md,
                "\nThe source changed since these were briefed (facts checked against the current file): {}",
                changed.join(", ")
            );
        }
        if !self.briefs_without_reference.is_empty() {
            let _ = writeln!(
                md,
                "\nBriefs without a reference (not scored): {}",
                self.briefs_without_reference.join(", ")
            );
        }
        if !self.references_without_brief.is_empty() {
            let _ = writeln!(
                md,
                "\nReferences without a brief (not scored): {}",
                self.references_without_brief.join(", ")
            );
        }
        md.push_str("\nMetrics:\n\n");
        for m in METRICS {
            let _ = writeln!(md, "- {} (`{}`): {}", m.label, m.name, m.description);
        }
        md
    }
}

/// "1 brief", "5 briefs".
pub fn briefs_count(n: usize) -> String {
    format!("{n} brief{}", if n == 1 { "" } else { "s" })
}

/// The name of a fact kind as reports print it.
pub fn kind_name(kind: FactKind) -> &'static str {
    match kind {
        FactKind::Number => "number",
        FactKind::Year => "year",
        FactKind::Date => "date",
        FactKind::Amount => "amount",
        FactKind::Percent => "percent",
        FactKind::Name => "name",
    }
}

/// A mean that must be reached: `--fail-under METRIC=VALUE`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floor {
    pub metric: &'static Metric,
    pub value: f64,
}

/// Why a `METRIC=VALUE` floor could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FloorError {
    #[error("`{0}` is not METRIC=VALUE; write e.g. rouge_lsum=0.2")]
    Syntax(String),
    #[error("unknown metric `{name}`; valid metrics: {valid}")]
    UnknownMetric { name: String, valid: String },
    #[error("`{0}` is not a number; write the floor as a decimal, e.g. 0.2 (scores are on 0–1)")]
    BadValue(String),
    #[error("{metric}={value} is outside 0–1; scores are on 0–1 (e.g. 0.2, not 20)")]
    OutOfRange { metric: String, value: f64 },
    #[error("{0} counts problems (lower is better), so a floor cannot guard it; metrics with floors: {1}")]
    NotAFloor(String, String),
}

impl FromStr for Floor {
    type Err = FloorError;

    fn from_str(text: &str) -> Result<Floor, FloorError> {
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| FloorError::Syntax(text.to_string()))?;
        let name = name.trim();
        let metric = metric(name).ok_or_else(|| FloorError::UnknownMetric {
            name: name.to_string(),
            valid: floor_metric_names(),
        })?;
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| FloorError::BadValue(value.trim().to_string()))?;
        Floor::new(metric, value)
    }
}

impl Floor {
    pub fn new(metric: &'static Metric, value: f64) -> Result<Floor, FloorError> {
        if metric.kind == MetricKind::Problems {
            return Err(FloorError::NotAFloor(
                metric.name.to_string(),
                floor_metric_names(),
            ));
        }
        if !value.is_finite() || (metric.kind == MetricKind::Score && !(0.0..=1.0).contains(&value))
        {
            return Err(FloorError::OutOfRange {
                metric: metric.name.to_string(),
                value,
            });
        }
        Ok(Floor { metric, value })
    }

    /// The floors of a TOML table `[fail_under]` of `metric = value` lines
    /// (`eval/floor.toml`).
    pub fn from_toml(text: &str) -> Result<Vec<Floor>, FloorError> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            fail_under: std::collections::BTreeMap<String, f64>,
        }
        let file: File =
            toml::from_str(text).map_err(|e| FloorError::Syntax(e.message().to_string()))?;
        file.fail_under
            .into_iter()
            .map(|(name, value)| {
                let metric = metric(&name).ok_or_else(|| FloorError::UnknownMetric {
                    name,
                    valid: floor_metric_names(),
                })?;
                Floor::new(metric, value)
            })
            .collect()
    }
}

/// A mean below its floor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FloorFailure {
    pub metric: String,
    pub mean: f64,
    pub floor: f64,
}

impl std::fmt::Display for FloorFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "mean {} is {:.4}, below its floor {}",
            self.metric, self.mean, self.floor
        )
    }
}

/// The floors that `means` falls below.
pub fn check_floors(means: &Scores, floors: &[Floor]) -> Vec<FloorFailure> {
    floors
        .iter()
        .filter_map(|floor| {
            let mean = means.get(floor.metric.name)?;
            (mean < floor.value - FLOOR_TOLERANCE).then(|| FloorFailure {
                metric: floor.metric.name.to_string(),
                mean,
                floor: floor.value,
            })
        })
        .collect()
}

/// One metric in two reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricDelta {
    pub metric: String,
    pub a: f64,
    pub b: f64,
    /// b − a.
    pub delta: f64,
}

/// The documents both reports scored, with their deltas.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentDelta {
    pub id: String,
    pub deltas: Vec<MetricDelta>,
}

/// Report B against report A.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub means: Vec<MetricDelta>,
    pub documents: Vec<DocumentDelta>,
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
}

fn deltas(a: &Scores, b: &Scores) -> Vec<MetricDelta> {
    METRICS
        .iter()
        .map(|m| {
            let (a, b) = (
                a.get(m.name).unwrap_or_default(),
                b.get(m.name).unwrap_or_default(),
            );
            MetricDelta {
                metric: m.name.to_string(),
                a,
                b,
                delta: b - a,
            }
        })
        .collect()
}

/// Deltas B − A of the means and of every document both reports scored.
/// The means are each report's own: when the reports scored different
/// documents they are not comparable one to one, which `only_in_a` and
/// `only_in_b` show.
pub fn compare(a: &Report, b: &Report) -> Comparison {
    let documents = a
        .documents
        .iter()
        .filter_map(|doc_a| {
            let doc_b = b.documents.iter().find(|d| d.id == doc_a.id)?;
            Some(DocumentDelta {
                id: doc_a.id.clone(),
                deltas: deltas(&doc_a.scores, &doc_b.scores),
            })
        })
        .collect();
    let ids = |r: &Report| {
        r.documents
            .iter()
            .map(|d| d.id.clone())
            .collect::<BTreeSet<_>>()
    };
    let (ids_a, ids_b) = (ids(a), ids(b));
    Comparison {
        means: deltas(&a.means, &b.means),
        documents,
        only_in_a: ids_a.difference(&ids_b).cloned().collect(),
        only_in_b: ids_b.difference(&ids_a).cloned().collect(),
    }
}

impl Comparison {
    /// Two Markdown tables: the means of A and B with their delta, then the
    /// delta of every metric for every document.
    pub fn to_table(&self) -> String {
        let mut out = String::from("| metric | A | B | Δ (B − A) |\n|---|---:|---:|---:|\n");
        for d in &self.means {
            let Some(m) = metric(&d.metric) else { continue };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                m.label,
                m.format(d.a),
                m.format(d.b),
                m.format_delta(d.delta)
            );
        }
        if !self.documents.is_empty() {
            out.push_str("\nΔ (B − A) per document:\n\n| metric |");
            for doc in &self.documents {
                let _ = write!(out, " {} |", doc.id);
            }
            out.push_str("\n|---|");
            for _ in &self.documents {
                out.push_str("---:|");
            }
            out.push('\n');
            for (row, m) in METRICS.iter().enumerate() {
                let _ = write!(out, "| {} |", m.label);
                for doc in &self.documents {
                    let delta = doc.deltas.get(row).map(|d| d.delta).unwrap_or_default();
                    let _ = write!(out, " {} |", m.format_delta(delta));
                }
                out.push('\n');
            }
        }
        if !self.only_in_a.is_empty() {
            let _ = writeln!(
                out,
                "\nOnly in A (not compared): {}",
                self.only_in_a.join(", ")
            );
        }
        if !self.only_in_b.is_empty() {
            let _ = writeln!(
                out,
                "\nOnly in B (not compared): {}",
                self.only_in_b.join(", ")
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::{GenerationInfo, LanguageLabel, ModelInfo, Timings, SCHEMA_VERSION};
    use crate::eval::keypoints::DEFAULT_THRESHOLD;

    const SOURCE: &str =
        "Regeringen beslutade den 3 mars 2020 att Migrationsverket ska få 5 miljarder kronor \
        för mottagandet av asylsökande. Sverige stöder förslaget om gemensamma indikatorer. \
        Ministern Anna Lind presenterade beslutet i Stockholm.";

    fn reference() -> Reference {
        Reference {
            id: "doc".into(),
            language: "swe".into(),
            title: "Funding for the reception of asylum seekers".into(),
            summary: "On 3 March 2020 the government decided that the Swedish Migration Agency \
                (Migrationsverket) will receive SEK 5 billion for the reception of asylum seekers. \
                Sweden supports the proposal for common indicators. Minister Anna Lind presented \
                the decision in Stockholm."
                .into(),
            key_points: vec![
                "The government decided on 3 March 2020 to give Migrationsverket SEK 5 billion."
                    .into(),
                "The money is for the reception of asylum seekers.".into(),
                "Sweden supports common indicators.".into(),
            ],
            notes: String::new(),
        }
    }

    fn brief_like(reference: &Reference) -> Brief {
        Brief {
            schema_version: SCHEMA_VERSION,
            id: "doc".into(),
            source: "seeds/doc.txt".into(),
            source_sha256: String::new(),
            language: LanguageLabel {
                code: "swe".into(),
                name: "Swedish".into(),
                confidence: 0.99,
            },
            title: reference.title.clone(),
            summary: reference.summary.clone(),
            key_points: reference.key_points.clone(),
            key_point_sources: vec![],
            document_date: None,
            model: ModelInfo {
                id: "test-model".into(),
                sha256: String::new(),
            },
            prompt_versions: Default::default(),
            generation: GenerationInfo::default(),
            timings: Timings::default(),
            warnings: vec![],
        }
    }

    fn score(brief: &Brief) -> DocumentReport {
        score_document(
            brief,
            &reference(),
            SOURCE,
            &BriefOrigin::default(),
            DEFAULT_THRESHOLD,
        )
        .unwrap()
    }

    #[test]
    fn a_brief_equal_to_its_reference_scores_one() {
        let doc = score(&brief_like(&reference()));
        let s = doc.scores;
        for value in [
            s.rouge1,
            s.rouge2,
            s.rouge_l,
            s.rouge_lsum,
            s.chrf_pp,
            s.chrf3_pp,
        ] {
            assert!((value - 1.0).abs() < 1e-12, "{s:?}");
        }
        assert_eq!(
            (s.keypoint_recall, s.keypoint_precision, s.keypoint_f1),
            (1.0, 1.0, 1.0)
        );
        assert_eq!(s.english_share, 1.0);
        assert_eq!(doc.summary_language, "eng");
        assert!(
            doc.unsupported_facts.is_empty(),
            "{:?}",
            doc.unsupported_facts
        );
        assert!(
            doc.facts_checked >= 5,
            "dates, amounts and names are checked: {}",
            doc.facts_checked
        );
        assert_eq!(s.unsupported_facts, 0.0);
        assert_eq!(s.key_points, 3.0);
    }

    #[test]
    fn an_invented_year_is_listed_as_unsupported() {
        let mut brief = brief_like(&reference());
        brief
            .key_points
            .push("The funding continues until 2031.".into());
        let doc = score(&brief);
        assert_eq!(
            doc.unsupported_facts.len(),
            1,
            "{:?}",
            doc.unsupported_facts
        );
        let fact = &doc.unsupported_facts[0];
        assert_eq!(
            (fact.field.as_str(), fact.text.as_str(), fact.kind),
            ("key_points[3]", "2031", FactKind::Year)
        );
        assert_eq!(&brief.key_points[3][fact.span.0..fact.span.1], "2031");
        assert_eq!(doc.scores.unsupported_facts, 1.0);
        assert_eq!(doc.scores.unsupported_facts, 1.0);
    }

    #[test]
    fn a_swedish_summary_scores_zero_and_lowers_the_english_share() {
        let mut brief = brief_like(&reference());
        brief.summary =
            "Regeringen beslutade den 3 mars 2020 att Migrationsverket ska få 5 miljarder kronor \
            för mottagandet av asylsökande. Sverige stöder förslaget om gemensamma indikatorer och \
            ministern presenterade beslutet i Stockholm."
                .into();
        let doc = score(&brief);
        assert_eq!(doc.summary_language, "swe");
        let s = doc.scores;
        assert_eq!(
            [
                s.rouge1,
                s.rouge2,
                s.rouge_l,
                s.rouge_lsum,
                s.chrf_pp,
                s.chrf3_pp
            ],
            [0.0; 6]
        );
        assert!(
            s.english_share > 0.0 && s.english_share < 1.0,
            "{}",
            s.english_share
        );
        // Key points are still English and still match.
        assert_eq!(s.keypoint_recall, 1.0);
    }

    #[test]
    fn rouge_lsum_is_scored_one_sentence_per_line() {
        assert_eq!(
            sentences_per_line("Sweden agrees. The EU decided on 3 March.\nA new line."),
            "Sweden agrees.\nThe EU decided on 3 March.\nA new line."
        );
        // Reordered sentences keep full Lsum but not full ROUGE-L.
        let mut brief = brief_like(&reference());
        let r = reference();
        let sentences = split_sentences(&r.summary);
        brief.summary = format!("{} {} {}", sentences[2], sentences[0], sentences[1]);
        let doc = score(&brief);
        assert!(
            (doc.scores.rouge_lsum - 1.0).abs() < 1e-12,
            "{}",
            doc.scores.rouge_lsum
        );
        assert!(doc.scores.rouge_l < 0.9, "{}", doc.scores.rouge_l);
    }

    #[test]
    fn lengths_and_warnings_are_counted() {
        let mut brief = brief_like(&reference());
        brief.warnings = vec!["one".into(), "two".into()];
        let doc = score(&brief);
        assert_eq!(doc.scores.warnings, 2.0);
        // The reference summary is shorter than the promised 80 words.
        assert_eq!(doc.scores.length_ok, 0.0);
        assert_eq!(doc.scores.summary_words, doc.lengths.summary_words as f64);
    }

    #[test]
    fn every_metric_is_a_field_of_scores_in_the_same_order() {
        let mut scores = Scores::default();
        for (i, m) in METRICS.iter().enumerate() {
            *scores.get_mut(m.name).unwrap() = i as f64;
        }
        let json = serde_json::to_value(scores).unwrap();
        let object = json.as_object().unwrap();
        assert_eq!(object.len(), METRICS.len());
        for (i, m) in METRICS.iter().enumerate() {
            assert_eq!(object[m.name].as_f64(), Some(i as f64), "{}", m.name);
        }
        assert_eq!(scores.get("nonsense"), None);
    }

    #[test]
    fn means_are_per_metric_averages() {
        let a = Scores {
            rouge1: 0.2,
            warnings: 1.0,
            ..Default::default()
        };
        let b = Scores {
            rouge1: 0.6,
            warnings: 4.0,
            ..Default::default()
        };
        let mean = Scores::mean(&[a, b]).unwrap();
        assert!((mean.rouge1 - 0.4).abs() < 1e-12);
        assert_eq!(mean.warnings, 2.5);
        assert_eq!(Scores::mean(&[]), None);
    }

    #[test]
    fn floors_parse_and_fail_below_the_mean() {
        let floor: Floor = "rouge_lsum=0.2".parse().unwrap();
        assert_eq!((floor.metric.name, floor.value), ("rouge_lsum", 0.2));
        match "rouge=0.2".parse::<Floor>() {
            Err(FloorError::UnknownMetric { name, valid }) => {
                assert_eq!(name, "rouge");
                assert!(valid.contains("rouge_lsum") && valid.contains("english_share"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            "rouge_lsum".parse::<Floor>(),
            Err(FloorError::Syntax(_))
        ));
        assert!(matches!(
            "rouge_lsum=x".parse::<Floor>(),
            Err(FloorError::BadValue(_))
        ));
        assert!(matches!(
            "rouge_lsum=20".parse::<Floor>(),
            Err(FloorError::OutOfRange { .. })
        ));
        assert!(matches!(
            "warnings=1".parse::<Floor>(),
            Err(FloorError::NotAFloor(..))
        ));
        assert_eq!(
            "summary_words=80".parse::<Floor>().map(|f| f.value),
            Ok(80.0)
        );

        let means = Scores {
            rouge_lsum: 0.1 + 0.1,
            english_share: 0.9,
            ..Default::default()
        };
        let floors = [floor, "english_share=1.0".parse().unwrap()];
        let failures = check_floors(&means, &floors);
        assert_eq!(
            failures.len(),
            1,
            "0.2 within rounding passes: {failures:?}"
        );
        assert_eq!(failures[0].metric, "english_share");
        assert_eq!(
            failures[0].to_string(),
            "mean english_share is 0.9000, below its floor 1"
        );
    }

    #[test]
    fn floors_read_from_toml() {
        let floors =
            Floor::from_toml("[fail_under]\nrouge_lsum = 0.25\nenglish_share = 1.0\n").unwrap();
        let names: Vec<_> = floors.iter().map(|f| (f.metric.name, f.value)).collect();
        assert_eq!(names, vec![("english_share", 1.0), ("rouge_lsum", 0.25)]);
        assert!(matches!(
            Floor::from_toml("[fail_under]\nrougeL = 0.2\n"),
            Err(FloorError::UnknownMetric { .. })
        ));
    }

    fn report_of(docs: Vec<DocumentReport>) -> Report {
        Report::new(
            "b".into(),
            "r".into(),
            docs,
            vec!["extra".into()],
            vec![],
            DEFAULT_THRESHOLD,
        )
        .unwrap()
    }

    #[test]
    fn markdown_has_a_row_per_document_and_the_means() {
        let good = score(&brief_like(&reference()));
        let mut invented = brief_like(&reference());
        invented.id = "doc2".into();
        invented.summary.push_str(" The plan ends in 2031.");
        let report = report_of(vec![score(&invented), good]);
        assert_eq!(report.documents[0].id, "doc", "sorted by id");
        let md = report.to_markdown();
        assert!(md.contains("| doc | 1.000 |"), "{md}");
        assert!(md.contains("| doc2 |"));
        let mean_r1 = format!("| **mean** | **{:.3}** |", report.means.rouge1);
        assert!(md.contains(&mean_r1), "{md}");
        assert!(md.contains("“2031” (year, summary)"), "{md}");
        assert!(md.contains("Briefs without a reference (not scored): extra"));
    }

    #[test]
    fn compare_gives_deltas_per_metric_and_document() {
        let a = report_of(vec![score(&brief_like(&reference()))]);
        let mut worse = brief_like(&reference());
        worse.key_points.truncate(1);
        let mut other = brief_like(&reference());
        other.id = "other".into();
        let b = report_of(vec![score(&worse), score(&other)]);
        let c = compare(&a, &b);
        assert_eq!(c.documents.len(), 1);
        assert_eq!(c.only_in_b, vec!["other".to_string()]);
        let recall = c.documents[0]
            .deltas
            .iter()
            .find(|d| d.metric == "keypoint_recall")
            .unwrap();
        assert!(recall.delta < 0.0, "{recall:?}");
        let points = c.documents[0]
            .deltas
            .iter()
            .find(|d| d.metric == "key_points")
            .unwrap();
        assert_eq!(points.delta, -2.0);
        let table = c.to_table();
        assert!(table.contains("| points | 3 | 2 | -1.0 |"), "{table}");
        assert!(table.contains("Only in B (not compared): other"));
    }
}

#[cfg(test)]
mod grounding_tests {
    use super::*;
    use crate::brief::{KeyPointSources, SourceRef};

    #[test]
    fn citation_scores_recheck_the_recorded_sources() {
        let doc = crate::ingest::ingest_bytes(
            "d.txt",
            "Sverige stöder de föreslagna rådsslutsatserna om integration.\n\nVid ett informellt möte i Potsdam den 10-11 maj diskuterade EU:s integrationsministrar samarbetet."
                .as_bytes(),
        )
        .unwrap();
        let potsdam = doc
            .paragraphs
            .iter()
            .find(|p| p.text.contains("Potsdam"))
            .unwrap()
            .id;
        let mut brief = crate::brief::tests::sample();
        brief.key_points = vec![
            "EU integration ministers met informally in Potsdam on 10-11 May.".into(),
            "EU integration ministers met informally in Potsdam on 12 June 2019.".into(),
        ];
        brief.key_point_sources = vec![
            KeyPointSources {
                sources: vec![SourceRef {
                    paragraph: potsdam,
                    quote: String::new(),
                }],
                grounded: true,
                ..Default::default()
            },
            // Recorded as grounded, but the re-check finds the figures missing.
            KeyPointSources {
                sources: vec![SourceRef {
                    paragraph: potsdam,
                    quote: String::new(),
                }],
                grounded: true,
                invalid_citations: vec![40],
                ..Default::default()
            },
        ];
        let (grounded, precision) = grounding_scores(&brief, &doc, None);
        assert_eq!(grounded, 0.5);
        assert!((precision - 1.0 / 3.0).abs() < 1e-12, "{precision}");
    }
}
