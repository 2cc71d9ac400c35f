//! The `nordbrief` command: parse flags, call the library, map errors to exit codes.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
