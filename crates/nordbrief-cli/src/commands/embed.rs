//! `nordbrief embed`: sentence embeddings of texts or of a document's
//! paragraphs, and how alike they are.

use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use super::{load_embedder, set_threads};
use crate::args::EmbedArgs;
use nordbrief::model::EmbedKind;

/// One text to embed and where it came from.
struct Item {
    source: String,
    paragraph: Option<usize>,
    text: String,
}

/// Texts beyond this many get no similarity table (it would not fit a screen).
const TABLE_LIMIT: usize = 12;

pub fn run(args: EmbedArgs) -> Result<ExitCode> {
    set_threads(args.threads);
    let mut items = Vec::new();
    for input in &args.inputs {
        let path = Path::new(input);
        if path.is_file() {
            let doc = nordbrief::ingest::ingest_path(path)
                .with_context(|| format!("cannot read {input}"))?;
            items.extend(doc.paragraphs.iter().map(|p| Item {
                source: input.clone(),
                paragraph: Some(p.id),
                text: p.text.clone(),
            }));
        } else {
            items.push(Item {
                source: "text".into(),
                paragraph: None,
                text: input.clone(),
            });
        }
    }
    let embedder = load_embedder(&args.embedding, args.allow_unpinned, args.json)?;
    let kind = if args.query {
        EmbedKind::Query
    } else {
        EmbedKind::Passage
    };
    let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
    let start = Instant::now();
    let vectors = embedder.embed(&texts, kind)?;
    let seconds = start.elapsed().as_secs_f64();
    let mut tokens = Vec::with_capacity(texts.len());
    for text in &texts {
        tokens.push(embedder.token_ids(text, kind)?.len());
    }
    if args.json {
        for ((item, vector), n) in items.iter().zip(&vectors).zip(&tokens) {
            let line = serde_json::json!({
                "source": item.source,
                "paragraph": item.paragraph,
                "tokens": n,
                "text": item.text,
                "vector": vector,
            });
            outln!("{}", serde_json::to_string(&line)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let total: usize = tokens.iter().sum();
    for (i, (item, n)) in items.iter().zip(&tokens).enumerate() {
        let place = match item.paragraph {
            Some(p) => format!("{} ¶{p}", item.source),
            None => "text".to_string(),
        };
        let preview: String = item.text.chars().take(60).collect();
        outln!("[{}] {place} ({n} tokens): {preview}", i + 1);
    }
    outln!(
        "{} texts, {total} tokens, {} dimensions, {seconds:.2}s ({:.0} tokens/s)",
        items.len(),
        embedder.dim(),
        total as f64 / seconds.max(1e-9)
    );
    if (2..=TABLE_LIMIT).contains(&items.len()) {
        outln!("cosine similarity:");
        for (i, a) in vectors.iter().enumerate() {
            let row: Vec<String> = vectors
                .iter()
                .map(|b| format!("{:5.2}", dot(a, b)))
                .collect();
            outln!("[{}] {}", i + 1, row.join(" "));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
