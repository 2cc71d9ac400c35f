//! What a brief of a long document is written from: the paragraphs that
//! are translated, chosen within a token budget. A short document is
//! translated whole. A long one is read in three stretches (beginning,
//! middle, end), each with a third of the budget, so no part is left out;
//! within a stretch, paragraphs close in meaning to the whole document come
//! first, then each next one is the one that adds most that is not yet
//! chosen (maximal marginal relevance). Structure counts, in any language:
//! the document's opening paragraphs and each section's first paragraph
//! state its points more often than the rest, and the heading of a chosen
//! paragraph's section is translated with it.

use crate::ingest::{Document, ParagraphKind};
use crate::model::cosine;

/// Stretches of the document, each given an equal share of the budget.
const STRETCHES: usize = 3;
/// Weight of similarity to what is chosen already against closeness to the
/// whole document.
const REDUNDANCY: f32 = 0.6;
/// Extra weight of the document's first body paragraphs and of a section's
/// first paragraph.
const OPENING_BONUS: f32 = 0.04;
const SECTION_START_BONUS: f32 = 0.02;
/// Body paragraphs shorter than this say too little to be chosen alone.
const MIN_WORDS: usize = 6;
/// Headings longer than this are no headings worth their tokens.
const HEADING_TOKENS: usize = 32;

/// The paragraphs (indices into `doc.paragraphs`, in order) to translate
/// for a brief: all of them when their `tokens` fit `budget`, else a choice
/// within it. `vectors`: each paragraph's embedding, when there is a model;
/// without one, paragraphs are spread evenly instead.
pub(crate) fn choose_paragraphs(
    doc: &Document,
    tokens: &[usize],
    vectors: Option<&[Vec<f32>]>,
    budget: usize,
) -> Vec<usize> {
    let paragraphs = &doc.paragraphs;
    let all: Vec<usize> = (0..paragraphs.len())
        .filter(|&i| !paragraphs[i].text.trim().is_empty())
        .collect();
    if all.iter().map(|&i| tokens[i]).sum::<usize>() <= budget {
        return all;
    }
    let is_heading = |i: usize| paragraphs[i].kind == ParagraphKind::Heading;
    // A paragraph that alone takes most of a stretch's share crowds out the rest.
    let fits = |i: &usize| tokens[*i] <= budget / STRETCHES;
    let mut candidates: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| !is_heading(i) && paragraphs[i].text.split_whitespace().count() >= MIN_WORDS)
        .filter(fits)
        .collect();
    if candidates.is_empty() {
        // Nothing but short lines (a list, a table): any of them will do.
        candidates = all.iter().copied().filter(fits).collect();
    }
    if candidates.is_empty() {
        return Vec::new();
    }
    let centre = vectors.map(|v| mean(candidates.iter().map(|&i| v[i].as_slice())));
    let relevance = |i: usize| -> f32 {
        let closeness = match (vectors, &centre) {
            (Some(v), Some(c)) => cosine(&v[i], c),
            _ => 0.0,
        };
        let opening = candidates
            .iter()
            .position(|&c| c == i)
            .is_some_and(|k| k < 2);
        let section_start = i > 0 && is_heading(i - 1);
        closeness
            + if opening { OPENING_BONUS } else { 0.0 }
            + if section_start {
                SECTION_START_BONUS
            } else {
                0.0
            }
    };
    let similarity = |a: usize, b: usize| -> f32 {
        match vectors {
            Some(v) => cosine(&v[a], &v[b]),
            // Without meaning, nearness in the document stands in for it.
            None => 1.0 - (a.abs_diff(b) as f32 / paragraphs.len() as f32),
        }
    };
    let total: usize = candidates.iter().map(|&i| tokens[i]).sum();
    let mut chosen: Vec<usize> = Vec::new();
    let mut spent = 0;
    let mut seen = 0;
    for stretch in 0..STRETCHES {
        // Candidates up to this stretch's end by tokens read.
        let end = total * (stretch + 1) / STRETCHES;
        let mut members = Vec::new();
        while seen < candidates.len() {
            let i = candidates[seen];
            members.push(i);
            seen += 1;
            if candidates[..seen].iter().map(|&c| tokens[c]).sum::<usize>() >= end {
                break;
            }
        }
        let share = budget * (stretch + 1) / STRETCHES;
        loop {
            let best = members
                .iter()
                .copied()
                .filter(|i| !chosen.contains(i) && spent + tokens[*i] <= share)
                .map(|i| {
                    let redundancy = chosen
                        .iter()
                        .map(|&c| similarity(i, c))
                        .fold(0.0f32, f32::max);
                    (i, relevance(i) - REDUNDANCY * redundancy)
                })
                .max_by(|a, b| a.1.total_cmp(&b.1));
            let Some((i, _)) = best else { break };
            chosen.push(i);
            spent += tokens[i];
        }
    }
    // Each chosen paragraph's section heading comes with it.
    let mut with_headings = chosen.clone();
    for &i in chosen.iter().filter(|&&i| !is_heading(i)) {
        if let Some(h) = (0..i).rev().find(|&h| is_heading(h)) {
            if tokens[h] <= HEADING_TOKENS && !with_headings.contains(&h) {
                with_headings.push(h);
            }
        }
    }
    with_headings.sort_unstable();
    with_headings
}

fn mean<'a>(vectors: impl Iterator<Item = &'a [f32]>) -> Vec<f32> {
    let mut sum: Vec<f32> = Vec::new();
    let mut n = 0;
    for v in vectors {
        if sum.is_empty() {
            sum = vec![0.0; v.len()];
        }
        for (s, x) in sum.iter_mut().zip(v) {
            *s += x;
        }
        n += 1;
    }
    sum.iter_mut().for_each(|s| *s /= n.max(1) as f32);
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(text: &str) -> Document {
        crate::ingest::ingest_bytes("doc.txt", text.as_bytes()).unwrap()
    }

    fn sections(n: usize) -> String {
        (1..=n)
            .map(|i| {
                format!(
                    "Afsnit {i}\n\nRegeringen har besluttet at styrke indsatsen for integration i kommune nummer {i} i år.\n\n\
                     Kommunen skal rapportere om arbejdet til ministeriet hvert år fremover.\n\n"
                )
            })
            .collect()
    }

    #[test]
    fn a_document_within_the_budget_is_translated_whole() {
        let doc = document(&sections(3));
        let tokens: Vec<usize> = doc.paragraphs.iter().map(|p| p.text.len()).collect();
        let chosen = choose_paragraphs(&doc, &tokens, None, 10_000);
        assert_eq!(chosen, (0..doc.paragraphs.len()).collect::<Vec<_>>());
    }

    #[test]
    fn a_long_document_is_chosen_from_beginning_middle_and_end_within_the_budget() {
        let doc = document(&sections(30));
        let tokens: Vec<usize> = doc
            .paragraphs
            .iter()
            .map(|p| p.text.split_whitespace().count())
            .collect();
        let budget = 150;
        let chosen = choose_paragraphs(&doc, &tokens, None, budget);
        let body: Vec<usize> = chosen
            .iter()
            .copied()
            .filter(|&i| doc.paragraphs[i].kind != ParagraphKind::Heading)
            .collect();
        let spent: usize = body.iter().map(|&i| tokens[i]).sum();
        assert!(spent <= budget, "{spent} tokens");
        let n = doc.paragraphs.len();
        for third in 0..3 {
            assert!(
                body.iter().any(|&i| i * 3 / n == third),
                "nothing from third {third}: {body:?}"
            );
        }
        // Headings come with their paragraphs, and the order is the document's.
        assert!(chosen.windows(2).all(|w| w[0] < w[1]));
        for &i in &body {
            let heading = (0..i)
                .rev()
                .find(|&h| doc.paragraphs[h].kind == ParagraphKind::Heading);
            assert!(heading.is_none_or(|h| chosen.contains(&h)));
        }
    }

    #[test]
    fn a_long_document_of_short_lines_still_gives_a_choice() {
        let text: String = (1..=400).map(|i| format!("Rad {i}\n\n")).collect();
        let doc = document(&text);
        let tokens = vec![2; doc.paragraphs.len()];
        let chosen = choose_paragraphs(&doc, &tokens, None, 60);
        assert!(!chosen.is_empty());
        assert!(chosen.iter().map(|&i| tokens[i]).sum::<usize>() <= 60);
    }

    #[test]
    fn with_meaning_the_paragraph_unlike_the_rest_is_not_chosen_twice_over_its_twin() {
        let doc = document(&sections(12));
        let n = doc.paragraphs.len();
        let tokens = vec![10; n];
        // Every body paragraph alike but for two directions: the choice
        // takes both directions before a second of either.
        let vectors: Vec<Vec<f32>> = (0..n)
            .map(|i| {
                if i % 3 == 1 {
                    vec![1.0, 0.0]
                } else {
                    vec![0.0, 1.0]
                }
            })
            .collect();
        let chosen = choose_paragraphs(&doc, &tokens, Some(&vectors), 60);
        let body: Vec<usize> = chosen
            .iter()
            .copied()
            .filter(|&i| doc.paragraphs[i].kind != ParagraphKind::Heading)
            .collect();
        let kinds: Vec<bool> = body.iter().map(|&i| i % 3 == 1).collect();
        assert!(kinds.contains(&true) && kinds.contains(&false), "{body:?}");
    }
}
