//! Whole ingest on arbitrary bytes under each supported extension: any
//! result is fine except a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("ingest_module.rs");

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let names = ["a.txt", "a.md", "a.html", "a.docx", "a.pdf", "-"];
    let name = names[selector as usize % names.len()];
    if let Ok(document) = ingest::ingest_bytes(name, bytes) {
        assert!(!document.paragraphs.is_empty());
        let _ = document.render_inspect();
    }
});
