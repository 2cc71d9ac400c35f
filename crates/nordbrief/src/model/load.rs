//! GGUF file → a ready model: weights for its architecture, tokenizer, chat
//! template and end-of-turn tokens. Architecture dispatch lives here and only
//! here, so another family (qwen3, llama, gemma3) is a manifest plus a match arm.

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};
use std::path::Path;
use std::time::Instant;
use tokenizers::Tokenizer;

use super::error::LoadError;
use super::qwen2::Qwen2;
use super::template::ChatTemplate;
use super::tokenizer::load_tokenizer;

/// The network for one architecture, behind one interface.
pub enum Network {
    Qwen2(Qwen2),
}

impl Network {
    pub fn forward(&mut self, tokens: &[u32]) -> candle_core::Result<Tensor> {
        match self {
            Network::Qwen2(m) => m.forward(tokens),
        }
    }
    /// [`Qwen2::forward_on`]: read `tokens` into sequence `index`.
    pub fn forward_on(&mut self, index: usize, tokens: &[u32]) -> candle_core::Result<Tensor> {
        match self {
            Network::Qwen2(m) => m.forward_on(index, tokens),
        }
    }
    /// [`Qwen2::forward_step`]: one token each for several sequences.
    pub fn forward_step(&mut self, steps: &[(usize, u32)]) -> candle_core::Result<Tensor> {
        match self {
            Network::Qwen2(m) => m.forward_step(steps),
        }
    }
    /// [`Qwen2::copy_prefix`].
    pub fn copy_prefix(
        &mut self,
        from: usize,
        to: usize,
        len: usize,
        room: usize,
    ) -> candle_core::Result<()> {
        match self {
            Network::Qwen2(m) => m.copy_prefix(from, to, len, room),
        }
    }
    /// Cut sequence `index`'s cache back to its first `len` positions.
    pub fn truncate_on(&mut self, index: usize, len: usize) -> candle_core::Result<()> {
        match self {
            Network::Qwen2(m) => m.truncate_on(index, len),
        }
    }
    /// Free the caches of every sequence but 0.
    pub fn release_sequences(&mut self) {
        match self {
            Network::Qwen2(m) => m.release_sequences(),
        }
    }
    pub fn cached_len(&self) -> usize {
        match self {
            Network::Qwen2(m) => m.cached_len(),
        }
    }
    pub fn truncate_cache(&mut self, len: usize) -> candle_core::Result<()> {
        match self {
            Network::Qwen2(m) => m.truncate_cache(len),
        }
    }
    pub fn context_length(&self) -> usize {
        match self {
            Network::Qwen2(m) => m.config().context_length,
        }
    }
}

pub struct LoadedModel {
    pub network: Network,
    pub tokenizer: Tokenizer,
    pub template: ChatTemplate,
    /// Tokens that end the assistant's turn.
    pub stop_tokens: Vec<u32>,
    /// `general.name` from the metadata, for display.
    pub name: String,
    pub load_seconds: f64,
}

/// Token strings that end a turn in the chat formats nordbrief supports.
const END_OF_TURN_TOKENS: &[&str] = &["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>"];

fn metadata_string(ct: &gguf_file::Content, key: &str) -> Option<String> {
    ct.metadata
        .get(key)
        .and_then(|v| v.to_string().ok())
        .cloned()
}

/// Read the GGUF header of `path` (no tensor data).
pub fn read_gguf_header(path: &Path) -> Result<gguf_file::Content, LoadError> {
    let mut file = std::fs::File::open(path).map_err(|source| LoadError::Io {
        path: path.into(),
        source,
    })?;
    let ct = gguf_file::Content::read(&mut file).map_err(|e| LoadError::NotGguf {
        path: path.into(),
        reason: e.to_string(),
    })?;
    // A truncated download still has a readable header: check the data fits.
    let file_len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let data_end = ct
        .tensor_infos
        .values()
        .map(|t| {
            let elems = t.shape.elem_count() as u64;
            let block = t.ggml_dtype.block_size() as u64;
            ct.tensor_data_offset + t.offset + elems / block * t.ggml_dtype.type_size() as u64
        })
        .max()
        .unwrap_or(0);
    if data_end > file_len {
        return Err(LoadError::NotGguf {
            path: path.into(),
            reason: format!("file is truncated: {file_len} bytes, tensors need {data_end}"),
        });
    }
    Ok(ct)
}

pub fn load(path: &Path) -> Result<LoadedModel, LoadError> {
    let start = Instant::now();
    let ct = read_gguf_header(path)?;
    let architecture = metadata_string(&ct, "general.architecture").unwrap_or_default();
    let device = Device::Cpu;
    let mut reader =
        std::io::BufReader::new(std::fs::File::open(path).map_err(|source| LoadError::Io {
            path: path.into(),
            source,
        })?);
    let network = match architecture.as_str() {
        "qwen2" => Network::Qwen2(Qwen2::from_gguf(&ct, &mut reader, &device).map_err(|e| {
            LoadError::Weights {
                path: path.into(),
                reason: e.to_string(),
            }
        })?),
        _ => {
            return Err(LoadError::UnsupportedArchitecture {
                path: path.into(),
                architecture,
            })
        }
    };
    let tokenizer = load_tokenizer(path, &ct)?;
    let template_source =
        metadata_string(&ct, "tokenizer.chat_template").ok_or_else(|| LoadError::Template {
            path: path.into(),
            reason: "the file carries no chat template (tokenizer.chat_template)".into(),
        })?;
    let token_text = |key: &str| {
        ct.metadata
            .get(key)
            .and_then(|v| v.to_u32().ok())
            .and_then(|id| tokenizer.id_to_token(id))
            .unwrap_or_default()
    };
    let template = ChatTemplate::new(
        &template_source,
        &token_text("tokenizer.ggml.bos_token_id"),
        &token_text("tokenizer.ggml.eos_token_id"),
    )
    .map_err(|e| LoadError::Template {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let mut stop_tokens: Vec<u32> = END_OF_TURN_TOKENS
        .iter()
        .filter_map(|t| tokenizer.token_to_id(t))
        .collect();
    if let Some(eos) = ct
        .metadata
        .get("tokenizer.ggml.eos_token_id")
        .and_then(|v| v.to_u32().ok())
    {
        if !stop_tokens.contains(&eos) {
            stop_tokens.push(eos);
        }
    }
    Ok(LoadedModel {
        network,
        tokenizer,
        template,
        stop_tokens,
        name: metadata_string(&ct, "general.name").unwrap_or_else(|| architecture.clone()),
        load_seconds: start.elapsed().as_secs_f64(),
    })
}

/// Only the tokenizer of the model at `path` (reads the GGUF header, not the
/// weights): enough to count tokens.
pub fn load_tokenizer_only(path: &Path) -> Result<Tokenizer, LoadError> {
    let ct = read_gguf_header(path)?;
    load_tokenizer(path, &ct)
}
