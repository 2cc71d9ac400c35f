//! The state one brief is written with, shared by its stages (notes,
//! reduce, follow-ups, assembly), each of which adds its own methods.

use super::ask::Asker;
use super::options::{BriefOptions, PipelineError, Stage};
use crate::generate::Generation;
use crate::model::ChatMessage;
use crate::prompts::PromptSet;

pub(super) struct Briefer<'a> {
    pub(super) model: Asker<'a>,
    pub(super) prompts: &'a PromptSet,
    pub(super) options: &'a BriefOptions,
    pub(super) language: String,
    pub(super) warnings: Vec<String>,
}

impl Briefer<'_> {
    pub(super) fn enter(&mut self, stage: Stage) {
        self.model.enter(stage);
    }

    pub(super) fn ask(
        &mut self,
        system: &str,
        user: &str,
        max_new_tokens: usize,
    ) -> Result<Generation, PipelineError> {
        self.model.ask(
            &[ChatMessage::system(system), ChatMessage::user(user)],
            max_new_tokens,
        )
    }
}
