//! Map: English notes per chunk of a long document, merged again while
//! they exceed the reduce budget.

use minijinja::context;

use super::answer::bullets;
use super::briefer::Briefer;
use super::checks::is_english;
use super::chunk::{self, chunk, Piece};
use super::options::{PipelineError, Stage};
use crate::generate::{Generation, StopReason};
use crate::model::ChatMessage;

/// The map stage's result: English notes labelled "Part N of M".
pub(super) struct Notes {
    pub(super) text: String,
    /// Parts read in all rounds (notes on notes included).
    pub(super) parts_read: usize,
    /// Parts the final notes are labelled with.
    pub(super) labelled_parts: usize,
    /// The labelled part (1-based) that holds the document's conclusion
    /// heading, and that heading's paragraph.
    pub(super) conclusion: Option<(usize, usize)>,
}

/// English notes on one part that are enough to keep (the prompt asks for 3 to 8).
pub(super) const MIN_ENGLISH_NOTES: usize = 3;

impl Briefer<'_> {
    /// English notes on consecutive chunks (`texts[i]` is part `first + i`),
    /// written together. A part is asked again once if fewer than
    /// `MIN_ENGLISH_NOTES` of its notes are English.
    pub(super) fn notes(
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
            let generations = self
                .model
                .ask_many(&prompts, self.options.notes_max_tokens)?;
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
    pub(super) fn notes_for(&mut self, pieces: &[Piece]) -> Result<Notes, PipelineError> {
        let chunks = {
            let generator = &*self.model.generator;
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
        if self.model.generator.count_tokens(&notes) <= self.options.reduce_budget || parts <= 1 {
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
}

/// The notes in one answer: its bullets, less a last one the token cap cut
/// off mid-sentence (the brief would copy it), or the whole answer as one
/// note when the model ignored the bullet format.
pub(super) fn notes_in(generation: &Generation) -> Vec<String> {
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
