//! The model-answer parser on arbitrary text: no panic, and what it returns
//! is clean (one-line title and summary, non-empty trimmed key points, no
//! near-duplicates left to remove).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/nordbrief/src/pipeline/answer.rs"]
#[allow(dead_code)]
mod answer;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = answer::parse_brief_answer(text);
    for field in [&parsed.title, &parsed.summary] {
        assert!(!field.contains('\n'), "{field:?}");
        assert_eq!(field.trim(), field.as_str());
    }
    for point in &parsed.key_points {
        assert!(!point.is_empty());
        assert!(!point.contains('\n'), "{point:?}");
        assert_eq!(point.trim(), point.as_str());
    }
    assert_eq!(
        answer::dedupe_points(parsed.key_points.clone()),
        parsed.key_points
    );
    for bullet in answer::bullets(text) {
        assert!(!bullet.is_empty());
    }
    for line in text.lines() {
        if let Some(rest) = answer::strip_bullet(line) {
            assert!(rest.len() < line.len());
        }
    }
});
