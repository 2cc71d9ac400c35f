//! Development crate for nordbrief's multilingual sentence embeddings.
//! Everything lives in [`embed`].

pub mod embed;
