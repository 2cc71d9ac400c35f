use clap::Args;
use std::path::PathBuf;

use super::embed::EmbeddingArgs;

#[derive(Args)]
pub struct CheckArgs {
    /// The brief: a nordbrief brief (.json or .md) or any English text file.
    #[arg(value_name = "BRIEF")]
    pub brief: PathBuf,
    /// The Scandinavian original (any format `inspect` reads).
    #[arg(long, value_name = "DOC")]
    pub source: PathBuf,
    /// Print one JSON object: each sentence with `supported`, the nearest paragraphs, the
    /// quoted source sentence, the similarity and its findings (kind, words, detail).
    #[arg(long)]
    pub json: bool,
    /// Check without the embedding model (no unsupported-claim or contradiction checks).
    #[arg(long, conflicts_with = "embedding_path")]
    pub no_embeddings: bool,
    #[command(flatten)]
    pub embedding: EmbeddingArgs,
    /// CPU threads [default: all cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}
