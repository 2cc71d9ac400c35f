//! `nordbrief translate`: one translation printed, or a folder written.

use anyhow::{bail, Context, Result};
use std::process::ExitCode;

use super::{finish_batch, prepare_batch, set_threads, BatchSetup};
use crate::args::TranslateArgs;
use crate::progress::Display;
use nordbrief::pipeline::TranslateOptions;
use nordbrief::prompts::PromptSet;
use nordbrief::tasks::{translate_batch, translate_task};

pub fn run(args: TranslateArgs) -> Result<ExitCode> {
    set_threads(args.model.threads);
    let options = translate_options(&args)?;
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
        "translation",
    )?;
    let format = args.format;
    let batch = translate_batch(
        documents,
        out.clone(),
        args.force || single,
        args.shard,
        &model,
        &options,
        &prompts,
        format,
    );
    let mut display = Display::new(args.quiet || single);
    let outcomes = batch.run(
        translate_task(load_generator, model, options, &prompts, format),
        &mut |e| display.event(e),
    )?;
    display.finish();
    let output_of = |id: &str| out.join(format.file_name(id));
    finish_batch(
        &outcomes,
        single,
        args.quiet,
        &out,
        ("translation", "translated"),
        output_of,
    )
}

fn translate_options(args: &TranslateArgs) -> Result<TranslateOptions> {
    if args.group_budget < 32 {
        bail!(
            "--group-budget {} is too small; use at least 32 tokens",
            args.group_budget
        );
    }
    let mut options = TranslateOptions {
        group_budget: args.group_budget,
        ..TranslateOptions::default()
    };
    options.settings.max_new_tokens = args.max_new_tokens;
    options.settings.temperature = args.temperature;
    options.settings.top_p = args.top_p;
    options.settings.seed = args.seed;
    options.settings.repeat_penalty = args.repeat_penalty;
    Ok(options)
}
