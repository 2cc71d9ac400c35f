//! Words that are not English: left-over source words ("invaderes",
//! "Visum"), made-up ones ("stoltness"), compounds split word by word
//! ("handling plan" for *handlingsplan*), and domain terms rendered by a
//! look-alike English word ("flying" for *flygtninge*).

use crate::terminology::terms;
use once_cell::sync::Lazy;
use std::collections::HashSet;

/// English words with their inflections (SCOWL, data/english-words.txt).
pub fn english_words() -> &'static HashSet<String> {
    static WORDS: Lazy<HashSet<String>> = Lazy::new(|| {
        include_str!("../../../../data/english-words.txt")
            .lines()
            .map(str::to_string)
            .collect()
    });
    &WORDS
}

/// Words of a text: letters (and inner hyphens or apostrophes), with their
/// byte offsets.
pub fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let inner = (c == '-' || c == '\'' || c == '’') && start.is_some();
        if c.is_alphabetic() || inner {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            out.push((s, &text[s..i]));
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out.into_iter()
        .map(|(s, w)| (s, w.trim_end_matches(['-', '\'', '’'])))
        .filter(|(_, w)| !w.is_empty())
        .collect()
}

/// Prefixes and endings that make English words from English words the
/// list may lack ("readmission", "resettlement", "intercultural").
const PREFIXES: &[&str] = &[
    "re", "co", "inter", "non", "un", "sub", "pre", "post", "anti", "counter", "multi", "cross",
    "over", "under", "mis", "de",
];
// Inflections are in the list already; only derivations are added.
const SUFFIXES: &[&str] = &[
    "ment", "ments", "ly", "al", "ity", "ation", "ations", "ant", "ants",
];

fn in_list(w: &str) -> bool {
    let list = english_words();
    if list.contains(w) {
        return true;
    }
    let base = |w: &str| {
        list.contains(w)
            || SUFFIXES.iter().any(|s| {
                w.strip_suffix(s)
                    .is_some_and(|b| b.len() >= 3 && list.contains(b))
            })
    };
    base(w)
        || PREFIXES.iter().any(|p| {
            w.strip_prefix(p)
                .is_some_and(|rest| rest.len() >= 4 && base(rest))
        })
}

fn is_english_word(word: &str) -> bool {
    let w = word.to_lowercase();
    let w = w.trim_end_matches("'s").trim_end_matches("’s");
    if in_list(w) {
        return true;
    }
    // Hyphenated: every part English ("non-binding", "third-country", "16-year-olds").
    // A part may be a plural the list lacks ("olds").
    w.contains('-')
        && w.split('-').all(|p| {
            p.is_empty()
                || in_list(p)
                || p.strip_suffix('s')
                    .is_some_and(|b| b.len() >= 3 && in_list(b))
        })
}

/// What the source allows beyond English: the names it uses.
pub struct SourceWords {
    /// Words the source writes with a capital (names, acronyms).
    capitalised: HashSet<String>,
    /// Every word of the source, lower-cased.
    all: HashSet<String>,
}

impl SourceWords {
    pub fn new(text: &str) -> Self {
        let mut capitalised = HashSet::new();
        let mut all = HashSet::new();
        for (at, w) in words(text) {
            // Capitalised inside a sentence: a name. At a sentence start
            // any word is, so those do not count.
            let after = text[..at].trim_end().chars().last();
            let sentence_start = after.is_none_or(|c| {
                matches!(
                    c,
                    '.' | '!' | '?' | ':' | '"' | '»' | '”' | '-' | '–' | '•' | ')'
                )
            });
            if w.chars().next().is_some_and(char::is_uppercase) && !sentence_start {
                capitalised.insert(w.to_lowercase());
            }
            all.insert(w.to_lowercase());
        }
        Self { capitalised, all }
    }

    pub fn contains(&self, word: &str) -> bool {
        self.all.contains(&word.to_lowercase())
    }
}

/// Words of `sentence` that are neither English nor a name the source (or
/// `names`, the bodies' English names) uses.
pub fn foreign_words(sentence: &str, source: &SourceWords, names: &HashSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    for (_, w) in words(sentence) {
        let lower = w.to_lowercase();
        if is_english_word(w) || names.contains(&lower) {
            continue;
        }
        let capital = w.chars().next().is_some_and(char::is_uppercase);
        // A name the source writes with a capital may stand in English
        // ("Potsdam", "Riksdag", "Folketinget"); its common words may not.
        let base = lower.trim_end_matches("'s").trim_end_matches("’s");
        // A name may stand as the first part of a source compound
        // ("Brønnøysund" in *Brønnøysundregistera*).
        let in_compound =
            || base.chars().count() >= 4 && source.capitalised.iter().any(|s| s.starts_with(base));
        if capital && (source.capitalised.contains(base) || is_name_like(w) || in_compound()) {
            continue;
        }
        // A word right after a name-like one is part of that name ("Kungl. biblioteket").
        if source.contains(base)
            && sentence.contains(&format!(". {w}"))
            && capital_before(sentence, w)
        {
            continue;
        }
        out.push(w.to_string());
    }
    out
}

/// Whether `word` follows an abbreviated capitalised word ("Kungl. biblioteket").
fn capital_before(sentence: &str, word: &str) -> bool {
    sentence.find(&format!(". {word}")).is_some_and(|i| {
        sentence[..i]
            .rsplit(|c: char| !c.is_alphabetic())
            .next()
            .is_some_and(|prev| prev.chars().next().is_some_and(char::is_uppercase))
    })
}

/// A word written like a name or code rather than a word: all capitals
/// (an acronym) or with inner capitals ("McAllister", "eHealth").
fn is_name_like(word: &str) -> bool {
    let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    letters.len() >= 2 && letters.iter().skip(1).any(|c| c.is_uppercase())
}

/// English words that never begin a compound split word by word.
const FUNCTION_WORDS: &[&str] = &[
    "for", "and", "the", "but", "nor", "yet", "off", "out", "all", "any", "are", "was", "not",
    "can", "may", "its", "her", "his", "our", "who", "how", "per", "via", "into", "onto", "from",
    "with", "over", "under", "upon", "than", "that", "this", "then", "when", "also", "more",
    "most", "less", "some", "such", "each", "both", "only", "even", "well",
];

/// Two English words that together spell one source word ("handling plan"
/// for *handlingsplan*, "work permit" is fine: *arbetstillstånd* is not
/// spelled by it). Compounds join with nothing, -s- or -e-.
pub fn split_compounds(sentence: &str, source: &SourceWords) -> Vec<String> {
    let ws = words(sentence);
    let mut out = Vec::new();
    for pair in ws.windows(2) {
        // A capitalised pair is a title ("Migration Minister"), not a split.
        if pair
            .iter()
            .all(|(_, w)| w.chars().next().is_some_and(char::is_uppercase))
        {
            continue;
        }
        let (a, b) = (pair[0].1.to_lowercase(), pair[1].1.to_lowercase());
        // A compound starts with a content word: "for handling" is a
        // preposition and its object, even where the source has
        // *forhandling*.
        if a.len() < 3 || b.len() < 3 || FUNCTION_WORDS.contains(&a.as_str()) {
            continue;
        }
        // The second part may be inflected on either side ("handling
        // plans" for *handlingsplanerne*).
        let b_stem = b.strip_suffix('s').filter(|s| s.len() >= 3).unwrap_or(&b);
        let found = ["", "s", "e"].iter().any(|joint| {
            let stem = format!("{a}{joint}{b_stem}");
            !english_words().contains(&stem)
                && source
                    .all
                    .iter()
                    .any(|w| w.starts_with(&stem) && w.len() <= stem.len() + 5)
        });
        if found {
            out.push(format!("{} {}", pair[0].1, pair[1].1));
        }
    }
    out
}

/// Whether `word` is an inflected form of `lemma` (same stem, a short
/// ending), or a compound ending in it.
fn inflects(word: &str, lemma: &str) -> bool {
    let stem: String = lemma
        .chars()
        .take(lemma.chars().count().saturating_sub(1))
        .collect();
    let n = word.chars().count();
    let m = lemma.chars().count();
    stem.chars().count() >= 3 && n <= m + 5 && word.starts_with(&stem)
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// English words of `sentence` that look like a source word of `evidence`
/// (the source text the sentence renders) which is a domain term, where
/// the sentence has none of the term's English renderings: "flying" for
/// *flygtninge* (refugees), "innovation" for *innvandring* (immigration).
pub fn look_alike_terms(sentence: &str, evidence: &str) -> Vec<String> {
    let lower_sentence = sentence.to_lowercase();
    let sentence_words: Vec<String> = words(sentence)
        .into_iter()
        .map(|(_, w)| w.to_lowercase())
        .filter(|w| w.chars().count() >= 3)
        .collect();
    let mut out = Vec::new();
    let source_words: HashSet<String> = words(evidence)
        .into_iter()
        .map(|(_, w)| w.to_lowercase())
        .filter(|w| w.chars().count() >= 5)
        .collect();
    let renderings: HashSet<String> = terms()
        .iter()
        .flat_map(|t| t.en.iter())
        .flat_map(|e| {
            words(e)
                .into_iter()
                .map(|(_, w)| w.to_lowercase())
                .collect::<Vec<_>>()
        })
        .collect();
    for term in terms() {
        let lemmas = term
            .sv
            .iter()
            .chain(&term.da)
            .chain(&term.nb)
            .chain(&term.nn);
        let lemmas: Vec<String> = lemmas
            .filter(|l| !l.contains(' '))
            .map(|l| l.to_lowercase())
            .collect();
        let rendered = term
            .en
            .iter()
            .any(|e| lower_sentence.contains(&e.to_lowercase()));
        if rendered {
            continue;
        }
        for s in source_words
            .iter()
            .filter(|s| lemmas.iter().any(|l| inflects(s, l)))
        {
            for w in &sentence_words {
                // A cognate ("integration" / "integrationen") shares most of
                // the word; a look-alike only its first letters.
                // A look-alike shares its first letters and little else; a
                // cognate ("integration", *integreringen*) shares most of
                // the word, and a word that renders any term is no look-alike.
                let p = common_prefix(w, s);
                let english = english_words().contains(w) && !renderings.contains(w);
                let (n, m) = (w.chars().count(), s.chars().count());
                if english && p >= 3 && p * 10 <= n * 6 && p * 2 <= m && !s.starts_with(w.as_str())
                {
                    if !out.contains(w) {
                        out.push(w.clone());
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_over_and_made_up_words_are_found() {
        let source = SourceWords::new("Invandrares delaktighet i Sverige. Visum krävs. Potsdam.");
        let none = HashSet::new();
        let found = foreign_words(
            "The invaderes delaktighet and stoltness grew in Potsdam, Sweden's capital.",
            &source,
            &none,
        );
        assert_eq!(found, ["invaderes", "delaktighet", "stoltness"]);
        // A preposition and its object are no split compound.
        let source = SourceWords::new("forhandlingerne om handlingsplanen");
        assert_eq!(
            split_compounds("a framework for handling the handling plan", &source),
            ["handling plan"]
        );
        // A common source word is not a name, even when capitalised.
        let found = foreign_words(
            "A Visum is needed.",
            &SourceWords::new("visum krävs"),
            &none,
        );
        assert_eq!(found, ["Visum"]);
        assert!(foreign_words(
            "Third-country nationals' non-binding rules.",
            &source,
            &none
        )
        .is_empty());
        // A plural part of a hyphenated word, a noun in -ant.
        assert!(foreign_words(
            "Votes for 16-year-olds and rules for cohabitants.",
            &source,
            &none
        )
        .is_empty());
    }

    #[test]
    fn split_compounds_are_found() {
        let source = SourceWords::new("Regeringen antog en handlingsplan mot rasism.");
        assert_eq!(
            split_compounds("The government adopted a handling plan.", &source),
            ["handling plan"]
        );
        assert!(split_compounds("The government adopted an action plan.", &source).is_empty());
    }

    #[test]
    fn look_alike_renderings_of_terms_are_found() {
        assert_eq!(
            look_alike_terms(
                "Denmark takes in more flying people.",
                "Danmark modtager flere flygtninge."
            ),
            ["flying"]
        );
        assert!(look_alike_terms(
            "Denmark takes in more refugees.",
            "Danmark modtager flere flygtninge."
        )
        .is_empty());
        // A cognate is a correct rendering.
        assert!(look_alike_terms(
            "Integration is a priority.",
            "Integrationen är prioriterad."
        )
        .is_empty());
    }
}
