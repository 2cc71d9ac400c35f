//! `nordbrief eval`: read a folder of briefs and a folder of references,
//! score every brief that has a reference, and write `report.json`,
//! `report.md` and `report.html`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::keypoints::DEFAULT_THRESHOLD;
use super::report::{score_document, BriefOrigin, Reference, Report};
use super::EvalError;
use crate::brief::Brief;
use crate::ingest::{ingest_path, IngestError};

/// File names of the reports in the output folder.
pub const REPORT_JSON: &str = "report.json";
pub const REPORT_MD: &str = "report.md";
pub const REPORT_HTML: &str = "report.html";

/// JSON files in a briefs folder that are not briefs: the batch runner's
/// manifest and an earlier report written into the same folder.
const NOT_BRIEFS: &[&str] = &["nordbrief-run.json", REPORT_JSON];
/// JSON files in the references folder that are not references.
const NOT_REFERENCES: &[&str] = &["support.json"];

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot read {path}: {source}; check that it exists and is readable")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a nordbrief brief ({reason}); regenerate it with `nordbrief brief` or move it out of the folder")]
    BadBrief { path: String, reason: String },
    #[error(
        "{path} is not a reference brief ({reason}); see eval/references/README.md for the format"
    )]
    BadReference { path: String, reason: String },
    #[error("{path} has id `{found}` but its file name says `{expected}`; rename the file or fix the id")]
    ReferenceIdMismatch {
        path: String,
        expected: String,
        found: String,
    },
    #[error("{first} and {second} both hold the brief `{id}`; remove one of them")]
    DuplicateBrief {
        id: String,
        first: String,
        second: String,
    },
    #[error(
        "no brief in {briefs} has a reference in {references} (briefs: {brief_ids}; references: {reference_ids}); \
         check --briefs and --references"
    )]
    NothingToEvaluate {
        briefs: String,
        references: String,
        brief_ids: String,
        reference_ids: String,
    },
    #[error("cannot find the source of brief `{id}`: neither {given} nor {fallback} exists; pass --sources DIR with the source documents")]
    SourceMissing {
        id: String,
        given: String,
        fallback: String,
    },
    #[error("cannot read the source of brief `{id}`: {source}")]
    Source {
        id: String,
        #[source]
        source: IngestError,
    },
    #[error("cannot score brief `{id}` against {reference}: {source}")]
    Score {
        id: String,
        reference: String,
        #[source]
        source: EvalError,
    },
    #[error("cannot write {path}: {source}; check that the folder is writable")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not an evaluation report ({reason}); give a report.json written by `nordbrief eval`")]
    BadReport { path: String, reason: String },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub briefs_dir: PathBuf,
    pub references_dir: PathBuf,
    /// Where `<id>.txt` sources are looked for when a brief's `source` path
    /// does not exist (briefs made elsewhere, or from standard input).
    pub sources_dir: PathBuf,
    pub keypoint_threshold: f64,
}

impl EvalOptions {
    pub fn new(briefs_dir: PathBuf) -> EvalOptions {
        EvalOptions {
            briefs_dir,
            references_dir: PathBuf::from("eval/references"),
            sources_dir: PathBuf::from("seeds"),
            keypoint_threshold: DEFAULT_THRESHOLD,
        }
    }
}

/// The `.json` files directly in `dir`, sorted, without hidden files and
/// without the names in `skip`.
fn json_files(dir: &Path, skip: &[&str]) -> Result<Vec<PathBuf>, RunError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let path = entry.map_err(io_error(dir))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.')
            || !name.ends_with(".json")
            || skip.contains(&name)
            || !path.is_file()
        {
            continue;
        }
        files.push(path);
    }
    files.sort();
    Ok(files)
}

/// Every reference in `dir`, by id (the file name without `.json`).
pub fn load_references(dir: &Path) -> Result<BTreeMap<String, Reference>, RunError> {
    let mut references = BTreeMap::new();
    for path in json_files(dir, NOT_REFERENCES)? {
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        let mut reference: Reference =
            serde_json::from_str(&text).map_err(|e| RunError::BadReference {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if !reference.id.is_empty() && reference.id != id {
            return Err(RunError::ReferenceIdMismatch {
                path: path.display().to_string(),
                expected: id,
                found: reference.id,
            });
        }
        if reference.key_points.is_empty() {
            return Err(RunError::BadReference {
                path: path.display().to_string(),
                reason: "it has no key points".to_string(),
            });
        }
        reference.id = id.clone();
        references.insert(id, reference);
    }
    Ok(references)
}

/// Every brief in `dir`, by its `id`, with the file it came from.
pub fn load_briefs(dir: &Path) -> Result<BTreeMap<String, (PathBuf, Brief)>, RunError> {
    let mut briefs: BTreeMap<String, (PathBuf, Brief)> = BTreeMap::new();
    for path in json_files(dir, NOT_BRIEFS)? {
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        let brief: Brief = serde_json::from_str(&text).map_err(|e| RunError::BadBrief {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        if let Some((first, _)) = briefs.get(&brief.id) {
            return Err(RunError::DuplicateBrief {
                id: brief.id.clone(),
                first: first.display().to_string(),
                second: path.display().to_string(),
            });
        }
        briefs.insert(brief.id.clone(), (path, brief));
    }
    Ok(briefs)
}

/// The text facts are checked against: the cleaned body, the footnotes and
/// the document date (which ingest keeps out of the body), with the file it
/// came from and its sha256.
fn source_of(
    brief: &Brief,
    sources_dir: &Path,
) -> Result<(String, BriefOrigin, crate::ingest::Document), RunError> {
    let given = PathBuf::from(&brief.source);
    let fallback = sources_dir.join(format!("{}.txt", brief.id));
    let path = if brief.source != "-" && given.is_file() {
        given
    } else if fallback.is_file() {
        fallback
    } else {
        return Err(RunError::SourceMissing {
            id: brief.id.clone(),
            given: brief.source.clone(),
            fallback: fallback.display().to_string(),
        });
    };
    let document = ingest_path(&path).map_err(|source| RunError::Source {
        id: brief.id.clone(),
        source,
    })?;
    let mut text = document.body_text();
    for footnote in &document.footnotes {
        text.push_str("\n\n");
        text.push_str(&footnote.text);
    }
    if let Some(date) = &document.document_date {
        text.push_str("\n\n");
        text.push_str(date);
    }
    let origin = BriefOrigin {
        brief_file: String::new(),
        source_file: path.display().to_string(),
        source_sha256: document.source_sha256.clone(),
    };
    Ok((text, origin, document))
}

/// Scores every brief in `options.briefs_dir` that has a reference.
/// Scores every brief; `embedder` checks citations by meaning (see
/// [`crate::eval::report::grounding_scores`]).
pub fn evaluate(
    options: &EvalOptions,
    embedder: Option<&dyn crate::model::Embed>,
) -> Result<Report, RunError> {
    let references = load_references(&options.references_dir)?;
    let briefs = load_briefs(&options.briefs_dir)?;
    let mut documents = Vec::new();
    let mut briefs_without_reference = Vec::new();
    for (id, (path, brief)) in &briefs {
        let Some(reference) = references.get(id) else {
            briefs_without_reference.push(id.clone());
            continue;
        };
        let (source_text, mut origin, source_document) = source_of(brief, &options.sources_dir)?;
        origin.brief_file = path.display().to_string();
        let mut document = score_document(
            brief,
            reference,
            &source_text,
            &origin,
            options.keypoint_threshold,
        )
        .map_err(|source| RunError::Score {
            id: id.clone(),
            reference: options
                .references_dir
                .join(format!("{id}.json"))
                .display()
                .to_string(),
            source,
        })?;
        (
            document.scores.grounded_share,
            document.scores.citation_precision,
        ) = crate::eval::report::grounding_scores(brief, &source_document, embedder);
        document.checked = crate::eval::report::checker_verdicts(brief, &source_document, embedder);
        document.scores.set_checker_figures(&document.checked);
        documents.push(document);
    }
    let references_without_brief: Vec<String> = references
        .keys()
        .filter(|id| !briefs.contains_key(*id))
        .cloned()
        .collect();
    let ids = |keys: Vec<&String>| {
        if keys.is_empty() {
            "none".to_string()
        } else {
            keys.into_iter().cloned().collect::<Vec<_>>().join(", ")
        }
    };
    let nothing = RunError::NothingToEvaluate {
        briefs: options.briefs_dir.display().to_string(),
        references: options.references_dir.display().to_string(),
        brief_ids: ids(briefs.keys().collect()),
        reference_ids: ids(references.keys().collect()),
    };
    Report::new(
        options.briefs_dir.display().to_string(),
        options.references_dir.display().to_string(),
        documents,
        briefs_without_reference,
        references_without_brief,
        options.keypoint_threshold,
    )
    .ok_or(nothing)
}

/// The three files [`write_reports`] wrote.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    pub json: PathBuf,
    pub markdown: PathBuf,
    pub html: PathBuf,
}

/// Writes `report.json`, `report.md` and `report.html` into `out_dir`
/// (created if missing).
pub fn write_reports(report: &Report, out_dir: &Path) -> Result<ReportFiles, RunError> {
    std::fs::create_dir_all(out_dir).map_err(|source| RunError::Write {
        path: out_dir.display().to_string(),
        source,
    })?;
    let write = |name: &str, contents: String| -> Result<PathBuf, RunError> {
        let path = out_dir.join(name);
        std::fs::write(&path, contents).map_err(|source| RunError::Write {
            path: path.display().to_string(),
            source,
        })?;
        Ok(path)
    };
    let json = serde_json::to_string_pretty(report).map_err(|e| RunError::Write {
        path: out_dir.join(REPORT_JSON).display().to_string(),
        source: std::io::Error::other(e),
    })?;
    Ok(ReportFiles {
        json: write(REPORT_JSON, json + "\n")?,
        markdown: write(REPORT_MD, report.to_markdown())?,
        html: write(REPORT_HTML, super::html::render(report))?,
    })
}

/// Reads a `report.json` written by [`write_reports`].
pub fn read_report(path: &Path) -> Result<Report, RunError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    serde_json::from_str(&text).map_err(|e| RunError::BadReport {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::{GenerationInfo, LanguageLabel, ModelInfo, Timings, SCHEMA_VERSION};

    const SOURCE: &str = "Sverige stöder rådsslutsatserna om integration. Mötet i Potsdam hölls den 10-11 maj 2007.\n";

    fn write_json(path: &Path, value: &impl serde::Serialize) {
        std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    }

    fn brief(id: &str, source: &str, summary: &str) -> Brief {
        Brief {
            schema_version: SCHEMA_VERSION,
            id: id.into(),
            source: source.into(),
            source_sha256: String::new(),
            language: LanguageLabel {
                code: "swe".into(),
                name: "Swedish".into(),
                confidence: 0.9,
            },
            title: "Integration conclusions".into(),
            summary: summary.into(),
            key_points: vec!["Sweden supports the Council conclusions on integration.".into()],
            key_point_sources: vec![],
            document_date: None,
            model: ModelInfo {
                id: "m".into(),
                sha256: String::new(),
            },
            prompt_versions: Default::default(),
            generation: GenerationInfo::default(),
            timings: Timings::default(),
            warnings: vec![],
        }
    }

    fn reference(summary: &str) -> Reference {
        Reference {
            id: String::new(),
            language: "swe".into(),
            title: "Integration conclusions".into(),
            summary: summary.into(),
            key_points: vec!["Sweden supports the Council conclusions on integration.".into()],
            notes: String::new(),
        }
    }

    /// briefs/, references/ and seeds/ in a temporary folder.
    fn setup() -> (tempfile::TempDir, EvalOptions) {
        let root = tempfile::tempdir().unwrap();
        for dir in ["briefs", "references", "seeds"] {
            std::fs::create_dir(root.path().join(dir)).unwrap();
        }
        let mut options = EvalOptions::new(root.path().join("briefs"));
        options.references_dir = root.path().join("references");
        options.sources_dir = root.path().join("seeds");
        (root, options)
    }

    const SUMMARY: &str = "Sweden supports the Council conclusions on integration. Ministers met in Potsdam on 10-11 May 2007.";

    #[test]
    fn scores_matched_briefs_and_lists_the_rest() {
        let (root, options) = setup();
        let r = root.path();
        std::fs::write(r.join("seeds/a.txt"), SOURCE).unwrap();
        // Brief a's source path does not exist here: seeds/a.txt is used.
        write_json(
            &r.join("briefs/a.json"),
            &brief("a", "/nowhere/a.txt", SUMMARY),
        );
        write_json(
            &r.join("briefs/lonely.json"),
            &brief("lonely", "/nowhere/x.txt", SUMMARY),
        );
        std::fs::write(r.join("briefs/nordbrief-run.json"), "{\"documents\":{}}").unwrap();
        std::fs::write(r.join("briefs/a.md"), "# not read").unwrap();
        write_json(&r.join("references/a.json"), &reference(SUMMARY));
        write_json(&r.join("references/b.json"), &reference(SUMMARY));
        std::fs::write(r.join("references/support.json"), "{}").unwrap();

        let report = evaluate(&options, None).unwrap();
        assert_eq!(report.documents.len(), 1);
        let doc = &report.documents[0];
        assert_eq!(doc.source_file, r.join("seeds/a.txt").display().to_string());
        assert!((doc.scores.rouge_lsum - 1.0).abs() < 1e-12);
        assert!(
            doc.unsupported_facts.is_empty(),
            "{:?}",
            doc.unsupported_facts
        );
        assert_eq!(report.briefs_without_reference, vec!["lonely".to_string()]);
        assert_eq!(report.references_without_brief, vec!["b".to_string()]);
        assert_eq!(report.means, doc.scores);

        // The report in the briefs folder is not read as a brief next time.
        let files = write_reports(&report, &options.briefs_dir).unwrap();
        assert_eq!(read_report(&files.json).unwrap(), report);
        assert_eq!(evaluate(&options, None).unwrap(), report);
        let html = std::fs::read_to_string(&files.html).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg"));
        for external in ["<script", "<link", "src=", "url(", "href=\"http", "@import"] {
            assert!(
                !html.contains(external),
                "report.html must be self-contained: found {external}"
            );
        }
    }

    #[test]
    fn the_brief_source_path_is_preferred_and_a_changed_source_is_noticed() {
        let (root, options) = setup();
        let r = root.path();
        let given = r.join("given.txt");
        std::fs::write(&given, SOURCE).unwrap();
        let mut b = brief("a", &given.display().to_string(), SUMMARY);
        b.source_sha256 = "00".repeat(32);
        write_json(&r.join("briefs/a.json"), &b);
        write_json(&r.join("references/a.json"), &reference(SUMMARY));
        let report = evaluate(&options, None).unwrap();
        assert_eq!(report.documents[0].source_file, given.display().to_string());
        assert!(!report.documents[0].source_matches_brief);
        assert!(report
            .to_markdown()
            .contains("The source changed since these were briefed"));
    }

    #[test]
    fn problems_name_the_file_and_the_way_out() {
        let (root, options) = setup();
        let r = root.path();
        write_json(&r.join("references/a.json"), &reference(SUMMARY));
        write_json(
            &r.join("briefs/a.json"),
            &brief("a", "/nowhere/a.txt", SUMMARY),
        );
        let error = evaluate(&options, None).unwrap_err().to_string();
        assert!(
            error.contains("cannot find the source of brief `a`") && error.contains("--sources"),
            "{error}"
        );

        std::fs::write(r.join("briefs/a.json"), "{\"id\": 3}").unwrap();
        let error = evaluate(&options, None).unwrap_err().to_string();
        assert!(error.contains("a.json is not a nordbrief brief"), "{error}");

        std::fs::remove_file(r.join("briefs/a.json")).unwrap();
        write_json(
            &r.join("briefs/z.json"),
            &brief("z", "/nowhere/z.txt", SUMMARY),
        );
        let error = evaluate(&options, None).unwrap_err().to_string();
        assert!(
            error.contains("no brief in") && error.contains("briefs: z; references: a"),
            "{error}"
        );

        let mut wrong = reference(SUMMARY);
        wrong.id = "other".into();
        write_json(&r.join("references/a.json"), &wrong);
        assert!(matches!(
            load_references(&options.references_dir),
            Err(RunError::ReferenceIdMismatch { .. })
        ));
    }

    #[test]
    fn the_committed_references_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/references");
        let references = load_references(&dir).unwrap();
        assert_eq!(references.len(), 5);
        assert!(references
            .values()
            .all(|r| !r.summary.is_empty() && r.key_points.len() >= 4));
    }
}
