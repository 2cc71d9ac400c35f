//! Numbers, amounts, percentages, years and dates as English and as Swedish,
//! Danish and Norwegian write them, read into comparable values.
//!
//! Word boundaries in the patterns are ASCII ones, `(?-u:\b)`: they stand
//! next to digits and ASCII month names, where they mean the same, and the
//! Unicode kind sends the regex engine to its slow path on "æ", "ø" and "å"
//! (indexing the 11,000-word report took seven times longer).

use once_cell::sync::Lazy;
use regex::Regex;
use std::collections::HashMap;

/// Which writing conventions a text follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Writing {
    /// "1,500" is fifteen hundred, "1.5" one and a half, months are capitalised.
    English,
    /// "1.500" and "1 500" are fifteen hundred, "2,5" two and a half; a source
    /// may also quote English, so every plausible reading is kept.
    Scandinavian,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Currency {
    /// "kr", "kroner", "kronor": crowns of an unnamed country.
    Crowns,
    Sek,
    Dkk,
    Nok,
    Eur,
    Usd,
    Gbp,
}

impl Currency {
    /// "NOK 5 billion" may translate "5 milliarder kroner": plain crowns agree
    /// with any of the three crown currencies.
    pub(super) fn agrees_with(self, other: Currency) -> bool {
        use Currency::*;
        self == other
            || matches!(
                (self, other),
                (Crowns, Sek | Dkk | Nok) | (Sek | Dkk | Nok, Crowns)
            )
    }
}

/// One number in a text, with what surrounds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct NumberMention {
    pub start: usize,
    pub end: usize,
    /// Every value the written number may stand for before its scale word.
    pub readings: Vec<f64>,
    /// 1, 1e3, 1e6 or 1e9 from "thousand", "mio.", "milliarder", …
    pub scale: f64,
    pub currency: Option<Currency>,
    pub percent: bool,
    pub ordinal: bool,
    /// Set when written as digits with no separator, no decimals, no unit:
    /// the shape of a year.
    pub bare_integer: Option<u64>,
    /// Digits grouped with separators ("2 000", "1.500"): a count, not a year.
    pub grouped: bool,
    /// "2012–13", "2012-2013", "2012/13": the last year of the range.
    pub year_range_end: Option<u16>,
    /// "2010s".
    pub decade: bool,
}

impl NumberMention {
    /// A scale word or a currency makes a number an amount.
    pub(super) fn is_amount(&self) -> bool {
        self.scale != 1.0 || self.currency.is_some()
    }

    /// The years this mention names when it is written like one.
    pub(super) fn as_year(&self) -> Option<u16> {
        if self.is_amount() || self.percent || self.ordinal {
            return None;
        }
        let value = self.bare_integer?;
        (1800..=2100).contains(&value).then_some(value as u16)
    }
}

/// A date with at least a month and either a day or a year.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct DateMention {
    pub start: usize,
    pub end: usize,
    /// Empty for "May 2012"; two or more for "12–13 June".
    pub days: Vec<u8>,
    pub month: u8,
    pub year: Option<u16>,
}

const ENGLISH_MONTHS: &[(&str, u8)] = &[
    ("January", 1),
    ("February", 2),
    ("March", 3),
    ("April", 4),
    ("May", 5),
    ("June", 6),
    ("July", 7),
    ("August", 8),
    ("September", 9),
    ("October", 10),
    ("November", 11),
    ("December", 12),
    ("Jan", 1),
    ("Feb", 2),
    ("Mar", 3),
    ("Apr", 4),
    ("Jun", 6),
    ("Jul", 7),
    ("Aug", 8),
    ("Sept", 9),
    ("Sep", 9),
    ("Oct", 10),
    ("Nov", 11),
    ("Dec", 12),
];

/// Swedish, Danish and Norwegian month names and their abbreviations; a
/// source may also quote English, so the English names are added to these.
const SCANDINAVIAN_MONTHS: &[(&str, u8)] = &[
    ("januari", 1),
    ("januar", 1),
    ("februari", 2),
    ("februar", 2),
    ("mars", 3),
    ("marts", 3),
    ("april", 4),
    ("maj", 5),
    ("mai", 5),
    ("juni", 6),
    ("juli", 7),
    ("augusti", 8),
    ("august", 8),
    ("september", 9),
    ("oktober", 10),
    ("november", 11),
    ("december", 12),
    ("desember", 12),
    ("jan", 1),
    ("feb", 2),
    ("apr", 4),
    ("aug", 8),
    ("sept", 9),
    ("sep", 9),
    ("okt", 10),
    ("nov", 11),
    ("dec", 12),
    ("des", 12),
];

/// Month number of a month name (full or abbreviated) in either writing.
pub(super) fn month_number(word: &str, writing: Writing) -> Option<u8> {
    match writing {
        Writing::English => ENGLISH_MONTHS
            .iter()
            .find(|(name, _)| *name == word)
            .map(|(_, n)| *n),
        Writing::Scandinavian => {
            let lower = word.to_lowercase();
            SCANDINAVIAN_MONTHS
                .iter()
                .chain(ENGLISH_MONTHS.iter())
                .find(|(name, _)| name.to_lowercase() == lower)
                .map(|(_, n)| *n)
        }
    }
}

/// Only full month names count when a month stands next to a year without
/// a day ("november 2013"); "des" or "mar" alone are too often other words.
fn is_full_month_name(word: &str) -> bool {
    word.len() >= 4
        && SCANDINAVIAN_MONTHS
            .iter()
            .chain(ENGLISH_MONTHS.iter())
            .any(|(name, _)| name.len() >= 4 && name.eq_ignore_ascii_case(word))
}

fn month_alternation(writing: Writing) -> String {
    let mut names: Vec<&str> = match writing {
        Writing::English => ENGLISH_MONTHS.iter().map(|(n, _)| *n).collect(),
        Writing::Scandinavian => SCANDINAVIAN_MONTHS
            .iter()
            .chain(ENGLISH_MONTHS.iter())
            .map(|(n, _)| *n)
            .collect(),
    };
    // Longest first, so "June" is not read as "Jun".
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names.join("|")
}

struct DatePatterns {
    day_month_year: Regex,
    month_day_year: Regex,
    month_year: Regex,
    iso: Regex,
    numeric: Option<Regex>,
}

fn date_patterns(writing: Writing) -> DatePatterns {
    let months = month_alternation(writing);
    let flags = match writing {
        Writing::English => "",
        Writing::Scandinavian => "(?i)",
    };
    // Range words between two days: dashes, "to", "til", "till"; "and",
    // "og", "och" join two separate days.
    let joiner = r"\s*(-|–|—|to|til|till|and|og|och)\s*";
    // A source may glue a footnote number to the year ("maj 20122").
    let year = match writing {
        Writing::English => r"(\d{4})(?-u:\b)",
        Writing::Scandinavian => r"(\d{4})\d{0,2}(?-u:\b)",
    };
    let build = |pattern: String| Regex::new(&format!("{flags}{pattern}")).expect("date pattern");
    DatePatterns {
        day_month_year: build(format!(
            r"(?-u:\b)(\d{{1,2}})(?:st|nd|rd|th)?\.?(?:{joiner}(\d{{1,2}})(?:st|nd|rd|th)?\.?)?\s+(?:of\s+)?({months})(?-u:\b)\.?(?:,?\s+{year})?"
        )),
        month_day_year: build(format!(
            r"(?-u:\b)({months})(?-u:\b)\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:{joiner}(\d{{1,2}})(?:st|nd|rd|th)?)?(?-u:\b)(?:,?\s+{year})?"
        )),
        month_year: build(format!(r"(?-u:\b)({months})(?-u:\b)\.?,?\s+{year}")),
        iso: build(r"(?-u:\b)(\d{4})-(\d{1,2})-(\d{1,2})(?-u:\b)".to_string()),
        numeric: match writing {
            Writing::English => None,
            Writing::Scandinavian => Some(build(
                r"(?-u:\b)(\d{1,2})\.(\d{1,2})\.(\d{4})(?-u:\b)".to_string(),
            )),
        },
    }
}

static ENGLISH_DATES: Lazy<DatePatterns> = Lazy::new(|| date_patterns(Writing::English));
static SCANDINAVIAN_DATES: Lazy<DatePatterns> = Lazy::new(|| date_patterns(Writing::Scandinavian));

fn valid_day(day: u32) -> Option<u8> {
    (1..=31).contains(&day).then_some(day as u8)
}

fn valid_year(year: u32) -> Option<u16> {
    (1000..=2999).contains(&year).then_some(year as u16)
}

/// The days a written range covers: "12–13" is 12 and 13, "1 and 3" is 1
/// and 3 but not 2.
fn day_list(first: u8, joiner: Option<&str>, last: Option<u8>) -> Vec<u8> {
    match (joiner, last) {
        (Some(j), Some(last)) if last > first => {
            let joins_two = matches!(j.to_lowercase().as_str(), "and" | "og" | "och");
            if joins_two {
                vec![first, last]
            } else {
                (first..=last).collect()
            }
        }
        (_, Some(last)) if last != first => vec![first, last],
        _ => vec![first],
    }
}

fn overlaps(spans: &[(usize, usize)], start: usize, end: usize) -> bool {
    spans.iter().any(|&(s, e)| start < e && s < end)
}

/// Every date in `text`, most specific reading first; a later pattern never
/// claims text an earlier one already read.
pub(super) fn scan_dates(text: &str, writing: Writing) -> Vec<DateMention> {
    let patterns = match writing {
        Writing::English => &*ENGLISH_DATES,
        Writing::Scandinavian => &*SCANDINAVIAN_DATES,
    };
    let mut found: Vec<DateMention> = Vec::new();
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let mut push = |mention: DateMention, found: &mut Vec<DateMention>| {
        if !overlaps(&taken, mention.start, mention.end) {
            taken.push((mention.start, mention.end));
            found.push(mention);
        }
    };
    let number = |m: Option<regex::Match>| m.and_then(|m| m.as_str().parse::<u32>().ok());

    for caps in patterns.iso.captures_iter(text) {
        let whole = caps.get(0).expect("group 0 always matches");
        let (Some(year), Some(month), Some(day)) = (
            number(caps.get(1)),
            number(caps.get(2)),
            number(caps.get(3)),
        ) else {
            continue;
        };
        if let (Some(year), true, Some(day)) =
            (valid_year(year), (1..=12).contains(&month), valid_day(day))
        {
            push(
                DateMention {
                    start: whole.start(),
                    end: whole.end(),
                    days: vec![day],
                    month: month as u8,
                    year: Some(year),
                },
                &mut found,
            );
        }
    }
    if let Some(numeric) = &patterns.numeric {
        for caps in numeric.captures_iter(text) {
            let whole = caps.get(0).expect("group 0 always matches");
            let (Some(day), Some(month), Some(year)) = (
                number(caps.get(1)),
                number(caps.get(2)),
                number(caps.get(3)),
            ) else {
                continue;
            };
            if let (Some(day), true, Some(year)) =
                (valid_day(day), (1..=12).contains(&month), valid_year(year))
            {
                push(
                    DateMention {
                        start: whole.start(),
                        end: whole.end(),
                        days: vec![day],
                        month: month as u8,
                        year: Some(year),
                    },
                    &mut found,
                );
            }
        }
    }
    for caps in patterns.day_month_year.captures_iter(text) {
        let whole = caps.get(0).expect("group 0 always matches");
        let Some(first) = number(caps.get(1)).and_then(valid_day) else {
            continue;
        };
        let last = number(caps.get(3)).and_then(valid_day);
        let Some(month) = caps.get(4).and_then(|m| month_number(m.as_str(), writing)) else {
            continue;
        };
        let year = number(caps.get(5)).and_then(valid_year);
        let days = day_list(first, caps.get(2).map(|m| m.as_str()), last);
        push(
            DateMention {
                start: whole.start(),
                end: whole.end(),
                days,
                month,
                year,
            },
            &mut found,
        );
    }
    for caps in patterns.month_day_year.captures_iter(text) {
        let whole = caps.get(0).expect("group 0 always matches");
        let Some(month) = caps.get(1).and_then(|m| month_number(m.as_str(), writing)) else {
            continue;
        };
        let Some(first) = number(caps.get(2)).and_then(valid_day) else {
            continue;
        };
        let last = number(caps.get(4)).and_then(valid_day);
        let year = number(caps.get(5)).and_then(valid_year);
        let days = day_list(first, caps.get(3).map(|m| m.as_str()), last);
        push(
            DateMention {
                start: whole.start(),
                end: whole.end(),
                days,
                month,
                year,
            },
            &mut found,
        );
    }
    for caps in patterns.month_year.captures_iter(text) {
        let whole = caps.get(0).expect("group 0 always matches");
        let Some(month) = caps.get(1).and_then(|m| month_number(m.as_str(), writing)) else {
            continue;
        };
        let Some(year) = number(caps.get(2)).and_then(valid_year) else {
            continue;
        };
        push(
            DateMention {
                start: whole.start(),
                end: whole.end(),
                days: Vec::new(),
                month,
                year: Some(year),
            },
            &mut found,
        );
    }
    // "on 29 September." ends a sentence: the dot belongs to the month only
    // when it is abbreviated ("Sept.").
    for date in &mut found {
        let written = &text[date.start..date.end];
        if let Some(without_dot) = written.strip_suffix('.') {
            let last_word = without_dot
                .rsplit(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or("");
            if is_full_month_name(last_word) {
                date.end -= 1;
            }
        }
    }
    found.sort_by_key(|d| d.start);
    found
}

/// Pairs of (month, year) that stand within a few words of each other in a
/// source ("i november 2013", "januar-marts 2013"), so that "November 2013"
/// in a brief is found even where the source words it loosely.
pub(super) fn month_year_neighbours(text: &str) -> Vec<(u8, u16)> {
    static TOKEN: Lazy<Regex> = Lazy::new(|| Regex::new(r"[\p{L}]+|\d+").expect("token pattern"));
    let tokens: Vec<&str> = TOKEN.find_iter(text).map(|m| m.as_str()).collect();
    let mut pairs = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if !is_full_month_name(token) {
            continue;
        }
        let Some(month) = month_number(token, Writing::Scandinavian) else {
            continue;
        };
        let from = i.saturating_sub(3);
        let to = (i + 5).min(tokens.len());
        for other in &tokens[from..to] {
            if other.len() == 4 {
                if let Some(year) = other
                    .parse::<u32>()
                    .ok()
                    .filter(|y| (1800..=2100).contains(y))
                {
                    pairs.push((month, year as u16));
                }
            }
        }
    }
    pairs
}

/// Scale words of all four languages.
fn scale_of(word: &str) -> Option<f64> {
    match word {
        "thousand" | "thousands" | "tusind" | "tusinde" | "tusen" | "tusental" => Some(1e3),
        "million" | "millions" | "mn" | "mio" | "mill" | "millioner" | "millionen" | "miljon"
        | "miljoner" | "millionar" => Some(1e6),
        "billion" | "billions" | "bn" | "mia" | "mrd" | "milliard" | "milliarder" | "miljard"
        | "miljarder" | "milliardar" => Some(1e9),
        _ => None,
    }
}

fn currency_of(word: &str) -> Option<Currency> {
    match word {
        "kr" | "kroner" | "kronor" | "krone" | "krona" | "kronar" | "crowns" | "kronur" => {
            Some(Currency::Crowns)
        }
        "sek" => Some(Currency::Sek),
        "dkk" => Some(Currency::Dkk),
        "nok" => Some(Currency::Nok),
        "eur" | "euro" | "euros" | "€" => Some(Currency::Eur),
        "usd" | "dollar" | "dollars" | "$" => Some(Currency::Usd),
        "gbp" | "pounds" | "£" => Some(Currency::Gbp),
        _ => None,
    }
}

fn is_percent_word(word: &str) -> bool {
    word == "%"
        || word == "percent"
        || word == "percentage"
        || word == "pct"
        || word.starts_with("procent")
        || word.starts_with("prosent")
}

/// The next word after a number, lowercased without a trailing dot, and how
/// many bytes it spans. Whitespace up to a short line break is skipped
/// because reports break lines inside "200 mio.\nEUR". The dot belongs to the
/// word only after an abbreviation ("mio.", "kr."); after "billion." it ends
/// the sentence.
fn next_word(rest: &str) -> Option<(String, usize)> {
    static NEXT: Lazy<Regex> = Lazy::new(|| {
        Regex::new(r"^\s{0,3}(?:(%|€|\$|£)|(\p{L}+)(\.)?)").expect("next word pattern")
    });
    const ABBREVIATIONS: &[&str] = &["mio", "mill", "mia", "mrd", "kr", "pct", "mn", "bn"];
    let caps = NEXT.captures(rest)?;
    let symbol_or_word = caps.get(1).or_else(|| caps.get(2))?;
    let word = symbol_or_word.as_str().to_lowercase();
    let end = match caps.get(3) {
        Some(dot) if ABBREVIATIONS.contains(&word.as_str()) => dot.end(),
        _ => symbol_or_word.end(),
    };
    Some((word, end))
}

/// Reads scale, currency and percent after a number; returns the bytes read.
fn read_units(rest: &str, mention: &mut NumberMention) -> usize {
    let mut consumed = 0;
    if let Some((word, len)) = next_word(rest) {
        if let Some(scale) = scale_of(&word) {
            mention.scale = scale;
            consumed = len;
        }
    }
    if let Some((word, len)) = next_word(&rest[consumed..]) {
        if let Some(currency) = currency_of(&word) {
            mention.currency = mention.currency.or(Some(currency));
            consumed += len;
        } else if is_percent_word(&word) {
            mention.percent = true;
            consumed += len;
        } else if word == "per" {
            if let Some((cent, cent_len)) = next_word(&rest[consumed + len..]) {
                if cent == "cent" {
                    mention.percent = true;
                    consumed += len + cent_len;
                }
            }
        }
    }
    consumed
}

/// A currency written before the number: "EUR 200 million", "NOK 5", "€5".
fn currency_before(before: &str) -> Option<(Currency, usize)> {
    static BEFORE: Lazy<Regex> = Lazy::new(|| {
        Regex::new(r"(?i)(?:^|[^\p{L}])(sek|dkk|nok|eur|usd|gbp|kr\.?|€|\$|£)\s{0,2}$")
            .expect("currency pattern")
    });
    let tail_start = before.char_indices().rev().nth(8).map_or(0, |(i, _)| i);
    let tail = &before[tail_start..];
    let caps = BEFORE.captures(tail)?;
    let symbol = caps.get(1)?;
    let word = symbol.as_str().trim_end_matches('.').to_lowercase();
    let currency = currency_of(&word)?;
    Some((currency, tail_start + symbol.start()))
}

/// The values digits with separators may stand for.
fn readings_of(raw: &str, writing: Writing) -> (Vec<f64>, bool) {
    let is_space = |c: char| c == ' ' || c == '\u{a0}' || c == '\u{202f}';
    let compact: String = raw.chars().filter(|c| !is_space(*c)).collect();
    let had_space_groups = compact.len() != raw.len();
    let dots = compact.matches('.').count();
    let commas = compact.matches(',').count();
    let parse = |s: &str| s.parse::<f64>().ok();
    let mut readings = Vec::new();
    let grouped;
    if dots > 0 && commas > 0 {
        // "1.500,5" or "1,500.5": the last separator is the decimal point.
        let last_dot = compact.rfind('.').unwrap_or(0);
        let last_comma = compact.rfind(',').unwrap_or(0);
        let (group, decimal) = if last_comma > last_dot {
            ('.', ',')
        } else {
            (',', '.')
        };
        let normal: String = compact
            .chars()
            .filter(|c| *c != group)
            .map(|c| if c == decimal { '.' } else { c })
            .collect();
        readings.extend(parse(&normal));
        grouped = true;
    } else if dots + commas == 0 {
        readings.extend(parse(&compact));
        grouped = had_space_groups;
    } else {
        let separator = if dots > 0 { '.' } else { ',' };
        let digits_after_last =
            compact.len() - compact.rfind(separator).map_or(compact.len(), |i| i + 1);
        let as_group: String = compact.chars().filter(|c| *c != separator).collect();
        let as_decimal: String = compact
            .chars()
            .map(|c| if c == separator { '.' } else { c })
            .collect();
        let several = dots + commas > 1;
        if several || had_space_groups {
            // "1.500.000", "1 500,5" cannot be decimals throughout.
            if had_space_groups && !several {
                let integral: String = compact
                    .chars()
                    .map(|c| if c == separator { '.' } else { c })
                    .collect();
                readings.extend(parse(&integral));
            } else {
                readings.extend(parse(&as_group));
            }
            grouped = true;
        } else if digits_after_last == 3 {
            // One separator before three digits: "1,500" in English is a
            // thousand-grouping, "1.500" in Danish too; keep both readings
            // for a source, which may be either.
            grouped = true;
            match (writing, separator) {
                (Writing::English, ',') => readings.extend(parse(&as_group)),
                (Writing::English, _) => readings.extend(parse(&as_decimal)),
                (Writing::Scandinavian, _) => {
                    readings.extend(parse(&as_group));
                    readings.extend(parse(&as_decimal));
                }
            }
        } else {
            grouped = false;
            readings.extend(parse(&as_decimal));
        }
    }
    (readings, grouped)
}

static ENGLISH_NUMBER: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?-u:\b)\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?-u:\b)\d+(?:[.,]\d+)?")
        .expect("number pattern")
});
static SCANDINAVIAN_NUMBER: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?-u:\b)\d{1,3}(?:[ \u{a0}\u{202f}.,]\d{3})+(?:[.,]\d+)?(?-u:\b)|(?-u:\b)\d+(?:[.,]\d+)?",
    )
    .expect("number pattern")
});

/// Numbers written in digits, with their units, ordinals, year ranges and
/// decades.
pub(super) fn scan_digit_numbers(text: &str, writing: Writing) -> Vec<NumberMention> {
    static ORDINAL: Lazy<Regex> =
        Lazy::new(|| Regex::new(r"^(?:st|nd|rd|th)(?-u:\b)").expect("ordinal pattern"));
    static DECADE: Lazy<Regex> =
        Lazy::new(|| Regex::new(r"^['’]?s(?-u:\b)").expect("decade pattern"));
    static YEAR_RANGE: Lazy<Regex> = Lazy::new(|| {
        Regex::new(r"^\s?(?:-|–|—|/)\s?(\d{4}|\d{2})(?-u:\b)").expect("year range pattern")
    });
    let pattern = match writing {
        Writing::English => &*ENGLISH_NUMBER,
        Writing::Scandinavian => &*SCANDINAVIAN_NUMBER,
    };
    let mut mentions: Vec<NumberMention> = Vec::new();
    for found in pattern.find_iter(text) {
        // The second year of "2012–13" was read with the first.
        if mentions.last().is_some_and(|m| found.start() < m.end) {
            continue;
        }
        let raw = found.as_str();
        let (readings, grouped) = readings_of(raw, writing);
        if readings.is_empty() {
            continue;
        }
        let all_digits = raw.chars().all(|c| c.is_ascii_digit());
        let mut mention = NumberMention {
            start: found.start(),
            end: found.end(),
            readings,
            scale: 1.0,
            currency: None,
            percent: false,
            ordinal: false,
            bare_integer: if all_digits { raw.parse().ok() } else { None },
            grouped,
            year_range_end: None,
            decade: false,
        };
        let rest = &text[found.end()..];
        if let Some(m) = ORDINAL.find(rest) {
            mention.ordinal = true;
            mention.end += m.end();
        } else if let (Some(m), true) = (DECADE.find(rest), raw.len() == 4 && raw.ends_with('0')) {
            mention.decade = true;
            mention.end += m.end();
        } else if let Some(caps) = YEAR_RANGE
            .captures(rest)
            .filter(|_| raw.len() == 4 && all_digits)
        {
            let start_year: u32 = raw.parse().unwrap_or(0);
            let tail = caps.get(1).map_or("", |m| m.as_str());
            let end_year = match tail.len() {
                2 => (start_year / 100) * 100 + tail.parse::<u32>().unwrap_or(0),
                _ => tail.parse().unwrap_or(0),
            };
            if (1800..=2100).contains(&start_year)
                && end_year > start_year
                && end_year <= start_year + 50
            {
                mention.year_range_end = Some(end_year as u16);
                mention.end += caps.get(0).map_or(0, |m| m.end());
            }
        } else {
            mention.end += read_units(rest, &mut mention);
        }
        if let Some((currency, at)) = currency_before(&text[..found.start()]) {
            mention.currency = Some(currency);
            mention.start = at;
        }
        if mention.is_amount() || mention.percent || mention.ordinal {
            mention.bare_integer = None;
        }
        mentions.push(mention);
    }
    mentions
}

/// Spelled-out numbers in English: 2–20 and the tens. "one" is left out:
/// it is far more often a pronoun ("one of the") than a figure.
const ENGLISH_NUMBER_WORDS: &[(&str, u32)] = &[
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
    ("hundred", 100),
];

/// Swedish, Danish and Norwegian (bokmål and nynorsk) 2–20 and the tens.
/// The words for one ("en", "ett", "et", "ei", "ein") are left out: they are
/// also the articles.
const SCANDINAVIAN_NUMBER_WORDS: &[(&str, u32)] = &[
    // Swedish
    ("två", 2),
    ("tre", 3),
    ("fyra", 4),
    ("fem", 5),
    ("sex", 6),
    ("sju", 7),
    ("åtta", 8),
    ("nio", 9),
    ("tio", 10),
    ("elva", 11),
    ("tolv", 12),
    ("tretton", 13),
    ("fjorton", 14),
    ("femton", 15),
    ("sexton", 16),
    ("sjutton", 17),
    ("arton", 18),
    ("nitton", 19),
    ("tjugo", 20),
    ("trettio", 30),
    ("fyrtio", 40),
    ("femtio", 50),
    ("sextio", 60),
    ("sjuttio", 70),
    ("åttio", 80),
    ("nittio", 90),
    ("hundra", 100),
    // Danish
    ("to", 2),
    ("fire", 4),
    ("seks", 6),
    ("syv", 7),
    ("otte", 8),
    ("ni", 9),
    ("ti", 10),
    ("elleve", 11),
    ("tretten", 13),
    ("fjorten", 14),
    ("femten", 15),
    ("seksten", 16),
    ("sytten", 17),
    ("atten", 18),
    ("nitten", 19),
    ("tyve", 20),
    ("tredive", 30),
    ("fyrre", 40),
    ("halvtreds", 50),
    ("tres", 60),
    ("halvfjerds", 70),
    ("firs", 80),
    ("halvfems", 90),
    ("hundrede", 100),
    // Norwegian, where it differs from Danish
    ("åtte", 8),
    ("tjue", 20),
    ("tretti", 30),
    ("førti", 40),
    ("femti", 50),
    ("seksti", 60),
    ("sytti", 70),
    ("åtti", 80),
    ("nitti", 90),
    ("hundre", 100),
];

fn number_word(word: &str, writing: Writing) -> Option<u32> {
    let lower = word.to_lowercase();
    let find = |table: &[(&str, u32)]| table.iter().find(|(w, _)| *w == lower).map(|(_, v)| *v);
    match writing {
        Writing::English => find(ENGLISH_NUMBER_WORDS),
        Writing::Scandinavian => {
            find(SCANDINAVIAN_NUMBER_WORDS).or_else(|| find(ENGLISH_NUMBER_WORDS))
        }
    }
}

/// Numbers written as words ("two years", "tio års", "twenty-five", "fem
/// milliarder kroner"), with any scale and unit after them.
pub(super) fn scan_word_numbers(text: &str, writing: Writing) -> Vec<NumberMention> {
    static WORD: Lazy<Regex> = Lazy::new(|| Regex::new(r"\p{L}+").expect("word pattern"));
    static UNIT_AFTER_HYPHEN: Lazy<Regex> =
        Lazy::new(|| Regex::new(r"^-(\p{L}+)(?-u:\b)").expect("hyphen pattern"));
    let mut mentions: Vec<NumberMention> = Vec::new();
    for word in WORD.find_iter(text) {
        // The "five" of "twenty-five" was read with the "twenty".
        if mentions.last().is_some_and(|m| word.start() < m.end) {
            continue;
        }
        let Some(mut value) = number_word(word.as_str(), writing) else {
            continue;
        };
        let mut end = word.end();
        // "twenty-five"
        if value >= 20 && value % 10 == 0 {
            if let Some(caps) = UNIT_AFTER_HYPHEN.captures(&text[end..]) {
                if let Some(unit) = caps
                    .get(1)
                    .and_then(|m| number_word(m.as_str(), writing))
                    .filter(|u| *u < 10)
                {
                    value += unit;
                    end += caps.get(0).map_or(0, |m| m.end());
                }
            }
        }
        let mut mention = NumberMention {
            start: word.start(),
            end,
            readings: vec![f64::from(value)],
            scale: 1.0,
            currency: None,
            percent: false,
            ordinal: false,
            bare_integer: None,
            grouped: false,
            year_range_end: None,
            decade: false,
        };
        mention.end += read_units(&text[end..], &mut mention);
        mentions.push(mention);
    }
    mentions
}

/// A comparable key for a value: thousandths, so "2,5" and "2.5" agree and
/// float noise from scaling does not matter.
pub(super) fn value_key(value: f64) -> i64 {
    (value * 1000.0).round() as i64
}

/// Values indexed by key, with the currencies written beside them.
pub(super) type ValueIndex = HashMap<i64, Vec<Option<Currency>>>;

/// The numbers a Swedish, Danish or Norwegian `source` writes in digits that
/// `english` does not state, as the source writes them, in source order.
/// The reverse of the fact guard: a translation must keep every figure.
/// A number counts as kept when any of its readings appears in the English
/// with or without its scale ("5 milliarder" = "5 billion" = "5,000
/// million"), as a word ("90" = "ninety"), or as part of a date ("2020-03-03"
/// = "3 March 2020"); a year range needs both ends ("2012-2013" = "2012–13").
pub(super) fn missing_numbers(source: &str, english: &str) -> Vec<String> {
    static DIGITS: Lazy<Regex> = Lazy::new(|| Regex::new(r"\d+").expect("digits pattern"));
    let mut stated: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let mut mentions = scan_digit_numbers(english, Writing::English);
    mentions.extend(scan_word_numbers(english, Writing::English));
    for mention in &mentions {
        for &reading in &mention.readings {
            stated.insert(value_key(reading));
            stated.insert(value_key(reading * mention.scale));
        }
        if let Some(end) = mention.year_range_end {
            stated.insert(value_key(f64::from(end)));
        }
    }
    // Every run of digits on its own too: "2012–13" states 13, "§ 282a" 282.
    for digits in DIGITS.find_iter(english) {
        if let Ok(value) = digits.as_str().parse::<u64>() {
            stated.insert(value_key(value as f64));
        }
    }
    for date in scan_dates(english, Writing::English) {
        stated.insert(value_key(f64::from(date.month)));
        stated.extend(date.days.iter().map(|&d| value_key(f64::from(d))));
        stated.extend(date.year.map(|y| value_key(f64::from(y))));
    }
    let has = |value: f64| stated.contains(&value_key(value));
    let mut missing = Vec::new();
    for mention in scan_digit_numbers(source, Writing::Scandinavian) {
        let mut kept = mention
            .readings
            .iter()
            .any(|&r| has(r) || has(r * mention.scale));
        // A footnote number glued to a year ("20111") still holds the year.
        if let Some(value) = mention
            .bare_integer
            .filter(|v| (10_000..=209_999).contains(v))
        {
            let digits = value.to_string();
            kept |= (digits.starts_with("19") || digits.starts_with("20"))
                && digits[..4].parse::<f64>().is_ok_and(has);
        }
        if let Some(end) = mention.year_range_end {
            kept &= has(f64::from(end)) || has(f64::from(end % 100));
        }
        if !kept {
            missing.push(source[mention.start..mention.end].trim().to_string());
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_number(text: &str, writing: Writing) -> NumberMention {
        let mut found = scan_digit_numbers(text, writing);
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        found.remove(0)
    }

    #[test]
    fn missing_numbers_finds_lost_and_changed_figures_only() {
        let danish =
            "I henhold til § 282 blev der i 2012 afsat 200 mio. EUR (2,5 %) til 90 projekter.";
        let faithful =
            "Under § 282, EUR 200 million (2.5%) was set aside for ninety projects in 2012.";
        assert!(
            missing_numbers(danish, faithful).is_empty(),
            "{:?}",
            missing_numbers(danish, faithful)
        );
        let dropped =
            "Under the section, EUR 200 million (2.5%) was set aside for 90 projects in 2012.";
        assert_eq!(missing_numbers(danish, dropped), vec!["282"]);
        let changed = "Under § 282, EUR 200 million (2.5%) was set aside for 90 projects in 2013.";
        assert_eq!(missing_numbers(danish, changed), vec!["2012"]);
        let fund = "en solidaritetspott på minst 5 milliarder kroner";
        assert!(missing_numbers(fund, "a fund of at least NOK 5,000 million").is_empty());
        assert!(missing_numbers("i perioden 2012-2013", "in 2012–13").is_empty());
        assert_eq!(
            missing_numbers("i perioden 2012-2013", "in 2012"),
            vec!["2012-2013"]
        );
        assert!(missing_numbers("Uppdaterad 2020-03-03", "Updated 3 March 2020").is_empty());
        assert!(missing_numbers(
            "af 18. november 20111 lancerede",
            "of 18 November 2011 launched"
        )
        .is_empty());
        assert!(missing_numbers("1.500 asylsøkere", "1,500 asylum seekers").is_empty());
        assert!(missing_numbers("Regjeringen vil:", "The government will:").is_empty());
    }

    #[test]
    fn scandinavian_grouping_and_decimal_comma() {
        assert_eq!(
            only_number("1 500 personer", Writing::Scandinavian).readings,
            vec![1500.0]
        );
        assert_eq!(
            only_number("1.500 personer", Writing::Scandinavian).readings,
            vec![1500.0, 1.5]
        );
        assert_eq!(
            only_number("5,5 mio. EUR", Writing::Scandinavian).readings,
            vec![5.5]
        );
        assert_eq!(
            only_number("1.500.000 kr", Writing::Scandinavian).readings,
            vec![1_500_000.0]
        );
        assert_eq!(
            only_number("1.500,50 kr", Writing::Scandinavian).readings,
            vec![1500.5]
        );
    }

    #[test]
    fn english_grouping_and_decimal_point() {
        assert_eq!(
            only_number("1,500 people", Writing::English).readings,
            vec![1500.0]
        );
        assert_eq!(
            only_number("1.5 million", Writing::English).readings,
            vec![1.5]
        );
        assert_eq!(
            only_number("2,5 percent", Writing::English).readings,
            vec![2.5]
        );
    }

    #[test]
    fn units_after_and_before_the_number() {
        let amount = only_number("på minst 5 milliarder kroner for", Writing::Scandinavian);
        assert_eq!(
            (amount.scale, amount.currency),
            (1e9, Some(Currency::Crowns))
        );
        let amount = only_number("a fund of NOK 5 billion.", Writing::English);
        assert_eq!((amount.scale, amount.currency), (1e9, Some(Currency::Nok)));
        assert_eq!(
            &"a fund of NOK 5 billion."[amount.start..amount.end],
            "NOK 5 billion"
        );
        let amount = only_number("med mere end 200 mio. EUR i alle", Writing::Scandinavian);
        assert_eq!((amount.scale, amount.currency), (1e6, Some(Currency::Eur)));
        assert!(only_number("60 %", Writing::Scandinavian).percent);
        assert!(only_number("12 procent", Writing::Scandinavian).percent);
        assert!(only_number("12 per cent", Writing::English).percent);
        assert!(only_number("€5bn", Writing::English).is_amount());
    }

    #[test]
    fn years_ranges_decades_and_ordinals() {
        assert_eq!(
            only_number("in 2011 the", Writing::English).as_year(),
            Some(2011)
        );
        assert_eq!(
            only_number("2,011 people", Writing::English).as_year(),
            None
        );
        let range = only_number("in 2012–13", Writing::English);
        assert_eq!(
            (range.as_year(), range.year_range_end),
            (Some(2012), Some(2013))
        );
        assert!(only_number("the 2010s", Writing::English).decade);
        let ordinal = only_number("the 20th meeting", Writing::English);
        assert!(ordinal.ordinal);
        assert_eq!(ordinal.as_year(), None);
    }

    #[test]
    fn spelled_numbers_in_all_languages() {
        let value = |text: &str, writing| {
            scan_word_numbers(text, writing)
                .iter()
                .map(|m| m.readings[0])
                .collect::<Vec<_>>()
        };
        assert_eq!(
            value("efter närmare tio års förhandlingar", Writing::Scandinavian),
            vec![10.0]
        );
        assert_eq!(value("med seks lande", Writing::Scandinavian), vec![6.0]);
        assert_eq!(
            value("after twenty-five years and two days", Writing::English),
            vec![25.0, 2.0]
        );
        assert_eq!(
            value("one of the states", Writing::English),
            Vec::<f64>::new()
        );
        let fund = scan_word_numbers("fem milliarder kroner", Writing::Scandinavian);
        assert_eq!(
            (fund[0].scale, fund[0].currency),
            (1e9, Some(Currency::Crowns))
        );
    }

    #[test]
    fn dates_in_both_writings() {
        let danish = scan_dates(
            "Rådets konklusioner af\n29. maj 20122 bekræftede",
            Writing::Scandinavian,
        );
        assert_eq!(
            (danish[0].days.clone(), danish[0].month, danish[0].year),
            (vec![29], 5, Some(2012))
        );
        let swedish = scan_dates("Rådets möte den 12-13 juni", Writing::Scandinavian);
        assert_eq!(
            (swedish[0].days.clone(), swedish[0].month),
            (vec![12, 13], 6)
        );
        let english = scan_dates(
            "on May 29, 2012 and 12–13 June and in November 2004",
            Writing::English,
        );
        let read: Vec<_> = english
            .iter()
            .map(|d| (d.days.clone(), d.month, d.year))
            .collect();
        assert_eq!(
            read,
            vec![
                (vec![29], 5, Some(2012)),
                (vec![12, 13], 6, None),
                (vec![], 11, Some(2004))
            ]
        );
        let iso = scan_dates("Sidan senast uppdaterad: 2020-03-03", Writing::Scandinavian);
        assert_eq!(
            (iso[0].days.clone(), iso[0].month, iso[0].year),
            (vec![3], 3, Some(2020))
        );
        // "may" as a verb is not a month in English.
        assert!(scan_dates("the 2 may apply", Writing::English).is_empty());
    }

    #[test]
    fn month_and_year_near_each_other() {
        let pairs =
            month_year_neighbours("afsluttet i november 2013, og indledt i januar-marts 2014");
        assert!(pairs.contains(&(11, 2013)));
        assert!(pairs.contains(&(1, 2014)) && pairs.contains(&(3, 2014)));
    }
}
