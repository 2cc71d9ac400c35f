//! nordbrief's own model cache and the Hugging Face hub cache layout.
//!
//! nordbrief's cache (`NORDBRIEF_CACHE`, default `$XDG_CACHE_HOME/nordbrief`
//! or `~/.cache/nordbrief`):
//!
//! ```text
//! models/<id>/<file>                    file assembled from a mirror
//! models/<id>/<stem>.<rule>.gguf        derived (converted) file
//! models/<id>/<stem>.<rule>.gguf.recipe.json
//! models/<id>/trusted-hub.json          hash recorded for an unpinned hub file
//! models/<id>/.lock                     held while a pull runs
//! models/<id>/.partial-* .tmp-*         left by an interrupted pull; removed by the next
//! stamps/<key>.json                     size, mtime and sha256 of a verified file
//! ```
//!
//! A stamp lets a 1 GB file be hashed once: later loads trust the recorded
//! sha256 while the file's size and modification time are unchanged.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::error::ModelError;
use super::manifest::HubSource;
use super::progress::Progress;

/// Prefix of temporary files inside a model's cache folder.
pub const PARTIAL_PREFIX: &str = ".partial-";
/// Prefix of temporary folders (pip downloads) inside a model's cache folder.
pub const TMP_PREFIX: &str = ".tmp-";

const HASH_BUFFER: usize = 4 << 20;

/// Locations of nordbrief's cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheDir {
    pub root: PathBuf,
}

impl CacheDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Folder holding one model's files.
    pub fn model_dir(&self, id: &str) -> PathBuf {
        self.root.join("models").join(id)
    }

    fn stamp_path(&self, file: &Path) -> PathBuf {
        let canonical = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
        let key = hex::encode(Sha256::digest(canonical.to_string_lossy().as_bytes()));
        self.root
            .join("stamps")
            .join(format!("{}.json", &key[..32]))
    }

    /// Record of a hash trusted on first use for a model's unpinned hub file.
    pub fn trusted_hub_path(&self, id: &str) -> PathBuf {
        self.model_dir(id).join("trusted-hub.json")
    }

    /// Creates a model's folder and takes its pull lock, then removes what an
    /// interrupted pull left behind (safe: nobody else holds the lock).
    ///
    /// A read-only cache (a shared, pre-filled folder) is not an error: the
    /// models already in it are still used, unlocked (nothing can be written
    /// there, so there is nothing to guard), and [`ModelLock::read_only`]
    /// lets a failed pull say why it could not store anything.
    pub fn lock_model(&self, id: &str, quiet: bool) -> Result<ModelLock, ModelError> {
        let dir = self.model_dir(id);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            if is_read_only(&e) {
                return Ok(ModelLock {
                    _file: None,
                    read_only: true,
                });
            }
            return Err(ModelError::io(
                format!("cannot create cache folder {}", dir.display()),
                e,
            ));
        }
        let path = dir.join(".lock");
        let file = match File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
        {
            Ok(file) => file,
            Err(e) if is_read_only(&e) => {
                // flock needs no write access: a lock file that exists still
                // waits for a pull running with other permissions.
                let file = File::open(&path).ok();
                if let Some(file) = &file {
                    file.lock_shared().map_err(|e| {
                        ModelError::io(format!("cannot lock {}", path.display()), e)
                    })?;
                }
                return Ok(ModelLock {
                    _file: file,
                    read_only: true,
                });
            }
            Err(e) => {
                return Err(ModelError::io(
                    format!("cannot open lock file {}", path.display()),
                    e,
                ))
            }
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                if !quiet {
                    eprintln!("waiting for another nordbrief process to finish pulling {id} …");
                }
                file.lock()
                    .map_err(|e| ModelError::io(format!("cannot lock {}", path.display()), e))?;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(ModelError::io(format!("cannot lock {}", path.display()), e));
            }
        }
        remove_leftovers(&dir);
        Ok(ModelLock {
            _file: Some(file),
            read_only: false,
        })
    }
}

fn is_read_only(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
    )
}

/// Holds a model's pull lock until dropped.
#[derive(Debug)]
pub struct ModelLock {
    _file: Option<File>,
    /// The model's cache folder cannot be written: nothing can be stored there.
    pub read_only: bool,
}

/// Removes temporary files and folders of interrupted pulls from `dir`.
pub fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(PARTIAL_PREFIX) || name.starts_with(TMP_PREFIX)) {
            continue;
        }
        let path = entry.path();
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match removed {
            Ok(()) => tracing::info!("removed {} left by an interrupted pull", path.display()),
            Err(e) => tracing::warn!("cannot remove {}: {e}", path.display()),
        }
    }
}

/// What is known about a file once it was hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub path: PathBuf,
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: u64,
    pub sha256: String,
}

fn size_and_mtime(path: &Path) -> std::io::Result<(u64, u64)> {
    let meta = std::fs::metadata(path)?;
    let mtime = meta
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    Ok((meta.len(), mtime))
}

/// Streams a file through sha256, with a byte progress bar.
pub fn sha256_file(path: &Path, progress: &Progress) -> Result<String, ModelError> {
    let mut file = File::open(path)
        .map_err(|e| ModelError::io(format!("cannot open {}", path.display()), e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress.bytes(size, &format!("verifying {}", file_label(path)));
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; HASH_BUFFER];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| ModelError::io(format!("cannot read {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    Ok(hex::encode(hasher.finalize()))
}

fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl CacheDir {
    /// The sha256 of `path`, from its stamp when size and mtime are unchanged,
    /// otherwise hashed now (and the stamp rewritten).
    pub fn sha256_stamped(&self, path: &Path, progress: &Progress) -> Result<String, ModelError> {
        if let Some(stamp) = self.valid_stamp(path) {
            return Ok(stamp.sha256);
        }
        self.sha256_fresh(path, progress)
    }

    /// Hashes `path` now, ignoring any stamp, and records the result.
    pub fn sha256_fresh(&self, path: &Path, progress: &Progress) -> Result<String, ModelError> {
        let before = size_and_mtime(path)
            .map_err(|e| ModelError::io(format!("cannot read {}", path.display()), e))?;
        let sha256 = sha256_file(path, progress)?;
        // A file rewritten while it was hashed gets no stamp, so the next run hashes again.
        if size_and_mtime(path).ok() == Some(before) {
            let stamp = Stamp {
                path: path.to_path_buf(),
                size: before.0,
                mtime_ns: before.1,
                sha256: sha256.clone(),
            };
            if let Err(e) = self.write_stamp(path, &stamp) {
                tracing::warn!("cannot record the verification of {}: {e}", path.display());
            }
        }
        Ok(sha256)
    }

    /// Records that `path` was just verified to have `sha256` (for a file whose
    /// hash was computed while it was written, so it need not be read again).
    pub fn record_verified(&self, path: &Path, sha256: &str) {
        let recorded =
            size_and_mtime(path)
                .map_err(|e| e.to_string())
                .and_then(|(size, mtime_ns)| {
                    let stamp = Stamp {
                        path: path.to_path_buf(),
                        size,
                        mtime_ns,
                        sha256: sha256.to_string(),
                    };
                    self.write_stamp(path, &stamp).map_err(|e| e.to_string())
                });
        if let Err(e) = recorded {
            tracing::warn!("cannot record the verification of {}: {e}", path.display());
        }
    }

    /// The stamp of `path` if it still describes the file on disk.
    pub fn valid_stamp(&self, path: &Path) -> Option<Stamp> {
        let text = std::fs::read_to_string(self.stamp_path(path)).ok()?;
        let stamp: Stamp = serde_json::from_str(&text).ok()?;
        let (size, mtime_ns) = size_and_mtime(path).ok()?;
        (stamp.size == size && stamp.mtime_ns == mtime_ns).then_some(stamp)
    }

    fn write_stamp(&self, path: &Path, stamp: &Stamp) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(stamp).map_err(std::io::Error::other)?;
        write_atomic(&self.stamp_path(path), &json)
    }

    /// Forgets the verification of `path` (after the file was refused or removed).
    pub fn forget_stamp(&self, path: &Path) {
        let _ = std::fs::remove_file(self.stamp_path(path));
    }
}

/// Moves a finished temporary file to `dest`. Temporary files are created
/// private; a published model is made readable like files other tools write.
pub fn publish(partial: tempfile::NamedTempFile, dest: &Path) -> Result<(), ModelError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(e) = partial
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
        {
            tracing::warn!("cannot make {} readable: {e}", dest.display());
        }
    }
    partial.persist(dest).map(|_| ()).map_err(|e| {
        ModelError::io(
            format!("cannot move the finished file to {}", dest.display()),
            e.error,
        )
    })
}

/// Writes a small file through a temporary file and a rename, so readers
/// see either the old or the new content.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(PARTIAL_PREFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A hash recorded on first use of an unpinned hub file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedHubFile {
    pub repo: String,
    pub revision: String,
    pub file: String,
    pub sha256: String,
    pub size: u64,
}

impl CacheDir {
    pub fn trusted_hub_file(&self, id: &str, hub: &HubSource) -> Option<TrustedHubFile> {
        let text = std::fs::read_to_string(self.trusted_hub_path(id)).ok()?;
        let record: TrustedHubFile = serde_json::from_str(&text).ok()?;
        (record.repo == hub.repo && record.file == hub.file && record.revision == hub.revision)
            .then_some(record)
    }

    pub fn record_trusted_hub_file(
        &self,
        id: &str,
        record: &TrustedHubFile,
    ) -> Result<(), ModelError> {
        let path = self.trusted_hub_path(id);
        let json = serde_json::to_vec_pretty(record)
            .map_err(|e| ModelError::io("cannot encode record", std::io::Error::other(e)))?;
        write_atomic(&path, &json)
            .map_err(|e| ModelError::io(format!("cannot write {}", path.display()), e))
    }
}

/// The hf-hub cache folder of a hub repository ("models--Org--Name").
pub fn hf_repo_dir(hub_cache: &Path, repo: &str) -> PathBuf {
    hub_cache.join(format!("models--{}", repo.replace('/', "--")))
}

/// Copies of a hub file in the hf-hub cache layout, best first: the snapshot
/// the revision's ref points to (or the snapshot named by a commit revision),
/// then, when `any_snapshot`, the file in every other snapshot.
pub fn hf_cached_files(hub_cache: &Path, hub: &HubSource, any_snapshot: bool) -> Vec<PathBuf> {
    let repo_dir = hf_repo_dir(hub_cache, &hub.repo);
    let snapshots = repo_dir.join("snapshots");
    let mut found: Vec<PathBuf> = Vec::new();
    let mut push = |path: PathBuf| {
        if path.is_file() && !found.contains(&path) {
            found.push(path);
        }
    };
    if let Ok(commit) = std::fs::read_to_string(repo_dir.join("refs").join(&hub.revision)) {
        let commit = commit.trim();
        if !commit.is_empty() && !commit.contains(['/', '\\']) && commit != ".." {
            push(snapshots.join(commit).join(&hub.file));
        }
    }
    if !hub.revision.contains("..") {
        push(snapshots.join(&hub.revision).join(&hub.file));
    }
    if any_snapshot {
        if let Ok(entries) = std::fs::read_dir(&snapshots) {
            let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            dirs.sort();
            for dir in dirs {
                push(dir.join(&hub.file));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub() -> HubSource {
        HubSource {
            repo: "Org/Model-GGUF".into(),
            file: "m.gguf".into(),
            revision: "main".into(),
            sha256: None,
            size_bytes: None,
            companions: Vec::new(),
        }
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(
            sha256_file(&path, &Progress::hidden()).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn stamp_is_reused_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CacheDir::new(dir.path().join("cache"));
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").unwrap();
        let first = cache.sha256_stamped(&path, &Progress::hidden()).unwrap();
        assert!(cache.valid_stamp(&path).is_some());

        // A stamp with a forged hash is believed while size and mtime match:
        // that is what makes later loads skip hashing.
        let mut stamp = cache.valid_stamp(&path).unwrap();
        stamp.sha256 = "f".repeat(64);
        cache.write_stamp(&path, &stamp).unwrap();
        assert_eq!(
            cache.sha256_stamped(&path, &Progress::hidden()).unwrap(),
            "f".repeat(64)
        );

        // Rewriting the file (new size) invalidates the stamp.
        std::fs::write(&path, b"abcd").unwrap();
        assert!(cache.valid_stamp(&path).is_none());
        let second = cache.sha256_stamped(&path, &Progress::hidden()).unwrap();
        assert_ne!(first, second);
        assert_eq!(cache.valid_stamp(&path).unwrap().sha256, second);
    }

    #[test]
    fn stamp_is_invalid_when_only_mtime_changes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CacheDir::new(dir.path().join("cache"));
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").unwrap();
        cache.sha256_stamped(&path, &Progress::hidden()).unwrap();
        let file = File::options().write(true).open(&path).unwrap();
        file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
            .unwrap();
        assert!(cache.valid_stamp(&path).is_none());
    }

    #[test]
    fn leftovers_of_interrupted_pulls_are_removed_under_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CacheDir::new(dir.path());
        let model_dir = cache.model_dir("m");
        std::fs::create_dir_all(model_dir.join(".tmp-pip-x")).unwrap();
        std::fs::write(model_dir.join(".partial-abc"), b"x").unwrap();
        std::fs::write(model_dir.join("keep.gguf"), b"x").unwrap();
        let _lock = cache.lock_model("m", true).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&model_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".lock", "keep.gguf"]);
    }

    #[test]
    fn hf_layout_is_found_through_the_ref_and_other_snapshots_only_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let repo = hf_repo_dir(dir.path(), "Org/Model-GGUF");
        assert!(repo.ends_with("models--Org--Model-GGUF"));
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), "abc123\n").unwrap();
        std::fs::create_dir_all(repo.join("snapshots/abc123")).unwrap();
        std::fs::create_dir_all(repo.join("snapshots/old999")).unwrap();
        std::fs::write(repo.join("snapshots/old999/m.gguf"), b"old").unwrap();
        assert!(hf_cached_files(dir.path(), &hub(), false).is_empty());
        assert_eq!(
            hf_cached_files(dir.path(), &hub(), true),
            [repo.join("snapshots/old999/m.gguf")]
        );
        std::fs::write(repo.join("snapshots/abc123/m.gguf"), b"new").unwrap();
        assert_eq!(
            hf_cached_files(dir.path(), &hub(), true),
            [
                repo.join("snapshots/abc123/m.gguf"),
                repo.join("snapshots/old999/m.gguf")
            ]
        );
    }
}
