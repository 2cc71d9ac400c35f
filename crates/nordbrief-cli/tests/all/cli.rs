//! The binary's behaviour on bad input: one clear line, a non-zero exit, no panic.

use assert_cmd::Command;
use predicates::prelude::*;

fn nordbrief() -> Command {
    let mut cmd = Command::cargo_bin("nordbrief").unwrap();
    // Never touch the network or the user's caches from these tests.
    let scratch = std::env::temp_dir().join("nordbrief-cli-tests");
    cmd.env("HF_HUB_OFFLINE", "1")
        .env("HF_HOME", scratch.join("hf"))
        .env("NORDBRIEF_CACHE", scratch.join("cache"))
        .env("NORDBRIEF_PYTHON", "/nonexistent/python3")
        .env_remove("NORDBRIEF_MODEL");
    cmd
}

/// stderr is one error line and names no panic.
fn one_clear_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr).to_string();
    assert!(!text.contains("panicked"), "panic: {text}");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {text}");
    assert!(lines[0].starts_with("error: "), "{text}");
    text
}

#[test]
fn missing_file_is_one_line_and_exit_2() {
    let out = nordbrief()
        .args(["brief", "no/such/file.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = one_clear_line(&out.stderr);
    assert!(err.contains("no/such/file.txt"), "{err}");
}

#[test]
fn folder_without_documents_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.exe"), b"x").unwrap();
    let out = nordbrief()
        .arg("brief")
        .arg(dir.path())
        .args(["--out", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = one_clear_line(&out.stderr);
    assert!(err.contains("no documents found"), "{err}");
}

#[test]
fn unknown_model_id_lists_the_known_ones() {
    let out = nordbrief()
        .args([
            "brief",
            "seeds/000_80af01f0790fae2a.txt",
            "--model",
            "gpt-17",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = one_clear_line(&out.stderr);
    assert!(
        err.contains("gpt-17") && err.contains("qwen2.5-coder-0.5b-instruct"),
        "{err}"
    );
}

#[test]
fn a_non_gguf_model_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("model.gguf");
    std::fs::write(&fake, b"this is not a model at all").unwrap();
    let out = nordbrief()
        .args(["brief", "seeds/000_80af01f0790fae2a.txt", "--model-path"])
        .arg(&fake)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = one_clear_line(&out.stderr);
    assert!(err.contains("GGUF"), "{err}");
}

#[test]
fn a_truncated_model_file_is_refused() {
    // A real GGUF header followed by too little tensor data.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.gguf");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"GGUF");
    bytes.extend_from_slice(&3u32.to_le_bytes()); // version
    bytes.extend_from_slice(&1u64.to_le_bytes()); // tensor count
    bytes.extend_from_slice(&0u64.to_le_bytes()); // metadata count
    let name = b"w";
    bytes.extend_from_slice(&(name.len() as u64).to_le_bytes());
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(&1u32.to_le_bytes()); // dims
    bytes.extend_from_slice(&1024u64.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes()); // f32
    bytes.extend_from_slice(&0u64.to_le_bytes()); // offset
    bytes.resize(bytes.len().next_multiple_of(32) + 100, 0); // 100 of 4096 data bytes
    std::fs::write(&path, &bytes).unwrap();
    let out = nordbrief()
        .args(["brief", "seeds/000_80af01f0790fae2a.txt", "--model-path"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = one_clear_line(&out.stderr);
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn several_documents_without_out_is_refused_before_any_model_work() {
    let out = nordbrief().args(["brief", "seeds/"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = one_clear_line(&out.stderr);
    assert!(err.contains("--out"), "{err}");
}

#[test]
fn a_bad_shard_is_a_usage_error() {
    nordbrief()
        .args(["brief", "seeds/", "--out", "x", "--shard", "5/4"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("K/N"));
}

#[test]
fn help_explains_the_commands() {
    nordbrief()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("brief").and(predicate::str::contains("Exit codes")));
}

#[test]
fn models_list_names_every_manifest() {
    nordbrief()
        .args(["models", "list"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("qwen2.5-coder-1.5b-instruct")
                .and(predicate::str::contains("qwen2.5-coder-0.5b-instruct"))
                .and(predicate::str::contains("qwen2.5-1.5b-instruct")),
        );
}
