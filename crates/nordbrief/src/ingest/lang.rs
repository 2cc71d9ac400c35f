//! Language identification: lingua restricted to the languages nordbrief
//! cares about, plus a small function-word vote for the close Scandinavian
//! pairs (bokmål/Danish, bokmål/nynorsk) where character n-grams alone
//! are least reliable.

use once_cell::sync::Lazy;
use serde::{Deserialize, Serialize};

/// A document or paragraph language. The Scandinavian languages and English
/// are the supported sources; German, Finnish and French are recognised so
/// that they can be labelled rather than mistaken for a supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Language {
    #[serde(rename = "swe")]
    Swedish,
    #[serde(rename = "dan")]
    Danish,
    #[serde(rename = "nob")]
    Bokmal,
    #[serde(rename = "nno")]
    Nynorsk,
    #[serde(rename = "eng")]
    English,
    #[serde(rename = "deu")]
    German,
    #[serde(rename = "fin")]
    Finnish,
    #[serde(rename = "fra")]
    French,
    #[serde(rename = "und")]
    Unknown,
}

impl Language {
    pub const ALL: [Language; 9] = [
        Language::Swedish,
        Language::Danish,
        Language::Bokmal,
        Language::Nynorsk,
        Language::English,
        Language::German,
        Language::Finnish,
        Language::French,
        Language::Unknown,
    ];

    /// ISO 639-3 code ("und" when undetermined).
    pub fn code(&self) -> &'static str {
        match self {
            Language::Swedish => "swe",
            Language::Danish => "dan",
            Language::Bokmal => "nob",
            Language::Nynorsk => "nno",
            Language::English => "eng",
            Language::German => "deu",
            Language::Finnish => "fin",
            Language::French => "fra",
            Language::Unknown => "und",
        }
    }

    pub fn english_name(&self) -> &'static str {
        match self {
            Language::Swedish => "Swedish",
            Language::Danish => "Danish",
            Language::Bokmal => "Norwegian (bokmål)",
            Language::Nynorsk => "Norwegian (nynorsk)",
            Language::English => "English",
            Language::German => "German",
            Language::Finnish => "Finnish",
            Language::French => "French",
            Language::Unknown => "undetermined",
        }
    }

    /// Swedish, Danish, bokmål or nynorsk: the languages briefs are made from.
    pub fn is_scandinavian(&self) -> bool {
        matches!(
            self,
            Language::Swedish | Language::Danish | Language::Bokmal | Language::Nynorsk
        )
    }

    /// Parses a code as returned by [`Language::code`].
    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL.iter().copied().find(|l| l.code() == code)
    }

    fn from_lingua(language: lingua::Language) -> Language {
        match language {
            lingua::Language::Swedish => Language::Swedish,
            lingua::Language::Danish => Language::Danish,
            lingua::Language::Bokmal => Language::Bokmal,
            lingua::Language::Nynorsk => Language::Nynorsk,
            lingua::Language::English => Language::English,
            lingua::Language::German => Language::German,
            lingua::Language::Finnish => Language::Finnish,
            lingua::Language::French => Language::French,
            #[allow(unreachable_patterns)]
            _ => Language::Unknown,
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.english_name())
    }
}

/// A language label with lingua's (or the function-word vote's) confidence in 0..=1.
#[derive(Debug, Clone, Serialize)]
pub struct LanguageGuess {
    pub language: Language,
    pub confidence: f64,
}

impl LanguageGuess {
    pub fn unknown() -> LanguageGuess {
        LanguageGuess {
            language: Language::Unknown,
            confidence: 0.0,
        }
    }
}

static DETECTOR: Lazy<lingua::LanguageDetector> = Lazy::new(|| {
    lingua::LanguageDetectorBuilder::from_languages(&[
        lingua::Language::Swedish,
        lingua::Language::Danish,
        lingua::Language::Bokmal,
        lingua::Language::Nynorsk,
        lingua::Language::English,
        lingua::Language::German,
        lingua::Language::Finnish,
        lingua::Language::French,
    ])
    .build()
});

/// Below this many letters a guess is noise; such text is labelled Unknown.
const MIN_LETTERS: usize = 3;

/// Longest text handed to lingua in one call; longer documents are sampled
/// (beginning, middle, end) because lingua's cost grows with length and a
/// few thousand characters already decide the language.
const MAX_DETECTION_CHARS: usize = 12_000;

/// Identifies the language of `text` using lingua alone (no function-word vote).
pub fn detect_lingua(text: &str) -> LanguageGuess {
    let sample = detection_sample(text);
    if sample.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return LanguageGuess::unknown();
    }
    match DETECTOR.compute_language_confidence_values(sample).first() {
        Some(&(language, confidence)) if confidence > 0.0 => LanguageGuess {
            language: Language::from_lingua(language),
            confidence,
        },
        _ => LanguageGuess::unknown(),
    }
}

/// Identifies the language of `text`: lingua, then the function-word vote
/// when lingua's answer is Danish, bokmål or nynorsk.
pub fn detect(text: &str) -> LanguageGuess {
    let sample = detection_sample(text);
    if sample.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return LanguageGuess::unknown();
    }
    let values = DETECTOR.compute_language_confidence_values(sample.clone());
    let Some(&(top, top_confidence)) = values.first() else {
        return LanguageGuess::unknown();
    };
    if top_confidence <= 0.0 {
        return LanguageGuess::unknown();
    }
    let lingua_guess = LanguageGuess {
        language: Language::from_lingua(top),
        confidence: top_confidence,
    };
    if !matches!(
        lingua_guess.language,
        Language::Danish | Language::Bokmal | Language::Nynorsk
    ) {
        return lingua_guess;
    }
    let votes = FunctionWordVotes::count(&sample);
    match votes.decisive_winner() {
        Some(winner) if winner != lingua_guess.language => {
            let confidence_of = |language: Language| {
                values
                    .iter()
                    .find(|(l, _)| Language::from_lingua(*l) == language)
                    .map(|(_, c)| *c)
                    .unwrap_or(0.0)
            };
            // The vote overrides lingua; report the vote's share of the
            // evidence, never more certain than lingua was about its own pick.
            let share = votes.share(winner);
            LanguageGuess {
                language: winner,
                confidence: share.min(top_confidence).max(confidence_of(winner)),
            }
        }
        _ => lingua_guess,
    }
}

fn detection_sample(text: &str) -> String {
    let total = text.chars().count();
    if total <= MAX_DETECTION_CHARS {
        return text.to_string();
    }
    let third = MAX_DETECTION_CHARS / 3;
    let chars: Vec<char> = text.chars().collect();
    let middle_start = total / 2 - third / 2;
    let mut sample = String::with_capacity(MAX_DETECTION_CHARS + 4);
    sample.extend(&chars[..third]);
    sample.push('\n');
    sample.extend(&chars[middle_start..middle_start + third]);
    sample.push('\n');
    sample.extend(&chars[total - third..]);
    sample
}

/// Words that, in running text, tell the three close languages apart. A
/// word counts for every list it is in, so a word shared by two languages
/// (Danish and bokmål "ikke") is evidence against the third (nynorsk
/// "ikkje"); a word in all three would say nothing and is left out.
const DANISH_WORDS: &[&str] = &[
    // Danish only.
    "af", "efter", "gennem", "mellem", "havde", "siger", "sagde", "nogle", "nogen", "ud", "op",
    "sig", "mig", "dig", "os", "nu", "end", "blive", "blev", "hvad", "måske", "uge", "sådan",
    "igen", "fik", "giver", "øje", "øjne", "bliver", "mere", "aldrig",
    // Shared with bokmål (evidence against nynorsk).
    "ikke", "jeg", "fra", "de", "en", "et", "hun", "også", "bare", "hvordan", "hvorfor", "hele",
    "flere", "mens", "selv", "sammen", "hvem", "hver", "kommer", "være", "hjem", "samme", "siden",
];
const BOKMAL_WORDS: &[&str] = &[
    // Bokmål only.
    "hva", "noen", "noe", "nå", "ble", "bli", "sier", "fikk", "mye", "øye", "øyne", "mer", "uke",
    // Shared with Danish (evidence against nynorsk).
    "ikke", "jeg", "fra", "de", "en", "et", "hun", "også", "bare", "hvordan", "hvorfor", "hele",
    "flere", "mens", "selv", "sammen", "hvem", "hver", "kommer", "være", "hjem", "samme", "siden",
    // Shared with nynorsk (evidence against Danish).
    "av", "etter", "gjennom", "mellom", "hadde", "ut", "opp", "seg", "meg", "deg", "oss", "enn",
    "kanskje", "slik", "igjen", "aldri", "sa", "blir",
];
const NYNORSK_WORDS: &[&str] = &[
    // Nynorsk only.
    "ikkje", "eg", "frå", "kva", "dei", "ein", "eit", "ho", "òg", "berre", "korleis", "kvifor",
    "noko", "nokon", "nokre", "mykje", "vere", "vart", "heile", "fleire", "medan", "sjølv",
    "saman", "vore", "kven", "kvar", "meir", "sidan", "kjem", "seier", "blei", "heim", "same",
    "fekk", "augo", "auge", "dykk", // Shared with bokmål (evidence against Danish).
    "av", "etter", "gjennom", "mellom", "hadde", "ut", "opp", "seg", "meg", "deg", "oss", "enn",
    "kanskje", "slik", "igjen", "aldri", "sa", "blir",
];

/// Pairwise evidence: `over[a][b]` counts words that belong to language
/// `a`'s list but not to `b`'s (index 0 Danish, 1 bokmål, 2 nynorsk).
#[derive(Debug, Default, Clone, Copy)]
struct FunctionWordVotes {
    over: [[usize; 3]; 3],
}

const CLOSE_LANGUAGES: [Language; 3] = [Language::Danish, Language::Bokmal, Language::Nynorsk];

impl FunctionWordVotes {
    fn count(text: &str) -> FunctionWordVotes {
        let mut votes = FunctionWordVotes::default();
        for word in text
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
        {
            let lower = word.to_lowercase();
            let w = lower.as_str();
            let member = [
                DANISH_WORDS.contains(&w) || danish_spelling(w),
                BOKMAL_WORDS.contains(&w) || norwegian_spelling(w),
                NYNORSK_WORDS.contains(&w) || norwegian_spelling(w),
            ];
            for a in 0..3 {
                for b in 0..3 {
                    if member[a] && !member[b] {
                        votes.over[a][b] += 1;
                    }
                }
            }
        }
        votes
    }

    /// Share of the pairwise evidence between `language` and its closest
    /// rival that favours `language`.
    fn share(&self, language: Language) -> f64 {
        let Some(a) = CLOSE_LANGUAGES.iter().position(|l| *l == language) else {
            return 0.0;
        };
        (0..3)
            .filter(|&b| b != a)
            .map(|b| {
                let (for_a, for_b) = (self.over[a][b], self.over[b][a]);
                if for_a + for_b == 0 {
                    0.5
                } else {
                    for_a as f64 / (for_a + for_b) as f64
                }
            })
            .fold(1.0, f64::min)
    }

    /// The language that beats each of the other two clearly: at least
    /// `MIN_HITS` words of evidence and twice as many as against it.
    fn decisive_winner(&self) -> Option<Language> {
        const MIN_HITS: usize = 2;
        (0..3)
            .find(|&a| {
                (0..3).filter(|&b| b != a).all(|b| {
                    let (for_a, for_b) = (self.over[a][b], self.over[b][a]);
                    for_a >= MIN_HITS && for_a >= 2 * for_b
                })
            })
            .map(|a| CLOSE_LANGUAGES[a])
    }
}

/// Danish spellings that Norwegian does not use: -hed(en/er) and -tion(en/er).
fn danish_spelling(word: &str) -> bool {
    word.chars().count() > 5
        && ["hed", "heden", "heder", "tion", "tionen", "tioner"]
            .iter()
            .any(|suffix| word.ends_with(suffix))
}

/// Norwegian spellings that Danish does not use: -het(en/er) and -sjon(en/er).
fn norwegian_spelling(word: &str) -> bool {
    word.chars().count() > 5
        && ["het", "heten", "heter", "sjon", "sjonen", "sjoner"]
            .iter()
            .any(|suffix| word.ends_with(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_names_are_distinct() {
        for language in Language::ALL {
            assert_eq!(Language::from_code(language.code()), Some(language));
        }
        assert_eq!(Language::Bokmal.english_name(), "Norwegian (bokmål)");
        assert!(Language::Nynorsk.is_scandinavian());
        assert!(!Language::English.is_scandinavian());
        assert_eq!(serde_json::to_string(&Language::Bokmal).unwrap(), "\"nob\"");
    }

    #[test]
    fn detects_clear_cases() {
        let swedish = "Migrationsverket deltar aktivt i EU-samarbetet och har ett nära samarbete med flera internationella organisationer och nätverk.";
        assert_eq!(detect(swedish).language, Language::Swedish);
        let english =
            "The Council adopted conclusions on the external dimension of migration policy.";
        assert_eq!(detect(english).language, Language::English);
        let german = "Die Bundesregierung hat heute neue Regeln für die Einwanderung beschlossen.";
        assert_eq!(detect(german).language, Language::German);
    }

    #[test]
    fn too_little_text_is_unknown() {
        assert_eq!(detect("").language, Language::Unknown);
        assert_eq!(detect("12 34 -- !!").language, Language::Unknown);
    }

    #[test]
    fn function_words_separate_the_close_pairs() {
        let nynorsk = "Eg veit ikkje kva dei meiner, men ho sa at det var frå ein annan stad og at eg ikkje skulle vere redd.";
        let votes = FunctionWordVotes::count(nynorsk);
        assert_eq!(votes.decisive_winner(), Some(Language::Nynorsk));
        let bokmal = "Jeg vet ikke hva de mener, men hun sa at det var fra en annen sted og at jeg ikke skulle være redd.";
        assert_eq!(
            FunctionWordVotes::count(bokmal).decisive_winner(),
            Some(Language::Bokmal)
        );
        let danish = "Jeg ved ikke hvad de mener, men hun sagde at det var fra et andet sted, og at jeg ikke skulle være bange for nogle af dem efter det.";
        assert_eq!(
            FunctionWordVotes::count(danish).decisive_winner(),
            Some(Language::Danish)
        );
    }

    #[test]
    fn spelling_suffixes_count() {
        assert!(danish_spelling("situation"));
        assert!(danish_spelling("sikkerheden"));
        assert!(norwegian_spelling("situasjon"));
        assert!(!danish_spelling("hed"));
    }

    #[test]
    fn long_text_is_sampled_not_truncated_to_the_start() {
        let text = format!("{}{}", "a".repeat(20_000), "b".repeat(20_000));
        let sample = detection_sample(&text);
        assert!(sample.chars().count() <= MAX_DETECTION_CHARS + 2);
        assert!(sample.contains('a') && sample.contains('b'));
    }
}
