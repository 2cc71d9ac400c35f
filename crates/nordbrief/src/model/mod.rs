//! Models: manifests, resolution (path → cache → hub → pip mirror), sha256
//! verification, and loading GGUF weights with their tokenizer and chat template.

mod cache;
mod error;
mod gguf;
mod hub;
mod load;
mod manifest;
mod mirror;
mod options;
mod progress;
mod qwen2;
mod requantize;
mod resolve;
mod template;
mod tokenizer;

pub use error::{LoadError, ModelError, SourceAttempt};
pub use gguf::check_gguf;
pub use load::{load, load_tokenizer_only, LoadedModel, Network};
pub use manifest::{
    builtin_manifests, default_model_id, find_manifest, find_manifest_in, ModelManifest,
};
pub use requantize::{read_recipe, tensor_type_counts};
pub use options::{ResolveOptions, ResolvedModel};
pub use resolve::{list, resolve, resolve_path, verify, ModelStatus, VerifyReport};
pub use template::{ChatMessage, ChatTemplate, TemplateError};
