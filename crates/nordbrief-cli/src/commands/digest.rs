//! `nordbrief digest`: one English briefing across a folder of briefs.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(dir: &std::path::Path, out: Option<&std::path::Path>) -> Result<ExitCode> {
    let mut briefs = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the folder {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.extension().is_none_or(|e| e != "json")
            || path
                .file_name()
                .is_some_and(|n| n == nordbrief::batch::RUN_MANIFEST)
        {
            continue;
        }
        // Other JSON (a report, say) is not a brief: skip it quietly.
        if let Ok(brief) = serde_json::from_slice::<nordbrief::brief::Brief>(&std::fs::read(&path)?)
        {
            briefs.push(brief);
        }
    }
    if briefs.is_empty() {
        bail!(
            "no briefs in {}; write some with `nordbrief brief PATH --out {}`",
            dir.display(),
            dir.display()
        );
    }
    let md = nordbrief::brief::digest(&briefs);
    match out {
        Some(path) => {
            std::fs::write(path, md).with_context(|| format!("cannot write {}", path.display()))?
        }
        None => out!("{md}"),
    }
    Ok(ExitCode::SUCCESS)
}
