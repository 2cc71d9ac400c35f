//! The five seed documents: language labels, artefacts gone, footnotes of
//! seed 001 split from the years, stable paragraph counts, and golden
//! snapshots of the cleaned text.

use std::path::{Path, PathBuf};

use nordbrief::ingest::{ingest_path, Document, Language, ParagraphKind};

fn seed(prefix: &str) -> PathBuf {
    let dir = crate::support::repo().join("seeds");
    let mut matches: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("seeds directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    assert_eq!(matches.len(), 1, "exactly one seed starting with {prefix}");
    matches.remove(0)
}

fn ingest_seed(prefix: &str) -> Document {
    ingest_path(&seed(prefix)).unwrap_or_else(|e| panic!("seed {prefix}: {e}"))
}

/// Text that must not survive cleaning in any seed.
const ARTEFACTS: &[&str] = &[
    "[bookmark",
    "länk till annan webbplats",
    "öppnas i nytt fönster",
    "Fick du hjälp",
    "Til forsiden",
    "Sidan senast uppdaterad",
    "\\-",
    "\\.",
    "###",
    "20111",
    "20122",
    "KOM(2011) 743",
    "                    ",
];

fn assert_clean(document: &Document) {
    let body = document.body_text();
    for artefact in ARTEFACTS {
        assert!(
            !body.contains(artefact),
            "{}: {artefact:?} survived cleaning",
            document.source
        );
    }
    for paragraph in &document.paragraphs {
        assert_eq!(
            paragraph.text.trim(),
            paragraph.text,
            "untrimmed ¶{}",
            paragraph.id
        );
        assert!(
            !paragraph.text.contains("  "),
            "double space in ¶{}",
            paragraph.id
        );
        assert!(!paragraph.sentences.is_empty());
    }
}

/// The snapshot view: the inspect rendering without the absolute path.
fn snapshot_view(document: &Document) -> String {
    let file_name = Path::new(&document.source)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    document
        .render_inspect()
        .replacen(&document.source, &format!("seeds/{file_name}"), 1)
}

#[test]
fn seed_000_swedish_council_note() {
    let document = ingest_seed("000_");
    assert_eq!(document.language.language, Language::Swedish);
    assert!(!document.mixed_language);
    assert_clean(&document);
    assert_eq!(
        document.paragraphs[0].text,
        "Rådets möte (rättsliga och inrikes frågor) den 12-13 juni"
    );
    assert_eq!(document.rules_fired.get("conversion_marker"), Some(&1));
    let bullets: Vec<&str> = document
        .paragraphs
        .iter()
        .filter(|p| p.kind == ParagraphKind::ListItem)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(bullets.len(), 4);
    assert_eq!(bullets[0], "invandrares delaktighet,");
    insta::assert_snapshot!("seed_000", snapshot_view(&document));
}

#[test]
fn seed_001_danish_report_with_footnotes() {
    let document = ingest_seed("001_");
    assert_eq!(document.language.language, Language::Danish);
    assert!(!document.mixed_language);
    assert_clean(&document);
    let body = document.body_text();
    assert!(
        body.contains("af 18. november 2011 lancerede"),
        "footnote 1 split from the year"
    );
    assert!(
        body.contains("29. maj 2012 bekræftede"),
        "footnote 2 split from the year"
    );
    assert!(
        body.contains("af 4. december 2013, som omfatter"),
        "footnote 10 split from the year"
    );
    assert!(
        body.contains("gennem deres køreplaner for visumliberalisering, og"),
        "footnote 3 split from the word"
    );
    assert!(
        body.contains("mod EU. I den forbindelse"),
        "footnote 9 split from EU"
    );
    // Real numbers stay whole.
    assert!(body.contains("4 930 flygtninge"));
    assert!(
        body.contains("i alt 4 930 flygtninge genbosat i EU. I bestræbelserne"),
        "footnote 20 split from EU"
    );
    assert!(document.footnotes[6].text.contains("(EF) nr. 539/2001"));
    assert!(body.contains("2012-2013"));
    // Footnote bodies are kept apart, numbered in order, with their paragraphs.
    let numbers: Vec<u32> = document.footnotes.iter().map(|f| f.number).collect();
    let mut expected: Vec<u32> = (1..=27).collect();
    expected.push(1);
    assert_eq!(numbers, expected);
    assert_eq!(document.footnotes[0].text, "KOM(2011) 743.");
    assert!(
        document.footnotes[15]
            .text
            .ends_with("for hver periode på 180 dage."),
        "{}",
        document.footnotes[15].text
    );
    let placed = document
        .footnotes
        .iter()
        .filter(|f| f.paragraph.is_some())
        .count();
    assert!(placed >= 25, "only {placed} footnote references found");
    let first = document.footnotes[0]
        .paragraph
        .expect("footnote 1 is referenced");
    assert!(document.paragraphs[first - 1]
        .text
        .contains("18. november 2011"));
    // Page furniture is gone and sections are headings.
    assert!(!document
        .paragraphs
        .iter()
        .any(|p| p.text == "15" || p.text == "19"));
    let headings: Vec<&str> = document
        .paragraphs
        .iter()
        .filter(|p| p.kind == ParagraphKind::Heading)
        .map(|p| p.text.as_str())
        .collect();
    assert!(headings.contains(&"1. INDLEDNING"), "{headings:?}");
    assert!(headings.contains(&"2.1. Udvidelseslande"), "{headings:?}");
    // A paragraph split by a page break with footnotes is whole again.
    assert!(body.contains("havde bidraget til at opnå mange af partnernes prioriteter"));
    insta::assert_snapshot!("seed_001", snapshot_view(&document));
}

#[test]
fn seed_002_swedish_web_page() {
    let document = ingest_seed("002_");
    assert_eq!(document.language.language, Language::Swedish);
    assert_clean(&document);
    assert_eq!(document.document_date.as_deref(), Some("2020-03-03"));
    let body = document.body_text();
    assert!(body.contains("Conference) som är ett nätverk"));
    assert!(body.contains("UNHCR (FN:s flyktingorgan)"));
    assert_eq!(document.rules_fired.get("link_annotation"), Some(&5));
    assert_eq!(document.rules_fired.get("feedback_prompt"), Some(&1));
    insta::assert_snapshot!("seed_002", snapshot_view(&document));
}

#[test]
fn seed_003_swedish_markdown_export() {
    let document = ingest_seed("003_");
    assert_eq!(document.language.language, Language::Swedish);
    assert_clean(&document);
    assert_eq!(document.paragraphs[0].kind, ParagraphKind::Heading);
    assert_eq!(
        document.paragraphs[0].text,
        "EU-möte om migrations- och asylpakten, Ukraina och Latinamerika"
    );
    let body = document.body_text();
    assert!(body.contains("Migrations- och asylpakten"));
    assert!(body.contains("RIF-rådet"));
    assert!(body.contains("till mars 2025."));
    insta::assert_snapshot!("seed_003", snapshot_view(&document));
}

#[test]
fn seed_004_norwegian_bokmal_platform() {
    let document = ingest_seed("004_");
    assert_eq!(document.language.language, Language::Bokmal);
    assert_clean(&document);
    let list_items = document
        .paragraphs
        .iter()
        .filter(|p| p.kind == ParagraphKind::ListItem)
        .count();
    assert_eq!(list_items, 23);
    assert!(document.body_text().ends_with("mot sin vilje."));
    insta::assert_snapshot!("seed_004", snapshot_view(&document));
}

#[test]
fn paragraph_counts_are_stable_across_runs() {
    for prefix in ["000_", "001_", "002_", "003_", "004_"] {
        let first = ingest_seed(prefix);
        let second = ingest_seed(prefix);
        assert_eq!(first.paragraphs.len(), second.paragraphs.len());
        assert_eq!(first.body_text(), second.body_text());
        let ids: Vec<usize> = first.paragraphs.iter().map(|p| p.id).collect();
        assert_eq!(ids, (1..=first.paragraphs.len()).collect::<Vec<_>>());
    }
}
