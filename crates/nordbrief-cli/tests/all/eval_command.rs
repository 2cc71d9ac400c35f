//! `nordbrief eval` end to end on fixture briefs written here (copies and
//! edits of the hand-written references; no model runs): the three report
//! files and their agreement, `compare`, `--fail-under` exit codes,
//! `eval translate`, and the HTML page rendered by headless Chromium.

use std::path::{Path, PathBuf};
use std::process::Command;

use nordbrief::eval::report::{metric, Report, METRICS};
use serde_json::{json, Value};

use crate::support::{nordbrief, repo};

fn reference(id: &str) -> Value {
    let path = repo().join(format!("eval/references/{id}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const IDS: [&str; 3] = [
    "000_80af01f0790fae2a",
    "002_8e71f35ebe68d8e8",
    "004_9e3aa4e6cc606ae5",
];

/// A brief as `nordbrief brief` writes it, with the reference's text.
fn brief_from_reference(id: &str) -> Value {
    let r = reference(id);
    json!({
        "schema_version": 1,
        "id": id,
        "source": format!("seeds/{id}.txt"),
        "source_sha256": "",
        "language": {"code": r["language"], "name": "Swedish", "confidence": 0.95},
        "title": r["title"],
        "summary": r["summary"],
        "key_points": r["key_points"],
        "model": {"id": "fixture", "sha256": ""},
        "warnings": []
    })
}

fn write(dir: &Path, brief: &Value) {
    let id = brief["id"].as_str().unwrap();
    std::fs::write(
        dir.join(format!("{id}.json")),
        serde_json::to_string_pretty(brief).unwrap(),
    )
    .unwrap();
}

/// Good briefs: the references themselves (004 left out, so it is listed),
/// plus a brief without a reference.
fn good_briefs(dir: &Path) {
    for id in &IDS[..2] {
        write(dir, &brief_from_reference(id));
    }
    let mut extra = brief_from_reference(IDS[0]);
    extra["id"] = json!("999_no_reference");
    write(dir, &extra);
}

/// Worse briefs: 000 in Swedish, 002 with an invented year and fewer points.
fn worse_briefs(dir: &Path) {
    let mut swedish = brief_from_reference(IDS[0]);
    swedish["summary"] = json!(
        "Sverige stöder de föreslagna rådsslutsatserna om förstärkning av integrationspolitiken i \
         Europeiska unionen. Integrationspolitiken är primärt ett ansvar för varje medlemsstat, men \
         medlemsstaterna har mycket att vinna på samarbete och erfarenhetsutbyte."
    );
    write(dir, &swedish);
    let mut invented = brief_from_reference(IDS[1]);
    let summary = invented["summary"].as_str().unwrap().to_string();
    invented["summary"] = json!(format!(
        "{summary} The cooperation programme runs until 2031."
    ));
    invented["key_points"] = json!(invented["key_points"].as_array().unwrap()[..2].to_vec());
    write(dir, &invented);
}

fn eval_into(briefs: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut command = nordbrief();
    command
        .args(["eval", "--briefs"])
        .arg(briefs)
        .arg("--out")
        .arg(out)
        .args(extra);
    command.output().unwrap()
}

fn read_report(dir: &Path) -> Report {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

/// The cells of the Markdown row that starts with `first`.
fn markdown_row(md: &str, first: &str) -> Vec<String> {
    let line = md
        .lines()
        .find(|l| l.starts_with(&format!("| {first} |")))
        .unwrap_or_else(|| panic!("no row {first} in\n{md}"));
    line.trim_matches('|')
        .split('|')
        .skip(1)
        .map(|c| c.trim().trim_matches('*').to_string())
        .collect()
}

#[test]
fn eval_writes_three_consistent_reports() {
    let briefs = tempfile::tempdir().unwrap();
    good_briefs(briefs.path());
    // --out defaults to the briefs folder.
    let output = nordbrief()
        .args(["eval", "--briefs"])
        .arg(briefs.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dir = briefs.path();
    for name in ["report.json", "report.md", "report.html"] {
        assert!(dir.join(name).is_file(), "{name} missing");
    }

    let report = read_report(dir);
    assert_eq!(report.documents.len(), 2);
    assert_eq!(
        report.briefs_without_reference,
        vec!["999_no_reference".to_string()]
    );
    assert!(report
        .references_without_brief
        .contains(&IDS[2].to_string()));
    assert!(
        (report.means.rouge_lsum - 1.0).abs() < 1e-12,
        "briefs equal to references: {:?}",
        report.means
    );
    assert_eq!(report.means.english_share, 1.0);
    assert_eq!(
        report.means.unsupported_facts,
        0.0,
        "{:?}",
        report
            .documents
            .iter()
            .map(|d| &d.unsupported_facts)
            .collect::<Vec<_>>()
    );

    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert_eq!(
        std::str::from_utf8(&output.stdout).unwrap().trim_end(),
        md.trim_end(),
        "stdout is the Markdown report"
    );
    let means = markdown_row(&md, "**mean**");
    assert_eq!(means.len(), METRICS.len());
    for (m, cell) in METRICS.iter().zip(&means) {
        assert_eq!(
            cell,
            &m.format(report.means.get(m.name).unwrap()),
            "mean {} in report.md",
            m.name
        );
    }
    for doc in &report.documents {
        let row = markdown_row(&md, &doc.id);
        let rouge_lsum = METRICS.iter().position(|m| m.name == "rouge_lsum").unwrap();
        assert_eq!(row[rouge_lsum], format!("{:.3}", doc.scores.rouge_lsum));
    }

    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for doc in &report.documents {
        assert!(html.contains(&format!("id=\"doc-{}\"", doc.id)));
        assert!(html.contains(&format!("{:.3}", doc.scores.keypoint_recall)));
    }

    // A second run does not read report.json as a brief.
    let again = nordbrief()
        .args(["eval", "--json", "--briefs"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let printed: Report = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(printed, report);
}

#[test]
fn worse_briefs_show_in_the_scores_and_in_compare() {
    let (good, worse) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    good_briefs(good.path());
    worse_briefs(worse.path());
    let (out_a, out_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert!(eval_into(good.path(), out_a.path(), &[]).status.success());
    let output = eval_into(worse.path(), out_b.path(), &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let report = read_report(out_b.path());
    let swedish = &report.documents[0];
    assert_eq!(swedish.summary_language, "swe");
    assert_eq!(
        (swedish.scores.rouge_lsum, swedish.scores.chrf_pp),
        (0.0, 0.0)
    );
    assert!(swedish.scores.english_share < 1.0);
    let invented = &report.documents[1];
    let facts: Vec<&str> = invented
        .unsupported_facts
        .iter()
        .map(|f| f.text.as_str())
        .collect();
    assert_eq!(facts, vec!["2031"]);
    assert!(std::fs::read_to_string(out_b.path().join("report.html"))
        .unwrap()
        .contains(">2031</mark>"));

    let compare = nordbrief()
        .args(["eval", "compare"])
        .arg(out_a.path().join("report.json"))
        .arg(out_b.path().join("report.json"))
        .output()
        .unwrap();
    assert!(
        compare.status.success(),
        "{}",
        String::from_utf8_lossy(&compare.stderr)
    );
    let table = String::from_utf8(compare.stdout).unwrap();
    let english = markdown_row(&table, metric("english_share").unwrap().label);
    assert_eq!(english[0], "1.000");
    let expected_mean = format!("{:.3}", report.means.english_share);
    assert_eq!(english[1], expected_mean);
    assert!(english[2].starts_with('-'), "{table}");
    // The per-document table: one column per document both reports scored.
    let header = table
        .lines()
        .find(|l| l.starts_with("| metric | 000_"))
        .expect("per-document table");
    assert!(header.contains(IDS[1]));
    let points = table
        .lines()
        .rfind(|l| l.starts_with("| points |"))
        .unwrap();
    assert_eq!(points, "| points | +0.0 | -7.0 |", "{table}");

    let json = nordbrief()
        .args(["eval", "compare", "--json"])
        .arg(out_a.path().join("report.json"))
        .arg(out_b.path().join("report.json"))
        .output()
        .unwrap();
    let value: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["documents"].as_array().unwrap().len(), 2);
}

#[test]
fn fail_under_exits_1_naming_the_metric_and_rejects_unknown_metrics() {
    let briefs = tempfile::tempdir().unwrap();
    worse_briefs(briefs.path());
    let out = tempfile::tempdir().unwrap();

    let passing = eval_into(
        briefs.path(),
        out.path(),
        &[
            "--fail-under",
            "rouge_lsum=0.3",
            "--fail-under",
            "checked_supported=0.0",
        ],
    );
    assert_eq!(
        passing.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&passing.stderr)
    );

    let failing = eval_into(
        briefs.path(),
        out.path(),
        &["--fail-under", "rouge_lsum=0.3,english_share=1.0"],
    );
    assert_eq!(failing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failing.stderr);
    assert!(
        stderr.contains("mean english_share is") && !stderr.contains("mean rouge_lsum"),
        "{stderr}"
    );
    assert!(
        out.path().join("report.html").is_file(),
        "reports are written even when a floor fails"
    );

    let floor = out.path().join("floor.toml");
    std::fs::write(&floor, "[fail_under]\nenglish_share = 1.0\n").unwrap();
    let from_file = eval_into(
        briefs.path(),
        out.path(),
        &["--floor", floor.to_str().unwrap()],
    );
    assert_eq!(from_file.status.code(), Some(1));

    let unknown = eval_into(briefs.path(), out.path(), &["--fail-under", "rougeL=0.2"]);
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("unknown metric `rougeL`") && stderr.contains("rouge_lsum, chrf_pp"),
        "{stderr}"
    );
}

#[test]
fn the_committed_floor_file_is_valid() {
    let text = std::fs::read_to_string(repo().join("eval/floor.toml")).unwrap();
    let floors = nordbrief::eval::report::Floor::from_toml(&text).unwrap();
    assert!(
        floors
            .iter()
            .any(|f| f.metric.name == "english_share" && f.value == 1.0),
        "{floors:?}"
    );
}

#[test]
fn eval_translate_scores_hypothesis_files() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    std::fs::write(
        d.join("ntrex128.eng.txt"),
        "The minister spoke.\nPrices rose in May.\nIt rained.\n",
    )
    .unwrap();
    std::fs::write(
        d.join("ntrex128.swe.txt"),
        "Ministern talade.\nPriserna steg i maj.\nDet regnade.\n",
    )
    .unwrap();
    std::fs::write(
        d.join("ntrex128.dan.txt"),
        "Ministeren talte.\nPriserne steg i maj.\nDet regnede.\n",
    )
    .unwrap();
    std::fs::write(d.join("DOCUMENT_IDS.tsv"), "a\na\nb\n").unwrap();
    let hypotheses = tempfile::tempdir().unwrap();
    std::fs::write(
        hypotheses.path().join("swe.txt"),
        "The minister spoke.\nPrices rose in May.\nIt rained.\n",
    )
    .unwrap();
    std::fs::write(
        hypotheses.path().join("dan.txt"),
        "The minister talked.\nPrices went up in May.\nIt was raining.\n",
    )
    .unwrap();

    let output = nordbrief()
        .args([
            "eval",
            "translate",
            "--langs",
            "swe,dan",
            "--lines",
            "3",
            "--documents",
            "2",
            "--json",
            "--data",
        ])
        .arg(d)
        .arg("--hypotheses")
        .arg(hypotheses.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    let languages = value["languages"].as_array().unwrap();
    let swe = languages.iter().find(|l| l["lang"] == "swe").unwrap();
    let dan = languages.iter().find(|l| l["lang"] == "dan").unwrap();
    assert_eq!(swe["sentence"]["chrf_pp"], 1.0);
    assert_eq!(swe["document"]["segments"], 2);
    assert!(dan["sentence"]["chrf_pp"].as_f64().unwrap() < 1.0);
    assert!(dan["document"]["bleu"].as_f64().unwrap() < swe["document"]["bleu"].as_f64().unwrap());

    std::fs::write(hypotheses.path().join("dan.txt"), "Only one line.\n").unwrap();
    let short = nordbrief()
        .args(["eval", "translate", "--langs", "dan", "--data"])
        .arg(d)
        .arg("--hypotheses")
        .arg(hypotheses.path())
        .output()
        .unwrap();
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("translate at least the first 3 lines"));
}

/// The Chromium binary: $NORDBRIEF_CHROMIUM, the first of the usual names
/// on PATH, or one `scripts/fetch-chromium` fetches into `target/chromium`
/// (Debian's packages, unpacked without root).
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("NORDBRIEF_CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let on_path = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|candidate| candidate.is_file());
    if let Some(found) = on_path {
        return found;
    }
    let fetched = Command::new(repo().join("scripts/fetch-chromium"))
        .arg(repo().join("target/chromium"))
        .output()
        .expect("cannot run scripts/fetch-chromium");
    assert!(
        fetched.status.success(),
        "Chromium is needed to check that report.html renders, and scripts/fetch-chromium could not fetch it: {}\n\
         Install it (Debian: apt-get install -y chromium) or point NORDBRIEF_CHROMIUM at a Chrome/Chromium binary",
        String::from_utf8_lossy(&fetched.stderr)
    );
    PathBuf::from(String::from_utf8(fetched.stdout).unwrap().trim())
}

/// report.html renders in headless Chromium: a full-height screenshot of
/// real content, not a blank or error page (a blank 1200×1600 page is under
/// 10 KB as PNG; the report is well over 100 KB).
#[test]
fn report_html_renders_in_headless_chromium() {
    let chromium = chromium();
    let briefs = tempfile::tempdir().unwrap();
    good_briefs(briefs.path());
    worse_briefs(briefs.path());
    let output = nordbrief()
        .args(["eval", "--briefs"])
        .arg(briefs.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let profile = tempfile::tempdir().unwrap();
    let screenshot = briefs.path().join("report.png");
    let status = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1200,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(format!(
            "file://{}",
            briefs.path().join("report.html").display()
        ))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", chromium.display()));
    assert!(
        status.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let png = std::fs::read(&screenshot).expect("chromium wrote no screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 1600));
    assert!(
        png.len() > 100_000,
        "screenshot is {} bytes: the page looks blank",
        png.len()
    );
}
