//! Batch runs through the binary, with canned answers instead of a model:
//! incremental re-runs, per-document failures, shards, safe ids, and kills.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::support::nordbrief;

use crate::support::scripted;

/// A folder with four short seeds and, optionally, a corrupt document.
fn inbox(dir: &Path, corrupt: bool) -> PathBuf {
    let inbox = dir.join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    for id in [
        "000_80af01f0790fae2a",
        "002_8e71f35ebe68d8e8",
        "003_81504cfadfc4266a",
        "004_9e3aa4e6cc606ae5",
    ] {
        std::fs::copy(format!("seeds/{id}.txt"), inbox.join(format!("{id}.txt"))).unwrap();
    }
    if corrupt {
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(inbox.join("corrupt.txt"), garbage).unwrap();
    }
    inbox
}

fn brief_files(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && n != "nordbrief-run.json")
        .collect();
    names.sort();
    names
}

fn assert_complete_and_clean(out: &Path, expected: usize) {
    let names = brief_files(out);
    assert_eq!(names.len(), expected, "{names:?}");
    for name in &names {
        let brief: nordbrief::brief::Brief =
            serde_json::from_slice(&std::fs::read(out.join(name)).unwrap())
                .unwrap_or_else(|e| panic!("{name} is not a complete brief: {e}"));
        assert_eq!(brief.key_points.len(), 3);
        assert!(out.join(name.replace(".json", ".md")).is_file());
    }
    let leftovers: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".partial-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn second_run_redoes_nothing_and_force_redoes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let answers = scripted(dir.path(), 0);
    let inbox = inbox(dir.path(), false);
    let out = dir.path().join("out");
    let run = |extra: &[&str]| {
        let output = nordbrief()
            .arg("brief")
            .arg(&inbox)
            .arg("--out")
            .arg(&out)
            .arg("--scripted-answers")
            .arg(&answers)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stderr).to_string()
    };
    let first = run(&[]);
    assert!(
        first.contains("4 briefed, 0 unchanged, 0 failed"),
        "{first}"
    );
    assert_complete_and_clean(&out, 4);
    let before = std::fs::read(out.join("000_80af01f0790fae2a.json")).unwrap();
    let second = run(&[]);
    assert!(second.contains("0 briefed, 4 unchanged"), "{second}");
    assert_eq!(
        std::fs::read(out.join("000_80af01f0790fae2a.json")).unwrap(),
        before
    );
    // A changed source is redone, alone.
    std::fs::write(
        inbox.join("002_8e71f35ebe68d8e8.txt"),
        "Regeringen har beslutat om en ny strategi för integration.",
    )
    .unwrap();
    let third = run(&[]);
    assert!(third.contains("1 briefed, 3 unchanged"), "{third}");
    let forced = run(&["--force"]);
    assert!(forced.contains("4 briefed, 0 unchanged"), "{forced}");
}

#[test]
fn a_corrupt_document_fails_alone_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let answers = scripted(dir.path(), 0);
    let inbox = inbox(dir.path(), true);
    let out = dir.path().join("out");
    let output = nordbrief()
        .arg("brief")
        .arg(&inbox)
        .arg("--out")
        .arg(&out)
        .arg("--scripted-answers")
        .arg(&answers)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("FAILED corrupt") && stderr.contains("4 briefed, 0 unchanged, 1 failed"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
    assert_complete_and_clean(&out, 4);
}

#[test]
fn shards_split_the_inbox_without_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let answers = scripted(dir.path(), 0);
    let inbox = inbox(dir.path(), false);
    let mut all = Vec::new();
    for k in 1..=3 {
        let out = dir.path().join(format!("out{k}"));
        nordbrief()
            .arg("brief")
            .arg(&inbox)
            .arg("--out")
            .arg(&out)
            .arg("--scripted-answers")
            .arg(&answers)
            .arg("--shard")
            .arg(format!("{k}/3"))
            .assert()
            .success();
        all.extend(brief_files(&out));
    }
    all.sort();
    let mut unique = all.clone();
    unique.dedup();
    assert_eq!(all, unique, "a document was in two shards");
    assert_eq!(all.len(), 4, "{all:?}");
}

#[cfg(unix)]
#[test]
fn hostile_file_names_stay_inside_the_output_folder() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let answers = scripted(dir.path(), 0);
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let text = std::fs::read("seeds/000_80af01f0790fae2a.txt").unwrap();
    for name in [&b"..\n..evil.txt"[..], b"..txt", b"r\xe5d.txt"] {
        std::fs::write(inbox.join(std::ffi::OsStr::from_bytes(name)), &text).unwrap();
    }
    let out = dir.path().join("out");
    nordbrief()
        .arg("brief")
        .arg(&inbox)
        .arg("--out")
        .arg(&out)
        .arg("--scripted-answers")
        .arg(&answers)
        .assert()
        .success();
    // Everything written is a plain file directly inside `out` (besides the
    // folder of kept model answers), and nothing appeared beside it.
    for entry in std::fs::read_dir(&out).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".nordbrief-cache" {
            assert!(entry.file_type().unwrap().is_dir());
            continue;
        }
        assert!(entry.file_type().unwrap().is_file(), "{name:?}");
        assert!(!name.contains('/') && !name.contains('\n'), "{name:?}");
    }
    assert_eq!(brief_files(&out).len(), 3);
    let siblings: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(siblings.len(), 3, "{siblings:?}"); // answers.json, inbox, out
}

/// kill -9 at seeded moments; every finished brief survives untouched and
/// the run after the kills leaves exactly one complete brief per document.
#[test]
fn killed_runs_lose_nothing_and_leave_no_torn_files() {
    let dir = tempfile::tempdir().unwrap();
    let answers = scripted(dir.path(), 150);
    let inbox = inbox(dir.path(), false);
    let out = dir.path().join("out");
    let bin = assert_cmd::cargo::cargo_bin("nordbrief");
    // A fixed pseudo-random schedule of kill delays (milliseconds).
    let mut state: u64 = 0x5eed;
    let mut kills = 0;
    let mut finished: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
    for _ in 0..8 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = 50 + (state >> 33) % 500;
        let mut child = std::process::Command::new(&bin)
            .arg("brief")
            .arg(&inbox)
            .arg("--out")
            .arg(&out)
            .arg("--scripted-answers")
            .arg(&answers)
            .arg("--force")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        // Whatever is there is complete; a brief complete before is either
        // unchanged or replaced by another complete one.
        for name in brief_files(&out) {
            let bytes = std::fs::read(out.join(&name)).unwrap();
            serde_json::from_slice::<nordbrief::brief::Brief>(&bytes)
                .unwrap_or_else(|e| panic!("torn {name}: {e}"));
            finished.insert(name, bytes);
        }
    }
    assert!(
        kills >= 4,
        "the schedule should interrupt most runs, got {kills}"
    );
    // Finish without --force: only what is missing is done.
    let output = std::process::Command::new(&bin)
        .arg("brief")
        .arg(&inbox)
        .arg("--out")
        .arg(&out)
        .arg("--scripted-answers")
        .arg(&answers)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_complete_and_clean(&out, 4);
}

#[test]
fn a_second_run_on_the_same_folder_is_refused_while_the_first_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let answers = scripted(dir.path(), 400);
    let inbox = inbox(dir.path(), false);
    let out = dir.path().join("out");
    let bin = assert_cmd::cargo::cargo_bin("nordbrief");
    let mut first = std::process::Command::new(&bin)
        .arg("brief")
        .arg(&inbox)
        .arg("--out")
        .arg(&out)
        .arg("--scripted-answers")
        .arg(&answers)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first run holds the lock.
    let lock = out.join(".nordbrief.lock");
    for _ in 0..100 {
        if lock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    let second = nordbrief()
        .arg("brief")
        .arg(&inbox)
        .arg("--out")
        .arg(&out)
        .arg("--scripted-answers")
        .arg(&answers)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("another nordbrief run"), "{stderr}");
    assert!(first.wait().unwrap().success());
    assert_complete_and_clean(&out, 4);
}

#[test]
fn digest_reads_the_briefs_of_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let answers = scripted(dir.path(), 0);
    let inbox = inbox(dir.path(), false);
    let out = dir.path().join("out");
    nordbrief()
        .arg("brief")
        .arg(&inbox)
        .arg("--out")
        .arg(&out)
        .arg("--scripted-answers")
        .arg(&answers)
        .assert()
        .success();
    let output = nordbrief().arg("digest").arg(&out).output().unwrap();
    assert!(output.status.success());
    let md = String::from_utf8_lossy(&output.stdout);
    assert!(md.starts_with("# Digest of 4 documents"), "{md}");
    assert!(
        md.contains("## Swedish (3)") && md.contains("## Norwegian (bokmål) (1)"),
        "{md}"
    );
    assert!(md.contains("integration policy — 4 documents"), "{md}");
    let empty = tempfile::tempdir().unwrap();
    nordbrief().arg("digest").arg(empty.path()).assert().code(2);
}
