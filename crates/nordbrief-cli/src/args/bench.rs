use clap::Args;
use std::path::PathBuf;

use super::embed::EmbeddingArgs;
use super::model::ModelArgs;

#[derive(Args)]
pub struct BenchArgs {
    /// Prompt lengths to time prefill at.
    #[arg(long, value_delimiter = ',', default_value = "512,2048")]
    pub prefill: Vec<usize>,
    /// New tokens to time decode over.
    #[arg(long, default_value_t = 128)]
    pub decode: usize,
    /// Context lengths to time decode at.
    #[arg(long, value_delimiter = ',', default_value = "16,4096")]
    pub decode_context: Vec<usize>,
    /// Answers written together to time decode with, as `brief --parallel` writes the notes
    /// of several parts (tgN@CxP: P answers; tok/s counts all their tokens).
    #[arg(long, value_delimiter = ',', default_value = "1,4", value_name = "P")]
    pub parallel: Vec<usize>,
    /// Runs per figure (the median is reported), after one warm-up.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Prompt tokens per forward pass [default: as in generation].
    #[arg(long, value_name = "N")]
    pub prefill_batch: Option<usize>,
    /// Also time `brief` end to end on these documents (a fresh output folder, nothing skipped).
    #[arg(long, value_name = "PATH")]
    pub seeds: Option<PathBuf>,
    /// Keep the briefs of the end-to-end run in DIR (emptied first) so they
    /// can be evaluated with `nordbrief eval --briefs DIR`.
    #[arg(long, value_name = "DIR", requires = "seeds")]
    pub seeds_out: Option<PathBuf>,
    /// Print one JSON object instead of a table: each figure with its runs, `model_id`,
    /// `model_sha256`, and `brief_seeds` (documents, seconds, stages) with --seeds.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Time the embedding model instead: every paragraph of FILE embedded as passages
    /// (tokens/s, seconds, peak memory); the text model is not loaded.
    #[arg(long, value_name = "FILE")]
    pub embed: Option<PathBuf>,
    #[command(flatten)]
    pub embedding: EmbeddingArgs,
}
