//! The sentence splitter on arbitrary text: no panic, no empty sentence,
//! and no text lost (sentences are the paragraph's words, in order).
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("ingest_module.rs");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sentences = ingest::segment::split_sentences(text);
    assert!(sentences.iter().all(|s| !s.is_empty()));
    let joined: String = sentences.concat().split_whitespace().collect();
    let original: String = text.split_whitespace().collect();
    assert_eq!(joined, original);
});
