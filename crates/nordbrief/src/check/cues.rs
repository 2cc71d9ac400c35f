//! Cue words for the contradiction and actor checks, in English and the
//! four source languages: negation, direction (more/less), stance
//! (support/oppose), permission (allowed/forbidden), and who acts.

use super::words::words;

/// A sign on one dimension of meaning: +1, -1, or 0 when no cue is present.
fn sign(text_words: &[String], plus: &[&str], minus: &[&str]) -> i32 {
    let has = |list: &[&str]| {
        text_words.iter().any(|w| {
            list.iter()
                .any(|c| w == c || (c.ends_with('*') && w.starts_with(&c[..c.len() - 1])))
        })
    };
    match (has(plus), has(minus)) {
        (true, false) => 1,
        (false, true) => -1,
        _ => 0,
    }
}

fn lower_words(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .map(|(_, w)| w.to_lowercase())
        .collect()
}

const EN_NEGATION: &[&str] = &[
    "not", "no", "never", "neither", "nor", "none", "cannot", "without", "isn't", "aren't",
    "doesn't", "don't", "didn't", "won't", "wasn't", "weren't",
];
const SRC_NEGATION: &[&str] = &[
    "inte",
    "icke",
    "ej",
    "aldrig",
    "ingen",
    "inga",
    "inget",
    "ikke",
    "ikkje",
    "aldri",
    "intet",
    "ingenting",
    "uden",
    "uten",
    "utan",
];

// Verbs of change only: "more" and "less" are too common to be a cue.
const EN_UP: &[&str] = &[
    "increase",
    "increased",
    "increases",
    "increasing",
    "rise",
    "rises",
    "rising",
    "rose",
    "grow",
    "grows",
    "grew",
    "growing",
    "expand",
    "expanded",
    "expands",
    "raise",
    "raised",
    "raises",
    "tighten*",
];
const EN_DOWN: &[&str] = &[
    "decrease",
    "decreased",
    "decreases",
    "decreasing",
    "fall",
    "falls",
    "fell",
    "falling",
    "reduce",
    "reduced",
    "reduces",
    "declin*",
    "shrink*",
    "cut",
    "cuts",
    "lower",
    "lowered",
    "lowers",
    "eased",
    "relax*",
];
const SRC_UP: &[&str] = &[
    "öka", "ökar", "ökade", "ökat", "höja", "höjer", "höjde", "stiger", "steg", "stigit", "øge",
    "øger", "øgede", "øget", "øke", "øker", "økte", "økt", "auke", "aukar", "auka", "ökas", "øges",
    "økes", "höjs", "höjning", "forhøj*", "skärp*", "skjerp*", "skærp*", "stramm*",
];
const SRC_DOWN: &[&str] = &[
    "minska",
    "minskar",
    "minskade",
    "minskat",
    "minskas",
    "mindskes",
    "minkes",
    "sänka",
    "sänker",
    "sänkte",
    "mindske",
    "mindsker",
    "mindskede",
    "falder",
    "faldt",
    "faller",
    "föll",
    "falt",
    "reducera*",
    "reducere*",
    "reduser*",
    "senke",
    "senker",
    "senket",
    "sænk*",
    "nedbring*",
    "minke",
    "minkar",
    "lemp*",
];

const EN_SUPPORT: &[&str] = &[
    "support",
    "supports",
    "supported",
    "supporting",
    "welcome*",
    "back",
    "backs",
    "backed",
    "endorse*",
    "favour*",
    "favor*",
    "agree*",
];
const EN_OPPOSE: &[&str] = &[
    "oppose*",
    "reject*",
    "against",
    "object*",
    "disagree*",
    "refuse*",
];
const SRC_SUPPORT: &[&str] = &[
    "stöd*",
    "välkomna*",
    "støtt*",
    "støt*",
    "bifald*",
    "tilslut*",
    "slutt*",
    "instämm*",
];
const SRC_OPPOSE: &[&str] = &[
    "motsätt*",
    "avvis*",
    "emot",
    "imod",
    "imot",
    "afvis*",
    "mot",
    "protest*",
    "vägr*",
    "nekt*",
];

// "may", "can" and their source words are too common to be a cue.
const EN_ALLOWED: &[&str] = &[
    "allow",
    "allowed",
    "allows",
    "permit",
    "permitted",
    "permits",
    "lawful",
];
const EN_FORBIDDEN: &[&str] = &[
    "forbid*",
    "prohibit*",
    "ban",
    "bans",
    "banned",
    "illegal",
    "unlawful",
];
const SRC_ALLOWED: &[&str] = &["tillåt*", "tillad*", "tillat*", "tillet*"];
const SRC_FORBIDDEN: &[&str] = &[
    "förbj*", "forbud*", "forbyd*", "forbod*", "forby*", "olag*", "ulovl*",
];

/// Signs of an English sentence and of a source sentence on each dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polarity {
    /// Negation words counted.
    pub negations: usize,
    pub direction: i32,
    pub stance: i32,
    pub permission: i32,
}

pub fn english_polarity(text: &str) -> Polarity {
    let w = lower_words(text);
    Polarity {
        // "No. 35" numbers a law; it negates nothing.
        negations: words(text)
            .into_iter()
            .filter(|&(at, word)| {
                let lower = word.to_lowercase();
                let numbering = lower == "no" && text[at + word.len()..].starts_with('.');
                (EN_NEGATION.contains(&lower.as_str()) || lower.ends_with("n't")) && !numbering
            })
            .count(),
        direction: sign(&w, EN_UP, EN_DOWN),
        stance: sign(&w, EN_SUPPORT, EN_OPPOSE),
        permission: sign(&w, EN_ALLOWED, EN_FORBIDDEN),
    }
}

pub fn source_polarity(text: &str) -> Polarity {
    let w = lower_words(text);
    Polarity {
        negations: w
            .iter()
            .filter(|x| SRC_NEGATION.contains(&x.as_str()))
            .count(),
        direction: sign(&w, SRC_UP, SRC_DOWN),
        stance: sign(&w, SRC_SUPPORT, SRC_OPPOSE),
        permission: sign(&w, SRC_ALLOWED, SRC_FORBIDDEN),
    }
}

/// Which one-sided negations count as a contradiction.
#[derive(Debug, Clone, Copy, Default)]
pub struct NegationCounts {
    /// The English has more negations than its source sentence.
    pub added: bool,
    /// The source negates and the English does not.
    pub dropped: bool,
}

/// Where an English sentence's cues disagree with its source sentence's,
/// described; `None` when they agree or one side has no cue.
/// A negation alone counts only as far as `negation` allows: the two
/// sentences must be close enough that one renders the other.
pub fn disagreement(
    english: &Polarity,
    source: &Polarity,
    negation: NegationCounts,
) -> Option<&'static str> {
    let opposite = |a: i32, b: i32| a != 0 && b != 0 && a != b;
    if opposite(english.stance, source.stance) {
        return Some("support and opposition");
    }
    if opposite(english.permission, source.permission) {
        return Some("allowed and forbidden");
    }
    if opposite(english.direction, source.direction) {
        return Some("increase and decrease");
    }
    if negation.added && english.negations > source.negations {
        return Some("a negation the source does not have");
    }
    if negation.dropped && english.negations == 0 && source.negations > 0 {
        return Some("a negation the source has and the sentence drops");
    }
    None
}

/// Who acts, as a kind of actor and the country it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: &'static str,
    pub country: Option<&'static str>,
    /// The words as written.
    pub words: String,
}

const ACTOR_KINDS: &[(&str, &[&str], &[&str])] = &[
    (
        "government",
        &["government", "cabinet"],
        &["regering*", "regjering*", "regeringa", "statsrådet"],
    ),
    (
        "commission",
        &["commission"],
        &["kommission*", "kommisjon*"],
    ),
    ("council", &["Council"], &["råd*"]),
    (
        "parliament",
        &["parliament", "riksdag", "folketing", "storting"],
        &[
            "riksdag*",
            "folketing*",
            "storting*",
            "parlament*",
            "europaparlament*",
        ],
    ),
    (
        "presidency",
        &["presidency"],
        &[
            "ordförandeskap*",
            "formandskab*",
            "formannskap*",
            "formannskap",
        ],
    ),
    (
        "minister",
        &["minister", "ministers", "Minister", "Ministers"],
        &["*minist*", "statsråd*"],
    ),
    ("party", &["party"], &["*parti*"]),
];

const COUNTRIES: &[(&str, &[&str], &[&str])] = &[
    ("se", &["swedish", "sweden"], &["sverige*", "svensk*"]),
    ("dk", &["danish", "denmark"], &["danmark*", "dansk*"]),
    (
        "no",
        &["norwegian", "norway"],
        &["norge*", "noreg*", "norsk*"],
    ),
    ("fi", &["finnish", "finland"], &["finland*", "finsk*"]),
];

/// `stem*` matches words beginning with the stem; `*stem*` also compounds
/// that contain it (*integrationsministrar*).
fn matches_any(word: &str, list: &[&str]) -> bool {
    list.iter()
        .any(|c| match (c.strip_prefix('*'), c.strip_suffix('*')) {
            (Some(inner), _) => word.contains(inner.trim_end_matches('*')),
            (None, Some(stem)) => word.starts_with(stem),
            (None, None) => word == *c,
        })
}

/// Actors an English sentence names: "the Danish government", "the
/// Commission", "Sweden" (a country acting).
pub fn english_actors(text: &str) -> Vec<Actor> {
    let ws: Vec<(usize, &str)> = words(text);
    let mut out = Vec::new();
    for (i, (_, w)) in ws.iter().enumerate() {
        let lower = w.to_lowercase();
        for (kind, english, _) in ACTOR_KINDS {
            // Listed in capitals: only the capitalised word (the Council of
            // the EU, not a county council).
            let named = english.iter().any(|e| {
                if e.chars().next().is_some_and(char::is_uppercase) {
                    e == w
                } else {
                    *e == lower
                }
            });
            if named {
                let country = i
                    .checked_sub(1)
                    .and_then(|j| {
                        let prev = ws[j].1.to_lowercase();
                        COUNTRIES
                            .iter()
                            .find(|(_, en, _)| en.contains(&prev.as_str()))
                    })
                    .map(|(c, _, _)| *c);
                let words = match country {
                    Some(_) => format!("{} {}", ws[i - 1].1, w),
                    None => w.to_string(),
                };
                out.push(Actor {
                    kind,
                    country,
                    words,
                });
            }
        }
    }
    out
}

/// Actor kinds and countries a source text names.
pub fn source_actors(text: &str) -> (Vec<&'static str>, Vec<&'static str>) {
    let ws = lower_words(text);
    let kinds = ACTOR_KINDS
        .iter()
        .filter(|(_, _, src)| ws.iter().any(|w| matches_any(w, src)))
        .map(|(k, _, _)| *k)
        .collect();
    let countries = COUNTRIES
        .iter()
        .filter(|(_, _, src)| ws.iter().any(|w| matches_any(w, src)))
        .map(|(c, _, _)| *c)
        .collect();
    (kinds, countries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: NegationCounts = NegationCounts {
        added: true,
        dropped: true,
    };

    #[test]
    fn reversed_stance_and_direction_disagree() {
        let src = source_polarity("Sverige stöder de föreslagna rådsslutsatserna.");
        let english = |t| english_polarity(t);
        let both = BOTH;
        assert_eq!(
            disagreement(
                &english("Sweden supports the proposed conclusions."),
                &src,
                both
            ),
            None
        );
        assert!(disagreement(
            &english("Sweden opposes the proposed conclusions."),
            &src,
            both
        )
        .is_some());
        assert!(disagreement(&english("Sweden does not support them."), &src, both).is_some());
        let far = NegationCounts::default();
        assert!(disagreement(&english("Sweden does not doubt them."), &src, far).is_none());
        let src = source_polarity("Vi har sænket skatten på arbejde.");
        assert!(disagreement(&english("It increases tax on work."), &src, both).is_some());
        let src = source_polarity("Antalet asylsökande har minskat.");
        assert!(disagreement(
            &english("The number of asylum seekers has increased."),
            &src,
            both
        )
        .is_some());
        assert!(disagreement(
            &english("The number of asylum seekers has fallen."),
            &src,
            both
        )
        .is_none());
    }

    #[test]
    fn negations_are_counted_on_both_sides() {
        let english = |t| english_polarity(t);
        let src =
            source_polarity("Avtalet är inte rättsligt bindande och har ingen rättslig verkan.");
        let both = BOTH;
        assert_eq!(
            english("It amends Regulations of 2009 No. 1286; no more.").negations,
            1
        );
        // As many negations: no finding, though each side has some.
        assert!(disagreement(
            &english("The agreement is not legally binding and has no legal effect."),
            &src,
            both
        )
        .is_none());
        // One added.
        assert!(disagreement(
            &english(
                "The agreement is not legally binding and has no legal effect, and it is not new."
            ),
            &src,
            both
        )
        .is_some());
        // All dropped.
        assert!(disagreement(&english("The agreement is legally binding."), &src, both).is_some());
        let added_only = NegationCounts {
            added: true,
            dropped: false,
        };
        assert!(disagreement(
            &english("The agreement is legally binding."),
            &src,
            added_only
        )
        .is_none());
    }

    #[test]
    fn actors_and_their_countries_are_read() {
        let a = english_actors("The Danish government proposed it, and the Commission agreed.");
        assert_eq!(a[0].kind, "government");
        assert_eq!(a[0].country, Some("dk"));
        assert_eq!(a[1].kind, "commission");
        let (kinds, countries) = source_actors("Regjeringen i Norge foreslår ...");
        assert_eq!(kinds, ["government"]);
        assert_eq!(countries, ["no"]);
    }
}
