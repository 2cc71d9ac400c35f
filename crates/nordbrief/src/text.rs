//! Matching a string inside running text at word boundaries: the one rule
//! the terminology, the checker and the brief's review share.

fn boundary(c: Option<char>) -> bool {
    c.is_none_or(|c| !c.is_alphanumeric())
}

/// Whether `needle` occurs in `text` where a word starts: no letter or digit
/// just before it (a stem finds its inflections and compounds).
pub(crate) fn starts_a_word(text: &str, needle: &str) -> bool {
    text.match_indices(needle)
        .any(|(i, _)| boundary(text[..i].chars().last()))
}

/// Whether `needle` occurs in `text` as a whole: no letter or digit run
/// into either end.
pub(crate) fn is_whole_in(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(i, _)| {
        boundary(text[..i].chars().last()) && boundary(text[i + needle.len()..].chars().next())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_are_letters_and_digits() {
        assert!(starts_a_word("the syriske flygtninge", "syri"));
        assert!(!starts_a_word("afghanistan", "ghan"));
        assert!(is_whole_in("dir. 1987:42 gäller", "1987:42"));
        assert!(!is_whole_in("dir. 1987:421", "1987:42"));
        assert!(!is_whole_in("a21", "a2"));
    }
}
