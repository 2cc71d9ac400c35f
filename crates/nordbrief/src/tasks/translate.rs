//! Translations: the task behind `nordbrief translate`.

use std::path::PathBuf;

use super::generator::GeneratorLoader;
use crate::batch::{settings_sha256, Batch, DocumentTask, Shard, TaskLoader, TaskOutput};
use crate::brief::ModelInfo;
use crate::brief::TranslationFormat;
use crate::generate::Generator;
use crate::ingest::Document;
use crate::pipeline::translate::{translate_document, TranslateOptions, TranslateRequest};
use crate::pipeline::PipelineEvent;
use crate::prompts::PromptSet;

/// Translations into English, one document at a time.
pub struct TranslateTask<'a> {
    pub generator: Box<dyn Generator>,
    pub load_seconds: f64,
    pub model: ModelInfo,
    pub options: TranslateOptions,
    pub prompts: &'a PromptSet,
    pub format: TranslationFormat,
}

impl DocumentTask for TranslateTask<'_> {
    fn process(
        &mut self,
        id: &str,
        document: &Document,
        on_event: &mut dyn FnMut(&PipelineEvent),
    ) -> Result<TaskOutput, String> {
        let request = TranslateRequest {
            id: id.to_string(),
            document,
            model: self.model.clone(),
            load_seconds: self.load_seconds,
        };
        let translation = translate_document(
            self.generator.as_mut(),
            self.prompts,
            &request,
            &self.options,
            &mut |e| on_event(&e),
        )
        .map_err(|e| e.to_string())?;
        let mut files = vec![(
            TranslationFormat::Json.file_name(id),
            translation.to_json().into_bytes(),
        )];
        if self.format != TranslationFormat::Json {
            files.push((
                self.format.file_name(id),
                translation.render(self.format).into_bytes(),
            ));
        }
        let flagged = translation
            .paragraphs
            .iter()
            .filter(|p| !p.flags.is_empty())
            .count();
        Ok(TaskOutput {
            files,
            warnings: flagged.max(translation.warnings.len()),
        })
    }
}

/// A batch of translations into `out`, written as `format` beside the JSON.
#[allow(clippy::too_many_arguments)]
pub fn translate_batch(
    inputs: Vec<PathBuf>,
    out: PathBuf,
    force: bool,
    shard: Option<Shard>,
    model: &ModelInfo,
    options: &TranslateOptions,
    prompts: &PromptSet,
    format: TranslationFormat,
) -> Batch {
    Batch {
        inputs,
        out,
        force,
        shard,
        kind: "translate",
        model_sha256: model.sha256.clone(),
        prompt_versions: prompts.versions().clone(),
        settings_sha256: settings_sha256(&(options, prompts.text_sha256())),
        outputs: format.outputs(),
    }
}

/// The translation task, made once the batch finds a document to translate.
pub fn translate_task<'a>(
    load_generator: GeneratorLoader,
    model: ModelInfo,
    options: TranslateOptions,
    prompts: &'a PromptSet,
    format: TranslationFormat,
) -> TaskLoader<'a> {
    Box::new(move || {
        let (generator, load_seconds) = load_generator()?;
        Ok(Box::new(TranslateTask {
            generator,
            load_seconds,
            model,
            options,
            prompts,
            format,
        }) as Box<dyn DocumentTask + 'a>)
    })
}
