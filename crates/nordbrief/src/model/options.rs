//! Where models are looked for ([`ResolveOptions`]) and what resolving
//! gives ([`ResolvedModel`]), shared by the file and folder resolvers.

use serde::Serialize;
use std::path::{Path, PathBuf};

use super::cache::CacheDir;
use super::manifest::{ModelManifest, MODELS_DIR_ENV};
use super::progress::Progress;

/// Where and how models are looked for. [`ResolveOptions::from_env`] reads
/// the usual environment; tests build one with explicit folders instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveOptions {
    /// Skip the hub (`HF_HUB_OFFLINE=1`).
    pub offline: bool,
    /// No progress bars or notices.
    pub quiet: bool,
    /// Use a source without a sha256 pin, recording its hash on first use
    /// (`NORDBRIEF_ALLOW_UNPINNED=1` or `--allow-unpinned`).
    pub allow_unpinned: bool,
    /// The hf-hub cache folder (`HF_HUB_CACHE`, else `$HF_HOME/hub`).
    pub hub_cache: PathBuf,
    /// `HF_ENDPOINT`; None keeps hf-hub's default.
    pub hf_endpoint: Option<String>,
    /// `HF_TOKEN`, else the token file `$HF_HOME/token`.
    pub hf_token: Option<String>,
    /// nordbrief's cache folder (`NORDBRIEF_CACHE`).
    pub cache_dir: PathBuf,
    /// Python used to run pip (`NORDBRIEF_PYTHON`, default `python3`).
    pub python: String,
    /// Extra manifests (`NORDBRIEF_MODELS_DIR`).
    pub models_dir: Option<PathBuf>,
}

fn truthy(value: Option<String>) -> bool {
    value.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

impl ResolveOptions {
    /// Options from the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Options from any variable lookup (the environment, or a test's map).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let var = |key: &str| var(key).filter(|v| !v.trim().is_empty());
        let home = var("HOME").map(PathBuf::from);
        let user_cache = var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".cache")))
            // Without a home folder the cache still has to live somewhere.
            .unwrap_or_else(|| std::env::temp_dir().join("nordbrief-cache-home"));
        let hf_home = var("HF_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| user_cache.join("huggingface"));
        let hf_token = var("HF_TOKEN").or_else(|| {
            std::fs::read_to_string(hf_home.join("token"))
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        });
        Self {
            offline: truthy(var("HF_HUB_OFFLINE")),
            quiet: false,
            allow_unpinned: truthy(var("NORDBRIEF_ALLOW_UNPINNED")),
            hub_cache: var("HF_HUB_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| hf_home.join("hub")),
            hf_endpoint: var("HF_ENDPOINT").map(|e| e.trim_end_matches('/').to_string()),
            hf_token,
            cache_dir: var("NORDBRIEF_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| user_cache.join("nordbrief")),
            python: var("NORDBRIEF_PYTHON").unwrap_or_else(|| "python3".to_string()),
            models_dir: var(MODELS_DIR_ENV).map(PathBuf::from),
        }
    }

    /// Options confined to `root` (hub cache `root/hf/hub`, cache `root/nordbrief`),
    /// offline and quiet: for tests and tools that must not touch the user's caches.
    pub fn isolated(root: &Path) -> Self {
        Self {
            offline: true,
            quiet: true,
            allow_unpinned: false,
            hub_cache: root.join("hf").join("hub"),
            hf_endpoint: None,
            hf_token: None,
            cache_dir: root.join("nordbrief"),
            python: "python3".to_string(),
            models_dir: None,
        }
    }

    pub fn cache(&self) -> CacheDir {
        CacheDir::new(&self.cache_dir)
    }

    pub(super) fn progress(&self) -> Progress {
        Progress::new(self.quiet)
    }
}

/// A verified local model file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedModel {
    /// The manifest id, or the file stem for an unknown `--model-path` file.
    pub id: String,
    pub path: PathBuf,
    pub sha256: String,
    pub size_bytes: u64,
    /// Where the file came from: "path", "hf-cache", "cache" (an earlier
    /// mirror pull), "hub", "pip-mirror" or "derived".
    pub source: String,
    /// For a derived file: the sha256 of the file it was converted from.
    pub derived_from: Option<String>,
    #[serde(skip)]
    pub manifest: Option<ModelManifest>,
}

/// A cached model as `models list` shows it; found without hashing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelStatus {
    pub id: String,
    pub name: String,
    /// "text" or "embedding".
    pub kind: String,
    pub default: bool,
    /// Size of the cached file, else the expected size of the base file.
    pub size_bytes: Option<u64>,
    pub cached: bool,
    /// Whether a stamp shows the cached file was verified and has not changed since.
    pub verified: bool,
    pub path: Option<PathBuf>,
    /// "derived", "cache" or "hf-cache".
    pub source: Option<String>,
}

/// The result of re-hashing every cached copy of a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    pub id: String,
    pub files: Vec<VerifiedFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifiedFile {
    pub path: PathBuf,
    /// "derived", "cache" or "hf-cache".
    pub role: String,
    pub size_bytes: u64,
    pub sha256: String,
    /// Hashes this file may have.
    pub expected: Vec<String>,
    pub ok: bool,
}

impl VerifyReport {
    pub fn all_ok(&self) -> bool {
        self.files.iter().all(|f| f.ok)
    }
}

pub(super) fn notice(opts: &ResolveOptions, text: &str) {
    tracing::info!("{text}");
    if !opts.quiet {
        eprintln!("{text}");
    }
}

pub(super) fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::Path;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn options_follow_the_environment() {
        let opts = ResolveOptions::from_lookup(lookup(&[("HOME", "/home/u")]));
        assert!(!opts.offline);
        assert_eq!(opts.hub_cache, Path::new("/home/u/.cache/huggingface/hub"));
        assert_eq!(opts.cache_dir, Path::new("/home/u/.cache/nordbrief"));
        assert_eq!(opts.python, "python3");
        assert_eq!(opts.hf_endpoint, None);

        let opts = ResolveOptions::from_lookup(lookup(&[
            ("HOME", "/home/u"),
            ("XDG_CACHE_HOME", "/xdg"),
            ("HF_HOME", "/hf"),
            ("HF_HUB_OFFLINE", "1"),
            ("HF_ENDPOINT", "http://mirror.local/"),
            ("HF_TOKEN", "tok"),
            ("NORDBRIEF_PYTHON", "/opt/py"),
            ("NORDBRIEF_ALLOW_UNPINNED", "yes"),
        ]));
        assert!(opts.offline && opts.allow_unpinned);
        assert_eq!(opts.hub_cache, Path::new("/hf/hub"));
        assert_eq!(opts.cache_dir, Path::new("/xdg/nordbrief"));
        assert_eq!(opts.hf_endpoint.as_deref(), Some("http://mirror.local"));
        assert_eq!(opts.hf_token.as_deref(), Some("tok"));
        assert_eq!(opts.python, "/opt/py");

        let opts = ResolveOptions::from_lookup(lookup(&[
            ("HF_HUB_CACHE", "/hc"),
            ("NORDBRIEF_CACHE", "/nc"),
            ("HF_HUB_OFFLINE", "0"),
        ]));
        assert!(!opts.offline);
        assert_eq!(opts.hub_cache, Path::new("/hc"));
        assert_eq!(opts.cache_dir, Path::new("/nc"));
    }

    #[test]
    fn token_file_under_hf_home_is_used_without_hf_token() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "secret\n").unwrap();
        let home = dir.path().to_string_lossy().into_owned();
        let opts = ResolveOptions::from_lookup(lookup(&[("HF_HOME", &home)]));
        assert_eq!(opts.hf_token.as_deref(), Some("secret"));
    }
}
