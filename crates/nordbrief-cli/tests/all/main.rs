//! nordbrief's integration tests, one binary: each module tests one side of
//! the command or the library through its public face. They run from the
//! repository root (set before any test starts), where `seeds/`, `eval/`,
//! `models/` and `prompts/` are.

mod support;

mod answer_memo;
mod batch;
mod checker;
mod cli;
mod e2e_model;
mod embeddings;
mod eval_command;
mod eval_metrics;
mod facts_seeds;
mod faults;
mod fuzz_regressions;
mod grounding;
mod hostile_inputs;
mod ingest_formats;
mod ingest_ntrex;
mod ingest_seeds;
mod model_load;
mod model_numerics;
mod model_resolve;
mod seeds_model;
mod translate_cli;
mod translate_model;
