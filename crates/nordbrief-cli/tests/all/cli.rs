//! The binary's behaviour on bad input: one clear line, a non-zero exit, no panic.

use predicates::prelude::*;

use crate::support::nordbrief_offline as nordbrief;

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

#[test]
fn inspect_json_over_several_files_is_one_object_a_line() {
    let out = nordbrief()
        .args([
            "inspect",
            "--json",
            "seeds/000_80af01f0790fae2a.txt",
            "seeds/004_9e3aa4e6cc606ae5.txt",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for (line, id) in lines.iter().zip(["000_", "004_"]) {
        let doc: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(doc["source"].as_str().unwrap().contains(id), "{line}");
        assert!(!doc["paragraphs"].as_array().unwrap().is_empty());
    }
}

#[test]
fn every_json_flag_says_what_it_prints() {
    for command in [
        &["brief"][..],
        &["inspect"],
        &["bench"],
        &["eval"],
        &["eval", "compare"],
        &["eval", "translate"],
        &["models", "list"],
    ] {
        let out = nordbrief().args(command).arg("--help").output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        // The --json option's lines: its own, then its description up to the
        // next option.
        let mut lines = help.lines().skip_while(|line| {
            !(line.trim_start().starts_with("--json") || line.contains(", --json"))
        });
        let first = lines
            .next()
            .unwrap_or_else(|| panic!("{command:?} --help has no --json: {help}"));
        let rest = lines.take_while(|line| !line.trim_start().starts_with('-'));
        let json = std::iter::once(first)
            .chain(rest)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            ["object", "array", "JSON Lines"]
                .iter()
                .any(|shape| json.contains(shape)),
            "{command:?} --json does not say what it prints: {json}"
        );
    }
}
