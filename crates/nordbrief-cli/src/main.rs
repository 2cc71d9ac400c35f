//! The `nordbrief` command: parse flags, call the library, print, and map
//! errors to exit codes. The work itself lives in the `nordbrief` library.

#[macro_use]
mod output;
mod args;
mod commands;
mod progress;

use clap::Parser;
use std::process::ExitCode;

use args::{Cli, Command};

fn main() -> ExitCode {
    let args = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NORDBRIEF_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    run(args)
}

/// Runs one command; an error that stops it is printed on one line and exits 2.
fn run(args: Cli) -> ExitCode {
    let result = match args.command {
        Command::Brief(args) => commands::brief::run(args),
        Command::Translate(args) => commands::translate::run(args),
        Command::Check(args) => commands::check::run(args),
        Command::Embed(args) => commands::embed::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Digest { dir, out } => commands::digest::run(&dir, out.as_deref()),
        Command::Bench(args) => commands::bench::run(args),
        Command::Models { command } => commands::models::run(command),
        Command::Eval(args) => commands::eval::run(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {}", error_chain(&e));
        ExitCode::from(output::EXIT_ERROR)
    })
}

/// The error and its causes on one line, without repeating a cause that the
/// message already quotes.
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}
