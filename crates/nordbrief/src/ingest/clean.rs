//! Cleaning: removes what is not the document's content (conversion
//! markers, screen-reader and navigation text, page furniture) and repairs
//! what text extraction broke (wrapped lines, hyphenation, footnote digits
//! glued to words), conservatively: a rule fires only on a recognised
//! pattern, so a content sentence is never dropped. Every rule that fires is
//! counted by name.

use std::collections::BTreeMap;

use once_cell::sync::Lazy;
use regex::Regex;

use super::document::{Footnote, ParagraphKind};

/// A block of text (paragraph, heading or list item) before segmentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub kind: ParagraphKind,
    pub text: String,
}

impl Block {
    pub fn new(kind: ParagraphKind, text: impl Into<String>) -> Block {
        Block {
            kind,
            text: text.into(),
        }
    }
}

/// The cleaner's output.
#[derive(Debug, Clone, Default)]
pub struct Cleaned {
    pub blocks: Vec<Block>,
    pub footnotes: Vec<Footnote>,
    /// ISO date (YYYY-MM-DD) from a "last updated"/"published" line.
    pub document_date: Option<String>,
    /// Rule name → how many times it fired.
    pub rules_fired: BTreeMap<String, usize>,
    /// For each footnote reference found in the text: (block index, footnote number).
    pub footnote_references: Vec<(usize, u32)>,
}

/// How plain text was laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Decide from the text: hard-wrapped text (fixed line width, as
    /// exported from PDF) is re-joined; otherwise every line is a block.
    Auto,
    /// Text extracted from a PDF: pages separated by form feeds, always re-joined.
    Pdf,
}

/// Rule names, as recorded in `rules_fired`.
pub mod rule {
    pub const CONVERSION_MARKER: &str = "conversion_marker";
    pub const LINK_ANNOTATION: &str = "link_annotation";
    pub const NAVIGATION: &str = "navigation_text";
    pub const FEEDBACK_PROMPT: &str = "feedback_prompt";
    pub const COOKIE_PROMPT: &str = "cookie_prompt";
    pub const SHARE_PROMPT: &str = "share_prompt";
    pub const DOCUMENT_DATE: &str = "document_date";
    pub const MARKDOWN_ESCAPE: &str = "markdown_escape";
    pub const MARKDOWN_HEADING: &str = "markdown_heading";
    pub const MARKDOWN_LINK: &str = "markdown_link";
    pub const MARKDOWN_EMPHASIS: &str = "markdown_emphasis";
    pub const LINE_JOIN: &str = "line_join";
    pub const DEHYPHENATION: &str = "dehyphenation";
    pub const PAGE_NUMBER: &str = "page_number";
    pub const PAGE_HEADER: &str = "page_header_footer";
    pub const FOOTNOTE_BODY: &str = "footnote_body";
    pub const FOOTNOTE_REFERENCE: &str = "footnote_reference";
    pub const LIST_ITEM: &str = "list_item";
    pub const HEADING: &str = "heading";
    pub const WHITESPACE: &str = "whitespace";
    pub const INVISIBLE_CHARACTER: &str = "invisible_character";
}

#[derive(Debug, Default)]
struct Rules(BTreeMap<String, usize>);

impl Rules {
    fn fire(&mut self, name: &str, times: usize) {
        if times > 0 {
            *self.0.entry(name.to_string()).or_insert(0) += times;
        }
    }
}

/// Cleans plain text (.txt, .md, stdin, or text extracted from a PDF).
pub fn clean_plain_text(text: &str, layout: Layout) -> Cleaned {
    let mut rules = Rules::default();
    let text = normalize_characters(text, &mut rules);
    let text = remove_conversion_markers(&text, &mut rules);
    let text = remove_link_annotations(&text, &mut rules);
    let text = unescape_markdown(&text, &mut rules);

    let pages: Vec<Vec<&str>> = text
        .split('\u{c}')
        .map(|p| p.split('\n').collect())
        .collect();
    let all_lines: Vec<&str> = pages.iter().flatten().copied().collect();
    let reflow = layout == Layout::Pdf || pages.len() > 1 || looks_hard_wrapped(&all_lines);

    let mut footnotes = Vec::new();
    let blocks = if reflow {
        let pages = remove_page_headers(pages, &mut rules);
        let items = page_items(&pages, &mut footnotes, &mut rules);
        reflow_items(&items, &text, &mut rules)
    } else {
        all_lines
            .iter()
            .filter(|line| !line.trim().is_empty())
            .map(|line| Block::new(ParagraphKind::Text, *line))
            .collect()
    };
    finish(blocks, footnotes, true, rules)
}

/// Cleans blocks from a structured extractor (HTML, DOCX), whose kinds are
/// already known.
pub fn clean_blocks(blocks: Vec<Block>) -> Cleaned {
    let mut rules = Rules::default();
    let blocks = blocks
        .into_iter()
        .map(|block| {
            let text = normalize_characters(&block.text, &mut rules);
            let text = remove_conversion_markers(&text, &mut rules);
            let text = remove_link_annotations(&text, &mut rules);
            Block::new(block.kind, text)
        })
        .collect();
    finish(blocks, Vec::new(), false, rules)
}

fn finish(
    blocks: Vec<Block>,
    footnotes: Vec<Footnote>,
    infer_headings: bool,
    mut rules: Rules,
) -> Cleaned {
    let mut document_date = None;
    let mut kept = Vec::with_capacity(blocks.len());
    for block in blocks {
        if let Some(block) = clean_block(block, infer_headings, &mut document_date, &mut rules) {
            kept.push(block);
        }
    }
    let footnote_references = split_footnote_references(&mut kept, &footnotes, &mut rules);
    Cleaned {
        blocks: kept,
        footnotes,
        document_date,
        rules_fired: rules.0,
        footnote_references,
    }
}

// ---------------------------------------------------------------------------
// Character level

/// Unifies line ends, turns exotic spaces into spaces, and drops invisible
/// characters (soft hyphens, zero-width spaces, stray controls) that would
/// otherwise split words for the model.
fn normalize_characters(text: &str, rules: &mut Rules) -> String {
    let mut out = String::with_capacity(text.len());
    let mut invisible = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' | '\u{c}' => out.push(c),
            '\u{2028}' | '\u{2029}' | '\u{85}' => out.push('\n'),
            '\u{ad}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' => {
                invisible += 1
            }
            '\t' => out.push(' '),
            c if c.is_control() => invisible += 1,
            c if c.is_whitespace() => out.push(' '),
            c => out.push(c),
        }
    }
    rules.fire(rule::INVISIBLE_CHARACTER, invisible);
    out
}

static CONVERSION_MARKER: Lazy<Regex> = Lazy::new(|| {
    // "[bookmark: bRubrik]" and its kin, left by document converters.
    Regex::new(r"(?i)\[(?:bookmark|anchor|pagebreak|page break)(?::[^\]\n]{0,200})?\]")
        .expect("valid regex")
});

fn remove_conversion_markers(text: &str, rules: &mut Rules) -> String {
    let count = CONVERSION_MARKER.find_iter(text).count();
    if count == 0 {
        return text.to_string();
    }
    rules.fire(rule::CONVERSION_MARKER, count);
    CONVERSION_MARKER.replace_all(text, "").into_owned()
}

/// Screen-reader annotations of links, often glued to the link text:
/// "UNHCRlänk till annan webbplats, öppnas i nytt fönster (FN:s …".
const LINK_ANNOTATION_PHRASES: &str = concat!(
    // Swedish
    r"länk till (?:en )?annan webbplats,? (?:som )?öppnas i (?:ett )?nytt fönster",
    r"|länk till annan webbplats",
    r"|(?:extern länk,? )?öppnas i (?:ett )?nytt fönster",
    // Danish
    r"|link til (?:en )?anden (?:hjemmeside|webside|side),? (?:der )?åbner i (?:et )?nyt vindue",
    r"|(?:linket )?åbner i (?:et )?nyt vindue",
    // Norwegian bokmål and nynorsk
    r"|lenke til (?:et )?annet nettsted,? (?:som )?åpnes i (?:et )?nytt vindu",
    r"|lenkje til (?:ei |ein )?anna nettstad,? (?:som )?opnast i (?:eit )?nytt vindauge",
    r"|(?:lenken )?åpnes i (?:et )?nytt vindu",
    r"|(?:lenkja )?opnast i (?:eit )?nytt vindauge",
    // English
    r"|link to (?:an)?other website,? opens in a new (?:window|tab)",
    r"|opens in a new (?:window|tab)",
);

static LINK_ANNOTATION: Lazy<Regex> = Lazy::new(|| {
    // Either the whole annotation in parentheses, or the bare phrase.
    Regex::new(&format!(
        r"(?i)\s?\((?:{LINK_ANNOTATION_PHRASES})\)|(?:{LINK_ANNOTATION_PHRASES})"
    ))
    .expect("valid regex")
});

fn remove_link_annotations(text: &str, rules: &mut Rules) -> String {
    let mut count = 0;
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for found in LINK_ANNOTATION.find_iter(text) {
        count += 1;
        out.push_str(&text[last..found.start()]);
        // Keep words apart ("Conference) som"), but not before punctuation.
        let next = text[found.end()..].chars().next();
        let before_is_space = out.ends_with(' ') || out.ends_with('\n') || out.is_empty();
        let needs_space = !before_is_space
            && !matches!(
                next,
                None | Some(' ' | '\n' | '.' | ',' | ';' | ':' | ')' | '!' | '?')
            );
        if needs_space {
            out.push(' ');
        }
        last = found.end();
    }
    if count == 0 {
        return text.to_string();
    }
    out.push_str(&text[last..]);
    rules.fire(rule::LINK_ANNOTATION, count);
    out
}

static MARKDOWN_ESCAPE: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"\\([!-/:-@\[-`{-~])").expect("valid regex"));

/// `Migrations\-` → `Migrations-`: CommonMark backslash escapes of ASCII
/// punctuation, left in text exported from Markdown.
fn unescape_markdown(text: &str, rules: &mut Rules) -> String {
    let count = MARKDOWN_ESCAPE.find_iter(text).count();
    if count == 0 {
        return text.to_string();
    }
    rules.fire(rule::MARKDOWN_ESCAPE, count);
    MARKDOWN_ESCAPE.replace_all(text, "$1").into_owned()
}

// ---------------------------------------------------------------------------
// Line level: layout detection, page furniture, footnotes, re-joining

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn ends_sentence(line: &str) -> bool {
    matches!(
        line.trim_end().chars().last(),
        Some('.' | '!' | '?' | ':' | ';' | '"' | '”' | '»')
    )
}

fn starts_with_bullet(line: &str) -> bool {
    BULLET.is_match(line.trim_start())
}

/// Hard-wrapped text has many lines that stop near one width without
/// ending a sentence, followed directly by more text.
fn looks_hard_wrapped(lines: &[&str]) -> bool {
    let lengths: Vec<usize> = lines
        .iter()
        .filter(|l| !is_blank(l))
        .map(|l| l.trim().chars().count())
        .collect();
    if lengths.len() < 6 {
        return false;
    }
    let width = percentile(&lengths, 90);
    if !(30..=200).contains(&width) {
        return false;
    }
    let wrapped = lines
        .windows(2)
        .filter(|pair| {
            let (line, next) = (pair[0].trim(), pair[1].trim());
            !line.is_empty()
                && !next.is_empty()
                && line.chars().count() * 10 >= width * 6
                && !ends_sentence(line)
                && !starts_with_bullet(next)
        })
        .count();
    wrapped * 4 >= lengths.len()
}

fn percentile(values: &[usize], pct: usize) -> usize {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let index = (sorted.len().saturating_sub(1) * pct) / 100;
    sorted.get(index).copied().unwrap_or(0)
}

static PAGE_NUMBER: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)^\s*[-–—]?\s*(?:(?:side|sida|sidan|page|s\.)\s*)?\d{1,3}(?:\s*(?:/|av|af|of)\s*\d{1,4})?\s*[-–—]?\s*$")
        .expect("valid regex")
});

static FOOTNOTE_SEPARATOR: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^(?:\s{20,}|\s*[_\-—–]{8,}\s*)$").expect("valid regex"));

static FOOTNOTE_START: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^(\d{1,3})\s+(\S.*)$").expect("valid regex"));

/// Removes running headers and footers: short lines that recur at the top
/// or bottom of at least three pages and half of all pages (page numbers
/// inside them ignored).
fn remove_page_headers<'a>(pages: Vec<Vec<&'a str>>, rules: &mut Rules) -> Vec<Vec<&'a str>> {
    if pages.len() < 3 {
        return pages;
    }
    let key = |line: &str| -> String {
        line.trim()
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect::<String>()
            .to_lowercase()
    };
    let edges = |page: &[&'a str]| -> Vec<usize> {
        let content: Vec<usize> = (0..page.len()).filter(|&i| !is_blank(page[i])).collect();
        // Two lines at each edge (header + page number), one on short pages.
        let depth = if content.len() >= 6 { 2 } else { 1 };
        let mut edge: Vec<usize> = content.iter().take(depth).copied().collect();
        edge.extend(content.iter().rev().take(depth));
        edge.sort_unstable();
        edge.dedup();
        edge
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for page in &pages {
        let mut seen: Vec<String> = edges(page).into_iter().map(|i| key(page[i])).collect();
        seen.sort();
        seen.dedup();
        for k in seen {
            *counts.entry(k).or_insert(0) += 1;
        }
    }
    let threshold = 3.max(pages.len().div_ceil(2));
    let repeated: Vec<String> = counts
        .into_iter()
        .filter(|(k, n)| *n >= threshold && k.chars().count() <= 100)
        .map(|(k, _)| k)
        .collect();
    if repeated.is_empty() {
        return pages;
    }
    let mut removed = 0;
    let pages = pages
        .into_iter()
        .map(|page| {
            let edge = edges(&page);
            page.iter()
                .enumerate()
                .filter(|(i, line)| {
                    let drop = edge.contains(i) && repeated.contains(&key(line));
                    removed += usize::from(drop);
                    !drop
                })
                .map(|(_, line)| *line)
                .collect()
        })
        .collect();
    rules.fire(rule::PAGE_HEADER, removed);
    pages
}

#[derive(Debug, Clone, PartialEq)]
enum Item {
    /// A text line, trimmed; `bare_hyphen` when the raw line ended in a
    /// hyphen with nothing after it (a possible word break).
    /// `indented` when the raw line started with white space (a first-line
    /// indent, or the first line of a new page in some exports).
    Text {
        line: String,
        bare_hyphen: bool,
        indented: bool,
    },
    Blank,
    PageBreak,
}

/// Turns page lines into items, taking out footnote blocks and page numbers.
fn page_items(pages: &[Vec<&str>], footnotes: &mut Vec<Footnote>, rules: &mut Rules) -> Vec<Item> {
    let mut items = Vec::new();
    for (page_index, page) in pages.iter().enumerate() {
        if page_index > 0 {
            items.push(Item::PageBreak);
        }
        let mut i = 0;
        while i < page.len() {
            let line = page[i];
            if FOOTNOTE_SEPARATOR.is_match(line) {
                let (found, end) = parse_footnote_block(page, i + 1);
                if !found.is_empty() {
                    rules.fire(rule::FOOTNOTE_BODY, found.len());
                    footnotes.extend(found);
                    items.push(Item::PageBreak);
                    i = end;
                    continue;
                }
            }
            if is_blank(line) {
                items.push(Item::Blank);
            } else if PAGE_NUMBER.is_match(line)
                && (i == 0 || is_blank(page[i - 1]))
                && (i + 1 == page.len() || is_blank(page[i + 1]))
            {
                rules.fire(rule::PAGE_NUMBER, 1);
                items.push(Item::PageBreak);
            } else {
                items.push(Item::Text {
                    line: line.trim().to_string(),
                    bare_hyphen: line.ends_with('-') && !line.ends_with("--"),
                    indented: line.starts_with(char::is_whitespace),
                });
            }
            i += 1;
        }
    }
    items
}

/// Reads footnotes ("1 KOM(2011) 743.") starting at `start`, numbered one
/// after another; continuation lines join the footnote above. The block
/// ends at an indented line (the next page's first line), a page number,
/// or a blank line not followed by the next footnote.
fn parse_footnote_block(lines: &[&str], start: usize) -> (Vec<Footnote>, usize) {
    let mut footnotes: Vec<Footnote> = Vec::new();
    let mut i = start;
    while i < lines.len() && is_blank(lines[i]) {
        i += 1;
    }
    while i < lines.len() {
        let line = lines[i];
        let expected = footnotes.last().map(|f| f.number + 1);
        if is_blank(line) {
            let next = (i..lines.len()).find(|&j| !is_blank(lines[j]));
            match next {
                Some(j) if footnote_start(lines[j]).is_some_and(|(n, _)| Some(n) == expected) => {
                    i = j;
                    continue;
                }
                _ => break,
            }
        }
        if let Some((number, text)) = footnote_start(line) {
            if expected.is_none() || Some(number) == expected {
                footnotes.push(Footnote {
                    number,
                    text: text.trim().to_string(),
                    paragraph: None,
                });
                i += 1;
                continue;
            }
        }
        if footnotes.is_empty()
            || line.starts_with(char::is_whitespace)
            || PAGE_NUMBER.is_match(line)
        {
            break;
        }
        let last = footnotes.last_mut().expect("checked non-empty");
        last.text.push(' ');
        last.text.push_str(line.trim());
        i += 1;
    }
    (footnotes, i)
}

fn footnote_start(line: &str) -> Option<(u32, &str)> {
    let captures = FOOTNOTE_START.captures(line)?;
    let number = captures.get(1)?.as_str().parse().ok()?;
    Some((number, captures.get(2)?.as_str()))
}

/// Re-joins wrapped lines into paragraphs. Runs of blank lines end a
/// paragraph; a page break (footnotes, page number, form feed) ends it
/// only if the next page does not continue the sentence.
fn reflow_items(items: &[Item], whole_text: &str, rules: &mut Rules) -> Vec<Block> {
    let hyphenated = HyphenatedWords::new(whole_text);
    let lengths: Vec<usize> = items
        .iter()
        .filter_map(|item| match item {
            Item::Text { line, .. } => Some(line.chars().count()),
            _ => None,
        })
        .collect();
    let width = percentile(&lengths, 90).max(1);

    let mut blocks: Vec<Block> = Vec::new();
    let mut current: Option<(String, bool, String)> = None; // (text, last bare hyphen, last line)
    let mut gap: Option<Item> = None; // Blank or PageBreak seen since the last line
    for item in items {
        match item {
            Item::Blank => {
                if gap.is_none() {
                    gap = Some(Item::Blank);
                }
            }
            Item::PageBreak => gap = Some(Item::PageBreak),
            Item::Text {
                line,
                bare_hyphen,
                indented,
            } => {
                let boundary = gap.take();
                let joined = match current.as_mut() {
                    Some((text, hyphen, previous)) => {
                        let join = match boundary {
                            // An indented line after a finished sentence starts a paragraph.
                            None if *indented && ends_sentence(previous) => false,
                            None => should_join(previous, line, width, false),
                            Some(Item::PageBreak) => should_join(previous, line, width, true),
                            _ => false,
                        };
                        if join {
                            append_line(text, *hyphen, line, &hyphenated, rules);
                            rules.fire(rule::LINE_JOIN, 1);
                            *hyphen = *bare_hyphen;
                            *previous = line.clone();
                        }
                        join
                    }
                    None => false,
                };
                if !joined {
                    if let Some((text, _, _)) = current.take() {
                        blocks.push(Block::new(ParagraphKind::Text, text));
                    }
                    current = Some((line.clone(), *bare_hyphen, line.clone()));
                }
            }
        }
    }
    if let Some((text, _, _)) = current {
        blocks.push(Block::new(ParagraphKind::Text, text));
    }
    blocks
}

fn is_all_caps(line: &str) -> bool {
    line.chars().filter(|c| c.is_alphabetic()).count() >= 3
        && !line.chars().any(|c| c.is_lowercase())
}

fn should_join(previous: &str, next: &str, width: usize, across_page: bool) -> bool {
    if !across_page
        && is_all_caps(previous)
        && is_all_caps(next)
        && !ends_sentence(previous)
        && !starts_with_bullet(next)
    {
        // A capitalised title wrapped over two lines.
        return true;
    }
    if starts_with_bullet(next)
        || next.starts_with('#')
        || previous.starts_with('#')
        || NUMBERED_HEADING.is_match(previous)
        || (NUMBERED_HEADING.is_match(next) && ends_sentence(previous))
    {
        return false;
    }
    if previous.ends_with('-')
        && next.starts_with(char::is_alphanumeric)
        && previous.chars().count() > 1
    {
        // "EU-" / "aktører", "2012-" / "2013": the word continues.
        return true;
    }
    let previous_full = previous.chars().count() * 100 >= width * 65;
    let next_lowercase = next.chars().next().is_some_and(|c| c.is_lowercase());
    let previous_open = !ends_sentence(previous) || previous.ends_with('-');
    if next_lowercase && (previous_full || previous_open) {
        return true;
    }
    if across_page {
        // A new page starting with a capital after an unfinished line is
        // still the same sentence only if the line was cut at full width.
        return previous_full && previous_open && !next.starts_with(char::is_numeric);
    }
    previous_full
}

/// Lowercase words written with an inner hyphen somewhere in the text
/// ("e-post"), built once so that checking a line-end hyphen stays cheap.
struct HyphenatedWords(std::collections::HashSet<String>);

impl HyphenatedWords {
    fn new(text: &str) -> HyphenatedWords {
        static HYPHENATED: Lazy<Regex> =
            Lazy::new(|| Regex::new(r"\p{Ll}+-\p{Ll}+").expect("valid regex"));
        HyphenatedWords(
            HYPHENATED
                .find_iter(text)
                .map(|m| m.as_str().to_string())
                .collect(),
        )
    }

    fn contains(&self, before: &str, after: &str) -> bool {
        self.0.contains(&format!("{before}-{after}"))
    }
}

const SUSPENDED_COMPOUND_LINKS: &[&str] = &[
    "och",
    "og",
    "eller",
    "samt",
    "and",
    "or",
    "und",
    "resp.",
    "respektive",
    "till",
    "til",
    "to",
];

/// Appends `line` to `text`. A line-end hyphen is a word break only when a
/// lowercase word was cut and the hyphenated spelling does not occur
/// elsewhere in the document ("migra-/tion" → "migration"); "EU-/aktører"
/// and "2012-/2013" keep their hyphen, and "migrations-/og" (a suspended
/// compound) keeps hyphen and space.
fn append_line(
    text: &mut String,
    bare_hyphen: bool,
    line: &str,
    hyphenated: &HyphenatedWords,
    rules: &mut Rules,
) {
    if !text.ends_with('-') {
        text.push(' ');
        text.push_str(line);
        return;
    }
    let next_word: String = line
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '.')
        .collect();
    if SUSPENDED_COMPOUND_LINKS.contains(&next_word.to_lowercase().as_str()) {
        text.push(' ');
        text.push_str(line);
        return;
    }
    if !bare_hyphen {
        text.push(' ');
        text.push_str(line);
        return;
    }
    let fragment: String = text[..text.len() - 1]
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric())
        .collect::<Vec<char>>()
        .into_iter()
        .rev()
        .collect();
    let next_core: String = next_word.trim_end_matches('.').to_string();
    let is_break = fragment.chars().count() >= 2
        && fragment.chars().all(|c| c.is_lowercase())
        && next_core.chars().next().is_some_and(|c| c.is_lowercase())
        && !hyphenated.contains(&fragment, &next_core);
    if is_break {
        text.pop();
        rules.fire(rule::DEHYPHENATION, 1);
    }
    text.push_str(line);
}

// ---------------------------------------------------------------------------
// Block level

static BULLET: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^(?:[•·▪◦●‣∙○■□➢►–—]|[-*+](?:\s|$))\s*").expect("valid regex"));

static MARKDOWN_HEADING: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^#{1,6}\s+(.*?)(?:\s+#+)?\s*$").expect("valid regex"));

static MARKDOWN_LINK: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"!?\[([^\[\]\n]*)\]\([^()\s]*(?:\s+[^()]*)?\)").expect("valid regex"));

static MARKDOWN_EMPHASIS: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"\*\*([^*\n]+)\*\*|__([^_\n]+)__").expect("valid regex"));

static NUMBERED_HEADING: Lazy<Regex> = Lazy::new(|| {
    // "1. INDLEDNING", "2.1. Udvidelseslande", "5.1.1. Migration, mobilitet …"
    Regex::new(r"^\d{1,2}(?:\.\d{1,2}){0,3}\.?\s+\p{Lu}[^.!?;]{0,100}$").expect("valid regex")
});

static NAVIGATION: Lazy<Regex> = Lazy::new(|| {
    Regex::new(concat!(
        r"(?i)^(?:",
        r"(?:tilbage |tilbake |tillbaka |gå |gå tilbake |gå tilbage )?(?:til|till|to) (?:forsiden|framsida|framsidan|startsidan|startsida|hovedsiden|forsida|toppen|top|home ?page)",
        r"|back to (?:top|home|the front page)",
        r"|skip to (?:main )?content",
        r"|(?:hoppa|gå|spring|hopp) (?:direkt |direkte )?(?:till|til) (?:huvudinnehåll(?:et)?|innehåll(?:et)?|hovedinnhold(?:et)?|innhold(?:et)?|hovedindhold(?:et)?|indhold(?:et)?|hovudinnhald(?:et)?)",
        r"|(?:du er her|du är här|you are here)\s*:.{0,200}",
        r"|(?:meny|menu|søg|søk|sök|search|skriv ut|udskriv|print|lukk|luk|stäng|close)",
        r")[.!]?$"
    ))
    .expect("valid regex")
});

static FEEDBACK: Lazy<Regex> = Lazy::new(|| {
    Regex::new(concat!(
        r"(?i)^(?:",
        r"fick du (?:hjälp|svar) (?:av|på) (?:informationen|din fråga)(?: på (?:den här|denna) sidan?)?",
        r"|hjälpte informationen (?:på (?:den här|denna) sidan )?dig",
        r"|var (?:informationen på )?(?:den här|denna) sida(?:n)? (?:till hjälp|användbar)",
        r"|var (?:denne|denna|denne her) side(?:n)? (?:nyttig|brugbar|til hjælp)",
        r"|fandt du (?:det,? )?(?:du søgte|du ledte efter|hvad du søgte)",
        r"|fant du (?:det )?(?:du lette etter|det du leitte etter|svar på det du lurte på)",
        r"|fann du (?:det )?du leita etter",
        r"|(?:hjalp|hjelpte) (?:denne siden|informasjonen på denne siden) deg",
        r"|er du tilfreds med (?:informationen på )?(?:siden|denne side)",
        r"|var (?:denne sida|denne sidan|informasjonen) nyttig",
        r"|was this (?:page|information) helpful",
        r"|did you find what you were looking for",
        r"|(?:ja|yes)\s*/?\s*(?:nej|nei|no)",
        r")\s*\??$"
    ))
    .expect("valid regex")
});

static SHARE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(concat!(
        r"(?i)^(?:del|dela|share|tips en ven|tipsa en vän|tips ein ven|tips en venn)",
        r"(?:\s+(?:på|on|via|denne side|denna sida|siden|sidan|sida|this page|artiklen|artikeln|artikkelen|artikkelen)\b)*",
        r"(?:[\s,:|]+(?:facebook|twitter|x|linkedin|e-?post|e-?mail|mail|messenger|whatsapp|kopier lenke|kopiér link|kopiera länk|copy link))*",
        r"\s*[.!:]?$"
    ))
    .expect("valid regex")
});

static COOKIE_WORD: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)\b(?:cookies?|kakor|kaka|informasjonskapsl(?:ar|er)|infokapslar)\b")
        .expect("valid regex")
});

static COOKIE_ACTION: Lazy<Regex> = Lazy::new(|| {
    // Banner wording: the site speaking ("vi använder") or asking for consent.
    Regex::new(concat!(
        r"(?i)\b(?:vi använder|vi bruger|vi bruker|vi nyttar|we use|(?:denna|den här) webbplats(?:en)? använder|(?:denne|dette) (?:hjemmeside|nettsted|nettstaden?) (?:bruger|bruker|nyttar)|this (?:web)?site uses",
        r"|godkänn|acceptera|accepter|acceptér|godta|tillad|tillat|tillåt|accept|avvisa|afvis|avvis|reject",
        r"|cookieinställningar|cookieindstillinger|innstillinger for (?:informasjonskapsler|cookies)|cookie settings|hantera kakor|administrer cookies)\b"
    ))
    .expect("valid regex")
});

/// A cookie notice: a short block naming cookies in banner wording. Long
/// blocks are kept: they may discuss cookies as a topic.
fn is_cookie_prompt(text: &str) -> bool {
    text.split_whitespace().count() <= 50
        && COOKIE_WORD.is_match(text)
        && COOKIE_ACTION.is_match(text)
}

static DATE_LINE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(concat!(
        r"(?i)^(?:(?:sidan|siden|sida|sidens|page)\s+)?",
        r"(?:(?:senast|sist|senest|sidst|last)\s+)?",
        r"(?:uppdaterad|uppdaterades|oppdatert|oppdatera|opdateret|ændret|endret|endra|publicerad|publicerades|publiceret|publisert|updated|published|modified)",
        r"(?:\s+(?:den|d\.))?\s*:?\s*(.{6,40}?)\.?$"
    ))
    .expect("valid regex")
});

static ISO_DATE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)?$")
        .expect("valid regex")
});
static DOTTED_DATE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})(?:,?\s+(?:kl\.?\s*)?\d{1,2}[:.]\d{2})?$")
        .expect("valid regex")
});
static NAMED_DATE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)^(\d{1,2})\.?\s+(\p{L}+)\.?\s+(\d{4})(?:,?\s+(?:kl\.?\s*)?\d{1,2}[:.]\d{2})?$")
        .expect("valid regex")
});

/// Parses the date forms found on Scandinavian pages into YYYY-MM-DD.
pub fn parse_date(text: &str) -> Option<String> {
    let text = text.trim();
    let (year, month, day): (u32, u32, u32) = if let Some(c) = ISO_DATE.captures(text) {
        (c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?)
    } else if let Some(c) = DOTTED_DATE.captures(text) {
        (c[3].parse().ok()?, c[2].parse().ok()?, c[1].parse().ok()?)
    } else if let Some(c) = NAMED_DATE.captures(text) {
        (c[3].parse().ok()?, month_number(&c[2])?, c[1].parse().ok()?)
    } else {
        return None;
    };
    let valid =
        (1900..=2100).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day);
    valid.then(|| format!("{year:04}-{month:02}-{day:02}"))
}

fn month_number(name: &str) -> Option<u32> {
    let name = name.to_lowercase();
    const MONTHS: [&[&str]; 12] = [
        &["januari", "januar", "january", "jan"],
        &["februari", "februar", "february", "feb"],
        &["mars", "marts", "march", "mar"],
        &["april", "apr"],
        &["maj", "mai", "may"],
        &["juni", "june", "jun"],
        &["juli", "july", "jul"],
        &["augusti", "august", "aug"],
        &["september", "sept", "sep"],
        &["oktober", "october", "okt", "oct"],
        &["november", "nov"],
        &["december", "desember", "dec", "des"],
    ];
    MONTHS
        .iter()
        .position(|names| names.contains(&name.as_str()))
        .map(|i| i as u32 + 1)
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cleans one block; None when the whole block is page furniture.
fn clean_block(
    block: Block,
    infer_headings: bool,
    document_date: &mut Option<String>,
    rules: &mut Rules,
) -> Option<Block> {
    let mut text = collapse_whitespace(&block.text);
    if text != block.text {
        rules.fire(rule::WHITESPACE, 1);
    }
    if text.is_empty() {
        return None;
    }
    if NAVIGATION.is_match(&text) {
        rules.fire(rule::NAVIGATION, 1);
        return None;
    }
    if FEEDBACK.is_match(&text) {
        rules.fire(rule::FEEDBACK_PROMPT, 1);
        return None;
    }
    if SHARE.is_match(&text) {
        rules.fire(rule::SHARE_PROMPT, 1);
        return None;
    }
    if is_cookie_prompt(&text) {
        rules.fire(rule::COOKIE_PROMPT, 1);
        return None;
    }
    if let Some(date) = DATE_LINE.captures(&text).and_then(|c| parse_date(&c[1])) {
        rules.fire(rule::DOCUMENT_DATE, 1);
        if document_date.is_none() {
            *document_date = Some(date);
        }
        return None;
    }

    let mut kind = block.kind;
    if let Some(captures) = MARKDOWN_HEADING.captures(&text) {
        text = captures[1].to_string();
        kind = ParagraphKind::Heading;
        rules.fire(rule::MARKDOWN_HEADING, 1);
    } else if kind != ParagraphKind::Heading {
        if let Some(title) = dash_framed_title(&text) {
            text = title;
            kind = ParagraphKind::Heading;
            rules.fire(rule::HEADING, 1);
        } else if let Some(found) = BULLET.find(&text) {
            let rest = text[found.end()..].trim().to_string();
            if !rest.is_empty() {
                text = rest;
                kind = ParagraphKind::ListItem;
                rules.fire(rule::LIST_ITEM, 1);
            }
        }
    }
    let links = MARKDOWN_LINK.find_iter(&text).count();
    if links > 0 {
        text = MARKDOWN_LINK.replace_all(&text, "$1").into_owned();
        rules.fire(rule::MARKDOWN_LINK, links);
    }
    let emphasis = MARKDOWN_EMPHASIS.find_iter(&text).count();
    if emphasis > 0 {
        text = MARKDOWN_EMPHASIS.replace_all(&text, "$1$2").into_owned();
        rules.fire(rule::MARKDOWN_EMPHASIS, emphasis);
    }
    let text = collapse_whitespace(&text);
    if text.is_empty() {
        return None;
    }
    if infer_headings && kind == ParagraphKind::Text && looks_like_heading(&text) {
        kind = ParagraphKind::Heading;
        rules.fire(rule::HEADING, 1);
    }
    Some(Block::new(kind, text))
}

/// "– Mobilitetspartnerskaber –": a title framed by dashes, not a list item.
fn dash_framed_title(text: &str) -> Option<String> {
    let inner = text
        .strip_prefix(['–', '—', '-'])?
        .strip_suffix(['–', '—', '-'])?;
    let inner = inner.trim();
    (inner.len() < text.len() - 2
        && !inner.is_empty()
        && inner.split_whitespace().count() <= 12
        && text.contains(' '))
    .then(|| inner.to_string())
}

/// A short line standing alone, without closing punctuation, starting with
/// a capital or a section number, and not a table row ("Marokko X").
fn looks_like_heading(text: &str) -> bool {
    if NUMBERED_HEADING.is_match(text) {
        return true;
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let all_caps = letters > 0 && !text.chars().any(|c| c.is_lowercase());
    let max_words = if all_caps { 20 } else { 12 };
    let first = text.chars().next();
    let last_word = words.last().copied().unwrap_or("");
    words.len() <= max_words
        && text.chars().count() <= 160
        && letters >= 3
        && first.is_some_and(|c| c.is_uppercase())
        && !matches!(text.chars().last(), Some('.' | ',' | ';' | ':' | '!' | '?'))
        && (last_word.chars().count() >= 2 || last_word.chars().all(|c| c.is_ascii_digit()))
}

// ---------------------------------------------------------------------------
// Footnote references

/// Splits footnote reference digits from the word or year they were glued
/// to ("november 20111" → "november 2011", footnote 1). A candidate is
/// split only when its number is the next footnote (or one of the next few,
/// allowing for a missed reference) in the order the footnote bodies were
/// found, so real numbers stay whole.
fn split_footnote_references(
    blocks: &mut [Block],
    footnotes: &[Footnote],
    rules: &mut Rules,
) -> Vec<(usize, u32)> {
    const LOOKAHEAD: usize = 4;
    let mut references = Vec::new();
    if footnotes.is_empty() {
        return references;
    }
    let mut cursor = 0;
    for (block_index, block) in blocks.iter_mut().enumerate() {
        let mut out = String::with_capacity(block.text.len());
        let mut changed = false;
        for (i, token) in block.text.split(' ').enumerate() {
            if i > 0 {
                out.push(' ');
            }
            let core_end = token
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_alphanumeric())
                .map(|(i, c)| i + c.len_utf8())
                .unwrap_or(0);
            let (core, tail) = token.split_at(core_end);
            let window = &footnotes[cursor..footnotes.len().min(cursor + LOOKAHEAD)];
            match footnote_candidate(core, window) {
                Some((kept, offset, number)) => {
                    out.push_str(kept);
                    out.push_str(tail);
                    references.push((block_index, number));
                    cursor += offset + 1;
                    changed = true;
                }
                None => out.push_str(token),
            }
        }
        if changed {
            block.text = out;
        }
    }
    rules.fire(rule::FOOTNOTE_REFERENCE, references.len());
    references
}

/// If `core` ends in digits that are one of the `window` footnote numbers,
/// glued to a word ("EU9", "visumliberalisering3") or to a year ("20111",
/// "201310"), returns the kept text, the window offset and the number.
fn footnote_candidate<'a>(core: &'a str, window: &[Footnote]) -> Option<(&'a str, usize, u32)> {
    let digits_start = core.len()
        - core
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .count();
    let (prefix, digits) = core.split_at(digits_start);
    let (kept, number) = if prefix.is_empty() {
        // A year with the reference glued on: 19xx/20xx plus 1-3 digits.
        let is_year_plus =
            (5..=7).contains(&core.len()) && (core.starts_with("19") || core.starts_with("20"));
        if !is_year_plus {
            return None;
        }
        core.split_at(4)
    } else {
        let word_like = prefix
            .ends_with(|c: char| c.is_alphabetic() || matches!(c, ')' | '"' | '”' | '’' | '»'))
            && !prefix.chars().any(|c| c.is_ascii_digit())
            && prefix.chars().filter(|c| c.is_alphabetic()).count() >= 2;
        if !word_like || digits.is_empty() {
            return None;
        }
        (prefix, digits)
    };
    if number.is_empty() || number.len() > 3 || number.starts_with('0') {
        return None;
    }
    let number: u32 = number.parse().ok()?;
    let offset = window.iter().position(|f| f.number == number)?;
    Some((kept, offset, number))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(cleaned: &Cleaned) -> Vec<String> {
        cleaned.blocks.iter().map(|b| b.text.clone()).collect()
    }

    fn fired(cleaned: &Cleaned, name: &str) -> usize {
        cleaned.rules_fired.get(name).copied().unwrap_or(0)
    }

    #[test]
    fn conversion_marker_from_seed_000() {
        let cleaned = clean_plain_text(
            " [bookmark: bRubrik]Rådets möte (rättsliga och inrikes frågor) den 12-13 juni \n\nDagordningspunkt 9\n",
            Layout::Auto,
        );
        assert_eq!(
            texts(&cleaned)[0],
            "Rådets möte (rättsliga och inrikes frågor) den 12-13 juni"
        );
        assert_eq!(fired(&cleaned, rule::CONVERSION_MARKER), 1);
    }

    #[test]
    fn link_annotations_from_seed_002() {
        let text = "Migrationsverket är också medlem i GDISC (General Directors' Immigration Services Conference)länk till annan webbplats, öppnas i nytt fönster som är ett nätverk.\n\nUNHCRlänk till annan webbplats, öppnas i nytt fönster (FN:s flyktingorgan) är en viktig partner.";
        let cleaned = clean_plain_text(text, Layout::Auto);
        assert_eq!(
            texts(&cleaned),
            vec![
                "Migrationsverket är också medlem i GDISC (General Directors' Immigration Services Conference) som är ett nätverk.",
                "UNHCR (FN:s flyktingorgan) är en viktig partner."
            ]
        );
        assert_eq!(fired(&cleaned, rule::LINK_ANNOTATION), 2);
    }

    #[test]
    fn danish_and_norwegian_link_annotations() {
        let mut rules = Rules::default();
        assert_eq!(
            remove_link_annotations("Læs rapporten (åbner i nyt vindue).", &mut rules),
            "Læs rapporten."
        );
        assert_eq!(
            remove_link_annotations(
                "Se UDIlenke til annet nettsted, åpnes i nytt vindu for mer.",
                &mut rules
            ),
            "Se UDI for mer."
        );
        assert_eq!(rules.0[rule::LINK_ANNOTATION], 2);
    }

    #[test]
    fn navigation_and_feedback_lines_from_seeds_002_and_004() {
        let text = "Regjeringen vil styrke ordningen med returstøtte.\n\nSidan senast uppdaterad: 2020-03-03\n\nFick du hjälp av informationen på den här sidan?\nTil forsiden";
        let cleaned = clean_plain_text(text, Layout::Auto);
        assert_eq!(
            texts(&cleaned),
            vec!["Regjeringen vil styrke ordningen med returstøtte."]
        );
        assert_eq!(cleaned.document_date.as_deref(), Some("2020-03-03"));
        assert_eq!(fired(&cleaned, rule::NAVIGATION), 1);
        assert_eq!(fired(&cleaned, rule::FEEDBACK_PROMPT), 1);
        assert_eq!(fired(&cleaned, rule::DOCUMENT_DATE), 1);
    }

    #[test]
    fn navigation_words_inside_sentences_are_kept() {
        let text = "Vi gick till forsiden av huset för att se skadorna.\nDel av ansvaret ligger hos kommunen.\nMeny och program presenterades i mars.";
        let cleaned = clean_plain_text(text, Layout::Auto);
        assert_eq!(cleaned.blocks.len(), 3);
        assert!(cleaned.rules_fired.is_empty() || fired(&cleaned, rule::NAVIGATION) == 0);
    }

    #[test]
    fn cookie_and_share_prompts() {
        let text = "Vi använder kakor (cookies) för att webbplatsen ska fungera bra. Godkänn kakor\nDenne hjemmeside bruger cookies. Læs mere om cookies\nDela på Facebook\nDel denne side: Facebook, LinkedIn, E-post\nDatatilsynet har undersøgt, hvordan danske myndigheder bruger cookies på deres hjemmesider, og resultaterne viser store forskelle mellem kommunerne og staten, når det gælder oplysning til borgerne om formålet med indsamlingen af data, hvilket efter tilsynets opfattelse bør forbedres inden for det næste år, så reglerne overholdes fuldt ud i hele den offentlige sektor.";
        let cleaned = clean_plain_text(text, Layout::Auto);
        assert_eq!(cleaned.blocks.len(), 1, "{:?}", texts(&cleaned));
        assert!(cleaned.blocks[0].text.starts_with("Datatilsynet"));
        assert_eq!(fired(&cleaned, rule::COOKIE_PROMPT), 2);
        assert_eq!(fired(&cleaned, rule::SHARE_PROMPT), 2);
    }

    #[test]
    fn dates_in_several_forms() {
        assert_eq!(parse_date("2020-03-03").as_deref(), Some("2020-03-03"));
        assert_eq!(parse_date("03.03.2020").as_deref(), Some("2020-03-03"));
        assert_eq!(parse_date("3. marts 2020").as_deref(), Some("2020-03-03"));
        assert_eq!(
            parse_date("12 desember 2021").as_deref(),
            Some("2021-12-12")
        );
        assert_eq!(parse_date("2020-13-03"), None);
        assert_eq!(parse_date("nästa vecka"), None);
        let cleaned = clean_plain_text(
            "Sist oppdatert: 12.05.2022\n\nPublicerad 3 april 2019\n\nText om asyl.",
            Layout::Auto,
        );
        assert_eq!(cleaned.document_date.as_deref(), Some("2022-05-12"));
        assert_eq!(texts(&cleaned), vec!["Text om asyl."]);
        // A sentence that merely mentions an update is body text.
        let kept = clean_plain_text(
            "Listan uppdaterades den 3 mars 2020 efter beslut i regeringen.",
            Layout::Auto,
        );
        assert_eq!(kept.blocks.len(), 1);
        assert!(kept.document_date.is_none());
    }

    #[test]
    fn markdown_escapes_and_headings_from_seed_003() {
        let text = "### Migrations\\- och asylpakten\n\nI samband med RIF\\-rådet träffar ministrar sina motsvarigheter, till mars 2025\\. Se [rapporten](https://example.org/r.pdf) och **viktigt**.";
        let cleaned = clean_plain_text(text, Layout::Auto);
        assert_eq!(
            cleaned.blocks[0],
            Block::new(ParagraphKind::Heading, "Migrations- och asylpakten")
        );
        assert_eq!(
            cleaned.blocks[1].text,
            "I samband med RIF-rådet träffar ministrar sina motsvarigheter, till mars 2025. Se rapporten och viktigt."
        );
        assert_eq!(fired(&cleaned, rule::MARKDOWN_ESCAPE), 3);
        assert_eq!(fired(&cleaned, rule::MARKDOWN_LINK), 1);
        assert_eq!(fired(&cleaned, rule::MARKDOWN_EMPHASIS), 1);
    }

    #[test]
    fn bullets_become_list_items_from_seeds_000_and_004() {
        let text = "Enligt slutsatserna ska man i fortsatta samarbetet inom EU närmare studera och analysera olika modeller för att förbättra integrationen, bl.a. vad avser \n· invandrares delaktighet, \n· initiativ riktade till värdbefolkningen,\n • Styrke ordningen med returstøtte.\n– Sikre at barn har tilgang\n- Prioritere mindreårige";
        let cleaned = clean_plain_text(text, Layout::Auto);
        let kinds: Vec<ParagraphKind> = cleaned.blocks.iter().map(|b| b.kind).collect();
        assert_eq!(kinds[0], ParagraphKind::Text);
        assert!(
            kinds[1..].iter().all(|k| *k == ParagraphKind::ListItem),
            "{kinds:?}"
        );
        assert_eq!(cleaned.blocks[1].text, "invandrares delaktighet,");
        assert_eq!(cleaned.blocks[3].text, "Styrke ordningen med returstøtte.");
        assert_eq!(fired(&cleaned, rule::LIST_ITEM), 5);
    }

    #[test]
    fn headings_are_inferred_for_short_standalone_lines() {
        let text = "Bakgrund\nIntegrationspolitik har blivit en allt viktigare fråga i alla MS.\nRegjeringen vil:\nMarokko X";
        let cleaned = clean_plain_text(text, Layout::Auto);
        let kinds: Vec<ParagraphKind> = cleaned.blocks.iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ParagraphKind::Heading,
                ParagraphKind::Text,
                ParagraphKind::Text,
                ParagraphKind::Text
            ]
        );
    }

    /// Lines shaped like seed 001's first page: hard-wrapped at about 90
    /// characters, a footnote block after a wide blank separator, and the
    /// next page starting with an indented line.
    const PDF_PAGE: &str = concat!(
        "1. INDLEDNING \n",
        "\n",
        "Den samlede strategi for migration og mobilitet (SSMM) har siden 2005 udgjort den \n",
        "overordnede ramme for EU's eksterne migrations- og asylpolitik. Rammen definerer, hvordan \n",
        "EU gennemfører den politiske dialog og det operationelle samarbejde med tredjelande på \n",
        "området migration og mobilitet. \n",
        "\n",
        "Kommissionens meddelelse \"En samlet strategi for migration og mobilitet\" af 18. november \n",
        "20111 lancerede en ny og mere konsolideret anden fase af SSMM. Den introducerede flere \n",
        "nye elementer, f.eks. inddragelse af international beskyttelse. Rådets konklusioner af \n",
        "29. maj 20122 bekræftede, at SSMM udgør rammen for dialog med 200 mio. EUR i alle EU-\n",
        "regioner i 2012-\n",
        "2013 og forhandlinger om samarbejde om migrations- \n",
        "og mobilitetsspørgsmål, som landene på det vestlige Balkan har gennemført gennem visum-\n",
        "liberalisering3, og samarbejde med dem inden for rammerne af stabiliseringsprocessen for at \n",
        "                                                            \n",
        "1 KOM(2011) 743. \n",
        "2 Rådets dokument 9417/12. \n",
        "3 Kommissionen fremlagde den 28. november 2013 sin fjerde rapport om opfølgning af \n",
        "visumliberaliseringsprocessen (COM(2013) 836). \n",
        " takle eventuelle mangler og udfordringer i de kommende år med alle relevante partnere. \n",
        "\n",
        "15 \n",
        "\n",
        "2. BILATERALE DIALOGER \n",
    );

    #[test]
    fn pdf_text_is_reflowed_with_footnotes_apart() {
        let cleaned = clean_plain_text(PDF_PAGE, Layout::Auto);
        let blocks = texts(&cleaned);
        assert_eq!(blocks.len(), 4, "{blocks:#?}");
        assert_eq!(cleaned.blocks[0].kind, ParagraphKind::Heading);
        assert!(
            blocks[1].starts_with("Den samlede strategi")
                && blocks[1].ends_with("området migration og mobilitet.")
        );
        let third = &blocks[2];
        assert!(third.contains("af 18. november 2011 lancerede"), "{third}");
        assert!(third.contains("29. maj 2012 bekræftede"), "{third}");
        assert!(
            third.contains("200 mio. EUR i alle EU-regioner i 2012-2013 og"),
            "{third}"
        );
        assert!(
            third.contains("om migrations- og mobilitetsspørgsmål"),
            "{third}"
        );
        assert!(
            third.contains("gennem visumliberalisering, og samarbejde"),
            "{third}"
        );
        assert!(third.ends_with("for at takle eventuelle mangler og udfordringer i de kommende år med alle relevante partnere."), "{third}");
        assert_eq!(blocks[3], "2. BILATERALE DIALOGER");
        assert_eq!(cleaned.blocks[3].kind, ParagraphKind::Heading);

        let numbers: Vec<u32> = cleaned.footnotes.iter().map(|f| f.number).collect();
        assert_eq!(numbers, vec![1, 2, 3]);
        assert_eq!(cleaned.footnotes[0].text, "KOM(2011) 743.");
        assert_eq!(
            cleaned.footnotes[2].text,
            "Kommissionen fremlagde den 28. november 2013 sin fjerde rapport om opfølgning af visumliberaliseringsprocessen (COM(2013) 836)."
        );
        assert_eq!(cleaned.footnote_references, vec![(2, 1), (2, 2), (2, 3)]);
        assert_eq!(fired(&cleaned, rule::FOOTNOTE_REFERENCE), 3);
        assert_eq!(fired(&cleaned, rule::FOOTNOTE_BODY), 3);
        assert_eq!(fired(&cleaned, rule::PAGE_NUMBER), 1);
        assert_eq!(fired(&cleaned, rule::DEHYPHENATION), 1);
        assert!(!blocks.iter().any(|b| b.contains("KOM(2011)")));
    }

    #[test]
    fn a_section_heading_after_a_finished_sentence_is_not_joined() {
        // Seed 001: the heading opens a page, right under the last line of the previous one.
        let text = concat!(
            "mere effektiv og resultatskabende. I dette afsnit gennemgås nogle af vejene til at styrke \n",
            "SSMM både på politikniveau og i forhold til gennemførelsesforanstaltninger. \n",
            " 5.1. Politikker \n",
            "\n",
            "Det potentiale, der ligger i at bruge ekstern migrationspolitik til at støtte medlemsstaternes \n",
            "bestræbelser på at sikre økonomisk vækst og konkurrenceevne, bl.a. ved at tiltrække og \n",
            "fastholde højt uddannede arbejdskraft, udnyttes stadig ikke fuldt ud. \n",
            " Den endelige rapport af 1. oktober 2012 viste, at mobilitetspartnerskabet med Moldova havde \n",
            "bidraget til at opnå mange af partnernes prioriteter. \n",
        );
        let cleaned = clean_plain_text(text, Layout::Pdf);
        let blocks = texts(&cleaned);
        assert_eq!(blocks.len(), 4, "{blocks:#?}");
        assert_eq!(
            cleaned.blocks[1],
            Block::new(ParagraphKind::Heading, "5.1. Politikker")
        );
        assert!(blocks[3].starts_with("Den endelige rapport"));
    }

    #[test]
    fn real_numbers_are_not_split_without_a_matching_footnote() {
        let text = "Antallet steg til 20111 personer i 2013.\n";
        let cleaned = clean_plain_text(text, Layout::Pdf);
        assert_eq!(
            texts(&cleaned),
            vec!["Antallet steg til 20111 personer i 2013."]
        );
        // With footnote 1 known but out of sequence (cursor past it) nothing splits either.
        let footnotes = vec![Footnote {
            number: 7,
            text: "x".into(),
            paragraph: None,
        }];
        assert_eq!(footnote_candidate("20111", &footnotes), None);
        assert_eq!(
            footnote_candidate("EU7", &footnotes).map(|c| c.0),
            Some("EU")
        );
        assert_eq!(footnote_candidate("201377", &footnotes), None);
        assert_eq!(footnote_candidate("7", &footnotes), None);
    }

    #[test]
    fn running_headers_and_page_numbers_are_removed() {
        let topics = ["asylsökande", "mottagning", "återvändande", "bosättning"];
        let page = |n: usize| {
            format!(
                "Migrationsverket – Årsredovisning 2023\n\nText på sidan {n} om {} i kommunerna.\n\nSida {n} av 4\n",
                topics[n - 1]
            )
        };
        let text = (1..=4).map(page).collect::<Vec<_>>().join("\u{c}");
        let cleaned = clean_plain_text(&text, Layout::Pdf);
        assert_eq!(cleaned.blocks.len(), 4, "{:#?}", texts(&cleaned));
        assert!(cleaned
            .blocks
            .iter()
            .all(|b| b.text.starts_with("Text på sidan")));
        assert_eq!(fired(&cleaned, rule::PAGE_HEADER), 8);
    }

    #[test]
    fn whitespace_and_invisible_characters_are_normalised() {
        let cleaned = clean_plain_text(
            "Ett\u{a0}två  tre\u{ad}fyra\u{200b}\tfem\r\nsex\r\n",
            Layout::Auto,
        );
        assert_eq!(texts(&cleaned), vec!["Ett två trefyra fem", "sex"]);
        assert_eq!(fired(&cleaned, rule::INVISIBLE_CHARACTER), 2);
    }

    #[test]
    fn one_line_per_paragraph_text_is_not_reflowed() {
        let text = "Svensk ståndpunkt\nSverige stöder de föreslagna rådslutsatserna.\nFörslaget\nRådsslutsatserna beskriver innehållet i och formerna för det fortsatta samarbetet.";
        let cleaned = clean_plain_text(text, Layout::Auto);
        assert_eq!(cleaned.blocks.len(), 4);
        assert!(!cleaned.rules_fired.contains_key(rule::LINE_JOIN));
    }
}
