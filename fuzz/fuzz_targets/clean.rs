//! The cleaner on arbitrary text, both layouts: it must not panic, must not
//! invent empty blocks, and must keep footnote references inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("ingest_module.rs");

use ingest::clean::{clean_blocks, clean_plain_text, Block, Layout};
use ingest::ParagraphKind;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for layout in [Layout::Auto, Layout::Pdf] {
        let cleaned = clean_plain_text(text, layout);
        for block in &cleaned.blocks {
            assert!(!block.text.is_empty());
            assert_eq!(block.text.trim(), block.text);
        }
        for &(index, _) in &cleaned.footnote_references {
            assert!(index < cleaned.blocks.len());
        }
    }
    let blocks = text
        .split('\n')
        .map(|line| Block::new(ParagraphKind::Text, line))
        .collect();
    let cleaned = clean_blocks(blocks);
    assert!(cleaned.blocks.iter().all(|b| !b.text.is_empty()));
});
