//! `nordbrief models`: list, pull and verify the known models.

use anyhow::{bail, Context, Result};
use std::io::IsTerminal;
use std::process::ExitCode;

use crate::args::ModelsCommand;
use crate::output::exit_code;
use nordbrief::model::{self, ResolveOptions};

fn human_size(bytes: u64) -> String {
    format!("{:.2} GB", bytes as f64 / 1e9)
}

pub fn run(command: ModelsCommand) -> Result<ExitCode> {
    let mut opts = ResolveOptions::from_env();
    opts.quiet = !std::io::stderr().is_terminal();
    match command {
        ModelsCommand::List { json } => {
            let list = model::list(&opts)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(ExitCode::SUCCESS);
            }
            for m in list {
                let mark = if m.default { "*" } else { " " };
                let size = m.size_bytes.map(human_size).unwrap_or_else(|| "?".into());
                let place = match (&m.path, m.cached) {
                    (Some(p), true) => format!("cached at {}", p.display()),
                    _ => "not cached".to_string(),
                };
                outln!("{mark} {:<32} {:<9} {:>8}  {place}", m.id, m.kind, size);
            }
            outln!("(* default; `nordbrief models pull ID` downloads one)");
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Pull { id, allow_unpinned } => {
            opts.allow_unpinned |= allow_unpinned;
            let id = id.unwrap_or_else(model::default_model_id);
            let manifest = model::find_manifest_in(&id, opts.models_dir.as_deref())?;
            let resolved = model::resolve(&manifest, &opts)
                .with_context(|| format!("cannot obtain model `{id}`"))?;
            outln!(
                "{} {} ({}, sha256 {})",
                resolved.id,
                resolved.path.display(),
                resolved.source,
                resolved.sha256
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Verify { id } => {
            let id = id.unwrap_or_else(model::default_model_id);
            let manifest = model::find_manifest_in(&id, opts.models_dir.as_deref())?;
            let report = model::verify(&manifest, &opts)?;
            for f in &report.files {
                outln!(
                    "{} {} {} ({})",
                    if f.ok { "ok  " } else { "BAD " },
                    f.role,
                    f.path.display(),
                    f.sha256
                );
            }
            if report.files.is_empty() {
                bail!(
                    "model `{id}` has no cached file to verify; run `nordbrief models pull {id}`"
                );
            }
            Ok(exit_code(!report.all_ok()))
        }
    }
}
