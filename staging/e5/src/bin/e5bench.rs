//! Time embedding every paragraph of one document:
//! `e5bench <model-dir> <document.txt> [query|passage]`.
//!
//! Paragraphs are split on blank lines, as the fixtures are. Prints wall
//! time, tokens per second and peak resident memory. The thread count is
//! candle's (`RAYON_NUM_THREADS`, else all cores). `E5_BACKEND` picks the
//! encoder (`candle` = default, `xlmr`, `fast`, `fast-q4`, `fast-q8`) and
//! `E5_BATCH_TOKENS` the batch size in padded tokens.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use e5dev::embed::{Architecture, EmbedKind, EmbedOptions, Embedder, MatmulWeights};

fn paragraphs(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut pos = 0;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut para_start: Option<usize> = None;
    for line in &lines {
        let blank = line.trim().is_empty() && line.ends_with('\n');
        if blank {
            if let Some(s) = para_start.take() {
                out.push(text[s..pos].trim());
            }
        } else if para_start.is_none() {
            para_start = Some(pos);
        }
        pos += line.len();
    }
    if let Some(s) = para_start {
        out.push(text[s..].trim());
    }
    out.retain(|p| !p.is_empty());
    out
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!(
            "usage: {} <model-dir> <document.txt> [query|passage]",
            args[0]
        );
        return ExitCode::from(2);
    }
    let kind = match args.get(3).map(String::as_str) {
        Some("query") => EmbedKind::Query,
        _ => EmbedKind::Passage,
    };
    let text = match std::fs::read_to_string(&args[2]) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args[2]);
            return ExitCode::FAILURE;
        }
    };
    let paras = paragraphs(&text);
    let t0 = Instant::now();
    let mut opts = EmbedOptions::default();
    if let Some(n) = std::env::var("E5_BATCH_TOKENS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        opts.batch_tokens = n;
    }
    let backend = std::env::var("E5_BACKEND").unwrap_or_else(|_| "candle".into());
    match backend.as_str() {
        "candle" => {}
        "xlmr" => opts.architecture = Architecture::XlmRoberta,
        "fast" => opts.architecture = Architecture::Fast,
        "fast-q4" => {
            opts.architecture = Architecture::Fast;
            opts.matmul = MatmulWeights::Q4_0;
        }
        "fast-q8" => {
            opts.architecture = Architecture::Fast;
            opts.matmul = MatmulWeights::Q8_0;
        }
        other => {
            eprintln!("E5_BACKEND={other}: expected candle, xlmr, fast, fast-q4 or fast-q8");
            return ExitCode::from(2);
        }
    }
    let emb = match Embedder::load_with(Path::new(&args[1]), &opts) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let load_s = t0.elapsed().as_secs_f64();
    let rss_loaded = peak_rss_kib().unwrap_or(0);
    let mut tokens = 0usize;
    for p in &paras {
        tokens += emb.token_ids(p, kind).map(|v| v.len()).unwrap_or(0);
    }
    let t1 = Instant::now();
    let out = match emb.embed(&paras, kind) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let secs = t1.elapsed().as_secs_f64();
    let longest = paras
        .iter()
        .map(|p| emb.token_ids(p, kind).map(|v| v.len()).unwrap_or(0))
        .max()
        .unwrap_or(0);
    println!(
        "backend            {backend}, batch_tokens {}",
        opts.batch_tokens
    );
    println!(
        "threads            {}",
        candle_core::utils::get_num_threads()
    );
    println!(
        "paragraphs         {} (longest {} tokens)",
        paras.len(),
        longest
    );
    println!("tokens             {tokens} (prefix, <s>, </s> included, after truncation)");
    println!("load               {load_s:.2} s");
    println!("embed              {secs:.2} s");
    println!("tokens/s           {:.0}", tokens as f64 / secs);
    println!("peak RSS loaded    {:.0} MiB", rss_loaded as f64 / 1024.0);
    println!(
        "peak RSS total     {:.0} MiB",
        peak_rss_kib().unwrap_or(0) as f64 / 1024.0
    );
    println!(
        "vectors            {} x {}",
        out.len(),
        out.first().map_or(0, Vec::len)
    );
    ExitCode::SUCCESS
}
