//! Follow-ups: what the brief lacks asked for once more (key points from the
//! last parts, a title, key points, a summary of the promised length).

use minijinja::context;

use super::answer::{self, dedupe_points, parse_brief_answer, ParsedBrief};
use super::briefer::Briefer;
use super::checks::{facts_not_in, is_english};
use super::notes::Notes;
use super::options::{PipelineError, Stage, KEY_POINTS, SUMMARY_WORDS};
use super::reduce::{mend_cut_answer, summary_candidates};
use crate::facts::SourceIndex;
use crate::generate::StopReason;
use crate::model::ChatMessage;

/// A title longer than this is a sentence, not the title asked for.
pub(super) const MAX_TITLE_WORDS: usize = 15;
/// Room for one title line and a little chatter around it.
pub(super) const MAX_TITLE_TOKENS: usize = 48;

/// A key point longer than this is a paragraph, not the one sentence asked for.
pub(super) const MAX_POINT_WORDS: usize = 50;

impl Briefer<'_> {
    /// A small model writes key points in the order of the notes and stops
    /// before the last parts, so a brief from notes asks, as replies in the
    /// same conversation (its cache reused), for a point from the last third
    /// of the parts (the later sections) and one from the part that holds
    /// the document's conclusion, or a second late point when no heading
    /// names a conclusion. They replace the last of the first points when
    /// there would be more than the most, and come last, in document order.
    pub(super) fn late_points(
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
    pub(super) fn ask_for_points(
        &mut self,
        mut conversation: Vec<ChatMessage>,
        user: &str,
        count: usize,
        source: &SourceIndex,
    ) -> Result<Vec<String>, PipelineError> {
        conversation.push(ChatMessage::user(user));
        let generation = self
            .model
            .ask(&conversation, self.options.settings.max_new_tokens)?;
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
    pub(super) fn missing_title(
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
        let generation = self.model.ask(&conversation, MAX_TITLE_TOKENS)?;
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
    pub(super) fn missing_points(
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
    pub(super) fn fit_summary(
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
        let generation = self
            .model
            .ask(&conversation, self.options.settings.max_new_tokens)?;
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
