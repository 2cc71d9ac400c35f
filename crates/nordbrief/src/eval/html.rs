//! `report.html`: the evaluation as one self-contained page (inline CSS and
//! SVG, no scripts, fonts or images from elsewhere), so it can be mailed or
//! attached to a CI run and opened offline.

use std::fmt::Write as _;

use super::report::{
    briefs_count, kind_name, DocumentReport, MetricKind, Report, UnsupportedFact, METRICS,
};

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 75em; padding: 0 1em; color: #1d2125; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2.2em; border-bottom: 2px solid #d0d7de; padding-bottom: .2em; }
h3 { font-size: 1.05em; margin-bottom: .3em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
th, td { border: 1px solid #d0d7de; padding: .3em .5em; vertical-align: top; text-align: left; }
th { background: #f4f6f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.bar { display: inline-block; width: 5em; height: .8em; background: #eaeef2; margin-right: .4em; vertical-align: middle; }
.bar > span { display: block; height: 100%; background: #2f81f7; }
.bar.low > span { background: #d1242f; } .bar.mid > span { background: #bf8700; }
mark.unsupported { background: #ffd8d3; border-bottom: 2px solid #d1242f; padding: 0 .1em; }
.ok { color: #1a7f37; font-weight: 600; } .miss { color: #d1242f; font-weight: 600; }
.meta { color: #57606a; font-size: .9em; }
.pairs td { width: 45%; } .pairs td.num { width: auto; }
.legend { font-size: .85em; color: #57606a; }
details { margin: .5em 0; }
"#;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `text` escaped, with the unsupported facts of `field` marked.
fn highlight(text: &str, field: &str, facts: &[UnsupportedFact]) -> String {
    let mut spans: Vec<&UnsupportedFact> = facts.iter().filter(|f| f.field == field).collect();
    spans.sort_by_key(|f| f.span);
    let mut out = String::new();
    let mut at = 0;
    for fact in spans {
        let (start, end) = fact.span;
        // A span that does not fit the text (an edited report) is skipped
        // rather than cut through a character.
        let (Some(before), Some(marked)) = (text.get(at..start), text.get(start..end)) else {
            continue;
        };
        if start < at {
            continue;
        }
        out.push_str(&escape(before));
        let _ = write!(
            out,
            "<mark class=\"unsupported\" title=\"{} not found in the source\">{}</mark>",
            kind_name(fact.kind),
            escape(marked)
        );
        at = end;
    }
    out.push_str(&escape(text.get(at..).unwrap_or_default()));
    out
}

/// A horizontal bar for a score on 0–1, coloured by how good it is.
fn score_bar(value: f64) -> String {
    let class = if value < 0.2 {
        "bar low"
    } else if value < 0.5 {
        "bar mid"
    } else {
        "bar"
    };
    format!(
        "<span class=\"{class}\"><span style=\"width:{:.1}%\"></span></span>{value:.3}",
        (value.clamp(0.0, 1.0) * 100.0)
    )
}

/// An SVG bar chart of one document's scores, with the mean over all
/// documents as a tick on each bar.
fn document_chart(doc: &DocumentReport, report: &Report) -> String {
    let scores: Vec<_> = METRICS
        .iter()
        .filter(|m| m.kind == MetricKind::Score)
        .collect();
    let (label_width, bar_width, row_height) = (130.0, 360.0, 22.0);
    let height = row_height * scores.len() as f64 + 10.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" role=\"img\" \
         aria-label=\"scores of {}\" font-size=\"12\" font-family=\"sans-serif\">",
        label_width + bar_width + 60.0,
        escape(&doc.id)
    );
    for (row, m) in scores.iter().enumerate() {
        let value = doc.scores.get(m.name).unwrap_or_default().clamp(0.0, 1.0);
        let mean = report.means.get(m.name).unwrap_or_default().clamp(0.0, 1.0);
        let y = row as f64 * row_height + 5.0;
        let colour = if value < 0.2 {
            "#d1242f"
        } else if value < 0.5 {
            "#bf8700"
        } else {
            "#2f81f7"
        };
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{:.1}\">{}</text>\
             <rect x=\"{label_width}\" y=\"{y:.1}\" width=\"{bar_width}\" height=\"14\" fill=\"#eaeef2\"/>\
             <rect x=\"{label_width}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"14\" fill=\"{colour}\"/>\
             <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#1d2125\" stroke-width=\"2\"><title>mean {mean:.3}</title></line>\
             <text x=\"{:.1}\" y=\"{:.1}\">{value:.3}</text>",
            y + 11.0,
            escape(m.label),
            value * bar_width,
            label_width + mean * bar_width,
            label_width + mean * bar_width,
            y - 2.0,
            y + 16.0,
            label_width + bar_width + 6.0,
            y + 11.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

fn document_section(doc: &DocumentReport, report: &Report) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<h2 id=\"doc-{id}\">{id}</h2>\n<p class=\"meta\">brief <code>{}</code> · source <code>{}</code>{} · model {} · \
         summary language {} · {} summary words · {} key points · {} facts checked, {} unsupported</p>\n",
        escape(&doc.brief_file),
        escape(&doc.source_file),
        if doc.source_matches_brief { "" } else { " (changed since briefed)" },
        escape(&doc.model),
        escape(&doc.summary_language),
        doc.lengths.summary_words,
        doc.lengths.key_points,
        doc.facts_checked,
        doc.unsupported_facts.len(),
        id = escape(&doc.id),
    );
    html.push_str(&document_chart(doc, report));
    html.push_str(
        "<p class=\"legend\">Bars: this document; black tick: mean of all documents.</p>\n",
    );

    let _ = writeln!(
        html,
        "<h3>{}</h3>",
        highlight(&doc.title, "title", &doc.unsupported_facts)
    );
    let _ = writeln!(
        html,
        "<p>{}</p>",
        highlight(&doc.summary, "summary", &doc.unsupported_facts)
    );
    let _ = writeln!(
        html,
        "<details><summary>Reference summary</summary><p><strong>{}</strong></p><p>{}</p></details>",
        escape(&doc.reference_title),
        escape(&doc.reference_summary)
    );

    let _ = write!(
        html,
        "<h3>Key points: recall {:.3}, precision {:.3} ({} at {})</h3>\n<table class=\"pairs\"><tr><th>reference key point</th>\
         <th>best brief key point</th><th>score</th><th></th></tr>\n",
        doc.keypoints.recall, doc.keypoints.precision, escape(&doc.keypoints.similarity), doc.keypoints.threshold
    );
    for pair in &doc.keypoints.pairs {
        let brief_point = match (pair.brief_index, &pair.brief_point) {
            (Some(index), Some(point)) => highlight(
                point,
                &format!("key_points[{index}]"),
                &doc.unsupported_facts,
            ),
            _ => "<em>no key points</em>".to_string(),
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{brief_point}</td><td class=\"num\">{:.3}</td><td>{}</td></tr>",
            escape(&pair.reference_point),
            pair.score,
            if pair.matched {
                "<span class=\"ok\">matched</span>"
            } else {
                "<span class=\"miss\">missed</span>"
            },
        );
    }
    html.push_str("</table>\n");
    let unmatched: Vec<String> = doc
        .key_points
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            doc.keypoints
                .brief_best_scores
                .get(*i)
                .is_none_or(|&s| s < doc.keypoints.threshold)
        })
        .map(|(i, point)| {
            format!(
                "<li>{}</li>",
                highlight(point, &format!("key_points[{i}]"), &doc.unsupported_facts)
            )
        })
        .collect();
    if !unmatched.is_empty() {
        let _ = writeln!(
            html,
            "<p>Brief key points matching no reference point:</p><ul>{}</ul>",
            unmatched.join("")
        );
    }
    if !doc.unsupported_facts.is_empty() {
        let items: Vec<String> = doc
            .unsupported_facts
            .iter()
            .map(|f| {
                format!(
                    "<li><mark class=\"unsupported\">{}</mark> ({}, in {})</li>",
                    escape(&f.text),
                    kind_name(f.kind),
                    escape(&f.field)
                )
            })
            .collect();
        let _ = writeln!(
            html,
            "<h3>Unsupported facts</h3><ul>{}</ul>",
            items.join("")
        );
    }
    if !doc.warnings.is_empty() {
        let items: Vec<String> = doc
            .warnings
            .iter()
            .map(|w| format!("<li>{}</li>", escape(w)))
            .collect();
        let _ = writeln!(
            html,
            "<h3>Warnings of the brief</h3><ul>{}</ul>",
            items.join("")
        );
    }
    html
}

/// The whole report as one HTML page.
pub fn render(report: &Report) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>nordbrief evaluation: {}</title><style>{STYLE}</style></head><body>\n\
         <h1>nordbrief evaluation: {}</h1>\n<p class=\"meta\">Briefs <code>{}</code> against references <code>{}</code> · \
         model {} · key points matched by {} at {}. Scores on 0–1, higher is better; a summary not in English scores 0 on ROUGE and chrF.</p>\n",
        briefs_count(report.documents.len()),
        briefs_count(report.documents.len()),
        escape(&report.briefs_dir),
        escape(&report.references_dir),
        escape(&report.models.join(", ")),
        escape(&report.keypoint_similarity),
        report.keypoint_threshold,
    );

    html.push_str("<table><tr><th>metric</th>");
    for doc in &report.documents {
        let _ = write!(
            html,
            "<th><a href=\"#doc-{0}\">{0}</a></th>",
            escape(&doc.id)
        );
    }
    html.push_str("<th>mean</th></tr>\n");
    for m in METRICS {
        let _ = write!(
            html,
            "<tr><th title=\"{}\">{}</th>",
            escape(m.description),
            escape(m.label)
        );
        let cell = |value: f64| match m.kind {
            MetricKind::Score => score_bar(value),
            _ => m.format(value),
        };
        for doc in &report.documents {
            let value = doc.scores.get(m.name).unwrap_or_default();
            let _ = write!(html, "<td class=\"num\">{}</td>", cell(value));
        }
        let _ = writeln!(
            html,
            "<td class=\"num\"><strong>{}</strong></td></tr>",
            cell(report.means.get(m.name).unwrap_or_default())
        );
    }
    html.push_str("</table>\n");
    if !report.briefs_without_reference.is_empty() {
        let _ = writeln!(
            html,
            "<p>Briefs without a reference (not scored): {}</p>",
            escape(&report.briefs_without_reference.join(", "))
        );
    }
    if !report.references_without_brief.is_empty() {
        let _ = writeln!(
            html,
            "<p>References without a brief (not scored): {}</p>",
            escape(&report.references_without_brief.join(", "))
        );
    }
    for doc in &report.documents {
        html.push_str(&document_section(doc, report));
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FactKind;

    fn fact(field: &str, span: (usize, usize), text: &str) -> UnsupportedFact {
        UnsupportedFact {
            field: field.into(),
            kind: FactKind::Year,
            text: text.into(),
            span,
        }
    }

    #[test]
    fn escaping_covers_markup_characters() {
        assert_eq!(
            escape("<a href=\"x\">R&D's</a>"),
            "&lt;a href=&quot;x&quot;&gt;R&amp;D&#39;s&lt;/a&gt;"
        );
    }

    #[test]
    fn unsupported_facts_are_marked_in_their_own_field_only() {
        let text = "Ends in 2031 & starts in 2020.";
        let facts = [
            fact("summary", (8, 12), "2031"),
            fact("title", (0, 4), "Ends"),
        ];
        let html = highlight(text, "summary", &facts);
        assert_eq!(
            html,
            "Ends in <mark class=\"unsupported\" title=\"year not found in the source\">2031</mark> &amp; starts in 2020."
        );
    }

    #[test]
    fn spans_outside_the_text_are_ignored() {
        let facts = [fact("summary", (3, 99), "x"), fact("summary", (1, 2), "ö")];
        // Byte 1..2 is inside "ö" (two bytes): not a character boundary.
        assert_eq!(highlight("äö", "summary", &facts), "äö");
    }

    #[test]
    fn score_bars_are_clamped_and_coloured() {
        assert!(score_bar(1.7).contains("width:100.0%"));
        assert!(score_bar(0.1).contains("bar low"));
        assert!(score_bar(0.3).contains("bar mid"));
        assert!(score_bar(0.8).starts_with("<span class=\"bar\">"));
    }
}
