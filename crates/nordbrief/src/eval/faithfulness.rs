//! The checker measured on planted errors (`eval/faithfulness/`): recall
//! per error kind and false alarms on correct reference sentences.
//!
//! A planted error counts as caught when the checker reports, on the
//! corrupted sentence, a finding it does not report on the original: the
//! change itself was seen. Besides the hand-made corruptions, errors are
//! planted by program in the correct sentences: a number changed, a body
//! swapped for another of its kind from data/bodies.toml, a negation
//! inserted, the actor swapped, a source word left in place of an English
//! one.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::check::{Bodies, Checker, Finding, FindingKind};
use crate::ingest::{ingest_path, Document};
use crate::model::Embed;

#[derive(Debug, Clone, Deserialize)]
pub struct Planted {
    pub id: String,
    pub doc: String,
    pub set: String,
    pub original: String,
    pub corrupted: String,
    pub kind: String,
    pub fault: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Clean {
    pub id: String,
    pub doc: String,
    pub set: String,
    pub sentence: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct KindScore {
    pub planted: usize,
    pub caught: usize,
    /// Caught with a finding of the planted kind.
    pub caught_as_kind: usize,
    pub recall: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Missed {
    pub id: String,
    pub kind: String,
    pub sentence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FaithfulnessReport {
    /// Hand-made corruptions, by kind.
    pub hand: BTreeMap<String, KindScore>,
    /// Corruptions planted by program in the correct sentences, by kind.
    pub planted: BTreeMap<String, KindScore>,
    pub clean_sentences: usize,
    pub false_alarms: usize,
    pub false_alarm_rate: f64,
    /// False alarms by finding kind.
    pub false_alarms_by_kind: BTreeMap<String, usize>,
    pub missed: Vec<Missed>,
    pub false_alarm_examples: Vec<(String, Vec<Finding>)>,
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum FaithfulnessError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("no source document for {doc} under {dirs}")]
    NoSource { doc: String, dirs: String },
    #[error(transparent)]
    Embed(#[from] crate::model::EmbedError),
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, FaithfulnessError> {
    let text = std::fs::read_to_string(path).map_err(|e| FaithfulnessError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| FaithfulnessError::Read {
                path: path.to_path_buf(),
                reason: format!("line {}: {e}", i + 1),
            })
        })
        .collect()
}

/// The source of document `doc`: `<dir>/<doc>.*` in the first folder that has one.
fn find_source(doc: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_stem().is_some_and(|s| s.to_string_lossy() == doc))
            .collect();
        found.sort();
        if let Some(p) = found.into_iter().next() {
            return Some(p);
        }
    }
    None
}

/// Findings of `corrupted` that `original` does not have.
fn new_findings(
    checker: &Checker,
    original: &str,
    corrupted: &str,
) -> Result<Vec<Finding>, FaithfulnessError> {
    let before = checker.check(original)?.findings;
    let after = checker.check(corrupted)?.findings;
    Ok(after
        .into_iter()
        .filter(|f| {
            !before
                .iter()
                .any(|b| b.kind == f.kind && b.words == f.words)
        })
        .collect())
}

fn kind_of(name: &str) -> Option<FindingKind> {
    FindingKind::ALL.into_iter().find(|k| k.name() == name)
}

fn score(scores: &mut BTreeMap<String, KindScore>, kind: &str, found: &[Finding]) -> bool {
    let s = scores.entry(kind.to_string()).or_default();
    s.planted += 1;
    let caught = !found.is_empty();
    s.caught += usize::from(caught);
    s.caught_as_kind += usize::from(found.iter().any(|f| Some(f.kind) == kind_of(kind)));
    caught
}

/// Runs the benchmark in `dir` (hand.jsonl, clean.jsonl) with sources
/// looked up in `source_dirs`.
pub fn run(
    dir: &Path,
    source_dirs: &[PathBuf],
    embedder: Option<&dyn Embed>,
) -> Result<FaithfulnessReport, FaithfulnessError> {
    let start = std::time::Instant::now();
    let hand: Vec<Planted> = read_jsonl(&dir.join("hand.jsonl"))?;
    let clean: Vec<Clean> = read_jsonl(&dir.join("clean.jsonl"))?;
    let mut documents: BTreeMap<String, Document> = BTreeMap::new();
    for doc in hand
        .iter()
        .map(|h| &h.doc)
        .chain(clean.iter().map(|c| &c.doc))
    {
        if documents.contains_key(doc) {
            continue;
        }
        let path = find_source(doc, source_dirs).ok_or_else(|| FaithfulnessError::NoSource {
            doc: doc.clone(),
            dirs: source_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        let document = ingest_path(&path).map_err(|e| FaithfulnessError::Read {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        documents.insert(doc.clone(), document);
    }
    let mut checkers: BTreeMap<&str, Checker> = BTreeMap::new();
    for (id, document) in &documents {
        let checker = match embedder {
            Some(e) => Checker::with_embedder(document, e)?,
            None => Checker::new(document),
        };
        checkers.insert(id.as_str(), checker);
    }
    let mut report = FaithfulnessReport {
        hand: BTreeMap::new(),
        planted: BTreeMap::new(),
        clean_sentences: clean.len(),
        false_alarms: 0,
        false_alarm_rate: 0.0,
        false_alarms_by_kind: BTreeMap::new(),
        missed: Vec::new(),
        false_alarm_examples: Vec::new(),
        seconds: 0.0,
    };
    for h in &hand {
        let checker = &checkers[h.doc.as_str()];
        let found = new_findings(checker, &h.original, &h.corrupted)?;
        if !score(&mut report.hand, &h.kind, &found) {
            report.missed.push(Missed {
                id: h.id.clone(),
                kind: h.kind.clone(),
                sentence: h.corrupted.clone(),
            });
        }
    }
    let bodies = Bodies::builtin();
    let left_over_words: BTreeMap<&str, Vec<String>> = documents
        .iter()
        .map(|(id, doc)| (id.as_str(), source_words(doc)))
        .collect();
    for c in &clean {
        let checker = &checkers[c.doc.as_str()];
        let result = checker.check(&c.sentence)?;
        if !result.findings.is_empty() {
            report.false_alarms += 1;
            for f in &result.findings {
                *report
                    .false_alarms_by_kind
                    .entry(f.kind.name().to_string())
                    .or_default() += 1;
            }
            report
                .false_alarm_examples
                .push((c.sentence.clone(), result.findings.clone()));
        }
        let words = &left_over_words[c.doc.as_str()];
        let left_over = (!words.is_empty()).then(|| &words[c.sentence.len() % words.len()]);
        for (kind, corrupted) in plant(&c.sentence, bodies, left_over.map(String::as_str)) {
            let found = new_findings(checker, &c.sentence, &corrupted)?;
            if !score(&mut report.planted, kind, &found) {
                report.missed.push(Missed {
                    id: format!("{} (planted)", c.id),
                    kind: kind.to_string(),
                    sentence: corrupted,
                });
            }
        }
    }
    for scores in [&mut report.hand, &mut report.planted] {
        for s in scores.values_mut() {
            s.recall = s.caught as f64 / s.planted.max(1) as f64;
        }
    }
    report.false_alarm_rate = report.false_alarms as f64 / report.clean_sentences.max(1) as f64;
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

/// Words of a source that a translation could leave in place: eight
/// letters or more, written in lower case, and not English.
fn source_words(doc: &Document) -> Vec<String> {
    let english = crate::check::english_words();
    let mut found: Vec<String> = doc
        .body_text()
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 8 && w.chars().all(char::is_lowercase))
        .filter(|w| !english.contains(*w))
        .map(str::to_string)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Errors planted by program in a correct sentence: (kind, corrupted).
/// `left_over` is a word of the source that is not English.
pub fn plant(
    sentence: &str,
    bodies: &Bodies,
    left_over: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    // A left-over source word: in place of the sentence's longest
    // lower-case word.
    if let Some(word) = left_over {
        let longest = sentence
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| w.chars().count() >= 6 && w.chars().all(char::is_lowercase))
            .max_by_key(|w| w.len());
        if let Some(longest) = longest {
            out.push(("untranslated", sentence.replacen(longest, word, 1)));
        }
    }
    // A number: the first run of digits, plus one (a year moves a year).
    if let Some(m) = regex::Regex::new(r"\d+").expect("valid").find(sentence) {
        if let Ok(n) = m.as_str().parse::<u64>() {
            out.push((
                "number",
                format!(
                    "{}{}{}",
                    &sentence[..m.start()],
                    n + 1,
                    &sentence[m.end()..]
                ),
            ));
        }
    }
    // A body: swapped for another of its kind. Places are left alone: a
    // document's own country and places named by adjective are no error.
    let body = bodies
        .in_english(sentence)
        .into_iter()
        .find(|(_, ids)| bodies.bodies[ids[0]].kind != "place");
    if let Some((words, ids)) = body {
        let kind = &bodies.bodies[ids[0]].kind;
        let other = bodies
            .bodies
            .iter()
            .enumerate()
            .filter(|(i, b)| &b.kind == kind && !ids.contains(i))
            .map(|(_, b)| b)
            .nth(sentence.len() % 7);
        if let Some(other) = other {
            out.push(("entity", sentence.replacen(&words, &other.en[0], 1)));
        }
    }
    // A negation: after the first auxiliary.
    for aux in [
        " is ", " are ", " was ", " were ", " will ", " has ", " have ", " can ", " should ",
        " must ",
    ] {
        if let Some(i) = sentence.find(aux) {
            let at = i + aux.len();
            out.push((
                "contradiction",
                format!("{}not {}", &sentence[..at], &sentence[at..]),
            ));
            break;
        }
    }
    // The actor: the government for the Commission and back.
    for (a, b) in [
        ("government", "Commission"),
        ("Commission", "government"),
        ("Council", "Commission"),
        ("Parliament", "government"),
    ] {
        if sentence.contains(a) {
            out.push(("actor", sentence.replacen(a, b, 1)));
            break;
        }
    }
    out
}
