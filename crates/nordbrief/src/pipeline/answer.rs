//! Reading the model's answer: sections, bullets and numbering, whatever
//! markdown decoration a small model adds, and removal of near-duplicate points.

use std::collections::HashSet;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedBrief {
    pub title: String,
    pub summary: String,
    pub key_points: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Section {
    None,
    Title,
    Summary,
    KeyPoints,
    /// After the brief: a small model sometimes echoes the document or adds
    /// its own headings; none of that belongs to the brief.
    Trailing,
}

/// A line that starts something other than the brief: a markdown heading or
/// an echo of the prompt's DOCUMENT/NOTES/PART markers.
fn ends_the_brief(line: &str) -> bool {
    let t = line.trim();
    let lower = t.trim_start_matches(['#', '*', ' ']).to_lowercase();
    t.starts_with('#')
        || ["document:", "notes:", "part "]
            .iter()
            .any(|m| lower.starts_with(m))
}

/// Recognise a section heading such as "TITLE:", "**Summary**", "### Key points:"
/// and return the section and whatever text follows the heading on its line.
fn heading(line: &str) -> Option<(Section, &str)> {
    let trimmed =
        line.trim_start_matches(|c: char| c == '#' || c == '*' || c == '_' || c.is_whitespace());
    let lower = trimmed.to_lowercase();
    let known = [
        ("title", Section::Title),
        // The prompt asks for "an English title"; small models echo that.
        ("english title", Section::Title),
        ("english summary", Section::Summary),
        ("summary", Section::Summary),
        ("key points", Section::KeyPoints),
        ("key-points", Section::KeyPoints),
        ("keypoints", Section::KeyPoints),
        ("main points", Section::KeyPoints),
    ];
    for (word, section) in known {
        if lower.starts_with(word) {
            let rest = &trimmed[word.len()..];
            let rest = rest.trim_start_matches(|c: char| {
                c == '*' || c == '_' || c == ':' || c == '#' || c.is_whitespace()
            });
            // "Summary of the report is ..." is prose, not a heading: a heading
            // is followed by a colon or markup, or ends the line.
            let after = &trimmed[word.len()..];
            let is_heading = after.is_empty()
                || after.starts_with(':')
                || after.starts_with('*')
                || after.starts_with('_')
                || after.trim().is_empty();
            if is_heading {
                return Some((section, rest.trim()));
            }
        }
    }
    None
}

/// Strip a bullet or list number ("- ", "* ", "• ", "1. ", "2) ") from a line.
pub fn strip_bullet(line: &str) -> Option<&str> {
    let t = line.trim();
    for marker in ["- ", "* ", "• ", "· ", "– ", "+ "] {
        if let Some(rest) = t.strip_prefix(marker) {
            return Some(rest.trim());
        }
    }
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 && digits < 3 {
        let rest = &t[digits..];
        if let Some(rest) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(rest.trim());
        }
    }
    None
}

fn clean_inline(text: &str) -> String {
    let text = text.replace("**", "").replace("__", "");
    let text = text.trim().trim_matches('"').trim();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every bulleted or numbered line of `text`, cleaned.
pub fn bullets(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(strip_bullet)
        .map(clean_inline)
        .filter(|p| !p.is_empty())
        .collect()
}

pub fn parse_brief_answer(answer: &str) -> ParsedBrief {
    let mut section = Section::None;
    let mut title = Vec::new();
    let mut summary = Vec::new();
    let mut points: Vec<String> = Vec::new();
    let mut saw_key_points = false;
    // Indent of the last key point when it introduces a list ("…, such as:");
    // bullets indented deeper are its items, not points of their own.
    let mut list_owner_indent: Option<usize> = None;
    let mut owners_of_items: Vec<usize> = Vec::new();
    for line in answer.lines() {
        if section == Section::Trailing {
            continue;
        }
        if let Some((s, rest)) = heading(line) {
            section = s;
            saw_key_points |= s == Section::KeyPoints;
            if !rest.is_empty() {
                match s {
                    // The prompt's own words echoed are no title; the next line may be.
                    Section::Title if clean_title(rest).is_empty() => {}
                    Section::Title => title.push(rest.to_string()),
                    Section::Summary => summary.push(rest.to_string()),
                    Section::KeyPoints => points.extend(strip_bullet(rest).map(clean_inline)),
                    Section::None | Section::Trailing => {}
                }
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        if section == Section::KeyPoints && ends_the_brief(line) {
            section = Section::Trailing;
            continue;
        }
        match section {
            Section::Title if title.is_empty() && clean_title(line).is_empty() => {}
            Section::Title if title.is_empty() => title.push(line.to_string()),
            // A title is one line; anything after it before a heading is summary.
            Section::Title | Section::Summary => summary.push(line.to_string()),
            Section::KeyPoints => match strip_bullet(line) {
                Some(p) => {
                    let indent = line.len() - line.trim_start().len();
                    let item = clean_inline(p);
                    match (list_owner_indent, points.last_mut()) {
                        (Some(owner), Some(last)) if indent > owner => {
                            add_list_item(last, &item);
                            if owners_of_items.last() != Some(&(points.len() - 1)) {
                                owners_of_items.push(points.len() - 1);
                            }
                        }
                        _ => {
                            list_owner_indent = item.ends_with(':').then_some(indent);
                            points.push(item);
                        }
                    }
                }
                // A wrapped bullet continues on the next line; a line after a
                // finished sentence is a point written without a bullet.
                None => {
                    // A line of markup alone ("**") adds nothing, not even a space.
                    let text = clean_inline(line);
                    match points.last_mut() {
                        _ if text.is_empty() => {}
                        // A bullet that held only markup is not continued.
                        Some(last) if !last.is_empty() && !last.ends_with(['.', '!', '?', ')']) => {
                            last.push(' ');
                            last.push_str(&text);
                        }
                        _ => points.push(text),
                    }
                }
            },
            Section::None => summary.push(line.to_string()),
            Section::Trailing => {}
        }
    }
    if !saw_key_points {
        // Without a KEY POINTS heading, a list written after the summary is
        // the key points; the line introducing it ("… as follows:") goes with it.
        let listed = summary.iter().filter(|l| strip_bullet(l).is_some()).count();
        if listed >= 2 {
            let (list, prose): (Vec<String>, Vec<String>) =
                summary.into_iter().partition(|l| strip_bullet(l).is_some());
            points = list
                .iter()
                .filter_map(|l| strip_bullet(l))
                .map(clean_inline)
                .collect();
            summary = prose
                .into_iter()
                .filter(|l| !l.trim_end().ends_with(':'))
                .collect();
        }
    }
    for &owner in &owners_of_items {
        let point = &mut points[owner];
        if !point.ends_with(['.', '!', '?']) {
            point.push('.');
        }
    }
    // "Label: sentence" loses its label, but "Measures include: a; b" is a
    // list's own lead-in and stays.
    let points: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| match owners_of_items.contains(&i) {
            true => p.clone(),
            false => strip_label(p).to_string(),
        })
        .collect();
    ParsedBrief {
        title: clean_title(&title.join(" ")),
        summary: clean_inline(&summary.join(" ")),
        key_points: dedupe_points(points.into_iter().filter(|p| !p.is_empty()).collect()),
    }
}

/// A title line without decoration or final full stop; the prompt's own
/// words ("An English title on one line"), echoed, are no title.
fn clean_title(line: &str) -> String {
    let title = clean_inline(line)
        .trim_end_matches('.')
        .trim_end()
        .to_string();
    let lower = title.to_lowercase();
    let echoed = ["an english title", "english title", "a title", "title"]
        .iter()
        .any(|echo| lower == *echo || lower.starts_with(&format!("{echo} on one line")));
    if echoed {
        String::new()
    } else {
        title
    }
}

/// The title in a reply that was asked for one: its first line, with or
/// without a "TITLE:" heading.
pub fn parse_title_reply(reply: &str) -> String {
    let Some(line) = reply.lines().find(|l| !clean_inline(l).is_empty()) else {
        return String::new();
    };
    match heading(line) {
        Some((Section::Title, rest)) => clean_title(rest),
        _ => clean_title(line),
    }
}

/// Appends a list item to the point that introduced the list: "…, such as:"
/// + "Studying models." → "…, such as: Studying models", later items after "; ".
fn add_list_item(point: &mut String, item: &str) {
    let item = item.trim_end_matches(['.', ';', ',']);
    if item.is_empty() {
        return;
    }
    if point.ends_with(':') {
        point.push(' ');
    } else {
        point.push_str("; ");
    }
    point.push_str(item);
}

/// A point written as "Label: sentence" keeps only the sentence: small
/// models head points with a word or two of the source ("Förslaget: The
/// report outlines …"), which is neither English nor part of the fact.
fn strip_label(point: &str) -> &str {
    let Some((label, rest)) = point.split_once(": ") else {
        return point;
    };
    let words: Vec<&str> = label.split_whitespace().collect();
    let capitalised = words
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .count();
    // Up to three words of any kind, or a longer heading in title case
    // ("Commission's Status Report on Moldova"), not a clause ("The
    // minister said the following").
    let short_or_heading =
        (1..=3).contains(&words.len()) || (words.len() <= 7 && capitalised * 2 >= words.len() + 1);
    let is_label = short_or_heading
        && !label.contains(['.', ',', ';', '(', ')', '"'])
        && !label.chars().any(|c| c.is_ascii_digit());
    if is_label && rest.split_whitespace().count() >= 4 {
        rest.trim()
    } else {
        point
    }
}

fn word_set(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// Share of words two points have in common (Jaccard).
fn overlap(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 1.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

/// Points sharing this much of their vocabulary say the same thing.
const NEAR_DUPLICATE: f64 = 0.7;

/// Drop points that repeat an earlier one (same words, near enough).
pub fn dedupe_points(points: Vec<String>) -> Vec<String> {
    let mut kept: Vec<(String, HashSet<String>)> = Vec::new();
    for p in points {
        let words = word_set(&p);
        if kept
            .iter()
            .all(|(_, w)| overlap(w, &words) < NEAR_DUPLICATE)
        {
            kept.push((p, words));
        }
    }
    kept.into_iter().map(|(p, _)| p).collect()
}

/// A "point" about the brief or its input rather than the document ("The
/// summary and key points are based on the content provided in the Swedish
/// text."): it names the brief's own parts together with where they came from.
pub fn is_remark_on_the_brief(point: &str) -> bool {
    let lower = point.to_lowercase();
    let names_the_brief = [
        "summary",
        "key point",
        "these notes",
        "the notes",
        "this brief",
    ]
    .iter()
    .any(|w| lower.contains(w));
    let names_its_input = [
        "based on the",
        "provided",
        "the text given",
        "the given text",
        "the original text",
    ]
    .iter()
    .any(|w| lower.contains(w));
    names_the_brief && names_its_input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remarks_on_the_brief_are_told_from_points_about_the_document() {
        for remark in [
            "The summary and key points are based on the content provided in the Swedish text.",
            "These key points are based on the notes provided.",
            "This brief is based on the original text in Danish.",
        ] {
            assert!(is_remark_on_the_brief(remark), "{remark}");
        }
        for point in [
            "The report's summary recommends a common return policy (¶4).",
            "Funding is provided to 12 municipalities (¶7).",
            "The government notes that the key points of the agreement were met (¶9).",
            "The Migration Agency based its figures on the 2019 census (¶3).",
        ] {
            assert!(!is_remark_on_the_brief(point), "{point}");
        }
    }

    #[test]
    fn a_list_after_the_summary_without_a_heading_is_the_key_points() {
        // The shape of a real answer of the 1.5B model on seed 002.
        let a = "TITLE: EU cooperation\n\nSUMMARY: The agency takes part in EU cooperation.\n\nIt is a member of GDISC.\n\n\
            It works with several organisations:\n\n- UNHCR is a partner for resettlement.\n\n- IOM supports returns.\n";
        let b = parse_brief_answer(a);
        assert_eq!(
            b.summary,
            "The agency takes part in EU cooperation. It is a member of GDISC."
        );
        assert_eq!(
            b.key_points,
            vec![
                "UNHCR is a partner for resettlement.",
                "IOM supports returns."
            ]
        );
        // With a KEY POINTS heading, a list inside the summary stays there.
        let b = parse_brief_answer(&format!("{a}KEY POINTS:\n- One point."));
        assert_eq!(b.key_points, vec!["One point."]);
        assert!(b.summary.contains("UNHCR"));
        // A single dash line is prose, not a list.
        let b = parse_brief_answer("SUMMARY: Text.\n- Only one.");
        assert!(b.key_points.is_empty());
    }

    #[test]
    fn indented_items_under_a_point_ending_in_a_colon_join_that_point() {
        let answer = "TITLE: T\nSUMMARY: S.\nKEY POINTS:\n\
- Sweden supports the conclusions.\n\
- It discusses models for improving integration, such as:\n  \
- Studying different models.\n  \
- Developing \"European modules\" for integration\n\
- Measures include:\n    1. language courses;\n    2. faster processing\n\
- The document highlights intercultural dialogue.\n  \
- An indented point under a finished sentence stays a point.\n";
        let parsed = parse_brief_answer(answer);
        assert_eq!(
            parsed.key_points,
            vec![
                "Sweden supports the conclusions.",
                "It discusses models for improving integration, such as: Studying different models; Developing \"European modules\" for integration.",
                "Measures include: language courses; faster processing.",
                "The document highlights intercultural dialogue.",
                "An indented point under a finished sentence stays a point.",
            ]
        );
    }

    #[test]
    fn the_prompts_own_words_as_title_are_no_title() {
        let parsed = parse_brief_answer("TITLE: An English title on one line.\nSUMMARY: S.");
        assert_eq!(parsed.title, "");
        assert_eq!(parse_brief_answer("TITLE: **English Title**").title, "");
        assert_eq!(
            parse_brief_answer("TITLE: A title for integration policy").title,
            "A title for integration policy"
        );
        assert_eq!(
            parse_title_reply("\n**Title:** Norway's Integration Policy.\nMore text"),
            "Norway's Integration Policy"
        );
        assert_eq!(
            parse_title_reply("Norway's Integration Policy"),
            "Norway's Integration Policy"
        );
        assert_eq!(parse_title_reply("An English title on one line"), "");
    }

    #[test]
    fn an_echoed_english_title_heading_is_the_title() {
        let b = parse_brief_answer("### English Title: Integration in the EU\nSUMMARY: Text.");
        assert_eq!(b.title, "Integration in the EU");
        assert_eq!(b.summary, "Text.");
        // The prompt's placeholder echoed: the line after it is the title.
        let b = parse_brief_answer(
            "### TITLE: An English Title on One Line.\n**A Fair Immigration Policy**\n\n### SUMMARY:\nText.",
        );
        assert_eq!(b.title, "A Fair Immigration Policy");
        assert_eq!(b.summary, "Text.");
    }

    #[test]
    fn a_label_before_a_key_point_is_left_out() {
        let a =
            "KEY POINTS:\n- Förslaget: The report outlines the state of integration in Europe.\n\
            - Interkulturell Dialog: Intercultural dialogue is a vital instrument.\n\
            - The ratio was 3: one in three applicants was admitted.\n\
            - Sweden: yes.\n\
            - Commission's Status Report on Moldova: The Commission found that Moldova meets all benchmarks.\n\
            - The minister then said the following: integration is a matter for all of us.\n";
        assert_eq!(
            parse_brief_answer(a).key_points,
            vec![
                "The report outlines the state of integration in Europe.",
                "Intercultural dialogue is a vital instrument.",
                "The ratio was 3: one in three applicants was admitted.",
                "Sweden: yes.",
                "The Commission found that Moldova meets all benchmarks.",
                "The minister then said the following: integration is a matter for all of us.",
            ]
        );
    }

    #[test]
    fn parses_the_requested_format() {
        let a = "TITLE: Council conclusions on integration\nSUMMARY: The Council discussed integration.\nIt agreed on conclusions.\nKEY POINTS:\n- Sweden supports the conclusions.\n- The meeting was held on 12-13 June.\n";
        let b = parse_brief_answer(a);
        assert_eq!(b.title, "Council conclusions on integration");
        assert_eq!(
            b.summary,
            "The Council discussed integration. It agreed on conclusions."
        );
        assert_eq!(
            b.key_points,
            vec![
                "Sweden supports the conclusions.",
                "The meeting was held on 12-13 June."
            ]
        );
    }

    #[test]
    fn parses_markdown_headings_and_numbered_points() {
        let a = "## **Title:** The report\n\n**Summary**\n\nA text.\n\n### Key Points\n1. First point.\n2) Second point,\n   wrapped.\n";
        let b = parse_brief_answer(a);
        assert_eq!(b.title, "The report");
        assert_eq!(b.summary, "A text.");
        assert_eq!(b.key_points, vec!["First point.", "Second point, wrapped."]);
    }

    #[test]
    fn prose_starting_with_a_section_word_is_not_a_heading() {
        let a =
            "TITLE: T\nSUMMARY:\nSummary statistics were published in 2011.\nKEY POINTS:\n- One.";
        let b = parse_brief_answer(a);
        assert_eq!(b.summary, "Summary statistics were published in 2011.");
    }

    #[test]
    fn an_echoed_document_after_the_points_is_not_a_point() {
        let a = "TITLE: T\nSUMMARY: S.\nKEY POINTS:\n- One.\nTwo without a bullet.\n#### Document: Rådets möte den 12-13 juni\nIntegrationspolitik har blivit en fråga.";
        let b = parse_brief_answer(a);
        assert_eq!(b.key_points, vec!["One.", "Two without a bullet."]);
    }

    #[test]
    fn missing_sections_stay_empty() {
        let b = parse_brief_answer("Just some text with no structure.");
        assert_eq!(b.title, "");
        assert_eq!(b.summary, "Just some text with no structure.");
        assert!(b.key_points.is_empty());
    }

    #[test]
    fn near_duplicates_are_removed_in_order() {
        let points = vec![
            "Sweden supports the proposed council conclusions.".to_string(),
            "Sweden supports the proposed Council conclusions!".to_string(),
            "The meeting took place in Potsdam.".to_string(),
        ];
        assert_eq!(
            dedupe_points(points),
            vec![
                "Sweden supports the proposed council conclusions.",
                "The meeting took place in Potsdam."
            ]
        );
    }

    #[test]
    fn markup_alone_on_a_line_leaves_no_trailing_space() {
        // Found by the `answer` fuzz target.
        let b = parse_brief_answer(
            "TITLE: The report .\nKEY POINTS:\n- A point without a full stop\n** \n",
        );
        assert_eq!(b.title, "The report");
        assert_eq!(b.key_points, vec!["A point without a full stop"]);
        let b = parse_brief_answer("KEY POINTS:\n1. \"\"\nA point after an empty one.\n");
        assert_eq!(b.key_points, vec!["A point after an empty one."]);
    }

    #[test]
    fn bullets_accepts_all_markers() {
        assert_eq!(
            bullets("- a\n* b\n• c\n3. d\nplain\n10) e"),
            vec!["a", "b", "c", "d", "e"]
        );
    }
}
