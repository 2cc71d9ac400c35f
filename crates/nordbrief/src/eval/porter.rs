//! The Porter stemmer exactly as NLTK implements it in its default
//! `NLTK_EXTENSIONS` mode, because that is the stemmer `rouge-score` uses
//! (`nltk.stem.porter.PorterStemmer()`); the Snowball "porter" stemmers of
//! other crates differ from it on many words, which would shift ROUGE.
//!
//! Input is a lowercase ASCII word, which is all the ROUGE tokenizer
//! produces. The step functions follow NLTK's `porter.py` rule by rule, so
//! that a reader can check one against the other.

/// Words NLTK maps directly, before any rule (its table of irregular forms).
fn irregular_form(word: &[u8]) -> Option<&'static [u8]> {
    Some(match word {
        b"sky" | b"skies" => b"sky",
        b"dying" => b"die",
        b"lying" => b"lie",
        b"tying" => b"tie",
        b"news" => b"news",
        b"innings" | b"inning" => b"inning",
        b"outings" | b"outing" => b"outing",
        b"cannings" | b"canning" => b"canning",
        b"howe" => b"howe",
        b"proceed" => b"proceed",
        b"exceed" => b"exceed",
        b"succeed" => b"succeed",
        _ => return None,
    })
}

/// Stems one lowercase ASCII word the way NLTK's `PorterStemmer().stem` does.
pub fn stem(word: &str) -> String {
    let bytes = word.as_bytes();
    if let Some(irregular) = irregular_form(bytes) {
        return String::from_utf8_lossy(irregular).into_owned();
    }
    // NLTK leaves words of one or two letters alone.
    if bytes.len() <= 2 {
        return word.to_string();
    }
    let mut w = bytes.to_vec();
    w = step1a(w);
    w = step1b(w);
    w = step1c(w);
    w = step2(w);
    w = step3(w);
    w = step4(w);
    w = step5a(w);
    w = step5b(w);
    // Every step only removes ASCII suffixes or appends ASCII letters.
    String::from_utf8_lossy(&w).into_owned()
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// Consonant flags for every position in one left-to-right pass: a `y` is a
/// consonant at the start of a word or after a vowel.
fn consonant_flags(word: &[u8]) -> Vec<bool> {
    let mut flags: Vec<bool> = Vec::with_capacity(word.len());
    for (i, &c) in word.iter().enumerate() {
        let consonant = if is_vowel(c) {
            false
        } else if c == b'y' {
            i == 0 || !flags[i - 1]
        } else {
            true
        };
        flags.push(consonant);
    }
    flags
}

fn is_consonant(word: &[u8], i: usize) -> bool {
    consonant_flags(&word[..=i])[i]
}

/// Porter's m: the number of vowel-consonant transitions.
fn measure(stem: &[u8]) -> usize {
    let flags = consonant_flags(stem);
    flags.windows(2).filter(|pair| !pair[0] && pair[1]).count()
}

fn has_positive_measure(stem: &[u8]) -> bool {
    measure(stem) > 0
}

fn contains_vowel(stem: &[u8]) -> bool {
    consonant_flags(stem).iter().any(|&consonant| !consonant)
}

/// Condition *d: the word ends with a double consonant.
fn ends_double_consonant(word: &[u8]) -> bool {
    let n = word.len();
    n >= 2 && word[n - 1] == word[n - 2] && is_consonant(word, n - 1)
}

/// Condition *o: the word ends consonant-vowel-consonant and the last is not
/// w, x or y; NLTK also accepts a two-letter vowel-consonant word.
fn ends_cvc(word: &[u8]) -> bool {
    let n = word.len();
    (n >= 3
        && is_consonant(word, n - 3)
        && !is_consonant(word, n - 2)
        && is_consonant(word, n - 1)
        && !matches!(word[n - 1], b'w' | b'x' | b'y'))
        || (n == 2 && !is_consonant(word, 0) && is_consonant(word, 1))
}

fn replace_suffix(word: &[u8], suffix: &[u8], replacement: &[u8]) -> Vec<u8> {
    let mut out = word[..word.len() - suffix.len()].to_vec();
    out.extend_from_slice(replacement);
    out
}

type Condition<'a> = &'a dyn Fn(&[u8]) -> bool;

/// One suffix rule: NLTK's (suffix, replacement, condition) triple.
/// `DoubleConsonant` is NLTK's "*d" pseudo-suffix.
enum Suffix<'a> {
    Text(&'a [u8]),
    DoubleConsonant,
}

struct Rule<'a> {
    suffix: Suffix<'a>,
    replacement: &'a [u8],
    condition: Option<Condition<'a>>,
}

fn rule<'a>(suffix: &'a str, replacement: &'a str, condition: Option<Condition<'a>>) -> Rule<'a> {
    Rule {
        suffix: Suffix::Text(suffix.as_bytes()),
        replacement: replacement.as_bytes(),
        condition,
    }
}

/// Applies the first rule whose suffix matches; when its condition fails the
/// word is returned unchanged and no later rule is tried (as in NLTK).
fn apply_rule_list(word: Vec<u8>, rules: &[Rule]) -> Vec<u8> {
    for rule in rules {
        let stem = match rule.suffix {
            Suffix::DoubleConsonant => {
                if !ends_double_consonant(&word) {
                    continue;
                }
                &word[..word.len() - 2]
            }
            Suffix::Text(suffix) => {
                if !word.ends_with(suffix) {
                    continue;
                }
                &word[..word.len() - suffix.len()]
            }
        };
        if rule.condition.is_none_or(|condition| condition(stem)) {
            let mut out = stem.to_vec();
            out.extend_from_slice(rule.replacement);
            return out;
        }
        return word;
    }
    word
}

fn step1a(word: Vec<u8>) -> Vec<u8> {
    // NLTK: "dies" -> "die" but "flies" -> "fli".
    if word.ends_with(b"ies") && word.len() == 4 {
        return replace_suffix(&word, b"ies", b"ie");
    }
    apply_rule_list(
        word,
        &[
            rule("sses", "ss", None),
            rule("ies", "i", None),
            rule("ss", "ss", None),
            rule("s", "", None),
        ],
    )
}

fn step1b(word: Vec<u8>) -> Vec<u8> {
    // NLTK: "died" -> "die" but "spied" -> "spi".
    if word.ends_with(b"ied") {
        let replacement: &[u8] = if word.len() == 4 { b"ie" } else { b"i" };
        return replace_suffix(&word, b"ied", replacement);
    }
    if word.ends_with(b"eed") {
        let stem = &word[..word.len() - 3];
        if measure(stem) > 0 {
            return replace_suffix(&word, b"eed", b"ee");
        }
        return word;
    }
    let mut intermediate: Option<Vec<u8>> = None;
    for suffix in [&b"ed"[..], &b"ing"[..]] {
        if word.ends_with(suffix) {
            let stem = &word[..word.len() - suffix.len()];
            if contains_vowel(stem) {
                intermediate = Some(stem.to_vec());
                break;
            }
        }
    }
    let Some(stem) = intermediate else {
        return word;
    };
    let Some(&last) = stem.last() else {
        return stem;
    };
    let last_letter = [last];
    let not_l_s_z = move |_: &[u8]| !matches!(last, b'l' | b's' | b'z');
    let short_cvc = |s: &[u8]| measure(s) == 1 && ends_cvc(s);
    apply_rule_list(
        stem,
        &[
            rule("at", "ate", None),
            rule("bl", "ble", None),
            rule("iz", "ize", None),
            Rule {
                suffix: Suffix::DoubleConsonant,
                replacement: &last_letter,
                condition: Some(&not_l_s_z),
            },
            rule("", "e", Some(&short_cvc)),
        ],
    )
}

fn step1c(word: Vec<u8>) -> Vec<u8> {
    // NLTK: y -> i only after a consonant that is not the whole stem.
    let condition = |stem: &[u8]| stem.len() > 1 && is_consonant(stem, stem.len() - 1);
    apply_rule_list(word, &[rule("y", "i", Some(&condition))])
}

fn step2(word: Vec<u8>) -> Vec<u8> {
    // NLTK applies "alli" -> "al" first and runs step 2 again on the result.
    if word.ends_with(b"alli") && has_positive_measure(&word[..word.len() - 4]) {
        return step2(replace_suffix(&word, b"alli", b"al"));
    }
    let positive: Condition = &has_positive_measure;
    // The "l" of "logi" stays with the stem when measuring, so that short
    // stems such as "geo" and "theo" are handled like "archaeo".
    let logi_stem = if word.len() >= 3 {
        word[..word.len() - 3].to_vec()
    } else {
        Vec::new()
    };
    let logi = move |_: &[u8]| has_positive_measure(&logi_stem);
    apply_rule_list(
        word,
        &[
            rule("ational", "ate", Some(positive)),
            rule("tional", "tion", Some(positive)),
            rule("enci", "ence", Some(positive)),
            rule("anci", "ance", Some(positive)),
            rule("izer", "ize", Some(positive)),
            rule("bli", "ble", Some(positive)),
            rule("alli", "al", Some(positive)),
            rule("entli", "ent", Some(positive)),
            rule("eli", "e", Some(positive)),
            rule("ousli", "ous", Some(positive)),
            rule("ization", "ize", Some(positive)),
            rule("ation", "ate", Some(positive)),
            rule("ator", "ate", Some(positive)),
            rule("alism", "al", Some(positive)),
            rule("iveness", "ive", Some(positive)),
            rule("fulness", "ful", Some(positive)),
            rule("ousness", "ous", Some(positive)),
            rule("aliti", "al", Some(positive)),
            rule("iviti", "ive", Some(positive)),
            rule("biliti", "ble", Some(positive)),
            rule("fulli", "ful", Some(positive)),
            rule("logi", "log", Some(&logi)),
        ],
    )
}

fn step3(word: Vec<u8>) -> Vec<u8> {
    let positive: Condition = &has_positive_measure;
    apply_rule_list(
        word,
        &[
            rule("icate", "ic", Some(positive)),
            rule("ative", "", Some(positive)),
            rule("alize", "al", Some(positive)),
            rule("iciti", "ic", Some(positive)),
            rule("ical", "ic", Some(positive)),
            rule("ful", "", Some(positive)),
            rule("ness", "", Some(positive)),
        ],
    )
}

fn step4(word: Vec<u8>) -> Vec<u8> {
    let gt1 = |stem: &[u8]| measure(stem) > 1;
    let gt1: Condition = &gt1;
    let ion = |stem: &[u8]| measure(stem) > 1 && matches!(stem.last(), Some(b's' | b't'));
    apply_rule_list(
        word,
        &[
            rule("al", "", Some(gt1)),
            rule("ance", "", Some(gt1)),
            rule("ence", "", Some(gt1)),
            rule("er", "", Some(gt1)),
            rule("ic", "", Some(gt1)),
            rule("able", "", Some(gt1)),
            rule("ible", "", Some(gt1)),
            rule("ant", "", Some(gt1)),
            rule("ement", "", Some(gt1)),
            rule("ment", "", Some(gt1)),
            rule("ent", "", Some(gt1)),
            rule("ion", "", Some(&ion)),
            rule("ou", "", Some(gt1)),
            rule("ism", "", Some(gt1)),
            rule("ate", "", Some(gt1)),
            rule("iti", "", Some(gt1)),
            rule("ous", "", Some(gt1)),
            rule("ive", "", Some(gt1)),
            rule("ize", "", Some(gt1)),
        ],
    )
}

/// Both 5a conditions are tried in turn, unlike a rule list.
fn step5a(word: Vec<u8>) -> Vec<u8> {
    if word.ends_with(b"e") {
        let stem = &word[..word.len() - 1];
        let m = measure(stem);
        if m > 1 || (m == 1 && !ends_cvc(stem)) {
            return stem.to_vec();
        }
    }
    word
}

fn step5b(word: Vec<u8>) -> Vec<u8> {
    let without_last = word[..word.len().saturating_sub(1)].to_vec();
    let condition = move |_: &[u8]| measure(&without_last) > 1;
    apply_rule_list(word, &[rule("ll", "l", Some(&condition))])
}

#[cfg(test)]
mod tests {
    use super::stem;

    #[test]
    fn paper_examples_stem_as_in_nltk() {
        let cases = [
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("ties", "tie"),
            ("cats", "cat"),
            ("agreed", "agre"),
            ("plastered", "plaster"),
            ("motoring", "motor"),
            ("hopping", "hop"),
            ("falling", "fall"),
            ("filing", "file"),
            ("happy", "happi"),
            ("relational", "relat"),
            ("generalization", "gener"),
            ("electrical", "electr"),
            ("controlling", "control"),
            ("adjustable", "adjust"),
        ];
        for (word, expected) in cases {
            assert_eq!(stem(word), expected, "stem of {word}");
        }
    }

    #[test]
    fn nltk_extensions_apply() {
        assert_eq!(stem("skies"), "sky");
        assert_eq!(stem("dying"), "die");
        assert_eq!(stem("dies"), "die");
        assert_eq!(stem("flies"), "fli");
        assert_eq!(stem("spied"), "spi");
        assert_eq!(stem("enjoy"), "enjoy");
        assert_eq!(stem("geology"), "geolog");
    }

    #[test]
    fn short_and_odd_words_do_not_panic() {
        for word in [
            "", "a", "ab", "eed", "ied", "ing", "yyyy", "ll", "sss", "1234",
        ] {
            let _ = stem(word);
        }
        assert_eq!(stem("ab"), "ab");
    }
}
