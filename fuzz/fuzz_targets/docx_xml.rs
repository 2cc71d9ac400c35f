//! The .docx reader on arbitrary WordprocessingML: the fuzz input becomes
//! word/document.xml (and, after a NUL byte, word/footnotes.xml) of a real
//! zip archive, so the XML walk is reached instead of the zip check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Write;

include!("ingest_module.rs");

fuzz_target!(|data: &[u8]| {
    let (document, footnotes) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("word/document.xml", options).unwrap();
    zip.write_all(document).unwrap();
    if let Some(footnotes) = footnotes {
        zip.start_file("word/footnotes.xml", options).unwrap();
        zip.write_all(footnotes).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    if let Ok(document) = ingest::ingest_bytes("a.docx", &bytes) {
        assert!(!document.paragraphs.is_empty());
        assert!(document
            .paragraphs
            .iter()
            .all(|p| !p.text.trim().is_empty()));
        let _ = document.render_inspect();
    }
});
