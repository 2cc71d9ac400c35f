//! The bodies of data/bodies.toml: Nordic, EU and international bodies,
//! parties, laws and instruments, with their names in English and in the
//! four source languages, matched in a brief and in its source.

use once_cell::sync::Lazy;
use regex::Regex;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Deserialize)]
pub struct Body {
    pub id: String,
    pub en: Vec<String>,
    #[serde(default)]
    pub sv: Vec<String>,
    #[serde(default)]
    pub da: Vec<String>,
    #[serde(default)]
    pub nb: Vec<String>,
    #[serde(default)]
    pub nn: Vec<String>,
    #[serde(default)]
    pub acronyms: Vec<String>,
    #[serde(default)]
    pub former: Vec<String>,
    pub kind: String,
    pub country: String,
}

#[derive(Deserialize)]
struct BodiesFile {
    body: Vec<Body>,
}

/// One name matcher over many names: longest names first, so "Radikale
/// Venstre" wins over "Venstre"; each name maps to the bodies that use it.
struct NameMatcher {
    regex: Option<Regex>,
    bodies_of: HashMap<String, Vec<usize>>,
    case_sensitive: bool,
}

impl NameMatcher {
    fn new(names: Vec<(String, usize)>, case_sensitive: bool, genitive: bool) -> Self {
        let mut bodies_of: HashMap<String, Vec<usize>> = HashMap::new();
        for (name, i) in names {
            let key = if case_sensitive {
                name.clone()
            } else {
                name.to_lowercase()
            };
            let list = bodies_of.entry(key).or_default();
            if !list.contains(&i) {
                list.push(i);
            }
        }
        let mut keys: Vec<&String> = bodies_of.keys().collect();
        keys.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
        let alternation = keys
            .iter()
            .map(|k| regex::escape(k))
            .collect::<Vec<_>>()
            .join("|");
        // Genitive endings the files do not list: -s, :s, 's.
        let tail = if genitive { r"(?:s|:s|'s|’s)?" } else { "" };
        let flags = if case_sensitive { "" } else { "(?i)" };
        let regex = (!keys.is_empty()).then(|| {
            Regex::new(&format!(
                r"{flags}(?:^|[^\p{{L}}\p{{N}}])({alternation}){tail}(?:$|[^\p{{L}}\p{{N}}])"
            ))
            .expect("escaped names form a valid regex")
        });
        Self {
            regex,
            bodies_of,
            case_sensitive,
        }
    }

    /// (matched name, bodies) for every name in `text`, left to right.
    fn find(&self, text: &str) -> Vec<(String, Vec<usize>)> {
        let Some(regex) = &self.regex else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut at = 0;
        while at < text.len() {
            let Some(c) = regex.captures_at(text, at) else {
                break;
            };
            let m = c.get(1).expect("group 1");
            let key = if self.case_sensitive {
                m.as_str().to_string()
            } else {
                m.as_str().to_lowercase()
            };
            if let Some(bodies) = self.bodies_of.get(&key) {
                out.push((m.as_str().to_string(), bodies.clone()));
            }
            // Continue inside the separator that ended the match.
            at = m.end();
        }
        out
    }
}

/// All bodies, with matchers for English text and for source text.
pub struct Bodies {
    pub bodies: Vec<Body>,
    english: NameMatcher,
    english_acronyms: NameMatcher,
    source: NameMatcher,
    source_acronyms: NameMatcher,
}

/// A name is an acronym when it is written in capitals (IMDi counts: it
/// has more capitals than small letters).
fn is_acronym(name: &str) -> bool {
    let upper = name.chars().filter(|c| c.is_uppercase()).count();
    let lower = name.chars().filter(|c| c.is_lowercase()).count();
    !name.contains(' ') && upper >= 2 && upper > lower
}

impl Bodies {
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        let file: BodiesFile = toml::from_str(text)?;
        let bodies = file.body;
        let (mut en, mut en_acr, mut src, mut src_acr) = (vec![], vec![], vec![], vec![]);
        for (i, b) in bodies.iter().enumerate() {
            for name in b.en.iter().chain(&b.former) {
                let name = name.strip_prefix("the ").unwrap_or(name).to_string();
                if is_acronym(&name) {
                    en_acr.push((name, i));
                } else {
                    en.push((name, i));
                }
            }
            for name in b.acronyms.iter() {
                en_acr.push((name.clone(), i));
                src_acr.push((name.clone(), i));
            }
            for name in
                b.sv.iter()
                    .chain(&b.da)
                    .chain(&b.nb)
                    .chain(&b.nn)
                    .chain(&b.former)
            {
                // "EU-Kommissionen" is also written "Kommissionen".
                if let Some((_, last)) = name.rsplit_once('-') {
                    if last.chars().count() >= 6
                        && last.chars().next().is_some_and(char::is_uppercase)
                    {
                        src.push((last.to_string(), i));
                    }
                }
                if is_acronym(name) {
                    src_acr.push((name.clone(), i));
                } else {
                    src.push((name.clone(), i));
                }
            }
            // An English name can be written in the source too (UNHCR, Frontex).
            for name in &b.en {
                if is_acronym(name) {
                    src_acr.push((name.clone(), i));
                }
            }
        }
        Ok(Self {
            english: NameMatcher::new(en, false, true),
            english_acronyms: NameMatcher::new(en_acr, true, true),
            source: NameMatcher::new(src, false, true),
            source_acronyms: NameMatcher::new(src_acr, true, true),
            bodies,
        })
    }

    /// The bodies data file shipped with nordbrief.
    pub fn builtin() -> &'static Bodies {
        static BODIES: Lazy<Bodies> = Lazy::new(|| {
            Bodies::parse(include_str!("../../../../data/bodies.toml"))
                .expect("data/bodies.toml parses (checked by its test)")
        });
        &BODIES
    }

    /// Bodies named in an English text: (the words, the bodies they may mean).
    pub fn in_english(&self, text: &str) -> Vec<(String, Vec<usize>)> {
        let mut found = self.english.find(text);
        found.extend(self.english_acronyms.find(text));
        found
    }

    /// Every body a source text names, in any of its languages.
    pub fn in_source(&self, text: &str) -> HashSet<usize> {
        let mut named = HashSet::new();
        for (_, bodies) in self
            .source
            .find(text)
            .into_iter()
            .chain(self.source_acronyms.find(text))
        {
            named.extend(bodies);
        }
        named
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_parses_with_unique_ids() {
        let b = Bodies::builtin();
        assert!(b.bodies.len() >= 300, "{}", b.bodies.len());
        let ids: HashSet<&str> = b.bodies.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids.len(), b.bodies.len());
    }

    #[test]
    fn names_match_across_languages_and_genitives() {
        let b = Bodies::builtin();
        let unhcr = b.bodies.iter().position(|x| x.id == "unhcr").unwrap();
        let named = b.in_source("Enligt FNs høykommissær for flyktninger er behovet stort.");
        assert!(named.contains(&unhcr));
        let found = b.in_english("The UN Refugee Agency's figures were cited.");
        assert!(
            found.iter().any(|(_, ids)| ids.contains(&unhcr)),
            "{found:?}"
        );
        // Acronyms are matched by case: "who" is not the WHO.
        assert!(b.in_english("who said it").is_empty());
        let migrationsverket = b.bodies.iter().position(|x| x.id == "migrationsverket");
        if let Some(m) = migrationsverket {
            assert!(b.in_source("Migrationsverkets beslut").contains(&m));
        }
    }
}
