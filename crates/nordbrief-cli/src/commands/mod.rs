//! One file per command; what several of them share is here.

pub mod bench;
pub mod brief;
pub mod check;
pub mod digest;
pub mod embed;
pub mod eval;
pub mod inspect;
pub mod models;
pub mod translate;

use anyhow::{bail, Context, Result};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::args::ModelArgs;
use crate::output::exit_code;
use nordbrief::batch::{DocumentOutcome, Outcome};
use nordbrief::brief::ModelInfo;
use nordbrief::model::{self, ResolveOptions, ResolvedModel};
use nordbrief::tasks::{self, GeneratorLoader, GeneratorSource};

pub fn set_threads(threads: Option<usize>) -> usize {
    // candle and rayon both read this before their first parallel call.
    let n = threads
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1);
    std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    n
}

pub fn resolve_model(args: &ModelArgs, quiet: bool) -> Result<ResolvedModel> {
    let mut opts = ResolveOptions::from_env();
    opts.quiet = quiet || !std::io::stderr().is_terminal();
    opts.allow_unpinned |= args.allow_unpinned;
    if let Some(path) = &args.model_path {
        return model::resolve_path(path, &opts)
            .with_context(|| format!("cannot use model file {}", path.display()));
    }
    let id = args.model.clone().unwrap_or_else(model::default_model_id);
    let manifest = model::find_manifest_in(&id, opts.models_dir.as_deref())?;
    if manifest.kind != model::ModelKind::Text {
        bail!(
            "model `{id}` is an {} model, not one that writes text; pass a text model with --model (see `nordbrief models list`)",
            manifest.kind.name()
        );
    }
    model::resolve(&manifest, &opts).with_context(|| format!("cannot obtain model `{id}`"))
}

/// The embedding model the flags name, resolved (fetched and verified) and loaded.
pub fn load_embedder(
    args: &crate::args::EmbeddingArgs,
    allow_unpinned: bool,
    quiet: bool,
) -> Result<model::Embedder> {
    let mut opts = ResolveOptions::from_env();
    opts.quiet = quiet || !std::io::stderr().is_terminal();
    opts.allow_unpinned |= allow_unpinned;
    let resolved = match &args.embedding_path {
        Some(dir) => model::resolve_folder_path(dir, &opts)
            .with_context(|| format!("cannot use embedding model folder {}", dir.display()))?,
        None => {
            let id = &args.embedding_model;
            let manifest = model::find_manifest_in(id, opts.models_dir.as_deref())?;
            if manifest.kind != model::ModelKind::Embedding {
                bail!(
                    "model `{id}` is a {} model; --embedding-model takes an embedding model (see `nordbrief models list`)",
                    manifest.kind.name()
                );
            }
            model::resolve(&manifest, &opts)
                .with_context(|| format!("cannot obtain embedding model `{id}`"))?
        }
    };
    model::Embedder::load(&resolved.path, &resolved.sha256).with_context(|| {
        format!(
            "cannot load the embedding model in {}",
            resolved.path.display()
        )
    })
}

/// The model the flags name (resolved: fetched and verified), or canned answers.
pub fn generator_source(args: &ModelArgs, quiet: bool) -> Result<GeneratorSource> {
    Ok(match &args.scripted_answers {
        Some(path) => GeneratorSource::Scripted(path.clone()),
        None => GeneratorSource::Model(Box::new(resolve_model(args, quiet)?)),
    })
}

/// What `brief` and `translate` share before their batch runs.
pub struct BatchSetup {
    pub documents: Vec<PathBuf>,
    /// One document without --out: printed, not written to a folder.
    pub single: bool,
    pub model: ModelInfo,
    pub load_generator: GeneratorLoader,
    pub out: PathBuf,
    /// Holds the output folder of a single document until the run ends.
    pub scratch: Option<tempfile::TempDir>,
}

/// Check the inputs before fetching a model (`what`: "brief",
/// "translation"), then resolve the model and the output folder; a batch
/// answers from OUT's memo of model answers (`force` asks again).
pub fn prepare_batch(
    inputs: &[PathBuf],
    out: Option<&std::path::Path>,
    model_args: &ModelArgs,
    quiet: bool,
    force: bool,
    what: &str,
) -> Result<BatchSetup> {
    let documents = nordbrief::batch::collect_inputs(inputs)?;
    let single = out.is_none();
    if single && documents.len() > 1 {
        bail!(
            "{} documents given; pass --out DIR to write one {what} per document",
            documents.len()
        );
    }
    let (model, load_generator) = tasks::generator_loader(generator_source(model_args, quiet)?)?;
    let (out, scratch) = match out {
        Some(dir) => (dir.to_path_buf(), None),
        None => {
            let scratch = tempfile::tempdir().context("cannot create a temporary folder")?;
            (scratch.path().to_path_buf(), Some(scratch))
        }
    };
    let load_generator = if single {
        load_generator
    } else {
        tasks::with_answer_memo(load_generator, &model, &out, force)
    };
    Ok(BatchSetup {
        documents,
        single,
        model,
        load_generator,
        out,
        scratch,
    })
}

/// Ends a batch command: a single document's output (or its error) is
/// printed; a batch says what was done, and exits 1 if any document failed.
pub fn finish_batch(
    outcomes: &[DocumentOutcome],
    single: bool,
    quiet: bool,
    out: &Path,
    (output_noun, done_verb): (&str, &str),
    single_output: impl Fn(&str) -> PathBuf,
) -> Result<ExitCode> {
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Failed { .. }))
        .collect();
    if single {
        if let Some(o) = failed.first() {
            if let Outcome::Failed { reason } = &o.outcome {
                // Most reasons already name the file.
                if reason.contains(&*o.source.to_string_lossy()) {
                    bail!("{reason}");
                }
                bail!("{}: {reason}", o.source.display());
            }
        }
        let text = std::fs::read_to_string(single_output(&outcomes[0].id))
            .with_context(|| format!("cannot read the {output_noun} back"))?;
        outln!("{}", text.trim_end());
        return Ok(ExitCode::SUCCESS);
    }
    let done = outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Done { .. }))
        .count();
    let unchanged = outcomes
        .iter()
        .filter(|o| o.outcome == Outcome::Unchanged)
        .count();
    if !quiet {
        eprintln!(
            "{done} {done_verb}, {unchanged} unchanged, {} failed → {}",
            failed.len(),
            out.display()
        );
    }
    Ok(exit_code(!failed.is_empty()))
}
