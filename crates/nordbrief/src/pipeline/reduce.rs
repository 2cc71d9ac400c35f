//! Reduce: the brief written from the document or from its notes, and an
//! answer the token cap cut off mended.

use minijinja::context;

use super::answer::{parse_brief_answer, ParsedBrief};
use super::briefer::Briefer;
use super::checks::{facts_not_in, is_english};
use super::options::{PipelineError, Stage};
use crate::facts::SourceIndex;
use crate::generate::StopReason;
use crate::model::ChatMessage;

impl Briefer<'_> {
    /// Reduce: the brief itself, asked again once when it is not English and
    /// once when it states facts the source does not have.
    pub(super) fn brief(
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
}

/// The summaries a reply to `summary.user` offers. Small models run on past
/// the paragraph asked for: the key points again, or the whole brief echoed
/// with a second, rewritten SUMMARY; each prose paragraph is a candidate. A
/// paragraph cut off by the token cap keeps only its finished sentences.
pub(super) fn summary_candidates(reply: &str, stop: StopReason) -> Vec<String> {
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
pub(super) fn mend_cut_answer(parsed: &mut ParsedBrief) {
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
pub(super) fn finished_sentences(text: &str) -> Option<&str> {
    let text = text.trim_end();
    text.char_indices()
        .filter(|&(i, c)| {
            matches!(c, '.' | '!' | '?')
                && text[i + 1..].chars().next().is_none_or(char::is_whitespace)
        })
        .last()
        .map(|(i, _)| &text[..=i])
}
