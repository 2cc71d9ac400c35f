//! Briefs read through English. A small model summarises English far better
//! than it summarises Danish, and keeps most of a text's meaning when asked
//! only to translate it; so the document's paragraphs (all of a short one,
//! a choice within a budget of a long one) are translated first, with the
//! domain's terms, and the brief is written from the English.
//!
//! Key points are grounded by construction: each point's ¶ ids are those of
//! the English sentences its content came from (nearest in meaning, or by
//! shared words without the embedding model), not the ids the model wrote;
//! a point that no translated sentence supports is left out. The
//! faithfulness checker then reads every sentence against the source: a
//! finding asks the model again once, naming it; what still fails is
//! dropped (a key point, a summary sentence) or warned about, never hidden.

use std::collections::HashSet;
use std::ops::RangeInclusive;
use std::time::Instant;

use minijinja::context;

use super::answer::{dedupe_points, is_remark_on_the_brief, parse_brief_answer, ParsedBrief};
use super::ask::Asker;
use super::checks::{foreign_language_warning, is_english, require_text};
use super::ground::split_citations;
use super::options::{BriefOptions, BriefRequest, PipelineError, PipelineEvent, Stage};
use super::options::{KEY_POINTS, SUMMARY_WORDS};
use super::reduce::mend_cut_answer;
use super::select::choose_paragraphs;
use super::translate::{translate_paragraphs, translate_stage, TranslateOptions};
use crate::brief::{Brief, Flag, GenerationInfo, KeyPointSources, LanguageLabel, SourceRef};
use crate::brief::{TranslatedParagraph, SCHEMA_VERSION};
use crate::check::{paragraph_vectors, Checker, FindingKind, SentenceCheck};
use crate::generate::{Generator, StopReason};
use crate::ingest::{split_sentences, Document, ParagraphKind};
use crate::model::{cosine, ChatMessage, Embed, EmbedKind};
use crate::prompts::PromptSet;

/// A key point is built from the translated sentences at least this close
/// to it (e5 cosine of an English query and English passages).
pub const BUILT_FROM_SIMILARITY: f32 = 0.83;
/// Sentences within this of the nearest also count as a point's sources.
const SOURCE_MARGIN: f32 = 0.02;
/// Paragraphs cited for one point at most.
const SOURCES_PER_POINT: usize = 2;
/// Without the embedding model: the share of a point's content words a
/// translated sentence must hold.
const BUILT_FROM_WORD_SHARE: f64 = 0.5;
/// Two points this close in meaning say the same thing.
const SAME_POINT_SIMILARITY: f32 = 0.95;
/// Findings that make a sentence wrong rather than doubtful: it is asked
/// again, then dropped.
const FAULTS: [FindingKind; 4] = [
    FindingKind::Entity,
    FindingKind::Number,
    FindingKind::Untranslated,
    FindingKind::Contradiction,
];

/// One translated sentence a point can be built from.
struct EnglishSentence {
    paragraph: usize,
    /// Its place among its paragraph's sentences.
    position: usize,
    text: String,
}

/// Where each key point's content came from.
struct Origins<'a> {
    sentences: Vec<EnglishSentence>,
    vectors: Option<(Vec<Vec<f32>>, &'a dyn Embed)>,
}

impl<'a> Origins<'a> {
    fn new(paragraphs: &[TranslatedParagraph], embedder: Option<&'a dyn Embed>) -> Self {
        let sentences: Vec<EnglishSentence> = paragraphs
            .iter()
            .filter(|p| p.kind != ParagraphKind::Heading && is_readable(p))
            .flat_map(|p| {
                split_sentences(&p.english)
                    .into_iter()
                    .enumerate()
                    .map(|(position, text)| EnglishSentence {
                        paragraph: p.id,
                        position,
                        text,
                    })
            })
            .collect();
        let vectors = embedder.and_then(|e| {
            let texts: Vec<&str> = sentences.iter().map(|s| s.text.as_str()).collect();
            match e.embed(&texts, EmbedKind::Passage) {
                Ok(v) => Some((v, e)),
                Err(err) => {
                    tracing::warn!("embedding the translation failed, grounding by words: {err}");
                    None
                }
            }
        });
        Self { sentences, vectors }
    }

    /// The sentences `point` was built from, nearest first, and the point's
    /// vector (with the embedding model).
    fn of(&self, point: &str) -> (Vec<usize>, Option<Vec<f32>>) {
        if let Some((vectors, embedder)) = &self.vectors {
            if let Ok(mut v) = embedder.embed(&[point], EmbedKind::Query) {
                let v = v.remove(0);
                let mut order: Vec<(usize, f32)> = vectors
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (i, cosine(&v, s)))
                    .collect();
                order.sort_by(|a, b| b.1.total_cmp(&a.1));
                let best = order.first().map_or(0.0, |o| o.1);
                let from = order
                    .iter()
                    .take_while(|(_, s)| *s >= BUILT_FROM_SIMILARITY && *s >= best - SOURCE_MARGIN)
                    .map(|(i, _)| *i)
                    .collect();
                return (from, Some(v));
            }
        }
        let words = content_words(point);
        let mut scored: Vec<(usize, f64)> = self
            .sentences
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let have = content_words(&s.text);
                let shared = words.intersection(&have).count();
                (i, shared as f64 / words.len().max(1) as f64)
            })
            .filter(|(_, share)| *share >= BUILT_FROM_WORD_SHARE)
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        (
            scored
                .into_iter()
                .take(SOURCES_PER_POINT)
                .map(|(i, _)| i)
                .collect(),
            None,
        )
    }
}

impl Origins<'_> {
    /// Sentences in the order a brief would take them: closest to the
    /// translation's centre first, each next the one that adds most beside
    /// `kept` (vectors of points already taken); without the embedding
    /// model, spread evenly over the text.
    fn central_sentences(&self, kept: &[Vec<f32>]) -> Vec<usize> {
        let n = self.sentences.len();
        let Some((vectors, _)) = &self.vectors else {
            let step = (n / 8).max(1);
            let mut order: Vec<usize> = (0..n).step_by(step).collect();
            order.extend((0..n).filter(|i| i % step != 0));
            return order;
        };
        let dims = vectors.first().map_or(0, Vec::len);
        let mut centre = vec![0.0f32; dims];
        for v in vectors {
            for (c, x) in centre.iter_mut().zip(v) {
                *c += x;
            }
        }
        let mut taken: Vec<Vec<f32>> = kept.to_vec();
        let mut order = Vec::new();
        let mut left: Vec<usize> = (0..n).collect();
        while !left.is_empty() {
            let (at, _) = left
                .iter()
                .enumerate()
                .map(|(at, &i)| {
                    let redundancy = taken
                        .iter()
                        .map(|t| cosine(t, &vectors[i]))
                        .fold(0.0f32, f32::max);
                    (at, cosine(&centre, &vectors[i]) - 0.6 * redundancy)
                })
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .expect("sentences left");
            let i = left.remove(at);
            taken.push(vectors[i].clone());
            order.push(i);
        }
        order
    }
}

fn content_words(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4 || w.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .collect()
}

/// Whether a translated paragraph can be read as English.
fn is_readable(p: &TranslatedParagraph) -> bool {
    !p.english.trim().is_empty()
        && !p
            .flags
            .iter()
            .any(|f| matches!(f, Flag::Empty | Flag::NotEnglish | Flag::Echo))
}

/// The English of the document's first heading that reads as a title and
/// passes the check: a faithful title when the model's own is missing or
/// faulty.
fn heading_title(translated: &[TranslatedParagraph], reviewer: &mut Reviewer) -> Option<String> {
    translated
        .iter()
        .filter(|p| p.kind == ParagraphKind::Heading && is_readable(p))
        .map(|p| {
            p.english
                .trim()
                .trim_end_matches(['.', ':'])
                .trim()
                .to_string()
        })
        .filter(|t| (2..=16).contains(&t.split_whitespace().count()) && is_english(t))
        .find(|t| !has_fault(&reviewer.check(t)))
}

/// The summary's length and the number of key points a text of `words`
/// English words in `sentences` sentences can fill: a short text gets a
/// short brief, never one padded past it.
fn brief_shape(words: usize, sentences: usize) -> (RangeInclusive<usize>, RangeInclusive<usize>) {
    let most_words = (words * 2 / 5).clamp(20, *SUMMARY_WORDS.end());
    let least_words = (*SUMMARY_WORDS.start()).min(most_words / 2);
    let most_points = sentences.clamp(1, *KEY_POINTS.end());
    let least_points = (*KEY_POINTS.start()).min(most_points);
    (least_words..=most_words, least_points..=most_points)
}

fn range_words(range: &RangeInclusive<usize>) -> String {
    format!("{} to {}", range.start(), range.end())
}

/// Names a brief may use that its source need not: the document's language
/// and its country.
fn allowed_names(language: crate::ingest::Language) -> Vec<String> {
    use crate::ingest::Language;
    let names: &[&str] = match language {
        Language::Swedish => &["swedish", "sweden"],
        Language::Danish => &["danish", "denmark"],
        Language::Bokmal | Language::Nynorsk => &["norwegian", "norway"],
        _ => &[],
    };
    names.iter().map(|n| n.to_string()).collect()
}

/// The translation as the brief prompt shows it: numbered paragraphs, a
/// gap marked where paragraphs were left out.
fn numbered_translation(doc: &Document, paragraphs: &[TranslatedParagraph]) -> String {
    let mut out = Vec::new();
    let mut last: Option<usize> = None;
    for p in paragraphs.iter().filter(|p| is_readable(p)) {
        let index = doc.paragraphs.iter().position(|d| d.id == p.id);
        if let (Some(i), Some(l)) = (index, last) {
            if i > l + 1 {
                out.push("[...]".to_string());
            }
        }
        last = index.or(last);
        out.push(format!("[¶{}] {}", p.id, p.english));
    }
    out.join("\n\n")
}

/// A checked brief: every point with its sources and findings.
struct Review {
    title: String,
    summary: Vec<SentenceCheck>,
    points: Vec<ReviewedPoint>,
}

struct ReviewedPoint {
    text: String,
    sources: Vec<SourceRef>,
    check: SentenceCheck,
    vector: Option<Vec<f32>>,
}

impl Review {
    /// What the model is told to mend: faults, and points nothing supports.
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let sentences = self
            .summary
            .iter()
            .chain(self.points.iter().map(|p| &p.check));
        for check in sentences {
            for f in check.findings.iter().filter(|f| FAULTS.contains(&f.kind)) {
                out.push(format!("in \"{}\": {}", check.sentence, f.detail));
            }
        }
        for p in self.points.iter().filter(|p| p.sources.is_empty()) {
            out.push(format!(
                "the key point \"{}\" is not in the translation",
                p.text
            ));
        }
        if self.summary.is_empty() {
            out.push("there is no SUMMARY".into());
        }
        if self.points.is_empty() {
            out.push("there are no KEY POINTS".into());
        }
        out
    }

    fn faults(&self) -> usize {
        self.problems().len()
    }

    /// Sentences that would stand in the brief: summary sentences and
    /// supported key points without a fault.
    fn usable(&self) -> usize {
        self.summary.iter().filter(|c| !has_fault(c)).count()
            + self
                .points
                .iter()
                .filter(|p| !p.sources.is_empty() && !has_fault(&p.check))
                .count()
    }

    /// Whether `self` is a better brief than `other`: more that stands,
    /// then fewer faults.
    fn better_than(&self, other: &Review) -> bool {
        (self.usable(), std::cmp::Reverse(self.faults()))
            > (other.usable(), std::cmp::Reverse(other.faults()))
    }
}

/// A point or title without the translation's marks of left-out
/// paragraphs, which the model may copy.
fn without_gap_marks(point: &str) -> String {
    point
        .replace("[...]", " ")
        .replace("[…]", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A sentence starting with a capital letter, as a point the model began
/// in lower case should.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn has_fault(check: &SentenceCheck) -> bool {
    check.findings.iter().any(|f| FAULTS.contains(&f.kind))
}

/// Capitalised words of `sentence` (past its first word) that neither the
/// translation nor the source has, run together into phrases: a name the
/// brief brought in ("North Sea" where the translation says "southern
/// Mediterranean"). `known`: lower-cased text the names may come from.
fn names_brought_in(sentence: &str, known: &[&str], allowed: &[String]) -> Vec<String> {
    let mut phrases: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let words: Vec<&str> = sentence.split_whitespace().collect();
    // In Title Case a capital marks a heading, not a name: there only words
    // that are not ordinary English count.
    let long: Vec<&&str> = words.iter().filter(|w| w.chars().count() >= 4).collect();
    let capitalised = long
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .count();
    let title_case = long.len() >= 3 && capitalised * 5 >= long.len() * 4;
    let dictionary = crate::check::english_words();
    for (i, raw) in words.iter().enumerate() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let base = word.trim_end_matches("'s").trim_end_matches("’s");
        let after_stop = i > 0 && words[i - 1].ends_with(['.', ':', '?', '!']);
        let lower = base.to_lowercase();
        let brought_in = i > 0
            && !after_stop
            && base.chars().count() >= 2
            && base.chars().next().is_some_and(char::is_uppercase)
            && !allowed.contains(&lower)
            && !(title_case && dictionary.contains(&lower))
            && !known
                .iter()
                .any(|k| crate::text::starts_a_word(k, &name_stem(&lower)));
        if brought_in {
            current.push(base);
        } else if !current.is_empty() {
            phrases.push(current.join(" "));
            current.clear();
        }
        // Punctuation ends a phrase.
        if word.len() < raw.len() && !current.is_empty() && !raw.ends_with("'s") {
            phrases.push(current.join(" "));
            current.clear();
        }
    }
    if !current.is_empty() {
        phrases.push(current.join(" "));
    }
    phrases
}

/// What a name shares with its forms in other languages and inflections:
/// its first five letters (*europeiska* for "European"), or all of a short one.
fn name_stem(lower: &str) -> String {
    let n = lower.chars().count();
    lower.chars().take(if n <= 4 { n } else { 5 }).collect()
}

struct Reviewer<'a> {
    doc: &'a Document,
    checker: Checker<'a>,
    origins: Origins<'a>,
    /// The translation and the source, lower-cased, where names may come from.
    translation: String,
    source: String,
    /// Names of the document's language and country, which a brief may add.
    allowed: Vec<String>,
    warnings: Vec<String>,
}

impl Reviewer<'_> {
    fn check(&mut self, sentence: &str) -> SentenceCheck {
        let mut check = self.check_against_source(sentence);
        for name in names_brought_in(sentence, &[&self.translation, &self.source], &self.allowed) {
            check.findings.push(crate::check::Finding {
                kind: FindingKind::Entity,
                detail: format!("neither the translation nor the source names {name}"),
                words: name,
            });
            check.supported = false;
        }
        check
    }

    fn check_against_source(&mut self, sentence: &str) -> SentenceCheck {
        match self.checker.check(sentence) {
            Ok(c) => c,
            Err(e) => {
                self.warnings.push(format!(
                    "a sentence was checked without the embedding model ({e})"
                ));
                SentenceCheck {
                    sentence: sentence.to_string(),
                    supported: true,
                    paragraphs: Vec::new(),
                    quote: None,
                    similarity: None,
                    findings: Vec::new(),
                }
            }
        }
    }

    /// The source sentence an English sentence translates: the one at the
    /// same place when the paragraph has as many, else the paragraph's first.
    fn quote(&self, english: &EnglishSentence) -> String {
        let Some(p) = self
            .doc
            .paragraphs
            .iter()
            .find(|p| p.id == english.paragraph)
        else {
            return String::new();
        };
        let count = self
            .origins
            .sentences
            .iter()
            .filter(|s| s.paragraph == english.paragraph)
            .count();
        let at = if count == p.sentences.len() {
            english.position
        } else {
            0
        };
        p.sentences
            .get(at)
            .cloned()
            .unwrap_or_else(|| p.text.clone())
    }

    fn review(&mut self, parsed: &ParsedBrief) -> Review {
        let summary_text = split_citations(&parsed.summary).0;
        let summary = split_sentences(&summary_text)
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| self.check(&s))
            .collect();
        let texts = dedupe_points(
            parsed
                .key_points
                .iter()
                .map(|p| without_gap_marks(&split_citations(p).0))
                .filter(|t| !t.is_empty() && !is_remark_on_the_brief(t))
                .collect(),
        );
        let mut points = Vec::new();
        for text in texts {
            let (from, vector) = self.origins.of(&text);
            let mut sources: Vec<SourceRef> = Vec::new();
            for &i in &from {
                let sentence = &self.origins.sentences[i];
                if sources.len() < SOURCES_PER_POINT
                    && !sources.iter().any(|s| s.paragraph == sentence.paragraph)
                {
                    sources.push(SourceRef {
                        paragraph: sentence.paragraph,
                        quote: self.quote(sentence),
                    });
                }
            }
            let check = self.check(&text);
            points.push(ReviewedPoint {
                text,
                sources,
                check,
                vector,
            });
        }
        Review {
            title: without_gap_marks(&split_citations(&parsed.title).0),
            summary,
            points,
        }
    }
}

/// The brief written from the translation: the conversation it was asked
/// in, and the answer read.
struct Written {
    messages: Vec<ChatMessage>,
    answer: String,
    parsed: ParsedBrief,
}

/// Ask for the brief; with `earlier`, in the same conversation again,
/// naming `problems` (the prompt before it is read from the model's cache).
#[allow(clippy::too_many_arguments)]
fn write_brief(
    asker: &mut Asker,
    prompts: &PromptSet,
    language: &str,
    translation: &str,
    partial: bool,
    shape: &(RangeInclusive<usize>, RangeInclusive<usize>),
    earlier: Option<(&Written, &[String])>,
    max_new_tokens: usize,
) -> Result<Written, PipelineError> {
    let messages = match earlier {
        Some((written, problems)) => {
            let mut m = written.messages.clone();
            m.push(ChatMessage::assistant(&written.answer));
            m.push(ChatMessage::user(
                &prompts.render("brief_again.user", context! { problems })?,
            ));
            m
        }
        None => {
            let system = prompts.render("brief.system", context! {})?;
            let user = prompts.render(
                "brief_english.user",
                context! {
                    language,
                    partial,
                    summary_words => range_words(&shape.0),
                    key_points => range_words(&shape.1),
                    document => translation,
                },
            )?;
            vec![ChatMessage::system(&system), ChatMessage::user(&user)]
        }
    };
    let generation = asker.ask(&messages, max_new_tokens)?;
    let mut parsed = parse_brief_answer(&generation.text);
    if generation.stop == StopReason::TokenCap {
        mend_cut_answer(&mut parsed);
    }
    Ok(Written {
        messages,
        answer: generation.text,
        parsed,
    })
}

/// Brief one document read through English.
pub(super) fn brief_through_english(
    generator: &mut dyn Generator,
    prompts: &PromptSet,
    request: &BriefRequest,
    options: &BriefOptions,
    on_event: &mut dyn FnMut(PipelineEvent),
) -> Result<Brief, PipelineError> {
    let start = Instant::now();
    let doc = request.document;
    require_text(doc)?;
    let language = doc.language.language.english_name().to_string();
    let mut warnings: Vec<String> = foreign_language_warning(doc, "brief").into_iter().collect();
    // What to translate.
    let tokens: Vec<usize> = doc
        .paragraphs
        .iter()
        .map(|p| generator.count_tokens(&p.text))
        .collect();
    let vectors = request
        .embedder
        .and_then(|e| match paragraph_vectors(doc, e) {
            Ok(v) => Some(v),
            Err(err) => {
                warnings.push(format!(
                    "paragraphs chosen by position only: the embedding model failed ({err})"
                ));
                None
            }
        });
    let chosen = choose_paragraphs(doc, &tokens, vectors.as_deref(), options.translate_budget);
    let with_text = doc
        .paragraphs
        .iter()
        .filter(|p| !p.text.trim().is_empty())
        .count();
    let partial = chosen.len() < with_text;
    let part = Document {
        paragraphs: chosen.iter().map(|&i| doc.paragraphs[i].clone()).collect(),
        ..doc.clone()
    };
    let translate_options = TranslateOptions {
        parallel: options.parallel,
        settings: crate::generate::GenerationSettings {
            max_new_tokens: TranslateOptions::default().settings.max_new_tokens,
            ..options.settings.clone()
        },
        ..TranslateOptions::default()
    };
    let mut asker = Asker::new(generator, &options.settings, on_event, translate_stage());
    let (translated, _glossary) =
        translate_paragraphs(&mut asker, prompts, &part, &translate_options)?;
    let unreadable = translated.iter().filter(|p| !is_readable(p)).count();
    if unreadable > 0 {
        warnings.push(format!(
            "{unreadable} translated paragraph(s) were not usable English and were left out of the brief"
        ));
    }
    let translation = numbered_translation(doc, &translated);
    let english_words = translated
        .iter()
        .filter(|p| is_readable(p) && p.kind != ParagraphKind::Heading)
        .map(|p| p.english.split_whitespace().count())
        .sum();
    let mut reviewer = Reviewer {
        doc,
        checker: match request.embedder {
            Some(e) => Checker::with_embedder(doc, e).unwrap_or_else(|err| {
                warnings.push(format!(
                    "the brief was checked without the embedding model ({err})"
                ));
                Checker::new(doc)
            }),
            None => Checker::new(doc),
        },
        origins: Origins::new(&translated, request.embedder),
        translation: translation.to_lowercase(),
        source: doc.body_text().to_lowercase(),
        allowed: allowed_names(doc.language.language),
        warnings: Vec::new(),
    };
    let shape = brief_shape(english_words, reviewer.origins.sentences.len());
    // The brief, checked; asked again once when the check finds faults.
    asker.enter(Stage::Brief { attempt: 1 });
    let cap = options.settings.max_new_tokens;
    let first = write_brief(
        &mut asker,
        prompts,
        &language,
        &translation,
        partial,
        &shape,
        None,
        cap,
    )?;
    let mut review = reviewer.review(&first.parsed);
    let problems = review.problems();
    if !problems.is_empty() {
        asker.enter(Stage::Brief { attempt: 2 });
        let again = write_brief(
            &mut asker,
            prompts,
            &language,
            &translation,
            partial,
            &shape,
            Some((&first, &problems)),
            cap,
        )?;
        let second = reviewer.review(&again.parsed);
        if second.better_than(&review) {
            review = second;
        }
    }
    warnings.append(&mut reviewer.warnings);
    // What still fails is dropped, and said.
    let mut summary = Vec::new();
    for check in &review.summary {
        let faults: Vec<String> = check
            .findings
            .iter()
            .map(|f| format!("{}: {}", f.kind.name(), f.detail))
            .collect();
        if has_fault(check) {
            warnings.push(format!(
                "a summary sentence was left out ({}): \"{}\"",
                faults.join("; "),
                check.sentence
            ));
        } else {
            if !faults.is_empty() {
                warnings.push(format!(
                    "check the summary sentence \"{}\": {}",
                    check.sentence,
                    faults.join("; ")
                ));
            }
            summary.push(check.sentence.clone());
        }
    }
    let mut key_points: Vec<String> = Vec::new();
    let mut key_point_sources = Vec::new();
    let mut kept_vectors: Vec<Vec<f32>> = Vec::new();
    for point in review.points {
        let faults: Vec<String> = point
            .check
            .findings
            .iter()
            .map(|f| format!("{}: {}", f.kind.name(), f.detail))
            .collect();
        if point.sources.is_empty() {
            warnings.push(format!(
                "a key point no translated sentence supports was left out: \"{}\"",
                point.text
            ));
            continue;
        }
        if has_fault(&point.check) {
            warnings.push(format!(
                "a key point was left out ({}): \"{}\"",
                faults.join("; "),
                point.text
            ));
            continue;
        }
        if !is_english(&point.text) {
            warnings.push(format!(
                "a key point not in English was left out: \"{}\"",
                point.text
            ));
            continue;
        }
        if let Some(v) = &point.vector {
            if kept_vectors
                .iter()
                .any(|k| cosine(k, v) >= SAME_POINT_SIMILARITY)
            {
                continue;
            }
            kept_vectors.push(v.clone());
        }
        if !faults.is_empty() {
            warnings.push(format!(
                "check the key point \"{}\": {}",
                point.text,
                faults.join("; ")
            ));
        }
        key_points.push(capitalised(&point.text));
        key_point_sources.push(KeyPointSources {
            sources: point.sources,
            grounded: true,
            ..KeyPointSources::default()
        });
    }
    key_points.truncate(*KEY_POINTS.end());
    key_point_sources.truncate(*KEY_POINTS.end());
    // Too few points: sentences of the translation itself stand in, the
    // most central ones not yet covered, each checked like a point.
    let wanted = shape.1.start().saturating_sub(key_points.len());
    if wanted > 0 {
        let mut added = 0;
        for i in reviewer.origins.central_sentences(&kept_vectors) {
            if added == wanted {
                break;
            }
            let sentence = &reviewer.origins.sentences[i];
            let text = sentence.text.clone();
            let words = text.split_whitespace().count();
            let cited = key_point_sources
                .iter()
                .any(|s| s.sources.iter().any(|r| r.paragraph == sentence.paragraph));
            if !(8..=45).contains(&words)
                || cited
                || !is_english(&text)
                || key_points.contains(&text)
            {
                continue;
            }
            let quote = reviewer.quote(sentence);
            let paragraph = sentence.paragraph;
            if has_fault(&reviewer.check(&text)) {
                continue;
            }
            key_points.push(capitalised(&text));
            key_point_sources.push(KeyPointSources {
                sources: vec![SourceRef { paragraph, quote }],
                grounded: true,
                ..KeyPointSources::default()
            });
            added += 1;
        }
        if added > 0 {
            warnings.push(format!(
                "{added} key point(s) are sentences of the translation: the model gave too few"
            ));
        }
    }
    if key_points.len() < *shape.1.start() {
        warnings.push(format!(
            "only {} key points (expected at least {})",
            key_points.len(),
            shape.1.start()
        ));
    }
    let summary = summary.join(" ");
    let summary_words = summary.split_whitespace().count();
    if summary_words < *shape.0.start() {
        warnings.push(format!(
            "the summary has {summary_words} words (expected {}–{})",
            shape.0.start(),
            shape.0.end()
        ));
    }
    let mut title = review.title;
    if title.is_empty() || !is_english(&title) {
        warnings.push("the model gave no title in English".into());
        title.clear();
    } else {
        let check = reviewer.check(&title);
        if has_fault(&check) {
            warnings.push(format!(
                "the title was left out ({}): \"{title}\"",
                check
                    .findings
                    .iter()
                    .map(|f| f.detail.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
            title.clear();
        }
    }
    if title.is_empty() {
        if let Some(heading) = heading_title(&translated, &mut reviewer) {
            warnings.push(format!(
                "the title is the document's own first heading in English: \"{heading}\""
            ));
            title = heading;
        }
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
        title,
        summary,
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
            chunks: 1,
            parallel: options.parallel,
            method: options.method,
            translated_paragraphs: translated.len(),
        },
        timings: asker.timings(request.load_seconds, start.elapsed().as_secs_f64()),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::{BriefMethod, ModelInfo};
    use crate::generate::ScriptedGenerator;

    const SWEDISH: &str = "Rådets möte den 12-13 juni\n\nSverige stöder de föreslagna rådsslutsatserna om integration. \
        Vid ett informellt möte i Potsdam den 10-11 maj diskuterade EU:s integrationsministrar samarbetet.\n\n\
        Utgångspunkten är de gemensamma grundläggande principerna som rådet antog i november 2004.";

    const TRANSLATION: &str = "[1] The Council meeting on 12-13 June\n\
        [2] Sweden supports the proposed Council conclusions on integration. At an informal meeting in Potsdam on 10-11 May, the EU integration ministers discussed cooperation.\n\
        [3] The starting point is the common basic principles that the Council adopted in November 2004.";

    fn brief_with(answers: &[&str]) -> (ScriptedGenerator, Brief) {
        let doc = crate::ingest::ingest_bytes("doc.txt", SWEDISH.as_bytes()).unwrap();
        let mut g = ScriptedGenerator {
            translations: vec![TRANSLATION.into()],
            brief: answers.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        };
        let prompts = PromptSet::builtin().unwrap();
        let request = BriefRequest {
            id: "doc".into(),
            document: &doc,
            model: ModelInfo::default(),
            load_seconds: 0.0,
            embedder: None,
        };
        let brief = brief_through_english(
            &mut g,
            &prompts,
            &request,
            &BriefOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        (g, brief)
    }

    const GOOD: &str = "TITLE: Council conclusions on integration\n\
        SUMMARY: Sweden supports the proposed Council conclusions on integration. The EU integration ministers discussed cooperation in Potsdam on 10-11 May.\n\
        KEY POINTS:\n- Sweden supports the proposed Council conclusions on integration. (¶9)\n\
        - The Council adopted the common basic principles in November 2004. (¶3)\n";

    #[test]
    fn the_brief_is_written_from_the_translation_and_cites_where_points_came_from() {
        let (g, brief) = brief_with(&[GOOD]);
        // One translation, one brief: nothing to mend.
        assert_eq!(g.calls.len(), 2, "{:?}", brief.warnings);
        let prompt = &g.calls[1][1].content;
        assert!(
            prompt.contains("TRANSLATION:\n[¶1] The Council meeting"),
            "{prompt}"
        );
        assert!(prompt.contains("[¶3] The starting point"));
        assert!(
            !prompt.contains("Utgångspunkten"),
            "the brief reads English only"
        );
        assert_eq!(brief.key_points.len(), 2);
        // ¶9 was the model's claim; the point's content came from ¶2.
        assert_eq!(brief.key_point_sources[0].sources[0].paragraph, 2);
        assert!(brief.key_point_sources[0].sources[0]
            .quote
            .starts_with("Sverige stöder"));
        assert_eq!(brief.key_point_sources[1].sources[0].paragraph, 3);
        assert_eq!(brief.generation.method, BriefMethod::ThroughEnglish);
        assert_eq!(brief.generation.translated_paragraphs, 3);
        let stages: Vec<&str> = brief
            .timings
            .stages
            .iter()
            .map(|s| s.stage.as_str())
            .collect();
        assert_eq!(stages, ["translate", "brief"]);
    }

    #[test]
    fn a_short_document_gets_a_short_brief() {
        let (g, brief) = brief_with(&[GOOD]);
        let prompt = &g.calls[1][1].content;
        // About 40 English words: no summary of 80 words is asked for.
        assert!(
            prompt.contains("SUMMARY: one paragraph of 10 to 20 words"),
            "{prompt}"
        );
        assert!(prompt.contains("KEY POINTS: 3 to 3 lines"), "{prompt}");
        assert!(
            brief.warnings.iter().all(|w| !w.contains("summary has")),
            "{:?}",
            brief.warnings
        );
    }

    #[test]
    fn a_fault_is_named_in_a_second_request_and_what_still_fails_is_dropped() {
        let invented = GOOD.replace(
            "in November 2004. (¶3)",
            "in November 2004. (¶3)\n- The ministers met again in Oslo in 2019. (¶2)",
        );
        let (g, brief) = brief_with(&[&invented]);
        assert_eq!(g.calls.len(), 3);
        // Asked in the same conversation, after the first answer.
        assert_eq!(g.calls[2][..2], g.calls[1][..]);
        assert_eq!(g.calls[2][2].role, "assistant");
        let again = &g.calls[2][3].content;
        assert!(again.contains("Your brief has these faults"), "{again}");
        assert!(again.contains("2019"), "{again}");
        assert_eq!(brief.key_points.len(), 2, "{:?}", brief.key_points);
        assert!(brief.key_points.iter().all(|p| !p.contains("Oslo")));
        assert!(
            brief
                .warnings
                .iter()
                .any(|w| w.contains("left out") && w.contains("2019")),
            "{:?}",
            brief.warnings
        );
        // Mended on the second request: nothing dropped.
        let (_, brief) = brief_with(&[&invented, GOOD]);
        assert!(
            brief.warnings.iter().all(|w| !w.contains("left out")),
            "{:?}",
            brief.warnings
        );
        assert_eq!(brief.key_points.len(), 2);
    }

    #[test]
    fn a_faulty_title_gives_way_to_the_documents_own_heading() {
        let invented = GOOD.replace(
            "TITLE: Council conclusions on integration",
            "TITLE: The Oslo Council conclusions of 2019",
        );
        let (_, brief) = brief_with(&[&invented, &invented]);
        assert_eq!(brief.title, "The Council meeting on 12-13 June");
        assert!(
            brief
                .warnings
                .iter()
                .any(|w| w.contains("title was left out") && w.contains("2019")),
            "{:?}",
            brief.warnings
        );
        assert!(brief
            .warnings
            .iter()
            .any(|w| w.contains("own first heading")));
        // A gap mark copied as the title is no title.
        let gap = GOOD.replace("TITLE: Council conclusions on integration", "TITLE: [...]");
        let (_, brief) = brief_with(&[&gap, &gap]);
        assert_eq!(brief.title, "The Council meeting on 12-13 June");
        // A good title is kept.
        let (_, brief) = brief_with(&[GOOD]);
        assert_eq!(brief.title, "Council conclusions on integration");
    }

    #[test]
    fn a_name_neither_the_translation_nor_the_source_has_is_found() {
        let known = [
            "the countries of the southern mediterranean and the eu.",
            "middelhavet",
        ];
        let allowed = allowed_names(crate::ingest::Language::Danish);
        assert_eq!(
            names_brought_in(
                "Ties grew with the North Sea region, the EU and Danish partners.",
                &known,
                &allowed
            ),
            ["North Sea"]
        );
        assert!(names_brought_in("Ties with the Mediterranean grew.", &known, &allowed).is_empty());
        // A heading in Title Case: its ordinary words are no names.
        assert!(names_brought_in(
            "Denmark's New Approach to the Southern Mediterranean",
            &known,
            &allowed
        )
        .is_empty());
        // The price: a place of ordinary words in a Title Case heading is
        // left to the checker's list of bodies and places.
        assert!(names_brought_in(
            "Ties With the North Sea Region Grew Again",
            &known,
            &allowed
        )
        .is_empty());
        // After a full stop a capital is a sentence's start.
        assert!(names_brought_in("It grew. Ties grew.", &known, &allowed).is_empty());
    }

    #[test]
    fn brief_shape_follows_the_length_of_the_text() {
        assert_eq!(brief_shape(5000, 200), (80..=160, 3..=8));
        assert_eq!(brief_shape(40, 3), (10..=20, 3..=3));
        assert_eq!(brief_shape(20, 1), (10..=20, 1..=1));
    }
}
