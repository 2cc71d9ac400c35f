//! Derived model files: tensors of slow GGUF types rewritten as a fast one
//! with candle's own quantizer (dequantize, then quantize), done once at pull
//! time. On x86 candle has SIMD kernels for Q4_K, Q6_K and Q8_0 but runs Q5_0,
//! Q5_1 and Q4_1 with scalar code, so a Q5_0 model gains several times over
//! by becoming Q8_0 (at the cost of a larger file).
//!
//! The output is deterministic (tensors in their original order, metadata
//! sorted by key), and a JSON recipe beside it records what it came from.

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::cache::PARTIAL_PREFIX;
use super::error::ModelError;
use super::manifest::DeriveRule;
use super::progress::Progress;

/// The candle version whose quantizer writes derived files; part of every
/// recipe, so an upgrade re-derives (a test keeps it equal to Cargo.lock).
pub const CANDLE_VERSION: &str = "0.11.1";

/// Block length shared by every type a rule may name (see `DERIVE_TYPES`).
const BLOCK: usize = 32;

/// What a derived file was made from and how; stored as `<file>.recipe.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    pub rule: DeriveRule,
    pub source_sha256: String,
    pub candle_version: String,
    pub nordbrief_version: String,
    /// sha256 and size of the derived file.
    pub sha256: String,
    pub size_bytes: u64,
    pub converted_tensors: usize,
    /// Tensors of a `from` type kept because their rows are not a multiple of 32.
    pub kept_tensors: Vec<String>,
    pub tensor_types_before: BTreeMap<String, usize>,
    pub tensor_types_after: BTreeMap<String, usize>,
    pub seconds: f64,
}

impl Recipe {
    /// Whether this recipe describes `rule` applied to a file with `source_sha256`
    /// by this build's candle.
    pub fn matches(&self, rule: &DeriveRule, source_sha256: &str) -> bool {
        self.rule == *rule
            && self.source_sha256 == source_sha256
            && self.candle_version == CANDLE_VERSION
    }
}

/// Path of the recipe beside a derived file.
pub fn recipe_path(derived: &Path) -> PathBuf {
    let mut name = derived.as_os_str().to_owned();
    name.push(".recipe.json");
    PathBuf::from(name)
}

pub fn read_recipe(derived: &Path) -> Option<Recipe> {
    let text = std::fs::read_to_string(recipe_path(derived)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Name of a GGUF tensor type as manifests write it ("Q5_0", "Q4K", "F32").
pub fn type_name(dtype: GgmlDType) -> String {
    format!("{dtype:?}")
}

fn parse_type(name: &str) -> Option<GgmlDType> {
    use GgmlDType::*;
    [
        F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2K, Q3K, Q4K, Q5K, Q6K, Q8K,
    ]
    .into_iter()
    .find(|t| type_name(*t) == name)
}

/// How many tensors of each type a GGUF file holds.
pub fn tensor_type_counts(path: &Path) -> Result<BTreeMap<String, usize>, ModelError> {
    let mut reader = open(path)?;
    let content = read_content(&mut reader, path)?;
    Ok(count_types(
        content.tensor_infos.values().map(|t| t.ggml_dtype),
    ))
}

fn count_types(types: impl Iterator<Item = GgmlDType>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for t in types {
        *counts.entry(type_name(t)).or_insert(0) += 1;
    }
    counts
}

fn open(path: &Path) -> Result<BufReader<File>, ModelError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| ModelError::io(format!("cannot open {}", path.display()), e))
}

fn read_content(
    reader: &mut BufReader<File>,
    path: &Path,
) -> Result<gguf_file::Content, ModelError> {
    gguf_file::Content::read(reader).map_err(|e| ModelError::NotGguf {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Applies `rule` to the GGUF file `source` and writes the result to `dest`
/// (through a temporary file in the same folder), then its recipe beside it.
pub fn derive_file(
    source: &Path,
    source_sha256: &str,
    rule: &DeriveRule,
    dest: &Path,
    progress: &Progress,
) -> Result<Recipe, ModelError> {
    let started = Instant::now();
    let derive_error = |reason: String| ModelError::Derive {
        id: dest.display().to_string(),
        reason,
    };
    let from: Vec<GgmlDType> = rule
        .from
        .iter()
        .map(|n| parse_type(n).ok_or_else(|| derive_error(format!("unknown tensor type {n}"))))
        .collect::<Result<_, _>>()?;
    let to = parse_type(&rule.to)
        .ok_or_else(|| derive_error(format!("unknown tensor type {}", rule.to)))?;

    let mut reader = open(source)?;
    let content = read_content(&mut reader, source)?;
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort_by_key(|name| (content.tensor_infos[*name].offset, name.as_str()));
    let before = count_types(content.tensor_infos.values().map(|t| t.ggml_dtype));

    let bar = progress.count(names.len() as u64, "converting tensors");
    let device = Device::Cpu;
    let mut tensors: Vec<(&str, QTensor)> = Vec::with_capacity(names.len());
    let mut kept = Vec::new();
    let mut converted = 0;
    for name in names {
        let tensor = content
            .tensor(&mut reader, name, &device)
            .map_err(|e| derive_error(format!("cannot read tensor {name}: {e}")))?;
        let row_length = tensor.shape().dims().last().copied().unwrap_or(0);
        let tensor = if from.contains(&tensor.dtype()) {
            // candle itself refuses such tensors when reading, so this only
            // guards against a future reader that accepts them.
            if row_length % BLOCK == 0 {
                converted += 1;
                let values = tensor
                    .dequantize(&device)
                    .map_err(|e| derive_error(format!("cannot dequantize {name}: {e}")))?;
                QTensor::quantize(&values, to)
                    .map_err(|e| derive_error(format!("cannot quantize {name}: {e}")))?
            } else {
                kept.push(name.clone());
                tensor
            }
        } else {
            tensor
        };
        tensors.push((name.as_str(), tensor));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let after = count_types(tensors.iter().map(|(_, t)| t.dtype()));

    // candle's writer aligns tensor data to 32 bytes, so a different declared
    // alignment would make readers look in the wrong place.
    let alignment = gguf_file::Value::U32(32);
    let source_value = gguf_file::Value::String(source_sha256.to_string());
    let rule_value = gguf_file::Value::String(format!(
        "{} {} -> {}",
        rule.tag(),
        rule.from.join(","),
        rule.to
    ));
    let mut metadata: BTreeMap<&str, &gguf_file::Value> = content
        .metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    if metadata.contains_key("general.alignment") {
        metadata.insert("general.alignment", &alignment);
    }
    metadata.insert("nordbrief.derive.source_sha256", &source_value);
    metadata.insert("nordbrief.derive.rule", &rule_value);
    let metadata: Vec<(&str, &gguf_file::Value)> = metadata.into_iter().collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();

    let dir = dest.parent().unwrap_or(Path::new("."));
    let partial = tempfile::Builder::new()
        .prefix(PARTIAL_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| ModelError::io(format!("cannot create a file in {}", dir.display()), e))?;
    let mut writer = HashingWriter::new(partial.as_file());
    gguf_file::write(&mut writer, &metadata, &tensor_refs)
        .map_err(|e| derive_error(format!("cannot write the converted file: {e}")))?;
    let (sha256, size_bytes) = writer
        .finish()
        .map_err(|e| ModelError::io(format!("cannot write {}", partial.path().display()), e))?;
    drop(tensors);
    partial
        .as_file()
        .sync_all()
        .map_err(|e| ModelError::io("cannot write the converted file", e))?;

    // The converted file must read back as GGUF with every tensor in bounds.
    super::gguf::check_gguf(partial.path())
        .map_err(|e| derive_error(format!("the converted file is unreadable: {e}")))?;

    super::cache::publish(partial, dest)?;
    let recipe = Recipe {
        rule: rule.clone(),
        source_sha256: source_sha256.to_string(),
        candle_version: CANDLE_VERSION.to_string(),
        nordbrief_version: env!("CARGO_PKG_VERSION").to_string(),
        sha256,
        size_bytes,
        converted_tensors: converted,
        kept_tensors: kept,
        tensor_types_before: before,
        tensor_types_after: after,
        seconds: started.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_vec_pretty(&recipe).map_err(|e| derive_error(e.to_string()))?;
    let recipe_file = recipe_path(dest);
    super::cache::write_atomic(&recipe_file, &json)
        .map_err(|e| ModelError::io(format!("cannot write {}", recipe_file.display()), e))?;
    Ok(recipe)
}

/// A writer that hashes what passes through it. candle's GGUF writer only
/// asks for the current position, so that is the only seek it supports.
struct HashingWriter<W: Write> {
    inner: BufWriter<W>,
    hasher: Sha256,
    position: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        Self {
            inner: BufWriter::with_capacity(8 << 20, inner),
            hasher: Sha256::new(),
            position: 0,
        }
    }

    fn finish(mut self) -> std::io::Result<(String, u64)> {
        self.inner.flush()?;
        Ok((hex::encode(self.hasher.finalize()), self.position))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.position += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Seek for HashingWriter<W> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        match pos {
            SeekFrom::Current(0) => Ok(self.position),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "the hashing writer only reports its position",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::manifest::DeriveKind;
    use candle_core::Tensor;

    fn rule() -> DeriveRule {
        DeriveRule {
            kind: DeriveKind::Requantize,
            from: vec!["Q5_0".into(), "Q4_1".into()],
            to: "Q8_0".into(),
            files: Default::default(),
        }
    }

    /// A small GGUF with a Q5_0 matrix, a Q4_0 matrix (not named by the
    /// rule) and an F32 vector.
    fn write_model(path: &Path) -> Tensor {
        let device = Device::Cpu;
        let values: Vec<f32> = (0..64 * 32).map(|i| ((i as f32) * 0.37).sin()).collect();
        let matrix = Tensor::from_vec(values, (64, 32), &device).unwrap();
        let q5 = QTensor::quantize(&matrix, GgmlDType::Q5_0).unwrap();
        let q4 = QTensor::quantize(&matrix, GgmlDType::Q4_0).unwrap();
        let norm = QTensor::quantize(
            &Tensor::ones(32, candle_core::DType::F32, &device).unwrap(),
            GgmlDType::F32,
        )
        .unwrap();
        let name = gguf_file::Value::String("test".into());
        let mut file = File::create(path).unwrap();
        gguf_file::write(
            &mut file,
            &[("general.name", &name)],
            &[
                ("blk.0.attn_q.weight", &q5),
                ("blk.0.attn_k.weight", &q4),
                ("output_norm.weight", &norm),
            ],
        )
        .unwrap();
        matrix
    }

    #[test]
    fn q5_0_tensors_become_q8_0_and_stay_close() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("m.gguf");
        let original = write_model(&source);
        let dest = dir.path().join("m.requant-q8_0.gguf");
        let recipe = derive_file(
            &source,
            &"a".repeat(64),
            &rule(),
            &dest,
            &Progress::hidden(),
        )
        .unwrap();

        assert_eq!(recipe.converted_tensors, 1);
        let counts = |pairs: &[(&str, usize)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(
            recipe.tensor_types_before,
            counts(&[("F32", 1), ("Q4_0", 1), ("Q5_0", 1)])
        );
        assert_eq!(
            recipe.tensor_types_after,
            counts(&[("F32", 1), ("Q4_0", 1), ("Q8_0", 1)])
        );
        assert_eq!(
            tensor_type_counts(&dest).unwrap(),
            recipe.tensor_types_after
        );
        assert_eq!(
            crate::model::cache::sha256_file(&dest, &Progress::hidden()).unwrap(),
            recipe.sha256
        );
        assert_eq!(std::fs::metadata(&dest).unwrap().len(), recipe.size_bytes);
        assert_eq!(read_recipe(&dest).unwrap(), recipe);
        assert!(recipe.matches(&rule(), &"a".repeat(64)));
        assert!(!recipe.matches(&rule(), &"b".repeat(64)));

        let mut reader = BufReader::new(File::open(&dest).unwrap());
        let content = gguf_file::Content::read(&mut reader).unwrap();
        assert_eq!(
            content.metadata["nordbrief.derive.source_sha256"]
                .to_string()
                .unwrap(),
            &"a".repeat(64)
        );
        let converted = content
            .tensor(&mut reader, "blk.0.attn_q.weight", &Device::Cpu)
            .unwrap();
        let diff = (converted.dequantize(&Device::Cpu).unwrap() - &original)
            .unwrap()
            .abs()
            .unwrap();
        let max = diff
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        // Q5_0 error (about 1/32 of the block scale) dominates; Q8_0 adds little.
        assert!(max < 0.08, "max abs difference {max}");
    }

    #[test]
    fn output_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("m.gguf");
        write_model(&source);
        let first = derive_file(
            &source,
            &"a".repeat(64),
            &rule(),
            &dir.path().join("a.gguf"),
            &Progress::hidden(),
        )
        .unwrap();
        let second = derive_file(
            &source,
            &"a".repeat(64),
            &rule(),
            &dir.path().join("b.gguf"),
            &Progress::hidden(),
        )
        .unwrap();
        assert_eq!(first.sha256, second.sha256);
    }

    #[test]
    fn a_file_that_is_not_gguf_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.gguf");
        std::fs::write(&path, b"not a model").unwrap();
        let err = derive_file(
            &path,
            &"c".repeat(64),
            &rule(),
            &dir.path().join("o.gguf"),
            &Progress::hidden(),
        )
        .unwrap_err();
        assert!(matches!(err, ModelError::NotGguf { .. }), "{err}");
        assert!(!dir.path().join("o.gguf").exists());
    }

    #[test]
    fn candle_version_matches_the_lock_file() {
        let lock =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock"))
                .unwrap();
        let expected = format!("name = \"candle-core\"\nversion = \"{CANDLE_VERSION}\"");
        assert!(
            lock.contains(&expected),
            "update CANDLE_VERSION to the candle-core version in Cargo.lock"
        );
    }

    #[test]
    fn type_names_round_trip() {
        for name in ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4K", "Q6K", "F32"] {
            assert_eq!(type_name(parse_type(name).unwrap()), name);
        }
    }
}
