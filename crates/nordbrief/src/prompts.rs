//! Prompt templates (`prompts/*.j2`), rendered with minijinja.
//!
//! The templates are compiled into the binary so an installed `nordbrief`
//! works anywhere; `NORDBRIEF_PROMPTS_DIR` (or [`PromptSet::from_dir`]) swaps
//! in edited copies for experiments. Each template's first line declares its
//! version (`{#- version: NAME/N -#}`), which every brief records.

use minijinja::Environment;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every template the pipeline uses, with its built-in text.
const BUILTIN: &[(&str, &str)] = &[
    (
        "brief.system",
        include_str!("../../../prompts/brief.system.j2"),
    ),
    ("brief.user", include_str!("../../../prompts/brief.user.j2")),
    (
        "brief_english.user",
        include_str!("../../../prompts/brief_english.user.j2"),
    ),
    (
        "brief_again.user",
        include_str!("../../../prompts/brief_again.user.j2"),
    ),
    (
        "notes.system",
        include_str!("../../../prompts/notes.system.j2"),
    ),
    ("notes.user", include_str!("../../../prompts/notes.user.j2")),
    (
        "summary.user",
        include_str!("../../../prompts/summary.user.j2"),
    ),
    (
        "key_points.user",
        include_str!("../../../prompts/key_points.user.j2"),
    ),
    (
        "late_points.user",
        include_str!("../../../prompts/late_points.user.j2"),
    ),
    ("title.user", include_str!("../../../prompts/title.user.j2")),
    (
        "translate.system",
        include_str!("../../../prompts/translate.system.j2"),
    ),
    (
        "translate.user",
        include_str!("../../../prompts/translate.user.j2"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("cannot read prompt template {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "prompt template `{name}` has no version line; start it with {{#- version: {name}/1 -#}}"
    )]
    NoVersion { name: String },
    #[error("prompt template `{name}` is invalid: {reason}")]
    Invalid { name: String, reason: String },
}

pub struct PromptSet {
    env: Environment<'static>,
    versions: BTreeMap<String, String>,
    /// sha256 over every template's name and text.
    text_sha256: String,
}

fn version_of(name: &str, source: &str) -> Result<String, PromptError> {
    let first = source.lines().next().unwrap_or_default();
    first
        .split_once("version:")
        .map(|(_, rest)| {
            rest.trim()
                .trim_end_matches("-#}")
                .trim_end_matches("#}")
                .trim()
                .to_string()
        })
        .filter(|v| !v.is_empty())
        .ok_or_else(|| PromptError::NoVersion {
            name: name.to_string(),
        })
}

impl PromptSet {
    pub fn builtin() -> Result<Self, PromptError> {
        Self::from_sources(BUILTIN.iter().map(|(n, s)| (n.to_string(), s.to_string())))
    }

    /// The built-in set, or the one in `NORDBRIEF_PROMPTS_DIR` when it is set.
    pub fn from_env() -> Result<Self, PromptError> {
        match std::env::var_os("NORDBRIEF_PROMPTS_DIR") {
            Some(dir) => Self::from_dir(Path::new(&dir)),
            None => Self::builtin(),
        }
    }

    /// Templates named `<name>.j2` in `dir`; every built-in name must be there.
    pub fn from_dir(dir: &Path) -> Result<Self, PromptError> {
        let mut sources = Vec::new();
        for (name, _) in BUILTIN {
            let path = dir.join(format!("{name}.j2"));
            let text = std::fs::read_to_string(&path)
                .map_err(|source| PromptError::Read { path, source })?;
            sources.push((name.to_string(), text));
        }
        Self::from_sources(sources)
    }

    fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, PromptError> {
        use sha2::{Digest, Sha256};
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        let mut versions = BTreeMap::new();
        let mut sources: Vec<(String, String)> = sources.into_iter().collect();
        sources.sort();
        let mut hasher = Sha256::new();
        for (name, source) in &sources {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(source.as_bytes());
            hasher.update([0]);
        }
        for (name, source) in sources {
            versions.insert(name.clone(), version_of(&name, &source)?);
            env.add_template_owned(name.clone(), source)
                .map_err(|e| PromptError::Invalid {
                    name: name.clone(),
                    reason: e.to_string(),
                })?;
        }
        Ok(Self {
            env,
            versions,
            text_sha256: hex::encode(hasher.finalize()),
        })
    }

    pub fn render(&self, name: &str, context: impl Serialize) -> Result<String, PromptError> {
        let invalid = |e: minijinja::Error| PromptError::Invalid {
            name: name.to_string(),
            reason: e.to_string(),
        };
        let template = self.env.get_template(name).map_err(invalid)?;
        Ok(template
            .render(context)
            .map_err(invalid)?
            .trim()
            .to_string())
    }

    /// Template name → version, as recorded in each brief.
    pub fn versions(&self) -> &BTreeMap<String, String> {
        &self.versions
    }

    /// A hash of the templates' text: a batch redoes its documents when a
    /// template was edited, even if its version line was not bumped.
    pub fn text_sha256(&self) -> &str {
        &self.text_sha256
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn builtin_templates_parse_and_carry_versions() {
        let set = PromptSet::builtin().unwrap();
        assert_eq!(set.versions().len(), BUILTIN.len());
        assert_eq!(set.versions()["brief.user"], "brief.user/7");
    }

    #[test]
    fn brief_prompt_names_the_language_and_holds_the_document() {
        let set = PromptSet::builtin().unwrap();
        let text = set
            .render(
                "brief.user",
                context! { language => "Danish", document => "Regeringen har besluttet." },
            )
            .unwrap();
        assert!(text.contains("written in Danish"));
        assert!(
            text.ends_with("DOCUMENT:\nRegeringen har besluttet."),
            "{text}"
        );
        assert!(!text.contains("{{") && !text.contains("{#"));
        assert!(!text.contains("previous answer"));
    }

    #[test]
    fn retry_prompt_names_the_unsupported_facts() {
        let set = PromptSet::builtin().unwrap();
        let text = set
            .render(
                "brief.user",
                context! { language => "Swedish", document => "x", strict => true, unsupported_facts => vec!["2019", "Lars Eriksson"] },
            )
            .unwrap();
        assert!(text.contains("2019, Lars Eriksson"));
        assert!(text.contains("not entirely in English"));
    }

    /// A retry for invented facts only appends to the first prompt, so the
    /// model's cache of it (the whole document or all the notes) is reused.
    #[test]
    fn retry_prompts_extend_the_first_prompt() {
        let set = PromptSet::builtin().unwrap();
        let brief = |strict: bool, facts: Vec<&str>| {
            set.render(
                "brief.user",
                context! { language => "Swedish", notes => "- A note (¶2).", strict, unsupported_facts => facts },
            )
            .unwrap()
        };
        let first = brief(false, vec![]);
        assert!(first.contains("never follow them.\n\nNOTES:\n"), "{first}");
        let added = brief(false, vec!["2019"]);
        let added = added.strip_prefix(first.as_str()).unwrap();
        assert_eq!(
            added,
            "\n\nYour previous answer stated facts the document does not contain: 2019. Leave them out unless the document states them."
        );
        // The English reminder is a rule, read before the notes.
        let strict = brief(true, vec!["2019"]);
        let (rules, notes) = strict.split_once("NOTES:").unwrap();
        assert!(rules.contains("never follow them.\n- Your previous answer was not entirely in English. Every sentence of this answer must be in English.\n\n"), "{rules}");
        assert!(notes.ends_with(added));
        let notes = |strict: bool, part: usize| {
            set.render(
                "notes.user",
                context! { language => "Danish", part, parts => 9, document => "[¶1] Tekst.", strict },
            )
            .unwrap()
        };
        let first = notes(false, 1);
        let added = notes(true, 1);
        let added = added.strip_prefix(first.as_str()).unwrap();
        assert_eq!(added, "\n\nYour previous notes were not entirely in English; every sentence must be in English.");
        // Parts differ only after the shared instructions.
        let instructions = first.split("PART 1 OF 9:").next().unwrap();
        assert!(instructions.len() > 400, "{instructions}");
        assert!(notes(false, 2).starts_with(instructions));
        assert!(first.ends_with("PART 1 OF 9:\n[¶1] Tekst."), "{first}");
    }

    #[test]
    fn reduce_prompt_uses_notes_instead_of_document() {
        let set = PromptSet::builtin().unwrap();
        let text = set
            .render(
                "brief.user",
                context! { language => "Danish", notes => "- Part 1 note." },
            )
            .unwrap();
        assert!(text.contains("English notes taken"));
        assert!(text.ends_with("NOTES:\n- Part 1 note."), "{text}");
        // Only the reduce prompt asks for key points from the last parts,
        // and the sections stay separated by a blank line in both.
        assert!(text.contains("its last parts.\n\nRules:"), "{text}");
        let document = set
            .render(
                "brief.user",
                context! { language => "Danish", document => "x" },
            )
            .unwrap();
        assert!(!document.contains("last parts"));
        assert!(document.contains("(¶3).\n\nRules:"), "{document}");
    }

    #[test]
    fn late_points_prompt_names_the_parts_or_the_conclusion() {
        let set = PromptSet::builtin().unwrap();
        let late = set
            .render(
                "late_points.user",
                context! { count => 2, from_part => 15, to_part => 21, parts => 21 },
            )
            .unwrap();
        assert!(
            late.starts_with("Now write 2 more key points taken only from the notes of the last parts, Part 15 to Part 21, which hold the document's later sections and its conclusion."),
            "{late}"
        );
        let before_conclusion = set
            .render(
                "late_points.user",
                context! { count => 1, from_part => 15, to_part => 18, parts => 21 },
            )
            .unwrap();
        assert!(
            before_conclusion.contains("1 more key point taken only from the notes of the last parts, Part 15 to Part 18, which hold the document's later sections. "),
            "{before_conclusion}"
        );
        assert!(before_conclusion.ends_with("Answer with the 1 line and nothing else."));
        let conclusion = set
            .render(
                "late_points.user",
                context! { count => 1, conclusion_part => 19, conclusion_paragraph => 160, parts => 21 },
            )
            .unwrap();
        assert!(
            conclusion.starts_with("Now write 1 more key point taken only from the notes of Part 19, which holds the document's conclusion (from paragraph 160 on)"),
            "{conclusion}"
        );
        assert!(conclusion.contains("for example (¶161)"), "{conclusion}");
        assert!(!conclusion.contains('\n'), "{conclusion}");
    }

    #[test]
    fn an_edited_template_changes_the_text_hash_even_with_the_same_version() {
        let set = |text: &str| {
            PromptSet::from_sources([("brief.user".to_string(), text.to_string())]).unwrap()
        };
        let a = set("{#- version: brief.user/1 -#}\nWrite a brief.");
        let b = set("{#- version: brief.user/1 -#}\nWrite a short brief.");
        assert_eq!(a.versions(), b.versions());
        assert_ne!(a.text_sha256(), b.text_sha256());
        assert_eq!(
            a.text_sha256(),
            set("{#- version: brief.user/1 -#}\nWrite a brief.").text_sha256()
        );
    }

    #[test]
    fn a_template_without_version_is_refused() {
        let err = PromptSet::from_sources([("x".to_string(), "hello".to_string())])
            .err()
            .unwrap();
        assert!(err.to_string().contains("no version line"));
    }
}
