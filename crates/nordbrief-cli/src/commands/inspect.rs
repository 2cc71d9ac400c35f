//! `nordbrief inspect`: a document as the model will see it.

use anyhow::Result;
use std::process::ExitCode;

use crate::args::InspectArgs;
use crate::output::exit_code;
use nordbrief::model::{self, ResolveOptions};

/// The tokenizer of a cached model, if there is one (inspect never downloads).
fn cached_tokenizer(id: Option<&str>) -> Option<(String, tokenizers::Tokenizer)> {
    let mut opts = ResolveOptions::from_env();
    opts.quiet = true;
    let id = id.map(String::from).unwrap_or_else(model::default_model_id);
    let status = model::list(&opts)
        .ok()?
        .into_iter()
        .find(|m| m.id == id && m.cached)?;
    let tokenizer = nordbrief::model::load_tokenizer_only(&status.path?).ok()?;
    Some((id, tokenizer))
}

pub fn run(args: InspectArgs) -> Result<ExitCode> {
    let mut failed = false;
    let tokenizer = cached_tokenizer(args.model.as_deref());
    for file in &args.files {
        match nordbrief::ingest::ingest_path(file) {
            Ok(doc) => {
                let tokens = tokenizer.as_ref().and_then(|(id, t)| {
                    t.encode(doc.body_text().as_str(), false)
                        .ok()
                        .map(|e| (id, e.get_ids().len()))
                });
                if args.json {
                    let mut value = serde_json::to_value(&doc)?;
                    value["tokens"] = serde_json::json!(
                        tokens.map(|(id, n)| serde_json::json!({ "model": id, "count": n }))
                    );
                    outln!("{}", serde_json::to_string(&value)?);
                } else {
                    let mut text = doc.render_inspect();
                    match tokens {
                        Some((id, n)) => text.push_str(&format!("tokens:      {n} ({id})\n")),
                        None => text.push_str("tokens:      unknown (the model is not cached; `nordbrief models pull`)\n"),
                    }
                    outln!("{text}");
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    Ok(exit_code(failed))
}
