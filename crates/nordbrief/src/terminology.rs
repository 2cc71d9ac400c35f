//! The domain's terms (data/terminology.toml): migration, asylum,
//! citizenship, integration, labour-market and EU/Nordic institutional
//! language in Swedish, Danish, Bokmål and Nynorsk with their standard
//! English. Found in a text with inflections and compounds
//! (*flygtningene*, *kvoteflygtninge*, *flyktingmottagande*), so a prompt
//! can carry the terms of its passage and an English text can be checked
//! for each term's rendering.

use once_cell::sync::Lazy;
use serde::Deserialize;

use crate::ingest::Language;

#[derive(Debug, Clone, Deserialize)]
pub struct Term {
    /// Accepted English renderings, the standard one first.
    pub en: Vec<String>,
    #[serde(default)]
    pub sv: Vec<String>,
    #[serde(default)]
    pub da: Vec<String>,
    #[serde(default)]
    pub nb: Vec<String>,
    #[serde(default)]
    pub nn: Vec<String>,
}

impl Term {
    /// The term's source lemmas in `language`; Bokmål and Nynorsk together,
    /// since a Norwegian text often mixes their forms.
    fn lemmas(&self, language: Language) -> Vec<&str> {
        let lists: Vec<&Vec<String>> = match language {
            Language::Swedish => vec![&self.sv],
            Language::Danish => vec![&self.da],
            Language::Bokmal | Language::Nynorsk => vec![&self.nb, &self.nn],
            _ => vec![&self.sv, &self.da, &self.nb, &self.nn],
        };
        lists.into_iter().flatten().map(String::as_str).collect()
    }

    /// The standard English rendering.
    pub fn english(&self) -> &str {
        self.en.first().map(String::as_str).unwrap_or_default()
    }

    /// Whether `english` renders the term by one of its accepted forms.
    pub fn is_rendered_in(&self, english: &str) -> bool {
        let lower = english.to_lowercase();
        self.en
            .iter()
            .any(|e| contains_phrase(&lower, &e.to_lowercase()))
    }
}

#[derive(Deserialize)]
struct TermsFile {
    term: Vec<Term>,
}

/// Every term of data/terminology.toml.
pub fn terms() -> &'static [Term] {
    static TERMS: Lazy<Vec<Term>> = Lazy::new(|| {
        toml::from_str::<TermsFile>(include_str!("../../../data/terminology.toml"))
            .expect("data/terminology.toml parses (checked by its test)")
            .term
    });
    &TERMS
}

/// A term found in a text, with the words that name it there.
#[derive(Debug, Clone)]
pub struct TermMatch {
    pub term: &'static Term,
    /// The text's own words for it, as written.
    pub found: String,
}

/// Endings a short lemma (four letters or fewer, where a stem match would
/// catch unrelated words) may take: definite, plural, genitive.
const SHORT_ENDINGS: &[&str] = &[
    "", "e", "en", "et", "er", "ar", "a", "n", "s", "ene", "erne", "arna", "erna", "ane", "ens",
    "ets", "ers", "na",
];
/// Letters an inflected form may add to a lemma's stem (*flygtningene*).
const MAX_ENDING: usize = 5;
/// Shortest lemma matched inside a compound.
const MIN_COMPOUND_PART: usize = 5;

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The lemma without its last letter, the part every inflection keeps
/// (*flygtning* → *flygtnin*: *flygtninge*, *flygtningene*).
fn stem(lemma: &str) -> &str {
    let end = lemma.char_indices().last().map_or(0, |(i, _)| i);
    &lemma[..end]
}

/// Whether `word` (lower case) is an inflected form of `lemma`.
fn inflects(word: &str, lemma: &str) -> bool {
    if chars(lemma) <= 4 {
        return word
            .strip_prefix(lemma)
            .is_some_and(|ending| SHORT_ENDINGS.contains(&ending));
    }
    word.starts_with(stem(lemma)) && chars(word) <= chars(lemma) + MAX_ENDING
}

/// Whether `word` is `lemma` inflected, or a compound holding it first
/// (*flyktingmottagande*) or last (*kvoteflygtninge*).
fn matches_word(word: &str, lemma: &str) -> bool {
    if inflects(word, lemma) {
        return true;
    }
    if chars(lemma) < MIN_COMPOUND_PART {
        return false;
    }
    let head = word.starts_with(lemma) && chars(word) >= chars(lemma) + 3;
    let tail = word
        .char_indices()
        .skip(3)
        .any(|(i, _)| inflects(&word[i..], lemma) && word[i..].starts_with(lemma));
    head || tail
}

/// Whether `text` (lower case) holds `phrase` (lower case) starting at a
/// word boundary; a phrase of six letters or more may end inflected
/// ("municipalit" finds "municipalities").
fn contains_phrase(text: &str, phrase: &str) -> bool {
    let phrase = if chars(phrase) >= 6 {
        stem(phrase)
    } else {
        phrase
    };
    crate::text::starts_a_word(text, phrase)
}

/// Words of a text, lower-cased, with their byte spans.
fn words(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            out.push((s, i, text[s..i].to_lowercase()));
        }
    }
    out
}

/// The terms of `text` in `language`. Where two terms share words, the one
/// with the longer source form wins (*kvoteflygtning* over *flygtning*).
pub fn terms_in(text: &str, language: Language) -> Vec<TermMatch> {
    let ws = words(text);
    // (first word, words spanned, lemma length, term)
    let mut hits: Vec<(usize, usize, usize, usize)> = Vec::new();
    for (t, term) in terms().iter().enumerate() {
        for lemma in term.lemmas(language) {
            let parts: Vec<String> = lemma.split_whitespace().map(str::to_lowercase).collect();
            if parts.is_empty() {
                continue;
            }
            for start in 0..ws.len().saturating_sub(parts.len() - 1) {
                let found = if parts.len() == 1 {
                    matches_word(&ws[start].2, &parts[0])
                } else {
                    parts
                        .iter()
                        .enumerate()
                        .all(|(k, p)| inflects(&ws[start + k].2, p) || ws[start + k].2 == *p)
                };
                if found {
                    hits.push((start, parts.len(), chars(lemma), t));
                }
            }
        }
    }
    // Longest source form first; a hit overlapping a longer one is dropped.
    hits.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    let mut taken = vec![false; ws.len()];
    let mut out: Vec<TermMatch> = Vec::new();
    for (start, span, _, t) in hits {
        if taken[start..start + span].iter().any(|&x| x) {
            continue;
        }
        taken[start..start + span]
            .iter_mut()
            .for_each(|x| *x = true);
        if out.iter().any(|m| std::ptr::eq(m.term, &terms()[t])) {
            continue;
        }
        let found = text[ws[start].0..ws[start + span - 1].1].to_string();
        out.push(TermMatch {
            term: &terms()[t],
            found,
        });
    }
    out
}

/// Terms of `source` that `english` (its translation) does not render.
pub fn missing_terms(source: &str, english: &str, language: Language) -> Vec<TermMatch> {
    terms_in(source, language)
        .into_iter()
        .filter(|m| !m.term.is_rendered_in(english))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, language: Language) -> Vec<(String, String)> {
        terms_in(text, language)
            .into_iter()
            .map(|m| (m.found, m.term.english().to_string()))
            .collect()
    }

    #[test]
    fn inflections_and_compounds_find_their_term() {
        let got = found(
            "Flygtningene og kvoteflygtninge fik asyl.",
            Language::Danish,
        );
        assert!(
            got.contains(&("Flygtningene".into(), "refugee".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&("kvoteflygtninge".into(), "quota refugee".into())),
            "the longer term wins: {got:?}"
        );
        assert!(!got
            .iter()
            .any(|(w, e)| w == "kvoteflygtninge" && e == "refugee"));
        let got = found("Kommunens flyktingmottagande ökar.", Language::Swedish);
        assert!(
            got.iter().any(|(w, _)| w == "flyktingmottagande"),
            "{got:?}"
        );
    }

    #[test]
    fn a_short_lemma_takes_endings_not_other_words() {
        let got = found("Lagen gäller. Laget vann.", Language::Swedish);
        assert!(got.iter().any(|(w, _)| w == "Lagen"), "{got:?}");
        // "laget" is a team in Swedish, but as an inflection of "lag" it is
        // taken: short lemmas take endings only, never longer stems.
        let got = found("Lagerlokalen.", Language::Swedish);
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn a_term_is_looked_up_in_the_documents_language() {
        // Danish "flygtning" is not a Swedish lemma.
        let got = found("flygtning", Language::Swedish);
        assert!(got.iter().all(|(_, e)| e != "refugee"), "{got:?}");
        let got = found("Busetjinga av flyktningar", Language::Nynorsk);
        assert!(
            got.iter().any(|(w, _)| w.starts_with("Busetjinga")),
            "{got:?}"
        );
    }

    #[test]
    fn a_missing_rendering_is_reported_and_a_present_one_is_not() {
        let source = "Antallet af flygtninge steg.";
        let bad = missing_terms(source, "The number of flying rose.", Language::Danish);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].found, "flygtninge");
        let good = missing_terms(source, "The number of refugees rose.", Language::Danish);
        assert!(
            good.is_empty(),
            "{:?}",
            good.iter().map(|m| &m.found).collect::<Vec<_>>()
        );
    }

    #[test]
    fn every_term_has_an_english_rendering_and_a_source_form() {
        assert!(terms().len() >= 400, "{}", terms().len());
        for t in terms() {
            assert!(!t.english().is_empty(), "{t:?}");
            assert!(
                !(t.sv.is_empty() && t.da.is_empty() && t.nb.is_empty() && t.nn.is_empty()),
                "{t:?}"
            );
        }
    }
}
