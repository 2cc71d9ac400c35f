//! What writes the answers of a task: a model loaded when first needed, or
//! canned answers, with the answer memo in front.

use std::path::{Path, PathBuf};

use crate::batch::{sha256_hex, BatchError};
use crate::brief::ModelInfo;
use crate::generate::{AnswerMemo, Generator, ModelGenerator, ScriptedGenerator};
use crate::model::ResolvedModel;

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a scripted-answers file: {source}")]
    Scripted {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot create a temporary folder: {0}")]
    Scratch(std::io::Error),
    #[error("cannot empty {path}: {source}")]
    Empty {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a brief: {source}")]
    NotABrief {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(transparent)]
    Batch(#[from] BatchError),
}

/// What writes the answers: a resolved model, or a JSON file of canned
/// answers (for testing the pipeline without a model).
pub enum GeneratorSource {
    Model(Box<ResolvedModel>),
    Scripted(PathBuf),
}

/// Loads the generator when a batch first needs it, with its load time in
/// seconds: loading a model is the slow part of a run.
pub type GeneratorLoader = Box<dyn FnOnce() -> Result<(Box<dyn Generator>, f64), BatchError>>;

/// What a brief records as its model, and how to load the generator.
pub fn generator_loader(
    source: GeneratorSource,
) -> Result<(ModelInfo, GeneratorLoader), TaskError> {
    match source {
        GeneratorSource::Scripted(path) => {
            let bytes = std::fs::read(&path).map_err(|source| TaskError::Read {
                path: path.clone(),
                source,
            })?;
            let scripted: ScriptedGenerator = serde_json::from_slice(&bytes)
                .map_err(|source| TaskError::Scripted { path, source })?;
            let info = ModelInfo {
                id: "scripted".into(),
                sha256: sha256_hex(&bytes),
            };
            Ok((
                info,
                Box::new(move || Ok((Box::new(scripted) as Box<dyn Generator>, 0.0))),
            ))
        }
        GeneratorSource::Model(model) => {
            let info = ModelInfo {
                id: model.id.clone(),
                sha256: model.sha256.clone(),
            };
            let loader: GeneratorLoader = Box::new(move || {
                let loaded = crate::model::load(&model.path)?;
                let seconds = loaded.load_seconds;
                Ok((
                    Box::new(ModelGenerator::new(loaded)) as Box<dyn Generator>,
                    seconds,
                ))
            });
            Ok((info, loader))
        }
    }
}

/// Where a batch keeps the model's answers, so an interrupted or re-run
/// batch does not ask the model again for what it already answered.
pub const ANSWER_MEMO_DIR: &str = ".nordbrief-cache/answers";

/// Where a batch keeps its paragraph embeddings, beside the answers.
pub const EMBEDDING_MEMO_DIR: &str = ".nordbrief-cache/embeddings";

/// `load_generator`, answering from (and into) OUT's memo of answers;
/// `refresh` (--force) asks the model again.
pub fn with_answer_memo(
    load_generator: GeneratorLoader,
    model: &ModelInfo,
    out: &Path,
    refresh: bool,
) -> GeneratorLoader {
    let dir = out.join(ANSWER_MEMO_DIR);
    let sha256 = model.sha256.clone();
    Box::new(move || {
        let (generator, seconds) = load_generator()?;
        let mut memo = AnswerMemo::new(generator, dir, &sha256);
        memo.refresh = refresh;
        Ok((Box::new(memo) as Box<dyn Generator>, seconds))
    })
}
