//! Models: manifests, resolution (path → cache → hub → pip mirror), sha256
//! verification, and loading GGUF weights with their tokenizer and chat template.

pub mod cache;
pub mod error;
pub mod gguf;
pub mod load;
pub mod manifest;
pub mod mirror;
pub mod progress;
pub mod qwen2;
pub mod requantize;
pub mod resolve;
pub mod template;
pub mod tokenizer;

pub use error::{LoadError, ModelError, SourceAttempt};
pub use gguf::check_gguf;
pub use manifest::{
    builtin_manifests, default_model_id, find_manifest, find_manifest_in, ModelManifest,
};
pub use resolve::{
    list, resolve, resolve_path, verify, ModelStatus, ResolveOptions, ResolvedModel, VerifyReport,
};
