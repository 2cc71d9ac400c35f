//! `nordbrief translate` and `nordbrief eval translate` through the binary,
//! with canned answers instead of a model.

use serde_json::Value;
use std::path::{Path, PathBuf};

use crate::support::nordbrief;

const REPORT: &str = "Rapport 2013\n\nRegeringen afsatte 200 mio. EUR i 2012 i henhold til § 282.\n\n- Styrke samarbejdet med nabolandene.\n- Øge støtten med 5 %.\n";
const REPORT_ENGLISH: &str =
    "[1] Report 2013\n[2] The government allocated EUR 200 million in 2012 under § 282.\n\
    [3] Strengthen cooperation with the neighbouring countries.\n[4] Increase support by 5%.";
const NOTE: &str = "Sverige tog emot 90 flyktingar från Syrien förra året.\n";
const NOTE_ENGLISH: &str = "Sweden received 19 refugees from Syria last year.";

fn answers(dir: &Path, translations: &[&str]) -> PathBuf {
    let path = dir.join("answers.json");
    std::fs::write(
        &path,
        serde_json::json!({ "brief": [], "translations": translations }).to_string(),
    )
    .unwrap();
    path
}

#[test]
fn one_document_prints_markdown_that_keeps_headings_lists_and_order() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("report.txt");
    std::fs::write(&source, REPORT).unwrap();
    let out = nordbrief()
        .arg("translate")
        .arg(&source)
        .arg("--scripted-answers")
        .arg(answers(dir.path(), &[REPORT_ENGLISH]))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.starts_with(
            "# Report 2013\n\nThe government allocated EUR 200 million in 2012 under § 282.\n\n\
            - Strengthen cooperation with the neighbouring countries.\n- Increase support by 5%.\n"
        ),
        "{md}"
    );
    assert!(!md.contains('⚠'), "nothing flagged: {md}");
}

#[test]
fn json_aligns_every_source_paragraph_with_its_english() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("report.txt");
    std::fs::write(&source, REPORT).unwrap();
    let out = nordbrief()
        .args(["translate", "--format", "json"])
        .arg(&source)
        .arg("--scripted-answers")
        .arg(answers(dir.path(), &[REPORT_ENGLISH]))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let inspected: Value = serde_json::from_slice(
        &nordbrief()
            .args(["inspect", "--json"])
            .arg(&source)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let paragraphs = json["paragraphs"].as_array().unwrap();
    let sources = inspected["paragraphs"].as_array().unwrap();
    assert_eq!(paragraphs.len(), sources.len());
    for (english, source) in paragraphs.iter().zip(sources) {
        assert_eq!(english["id"], source["id"]);
        assert_eq!(english["kind"], source["kind"]);
        assert_eq!(english["source"], source["text"]);
        assert!(!english["english"].as_str().unwrap().is_empty());
        assert_eq!(english["flags"], serde_json::json!([]));
    }
    assert_eq!(
        paragraphs[1]["english"],
        "The government allocated EUR 200 million in 2012 under § 282."
    );
    assert_eq!(json["language"]["code"], "dan");
    assert_eq!(json["model"]["id"], "scripted");
    assert_eq!(json["id"], "report");
}

#[test]
fn a_folder_is_translated_once_and_a_lost_number_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::write(inbox.join("a.txt"), REPORT).unwrap();
    std::fs::write(inbox.join("b.txt"), NOTE).unwrap();
    let out = dir.path().join("out");
    let scripted = answers(dir.path(), &[REPORT_ENGLISH, NOTE_ENGLISH]);
    let run = || {
        nordbrief()
            .args(["translate", "--quiet", "--format", "txt"])
            .arg(&inbox)
            .arg("--out")
            .arg(&out)
            .arg("--scripted-answers")
            .arg(&scripted)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    for name in [
        "a.en.json",
        "a.en.txt",
        "b.en.json",
        "b.en.txt",
        "nordbrief-translate-run.json",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    let text = std::fs::read_to_string(out.join("a.en.txt")).unwrap();
    assert!(text.starts_with("Report 2013\n\nThe government"), "{text}");
    // The note's 90 became 19: asked again once, then kept and flagged.
    let note: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("b.en.json")).unwrap()).unwrap();
    let flags = &note["paragraphs"][0]["flags"];
    assert!(
        flags
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({ "kind": "missing_numbers", "numbers": ["90"] })),
        "{flags}"
    );
    assert_eq!(note["paragraphs"][0]["english"], NOTE_ENGLISH);
    assert!(std::fs::read_to_string(out.join("b.en.txt"))
        .unwrap()
        .contains("¶1: the source's 90 missing or changed"));

    let modified = std::fs::metadata(out.join("a.en.json"))
        .unwrap()
        .modified()
        .unwrap();
    let second = run();
    assert!(second.status.success());
    assert_eq!(
        std::fs::metadata(out.join("a.en.json"))
            .unwrap()
            .modified()
            .unwrap(),
        modified,
        "unchanged documents are skipped"
    );
}

#[test]
fn eval_translate_translates_with_the_model_when_no_hypotheses_are_given() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ntrex");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(
        data.join("ntrex128.eng.txt"),
        "One line here.\nA second line.\nThird one now.\n",
    )
    .unwrap();
    std::fs::write(
        data.join("ntrex128.swe.txt"),
        "En rad här.\nEn andra rad.\nTredje nu.\n",
    )
    .unwrap();
    std::fs::write(data.join("DOCUMENT_IDS.tsv"), "d1\nd1\nd2\n").unwrap();
    let saved = dir.path().join("saved");
    let out = nordbrief()
        .args([
            "eval",
            "translate",
            "--langs",
            "swe",
            "--lines",
            "2",
            "--documents",
            "1",
            "--data",
        ])
        .arg(&data)
        .arg("--save-hypotheses")
        .arg(&saved)
        .arg("--scripted-answers")
        .arg(answers(
            dir.path(),
            &["[1] One line here.\n[2] A second line."],
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("| swe | 1.0000 |"), "{table}");
    assert_eq!(
        std::fs::read_to_string(saved.join("swe.txt")).unwrap(),
        "One line here.\nA second line.\n"
    );
}
