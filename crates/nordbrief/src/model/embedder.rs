//! Sentence embeddings with multilingual-e5-small (a BERT encoder with the
//! XLM-R tokenizer), on candle-transformers' `BertModel`.
//!
//! e5 puts a Swedish, Danish or Norwegian paragraph and its English meaning
//! near each other in one 384-wide space; vectors come out unit length, so a
//! dot product is their cosine. The model is read from a folder in the hub
//! layout (`config.json`, `tokenizer.json`, `model.safetensors`), as
//! `models pull multilingual-e5-small` leaves it.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert;
use tokenizers::Tokenizer;

use super::error::EmbedError;

/// Longest input the model takes, special tokens included; longer texts are
/// cut at the end (512 absolute positions in the checkpoint).
pub const MAX_TOKENS: usize = 512;
/// Padded tokens per forward pass: small batches keep every buffer in cache
/// while the matrix products stay large enough for all threads
/// (docs/performance.md has the measurements).
pub const DEFAULT_BATCH_TOKENS: usize = 512;

/// e5 was trained with a prefix telling a search query from a text to be
/// found; using the wrong one costs retrieval quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedKind {
    /// A search query: prefix `"query: "`.
    Query,
    /// A text to be found: prefix `"passage: "`.
    Passage,
}

impl EmbedKind {
    /// The prefix e5 expects in front of the text.
    pub fn prefix(self) -> &'static str {
        match self {
            EmbedKind::Query => "query: ",
            EmbedKind::Passage => "passage: ",
        }
    }
}

/// Anything that turns texts into unit vectors of one model: the
/// [`Embedder`] itself, or a cache in front of it.
pub trait Embed {
    /// One unit-length vector per text, in the order given.
    fn embed(&self, texts: &[&str], kind: EmbedKind) -> Result<Vec<Vec<f32>>, EmbedError>;
    /// The sha256 of the model's weights: what a cached vector is keyed by.
    fn model_sha256(&self) -> &str;
}

impl Embed for Embedder {
    fn embed(&self, texts: &[&str], kind: EmbedKind) -> Result<Vec<Vec<f32>>, EmbedError> {
        Embedder::embed(self, texts, kind)
    }
    fn model_sha256(&self) -> &str {
        &self.sha256
    }
}

/// Cosine of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// (index, cosine) of every vector, nearest to `query` first; ties in index
/// order, so the ranking is deterministic.
pub fn nearest(query: &[f32], vectors: &[Vec<f32>]) -> Vec<(usize, f32)> {
    let mut order: Vec<(usize, f32)> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| (i, cosine(query, v)))
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    order
}

/// A loaded e5 model and its tokenizer. Runs on the CPU, on as many threads
/// as candle uses (`RAYON_NUM_THREADS`, else all cores).
pub struct Embedder {
    encoder: bert::BertModel,
    tokenizer: Tokenizer,
    device: Device,
    pad_id: u32,
    max_tokens: usize,
    batch_tokens: usize,
    hidden: usize,
    sha256: String,
}

#[derive(serde::Deserialize)]
struct ConfigProbe {
    model_type: Option<String>,
    hidden_size: usize,
}

impl Embedder {
    /// Loads the hub layout from `dir`. `sha256` names the weights in
    /// caches of embeddings (the resolver's hash of model.safetensors).
    pub fn load(dir: &Path, sha256: &str) -> Result<Embedder, EmbedError> {
        let file = |name: &'static str| {
            let p = dir.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(EmbedError::MissingFile {
                    dir: dir.to_path_buf(),
                    file: name,
                })
            }
        };
        let config_path = file("config.json")?;
        let tokenizer_path = file("tokenizer.json")?;
        let weights_path = file("model.safetensors")?;

        let config_text =
            std::fs::read_to_string(&config_path).map_err(|source| EmbedError::Read {
                path: config_path.clone(),
                source,
            })?;
        let bad_config = |e: serde_json::Error| EmbedError::Config {
            path: config_path.clone(),
            reason: e.to_string(),
        };
        let probe: ConfigProbe = serde_json::from_str(&config_text).map_err(bad_config)?;
        let model_type = probe.model_type.as_deref().unwrap_or("");
        if model_type != "bert" {
            return Err(EmbedError::UnsupportedModel {
                path: config_path.clone(),
                model_type: model_type.to_string(),
            });
        }
        let device = Device::Cpu;
        let weights_err = |source| EmbedError::Weights {
            path: weights_path.clone(),
            source,
        };
        // SAFETY: the file is mapped read-only while candle copies the
        // tensors out of it; nothing rewrites a model folder while it loads.
        let vars =
            unsafe { VarBuilder::from_mmaped_safetensors(&[&weights_path], DType::F32, &device) }
                .map_err(weights_err)?;
        let cfg: bert::Config = serde_json::from_str(&config_text).map_err(bad_config)?;
        let encoder = bert::BertModel::load(vars, &cfg).map_err(weights_err)?;
        let positions = cfg.max_position_embeddings;
        let max_tokens = positions.clamp(2, MAX_TOKENS);

        let tok_err = |e: tokenizers::Error| EmbedError::Tokenizer {
            path: tokenizer_path.clone(),
            reason: e.to_string(),
        };
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(tok_err)?;
        let pad_id = tokenizer.token_to_id("<pad>").unwrap_or(1);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(tok_err)?;
        tokenizer.with_padding(None);

        Ok(Embedder {
            encoder,
            tokenizer,
            device,
            pad_id,
            max_tokens,
            batch_tokens: DEFAULT_BATCH_TOKENS.max(max_tokens),
            hidden: probe.hidden_size,
            sha256: sha256.to_string(),
        })
    }

    /// The sha256 the embedder was loaded with.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Width of the embeddings (384).
    pub fn dim(&self) -> usize {
        self.hidden
    }

    /// Longest input in tokens, `<s>` and `</s>` included; longer texts are
    /// truncated at the end.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// The tokenizer, for counting tokens the way the model sees them.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Token ids the model is fed for `text` (prefix, `<s>`, `</s>`,
    /// truncation included).
    pub fn token_ids(&self, text: &str, kind: EmbedKind) -> Result<Vec<u32>, EmbedError> {
        let input = format!("{}{}", kind.prefix(), text);
        let enc = self
            .tokenizer
            .encode(input, true)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Embed `texts`, returning one unit-length vector per text in the
    /// caller's order: mean of the last hidden states over the real
    /// (unpadded) tokens, L2-normalised.
    ///
    /// Texts are sorted by token count and cut into batches of similar
    /// length, so little time goes into padding.
    pub fn embed(&self, texts: &[&str], kind: EmbedKind) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let inputs: Vec<String> = texts
            .iter()
            .map(|t| format!("{}{}", kind.prefix(), t))
            .collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();

        // longest first, ties in input order (stable, deterministic)
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));

        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        let mut start = 0;
        while start < order.len() {
            let len = ids[order[start]].len().max(1);
            let n = (self.batch_tokens / len).clamp(1, order.len() - start);
            let batch = &order[start..start + n];
            let rows = self.embed_batch(batch.iter().map(|&i| ids[i]), n, len)?;
            for (&i, row) in batch.iter().zip(rows) {
                out[i] = row;
            }
            start += n;
        }
        Ok(out)
    }

    /// One forward pass over `n` token sequences of at most `len` tokens,
    /// padded on the right.
    fn embed_batch<'a>(
        &self,
        seqs: impl Iterator<Item = &'a [u32]>,
        n: usize,
        len: usize,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut input = vec![self.pad_id; n * len];
        let mut mask = vec![0u32; n * len];
        for (r, s) in seqs.enumerate() {
            input[r * len..r * len + s.len()].copy_from_slice(s);
            mask[r * len..r * len + s.len()].fill(1);
        }
        let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
        let input = Tensor::from_vec(input, (n, len), &self.device)?;
        let hidden = self
            .encoder
            .forward(&input, &input.zeros_like()?, Some(&mask))?;
        let maskf = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (n, len, 1)
        let summed = hidden.broadcast_mul(&maskf)?.sum(1)?; // (n, hidden)
        let counts = maskf.sum(1)?; // (n, 1)
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.maximum(1e-12)?;
        let unit = mean.broadcast_div(&norm)?;
        Ok(unit.to_vec2::<f32>()?)
    }
}
