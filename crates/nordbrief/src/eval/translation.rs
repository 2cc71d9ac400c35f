//! `nordbrief eval translate`: scores Scandinavian → English translations of
//! NTREX-128 with chrF++ and BLEU (sacrebleu defaults), per language, at
//! two levels:
//! - **sentence**: the first `lines` lines, each line one segment, corpus
//!   statistics summed over the lines (sacrebleu `corpus_score`);
//! - **document**: the first `documents` news documents of
//!   `DOCUMENT_IDS.tsv`, each document's lines joined with a space into one
//!   segment, so sentence splits and merges by the translator do not matter.
//!
//! The translator is passed in as a function of (language code, source
//! lines) → English lines, so that any translator (the model, a file of
//! hypotheses) can be scored the same way.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::bleu::corpus_bleu;
use super::chrf::{corpus_chrf_pp, BETA_CHRF_PP};
use super::EvalError;

/// The languages NTREX-128 has that nordbrief translates from.
pub const NTREX_LANGUAGES: &[&str] = &["swe", "dan", "nob", "nno"];
pub const DOCUMENT_IDS_FILE: &str = "DOCUMENT_IDS.tsv";

#[derive(Debug, thiserror::Error)]
pub enum TranslationEvalError {
    #[error("cannot read {path}: {source}; pass --data with the NTREX-128 folder (ntrex128.<lang>.txt and DOCUMENT_IDS.tsv; the repository has it in eval/ntrex/data)")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} has {found} lines but {expected_from} has {expected}; the NTREX-128 files must be line-aligned")]
    NotAligned {
        path: String,
        found: usize,
        expected_from: String,
        expected: usize,
    },
    #[error(
        "unknown language `{0}`; NTREX-128 languages nordbrief translates from: swe, dan, nob, nno"
    )]
    UnknownLanguage(String),
    #[error("--lines and --documents are both 0; nothing to score")]
    NothingToScore,
    #[error("the translation of {lang} has {found} lines for {expected} source lines; a translator must return one line per source line")]
    WrongLineCount {
        lang: String,
        found: usize,
        expected: usize,
    },
    #[error("{path} has {found} lines but {expected} are needed (--lines and --documents); translate at least the first {expected} lines of ntrex128.{lang}.txt")]
    TooFewHypotheses {
        path: String,
        lang: String,
        found: usize,
        expected: usize,
    },
    #[error("cannot translate {lang}: {reason}")]
    Translator { lang: String, reason: String },
    #[error(transparent)]
    Metric(#[from] EvalError),
}

fn read_lines(path: &Path) -> Result<Vec<String>, TranslationEvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| TranslationEvalError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(text.lines().map(str::to_string).collect())
}

/// NTREX-128 in the languages asked for, line-aligned with the English.
#[derive(Debug, Clone)]
pub struct Ntrex {
    pub english: Vec<String>,
    pub document_ids: Vec<String>,
    /// Source lines by language code.
    pub sources: BTreeMap<String, Vec<String>>,
}

impl Ntrex {
    /// Reads `ntrex128.eng.txt`, `DOCUMENT_IDS.tsv` and `ntrex128.<lang>.txt`
    /// for each of `langs` from `dir`.
    pub fn load(dir: &Path, langs: &[String]) -> Result<Ntrex, TranslationEvalError> {
        for lang in langs {
            if !NTREX_LANGUAGES.contains(&lang.as_str()) {
                return Err(TranslationEvalError::UnknownLanguage(lang.clone()));
            }
        }
        let english_path = dir.join("ntrex128.eng.txt");
        let english = read_lines(&english_path)?;
        let aligned = |path: PathBuf, lines: Vec<String>| {
            if lines.len() == english.len() {
                Ok(lines)
            } else {
                Err(TranslationEvalError::NotAligned {
                    path: path.display().to_string(),
                    found: lines.len(),
                    expected_from: english_path.display().to_string(),
                    expected: english.len(),
                })
            }
        };
        let ids_path = dir.join(DOCUMENT_IDS_FILE);
        let document_ids = aligned(ids_path.clone(), read_lines(&ids_path)?)?
            .into_iter()
            .map(|id| id.trim().to_string())
            .collect();
        let mut sources = BTreeMap::new();
        for lang in langs {
            let path = dir.join(format!("ntrex128.{lang}.txt"));
            let lines = read_lines(&path)?;
            sources.insert(lang.clone(), aligned(path, lines)?);
        }
        Ok(Ntrex {
            english,
            document_ids,
            sources,
        })
    }
}

/// Line ranges of the first `count` documents, in file order (documents
/// are contiguous runs of one id in `DOCUMENT_IDS.tsv`).
pub fn document_ranges(
    document_ids: &[String],
    count: usize,
) -> Vec<(String, std::ops::Range<usize>)> {
    let mut ranges: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    for (line, id) in document_ids.iter().enumerate() {
        match ranges.last_mut() {
            Some((last, range)) if last == id => range.end = line + 1,
            _ => {
                if ranges.len() == count {
                    break;
                }
                ranges.push((id.clone(), line..line + 1));
            }
        }
    }
    ranges
}

/// chrF++ and BLEU of one level, on 0–1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelScores {
    /// Number of segments (lines or documents) scored.
    pub segments: usize,
    pub chrf_pp: f64,
    pub bleu: f64,
}

/// Scores of one language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LanguageScores {
    pub lang: String,
    pub sentence: LevelScores,
    pub document: LevelScores,
}

/// Scores of all languages, and what was scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranslationReport {
    pub lines: usize,
    pub documents: Vec<String>,
    pub languages: Vec<LanguageScores>,
}

/// How much of NTREX-128 to score.
#[derive(Debug, Clone, Copy)]
pub struct TranslationPlan {
    /// First lines scored sentence by sentence.
    pub lines: usize,
    /// First documents scored whole.
    pub documents: usize,
}

impl TranslationPlan {
    /// How many leading lines must be translated for both levels.
    pub fn lines_needed(&self, document_ids: &[String]) -> usize {
        let documents_end = document_ranges(document_ids, self.documents)
            .last()
            .map_or(0, |(_, r)| r.end);
        self.lines.min(document_ids.len()).max(documents_end)
    }
}

fn level(hypotheses: &[String], references: &[String]) -> Result<LevelScores, EvalError> {
    Ok(LevelScores {
        segments: hypotheses.len(),
        chrf_pp: corpus_chrf_pp(hypotheses, references, BETA_CHRF_PP)?,
        bleu: corpus_bleu(hypotheses, references)?.score,
    })
}

/// Scores English `hypotheses` (line-aligned with the leading lines of
/// `references`, at least as many as `plan` needs) at sentence and
/// document level.
pub fn score_language(
    lang: &str,
    hypotheses: &[String],
    references: &[String],
    document_ids: &[String],
    plan: TranslationPlan,
) -> Result<LanguageScores, TranslationEvalError> {
    let needed = plan.lines_needed(document_ids).min(references.len());
    if hypotheses.len() < needed {
        return Err(TranslationEvalError::WrongLineCount {
            lang: lang.to_string(),
            found: hypotheses.len(),
            expected: needed,
        });
    }
    let lines = plan.lines.min(references.len());
    let sentence = level(&hypotheses[..lines], &references[..lines])?;
    let (mut hypothesis_documents, mut reference_documents) = (Vec::new(), Vec::new());
    for (_, range) in document_ranges(document_ids, plan.documents) {
        hypothesis_documents.push(hypotheses[range.clone()].join(" "));
        reference_documents.push(references[range].join(" "));
    }
    let document = level(&hypothesis_documents, &reference_documents)?;
    Ok(LanguageScores {
        lang: lang.to_string(),
        sentence,
        document,
    })
}

/// A translator: (language code, source lines) → one English line per source line.
pub type TranslateFn<'a> = dyn FnMut(&str, &[String]) -> Result<Vec<String>, String> + 'a;

/// Translates the leading lines `plan` needs of each language with
/// `translate` and scores the result.
pub fn evaluate_translation(
    data: &Ntrex,
    plan: TranslationPlan,
    translate: &mut TranslateFn<'_>,
) -> Result<TranslationReport, TranslationEvalError> {
    if plan.lines == 0 && plan.documents == 0 {
        return Err(TranslationEvalError::NothingToScore);
    }
    let needed = plan.lines_needed(&data.document_ids);
    let mut languages = Vec::new();
    for (lang, source) in &data.sources {
        let hypotheses =
            translate(lang, &source[..needed.min(source.len())]).map_err(|reason| {
                TranslationEvalError::Translator {
                    lang: lang.clone(),
                    reason,
                }
            })?;
        if hypotheses.len() != needed {
            return Err(TranslationEvalError::WrongLineCount {
                lang: lang.clone(),
                found: hypotheses.len(),
                expected: needed,
            });
        }
        languages.push(score_language(
            lang,
            &hypotheses,
            &data.english,
            &data.document_ids,
            plan,
        )?);
    }
    Ok(TranslationReport {
        lines: plan.lines.min(data.english.len()),
        documents: document_ranges(&data.document_ids, plan.documents)
            .into_iter()
            .map(|(id, _)| id)
            .collect(),
        languages,
    })
}

/// A translator that reads finished translations from `dir/<lang>.txt`
/// (one English line per NTREX line, at least as many lines as needed;
/// further lines are ignored).
pub fn hypotheses_from_dir(
    dir: &Path,
) -> impl FnMut(&str, &[String]) -> Result<Vec<String>, String> + '_ {
    move |lang, sources| {
        let path = dir.join(format!("{lang}.txt"));
        let lines = read_lines(&path).map_err(|e| e.to_string())?;
        if lines.len() < sources.len() {
            return Err(TranslationEvalError::TooFewHypotheses {
                path: path.display().to_string(),
                lang: lang.to_string(),
                found: lines.len(),
                expected: sources.len(),
            }
            .to_string());
        }
        Ok(lines.into_iter().take(sources.len()).collect())
    }
}

impl TranslationReport {
    /// A Markdown table, one row per language.
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "NTREX-128 → English: {} lines (sentence level), {} documents (document level); scores on 0–1\n\n",
            self.lines,
            self.documents.len()
        );
        out.push_str("| language | sentence chrF++ | sentence BLEU | document chrF++ | document BLEU |\n|---|---:|---:|---:|---:|\n");
        for l in &self.languages {
            let _ = writeln!(
                out,
                "| {} | {:.4} | {:.4} | {:.4} | {:.4} |",
                l.lang, l.sentence.chrf_pp, l.sentence.bleu, l.document.chrf_pp, l.document.bleu
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::bleu::sentence_bleu;
    use crate::eval::chrf::chrf_pp;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn documents_are_contiguous_runs_of_one_id() {
        let ids = strings(&["a", "a", "b", "c", "c", "c"]);
        let ranges = document_ranges(&ids, 2);
        assert_eq!(
            ranges,
            vec![("a".to_string(), 0..2), ("b".to_string(), 2..3)]
        );
        assert_eq!(document_ranges(&ids, 10).len(), 3);
        assert_eq!(
            TranslationPlan {
                lines: 1,
                documents: 2
            }
            .lines_needed(&ids),
            3
        );
        assert_eq!(
            TranslationPlan {
                lines: 5,
                documents: 1
            }
            .lines_needed(&ids),
            5
        );
        assert_eq!(
            TranslationPlan {
                lines: 50,
                documents: 0
            }
            .lines_needed(&ids),
            6
        );
    }

    #[test]
    fn sentence_level_uses_corpus_statistics_and_documents_are_joined() {
        let ids = strings(&["a", "a", "b"]);
        let references = strings(&[
            "The cat sat on the mat.",
            "It was warm.",
            "Prices rose in May.",
        ]);
        let hypotheses = strings(&[
            "The cat sat on a mat.",
            "It was hot.",
            "Prices rose in May.",
        ]);
        let scores = score_language(
            "swe",
            &hypotheses,
            &references,
            &ids,
            TranslationPlan {
                lines: 2,
                documents: 2,
            },
        )
        .unwrap();
        assert_eq!(scores.sentence.segments, 2);
        assert_eq!(scores.document.segments, 2);
        let corpus = corpus_chrf_pp(&hypotheses[..2], &references[..2], BETA_CHRF_PP).unwrap();
        assert_eq!(scores.sentence.chrf_pp, corpus);
        assert_ne!(
            corpus,
            (chrf_pp(&hypotheses[0], &references[0], 2.0)
                + chrf_pp(&hypotheses[1], &references[1], 2.0))
                / 2.0
        );
        let joined = corpus_bleu(
            &strings(&["The cat sat on a mat. It was hot.", "Prices rose in May."]),
            &strings(&[
                "The cat sat on the mat. It was warm.",
                "Prices rose in May.",
            ]),
        )
        .unwrap();
        assert_eq!(scores.document.bleu, joined.score);
        assert!(scores.document.bleu > 0.0 && scores.document.bleu < 1.0);
        assert!(sentence_bleu(&hypotheses[2], &references[2]).score > 0.99);
    }

    #[test]
    fn perfect_translations_score_one_and_short_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let english = "One line here.\nA second line.\nThird one now.\n";
        std::fs::write(dir.path().join("ntrex128.eng.txt"), english).unwrap();
        std::fs::write(
            dir.path().join("ntrex128.swe.txt"),
            "En rad.\nEn andra rad.\nTredje nu.\n",
        )
        .unwrap();
        std::fs::write(dir.path().join(DOCUMENT_IDS_FILE), "d1\nd1\nd2\n").unwrap();
        let data = Ntrex::load(dir.path(), &strings(&["swe"])).unwrap();
        let plan = TranslationPlan {
            lines: 3,
            documents: 2,
        };
        let mut copy_reference =
            |_: &str, sources: &[String]| Ok(data.english[..sources.len()].to_vec());
        let report = evaluate_translation(&data, plan, &mut copy_reference).unwrap();
        assert_eq!(report.documents, strings(&["d1", "d2"]));
        let swe = &report.languages[0];
        assert_eq!((swe.sentence.chrf_pp, swe.document.chrf_pp), (1.0, 1.0));
        assert!((swe.sentence.bleu - 1.0).abs() < 1e-12);
        assert!(report.to_table().contains("| swe | 1.0000 |"));

        let hypotheses = tempfile::tempdir().unwrap();
        std::fs::write(hypotheses.path().join("swe.txt"), "One line here.\n").unwrap();
        let error = evaluate_translation(&data, plan, &mut hypotheses_from_dir(hypotheses.path()))
            .unwrap_err();
        assert!(
            error.to_string().contains("has 1 lines but 3 are needed"),
            "{error}"
        );

        let mut dropping = |_: &str, sources: &[String]| Ok(sources[1..].to_vec());
        assert!(matches!(
            evaluate_translation(&data, plan, &mut dropping),
            Err(TranslationEvalError::WrongLineCount { .. })
        ));
        assert!(matches!(
            Ntrex::load(dir.path(), &strings(&["deu"])),
            Err(TranslationEvalError::UnknownLanguage(_))
        ));
        std::fs::write(dir.path().join("ntrex128.swe.txt"), "En rad.\n").unwrap();
        assert!(matches!(
            Ntrex::load(dir.path(), &strings(&["swe"])),
            Err(TranslationEvalError::NotAligned { .. })
        ));
    }

    #[test]
    fn the_repository_ntrex_data_has_123_documents() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/ntrex/data");
        let data = Ntrex::load(&dir, &strings(&["swe", "nno"]))
            .unwrap_or_else(|e| panic!("NTREX-128 is needed in {}: {e}", dir.display()));
        assert_eq!(data.english.len(), 1997);
        assert_eq!(document_ranges(&data.document_ids, usize::MAX).len(), 123);
        assert_eq!(
            TranslationPlan {
                lines: 250,
                documents: 10
            }
            .lines_needed(&data.document_ids),
            250
        );

        // The untranslated Danish as "translation", scored by sacrebleu 2.6.0
        // (CHRF(word_order=2), BLEU(); corpus_score / 100) on the same 250
        // lines and 10 joined documents.
        let danish = Ntrex::load(&dir, &strings(&["dan"])).unwrap();
        let plan = TranslationPlan {
            lines: 250,
            documents: 10,
        };
        let mut untranslated = |_: &str, sources: &[String]| Ok(sources.to_vec());
        let report = evaluate_translation(&danish, plan, &mut untranslated).unwrap();
        let dan = &report.languages[0];
        for (ours, sacrebleu) in [
            (dan.sentence.chrf_pp, 0.23789704491676786),
            (dan.sentence.bleu, 0.036705888761342405),
            (dan.document.chrf_pp, 0.2952134050357121),
            (dan.document.bleu, 0.04386963866150171),
        ] {
            assert!(
                (ours - sacrebleu).abs() < 1e-9,
                "{ours} vs sacrebleu {sacrebleu}"
            );
        }
    }
}
