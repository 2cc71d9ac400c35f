use clap::{Args, Subcommand};
use std::path::PathBuf;

use super::embed::EmbeddingArgs;
use super::model::ModelArgs;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub command: Option<EvalCommand>,
    /// Folder of briefs (<id>.json, as `nordbrief brief --out DIR` writes them).
    #[arg(long, value_name = "DIR", required = true)]
    pub briefs: Option<PathBuf>,
    /// Folder of hand-written references (<id>.json).
    #[arg(long, value_name = "DIR", default_value = "eval/references")]
    pub references: PathBuf,
    /// Where <id>.txt sources are looked for when a brief's source path does not exist.
    #[arg(long, value_name = "DIR", default_value = "seeds")]
    pub sources: PathBuf,
    /// Folder for report.json, report.md and report.html [default: the briefs folder].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Exit 1 when the mean of METRIC is below VALUE, e.g. rouge_lsum=0.2 (repeatable).
    #[arg(long, value_name = "METRIC=VALUE", value_delimiter = ',')]
    pub fail_under: Vec<nordbrief::eval::report::Floor>,
    /// Read more floors from a TOML file with a [fail_under] table, e.g. eval/floor.toml.
    #[arg(long, value_name = "FILE")]
    pub floor: Option<PathBuf>,
    /// Print report.json instead of the Markdown table: one object with the means, the
    /// floors and each document's metrics.
    #[arg(long)]
    pub json: bool,
    /// Re-check citations by shared wording instead of by meaning (no embedding model).
    #[arg(long, conflicts_with = "embedding_path")]
    pub no_embeddings: bool,
    #[command(flatten)]
    pub embedding: EmbeddingArgs,
}

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Print the deltas (B − A) of two report.json files, per metric and document.
    Compare {
        a: PathBuf,
        b: PathBuf,
        /// Print one JSON object instead of tables: the deltas of the means and of each
        /// document's metrics.
        #[arg(long)]
        json: bool,
    },
    /// Score English translations of NTREX-128 with chrF++ and BLEU, per language, by sentence and by document.
    Translate(EvalTranslateArgs),
    /// Measure `nordbrief check` on planted errors: recall per kind, false alarms on correct sentences.
    Faithfulness(EvalFaithfulnessArgs),
}

#[derive(Args)]
pub struct EvalFaithfulnessArgs {
    /// The benchmark folder (hand.jsonl, clean.jsonl).
    #[arg(long, value_name = "DIR", default_value = "eval/faithfulness")]
    pub data: PathBuf,
    /// Folders the documents named in it are looked up in (<doc>.*).
    #[arg(
        long,
        value_name = "DIR",
        value_delimiter = ',',
        default_value = "seeds,eval/dev/documents"
    )]
    pub sources: Vec<PathBuf>,
    /// Print one JSON object: recall per kind (hand-made and planted), false alarms, misses.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub embedding: EmbeddingArgs,
}

#[derive(Args)]
pub struct EvalTranslateArgs {
    /// The NTREX-128 folder (ntrex128.<lang>.txt, DOCUMENT_IDS.tsv); the repository keeps it in eval/ntrex/data.
    #[arg(long, value_name = "DIR", default_value = "eval/ntrex/data")]
    pub data: PathBuf,
    /// Source languages to score.
    #[arg(long, value_delimiter = ',', default_value = "swe,dan,nob,nno")]
    pub langs: Vec<String>,
    /// Leading lines scored sentence by sentence.
    #[arg(long, default_value_t = 250)]
    pub lines: usize,
    /// Leading news documents scored whole.
    #[arg(long, default_value_t = 10)]
    pub documents: usize,
    /// Folder of finished English translations, <lang>.txt, one line per NTREX line; without it the model translates the lines.
    #[arg(long, value_name = "DIR")]
    pub hypotheses: Option<PathBuf>,
    /// Also write the model's translations to DIR/<lang>.txt, to score them again with --hypotheses.
    #[arg(long, value_name = "DIR", conflicts_with = "hypotheses")]
    pub save_hypotheses: Option<PathBuf>,
    /// Print one JSON object instead of a table: chrF++ and BLEU per language, by sentence
    /// and by document.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}
