//! The citation check measured on the seeds' hand-labelled support set
//! (eval/references/support.json: for each reference key point, quotes of
//! the source sentences that support it).

use nordbrief::ingest::Document;
use nordbrief::pipeline::{Grounder, SUPPORT_THRESHOLD, SUPPORT_THRESHOLD_WITH_FIGURES};

fn normal(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// (point, supporting paragraph ids, document) for every labelled point.
fn labelled() -> Vec<(String, Vec<usize>, std::rc::Rc<Document>)> {
    let support: serde_json::Value =
        serde_json::from_slice(&std::fs::read("eval/references/support.json").unwrap()).unwrap();
    let mut out = Vec::new();
    for (id, points) in support.as_object().unwrap() {
        let doc = std::rc::Rc::new(
            nordbrief::ingest::ingest_path(std::path::Path::new(&format!("seeds/{id}.txt")))
                .unwrap(),
        );
        let reference: serde_json::Value =
            serde_json::from_slice(&std::fs::read(format!("eval/references/{id}.json")).unwrap())
                .unwrap();
        for entry in points.as_array().unwrap() {
            let k = entry["key_point"].as_u64().unwrap() as usize;
            let point = reference["key_points"][k].as_str().unwrap().to_string();
            let mut ids = Vec::new();
            for quote in entry["quotes"].as_array().unwrap() {
                let q = normal(quote.as_str().unwrap());
                // Quotes are from the raw file; cleaning may have cut a footnote digit or a link text.
                let probe: String = q.chars().take(40).collect();
                for p in &doc.paragraphs {
                    if normal(&p.text).contains(&probe) && !ids.contains(&p.id) {
                        ids.push(p.id);
                    }
                }
            }
            out.push((point, ids, doc.clone()));
        }
    }
    out
}

#[test]
fn calibration_on_the_labelled_seeds() {
    let cases = labelled();
    let located = cases.iter().filter(|(_, ids, _)| !ids.is_empty()).count();
    assert!(
        located * 10 >= cases.len() * 9,
        "only {located} of {} labelled points found in the cleaned paragraphs",
        cases.len()
    );

    let mut accepted_true = 0;
    let mut total_true = 0;
    let mut accepted_false = 0;
    let mut total_false = 0;
    let mut points_grounded = 0;
    for (point, ids, doc) in &cases {
        if ids.is_empty() {
            continue;
        }
        let g = Grounder::new(doc);
        for p in &doc.paragraphs {
            let ok = g.supports(point, p.id);
            if ids.contains(&p.id) {
                total_true += 1;
                accepted_true += usize::from(ok);
            } else if p.text.split_whitespace().count() >= 8 {
                total_false += 1;
                accepted_false += usize::from(ok);
            }
        }
        // Grounding without citations (search) finds a labelled paragraph.
        let s = g.ground(point, &[]);
        if s.sources.iter().any(|r| ids.contains(&r.paragraph)) {
            points_grounded += 1;
        }
    }
    let recall = accepted_true as f64 / total_true as f64;
    let false_accept = accepted_false as f64 / total_false as f64;
    let search = points_grounded as f64 / located as f64;
    println!(
        "thresholds {SUPPORT_THRESHOLD}/{SUPPORT_THRESHOLD_WITH_FIGURES}: labelled paragraphs accepted {accepted_true}/{total_true} ({recall:.2}); \
         other paragraphs accepted {accepted_false}/{total_false} ({false_accept:.3}); \
         search finds a labelled paragraph for {points_grounded}/{located} points ({search:.2})"
    );
    // Floors just under the figures measured when the thresholds were set
    // (0.61, 0.025, 0.57): the reference points are long and often combine
    // facts from several paragraphs, which makes them harder to ground than
    // a model's short points. A change that loosens or breaks the check
    // shows here.
    assert!(recall >= 0.55, "recall {recall}");
    assert!(false_accept <= 0.035, "false acceptance {false_accept}");
    assert!(search >= 0.5, "search {search}");
}

/// Share of labelled (point, paragraph) pairs accepted, and of the other
/// paragraphs (of eight words or more) accepted.
fn acceptance(grounder_of: impl for<'d> Fn(&'d Document) -> Grounder<'d>) -> (f64, f64) {
    let cases = labelled();
    let (mut accepted_true, mut total_true, mut accepted_false, mut total_false) = (0, 0, 0, 0);
    let mut grounders: Vec<(String, Grounder)> = Vec::new();
    for (point, ids, doc) in &cases {
        if ids.is_empty() {
            continue;
        }
        if !grounders.iter().any(|(s, _)| *s == doc.source) {
            grounders.push((doc.source.clone(), grounder_of(doc)));
        }
        let g = &grounders.iter().find(|(s, _)| *s == doc.source).unwrap().1;
        for p in &doc.paragraphs {
            let ok = g.supports(point, p.id);
            if ids.contains(&p.id) {
                total_true += 1;
                accepted_true += usize::from(ok);
            } else if p.text.split_whitespace().count() >= 8 {
                total_false += 1;
                accepted_false += usize::from(ok);
            }
        }
    }
    (
        accepted_true as f64 / total_true as f64,
        accepted_false as f64 / total_false as f64,
    )
}

#[test]
fn grounding_by_meaning_accepts_the_labelled_paragraphs() {
    let embedder = super::support::embedder();
    let (recall, false_accept) = acceptance(|doc| Grounder::with_embedder(doc, embedder).unwrap());
    let (words_recall, words_false) = acceptance(|doc| Grounder::new(doc));
    println!(
        "by meaning: labelled paragraphs accepted {recall:.3}, others {false_accept:.4}; \
         by wording: {words_recall:.3}, {words_false:.4}"
    );
    // The floors: from 61 % to at least 85 %, others at most 5 %.
    assert!(recall >= 0.85, "recall {recall}");
    assert!(false_accept <= 0.05, "false acceptance {false_accept}");
    assert!(
        recall > words_recall,
        "meaning {recall} vs wording {words_recall}"
    );
}
