//! The faithfulness checker: does each sentence of an English brief say
//! what its Scandinavian source says? Every sentence is `supported` (with
//! the paragraphs and the source sentence that support it) or has findings,
//! each naming the words at fault:
//!
//! - **entity**: a body or proper name the source does not name
//!   (data/bodies.toml gives bodies' names in all five languages);
//! - **number**: a number, year, date, amount or percentage the source lacks,
//!   or a reference (Dir. 1987:42, A2) it does not write as given;
//! - **untranslated**: a word that is not English (data/english-words.txt)
//!   nor a name of the source, a compound split word by word, or a domain
//!   term (data/terminology.toml) rendered by a look-alike word;
//! - **unsupported**: no paragraph is near it in meaning (embedding model);
//! - **contradiction**: its nearest source sentence says the opposite (cue
//!   words for direction, stance, permission; more negations than it has);
//! - **actor**: who acts (the government, the Commission, a country's …)
//!   is not whom the source names, in the document or in the paragraphs
//!   nearest the sentence.
//!
//! Without the embedding model the checks that need a supporting paragraph
//! (unsupported, contradiction, the actor of that paragraph) are not made.

mod bodies;
mod cues;
mod words;

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

use crate::facts::{unsupported_facts, FactKind, SourceIndex};
use crate::ingest::Document;
use crate::model::{cosine, nearest, Embed, EmbedError, EmbedKind};

pub use bodies::{Bodies, Body};
pub use words::english_words;

/// A sentence whose nearest paragraph is less similar than this is not
/// supported by the document (e5 cosines of a query and a passage;
/// calibrated on the reference sentences, eval/RESULTS.md).
pub const UNSUPPORTED_BELOW: f32 = 0.80;
/// Paragraphs taken as a sentence's evidence, nearest first.
const EVIDENCE_PARAGRAPHS: usize = 2;
/// Paragraphs, nearest first, one of which must speak of the actor a
/// sentence names.
const ACTOR_EVIDENCE_PARAGRAPHS: usize = 5;
/// A negation the English adds is a contradiction when the sentence and
/// its nearest source sentence are at least this similar.
pub const ADDED_NEGATION_SIMILARITY: f32 = 0.84;
/// One the English drops needs closer sentences: a source negates in ways
/// a faithful English rendering need not ("saknar" for "has no").
pub const DROPPED_NEGATION_SIMILARITY: f32 = 0.88;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Entity,
    Number,
    Untranslated,
    Unsupported,
    Contradiction,
    Actor,
}

impl FindingKind {
    pub const ALL: [FindingKind; 6] = [
        FindingKind::Entity,
        FindingKind::Number,
        FindingKind::Untranslated,
        FindingKind::Unsupported,
        FindingKind::Contradiction,
        FindingKind::Actor,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Entity => "entity",
            FindingKind::Number => "number",
            FindingKind::Untranslated => "untranslated",
            FindingKind::Unsupported => "unsupported",
            FindingKind::Contradiction => "contradiction",
            FindingKind::Actor => "actor",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// The words at fault, as written in the sentence.
    pub words: String,
    /// What is wrong, for a reader.
    pub detail: String,
}

/// The verdict on one sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentenceCheck {
    pub sentence: String,
    /// True when there are no findings.
    pub supported: bool,
    /// The nearest paragraphs (ids), nearest first, with the embedding model.
    pub paragraphs: Vec<usize>,
    /// The source sentence nearest in meaning, quoted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Cosine of the sentence and its nearest paragraph.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
    pub findings: Vec<Finding>,
}

struct Meaning<'a> {
    embedder: &'a dyn Embed,
    paragraphs: Vec<Vec<f32>>,
    /// Sentence vectors of paragraphs used as evidence so far.
    sentences: std::cell::RefCell<std::collections::HashMap<usize, Vec<Vec<f32>>>>,
}

/// A source document read once for checking many sentences.
pub struct Checker<'a> {
    document: &'a Document,
    facts: SourceIndex,
    source_words: words::SourceWords,
    named_bodies: HashSet<usize>,
    english_names: HashSet<String>,
    source_kinds: Vec<&'static str>,
    source_countries: Vec<&'static str>,
    /// The body text, lower case.
    source_lower: String,
    meaning: Option<Meaning<'a>>,
}

impl<'a> Checker<'a> {
    /// A checker without the embedding model: entities, numbers, words and
    /// actors against the whole document.
    pub fn new(document: &'a Document) -> Self {
        let text = document.body_text();
        let bodies = Bodies::builtin();
        let named_bodies = bodies.in_source(&text);
        let english_names = bodies
            .bodies
            .iter()
            .flat_map(|b| b.en.iter())
            .flat_map(|n| {
                words::words(n)
                    .into_iter()
                    .map(|(_, w)| w.to_lowercase())
                    .collect::<Vec<_>>()
            })
            .collect();
        let (source_kinds, source_countries) = cues::source_actors(&text);
        Self {
            document,
            facts: SourceIndex::new(&text),
            source_words: words::SourceWords::new(&text),
            named_bodies,
            english_names,
            source_kinds,
            source_countries,
            source_lower: text.to_lowercase(),
            meaning: None,
        }
    }

    /// A checker that also finds each sentence's nearest paragraphs by
    /// meaning: unsupported claims and contradictions are checked too.
    pub fn with_embedder(
        document: &'a Document,
        embedder: &'a dyn Embed,
    ) -> Result<Self, EmbedError> {
        let paragraphs = paragraph_vectors(document, embedder)?;
        let mut checker = Self::new(document);
        checker.meaning = Some(Meaning {
            embedder,
            paragraphs,
            sentences: Default::default(),
        });
        Ok(checker)
    }

    /// Checks one English sentence.
    pub fn check(&self, sentence: &str) -> Result<SentenceCheck, EmbedError> {
        let mut findings = Vec::new();
        self.entities(sentence, &mut findings);
        self.numbers(sentence, &mut findings);
        self.words(sentence, &mut findings);
        self.actors(sentence, &mut findings);
        let (mut paragraphs, mut quote, mut similarity) = (Vec::new(), None, None);
        if let Some(meaning) = &self.meaning {
            let v = meaning
                .embedder
                .embed(&[sentence], EmbedKind::Query)?
                .remove(0);
            let order = nearest(&v, &meaning.paragraphs);
            let nearest: Vec<usize> = order
                .iter()
                .take(EVIDENCE_PARAGRAPHS)
                .map(|(i, _)| *i)
                .collect();
            similarity = order.first().map(|(_, s)| *s);
            paragraphs = nearest
                .iter()
                .map(|&i| self.document.paragraphs[i].id)
                .collect();
            if similarity.is_some_and(|s| s < UNSUPPORTED_BELOW) {
                findings.push(Finding {
                    kind: FindingKind::Unsupported,
                    words: sentence.to_string(),
                    detail: format!(
                        "no paragraph says this; the nearest, ¶{}, has similarity {:.2}",
                        paragraphs[0],
                        similarity.unwrap_or(0.0)
                    ),
                });
            }
            let evidence: Vec<usize> = order
                .iter()
                .take(ACTOR_EVIDENCE_PARAGRAPHS)
                .map(|(i, _)| *i)
                .collect();
            self.actors_in_evidence(sentence, &evidence, &mut findings);
            let best = self.nearest_sentence(meaning, &v, &nearest)?;
            if let Some((source, closeness)) = &best {
                self.contradiction(sentence, source, *closeness, &mut findings);
                let evidence: String = nearest
                    .iter()
                    .map(|&i| self.document.paragraphs[i].text.as_str())
                    .collect::<Vec<_>>()
                    .join("\n");
                for w in words::look_alike_terms(sentence, &evidence) {
                    findings.push(Finding {
                        kind: FindingKind::Untranslated,
                        words: w.clone(),
                        detail: format!("\"{w}\" looks like a source term, not its English"),
                    });
                }
            }
            quote = best.map(|(s, _)| s);
        }
        dedupe(&mut findings);
        Ok(SentenceCheck {
            sentence: sentence.to_string(),
            supported: findings.is_empty(),
            paragraphs,
            quote,
            similarity,
            findings,
        })
    }

    fn nearest_sentence(
        &self,
        meaning: &Meaning,
        v: &[f32],
        nearest: &[usize],
    ) -> Result<Option<(String, f32)>, EmbedError> {
        let mut best: Option<(String, f32)> = None;
        for &i in nearest {
            let sentences = &self.document.paragraphs[i].sentences;
            if !meaning.sentences.borrow().contains_key(&i) {
                let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
                let vectors = meaning.embedder.embed(&texts, EmbedKind::Passage)?;
                meaning.sentences.borrow_mut().insert(i, vectors);
            }
            let cache = meaning.sentences.borrow();
            for (s, sv) in sentences.iter().zip(&cache[&i]) {
                let c = cosine(v, sv);
                if best.as_ref().is_none_or(|(_, b)| c > *b) {
                    best = Some((s.clone(), c));
                }
            }
        }
        Ok(best)
    }

    fn entities(&self, sentence: &str, findings: &mut Vec<Finding>) {
        let bodies = Bodies::builtin();
        let body_text = self.document.body_text().to_lowercase();
        let home = home_country(self.document.language.language);
        for (words, ids) in bodies.in_english(sentence) {
            let named = ids.iter().any(|i| self.named_bodies.contains(i));
            // A place may be named by its adjective (*syriska* for Syria),
            // and a document need not name its own country.
            let place_named = ids.iter().any(|&i| {
                let b = &bodies.bodies[i];
                b.kind == "place"
                    && (Some(b.country.as_str()) == home || names_by_stem(b, &body_text))
            });
            if !named && !place_named && !body_text.contains(&words.to_lowercase()) {
                findings.push(Finding {
                    kind: FindingKind::Entity,
                    words: words.clone(),
                    detail: format!("the source does not name {words}"),
                });
            }
        }
    }

    fn numbers(&self, sentence: &str, findings: &mut Vec<Finding>) {
        for fact in unsupported_facts(sentence, &self.facts) {
            if fact.kind != FactKind::Name {
                findings.push(Finding {
                    kind: FindingKind::Number,
                    detail: format!("the source does not give {}", fact.text),
                    words: fact.text,
                });
            }
        }
        for code in codes(sentence) {
            if !crate::text::is_whole_in(&self.source_lower, &code.to_lowercase()) {
                findings.push(Finding {
                    kind: FindingKind::Number,
                    detail: format!("the source does not give the reference {code}"),
                    words: code,
                });
            }
        }
    }

    fn words(&self, sentence: &str, findings: &mut Vec<Finding>) {
        for w in words::foreign_words(sentence, &self.source_words, &self.english_names) {
            let detail = if self.source_words.contains(&w) {
                format!("\"{w}\" is a source word left untranslated")
            } else {
                format!("\"{w}\" is not an English word")
            };
            findings.push(Finding {
                kind: FindingKind::Untranslated,
                words: w,
                detail,
            });
        }
        for pair in words::split_compounds(sentence, &self.source_words) {
            findings.push(Finding {
                kind: FindingKind::Untranslated,
                detail: format!("\"{pair}\" renders one source compound word by word"),
                words: pair,
            });
        }
    }

    fn actors(&self, sentence: &str, findings: &mut Vec<Finding>) {
        for actor in cues::english_actors(sentence) {
            let kind_named = self.source_kinds.contains(&actor.kind);
            let country_named = actor
                .country
                .is_none_or(|c| self.source_countries.contains(&c));
            if !kind_named || !country_named {
                findings.push(Finding {
                    kind: FindingKind::Actor,
                    detail: format!("the source does not speak of {}", actor.words),
                    words: actor.words,
                });
            }
        }
    }

    /// Actors the document speaks of, but not in the paragraphs nearest the
    /// sentence in meaning: the Commission's act given to the government.
    fn actors_in_evidence(&self, sentence: &str, evidence: &[usize], findings: &mut Vec<Finding>) {
        let text: String = evidence
            .iter()
            .map(|&i| self.document.paragraphs[i].text.as_str())
            .collect::<Vec<_>>()
            .join("\n\n");
        let (kinds, _) = cues::source_actors(&text);
        for actor in cues::english_actors(sentence) {
            let flagged = findings.iter().any(|f| f.kind == FindingKind::Actor);
            if !flagged && !kinds.contains(&actor.kind) {
                findings.push(Finding {
                    kind: FindingKind::Actor,
                    detail: format!(
                        "the paragraphs that say this ({}) do not speak of {}",
                        paragraph_ids(self.document, evidence),
                        actor.words
                    ),
                    words: actor.words,
                });
            }
        }
    }

    fn contradiction(
        &self,
        sentence: &str,
        source: &str,
        closeness: f32,
        findings: &mut Vec<Finding>,
    ) {
        let english = cues::english_polarity(sentence);
        let original = cues::source_polarity(source);
        let negation = cues::NegationCounts {
            added: closeness >= ADDED_NEGATION_SIMILARITY,
            dropped: closeness >= DROPPED_NEGATION_SIMILARITY,
        };
        if let Some(what) = cues::disagreement(&english, &original, negation) {
            findings.push(Finding {
                kind: FindingKind::Contradiction,
                words: sentence.to_string(),
                detail: format!("the nearest source sentence differs in {what}: \"{source}\""),
            });
        }
    }
}

/// Where `english`, a rendering of `source` as a whole, says the opposite
/// by its cue words (direction, stance, permission; negations are left
/// out: a paragraph's count of them need not match its translation's).
pub fn reversal(source: &str, english: &str) -> Option<&'static str> {
    cues::disagreement(
        &cues::english_polarity(english),
        &cues::source_polarity(source),
        cues::NegationCounts::default(),
    )
}

/// "¶3, ¶7": paragraphs named by their ids.
fn paragraph_ids(document: &Document, indices: &[usize]) -> String {
    indices
        .iter()
        .map(|&i| format!("¶{}", document.paragraphs[i].id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// References written with digits that must be quoted exactly: numbers
/// joined by ':' or '/' (Dir. 1987:42, (EU) 2016/679, 9894/07) and letters
/// run into digits (A2, G20).
fn codes(sentence: &str) -> Vec<String> {
    static CODE: once_cell::sync::Lazy<regex::Regex> = once_cell::sync::Lazy::new(|| {
        regex::Regex::new(r"\b(?:\d+(?:[:/]\d+)+|\p{L}+\d+)\b").expect("valid")
    });
    CODE.find_iter(sentence)
        .map(|m| m.as_str().to_string())
        .collect()
}

/// A document's paragraphs embedded as passages, in order: what grounding
/// and the checker compare sentences with.
pub fn paragraph_vectors(
    document: &Document,
    embedder: &dyn Embed,
) -> Result<Vec<Vec<f32>>, EmbedError> {
    let texts: Vec<&str> = document
        .paragraphs
        .iter()
        .map(|p| p.text.as_str())
        .collect();
    embedder.embed(&texts, EmbedKind::Passage)
}

/// The country code (data/bodies.toml) of a document's language.
fn home_country(language: crate::ingest::Language) -> Option<&'static str> {
    use crate::ingest::Language;
    match language {
        Language::Swedish => Some("se"),
        Language::Danish => Some("dk"),
        Language::Bokmal | Language::Nynorsk => Some("no"),
        _ => None,
    }
}

/// Whether `text` (lower case) has a word starting with the stem of one of
/// `body`'s source names: *syriske*, *tyrkiske*, *afghanska*.
fn names_by_stem(body: &Body, text: &str) -> bool {
    body.sv
        .iter()
        .chain(&body.da)
        .chain(&body.nb)
        .chain(&body.nn)
        .filter(|n| !n.contains(' '))
        .any(|name| {
            let lower = name.to_lowercase();
            let n = lower.chars().count();
            let stem: String = lower.chars().take(if n <= 5 { n - 1 } else { 5 }).collect();
            stem.chars().count() >= 3 && crate::text::starts_a_word(text, &stem)
        })
}

fn dedupe(findings: &mut Vec<Finding>) {
    let mut seen = HashSet::new();
    findings.retain(|f| seen.insert((f.kind, f.words.to_lowercase())));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entities_of(source: &str, sentence: &str) -> Vec<String> {
        let doc = crate::ingest::ingest_bytes("doc.txt", source.as_bytes()).unwrap();
        let checker = Checker::new(&doc);
        let mut findings = Vec::new();
        checker.entities(sentence, &mut findings);
        findings.into_iter().map(|f| f.words).collect()
    }

    #[test]
    fn a_translation_that_reverses_its_source_is_found() {
        let source =
            "Vi har sænket skatten på arbejde, så flere får en større interesse i at tage fat.";
        assert_eq!(
            reversal(
                source,
                "We have raised the tax on work, so more people want to work."
            ),
            Some("increase and decrease")
        );
        assert_eq!(
            reversal(
                source,
                "We have lowered the tax on work, so more people want to work."
            ),
            None
        );
        // Both directions in one paragraph: no sign, no finding.
        assert_eq!(
            reversal(
                "Skatten sænkes og afgiften øges.",
                "The tax rises and the duty rises."
            ),
            None
        );
    }

    #[test]
    fn references_must_be_written_as_the_source_writes_them() {
        let doc = crate::ingest::ingest_bytes(
            "doc.txt",
            "Kommittédirektiv Dir. 1987:42 enligt förordning (EU) 2016/679. Nivå A2 krävs. År 1988 kom.".as_bytes(),
        )
        .unwrap();
        let checker = Checker::new(&doc);
        let numbers = |sentence: &str| {
            let mut findings = Vec::new();
            checker.numbers(sentence, &mut findings);
            findings.into_iter().map(|f| f.words).collect::<Vec<_>>()
        };
        assert!(
            numbers("Dir. 1987:42 applies with Regulation (EU) 2016/679 at level A2.").is_empty()
        );
        // Each part is in the source; the reference as written is not.
        assert_eq!(numbers("Dir. 1988:42 applies."), ["1988:42"]);
        assert_eq!(numbers("Level A3 is needed."), ["A3"]);
        assert!(numbers("Regulation (EU) 2016/67 applies.").contains(&"2016/67".to_string()));
    }

    #[test]
    fn a_place_the_source_does_not_name_is_an_entity_finding() {
        let source = "Der er gjort fremskridt med landene i det sydlige Middelhavsområde. \
            Mange syriske flygtninge kom til kommunerne.";
        assert_eq!(
            entities_of(source, "Ties grew with the countries of the North Sea."),
            ["North Sea"]
        );
        // Named by its adjective, and the document's own country.
        assert!(entities_of(source, "Many refugees from Syria came to Denmark.").is_empty());
        assert!(entities_of(source, "Ties with the Mediterranean grew.").is_empty());
    }
}
