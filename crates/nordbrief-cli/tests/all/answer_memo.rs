//! A batch keeps the model's answers in its output folder: a re-run after a
//! change to the brief prompt (`--method direct`) asks the model only for the new brief, not
//! again for the notes on every part of a long document; `--force` asks
//! for everything again.

use assert_cmd::Command;
use nordbrief::brief::Brief;
use std::path::Path;

const ANSWER: &str = "TITLE: A brief\nSUMMARY: The report describes the cooperation between the EU and its neighbours on migration.\n\
KEY POINTS:\n- The report concerns migration.\n- The EU cooperates with its neighbours.\n- The cooperation continues.\n";

fn run(dir: &Path, prompts: Option<&Path>, force: bool) -> Brief {
    let mut cmd = Command::cargo_bin("nordbrief").unwrap();
    cmd.env_remove("NORDBRIEF_MODEL")
        .env_remove("NORDBRIEF_PROMPTS_DIR");
    if let Some(p) = prompts {
        cmd.env("NORDBRIEF_PROMPTS_DIR", p);
    }
    cmd.args([
        "brief",
        "--quiet",
        "--method",
        "direct",
        "--context-budget",
        "600",
        "--scripted-answers",
    ])
    .arg(dir.join("answers.json"))
    .arg(dir.join("inbox"))
    .arg("--out")
    .arg(dir.join("out"));
    if force {
        cmd.arg("--force");
    }
    cmd.assert().success();
    serde_json::from_slice(&std::fs::read(dir.join("out/001_bd3bef374b2c79d0.json")).unwrap())
        .unwrap()
}

#[test]
fn a_changed_brief_prompt_reuses_the_kept_notes_and_force_asks_again() {
    let dir = tempfile::tempdir().unwrap();
    let answers =
        serde_json::json!({ "brief": [ANSWER], "notes": ["- A note on this part of the report."] });
    std::fs::write(dir.path().join("answers.json"), answers.to_string()).unwrap();
    std::fs::create_dir(dir.path().join("inbox")).unwrap();
    std::fs::copy(
        "seeds/001_bd3bef374b2c79d0.txt",
        dir.path().join("inbox/001_bd3bef374b2c79d0.txt"),
    )
    .unwrap();

    let first = run(dir.path(), None, false);
    assert!(
        first.generation.chunks > 5,
        "the report is read in parts: {}",
        first.generation.chunks
    );
    let everything = first.timings.prompt_tokens;

    // The same templates with one more rule in the brief prompt.
    let prompts = dir.path().join("prompts");
    std::fs::create_dir(&prompts).unwrap();
    for entry in std::fs::read_dir("prompts").unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, prompts.join(path.file_name().unwrap())).unwrap();
    }
    let brief_user = std::fs::read_to_string(prompts.join("brief.user.j2")).unwrap();
    let changed = brief_user
        .replacen("brief.user/", "brief.user/9", 1)
        .replacen("Rules:", "Rules:\n- Be brief.", 1);
    std::fs::write(prompts.join("brief.user.j2"), changed).unwrap();

    let second = run(dir.path(), Some(&prompts), false);
    assert_ne!(
        second.prompt_versions, first.prompt_versions,
        "the brief was redone"
    );
    let only_the_brief = second.timings.prompt_tokens;
    assert!(only_the_brief > 0, "the new brief prompt went to the model");
    assert!(
        only_the_brief * 5 < everything,
        "notes were asked again: {only_the_brief} of {everything} prompt tokens"
    );
    assert_eq!(second.key_points, first.key_points);

    let forced = run(dir.path(), Some(&prompts), true);
    assert!(
        forced.timings.prompt_tokens > everything,
        "--force reads everything again: {}",
        forced.timings.prompt_tokens
    );
}
