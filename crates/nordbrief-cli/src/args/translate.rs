use clap::Args;
use std::path::PathBuf;

use super::model::ModelArgs;
use nordbrief::batch::Shard;
use nordbrief::brief::TranslationFormat;
use nordbrief::pipeline::TranslateOptions;

#[derive(Args)]
pub struct TranslateArgs {
    /// Files or folders (searched recursively for .txt .md .html .htm .docx .pdf); `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
    /// Write DIR/<id>.en.json (each source ¶ beside its English) and DIR/<id>.en.<FORMAT> per document, skipping unchanged documents.
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// md (headings as # headings), txt or json (source and English aligned by ¶ id).
    #[arg(long, default_value = "md", value_name = "FORMAT")]
    pub format: TranslationFormat,
    /// Redo documents even when their inputs, model, prompts and settings are unchanged, and ask
    /// the model again instead of reusing the answers kept in DIR/.nordbrief-cache.
    #[arg(long)]
    pub force: bool,
    /// Process only shard K of N (by a hash of each document id), e.g. 2/4.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Most source tokens sent in one prompt (a group of paragraphs).
    #[arg(long, default_value_t = TranslateOptions::default().group_budget, value_name = "TOKENS")]
    pub group_budget: usize,
    /// Most tokens the model may write in one answer.
    #[arg(long, default_value_t = TranslateOptions::default().settings.max_new_tokens, value_name = "N")]
    pub max_new_tokens: usize,
    /// Sampling temperature; 0 is greedy and reproducible.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// Nucleus sampling threshold (with --temperature > 0).
    #[arg(long)]
    pub top_p: Option<f64>,
    /// Random seed for sampling.
    #[arg(long, default_value_t = TranslateOptions::default().settings.seed)]
    pub seed: u64,
    /// Penalty for repeating recent tokens (1.0 disables it).
    #[arg(long, default_value_t = TranslateOptions::default().settings.repeat_penalty)]
    pub repeat_penalty: f32,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}
