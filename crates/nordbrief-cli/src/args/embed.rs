use clap::Args;
use std::path::PathBuf;

/// The flags that choose the embedding model, shared by the commands that use one.
#[derive(Args, Clone, Default)]
pub struct EmbeddingArgs {
    /// Embedding model id from the built-in manifests.
    #[arg(long, value_name = "ID", default_value = "multilingual-e5-small")]
    pub embedding_model: String,
    /// A local folder (config.json, tokenizer.json, model.safetensors) to use instead.
    #[arg(long, value_name = "DIR", conflicts_with = "embedding_model")]
    pub embedding_path: Option<PathBuf>,
}

#[derive(Args)]
pub struct EmbedArgs {
    /// Documents (any format `inspect` reads: each paragraph is embedded) or texts.
    #[arg(required = true, value_name = "FILE|TEXT")]
    pub inputs: Vec<String>,
    /// Embed as search queries (`query: `) instead of passages (`passage: `).
    #[arg(long)]
    pub query: bool,
    /// Print JSON Lines: one object per text (source, paragraph, tokens, text, vector).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub embedding: EmbeddingArgs,
    /// Use hub files that have no sha256 pin, recording their hashes on first use.
    #[arg(long, env = "NORDBRIEF_ALLOW_UNPINNED")]
    pub allow_unpinned: bool,
    /// CPU threads [default: all cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}
