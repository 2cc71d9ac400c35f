//! The model's tokenizer: a `tokenizer.json` beside the weights when there is
//! one, otherwise rebuilt from the GGUF metadata.

use candle_core::quantized::gguf_file;
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use std::path::Path;
use tokenizers::Tokenizer;

use super::load::LoadError;

/// `tokenizer.ggml.pre` values that candle's GGUF tokenizer rebuilds faithfully.
/// Any other value would silently fall back to GPT-2 rules and give wrong ids.
const KNOWN_PRE_TOKENIZERS: &[&str] = &["qwen2", "llama3", "smaug-bpe", "lfm2"];

pub fn load_tokenizer(model_path: &Path, ct: &gguf_file::Content) -> Result<Tokenizer, LoadError> {
    if let Some(json) = model_path.parent().map(|dir| dir.join("tokenizer.json")) {
        if json.is_file() {
            return Tokenizer::from_file(&json).map_err(|e| LoadError::Tokenizer {
                path: model_path.to_path_buf(),
                reason: format!("{}: {e}", json.display()),
            });
        }
    }
    let pre = ct
        .metadata
        .get("tokenizer.ggml.pre")
        .and_then(|v| v.to_string().ok())
        .cloned()
        .unwrap_or_default();
    if !KNOWN_PRE_TOKENIZERS.contains(&pre.as_str()) {
        return Err(LoadError::Tokenizer {
            path: model_path.to_path_buf(),
            reason: format!(
                "its pre-tokenizer `{pre}` is not one nordbrief can rebuild from GGUF \
                 (known: {}); put the model's tokenizer.json beside the file",
                KNOWN_PRE_TOKENIZERS.join(", ")
            ),
        });
    }
    Tokenizer::from_gguf(ct).map_err(|e| LoadError::Tokenizer {
        path: model_path.to_path_buf(),
        reason: e.to_string(),
    })
}
