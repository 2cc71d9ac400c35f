use clap::Args;
use std::path::PathBuf;

/// The flags that choose the model, shared by every command that runs one.
#[derive(Args, Clone)]
pub struct ModelArgs {
    /// Model id from the built-in manifests (see `nordbrief models list`).
    #[arg(long, env = "NORDBRIEF_MODEL", conflicts_with = "model_path")]
    pub model: Option<String>,
    /// A local GGUF file (or a folder holding one) to use instead of a manifest's model.
    #[arg(long, value_name = "FILE")]
    pub model_path: Option<PathBuf>,
    /// Use a hub file that has no sha256 pin in its manifest, recording its hash on first use.
    #[arg(long, env = "NORDBRIEF_ALLOW_UNPINNED")]
    pub allow_unpinned: bool,
    /// CPU threads for inference [default: all cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Answer from a JSON file of canned answers instead of a model (for testing the pipeline).
    #[arg(long, hide = true, value_name = "FILE", conflicts_with_all = ["model", "model_path"])]
    pub scripted_answers: Option<PathBuf>,
}
