//! nordbrief: English briefs (summary, key points, translation) of Swedish,
//! Danish and Norwegian documents, produced by a local quantized model.
//!
//! Data flows one way: [`ingest`] → [`model`] → [`generate`] → [`pipeline`] →
//! [`brief`]; [`eval`] reads briefs and references beside them; [`batch`]
//! runs any task over a folder, and [`tasks`] (briefs, translations) sit on top. [`facts`],
//! [`terminology`] and [`prompts`] are leaves anything above may use.
//!
//! The public API is what each module re-exports (`model::load`,
//! `pipeline::brief_document`, `brief::Translation`, …); the files behind it
//! are private. Namespaces kept whole on purpose: `ingest::lang` (language
//! identification) and the metrics `eval::{bleu, chrf, rouge, porter}` with
//! `eval::{report, run, translation}` on top of them.

pub mod batch;
pub mod bench;
pub mod brief;
pub mod check;
pub mod eval;
pub mod facts;
pub mod generate;
pub mod ingest;
pub mod model;
pub mod pipeline;
pub mod prompts;
pub mod tasks;
pub mod terminology;
mod text;
