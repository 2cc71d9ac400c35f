//! `nordbrief check`: every sentence of an English brief against its source.

use anyhow::{Context, Result};
use std::process::ExitCode;

use super::{load_embedder, set_threads};
use crate::args::CheckArgs;
use crate::output::exit_code;
use nordbrief::check::Checker;

/// The sentences to check: a brief's summary sentences and key points, or
/// a Markdown brief's prose and list items, or any text's sentences.
fn sentences_of(text: &str) -> Vec<String> {
    if let Ok(brief) = serde_json::from_str::<nordbrief::brief::Brief>(text) {
        let mut out = nordbrief::ingest::split_sentences(&brief.summary);
        out.extend(brief.key_points);
        return out;
    }
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with('>')
            || line.starts_with('|')
        {
            continue;
        }
        match line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            Some(item) => out.push(item.trim().to_string()),
            None => out.extend(nordbrief::ingest::split_sentences(line)),
        }
    }
    // A Markdown brief cites paragraphs as (¶3): not words to check.
    out.into_iter()
        .map(|s| nordbrief::pipeline::split_citations(&s).0)
        .filter(|s| s.split_whitespace().count() >= 3)
        .collect()
}

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    set_threads(args.threads);
    let text = std::fs::read_to_string(&args.brief)
        .with_context(|| format!("cannot read the brief {}", args.brief.display()))?;
    let document = nordbrief::ingest::ingest_path(&args.source)
        .with_context(|| format!("cannot read the source {}", args.source.display()))?;
    let embedder = if args.no_embeddings {
        None
    } else {
        Some(load_embedder(&args.embedding, false, args.json)?)
    };
    let checker = match &embedder {
        Some(e) => Checker::with_embedder(&document, e)?,
        None => Checker::new(&document),
    };
    let mut results = Vec::new();
    for sentence in sentences_of(&text) {
        results.push(checker.check(&sentence)?);
    }
    let failing = results.iter().filter(|r| !r.supported).count();
    if args.json {
        let value = serde_json::json!({
            "brief": args.brief,
            "source": args.source,
            "by_meaning": embedder.is_some(),
            "sentences": results,
            "supported": results.len() - failing,
            "with_findings": failing,
        });
        outln!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        for r in &results {
            if r.supported {
                let place = r
                    .paragraphs
                    .first()
                    .map(|p| format!(" (¶{p})"))
                    .unwrap_or_default();
                outln!("ok{place}  {}", r.sentence);
            } else {
                outln!("!!  {}", r.sentence);
                for f in &r.findings {
                    outln!("    {}: {} — {}", f.kind.name(), f.words, f.detail);
                }
            }
        }
        outln!(
            "{} of {} sentences supported{}",
            results.len() - failing,
            results.len(),
            if embedder.is_none() {
                " (without the embedding model)"
            } else {
                ""
            }
        );
    }
    Ok(exit_code(failing > 0))
}
