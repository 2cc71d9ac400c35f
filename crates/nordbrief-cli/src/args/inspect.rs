use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct InspectArgs {
    /// Files to inspect; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print JSON Lines: one object per file, on one line (paragraphs with their kind and
    /// sentences, language, counts, the cleaning rules that fired, tokens).
    #[arg(long)]
    pub json: bool,
    /// Count tokens with this model's tokenizer, when it is cached [default: the default model].
    #[arg(long, env = "NORDBRIEF_MODEL")]
    pub model: Option<String>,
}
