//! Facts in an English brief — numbers, years, dates, amounts, percentages
//! and proper names — and whether the Swedish, Danish or Norwegian source
//! supports each one.
//!
//! Two users: the faithfulness guard in the brief pipeline (regenerate a
//! field that names a fact the source does not have) and the faithfulness
//! metric of the evaluation (count unsupported facts per document).
//!
//! Matching allows for the ways a faithful translation rewrites a fact:
//! number formatting ("1.500" = "1,500", "2,5" = "2.5"), scale and currency
//! words ("5 milliarder kroner" = "NOK 5 billion"), spelled-out numbers
//! ("tio" = "ten" = "10"), translated month names ("29. maj 2012" = "May 29,
//! 2012") and translated or inflected names ("Sverige" = "Sweden",
//! "Migrationsverkets" = "Migrationsverket"). It leans towards accepting:
//! a false alarm makes the guard regenerate a good answer.

mod names;
mod numbers;

use names::{find_name_runs, NameIndex};
use numbers::{
    month_year_neighbours, scan_dates, scan_digit_numbers, scan_word_numbers, value_key, Currency,
    DateMention, NumberMention, ValueIndex, Writing,
};
use once_cell::sync::Lazy;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// What sort of fact a piece of English states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// A count or other plain number, in digits or words ("90", "two").
    Number,
    /// A year or a range of years ("2011", "2012–13", "the 2010s").
    Year,
    /// A date with a month and a day or a year ("29 May 2012", "June 2007").
    Date,
    /// A number with a scale word or a currency ("NOK 5 billion").
    Amount,
    /// A percentage ("12%", "12 percent").
    Percent,
    /// A proper name ("Potsdam", "Minister Lars Eriksson").
    Name,
}

/// One fact as written in the English text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub kind: FactKind,
    /// The words as written in the English text, units and titles included.
    pub text: String,
    /// Byte range of `text` in the English text it was found in.
    pub span: (usize, usize),
}

/// What a fact claims, read into comparable values.
#[derive(Debug, Clone)]
enum Claim {
    Number(NumberMention),
    Date(DateMention),
    Name(Vec<(String, bool)>),
}

#[derive(Debug, Clone)]
struct Found {
    fact: Fact,
    claim: Claim,
}

fn overlaps(spans: &[(usize, usize)], start: usize, end: usize) -> bool {
    spans.iter().any(|&(s, e)| start < e && s < end)
}

fn kind_of_number(mention: &NumberMention) -> FactKind {
    if mention.percent {
        FactKind::Percent
    } else if mention.is_amount() {
        FactKind::Amount
    } else if mention.as_year().is_some() || mention.decade {
        FactKind::Year
    } else {
        FactKind::Number
    }
}

/// Every fact in `english` with what it claims, in text order.
fn find(english: &str) -> Vec<Found> {
    let mut found = Vec::new();
    let mut claimed: Vec<(usize, usize)> = Vec::new();
    let fact = |kind, start: usize, end: usize| Fact {
        kind,
        text: english[start..end].to_string(),
        span: (start, end),
    };

    for date in scan_dates(english, Writing::English) {
        claimed.push((date.start, date.end));
        found.push(Found {
            fact: fact(FactKind::Date, date.start, date.end),
            claim: Claim::Date(date),
        });
    }
    let mut numbers = scan_digit_numbers(english, Writing::English);
    numbers.extend(scan_word_numbers(english, Writing::English));
    numbers.sort_by_key(|n| n.start);
    for number in numbers {
        if overlaps(&claimed, number.start, number.end) {
            continue;
        }
        claimed.push((number.start, number.end));
        found.push(Found {
            fact: fact(kind_of_number(&number), number.start, number.end),
            claim: Claim::Number(number),
        });
    }
    for run in find_name_runs(english, &claimed) {
        found.push(Found {
            fact: fact(FactKind::Name, run.start, run.end),
            claim: Claim::Name(run.words),
        });
    }
    found.sort_by_key(|f| f.fact.span);
    found
}

/// The numbers, years, dates, amounts, percentages and proper names stated
/// in an English text, in text order.
pub fn extract_facts(english: &str) -> Vec<Fact> {
    find(english).into_iter().map(|f| f.fact).collect()
}

/// A source text read once into look-up tables, so that checking the facts
/// of a brief against an 11,000-word report takes milliseconds.
#[derive(Debug, Default)]
pub struct SourceIndex {
    /// Every value a number in the source may stand for, scaled and
    /// unscaled, with the currency written beside it.
    values: ValueIndex,
    percents: HashSet<i64>,
    /// Values written with digit grouping ("2 000"): counts, never years.
    grouped_counts: HashSet<i64>,
    years: HashSet<u16>,
    /// (day, month) of every date, with or without a year.
    day_months: HashSet<(u8, u8)>,
    /// (day, month) of dates written without a year ("den 12-13 juni").
    yearless_day_months: HashSet<(u8, u8)>,
    full_dates: HashSet<(u8, u8, u16)>,
    month_years: HashSet<(u8, u16)>,
    names: NameIndex,
}

impl SourceIndex {
    pub fn new(source_text: &str) -> Self {
        let mut index = SourceIndex {
            names: NameIndex::new(source_text),
            ..Default::default()
        };

        let mut mentions = scan_digit_numbers(source_text, Writing::Scandinavian);
        mentions.extend(scan_word_numbers(source_text, Writing::Scandinavian));
        for mention in &mentions {
            index.add_number(mention);
        }
        // Every run of digits on its own as well: "5 100 personer" may be
        // 5 and 100, and a footnote glued to a year ("20111") still holds
        // the year.
        static DIGITS: Lazy<Regex> = Lazy::new(|| Regex::new(r"\d+").expect("digits pattern"));
        for digits in DIGITS.find_iter(source_text) {
            let raw = digits.as_str();
            if let Ok(value) = raw.parse::<u64>() {
                index
                    .values
                    .entry(value_key(value as f64))
                    .or_default()
                    .push(None);
            }
            let footnoted_year =
                (5..=6).contains(&raw.len()) && (raw.starts_with("19") || raw.starts_with("20"));
            if footnoted_year {
                if let Ok(year) = raw[..4].parse::<u16>() {
                    index.years.insert(year);
                }
            }
        }

        for date in scan_dates(source_text, Writing::Scandinavian) {
            for &day in &date.days {
                index.day_months.insert((day, date.month));
                match date.year {
                    Some(year) => index.full_dates.insert((day, date.month, year)),
                    None => index.yearless_day_months.insert((day, date.month)),
                };
            }
            if let Some(year) = date.year {
                index.years.insert(year);
                index.month_years.insert((date.month, year));
            }
        }
        index.month_years.extend(month_year_neighbours(source_text));
        index
    }

    fn add_number(&mut self, mention: &NumberMention) {
        for &reading in &mention.readings {
            self.values
                .entry(value_key(reading * mention.scale))
                .or_default()
                .push(mention.currency);
            if mention.scale != 1.0 {
                self.values
                    .entry(value_key(reading))
                    .or_default()
                    .push(mention.currency);
            }
            if mention.percent {
                self.percents.insert(value_key(reading));
            }
            if mention.grouped {
                self.grouped_counts.insert(value_key(reading));
            }
        }
        if let Some(year) = mention.as_year() {
            self.years.insert(year);
        }
        if let Some(end) = mention.year_range_end {
            self.years.insert(end);
            self.values
                .entry(value_key(f64::from(end)))
                .or_default()
                .push(None);
        }
    }

    /// Whether the source states `fact`, allowing for translation and
    /// number formatting.
    pub fn supports(&self, fact: &Fact) -> bool {
        let reread = find(&fact.text)
            .into_iter()
            .find(|f| f.fact.kind == fact.kind);
        match reread {
            Some(found) => self.supports_claim(&found.claim),
            // A name made only of ordinary English words is not something
            // the source needs to spell out.
            None if fact.kind == FactKind::Name => true,
            None => false,
        }
    }

    fn supports_claim(&self, claim: &Claim) -> bool {
        match claim {
            Claim::Number(number) => self.supports_number(number),
            Claim::Date(date) => self.supports_date(date),
            Claim::Name(words) => words
                .iter()
                .all(|(word, acronym)| self.names.has(word, *acronym)),
        }
    }

    fn has_value(&self, value: f64, currency: Option<Currency>) -> bool {
        self.values
            .get(&value_key(value))
            .is_some_and(|currencies| match currency {
                None => true,
                Some(wanted) => currencies
                    .iter()
                    .any(|c| c.is_none_or(|c| c.agrees_with(wanted))),
            })
    }

    fn supports_number(&self, number: &NumberMention) -> bool {
        if number.decade {
            let Some(decade) = number.bare_integer.and_then(|d| u16::try_from(d).ok()) else {
                return false;
            };
            return (decade..decade + 10).any(|y| self.years.contains(&y));
        }
        if let Some(year) = number.as_year() {
            let end_supported = number
                .year_range_end
                .is_none_or(|end| self.years.contains(&end));
            // "2000 people" is a count, and the source may group it "2 000".
            let as_count = number.year_range_end.is_none()
                && self.grouped_counts.contains(&value_key(f64::from(year)));
            return (self.years.contains(&year) && end_supported) || as_count;
        }
        if number.percent {
            return number
                .readings
                .iter()
                .any(|r| self.percents.contains(&value_key(r * number.scale)));
        }
        number
            .readings
            .iter()
            .any(|r| self.has_value(r * number.scale, number.currency))
    }

    fn supports_date(&self, date: &DateMention) -> bool {
        if date.days.is_empty() {
            let Some(year) = date.year else { return false };
            return self.month_years.contains(&(date.month, year))
                || self
                    .full_dates
                    .iter()
                    .any(|&(_, m, y)| m == date.month && y == year);
        }
        date.days.iter().all(|&day| match date.year {
            None => self.day_months.contains(&(day, date.month)),
            Some(year) => {
                // A source that gives the day without a year leaves the year
                // to the context; one that gives another year contradicts.
                self.full_dates.contains(&(day, date.month, year))
                    || (self.yearless_day_months.contains(&(day, date.month))
                        && self.years.contains(&year))
            }
        })
    }
}

/// The facts of `english` that `source` does not support, in text order.
pub fn unsupported_facts(english: &str, source: &SourceIndex) -> Vec<Fact> {
    find(english)
        .into_iter()
        .filter(|found| !source.supports_claim(&found.claim))
        .map(|found| found.fact)
        .collect()
}

/// The numbers a Swedish, Danish or Norwegian `source` writes in digits that
/// its English translation `english` lost or changed, as the source writes
/// them ("§ 282" lost gives "282").
pub fn missing_numbers(source: &str, english: &str) -> Vec<String> {
    numbers::missing_numbers(source, english)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsupported(english: &str, source: &str) -> Vec<String> {
        unsupported_facts(english, &SourceIndex::new(source))
            .into_iter()
            .map(|f| f.text)
            .collect()
    }

    fn kinds(english: &str) -> Vec<(FactKind, String)> {
        extract_facts(english)
            .into_iter()
            .map(|f| (f.kind, f.text))
            .collect()
    }

    const NORWEGIAN_FUND: &str =
        "Bygge opp en solidaritetspott i utviklingsbudsjettet på minst 5 milliarder kroner \
        for å bedre forholdene for mennesker på flukt.";

    #[test]
    fn extracts_each_kind_with_its_text_and_span() {
        let english = "On 29 May 2012 Sweden paid NOK 5 billion, 12% of the 90 projects, in 2013.";
        let facts = extract_facts(english);
        let read: Vec<_> = facts.iter().map(|f| (f.kind, f.text.as_str())).collect();
        assert_eq!(
            read,
            vec![
                (FactKind::Date, "29 May 2012"),
                (FactKind::Name, "Sweden"),
                (FactKind::Amount, "NOK 5 billion"),
                (FactKind::Percent, "12%"),
                (FactKind::Number, "90"),
                (FactKind::Year, "2013"),
            ]
        );
        for fact in &facts {
            assert_eq!(&english[fact.span.0..fact.span.1], fact.text);
        }
    }

    #[test]
    fn amounts_match_across_scale_words_and_currencies() {
        assert!(unsupported(
            "a solidarity fund of at least NOK 5 billion",
            NORWEGIAN_FUND
        )
        .is_empty());
        assert!(unsupported("at least 5 billion kroner", NORWEGIAN_FUND).is_empty());
        assert!(unsupported("NOK 5,000 million", NORWEGIAN_FUND).is_empty());
        assert_eq!(
            unsupported("a fund of NOK 50 billion", NORWEGIAN_FUND),
            vec!["NOK 50 billion"]
        );
        assert_eq!(
            unsupported("a fund of NOK 5 million", NORWEGIAN_FUND),
            vec!["NOK 5 million"]
        );
        assert_eq!(
            unsupported("a fund of EUR 5 billion", NORWEGIAN_FUND),
            vec!["EUR 5 billion"]
        );
        let danish = "støttede Kommissionen over 90 migrationsrelaterede projekter med mere end 200 mio. EUR";
        assert!(unsupported("over 90 projects worth more than EUR 200 million", danish).is_empty());
        assert!(unsupported("200 million euros", danish).is_empty());
        let swedish = "anslaget är 3,5 miljarder kronor";
        assert!(unsupported("SEK 3.5 billion", swedish).is_empty());
    }

    #[test]
    fn grouped_and_decimal_numbers_match_across_conventions() {
        for source in [
            "1 500 asylsøkere",
            "1.500 asylsøkere",
            "1500 asylsøkere",
            "1,500 asylsøkere",
        ] {
            assert!(
                unsupported("1,500 asylum seekers", source).is_empty(),
                "{source}"
            );
            assert!(
                unsupported("1500 asylum seekers", source).is_empty(),
                "{source}"
            );
        }
        assert!(unsupported("an increase of 2.5%", "en ökning med 2,5 procent").is_empty());
        assert_eq!(
            unsupported("an increase of 3.5%", "en ökning med 2,5 procent"),
            vec!["3.5%"]
        );
    }

    #[test]
    fn percentages_in_every_writing() {
        for source in ["12 procent", "12 prosent", "12 %", "12%", "12 pct."] {
            for english in ["12%", "12 percent", "12 per cent"] {
                assert!(
                    unsupported(english, source).is_empty(),
                    "{english} / {source}"
                );
            }
        }
        // A bare 12 is not a percentage.
        assert_eq!(unsupported("12%", "12 lande"), vec!["12%"]);
    }

    #[test]
    fn spelled_numbers_support_digits_and_back() {
        let swedish = "Efter närmare tio års förhandlingar i EU beslutades det formellt 2013";
        assert!(unsupported("after nearly ten years of negotiations", swedish).is_empty());
        assert!(unsupported("after nearly 10 years of negotiations", swedish).is_empty());
        assert_eq!(
            unsupported("after two years of negotiations", swedish),
            vec!["two"]
        );
        let danish = "der indgået mobilitetspartnerskaber med seks lande";
        assert!(unsupported("partnerships with six countries", danish).is_empty());
        assert!(unsupported("twenty countries", "med 20 lande").is_empty());
        assert!(unsupported("13 countries", "från tretton länder").is_empty());
    }

    #[test]
    fn years_must_be_years_in_the_source() {
        let swedish = "Efter närmare tio års förhandlingar i EU beslutades det formellt 2013 om ett gemensamt europeiskt asylsystem.";
        assert!(unsupported("formally decided in 2013", swedish).is_empty());
        assert_eq!(
            unsupported("formally decided in 2011", swedish),
            vec!["2011"]
        );
        // A year glued to a footnote number in a report still counts.
        let danish = "Kommissionens meddelelse af 18. november 20111 lancerede en ny fase. I perioden 2012-2013 støttede";
        assert!(unsupported(
            "the communication of 18 November 2011 and the period 2012–2013",
            danish
        )
        .is_empty());
        assert!(unsupported("in 2012-13", danish).is_empty());
        assert_eq!(unsupported("in 2012–14", danish), vec!["2012–14"]);
        assert!(unsupported("in the 2010s", danish).is_empty());
        // A count grouped as "2 000" may be written "2000" in English.
        assert!(unsupported("2000 people", "2 000 personer").is_empty());
    }

    #[test]
    fn dates_with_translated_months() {
        let danish =
            "Rådets efterfølgende konklusioner af \n29. maj 20122 bekræftede, at SSMM udgør rammen";
        for english in [
            "29 May 2012",
            "May 29, 2012",
            "29th May 2012",
            "the 29th of May",
        ] {
            assert!(unsupported(english, danish).is_empty(), "{english}");
        }
        assert_eq!(unsupported("29 June 2012", danish), vec!["29 June 2012"]);
        assert_eq!(unsupported("29 May 2013", danish), vec!["29 May 2013"]);
        let swedish = "Rådets möte (rättsliga och inrikes frågor) den 12-13 juni. Vid ett informellt möte i Potsdam den 10-11 maj";
        assert!(unsupported(
            "the Council meeting on 12–13 June after Potsdam on 10-11 May",
            swedish
        )
        .is_empty());
        assert!(unsupported("June 12-13", swedish).is_empty());
        assert_eq!(unsupported("12–14 June", swedish), vec!["12–14 June"]);
        let iso = "Sidan senast uppdaterad: 2020-03-03";
        for english in [
            "updated on 3 March 2020",
            "updated 2020-03-03",
            "updated in March 2020",
        ] {
            assert!(unsupported(english, iso).is_empty(), "{english}");
        }
        assert!(unsupported(
            "adopted in November 2004",
            "som rådet antog i november 2004"
        )
        .is_empty());
        assert_eq!(
            unsupported(
                "adopted in December 2004",
                "som rådet antog i november 2004"
            ),
            vec!["December 2004"]
        );
    }

    #[test]
    fn ordinals_are_numbers() {
        assert_eq!(
            kinds("the 20th meeting"),
            vec![(FactKind::Number, "20th".to_string())]
        );
        assert!(unsupported("the 20th meeting", "det 20. møde").is_empty());
        assert_eq!(
            unsupported("the 21st meeting", "det 20. møde"),
            vec!["21st"]
        );
    }

    #[test]
    fn names_in_translation_and_inflection() {
        let swedish = "Sverige stöder de föreslagna rådslutsatserna. Vid ett informellt möte i Potsdam diskuterade \
            EU:s integrationsministrar. Migrationsverkets generaldirektör. Utkast till rådsslutsatser om \
            förstärkning av integrationspolitiken i Europeiska unionen.";
        let english = "Sweden supports the draft Council conclusions. At an informal meeting in Potsdam the EU \
            integration ministers met. The Swedish Migration Agency and Migrationsverket take part in the \
            European Union.";
        assert!(
            unsupported(english, swedish).is_empty(),
            "{:?}",
            unsupported(english, swedish)
        );
        assert!(unsupported("Denmark's position", "Danmarks holdning").is_empty());
        assert!(unsupported("the Danish government", "den danske regering").is_empty());
        assert!(unsupported(
            "Norway and Norwegian",
            "Norge skal; norsk migrasjonspolitikk"
        )
        .is_empty());
        assert_eq!(
            unsupported("a meeting in Stockholm", swedish),
            vec!["Stockholm"]
        );
        assert_eq!(unsupported("Norway agreed", swedish), vec!["Norway"]);
    }

    #[test]
    fn invented_people_are_caught_even_with_common_first_names() {
        let swedish = "Migrationsminister Maria Malmer Stenergard företräder Sverige vid mötet.";
        assert!(unsupported(
            "Migration Minister Maria Malmer Stenergard represents Sweden.",
            swedish
        )
        .is_empty());
        assert_eq!(
            unsupported("Minister Lars Eriksson represents Sweden.", swedish),
            vec!["Minister Lars Eriksson"]
        );
        assert_eq!(
            unsupported("Minister Maria Brown represents Sweden.", swedish),
            vec!["Minister Maria Brown"]
        );
    }

    #[test]
    fn capitalised_common_words_are_no_alarm() {
        let swedish =
            "Migrations- och asylpakten, konsekvenserna av Rysslands anfallskrig mot Ukraina";
        let english = "The Pact on Migration and Asylum. Consequences of Russia's War of Aggression against Ukraine. \
            However, Ministers will discuss it. Readmission was also discussed.";
        assert!(
            unsupported(english, swedish).is_empty(),
            "{:?}",
            unsupported(english, swedish)
        );
    }

    #[test]
    fn supports_reads_a_fact_on_its_own() {
        let source = SourceIndex::new(NORWEGIAN_FUND);
        let facts = extract_facts("Norway will set aside NOK 5 billion, not NOK 6 billion.");
        let verdicts: Vec<_> = facts
            .iter()
            .map(|f| (f.text.as_str(), source.supports(f)))
            .collect();
        assert_eq!(
            verdicts,
            vec![
                ("Norway", false),
                ("NOK 5 billion", true),
                ("NOK 6 billion", false)
            ]
        );
        let hand_made = Fact {
            kind: FactKind::Year,
            text: "2011".into(),
            span: (0, 4),
        };
        assert!(!source.supports(&hand_made));
    }
}
