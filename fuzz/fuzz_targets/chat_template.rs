//! Chat-template rendering. The first byte picks a mode:
//! 0: arbitrary messages through a ChatML template (Qwen's shape): rendering
//!    succeeds and the message text can never add or remove a turn marker,
//!    so a document cannot forge a system or assistant turn;
//! 1: an arbitrary template source: an error or a rendering, never a panic
//!    (rendered only when it has no loops, macros or repetition, which a
//!    hostile template could make run for ever; templates come from
//!    sha256-pinned model files);
//! 2: the brief prompt with an arbitrary document: the document lands
//!    verbatim at the end and the instructions before it do not change.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/nordbrief/src/model/template.rs"]
#[allow(dead_code)]
mod template;

use template::{ChatMessage, ChatTemplate};

const CHATML: &str = "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are Qwen.<|im_end|>\\n' }}{%- endif %}{%- for message in messages %}{%- if (message.role == 'user') or (message.role == 'system' and not loop.first) or (message.role == 'assistant') %}{{- '<|im_start|>' + message.role + '\\n' + message.content.strip() + '<|im_end|>' + '\\n' }}{%- endif %}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

const BRIEF_USER: &str = include_str!("../../prompts/brief.user.j2");

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match mode % 3 {
        0 => {
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
            assert_eq!(out.matches("<|im_start|>").count(), turns, "{out:?}");
            assert_eq!(out.matches("<|im_end|>").count(), turns - 1, "{out:?}");
            assert!(!out.contains("<|endoftext|>"), "{out:?}");
            assert!(out.ends_with("<|im_start|>assistant\n"));
        }
        1 => {
            let Ok(template) = ChatTemplate::new(text, "<s>", "</s>") else {
                return;
            };
            let unbounded = [
                "for", "macro", "call", "range", "*", "indent", "center", "ljust", "rjust",
                "include", "import", "extends",
            ];
            if text.len() <= 256 && !unbounded.iter().any(|k| text.contains(k)) {
                let _ = template.render(&[ChatMessage::system("s"), ChatMessage::user("u")]);
            }
        }
        _ => {
            let mut env = minijinja::Environment::new();
            env.set_trim_blocks(true);
            env.add_template("brief.user", BRIEF_USER).unwrap();
            let render = |document: &str| {
                env.get_template("brief.user")
                    .unwrap()
                    .render(
                        minijinja::context! { language => "Swedish", document, strict => false },
                    )
                    .unwrap()
            };
            let out = render(text);
            assert!(out.ends_with(text));
            let instructions = &out[..out.len() - text.len()];
            let plain = render("x");
            assert_eq!(instructions, &plain[..plain.len() - 1]);
        }
    }
});
