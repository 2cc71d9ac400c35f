//! The forward pass of the real small model against logits recorded from the
//! first, unoptimised implementation (KV cache grown with `Tensor::cat`, K/V
//! heads copied with `repeat_kv`, attention with a u8 mask). Optimisations
//! may reorder floating-point sums, so logits are compared within a bound
//! and the greedy tokens must match exactly.
//!
//! The fixture was written by `record_reference` (ignored) from that
//! implementation; rerunning it on a later one would make the test vacuous.

use nordbrief::model::{load, LoadedModel};
use serde::{Deserialize, Serialize};

const FIXTURE: &str = "crates/nordbrief-cli/tests/all/fixtures/qwen2_small_logits.json";
const PROMPT_TOKENS: usize = 600;
const BATCH: usize = 256;
const DECODE_TOKENS: usize = 12;
const REUSED_PREFIX: usize = 100;
const TOP: usize = 20;
/// Largest allowed difference of a logit (they span roughly ±30). Observed
/// differences between implementations are far smaller; a real bug (a wrong
/// mask, position or head) moves logits by whole units.
const MAX_ABS_DIFF: f32 = 0.25;
/// Largest allowed difference between reading tokens one at a time and in a
/// batch (see the test for why it is wider).
const MAX_SHAPE_DIFF: f32 = 1.0;

#[derive(Serialize, Deserialize)]
struct Reference {
    prompt_tokens: Vec<u32>,
    /// The top logits after reading the prompt in batches, (token, logit).
    after_prefill: Vec<(u32, f32)>,
    /// Greedy tokens decoded after the prompt.
    greedy: Vec<u32>,
    /// The top logits after the last greedy token.
    after_decode: Vec<(u32, f32)>,
}

fn small_model() -> LoadedModel {
    model("qwen2.5-coder-0.5b-instruct")
}

fn model(id: &str) -> LoadedModel {
    let manifest = nordbrief::model::find_manifest(id).unwrap();
    let mut opts = nordbrief::model::ResolveOptions::from_env();
    opts.quiet = true;
    let resolved = nordbrief::model::resolve(&manifest, &opts).expect("test model obtainable");
    load(&resolved.path).expect("test model loads")
}

fn prompt(model: &LoadedModel) -> Vec<u32> {
    let text = std::fs::read_to_string("seeds/000_80af01f0790fae2a.txt").unwrap();
    let messages = [
        nordbrief::model::ChatMessage::system("You summarise Swedish documents in English."),
        nordbrief::model::ChatMessage::user(&text),
    ];
    let rendered = model.template.render(&messages).unwrap();
    let ids = model
        .tokenizer
        .encode(rendered.as_str(), false)
        .unwrap()
        .get_ids()
        .to_vec();
    assert!(
        ids.len() >= PROMPT_TOKENS,
        "seed too short: {} tokens",
        ids.len()
    );
    ids[..PROMPT_TOKENS].to_vec()
}

fn logits_vec(t: &candle_core::Tensor) -> Vec<f32> {
    t.to_vec1::<f32>().unwrap()
}

fn top(logits: &[f32]) -> Vec<(u32, f32)> {
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    order
        .iter()
        .take(TOP)
        .map(|&i| (i as u32, logits[i]))
        .collect()
}

fn argmax(logits: &[f32]) -> u32 {
    top(logits)[0].0
}

fn prefill(model: &mut LoadedModel, tokens: &[u32], batch: usize) -> Vec<f32> {
    let mut last = None;
    for piece in tokens.chunks(batch) {
        last = Some(model.network.forward(piece).unwrap());
    }
    logits_vec(&last.unwrap())
}

/// Prefill, greedy decode, and the logits at each step.
fn run(model: &mut LoadedModel, tokens: &[u32]) -> (Vec<f32>, Vec<u32>, Vec<f32>) {
    model.network.truncate_cache(0).unwrap();
    let after_prefill = prefill(model, tokens, BATCH);
    let mut logits = after_prefill.clone();
    let mut greedy = Vec::new();
    for _ in 0..DECODE_TOKENS {
        let next = argmax(&logits);
        greedy.push(next);
        logits = logits_vec(&model.network.forward(&[next]).unwrap());
    }
    (after_prefill, greedy, logits)
}

fn max_diff(reference: &[(u32, f32)], logits: &[f32]) -> f32 {
    reference
        .iter()
        .map(|&(id, value)| (logits[id as usize] - value).abs())
        .fold(0.0, f32::max)
}

#[test]
fn logits_match_the_reference_implementation() {
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let mut model = small_model();
    let tokens = prompt(&model);
    assert_eq!(
        tokens, reference.prompt_tokens,
        "the tokenizer or the seed changed"
    );

    let (after_prefill, greedy, after_decode) = run(&mut model, &tokens);
    let d = max_diff(&reference.after_prefill, &after_prefill);
    eprintln!("prefill: max |diff| {d}");
    assert!(d <= MAX_ABS_DIFF, "prefill logits differ by {d}");
    assert_eq!(argmax(&after_prefill), reference.after_prefill[0].0);
    assert_eq!(greedy, reference.greedy, "greedy tokens differ");
    let d = max_diff(&reference.after_decode, &after_decode);
    eprintln!("decode: max |diff| {d}");
    assert!(d <= MAX_ABS_DIFF, "decode logits differ by {d}");

    // Cutting the cache back to a prefix and reading the rest in one batch
    // (another batch shape, positions continuing after the prefix) gives the
    // same logits as reading everything from scratch.
    model.network.truncate_cache(REUSED_PREFIX).unwrap();
    assert_eq!(model.network.cached_len(), REUSED_PREFIX);
    let reread = logits_vec(&model.network.forward(&tokens[REUSED_PREFIX..]).unwrap());
    let d = max_diff(&reference.after_prefill, &reread);
    eprintln!("prefix reuse: max |diff| {d}");
    assert!(d <= MAX_ABS_DIFF, "logits after prefix reuse differ by {d}");
    assert_eq!(argmax(&reread), reference.after_prefill[0].0);

    // Token by token (every step a decode) agrees with batched prefill too.
    // The Q8_0 kernel gives one row the same values as many, but attention
    // and the norms run other shapes (one query row against a batch of them)
    // that sum in another order, so this bound is wider; the next token must
    // still agree.
    stepwise_agrees_with_batched(&mut model, &tokens);
}

/// Reading the first 64 tokens one at a time (decode's kernels) and in one
/// batch (prefill's) gives logits within `MAX_SHAPE_DIFF` and the same next
/// token.
fn stepwise_agrees_with_batched(model: &mut LoadedModel, tokens: &[u32]) {
    model.network.truncate_cache(0).unwrap();
    let stepwise = prefill(model, &tokens[..64], 1);
    model.network.truncate_cache(0).unwrap();
    let batched = prefill(model, &tokens[..64], 64);
    let d = stepwise
        .iter()
        .zip(&batched)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    eprintln!("token-by-token vs batched: max |diff| {d}");
    assert!(
        d <= MAX_SHAPE_DIFF,
        "token-by-token and batched prefill differ by {d}"
    );
    assert_eq!(argmax(&stepwise), argmax(&batched));
}

/// The default model's Q4_K and Q6_K weights: decode multiplies one row
/// with candle's dot products, prefill many rows with nordbrief's
/// interleaved kernel, whose integer sums per block are the same but whose
/// float sums over blocks run in another order.
#[test]
fn k_quant_prefill_agrees_with_decode_on_the_default_model() {
    let mut model = model(&nordbrief::model::default_model_id());
    let tokens = prompt(&model);
    stepwise_agrees_with_batched(&mut model, &tokens);
}

/// Several sequences decoded together (`forward_step`: one batch of rows
/// through the weights, each row attending to its own cache) agree with
/// each decoded alone, and a copied prefix continues exactly as the
/// sequence it was copied from would.
fn sequences_decoded_together_agree_with_each_alone(model: &mut LoadedModel, tokens: &[u32]) {
    const STEPS: usize = 6;
    // (prefix shared with sequence 0, continuation read after it)
    let plans: [(usize, &[u32]); 3] = [
        (0, &tokens[..300]),
        (200, &tokens[400..500]),
        (100, &tokens[300..420]),
    ];
    // Alone: each plan read into sequence 0 after the first plan's prompt,
    // cut back to its prefix (as prompts sharing a prefix are read one
    // after another), and decoded with the tokens it picks itself.
    let mut alone = Vec::new();
    for (prefix, rest) in plans {
        model.network.truncate_cache(0).unwrap();
        prefill(model, plans[0].1, BATCH);
        model.network.truncate_cache(prefix).unwrap();
        let mut logits = prefill(model, rest, BATCH);
        let mut steps = vec![logits.clone()];
        let mut fed = Vec::new();
        for _ in 0..STEPS {
            let next = argmax(&logits);
            fed.push(next);
            logits = logits_vec(&model.network.forward(&[next]).unwrap());
            steps.push(logits.clone());
        }
        alone.push((fed, steps));
    }

    // Together: sequence 0 holds the longest prompt; the others copy their
    // prefix from it and read only their continuation.
    model.network.truncate_cache(0).unwrap();
    let first = prefill(model, plans[0].1, BATCH);
    assert_eq!(first, alone[0].1[0], "sequence 0 reads as before");
    for (index, &(prefix, rest)) in plans.iter().enumerate().skip(1) {
        model
            .network
            .copy_prefix(0, index, prefix, prefix + rest.len() + STEPS)
            .unwrap();
        let logits = logits_vec(&model.network.forward_on(index, rest).unwrap());
        assert_eq!(
            logits, alone[index].1[0],
            "a copied prefix continues bit for bit (sequence {index})"
        );
    }
    assert!(
        model.network.copy_prefix(1, 2, 10_000, 10_000).is_err(),
        "a prefix longer than the sequence is refused"
    );
    let mut worst = 0f32;
    for step in 0..STEPS {
        let feed: Vec<(usize, u32)> = alone
            .iter()
            .enumerate()
            .map(|(index, (fed, _))| (index, fed[step]))
            .collect();
        let rows = model.network.forward_step(&feed).unwrap();
        assert_eq!(rows.dims(), &[3, alone[0].1[0].len()]);
        for (index, (_, steps)) in alone.iter().enumerate() {
            let together = logits_vec(&rows.get(index).unwrap());
            let expected = &steps[step + 1];
            let d = together
                .iter()
                .zip(expected)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            worst = worst.max(d);
            // The next token agrees wherever the alone run was not a near tie.
            let best = top(expected);
            if best[0].1 - best[1].1 > 2.0 * MAX_SHAPE_DIFF {
                assert_eq!(
                    argmax(&together),
                    best[0].0,
                    "sequence {index}, step {step}"
                );
            }
        }
    }
    eprintln!("together vs alone: max |diff| {worst}");
    assert!(
        worst <= MAX_SHAPE_DIFF,
        "decoding together differs by {worst}"
    );
    model.network.release_sequences();
    assert!(
        model.network.forward_on(1, &tokens[..1]).is_ok(),
        "a released sequence opens again, empty"
    );
}

#[test]
fn sequences_decoded_together_agree_on_both_models() {
    for id in [
        "qwen2.5-coder-0.5b-instruct".to_string(),
        nordbrief::model::default_model_id(),
    ] {
        let mut model = model(&id);
        let tokens = prompt(&model);
        sequences_decoded_together_agree_with_each_alone(&mut model, &tokens);
    }
}

/// Answers written together: each answers its own prompt (rows of a step do
/// not bleed into each other), prompts sharing a prefix with the first read
/// only the rest, every answer is written, and the answers' decode times add
/// up to no more than the time taken. (A prompt equal to the first reads its
/// last token alone, as decode does, so its answer may differ within the
/// numeric tolerance and is not compared word for word.)
#[test]
fn answers_written_together_are_whole_and_separate() {
    use nordbrief::generate::{GenerationSettings, Generator, ModelGenerator};
    use nordbrief::model::ChatMessage;
    let mut generator = ModelGenerator::new(small_model());
    let system = ChatMessage::system(
        "You translate Swedish into English. Answer with the translation only.",
    );
    let ask = |text: &str| vec![system.clone(), ChatMessage::user(text)];
    let a = ask("Regeringen vill stärka integrationen i kommunerna under 2025.");
    let b = ask("Migrationsverket fattade 12 000 beslut om uppehållstillstånd förra året.");
    let settings = GenerationSettings {
        max_new_tokens: 40,
        ..GenerationSettings::default()
    };
    let start = std::time::Instant::now();
    let together = generator
        .generate_many(&[a.clone(), b.clone(), a.clone()], &settings, &mut |_| {})
        .unwrap();
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(together.len(), 3);
    assert!(together
        .iter()
        .all(|g| g.generated_tokens > 0 && !g.text.trim().is_empty()));
    for (answer, own, other) in [(0, "2025", "12"), (1, "12", "2025"), (2, "2025", "12")] {
        let text = &together[answer].text;
        assert!(
            text.contains(own) && !text.contains(other),
            "answer {answer}: {text}"
        );
    }
    assert_eq!(
        together[2].reused_prompt_tokens,
        together[2].prompt_tokens - 1
    );
    assert!(
        together[1].reused_prompt_tokens > 10,
        "the system prompt is shared"
    );
    let decode: f64 = together.iter().map(|g| g.decode_seconds).sum();
    assert!(decode <= wall, "decode {decode} s in {wall} s");
    // Asked again with feedback after the text (as a part whose notes were
    // not English is), each prompt continues from its own sequence.
    let again_b = ask("Migrationsverket fattade 12 000 beslut om uppehållstillstånd förra året. Svara på engelska.");
    let again_a =
        ask("Regeringen vill stärka integrationen i kommunerna under 2025. Svara på engelska.");
    let again = generator
        .generate_many(&[again_b, again_a], &settings, &mut |_| {})
        .unwrap();
    for (answer, first) in again.iter().zip([&together[1], &together[0]]) {
        assert!(
            answer.reused_prompt_tokens + 12 >= first.prompt_tokens,
            "reused {} of a prompt that first took {}",
            answer.reused_prompt_tokens,
            first.prompt_tokens
        );
    }
    let alone = generator.generate(&b, &settings, &mut |_| {}).unwrap();
    eprintln!(
        "together: {:?}\nalone:    {:?}",
        together[1].text, alone.text
    );
    assert_eq!(alone.prompt_tokens, together[1].prompt_tokens);
}

#[test]
#[ignore = "writes the fixture; run only on the reference implementation"]
fn record_reference() {
    let mut model = small_model();
    let tokens = prompt(&model);
    let (after_prefill, greedy, after_decode) = run(&mut model, &tokens);
    let reference = Reference {
        prompt_tokens: tokens,
        after_prefill: top(&after_prefill),
        greedy,
        after_decode: top(&after_decode),
    };
    std::fs::write(FIXTURE, serde_json::to_string(&reference).unwrap()).unwrap();
}
