//! From a cleaned document to an English brief: chunk to the context budget,
//! take notes per chunk (map), merge the notes into the brief (reduce), then
//! check the brief is English and states only facts the source has, asking
//! the model again once where it is not.

pub mod answer;
pub mod chunk;
pub mod ground;
pub mod translate;

use minijinja::context;
use std::time::Instant;

use crate::brief::{
    Brief, GenerationInfo, LanguageLabel, ModelInfo, StageTiming, Timings, SCHEMA_VERSION,
};
use crate::facts::{unsupported_facts, SourceIndex};
use crate::generate::{GenerateError, Generation, GenerationSettings, Generator, StopReason};
use crate::ingest::{Document, ParagraphKind};
use crate::model::template::ChatMessage;
use crate::prompts::{PromptError, PromptSet};
use answer::{bullets, dedupe_points, is_remark_on_the_brief, parse_brief_answer, ParsedBrief};
use chunk::{chunk, Piece};

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
}

/// The model calls of one brief or translation, summed by stage.
#[derive(Default)]
struct Totals {
    stages: Vec<StageTiming>,
}

impl Totals {
    fn add(&mut self, stage: &Stage, g: &Generation) {
        let call = StageTiming {
            stage: stage.name().to_string(),
            calls: 1,
            prompt_tokens: g.prompt_tokens - g.reused_prompt_tokens,
            reused_prompt_tokens: g.reused_prompt_tokens,
            generated_tokens: g.generated_tokens,
            prefill_seconds: g.prefill_seconds,
            decode_seconds: g.decode_seconds,
        };
        StageTiming::add_to(&mut self.stages, &call);
    }

    fn timings(&self, load_seconds: f64, wall_seconds: f64) -> Timings {
        let sum = |f: fn(&StageTiming) -> f64| self.stages.iter().map(f).sum::<f64>();
        let prompt_tokens = self.stages.iter().map(|s| s.prompt_tokens).sum();
        let generated_tokens = self.stages.iter().map(|s| s.generated_tokens).sum();
        Timings {
            load_seconds,
            prompt_tokens,
            generated_tokens,
            prefill_tokens_per_second: rate(prompt_tokens, sum(|s| s.prefill_seconds)),
            decode_tokens_per_second: rate(generated_tokens, sum(|s| s.decode_seconds)),
            wall_seconds,
            stages: self.stages.clone(),
        }
    }
}

fn rate(tokens: usize, seconds: f64) -> f64 {
    if seconds > 0.0 {
        tokens as f64 / seconds
    } else {
        0.0
    }
}

/// Fewer words than this are too few to judge a language by (a title made
/// of names, a short key point).
const MIN_WORDS_TO_JUDGE: usize = 4;

/// Whether `text` reads as English (short texts are given the benefit of the doubt).
pub fn is_english(text: &str) -> bool {
    if text.split_whitespace().count() < MIN_WORDS_TO_JUDGE {
        return true;
    }
    crate::ingest::lang::detect(text).language == crate::ingest::Language::English
}

/// The map stage's result: English notes labelled "Part N of M".
struct Notes {
    text: String,
    /// Parts read in all rounds (notes on notes included).
    parts_read: usize,
    /// Parts the final notes are labelled with.
    labelled_parts: usize,
    /// The labelled part (1-based) that holds the document's conclusion
    /// heading, and that heading's paragraph.
    conclusion: Option<(usize, usize)>,
}

/// English notes on one part that are enough to keep (the prompt asks for 3 to 8).
const MIN_ENGLISH_NOTES: usize = 3;

struct Briefer<'a> {
    generator: &'a mut dyn Generator,
    prompts: &'a PromptSet,
    options: &'a BriefOptions,
    language: String,
    totals: Totals,
    warnings: Vec<String>,
    on_event: &'a mut dyn FnMut(PipelineEvent),
    /// The stage the next model calls belong to.
    stage: Stage,
}

impl Briefer<'_> {
    /// Start `stage`: report it and count the model calls that follow under it.
    fn enter(&mut self, stage: Stage) {
        (self.on_event)(PipelineEvent::Stage(stage.clone()));
        self.stage = stage;
    }

    fn ask(
        &mut self,
        system: &str,
        user: &str,
        max_new_tokens: usize,
    ) -> Result<Generation, PipelineError> {
        self.ask_messages(
            &[ChatMessage::system(system), ChatMessage::user(user)],
            max_new_tokens,
        )
    }

    fn ask_messages(
        &mut self,
        messages: &[ChatMessage],
        max_new_tokens: usize,
    ) -> Result<Generation, PipelineError> {
        let settings = GenerationSettings {
            max_new_tokens,
            ..self.options.settings.clone()
        };
        let on_event = &mut *self.on_event;
        let generation = self.generator.generate(messages, &settings, &mut |p| {
            on_event(PipelineEvent::Generation(p))
        })?;
        self.totals.add(&self.stage, &generation);
        Ok(generation)
    }

    /// Answers to several prompts of the current stage, written together.
    fn ask_many(
        &mut self,
        prompts: &[Vec<ChatMessage>],
        max_new_tokens: usize,
    ) -> Result<Vec<Generation>, PipelineError> {
        let settings = GenerationSettings {
            max_new_tokens,
            ..self.options.settings.clone()
        };
        let on_event = &mut *self.on_event;
        let generations = self.generator.generate_many(prompts, &settings, &mut |p| {
            on_event(PipelineEvent::Generation(p))
        })?;
        for generation in &generations {
            self.totals.add(&self.stage, generation);
        }
        Ok(generations)
    }

    /// English notes on consecutive chunks (`texts[i]` is part `first + i`),
    /// written together. A part is asked again once if fewer than
    /// `MIN_ENGLISH_NOTES` of its notes are English.
    fn notes(
        &mut self,
        texts: &[&str],
        first: usize,
        parts: usize,
    ) -> Result<Vec<Vec<String>>, PipelineError> {
        self.enter(Stage::Notes {
            first,
            last: first + texts.len() - 1,
            parts,
        });
        let system = self.prompts.render("notes.system", context! {})?;
        let mut notes: Vec<Vec<String>> = vec![Vec::new(); texts.len()];
        let mut pending: Vec<usize> = (0..texts.len()).collect();
        for strict in [false, true] {
            let prompts = pending
                .iter()
                .map(|&i| {
                    let user = self.prompts.render(
                        "notes.user",
                        context! {
                            language => &self.language,
                            part => first + i,
                            parts,
                            document => texts[i],
                            strict,
                        },
                    )?;
                    Ok(vec![ChatMessage::system(&system), ChatMessage::user(&user)])
                })
                .collect::<Result<Vec<_>, PipelineError>>()?;
            let generations = self.ask_many(&prompts, self.options.notes_max_tokens)?;
            let mut again = Vec::new();
            for (&i, generation) in pending.iter().zip(&generations) {
                notes[i] = notes_in(generation);
                // A line or two left in the document's language are dropped
                // rather than the part asked again: that would write a whole
                // page of notes at decode speed to replace them.
                let english = notes[i].iter().filter(|n| is_english(n)).count();
                if english < notes[i].len() && english < MIN_ENGLISH_NOTES {
                    again.push(i);
                }
            }
            pending = again;
            if pending.is_empty() {
                break;
            }
        }
        for &i in &pending {
            self.warnings.push(format!(
                "the notes on part {} of {parts} are not entirely in English",
                first + i
            ));
        }
        Ok(notes
            .into_iter()
            .map(|n| n.into_iter().filter(|n| is_english(n)).collect())
            .collect())
    }

    /// Map: notes per chunk, merged again while they exceed the budget.
    fn notes_for(&mut self, pieces: &[Piece]) -> Result<Notes, PipelineError> {
        let chunks = {
            let generator = &*self.generator;
            chunk(pieces, self.options.context_budget, &|t| {
                generator.count_tokens(t)
            })
        };
        let parts = chunks.len();
        let mut sections = Vec::with_capacity(parts);
        for (g, group) in chunks.chunks(self.options.parallel.max(1)).enumerate() {
            let first = g * self.options.parallel.max(1) + 1;
            let texts: Vec<&str> = group.iter().map(|c| c.text.as_str()).collect();
            for (i, notes) in self.notes(&texts, first, parts)?.iter().enumerate() {
                sections.push(format!(
                    "Part {} of {}:\n{}",
                    first + i,
                    parts,
                    notes
                        .iter()
                        .map(|n| format!("- {n}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ));
            }
        }
        let notes = sections.join("\n\n");
        if self.generator.count_tokens(&notes) <= self.options.reduce_budget || parts <= 1 {
            return Ok(Notes {
                text: notes,
                parts_read: parts,
                labelled_parts: parts,
                conclusion: chunk::conclusion_chunk(pieces, &chunks)
                    .map(|(index, paragraph)| (index + 1, paragraph)),
            });
        }
        // The notes themselves are too long for one prompt: take notes on the notes.
        let note_pieces: Vec<Piece> = sections
            .into_iter()
            .enumerate()
            .map(|(i, text)| Piece {
                paragraph: i + 1,
                is_heading: false,
                text,
            })
            .collect();
        let saved_language = std::mem::replace(&mut self.language, "English".to_string());
        let result = self.notes_for(&note_pieces);
        self.language = saved_language;
        let notes = result?;
        Ok(Notes {
            parts_read: parts + notes.parts_read,
            // Notes on notes are labelled by rounds, not by the document's parts.
            conclusion: None,
            ..notes
        })
    }

    /// Reduce: the brief itself, asked again once when it is not English and
    /// once when it states facts the source does not have.
    fn brief(
        &mut self,
        document: Option<&str>,
        notes: Option<&str>,
        source: &SourceIndex,
    ) -> Result<(ParsedBrief, Vec<ChatMessage>), PipelineError> {
        let system = self.prompts.render("brief.system", context! {})?;
        let mut strict = false;
        let mut unsupported: Vec<String> = Vec::new();
        let mut parsed = ParsedBrief::default();
        let mut conversation = Vec::new();
        for attempt in 1..=3 {
            self.enter(Stage::Brief { attempt });
            let user = self.prompts.render(
                "brief.user",
                context! { language => &self.language, document, notes, strict, unsupported_facts => &unsupported },
            )?;
            let generation = self.ask(&system, &user, self.options.settings.max_new_tokens)?;
            parsed = parse_brief_answer(&generation.text);
            if generation.stop == StopReason::TokenCap {
                mend_cut_answer(&mut parsed);
            }
            conversation = vec![
                ChatMessage::system(&system),
                ChatMessage::user(&user),
                ChatMessage::assistant(&generation.text),
            ];
            if generation.stop == StopReason::TokenCap && attempt == 3 {
                self.warnings
                    .push("the model's answer reached the token limit and may be cut short".into());
            }
            let not_english = !(is_english(&parsed.title)
                && is_english(&parsed.summary)
                && parsed.key_points.iter().all(|p| is_english(p)));
            let text = format!(
                "{}\n{}\n{}",
                parsed.title,
                parsed.summary,
                parsed.key_points.join("\n")
            );
            let facts = facts_not_in(source, &text);
            if attempt == 3
                || (!not_english && facts.is_empty())
                || (strict && not_english && facts.is_empty() && attempt == 2)
            {
                if not_english {
                    self.warnings
                        .push("parts of the brief are not in English".into());
                }
                if !facts.is_empty() {
                    self.warnings.push(format!(
                        "facts not found in the source: {}",
                        facts.join(", ")
                    ));
                }
                break;
            }
            strict |= not_english;
            unsupported = facts;
        }
        self.fit_summary(&mut parsed, conversation.clone(), source)?;
        self.missing_title(&mut parsed, conversation.clone(), source)?;
        Ok((parsed, conversation))
    }

    /// A small model writes key points in the order of the notes and stops
    /// before the last parts, so a brief from notes asks, as replies in the
    /// same conversation (its cache reused), for a point from the last third
    /// of the parts (the later sections) and one from the part that holds
    /// the document's conclusion, or a second late point when no heading
    /// names a conclusion. They replace the last of the first points when
    /// there would be more than the most, and come last, in document order.
    fn late_points(
        &mut self,
        parsed: &mut ParsedBrief,
        conversation: Vec<ChatMessage>,
        notes: &Notes,
        source: &SourceIndex,
    ) -> Result<(), PipelineError> {
        const COUNT: usize = 2;
        let parts = notes.labelled_parts;
        if parts < 3 || conversation.is_empty() {
            return Ok(());
        }
        self.enter(Stage::LatePoints);
        let from_part = parts - parts / 3 + 1;
        // With a conclusion part of its own, the late point comes from the
        // parts before it, so the two points are not one fact twice.
        let (late_count, to_part) = match notes.conclusion {
            Some((part, _)) if part > from_part => (1, part - 1),
            Some(_) => (1, parts),
            None => (COUNT, parts),
        };
        let user = self.prompts.render(
            "late_points.user",
            context! { count => late_count, from_part, to_part, parts },
        )?;
        let mut late = self.ask_for_points(conversation.clone(), &user, late_count, source)?;
        if let Some((conclusion_part, conclusion_paragraph)) = notes.conclusion {
            let user = self.prompts.render(
                "late_points.user",
                context! { count => 1, conclusion_part, conclusion_paragraph, parts },
            )?;
            late.extend(self.ask_for_points(conversation, &user, 1, source)?);
        }
        if late.is_empty() {
            return Ok(());
        }
        let mut points = std::mem::take(&mut parsed.key_points);
        points.truncate(KEY_POINTS.end() - late.len());
        points.extend(late);
        parsed.key_points = dedupe_points(points);
        Ok(())
    }

    /// Key points asked for as a reply in the brief's conversation: at most
    /// `count` of them, each one English sentence with no fact the source lacks.
    fn ask_for_points(
        &mut self,
        mut conversation: Vec<ChatMessage>,
        user: &str,
        count: usize,
        source: &SourceIndex,
    ) -> Result<Vec<String>, PipelineError> {
        conversation.push(ChatMessage::user(user));
        let generation = self.ask_messages(&conversation, self.options.settings.max_new_tokens)?;
        // Only listed lines count: an answer that is not a list (a poem an
        // injected instruction asked for, a paragraph) gives no points.
        let listed = generation
            .text
            .lines()
            .filter(|l| answer::strip_bullet(l).is_some())
            .collect::<Vec<_>>()
            .join("\n");
        let mut answer = parse_brief_answer(&format!("KEY POINTS:\n{listed}"));
        if generation.stop == StopReason::TokenCap {
            mend_cut_answer(&mut answer);
        }
        Ok(answer
            .key_points
            .into_iter()
            .filter(|p| {
                p.split_whitespace().count() <= MAX_POINT_WORDS
                    && is_english(p)
                    && facts_not_in(source, p).is_empty()
            })
            .take(count)
            .collect())
    }

    /// An answer without a title (none written, or the prompt's words
    /// echoed) is asked for one once, in the same conversation; the reply
    /// is kept if it is a short English line with no fact the source lacks.
    /// An answer with no key points did not follow the format at all (it
    /// may have obeyed an instruction in the document); it is not patched.
    fn missing_title(
        &mut self,
        parsed: &mut ParsedBrief,
        mut conversation: Vec<ChatMessage>,
        source: &SourceIndex,
    ) -> Result<(), PipelineError> {
        if !parsed.title.is_empty() || parsed.key_points.is_empty() || conversation.is_empty() {
            return Ok(());
        }
        self.enter(Stage::Title);
        let user = self.prompts.render("title.user", context! {})?;
        conversation.push(ChatMessage::user(&user));
        let generation = self.ask_messages(&conversation, MAX_TITLE_TOKENS)?;
        let title = answer::parse_title_reply(&generation.text);
        if (1..=MAX_TITLE_WORDS).contains(&title.split_whitespace().count())
            && is_english(&title)
            && facts_not_in(source, &title).is_empty()
        {
            parsed.title = title;
        }
        Ok(())
    }

    /// An answer with fewer than three key points (the model put everything
    /// into its summary, or ran out of tokens) is asked for them once, in
    /// the same conversation. Points it had are kept first; repeats are
    /// removed later with the rest.
    fn missing_points(
        &mut self,
        parsed: &mut ParsedBrief,
        conversation: Vec<ChatMessage>,
        source: &SourceIndex,
    ) -> Result<(), PipelineError> {
        let count = parsed.key_points.len();
        if count >= *KEY_POINTS.start() || conversation.is_empty() {
            return Ok(());
        }
        self.enter(Stage::KeyPoints);
        let user = self.prompts.render("key_points.user", context! { count })?;
        let more = self.ask_for_points(conversation, &user, *KEY_POINTS.end(), source)?;
        parsed.key_points.extend(more);
        parsed.key_points.truncate(*KEY_POINTS.end());
        Ok(())
    }

    /// A summary outside the promised length is asked for again as a reply
    /// in the same conversation, so the model's cached reading of the
    /// document is reused and only the request is new. The new summary is
    /// kept only when it is nearer the range, English, and adds no fact the
    /// source lacks.
    fn fit_summary(
        &mut self,
        parsed: &mut ParsedBrief,
        mut conversation: Vec<ChatMessage>,
        source: &SourceIndex,
    ) -> Result<(), PipelineError> {
        let words = parsed.summary.split_whitespace().count();
        if SUMMARY_WORDS.contains(&words) || words == 0 {
            return Ok(());
        }
        self.enter(Stage::Summary { words });
        let too_long = words > *SUMMARY_WORDS.end();
        let user = self
            .prompts
            .render("summary.user", context! { words, too_long })?;
        conversation.push(ChatMessage::user(&user));
        let generation = self.ask_messages(&conversation, self.options.settings.max_new_tokens)?;
        let distance = |text: &str| {
            let n = text.split_whitespace().count();
            n.saturating_sub(*SUMMARY_WORDS.end()) + SUMMARY_WORDS.start().saturating_sub(n)
        };
        let candidate = summary_candidates(&generation.text, generation.stop)
            .into_iter()
            .min_by_key(|c| distance(c))
            .unwrap_or_default();
        let nearer = distance(&candidate) < distance(&parsed.summary);
        let already_unsupported = facts_not_in(source, &parsed.summary);
        if nearer
            && is_english(&candidate)
            && facts_not_in(source, &candidate)
                .iter()
                .all(|f| already_unsupported.contains(f))
        {
            parsed.summary = candidate;
        }
        Ok(())
    }
}

/// The summaries a reply to `summary.user` offers. Small models run on past
/// the paragraph asked for: the key points again, or the whole brief echoed
/// with a second, rewritten SUMMARY; each prose paragraph is a candidate. A
/// paragraph cut off by the token cap keeps only its finished sentences.
/// The notes in one answer: its bullets, less a last one the token cap cut
/// off mid-sentence (the brief would copy it), or the whole answer as one
/// note when the model ignored the bullet format.
fn notes_in(generation: &Generation) -> Vec<String> {
    let mut notes = bullets(&generation.text);
    if generation.stop == StopReason::TokenCap && notes.len() > 1 {
        notes.pop();
    }
    if notes.is_empty() && !generation.text.trim().is_empty() {
        notes = vec![generation
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")];
    }
    notes
}

fn summary_candidates(reply: &str, stop: StopReason) -> Vec<String> {
    let paragraphs: Vec<&str> = reply
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .collect();
    let last = paragraphs.len().saturating_sub(1);
    paragraphs
        .iter()
        .enumerate()
        .filter_map(|(i, paragraph)| {
            let summary = parse_brief_answer(paragraph).summary;
            if i == last && stop == StopReason::TokenCap {
                finished_sentences(&summary).map(str::to_string)
            } else {
                Some(summary)
            }
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// An answer the token cap cut off ends in a broken sentence: its last key
/// point (or, without points, its summary) keeps only its finished
/// sentences, and a point with none is left out.
fn mend_cut_answer(parsed: &mut ParsedBrief) {
    let finished = |text: &str| text.ends_with(['.', '!', '?', ')']);
    match parsed.key_points.pop() {
        Some(last) if finished(&last) => parsed.key_points.push(last),
        Some(last) => parsed
            .key_points
            .extend(finished_sentences(&last).map(str::to_string)),
        None => {
            if let Some(kept) = finished_sentences(&parsed.summary) {
                parsed.summary = kept.to_string();
            }
        }
    }
}

/// `text` up to the end of its last finished sentence, if it has one.
fn finished_sentences(text: &str) -> Option<&str> {
    let text = text.trim_end();
    text.char_indices()
        .filter(|&(i, c)| {
            matches!(c, '.' | '!' | '?')
                && text[i + 1..].chars().next().is_none_or(char::is_whitespace)
        })
        .last()
        .map(|(i, _)| &text[..=i])
}

/// A title longer than this is a sentence, not the title asked for.
const MAX_TITLE_WORDS: usize = 15;
/// Room for one title line and a little chatter around it.
const MAX_TITLE_TOKENS: usize = 48;

/// A key point longer than this is a paragraph, not the one sentence asked for.
const MAX_POINT_WORDS: usize = 50;

/// Facts in `text` (a brief's lines, citation marks included) that the source does not have.
fn facts_not_in(source: &SourceIndex, text: &str) -> Vec<String> {
    // Citation marks are paragraph numbers, not facts of the document.
    let text = text
        .lines()
        .map(|l| ground::split_citations(l).0)
        .collect::<Vec<_>>()
        .join("\n");
    unsupported_facts(&text, source)
        .into_iter()
        .map(|f| f.text)
        .collect()
}

/// Brief one document with `generator`.
pub fn brief_document(
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
    let mut warnings = Vec::new();
    if !doc.language.language.is_scandinavian() {
        warnings.push(format!(
            "the document is in {} ({:.0}% confidence), not a Scandinavian language; the brief may be poor",
            language,
            doc.language.confidence * 100.0
        ));
    }
    let mut briefer = Briefer {
        generator,
        prompts,
        options,
        language,
        totals: Totals::default(),
        warnings,
        on_event,
        stage: Stage::Brief { attempt: 1 },
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
    let grounder = ground::Grounder::new(doc);
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
        },
        timings: briefer
            .totals
            .timings(request.load_seconds, start.elapsed().as_secs_f64()),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::ScriptedGenerator;

    const SWEDISH: &str = "Rådets möte den 12-13 juni\n\nSverige stöder de föreslagna rådsslutsatserna om integration. \
        Vid ett informellt möte i Potsdam den 10-11 maj diskuterade EU:s integrationsministrar samarbetet.\n\n\
        Utgångspunkten är de gemensamma grundläggande principerna som rådet antog i november 2004.";

    const GOOD: &str = "TITLE: Council conclusions on integration\nSUMMARY: Sweden supports the proposed Council conclusions on integration. \
        At an informal meeting in Potsdam on 10-11 May, the EU integration ministers discussed cooperation.\n\
        KEY POINTS:\n- Sweden supports the proposed conclusions on integration policy.\n- The ministers met informally in Potsdam on 10-11 May.\n\
        - The common basic principles were adopted by the Council in November 2004.\n";

    /// `n` numbered Danish paragraphs, long enough to need several parts.
    fn danish_sections(n: usize) -> String {
        (1..=n)
            .map(|i| format!("Afsnit {i}. Regeringen har besluttet at styrke indsatsen for integration i kommune nummer {i}.\n\n"))
            .collect()
    }

    fn document(text: &str) -> Document {
        crate::ingest::ingest_bytes("doc.txt", text.as_bytes()).unwrap()
    }

    fn run(generator: &mut ScriptedGenerator, doc: &Document, options: &BriefOptions) -> Brief {
        let prompts = PromptSet::builtin().unwrap();
        let request = BriefRequest {
            id: "doc".into(),
            document: doc,
            model: ModelInfo::default(),
            load_seconds: 0.0,
        };
        brief_document(generator, &prompts, &request, options, &mut |_| {}).unwrap()
    }

    #[test]
    fn a_short_document_is_briefed_in_one_call_naming_its_language() {
        let mut g = ScriptedGenerator {
            brief: vec![GOOD.into()],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &BriefOptions::default());
        // The brief, then the short summary asked for again (the script repeats itself).
        assert_eq!(g.calls.len(), 2);
        assert!(g.calls[0][1].content.contains("written in Swedish"));
        assert!(g.calls[0][1].content.contains("Potsdam den 10-11 maj"));
        assert_eq!(brief.title, "Council conclusions on integration");
        assert_eq!(brief.key_points.len(), 3);
        assert_eq!(brief.language.code, "swe");
        assert_eq!(brief.generation.chunks, 1);
        // Only the short summary is worth a warning.
        assert_eq!(brief.warnings.len(), 1, "{:?}", brief.warnings);
        assert!(brief.warnings[0].contains("summary has"));
    }

    #[test]
    fn a_brief_records_its_model_calls_by_stage_and_drops_remarks_on_itself() {
        let answer = format!(
            "{GOOD}\n- The summary and key points are based on the content provided in the Swedish text."
        );
        let mut g = ScriptedGenerator {
            brief: vec![answer],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &BriefOptions::default());
        assert_eq!(brief.key_points.len(), 3, "{:?}", brief.key_points);
        assert!(brief.key_points.iter().all(|p| !p.contains("based on")));
        // The brief, then its summary asked for again (too short).
        let stages: Vec<(&str, usize)> = brief
            .timings
            .stages
            .iter()
            .map(|s| (s.stage.as_str(), s.calls))
            .collect();
        assert_eq!(stages, [("brief", 1), ("summary", 1)]);
        let read: usize = brief.timings.stages.iter().map(|s| s.prompt_tokens).sum();
        assert_eq!(read, brief.timings.prompt_tokens);
        assert!(brief.timings.stages[0].prompt_tokens > 50);
    }

    fn long_summary(extra: &str) -> String {
        let sentence = "Sweden supports the proposed Council conclusions on integration of migrants in the member states. ";
        format!("SUMMARY: {}{extra}", sentence.repeat(7))
    }

    #[test]
    fn a_short_summary_is_asked_again_in_the_same_conversation() {
        let mut g = ScriptedGenerator {
            brief: vec![GOOD.into(), long_summary("")],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &BriefOptions::default());
        assert_eq!(g.calls.len(), 2);
        let follow_up = &g.calls[1];
        // The first exchange is kept word for word, so its cache is reused.
        assert_eq!(follow_up[..2], g.calls[0][..]);
        assert_eq!(follow_up[2].role, "assistant");
        assert_eq!(follow_up[2].content, GOOD);
        assert!(follow_up[3].content.contains("too few"));
        assert!(follow_up[3].content.contains(&format!(
            "has only {} words",
            GOOD.lines().nth(1).unwrap().split_whitespace().count() - 1
        )));
        assert_eq!(brief.summary.split_whitespace().count(), 98);
        assert_eq!(brief.key_points.len(), 3, "the key points stay");
        assert!(brief.warnings.is_empty(), "{:?}", brief.warnings);
    }

    #[test]
    fn a_longer_summary_with_an_invented_fact_is_not_taken() {
        let mut g = ScriptedGenerator {
            brief: vec![
                GOOD.into(),
                long_summary("The ministers met again in Oslo in 2019."),
            ],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &BriefOptions::default());
        assert_eq!(g.calls.len(), 2);
        assert!(brief
            .summary
            .starts_with("Sweden supports the proposed Council conclusions on integration. At"));
        assert!(brief.warnings.iter().any(|w| w.contains("summary has")));
    }

    #[test]
    fn a_long_document_goes_through_notes_that_reach_its_last_part() {
        let mut text = danish_sections(40);
        text.push_str("Konklusion. Samarbejdet med Tunesien og Jordan fortsætter efter 2013.\n");
        let notes: Vec<String> = (1..=10)
            .map(|i| format!("- Note {i} on the work of the government."))
            .collect();
        let mut g = ScriptedGenerator {
            brief: vec![GOOD.into()],
            notes,
            ..Default::default()
        };
        let options = BriefOptions {
            context_budget: 256,
            ..BriefOptions::default()
        };
        let brief = run(&mut g, &document(&text), &options);
        let note_calls: Vec<_> = g
            .calls
            .iter()
            .filter(|c| c[1].content.contains("\nPART "))
            .collect();
        assert!(note_calls.len() >= 2, "{} note calls", note_calls.len());
        assert_eq!(brief.generation.chunks, note_calls.len());
        // The last part read holds the conclusion, and the reduce prompt holds every part's notes.
        assert!(note_calls.last().unwrap()[1]
            .content
            .contains("Tunesien og Jordan"));
        let reduce = &g.calls.last().unwrap()[1].content;
        assert!(reduce.contains("NOTES:") && !reduce.contains("DOCUMENT:"));
        assert!(reduce.contains(&format!("Part {0} of {0}:", note_calls.len())));
    }

    #[test]
    fn a_note_not_in_english_is_dropped_and_a_part_with_too_few_english_ones_asked_again() {
        const DANISH_NOTE: &str =
            "- Regeringen har besluttet at styrke indsatsen for integration i kommunerne.";
        let english = |n: usize| {
            (1..=n)
                .map(|i| format!("- Note {i} says the government will act on integration."))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let options = BriefOptions {
            context_budget: 256,
            ..BriefOptions::default()
        };
        let text = danish_sections(40);
        for (english_notes, asked_again) in [(3, false), (2, true)] {
            let mut g = ScriptedGenerator {
                brief: vec![GOOD.into()],
                notes: vec![format!("{}\n{DANISH_NOTE}", english(english_notes))],
                ..Default::default()
            };
            let brief = run(&mut g, &document(&text), &options);
            let note_calls = g
                .calls
                .iter()
                .filter(|c| c[1].content.contains("\nPART "))
                .count();
            let parts = brief.generation.chunks;
            let expected = if asked_again { 2 * parts } else { parts };
            assert_eq!(note_calls, expected, "{english_notes} English notes");
            let reduce = g
                .calls
                .iter()
                .find(|c| c[1].content.contains("NOTES:"))
                .unwrap();
            assert!(!reduce[1].content.contains("Regeringen"));
            assert!(reduce[1].content.contains("Note 2 says"));
            let warned = brief.warnings.iter().any(|w| w.contains("notes on part"));
            assert_eq!(warned, asked_again, "{:?}", brief.warnings);
        }
    }

    /// Parts are written `parallel` at a time (one `generate_many` call each);
    /// a part whose notes are not English is asked again after its group,
    /// alone, and the notes keep the parts' order.
    #[test]
    fn notes_are_written_in_groups_and_only_foreign_parts_are_asked_again() {
        const ENGLISH: &str = "- The government will act on integration.\n- The work is done locally.\n- Money follows.";
        const DANISH: &str =
            "- Regeringen har besluttet at styrke indsatsen for integration i kommunerne.";
        // In call order: part 1 Danish, parts 2–4 English, part 1 again
        // (English, marked), then English for the rest.
        let mut notes = vec![DANISH.to_string()];
        notes.extend(std::iter::repeat_n(ENGLISH.to_string(), 3));
        notes.push(format!("{ENGLISH}\n- Part one, asked again."));
        notes.push(ENGLISH.to_string());
        let mut g = ScriptedGenerator {
            brief: vec![GOOD.into()],
            notes,
            ..Default::default()
        };
        let options = BriefOptions {
            context_budget: 256,
            parallel: 4,
            ..BriefOptions::default()
        };
        let prompts = PromptSet::builtin().unwrap();
        let text = danish_sections(100);
        let doc = document(&text);
        let request = BriefRequest {
            id: "doc".into(),
            document: &doc,
            model: ModelInfo::default(),
            load_seconds: 0.0,
        };
        let mut groups = Vec::new();
        let brief = brief_document(&mut g, &prompts, &request, &options, &mut |e| {
            if let PipelineEvent::Stage(Stage::Notes { first, last, parts }) = e {
                groups.push((first, last, parts));
            }
        })
        .unwrap();
        let parts = brief.generation.chunks;
        assert!(parts > 4, "{parts} parts");
        assert_eq!(brief.generation.parallel, 4);
        assert_eq!(groups[0], (1, 4, parts));
        assert_eq!(groups[1], (5, 8.min(parts), parts));
        assert_eq!(groups.len(), parts.div_ceil(4));
        let part_of = |call: &Vec<ChatMessage>| -> Option<usize> {
            let text = &call[1].content;
            let at = text.find("\nPART ")? + "\nPART ".len();
            text[at..].split_whitespace().next()?.parse().ok()
        };
        let order: Vec<usize> = g.calls.iter().filter_map(part_of).collect();
        assert_eq!(&order[..6], &[1, 2, 3, 4, 1, 5], "{order:?}");
        assert_eq!(
            &g.batches[..3],
            &[4, 1, (parts - 4).min(4)],
            "parts asked together"
        );
        assert_eq!(order.len(), parts + 1);
        let reduce = &g.calls.last().unwrap()[1].content;
        let first_part = reduce.find("Part 1 of").unwrap();
        let second_part = reduce.find("Part 2 of").unwrap();
        let again = reduce.find("Part one, asked again.").unwrap();
        assert!(first_part < again && again < second_part, "{reduce}");
        assert!(!reduce.contains("Regeringen"));
        assert!(brief.warnings.iter().all(|w| !w.contains("notes on part")));
    }

    /// The brief's answer in the tests of replies asked after a brief from notes.
    const NOTES_BRIEF_ANSWER: &str = "TITLE: Integration in the municipalities\nSUMMARY: The government has decided to strengthen integration.\n\
        KEY POINTS:\n- The government will strengthen its work on integration.\n- The work is done in the municipalities.\n\
        - Every municipality has its own number.\n";

    /// `text` briefed from notes (a small context budget) with
    /// `NOTES_BRIEF_ANSWER` as the brief, asked again once for its short
    /// summary (no better), then `replies` to the follow-up questions.
    fn brief_from_notes(text: &str, replies: &[&str]) -> (ScriptedGenerator, Brief) {
        let mut brief = vec![NOTES_BRIEF_ANSWER.to_string(); 2];
        brief.extend(replies.iter().map(|r| r.to_string()));
        let mut g = ScriptedGenerator {
            brief,
            notes: vec!["- Note on the work of the government.".into()],
            ..Default::default()
        };
        let options = BriefOptions {
            context_budget: 128,
            ..BriefOptions::default()
        };
        let brief = run(&mut g, &document(text), &options);
        (g, brief)
    }

    #[test]
    fn a_brief_from_notes_asks_for_key_points_from_the_last_parts() {
        let mut text = danish_sections(40);
        text.push_str("Konklusion. Samarbejdet med Tunesien og Jordan fortsætter efter 2013.\n");
        let late = "- The conclusion says that the government has decided many things in many municipalities, and it goes on at length about all of them, one after another, without ever stopping to make one single point that a reader could take away from it, which is what a paragraph does and what a key point must not do. (¶41)\n\
            - The conclusion says that the cooperation continues after 2013. (¶41)\n\
            - The cooperation continues in 2031 according to the conclusion. (¶41)";
        let (g, brief) = brief_from_notes(&text, &[late]);
        let parts = brief.generation.chunks;
        assert!(parts >= 3, "{parts} parts");
        let request = g.calls.last().unwrap();
        assert_eq!(
            request[2].content, NOTES_BRIEF_ANSWER,
            "a reply in the brief's conversation"
        );
        assert!(
            request[3]
                .content
                .contains(&format!("Part {} to Part {parts}", parts - parts / 3 + 1)),
            "{}",
            request[3].content
        );
        // The supported late point is added; the one with an invented year is not.
        assert_eq!(brief.key_points.len(), 4, "{:?}", brief.key_points);
        assert_eq!(
            brief.key_points.last().unwrap(),
            "The conclusion says that the cooperation continues after 2013."
        );
        assert!(!brief.key_points.iter().any(|p| p.contains("2031")));
    }

    #[test]
    fn a_brief_from_notes_asks_for_a_point_from_the_part_holding_the_conclusion() {
        let mut text = danish_sections(60);
        text.push_str(
            "6. KONKLUSION\n\nSamarbejdet med Tunesien og Jordan fortsætter efter 2013.\n\n",
        );
        text.push_str("BILAG I\n\n");
        text.push_str(&danish_sections(8));
        let late = "- The government strengthens integration in municipality number 30. (¶30)";
        let conclusion = "- The document concludes that the cooperation with Tunesien and Jordan continues after 2013. (¶43)";
        let (g, brief) = brief_from_notes(&text, &[late, conclusion]);
        let parts = brief.generation.chunks;
        let note_calls: Vec<_> = g
            .calls
            .iter()
            .filter(|c| c[1].content.contains("\nPART "))
            .collect();
        let conclusion_part = note_calls
            .iter()
            .position(|c| c[1].content.contains("KONKLUSION"))
            .unwrap()
            + 1;
        assert!(
            conclusion_part > parts - parts / 3 + 1 && conclusion_part < parts,
            "the conclusion, part {conclusion_part} of {parts}, is in the last third, before the annex"
        );
        let asks: Vec<&str> = g.calls[g.calls.len() - 2..]
            .iter()
            .map(|c| c[3].content.as_str())
            .collect();
        // The late point comes from the last third up to the part before the conclusion.
        assert!(
            asks[0].contains(&format!(
                "Part {}, which hold the document's later sections. ",
                conclusion_part - 1
            )),
            "{}",
            asks[0]
        );
        assert!(
            asks[1].contains(&format!(
                "Part {conclusion_part}, which holds the document's conclusion"
            )),
            "{}",
            asks[1]
        );
        assert_eq!(brief.key_points.len(), 5, "{:?}", brief.key_points);
        assert!(brief.key_points[4].contains("continues after 2013"));
        assert!(brief.key_points[3].contains("number 30"));
    }

    /// Key points a follow-up gives in the tests of briefs with too few.
    const MORE_POINTS: &str =
        "- Sweden supports the proposed conclusions on integration policy. (¶2)\n\
        - The common basic principles were adopted by the Council in November 2004. (¶3)";

    /// `answer` as the brief (twice: its summary is short and asked again),
    /// then `MORE_POINTS` as the reply to the follow-up; returns the brief
    /// and the follow-up's request.
    fn brief_asked_for_points(answer: String) -> (Brief, String) {
        let mut g = ScriptedGenerator {
            brief: vec![answer.clone(), answer, MORE_POINTS.into()],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &BriefOptions::default());
        let request = g.calls.last().unwrap()[3].content.clone();
        (brief, request)
    }

    #[test]
    fn an_answer_without_key_points_is_asked_for_them() {
        let summary_only = GOOD.split("KEY POINTS:").next().unwrap().to_string();
        let (brief, request) = brief_asked_for_points(summary_only);
        assert!(request.contains("no KEY POINTS"), "{request}");
        assert_eq!(brief.key_points.len(), 2, "{:?}", brief.key_points);
        assert!(brief.key_points[1].contains("November 2004"));
    }

    #[test]
    fn an_answer_with_too_few_key_points_is_asked_for_more_and_keeps_its_own() {
        let two_points = GOOD.replace(
            "- The common basic principles were adopted by the Council in November 2004.\n",
            "",
        );
        let (brief, request) = brief_asked_for_points(two_points);
        assert!(request.contains("only 2 KEY POINTS"), "{request}");
        assert_eq!(brief.key_points.len(), 3, "{:?}", brief.key_points);
        assert!(
            brief.key_points[1].contains("Potsdam"),
            "its own points first"
        );
        assert!(brief.key_points[2].contains("November 2004"));
        assert!(brief
            .warnings
            .iter()
            .all(|w| !w.contains("key points (expected")));
    }

    #[test]
    fn an_answer_without_a_title_is_asked_for_one() {
        let echoed = GOOD.replace(
            "TITLE: Council conclusions on integration",
            "TITLE: An English title on one line",
        );
        let brief_with_title_reply = |reply: &str| {
            let mut g = ScriptedGenerator {
                // The brief (twice: its summary is short and asked again), then the title.
                brief: vec![echoed.clone(), echoed.clone(), reply.into()],
                ..Default::default()
            };
            let brief = run(&mut g, &document(SWEDISH), &BriefOptions::default());
            let request = g.calls.last().unwrap().clone();
            (brief, request)
        };
        let (brief, request) = brief_with_title_reply("Title: EU conclusions on integration.");
        assert!(
            request[3].content.contains("no English title"),
            "{request:?}"
        );
        assert_eq!(brief.title, "EU conclusions on integration");
        // A title with a fact the document lacks is not taken.
        let (brief, _) = brief_with_title_reply("The 2031 integration reform");
        assert_eq!(brief.title, "");
    }

    #[test]
    fn a_summary_reply_offers_each_prose_paragraph_and_cut_ones_end_at_a_sentence() {
        let reply = "SUMMARY: A short summary.\n\nKEY POINTS:\n- One point.\n- Another point.\n\n\
SUMMARY: A longer summary with 3.5 million people. It runs on and is cut off in the mid";
        assert_eq!(
            summary_candidates(reply, StopReason::TokenCap),
            vec![
                "A short summary.",
                "A longer summary with 3.5 million people."
            ]
        );
        assert_eq!(
            summary_candidates(reply, StopReason::EndOfTurn)[1],
            "A longer summary with 3.5 million people. It runs on and is cut off in the mid"
        );
        assert_eq!(finished_sentences("No sentence ends here"), None);
        assert_eq!(finished_sentences("Why? Because"), Some("Why?"));
    }

    #[test]
    fn an_answer_cut_by_the_token_cap_loses_its_broken_sentence() {
        let mut parsed = parse_brief_answer(
            "TITLE: T\nSUMMARY: S.\nKEY POINTS:\n- A whole point (¶2)\n\
- Moldova meets all benchmarks. Following this, the Commission proposed",
        );
        mend_cut_answer(&mut parsed);
        assert_eq!(
            parsed.key_points,
            vec!["A whole point (¶2)", "Moldova meets all benchmarks."]
        );
        let mut parsed = parse_brief_answer("KEY POINTS:\n- One point.\n- Cut in the mid");
        mend_cut_answer(&mut parsed);
        assert_eq!(parsed.key_points, vec!["One point."]);
        let mut parsed = parse_brief_answer("SUMMARY: The first sentence. The second is cu");
        mend_cut_answer(&mut parsed);
        assert_eq!(parsed.summary, "The first sentence.");
    }

    #[test]
    fn a_note_cut_off_by_the_token_cap_is_left_out() {
        let text = danish_sections(40);
        let complete = "- The government will strengthen integration in the municipalities.\n";
        let notes = format!(
            "{}- The last note goes on and on {}",
            complete.repeat(3),
            "and on ".repeat(300)
        );
        let mut g = ScriptedGenerator {
            brief: vec![GOOD.into()],
            notes: vec![notes],
            ..Default::default()
        };
        let options = BriefOptions {
            context_budget: 256,
            ..BriefOptions::default()
        };
        run(&mut g, &document(&text), &options);
        let reduce = g
            .calls
            .iter()
            .find(|c| c[1].content.contains("NOTES:"))
            .expect("a reduce prompt");
        assert!(reduce[1]
            .content
            .contains("strengthen integration in the municipalities"));
        assert!(!reduce[1].content.contains("goes on and on"));
    }

    #[test]
    fn notes_beyond_the_reduce_budget_are_condensed_by_notes_on_notes() {
        let text = danish_sections(120);
        let notes: Vec<String> = (1..=20)
            .map(|i| {
                format!(
                    "- Note {i} on the work of the government in the municipalities of Denmark."
                )
                .repeat(3)
            })
            .collect();
        let run_with = |reduce_budget: usize| {
            let mut g = ScriptedGenerator {
                brief: vec![GOOD.into()],
                notes: notes.clone(),
                ..Default::default()
            };
            let options = BriefOptions {
                context_budget: 256,
                reduce_budget,
                ..BriefOptions::default()
            };
            let brief = run(&mut g, &document(&text), &options);
            let second_round = g
                .calls
                .iter()
                .filter(|c| c[1].content.contains("written in English"))
                .count();
            (brief.generation.chunks, second_round)
        };
        let (parts, second_round) = run_with(BriefOptions::default().reduce_budget);
        assert_eq!(second_round, 0, "all notes fit one reduce prompt");
        let (condensed, second_round) = run_with(256);
        assert!(second_round >= 1, "notes were taken on the notes");
        assert_eq!(condensed, parts + second_round);
    }

    #[test]
    fn a_non_english_brief_is_asked_again_strictly_then_warned() {
        let swedish = "TITLE: Rådets slutsatser\nSUMMARY: Sverige stöder de föreslagna rådsslutsatserna om integration och samarbete mellan medlemsstaterna.\n\
            KEY POINTS:\n- Sverige stöder de föreslagna slutsatserna om integrationen.\n- Mötet hölls i Potsdam den 10-11 maj med ministrarna.\n- Principerna antogs av rådet i november 2004.";
        let mut g = ScriptedGenerator {
            brief: vec![swedish.into()],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &BriefOptions::default());
        assert!(g.calls.len() >= 2);
        assert!(g.calls[1][1].content.contains("not entirely in English"));
        assert!(
            brief.warnings.iter().any(|w| w.contains("not in English")),
            "{:?}",
            brief.warnings
        );
    }

    #[test]
    fn an_invented_fact_is_named_in_a_second_request_and_fixed() {
        let invented = GOOD.replace(
            "in November 2004",
            "in November 2019 by Minister Lars Eriksson",
        );
        let mut g = ScriptedGenerator {
            brief: vec![invented, GOOD.into()],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &BriefOptions::default());
        // The brief, its retry, then the short summary asked for again.
        assert_eq!(g.calls.len(), 3);
        let retry = &g.calls[1][1].content;
        assert!(
            retry.contains("2019") && retry.contains("Lars Eriksson"),
            "{retry}"
        );
        assert!(brief.key_points.iter().any(|p| p.contains("November 2004")));
        assert!(!brief
            .warnings
            .iter()
            .any(|w| w.contains("not found in the source")));
    }

    #[test]
    fn a_persistent_invented_fact_is_kept_with_a_warning_naming_it() {
        let invented = GOOD.replace("in November 2004", "in November 2019");
        let mut g = ScriptedGenerator {
            brief: vec![invented],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &BriefOptions::default());
        let warning = brief
            .warnings
            .iter()
            .find(|w| w.contains("not found in the source"))
            .expect("a warning");
        assert!(warning.contains("2019"), "{warning}");
    }

    #[test]
    fn a_document_without_text_is_an_error() {
        let mut doc = document(SWEDISH);
        doc.paragraphs.clear();
        let prompts = PromptSet::builtin().unwrap();
        let request = BriefRequest {
            id: "d".into(),
            document: &doc,
            model: ModelInfo::default(),
            load_seconds: 0.0,
        };
        let mut g = ScriptedGenerator::default();
        let err = brief_document(
            &mut g,
            &prompts,
            &request,
            &BriefOptions::default(),
            &mut |_| {},
        );
        assert!(matches!(err, Err(PipelineError::EmptyDocument { .. })));
        assert!(g.calls.is_empty());
    }
}
