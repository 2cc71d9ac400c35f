//! One brief as it is recorded: the JSON schema (serde) and its Markdown.

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
    /// Where each key point comes from, aligned with `key_points` by index.
    #[serde(default)]
    pub key_point_sources: Vec<KeyPointSources>,
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

/// A source paragraph supporting a key point, with the supporting sentence
/// quoted in the original language.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceRef {
    /// Paragraph id (¶n) as `nordbrief inspect` numbers the cleaned document.
    pub paragraph: usize,
    pub quote: String,
}

/// The checked sources of one key point.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct KeyPointSources {
    /// Verified supporting paragraphs; empty when nothing supports the point.
    pub sources: Vec<SourceRef>,
    /// True when at least one source was verified.
    pub grounded: bool,
    /// True when the model's own citations failed and the source was found by search.
    #[serde(default)]
    pub recited: bool,
    /// Cited paragraphs that did not support the point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected_citations: Vec<usize>,
    /// Cited paragraph ids that do not exist in the document.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid_citations: Vec<usize>,
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
    /// Absent in briefs written before it existed.
    #[serde(default)]
    pub reduce_budget: usize,
    pub chunks: usize,
    /// Parts whose notes were written together. Absent (1) in briefs
    /// written before it existed.
    #[serde(default = "one_at_a_time")]
    pub parallel: usize,
    /// Absent in briefs written before there was a choice (they are direct).
    #[serde(default = "direct")]
    pub method: BriefMethod,
    /// Paragraphs translated for a brief read through English.
    #[serde(default)]
    pub translated_paragraphs: usize,
}

fn direct() -> BriefMethod {
    BriefMethod::Direct
}

/// How a brief is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BriefMethod {
    /// Translate the paragraphs (a choice of them, for a long document),
    /// then write the brief from the English.
    #[default]
    ThroughEnglish,
    /// Write the brief from the source itself, through notes on its parts
    /// for a long document.
    Direct,
}

fn one_at_a_time() -> usize {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Timings {
    pub load_seconds: f64,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    pub prefill_tokens_per_second: f64,
    pub decode_tokens_per_second: f64,
    pub wall_seconds: f64,
    /// The model calls by pipeline stage, in the order each stage first ran:
    /// where the time went. Absent in briefs written before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageTiming>,
}

/// What the model calls of one pipeline stage read, wrote and took.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct StageTiming {
    /// "notes", "brief", "summary", "late points", "key points", "title" or "translate".
    pub stage: String,
    pub calls: usize,
    /// Prompt tokens read, not counting those reused from the model's cache.
    pub prompt_tokens: usize,
    /// Prompt tokens reused from the cache (a shared prefix) instead of read.
    pub reused_prompt_tokens: usize,
    pub generated_tokens: usize,
    pub prefill_seconds: f64,
    pub decode_seconds: f64,
}

impl StageTiming {
    /// Add `other` to the entry of its stage in `stages`, or append it as the
    /// first of its stage, so stages keep the order they first appeared in.
    pub fn add_to(stages: &mut Vec<StageTiming>, other: &StageTiming) {
        match stages.iter_mut().find(|s| s.stage == other.stage) {
            Some(s) => {
                s.calls += other.calls;
                s.prompt_tokens += other.prompt_tokens;
                s.reused_prompt_tokens += other.reused_prompt_tokens;
                s.generated_tokens += other.generated_tokens;
                s.prefill_seconds += other.prefill_seconds;
                s.decode_seconds += other.decode_seconds;
            }
            None => stages.push(other.clone()),
        }
    }
}

impl Brief {
    /// The brief as Markdown for people: title, source line, summary, key
    /// points with their source paragraphs, then anything the reader should
    /// be warned about.
    pub fn to_markdown(&self) -> String {
        self.to_markdown_with(false)
    }

    /// As [`Brief::to_markdown`], with each point's quoted source sentences when `quotes`.
    pub fn to_markdown_with(&self, quotes: bool) -> String {
        let mut md = String::new();
        let title = if self.title.is_empty() {
            self.id.as_str()
        } else {
            self.title.as_str()
        };
        md.push_str(&format!("# {title}\n\n"));
        let mut meta = vec![
            format!("Source: `{}`", self.source),
            format!(
                "{} ({:.0}% confidence)",
                self.language.name,
                self.language.confidence * 100.0
            ),
        ];
        if let Some(date) = &self.document_date {
            meta.push(format!("dated {date}"));
        }
        meta.push(format!("model {}", self.model.id));
        md.push_str(&format!("*{}*\n\n", meta.join(" · ")));
        md.push_str("## Summary\n\n");
        md.push_str(&self.summary);
        md.push_str("\n\n## Key points\n\n");
        for (i, point) in self.key_points.iter().enumerate() {
            match self.key_point_sources.get(i) {
                Some(s) if s.grounded => {
                    let ids: Vec<String> = s
                        .sources
                        .iter()
                        .map(|r| format!("¶{}", r.paragraph))
                        .collect();
                    md.push_str(&format!("- {point} ({})\n", ids.join(", ")));
                    if quotes {
                        for r in &s.sources {
                            md.push_str(&format!("  > ¶{}: {}\n", r.paragraph, r.quote));
                        }
                    }
                }
                Some(_) => md.push_str(&format!(
                    "- {point} *(unsupported: no source paragraph found)*\n"
                )),
                None => md.push_str(&format!("- {point}\n")),
            }
        }
        if !self.warnings.is_empty() {
            md.push_str("\n## Warnings\n\n");
            for w in &self.warnings {
                md.push_str(&format!("- {w}\n"));
            }
        }
        md
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Brief {
        Brief {
            schema_version: SCHEMA_VERSION,
            id: "000_80af01f0790fae2a".into(),
            source: "seeds/000_80af01f0790fae2a.txt".into(),
            source_sha256: "ab".repeat(32),
            language: LanguageLabel {
                code: "swe".into(),
                name: "Swedish".into(),
                confidence: 0.97,
            },
            title: "Council conclusions on integration".into(),
            summary: "Sweden supports the draft conclusions.".into(),
            key_points: vec![
                "The meeting is on 12-13 June.".into(),
                "Potsdam hosted an informal meeting.".into(),
            ],
            key_point_sources: vec![
                KeyPointSources {
                    sources: vec![SourceRef {
                        paragraph: 1,
                        quote: "Rådets möte den 12-13 juni".into(),
                    }],
                    grounded: true,
                    ..Default::default()
                },
                KeyPointSources::default(),
            ],
            document_date: Some("2020-03-03".into()),
            model: ModelInfo {
                id: "qwen2.5-coder-0.5b-instruct".into(),
                sha256: "cd".repeat(32),
            },
            prompt_versions: [("brief.user".to_string(), "brief.user/1".to_string())].into(),
            generation: GenerationInfo::default(),
            timings: Timings::default(),
            warnings: vec!["the summary has 5 words (expected 80–160)".into()],
        }
    }

    #[test]
    fn markdown_rendering() {
        insta::assert_snapshot!(sample().to_markdown());
    }

    #[test]
    fn markdown_with_quotes() {
        let md = sample().to_markdown_with(true);
        assert!(
            md.contains(
                "- The meeting is on 12-13 June. (¶1)\n  > ¶1: Rådets möte den 12-13 juni\n"
            ),
            "{md}"
        );
        assert!(
            md.contains("Potsdam hosted an informal meeting. *(unsupported"),
            "{md}"
        );
    }

    #[test]
    fn json_round_trip_keeps_every_field() {
        let b = sample();
        let json = serde_json::to_string_pretty(&b).unwrap();
        assert!(json.contains("\"key_points\": ["));
        let back: Brief = serde_json::from_str(&json).unwrap();
        assert_eq!(back, b);
    }

    #[test]
    fn brief_without_title_or_date_renders_id_and_no_date() {
        let mut b = sample();
        b.title.clear();
        b.document_date = None;
        b.warnings.clear();
        let md = b.to_markdown();
        assert!(md.starts_with("# 000_80af01f0790fae2a\n"));
        assert!(!md.contains("dated"));
        assert!(!md.contains("Warnings"));
    }
}
