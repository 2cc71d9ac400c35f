//! From a cleaned document to a full English translation that keeps its
//! structure and its facts: every paragraph in order, headings and list
//! items as such, each English paragraph aligned with its source ¶ id.
//!
//! Paragraphs are sent in small numbered groups within a token budget and
//! the answer is read back by number; a group whose answer merges, drops or
//! cuts paragraphs is asked again one paragraph at a time. Long paragraphs
//! are split at sentence ends. Each prompt carries the previous paragraph's
//! translation and a per-document glossary, so terms stay consistent. Every
//! translated paragraph is checked against its source (numbers lost,
//! changed or added, English, token cap), asked again once when it fails,
//! and flagged when it still does: nothing is dropped or cut silently.

mod checks;
mod glossary;
mod groups;

use minijinja::context;
use serde::Serialize;
use std::time::Instant;

use crate::brief::GlossaryEntry;
use crate::terminology::{missing_terms, terms_in};
use checks::{badness, check_translation, last_words, mark_echo, merge_flag, CONTEXT_WORDS};
use glossary::{Glossary, GLOSSARY_LIMIT};
use groups::{
    answer_cap, group_parts, parse_numbered, split_paragraph, Part, PartResult, SourceParagraph,
};

use super::ask::Asker;
use super::checks::{foreign_language_warning, require_text};
use super::options::{PipelineError, PipelineEvent, Stage};
use crate::brief::{Flag, TranslatedParagraph, Translation};
use crate::brief::{LanguageLabel, ModelInfo};
use crate::generate::{Generation, GenerationSettings, Generator, StopReason};
use crate::ingest::{Document, Language};
use crate::model::ChatMessage;
use crate::prompts::PromptSet;

#[derive(Debug, Clone, Serialize)]
pub struct TranslateOptions {
    /// Most source tokens sent in one prompt.
    pub group_budget: usize,
    /// Most paragraphs sent in one prompt: a small model keeps count of a
    /// few numbered paragraphs, not of many.
    pub group_paragraphs: usize,
    /// A paragraph longer than this many tokens is split at sentence ends.
    pub part_budget: usize,
    /// `max_new_tokens` caps any one answer; answers are also capped by the
    /// length of what they translate.
    pub settings: GenerationSettings,
    /// Groups asked together: each step of decode reads the weights once
    /// for all of them. Only the first group of each set follows the
    /// English just written; the others carry their terms and glossary.
    pub parallel: usize,
}

impl Default for TranslateOptions {
    fn default() -> Self {
        Self {
            group_budget: 320,
            group_paragraphs: 6,
            part_budget: 240,
            settings: GenerationSettings {
                max_new_tokens: 1024,
                ..GenerationSettings::default()
            },
            parallel: 4,
        }
    }
}

struct Translator<'t, 'a> {
    model: &'t mut Asker<'a>,
    prompts: &'t PromptSet,
    options: &'t TranslateOptions,
    language: String,
    source_language: Language,
    glossary: Glossary,
    /// Groups in a row whose answer could not be read back by number.
    failed_groups: usize,
}

/// The stage every translation call is counted under: its name does not
/// depend on the paragraph.
pub(in crate::pipeline) fn translate_stage() -> Stage {
    Stage::Translate {
        paragraph: 0,
        paragraphs: 0,
    }
}

/// After this many unreadable group answers in a row the model evidently
/// cannot keep numbered paragraphs apart, and asking it in groups only
/// doubles the work: the rest of the document goes one paragraph at a time.
const GROUP_FAILURES_TO_GIVE_UP: usize = 2;

/// One request: parts to translate together, the English just before them
/// (may be empty) and the faults of an earlier answer (asking again).
struct Ask<'p> {
    parts: Vec<&'p Part>,
    previous: String,
    problems: Vec<Flag>,
}

impl Translator<'_, '_> {
    fn messages(&self, ask: &Ask) -> Result<Vec<ChatMessage>, PipelineError> {
        let texts: Vec<&str> = ask.parts.iter().map(|p| p.text.as_str()).collect();
        // The domain terms of these paragraphs first, then the document's names.
        let mut glossary: Vec<GlossaryEntry> = terms_in(&texts.join("\n"), self.source_language)
            .into_iter()
            .map(|m| GlossaryEntry {
                source: m.found,
                english: m.term.english().to_string(),
            })
            .collect();
        for entry in self.glossary.entries().iter().take(GLOSSARY_LIMIT) {
            if !glossary.iter().any(|g| g.source == entry.source) {
                glossary.push(entry.clone());
            }
        }
        let problems: Vec<String> = ask.problems.iter().map(Flag::describe).collect();
        let system = self.prompts.render("translate.system", context! {})?;
        let user = self.prompts.render(
            "translate.user",
            context! {
                language => &self.language,
                glossary,
                previous => &ask.previous,
                problems,
                count => texts.len(),
                paragraphs => texts,
            },
        )?;
        Ok(vec![ChatMessage::system(&system), ChatMessage::user(&user)])
    }

    /// The answers to `asks`, written together; each is capped by the
    /// longest of them.
    fn answers(&mut self, asks: &[Ask]) -> Result<Vec<Generation>, PipelineError> {
        let cap = asks
            .iter()
            .map(|a| answer_cap(&a.parts, &self.options.settings, !a.problems.is_empty()))
            .max()
            .unwrap_or(1);
        let prompts = asks
            .iter()
            .map(|a| self.messages(a))
            .collect::<Result<Vec<_>, _>>()?;
        let generations = if prompts.len() == 1 {
            vec![self.model.ask(&prompts[0], cap)?]
        } else {
            self.model.ask_many(&prompts, cap)?
        };
        for (ask, generation) in asks.iter().zip(&generations) {
            tracing::debug!(
                paragraphs = ask.parts.len(),
                retry = !ask.problems.is_empty(),
                prompt_tokens = generation.prompt_tokens,
                reused_tokens = generation.reused_prompt_tokens,
                generated_tokens = generation.generated_tokens,
                cap,
                stop = ?generation.stop,
                "translation request"
            );
        }
        Ok(generations)
    }

    /// A part's answer checked against its source.
    fn checked(&self, part: &Part, english: String, stop: StopReason) -> PartResult {
        let mut flags = check_translation(&part.text, &english, stop);
        if !english.trim().is_empty() {
            let missing: Vec<String> = missing_terms(&part.text, &english, self.source_language)
                .into_iter()
                .map(|m| format!("{} = {}", m.found, m.term.english()))
                .collect();
            if !missing.is_empty() {
                flags.push(Flag::MissingTerms { terms: missing });
            }
        }
        PartResult { english, flags }
    }

    /// Parts asked one each (`asks` hold one part each), together.
    fn one_each(&mut self, asks: &[Ask]) -> Result<Vec<PartResult>, PipelineError> {
        let generations = self.answers(asks)?;
        Ok(asks
            .iter()
            .zip(generations)
            .map(|(ask, g)| {
                let english = parse_numbered(&g.text, 1)
                    .map(|mut t| t.remove(0))
                    .unwrap_or_default();
                self.checked(ask.parts[0], english, g.stop)
            })
            .collect())
    }

    /// Groups `ranges` of `parts`, asked together; a group whose answer does
    /// not hold exactly one translation per part is asked one part at a time.
    fn translate_groups(
        &mut self,
        parts: &[Part],
        ranges: &[std::ops::Range<usize>],
        previous: &str,
    ) -> Result<Vec<PartResult>, PipelineError> {
        let mut results: Vec<Option<PartResult>> = vec![None; ranges.last().map_or(0, |r| r.end)];
        let first = ranges.first().map_or(0, |r| r.start);
        // Only the first group follows English already written.
        let context = |i: usize| {
            if i == 0 {
                previous.to_string()
            } else {
                String::new()
            }
        };
        let grouped: Vec<usize> = (0..ranges.len())
            .filter(|&i| ranges[i].len() > 1 && self.failed_groups < GROUP_FAILURES_TO_GIVE_UP)
            .collect();
        if !grouped.is_empty() {
            let asks: Vec<Ask> = grouped
                .iter()
                .map(|&i| Ask {
                    parts: parts[ranges[i].clone()].iter().collect(),
                    previous: context(i),
                    problems: Vec::new(),
                })
                .collect();
            let generations = self.answers(&asks)?;
            for (&i, generation) in grouped.iter().zip(generations) {
                let read = (generation.stop != StopReason::TokenCap)
                    .then(|| parse_numbered(&generation.text, ranges[i].len()))
                    .flatten();
                match read {
                    Some(answers) => {
                        self.failed_groups = 0;
                        for (k, english) in ranges[i].clone().zip(answers) {
                            results[k] =
                                Some(self.checked(&parts[k], english, StopReason::EndOfTurn));
                        }
                    }
                    None => self.failed_groups += 1,
                }
            }
        }
        let alone: Vec<usize> = (first..results.len())
            .filter(|&k| results[k].is_none())
            .collect();
        if !alone.is_empty() {
            let asks: Vec<Ask> = alone
                .iter()
                .map(|&k| Ask {
                    parts: vec![&parts[k]],
                    previous: if k == first {
                        previous.to_string()
                    } else {
                        String::new()
                    },
                    problems: Vec::new(),
                })
                .collect();
            for (&k, result) in alone.iter().zip(self.one_each(&asks)?) {
                results[k] = Some(result);
            }
        }
        Ok(results
            .into_iter()
            .skip(first)
            .map(Option::unwrap_or_default)
            .collect())
    }

    /// Every paragraph in English, in order, with the faults that remain.
    /// `parallel` groups are asked at a time; a part whose answer has
    /// faults is asked again once, naming them, and the better answer kept.
    fn translate(
        &mut self,
        paragraphs: &[SourceParagraph],
    ) -> Result<Vec<PartResult>, PipelineError> {
        let parts: Vec<Part> = {
            let generator = &*self.model.generator;
            let count = |t: &str| generator.count_tokens(t);
            paragraphs
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.text.trim().is_empty())
                .flat_map(|(i, p)| split_paragraph(i, p, self.options.part_budget, &count))
                .collect()
        };
        let groups = group_parts(
            &parts,
            self.options.group_budget,
            self.options.group_paragraphs,
        );
        let mut done: Vec<PartResult> = Vec::with_capacity(parts.len());
        let mut previous = String::new();
        for batch in groups.chunks(self.options.parallel.max(1)) {
            let span = batch[0].start..batch[batch.len() - 1].end;
            self.model.report(PipelineEvent::Stage(Stage::Translate {
                paragraph: parts[span.start].paragraph + 1,
                paragraphs: paragraphs.len(),
            }));
            let mut results = self.translate_groups(&parts, batch, &previous)?;
            // The English each part follows: a model may repeat it instead of
            // translating (checked), and a part asked again is given it.
            let priors: Vec<String> = (0..results.len())
                .map(|i| match i {
                    0 => previous.clone(),
                    _ => last_words(&results[i - 1].english, CONTEXT_WORDS),
                })
                .collect();
            let same_source = |k: usize| k > 0 && parts[k - 1].text == parts[k].text;
            for (i, result) in results.iter_mut().enumerate() {
                mark_echo(result, &priors[i], same_source(span.start + i));
            }
            let again: Vec<usize> = (0..results.len())
                .filter(|&i| !results[i].flags.is_empty())
                .collect();
            if !again.is_empty() {
                let asks: Vec<Ask> = again
                    .iter()
                    .map(|&i| Ask {
                        parts: vec![&parts[span.start + i]],
                        // Without the context, a model that copied it has nothing to copy.
                        previous: if results[i].flags.contains(&Flag::Echo) {
                            String::new()
                        } else {
                            priors[i].clone()
                        },
                        problems: results[i].flags.clone(),
                    })
                    .collect();
                for (&i, mut retry) in again.iter().zip(self.one_each(&asks)?) {
                    mark_echo(&mut retry, &priors[i], same_source(span.start + i));
                    if badness(&retry.flags) < badness(&results[i].flags) {
                        results[i] = retry;
                    }
                }
            }
            for (k, result) in span.clone().zip(results) {
                if !result
                    .flags
                    .iter()
                    .any(|f| matches!(f, Flag::Empty | Flag::NotEnglish | Flag::Echo))
                {
                    self.glossary.learn(&parts[k].text, &result.english);
                }
                previous = last_words(&result.english, CONTEXT_WORDS);
                done.push(result);
            }
        }
        // Parts back into paragraphs; a paragraph without text stays empty.
        let mut out = vec![PartResult::default(); paragraphs.len()];
        for (part, result) in parts.iter().zip(done) {
            let paragraph = &mut out[part.paragraph];
            if !paragraph.english.is_empty() && !result.english.is_empty() {
                paragraph.english.push(' ');
            }
            paragraph.english.push_str(&result.english);
            for flag in result.flags {
                merge_flag(&mut paragraph.flags, flag);
            }
        }
        Ok(out)
    }
}

/// What the translator needs to know about the document beyond its text.
pub struct TranslateRequest<'a> {
    pub id: String,
    pub document: &'a Document,
    pub model: ModelInfo,
    pub load_seconds: f64,
}

/// Translate one document into English, paragraph by paragraph.
pub fn translate_document(
    generator: &mut dyn Generator,
    prompts: &PromptSet,
    request: &TranslateRequest,
    options: &TranslateOptions,
    on_event: &mut dyn FnMut(PipelineEvent),
) -> Result<Translation, PipelineError> {
    let start = Instant::now();
    let doc = request.document;
    require_text(doc)?;
    let language = doc.language.language;
    let mut warnings: Vec<String> = foreign_language_warning(doc, "translation")
        .into_iter()
        .collect();
    let mut asker = Asker::new(generator, &options.settings, on_event, translate_stage());
    let (paragraphs, glossary) = translate_paragraphs(&mut asker, prompts, doc, options)?;
    let flagged = paragraphs.iter().filter(|p| !p.flags.is_empty()).count();
    if flagged > 0 {
        warnings.push(format!(
            "{flagged} of {} paragraphs are flagged; check them against the source",
            paragraphs.len()
        ));
    }
    Ok(Translation {
        id: request.id.clone(),
        source: doc.source.clone(),
        source_sha256: doc.source_sha256.clone(),
        language: LanguageLabel {
            code: language.code().to_string(),
            name: language.english_name().to_string(),
            confidence: doc.language.confidence,
        },
        model: request.model.clone(),
        prompt_versions: prompts.versions().clone(),
        glossary,
        paragraphs,
        warnings,
        timings: asker.timings(request.load_seconds, start.elapsed().as_secs_f64()),
    })
}

/// Every paragraph of `doc` in English, asked through `asker`, with the
/// document's glossary.
pub(in crate::pipeline) fn translate_paragraphs(
    asker: &mut Asker,
    prompts: &PromptSet,
    doc: &Document,
    options: &TranslateOptions,
) -> Result<(Vec<TranslatedParagraph>, Vec<GlossaryEntry>), PipelineError> {
    let language = doc.language.language;
    let sources: Vec<SourceParagraph> = doc
        .paragraphs
        .iter()
        .map(|p| SourceParagraph {
            text: &p.text,
            sentences: &p.sentences,
        })
        .collect();
    let mut translator = Translator {
        model: asker,
        prompts,
        options,
        language: source_language_name(language),
        source_language: language,
        glossary: Glossary::for_texts(doc.paragraphs.iter().map(|p| p.text.as_str())),
        failed_groups: 0,
    };
    let results = translator.translate(&sources)?;
    let paragraphs = doc
        .paragraphs
        .iter()
        .zip(results)
        .map(|(p, r)| TranslatedParagraph {
            id: p.id,
            kind: p.kind,
            source: p.text.clone(),
            english: r.english,
            flags: r.flags,
        })
        .collect();
    Ok((paragraphs, translator.glossary.entries().to_vec()))
}

/// The language the prompt names; an unknown one is called Scandinavian.
fn source_language_name(language: Language) -> String {
    if language.is_scandinavian() {
        language.english_name().to_string()
    } else {
        "Swedish, Danish or Norwegian".to_string()
    }
}

/// Translate lines of plain text (one sentence or paragraph each) written in
/// `language`, one English line per source line, for scoring against
/// parallel text.
pub fn translate_lines(
    generator: &mut dyn Generator,
    prompts: &PromptSet,
    language: Language,
    lines: &[String],
    options: &TranslateOptions,
    on_event: &mut dyn FnMut(PipelineEvent),
) -> Result<Vec<String>, PipelineError> {
    let sentences: Vec<Vec<String>> = lines.iter().map(|l| vec![l.clone()]).collect();
    let sources: Vec<SourceParagraph> = lines
        .iter()
        .zip(&sentences)
        .map(|(l, s)| SourceParagraph {
            text: l,
            sentences: s,
        })
        .collect();
    let mut asker = Asker::new(generator, &options.settings, on_event, translate_stage());
    let mut translator = Translator {
        model: &mut asker,
        prompts,
        options,
        language: source_language_name(language),
        source_language: language,
        glossary: Glossary::for_texts(lines.iter().map(String::as_str)),
        failed_groups: 0,
    };
    Ok(translator
        .translate(&sources)?
        .into_iter()
        .map(|r| r.english)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::ScriptedGenerator;
    use crate::ingest::ParagraphKind;

    const DANISH: &str = "1. INDLEDNING\n\n\
        I henhold til § 282 blev der i 2012 afsat 200 mio. EUR til SSMM.\n\n\
        Rådet bekræftede den 29. maj 2012, at SSMM udgør rammen.\n\n\
        - Styrke samarbejdet med seks lande.\n";

    const GOOD: &str = "[1] 1. INTRODUCTION\n[2] Under § 282, EUR 200 million was allocated to GAMM in 2012.\n\
        [3] On 29 May 2012 the Council confirmed that GAMM is the framework.\n[4] Strengthen cooperation with six countries.";

    fn document(text: &str) -> Document {
        crate::ingest::ingest_bytes("doc.txt", text.as_bytes()).unwrap()
    }

    fn run(
        generator: &mut ScriptedGenerator,
        doc: &Document,
        options: &TranslateOptions,
    ) -> Translation {
        let prompts = PromptSet::builtin().unwrap();
        let request = TranslateRequest {
            id: "doc".into(),
            document: doc,
            model: ModelInfo::default(),
            load_seconds: 0.0,
        };
        translate_document(generator, &prompts, &request, options, &mut |_| {}).unwrap()
    }

    fn scripted(answers: &[&str]) -> ScriptedGenerator {
        ScriptedGenerator {
            translations: answers.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn user_prompt(g: &ScriptedGenerator, call: usize) -> &str {
        &g.calls[call][1].content
    }

    #[test]
    fn a_passages_terms_are_in_its_prompt_and_a_missing_one_is_asked_again() {
        let doc = document("Antallet af kvoteflygtninge steg i 2015.");
        let mut g = scripted(&[
            "The number of quota flights rose in 2015.",
            "The number of quota refugees rose in 2015.",
        ]);
        let t = run(&mut g, &doc, &TranslateOptions::default());
        assert!(
            user_prompt(&g, 0).contains("- kvoteflygtninge = quota refugee"),
            "{}",
            user_prompt(&g, 0)
        );
        assert_eq!(g.calls.len(), 2);
        assert!(
            user_prompt(&g, 1).contains("standard English: kvoteflygtninge = quota refugee"),
            "{}",
            user_prompt(&g, 1)
        );
        assert_eq!(
            t.paragraphs[0].english,
            "The number of quota refugees rose in 2015."
        );
        assert!(t.paragraphs[0].flags.is_empty());
        // A term still missing after the second answer stays flagged.
        let mut g = scripted(&["The number of quota flights rose in 2015."]);
        let t = run(&mut g, &doc, &TranslateOptions::default());
        assert_eq!(g.calls.len(), 2);
        assert_eq!(
            t.paragraphs[0].flags,
            [Flag::MissingTerms {
                terms: vec!["kvoteflygtninge = quota refugee".into()]
            }]
        );
    }

    #[test]
    fn the_test_document_has_the_expected_shape() {
        let doc = document(DANISH);
        let kinds: Vec<ParagraphKind> = doc.paragraphs.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ParagraphKind::Heading,
                ParagraphKind::Text,
                ParagraphKind::Text,
                ParagraphKind::ListItem
            ]
        );
    }

    #[test]
    fn one_numbered_answer_gives_every_paragraph_in_order_with_its_id_and_kind() {
        let doc = document(DANISH);
        let mut g = scripted(&[GOOD]);
        let t = run(&mut g, &doc, &TranslateOptions::default());
        assert_eq!(g.calls.len(), 1, "one group, no retries");
        assert_eq!(t.paragraphs.len(), doc.paragraphs.len());
        let ids: Vec<usize> = t.paragraphs.iter().map(|p| p.id).collect();
        assert_eq!(ids, doc.paragraphs.iter().map(|p| p.id).collect::<Vec<_>>());
        assert_eq!(
            t.paragraphs[1].english,
            "Under § 282, EUR 200 million was allocated to GAMM in 2012."
        );
        assert_eq!(t.paragraphs[3].kind, ParagraphKind::ListItem);
        assert!(
            t.paragraphs.iter().all(|p| p.flags.is_empty()),
            "{:?}",
            t.paragraphs
        );
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
        // The prompt numbers the paragraphs, names the language and carries the glossary.
        let prompt = user_prompt(&g, 0);
        assert!(prompt.contains("Danish paragraphs"), "{prompt}");
        assert!(prompt.contains("[2] I henhold til § 282"), "{prompt}");
        assert!(prompt.contains("- SSMM = GAMM"), "{prompt}");
        assert!(prompt.contains("Give exactly 4 numbered translations."));
        let md = t.to_markdown();
        assert!(md.starts_with("# 1. INTRODUCTION\n\nUnder § 282"), "{md}");
        assert!(
            md.contains("\n\n- Strengthen cooperation with six countries."),
            "{md}"
        );
        let json: serde_json::Value = serde_json::from_str(&t.to_json()).unwrap();
        assert_eq!(json["paragraphs"][3]["kind"], "list_item");
        assert_eq!(
            json["paragraphs"][1]["source"],
            doc.paragraphs[1].text.as_str()
        );
    }

    #[test]
    fn numbered_answers_are_read_back_and_merges_or_gaps_refused() {
        assert_eq!(
            parse_numbered("[1] One.\n[2] Two\nlines.", 2),
            Some(vec!["One.".into(), "Two lines.".into()])
        );
        assert_eq!(
            parse_numbered("Here you are:\n**[1]** One.\n**[2]**: Two.", 2),
            Some(vec!["One.".into(), "Two.".into()])
        );
        assert_eq!(
            parse_numbered("[1] One. [2] Two.", 2),
            Some(vec!["One.".into(), "Two.".into()])
        );
        assert_eq!(parse_numbered("[1] One and two.", 2), None, "merged");
        assert_eq!(parse_numbered("[1] One.\n[3] Three.", 2), None, "gap");
        assert_eq!(parse_numbered("[2] Two.\n[1] One.", 2), None, "order");
        assert_eq!(parse_numbered("[1] One.\n[2]", 2), None, "empty");
        assert_eq!(
            parse_numbered("[1] One.\n[2] Two.\n[3] Three.", 2),
            None,
            "extra"
        );
        assert_eq!(
            parse_numbered("Just one.", 1),
            Some(vec!["Just one.".into()])
        );
        assert_eq!(parse_numbered("Two. Unnumbered.", 2), None);
        assert_eq!(parse_numbered("  ", 1), None);
    }

    #[test]
    fn a_merged_answer_is_asked_again_paragraph_by_paragraph() {
        let doc = document(DANISH);
        let merged = "[1] 1. INTRODUCTION\n[2] Under § 282, EUR 200 million was allocated to GAMM in 2012. On 29 May 2012 the Council confirmed it.\n[3] Strengthen cooperation with six countries.";
        let mut g = scripted(&[
            merged,
            "1. INTRODUCTION",
            "[1] Under § 282, EUR 200 million was allocated to GAMM in 2012.",
            "On 29 May 2012 the Council confirmed that GAMM is the framework.",
            "Strengthen cooperation with six countries.",
        ]);
        let t = run(&mut g, &doc, &TranslateOptions::default());
        assert_eq!(g.calls.len(), 5);
        assert!(user_prompt(&g, 1).contains("Give exactly 1 numbered translation."));
        assert_eq!(t.paragraphs.len(), 4);
        assert_eq!(
            t.paragraphs[1].english,
            "Under § 282, EUR 200 million was allocated to GAMM in 2012."
        );
        assert_eq!(
            t.paragraphs[2].english,
            "On 29 May 2012 the Council confirmed that GAMM is the framework."
        );
        assert!(
            t.paragraphs.iter().all(|p| p.flags.is_empty()),
            "{:?}",
            t.paragraphs
        );
        // The group, then its four paragraphs one each, asked together.
        assert_eq!(g.batches, [4]);
    }

    #[test]
    fn a_model_that_cannot_number_is_asked_one_paragraph_at_a_time() {
        let text = (1..=8)
            .map(|_| "Afsnittet handler om integration og samarbejde.")
            .collect::<Vec<_>>()
            .join("\n\n");
        let doc = document(&text);
        assert_eq!(doc.paragraphs.len(), 8);
        let mut g = scripted(&["The section is about integration and cooperation."]);
        // One group at a time: the groups after the failures go unasked.
        let options = TranslateOptions {
            group_paragraphs: 2,
            parallel: 1,
            ..TranslateOptions::default()
        };
        let t = run(&mut g, &doc, &options);
        let grouped = g
            .calls
            .iter()
            .filter(|c| c[1].content.contains("Give exactly 2 numbered"))
            .count();
        assert_eq!(
            grouped, GROUP_FAILURES_TO_GIVE_UP,
            "groups stop after {GROUP_FAILURES_TO_GIVE_UP} failures"
        );
        assert_eq!(g.calls.len(), GROUP_FAILURES_TO_GIVE_UP + 8);
        assert!(t.paragraphs.iter().all(|p| p.english
            == "The section is about integration and cooperation."
            && p.flags.is_empty()));
    }

    #[test]
    fn a_copied_previous_paragraph_or_prompt_is_asked_again_without_context() {
        let doc = document(
            "Regeringen vil handle hurtigt.\n\nRådet er enigt i det.\n\nKommissionen følger sagen.",
        );
        let mut g = scripted(&[
            "[1] The government will act quickly.\n[2] The government will act quickly.\n[3] The second paragraph in English.",
            "The council agrees with it.",
            "The Commission is following the matter.",
        ]);
        let t = run(&mut g, &doc, &TranslateOptions::default());
        assert_eq!(g.calls.len(), 3);
        for retry in [user_prompt(&g, 1), user_prompt(&g, 2)] {
            assert!(
                retry.contains("repeats the instructions or the previous paragraph"),
                "{retry}"
            );
            assert!(
                !retry.contains("reads in English"),
                "no context to copy: {retry}"
            );
        }
        let english: Vec<&str> = t.paragraphs.iter().map(|p| p.english.as_str()).collect();
        assert_eq!(
            english,
            vec![
                "The government will act quickly.",
                "The council agrees with it.",
                "The Commission is following the matter."
            ]
        );
        assert!(t.paragraphs.iter().all(|p| p.flags.is_empty()));
    }

    #[test]
    fn a_dropped_section_number_is_asked_again_and_mended() {
        let doc = document(DANISH);
        let dropped = GOOD.replace("Under § 282, ", "Under the rules, ");
        let mut g = scripted(&[
            &dropped,
            "Under § 282, EUR 200 million was allocated to GAMM in 2012.",
        ]);
        let t = run(&mut g, &doc, &TranslateOptions::default());
        assert_eq!(g.calls.len(), 2);
        let retry = user_prompt(&g, 1);
        assert!(
            retry.contains("the source's 282 missing or changed"),
            "{retry}"
        );
        assert!(retry.contains("[1] I henhold til § 282"), "{retry}");
        assert!(t.paragraphs[1].english.contains("§ 282"));
        assert!(t.paragraphs.iter().all(|p| p.flags.is_empty()));
    }

    #[test]
    fn a_changed_year_that_stays_changed_is_flagged_not_dropped() {
        let doc = document(DANISH);
        let changed = GOOD.replace("On 29 May 2012", "On 29 May 2013");
        let mut g = scripted(&[
            &changed,
            "On 29 May 2013 the Council confirmed that GAMM is the framework.",
        ]);
        let t = run(&mut g, &doc, &TranslateOptions::default());
        assert_eq!(g.calls.len(), 2, "one retry only");
        let flags = &t.paragraphs[2].flags;
        assert!(
            flags.contains(&Flag::MissingNumbers {
                numbers: vec!["2012".into()]
            }),
            "{flags:?}"
        );
        assert!(t.paragraphs[2].english.contains("2013"), "the text is kept");
        assert!(
            t.warnings
                .iter()
                .any(|w| w.contains("1 of 4 paragraphs are flagged")),
            "{:?}",
            t.warnings
        );
        let md = t.to_markdown();
        assert!(
            md.contains(&format!(
                "> ⚠ ¶{}: the source's 2012 missing or changed",
                t.paragraphs[2].id
            )),
            "{md}"
        );
        assert!(t.to_text().contains("Flagged paragraphs"));
    }

    #[test]
    fn an_answer_cut_at_the_token_cap_is_retried_then_flagged() {
        let doc = document("Regeringen vil styrke samarbejdet med de nordiske lande om asyl.");
        let looping = format!(
            "The government will {}",
            "strengthen cooperation ".repeat(60)
        );
        let mut g = scripted(&[&looping]);
        let t = run(&mut g, &doc, &TranslateOptions::default());
        assert_eq!(g.calls.len(), 2, "asked again once");
        assert!(user_prompt(&g, 1).contains("cut off at the length limit"));
        assert_eq!(t.paragraphs.len(), 1);
        assert!(
            t.paragraphs[0].flags.contains(&Flag::TokenCap),
            "{:?}",
            t.paragraphs[0].flags
        );
        assert!(!t.paragraphs[0].english.is_empty());
    }

    #[test]
    fn a_group_cut_at_the_cap_goes_one_by_one() {
        let doc = document(DANISH);
        let long = format!("{GOOD} {}", "and so on ".repeat(200));
        let mut g = scripted(&[
            &long,
            "1. INTRODUCTION",
            "Under § 282, EUR 200 million was allocated to GAMM in 2012.",
            "On 29 May 2012 the Council confirmed that GAMM is the framework.",
            "Strengthen cooperation with six countries.",
        ]);
        let t = run(&mut g, &doc, &TranslateOptions::default());
        assert_eq!(g.calls.len(), 5);
        assert!(
            t.paragraphs.iter().all(|p| p.flags.is_empty()),
            "{:?}",
            t.paragraphs
        );
    }

    #[test]
    fn a_long_paragraph_is_split_at_sentences_and_joined_again() {
        let sentence =
            |i: usize| format!("Sætning nummer {i} handler om migration og mobilitet i EU.");
        let text: String = (1..=12).map(sentence).collect::<Vec<_>>().join(" ");
        let doc = document(&text);
        assert_eq!(doc.paragraphs.len(), 1);
        let options = TranslateOptions {
            part_budget: 30,
            group_paragraphs: 1,
            ..TranslateOptions::default()
        };
        let answers: Vec<String> = (0..4)
            .map(|k| {
                (1..=3)
                    .map(|j| {
                        format!(
                            "Sentence number {} is about migration and mobility in the EU.",
                            k * 3 + j
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let mut g = ScriptedGenerator {
            translations: answers.clone(),
            ..Default::default()
        };
        let t = run(&mut g, &doc, &options);
        assert_eq!(g.calls.len(), 4, "{} calls", g.calls.len());
        assert_eq!(t.paragraphs.len(), 1);
        assert_eq!(t.paragraphs[0].english, answers.join(" "));
        assert!(
            t.paragraphs[0].flags.is_empty(),
            "{:?}",
            t.paragraphs[0].flags
        );
    }

    #[test]
    fn groups_respect_the_budget_and_paragraph_count() {
        let part = |tokens| Part {
            paragraph: 0,
            text: String::new(),
            tokens,
        };
        let parts: Vec<Part> = [5, 5, 5, 20, 1, 1, 1].into_iter().map(part).collect();
        assert_eq!(group_parts(&parts, 16, 10), vec![0..3, 3..4, 4..7]);
        assert_eq!(group_parts(&parts, 100, 2), vec![0..2, 2..4, 4..6, 6..7]);
        assert!(group_parts(&[], 10, 2).is_empty());
    }

    #[test]
    fn check_translation_names_each_fault() {
        let source = "I 2012 blev 90 projekter støttet.";
        assert!(check_translation(
            source,
            "In 2012, 90 projects were supported.",
            StopReason::EndOfTurn
        )
        .is_empty());
        assert_eq!(
            check_translation(
                source,
                "In 2012, 95 projects were supported.",
                StopReason::EndOfTurn
            ),
            vec![
                Flag::MissingNumbers {
                    numbers: vec!["90".into()]
                },
                Flag::AddedNumbers {
                    numbers: vec!["95".into()]
                }
            ]
        );
        assert_eq!(
            check_translation(
                source,
                "I 2012 blev 90 projekter støttet af regeringen.",
                StopReason::EndOfTurn
            ),
            vec![Flag::NotEnglish]
        );
        // A body the source does not name came from the model.
        assert_eq!(
            check_translation(
                "Dialogen blev lanceret af Den Afrikanske Union i 2010.",
                "The dialogue was launched by the Danish Ministry of Foreign Affairs in 2010.",
                StopReason::EndOfTurn
            ),
            vec![Flag::AddedNames {
                names: vec!["Danish Ministry of Foreign Affairs".into()]
            }]
        );
        assert_eq!(
            check_translation(source, " ", StopReason::EndOfTurn),
            vec![Flag::Empty]
        );
        assert_eq!(
            check_translation(
                source,
                "In 2012, 90 projects were supported by the government and the",
                StopReason::TokenCap
            ),
            vec![Flag::TokenCap]
        );
    }

    #[test]
    fn lines_come_back_one_for_one() {
        let lines: Vec<String> = ["Hej världen, sa hon i går.", "Det regnar i Stockholm idag."]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut g = scripted(&[
            "[1] Hello world, she said yesterday.\n[2] It is raining in Stockholm today.",
        ]);
        let prompts = PromptSet::builtin().unwrap();
        let english = translate_lines(
            &mut g,
            &prompts,
            Language::Swedish,
            &lines,
            &TranslateOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(
            english,
            vec![
                "Hello world, she said yesterday.",
                "It is raining in Stockholm today."
            ]
        );
        assert!(user_prompt(&g, 0).contains("Swedish paragraphs"));
    }
}
