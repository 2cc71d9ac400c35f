//! Briefs: the task behind `nordbrief brief`.

use std::path::PathBuf;

use super::generator::GeneratorLoader;
use crate::batch::{settings_sha256, Batch, DocumentTask, Shard, TaskLoader, TaskOutput};
use crate::brief::ModelInfo;
use crate::generate::Generator;
use crate::ingest::Document;
use crate::model::{Embed, Embedder, EmbeddingMemo};
use crate::pipeline::{brief_document, BriefOptions, BriefRequest, PipelineEvent};
use crate::prompts::PromptSet;

/// Briefs: the task behind `nordbrief brief`.
pub struct BriefTask<'a> {
    pub generator: Box<dyn Generator>,
    pub load_seconds: f64,
    pub model: ModelInfo,
    pub options: BriefOptions,
    pub prompts: &'a PromptSet,
    /// The embedding model, and the folder its vectors are kept in.
    pub embedder: Option<(Embedder, Option<PathBuf>)>,
}

pub fn brief_outputs(id: &str) -> Vec<String> {
    vec![format!("{id}.json"), format!("{id}.md")]
}

impl DocumentTask for BriefTask<'_> {
    fn process(
        &mut self,
        id: &str,
        document: &Document,
        on_event: &mut dyn FnMut(&PipelineEvent),
    ) -> Result<TaskOutput, String> {
        let memo = self.embedder.as_ref().and_then(|(embedder, dir)| {
            let dir = dir.as_ref()?;
            Some(EmbeddingMemo::new(embedder, dir, &document.source_sha256))
        });
        let embedder: Option<&dyn Embed> = match (&memo, &self.embedder) {
            (Some(memo), _) => Some(memo),
            (None, Some((embedder, _))) => Some(embedder),
            (None, None) => None,
        };
        let request = BriefRequest {
            id: id.to_string(),
            document,
            model: self.model.clone(),
            load_seconds: self.load_seconds,
            embedder,
        };
        let brief = brief_document(
            self.generator.as_mut(),
            self.prompts,
            &request,
            &self.options,
            &mut |e| on_event(&e),
        )
        .map_err(|e| e.to_string())?;
        let json = serde_json::to_vec_pretty(&brief).expect("brief serialises");
        Ok(TaskOutput {
            files: vec![
                (format!("{id}.json"), json),
                (
                    format!("{id}.md"),
                    brief.to_markdown_with(self.options.quotes).into_bytes(),
                ),
            ],
            warnings: brief.warnings.len(),
        })
    }
}

/// A batch of briefs into `out`; its run key holds the model, the prompts
/// and the options, so a change to any of them redoes the documents.
pub fn brief_batch(
    inputs: Vec<PathBuf>,
    out: PathBuf,
    force: bool,
    shard: Option<Shard>,
    model: &ModelInfo,
    options: &BriefOptions,
    prompts: &PromptSet,
    embedding_sha256: Option<&str>,
) -> Batch {
    Batch {
        inputs,
        out,
        force,
        shard,
        kind: "brief",
        model_sha256: model.sha256.clone(),
        prompt_versions: prompts.versions().clone(),
        settings_sha256: settings_sha256(&(options, prompts.text_sha256(), embedding_sha256)),
        outputs: brief_outputs,
    }
}

/// The brief task, made once the batch finds a document to brief.
/// `embedder`: the embedding model and the folder its vectors are kept in.
pub fn brief_task<'a>(
    load_generator: GeneratorLoader,
    model: ModelInfo,
    options: BriefOptions,
    prompts: &'a PromptSet,
    embedder: Option<(Embedder, Option<PathBuf>)>,
) -> TaskLoader<'a> {
    Box::new(move || {
        let (generator, load_seconds) = load_generator()?;
        Ok(Box::new(BriefTask {
            generator,
            load_seconds,
            model,
            options,
            prompts,
            embedder,
        }) as Box<dyn DocumentTask + 'a>)
    })
}
