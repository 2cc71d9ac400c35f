//! `nordbrief check` and the checker's benchmark (eval/faithfulness).

use super::support::{embedder, nordbrief};

fn check(brief_text: &str, source: &str, extra: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let brief = dir.path().join("brief.txt");
    std::fs::write(&brief, brief_text).unwrap();
    let out = nordbrief()
        .arg("check")
        .arg(&brief)
        .args(["--source", source, "--json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn kinds_of(report: &serde_json::Value, i: usize) -> Vec<String> {
    report["sentences"][i]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["kind"].as_str().unwrap(),
                f["words"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn quoted_faults_are_flagged_and_a_true_sentence_is_supported() {
    embedder();
    let report = check(
        "Sweden supports the proposed Council conclusions.\n\n\
         The conclusions call for study of invaderes delaktighet in integration.\n\n\
         The meeting in Potsdam was held on 10-11 May 2019.",
        "seeds/000_80af01f0790fae2a.txt",
        &[],
    );
    assert_eq!(report["by_meaning"], true);
    assert_eq!(
        report["sentences"][0]["supported"], true,
        "{:#}",
        report["sentences"][0]
    );
    assert!(report["sentences"][0]["quote"]
        .as_str()
        .unwrap()
        .contains("stöder"));
    let second = kinds_of(&report, 1);
    assert!(
        second.contains(&"untranslated:invaderes".to_string()),
        "{second:?}"
    );
    let third = kinds_of(&report, 2);
    assert!(third.iter().any(|k| k.starts_with("number:")), "{third:?}");

    // A domain term rendered by a look-alike word: "flying" for flygtninge.
    let report = check(
        "After one year in Denmark only one in ten flying is in work or education.",
        "eval/dev/documents/d08_dan_aabningstale-2015.txt",
        &[],
    );
    let found = kinds_of(&report, 0);
    assert!(
        found.iter().any(|k| k == "untranslated:flying"),
        "{found:?}"
    );
}

#[test]
fn without_the_embedding_model_it_says_so_and_checks_the_rest() {
    let report = check(
        "The invaderes delaktighet grew by 12 percent.",
        "seeds/000_80af01f0790fae2a.txt",
        &["--no-embeddings"],
    );
    assert_eq!(report["by_meaning"], false);
    let found = kinds_of(&report, 0);
    assert!(
        found.iter().any(|k| k.starts_with("untranslated:")),
        "{found:?}"
    );
    assert!(found.iter().any(|k| k.starts_with("number:")), "{found:?}");
}

/// Floors just under the figures measured when the checker was written
/// (eval/RESULTS.md); a change that weakens the checker shows here.
#[test]
#[ignore = "full suite: checks 273 sentences with the embedding model (about 3 minutes)"]
fn benchmark_recall_and_false_alarms_hold_their_floors() {
    let e = embedder();
    let repo = super::support::repo();
    let report = nordbrief::eval::faithfulness::run(
        &repo.join("eval/faithfulness"),
        &[repo.join("seeds"), repo.join("eval/dev/documents")],
        Some(e),
    )
    .unwrap();
    let recall =
        |set: &std::collections::BTreeMap<String, nordbrief::eval::faithfulness::KindScore>,
         k: &str| { set.get(k).map_or(0.0, |s| s.recall) };
    println!("{}", serde_json::to_string(&report.hand).unwrap());
    println!("{}", serde_json::to_string(&report.planted).unwrap());
    println!("false alarms {}", report.false_alarm_rate);
    assert!(recall(&report.hand, "number") >= 0.8);
    assert!(recall(&report.planted, "number") >= 0.85);
    assert!(recall(&report.planted, "entity") >= 0.9);
    assert!(recall(&report.planted, "untranslated") >= 0.95);
    assert!(recall(&report.planted, "contradiction") >= 0.75);
    assert!(recall(&report.hand, "untranslated") >= 0.65);
    assert!(recall(&report.hand, "entity") >= 0.6);
    assert!(recall(&report.planted, "actor") >= 0.85);
    assert!(
        report.false_alarm_rate <= 0.12,
        "{}",
        report.false_alarm_rate
    );
}
