//! A document's glossary: official names it contains and its recurring
//! acronyms, so terms stay the same from paragraph to paragraph.

use once_cell::sync::Lazy;
use regex::Regex;
use std::collections::BTreeMap;

use crate::brief::GlossaryEntry;

/// Official names whose English form a small model may not know; an entry
/// joins a document's glossary when the document contains its stem.
pub(super) const KNOWN_TERMS: &[(&str, &str, &str)] = &[
    (
        "Migrationsverk",
        "Migrationsverket",
        "the Swedish Migration Agency",
    ),
    (
        "Migrationsöverdomstol",
        "Migrationsöverdomstolen",
        "the Migration Court of Appeal",
    ),
    (
        "Udlændingestyrels",
        "Udlændingestyrelsen",
        "the Danish Immigration Service",
    ),
    (
        "Flygtningenævn",
        "Flygtningenævnet",
        "the Danish Refugee Appeals Board",
    ),
    (
        "Udlændinge- og Integrationsministeri",
        "Udlændinge- og Integrationsministeriet",
        "the Ministry of Immigration and Integration",
    ),
    (
        "Utlendingsdirektorat",
        "Utlendingsdirektoratet",
        "the Norwegian Directorate of Immigration (UDI)",
    ),
    (
        "Utlendingsnemnd",
        "Utlendingsnemnda",
        "the Norwegian Immigration Appeals Board (UNE)",
    ),
    (
        "FNs høykommissær for flyktninger",
        "FNs høykommissær for flyktninger",
        "the UN High Commissioner for Refugees",
    ),
    (
        "samlede strategi for migration og mobilitet",
        "den samlede strategi for migration og mobilitet",
        "the Global Approach to Migration and Mobility",
    ),
    ("SSMM", "SSMM", "GAMM"),
    (
        "Europa-Parlament",
        "Europa-Parlamentet",
        "the European Parliament",
    ),
];

/// Glossary entries given in one prompt at most, to keep prompts short.
pub(super) const GLOSSARY_LIMIT: usize = 16;
pub(super) static ACRONYM: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"\b\p{Lu}{2,8}\b").expect("acronym pattern"));

/// Whether a paragraph is written in capitals (a shouted heading), whose
/// words are no acronyms.
pub(super) fn is_all_caps(text: &str) -> bool {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 2)
        .collect();
    let shouted = words
        .iter()
        .filter(|w| w.chars().all(char::is_uppercase))
        .count();
    shouted >= 4 && shouted * 2 > words.len()
}

pub(super) fn acronyms(text: &str) -> Vec<&str> {
    if is_all_caps(text) {
        return Vec::new();
    }
    ACRONYM.find_iter(text).map(|m| m.as_str()).collect()
}

/// A document's glossary: known official names it contains, and its
/// recurring acronyms with the translation the model first gave them.
#[derive(Debug, Clone, Default)]
pub(super) struct Glossary {
    entries: Vec<GlossaryEntry>,
    /// Acronyms used at least twice in the document and not yet in `entries`.
    pending: Vec<String>,
}

impl Glossary {
    pub fn for_texts<'a>(texts: impl IntoIterator<Item = &'a str> + Clone) -> Self {
        let mut entries = Vec::new();
        for (stem, source, english) in KNOWN_TERMS {
            if texts.clone().into_iter().any(|t| t.contains(stem)) {
                entries.push(GlossaryEntry {
                    source: source.to_string(),
                    english: english.to_string(),
                });
            }
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut order: Vec<&str> = Vec::new();
        for text in texts {
            for acronym in acronyms(text) {
                let count = counts.entry(acronym).or_default();
                if *count == 0 {
                    order.push(acronym);
                }
                *count += 1;
            }
        }
        let pending = order
            .into_iter()
            .filter(|a| counts[a] >= 2 && !entries.iter().any(|e| e.source == *a))
            .map(str::to_string)
            .collect();
        Glossary { entries, pending }
    }

    pub fn entries(&self) -> &[GlossaryEntry] {
        &self.entries
    }

    /// Learn from an accepted translation how the model rendered the
    /// recurring acronyms of its source: kept as they are, or, where exactly
    /// one acronym of the source is gone and exactly one new one stands in
    /// the English, as that one ("SSMM" → "GAMM").
    pub fn learn(&mut self, source: &str, english: &str) {
        let english_acronyms = acronyms(english);
        let source_acronyms = acronyms(source);
        let mut gone = Vec::new();
        for acronym in self.pending.clone() {
            if !source_acronyms.contains(&acronym.as_str()) {
                continue;
            }
            if english_acronyms.contains(&acronym.as_str()) {
                self.adopt(&acronym, &acronym);
            } else {
                gone.push(acronym);
            }
        }
        let mut new: Vec<&str> = english_acronyms
            .into_iter()
            .filter(|a| {
                !source_acronyms.contains(a) && !self.entries.iter().any(|e| e.english == *a)
            })
            .collect();
        new.dedup();
        if let ([acronym], [english]) = (gone.as_slice(), new.as_slice()) {
            self.adopt(acronym, english);
        }
    }

    fn adopt(&mut self, source: &str, english: &str) {
        self.pending.retain(|p| p != source);
        self.entries.push(GlossaryEntry {
            source: source.to_string(),
            english: english.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_glossary_holds_known_names_and_learns_recurring_acronyms() {
        let texts = [
            "Migrationsverket och FRONTEX samarbetar.",
            "FRONTEX och EASO.",
            "EASO igen.",
            "RAPPORT FRA KOMMISSIONEN TIL RÅDET",
            "RAPPORT FRA RÅDET TIL KOMMISSIONEN",
        ];
        let mut glossary = Glossary::for_texts(texts.iter().copied());
        assert_eq!(
            glossary.entries()[0].english,
            "the Swedish Migration Agency"
        );
        assert_eq!(
            glossary.pending,
            vec!["FRONTEX", "EASO"],
            "capital headings are no acronyms"
        );
        glossary.learn("FRONTEX och EASO.", "FRONTEX and the EUAA.");
        let learned: Vec<(&str, &str)> = glossary.entries()[1..]
            .iter()
            .map(|e| (e.source.as_str(), e.english.as_str()))
            .collect();
        assert_eq!(learned, vec![("FRONTEX", "FRONTEX"), ("EASO", "EUAA")]);
        assert!(glossary.pending.is_empty());
    }
}
