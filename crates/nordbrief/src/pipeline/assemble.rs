//! Assembly: one document from paragraphs to a finished brief, calling the
//! stages in order and checking what they wrote.

use std::time::Instant;

use super::answer::{dedupe_points, is_remark_on_the_brief};
use super::ask::Asker;
use super::briefer::Briefer;
use super::checks::{foreign_language_warning, is_english};
use super::chunk::Piece;
use super::ground;
use super::options::{BriefOptions, BriefRequest, PipelineEvent};
use super::options::{PipelineError, Stage, KEY_POINTS, SUMMARY_WORDS};
use crate::brief::{Brief, BriefMethod, GenerationInfo, LanguageLabel, SCHEMA_VERSION};
use crate::facts::SourceIndex;
use crate::generate::Generator;
use crate::ingest::ParagraphKind;
use crate::prompts::PromptSet;

/// Brief one document with `generator`, by `options.method`.
pub fn brief_document(
    generator: &mut dyn Generator,
    prompts: &PromptSet,
    request: &BriefRequest,
    options: &BriefOptions,
    on_event: &mut dyn FnMut(PipelineEvent),
) -> Result<Brief, PipelineError> {
    match options.method {
        BriefMethod::ThroughEnglish => {
            super::english::brief_through_english(generator, prompts, request, options, on_event)
        }
        BriefMethod::Direct => brief_directly(generator, prompts, request, options, on_event),
    }
}

/// Brief one document from its source text.
fn brief_directly(
    generator: &mut dyn Generator,
    prompts: &PromptSet,
    request: &BriefRequest,
    options: &BriefOptions,
    on_event: &mut dyn FnMut(PipelineEvent),
) -> Result<Brief, PipelineError> {
    let start = Instant::now();
    let doc = request.document;
    let pieces: Vec<Piece> = doc
        .paragraphs
        .iter()
        .map(|p| Piece {
            paragraph: p.id,
            is_heading: p.kind == ParagraphKind::Heading,
            text: format!("[¶{}] {}", p.id, p.text),
        })
        .collect();
    if pieces.iter().all(|p| p.text.trim().is_empty()) {
        return Err(PipelineError::EmptyDocument {
            source_path: doc.source.clone(),
        });
    }
    // The model reads numbered paragraphs so that it can cite them.
    let numbered = pieces
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    let body = doc.body_text();
    let source = SourceIndex::new(&format!(
        "{body}\n{}",
        doc.footnotes
            .iter()
            .map(|f| f.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    ));
    let body_tokens = generator.count_tokens(&numbered);
    let language = doc.language.language.english_name().to_string();
    let warnings: Vec<String> = foreign_language_warning(doc, "brief").into_iter().collect();
    let mut briefer = Briefer {
        model: Asker::new(
            generator,
            &options.settings,
            on_event,
            Stage::Brief { attempt: 1 },
        ),
        prompts,
        options,
        language,
        warnings,
    };
    let (parsed, chunks) = if body_tokens <= options.context_budget {
        let (mut parsed, conversation) = briefer.brief(Some(&numbered), None, &source)?;
        briefer.missing_points(&mut parsed, conversation, &source)?;
        (parsed, 1)
    } else {
        let notes = briefer.notes_for(&pieces)?;
        let (mut parsed, conversation) = briefer.brief(None, Some(&notes.text), &source)?;
        briefer.missing_points(&mut parsed, conversation.clone(), &source)?;
        briefer.late_points(&mut parsed, conversation, &notes, &source)?;
        (parsed, notes.parts_read)
    };
    let mut warnings = briefer.warnings;
    // Citations are checked against the paragraphs, then taken out of the text.
    let grounder = match request.embedder {
        Some(embedder) => ground::Grounder::with_embedder(doc, embedder).unwrap_or_else(|e| {
            warnings.push(format!(
                "citations checked by wording only: the embedding model failed ({e})"
            ));
            ground::Grounder::new(doc)
        }),
        None => ground::Grounder::new(doc),
    };
    let cited: Vec<(String, Vec<usize>)> = parsed
        .key_points
        .iter()
        .map(|p| ground::split_citations(p))
        .collect();
    let texts = dedupe_points(
        cited
            .iter()
            .map(|(t, _)| t.clone())
            .filter(|t| !t.is_empty() && !is_remark_on_the_brief(t))
            .collect(),
    );
    // A key point still not in English after the retry is left out: the brief
    // promises English, and says what it dropped.
    let (texts, foreign): (Vec<String>, Vec<String>) =
        texts.into_iter().partition(|t| is_english(t));
    if !foreign.is_empty() {
        warnings.push(format!(
            "{} key point(s) not in English were left out",
            foreign.len()
        ));
    }
    let mut key_points = Vec::new();
    let mut key_point_sources = Vec::new();
    for text in texts {
        let ids = cited
            .iter()
            .find(|(t, _)| *t == text)
            .map(|(_, ids)| ids.clone())
            .unwrap_or_default();
        key_point_sources.push(grounder.ground(&text, &ids));
        key_points.push(text);
    }
    if key_points.len() > *KEY_POINTS.end() {
        warnings.push(format!(
            "the model gave {} key points; the first {} are kept",
            key_points.len(),
            KEY_POINTS.end()
        ));
        key_points.truncate(*KEY_POINTS.end());
        key_point_sources.truncate(*KEY_POINTS.end());
    }
    let ungrounded = key_point_sources.iter().filter(|s| !s.grounded).count();
    if ungrounded > 0 {
        warnings.push(format!(
            "{ungrounded} key point(s) have no supporting source paragraph"
        ));
    }
    if key_points.len() < *KEY_POINTS.start() {
        warnings.push(format!(
            "only {} key points (expected at least {})",
            key_points.len(),
            KEY_POINTS.start()
        ));
    }
    let summary_words = parsed.summary.split_whitespace().count();
    if !SUMMARY_WORDS.contains(&summary_words) {
        warnings.push(format!(
            "the summary has {summary_words} words (expected {}–{})",
            SUMMARY_WORDS.start(),
            SUMMARY_WORDS.end()
        ));
    }
    if parsed.title.is_empty() {
        warnings.push("the model gave no title".into());
    }
    Ok(Brief {
        schema_version: SCHEMA_VERSION,
        id: request.id.clone(),
        source: doc.source.clone(),
        source_sha256: doc.source_sha256.clone(),
        language: LanguageLabel {
            code: doc.language.language.code().to_string(),
            name: doc.language.language.english_name().to_string(),
            confidence: doc.language.confidence,
        },
        title: ground::split_citations(&parsed.title).0,
        summary: ground::split_citations(&parsed.summary).0,
        key_points,
        key_point_sources,
        document_date: doc.document_date.clone(),
        model: request.model.clone(),
        prompt_versions: prompts.versions().clone(),
        generation: GenerationInfo {
            max_new_tokens: options.settings.max_new_tokens,
            temperature: options.settings.temperature,
            top_p: options.settings.top_p,
            seed: options.settings.seed,
            repeat_penalty: options.settings.repeat_penalty,
            context_budget: options.context_budget,
            reduce_budget: options.reduce_budget,
            chunks,
            parallel: options.parallel,
            method: options.method,
            translated_paragraphs: 0,
        },
        timings: briefer
            .model
            .timings(request.load_seconds, start.elapsed().as_secs_f64()),
        warnings,
    })
}
