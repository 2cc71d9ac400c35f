//! Embeddings kept on disk, keyed by the model's sha256, the prefix and
//! the text, so a re-run over the same documents embeds nothing.
//!
//! One file per model and document (`<dir>/<key>.json`), rewritten when a
//! call adds vectors: a document's paragraphs are embedded together, and a
//! changed document keeps the vectors of its unchanged paragraphs.

use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::cache::write_atomic;
use super::embedder::{Embed, EmbedKind};
use super::error::EmbedError;

/// An [`Embed`] that answers from, and adds to, a folder of cached vectors.
pub struct EmbeddingMemo<'a> {
    inner: &'a dyn Embed,
    file: PathBuf,
    vectors: RefCell<HashMap<String, Vec<f32>>>,
    /// Texts answered from the cache, for reports and tests.
    pub hits: RefCell<usize>,
}

fn key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

impl<'a> EmbeddingMemo<'a> {
    /// The memo of document `document_key` (its id or path) under `dir`.
    pub fn new(inner: &'a dyn Embed, dir: &Path, document_key: &str) -> Self {
        let file = dir.join(format!(
            "{}.json",
            &key(&[inner.model_sha256(), document_key])[..32]
        ));
        // A damaged file is only a cache: start again rather than fail.
        let vectors = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Self {
            inner,
            file,
            vectors: RefCell::new(vectors),
            hits: RefCell::new(0),
        }
    }

    fn save(&self) {
        let vectors = self.vectors.borrow();
        match serde_json::to_vec(&*vectors) {
            Ok(json) => {
                if let Err(e) = write_atomic(&self.file, &json) {
                    tracing::warn!("cannot write {}: {e}", self.file.display());
                }
            }
            Err(e) => tracing::warn!("cannot encode embeddings: {e}"),
        }
    }
}

impl Embed for EmbeddingMemo<'_> {
    fn embed(&self, texts: &[&str], kind: EmbedKind) -> Result<Vec<Vec<f32>>, EmbedError> {
        let keys: Vec<String> = texts
            .iter()
            .map(|t| key(&[self.inner.model_sha256(), kind.prefix(), t]))
            .collect();
        let missing: Vec<usize> = {
            let vectors = self.vectors.borrow();
            (0..texts.len())
                .filter(|&i| !vectors.contains_key(&keys[i]))
                .collect()
        };
        *self.hits.borrow_mut() += texts.len() - missing.len();
        if !missing.is_empty() {
            let asked: Vec<&str> = missing.iter().map(|&i| texts[i]).collect();
            let fresh = self.inner.embed(&asked, kind)?;
            let mut vectors = self.vectors.borrow_mut();
            for (&i, v) in missing.iter().zip(fresh) {
                vectors.insert(keys[i].clone(), v);
            }
        }
        if !missing.is_empty() {
            self.save();
        }
        let vectors = self.vectors.borrow();
        Ok(keys.iter().map(|k| vectors[k].clone()).collect())
    }

    fn model_sha256(&self) -> &str {
        self.inner.model_sha256()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors made from the text's length, counting every call.
    struct Counting {
        calls: RefCell<usize>,
    }

    impl Embed for Counting {
        fn embed(&self, texts: &[&str], _: EmbedKind) -> Result<Vec<Vec<f32>>, EmbedError> {
            *self.calls.borrow_mut() += texts.len();
            Ok(texts.iter().map(|t| vec![t.len() as f32, 1.0]).collect())
        }
        fn model_sha256(&self) -> &str {
            "abc"
        }
    }

    #[test]
    fn a_second_run_embeds_nothing_and_a_changed_text_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let inner = Counting {
            calls: RefCell::new(0),
        };
        let first = EmbeddingMemo::new(&inner, dir.path(), "doc");
        let a = first.embed(&["one", "three"], EmbedKind::Passage).unwrap();
        assert_eq!(*inner.calls.borrow(), 2);
        let again = EmbeddingMemo::new(&inner, dir.path(), "doc");
        let b = again.embed(&["one", "three"], EmbedKind::Passage).unwrap();
        assert_eq!(a, b);
        assert_eq!(*inner.calls.borrow(), 2, "nothing embedded twice");
        assert_eq!(*again.hits.borrow(), 2);
        // A query is another key than a passage of the same text.
        again.embed(&["one", "four"], EmbedKind::Query).unwrap();
        assert_eq!(*inner.calls.borrow(), 4);
        again.embed(&["one", "seven"], EmbedKind::Passage).unwrap();
        assert_eq!(*inner.calls.borrow(), 5);
    }

    #[test]
    fn a_damaged_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let inner = Counting {
            calls: RefCell::new(0),
        };
        let memo = EmbeddingMemo::new(&inner, dir.path(), "doc");
        memo.embed(&["x"], EmbedKind::Passage).unwrap();
        std::fs::write(&memo.file, b"{not json").unwrap();
        let memo = EmbeddingMemo::new(&inner, dir.path(), "doc");
        assert_eq!(
            memo.embed(&["x"], EmbedKind::Passage).unwrap(),
            vec![vec![1.0, 1.0]]
        );
        assert_eq!(*inner.calls.borrow(), 2);
    }
}
