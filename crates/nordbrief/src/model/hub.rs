//! Downloads from the Hugging Face hub into the hf-hub cache.

use hf_hub::api::sync::ApiBuilder;
use hf_hub::{Cache, Repo, RepoType};
use std::path::{Path, PathBuf};

use super::error::one_line;
use super::manifest::HubSource;
use super::options::ResolveOptions;
use super::progress::Progress;

struct HubBar(indicatif::ProgressBar);

impl hf_hub::api::Progress for HubBar {
    fn init(&mut self, size: usize, _filename: &str) {
        self.0.set_length(size as u64);
        self.0.set_position(0);
    }
    fn update(&mut self, size: usize) {
        self.0.inc(size as u64);
    }
    fn finish(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Downloads a hub file into the hf-hub cache; the error is a one-line reason.
pub(super) fn download_from_hub(
    hub: &HubSource,
    opts: &ResolveOptions,
    progress: &Progress,
) -> Result<PathBuf, String> {
    let mut builder = ApiBuilder::from_cache(Cache::new(opts.hub_cache.clone()))
        .with_token(opts.hf_token.clone())
        .with_progress(false);
    if let Some(endpoint) = &opts.hf_endpoint {
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(format!(
                "HF_ENDPOINT `{endpoint}` must start with http:// or https://"
            ));
        }
        builder = builder.with_endpoint(endpoint.clone());
    }
    let api = builder
        .build()
        .map_err(|e| format!("cannot set up the hub client: {e}"))?;
    let repo = api.repo(Repo::with_revision(
        hub.repo.clone(),
        RepoType::Model,
        hub.revision.clone(),
    ));
    let bar = progress.bytes(
        hub.size_bytes.unwrap_or(0),
        &format!("downloading {}", hub.file),
    );
    repo.download_with_progress(&hub.file, HubBar(bar))
        .map_err(|e| format!("download failed: {}", one_line(&e.to_string())))
}

/// Removes a refused hub download: the snapshot link and the blob it names.
pub(super) fn remove_hub_download(path: &Path) {
    if let Ok(blob) = path.canonicalize() {
        if blob != path {
            let _ = std::fs::remove_file(&blob);
        }
    }
    let _ = std::fs::remove_file(path);
}
