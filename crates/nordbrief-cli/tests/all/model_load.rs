//! The real small model's file: its tokenizer and chat template as
//! nordbrief rebuilds them from the GGUF metadata.

use nordbrief::model::load;
use nordbrief::model::ChatMessage;

fn small_model() -> nordbrief::model::LoadedModel {
    let manifest = nordbrief::model::find_manifest("qwen2.5-coder-0.5b-instruct").unwrap();
    let mut opts = nordbrief::model::ResolveOptions::from_env();
    opts.quiet = true;
    let resolved = nordbrief::model::resolve(&manifest, &opts).expect("test model obtainable");
    load(&resolved.path).expect("test model loads")
}

#[test]
fn tokenizer_and_template_from_the_gguf() {
    let model = small_model();

    // The GGUF's own template, rendered: Qwen's ChatML with our system prompt.
    let prompt = model
        .template
        .render(&[
            ChatMessage::system("You write briefs."),
            ChatMessage::user("Sammanfatta texten."),
        ])
        .unwrap();
    assert_eq!(
        prompt,
        "<|im_start|>system\nYou write briefs.<|im_end|>\n<|im_start|>user\nSammanfatta texten.<|im_end|>\n<|im_start|>assistant\n"
    );
    // Without a system message the template supplies Qwen's default one.
    let default = model.template.render(&[ChatMessage::user("Hej")]).unwrap();
    assert!(
        default.starts_with("<|im_start|>system\n")
            && default.contains("<|im_start|>user\nHej<|im_end|>"),
        "{default}"
    );

    // Chat markers are single special tokens, and they end the turn.
    let ids = model
        .tokenizer
        .encode(prompt.as_str(), false)
        .unwrap()
        .get_ids()
        .to_vec();
    let im_start = model.tokenizer.token_to_id("<|im_start|>").unwrap();
    let im_end = model.tokenizer.token_to_id("<|im_end|>").unwrap();
    assert_eq!(ids[0], im_start);
    assert_eq!(ids.iter().filter(|&&t| t == im_end).count(), 2);
    assert!(model.stop_tokens.contains(&im_end));

    // Every seed survives encode → decode unchanged (Scandinavian letters, odd punctuation).
    for entry in std::fs::read_dir("seeds").unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let enc = model.tokenizer.encode(text.as_str(), false).unwrap();
        let back = model.tokenizer.decode(enc.get_ids(), false).unwrap();
        assert_eq!(back, text, "{} does not round-trip", path.display());
        // Qwen's tokenizer needs roughly one token per 2–5 characters of such text.
        let ratio = text.chars().count() as f64 / enc.get_ids().len() as f64;
        assert!((1.5..6.0).contains(&ratio), "{}: {ratio}", path.display());
    }
}

#[test]
fn greedy_generation_is_reproducible_and_prefix_reuse_does_not_change_it() {
    use nordbrief::generate::{GenerationSettings, Generator, ModelGenerator};
    let mut generator = ModelGenerator::new(small_model());
    let settings = GenerationSettings {
        max_new_tokens: 24,
        ..Default::default()
    };
    let messages = [
        ChatMessage::system("You translate Swedish into English."),
        ChatMessage::user("Översätt: Sverige stöder de föreslagna rådsslutsatserna."),
    ];
    let first = generator
        .generate(&messages, &settings, &mut |_| {})
        .unwrap();
    assert_eq!(first.reused_prompt_tokens, 0);
    assert!(first.generated_tokens > 0 && !first.text.trim().is_empty());
    // The same prompt again reuses all but its last token from the cache and
    // reads that one token alone, so only a batch shape differs.
    let second = generator
        .generate(&messages, &settings, &mut |_| {})
        .unwrap();
    assert_eq!(second.reused_prompt_tokens, second.prompt_tokens - 1);
    assert_eq!(second.text, first.text);
    assert!(
        first.text.to_lowercase().contains("sweden"),
        "{}",
        first.text
    );
}
