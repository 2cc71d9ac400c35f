//! Every input format and encoding, built in the test, and hostile input:
//! none of it may panic or hang, and every refusal says why.

use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

use nordbrief::ingest::{
    ingest_bytes, ingest_path, IngestError, Language, ParagraphKind, MAX_INPUT_BYTES,
};

const SWEDISH: &str = "Migrationsverket deltar aktivt i EU-samarbetet och har ett nära samarbete med flera internationella organisationer. Sverige stöder de föreslagna rådsslutsatserna om förstärkt integration och ökad medvetenhet om sambandet mellan migration och utveckling.";
const DANISH: &str = "Den samlede strategi for migration og mobilitet har siden 2005 udgjort den overordnede ramme for EU's eksterne migrations- og asylpolitik. Rådet understregede også behovet for systematisk at overvåge gennemførelsen af strategien gennem toårige rapporter.";
const BOKMAL: &str = "Norsk migrasjonspolitikk skal være forutsigbar og ansvarlig, og det skal legges stor vekt på stabilitet og kontinuitet. Regjeringen vil bygge opp en solidaritetspott på utviklingsbudsjettet for mennesker på flukt.";

fn texts(document: &nordbrief::ingest::Document) -> Vec<&str> {
    document
        .paragraphs
        .iter()
        .map(|p| p.text.as_str())
        .collect()
}

// ---------------------------------------------------------------------------
// Plain text encodings

#[test]
fn utf8_with_and_without_bom() {
    let plain = ingest_bytes("a.txt", SWEDISH.as_bytes()).unwrap();
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(SWEDISH.as_bytes());
    let bom = ingest_bytes("b.txt", &with_bom).unwrap();
    assert_eq!(texts(&plain), vec![SWEDISH]);
    assert_eq!(texts(&bom), vec![SWEDISH]);
    assert_eq!(bom.language.language, Language::Swedish);
    assert_ne!(plain.source_sha256, bom.source_sha256);
}

#[test]
fn utf16_le_and_be_with_bom() {
    for (bom, big_endian) in [(vec![0xFF, 0xFE], false), (vec![0xFE, 0xFF], true)] {
        let mut bytes = bom;
        for unit in DANISH.encode_utf16() {
            bytes.extend_from_slice(&if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        let document = ingest_bytes("dansk.txt", &bytes).unwrap();
        assert_eq!(texts(&document), vec![DANISH]);
        assert_eq!(document.language.language, Language::Danish);
        assert_eq!(
            document.encoding.as_deref(),
            Some(if big_endian { "UTF-16BE" } else { "UTF-16LE" })
        );
    }
}

#[test]
fn windows_1252_and_latin1_are_detected() {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(BOKMAL);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "fixture must not be valid UTF-8"
    );
    let document = ingest_bytes("norsk.txt", &bytes).unwrap();
    assert_eq!(texts(&document), vec![BOKMAL]);
    assert_eq!(document.language.language, Language::Bokmal);
    assert_eq!(document.encoding.as_deref(), Some("windows-1252"));
    // ISO-8859-1 agrees with Windows-1252 on every letter used here.
    let latin1: Vec<u8> = SWEDISH
        .chars()
        .map(|c| if c == '–' { b'-' } else { c as u32 as u8 })
        .collect();
    let document = ingest_bytes("svensk.txt", &latin1).unwrap();
    assert_eq!(texts(&document), vec![SWEDISH]);
}

#[test]
fn markdown_file() {
    let md = "# Rubrik\n\nStycke med **fet** text och en [länk](https://example.org), RIF\\-rådet.\n\n- punkt ett\n- punkt två\n";
    let document = ingest_bytes("notes.md", md.as_bytes()).unwrap();
    assert_eq!(document.format, "md");
    assert_eq!(
        texts(&document),
        vec![
            "Rubrik",
            "Stycke med fet text och en länk, RIF-rådet.",
            "punkt ett",
            "punkt två"
        ]
    );
    let kinds: Vec<ParagraphKind> = document.paragraphs.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ParagraphKind::Heading,
            ParagraphKind::Text,
            ParagraphKind::ListItem,
            ParagraphKind::ListItem
        ]
    );
}

#[test]
fn standard_input_name_sniffs_the_format() {
    let document = ingest_bytes("-", SWEDISH.as_bytes()).unwrap();
    assert_eq!(document.format, "txt");
    assert_eq!(document.source, "-");
    let html = format!("<!DOCTYPE html><html><body><p>{SWEDISH}</p></body></html>");
    assert_eq!(ingest_bytes("-", html.as_bytes()).unwrap().format, "html");
    assert_eq!(
        ingest_bytes("-", &tiny_pdf(&["Hej"]))
            .map(|d| d.format)
            .unwrap_or_default(),
        "pdf"
    );
}

// ---------------------------------------------------------------------------
// HTML

#[test]
fn html_page_keeps_content_only() {
    let html = format!(
        r##"<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8"><title>Sida</title>
        <script>window.x = 1;</script><style>body {{ color: red }}</style></head><body>
        <a class="skip-link" href="#main">Hoppa till huvudinnehåll</a>
        <header><nav><a href="/">Startsida</a> <a href="/om">Om oss</a></nav></header>
        <main id="main"><h1>Internationellt samarbete</h1>
        <p>{SWEDISH}</p>
        <p>UNHCR<span class="sr-only">länk till annan webbplats, öppnas i nytt fönster</span> är en viktig partner för Migrationsverket när det gäller vidarebosättning.</p>
        <h2>Viktiga organisationer</h2>
        <ul><li>International Organisation for Migration (IOM)</li><li>Intergovernmental Consultations (IGC)</li></ul>
        <p>Sidan senast uppdaterad: 2020-03-03</p>
        <p>Fick du hjälp av informationen på den här sidan?</p></main>
        <div id="cookie-consent">Vi använder kakor. Godkänn</div>
        <footer><p>Migrationsverket, 601 70 Norrköping</p></footer></body></html>"##
    );
    let document = ingest_bytes("sida.html", html.as_bytes()).unwrap();
    assert_eq!(
        texts(&document),
        vec![
            "Internationellt samarbete",
            SWEDISH,
            "UNHCR är en viktig partner för Migrationsverket när det gäller vidarebosättning.",
            "Viktiga organisationer",
            "International Organisation for Migration (IOM)",
            "Intergovernmental Consultations (IGC)",
        ]
    );
    assert_eq!(document.paragraphs[0].kind, ParagraphKind::Heading);
    assert_eq!(document.paragraphs[4].kind, ParagraphKind::ListItem);
    assert_eq!(document.document_date.as_deref(), Some("2020-03-03"));
    assert_eq!(document.language.language, Language::Swedish);
}

#[test]
fn html_in_windows_1252() {
    let html = format!("<html><body><h1>Överskrift</h1><p>{SWEDISH}</p></body></html>");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&html);
    let document = ingest_bytes("gammal.htm", &bytes).unwrap();
    assert_eq!(texts(&document), vec!["Överskrift", SWEDISH]);
}

#[test]
fn html_nested_ten_thousand_levels_deep() {
    let depth = 10_000;
    for (open, close) in [
        ("<div>", "</div>"),
        ("<span>", "</span>"),
        ("<ul><li>", "</li></ul>"),
        ("<b><i>", "</i></b>"),
    ] {
        let html = format!(
            "<html><body>{}{SWEDISH}{}</body></html>",
            open.repeat(depth),
            close.repeat(depth)
        );
        let started = Instant::now();
        let document = ingest_bytes("deep.html", html.as_bytes()).unwrap();
        assert!(
            document
                .body_text()
                .contains("Migrationsverket deltar aktivt"),
            "{open}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{open} took {:?}",
            started.elapsed()
        );
    }
    // Unclosed tags, too.
    let html = format!("<html><body>{}{SWEDISH}", "<div>".repeat(depth));
    assert!(ingest_bytes("open.html", html.as_bytes()).is_ok());
}

// ---------------------------------------------------------------------------
// DOCX

fn docx(document_xml: &str, footnotes_xml: Option<&str>) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    writer.start_file("[Content_Types].xml", options).unwrap();
    writer.write_all(br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#).unwrap();
    writer.start_file("word/document.xml", options).unwrap();
    writer.write_all(document_xml.as_bytes()).unwrap();
    if let Some(footnotes) = footnotes_xml {
        writer.start_file("word/footnotes.xml", options).unwrap();
        writer.write_all(footnotes.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn word_paragraph(style: Option<&str>, numbered: bool, text: &str) -> String {
    let mut properties = String::new();
    if let Some(style) = style {
        properties.push_str(&format!(r#"<w:pStyle w:val="{style}"/>"#));
    }
    if numbered {
        properties.push_str(r#"<w:numPr><w:ilvl w:val="0"/><w:numId w:val="3"/></w:numPr>"#);
    }
    // Split the text over two runs, as Word does.
    let middle = text
        .char_indices()
        .nth(text.chars().count() / 2)
        .map(|(i, _)| i)
        .unwrap_or(0);
    let (a, b) = text.split_at(middle);
    format!(
        r#"<w:p><w:pPr>{properties}</w:pPr><w:r><w:t xml:space="preserve">{}</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
        a.replace('&', "&amp;"),
        b.replace('&', "&amp;")
    )
}

const WORD_NS: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

#[test]
fn docx_paragraphs_headings_lists_and_footnotes() {
    let body = [
        word_paragraph(
            Some("Overskrift1"),
            false,
            "Rapport om migration og mobilitet",
        ),
        word_paragraph(None, false, DANISH),
        word_paragraph(Some("Listeafsnit"), true, "Moldova & Georgien"),
        word_paragraph(None, true, "Armenien"),
        r#"<w:p><w:pPr><w:pStyle w:val="Normal"/></w:pPr></w:p>"#.to_string(),
        word_paragraph(None, false, "Til forsiden"),
    ]
    .concat();
    let document_xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {WORD_NS}><w:body>{body}<w:sectPr/></w:body></w:document>"#
    );
    let footnotes_xml = format!(
        r#"<?xml version="1.0"?><w:footnotes {WORD_NS}><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote><w:footnote w:id="1"><w:p><w:r><w:t>KOM(2011) 743.</w:t></w:r></w:p></w:footnote></w:footnotes>"#
    );
    let bytes = docx(&document_xml, Some(&footnotes_xml));
    let document = ingest_bytes("rapport.docx", &bytes).unwrap();
    assert_eq!(document.format, "docx");
    assert_eq!(
        texts(&document),
        vec![
            "Rapport om migration og mobilitet",
            DANISH,
            "Moldova & Georgien",
            "Armenien"
        ]
    );
    let kinds: Vec<ParagraphKind> = document.paragraphs.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ParagraphKind::Heading,
            ParagraphKind::Text,
            ParagraphKind::ListItem,
            ParagraphKind::ListItem
        ]
    );
    assert_eq!(document.language.language, Language::Danish);
    assert_eq!(document.footnotes.len(), 1);
    assert_eq!(document.footnotes[0].text, "KOM(2011) 743.");
    assert_eq!(document.rules_fired.get("navigation_text"), Some(&1));
}

#[test]
fn truncated_and_fake_docx_are_clear_errors() {
    let document_xml = format!(
        r#"<w:document {WORD_NS}><w:body>{}</w:body></w:document>"#,
        word_paragraph(None, false, DANISH)
    );
    let bytes = docx(&document_xml, None);
    for cut in [bytes.len() / 2, 30, 4, 0] {
        match ingest_bytes("kort.docx", &bytes[..cut]) {
            Err(IngestError::BadDocx { reason, .. }) => assert!(!reason.is_empty()),
            Err(IngestError::Empty { .. }) if cut == 0 => {}
            other => panic!("cut at {cut}: expected BadDocx, got {other:?}"),
        }
    }
    let error = ingest_bytes("fake.docx", b"this is not a zip file at all").unwrap_err();
    assert!(
        error.to_string().contains("not a readable .docx"),
        "{error}"
    );
    // A zip without word/document.xml.
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .start_file("hello.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    writer.write_all(b"hej").unwrap();
    let zip_only = writer.finish().unwrap().into_inner();
    let error = ingest_bytes("other.docx", &zip_only).unwrap_err();
    assert!(
        error.to_string().contains("word/document.xml is missing"),
        "{error}"
    );
    // Malformed XML inside.
    let broken = docx("<w:document><w:body><w:p><w:t>Hej</w:p></w:body>", None);
    assert!(matches!(
        ingest_bytes("broken.docx", &broken),
        Err(IngestError::BadDocx { .. })
    ));
}

// ---------------------------------------------------------------------------
// PDF

/// A one-page PDF with the given lines in Helvetica (WinAnsi encoding),
/// written byte by byte with a correct cross-reference table.
fn tiny_pdf(lines: &[&str]) -> Vec<u8> {
    let mut content = b"BT /F1 11 Tf 72 720 Td 14 TL\n".to_vec();
    for line in lines {
        let (encoded, _, _) = encoding_rs::WINDOWS_1252.encode(line);
        content.push(b'(');
        for &byte in encoded.iter() {
            if matches!(byte, b'(' | b')' | b'\\') {
                content.push(b'\\');
            }
            content.push(byte);
        }
        content.extend_from_slice(b") Tj T*\n");
    }
    content.extend_from_slice(b"ET");
    pdf_with_content(&content)
}

fn pdf_with_content(content: &[u8]) -> Vec<u8> {
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
        [format!("<< /Length {} >>\nstream\n", content.len()).as_bytes(), content, b"\nendstream"].concat(),
    ];
    let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

#[test]
fn pdf_with_a_text_layer() {
    let lines = [
        "Sverige stöder de föreslagna rådsslutsatserna om förstärkning av",
        "integrationspolitiken i Europeiska unionen och vill att samarbetet",
        "mellan medlemsstaterna på området fortsätter under de kommande åren.",
    ];
    let document = ingest_bytes("utkast.pdf", &tiny_pdf(&lines)).unwrap();
    assert_eq!(document.format, "pdf");
    assert_eq!(document.language.language, Language::Swedish);
    let body = document.body_text();
    assert!(
        body.contains("rådsslutsatserna om förstärkning av integrationspolitiken"),
        "{body:?}"
    );
    assert!(
        body.contains("fortsätter under de kommande åren."),
        "{body:?}"
    );
}

#[test]
fn pdf_without_text_needs_ocr() {
    let pdf = pdf_with_content(b"0 0 1 rg 10 10 200 200 re f");
    let error = ingest_bytes("skannad.pdf", &pdf).unwrap_err();
    assert!(matches!(error, IngestError::NeedsOcr { .. }), "{error:?}");
    assert!(error.to_string().contains("needs OCR"), "{error}");
}

#[test]
fn truncated_and_fake_pdfs_are_clear_errors() {
    let pdf = tiny_pdf(&["Hej och välkommen till en kort text."]);
    for cut in [pdf.len() * 3 / 4, pdf.len() / 2, 40, 9] {
        let result = ingest_bytes("trasig.pdf", &pdf[..cut]);
        assert!(
            matches!(
                result,
                Err(IngestError::BadPdf { .. }) | Err(IngestError::NeedsOcr { .. }) | Ok(_)
            ),
            "cut at {cut}: {result:?}"
        );
    }
    let error = ingest_bytes("fake.pdf", b"Just some text pretending").unwrap_err();
    assert!(error.to_string().contains("not a readable PDF"), "{error}");
    let mut garbage = b"%PDF-1.7\n".to_vec();
    garbage.extend((0..20_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    assert!(ingest_bytes("garbage.pdf", &garbage).is_err());
}

// ---------------------------------------------------------------------------
// Hostile input

#[test]
fn empty_and_whitespace_only() {
    for bytes in [&b""[..], b"   \n\n\t  \r\n", b"\xEF\xBB\xBF", b"\xFF\xFE"] {
        let error = ingest_bytes("tom.txt", bytes).unwrap_err();
        assert!(
            matches!(error, IngestError::Empty { .. }),
            "{bytes:?}: {error:?}"
        );
        assert!(error.to_string().contains("contains no text"));
    }
    assert!(matches!(
        ingest_bytes("tom.html", b"<html><body> </body></html>"),
        Err(IngestError::Empty { .. })
    ));
}

#[test]
fn binary_files_are_not_text() {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 7) as u8));
    let error = ingest_bytes("bild.txt", &png).unwrap_err();
    assert!(matches!(error, IngestError::NotText { .. }), "{error:?}");
    assert!(error.to_string().contains("not a text document"), "{error}");
    let elf: Vec<u8> = b"\x7fELF\x02\x01\x01\0"
        .iter()
        .copied()
        .chain(std::iter::repeat_n(0u8, 2000))
        .collect();
    assert!(matches!(
        ingest_bytes("prog.md", &elf),
        Err(IngestError::NotText { .. })
    ));
}

#[test]
fn nul_bytes_and_invalid_utf8_do_not_panic() {
    let mut text = SWEDISH.as_bytes().to_vec();
    text.insert(20, 0);
    text.insert(40, 0);
    let document = ingest_bytes("nul.txt", &text).unwrap();
    assert!(!document.body_text().contains('\0'));
    let mut broken = SWEDISH.as_bytes().to_vec();
    broken.extend_from_slice(&[
        0xC3, 0x28, 0xA0, 0xA1, 0xE2, 0x28, 0xA1, 0xF0, 0x28, 0x8C, 0xBC,
    ]);
    let document = ingest_bytes("trasig.txt", &broken).unwrap();
    assert!(document.body_text().starts_with("Migrationsverket"));
}

#[test]
fn over_the_size_limit_is_refused_with_the_size() {
    let big = vec![b'a'; MAX_INPUT_BYTES as usize + 1];
    let error = ingest_bytes("stor.txt", &big).unwrap_err();
    assert!(matches!(error, IngestError::TooLarge { .. }));
    assert!(
        error.to_string().contains("over the 50.0 MB limit"),
        "{error}"
    );
    // A file on disk is refused from its size alone, before it is read.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("enorm.txt");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(3 * 1024 * 1024 * 1024)
        .unwrap();
    let error = ingest_path(&path).unwrap_err();
    assert!(error.to_string().contains("3072.0 MB"), "{error}");
}

#[test]
fn a_large_text_just_under_the_limit_is_processed() {
    // About 45 MB of hard-wrapped Danish text: it must finish, not hang.
    let paragraph = format!("{DANISH}\n{BOKMAL}\n\n");
    let text = paragraph.repeat(45 * 1024 * 1024 / paragraph.len());
    let started = Instant::now();
    let document = ingest_bytes("stor.txt", text.as_bytes()).unwrap();
    assert!(document.paragraphs.len() > 50_000);
    assert!(
        started.elapsed() < Duration::from_secs(240),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn missing_files_and_unsupported_formats() {
    let error = ingest_path(std::path::Path::new("/no/such/dir/fil.txt")).unwrap_err();
    assert!(matches!(error, IngestError::NotFound { .. }));
    assert!(error.to_string().contains("no such file"));
    let error = ingest_bytes("gammal.doc", b"whatever").unwrap_err();
    assert!(matches!(error, IngestError::Unsupported { .. }));
    assert!(
        error.to_string().contains(".doc files are not supported"),
        "{error}"
    );
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        ingest_path(dir.path()),
        Err(IngestError::Io { .. })
    ));
}

#[test]
fn reading_from_disk_matches_reading_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dansk.txt");
    std::fs::write(&path, DANISH).unwrap();
    let from_disk = ingest_path(&path).unwrap();
    let from_bytes = ingest_bytes("dansk.txt", DANISH.as_bytes()).unwrap();
    assert_eq!(from_disk.body_text(), from_bytes.body_text());
    assert_eq!(from_disk.source_sha256, from_bytes.source_sha256);
}
