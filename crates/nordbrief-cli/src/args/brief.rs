use clap::Args;
use std::path::PathBuf;

use super::embed::EmbeddingArgs;
use super::model::ModelArgs;
use nordbrief::batch::Shard;
use nordbrief::pipeline::{BriefMethod, BriefOptions};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Method {
    ThroughEnglish,
    Direct,
}

impl From<Method> for BriefMethod {
    fn from(m: Method) -> Self {
        match m {
            Method::ThroughEnglish => BriefMethod::ThroughEnglish,
            Method::Direct => BriefMethod::Direct,
        }
    }
}

#[derive(Args)]
pub struct BriefArgs {
    /// Files or folders (searched recursively for .txt .md .html .htm .docx .pdf); `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
    /// Write one brief per document into DIR (JSON and Markdown), skipping unchanged documents.
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the brief as JSON instead of Markdown (single document without --out): one object
    /// as in DIR/<id>.json (title, summary, key points with the ¶ ids they cite, warnings, model,
    /// timings).
    #[arg(long)]
    pub json: bool,
    /// Check key points' citations by shared wording only, without the embedding model.
    #[arg(long, conflicts_with = "embedding_path")]
    pub no_embeddings: bool,
    #[command(flatten)]
    pub embedding: EmbeddingArgs,
    /// Quote each key point's supporting sentence, in the original language, in the Markdown brief.
    #[arg(long)]
    pub quotes: bool,
    /// Redo documents even when their inputs, model, prompts and settings are unchanged, and ask
    /// the model again instead of reusing the answers kept in DIR/.nordbrief-cache.
    #[arg(long)]
    pub force: bool,
    /// Process only shard K of N (by a hash of each document id), e.g. 2/4.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// How the brief is written: `through-english` translates the document's paragraphs (a
    /// choice of them, for a long document) with the domain's terms, then writes the brief from
    /// the English, each key point citing the paragraphs its content came from; `direct` writes it
    /// from the source itself (through notes on its parts, for a long document).
    #[arg(long, value_enum, default_value_t = Method::ThroughEnglish)]
    pub method: Method,
    /// Most source tokens translated for a brief read through English; of a longer document the
    /// paragraphs a brief needs are chosen, from its beginning, middle and end.
    #[arg(long, default_value_t = BriefOptions::default().translate_budget, value_name = "TOKENS")]
    pub translate_budget: usize,
    /// Most document tokens in one prompt (`--method direct`); longer documents are read in
    /// chunks (map-reduce).
    #[arg(long, default_value_t = BriefOptions::default().context_budget, value_name = "TOKENS")]
    pub context_budget: usize,
    /// Most tokens of notes the brief of a long document is written from in one prompt; more
    /// notes are condensed first by taking notes on them.
    #[arg(long, default_value_t = BriefOptions::default().reduce_budget, value_name = "TOKENS")]
    pub reduce_budget: usize,
    /// Paragraphs translated together, or parts of a long document whose notes are written
    /// together (`--method direct`). Writing is bound by reading
    /// the model's weights, which is done once per step for all of them, so 4 parts take about
    /// twice as long as one, not four times; each holds its own cache while written (~130 MB
    /// with the default model).
    /// 1 writes them one at a time (the least memory). Greedy output differs slightly between
    /// values (other kernels sum in another order).
    #[arg(long, default_value_t = BriefOptions::default().parallel, value_name = "N")]
    pub parallel: usize,
    /// Most tokens the model may write for the brief.
    #[arg(long, default_value_t = BriefOptions::default().settings.max_new_tokens, value_name = "N")]
    pub max_new_tokens: usize,
    /// Sampling temperature; 0 is greedy and reproducible.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// Nucleus sampling threshold (with --temperature > 0).
    #[arg(long)]
    pub top_p: Option<f64>,
    /// Random seed for sampling.
    #[arg(long, default_value_t = BriefOptions::default().settings.seed)]
    pub seed: u64,
    /// Penalty for repeating recent tokens (1.0 disables it).
    #[arg(long, default_value_t = BriefOptions::default().settings.repeat_penalty)]
    pub repeat_penalty: f32,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}
