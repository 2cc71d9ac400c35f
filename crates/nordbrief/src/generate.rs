//! Prompt in, text out: chat-template rendering, prefill in fixed-size
//! batches with reuse of a shared prompt prefix, sampling, stop rules and
//! timings.
//!
//! [`Generator`] is the seam the pipeline talks to; [`ModelGenerator`] runs a
//! real model, and tests can plug in a generator with canned answers.

use candle_core::Tensor;
use candle_transformers::generation::{LogitsProcessor, Sampling};
use serde::{Deserialize, Serialize};
use std::time::Instant;

use crate::model::ChatMessage;
use crate::model::LoadedModel;

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("the prompt is {prompt_tokens} tokens, more than the model's context of {context} tokens; use a smaller --context-budget")]
    PromptTooLong {
        prompt_tokens: usize,
        context: usize,
    },
    #[error("{0}")]
    Template(#[from] crate::model::TemplateError),
    #[error("tokenizing the prompt failed: {0}")]
    Tokenize(String),
    #[error("inference failed: {0}")]
    Inference(#[from] candle_core::Error),
}

/// How text is generated. Greedy by default, so a brief is reproducible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationSettings {
    pub max_new_tokens: usize,
    /// 0 means greedy decoding.
    pub temperature: f64,
    pub top_p: Option<f64>,
    pub seed: u64,
    /// 1.0 disables the penalty.
    pub repeat_penalty: f32,
    pub repeat_last_n: usize,
    /// Prompt tokens read per forward pass. Greedy output depends on it
    /// (batch shapes pick kernels), so keep it fixed when comparing outputs.
    pub prefill_batch: usize,
}

impl Default for GenerationSettings {
    fn default() -> Self {
        Self {
            max_new_tokens: 512,
            temperature: 0.0,
            top_p: None,
            seed: 299_792_458,
            repeat_penalty: 1.1,
            repeat_last_n: 64,
            prefill_batch: 256,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    EndOfTurn,
    TokenCap,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub text: String,
    pub prompt_tokens: usize,
    /// Prompt tokens whose keys and values were already cached.
    pub reused_prompt_tokens: usize,
    pub generated_tokens: usize,
    pub prefill_seconds: f64,
    pub decode_seconds: f64,
    pub stop: StopReason,
}

/// Live figures for a progress display.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    Prefill { done: usize, total: usize },
    Decode { generated: usize, max: usize },
}

pub trait Generator {
    fn generate(
        &mut self,
        messages: &[ChatMessage],
        settings: &GenerationSettings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Generation, GenerateError>;
    /// Answers to several independent prompts, in order. A generator may
    /// write them together (a real model reads its weights once per step for
    /// all of them); each answer is then the one `generate` gives up to the
    /// model's numeric tolerance. By default they are written one by one.
    fn generate_many(
        &mut self,
        prompts: &[Vec<ChatMessage>],
        settings: &GenerationSettings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<Generation>, GenerateError> {
        one_by_one(self, prompts, settings, progress)
    }
    /// Tokens `text` takes, to plan chunks within the context budget.
    fn count_tokens(&self, text: &str) -> usize;
    fn context_length(&self) -> usize;
}

/// Each prompt answered by `generate`, in order.
fn one_by_one<G: Generator + ?Sized>(
    generator: &mut G,
    prompts: &[Vec<ChatMessage>],
    settings: &GenerationSettings,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<Generation>, GenerateError> {
    prompts
        .iter()
        .map(|messages| generator.generate(messages, settings, progress))
        .collect()
}

pub struct ModelGenerator {
    model: LoadedModel,
    /// The tokens whose keys and values sit in each sequence of the model's
    /// cache (sequence 0 first; more while answers are written together).
    cached: Vec<Vec<u32>>,
}

/// How many leading tokens `a` and `b` share.
fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl ModelGenerator {
    pub fn new(model: LoadedModel) -> Self {
        Self {
            model,
            cached: vec![Vec::new()],
        }
    }

    pub fn model(&self) -> &LoadedModel {
        &self.model
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>, GenerateError> {
        let enc = self
            .model
            .tokenizer
            .encode(text, false)
            .map_err(|e| GenerateError::Tokenize(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }

    /// The chat `messages` as prompt tokens, checked against the context.
    fn prompt_tokens(
        &self,
        messages: &[ChatMessage],
        settings: &GenerationSettings,
    ) -> Result<Vec<u32>, GenerateError> {
        let prompt_text = self.model.template.render(messages)?;
        let prompt = self.encode(&prompt_text)?;
        let context = self.model.network.context_length();
        if prompt.is_empty() || prompt.len() + settings.max_new_tokens > context {
            return Err(GenerateError::PromptTooLong {
                prompt_tokens: prompt.len() + settings.max_new_tokens,
                context,
            });
        }
        Ok(prompt)
    }

    /// Read `prompt` into sequence `slot`, starting after the longest prefix
    /// of it that any sequence holds (in place when `slot` holds it, copied
    /// from the other sequence otherwise), and return the logits after its
    /// last token and the number of tokens reused.
    fn prefill(
        &mut self,
        slot: usize,
        prompt: &[u32],
        settings: &GenerationSettings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(Tensor, usize), GenerateError> {
        if self.cached.len() <= slot {
            self.cached.resize_with(slot + 1, Vec::new);
        }
        let own = common_prefix(&self.cached[slot], prompt);
        let (source, common) = self
            .cached
            .iter()
            .enumerate()
            .map(|(index, tokens)| (index, common_prefix(tokens, prompt)))
            .fold(
                (slot, own),
                |best, next| if next.1 > best.1 { next } else { best },
            );
        // At least one token must be read to get logits.
        let reuse = common.min(prompt.len().saturating_sub(1));
        let network = &mut self.model.network;
        if source == slot {
            network.truncate_on(slot, reuse)?;
        } else {
            network.copy_prefix(source, slot, reuse, prompt.len() + settings.max_new_tokens)?;
        }
        // Kept in step with the sequence, even if a forward pass fails.
        self.cached[slot] = self.cached[source][..reuse].to_vec();
        let mut logits = None;
        for piece in prompt[reuse..].chunks(settings.prefill_batch.max(1)) {
            logits = Some(network.forward_on(slot, piece)?);
            self.cached[slot].extend_from_slice(piece);
            progress(Progress::Prefill {
                done: self.cached[slot].len(),
                total: prompt.len(),
            });
        }
        let logits = logits.expect("prompt has at least one token to read");
        Ok((logits, reuse))
    }

    /// Free every sequence but 0: their caches are large.
    fn release_sequences(&mut self) {
        self.model.network.release_sequences();
        self.cached.truncate(1);
    }

    fn write_together(
        &mut self,
        prompts: &[Vec<ChatMessage>],
        settings: &GenerationSettings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<Generation>, GenerateError> {
        let mut answers = Vec::with_capacity(prompts.len());
        let mut logits = Vec::with_capacity(prompts.len());
        let mut slots: Vec<usize> = Vec::with_capacity(prompts.len());
        let sequences = self.cached.len().max(prompts.len());
        for messages in prompts {
            let prompt = self.prompt_tokens(messages, settings)?;
            // The free sequence holding most of this prompt (a part asked
            // again finds its own first prompt there).
            let slot = (0..sequences)
                .filter(|s| !slots.contains(s))
                .max_by_key(|&s| {
                    let held = self.cached.get(s).map_or(0, |c| common_prefix(c, &prompt));
                    (held, std::cmp::Reverse(s))
                })
                .expect("a free sequence for every prompt");
            let start = Instant::now();
            let (first, reused) = self.prefill(slot, &prompt, settings, progress)?;
            let seconds = start.elapsed().as_secs_f64();
            answers.push(Answer::new(prompt.len(), reused, seconds, settings));
            logits.push(first);
            slots.push(slot);
        }
        let max = settings.max_new_tokens * prompts.len();
        loop {
            let step_start = Instant::now();
            let mut feed = Vec::new();
            for (i, answer) in answers.iter_mut().enumerate() {
                if let Some(next) =
                    answer.next_token(&logits[i], settings, &self.model.stop_tokens)?
                {
                    feed.push((i, next));
                }
            }
            progress(Progress::Decode {
                generated: answers.iter().map(|a| a.generated.len()).sum(),
                max,
            });
            if feed.is_empty() {
                break;
            }
            if let [(i, next)] = feed[..] {
                // One answer left: the one-row kernels, as `generate` uses.
                logits[i] = self.model.network.forward_on(slots[i], &[next])?;
            } else {
                let steps: Vec<(usize, u32)> =
                    feed.iter().map(|&(i, next)| (slots[i], next)).collect();
                let rows = self.model.network.forward_step(&steps)?;
                for (row, &(i, _)) in feed.iter().enumerate() {
                    logits[i] = rows.get(row)?;
                }
            }
            // A step's time is shared by the answers it wrote, so that the
            // answers' decode times add up to the time spent.
            let share = step_start.elapsed().as_secs_f64() / feed.len() as f64;
            for &(i, next) in &feed {
                self.cached[slots[i]].push(next);
                answers[i].decode_seconds += share;
            }
        }
        answers
            .into_iter()
            .map(|answer| answer.finish(&self.model.tokenizer))
            .collect()
    }
}

/// One answer being written: its sampler, its tokens so far and its figures.
struct Answer {
    sampler: LogitsProcessor,
    generated: Vec<u32>,
    stop: Option<StopReason>,
    prompt_tokens: usize,
    reused_prompt_tokens: usize,
    prefill_seconds: f64,
    decode_seconds: f64,
}

impl Answer {
    fn new(
        prompt_tokens: usize,
        reused_prompt_tokens: usize,
        prefill_seconds: f64,
        settings: &GenerationSettings,
    ) -> Self {
        let sampling = if settings.temperature <= 0.0 {
            Sampling::ArgMax
        } else {
            match settings.top_p {
                Some(p) => Sampling::TopP {
                    p,
                    temperature: settings.temperature,
                },
                None => Sampling::All {
                    temperature: settings.temperature,
                },
            }
        };
        Self {
            sampler: LogitsProcessor::from_sampling(settings.seed, sampling),
            generated: Vec::new(),
            // An answer of no tokens is done before it starts.
            stop: (settings.max_new_tokens == 0).then_some(StopReason::TokenCap),
            prompt_tokens,
            reused_prompt_tokens,
            prefill_seconds,
            decode_seconds: 0.0,
        }
    }

    /// Pick the next token from `logits`. Returns the token to read next, or
    /// `None` once the answer is done (end of turn, or the token cap).
    fn next_token(
        &mut self,
        logits: &Tensor,
        settings: &GenerationSettings,
        stop_tokens: &[u32],
    ) -> Result<Option<u32>, GenerateError> {
        if self.stop.is_some() {
            return Ok(None);
        }
        let next = if settings.repeat_penalty != 1.0 && !self.generated.is_empty() {
            let start = self.generated.len().saturating_sub(settings.repeat_last_n);
            let penalised = candle_transformers::utils::apply_repeat_penalty(
                logits,
                settings.repeat_penalty,
                &self.generated[start..],
            )?;
            self.sampler.sample(&penalised)?
        } else {
            self.sampler.sample(logits)?
        };
        if stop_tokens.contains(&next) {
            self.stop = Some(StopReason::EndOfTurn);
            return Ok(None);
        }
        self.generated.push(next);
        if self.generated.len() >= settings.max_new_tokens {
            self.stop = Some(StopReason::TokenCap);
            return Ok(None);
        }
        Ok(Some(next))
    }

    fn finish(self, tokenizer: &tokenizers::Tokenizer) -> Result<Generation, GenerateError> {
        let text = tokenizer
            .decode(&self.generated, true)
            .map_err(|e| GenerateError::Tokenize(e.to_string()))?;
        Ok(Generation {
            text,
            prompt_tokens: self.prompt_tokens,
            reused_prompt_tokens: self.reused_prompt_tokens,
            generated_tokens: self.generated.len(),
            prefill_seconds: self.prefill_seconds,
            decode_seconds: self.decode_seconds,
            stop: self.stop.unwrap_or(StopReason::TokenCap),
        })
    }
}

impl Generator for ModelGenerator {
    fn generate(
        &mut self,
        messages: &[ChatMessage],
        settings: &GenerationSettings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Generation, GenerateError> {
        let prompt = self.prompt_tokens(messages, settings)?;
        let prefill_start = Instant::now();
        let (mut logits, reused) = self.prefill(0, &prompt, settings, progress)?;
        // One answer at a time from here on: the other sequences (parts'
        // notes written together) are no longer needed.
        self.release_sequences();
        let prefill_seconds = prefill_start.elapsed().as_secs_f64();

        let decode_start = Instant::now();
        let mut answer = Answer::new(prompt.len(), reused, prefill_seconds, settings);
        while let Some(next) = answer.next_token(&logits, settings, &self.model.stop_tokens)? {
            progress(Progress::Decode {
                generated: answer.generated.len(),
                max: settings.max_new_tokens,
            });
            logits = self.model.network.forward(&[next])?;
            self.cached[0].push(next);
        }
        answer.decode_seconds = decode_start.elapsed().as_secs_f64();
        answer.finish(&self.model.tokenizer)
    }

    /// Prompts are read one after another, each into its own sequence of the
    /// model's cache, after the longest prefix of it any sequence holds;
    /// then all answers are written together, each step
    /// reading one new token of every unfinished answer in one pass through
    /// the weights. Decode is bound by reading the weights, so a step of four
    /// answers costs about twice a step of one, not four times.
    fn generate_many(
        &mut self,
        prompts: &[Vec<ChatMessage>],
        settings: &GenerationSettings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<Generation>, GenerateError> {
        if prompts.len() <= 1 {
            return one_by_one(self, prompts, settings, progress);
        }
        // The sequences are kept afterwards: a part asked again reads only
        // what follows its first prompt. The next single answer frees them.
        self.write_together(prompts, settings, progress)
    }

    fn count_tokens(&self, text: &str) -> usize {
        self.encode(text)
            .map(|ids| ids.len())
            .unwrap_or(text.len() / 3)
    }

    fn context_length(&self) -> usize {
        self.model.network.context_length()
    }
}

/// A generator with canned answers, for testing the pipeline and batch runs
/// without a model. Prompts that ask for a translation get the
/// `translations` answers, prompts that ask for notes on a part the `notes`
/// answers, all others the `brief` answers; each list is used in order and
/// its last answer repeats. Like a model, it stops at `max_new_tokens`
/// (words stand in for tokens) and then reports the token cap.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScriptedGenerator {
    pub brief: Vec<String>,
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub translations: Vec<String>,
    /// Pause per answer, so tests can interrupt a run mid-way.
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(skip)]
    pub calls: Vec<Vec<ChatMessage>>,
    /// The number of prompts in each `generate_many` call.
    #[serde(skip)]
    pub batches: Vec<usize>,
}

/// The line that opens the text of a translation prompt.
pub const TRANSLATION_MARKER: &str = "\nPARAGRAPHS TO TRANSLATE:\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnswerKind {
    Brief,
    Notes,
    Translation,
}

impl ScriptedGenerator {
    fn pick(list: &[String], used: usize) -> String {
        list.get(used).or(list.last()).cloned().unwrap_or_default()
    }

    fn kind_of(messages: &[ChatMessage]) -> AnswerKind {
        let asks = |marker: &str| {
            messages
                .iter()
                .any(|m| m.role == "user" && m.content.contains(marker))
        };
        // Checked first: a paragraph to translate may itself contain "PART".
        if asks(TRANSLATION_MARKER) {
            AnswerKind::Translation
        } else if asks("\nPART ") {
            AnswerKind::Notes
        } else {
            AnswerKind::Brief
        }
    }
}

impl Generator for ScriptedGenerator {
    fn generate_many(
        &mut self,
        prompts: &[Vec<ChatMessage>],
        settings: &GenerationSettings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<Generation>, GenerateError> {
        self.batches.push(prompts.len());
        one_by_one(self, prompts, settings, progress)
    }

    fn generate(
        &mut self,
        messages: &[ChatMessage],
        settings: &GenerationSettings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Generation, GenerateError> {
        let kind = Self::kind_of(messages);
        let used = self
            .calls
            .iter()
            .filter(|c| Self::kind_of(c) == kind)
            .count();
        self.calls.push(messages.to_vec());
        let list = match kind {
            AnswerKind::Brief => &self.brief,
            AnswerKind::Notes => &self.notes,
            AnswerKind::Translation => &self.translations,
        };
        let mut text = Self::pick(list, used);
        let mut stop = StopReason::EndOfTurn;
        if self.count_tokens(&text) > settings.max_new_tokens {
            // Cut after the last allowed word, keeping the lines as they are.
            let end = text
                .split_whitespace()
                .take(settings.max_new_tokens)
                .last()
                .map(|w| w.as_ptr() as usize - text.as_ptr() as usize + w.len())
                .unwrap_or(0);
            text.truncate(end);
            stop = StopReason::TokenCap;
        }
        if self.delay_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(self.delay_ms));
        }
        let prompt_tokens = self.count_tokens(
            &messages
                .iter()
                .map(|m| m.content.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        );
        progress(Progress::Prefill {
            done: prompt_tokens,
            total: prompt_tokens,
        });
        let generated_tokens = self.count_tokens(&text).min(settings.max_new_tokens);
        Ok(Generation {
            text,
            prompt_tokens,
            reused_prompt_tokens: 0,
            generated_tokens,
            prefill_seconds: 0.0,
            decode_seconds: 0.0,
            stop,
        })
    }

    /// Words stand in for tokens.
    fn count_tokens(&self, text: &str) -> usize {
        text.split_whitespace().count()
    }

    fn context_length(&self) -> usize {
        32_768
    }
}

/// A generator that keeps its answers on disk. With greedy or seeded
/// sampling an answer is a function of the model file, the messages and the
/// settings, so a run that was killed, or re-run after a change to a later
/// stage's prompt, takes the answers it already has (the notes on each part
/// of a long document) instead of asking the model again.
pub struct AnswerMemo<G> {
    inner: G,
    dir: std::path::PathBuf,
    model_sha256: String,
    /// Ask the model even when an answer is kept (still keeping the new one).
    pub refresh: bool,
    /// Answers taken from the memo so far.
    pub hits: usize,
}

/// What the memo keeps of a generation.
#[derive(Debug, Serialize, Deserialize)]
struct KeptAnswer {
    text: String,
    stop: StopReason,
}

impl<G: Generator> AnswerMemo<G> {
    /// Keep answers in `dir` (created when first written), for the model
    /// file with this sha256.
    pub fn new(inner: G, dir: impl Into<std::path::PathBuf>, model_sha256: &str) -> Self {
        Self {
            inner,
            dir: dir.into(),
            model_sha256: model_sha256.to_string(),
            refresh: false,
            hits: 0,
        }
    }

    fn key(&self, messages: &[ChatMessage], settings: &GenerationSettings) -> String {
        use sha2::{Digest, Sha256};
        let what = serde_json::json!({ "model": self.model_sha256, "messages": messages, "settings": settings });
        hex::encode(Sha256::digest(what.to_string().as_bytes()))
    }

    /// Write all or nothing; a memo that cannot be written only costs time
    /// on a later run, so it is logged, not fatal.
    fn keep(&self, path: &std::path::Path, answer: &KeptAnswer) {
        let written = std::fs::create_dir_all(&self.dir).and_then(|()| {
            let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
            std::io::Write::write_all(
                &mut file,
                serde_json::to_string(answer).unwrap_or_default().as_bytes(),
            )?;
            file.persist(path).map(drop).map_err(|e| e.error)
        });
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "cannot keep the model's answer");
        }
    }
}

impl<G: Generator> AnswerMemo<G> {
    fn path(&self, messages: &[ChatMessage], settings: &GenerationSettings) -> std::path::PathBuf {
        self.dir
            .join(format!("{}.json", self.key(messages, settings)))
    }

    /// The kept answer at `path`, unless asked to refresh. A torn or foreign
    /// file is not an answer.
    fn kept(&mut self, path: &std::path::Path) -> Option<Generation> {
        if self.refresh {
            return None;
        }
        let kept = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<KeptAnswer>(&b).ok())?;
        self.hits += 1;
        // No tokens were read or generated for it, so timings stay honest.
        Some(Generation {
            text: kept.text,
            prompt_tokens: 0,
            reused_prompt_tokens: 0,
            generated_tokens: 0,
            prefill_seconds: 0.0,
            decode_seconds: 0.0,
            stop: kept.stop,
        })
    }

    fn keep_generation(&self, path: &std::path::Path, generation: &Generation) {
        self.keep(
            path,
            &KeptAnswer {
                text: generation.text.clone(),
                stop: generation.stop,
            },
        );
    }
}

impl<G: Generator> Generator for AnswerMemo<G> {
    fn generate(
        &mut self,
        messages: &[ChatMessage],
        settings: &GenerationSettings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Generation, GenerateError> {
        let path = self.path(messages, settings);
        if let Some(kept) = self.kept(&path) {
            return Ok(kept);
        }
        let generation = self.inner.generate(messages, settings, progress)?;
        self.keep_generation(&path, &generation);
        Ok(generation)
    }

    /// Kept answers are taken; the others go to the inner generator
    /// together.
    fn generate_many(
        &mut self,
        prompts: &[Vec<ChatMessage>],
        settings: &GenerationSettings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<Generation>, GenerateError> {
        let paths: Vec<_> = prompts.iter().map(|m| self.path(m, settings)).collect();
        let mut answers: Vec<Option<Generation>> = paths.iter().map(|p| self.kept(p)).collect();
        let missing: Vec<usize> = (0..prompts.len())
            .filter(|&i| answers[i].is_none())
            .collect();
        if !missing.is_empty() {
            let asked: Vec<Vec<ChatMessage>> =
                missing.iter().map(|&i| prompts[i].clone()).collect();
            let generations = self.inner.generate_many(&asked, settings, progress)?;
            for (&i, generation) in missing.iter().zip(generations) {
                self.keep_generation(&paths[i], &generation);
                answers[i] = Some(generation);
            }
        }
        Ok(answers
            .into_iter()
            .map(|a| a.expect("every prompt answered"))
            .collect())
    }

    fn count_tokens(&self, text: &str) -> usize {
        self.inner.count_tokens(text)
    }

    fn context_length(&self) -> usize {
        self.inner.context_length()
    }
}

impl Generator for Box<dyn Generator> {
    fn generate(
        &mut self,
        messages: &[ChatMessage],
        settings: &GenerationSettings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Generation, GenerateError> {
        (**self).generate(messages, settings, progress)
    }

    fn generate_many(
        &mut self,
        prompts: &[Vec<ChatMessage>],
        settings: &GenerationSettings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<Generation>, GenerateError> {
        (**self).generate_many(prompts, settings, progress)
    }

    fn count_tokens(&self, text: &str) -> usize {
        (**self).count_tokens(text)
    }

    fn context_length(&self) -> usize {
        (**self).context_length()
    }
}

#[cfg(test)]
mod memo_tests {
    use super::*;

    fn ask(g: &mut dyn Generator, text: &str) -> Generation {
        let settings = GenerationSettings::default();
        g.generate(&[ChatMessage::user(text)], &settings, &mut |_| {})
            .unwrap()
    }

    #[test]
    fn a_kept_answer_is_reused_and_a_new_prompt_asks_the_model() {
        let dir = tempfile::tempdir().unwrap();
        let scripted = ScriptedGenerator {
            brief: vec!["first".into(), "second".into()],
            ..Default::default()
        };
        let mut memo = AnswerMemo::new(scripted, dir.path().join("answers"), "abc");
        assert_eq!(ask(&mut memo, "one").text, "first");
        assert_eq!(ask(&mut memo, "one").text, "first");
        assert_eq!(memo.hits, 1);
        assert_eq!(ask(&mut memo, "two").text, "second");

        // A later run (a new memo on the same folder) starts with the kept answers.
        let scripted = ScriptedGenerator {
            brief: vec!["other".into()],
            ..Default::default()
        };
        let mut again = AnswerMemo::new(scripted, dir.path().join("answers"), "abc");
        assert_eq!(ask(&mut again, "two").text, "second");
        assert_eq!(ask(&mut again, "one").text, "first");
        // Another model file does not share them.
        let scripted = ScriptedGenerator {
            brief: vec!["other".into()],
            ..Default::default()
        };
        let mut other_model = AnswerMemo::new(scripted, dir.path().join("answers"), "def");
        assert_eq!(ask(&mut other_model, "one").text, "other");
    }

    /// Prompts written together pass through the memo (and a boxed
    /// generator) together; only those without a kept answer are asked.
    #[test]
    fn answers_asked_together_go_to_the_model_together_less_the_kept_ones() {
        let dir = tempfile::tempdir().unwrap();
        let scripted = ScriptedGenerator {
            brief: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            ..Default::default()
        };
        let mut memo = AnswerMemo::new(scripted, dir.path(), "abc");
        assert_eq!(ask(&mut memo, "two").text, "a");
        let mut boxed: Box<dyn Generator> = Box::new(memo);
        let prompts: Vec<Vec<ChatMessage>> = ["one", "two", "three"]
            .iter()
            .map(|&t| vec![ChatMessage::user(t)])
            .collect();
        let settings = GenerationSettings::default();
        let texts: Vec<String> = boxed
            .generate_many(&prompts, &settings, &mut |_| {})
            .unwrap()
            .into_iter()
            .map(|g| g.text)
            .collect();
        assert_eq!(texts, ["b", "a", "c"]);
        // Asked again, all three are kept answers.
        let again = boxed
            .generate_many(&prompts, &settings, &mut |_| {})
            .unwrap();
        assert!(again.iter().all(|g| g.generated_tokens == 0));
        drop(boxed);
        let scripted = ScriptedGenerator {
            brief: vec!["x".into()],
            ..Default::default()
        };
        let mut memo = AnswerMemo::new(scripted, dir.path(), "abc");
        memo.generate_many(&prompts, &settings, &mut |_| {})
            .unwrap();
        assert_eq!(memo.hits, 3);
        assert!(memo.inner.batches.is_empty(), "nothing left to ask");
    }

    #[test]
    fn the_missing_answers_are_asked_in_one_call() {
        let dir = tempfile::tempdir().unwrap();
        let scripted = ScriptedGenerator {
            brief: vec!["a".into(), "b".into(), "c".into()],
            ..Default::default()
        };
        let mut memo = AnswerMemo::new(scripted, dir.path(), "abc");
        ask(&mut memo, "two");
        let prompts: Vec<Vec<ChatMessage>> = ["one", "two", "three"]
            .iter()
            .map(|&t| vec![ChatMessage::user(t)])
            .collect();
        let settings = GenerationSettings::default();
        memo.generate_many(&prompts, &settings, &mut |_| {})
            .unwrap();
        assert_eq!(memo.inner.batches, [2]);
    }

    #[test]
    fn refresh_asks_again_and_a_torn_file_is_not_an_answer() {
        let dir = tempfile::tempdir().unwrap();
        let scripted = ScriptedGenerator {
            brief: vec!["first".into(), "second".into()],
            ..Default::default()
        };
        let mut memo = AnswerMemo::new(scripted, dir.path(), "abc");
        ask(&mut memo, "one");
        memo.refresh = true;
        assert_eq!(ask(&mut memo, "one").text, "second");
        memo.refresh = false;
        assert_eq!(
            ask(&mut memo, "one").text,
            "second",
            "the refreshed answer is kept"
        );
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            std::fs::write(entry.unwrap().path(), b"{\"text\": \"cut").unwrap();
        }
        let scripted = ScriptedGenerator {
            brief: vec!["fresh".into()],
            ..Default::default()
        };
        let mut torn = AnswerMemo::new(scripted, dir.path(), "abc");
        assert_eq!(ask(&mut torn, "one").text, "fresh");
        assert_eq!(torn.hits, 0);
    }
}
