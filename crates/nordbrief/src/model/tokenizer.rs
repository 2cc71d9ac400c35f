//! The model's tokenizer: a `tokenizer.json` beside the weights when there is
//! one, otherwise rebuilt from the GGUF metadata.

use candle_core::quantized::gguf_file;
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use std::path::Path;
use tokenizers::Tokenizer;

use super::error::LoadError;

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
    check_pre_tokenizer(&pre).map_err(|reason| LoadError::Tokenizer {
        path: model_path.to_path_buf(),
        reason,
    })?;
    Tokenizer::from_gguf(ct).map_err(|e| LoadError::Tokenizer {
        path: model_path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Refuse a `tokenizer.ggml.pre` that candle would silently treat as GPT-2.
fn check_pre_tokenizer(pre: &str) -> Result<(), String> {
    if KNOWN_PRE_TOKENIZERS.contains(&pre) {
        return Ok(());
    }
    Err(format!(
        "its pre-tokenizer `{pre}` is not one nordbrief can rebuild from GGUF (known: {}); \
         put the model's tokenizer.json beside the file",
        KNOWN_PRE_TOKENIZERS.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_pre_tokenizers_pass_and_others_are_refused() {
        assert!(check_pre_tokenizer("qwen2").is_ok());
        let err = check_pre_tokenizer("gemma4").unwrap_err();
        assert!(
            err.contains("gemma4") && err.contains("tokenizer.json"),
            "{err}"
        );
        assert!(check_pre_tokenizer("").is_err());
    }
}
