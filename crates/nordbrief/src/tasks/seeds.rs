//! `bench --seeds`: brief a folder end to end with the default options,
//! nothing skipped or reused, and say where the time went.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::brief::{brief_batch, brief_task};
use super::generator::{generator_loader, GeneratorSource, TaskError};
use crate::batch::Outcome;
use crate::brief::{Brief, StageTiming};
use crate::pipeline::BriefOptions;
use crate::prompts::PromptSet;

#[derive(Debug, Clone, Serialize)]
pub struct DocumentSeconds {
    pub id: String,
    /// `None` when the document failed.
    pub seconds: Option<f64>,
}

/// One end-to-end run over a folder.
#[derive(Debug, Clone, Serialize)]
pub struct EndToEnd {
    pub documents: usize,
    pub failed: usize,
    pub wall_seconds: f64,
    /// The whole process's peak, whatever ran before in it included.
    pub peak_rss_bytes: Option<u64>,
    pub per_document: Vec<DocumentSeconds>,
    /// Summed from the timings each brief records.
    pub stages: Vec<StageTiming>,
}

/// Briefs every document under `seeds` into `keep` (emptied first), or into
/// a temporary folder when `keep` is `None`.
pub fn brief_end_to_end(
    seeds: &Path,
    keep: Option<&Path>,
    source: GeneratorSource,
    prompts: &PromptSet,
    embedder: Option<crate::model::Embedder>,
) -> Result<EndToEnd, TaskError> {
    let scratch = tempfile::tempdir().map_err(TaskError::Scratch)?;
    let out: PathBuf = match keep {
        Some(dir) => {
            // A timing counts only when nothing is skipped or reused.
            if dir.exists() {
                std::fs::remove_dir_all(dir).map_err(|source| TaskError::Empty {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
            dir.to_path_buf()
        }
        None => scratch.path().to_path_buf(),
    };
    let (model, load_generator) = generator_loader(source)?;
    let options = BriefOptions::default();
    let batch = brief_batch(
        vec![seeds.to_path_buf()],
        out.clone(),
        true,
        None,
        &model,
        &options,
        prompts,
        embedder.as_ref().map(|e| e.sha256()),
    );
    let start = Instant::now();
    let outcomes = batch.run(
        brief_task(
            load_generator,
            model,
            options,
            prompts,
            embedder.map(|e| (e, None)),
        ),
        &mut |_| {},
    )?;
    let wall_seconds = start.elapsed().as_secs_f64();
    let mut timings = Vec::new();
    let mut per_document = Vec::new();
    for o in &outcomes {
        let seconds = match &o.outcome {
            Outcome::Done { seconds, .. } => Some(*seconds),
            _ => None,
        };
        if seconds.is_some() {
            let path = out.join(format!("{}.json", o.id));
            let text = std::fs::read_to_string(&path).map_err(|source| TaskError::Read {
                path: path.clone(),
                source,
            })?;
            let brief: Brief = serde_json::from_str(&text)
                .map_err(|source| TaskError::NotABrief { path, source })?;
            timings.push(brief.timings);
        }
        per_document.push(DocumentSeconds {
            id: o.id.clone(),
            seconds,
        });
    }
    Ok(EndToEnd {
        documents: outcomes.len(),
        failed: per_document.iter().filter(|d| d.seconds.is_none()).count(),
        wall_seconds,
        peak_rss_bytes: crate::bench::peak_rss_bytes(),
        per_document,
        stages: crate::bench::sum_stages(&timings),
    })
}
