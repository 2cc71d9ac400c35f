//! Text extraction from structured formats: HTML (html5ever via scraper),
//! DOCX (word/document.xml via zip + quick-xml) and PDF (pdf-extract).
//! Every walk over a document tree is iterative, so deeply nested input
//! cannot overflow the stack.

use std::io::Read;

use quick_xml::events::Event;
use scraper::{Html, Node};

use super::clean::Block;
use super::document::ParagraphKind;

/// Why a DOCX or PDF could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtractError {
    /// The file is not a readable .docx; the reason says why.
    BadDocx(String),
    /// The file is not a readable PDF; the reason says why.
    BadPdf(String),
    /// The PDF has no text layer (scanned pages).
    NeedsOcr,
    /// A compressed document unpacks to more than one document may hold
    /// (what it exceeded, e.g. "more than 100000 paragraphs").
    TooLarge(String),
}

// ---------------------------------------------------------------------------
// HTML

/// Elements whose whole content is not document text.
const SKIPPED_ELEMENTS: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "head", "iframe", "svg", "math", "form",
    "button", "select", "option", "textarea", "canvas", "object", "embed", "audio", "video", "map",
    "dialog",
];

/// Elements that start and end a block of text.
fn block_kind(name: &str) -> Option<ParagraphKind> {
    match name {
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => Some(ParagraphKind::Heading),
        "li" | "dt" => Some(ParagraphKind::ListItem),
        "p" | "div" | "section" | "article" | "main" | "blockquote" | "pre" | "td" | "th"
        | "tr" | "table" | "caption" | "figcaption" | "figure" | "dd" | "dl" | "ul" | "ol"
        | "address" | "header" | "footer" | "aside" | "body" | "html" | "details" | "summary"
        | "hr" | "br" | "center" | "fieldset" | "legend" => Some(ParagraphKind::Text),
        _ => None,
    }
}

/// Attributes that mark page chrome: navigation landmarks, hidden parts,
/// cookie banners, breadcrumbs and share bars.
fn is_chrome(element: &scraper::node::Element) -> bool {
    if element.attr("hidden").is_some() || element.attr("aria-hidden") == Some("true") {
        return true;
    }
    if let Some(role) = element.attr("role") {
        if matches!(
            role,
            "navigation" | "banner" | "contentinfo" | "search" | "menu" | "menubar" | "dialog"
        ) {
            return true;
        }
    }
    let marker = |value: Option<&str>| {
        value.is_some_and(|v| {
            let v = v.to_lowercase();
            [
                "cookie",
                "breadcrumb",
                "share",
                "skip-link",
                "skiplink",
                "visually-hidden",
                "sr-only",
                "screen-reader",
            ]
            .iter()
            .any(|m| v.contains(m))
        })
    };
    marker(element.attr("class")) || marker(element.attr("id"))
}

/// Deepest element nesting an HTML document may have. The parser's cost grows
/// with depth times size (100,000 nested `<div>`s, 1.2 MB, take minutes);
/// real pages nest a few dozen deep, and 25,000 parse in about a second.
pub const MAX_HTML_DEPTH: usize = 25_000;

/// Tags that never hold content or that HTML closes by itself: a page that
/// leaves every `<p>` open is not deep.
const SHALLOW_TAGS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead",
    "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rp", "html", "head", "body",
];

/// How deep start tags nest, counted from the tags alone in one linear pass
/// (an estimate that errs deep: unknown tags left open count as open).
pub fn html_depth(html: &str) -> usize {
    let bytes = html.as_bytes();
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        i += offset + 1;
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let len = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if len == 0 || (!closing && !bytes[start].is_ascii_alphabetic()) {
            continue;
        }
        let name = html[start..start + len].to_ascii_lowercase();
        if SHALLOW_TAGS.contains(&name.as_str()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        // Up to the next `<` only, so the pass stays linear on `<a<a<a…`.
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'>' || b == b'<')
            .map(|p| start + p);
        if end.is_some_and(|e| bytes[e] == b'>' && bytes[e - 1] == b'/') {
            continue;
        }
        depth += 1;
        deepest = deepest.max(depth);
    }
    deepest
}

/// Extracts headings, paragraphs and list items from HTML, dropping
/// scripts, styles, navigation and other page chrome.
pub fn html_blocks(html: &str) -> Vec<Block> {
    let document = Html::parse_document(html);
    let mut blocks = Vec::new();
    let mut buffer = String::new();
    // Kinds of the open block elements; the innermost decides a flushed block's kind.
    let mut open_blocks: Vec<ParagraphKind> = Vec::new();
    // Depth inside a skipped element (0 = not skipping).
    let mut skip_depth = 0usize;
    // <header>/<footer> outside <main>/<article> are site chrome.
    let mut content_depth = 0usize;

    // A definition list's term (<dt>) waits for its definition (<dd>) and
    // goes in front of it: "Departement: Justisdepartementet".
    let mut term: Option<String> = None;

    let flush = |buffer: &mut String,
                 kind: ParagraphKind,
                 blocks: &mut Vec<Block>,
                 term: &mut Option<String>| {
        let text = buffer.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() {
            match term.take() {
                Some(t) => blocks.push(Block::new(ParagraphKind::Text, format!("{t}: {text}"))),
                None => blocks.push(Block::new(kind, text)),
            }
        }
        buffer.clear();
    };

    for edge in document.root_element().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => match node.value() {
                Node::Element(element) => {
                    let name = element.name();
                    if skip_depth > 0 {
                        skip_depth += 1;
                        continue;
                    }
                    // A header that holds a definition list carries the
                    // document's own key facts (ministry, dates, references).
                    let site_chrome = matches!(name, "header" | "footer")
                        && content_depth == 0
                        && !(name == "header" && holds_definition_list(node));
                    if SKIPPED_ELEMENTS.contains(&name) || site_chrome || is_chrome(element) {
                        skip_depth = 1;
                        continue;
                    }
                    if matches!(name, "main" | "article") {
                        content_depth += 1;
                    }
                    if let Some(kind) = block_kind(name) {
                        let current = open_blocks.last().copied().unwrap_or(ParagraphKind::Text);
                        flush(&mut buffer, current, &mut blocks, &mut term);
                        open_blocks.push(kind);
                    } else if name == "img" {
                        // Alt text is not body text; leave images out.
                    }
                }
                Node::Text(text) if skip_depth == 0 => buffer.push_str(text),
                _ => {}
            },
            ego_tree::iter::Edge::Close(node) => {
                if let Node::Element(element) = node.value() {
                    let name = element.name();
                    if skip_depth > 0 {
                        skip_depth -= 1;
                        continue;
                    }
                    if matches!(name, "main" | "article") {
                        content_depth = content_depth.saturating_sub(1);
                    }
                    if block_kind(name).is_some() {
                        let current = open_blocks.pop().unwrap_or(ParagraphKind::Text);
                        if name == "dt" {
                            let text = buffer.split_whitespace().collect::<Vec<_>>().join(" ");
                            buffer.clear();
                            term = (!text.is_empty()).then_some(text);
                        } else {
                            flush(&mut buffer, current, &mut blocks, &mut term);
                        }
                    }
                }
            }
        }
    }
    flush(&mut buffer, ParagraphKind::Text, &mut blocks, &mut term);
    blocks
}

fn holds_definition_list(node: ego_tree::NodeRef<'_, Node>) -> bool {
    node.descendants()
        .any(|d| matches!(d.value(), Node::Element(e) if e.name() == "dl"))
}

// ---------------------------------------------------------------------------
// DOCX

/// Largest uncompressed XML part read from a .docx (guards against zip bombs).
const MAX_DOCX_PART_BYTES: u64 = 256 * 1024 * 1024;

/// Most paragraphs read from a .docx. A 1,000-page report has about 40,000;
/// a small archive can unpack to millions of empty ones, and every paragraph
/// costs memory in every later stage.
const MAX_DOCX_PARAGRAPHS: usize = 100_000;

/// A .docx's body blocks and its footnotes (number, text).
pub type DocxContent = (Vec<Block>, Vec<(u32, String)>);

/// Extracts paragraphs, headings and list items from a .docx, and its
/// footnotes from word/footnotes.xml when present.
pub fn docx_blocks(bytes: &[u8]) -> Result<DocxContent, ExtractError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ExtractError::BadDocx(format!("not a valid zip archive ({e})")))?;
    let document = read_part(&mut archive, "word/document.xml")?
        .ok_or_else(|| ExtractError::BadDocx("word/document.xml is missing".to_string()))?;
    let blocks = docx_paragraphs(&document)?
        .into_iter()
        .map(|p| p.block)
        .collect();
    let footnotes = match read_part(&mut archive, "word/footnotes.xml")? {
        Some(xml) => docx_paragraphs(&xml)?
            .into_iter()
            .filter_map(|p| p.footnote_id.map(|id| (id, p.block.text)))
            .filter(|(_, text)| !text.trim().is_empty())
            .collect(),
        None => Vec::new(),
    };
    Ok((blocks, footnotes))
}

fn read_part<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
) -> Result<Option<String>, ExtractError> {
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(ExtractError::BadDocx(format!("cannot open {name} ({e})"))),
    };
    let mut xml = String::new();
    file.take(MAX_DOCX_PART_BYTES + 1)
        .read_to_string(&mut xml)
        .map_err(|e| ExtractError::BadDocx(format!("cannot read {name} ({e})")))?;
    if xml.len() as u64 > MAX_DOCX_PART_BYTES {
        return Err(ExtractError::TooLarge(format!(
            "{name} larger than {} MiB",
            MAX_DOCX_PART_BYTES / (1024 * 1024)
        )));
    }
    Ok(Some(xml))
}

struct DocxParagraph {
    block: Block,
    /// For paragraphs inside <w:footnote w:id="N">.
    footnote_id: Option<u32>,
}

/// Whether a paragraph style names a heading in the languages Word is
/// localised to here ("Heading1", "Rubrik1", "Overskrift1", "Title").
fn heading_style(style: &str) -> bool {
    let style = style.to_lowercase();
    [
        "heading",
        "rubrik",
        "overskrift",
        "title",
        "titel",
        "tittel",
        "berschrift",
        "otsikko",
        "titre",
    ]
    .iter()
    .any(|s| style.starts_with(s))
}

fn list_style(style: &str) -> bool {
    let style = style.to_lowercase();
    ["list", "liste", "liststycke", "punkt", "bullet"]
        .iter()
        .any(|s| style.starts_with(s))
}

/// Reads `w:p` paragraphs from WordprocessingML.
fn docx_paragraphs(xml: &str) -> Result<Vec<DocxParagraph>, ExtractError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut paragraphs = Vec::new();
    let mut text = String::new();
    let mut kind = ParagraphKind::Text;
    let mut in_paragraph = false;
    let mut in_text = false;
    let mut deleted_depth = 0usize; // inside <w:del> (tracked deletions)
    let mut footnote_id: Option<u32> = None;
    let mut text_bytes = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| {
            ExtractError::BadDocx(format!(
                "malformed XML at byte {} ({e})",
                reader.buffer_position()
            ))
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                let local = e.local_name();
                match local.as_ref() {
                    "p" if !is_empty => {
                        in_paragraph = true;
                        text.clear();
                        kind = ParagraphKind::Text;
                    }
                    "pStyle" => {
                        if let Some(style) = attribute(e, "val") {
                            if heading_style(&style) {
                                kind = ParagraphKind::Heading;
                            } else if list_style(&style) && kind == ParagraphKind::Text {
                                kind = ParagraphKind::ListItem;
                            }
                        }
                    }
                    "outlineLvl" => kind = ParagraphKind::Heading,
                    "numPr" if kind == ParagraphKind::Text => kind = ParagraphKind::ListItem,
                    "t" if !is_empty => in_text = true,
                    "tab" | "br" | "cr" if in_paragraph => text.push(' '),
                    "noBreakHyphen" if in_paragraph => text.push('-'),
                    "del" if !is_empty => deleted_depth += 1,
                    "footnote" | "endnote" => {
                        footnote_id = attribute(e, "id").and_then(|id| id.parse().ok());
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => match e.local_name().as_ref() {
                "p" => {
                    if in_paragraph {
                        text_bytes += text.len();
                        if paragraphs.len() >= MAX_DOCX_PARAGRAPHS {
                            return Err(ExtractError::TooLarge(format!(
                                "more than {MAX_DOCX_PARAGRAPHS} paragraphs"
                            )));
                        }
                        if text_bytes as u64 > super::document::MAX_INPUT_BYTES {
                            return Err(ExtractError::TooLarge(format!(
                                "more than {} MB of text",
                                super::document::MAX_INPUT_BYTES / (1024 * 1024)
                            )));
                        }
                        paragraphs.push(DocxParagraph {
                            block: Block::new(kind, std::mem::take(&mut text)),
                            footnote_id,
                        });
                    }
                    in_paragraph = false;
                }
                "t" => in_text = false,
                "del" => deleted_depth = deleted_depth.saturating_sub(1),
                "footnote" | "endnote" => footnote_id = None,
                _ => {}
            },
            Event::Text(ref e) if in_text && deleted_depth == 0 => {
                text.push_str(&e.xml10_content());
            }
            Event::CData(ref e) if in_text && deleted_depth == 0 => {
                text.push_str(&e.xml10_content());
            }
            Event::GeneralRef(ref e) if in_text && deleted_depth == 0 => {
                match e.resolve_char_ref() {
                    Ok(Some(c)) => text.push(c),
                    _ => {
                        let name = e.xml10_content();
                        if let Some(c) = predefined_entity(&name) {
                            text.push(c);
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(paragraphs)
}

fn predefined_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

fn attribute(element: &quick_xml::events::BytesStart, local_name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local_name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

// ---------------------------------------------------------------------------
// PDF

/// Extracts the text layer of a PDF, pages separated by form feeds.
pub fn pdf_text(bytes: &[u8]) -> Result<String, ExtractError> {
    if !bytes.starts_with(b"%PDF-") && !bytes.windows(5).take(1024).any(|w| w == b"%PDF-") {
        return Err(ExtractError::BadPdf(
            "the file does not start with a PDF header".to_string(),
        ));
    }
    // pdf-extract can panic on malformed files; a panic here must become an
    // error for this file, not end the run.
    let result = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem_by_pages(bytes));
    let pages = match result {
        Ok(Ok(pages)) => pages,
        Ok(Err(e)) => return Err(ExtractError::BadPdf(e.to_string())),
        Err(_) => {
            return Err(ExtractError::BadPdf(
                "the PDF structure is damaged".to_string(),
            ))
        }
    };
    let text = pages.join("\u{c}");
    if !text.chars().any(|c| c.is_alphanumeric()) {
        return Err(ExtractError::NeedsOcr);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_with_key_facts_is_kept_and_terms_join_their_definitions() {
        let html = r#"<html><body>
            <header><a href="/">Til forsiden</a></header>
            <header class="documentHeader"><dl>
            <dt>Departement</dt><dd><ul><li>Justis- og beredskapsdepartementet</li></ul></dd>
            <dt>Kunngjort</dt><dd>2025-06-20 12:45</dd></dl></header>
            <main><p>§ 27 b oppheves.</p></main></body></html>"#;
        assert_eq!(
            html_blocks(html),
            vec![
                Block::new(
                    ParagraphKind::Text,
                    "Departement: Justis- og beredskapsdepartementet"
                ),
                Block::new(ParagraphKind::Text, "Kunngjort: 2025-06-20 12:45"),
                Block::new(ParagraphKind::Text, "§ 27 b oppheves."),
            ]
        );
    }

    #[test]
    fn html_keeps_content_and_drops_chrome() {
        let html = r#"<!doctype html><html><head><title>T</title><style>p{}</style></head><body>
            <header><a href="/">Til forsiden</a></header>
            <nav><ul><li>Meny</li></ul></nav>
            <main><h1>Innvandring og integrering</h1>
            <p>Norsk migrasjonspolitikk skal være <b>forutsigbar</b> og ansvarlig.</p>
            <div class="cookie-banner">Vi bruker informasjonskapsler.</div>
            <ul><li>Styrke ordningen med returstøtte.</li><li>Prioritere barn.</li></ul>
            <script>var x = "<p>not text</p>";</script></main>
            <footer>Kontakt oss</footer></body></html>"#;
        let blocks = html_blocks(html);
        assert_eq!(
            blocks,
            vec![
                Block::new(ParagraphKind::Heading, "Innvandring og integrering"),
                Block::new(
                    ParagraphKind::Text,
                    "Norsk migrasjonspolitikk skal være forutsigbar og ansvarlig."
                ),
                Block::new(ParagraphKind::ListItem, "Styrke ordningen med returstøtte."),
                Block::new(ParagraphKind::ListItem, "Prioritere barn."),
            ]
        );
    }

    #[test]
    fn deeply_nested_html_does_not_overflow() {
        let depth = 10_000;
        let html = format!(
            "{}Djupt inne.{}",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let blocks = html_blocks(&html);
        assert!(blocks.iter().any(|b| b.text.contains("Djupt inne.")));
        let spans = format!(
            "<p>{}Text{}</p>",
            "<span><b>".repeat(depth),
            "</b></span>".repeat(depth)
        );
        let _ = html_blocks(&spans);
    }

    #[test]
    fn html_depth_counts_nesting_not_unclosed_paragraphs() {
        assert_eq!(
            html_depth("<html><body><div><p>a<p>b<br><img src=x/></div></body></html>"),
            1
        );
        assert_eq!(html_depth(&"<div><span>".repeat(100)), 200);
        assert_eq!(html_depth(&"<div></div>".repeat(1000)), 1);
        assert_eq!(html_depth(&"<p>Punkt".repeat(50_000)), 0);
        assert_eq!(html_depth("a < b and c<3 </div> <x/> <!-- <div> -->"), 1);
        assert_eq!(html_depth("<"), 0);
        assert_eq!(html_depth("<é><ö"), 0);
        // Linear on tags that never close: a megabyte of them is instant.
        assert_eq!(html_depth(&"<a".repeat(500_000)), 500_000);
    }

    #[test]
    fn docx_xml_paragraphs_headings_and_lists() {
        let xml = r#"<?xml version="1.0"?><w:document xmlns:w="x"><w:body>
            <w:p><w:pPr><w:pStyle w:val="Rubrik1"/></w:pPr><w:r><w:t>Bakgrund</w:t></w:r></w:p>
            <w:p><w:r><w:t xml:space="preserve">Sverige &amp; Norge </w:t></w:r><w:r><w:t>stöder&#x2013;förslaget.</w:t></w:r></w:p>
            <w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>Punkt ett</w:t></w:r></w:p>
            <w:p><w:del><w:r><w:delText>borttaget</w:delText></w:r></w:del><w:r><w:t>Kvar</w:t></w:r></w:p>
            </w:body></w:document>"#;
        let paragraphs: Vec<Block> = docx_paragraphs(xml)
            .unwrap()
            .into_iter()
            .map(|p| p.block)
            .collect();
        assert_eq!(
            paragraphs,
            vec![
                Block::new(ParagraphKind::Heading, "Bakgrund"),
                Block::new(ParagraphKind::Text, "Sverige & Norge stöder–förslaget."),
                Block::new(ParagraphKind::ListItem, "Punkt ett"),
                Block::new(ParagraphKind::Text, "Kvar"),
            ]
        );
    }

    #[test]
    fn a_docx_that_unpacks_to_too_many_paragraphs_is_refused() {
        let xml = format!(
            "<w:document><w:body>{}</w:body></w:document>",
            "<w:p><w:r><w:t>a</w:t></w:r></w:p>".repeat(MAX_DOCX_PARAGRAPHS + 1)
        );
        assert!(
            matches!(docx_paragraphs(&xml), Err(ExtractError::TooLarge(what)) if what.contains("paragraphs"))
        );
        let xml = format!(
            "<w:document><w:body>{}</w:body></w:document>",
            "<w:p><w:r><w:t>a</w:t></w:r></w:p>".repeat(1000)
        );
        assert_eq!(docx_paragraphs(&xml).unwrap().len(), 1000);
    }

    #[test]
    fn broken_docx_and_pdf_are_errors() {
        assert!(matches!(
            docx_blocks(b"PK\x03\x04garbage"),
            Err(ExtractError::BadDocx(_))
        ));
        assert!(matches!(docx_blocks(b""), Err(ExtractError::BadDocx(_))));
        assert!(matches!(
            pdf_text(b"not a pdf"),
            Err(ExtractError::BadPdf(_))
        ));
        assert!(matches!(
            pdf_text(b"%PDF-1.4\n1 0 obj"),
            Err(ExtractError::BadPdf(_))
        ));
    }
}
