//! Asking the model, in one place for every stage: progress is reported as
//! it reads and writes, and each call's tokens and seconds are summed under
//! the stage it belongs to.

use super::options::{PipelineError, PipelineEvent, Stage};
use crate::brief::{StageTiming, Timings};
use crate::generate::{Generation, GenerationSettings, Generator};
use crate::model::ChatMessage;

pub(super) struct Asker<'a> {
    pub(super) generator: &'a mut dyn Generator,
    /// Sampling settings of every call; each call sets its own token cap.
    settings: GenerationSettings,
    on_event: &'a mut dyn FnMut(PipelineEvent),
    /// The stage the next calls are counted under.
    stage: Stage,
    totals: Totals,
}

impl<'a> Asker<'a> {
    pub(super) fn new(
        generator: &'a mut dyn Generator,
        settings: &GenerationSettings,
        on_event: &'a mut dyn FnMut(PipelineEvent),
        stage: Stage,
    ) -> Self {
        Self {
            generator,
            settings: settings.clone(),
            on_event,
            stage,
            totals: Totals::default(),
        }
    }

    /// Start `stage`: report it and count the calls that follow under it.
    pub(super) fn enter(&mut self, stage: Stage) {
        self.report(PipelineEvent::Stage(stage.clone()));
        self.stage = stage;
    }

    /// Report an event without changing the stage calls are counted under.
    pub(super) fn report(&mut self, event: PipelineEvent) {
        (self.on_event)(event);
    }

    pub(super) fn ask(
        &mut self,
        messages: &[ChatMessage],
        max_new_tokens: usize,
    ) -> Result<Generation, PipelineError> {
        let settings = self.settings_capped(max_new_tokens);
        let on_event = &mut *self.on_event;
        let generation = self.generator.generate(messages, &settings, &mut |p| {
            on_event(PipelineEvent::Generation(p))
        })?;
        self.totals.add(&self.stage, &generation);
        Ok(generation)
    }

    /// Answers to several prompts, written together.
    pub(super) fn ask_many(
        &mut self,
        prompts: &[Vec<ChatMessage>],
        max_new_tokens: usize,
    ) -> Result<Vec<Generation>, PipelineError> {
        let settings = self.settings_capped(max_new_tokens);
        let on_event = &mut *self.on_event;
        let generations = self.generator.generate_many(prompts, &settings, &mut |p| {
            on_event(PipelineEvent::Generation(p))
        })?;
        for generation in &generations {
            self.totals.add(&self.stage, generation);
        }
        Ok(generations)
    }

    fn settings_capped(&self, max_new_tokens: usize) -> GenerationSettings {
        GenerationSettings {
            max_new_tokens,
            ..self.settings.clone()
        }
    }

    /// The calls so far, with the model's load time and the wall time.
    pub(super) fn timings(&self, load_seconds: f64, wall_seconds: f64) -> Timings {
        self.totals.timings(load_seconds, wall_seconds)
    }
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
