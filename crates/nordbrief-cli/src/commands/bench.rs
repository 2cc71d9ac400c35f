//! `nordbrief bench`: the model's speed here, and optionally `brief` timed
//! end to end on a folder.

use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;

use super::{generator_source, load_embedder, resolve_model, set_threads};
use crate::args::BenchArgs;
use nordbrief::bench::{self, BenchConfig};
use nordbrief::generate::GenerationSettings;
use nordbrief::prompts::PromptSet;
use nordbrief::tasks::brief_end_to_end;

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    let threads = set_threads(args.model.threads);
    if let Some(file) = &args.embed {
        return embed(&args, file, threads);
    }
    let model = resolve_model(&args.model, false)?;
    let mut loaded = nordbrief::model::load(&model.path)?;
    let text = bench::sample_text(Path::new("seeds"));
    let config = BenchConfig {
        prefill_tokens: args.prefill.clone(),
        decode_tokens: args.decode,
        decode_contexts: args.decode_context.clone(),
        parallel: args.parallel.clone(),
        runs: args.runs,
        prefill_batch: args
            .prefill_batch
            .unwrap_or(GenerationSettings::default().prefill_batch)
            .max(1),
    };
    let report = bench::run(&mut loaded, &text, &config, threads)?;
    drop(loaded);
    let end_to_end = match &args.seeds {
        Some(seeds) => {
            let prompts = PromptSet::from_env().context("cannot load the prompt templates")?;
            let source = generator_source(&args.model, true)?;
            let embedder = load_embedder(&args.embedding, args.model.allow_unpinned, true)?;
            Some(
                brief_end_to_end(
                    seeds,
                    args.seeds_out.as_deref(),
                    source,
                    &prompts,
                    Some(embedder),
                )
                .with_context(|| format!("cannot brief {} end to end", seeds.display()))?,
            )
        }
        None => None,
    };
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["model_id"] = serde_json::json!(model.id);
        value["model_sha256"] = serde_json::json!(model.sha256);
        value["brief_seeds"] = serde_json::json!(end_to_end);
        outln!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{}", report.to_table());
    if let Some(e) = end_to_end {
        let peak = e
            .peak_rss_bytes
            .map(|b| format!("{:.0} MB", b as f64 / 1e6))
            .unwrap_or_else(|| "?".into());
        outln!(
            "brief end to end: {} documents in {:.1}s ({} failed), peak RSS {peak}",
            e.documents,
            e.wall_seconds,
            e.failed
        );
        for d in &e.per_document {
            match d.seconds {
                Some(s) => outln!("  {:<28} {s:>8.1}s", d.id),
                None => outln!("  {:<28} failed", d.id),
            }
        }
        outln!("\n{}", bench::stage_table(&e.stages));
    }
    Ok(ExitCode::SUCCESS)
}

/// `bench --embed FILE`: the embedding model on one document.
fn embed(args: &BenchArgs, file: &Path, threads: usize) -> Result<ExitCode> {
    let document = nordbrief::ingest::ingest_path(file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let embedder = load_embedder(&args.embedding, args.model.allow_unpinned, args.json)?;
    let report = bench::embed_document(&embedder, &document, threads)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        outln!(
            "embedded {} paragraphs, {} tokens, in {:.1}s on {} threads: {:.0} tokens/s; peak memory {}",
            report.paragraphs,
            report.tokens,
            report.seconds,
            report.threads,
            report.tokens_per_second,
            report
                .peak_rss_bytes
                .map(|b| format!("{:.0} MiB", b as f64 / (1 << 20) as f64))
                .unwrap_or_else(|| "unknown".into())
        );
    }
    Ok(ExitCode::SUCCESS)
}
