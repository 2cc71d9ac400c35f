//! What a brief is asked with and what it reports: the options, the stages
//! and events a display follows, the request, and the errors.

use crate::brief::{BriefMethod, ModelInfo};
use crate::generate::{GenerateError, GenerationSettings};
use crate::ingest::Document;
use crate::prompts::PromptError;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{source_path}: the document has no text to brief")]
    EmptyDocument { source_path: String },
    #[error(transparent)]
    Generate(#[from] GenerateError),
    #[error(transparent)]
    Prompt(#[from] PromptError),
}

/// The range of summary words and key points a brief promises.
pub const SUMMARY_WORDS: std::ops::RangeInclusive<usize> = 80..=160;
pub const KEY_POINTS: std::ops::RangeInclusive<usize> = 3..=8;

#[derive(Debug, Clone, serde::Serialize)]
pub struct BriefOptions {
    pub method: BriefMethod,
    /// Most source tokens translated for a brief read through English; a
    /// longer document is translated in part, chosen paragraph by paragraph.
    pub translate_budget: usize,
    /// Most document tokens placed in one prompt; longer documents go
    /// through map-reduce. Larger parts would be cheaper (fewer pages of
    /// notes to write and read again), but at 4,096 the 1.5B model's notes
    /// and seed 001's brief got markedly worse (README, Quality).
    pub context_budget: usize,
    /// Most tokens of notes the brief is written from in one prompt; more
    /// are condensed by taking notes on the notes. Larger than
    /// `context_budget` because a second round of notes loses the later
    /// parts of a long document, and one long reduce prompt costs less than
    /// that round.
    pub reduce_budget: usize,
    pub settings: GenerationSettings,
    /// Tokens allowed for one chunk's notes.
    pub notes_max_tokens: usize,
    /// Quote each key point's source sentences in the Markdown brief.
    pub quotes: bool,
    /// Parts of a long document whose notes are written together: each
    /// step of decode reads the weights once for all of them, so a step for
    /// four parts costs about twice a step for one. Each part holds its own KV cache
    /// (about 130 MB for a part with the 1.5B model) while they are written.
    pub parallel: usize,
}

impl Default for BriefOptions {
    fn default() -> Self {
        Self {
            method: BriefMethod::default(),
            translate_budget: 1600,
            context_budget: 1800,
            reduce_budget: 6144,
            settings: GenerationSettings {
                max_new_tokens: 400,
                ..GenerationSettings::default()
            },
            notes_max_tokens: 256,
            quotes: false,
            parallel: 4,
        }
    }
}

/// Where a brief's stages are, for a progress display.
#[derive(Debug, Clone)]
pub enum Stage {
    /// Notes on parts `first` to `last` (of `parts`), written together.
    Notes {
        first: usize,
        last: usize,
        parts: usize,
    },
    Brief {
        attempt: usize,
    },
    /// The summary had `words` words and is asked for again.
    Summary {
        words: usize,
    },
    /// Key points from the last parts of a long document are asked for.
    LatePoints,
    /// The answer had no key points; they are asked for.
    KeyPoints,
    /// The answer had no title; one is asked for.
    Title,
    /// A translation has reached paragraph `paragraph` of `paragraphs`.
    Translate {
        paragraph: usize,
        paragraphs: usize,
    },
}

impl Stage {
    /// The stage's name in a brief's timings, the same for every call of it.
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Notes { .. } => "notes",
            Stage::Brief { .. } => "brief",
            Stage::Summary { .. } => "summary",
            Stage::LatePoints => "late points",
            Stage::KeyPoints => "key points",
            Stage::Title => "title",
            Stage::Translate { .. } => "translate",
        }
    }
}

/// What the pipeline reports as it goes.
#[derive(Debug, Clone)]
pub enum PipelineEvent {
    Stage(Stage),
    Generation(crate::generate::Progress),
}

/// Everything the pipeline needs to know about the document beyond its text.
pub struct BriefRequest<'a> {
    pub id: String,
    pub document: &'a Document,
    pub model: ModelInfo,
    pub load_seconds: f64,
    /// The embedding model that checks citations by meaning; without it
    /// they are checked by shared wording.
    pub embedder: Option<&'a dyn crate::model::Embed>,
}
