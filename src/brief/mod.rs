//! The brief: what nordbrief produces for one document, with its JSON
//! (serde) and Markdown renderings.

use serde::{Deserialize, Serialize};

/// Version of the JSON brief schema; bump when a field changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// One English brief of one source document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Brief {
    pub schema_version: u32,
    /// Stable id derived from the source file name (safe as a file name).
    pub id: String,
    /// The source path as given.
    pub source: String,
    /// sha256 of the source bytes.
    #[serde(default)]
    pub source_sha256: String,
    pub language: LanguageLabel,
    pub title: String,
    pub summary: String,
    /// Plain English sentences, readable without anything else.
    pub key_points: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_date: Option<String>,
    pub model: ModelInfo,
    #[serde(default)]
    pub prompt_versions: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub generation: GenerationInfo,
    #[serde(default)]
    pub timings: Timings,
    /// Anything the reader should know about the brief's quality.
    #[serde(default)]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LanguageLabel {
    /// ISO 639-3 style code: swe, dan, nob, nno, eng, or "other".
    pub code: String,
    /// English name, e.g. "Swedish".
    pub name: String,
    pub confidence: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ModelInfo {
    pub id: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct GenerationInfo {
    pub max_new_tokens: usize,
    pub temperature: f64,
    pub top_p: Option<f64>,
    pub seed: u64,
    pub repeat_penalty: f32,
    pub context_budget: usize,
    pub chunks: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Timings {
    pub load_seconds: f64,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    pub prefill_tokens_per_second: f64,
    pub decode_tokens_per_second: f64,
    pub wall_seconds: f64,
}
