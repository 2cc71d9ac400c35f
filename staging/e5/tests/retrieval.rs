//! Cross-lingual retrieval on NTREX-128: each of the first 500 Swedish,
//! Danish, Bokmål and Nynorsk lines, embedded as a query ("query: "), must
//! find its English translation (same line number, embedded as a passage,
//! "passage: ", as e5's model card documents for retrieval) first by cosine
//! among the 500 English lines in at least 90% of cases, per language.

mod common;

use e5dev::embed::{Architecture, EmbedKind, EmbedOptions, Embedder};

const N: usize = 500;

/// Both the default encoder and [`Architecture::Fast`], one after the other
/// (run side by side they would only fight over the cores).
#[test]
fn english_translation_ranks_first() {
    retrieval(common::embedder(), "default");
    let opts = EmbedOptions {
        architecture: Architecture::Fast,
        ..Default::default()
    };
    let e = Embedder::load_with(&common::model_dir(), &opts).unwrap();
    retrieval(&e, "Fast");
}

fn retrieval(e: &Embedder, label: &str) {
    let eng = common::ntrex_lines("eng", N);
    let eng_refs: Vec<&str> = eng.iter().map(String::as_str).collect();
    let passages = e.embed(&eng_refs, EmbedKind::Passage).unwrap();
    let mut report = Vec::new();
    let mut worst = 1.0f64;
    for lang in ["swe", "dan", "nob", "nno"] {
        let lines = common::ntrex_lines(lang, N);
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let queries = e.embed(&refs, EmbedKind::Query).unwrap();
        let mut hits = 0;
        for (i, q) in queries.iter().enumerate() {
            let scores: Vec<f32> = passages
                .iter()
                .map(|p| q.iter().zip(p).map(|(a, b)| a * b).sum())
                .collect();
            let best = scores
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(j, _)| j)
                .unwrap();
            if best == i {
                hits += 1;
            }
        }
        let frac = hits as f64 / N as f64;
        worst = worst.min(frac);
        println!(
            "retrieval ({label}) {lang}->eng: {hits}/{N} = {:.1}% ranked first",
            100.0 * frac
        );
        report.push(format!("{lang} {:.1}%", 100.0 * frac));
    }
    assert!(
        worst >= 0.90,
        "{label}: below the 90% floor: {}",
        report.join(", ")
    );
}
