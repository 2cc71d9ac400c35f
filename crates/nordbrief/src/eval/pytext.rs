//! Python's notion of whitespace, which the reference implementations use
//! through `str.split()` and `str.rstrip()`. It is Unicode White_Space plus
//! the four information separators U+001C–U+001F, which Rust's
//! `char::is_whitespace` does not count; the list is spelled out so that it
//! does not drift with the Unicode version of either language.

pub(crate) fn is_python_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{9}'..='\u{d}'
            | '\u{1c}'..='\u{20}'
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// `text.split()` in Python: words separated by runs of whitespace.
pub(crate) fn split_python_whitespace(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_python_whitespace)
        .filter(|word| !word.is_empty())
}

/// `text.rstrip()` in Python.
pub(crate) fn rstrip_python(text: &str) -> &str {
    text.trim_end_matches(is_python_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_that_rust_does_not_treat_as_whitespace_split_words() {
        let words: Vec<&str> = split_python_whitespace("a\u{1c}b\u{a0}c  d\u{200b}e").collect();
        // U+200B (zero width space) is not whitespace in Python either.
        assert_eq!(words, vec!["a", "b", "c", "d\u{200b}e"]);
        assert_eq!(rstrip_python("x \u{1f}\n"), "x");
    }
}
