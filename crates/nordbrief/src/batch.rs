//! Batch runs: walk the inputs, give each document a safe id, pick this
//! shard's share, skip what is unchanged, and write outputs atomically under
//! a lock so an interrupted or concurrent run never leaves a torn file.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::ingest::SUPPORTED_EXTENSIONS;

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{path}: no such file or folder")]
    NotFound { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no documents found in {paths}; supported extensions: {}", SUPPORTED_EXTENSIONS.join(", "))]
    NoDocuments { paths: String },
    #[error("invalid shard `{0}`: write K/N with 1 ≤ K ≤ N, e.g. --shard 2/4")]
    BadShard(String),
    #[error(transparent)]
    Load(#[from] crate::model::LoadError),
    #[error("another nordbrief run is writing to {dir} (lock {lock}); wait for it to finish or use another --out folder")]
    Locked { dir: PathBuf, lock: PathBuf },
    #[error("cannot write {path}: {source}; free some space (or fix the folder's permissions) and run again: finished outputs are kept and skipped, and no partial file is left")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BatchError + '_ {
    move |source| BatchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn is_supported(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| SUPPORTED_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

/// The documents named by `inputs`: files as given (any extension, so the
/// reader can say what is wrong with them), folders walked recursively for
/// supported extensions, in sorted order. Symlinked folders are not followed,
/// so a link loop cannot trap the walk.
pub fn collect_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, BatchError> {
    let mut found = BTreeSet::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            found.insert(input.clone());
            continue;
        }
        let meta = std::fs::metadata(input).map_err(|_| BatchError::NotFound {
            path: input.clone(),
        })?;
        if meta.is_dir() {
            walk(input, &mut found)?;
        } else {
            found.insert(input.clone());
        }
    }
    if found.is_empty() {
        return Err(BatchError::NoDocuments {
            paths: inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(found.into_iter().collect())
}

fn walk(dir: &Path, found: &mut BTreeSet<PathBuf>) -> Result<(), BatchError> {
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io_err(&path))?;
        if kind.is_dir() {
            walk(&path, found)?;
        } else if (kind.is_file() || kind.is_symlink()) && path.is_file() && is_supported(&path) {
            found.insert(path);
        }
    }
    Ok(())
}

/// A file-name-safe id for a document: its file stem with anything but
/// letters, digits, `.`, `_` and `-` replaced, never starting with a dot, so
/// no name can escape the output folder.
pub fn document_id(path: &Path) -> String {
    if path.as_os_str() == "-" {
        return "stdin".to_string();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut id: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    while id.starts_with('.') {
        id.remove(0);
    }
    let mut id: String = id.chars().take(120).collect();
    if id.is_empty() {
        return "document".to_string();
    }
    // `<id>.json` must never be a run manifest (nordbrief-run.json,
    // nordbrief-<kind>-run.json): one would overwrite the other.
    if id.starts_with("nordbrief-") && id.ends_with("-run") {
        id.push_str("-doc");
    }
    id
}

/// Ids for all `paths`, made unique by a short hash of the path where two
/// files share a stem.
pub fn assign_ids(paths: &[PathBuf]) -> Vec<(String, PathBuf)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for p in paths {
        *counts.entry(document_id(p)).or_default() += 1;
    }
    paths
        .iter()
        .map(|p| {
            let id = document_id(p);
            if counts[&id] > 1 {
                let hash = hex::encode(&Sha256::digest(p.to_string_lossy().as_bytes())[..4]);
                (format!("{id}-{hash}"), p.clone())
            } else {
                (id, p.clone())
            }
        })
        .collect()
}

/// Shard K of N (1-based), chosen by a hash of the document id so every
/// machine computes the same split with no coordination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = BatchError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BatchError::BadShard(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    pub fn contains(&self, id: &str) -> bool {
        let digest = Sha256::digest(id.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % self.count == self.index - 1
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// An output folder held by this run: a lock against concurrent runs, and
/// atomic writes (temporary file, fsync, rename).
pub struct OutputDir {
    dir: PathBuf,
    _lock: File,
}

const LOCK_FILE: &str = ".nordbrief.lock";
const TEMP_MARKER: &str = ".partial-";

impl OutputDir {
    /// Create `dir` if needed, take its lock and remove temporary files an
    /// interrupted run left behind.
    pub fn open(dir: &Path) -> Result<Self, BatchError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        // The OS drops the lock when the process dies, even on kill -9.
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(BatchError::Locked {
                    dir: dir.to_path_buf(),
                    lock: lock_path,
                })
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(BatchError::Io {
                    path: lock_path,
                    source: e,
                })
            }
        }
        std::fs::read_dir(dir).map_err(io_err(dir))?;
        remove_stale_temps(dir, 0);
        Ok(Self {
            dir: dir.to_path_buf(),
            _lock: lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Write `name` (a plain file name, never a path) all at once or not at all.
    pub fn write_atomic(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, BatchError> {
        debug_assert!(
            !name.contains('/') && !name.starts_with('.'),
            "output names are ids"
        );
        let target = self.dir.join(name);
        let temp = self
            .dir
            .join(format!(".{name}{TEMP_MARKER}{}", std::process::id()));
        let result = (|| {
            let mut f = File::create(&temp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&temp, &target)
        })();
        if let Err(source) = result {
            let _ = std::fs::remove_file(&temp);
            return Err(BatchError::Write {
                path: target,
                source,
            });
        }
        Ok(target)
    }
}

/// Removes what a killed run left half-written: `.partial-` files here, and
/// `.tmp*` files (atomic writes in progress) in the folder's own hidden
/// subfolders such as its answer memo. Safe only under the folder's lock.
fn remove_stale_temps(dir: &Path, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && (depth > 0 || name.starts_with('.')) && depth < 3 {
            remove_stale_temps(&entry.path(), depth + 1);
        } else if kind.is_file()
            && (name.contains(TEMP_MARKER) || (depth > 0 && name.starts_with(".tmp")))
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// What produced a document's outputs; a document whose key is unchanged is
/// skipped on the next run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunKey {
    pub source_sha256: String,
    pub model_sha256: String,
    pub prompt_versions: BTreeMap<String, String>,
    /// sha256 of the settings that shape the output, serialised as JSON.
    pub settings_sha256: String,
}

/// `DIR/nordbrief-run.json` (or `nordbrief-<kind>-run.json`): the key of
/// every document done in DIR by one kind of job.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunManifest {
    pub documents: BTreeMap<String, RunKey>,
}

pub const RUN_MANIFEST: &str = "nordbrief-run.json";

/// The manifest file of a kind of job ("brief" keeps the plain name).
pub fn manifest_name(kind: &str) -> String {
    if kind == "brief" {
        RUN_MANIFEST.to_string()
    } else {
        format!("nordbrief-{kind}-run.json")
    }
}

impl RunManifest {
    /// The manifest in `dir`, or an empty one when it is missing or unreadable
    /// (then everything is simply done again).
    pub fn load(dir: &Path, kind: &str) -> Self {
        std::fs::read(dir.join(manifest_name(kind)))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, out: &OutputDir, kind: &str) -> Result<(), BatchError> {
        let json = serde_json::to_vec_pretty(self).expect("manifest serialises");
        out.write_atomic(&manifest_name(kind), &json).map(|_| ())
    }

    /// Whether `id` was done with `key` and its outputs are all still there.
    pub fn is_done(&self, id: &str, key: &RunKey, dir: &Path, outputs: &[String]) -> bool {
        self.documents.get(id) == Some(key) && outputs.iter().all(|name| dir.join(name).is_file())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_escape_the_output_folder() {
        for (path, id) in [
            ("../../etc/passwd", "passwd"),
            ("/abs/dir/..hidden.txt", "hidden"),
            ("seeds/000_80af01f0790fae2a.txt", "000_80af01f0790fae2a"),
            ("a b\nc.txt", "a_b_c"),
            ("...", "document"),
            ("-", "stdin"),
            ("inbox/nordbrief-run.txt", "nordbrief-run-doc"),
            ("nordbrief-translate-run.md", "nordbrief-translate-run-doc"),
            ("nordbrief-runs.txt", "nordbrief-runs"),
        ] {
            let got = document_id(Path::new(path));
            assert_eq!(got, id, "{path:?}");
            assert!(!got.contains('/') && !got.starts_with('.'));
            for kind in ["brief", "translate"] {
                assert_ne!(format!("{got}.json"), manifest_name(kind), "{path:?}");
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_file_names_get_a_safe_id() {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"r\xe5d.txt");
        let id = document_id(Path::new(name));
        assert_eq!(id, "r_d");
    }

    #[test]
    fn same_stem_in_two_folders_gets_two_ids() {
        let ids = assign_ids(&[
            PathBuf::from("a/doc.txt"),
            PathBuf::from("b/doc.txt"),
            PathBuf::from("c/x.txt"),
        ]);
        assert_ne!(ids[0].0, ids[1].0);
        assert!(ids[0].0.starts_with("doc-"));
        assert_eq!(ids[2].0, "x");
    }

    #[test]
    fn shards_are_disjoint_and_cover_everything() {
        let ids: Vec<String> = (0..500).map(|i| format!("doc{i}")).collect();
        let shards: Vec<Shard> = (1..=4).map(|k| format!("{k}/4").parse().unwrap()).collect();
        for id in &ids {
            assert_eq!(shards.iter().filter(|s| s.contains(id)).count(), 1, "{id}");
        }
        // Roughly even: each of 4 shards gets 125 ± 50.
        for s in &shards {
            let n = ids.iter().filter(|id| s.contains(id)).count();
            assert!((75..=175).contains(&n), "{s:?} got {n}");
        }
    }

    #[test]
    fn bad_shards_are_refused() {
        for s in ["0/4", "5/4", "1/0", "x", "1-2", ""] {
            assert!(s.parse::<Shard>().is_err(), "{s}");
        }
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
    }

    #[test]
    fn atomic_write_leaves_no_temp_and_a_second_run_is_locked_out() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::open(dir.path()).unwrap();
        std::fs::write(dir.path().join(format!(".x.json{TEMP_MARKER}1")), b"torn").unwrap();
        std::fs::create_dir_all(dir.path().join(".nordbrief-cache/answers")).unwrap();
        std::fs::write(
            dir.path().join(".nordbrief-cache/answers/.tmpAbC123"),
            b"torn",
        )
        .unwrap();
        std::fs::write(dir.path().join(".nordbrief-cache/answers/kept.json"), b"{}").unwrap();
        std::fs::write(dir.path().join(".tmp-user-file"), b"mine").unwrap();
        out.write_atomic("a.json", b"{}").unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.json")).unwrap(), b"{}");
        let err = OutputDir::open(dir.path())
            .err()
            .expect("second open must be refused");
        assert!(err.to_string().contains("another nordbrief run"), "{err}");
        drop(out);
        // Reopening after the first run ends works and removes stale temps.
        let _out = OutputDir::open(dir.path()).unwrap();
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains(TEMP_MARKER)), "{names:?}");
        assert!(!dir
            .path()
            .join(".nordbrief-cache/answers/.tmpAbC123")
            .exists());
        assert!(dir
            .path()
            .join(".nordbrief-cache/answers/kept.json")
            .exists());
        assert!(
            dir.path().join(".tmp-user-file").exists(),
            "only the folder's own hidden subfolders are cleaned"
        );
    }

    #[test]
    fn collect_walks_folders_for_supported_files_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.txt"), "x").unwrap();
        std::fs::write(dir.path().join("b.md"), "x").unwrap();
        std::fs::write(dir.path().join("c.exe"), "x").unwrap();
        let found = collect_inputs(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<String> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["b.md", "a.txt"]);
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            collect_inputs(&[empty.path().to_path_buf()]),
            Err(BatchError::NoDocuments { .. })
        ));
        assert!(matches!(
            collect_inputs(&[PathBuf::from("/no/such/file")]),
            Err(BatchError::NotFound { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_do_not_trap_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
        let found = collect_inputs(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(found.len(), 1);
    }
}

/// What happened to one document in a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Done { seconds: f64, warnings: usize },
    Unchanged,
    Failed { reason: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentOutcome {
    pub id: String,
    pub source: PathBuf,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Progress of a batch, for whatever display the caller has.
pub enum BatchEvent<'a> {
    Planned {
        total: usize,
        to_do: usize,
    },
    LoadingModel,
    Started {
        index: usize,
        total: usize,
        id: &'a str,
    },
    Pipeline(&'a crate::pipeline::PipelineEvent),
    Finished(&'a DocumentOutcome),
}

/// The work done on each document of a batch, once its generator is loaded.
pub trait DocumentTask {
    /// The files to write for one document (plain names, e.g. `<id>.json`)
    /// and how many warnings they carry; an error fails this document only.
    fn process(
        &mut self,
        id: &str,
        document: &crate::ingest::Document,
        on_event: &mut dyn FnMut(&crate::pipeline::PipelineEvent),
    ) -> Result<TaskOutput, String>;
}

pub struct TaskOutput {
    pub files: Vec<(String, Vec<u8>)>,
    pub warnings: usize,
}

/// Makes the task when the batch first needs it (never, when every document
/// is unchanged): loading a model is the slow part of a run.
pub type TaskLoader<'a> = Box<dyn FnOnce() -> Result<Box<dyn DocumentTask + 'a>, BatchError> + 'a>;

/// A batch: inputs, where the outputs go, and what makes them.
pub struct Batch {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub force: bool,
    pub shard: Option<Shard>,
    /// "brief", "translate": names the run manifest.
    pub kind: &'static str,
    /// Everything besides the source that shapes the outputs.
    pub model_sha256: String,
    pub prompt_versions: BTreeMap<String, String>,
    pub settings_sha256: String,
    /// The files a document's task writes, by id.
    pub outputs: fn(&str) -> Vec<String>,
}

impl Batch {
    fn key(&self, source_sha256: String) -> RunKey {
        RunKey {
            source_sha256,
            model_sha256: self.model_sha256.clone(),
            prompt_versions: self.prompt_versions.clone(),
            settings_sha256: self.settings_sha256.clone(),
        }
    }

    /// Process every document that is new or changed; a document that fails
    /// is reported and the rest go on.
    pub fn run(
        &self,
        load: TaskLoader,
        on_event: &mut dyn FnMut(BatchEvent),
    ) -> Result<Vec<DocumentOutcome>, BatchError> {
        let paths = collect_inputs(&self.inputs)?;
        let out = OutputDir::open(&self.out)?;
        let mut manifest = RunManifest::load(out.path(), self.kind);
        let mut outcomes = Vec::new();
        let mut work = Vec::new();
        for (id, path) in assign_ids(&paths) {
            if self.shard.is_some_and(|s| !s.contains(&id)) {
                continue;
            }
            // Hashing the bytes here costs little and decides whether any
            // inference is needed at all.
            let (key, stdin_bytes) = match read_source(&path) {
                // Standard input can be read only once: keep its bytes.
                Ok(bytes) => (
                    self.key(sha256_hex(&bytes)),
                    (path.as_os_str() == "-").then_some(bytes),
                ),
                Err(e) => {
                    let o = DocumentOutcome {
                        id,
                        source: path,
                        outcome: Outcome::Failed {
                            reason: e.to_string(),
                        },
                    };
                    on_event(BatchEvent::Finished(&o));
                    outcomes.push(o);
                    continue;
                }
            };
            if !self.force && manifest.is_done(&id, &key, out.path(), &(self.outputs)(&id)) {
                let o = DocumentOutcome {
                    id,
                    source: path,
                    outcome: Outcome::Unchanged,
                };
                on_event(BatchEvent::Finished(&o));
                outcomes.push(o);
            } else {
                work.push((id, path, stdin_bytes));
            }
        }
        on_event(BatchEvent::Planned {
            total: outcomes.len() + work.len(),
            to_do: work.len(),
        });
        if work.is_empty() {
            return Ok(outcomes);
        }

        on_event(BatchEvent::LoadingModel);
        let mut task = load()?;
        let total = work.len();
        for (index, (id, path, stdin_bytes)) in work.into_iter().enumerate() {
            on_event(BatchEvent::Started {
                index: index + 1,
                total,
                id: &id,
            });
            let start = std::time::Instant::now();
            // Read again (a file may have changed since planning): the key
            // records exactly the bytes that were processed.
            let bytes = match stdin_bytes {
                Some(b) => Ok(b),
                None => read_source(&path).map_err(|e| e.to_string()),
            };
            let key = bytes.as_ref().map(|b| self.key(sha256_hex(b))).ok();
            let result = bytes
                .and_then(|bytes| {
                    crate::ingest::ingest_bytes(&path.to_string_lossy(), &bytes)
                        .map_err(|e| e.to_string())
                })
                .and_then(|doc| {
                    task.process(&id, &doc, &mut |e| on_event(BatchEvent::Pipeline(e)))
                });
            let outcome = match result {
                Ok(output) => {
                    for (name, bytes) in &output.files {
                        out.write_atomic(name, bytes)?;
                    }
                    // Recorded only once every output is in place, so a kill
                    // between the writes makes the next run redo this document.
                    manifest
                        .documents
                        .insert(id.clone(), key.expect("bytes were read"));
                    manifest.save(&out, self.kind)?;
                    Outcome::Done {
                        seconds: start.elapsed().as_secs_f64(),
                        warnings: output.warnings,
                    }
                }
                Err(reason) => Outcome::Failed { reason },
            };
            let o = DocumentOutcome {
                id,
                source: path,
                outcome,
            };
            on_event(BatchEvent::Finished(&o));
            outcomes.push(o);
        }
        Ok(outcomes)
    }
}

/// The run-key part of brief settings.
pub fn settings_sha256(settings: &impl Serialize) -> String {
    sha256_hex(&serde_json::to_vec(settings).expect("settings serialise"))
}

/// The bytes of a source (standard input for `-`), refusing anything larger
/// than the ingest stage accepts before reading it all into memory.
fn read_source(path: &Path) -> Result<Vec<u8>, crate::ingest::IngestError> {
    use crate::ingest::{IngestError, MAX_INPUT_BYTES};
    use std::io::Read;
    let name = path.to_string_lossy().to_string();
    let io = |source| IngestError::Io {
        path: name.clone(),
        source,
    };
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    } else {
        let meta = std::fs::metadata(path).map_err(io)?;
        // Opening a FIFO with no writer blocks for ever; a device never ends.
        if !meta.is_file() {
            return Err(IngestError::NotAFile { path: name });
        }
        let len = meta.len();
        if len > MAX_INPUT_BYTES {
            return Err(IngestError::TooLarge {
                path: name,
                bytes: len,
                limit: MAX_INPUT_BYTES,
            });
        }
        File::open(path)
            .map_err(io)?
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    }
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(IngestError::TooLarge {
            path: name,
            bytes: bytes.len() as u64,
            limit: MAX_INPUT_BYTES,
        });
    }
    Ok(bytes)
}
