//! `nordbrief brief`: one brief printed, or a folder of briefs written.

use anyhow::{bail, Context, Result};
use std::process::ExitCode;

use super::{finish_batch, load_embedder, prepare_batch, set_threads, BatchSetup};
use crate::args::BriefArgs;
use crate::progress::Display;
use nordbrief::pipeline::BriefOptions;
use nordbrief::prompts::PromptSet;
use nordbrief::tasks::{brief_batch, brief_task, EMBEDDING_MEMO_DIR};

pub fn run(args: BriefArgs) -> Result<ExitCode> {
    set_threads(args.model.threads);
    let options = brief_options(&args)?;
    let prompts = PromptSet::from_env().context("cannot load the prompt templates")?;
    let BatchSetup {
        documents,
        single,
        model,
        load_generator,
        out,
        scratch: _scratch,
    } = prepare_batch(
        &args.inputs,
        args.out.as_deref(),
        &args.model,
        args.quiet,
        args.force,
        "brief",
    )?;
    // Canned answers (the pipeline's tests) check by wording unless a
    // folder is named: they must not fetch a model.
    let scripted = args.model.scripted_answers.is_some() && args.embedding.embedding_path.is_none();
    let embedder = if args.no_embeddings || scripted {
        None
    } else {
        Some(load_embedder(
            &args.embedding,
            args.model.allow_unpinned,
            args.quiet,
        )?)
    };
    let batch = brief_batch(
        documents,
        out.clone(),
        args.force || single,
        args.shard,
        &model,
        &options,
        &prompts,
        embedder.as_ref().map(|e| e.sha256()),
    );
    let memo_dir = (!single).then(|| out.join(EMBEDDING_MEMO_DIR));
    let mut display = Display::new(args.quiet || single);
    let outcomes = batch.run(
        brief_task(
            load_generator,
            model,
            options,
            &prompts,
            embedder.map(|e| (e, memo_dir)),
        ),
        &mut |e| display.event(e),
    )?;
    display.finish();
    let ext = if args.json { "json" } else { "md" };
    let output_of = |id: &str| out.join(format!("{id}.{ext}"));
    finish_batch(
        &outcomes,
        single,
        args.quiet,
        &out,
        ("brief", "briefed"),
        output_of,
    )
}

fn brief_options(args: &BriefArgs) -> Result<BriefOptions> {
    if args.context_budget < 256 {
        bail!(
            "--context-budget {} is too small; use at least 256 tokens",
            args.context_budget
        );
    }
    if args.reduce_budget < args.context_budget {
        bail!(
            "--reduce-budget {} is smaller than --context-budget {}; the notes of one part must fit",
            args.reduce_budget,
            args.context_budget
        );
    }
    if args.parallel == 0 {
        bail!("--parallel 0 writes nothing; use 1 to write one part's notes at a time");
    }
    let mut options = BriefOptions {
        method: args.method.into(),
        translate_budget: args.translate_budget,
        context_budget: args.context_budget,
        reduce_budget: args.reduce_budget,
        quotes: args.quotes,
        parallel: args.parallel,
        ..BriefOptions::default()
    };
    options.settings.max_new_tokens = args.max_new_tokens;
    options.settings.temperature = args.temperature;
    options.settings.top_p = args.top_p;
    options.settings.seed = args.seed;
    options.settings.repeat_penalty = args.repeat_penalty;
    Ok(options)
}
