//! The flags of every command, parsed by clap; `--help` is written here.

mod bench;
mod brief;
mod check;
mod embed;
mod eval;
mod inspect;
mod model;
mod models;
mod translate;

pub use bench::BenchArgs;
pub use brief::BriefArgs;
pub use check::CheckArgs;
pub use embed::{EmbedArgs, EmbeddingArgs};
pub use eval::{EvalArgs, EvalCommand, EvalFaithfulnessArgs, EvalTranslateArgs};
pub use inspect::InspectArgs;
pub use model::ModelArgs;
pub use models::ModelsCommand;
pub use translate::TranslateArgs;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "nordbrief",
    version,
    about = "English briefs of Swedish, Danish and Norwegian documents, made by a local model",
    long_about = "English briefs (title, summary, key points) of Swedish, Danish and Norwegian \
(bokmål and nynorsk) documents, made on this machine by a small quantized model.\n\n\
The model is fetched on first use from Hugging Face (honouring HF_HOME, HF_ENDPOINT, \
HF_TOKEN and HF_HUB_OFFLINE) or from the mirror its manifest names, and verified by sha256.\n\n\
Exit codes: 0 all done, 1 some documents failed, 2 the run could not start (bad flag, \
missing file, model unavailable)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Brief documents: print one brief, or write DIR/<id>.json and DIR/<id>.md for many.
    Brief(BriefArgs),
    /// Translate documents into English paragraph by paragraph, keeping headings, list items and every number.
    Translate(TranslateArgs),
    /// One English Markdown briefing across all briefs in a folder (no model needed).
    Digest {
        /// A folder of briefs written by `nordbrief brief --out`.
        dir: PathBuf,
        /// Write the digest here instead of printing it.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Check an English brief against its source: entities, numbers, untranslated words, unsupported claims, contradictions, actors (exit 1 when any sentence has a finding).
    Check(CheckArgs),
    /// Sentence embeddings of texts or of a document's paragraphs, and how alike they are.
    Embed(EmbedArgs),
    /// Show a document as the model will see it: cleaned paragraphs, language, counts, rules fired.
    Inspect(InspectArgs),
    /// Measure the model's speed here: load time, prefill and decode tok/s, peak memory.
    Bench(BenchArgs),
    /// Score briefs against hand-written references (report.json, report.md, report.html); `compare` two reports; score translations.
    Eval(EvalArgs),
    /// List, download or verify the models nordbrief knows.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
}
