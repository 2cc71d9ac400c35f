//! Segmentation: cleaned blocks become paragraphs with stable 1-based ids,
//! and each paragraph is split into sentences without breaking at
//! Scandinavian (and English) abbreviations such as "bl.a.", "f.eks.",
//! "dvs.", "nr.".

use super::clean::Block;
use super::document::{Paragraph, ParagraphKind};

/// Abbreviations (lowercase, with their final period) after which a period
/// does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    // Swedish
    "bl.a.", "t.ex.", "dvs.", "d.v.s.", "m.m.", "m.fl.", "osv.", "o.s.v.", "ca.", "jfr.", "s.k.",
    "fr.o.m.", "t.o.m.", "f.d.", "resp.", "kap.", "prop.", "bet.", "skr.", "p.g.a.", "pga.",
    "enl.", "st.", "tel.", "inkl.", "exkl.", "kl.", "fig.", "ang.", "avd.", "forts.", "nr.",
    "f.n.", "t.v.", "s.", "sid.", "mkr.", "mdkr.", "milj.", "mn.", "e.d.", "o.d.", "m.a.o.",
    // Danish
    "f.eks.", "jf.", "mv.", "m.v.", "evt.", "iht.", "ifm.", "mht.", "vedr.", "pkt.", "stk.", "bl.a",
    "mio.", "mia.", "ca", "el.", "dvs", "o.l.", "ang.", "gl.", "hhv.", "inkl.", "ekskl.", "tlf.",
    "jan.", "feb.", "aug.", "sep.", "sept.", "okt.", "nov.", "dec.",
    // Norwegian (bokmål and nynorsk)
    "eks.", "jf.", "mfl.", "o.a.", "pr.", "ev.", "iflg.", "kr.", "mill.", "mrd.", "ca.", "osb.",
    "t.d.", "m.a.", "adv.", // English and Latin
    "e.g.", "i.e.", "etc.", "vs.", "art.", "para.", "cf.", "approx.", "p.", "pp.", "ibid.", "op.",
    "al.",
];

/// Titles matched with their case, so that "MS." (member states) can still
/// end a sentence while "Ms." cannot.
const CASED_ABBREVIATIONS: &[&str] = &["Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "St.", "No.", "Nr."];

/// Builds paragraphs (ids from 1, in order) with their sentences.
pub fn build_paragraphs(blocks: &[Block]) -> Vec<Paragraph> {
    blocks
        .iter()
        .enumerate()
        .map(|(index, block)| Paragraph {
            id: index + 1,
            kind: block.kind,
            text: block.text.clone(),
            sentences: if block.kind == ParagraphKind::Heading {
                vec![block.text.clone()]
            } else {
                split_sentences(&block.text)
            },
            language: None,
        })
        .collect()
}

/// Splits a paragraph into sentences. A sentence ends at ".", "!" or "?"
/// (optionally followed by closing quotes or brackets) before white space
/// and a capital letter, digit-free opening quote or dash, unless the word
/// ending in the period is an abbreviation, an initial, or an ordinal
/// ("18. november").
pub fn split_sentences(text: &str) -> Vec<String> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut sentences = Vec::new();
    let mut start = 0usize; // byte offset of the current sentence
    let mut i = 0usize;
    while i < chars.len() {
        let (_, c) = chars[i];
        if !matches!(c, '.' | '!' | '?' | '…') {
            i += 1;
            continue;
        }
        // Extend over repeated terminators and closing quotes/brackets.
        let mut end = i + 1;
        while end < chars.len()
            && matches!(
                chars[end].1,
                '.' | '!' | '?' | '…' | '"' | '”' | '’' | '\'' | ')' | ']' | '»'
            )
        {
            end += 1;
        }
        // Must be followed by white space, then a sentence opener.
        if end >= chars.len() || !chars[end].1.is_whitespace() {
            i = end;
            continue;
        }
        let mut next = end;
        while next < chars.len() && chars[next].1.is_whitespace() {
            next += 1;
        }
        if next >= chars.len() {
            break;
        }
        let opener = chars[next].1;
        let opens = opener.is_uppercase()
            || matches!(
                opener,
                '"' | '“' | '„' | '«' | '»' | '(' | '[' | '–' | '—' | '•' | '§'
            )
            || (opener.is_ascii_digit() && c != '.');
        if !opens || (c == '.' && period_is_not_final(text, &chars, start, i)) {
            i = end;
            continue;
        }
        let end_byte = chars.get(end).map(|(b, _)| *b).unwrap_or(text.len());
        let sentence = text[start..end_byte].trim();
        if !sentence.is_empty() {
            sentences.push(sentence.to_string());
        }
        start = chars[next].0;
        i = next;
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        sentences.push(rest.to_string());
    }
    sentences
}

/// True when the period at char index `i` belongs to an abbreviation,
/// an initial ("M. Stenergard") or an ordinal number ("18. november").
fn period_is_not_final(
    text: &str,
    chars: &[(usize, char)],
    sentence_start: usize,
    i: usize,
) -> bool {
    // The word before the period, back to white space (or sentence start);
    // looking back at most MAX_ABBREVIATION_CHARS keeps long runs linear.
    const MAX_ABBREVIATION_CHARS: usize = 24;
    let period_byte = chars[i].0;
    let mut first = i;
    while first > 0
        && i - first < MAX_ABBREVIATION_CHARS
        && chars[first - 1].0 >= sentence_start
        && !chars[first - 1].1.is_whitespace()
    {
        first -= 1;
    }
    if first > 0 && chars[first - 1].0 >= sentence_start && !chars[first - 1].1.is_whitespace() {
        return false; // longer than any abbreviation
    }
    let word = &text[chars[first].0..period_byte + 1];
    let word = word.trim_start_matches(['(', '"', '“', '«', '[']);
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) || CASED_ABBREVIATIONS.contains(&word) {
        return true;
    }
    let bare = &lower[..lower.len() - 1];
    if bare.is_empty() {
        return false;
    }
    // Single capital initial: "M." (but not a sentence ending in "EU.")
    let mut letters = word[..word.len() - 1].chars();
    if let (Some(first), None) = (letters.next(), letters.next()) {
        if first.is_uppercase() {
            return true;
        }
    }
    // Dotted abbreviations not in the list: "f.v.t.", "s.k."
    if bare.contains('.')
        && bare.chars().all(|c| c.is_alphabetic() || c == '.')
        && bare.chars().filter(|c| c.is_alphabetic()).count() <= 5
    {
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scandinavian_abbreviations_do_not_end_sentences() {
        let text = "Man ska bl.a. studera modeller, t.ex. integration. Det gäller alla MS. Den introducerede flere nye elementer, f.eks. inddragelse af asyl. Aktiviteter, dvs. Aktiviteter der defineres. Forordning (EF) nr. 539/2001 gælder. Det koster ca. 20 mio. EUR i alt. Jf. Rådets konklusioner. Kommer m.m. Etter dette kom det mer.";
        let sentences = split_sentences(text);
        assert_eq!(
            sentences,
            vec![
                "Man ska bl.a. studera modeller, t.ex. integration.",
                "Det gäller alla MS.",
                "Den introducerede flere nye elementer, f.eks. inddragelse af asyl.",
                "Aktiviteter, dvs. Aktiviteter der defineres.",
                "Forordning (EF) nr. 539/2001 gælder.",
                "Det koster ca. 20 mio. EUR i alt.",
                "Jf. Rådets konklusioner.",
                "Kommer m.m. Etter dette kom det mer.",
            ]
        );
    }

    #[test]
    fn ordinary_sentence_boundaries() {
        let sentences =
            split_sentences("Sverige stöder förslaget. Varför? Därför! \"Citat här.\" Slut");
        assert_eq!(
            sentences,
            vec![
                "Sverige stöder förslaget.",
                "Varför?",
                "Därför!",
                "\"Citat här.\"",
                "Slut"
            ]
        );
    }

    #[test]
    fn ordinals_initials_and_numbers_stay_inside() {
        let sentences = split_sentences(
            "Rådets konklusioner af 29. maj 2012 bekræftede det. Minister Maria M. Stenergard deltog. Version 2.5 er klar.",
        );
        assert_eq!(sentences.len(), 3, "{sentences:?}");
        assert_eq!(sentences[1], "Minister Maria M. Stenergard deltog.");
    }

    #[test]
    fn paragraph_ids_start_at_one_and_headings_are_one_sentence() {
        let blocks = vec![
            Block::new(ParagraphKind::Heading, "Bakgrund. Och mer"),
            Block::new(ParagraphKind::Text, "En mening. En till."),
        ];
        let paragraphs = build_paragraphs(&blocks);
        assert_eq!(paragraphs[0].id, 1);
        assert_eq!(paragraphs[1].id, 2);
        assert_eq!(paragraphs[0].sentences.len(), 1);
        assert_eq!(paragraphs[1].sentences, vec!["En mening.", "En till."]);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in [
            "",
            ".",
            ". . .",
            "a. B",
            "…",
            "Å. Ø. æ.",
            "\u{0301}. A",
            "x.\u{a0}Y",
        ] {
            let sentences = split_sentences(text);
            assert!(sentences.iter().all(|s| !s.is_empty()));
        }
    }
}
