//! The metrics in `nordbrief::eval` against the reference implementations:
//! fixtures written by `eval/scripts/make_metric_fixtures.py` from
//! rouge-score, sacrebleu and NLTK (versions recorded in the fixtures).
//! Every value must agree within 1e-6; sacrebleu's chrF and BLEU are on
//! 0–100, ours on 0–1, so ours are multiplied by 100 before comparing.

use nordbrief::eval::{bleu, chrf, porter, rouge};
use serde_json::Value;

const TOLERANCE: f64 = 1e-6;

fn fixture(name: &str) -> Value {
    let path = crate::support::repo()
        .join("crates/nordbrief-cli/tests/all/fixtures/metrics")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn number(value: &Value, what: &str) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {value}"))
}

/// Collects mismatches instead of stopping at the first, so one run shows
/// the whole extent of a difference; also tracks the largest difference.
#[derive(Default)]
struct Comparison {
    failures: Vec<String>,
    max_diff: f64,
    compared: usize,
}

impl Comparison {
    fn check(&mut self, label: impl FnOnce() -> String, expected: f64, actual: f64) {
        let diff = (expected - actual).abs();
        self.compared += 1;
        self.max_diff = self.max_diff.max(diff);
        if diff > TOLERANCE || diff.is_nan() {
            self.failures
                .push(format!("{}: expected {expected}, got {actual}", label()));
        }
    }

    fn finish(self, what: &str) {
        println!(
            "{what}: {} values, max abs diff {:e}",
            self.compared, self.max_diff
        );
        assert!(
            self.failures.is_empty(),
            "{what}: {} of {} values differ:\n{}",
            self.failures.len(),
            self.compared,
            self.failures
                .iter()
                .take(30)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

fn cases() -> Vec<Value> {
    let pairs = fixture("pairs.json");
    let cases = pairs["cases"].as_array().expect("cases array").clone();
    assert!(
        cases.len() >= 200,
        "fixtures should hold at least 200 pairs, found {}",
        cases.len()
    );
    cases
}

fn text<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string"))
}

#[test]
fn rouge_matches_rouge_score() {
    let mut comparison = Comparison::default();
    for (index, case) in cases().iter().enumerate() {
        let scores = rouge::rouge(text(case, "reference"), text(case, "candidate"));
        for (key, prf) in [
            ("rouge1", scores.rouge1),
            ("rouge2", scores.rouge2),
            ("rougeL", scores.rouge_l),
            ("rougeLsum", scores.rouge_lsum),
        ] {
            for (part, actual) in [("p", prf.precision), ("r", prf.recall), ("f", prf.f1)] {
                let expected = number(&case[key][part], key);
                comparison.check(|| format!("case {index} {key}.{part}"), expected, actual);
            }
        }
    }
    comparison.finish("ROUGE");
}

#[test]
fn porter_stemmer_matches_nltk() {
    let stems = fixture("porter_stems.json");
    let stems = stems["stems"].as_object().expect("stems object");
    assert!(stems.len() > 1000);
    let wrong: Vec<String> = stems
        .iter()
        .filter_map(|(word, expected)| {
            let expected = expected.as_str().expect("stem is a string");
            let actual = porter::stem(word);
            (actual != expected).then(|| format!("{word}: expected {expected}, got {actual}"))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} stems differ:\n{}",
        wrong.len(),
        stems.len(),
        wrong.join("\n")
    );
}

#[test]
fn sentence_chrf_matches_sacrebleu() {
    let mut comparison = Comparison::default();
    for (index, case) in cases().iter().enumerate() {
        let (hypothesis, reference) = (text(case, "candidate"), text(case, "reference"));
        let stats = chrf::chrf_stats(hypothesis, reference);
        comparison.check(
            || format!("case {index} chrF++"),
            number(&case["chrf_pp"], "chrf_pp"),
            100.0 * stats.score(chrf::BETA_CHRF_PP),
        );
        comparison.check(
            || format!("case {index} chrF3++"),
            number(&case["chrf3_pp"], "chrf3_pp"),
            100.0 * stats.score(chrf::BETA_CHRF3_PP),
        );
    }
    comparison.finish("sentence chrF");
}

#[test]
fn sentence_bleu_matches_sacrebleu() {
    let mut comparison = Comparison::default();
    for (index, case) in cases().iter().enumerate() {
        let score = bleu::sentence_bleu(text(case, "candidate"), text(case, "reference"));
        comparison.check(
            || format!("case {index} sentence BLEU"),
            number(&case["sentence_bleu"], "sentence_bleu"),
            100.0 * score.score,
        );
    }
    comparison.finish("sentence BLEU");
}

#[test]
fn corpus_chrf_and_bleu_match_sacrebleu() {
    let cases = cases();
    let pairs = fixture("pairs.json");
    let corpora = pairs["corpora"].as_array().expect("corpora array");
    let mut comparison = Comparison::default();
    for corpus in corpora {
        let name = corpus["name"].as_str().unwrap_or("?").to_string();
        let indices: Vec<usize> = corpus["indices"]
            .as_array()
            .expect("indices")
            .iter()
            .map(|i| i.as_u64().expect("index") as usize)
            .collect();
        let hypotheses: Vec<&str> = indices
            .iter()
            .map(|&i| text(&cases[i], "candidate"))
            .collect();
        let references: Vec<&str> = indices
            .iter()
            .map(|&i| text(&cases[i], "reference"))
            .collect();

        for (key, beta) in [
            ("chrf_pp", chrf::BETA_CHRF_PP),
            ("chrf3_pp", chrf::BETA_CHRF3_PP),
        ] {
            let actual =
                chrf::corpus_chrf_pp(&hypotheses, &references, beta).expect("same lengths");
            comparison.check(
                || format!("{name} {key}"),
                number(&corpus[key], key),
                100.0 * actual,
            );
        }

        let expected = &corpus["bleu"];
        let actual = bleu::corpus_bleu(&hypotheses, &references).expect("same lengths");
        comparison.check(
            || format!("{name} BLEU"),
            number(&expected["score"], "score"),
            100.0 * actual.score,
        );
        comparison.check(
            || format!("{name} BLEU bp"),
            number(&expected["bp"], "bp"),
            actual.bp,
        );
        assert_eq!(
            expected["sys_len"].as_u64(),
            Some(actual.sys_len),
            "{name} sys_len"
        );
        assert_eq!(
            expected["ref_len"].as_u64(),
            Some(actual.ref_len),
            "{name} ref_len"
        );
        for n in 0..bleu::MAX_NGRAM_ORDER {
            assert_eq!(
                expected["counts"][n].as_u64(),
                Some(actual.counts[n]),
                "{name} counts[{n}]"
            );
            assert_eq!(
                expected["totals"][n].as_u64(),
                Some(actual.totals[n]),
                "{name} totals[{n}]"
            );
            comparison.check(
                || format!("{name} BLEU precision {n}"),
                number(&expected["precisions"][n], "precision"),
                100.0 * actual.precisions[n],
            );
        }
    }
    comparison.finish("corpus chrF and BLEU");
}

/// chrF over a document as long as the longest seed (about 11,000 words)
/// gives a proper score (its speed is the benchmark's business).
#[test]
fn chrf_of_a_long_document_is_scored() {
    let cases = cases();
    let mut document = String::new();
    while document.split_whitespace().count() < 11_000 {
        for case in &cases {
            document.push_str(text(case, "reference"));
            document.push('\n');
        }
    }
    let summary: String = cases
        .iter()
        .take(8)
        .map(|c| text(c, "candidate"))
        .collect::<Vec<_>>()
        .join(" ");
    // Speed is measured by the benchmark, not asserted here; this checks that
    // a document-sized reference gives a sane score.
    let score = chrf::chrf_pp(&summary, &document, chrf::BETA_CHRF_PP);
    assert!(score > 0.0 && score < 1.0);
}
