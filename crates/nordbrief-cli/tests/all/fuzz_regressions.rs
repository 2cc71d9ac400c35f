//! Replays every input in fuzz/regressions/<target>/ with that fuzz target's
//! checks, so what fuzzing once found stays fixed without a fuzzer in CI.

use nordbrief::model::{ChatMessage, ChatTemplate};
use nordbrief::pipeline::{dedupe_points, parse_brief_answer};
use std::io::Write;
use std::path::Path;

/// The inputs kept for `target` (none yet is fine: the folder may not exist).
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new("fuzz/regressions").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut found: Vec<(String, Vec<u8>)> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    found.sort();
    found
}

#[test]
fn answer_parser_regressions() {
    let inputs = inputs("answer");
    assert!(inputs.len() >= 2, "the answer regressions are committed");
    for (name, data) in inputs {
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        let parsed = parse_brief_answer(text);
        for field in [&parsed.title, &parsed.summary] {
            assert!(!field.contains('\n'), "{name}: {field:?}");
            assert_eq!(field.trim(), field.as_str(), "{name}");
        }
        for point in &parsed.key_points {
            assert!(
                !point.is_empty() && !point.contains('\n'),
                "{name}: {point:?}"
            );
            assert_eq!(point.trim(), point.as_str(), "{name}");
        }
        assert_eq!(
            dedupe_points(parsed.key_points.clone()),
            parsed.key_points,
            "{name}"
        );
    }
}

/// ChatML as Qwen2.5's GGUF carries it (abridged), as in the fuzz target.
const CHATML: &str = "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are Qwen.<|im_end|>\\n' }}{%- endif %}{%- for message in messages %}{%- if (message.role == 'user') or (message.role == 'system' and not loop.first) or (message.role == 'assistant') %}{{- '<|im_start|>' + message.role + '\\n' + message.content.strip() + '<|im_end|>' + '\\n' }}{%- endif %}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

#[test]
fn chat_template_regressions() {
    let inputs = inputs("chat_template");
    assert!(
        !inputs.is_empty(),
        "the chat-template regressions are committed"
    );
    for (name, data) in inputs {
        let Some((&mode, rest)) = data.split_first() else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(rest) else {
            continue;
        };
        if mode % 3 != 0 {
            let _ =
                ChatTemplate::new(text, "<s>", "</s>").map(|t| t.render(&[ChatMessage::user("u")]));
            continue;
        }
        let template = ChatTemplate::new(CHATML, "", "<|endoftext|>").unwrap();
        let with_system = mode & 0x80 != 0;
        let messages: Vec<ChatMessage> = text
            .split('\0')
            .enumerate()
            .map(|(i, content)| match (i, with_system) {
                (0, true) => ChatMessage::system(content),
                _ if i % 2 == 0 => ChatMessage::user(content),
                _ => ChatMessage::assistant(content),
            })
            .collect();
        let out = template.render(&messages).unwrap();
        let turns = messages.len() + usize::from(!with_system) + 1;
        assert_eq!(
            out.matches("<|im_start|>").count(),
            turns,
            "{name}: {out:?}"
        );
        assert_eq!(
            out.matches("<|im_end|>").count(),
            turns - 1,
            "{name}: {out:?}"
        );
        assert!(!out.contains("<|endoftext|>"), "{name}: {out:?}");
    }
}

#[test]
fn ingest_regressions() {
    let mut replayed = 0;
    for (name, data) in inputs("ingest_bytes") {
        let Some((&selector, bytes)) = data.split_first() else {
            continue;
        };
        let names = ["a.txt", "a.md", "a.html", "a.docx", "a.pdf", "-"];
        if let Ok(document) =
            nordbrief::ingest::ingest_bytes(names[selector as usize % names.len()], bytes)
        {
            assert!(!document.paragraphs.is_empty(), "{name}");
        }
        replayed += 1;
    }
    for (name, data) in inputs("docx_xml") {
        let (document, footnotes) = match data.iter().position(|&b| b == 0) {
            Some(i) => (&data[..i], Some(&data[i + 1..])),
            None => (&data[..], None),
        };
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("word/document.xml", options).unwrap();
        zip.write_all(document).unwrap();
        if let Some(footnotes) = footnotes {
            zip.start_file("word/footnotes.xml", options).unwrap();
            zip.write_all(footnotes).unwrap();
        }
        let bytes = zip.finish().unwrap().into_inner();
        if let Ok(document) = nordbrief::ingest::ingest_bytes("a.docx", &bytes) {
            assert!(
                document
                    .paragraphs
                    .iter()
                    .all(|p| !p.text.trim().is_empty()),
                "{name}"
            );
        }
        replayed += 1;
    }
    eprintln!("{replayed} ingest regressions replayed");
}
