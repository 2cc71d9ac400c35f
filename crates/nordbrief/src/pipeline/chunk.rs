//! Splitting a document into chunks that fit the context budget, on
//! paragraph and heading boundaries, so every part of a long document is read.

/// One unit of text the chunker may place, with its source paragraph id.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub paragraph: usize,
    pub is_heading: bool,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// Source paragraph ids in this chunk, in order (a split paragraph repeats).
    pub paragraphs: Vec<usize>,
    pub text: String,
    pub tokens: usize,
}

/// Split `text` into parts of at most `budget` tokens at sentence ends, and
/// at word boundaries where a single sentence is longer than that.
fn split_long(text: &str, budget: usize, count: &dyn Fn(&str) -> usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let sentences = text.split_inclusive(['.', '!', '?', ';']);
    for sentence in sentences {
        let candidate = format!("{current}{sentence}");
        if current.is_empty() || count(&candidate) <= budget {
            current = candidate;
            continue;
        }
        parts.push(std::mem::take(&mut current).trim().to_string());
        current = sentence.to_string();
    }
    if !current.trim().is_empty() {
        parts.push(current.trim().to_string());
    }
    // A sentence may still exceed the budget: cut it by words.
    parts
        .into_iter()
        .flat_map(|p| {
            if count(&p) <= budget {
                return vec![p];
            }
            let mut out = Vec::new();
            let mut cur = String::new();
            for word in p.split_whitespace() {
                let candidate = if cur.is_empty() {
                    word.to_string()
                } else {
                    format!("{cur} {word}")
                };
                if !cur.is_empty() && count(&candidate) > budget {
                    out.push(std::mem::take(&mut cur));
                    cur = word.to_string();
                } else {
                    cur = candidate;
                }
            }
            if !cur.is_empty() {
                out.push(cur);
            }
            out
        })
        .collect()
}

/// Group `pieces` into chunks of at most `budget` tokens (paragraphs joined by
/// blank lines). A heading starts a new chunk when the current one is already
/// half full, so sections stay together.
pub fn chunk(pieces: &[Piece], budget: usize, count: &dyn Fn(&str) -> usize) -> Vec<Chunk> {
    let budget = budget.max(16);
    let mut chunks = Vec::new();
    let mut current = Chunk {
        paragraphs: Vec::new(),
        text: String::new(),
        tokens: 0,
    };
    let flush = |current: &mut Chunk, chunks: &mut Vec<Chunk>| {
        if !current.text.is_empty() {
            current.tokens = count(&current.text);
            chunks.push(std::mem::replace(
                current,
                Chunk {
                    paragraphs: Vec::new(),
                    text: String::new(),
                    tokens: 0,
                },
            ));
        }
    };
    for piece in pieces {
        let parts = if count(&piece.text) > budget {
            split_long(&piece.text, budget, count)
        } else {
            vec![piece.text.clone()]
        };
        for part in parts {
            // Adding counts (plus one for the blank line) instead of re-counting
            // the joined text keeps this linear in the document's length.
            let part_tokens = count(&part);
            let joined_tokens =
                current.tokens + part_tokens + usize::from(!current.text.is_empty());
            let heading_break = piece.is_heading && current.tokens * 2 > budget;
            if !current.text.is_empty() && (joined_tokens > budget || heading_break) {
                flush(&mut current, &mut chunks);
                current.text = part;
                current.tokens = part_tokens;
            } else {
                if !current.text.is_empty() {
                    current.text.push_str("\n\n");
                }
                current.text.push_str(&part);
                current.tokens = joined_tokens;
            }
            current.paragraphs.push(piece.paragraph);
        }
    }
    flush(&mut current, &mut chunks);
    chunks
}

/// First words that head a document's conclusion in Swedish, Danish,
/// Norwegian and English. "Sammanfattning" and "sammendrag" are left out:
/// in reports they usually open the document as its executive summary.
const CONCLUSION_HEADINGS: [&str; 12] = [
    "konklusion",
    "konklusjon",
    "slutsats",
    "slutord",
    "sluttord",
    "afslutning",
    "avslutning",
    "afsluttende",
    "avsluttende",
    "avslutande",
    "conclusion",
    "concluding",
];

/// Whether a heading opens the document's conclusion ("6. KONKLUSION",
/// "Slutsatser", "Avsluttende merknader"), whatever its numbering and case.
pub fn is_conclusion_heading(text: &str) -> bool {
    // Numbering is digits ("6.", "5.2") or a Roman numeral closed by "." or ")".
    let is_numbering = |word: &str| {
        !word.chars().any(char::is_alphabetic)
            || (word.ends_with(['.', ')'])
                && word
                    .trim_end_matches(['.', ')'])
                    .chars()
                    .all(|c| "IVXLivxl".contains(c)))
    };
    let Some(first_word) = text.split_whitespace().find(|w| !is_numbering(w)) else {
        return false;
    };
    let first_word = first_word
        .trim_matches(|c: char| !c.is_alphabetic())
        .to_lowercase();
    CONCLUSION_HEADINGS
        .iter()
        .any(|h| first_word.starts_with(h))
}

/// The chunk (0-based) holding the last conclusion heading of `pieces`, and
/// that heading's paragraph.
pub fn conclusion_chunk(pieces: &[Piece], chunks: &[Chunk]) -> Option<(usize, usize)> {
    let heading = pieces
        .iter()
        .rev()
        .find(|p| p.is_heading && is_conclusion_heading(&p.text))?;
    let index = chunks
        .iter()
        .position(|c| c.paragraphs.contains(&heading.paragraph))?;
    Some((index, heading.paragraph))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> usize {
        text.split_whitespace().count()
    }

    fn piece(paragraph: usize, text: &str) -> Piece {
        Piece {
            paragraph,
            is_heading: false,
            text: text.to_string(),
        }
    }

    #[test]
    fn short_document_is_one_chunk() {
        let pieces = vec![piece(1, "a b c"), piece(2, "d e")];
        let chunks = chunk(&pieces, 100, &words);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].text, "a b c\n\nd e");
        assert_eq!(chunks[0].paragraphs, vec![1, 2]);
    }

    #[test]
    fn chunks_respect_the_budget_and_keep_every_word_in_order() {
        let pieces: Vec<Piece> = (1..=50)
            .map(|i| piece(i, &format!("w{i} x y z.")))
            .collect();
        let chunks = chunk(&pieces, 17, &words);
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.tokens <= 17), "{chunks:?}");
        let all: Vec<usize> = chunks.iter().flat_map(|c| c.paragraphs.clone()).collect();
        assert_eq!(all, (1..=50).collect::<Vec<_>>());
        let joined: Vec<&str> = chunks
            .iter()
            .flat_map(|c| c.text.split_whitespace())
            .collect();
        assert_eq!(joined.len(), 200);
    }

    #[test]
    fn a_paragraph_longer_than_the_budget_is_split_at_sentences() {
        let sentence = |i: usize| format!("S{i} two three four five.");
        let long = (1..=6).map(sentence).collect::<Vec<_>>().join(" ");
        let chunks = chunk(&[piece(7, &long)], 16, &words);
        assert_eq!(chunks.len(), 2);
        assert_eq!(
            chunks[0].text,
            (1..=3).map(sentence).collect::<Vec<_>>().join(" ")
        );
        assert_eq!(chunks[1].paragraphs, vec![7]);
    }

    #[test]
    fn a_sentence_longer_than_the_budget_is_split_at_words() {
        let long = (0..40)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let chunks = chunk(&[piece(1, &long)], 16, &words);
        assert!(chunks.iter().all(|c| c.tokens <= 16));
        assert_eq!(chunks.iter().map(|c| c.tokens).sum::<usize>(), 40);
    }

    #[test]
    fn a_heading_opens_a_new_chunk_when_the_current_is_half_full() {
        let mut pieces = vec![piece(1, "a b c d e f g h i j")];
        pieces.push(Piece {
            paragraph: 2,
            is_heading: true,
            text: "Heading".into(),
        });
        pieces.push(piece(3, "k l"));
        let chunks = chunk(&pieces, 16, &words);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1].text, "Heading\n\nk l");
    }

    #[test]
    fn empty_input_gives_no_chunks() {
        assert!(chunk(&[], 100, &words).is_empty());
    }

    #[test]
    fn conclusion_headings_are_known_in_every_language_and_numbering() {
        for heading in [
            "6. KONKLUSION",
            "Slutsatser",
            "7 Avslutning",
            "Avsluttende merknader",
            "Konklusjonar",
            "IV. Conclusions",
            "Afsluttende bemærkninger",
        ] {
            assert!(is_conclusion_heading(heading), "{heading}");
        }
        for heading in [
            "Sammanfattning",
            "2.1. Udvidelseslande",
            "Rådets konklusioner om visum",
            "",
            "12.",
        ] {
            assert!(!is_conclusion_heading(heading), "{heading}");
        }
    }

    #[test]
    fn the_conclusion_chunk_is_the_one_holding_the_last_conclusion_heading() {
        let heading = |paragraph: usize, text: &str| Piece {
            paragraph,
            is_heading: true,
            text: text.into(),
        };
        let pieces = vec![
            heading(1, "1. Indledning"),
            piece(2, "a b c d e f g h i j k l"),
            heading(3, "2. Konklusion"),
            piece(4, "m n o p"),
            heading(5, "Bilag I"),
            piece(6, "q r s t u v w x y z"),
        ];
        let chunks = chunk(&pieces, 16, &words);
        assert_eq!(chunks.len(), 3, "{chunks:?}");
        assert_eq!(conclusion_chunk(&pieces, &chunks), Some((1, 3)));
        assert_eq!(conclusion_chunk(&pieces[..2], &chunks), None);
        // A conclusion paragraph that is not a heading names no chunk.
        assert_eq!(
            conclusion_chunk(&[piece(3, "Konklusion: ja")], &chunks),
            None
        );
    }
}
